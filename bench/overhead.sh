#!/bin/bash
# Instrumentation overhead of deltakern bench: the sum of the per-node medians
# (each node timed alone, counters read around it) against the median of
# uninstrumented whole runs (dk_session_run, no hooks, no per-node records of
# bench) of the same variant, in the same process, interleaved repetition by
# repetition (bench --overhead), for the three models. The goal is within 3%.
#
# Run it on a quiet host: the uninstrumented wall time takes every
# interruption of the process, the node medians leave interrupted
# repetitions out, so load makes the overhead look negative.
#
# usage: bench/overhead.sh [BUILD_DIR] [MODEL_DIR] [REPS] [VARIANT] [COUNTERS]
#   e.g. bench/overhead.sh build build/models 30 onednn perf::TASK-CLOCK
# COUNTERS "" (the default) times without counters; with a list, the
# instrumented side also reads those counters around every node.
set -euo pipefail
BUILD=${1:-build}; MODELS=${2:-$BUILD/models}; REPS=${3:-30}; VARIANT=${4:-onednn}; COUNTERS=${5:-}
PY=/usr/bin/python3
names=(mobilenet_v2 resnet50 inception_v3)
for m in "${names[@]}"; do
    [ -f "$MODELS/$m.onnx" ] || $PY tools/export_models.py --model "$m" --out "$MODELS" > /dev/null
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
extra=()
[ -n "$COUNTERS" ] && extra=(--counters "$COUNTERS")
echo "variant $VARIANT, $REPS repetitions after 3 warm-ups, counters: ${COUNTERS:-none}; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-14s %6s %16s %16s %16s %10s\n" model reps "node sum ms" "uninstr. ms" "instr. wall ms" overhead
for m in "${names[@]}"; do
    "$BUILD/deltakern" bench "$MODELS/$m.onnx" -v "$VARIANT" -o "$tmp/$m.json" --reps "$REPS" --warmup 3 \
        --seed 1 --overhead "${extra[@]}" > "$tmp/$m.txt"
    $PY - "$tmp/$m.json" "$m" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))["variants"][0]
s, u, w = v["node_median_sum_s"], v["uninstrumented"]["stats"], v["end_to_end"]["stats"]
print("%-14s %6d %16.3f %9.3f [CV %2.0f%%] %9.3f [CV %2.0f%%] %+9.2f%%" % (sys.argv[2], u["n"], s * 1e3,
      u["median"] * 1e3, u["cv"] * 100, w["median"] * 1e3, w["cv"] * 100, (s / u["median"] - 1) * 100))
EOF
done
