#!/bin/bash
# OpenBLAS's kernel sets on ResNet-50 against oneDNN's fastest float32
# variant: per round, one bench with OPENBLAS_CORETYPE unset (OpenBLAS's own
# detection, or the SkylakeX the deltakern command sets on an AVX-512 CPU
# OpenBLAS does not know) and one with openblas:core=Haswell (its AVX2
# kernels), each interleaving onednn:opt=3 with openblas:opt=2 and openblas.
# Compare ratios within one bench only (one process, interleaved).
# usage: bench/openblas_core.sh DELTAKERN MODEL_DIR ROUNDS OUTDIR
set -u
DK=$1 MODELS=$2 ROUNDS=$3 OUT=$4
mkdir -p "$OUT"
for ((r = 1; r <= ROUNDS; r++)); do
    env -u OPENBLAS_CORETYPE "$DK" bench "$MODELS/resnet50.onnx" -v onednn:opt=3 -v openblas:opt=2 -v openblas \
        --overhead -n 20 --seed 1 -o "$OUT/auto.$r.json" --force | grep -E "reps|host"
    env -u OPENBLAS_CORETYPE "$DK" bench "$MODELS/resnet50.onnx" -v onednn:opt=3 -v openblas:opt=2,core=Haswell \
        -v openblas:core=Haswell --overhead -n 20 --seed 1 -o "$OUT/haswell.$r.json" --force | grep -E "reps|host"
done
