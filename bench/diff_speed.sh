#!/bin/bash
# How long `deltakern diff` takes, NEW against OLD, interleaved round by round
# (this host drifts; the order of the two builds alternates per round). Cases:
#   main job  MobileNetV2, the 5 bundled photos, openblas onednn onednn:opt=3
#             onednn:fpmath=bf16 (the README's run command)
#   clean     ResNet-50, one photo, the float32 variants of e2e.diff.clean
#   opt3      InceptionV3, one photo, onednn:opt=3
# Each run writes a fresh OUTDIR; wall time of the whole process (loading,
# planning and writing included: what a user waits for). After the rounds the
# two builds' CSV files (summary, layers, flips) of each case must be the same
# bytes, or the script says which differ and exits 1.
# Prints per case the median time of each build and the median over the rounds
# of time(new) / time(old).
# usage: bench/diff_speed.sh NEW_BUILD OLD_BUILD [MODELS] [ROUNDS]
#   env: THREADS (OMP_NUM_THREADS, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
NEW=$1/deltakern; OLD=$2/deltakern; MODELS=${3:-$1/models}; ROUNDS=${4:-3}
export OMP_NUM_THREADS=${THREADS:-2}
for m in mobilenet_v2 resnet50 inception_v3; do
    [ -f "$MODELS/$m.onnx" ] || /usr/bin/python3 tools/export_models.py --model "$m" --out "$MODELS" --seed 0 > /dev/null
done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cases=(main clean opt3)
args() { # CASE: the diff's arguments but -o
    case $1 in
    main) echo "$MODELS/mobilenet_v2.onnx -i data/images -v openblas -v onednn -v onednn:opt=3 -v onednn:fpmath=bf16" ;;
    clean) echo "$MODELS/resnet50.onnx -i data/images/astronaut.png -v onednn -v onednn:layout=plain -v onednn:opt=2 -v openblas -v openblas:conv=im2col" ;;
    opt3) echo "$MODELS/inception_v3.onnx -i data/images/coffee.png -v onednn:opt=3" ;;
    esac
}
run() { # BUILD_NAME CASE ROUND
    local dk=$OLD
    [ "$1" = new ] && dk=$NEW
    local t0 t1
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    env -u OPENBLAS_CORETYPE "$dk" diff $(args "$2") -q -o "$OUT/$1_$2" --force > /dev/null
    t1=$(date +%s.%N)
    awk -v r="$3" -v c="$2" -v b="$1" -v a="$t0" -v z="$t1" 'BEGIN {print r, c, b, z - a}' >> "$OUT/times.txt"
}
for r in $(seq 1 "$ROUNDS"); do
    for c in "${cases[@]}"; do
        if [ $((r % 2)) = 1 ]; then run old "$c" "$r"; run new "$c" "$r"; else run new "$c" "$r"; run old "$c" "$r"; fi
    done
done
bad=0
for c in "${cases[@]}"; do
    for f in summary.csv layers.csv flips.csv; do
        cmp -s "$OUT/old_$c/$f" "$OUT/new_$c/$f" || { echo "case $c: $f differs between the builds"; bad=1; }
    done
done
/usr/bin/python3 - "$OUT" "${cases[@]}" <<'PY'
import collections, statistics, sys
out, cases = sys.argv[1], sys.argv[2:]
t = collections.defaultdict(dict)
for line in open(f"{out}/times.txt"):
    r, c, b, s = line.split()
    t[(c, r)][b] = float(s)
med = statistics.median
print("| case | old s | new s | new / old |")
print("|---|---|---|---|")
for c in cases:
    rounds = [v for (cc, _), v in t.items() if cc == c]
    print(f"| {c} | {med(v['old'] for v in rounds):.2f} | {med(v['new'] for v in rounds):.2f} "
          f"| {med(v['new'] / v['old'] for v in rounds):.3f} |")
PY
exit $bad
