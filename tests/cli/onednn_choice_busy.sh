#!/bin/bash
# opt=3 (kernels/onednn/onednn_choose.c) watches the host while it times its
# candidates (runtime/host_load.c, bench's rule); a choice is remembered for
# good, so one timed beside another runnable process must not rest on a few
# preempted runs. With a busy process beside it (a shell loop started here,
# killed on exit), on a small network of convolutions (seeded random weights
# and input, printed):
#   every convolution that timed its candidates says in its plan note that
#     the host was busy, why (other runnable tasks), and that each candidate
#     ran 12 times more;
#   the choices are remembered all the same: a second process (the loop
#     stopped) takes every one of them ("chosen before") and computes the
#     same bits.
# Nothing asserts the note's absence on a quiet run: this host is shared
# (tests/unit/test_host_load.c judges recorded samples instead).
# usage: onednn_choice_busy.sh DELTAKERN WORKDIR
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
# 3x3 stride 2, 3x3 (Winograd a candidate), 1x1, each with Relu
layers = [(3, 64, 3, 2), (64, 64, 3, 1), (64, 32, 1, 1)]
nodes, inits, x = [], [], "x"
for i, (c, m, k, s) in enumerate(layers):
    w = (rng.standard_normal((m, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)
    b = (rng.standard_normal(m) * 0.1).astype(np.float32)
    inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
    nodes.append(helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], name=f"conv{i}",
                                  kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4))
    nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
    x = f"r{i}"
graph = helper.make_graph(nodes, "convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 32, 32, 32])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, f"{work}/convs.onnx")
np.save(f"{work}/x.npy", rng.standard_normal((1, 3, 64, 64)).astype(np.float32))
PY
MODEL=$WORK/convs.onnx INPUT=$WORK/x.npy
export DK_ONEDNN_CHOICES=$WORK/choices.json
VARIANT=onednn:opt=3

busy=
stop_busy() { [ -n "$busy" ] && kill "$busy" 2>/dev/null && wait "$busy" 2>/dev/null; busy=; }
trap stop_busy EXIT INT TERM
sh -c 'while :; do :; done' &
busy=$!
for i in $(seq 1 50); do
    [ "$(awk '{print $3}' /proc/$busy/stat 2>/dev/null)" = R ] && break
    sleep 0.1
done
run busy "$VARIANT"
stop_busy
grep "^onednn: node 'conv" "$WORK/busy.log"
timed=$(grep -c "^onednn: node 'conv.*fastest of" "$WORK/busy.log")
said=$(grep -c "^onednn: node 'conv.*fastest of.*; host busy while timing (.*other runnable tasks.*): 12 runs more each, \(still busy\|quiet then\)$" "$WORK/busy.log")
check "the convolutions timed their candidates ($timed of 3)" test "$timed" = 3
check "each of their notes says the host was busy, why, and 12 runs more ($said of $timed)" test "$said" = "$timed"
check "the choices are remembered" test "$(grep -c '"[^"]*\[[^"]*\]":' "$DK_ONEDNN_CHOICES")" = 3
run again "$VARIANT"
check "a second process takes all three ('chosen before')" \
    test "$(grep -c "^onednn: node 'conv.*, chosen before$" "$WORK/again.log")" = 3
check "and computes the same bits" cmp -s "$WORK/busy.npy" "$WORK/again.npy"
echo "$((n - fail)) of $n checks passed"
[ "$fail" -eq 0 ]
