#!/usr/bin/python3
"""Writes small ONNX models that are valid protobuf but wrong for deltakern
in one specific way each, for the CLI's bad-input tests.

usage: make_bad_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path):
    onnx.save(model, path)


def model_with(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def main(out):
    os.makedirs(out, exist_ok=True)
    f32 = TensorProto.FLOAT
    # A valid image model (1x3x16x16 -> 1x3), for the image and input cases.
    save(model_with([helper.make_node("GlobalAveragePool", ["x"], ["p"], name="gap"),
                     helper.make_node("Flatten", ["p"], ["y"], name="flat")],
                    [helper.make_tensor_value_info("x", f32, [1, 3, 16, 16])],
                    [helper.make_tensor_value_info("y", f32, [1, 3])]),
         os.path.join(out, "tiny_image.onnx"))
    # Add of 1x3 and 1x4: not broadcastable.
    save(model_with([helper.make_node("Add", ["a", "b"], ["y"], name="add_mismatch")],
                    [helper.make_tensor_value_info("a", f32, [1, 3]),
                     helper.make_tensor_value_info("b", f32, [1, 4])],
                    [helper.make_tensor_value_info("y", f32, [1, 3])]),
         os.path.join(out, "inconsistent_shapes.onnx"))
    # Conv whose weight expects 4 input channels on a 3-channel image.
    w = numpy_helper.from_array(np.ones((8, 4, 3, 3), np.float32), "w")
    save(model_with([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_bad_channels")],
                    [helper.make_tensor_value_info("x", f32, [1, 3, 8, 8])],
                    [helper.make_tensor_value_info("y", f32, [1, 8, 6, 6])], [w]),
         os.path.join(out, "conv_channels.onnx"))
    # Ops deltakern does not implement: two types, one of them twice (the
    # error names both, with counts and first nodes).
    save(model_with([helper.make_node("Atanh", ["x"], ["a"], name="atanh_1"),
                     helper.make_node("Atanh", ["a"], ["b"], name="atanh_2"),
                     helper.make_node("Sin", ["b"], ["y"], name="sin_node")],
                    [helper.make_tensor_value_info("x", f32, [1, 3, 4, 4])],
                    [helper.make_tensor_value_info("y", f32, [1, 3, 4, 4])]),
         os.path.join(out, "unsupported_op.onnx"))
    # A supported op with an attribute value deltakern rejects.
    save(model_with([helper.make_node("Pad", ["x", "p"], ["y"], name="pad_wrap", mode="wrap")],
                    [helper.make_tensor_value_info("x", f32, [1, 3, 4, 4])],
                    [helper.make_tensor_value_info("y", f32, [1, 3, 6, 6])],
                    [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")]),
         os.path.join(out, "unsupported_attr.onnx"))
    # A node reading a value nothing produces.
    save(model_with([helper.make_node("Relu", ["nowhere"], ["y"], name="dangling")],
                    [helper.make_tensor_value_info("x", f32, [1, 3, 4, 4])],
                    [helper.make_tensor_value_info("y", f32, [1, 3, 4, 4])]),
         os.path.join(out, "dangling_input.onnx"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_bad_models.py OUTDIR")
    main(sys.argv[1])
