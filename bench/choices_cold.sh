#!/bin/bash
# What timing opt=3's candidates with evicted caches buys (each timed run
# after its output, weights and workspace left the caches, as inside a
# network; kernels/onednn/onednn_choose.c). Per model: the choices made on a
# quiet host by OLD (hot caches) and by NEW (evicted), each into its own
# choices file (DK_ONEDNN_CHOICES); then each set timed by the build that made
# it (the choices' keys name the timing method, so NEW would not take OLD's
# choices) and ONNX Runtime (bench/ort_run.mjs) interleaved round by round
# (`bench --overhead`, uninstrumented median, REPS repetitions).
# Prints per model the choices that differ, the median over the rounds of
# time(new set) / time(old set) and of each set's time / ORT's.
# usage: bench/choices_cold.sh NEW_BUILD OLD_BUILD [MODELS] [ROUNDS] [MODEL...]
#   env: REPS (20), THREADS (2), DK_ORT_DIR (onnxruntime-node, default bench/ort-runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
NEW=$1/deltakern; OLD=$2/deltakern; MODELS=${3:-$1/models}; ROUNDS=${4:-3}; shift $(( $# < 4 ? $# : 4 ))
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(mobilenet_v2 resnet50 inception_v3 googlenet squeezenet1_1)
REPS=${REPS:-20}; THREADS=${THREADS:-2}
ORT_DIR=${DK_ORT_DIR:-bench/ort-runtime}
[ -d "$ORT_DIR/node_modules/onnxruntime-node" ] || { echo "no onnxruntime-node in $ORT_DIR: run bench/vs_ort.sh once" >&2; exit 2; }
cp bench/ort_run.mjs "$ORT_DIR/"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
plan() { # DELTAKERN FILE MODEL
    env -u OPENBLAS_CORETYPE DK_ONEDNN_CHOICES="$2" "$1" run "$MODELS/$3.onnx" -i "$MODELS/$3.input.npy" \
        -b onednn:opt=3,threads="$THREADS" > /dev/null
}
for m in "${names[@]}"; do
    plan "$OLD" "$OUT/old_$m.json" "$m"
    plan "$NEW" "$OUT/new_$m.json" "$m"
done
for r in $(seq 1 "$ROUNDS"); do
    for m in "${names[@]}"; do
        t=$(node "$ORT_DIR/ort_run.mjs" "$MODELS/$m.onnx" "$MODELS/$m.input.npy" "$REPS" "$THREADS" 5 |
            sed -n 's/^ort //p' | sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
        echo "$r $m ort $t" >> "$OUT/times.txt"
        for set in old new; do
            rm -f "$OUT/run.json"
            [ $set = old ] && dk=$OLD || dk=$NEW
            t=$(env -u OPENBLAS_CORETYPE DK_ONEDNN_CHOICES="$OUT/${set}_$m.json" "$dk" bench "$MODELS/$m.onnx" \
                -v onednn:opt=3,threads="$THREADS" -i "$MODELS/$m.input.npy" -n "$REPS" --warmup 2 --overhead \
                -o "$OUT/run.json" | grep -o 'uninstrumented *[0-9.]* ms' | awk '{print $2}')
            echo "$r $m $set $t" >> "$OUT/times.txt"
        done
    done
done
/usr/bin/python3 - "$OUT" "${names[@]}" <<'PY'
import collections, json, re, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
t = collections.defaultdict(dict)
for line in open(f"{out}/times.txt"):
    r, m, s, ms = line.split()
    t[(m, r)][s] = float(ms)
def choices(path):  # the key without the timing method's suffix
    return {re.sub(r", hot and cold\]$", "]", k): (v if isinstance(v, str) else v.get("choice"))
            for tab in json.load(open(path))["tables"] for k, v in tab["choices"].items()}
print("| model | ORT ms | choices differing | new / old | old x ORT | new x ORT |")
print("|---|---|---|---|---|---|")
med = statistics.median
for m in names:
    rounds = [v for (mm, _), v in t.items() if mm == m]
    old, new = choices(f"{out}/old_{m}.json"), choices(f"{out}/new_{m}.json")
    differ = sum(1 for k in new if old.get(k) != new[k])
    print(f"| {m} | {med(x['ort'] for x in rounds):.2f} | {differ} of {len(new)} | "
          f"{med(x['new'] / x['old'] for x in rounds):.3f} | {med(x['old'] / x['ort'] for x in rounds):.2f} | "
          f"{med(x['new'] / x['ort'] for x in rounds):.2f} |")
PY
