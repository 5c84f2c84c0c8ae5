#!/usr/bin/python3
"""Grows a real `deltakern bench` result (one variant) into the large ones
tests/cli/hostile_limits.sh compares, each about 1 MB:

  samples    its first node and the end to end with S samples each (the
             campaign's slow case: compare took minutes and gigabytes on
             the pairwise differences of two such samples)
  nodes      N nodes of a few samples each, named n0..n{N-1}
  and, for each, a candidate (<name>.cand.json) whose every time is exactly
  twice the base's, so that compare must find every ratio 2.

usage: make_big_bench.py RESULT.json OUTDIR S N
"""
import copy
import json
import os
import random
import sys


def write(d, path):
    with open(path, "w") as f:
        json.dump(d, f, separators=(",", ":"))


def doubled(d):
    c = copy.deepcopy(d)
    for v in c["variants"]:
        v["end_to_end"]["samples_s"] = [2 * t for t in v["end_to_end"]["samples_s"]]
        for n in v["nodes"]:
            n["time"]["samples_s"] = [2 * t for t in n["time"]["samples_s"]]
    return c


def main():
    src, out, s, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(1)  # fixed: the files are test data, not a measurement
    base = json.load(open(src))
    base["variants"] = base["variants"][:1]
    v = base["variants"][0]

    many = copy.deepcopy(base)
    mv = many["variants"][0]
    mv["nodes"] = mv["nodes"][:1]
    samples = [rng.uniform(1e-5, 2e-5) for _ in range(s)]
    mv["nodes"][0]["time"] = {"samples_s": samples}
    mv["end_to_end"] = {"samples_s": [t * 1.5 for t in samples]}
    write(many, os.path.join(out, "samples.json"))
    write(doubled(many), os.path.join(out, "samples.cand.json"))

    wide = copy.deepcopy(base)
    wv = wide["variants"][0]
    proto = v["nodes"][0]
    wv["nodes"] = []
    for k in range(n):
        node = {key: proto[key] for key in ("op", "desc") if key in proto}
        node.update(name=f"n{k}", covers=[f"n{k}"],
                    time={"samples_s": [rng.uniform(1e-5, 2e-5) for _ in range(3)]})
        wv["nodes"].append(node)
    write(wide, os.path.join(out, "nodes.json"))
    write(doubled(wide), os.path.join(out, "nodes.cand.json"))


if __name__ == "__main__":
    main()
