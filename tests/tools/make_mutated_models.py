#!/usr/bin/python3
"""Writes a fixed-seed corpus of mutated ONNX models for the loader's
robustness test (tests/cli/mutated_models.sh): every one must make
`deltakern info` and `deltakern run` exit 0 or 2 with one error line, never
crash, hang or trip a sanitizer.

Byte-level mutations of small valid models (the protobuf encoding):
truncation, bit flips, inserted and deleted bytes, and rewritten length
fields (the varint length of a nested message, string or packed array set
to 0, one off, or huge). Structural mutations through the onnx Python API:
absurd, negative and zero dims, NaN/Inf weights, short and long raw_data,
wrong and unknown dtypes, cycles, missing inputs, duplicate names, huge
groups, kernels larger than the input, zero strides and dilations, negative
pads, opsets 1 and 99, an empty graph, no outputs, wrong attribute types,
out-of-range axes.

Writes OUTDIR/NNNN_CLASS.onnx, OUTDIR/x8.npy (the 1x1x8x8 float input the
base models take) and OUTDIR/classes.txt (one line per model: file, class).

usage: make_mutated_models.py OUTDIR [SEED] [COUNT_PER_BYTE_CLASS]
"""
import os
import random
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F32 = TensorProto.FLOAT
I64_MAX = 2**63 - 1
X8 = [1, 1, 8, 8]


def vi(name, dims, dtype=F32):
    return helper.make_tensor_value_info(name, dtype, dims)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "m", inputs, outputs, initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def w(shape, value=0.5):
    return np.full(shape, value, np.float32)


# ---- base models (valid; take x: 1x1x8x8 float) ----

def base_conv(**attrs):
    attrs.setdefault("kernel_shape", [3, 3])
    return model([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", **attrs)],
                 [vi("x", X8)], [vi("y", None)], [init("w", w((2, 1, 3, 3))), init("b", w((2,), 0.1))])


def base_cnn():
    return model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", ["c"], ["r"], name="relu"),
                  helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
                  helper.make_node("Flatten", ["p"], ["f"], name="flat"),
                  helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], name="fc", transB=1),
                  helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=1)],
                 [vi("x", X8)], [vi("y", None)],
                 [init("w", w((4, 1, 3, 3), 0.1)), init("gw", w((3, 64), 0.01)), init("gb", w((3,), 0.0))])


def base_shape_ops():
    return model([helper.make_node("Reshape", ["x", "s"], ["r"], name="reshape"),
                  helper.make_node("Transpose", ["r"], ["t"], name="transpose", perm=[1, 0]),
                  helper.make_node("Concat", ["t", "t"], ["c"], name="concat", axis=0),
                  helper.make_node("Slice", ["c", "st", "en", "ax"], ["sl"], name="slice"),
                  helper.make_node("ReduceMean", ["sl"], ["y"], name="mean", axes=[0], keepdims=1)],
                 [vi("x", X8)], [vi("y", None)],
                 [init("s", np.array([8, 8], np.int64)), init("st", np.array([1], np.int64)),
                  init("en", np.array([6], np.int64)), init("ax", np.array([1], np.int64))])


