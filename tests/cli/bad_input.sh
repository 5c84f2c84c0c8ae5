#!/bin/bash
# Every kind of bad input gives exactly one line "deltakern: error: ..." on
# stderr naming the culprit, nothing on stdout's error path, and exit code 2.
# usage: bad_input.sh DELTAKERN WORKDIR SOURCE_DIR
set -u
DK=$1; WORK=$2; SRC=$3
mkdir -p "$WORK"
fail=0; n=0
PY=/usr/bin/python3

source "$(dirname "${BASH_SOURCE[0]}")/expect_error.sh"

MODEL=/usr/share/libonnx-testdata/data/node/test_basic_conv_with_padding/model.onnx
IMG=$(ls "$SRC"/data/images/*.jpg "$SRC"/data/images/*.png 2>/dev/null | head -1)

expect_error "missing model" "no_such.onnx" "$DK" info "$WORK/no_such.onnx"
expect_error "directory as model" "is a directory" "$DK" info "$WORK"
expect_error "empty model" "empty.onnx" bash -c ": > '$WORK/empty.onnx'; exec '$DK' info '$WORK/empty.onnx'"
size=$(stat -c %s "$MODEL")
head -c $((size / 2)) "$MODEL" > "$WORK/truncated.onnx"
expect_error "truncated model" "truncated.onnx" "$DK" info "$WORK/truncated.onnx"
SEED=${DK_TEST_SEED:-$RANDOM}
echo "random bytes seed: $SEED"
$PY -c "import random,sys; random.seed($SEED); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(4096)))" > "$WORK/random.onnx"
expect_error "random bytes" "random.onnx" "$DK" info "$WORK/random.onnx"

if $PY -c "import onnx, numpy" 2>/dev/null; then
    $PY "$SRC/tests/tools/make_bad_models.py" "$WORK/bad" || fail=$((fail + 1))
    expect_error "unsupported ops" "2 op types are not supported (3 nodes): Atanh x2 (first 'atanh_1'), Sin x1 (first 'sin_node')" \
        "$DK" info "$WORK/bad/unsupported_op.onnx"
    n=$((n + 1))  # info's table of the same gap, on stdout
    if grep -Eq "^Atanh +ai.onnx +2  atanh_1$" "$WORK/out.txt" && grep -Eq "^Sin +ai.onnx +1  sin_node$" "$WORK/out.txt"; then
        echo "ok   unsupported ops: info's table"
    else
        echo "FAIL unsupported ops: info's table lacks the rows:"; sed 's/^/    /' "$WORK/out.txt"; fail=$((fail + 1))
    fi
    expect_error "unsupported ops (run)" "Atanh x2" "$DK" run "$WORK/bad/unsupported_op.onnx" -b ref -i "$WORK/random.onnx"
    expect_error "unsupported attribute value" "pad_wrap" "$DK" info "$WORK/bad/unsupported_attr.onnx"
    expect_error "inconsistent shapes (Add)" "add_mismatch" "$DK" info "$WORK/bad/inconsistent_shapes.onnx"
    expect_error "inconsistent shapes (Conv)" "conv_bad_channels" "$DK" info "$WORK/bad/conv_channels.onnx"
    expect_error "dangling input" "nowhere" "$DK" info "$WORK/bad/dangling_input.onnx"
else
    echo "SKIP models built with python3-onnx: /usr/bin/python3 lacks onnx or numpy"
fi

if [ -f "$WORK/bad/tiny_image.onnx" ]; then
    TINY=$WORK/bad/tiny_image.onnx
    if [ -n "$IMG" ]; then  # the valid case first: the failures below are about the input alone
        "$DK" run "$TINY" -i "$IMG" > "$WORK/ok.txt" 2>&1 && grep -q "1\. p =" "$WORK/ok.txt" \
            && echo "ok   valid image runs" || { echo "FAIL valid image does not run:"; cat "$WORK/ok.txt"; fail=$((fail + 1)); }
        n=$((n + 1))
    fi
    printf 'this is not an image' > "$WORK/garbage.png"
    expect_error "unreadable image" "garbage.png" "$DK" run "$TINY" -i "$WORK/garbage.png"
    if [ -n "$IMG" ]; then
        head -c 2000 "$IMG" > "$WORK/truncated_image.${IMG##*.}"
        expect_error "truncated image" "truncated_image" "$DK" run "$TINY" -i "$WORK/truncated_image.${IMG##*.}"
    fi
    expect_error "missing image" "nothing.jpg" "$DK" run "$TINY" -i "$WORK/nothing.jpg"
    expect_error "wrong input shape" "must be float32 1x3x16x16" "$DK" run "$TINY" \
        -i /usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb
    expect_error "--size against the model" "--size" "$DK" run "$TINY" -i "$IMG" --size 224
    expect_error "existing output file" "--force" bash -c ": > '$WORK/exists.npy'; exec '$DK' run '$TINY' -i '$IMG' --save-output '$WORK/exists.npy'"
fi
[ -n "$IMG" ] && expect_error "image for a non-image model" "not an RGB image batch" "$DK" run \
    /usr/share/libonnx-testdata/data/node/test_relu/model.onnx -i "$IMG"
expect_error "unknown flag" "--frobnicate" "$DK" run "$MODEL" --frobnicate
expect_error "unknown short flag" "-z" "$DK" info -z "$MODEL"
expect_error "flag missing its value" "--top" "$DK" run "$MODEL" -i x --top
expect_error "bad flag value" "--top" "$DK" run "$MODEL" -i x --top zero
expect_error "unknown command" "frobnicate" "$DK" frobnicate
expect_error "unknown backend" "unknown backend 'nosuch'" "$DK" run "$MODEL" -i x -b nosuch
expect_error "unknown variant option" "no option 'frob'" "$DK" run "$MODEL" -i x -b ref:frob=1
expect_error "bad variant value" "threads=many is not valid" "$DK" run "$MODEL" -i x -b ref:threads=many
expect_error "missing variants file" "nomatrix.txt" "$DK" run "$MODEL" -i x --variants "$WORK/nomatrix.txt"
printf 'ref\nref:threads=two\n' > "$WORK/matrix.txt"
expect_error "bad line in a variants file" "matrix.txt:2" "$DK" run "$MODEL" -i x --variants "$WORK/matrix.txt"
expect_error "--save-output with two variants" "takes one variant" "$DK" run "$MODEL" -i x -b ref:threads=1/2 --save-output "$WORK/two.npy"
expect_error "no model argument" "MODEL" "$DK" info
expect_error "no input" "no input" "$DK" run "$MODEL"

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
