#!/usr/bin/python3
"""Writes small ONNX models whose graph input has symbolic dimensions, for
the --input-shape tests, and the data and expected output of one run.

usage: make_symbolic_models.py OUTDIR

  sym_conv.onnx    x: ['N', 3, 'H', 'W'] -> Conv 3->4, 3x3, pads 1 -> Relu ->
                   GlobalAveragePool -> y: ['N', 4, 1, 1] (any H, W work)
  unnamed.onnx     the same with H and W unnamed (no dim_param)
  x_40x72.npy      input data 1x3x40x72
  y_40x72.npy      the model's output on it, computed here with numpy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(dims, w, b):
    f32 = TensorProto.FLOAT
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["y"], name="gap")]
    graph = helper.make_graph(nodes, "symbolic", [helper.make_tensor_value_info("x", f32, dims)],
                              [helper.make_tensor_value_info("y", f32, None)],
                              initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def reference(x, w, b):
    """Conv (pads 1, stride 1) + bias, Relu, mean over H and W, in float64."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j].astype(np.float64))
    out += b.astype(np.float64)[None, :, None, None]
    return np.maximum(out, 0).mean(axis=(2, 3), keepdims=True)


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    w = rng.uniform(-1, 1, (4, 3, 3, 3)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, (4,)).astype(np.float32)
    onnx.save(conv_model(["N", 3, "H", "W"], w, b), os.path.join(out, "sym_conv.onnx"))
    unnamed = conv_model(["N", 3, "H", "W"], w, b)
    for d in unnamed.graph.input[0].type.tensor_type.shape.dim[2:]:
        d.Clear()  # neither dim_value nor dim_param
    onnx.save(unnamed, os.path.join(out, "unnamed.onnx"))
    x = rng.uniform(-1, 1, (1, 3, 40, 72)).astype(np.float32)
    np.save(os.path.join(out, "x_40x72.npy"), x)
    np.save(os.path.join(out, "y_40x72.npy"), reference(x, w, b).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1])
