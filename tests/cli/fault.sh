#!/bin/bash
# The fault wrapper from the command line: `deltakern run` with
# -b fault:base=...,node=... changes the logits for every corrupting kind,
# leaves them alone for kind=slow, and every bad specification gives one error
# line naming the culprit with exit code 2.
# usage: fault.sh DELTAKERN WORKDIR SOURCE_DIR MODEL_DIR
set -u
DK=$1; WORK=$2; SRC=$3; DIR=$4
PY=/usr/bin/python3
MODEL=$DIR/mobilenet_v2.onnx
IMG=$(ls "$SRC"/data/images/*.jpg "$SRC"/data/images/*.png 2>/dev/null | head -1)
if [ ! -f "$MODEL" ]; then echo "SKIP: $MODEL is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; fi
if [ -z "$IMG" ]; then echo "SKIP: no image in $SRC/data/images"; exit 77; fi
if ! $PY -c "import numpy" 2>/dev/null; then echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; fi
mkdir -p "$WORK"
fail=0

# A node in the middle of the network, named as torch exports it (with '/').
NODE=/features/features.3/conv/conv.1/conv.1.0/Conv

# run_save NAME VARIANT: runs the model on the image and saves the logits as NAME.npy
run_save() {
    if ! "$DK" run "$MODEL" -i "$IMG" -b "$2" -k 3 --save-output "$WORK/$1.npy" --force > "$WORK/$1.txt" 2>&1; then
        echo "FAIL $1: '$2' did not run:"; sed 's/^/    /' "$WORK/$1.txt"; fail=$((fail + 1)); return 1
    fi
    grep -q "(${2%%,*}" "$WORK/$1.txt" || { echo "FAIL $1: the variant is not named in the output"; fail=$((fail + 1)); }
}

# compare NAME WANT: WANT is "differ" or "same" (bit for bit) against plain.npy
compare() {
    local verdict
    verdict=$($PY -c "
import numpy as np, sys
a = np.load('$WORK/plain.npy'); b = np.load('$WORK/$1.npy')
d = float(np.max(np.abs(a.astype(np.float64) - b)))
print(('same' if d == 0 else 'differ') + ' max|diff| %.3g' % d)")
    if [ "${verdict%% *}" = "$2" ]; then echo "ok   $1: logits $verdict"
    else echo "FAIL $1: logits $verdict, wanted $2"; fail=$((fail + 1)); fi
}

run_save plain ref || exit 1
for kind in noise bias zero swap-channels; do
    run_save "$kind" "fault:base=ref,node=$NODE,kind=$kind" && compare "$kind" differ
done
run_save scale1000 "fault:base=ref,node=$NODE,kind=bias,scale=1000" && compare scale1000 differ
run_save slow "fault:base=ref,node=$NODE,kind=slow,factor=1.5" && compare slow same
# options of the base pass through (openblas's conv=im2col)
if "$DK" backends | grep -q "^openblas *available"; then
    run_save ob_plain "openblas:conv=im2col" && run_save ob_slow "fault:base=openblas,conv=im2col,node=$NODE,kind=slow" \
        && $PY -c "
import numpy as np, sys
sys.exit(0 if np.array_equal(np.load('$WORK/ob_plain.npy'), np.load('$WORK/ob_slow.npy')) else 1)" \
        && echo "ok   openblas base with conv=im2col: logits unchanged by kind=slow" \
        || { echo "FAIL openblas base with conv=im2col"; fail=$((fail + 1)); }
fi

source "$(dirname "${BASH_SOURCE[0]}")/expect_error.sh"
# expect_variant_error NAME EXPECTED_SUBSTRING VARIANT: `run` with VARIANT fails so
expect_variant_error() { expect_error "$1" "$2" "$DK" run "$MODEL" -i "$IMG" -b "$3"; }
expect_variant_error "unknown node" "node=/features/Conv_typo: $MODEL has no node of that name (closest: " \
    "fault:base=ref,node=/features/Conv_typo"
expect_variant_error "missing base" "needs option 'base'" "fault:node=$NODE"
expect_variant_error "missing node" "needs option 'node'" "fault:base=ref"
expect_variant_error "wrapper as base" "cannot wrap a wrapper" "fault:base=fault,node=$NODE"
expect_variant_error "unknown base" "unknown backend 'nosuch'" "fault:base=nosuch,node=$NODE"
expect_variant_error "unknown kind" "kind=melt is not valid (allowed: noise|bias|zero|swap-channels|slow|flaky|nan)" \
    "fault:base=ref,node=$NODE,kind=melt"
expect_variant_error "option of another base" "has no option 'fpmath'" "fault:base=ref,node=$NODE,fpmath=bf16"
expect_variant_error "bad scale" "option scale=big: expected a number from -1e+06 to 1e+06" "fault:base=ref,node=$NODE,scale=big"
expect_variant_error "factor below 1" "option factor=0.5: expected a number from 1 to 1000" "fault:base=ref,node=$NODE,kind=slow,factor=0.5"
# a slow-down of 1e12 would never finish: refused at once
expect_variant_error "factor 1e12" "option factor=1e12: expected a number from 1 to 1000" "fault:base=ref,node=$NODE,kind=slow,factor=1e12"

[ $fail -eq 0 ] && echo "all fault CLI checks passed" || echo "$fail fault CLI checks failed"
exit $((fail > 0))
