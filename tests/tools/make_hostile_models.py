#!/usr/bin/python3
"""Writes small ONNX models whose shapes or window attributes are hostile:
values that overflow int64 shape arithmetic or exceed deltakern's size limit
of 2^40 per dimension and per element count (runtime/checked.h). Each must
be refused at load with one error naming the node (or the initializer or
graph input) and the attribute; tests/cli/hostile_shapes.sh runs them.

A few models sit exactly at the limit and are valid (a stride of 2^40 on an
8x8 image reads one window): they must run and give the window's value,
computed here with numpy.

Writes OUTDIR/<case>.onnx, OUTDIR/cases.txt (one line per case:
"name<TAB>refuse<TAB>substring..." or "name<TAB>valid"), OUTDIR/x8.npy (the
1x1x8x8 input every single-input model takes) and OUTDIR/<case>.expected.npy
for the valid ones.

usage: make_hostile_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = TensorProto.FLOAT
I64_MAX = 2**63 - 1
LIMIT = 2**40

CASES = []  # (name, expected substrings or None for a valid model)


def save(name, nodes, inputs, outputs, inits=(), opset=13, want=None):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    CASES.append((name, want))


def vi(name, dims):
    return helper.make_tensor_value_info(name, F32, dims)


X8 = [1, 1, 8, 8]


def conv(name, want, w_shape=(1, 1, 3, 3), x_shape=X8, **attrs):
    w = numpy_helper.from_array(np.full(w_shape, 0.5, np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name=name, **attrs)
    save(name, [node], [vi("x", x_shape)], [vi("y", None)], [w], want=want)


def pool(op, name, want, **attrs):
    node = helper.make_node(op, ["x"], ["y"], name=name, **attrs)
    save(name, [node], [vi("x", X8)], [vi("y", None)], want=want)


def expected(name, value):
    np.save(os.path.join(OUT, name + ".expected.npy"), np.asarray(value, np.float32))


def conv_cases():
    out_of_range = "is out of range (at most 2^40)"
    conv("conv_strides_2e40p1", ["'conv_strides_2e40p1' (Conv)", "attribute 'strides'",
                                 out_of_range], strides=[LIMIT + 1, 1])
    conv("conv_strides_2e62", ["'conv_strides_2e62' (Conv)", "attribute 'strides'",
                               str(2**62), out_of_range], strides=[2**62, 2**62])
    conv("conv_pads_max", ["'conv_pads_max' (Conv)", "attribute 'pads'", str(I64_MAX),
                           out_of_range], pads=[I64_MAX, 0, I64_MAX, 0])
    conv("conv_dilations_max", ["'conv_dilations_max' (Conv)", "attribute 'dilations'",
                                str(I64_MAX), out_of_range], dilations=[I64_MAX, I64_MAX])
    conv("conv_kernel_gt_input", ["'conv_kernel_gt_input' (Conv)", "does not fit input size 8"],
         w_shape=(1, 1, 9, 9))
    conv("conv_stride_zero", ["'conv_stride_zero' (Conv)", "attribute 'strides' has value 0"],
         strides=[0, 1])
    conv("conv_dilation_zero", ["'conv_dilation_zero' (Conv)",
                                "attribute 'dilations' has value 0"], dilations=[1, 0])
    conv("conv_pads_negative", ["'conv_pads_negative' (Conv)", "attribute 'pads' has value -1"],
         pads=[0, -1, 0, 0])
    conv("conv_group_zero", ["'conv_group_zero' (Conv)", "attribute 'group' has value 0"],
         group=0)
    conv("conv_group_max", ["'conv_group_max' (Conv)", "attribute 'group'", out_of_range],
         group=I64_MAX)
    conv("conv_group_nodiv", ["'conv_group_nodiv' (Conv)", "attribute 'group'",
                              "does not divide the 4 input channels"],
         w_shape=(6, 2, 3, 3), x_shape=[1, 4, 8, 8], group=3)
    # within the limits, but the dilated window spans 2 * 2^40 + 1
    conv("conv_dilations_2e40", ["'conv_dilations_2e40' (Conv)", "attribute 'dilations'",
                                 "spans more than 2^40"], dilations=[LIMIT, 1])
    # within the limits, but the padding makes the output longer than 2^40
    conv("conv_pads_2e40", ["'conv_pads_2e40' (Conv)", "attribute 'pads'",
                            "out of range (at most 2^40)"], pads=[LIMIT, 0, LIMIT, 0])
    # at the limit and valid: one window, at the origin
    conv("conv_strides_2e40", None, strides=[LIMIT, LIMIT])
    expected("conv_strides_2e40", [[[[0.5 * X[0, 0, :3, :3].sum(dtype=np.float64)]]]])


def pool_cases():
    out_of_range = "is out of range (at most 2^40)"
    for op, tag in (("MaxPool", "maxpool"), ("AveragePool", "avgpool")):
        pool(op, tag + "_dilations_max", [f"'{tag}_dilations_max' ({op})",
                                          "attribute 'dilations'", out_of_range],
             kernel_shape=[2, 2], dilations=[I64_MAX, I64_MAX])
        pool(op, tag + "_kernel_max", [f"'{tag}_kernel_max' ({op})", "attribute 'kernel_shape'",
                                       out_of_range], kernel_shape=[I64_MAX, 2])
        pool(op, tag + "_kernel_2e40", [f"'{tag}_kernel_2e40' ({op})", "does not fit"],
             kernel_shape=[LIMIT, 2])
        pool(op, tag + "_pads_max", [f"'{tag}_pads_max' ({op})", "attribute 'pads'",
                                     out_of_range], kernel_shape=[2, 2],
             pads=[0, 0, I64_MAX, I64_MAX])
        pool(op, tag + "_pads_2e40", [f"'{tag}_pads_2e40' ({op})", "attribute 'pads'",
                                      "out of range (at most 2^40)"], kernel_shape=[2, 2],
             pads=[LIMIT, 0, LIMIT, 0])
        pool(op, tag + "_strides_max", [f"'{tag}_strides_max' ({op})", "attribute 'strides'",
                                        out_of_range], kernel_shape=[2, 2],
             strides=[I64_MAX, I64_MAX])
        pool(op, tag + "_same_strides_2e62", [f"'{tag}_same_strides_2e62' ({op})",
                                              "attribute 'strides'", out_of_range],
             kernel_shape=[2, 2], strides=[2**62, 2**62], auto_pad="SAME_UPPER")
    # MaxPool with huge dilations, kernel and pads: all windows in the padding
    pool("MaxPool", "maxpool_dilations_pads", ["'maxpool_dilations_pads' (MaxPool)",
                                               "attribute 'dilations'", "spans more than 2^40"],
         kernel_shape=[2, 2], dilations=[LIMIT, LIMIT], pads=[LIMIT, LIMIT, LIMIT, LIMIT])
    # at the limit and valid: the window at the origin
    pool("MaxPool", "maxpool_strides_2e40", None, kernel_shape=[2, 2], strides=[LIMIT, LIMIT])
    expected("maxpool_strides_2e40", [[[[X[0, 0, :2, :2].max()]]]])
    pool("AveragePool", "avgpool_same_strides_2e40", None, kernel_shape=[2, 2],
         strides=[LIMIT, LIMIT], auto_pad="SAME_UPPER")
    expected("avgpool_same_strides_2e40", [[[[X[0, 0, :2, :2].mean(dtype=np.float64)]]]])


def shape_cases():
    pads = numpy_helper.from_array(np.array([0, 0, 0, I64_MAX, 0, 0, 0, I64_MAX], np.int64), "p")
    save("pad_max", [helper.make_node("Pad", ["x", "p"], ["y"], name="pad_max")],
         [vi("x", X8)], [vi("y", None)], [pads],
         want=["'pad_max' (Pad)", "input 1 (pads)", str(I64_MAX), "out of range"])
    save("pad_2e40", [helper.make_node("Pad", ["x"], ["y"], name="pad_2e40",
                                       pads=[0, 0, 0, LIMIT, 0, 0, 0, LIMIT])],
         [vi("x", X8)], [vi("y", None)], opset=2,
         want=["'pad_2e40' (Pad)", "attribute 'pads'", "out of range (at most 2^40)"])
    shape = numpy_helper.from_array(np.array([LIMIT, LIMIT], np.int64), "s")
    save("reshape_huge", [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape_huge")],
         [vi("x", X8)], [vi("y", None)], [shape],
         want=["'reshape_huge' (Reshape)", "more than 2^40 elements"])
    shape = numpy_helper.from_array(np.array([I64_MAX, -1], np.int64), "s")
    save("reshape_max", [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape_max")],
         [vi("x", X8)], [vi("y", None)], [shape],
         want=["'reshape_max' (Reshape)", str(I64_MAX), "out of range"])
    big = [2**21, 2**21, 2**21]  # each dim within the limit, 2^63 elements
    save("transpose_huge", [helper.make_node("Transpose", ["x"], ["y"], name="transpose_huge")],
         [vi("x", big)], [vi("y", None)],
         want=["'transpose_huge' (Transpose)", "input 0 ('x')", "more than 2^40 elements"])
    save("flatten_huge", [helper.make_node("Flatten", ["x"], ["y"], name="flatten_huge", axis=2)],
         [vi("x", [LIMIT, LIMIT, 0])], [vi("y", None)],
         want=["'flatten_huge' (Flatten)", "more than 2^40"])
    save("flatten_input_huge",
         [helper.make_node("Flatten", ["x"], ["y"], name="flatten_input_huge")],
         [vi("x", big)], [vi("y", None)],
         want=["'flatten_input_huge' (Flatten)", "input 0 ('x')", "more than 2^40 elements"])
    half = 2**30
    for op in ("MatMul", "Add"):
        name = op.lower() + "_huge"
        save(name, [helper.make_node(op, ["a", "b"], ["y"], name=name)],
             [vi("a", [half, 1]), vi("b", [1, half])], [vi("y", None)],
             want=[f"'{name}' ({op})", "output 0 ('y')", "more than 2^40 elements"])
    save("gather_huge", [helper.make_node("Gather", ["x", "i"], ["y"], name="gather_huge", axis=1)],
         [vi("x", [half, 2]), helper.make_tensor_value_info("i", TensorProto.INT64, [half])],
         [vi("y", None)], want=["'gather_huge' (Gather)", "output 0 ('y')", "more than 2^40"])
    save("concat_huge", [helper.make_node("Concat", ["a", "a", "a"], ["y"], name="concat_huge",
                                          axis=0)],
         [vi("a", [LIMIT, 0])], [vi("y", None)],
         want=["'concat_huge' (Concat)", "output 0 ('y')", "out of range"])


def upsampling_cases():
    out_of_range = "is out of range (at most 2^40)"

    def convt(name, want, **attrs):
        w = numpy_helper.from_array(np.full((1, 1, 2, 2), 0.5, np.float32), "w")
        node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name=name, **attrs)
        save(name, [node], [vi("x", X8)], [vi("y", None)], [w], want=want)

    convt("convt_strides_2e62", ["'convt_strides_2e62' (ConvTranspose)", "attribute 'strides'",
                                 str(2**62), out_of_range], strides=[2**62, 2**62])
    # each stride within the limit, the output 2^40 * 7 + 2 past it
    convt("convt_strides_2e40", ["'convt_strides_2e40' (ConvTranspose)", "'strides'",
                                 "output over 2^40"], strides=[LIMIT, 1])
    convt("convt_output_shape_max", ["'convt_output_shape_max' (ConvTranspose)",
                                     "attribute 'output_shape'", str(I64_MAX), out_of_range],
          output_shape=[I64_MAX, 8])
    convt("convt_output_padding_max", ["'convt_output_padding_max' (ConvTranspose)",
                                       "attribute 'output_padding'", out_of_range],
          strides=[2, 2], output_padding=[I64_MAX, 0])
    convt("convt_pads_whole", ["'convt_pads_whole' (ConvTranspose)", "attribute 'pads'"],
          pads=[5, 0, 5, 0])
    scales = numpy_helper.from_array(np.array([1, 1, 1e30, 1], np.float32), "s")
    save("resize_scales_huge",
         [helper.make_node("Resize", ["x", "", "s"], ["y"], name="resize_scales_huge")],
         [vi("x", X8)], [vi("y", None)], [scales],
         want=["'resize_scales_huge' (Resize)", "'scales'"])
    sizes = numpy_helper.from_array(np.array([1, 1, I64_MAX, 8], np.int64), "z")
    save("resize_sizes_max",
         [helper.make_node("Resize", ["x", "", "", "z"], ["y"], name="resize_sizes_max")],
         [vi("x", X8)], [vi("y", None)], [sizes],
         want=["'resize_sizes_max' (Resize)", "'sizes'", str(I64_MAX), "out of range"])
    sizes = numpy_helper.from_array(np.array([1, 1, 2**30, 2**30], np.int64), "z")
    save("resize_sizes_2e60",
         [helper.make_node("Resize", ["x", "", "", "z"], ["y"], name="resize_sizes_2e60")],
         [vi("x", X8)], [vi("y", None)], [sizes],
         want=["'resize_sizes_2e60' (Resize)", "more than 2^40 elements"])


def loader_cases():
    # an initializer whose dims multiply past int64 (each dim within the limit)
    w = TensorProto(name="w", data_type=F32, dims=[2**21, 2**21, 2**21], raw_data=b"\0" * 16)
    save("init_overflow", [helper.make_node("Add", ["x", "w"], ["y"], name="add_w")],
         [vi("x", X8)], [vi("y", None)], [w],
         want=["initializer 'w'", "more than 2^40 elements"])
    w = TensorProto(name="w", data_type=F32, dims=[2**62, 4], raw_data=b"\0" * 16)
    save("init_dim_2e62", [helper.make_node("Add", ["x", "w"], ["y"], name="add_w")],
         [vi("x", X8)], [vi("y", None)], [w],
         want=["initializer 'w'", str(2**62), "out of range"])
    save("input_dim_2e50", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [vi("x", [1, 2**50])], [vi("y", None)],
         want=["graph input 'x'", str(2**50), "out of range (at most 2^40)"])


def main(out):
    global OUT, X
    OUT = out
    os.makedirs(out, exist_ok=True)
    X = np.random.default_rng(7).uniform(-1, 1, X8).astype(np.float32)
    np.save(os.path.join(out, "x8.npy"), X)
    conv_cases()
    pool_cases()
    shape_cases()
    upsampling_cases()
    loader_cases()
    with open(os.path.join(out, "cases.txt"), "w") as f:
        for name, want in CASES:
            f.write("\t".join([name, "valid"] if want is None else [name, "refuse"] + want) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile_models.py OUTDIR")
    main(sys.argv[1])
