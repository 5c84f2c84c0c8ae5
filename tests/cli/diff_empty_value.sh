#!/bin/bash
# A node output with no elements (a Slice to length 0, and a Relu of it) as
# the first node diff compares, then a normal one: the run completes, every
# node has its row in layers.csv, the empty ones with no error, and the
# variant is deterministic. (The bound's scratch was once allocated only for
# outputs of at least one element: such a model ended in "out of memory".)
# usage: diff_empty_value.sh DELTAKERN WORK
set -u
DK=$1 WORK=$2
/usr/bin/python3 -c "import onnx, numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks onnx or numpy"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
/usr/bin/python3 - "$WORK" <<'PY' || { echo "FAIL: could not write the model"; exit 1; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
work = sys.argv[1]
i64 = lambda name, v: numpy_helper.from_array(np.array([v], dtype=np.int64), name)
nodes = [helper.make_node("Slice", ["x", "s0", "e0", "ax"], ["empty"], name="slice"),
         helper.make_node("Relu", ["empty"], ["empty_relu"], name="relu_empty"),
         helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("Concat", ["r", "empty_relu"], ["z"], axis=1, name="cat")]
g = helper.make_graph(nodes, "empty_value", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                      [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4])],
                      [i64("s0", 0), i64("e0", 0), i64("ax", 1)])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{work}/empty.onnx")
np.save(f"{work}/x.npy", np.array([[1, -2, 3, -4]], dtype=np.float32))
PY
V=()
for v in onednn openblas; do
    "$DK" backends | grep -q "^$v *available" && V+=(-v "$v")
done
V+=(-v ref:threads=1)
fail=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
"$DK" diff "$WORK/empty.onnx" -i "$WORK/x.npy" "${V[@]}" -o "$WORK/out" -q > "$WORK/diff.txt" 2>&1
rc=$?
check "diff exits 0 (${V[*]})" test "$rc" = 0 || cat "$WORK/diff.txt"
n=$(( ${#V[@]} / 2 ))
for node in slice relu_empty relu cat; do
    check "$node has a row per variant" test "$(grep -c "^\"[^\"]*\",\"$node\"," "$WORK/out/layers.csv" 2>/dev/null)" = "$n"
done
check "the empty outputs have no error" bash -c "grep '\"\\(slice\\|relu_empty\\)\"' '$WORK/out/layers.csv' | awk -F, '\$7 != 0 || \$10 != 0 {exit 1}'"
check "every variant is deterministic" bash -c "! grep -q '\"deterministic\":false' '$WORK/out/state.jsonl'"
exit $fail
