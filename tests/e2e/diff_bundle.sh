#!/bin/bash
# --save then --against: the baseline's node outputs written as a bundle
# (numpy.load reads every file) and used as the baseline in a second run give
# exactly the in-process result, propagated and isolated; a bundle from the
# same model re-exported under another file is compared by name and shape
# with a note.
# usage: diff_bundle.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
PY=/usr/bin/python3
FILE="$DIR/mobilenet_v2.onnx"
[ -f "$FILE" ] || { echo "SKIP: $FILE is missing (the e2e.mobilenet_v2 test exports it)"; exit 77; }
$PY -c "import numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
IN=(-i "$SRC/data/images/chelsea.png" -i "$SRC/data/images/rocket.jpg")
V=(-v onednn -v "fault:base=openblas,node=/features/features.16/conv/conv.2/Conv,kind=noise,scale=30000")
"$DK" diff "$FILE" "${IN[@]}" "${V[@]}" -o "$WORK/inproc" --save "$WORK/bundle" -q || exit 1
$PY "$SRC/tests/tools/check_diff.py" bundle "$WORK/bundle" || exit 1
"$DK" diff "$FILE" "${IN[@]}" "${V[@]}" -o "$WORK/against" --against "$WORK/bundle" -q || exit 1
$PY "$SRC/tests/tools/check_diff.py" same "$WORK/inproc" "$WORK/against" || exit 1
$PY "$SRC/tests/tools/check_diff.py" flips "$WORK/against" || exit 1
# without -i the bundle's own inputs are used
"$DK" diff "$FILE" -v onednn -o "$WORK/own" --against "$WORK/bundle" -q --no-counterfactual || exit 1
grep -q '"images":	2' "$WORK/own/summary.json" || { echo "FAIL: the bundle's 2 inputs were not used"; exit 1; }
# the same network in another file (re-saved with another doc string, as a
# re-export would be): compared by name and shape, with a note
$PY -c "import onnx,sys; m=onnx.load(sys.argv[1]); m.doc_string='re-exported'; onnx.save(m, sys.argv[2])" "$FILE" "$WORK/copy.onnx" || exit 1
"$DK" diff "$WORK/copy.onnx" "${IN[@]}" -v onednn -o "$WORK/other" --against "$WORK/bundle" -q --no-counterfactual || exit 1
grep -q "another model file" "$WORK/other/summary.json" || { echo "FAIL: no note on the other model file"; exit 1; }
echo "ok: a bundle from another model file is compared by name and shape, with a note"
