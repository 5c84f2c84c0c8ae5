#!/usr/bin/env python3
"""Writes an ONNX model that is a chain of N Relu nodes on a float32 [1,1]
input: kernels that do next to nothing, for timing the session's own cost
per node (bench/node_overhead.sh).

usage: make_chain_model.py OUT.onnx N
"""
import sys

import onnx
from onnx import TensorProto, helper


def main():
    if len(sys.argv) != 3 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1:
        sys.exit(__doc__.strip())
    out, n = sys.argv[1], int(sys.argv[2])
    nodes = [helper.make_node("Relu", [f"v{i}"], [f"v{i + 1}"], name=f"relu{i}") for i in range(n)]
    graph = helper.make_graph(nodes, "chain",
                              [helper.make_tensor_value_info("v0", TensorProto.FLOAT, [1, 1])],
                              [helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, [1, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
