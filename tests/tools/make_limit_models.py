#!/usr/bin/python3
"""Writes the inputs of tests/cli/hostile_limits.sh: models and files that
are valid but too big, too deep or badly named, each one past a limit that
deltakern must enforce with a clear error (or, for the long graph, handle):

  chain.onnx       N nodes (Add 0.5 and Relu in turn) stored backwards, each
                   before the node that produces its input; chain.expected.npy
                   is its output on x.npy, computed here with numpy
  cycle.onnx       two nodes that need each other's output, and a third
                   that waits on them
  bigmem.onnx      a Pad whose output has 2^39 float32 elements (2 TiB):
                   within the 2^40 element limit, beyond any machine's memory
  badname.onnx     a node whose name, op and domain hold control bytes
  badinput.onnx    a graph input whose name holds control bytes and no shape
  tiny.onnx        Relu on a 1x3x8x8 image, for the image inputs
  big.png          a valid one-colour PNG of 9000x9000 pixels (a few hundred KB of
                   file, 243 MB decoded): past the pixel limit
  small.png        a 16x16 PNG that must decode
  x.npy            the 1x4 input of chain.onnx

usage: make_limit_models.py OUTDIR N
"""
import os
import struct
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=()):
    graph = helper.make_graph(nodes, "limits", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def vi(name, dims):
    return helper.make_tensor_value_info(name, F32, dims)


def chain(out, n):
    x = np.array([[-2.0, -0.5, 0.5, 3.0]], np.float32)
    half = np.float32(0.5)
    nodes, y = [], x
    for k in range(n):
        src = "x" if k == 0 else f"t{k - 1}"
        if k % 2 == 0:
            nodes.append(helper.make_node("Add", [src, "half"], [f"t{k}"], name=f"n{k}"))
            y = y + half
        else:
            nodes.append(helper.make_node("Relu", [src], [f"t{k}"], name=f"n{k}"))
            y = np.maximum(y, np.float32(0))
    nodes.reverse()  # every node now comes before its producer
    init = numpy_helper.from_array(np.array(half, np.float32), "half")
    onnx.save(model(nodes, [vi("x", [1, 4])], [vi(f"t{n - 1}", [1, 4])], [init]), os.path.join(out, "chain.onnx"))
    np.save(os.path.join(out, "x.npy"), x)
    np.save(os.path.join(out, "chain.expected.npy"), y)


def cycle(out):
    nodes = [helper.make_node("Relu", ["a"], ["t"], name="waits"),
             helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
             helper.make_node("Relu", ["a"], ["b"], name="relu_b")]
    onnx.save(model(nodes, [vi("x", [1, 4])], [vi("t", [1, 4])]), os.path.join(out, "cycle.onnx"))


def bigmem(out):
    pads = numpy_helper.from_array(np.array([0, 0, 2**36, 0, 0, 0, 0, 0], np.int64), "pads")
    node = helper.make_node("Pad", ["x", "pads"], ["y"], name="huge_pad")
    onnx.save(model([node], [vi("x", [1, 1, 8, 8])], [vi("y", None)], [pads]), os.path.join(out, "bigmem.onnx"))
    np.save(os.path.join(out, "x8.npy"), np.ones((1, 1, 8, 8), np.float32))


def badname(out):
    node = helper.make_node("Conv", ["x"], ["y"], name="conv\x01\x1b[31m", domain=" \x05group\x7f")
    onnx.save(model([node], [vi("x", [1, 4])], [vi("y", [1, 4])]), os.path.join(out, "badname.onnx"))
    shapeless = helper.make_tensor_value_info("in\x07put\xc3", F32, None)
    node = helper.make_node("Relu", ["in\x07put\xc3"], ["y"], name="r")
    onnx.save(model([node], [shapeless], [vi("y", [1, 4])]), os.path.join(out, "badinput.onnx"))


def tiny(out):
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    onnx.save(model([node], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 3, 8, 8])]), os.path.join(out, "tiny.onnx"))


def png(path, width, height):
    """An 8-bit RGB PNG of one colour, its rows compressed together."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + b"\x80\x40\x20" * width
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    chain(out, n)
    cycle(out)
    bigmem(out)
    badname(out)
    tiny(out)
    png(os.path.join(out, "big.png"), 9000, 9000)
    png(os.path.join(out, "small.png"), 16, 16)


if __name__ == "__main__":
    main()
