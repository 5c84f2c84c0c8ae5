#!/usr/bin/python3
"""Picks nodes of an ONNX model for planted faults: one early, one in the
middle, one late (by position among the Conv/Gemm/Add nodes) and one inside a
residual or inception branch, drawn at random with the given seed.

usage: diff_pick_nodes.py MODEL.onnx SEED   (prints one node name a line)"""
import random
import sys

import onnx


def main():
    model, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    g = onnx.load(model, load_external_data=False).graph
    nodes = [n.name for n in g.node if n.op_type in ("Conv", "Gemm", "Add")]
    n = len(nodes)
    thirds = [nodes[: n // 3], nodes[n // 3: 2 * n // 3], nodes[2 * n // 3:]]
    picks = [rng.choice(t) for t in thirds]
    # a convolution inside a residual block (one whose scope holds an Add) or
    # an inception branch (torchvision names those "branch...")
    scopes = [x.rsplit("/", 1)[0] + "/" for x in nodes if x.endswith("/Add")]
    convs = [n.name for n in g.node if n.op_type == "Conv"]
    branch = [x for x in convs if "branch" in x or any(x.startswith(s) for s in scopes)]
    branch = [x for x in branch if x not in picks] or branch
    picks.append(rng.choice(branch))
    print("\n".join(picks))


if __name__ == "__main__":
    main()
