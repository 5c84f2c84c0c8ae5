#!/bin/bash
# Transparent huge pages for deltakern's memory: a command's start (a ResNet-50
# session is mostly page faults on a virtual machine) and the timed runs, in
# three settings, interleaved round by round (this host drifts 20-40% between
# minutes):
#   on     the command as it is: where the kernel's mode is madvise it restarts
#          with glibc.malloc.hugetlb=1, and advises buffers >= 2 MiB itself
#   tunoff GLIBC_TUNABLES=glibc.malloc.hugetlb=0 (a user's own value, kept):
#          only deltakern's own advice on buffers >= 2 MiB
#   old    OLD_BUILD's deltakern, which advised nothing (optional)
# Per round, model and setting: the wall time and minor page faults of
# `bench --reps 1 --warmup 0` (start: load, 3 sessions, plans, one run), then
# the uninstrumented whole-run median of `bench --reps REPS --overhead`. The
# table gives medians over the rounds and the ratio of each setting to "old"
# (or to "tunoff" without OLD_BUILD).
# usage: bench/huge_pages.sh [BUILD] [MODELS] [ROUNDS] [OLD_BUILD] [VARIANT] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; MODELS=${2:-$BUILD/models}; ROUNDS=${3:-3}; OLD=${4:-}; VARIANT=${5:-onednn:opt=3}
REPS=${6:-20}
names=(mobilenet_v2 resnet50 inception_v3)
for m in "${names[@]}"; do
    [ -f "$MODELS/$m.onnx" ] || /usr/bin/python3 tools/export_models.py --model "$m" --out "$MODELS" --seed 0 > /dev/null
done
settings=(on tunoff); [ -n "$OLD" ] && settings+=(old)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "variant $VARIANT; THP mode: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
    for m in "${names[@]}"; do
        for s in "${settings[@]}"; do
            dk=$BUILD/deltakern; envs=(env -u GLIBC_TUNABLES -u DK_MALLOC_HUGETLB_BY -u OPENBLAS_CORETYPE)
            [ "$s" = old ] && dk=$OLD/deltakern
            [ "$s" = tunoff ] && envs+=(GLIBC_TUNABLES=glibc.malloc.hugetlb=0)
            M=$MODELS/$m
            "${envs[@]}" /usr/bin/time -f "%e %R" -o "$tmp/time" "$dk" bench "$M.onnx" -i "$M.input.npy" -v "$VARIANT" \
                -o "$tmp/start.json" --reps 1 --warmup 0 --force > /dev/null 2>&1
            read -r wall faults < "$tmp/time"
            "${envs[@]}" "$dk" bench "$M.onnx" -i "$M.input.npy" -v "$VARIANT" -o "$tmp/run.json" --reps "$REPS" \
                --warmup 2 --overhead --force > /dev/null 2>&1
            run=$(/usr/bin/python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))["variants"][0]
print(v["uninstrumented"]["stats"]["median"] * 1e3)' "$tmp/run.json")
            echo "$m $s $wall $faults $run" >> "$tmp/rows"
        done
    done
done
/usr/bin/python3 - "$tmp/rows" "$ROUNDS" "${settings[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
rounds, settings = sys.argv[2], sys.argv[3:]
base = "old" if "old" in settings else "tunoff"
med = statistics.median
print(f"{rounds} rounds; medians; ratios to '{base}'")
print("| model | setting | start s | minor faults | run ms | start / %s | run / %s |" % (base, base))
print("|---|---|---|---|---|---|---|")
for m in dict.fromkeys(r[0] for r in rows):
    col = {s: [r for r in rows if r[0] == m and r[1] == s] for s in settings}
    b = col[base]
    for s in settings:
        c = col[s]
        start = med(float(r[2]) for r in c); faults = med(int(r[3]) for r in c); run = med(float(r[4]) for r in c)
        rs = med(float(x[2]) / float(y[2]) for x, y in zip(c, b))
        rr = med(float(x[4]) / float(y[4]) for x, y in zip(c, b))
        print(f"| {m} | {s} | {start:.2f} | {faults} | {run:.3f} | {rs:.2f} | {rr:.3f} |")
PY
