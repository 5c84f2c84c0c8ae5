#!/bin/bash
# deltakern against ONNX Runtime on five CNNs, batch 1, interleaved round by
# round (host drift falls on both alike):
#   ONNX Runtime: bench/ort_run.mjs (npm onnxruntime-node, CPU provider,
#     intra-op THREADS, optimisation "all"), 5 warm-ups then REPS timed
#     session.run calls; its median.
#   deltakern: one `bench --overhead` per variant, each in its own process as
#     ONNX Runtime is (threads=THREADS, 2 warm-ups, REPS repetitions); its
#     uninstrumented whole-run median (dk_session_run, no per-node timing).
#     Variants interleaved inside one process evict each other's weights and
#     activations from the caches between repetitions: MobileNetV2's
#     onednn:opt=3 took 10-18% longer beside openblas or bf16 than alone.
# Per round and model: ratio = deltakern median / ORT median. The table gives
# the median over the rounds of those ratios ("fastest fp32": per round the
# smallest ratio of the float32 variants) and the median ORT time.
# OPENBLAS_CORETYPE is unset for deltakern, so that OpenBLAS runs the kernel
# set deltakern picks for this CPU (see docs/bench.md, OpenBLAS's kernel sets).
# usage: bench/vs_ort.sh [BUILD] [MODELS] [ROUNDS] [OUTDIR] [MODEL...]
#   OUTDIR keeps every bench JSON and ORT sample (default: a temporary folder)
#   env: THREADS (2), REPS (20), VARIANTS (space-separated, the fp32 ones first,
#   bf16 last; default below), DK_ORT_DIR (onnxruntime-node, default bench/ort-runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; MODELS=${2:-$BUILD/models}; ROUNDS=${3:-3}; OUT=${4:-}; shift $(( $# < 4 ? $# : 4 ))
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(mobilenet_v2 resnet50 inception_v3 googlenet squeezenet1_1)
THREADS=${THREADS:-2}; REPS=${REPS:-20}
read -r -a variants <<< "${VARIANTS:-onednn:opt=3 onednn:opt=2 openblas:opt=3 onednn:opt=3,fpmath=bf16}"
ORT_DIR=${DK_ORT_DIR:-bench/ort-runtime}
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
    mkdir -p "$ORT_DIR" && (cd "$ORT_DIR" && echo '{"name": "deltakern-ort-bench", "private": true, "type": "module"}' > package.json &&
        ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0 > /dev/null)
fi
cp bench/ort_run.mjs "$ORT_DIR/"
for m in "${names[@]}"; do
    [ -f "$MODELS/$m.onnx" ] || /usr/bin/python3 tools/export_models.py --model "$m" --out "$MODELS" --seed 0 > /dev/null
done
if [ -z "$OUT" ]; then OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT; fi
mkdir -p "$OUT"
vargs=(); for v in "${variants[@]}"; do
    case $v in *:*) vargs+=("$v,threads=$THREADS") ;; *) vargs+=("$v:threads=$THREADS") ;; esac
done
for r in $(seq "$ROUNDS"); do
    for m in "${names[@]}"; do
        node "$ORT_DIR/ort_run.mjs" "$MODELS/$m.onnx" "$MODELS/$m.input.npy" "$REPS" "$THREADS" 5 \
            | sed -n 's/^ort //p' > "$OUT/$m.r$r.ort.txt"
        for i in "${!vargs[@]}"; do
            env -u OPENBLAS_CORETYPE "$BUILD/deltakern" bench "$MODELS/$m.onnx" -v "${vargs[$i]}" \
                -i "$MODELS/$m.input.npy" --reps "$REPS" --warmup 2 --overhead --force \
                -o "$OUT/$m.r$r.v$i.json" > /dev/null 2>&1 ||
                { echo "bench failed: $m ${vargs[$i]} round $r" >&2; exit 1; }
        done
    done
done
/usr/bin/python3 - "$OUT" "$ROUNDS" "${#variants[@]}" "${names[@]}" <<'PY'
import json, statistics, sys
out, rounds, nvar, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
med = statistics.median
rows, variants, disturbed = [], None, []
for m in names:
    ort_ms, ratios, fastest, blas = [], {}, [], []
    for r in range(1, rounds + 1):
        ort = med([float(x) for x in open(f"{out}/{m}.r{r}.ort.txt").read().split()])
        runs = [json.load(open(f"{out}/{m}.r{r}.v{i}.json")) for i in range(nvar)]
        if any(run.get("host_load", {}).get("disturbed") for run in runs):
            disturbed.append(f"{m} round {r}")
        ort_ms.append(ort)
        variants = [run["variants"][0]["name"] for run in runs]
        per = {run["variants"][0]["name"]: run["variants"][0]["uninstrumented"]["stats"]["median"] * 1e3 / ort
               for run in runs}
        for k, x in per.items():
            ratios.setdefault(k, []).append(x)
        fastest.append(min(x for k, x in per.items() if "bf16" not in k))
        # the fastest OpenBLAS variant over the fastest float32 oneDNN one
        ob = [x for k, x in per.items() if k.startswith("openblas")]
        dnn = [x for k, x in per.items() if k.startswith("onednn") and "bf16" not in k]
        if ob and dnn:
            blas.append(min(ob) / min(dnn))
    rows.append((m, med(ort_ms), {k: med(x) for k, x in ratios.items()}, med(fastest),
                 med(blas) if blas else None))
print("| model | ORT ms | " + " | ".join(f"{v} (x ORT)" for v in variants) +
      " | fastest fp32 (x ORT) | OpenBLAS / oneDNN fp32 |")
print("|---|---|" + "---|" * (len(variants) + 2))
for m, ort, ratios, fastest, blas in rows:
    print(f"| {m} | {ort:.2f} | " + " | ".join(f"{ratios[v]:.2f}" for v in variants) +
          f" | {fastest:.2f} | " + (f"{blas:.2f}" if blas is not None else "-") + " |")
print(f"\n{rounds} rounds; medians of per-round ratios; host load: "
      + ("disturbed in " + ", ".join(disturbed) if disturbed else "no round disturbed"))
PY
