#!/bin/bash
# --input-shape and symbolic graph input dimensions: a model whose input is
# ['N', 3, 'H', 'W'] is refused without a shape (naming the flag), loads with
# --input-shape or a .npy input's shape, and computes what numpy computes;
# every bad shape gives one error line and exit code 2.
# usage: input_shape.sh DELTAKERN WORKDIR SOURCE_DIR
set -u
DK=$1; WORK=$2; SRC=$3
mkdir -p "$WORK"
fail=0; n=0
PY=/usr/bin/python3

source "$(dirname "${BASH_SOURCE[0]}")/expect_error.sh"

if ! $PY -c "import onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks onnx or numpy"; exit 77
fi
$PY "$SRC/tests/tools/make_symbolic_models.py" "$WORK/m" || { echo "FAIL generator"; exit 1; }
M=$WORK/m/sym_conv.onnx

# check NAME COMMAND...: passes when COMMAND (a shell test) succeeds
check() {
    local name=$1; shift
    n=$((n + 1))
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=$((fail + 1)); fi
}

expect_error "no shape for H, W" "graph input 'x' has symbolic dimension 'H' at axis 2: give it with --input-shape x=1x3xHxW" \
    "$DK" info "$M"
expect_error "unnamed symbolic dimension" "graph input 'x' has symbolic dimension at axis 2: give it with --input-shape x=1x3xD2xD3" \
    "$DK" info "$WORK/m/unnamed.onnx"

# info with a shape: the output and the conv's shapes follow it, no note (the batch is given)
"$DK" info "$M" --input-shape x=1x3x48x320 > "$WORK/info.txt" 2> "$WORK/info_err.txt"
rc=$?
check "info --input-shape exits 0" [ $rc -eq 0 ]
check "info shows the input shape" grep -Eq "^inputs +x: float32 1x3x48x320$" "$WORK/info.txt"
check "info shows the output shape" grep -Eq "^outputs +y: float32 1x4x1x1$" "$WORK/info.txt"
check "info shows the conv's shape" grep -Eq " conv .* 1x4x48x320 " "$WORK/info.txt"
check "info with a full shape: nothing on stderr" [ ! -s "$WORK/info_err.txt" ]
"$DK" info "$M" --input-shape x=2x3x7x9 > "$WORK/info2.txt" 2>&1
check "info: batch 2 and 7x9" grep -Eq "^outputs +y: float32 2x4x1x1$" "$WORK/info2.txt"

# run on a 1x3x40x72 .npy without the flag: its shape fixes H and W, the batch
# comes from it too; the output is numpy's (tests/tools/make_symbolic_models.py)
rm -f "$WORK/y.npy"
"$DK" run "$M" -i "$WORK/m/x_40x72.npy" --no-softmax --save-output "$WORK/y.npy" > "$WORK/run.txt" 2> "$WORK/run_err.txt"
rc=$?
check "run with a .npy input exits 0" [ $rc -eq 0 ]
check "run: nothing on stderr (all dims from the .npy)" [ ! -s "$WORK/run_err.txt" ]
n=$((n + 1))
if $PY -c "
import numpy as np, sys
got, want = np.load('$WORK/y.npy'), np.load('$WORK/m/y_40x72.npy')
assert got.shape == want.shape == (1, 4, 1, 1), (got.shape, want.shape)
err = np.abs(got.astype(np.float64) - want).max()
print('max abs error', err)
sys.exit(0 if err < 1e-5 else 1)
"; then echo "ok   run output equals numpy's"; else echo "FAIL run output differs from numpy's"; cat "$WORK/run.txt" "$WORK/run_err.txt"; fail=$((fail + 1)); fi

# a symbolic batch left open becomes 1 with one note on stderr
$PY -c "
import numpy as np
np.save('$WORK/x3.npy', np.load('$WORK/m/x_40x72.npy')[0])" # rank 3: does not fill the rank-4 input
"$DK" info "$M" --input-shape x=1x3x8x8 > /dev/null 2> "$WORK/note_err.txt"
check "a given batch: no note" [ ! -s "$WORK/note_err.txt" ]
$PY - "$WORK" <<'PYEOF'
import sys, onnx
m = onnx.load(sys.argv[1] + "/m/sym_conv.onnx")
for i, v in ((2, 8), (3, 8)):
    d = m.graph.input[0].type.tensor_type.shape.dim[i]
    d.Clear(); d.dim_value = v
