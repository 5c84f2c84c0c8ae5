#!/bin/bash
# Batch-1 latency of the three exported models on deltakern variants and on
# ONNX Runtime (npm onnxruntime-node, CPU), interleaved round by round on the
# same model files, inputs and thread count.
#   deltakern: sum of per-node execution times of each run (load, planning and
#              observation excluded); ORT: wall time of session.run().
# Each (model, engine) does 1 warm-up + REPS timed runs per round; medians over
# all rounds; ratios against ONNX Runtime; GFLOP/s from `deltakern info`.
# usage: bench/cpu_backends.sh [BUILD] [MODELS] [REPS] [ROUNDS] [VARIANT...]
# A VARIANT may start with environment assignments separated by spaces, e.g.
# "OPENBLAS_CORETYPE=SkylakeX openblas:opt=2" (settings fixed at library load).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; MODELS=${2:-$BUILD/models}; REPS=${3:-10}; ROUNDS=${4:-3}; shift $(( $# < 4 ? $# : 4 ))
VARIANTS=("$@"); [ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(ref openblas onednn onednn:layout=plain)
THREADS=${THREADS:-2}
ORT_DIR=bench/ort-runtime
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
    mkdir -p "$ORT_DIR" && (cd "$ORT_DIR" && echo '{"name": "deltakern-ort-bench", "private": true, "type": "module"}' > package.json &&
        ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0 > /dev/null)
fi
cp bench/ort_run.mjs "$ORT_DIR/"
names=(mobilenet_v2 resnet50 inception_v3)
for m in "${names[@]}"; do
    [ -f "$MODELS/$m.onnx" ] || /usr/bin/python3 tools/export_models.py --model "$m" --out "$MODELS" > /dev/null
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
    for m in "${names[@]}"; do
        for v in "${VARIANTS[@]}"; do
            args=(); for i in $(seq $((REPS + 1))); do args+=(-i "$MODELS/$m.input.npy"); done
            envs=(); spec=$v
            while [[ $spec == *" "* ]]; do envs+=("${spec%% *}"); spec=${spec#* }; done
            case $spec in *:*) full="$spec,threads=$THREADS" ;; *) full="$spec:threads=$THREADS" ;; esac
            env "${envs[@]}" "$BUILD/deltakern" run "$MODELS/$m.onnx" "${args[@]}" -k 1 -b "$full" 2>/dev/null \
                | sed -n 's/.*, \([0-9.]*\) ms).*/\1/p' | tail -n +2 >> "$tmp/$m@$v" || true
        done
        node "$ORT_DIR/ort_run.mjs" "$MODELS/$m.onnx" "$MODELS/$m.input.npy" "$REPS" "$THREADS" \
            | sed -n 's/^ort //p' >> "$tmp/$m@onnxruntime"
    done
done
median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
printf "| %-13s | %-34s | %9s | %8s | %10s |\n" model engine "median ms" "GFLOP/s" "vs ORT"
printf "|---|---|---|---|---|\n"
for m in "${names[@]}"; do
    mflops=$("$BUILD/deltakern" info "$MODELS/$m.onnx" | sed -n 's/.* \([0-9.]*\) MFLOPs.*/\1/p' | tail -1)
    ort=$(median "$tmp/$m@onnxruntime")
    for v in onnxruntime "${VARIANTS[@]}"; do
        med=$(median "$tmp/$m@$v")
        awk -v m="$m" -v v="$v" -v med="$med" -v ort="$ort" -v mf="$mflops" 'BEGIN {
            if (med == "nan") { printf "| %-13s | %-34s | %9s | %8s | %10s |\n", m, v, "failed", "", ""; exit }
            printf "| %-13s | %-34s | %9.2f | %8.1f | %9.2fx |\n", m, v, med, mf / med, med / ort }'
    done
done
echo "threads=$THREADS, $REPS runs x $ROUNDS rounds; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); onnxruntime-node 1.30.0"
