#!/bin/bash
# End to end: a torchvision network exported with seeded weights runs on the
# reference backend through the CLI; its logits must match PyTorch's
# (top-5 identical, relative L2 error <= 1e-4; see tests/tools/compare_logits.py),
# and `deltakern info` must agree with onnx's shape inference (check_info.py).
# usage: model_e2e.sh DELTAKERN SOURCE_DIR MODEL_DIR MODEL [--keep-bn]
set -u
DK=$1; SRC=$2; DIR=$3; MODEL=$4; BN=${5:-}
PY=/usr/bin/python3
if ! $PY -c "import torch, torchvision, onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks torch, torchvision, onnx or numpy (Debian python3-torch python3-torchvision python3-onnx)"
    exit 77
fi
mkdir -p "$DIR"
FILE="$DIR/$MODEL.onnx"; [ -n "$BN" ] && FILE="$DIR/${MODEL}_bn.onnx"
# Exported once per build directory; the export is deterministic for its seed.
if [ ! -f "$FILE" ] || [ ! -f "$DIR/$MODEL.logits.npy" ]; then
    $PY "$SRC/tools/export_models.py" --model "$MODEL" --out "$DIR" --seed 0 $BN || exit 1
fi
"$DK" info "$FILE" | tail -n 1
# The layer table agrees with an independent reading of the file by onnx.
$PY "$SRC/tests/tools/check_info.py" "$DK" "$FILE" || exit 1
OUT="$DIR/$MODEL${BN:+_bn}.deltakern.npy"
start=$(date +%s%N)
"$DK" run "$FILE" -i "$DIR/$MODEL.input.npy" --save-output "$OUT" --force || exit 1
echo "run took $(( ($(date +%s%N) - start) / 1000000 )) ms (load, plan and run; OMP_NUM_THREADS=${OMP_NUM_THREADS:-all})"
$PY "$SRC/tests/tools/compare_logits.py" "$OUT" "$DIR/$MODEL.logits.npy"
