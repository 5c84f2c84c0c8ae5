#!/bin/bash
# OpenMP wait policy on a quiet host and beside one busy process: ResNet-50
# on one variant with OMP_WAIT_POLICY unset (libgomp's default: spin a while,
# then sleep), active and passive, rounds interleaved; the busy process is a
# shell loop started for the loaded half of each round and killed after it.
# Prints each bench's end-to-end median and CV and its host-load verdict.
# usage: bench/wait_policy.sh DELTAKERN MODEL_DIR ROUNDS OUTDIR [VARIANT]
set -u
DK=$1 MODELS=$2 ROUNDS=$3 OUT=$4 V=${5:-onednn:opt=3}
mkdir -p "$OUT"
busy=
trap '[ -n "$busy" ] && kill $busy 2>/dev/null' EXIT
run() {  # LABEL POLICY
    local f=$OUT/$1.json
    if [ "$2" = unset ]; then env -u OMP_WAIT_POLICY "$DK" bench "$MODELS/resnet50.onnx" -v "$V" -n 20 --seed 1 -o "$f" --force > "$OUT/$1.log" 2>&1
    else env OMP_WAIT_POLICY="$2" "$DK" bench "$MODELS/resnet50.onnx" -v "$V" -n 20 --seed 1 -o "$f" --force > "$OUT/$1.log" 2>&1; fi
    /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); e = d["variants"][0]["end_to_end"]["stats"]
h = d.get("host_load", {})
print("%-22s median %8.2f ms  CV %5.1f%%  host %s" % (sys.argv[2], e["median"] * 1e3, e["cv"] * 100, h.get("verdict")))' "$f" "$1"
}
for ((r = 1; r <= ROUNDS; r++)); do
    for p in unset active passive; do run "quiet.$p.$r" $p; done
    sh -c 'while :; do :; done' & busy=$!
    for p in unset active passive; do run "loaded.$p.$r" $p; done
    kill $busy; wait $busy 2>/dev/null; busy=
done
