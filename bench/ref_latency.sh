#!/bin/bash
# Reference backend batch-1 latency of the three exported models.
# Each model runs REPS+1 times on its reference input in one process (the first
# run is a warm-up and is dropped); the time is the sum of the per-node
# execution times the session reports (model load and planning excluded).
# Models are interleaved round by round so host drift falls on all alike.
# usage: bench/ref_latency.sh [BUILD_DIR] [MODEL_DIR] [REPS] [ROUNDS]
set -euo pipefail
BUILD=${1:-build}; MODELS=${2:-$BUILD/models}; REPS=${3:-10}; ROUNDS=${4:-3}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
names=(mobilenet_v2 resnet50 inception_v3)
for m in "${names[@]}"; do
    [ -f "$MODELS/$m.onnx" ] || /usr/bin/python3 tools/export_models.py --model "$m" --out "$MODELS" > /dev/null
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
    for m in "${names[@]}"; do
        args=(); for i in $(seq $((REPS + 1))); do args+=(-i "$MODELS/$m.input.npy"); done
        "$BUILD/deltakern" run "$MODELS/$m.onnx" "${args[@]}" -k 1 \
            | sed -n 's/.*(ref, \([0-9.]*\) ms).*/\1/p' | tail -n +2 >> "$tmp/$m"
    done
done
printf "%-14s %6s %10s %10s %10s %10s\n" model runs "median ms" "p10 ms" "p90 ms" "GFLOP/s"
for m in "${names[@]}"; do
    gflop=$("$BUILD/deltakern" info "$MODELS/$m.onnx" | sed -n 's/.* \([0-9.]*\) MFLOPs.*/\1/p' | tail -1)
    sort -g "$tmp/$m" | awk -v m="$m" -v mf="$gflop" '{v[NR]=$1} END {
        med = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2;
        p10 = v[int(0.1*(NR-1))+1]; p90 = v[int(0.9*(NR-1))+1];
        printf "%-14s %6d %10.1f %10.1f %10.1f %10.1f\n", m, NR, med, p10, p90, mf / med }'
done
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
