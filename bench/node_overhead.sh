#!/bin/bash
# The session's own cost per node: a chain of N Relu nodes on a one-element
# tensor (tools/make_chain_model.py), whose kernels do next to nothing, run
# uninstrumented (bench --overhead: dk_session_run, no hooks) on each
# variant; the median whole run divided by N is the loop's cost per node
# (dispatch, handle binding, the backend's stream wait) plus a one-element
# Relu. The instrumented side (every node timed alone) is printed beside it.
# usage: bench/node_overhead.sh [BUILD] [N] [REPS] [VARIANT...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; N=${2:-500}; REPS=${3:-50}; shift $(( $# < 3 ? $# : 3 ))
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(ref onednn onednn:opt=3)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 tools/make_chain_model.py "$tmp/chain.onnx" "$N"
args=(); for v in "${variants[@]}"; do args+=(-v "$v"); done
"$BUILD/deltakern" bench "$tmp/chain.onnx" "${args[@]}" --seed 1 --reps "$REPS" --warmup 3 --overhead \
    -o "$tmp/run.json" > /dev/null
/usr/bin/python3 - "$tmp/run.json" "$N" <<'PY'
import json, sys
run, n = json.load(open(sys.argv[1])), int(sys.argv[2])
print(f"{n} Relu nodes on a [1,1] tensor; {run['host_load']['verdict']} host")
print(f"{'variant':36} {'uninstrumented µs/node':>24} {'node medians µs/node':>22}")
for v in run["variants"]:
    u = v["uninstrumented"]["stats"]["median"] * 1e6 / n
    s = v["node_median_sum_s"] * 1e6 / n
    print(f"{v['name']:36} {u:24.2f} {s:22.2f}")
PY