def base_norm():
    c = 1
    return model([helper.make_node("BatchNormalization", ["x", "sc", "bi", "me", "va"], ["b"], name="bn"),
                  helper.make_node("Add", ["b", "k"], ["a"], name="add"),
                  helper.make_node("AveragePool", ["a"], ["p"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  helper.make_node("GlobalAveragePool", ["p"], ["y"], name="gap")],
                 [vi("x", X8)], [vi("y", None)],
                 [init("sc", w((c,), 1.5)), init("bi", w((c,), 0.1)), init("me", w((c,), 0.2)),
                  init("va", w((c,), 2.0)), init("k", w((1, 1, 1, 8), 0.3))])


BASES = [base_conv, base_cnn, base_shape_ops, base_norm]


# ---- byte-level mutations ----

def len_fields(buf, start, end, depth, out):
    """Positions of length-delimited fields' varints in buf[start:end] (walked
    as protobuf; nested messages tried recursively)."""
    i = start
    while i < end:
        key, j = varint_at(buf, i, end)
        if key is None or key >> 3 == 0:
            return
        wt = key & 7
        if wt == 0:
            _, j = varint_at(buf, j, end)
            if j is None:
                return
        elif wt == 1:
            j += 8
        elif wt == 5:
            j += 4
        elif wt == 2:
            n, k = varint_at(buf, j, end)
            if n is None or k + n > end:
                return
            out.append((j, k, n))
            if depth < 6:
                len_fields(buf, k, k + n, depth + 1, out)
            j = k + n
        else:
            return
        i = j


def varint_at(buf, i, end):
    v, shift = 0, 0
    while i < end and shift < 70:
        b = buf[i]
        v |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return v, i
        shift += 7
    return None, None


def enc_varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def byte_mutants(rng, count):
    for k in range(count):
        data = bytearray(BASES[k % len(BASES)]().SerializeToString())
        kind = ("truncate", "bitflip", "insert", "delete", "length")[k % 5]
        if kind == "truncate":
            data = data[:rng.randrange(len(data))]
        elif kind == "bitflip":
            for _ in range(rng.choice((1, 1, 2, 4, 8))):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            i = rng.randrange(len(data) + 1)
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 4, 16))))
        elif kind == "delete":
            i = rng.randrange(len(data))
            del data[i:i + rng.choice((1, 2, 4, 16))]
        else:
            fields = []
            len_fields(data, 0, len(data), 0, fields)
            at, body, n = rng.choice(fields)
            new = rng.choice((0, n - 1 if n else 1, n + 1, n + 100, 2**31 - 1, 2**32 + n, 2**63, 2**64 - 1))
            data[at:body] = enc_varint(new)
        yield "byte_" + kind, bytes(data)


# ---- structural mutations ----

def absurd_dim(rng):
    return rng.choice((0, -1, -7, 2**40 + 1, 2**62, I64_MAX, -(2**63), 2**31))


def s_input_dims(rng):
    dims = list(X8)
    dims[rng.randrange(4)] = absurd_dim(rng)
    m = base_cnn()
    m.graph.input[0].CopyFrom(vi("x", dims))
    return m


def s_weight_dims(rng):
    m = base_conv()
    t = m.graph.initializer[0]
    t.dims[rng.randrange(len(t.dims))] = absurd_dim(rng)
    return m


def s_reshape_shape(rng):
    m = base_shape_ops()
    vals = rng.choice(([0, 0], [-1, -1], [2**40, 2**40], [-2, 32], [I64_MAX, 1], [3, 5], [64, 0, -1]))
    m.graph.initializer[0].CopyFrom(init("s", np.array(vals, np.int64)))
    return m


def s_nan_inf(rng):
    m = base_cnn()
    v = rng.choice((np.nan, np.inf, -np.inf, 3e38, 1e-45))
    arr = w((4, 1, 3, 3), 0.1)
    arr.flat[rng.randrange(arr.size)] = v
    m.graph.initializer[0].CopyFrom(init("w", arr))
    return m


