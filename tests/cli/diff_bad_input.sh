#!/bin/bash
# deltakern diff on bad input: every case gives one "deltakern: error:" line
# naming what is wrong and exit code 2, and writes no result.
# usage: diff_bad_input.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
M="$DIR/mobilenet_v2.onnx"; INC="$DIR/inception_v3.onnx"
[ -f "$M" ] || { echo "SKIP: $M is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK/empty"
IMG="$SRC/data/images/chelsea.png"
fails=0
# expect WHAT PATTERN -- COMMAND...: exit 2, one error line matching PATTERN
expect() {
    local what=$1 pat=$2; shift 3
    "$@" > "$WORK/out" 2> "$WORK/err"
    local rc=$?
    local lines; lines=$(grep -c "deltakern: error:" "$WORK/err")
    if [ $rc -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pat" "$WORK/err"; then
        echo "FAIL: $what: exit $rc, stderr:"; cat "$WORK/err"; fails=$((fails + 1))
    else
        echo "ok: $what: $(grep "deltakern: error:" "$WORK/err")"
    fi
}
expect "empty image directory" "no images or tensors" -- "$DK" diff "$M" -i "$WORK/empty" -v onednn -o "$WORK/o1"
expect "missing input" "No such file" -- "$DK" diff "$M" -i "$WORK/nope.png" -v onednn -o "$WORK/o1"
expect "no variant" "no variant" -- "$DK" diff "$M" -i "$IMG" -o "$WORK/o1"
expect "no output directory" "no output directory" -- "$DK" diff "$M" -i "$IMG" -v onednn
expect "unknown node in a fault spec" "no-such-node" -- "$DK" diff "$M" -i "$IMG" -v "fault:base=onednn,node=no-such-node,kind=noise,scale=10" -o "$WORK/o2"
expect "unknown backend" "bogus" -- "$DK" diff "$M" -i "$IMG" -v bogus -o "$WORK/o3"
if "$DK" backends | grep -q "^cudnn *available"; then
    echo "note: cudnn is available here; the unavailable-variant case is not exercised"
else
    expect "variant this machine cannot run" "cudnn" -- "$DK" diff "$M" -i "$IMG" -v cudnn -o "$WORK/o4"
fi
expect "resume without a run" "holds no run to continue" -- "$DK" diff "$M" -i "$IMG" -v onednn -o "$WORK/o5" --resume
expect "bad --max-runs" "max-runs" -- "$DK" diff "$M" -i "$IMG" -v onednn -o "$WORK/o5" --max-runs x
expect "against without a bundle" "not a bundle" -- "$DK" diff "$M" -i "$IMG" -v onednn -o "$WORK/o6" --against "$WORK/empty"
# a bundle made with another input and another model
"$DK" diff "$M" -i "$IMG" -v openblas -o "$WORK/b" --save "$WORK/bundle" -q --no-counterfactual > /dev/null || { echo "FAIL: making a bundle"; exit 1; }
expect "input not in the bundle" "not in the bundle" -- "$DK" diff "$M" -i "$SRC/data/images/rocket.jpg" -v onednn -o "$WORK/o7" --against "$WORK/bundle"
if [ -f "$INC" ]; then
    expect "bundle of another model (shapes)" "input" -- "$DK" diff "$INC" -i "$IMG" -v onednn -o "$WORK/o8" --against "$WORK/bundle"
fi
expect "existing bundle without --force" "use --force" -- "$DK" diff "$M" -i "$IMG" -v openblas -o "$WORK/o9" --save "$WORK/bundle"
echo x > "$WORK/bundle/manifest.json"
expect "corrupt manifest" "not valid JSON" -- "$DK" diff "$M" -i "$IMG" -v onednn -o "$WORK/o10" --against "$WORK/bundle"
for o in o1 o2 o3 o4 o7 o8 o10; do
    if [ -f "$WORK/$o/summary.json" ]; then echo "FAIL: $o: a result was written"; fails=$((fails + 1)); fi
done
[ $fails -eq 0 ]
