#!/bin/bash
# Time `deltakern merge` on the shard results of N inputs: the first N MNIST
# test digits (the build's tensors) diffed as 2 shards with four variants
# against ref, then merged REPS times; the merged files are checked against a
# single run's (summary.json apart from its timing block).
# usage: bench/merge_time.sh DELTAKERN MNIST_DIR N REPS
#   MNIST_DIR: the build's mnist folder (mnist.onnx, digits/*.npy)
set -u
DK=$(realpath "$1") MNIST=$(realpath "$2") N=$3 REPS=$4
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/in"
ls "$MNIST/digits" | head -n "$N" | while read -r f; do cp "$MNIST/digits/$f" "$WORK/in/"; done
[ "$(ls "$WORK/in" | wc -l)" -eq "$N" ] || { echo "fewer than $N digits in $MNIST/digits"; exit 1; }
ARGS=("$MNIST/mnist.onnx" -i "$WORK/in" -v openblas -v onednn -v onednn:opt=3 -v onednn:fpmath=bf16 -q)
# one thread per process: the shards and the single run then round alike
export OMP_NUM_THREADS=1
for k in 0 1; do "$DK" diff "${ARGS[@]}" -o "$WORK/s$k" --shard "$k/2" > /dev/null & done
"$DK" diff "${ARGS[@]}" -o "$WORK/single" > /dev/null
wait
echo "shard state files: $(du -ch "$WORK"/s?/state.jsonl | tail -1 | cut -f1), $N inputs, 4 variants"
for ((r = 1; r <= REPS; r++)); do
    /usr/bin/time -f "merge: %e s wall, %M KB max RSS" "$DK" merge "$WORK/s0" "$WORK/s1" -o "$WORK/merged" --force > /dev/null
done
for f in layers.csv flips.csv summary.csv; do
    cmp -s "$WORK/single/$f" "$WORK/merged/$f" || { echo "$f differs from the single run's"; exit 1; }
done
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("timing"); print(json.dumps(d, sort_keys=True))' "$1"; }
[ "$(strip "$WORK/single/summary.json")" = "$(strip "$WORK/merged/summary.json")" ] || { echo "summary.json differs"; exit 1; }
echo "merged files equal the single run's (summary.json apart from timing)"
