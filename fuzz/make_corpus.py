#!/usr/bin/python3
"""Writes the seed corpus and the libFuzzer dictionary of one fuzz target.

  onnx      the small test models (tests/tools/make_{bad,hostile,symbolic}_models.py)
            and every ONNX node test model (/usr/share/libonnx-testdata)
  pb        the node tests' TensorProto files (test_data_set_*/*.pb)
  npy       numpy.save of every dtype deltakern reads, .npy versions 1 to 3
  image     small PNGs and JPEGs of every colour mode PIL writes
  manifest  bundle manifests (deltakern diff --save), valid and near-valid
  compare   bench results (deltakern bench --json), base and candidate

The onnx and pb dictionaries hold every protobuf field tag of onnx.proto (the
varint key byte(s) of each field with its wire type) and the default
domain's op names; the others hold their format's keywords.

usage: make_corpus.py TARGET OUTDIR   (writes OUTDIR/TARGET/* and OUTDIR/TARGET.dict)
"""
import glob
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NODE = "/usr/share/libonnx-testdata/data/node"
MAX_SEED = 64 << 10  # the targets run with -max_len 65536


def put(outdir, data):
    if len(data) <= MAX_SEED:
        with open(os.path.join(outdir, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


def dict_line(data):
    return '"' + "".join("\\x%02x" % b if b < 32 or b > 126 or b in (34, 92) else chr(b) for b in data) + '"'


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def proto_dict():
    from onnx import defs, onnx_ml_pb2
    from google.protobuf.descriptor import FieldDescriptor as FD

    wire = {FD.TYPE_DOUBLE: 1, FD.TYPE_FIXED64: 1, FD.TYPE_SFIXED64: 1, FD.TYPE_FLOAT: 5,
            FD.TYPE_FIXED32: 5, FD.TYPE_SFIXED32: 5, FD.TYPE_STRING: 2, FD.TYPE_BYTES: 2,
            FD.TYPE_MESSAGE: 2}
    tokens = set()

    def walk(desc):
        for f in desc.fields:
            w = wire.get(f.type, 0)
            tokens.add(varint(f.number << 3 | w))
            if f.label == FD.LABEL_REPEATED and w == 0:  # packed repeated scalars
                tokens.add(varint(f.number << 3 | 2))
        for nested in desc.nested_types:
            walk(nested)

    for name in onnx_ml_pb2.DESCRIPTOR.message_types_by_name.values():
        walk(name)
    lines = sorted(dict_line(t) for t in tokens)
    names = sorted({s.name for s in defs.get_all_schemas() if s.domain == ""})
    lines += [dict_line(n.encode()) for n in names]
    lines += [dict_line(b) for b in (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x80\x80\x80\x80\x10")]
    return lines


def onnx_seeds(outdir):
    with tempfile.TemporaryDirectory() as tmp:
        for gen in ("make_bad_models.py", "make_hostile_models.py", "make_symbolic_models.py"):
            sub = os.path.join(tmp, gen)
            subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tools", gen), sub], check=True,
                           stdout=subprocess.DEVNULL)
            for p in glob.glob(os.path.join(sub, "*.onnx")):
                put(outdir, open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(NODE, "*", "model.onnx"))):
        put(outdir, open(p, "rb").read())
    return proto_dict()


def pb_seeds(outdir):
    for p in sorted(glob.glob(os.path.join(NODE, "*", "test_data_set_*", "*.pb"))):
        if os.path.getsize(p) <= 4096:
            put(outdir, open(p, "rb").read())
    return proto_dict()


def npy_seeds(outdir):
    rng = np.random.default_rng(1)
    dtypes = ["<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"]
    for dt in dtypes:
        for shape in [(), (0,), (3,), (2, 3), (1, 3, 2, 2), (1, 0, 4), (1, 1, 1, 1, 1, 1, 2)]:
            a = (rng.standard_normal(shape) * 10).astype(dt)
            for version in ((1, 0), (2, 0), (3, 0)):
                f = io.BytesIO()
                np.lib.format.write_array(f, a, version=version)
                put(outdir, f.getvalue())
    for a in (np.asfortranarray(np.ones((2, 3), "<f4")), np.ones((2, 3), ">f4")):
        f = io.BytesIO()
        np.lib.format.write_array(f, a)
        put(outdir, f.getvalue())
    words = [b"\x93NUMPY", b"\x01\x00", b"\x02\x00", b"\x03\x00", b"{'descr': '", b"'fortran_order': False",
             b"'fortran_order': True", b"'shape': (", b"), }", b",)", b"<f4", b">f4", b"|b1", b"<i8",
             b"<u2", b"<f2", b"<c8", b"|O", b"<U4"]
    return [dict_line(w) for w in words]


def image_seeds(outdir):
    from PIL import Image

    rng = np.random.default_rng(2)
    rgb = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), "RGB")
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        im = rgb.convert(mode) if mode != "I;16" else Image.fromarray(
            rng.integers(0, 65536, (5, 7), dtype=np.uint16))
        for kw in ({}, {"optimize": True}, {"interlace": 1} if mode != "I;16" else {}):
            f = io.BytesIO()
            im.save(f, "PNG", **kw)
            put(outdir, f.getvalue())
    for mode in ("L", "RGB", "CMYK"):
        for kw in ({"quality": 75}, {"quality": 20, "progressive": True}, {"subsampling": 0}):
            f = io.BytesIO()
            rgb.convert(mode).save(f, "JPEG", **kw)
            put(outdir, f.getvalue())
    words = [b"\x89PNG\r\n\x1a\n", b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"gAMA", b"sBIT", b"iCCP",
             b"\xff\xd8", b"\xff\xd9", b"\xff\xc0", b"\xff\xc2", b"\xff\xc4", b"\xff\xda", b"\xff\xdb",
             b"\xff\xdd", b"\xff\xe0", b"\xff\xee", b"Adobe", b"JFIF\x00"]
    return [dict_line(w) for w in words]


