#!/bin/bash
# --against trusts a bundle no further than it can check: a FIFO or a
# symbolic link in place of a value file, an image folder or the manifest is
# refused (never read, never blocking), a manifest whose dir names another
# image's folder is an error (the input's hash), a value listed twice is an
# error found at once among 200000 (an index, no quadratic search), and a
# --save folder that is a link is not written through.
# usage: diff_bundle_trust.sh DELTAKERN SOURCE_DIR WORK
set -u
DK=$1; SRC=$2; WORK=$3
PY=/usr/bin/python3
$PY -c "import numpy, onnx" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy or onnx"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
$PY "$SRC/tests/tools/make_tiny_cnn.py" "$WORK/tiny.onnx" 11 "$WORK/inputs" 2 || exit 1
M="$WORK/tiny.onnx"
V=(-v openblas -q --no-counterfactual)
"$DK" diff "$M" -i "$WORK/inputs" "${V[@]}" -o "$WORK/made" --save "$WORK/good" > /dev/null || { echo "FAIL: making a bundle"; exit 1; }
"$DK" diff "$M" "${V[@]}" -o "$WORK/base" --against "$WORK/good" > /dev/null || { echo "FAIL: the bundle as it is"; exit 1; }
fresh() { rm -rf "$WORK/b" "$WORK/o"; cp -r "$WORK/good" "$WORK/b"; }
value() { ls "$WORK/b/00000" | grep -v "^0000_" | head -1; } # a node output of image 0
# timeout: a FIFO opened for reading would block forever
run() { timeout 120 "$DK" diff "$M" "${V[@]}" -o "$WORK/o" --against "$WORK/b" "$@"; }

fresh; f=$(value); rm "$WORK/b/00000/$f"; mkfifo "$WORK/b/00000/$f"
expect_error "a FIFO in place of a value file" "$f: not a regular file" run
fresh; f=$(value); mv "$WORK/b/00000/$f" "$WORK/elsewhere.npy"; ln -s "$WORK/elsewhere.npy" "$WORK/b/00000/$f"
expect_error "a value file that is a link" "$f: is a symbolic link" run
fresh; mv "$WORK/b/00001" "$WORK/moved"; ln -s "$WORK/moved" "$WORK/b/00001"
expect_error "an image folder that is a link" "00001: is a symbolic link" run
fresh; mv "$WORK/b/manifest.json" "$WORK/manifest.json"; ln -s "$WORK/manifest.json" "$WORK/b/manifest.json"
expect_error "a manifest that is a link" "manifest.json: is a symbolic link" run
fresh; $PY -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); m['images'][0]['dir']=m['images'][1]['dir']; json.dump(m,open(p,'w'))" "$WORK/b/manifest.json"
expect_error "an image's dir naming another image's folder" "holds another input's values" run -i "$WORK/inputs"
fresh; $PY -c "
import json,sys
p=sys.argv[1]; m=json.load(open(p)); v=m['values'][-1]
m['values'] += [dict(v, name='extra%d' % i, file='extra%d.npy' % i) for i in range(200000)] + [dict(v, file='dup.npy')]
json.dump(m,open(p,'w'))" "$WORK/b/manifest.json"
t0=$(date +%s)
expect_error "a value listed twice among 200000" "is listed twice" run
n=$((n + 1))
if [ $(( $(date +%s) - t0 )) -le 60 ]; then echo "ok   found in $(( $(date +%s) - t0 )) s"; else echo "FAIL: took $(( $(date +%s) - t0 )) s"; fail=$((fail + 1)); fi
# --save into a bundle whose image folder is a link: not written through
fresh; mv "$WORK/b/00000" "$WORK/target"; ln -s "$WORK/target" "$WORK/b/00000"
expect_error "--save with an image folder that is a link" "00000: is a symbolic link" "$DK" diff "$M" -i "$WORK/inputs" "${V[@]}" -o "$WORK/o" --save "$WORK/b" --force
echo "$((n - fail)) of $n checks passed"
[ $fail -eq 0 ]
