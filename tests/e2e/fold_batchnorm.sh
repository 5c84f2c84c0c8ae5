#!/bin/bash
# fold_batchnorm against PyTorch's exporter: MODEL_bn.onnx (BatchNormalization
# kept) at opt=1 must have the same layer totals as MODEL.onnx (folded by the
# exporter) and still match PyTorch's logits.
# usage: fold_batchnorm.sh DELTAKERN SOURCE_DIR MODEL_DIR MODEL
set -u
DK=$1; SRC=$2; DIR=$3; MODEL=$4
PY=/usr/bin/python3
if ! $PY -c "import torch, torchvision, onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks torch, torchvision, onnx or numpy"; exit 77
fi
mkdir -p "$DIR"
for flag in "" --keep-bn; do
    f="$DIR/$MODEL${flag:+_bn}.onnx"
    [ -f "$f" ] || $PY "$SRC/tools/export_models.py" --model "$MODEL" --out "$DIR" --seed 0 $flag || exit 1
done
folded=$("$DK" info "$DIR/${MODEL}_bn.onnx" --opt 1 | tail -n 1)
exported=$("$DK" info "$DIR/$MODEL.onnx" | tail -n 1)
echo "opt=1:    $folded"; echo "exporter: $exported"
# MB moved differ: folding leaves the same tensors, so compare nodes, parameters and MFLOPs.
[ "${folded%%MFLOPs*}" = "${exported%%MFLOPs*}" ] || { echo "FAIL: totals differ"; exit 1; }
OUT="$DIR/${MODEL}_bn.opt1.npy"
"$DK" run "$DIR/${MODEL}_bn.onnx" -i "$DIR/$MODEL.input.npy" -b ref:opt=1 --save-output "$OUT" --force -k 1 || exit 1
$PY "$SRC/tests/tools/compare_logits.py" "$OUT" "$DIR/$MODEL.logits.npy"
