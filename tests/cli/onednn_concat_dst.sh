#!/bin/bash
# opt=3 (kernels/onednn/onednn_choose.c): a convolution feeding a Concat may
# run in oneDNN's own layout (brgconv's NHWC; with fpmath=bf16 its AMX
# kernels) and reorder its output into channels blocked by 16, the layout in
# which the Concat joins its inputs in place. On an Inception-like block
# (seeded random weights and input, printed), the choices forced through a
# choices file (DK_ONEDNN_CHOICES=FILE) to "as given, dst nchw16c":
#   the notes say "dst reordered to channels blocked by 16" for the three
#     branch convolutions and the Concat is in place;
#   the output is bit-identical to layout=blocked (the same kernels, the
#     Concat through another layout: reorders and copies are exact), in
#     float32 and with fpmath=bf16;
#   diff against the reference: no faulty kernel, both precisions.
# usage: onednn_concat_dst.sh DELTAKERN WORKDIR
set -u
DK=$1 WORK=$2
. "$(dirname "$0")/checks.sh"
. "$(dirname "$0")/onednn_choices.sh"
begin_onednn_test
/usr/bin/python3 - "$WORK" "$SEED" <<'PY' || exit 1
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
work, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
nodes, inits = [], []
def conv(name, x, c, m, k, pad):
    w = (rng.standard_normal((m, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)
    b = (rng.standard_normal(m) * 0.1).astype(np.float32)
    inits.extend([numpy_helper.from_array(w, f"{name}_w"), numpy_helper.from_array(b, f"{name}_b")])
    nodes.append(helper.make_node("Conv", [x, f"{name}_w", f"{name}_b"], [f"{name}_c"], name=name,
                                  kernel_shape=[k, k], pads=[pad] * 4))
    nodes.append(helper.make_node("Relu", [f"{name}_c"], [f"{name}_r"], name=f"{name}_relu"))
    return f"{name}_r"
# three branches (1x1, 3x3, 5x5) of the input joined by a Concat, read by a
# last 1x1 (the branches read the NCHW input: their choices do not depend on
# a layout chosen upstream)
branches = [conv("b1", "x", 64, 32, 1, 0), conv("b3", "x", 64, 48, 3, 1), conv("b5", "x", 64, 32, 5, 2)]
nodes.append(helper.make_node("Concat", branches, ["cat"], name="concat", axis=1))
out = conv("head", "cat", 112, 32, 1, 0)
graph = helper.make_graph(nodes, "block", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 28, 28])],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 32, 28, 28])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, f"{work}/block.onnx")
np.save(f"{work}/x.npy", rng.standard_normal((1, 64, 28, 28)).astype(np.float32))
PY
MODEL=$WORK/block.onnx INPUT=$WORK/x.npy
export DK_ONEDNN_CHOICES=$WORK/choices.json
# algo=direct keeps Winograd out, so that the blocked layout's kernels are
# the ones the candidate runs
for prec in f32 bf16; do
    FP=; [ "$prec" = bf16 ] && FP=,fpmath=bf16
    OPEN=onednn:opt=3,algo=direct$FP BLOCKED=onednn:opt=3,algo=direct,layout=blocked$FP
    rm -f "$DK_ONEDNN_CHOICES"
    run "${prec}_first" "$OPEN"
    # the head in oneDNN's own layout too, as layout=blocked has it
    choose "as given" 1 > /dev/null || { echo "FAIL $prec: the head's choice"; exit 1; }
    check "$prec: the three branches may reorder their output into the Concat's layout" \
        choose "as given, dst nchw16c" 3
    run "${prec}_dst16" "$OPEN"
    check "$prec: the notes say so" \
        test "$(grep -c "dst reordered to channels blocked by 16.*as given, dst nchw16c, chosen before" "$WORK/${prec}_dst16.log")" -eq 3
    check "$prec: the Concat is in place" grep -q "node 'concat' (Concat): in place" "$WORK/${prec}_dst16.log"
    if [ "$prec" = bf16 ]; then  # layout=blocked still chooses bf16 or float32: bf16
        rm -f "$DK_ONEDNN_CHOICES"
        run "${prec}_blocked_first" "$BLOCKED"
        choose "as given" 4 > /dev/null || { echo "FAIL bf16 layout=blocked choices"; exit 1; }
    fi
    run "${prec}_blocked" "$BLOCKED"
    check "$prec: bit-identical to layout=blocked" cmp -s "$WORK/${prec}_dst16.npy" "$WORK/${prec}_blocked.npy"
    "$DK" diff "$MODEL" -i "$INPUT" -v "$OPEN" -o "$WORK/diff_$prec" -q > "$WORK/diff_$prec.log" 2>&1 || cat "$WORK/diff_$prec.log"
    check "$prec: within the tolerance table (no faulty kernel)" no_faulty_kernel "$WORK/diff_$prec"
done

echo "$((n - fail)) of $n checks passed"
[ "$fail" -eq 0 ]
