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
#   the choices are remembered all the same, those still timed on a busy
#     host with the reasons ({"choice": ..., "busy": ...}); a second process
#     (the loop stopped) takes every one of them ("chosen before", and "on a
#     busy host (...)" for exactly those) and computes the same bits;
#   entries edited by hand into no choice (a number) or a name that is no
#     candidate are timed again (the note says so for the name) and replaced:
#     the next process takes all three and computes the same bits again.
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
# per convolution: 1 when the busy run's note says it was still busy, and
# the choices file's entry for its key
check "the choices are remembered, with the reasons where the host stayed busy" \
    /usr/bin/python3 - "$DK_ONEDNN_CHOICES" "$WORK/busy.log" "$WORK/busy_kinds.txt" <<'PY'
import json, re, sys
entries = [v for t in json.load(open(sys.argv[1]))["tables"] for v in t["choices"].values()]
notes = [l for l in open(sys.argv[2]) if re.match(r"onednn: node 'conv.*fastest of", l)]
still = sorted(int(l.rstrip().endswith("still busy")) for l in notes)
kinds = sorted(int(isinstance(e, dict)) for e in entries)
for e in entries:
    if isinstance(e, dict):
        assert set(e) == {"choice", "busy"} and "other runnable tasks" in e["busy"], e
    else:
        assert isinstance(e, str), e
assert len(entries) == 3 and still == kinds, (still, kinds, entries)
open(sys.argv[3], "w").write(f"{sum(kinds)}\n")
PY
run again "$VARIANT"
busy_kept=$(cat "$WORK/busy_kinds.txt" 2>/dev/null || echo -1)
check "a second process takes all three ('chosen before')" \
    test "$(grep -c "^onednn: node 'conv.*, chosen before\( on a busy host (.*other runnable tasks.*)\)\?$" "$WORK/again.log")" = 3
check "and says 'on a busy host' for the $busy_kept stored so" \
    test "$(grep -c "^onednn: node 'conv.*, chosen before on a busy host (" "$WORK/again.log")" = "$busy_kept"
check "and computes the same bits" cmp -s "$WORK/busy.npy" "$WORK/again.npy"
/usr/bin/python3 - "$DK_ONEDNN_CHOICES" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
keys = sorted(k for t in doc["tables"] for k in t["choices"])
for t in doc["tables"]:
    for k in t["choices"]:
        if k == keys[0]: t["choices"][k] = 42
        if k == keys[1]: t["choices"][k] = "no such kernel"
json.dump(doc, open(sys.argv[1], "w"))
PY
run edited "$VARIANT"
check "the edited entries are timed again, the name said to be no candidate" \
    test "$(grep -c "^onednn: node 'conv.*fastest of" "$WORK/edited.log")" = 2 -a \
    "$(grep -c "the remembered choice 'no such kernel' is no candidate: timed again" "$WORK/edited.log")" = 1
run edited_again "$VARIANT"
check "they were replaced: a next process takes all three" \
    test "$(grep -c "^onednn: node 'conv.*, chosen before" "$WORK/edited_again.log")" = 3
check "and computes the same bits" cmp -s "$WORK/edited.npy" "$WORK/edited_again.npy"
echo "$((n - fail)) of $n checks passed"
[ "$fail" -eq 0 ]
