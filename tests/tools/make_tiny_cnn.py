#!/usr/bin/python3
"""Writes a tiny image classifier (Conv-Relu-Conv-Relu-GlobalAveragePool-
Flatten-Gemm, 3x32x32 in, 10 classes out) with seeded random weights, and
random .npy inputs, for tests that need many fast diff runs.

  make_tiny_cnn.py OUT.onnx SEED [NPY_DIR N]"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    w = lambda *s: rng.standard_normal(s).astype(np.float32) * np.float32(1.0 / np.sqrt(np.prod(s[1:])))
    inits = [numpy_helper.from_array(w(8, 3, 3, 3), "w1"), numpy_helper.from_array(w(8), "b1"),
             numpy_helper.from_array(w(16, 8, 3, 3), "w2"), numpy_helper.from_array(w(16), "b2"),
             numpy_helper.from_array(w(10, 16), "w3"), numpy_helper.from_array(w(10), "b3")]
    nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], name="fc", transB=1)]
    g = helper.make_graph(nodes, "tiny_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    onnx.save(m, out)
    if len(sys.argv) > 3:
        d, n = sys.argv[3], int(sys.argv[4])
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            np.save(os.path.join(d, "in%02d.npy" % i), rng.standard_normal((1, 3, 32, 32)).astype(np.float32))


main()