def s_raw_data(rng):
    m = rng.choice(BASES)()
    t = m.graph.initializer[rng.randrange(len(m.graph.initializer))]
    raw = t.raw_data if t.raw_data else numpy_helper.to_array(t).tobytes()
    t.ClearField("float_data")
    t.ClearField("int64_data")
    cut = rng.choice((0, 1, len(raw) // 2, len(raw) - 1, len(raw) + 1, len(raw) * 2, len(raw) + 4096))
    t.raw_data = (raw * 3 + b"\x7f" * 4096)[:cut] if cut > len(raw) else raw[:cut]
    return m


def s_typed_data(rng):
    m = base_conv()
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    n = rng.choice((0, 1, 17, 19, 100))
    if rng.random() < 0.5:
        t.float_data.extend([0.5] * n)
    else:
        t.int64_data.extend([1] * n)
    return m


def s_dtype(rng):
    m = rng.choice(BASES)()
    choice = rng.randrange(3)
    if choice == 0:  # an initializer's dtype changed, its bytes kept
        t = m.graph.initializer[rng.randrange(len(m.graph.initializer))]
        t.data_type = rng.choice((0, TensorProto.INT64, TensorProto.STRING, TensorProto.BOOL,
                                  TensorProto.COMPLEX64, TensorProto.FLOAT16, TensorProto.UINT8, 99, -3))
    elif choice == 1:  # the graph input's declared dtype
        m.graph.input[0].type.tensor_type.elem_type = rng.choice(
            (0, TensorProto.INT32, TensorProto.DOUBLE, TensorProto.STRING, TensorProto.BOOL, 77))
    else:  # a Cast to a dtype nobody handles
        m.graph.node.append(helper.make_node("Cast", ["y"], ["z"], name="cast",
                                             to=rng.choice((0, 8, 14, 16, 99, -1))))
        m.graph.output[0].name = "z"
    return m


def s_cycle(rng):
    m = base_cnn()
    nodes = m.graph.node
    i = rng.randrange(1, len(nodes))
    j = rng.randrange(i, len(nodes))
    nodes[i - 1].input[0] = nodes[j].output[0]  # an earlier node fed by a later one
    if rng.random() < 0.3:
        nodes[0].input[0] = nodes[0].output[0]  # a node fed by itself
    return m


def s_missing(rng):
    m = rng.choice(BASES)()
    which = rng.randrange(4)
    if which == 0:
        m.graph.node[rng.randrange(len(m.graph.node))].input[0] = "nowhere"
    elif which == 1:
        m.graph.output[0].name = "not_produced"
    elif which == 2:
        del m.graph.initializer[rng.randrange(len(m.graph.initializer))]
    else:
        del m.graph.input[:]
    return m


def s_duplicate(rng):
    m = base_cnn()
    which = rng.randrange(4)
    nodes = m.graph.node
    if which == 0:
        nodes[1].output[0] = nodes[0].output[0]
    elif which == 1:
        m.graph.initializer.append(m.graph.initializer[0])
    elif which == 2:
        m.graph.input.append(m.graph.input[0])
    else:  # an initializer named like the graph input, with another shape
        m.graph.initializer.append(init("x", w((2, 2))))
    if rng.random() < 0.5:
        for n in nodes:
            n.name = "same"
    return m


def s_group(rng):
    return base_conv(group=rng.choice((0, -1, 2, 3, 2**40, I64_MAX, -(2**63))))


def s_kernel(rng):
    which = rng.randrange(3)
    if which == 0:
        k = rng.choice((9, 20, 2**40))
        m = base_conv(kernel_shape=[k, k])
        m.graph.initializer[0].CopyFrom(init("w", w((2, 1, min(k, 20), min(k, 20)))))
        return m
    op = rng.choice(("MaxPool", "AveragePool"))
    k = rng.choice((9, 100, 2**40, 0, -3))
    return model([helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[k, 2])],
                 [vi("x", X8)], [vi("y", None)])


def s_window_attr(rng):
    which = rng.randrange(4)
    bad = rng.choice((0, -1, -(2**40), I64_MAX))
    if which == 0:
        return base_conv(strides=[bad, 1])
    if which == 1:
        return base_conv(dilations=[1, bad])
    if which == 2:
        return base_conv(pads=[0, rng.choice((-1, -2, -9)), 0, 0])
    op = rng.choice(("MaxPool", "AveragePool"))
    return model([helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[2, 2],
                                   strides=[rng.choice((0, -1, 1)), 1], pads=[rng.choice((-1, 0, 5)), 0, 0, 0])],
                 [vi("x", X8)], [vi("y", None)])


