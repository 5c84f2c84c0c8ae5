#!/usr/bin/python3
"""Checks `deltakern info MODEL` against an independent reading of the model
with the onnx package: for every Conv and Gemm node, the output shape (from
onnx's own shape inference), the parameter count (initializer sizes) and the
MFLOPs (2 per multiply-add, plus one per output for a bias) must match the
row deltakern prints, and the totals line must be present.

usage: check_info.py DELTAKERN MODEL.onnx
"""
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


def shape_of(model, name):
    for vi in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input):
        if vi.name == name:
            return [d.dim_value for d in vi.type.tensor_type.shape.dim]
    return None


def main(dk, path):
    model = shape_inference.infer_shapes(onnx.load(path))
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = subprocess.run([dk, "info", path], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        return 1
    rows = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[0].isdigit():
            rows[parts[1]] = parts
    if not any(l.startswith("total") for l in out.stdout.splitlines()):
        print("FAIL no totals line")
        return 1
    checked = failures = 0
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        row = rows.get(node.name)
        if row is None:
            print(f"FAIL {node.name}: no row in deltakern info")
            failures += 1
            continue
        y = shape_of(model, node.output[0])
        w = inits[node.input[1]]
        has_bias = len(node.input) > 2 and node.input[2] in inits
        params = w.size + (inits[node.input[2]].size if has_bias else 0)
        if node.op_type == "Conv":
            macs = np.prod(y) * np.prod(w.shape[1:])  # each output: Cin/group * prod(kernel)
        else:
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            k = w.shape[1] if trans_b else w.shape[0]
            macs = np.prod(y) * k
        mflops = (2 * macs + (np.prod(y) if has_bias else 0)) / 1e6
        want = ["x".join(map(str, y)), str(params), f"{mflops:.2f}"]
        got = [row[3], row[4], row[5]]
        checked += 1
        if want != got:
            failures += 1
            print(f"FAIL {node.name}: deltakern {got}, onnx {want}")
    print(f"{checked} Conv/Gemm rows checked, {failures} mismatched")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
