#!/bin/bash
# End to end on one backend variant: a torchvision network exported with
# seeded weights (the same export step as model_e2e.sh, shared model files)
# runs through the CLI on VARIANT; its logits must match PyTorch's (top-5
# identical, relative L2 error <= 1e-4; see tests/tools/compare_logits.py).
# Skips (77) when python lacks torch/torchvision/onnx/numpy or the variant's
# backend is unavailable in this build.
# usage: model_e2e_variant.sh DELTAKERN SOURCE_DIR MODEL_DIR MODEL VARIANT [compare_logits.py flags]
set -u
DK=$1; SRC=$2; DIR=$3; MODEL=$4; VARIANT=$5; shift 5
PY=/usr/bin/python3
if ! $PY -c "import torch, torchvision, onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks torch, torchvision, onnx or numpy (Debian python3-torch python3-torchvision python3-onnx)"
    exit 77
fi
BACKEND=${VARIANT%%:*}
if ! "$DK" backends | grep -Eq "^$BACKEND +available"; then
    echo "SKIP: backend $BACKEND is not available in this build:"
    "$DK" backends | grep -A1 -E "^$BACKEND "
    exit 77
fi
mkdir -p "$DIR"
FILE="$DIR/$MODEL.onnx"
# Exported once per model directory (deterministic for its seed), as model_e2e.sh does.
if [ ! -f "$FILE" ] || [ ! -f "$DIR/$MODEL.logits.npy" ]; then
    $PY "$SRC/tools/export_models.py" --model "$MODEL" --out "$DIR" --seed 0 || exit 1
fi
# One output file per variant, so variants of one model never share it.
TAG=$(printf '%s' "$VARIANT" | tr -c 'A-Za-z0-9_.-' '_')
OUT="$DIR/$MODEL.$TAG.deltakern.npy"
start=$(date +%s%N)
"$DK" run "$FILE" -i "$DIR/$MODEL.input.npy" -b "$VARIANT" --save-output "$OUT" --force || exit 1
echo "run took $(( ($(date +%s%N) - start) / 1000000 )) ms (load, plan and run; variant $VARIANT)"
$PY "$SRC/tests/tools/compare_logits.py" "$OUT" "$DIR/$MODEL.logits.npy" "$@"