def s_attr_shape(rng):
    # lists of the wrong length, attributes of the wrong type, missing ones
    which = rng.randrange(5)
    if which == 0:
        return base_conv(strides=[1] * rng.choice((0, 1, 3, 7)))
    if which == 1:
        return base_conv(pads=[1] * rng.choice((0, 1, 2, 3, 5)))
    if which == 2:
        m = base_conv()
        m.graph.node[0].attribute.append(helper.make_attribute("strides", 1.5))
        return m
    if which == 3:
        return model([helper.make_node("MaxPool", ["x"], ["y"], name="pool")], [vi("x", X8)], [vi("y", None)])
    return base_conv(auto_pad=rng.choice(("SAME_UPPER", "VALID", "bogus", "")))


def s_axis(rng):
    m = rng.choice((base_cnn, base_shape_ops))()
    ax = rng.choice((4, 100, -5, -(2**40), I64_MAX))
    for n in m.graph.node:
        for a in n.attribute:
            if a.name in ("axis", "axes", "perm"):
                if a.type == a.INT:
                    a.i = ax
                else:
                    a.ints[0] = ax
    if rng.random() < 0.5:  # Slice's axes input
        for t in m.graph.initializer:
            if t.name == "ax":
                t.CopyFrom(init("ax", np.array([ax], np.int64)))
    return m


def s_opset(rng):
    m = rng.choice(BASES)()
    v = rng.choice((1, 99, 0, -1, 6, 18, 2**40))
    if rng.random() < 0.2:
        del m.opset_import[:]
        m.opset_import.extend([helper.make_opsetid("ai.onnx.ml", 3)])
    else:
        m.opset_import[0].version = v
    return m


def s_empty(rng):
    which = rng.randrange(4)
    if which == 0:  # no nodes, no outputs
        return model([], [vi("x", X8)], [])
    if which == 1:  # no nodes, the input as output
        return model([], [vi("x", X8)], [vi("x", X8)])
    if which == 2:  # no outputs
        m = rng.choice(BASES)()
        del m.graph.output[:]
        return m
    m = rng.choice(BASES)()  # no graph at all
    m.ClearField("graph")
    return m


def s_op(rng):
    m = rng.choice(BASES)()
    n = m.graph.node[rng.randrange(len(m.graph.node))]
    which = rng.randrange(3)
    if which == 0:
        n.op_type = rng.choice(("", "NoSuchOp", "conv", "Loop", "If", "Conv\x00"))
    elif which == 1:
        n.domain = rng.choice(("com.microsoft", "ai.onnx.ml", "x"))
    else:  # too many or too few inputs
        if rng.random() < 0.5:
            n.input.extend(["x"] * rng.choice((1, 5)))
        else:
            del n.input[:]
    return m


def s_gemm(rng):
    m = base_cnn()
    gw = rng.choice(((3, 63), (3, 65), (64,), (3, 64, 1), (0, 64)))
    m.graph.initializer[1].CopyFrom(init("gw", w(gw, 0.01)))
    return m


STRUCTURAL = [s_input_dims, s_weight_dims, s_reshape_shape, s_nan_inf, s_raw_data, s_typed_data, s_dtype,
              s_cycle, s_missing, s_duplicate, s_group, s_kernel, s_window_attr, s_attr_shape, s_axis,
              s_opset, s_empty, s_op, s_gemm]


def main(out, seed, per_byte):
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "x8.npy"), np.arange(64, dtype=np.float32).reshape(X8) / 64)
    rows = []

    def write(cls, data):
        name = "%04d_%s.onnx" % (len(rows), cls)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        rows.append((name, cls))

    for base in BASES:  # the unmutated bases: must load and run
        write("valid", base().SerializeToString())
    for cls, data in byte_mutants(rng, 5 * per_byte):
        write(cls, data)
    for k in range(30 * len(STRUCTURAL)):
        f = STRUCTURAL[k % len(STRUCTURAL)]
        write(f.__name__[2:], f(rng).SerializeToString())
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.writelines("%s\t%s\n" % r for r in rows)
    print("make_mutated_models.py: seed %d, %d models in %s" % (seed, len(rows), out))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1,
         int(sys.argv[3]) if len(sys.argv) > 3 else 100)