def manifest_seeds(outdir):
    def manifest(values, images, **over):
        m = {"format": "deltakern-bundle", "version": 1, "model": {"file": "m.onnx", "hash": "0123456789abcdef"},
             "hash_algorithm": "fnv1a64", "variant": "ref", "environment": {"host": "h", "cpus": 2},
             "input": "x", "output": "y", "values": values, "images": images}
        m.update(over)
        return json.dumps(m, indent=2).encode()

    vals = [{"name": "x", "file": "0000_x.npy", "dtype": "float32", "shape": [1, 3, 8, 8]},
            {"name": "y", "file": "0001_y.npy", "dtype": "float32", "shape": [1, 10]}]
    imgs = [{"name": "a.png", "input_hash": "00000000deadbeef", "dir": "00000"}]
    put(outdir, manifest(vals, imgs))
    put(outdir, manifest(vals, imgs * 3))
    put(outdir, manifest(vals[:1], imgs))
    put(outdir, manifest(vals, []))
    put(outdir, manifest([dict(vals[0], shape=[1e300, -1, 0.5])] + vals[1:], imgs))
    put(outdir, manifest([dict(vals[0], dtype="float16")] + vals[1:], imgs))
    put(outdir, manifest(vals, imgs, format="other"))
    words = [b'"format"', b'"deltakern-bundle"', b'"version"', b'"model"', b'"file"', b'"hash"', b'"variant"',
             b'"environment"', b'"input"', b'"output"', b'"values"', b'"images"', b'"name"', b'"dtype"',
             b'"float32"', b'"shape"', b'"input_hash"', b'"dir"', b'".."', b"1e400", b"-0", b"null", b"true"]
    return [dict_line(w) for w in words]


def compare_seeds(outdir):
    import random

    rng = random.Random(3)

    def samples(ms, n=20):
        return [ms * 1e-3 * (1 + 0.02 * rng.random()) for _ in range(n)]

    def node(name, s, covers=None, counters=False):
        n = {"name": name, "op": "Conv", "desc": "Conv 3x3", "covers": covers or [name],
             "time": {"samples_s": s, "stats": {}}}
        if counters:
            n["counters"] = {"PAPI_TOT_CYC": {"samples": [1000 + i for i in range(len(s))]}}
        return n

    def result(nodes, variants=1):
        e2e = [sum(n["time"]["samples_s"][r] for n in nodes) for r in range(len(nodes[0]["time"]["samples_s"]))]
        return {"schema": "deltakern-bench/1", "model": {"path": "m.onnx", "hash": "fnv1a64:0"},
                "variants": [{"name": "v%d" % i, "end_to_end": {"samples_s": e2e}, "nodes": nodes}
                             for i in range(variants)]}

    base = [node("slow", samples(10)), node("same", samples(10)), node("tiny", samples(0.02)),
            node("fused", samples(4)), node("act", samples(1), counters=True)]
    cand = [node("slow", [2 * x for x in samples(10)]), node("same", samples(10)),
            node("fused", [a + b for a, b in zip(samples(4), samples(1))], ["fused", "act"])]
    b, c = json.dumps(result(base)).encode(), json.dumps(result(cand, 2)).encode()
    put(outdir, b + b"\0" + c)
    put(outdir, b)
    put(outdir, c + b"\0" + b)
    put(outdir, json.dumps(result([node("one", samples(1, 1))])).encode())
    words = [b'"schema"', b'"deltakern-bench/1"', b'"model"', b'"path"', b'"hash"', b'"variants"', b'"name"',
             b'"end_to_end"', b'"nodes"', b'"op"', b'"desc"', b'"covers"', b'"time"', b'"samples_s"',
             b'"stats"', b'"counters"', b'"samples"', b"1e-300", b"1e308", b"-0", b"\\u0000", b"\x00"]
    return [dict_line(w) for w in words]


def main(target, out):
    make = {"onnx": onnx_seeds, "pb": pb_seeds, "npy": npy_seeds, "image": image_seeds,
            "manifest": manifest_seeds, "compare": compare_seeds}
    if target not in make:
        sys.exit("make_corpus.py: unknown target '%s' (one of %s)" % (target, ", ".join(make)))
    outdir = os.path.join(out, target)
    os.makedirs(outdir, exist_ok=True)
    lines = make[target](outdir)
    with open(os.path.join(out, target + ".dict"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("make_corpus.py: %s: %d seeds, %d dictionary entries" % (target, len(os.listdir(outdir)), len(lines)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(sys.argv[1], sys.argv[2])
