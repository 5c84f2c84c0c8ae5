#!/bin/bash
# What opt=3's choices cost when they are made beside a busy process
# (kernels/onednn/onednn_choose.c remembers a choice for good). Per model:
#   the choices made on a quiet host by NEW, and beside one busy shell loop by
#   OLD and by NEW (each into its own choices file, DK_ONEDNN_CHOICES), then
#   every set timed on the quiet host by NEW, interleaved round by round
#   (`bench --overhead`, uninstrumented median, REPS repetitions).
# Prints per model the choices that differ from the quiet set and the median
# over the rounds of time(busy-made set) / time(quiet-made set).
# usage: bench/choices_busy.sh NEW_BUILD OLD_BUILD [MODELS] [ROUNDS] [MODEL...]
#   env: REPS (20)
set -euo pipefail
cd "$(dirname "$0")/.."
NEW=$1/deltakern; OLD=$2/deltakern; MODELS=${3:-$1/models}; ROUNDS=${4:-3}; shift $(( $# < 4 ? $# : 4 ))
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(resnet50 googlenet squeezenet1_1)
REPS=${REPS:-20}
OUT=$(mktemp -d); busy=
cleanup() { [ -n "$busy" ] && kill "$busy" 2>/dev/null; rm -rf "$OUT"; }
trap cleanup EXIT
plan() { # DELTAKERN FILE MODEL
    env -u OPENBLAS_CORETYPE DK_ONEDNN_CHOICES="$2" "$1" run "$MODELS/$3.onnx" -i "$MODELS/$3.input.npy" \
        -b onednn:opt=3 > /dev/null
}
for m in "${names[@]}"; do
    plan "$NEW" "$OUT/quiet_$m.json" "$m"
    sh -c 'while :; do :; done' & busy=$!
    sleep 0.3
    plan "$OLD" "$OUT/old_$m.json" "$m"
    plan "$NEW" "$OUT/new_$m.json" "$m"
    kill "$busy"; wait "$busy" 2>/dev/null || true; busy=
done
for r in $(seq 1 "$ROUNDS"); do
    for m in "${names[@]}"; do
        for set in quiet old new; do
            rm -f "$OUT/run.json"
            t=$(env -u OPENBLAS_CORETYPE DK_ONEDNN_CHOICES="$OUT/${set}_$m.json" "$NEW" bench "$MODELS/$m.onnx" \
                -v onednn:opt=3 -n "$REPS" --warmup 3 --overhead -o "$OUT/run.json" |
                grep -o 'uninstrumented *[0-9.]* ms' | awk '{print $2}')
            echo "$r $m $set $t" >> "$OUT/times.txt"
        done
    done
done
/usr/bin/python3 - "$OUT" "${names[@]}" <<'PY'
import collections, json, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
t = collections.defaultdict(dict)
for line in open(f"{out}/times.txt"):
    r, m, s, ms = line.split()
    t[(m, r)][s] = float(ms)
def choices(path):
    return {k: v for tab in json.load(open(path))["tables"] for k, v in tab["choices"].items()}
print("| model | quiet-made ms | made beside a busy loop, before: differ / time | after: differ / time |")
print("|---|---|---|---|")
for m in names:
    rounds = [v for (mm, _), v in t.items() if mm == m]
    q = choices(f"{out}/quiet_{m}.json")
    cells = []
    for s in ("old", "new"):
        c = choices(f"{out}/{s}_{m}.json")
        differ = sum(1 for k in q if c.get(k) != q[k])
        cells.append(f"{differ} of {len(q)} / {statistics.median(x[s] / x['quiet'] for x in rounds):.3f}")
    print(f"| {m} | {statistics.median(x['quiet'] for x in rounds):.3f} | {cells[0]} | {cells[1]} |")
PY
