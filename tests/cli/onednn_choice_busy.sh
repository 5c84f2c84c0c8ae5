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
# 3x3 stride 2, 3x3 (Winograd a candidate), 1x1, each with Relu
conv_chain_model "[(3, 64, 3, 2), (64, 64, 3, 1), (64, 32, 1, 1)]"
export DK_ONEDNN_CHOICES=$WORK/choices.json
VARIANT=onednn:opt=3

start_busy
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
