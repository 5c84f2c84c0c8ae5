#!/bin/bash
# opt=3 with fpmath=bf16 (kernels/onednn/onednn_choose.c): a convolution may
# keep float32 where bfloat16 is slower, and then must compute exactly what
# the float32 variant computes. The choices go through a choices file
# (DK_ONEDNN_CHOICES=FILE), rewritten here so that both ways are taken on a
# network of convolutions (seeded random weights and input, printed):
#   every layer float32 -> the output is bit-identical to onednn:opt=3 with
#     the same layouts chosen, and every plan note says "float32 operands";
#   every layer bf16    -> the output differs from float32 (bf16 rounding is
#     visible), no plan note says so, and it stays within the bf16 bound of
#     the tolerance table (diff against ref: no faulty kernel);
#   the 3x3 layers float32 Winograd, the rest float32 -> bit-identical to
#     the float32 variant with algo=winograd.
# usage: onednn_bf16_choice.sh DELTAKERN WORKDIR
set -u
DK=$1 WORK=$2
. "$(dirname "$0")/checks.sh"
. "$(dirname "$0")/onednn_choices.sh"
begin_onednn_test
# 3 -> 32 (stride 2), 32 -> 64, 64 -> 64 (3x3), 64 -> 32 (1x1), each with Relu
conv_chain_model "[(3, 32, 3, 2), (32, 64, 3, 1), (64, 64, 3, 1), (64, 32, 1, 1)]"
export DK_ONEDNN_CHOICES=$WORK/choices.json
# The layout and algorithm are fixed (layout=nchw16c, algo=direct), so that
# the float32 variant plans without choosing and each bf16 convolution
# chooses between bf16 ("as given") and float32 ("float32") alone, on inputs
# in one layout whatever was chosen upstream (the choice's key holds it).
F32=onednn:opt=3,layout=nchw16c,algo=direct
BF16=$F32,fpmath=bf16
run f32 "$F32"
run bf16_first "$BF16"  # the choices file gets a key per convolution
check "four bf16 choices, float32 among the candidates" choose float32 4 "as given,float32"
run bf16_as_f32 "$BF16"
check "bf16 variant whose layers keep float32: the notes say so" \
    test "$(grep -c "float32 operands (fpmath=bf16 not used); float32, chosen before" "$WORK/bf16_as_f32.log")" -eq 4
check "bf16 variant whose layers keep float32: bit-identical to float32" cmp -s "$WORK/f32.npy" "$WORK/bf16_as_f32.npy"

check "four bf16 choices" choose "as given" 4 "as given,float32"
run bf16 "$BF16"
check "bf16 layers: no note says float32" test "$(grep -c "float32 operands" "$WORK/bf16.log")" -eq 0
check "bf16 layers: output differs from float32 (bf16 rounding)" bash -c "! cmp -s '$WORK/f32.npy' '$WORK/bf16.npy'"
"$DK" diff "$MODEL" -i "$INPUT" -v "$BF16" -o "$WORK/diff" -q > "$WORK/diff.log" 2>&1 || cat "$WORK/diff.log"
check "bf16 layers: within the bf16 bound (no faulty kernel)" no_faulty_kernel "$WORK/diff"

# With the algorithm open, the two 3x3 stride-1 layers may also keep
# float32 Winograd (oneDNN has no bfloat16 one): taken there, and float32
# elsewhere, the output is bit-identical to the float32 variant asking for
# Winograd (which falls back to oneDNN's choice where Winograd is missing).
rm -f "$DK_ONEDNN_CHOICES"
F32W=onednn:opt=3,layout=nchw16c,algo=winograd
BF16W=onednn:opt=3,layout=nchw16c,fpmath=bf16
run f32w "$F32W"
run bf16w_first "$BF16W"
check "two 3x3 stride-1 choices, float32 Winograd among the candidates" \
    choose "float32 winograd" 2 "as given,float32,float32 winograd"
check "two other choices, without Winograd" choose float32 2 "as given,float32"
run bf16w "$BF16W"
check "bf16 variant keeping float32 Winograd: the notes say so" \
    test "$(grep -c "winograd, .*float32 operands (fpmath=bf16 not used); float32 winograd, chosen before" "$WORK/bf16w.log")" -eq 2
check "bf16 variant keeping float32 Winograd: bit-identical to float32 Winograd" cmp -s "$WORK/f32w.npy" "$WORK/bf16w.npy"

echo "$((n - fail)) of $n checks passed"
[ "$fail" -eq 0 ]