onnx.save(m, sys.argv[1] + "/m/batch_only.onnx")
PYEOF
"$DK" info "$WORK/m/batch_only.onnx" > "$WORK/batch.txt" 2> "$WORK/batch_err.txt"
rc=$?
check "symbolic batch only: exits 0" [ $rc -eq 0 ]
check "symbolic batch only: one note line" [ "$(wc -l < "$WORK/batch_err.txt")" -eq 1 ]
check "symbolic batch only: the note" grep -qxF "note: graph input 'x': symbolic batch dimension 'N' set to 1 (--input-shape to choose)" "$WORK/batch_err.txt"
check "symbolic batch only: batch 1" grep -Eq "^inputs +x: float32 1x3x8x8$" "$WORK/batch.txt"

# an image: --size gives H and W (without it, the error asks for a shape)
IMG=$(ls "$SRC"/data/images/*.jpg "$SRC"/data/images/*.png 2>/dev/null | head -1)
if [ -n "$IMG" ]; then
    "$DK" run "$M" -i "$IMG" --size 32x48 > "$WORK/img.txt" 2> "$WORK/img_err.txt"
    rc=$?
    check "run on an image with --size exits 0" [ $rc -eq 0 ]
    check "run on an image with --size prints the top classes" grep -q "1\. p =" "$WORK/img.txt"
    expect_error "run on an image without --size" "give it with --input-shape x=1x3xHxW" "$DK" run "$M" -i "$IMG"
fi

# bad shapes
expect_error "wrong rank" "--input-shape x has 3 dimensions but graph input 'x' has rank 4" \
    "$DK" info "$M" --input-shape x=1x3x48
expect_error "conflicting static dim" "--input-shape x: axis 1 is 4 but the model fixes it to 3" \
    "$DK" info "$M" --input-shape x=1x4x48x320
expect_error "unknown name" "--input-shape names 'z', which is not a graph input (the graph inputs: 'x')" \
    "$DK" info "$M" --input-shape z=1x3x4x4
expect_error "malformed: trailing x" "info: --input-shape: input shape 'x=1x3x': axis 2 is not a positive integer" \
    "$DK" info "$M" --input-shape x=1x3x
expect_error "malformed: negative" "input shape 'x=1x-3x4x4': axis 1 is not a positive integer" \
    "$DK" info "$M" --input-shape x=1x-3x4x4
expect_error "malformed: empty" "input shape 'x=': no dimensions" "$DK" info "$M" --input-shape x=
expect_error "malformed: no name" "input shape '1x3x4x4': no input name" "$DK" info "$M" --input-shape 1x3x4x4
expect_error "huge dim" "input shape 'x=1x3x1099511627777x4': axis 2 is out of range (1 to 2^40)" \
    "$DK" info "$M" --input-shape x=1x3x1099511627777x4
expect_error "zero dim" "axis 2 is out of range" "$DK" info "$M" --input-shape x=1x3x0x4
expect_error "given twice" "--input-shape gives 'x' twice" \
    "$DK" info "$M" --input-shape x=1x3x4x4 --input-shape x=1x3x4x4
expect_error "shape and data disagree (run)" "must be float32 1x3x48x320" \
    "$DK" run "$M" --input-shape x=1x3x48x320 -i "$WORK/m/x_40x72.npy"
expect_error "run: rank-3 data does not fix H, W" "give it with --input-shape x=1x3xHxW" \
    "$DK" run "$M" -i "$WORK/x3.npy"
# the other commands that load a model take the same option
for cmd in run diff bench sweep; do
    n=$((n + 1))
    if "$DK" $cmd --help | grep -q -- "--input-shape NAME=DxD..."; then echo "ok   $cmd --help lists --input-shape"
    else echo "FAIL $cmd --help lacks --input-shape"; fail=$((fail + 1)); fi
done
expect_error "bench: malformed" "bench: --input-shape: input shape 'x=1x3x': axis 2 is not" \
    "$DK" bench "$M" -v ref -o "$WORK/b.json" --input-shape x=1x3x
expect_error "bench: no shape" "give it with --input-shape x=1x3xHxW" \
    "$DK" bench "$M" -v ref -o "$WORK/b.json" -n 1 --warmup 0 --sessions 1
expect_error "sweep: unknown name" "--input-shape names 'q'" \
    "$DK" sweep "$M" -b ref --input-shape q=1x3x8x8 --reps 1 --warmup 0
EXPECT_ERROR_ALLOW_PROGRESS=1 expect_error "diff: no shape" "give it with --input-shape x=1x3xHxW" \
    "$DK" diff "$M" -i "$WORK/x3.npy" -o "$WORK/diff_out" -v ref -q

echo "$((n - fail))/$n passed"
[ $fail -eq 0 ]
