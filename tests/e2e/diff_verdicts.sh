#!/bin/bash
# deltakern diff's verdicts that are not about rounding: a clean variant is
# deterministic (two runs on poisoned buffers, bit for bit); a planted
# nondeterministic kernel (fault kind=flaky) is NONDETERMINISTIC, named
# first; a planted NaN (kind=nan) and an all-NaN input are NONFINITE, named
# where they arise, never a label difference or a flip.
# usage: diff_verdicts.sh DELTAKERN SOURCE_DIR MODEL_DIR VARIANT WORK
set -u
DK=$1; SRC=$2; DIR=$3; VARIANT=$4; WORK=$5
PY=/usr/bin/python3
FILE="$DIR/mobilenet_v2.onnx"
[ -f "$FILE" ] || { echo "SKIP: $FILE is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
$PY -c "import onnx, numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks onnx or numpy"; exit 77; }
base=${VARIANT%%:*}
"$DK" backends | grep -q "^$base *available" || { echo "SKIP: $base is unavailable in this build"; exit 77; }
SEED=${DK_TEST_SEED:-$(( $(date +%s) % 100000 ))}
echo "seed $SEED (set DK_TEST_SEED=$SEED to repeat)"
mapfile -t NODES < <($PY "$SRC/tests/tools/diff_pick_nodes.py" "$FILE" "$SEED") || exit 1
FLAKY=${NODES[0]}; NAN=${NODES[1]}
echo "flaky: $FLAKY; nan: $NAN; clean variant: $VARIANT"
rm -rf "$WORK"; mkdir -p "$WORK"
$PY -c "import numpy as np; np.save('$WORK/0_all_nan.npy', np.full((1, 3, 224, 224), np.nan, np.float32))" || exit 1
IMG=$(ls "$SRC"/data/images/* | sort | head -n 1)
"$DK" diff "$FILE" -i "$WORK/0_all_nan.npy" -i "$IMG" -v "$VARIANT" \
    -v "fault:base=ref,node=$FLAKY,kind=flaky,scale=1" -v "fault:base=ref,node=$NAN,kind=nan" \
    -o "$WORK/out" -q || exit 1
$PY "$SRC/tests/tools/check_diff.py" verdicts "$WORK/out" "$FLAKY" "$NAN"
