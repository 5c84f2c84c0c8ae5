#!/bin/bash
# deltakern sweep on MobileNetV2's first two convolutions (a full one and a
# depthwise one) with oneDNN and OpenBLAS: a row per option combination,
# exactly one fastest and one most accurate mark per node, every fp32 row
# within tolerance (tests/tools/check_sweep.py); then bad input: unknown
# backend, unknown node, a node that is no convolution, an existing output.
# usage: sweep.sh DELTAKERN SOURCE_DIR MODEL_DIR WORKDIR
set -u
DK=$1; SRC=$2; DIR=$3; WORK=$4
PY=/usr/bin/python3
MODEL=$DIR/mobilenet_v2.onnx
if [ ! -f "$MODEL" ]; then
    if ! $PY -c "import torch, torchvision, onnx" 2>/dev/null; then
        echo "SKIP: $MODEL missing and /usr/bin/python3 cannot export it (torch, torchvision, onnx)"
        exit 77
    fi
    mkdir -p "$DIR"
    $PY "$SRC/tools/export_models.py" --model mobilenet_v2 --out "$DIR" --seed 0 || exit 1
fi
mkdir -p "$WORK"
fail=0
# the first two convolutions after opt=1, as `info` names them
mapfile -t NODES < <("$DK" info --opt 1 "$MODEL" | awk '$3 == "Conv" { print $2 }' | head -2)
if [ ${#NODES[@]} -ne 2 ]; then echo "FAIL: no convolutions listed by info"; exit 1; fi
SEED=${DK_TEST_SEED:-$RANDOM}
echo "nodes: ${NODES[*]}; seed $SEED"
ran=0
NODE_ARGS=(); for n in "${NODES[@]}"; do NODE_ARGS+=(--node "$n"); done

for backend in onednn openblas; do
    if ! "$DK" backends | awk -v b="$backend" '$1 == b && $2 == "available" { f = 1 } END { exit !f }'; then
        echo "skip $backend: not available in this build"; continue
    fi
    ran=$((ran + 1))
    out=$WORK/sweep_$backend.json
    rm -f "$out"
    if ! "$DK" sweep "$MODEL" -b "$backend" "${NODE_ARGS[@]}" --reps 5 --warmup 1 --seed "$SEED" \
            -o "$out" > "$WORK/table_$backend.txt" 2> "$WORK/err_$backend.txt"; then
        echo "FAIL $backend: sweep exited $?"; cat "$WORK/err_$backend.txt"; fail=1; continue
    fi
    cat "$WORK/table_$backend.txt"
    $PY "$SRC/tests/tools/check_sweep.py" "$out" "$WORK/table_$backend.txt" "${NODES[@]}" || fail=1
done

if [ $ran -eq 0 ]; then echo "SKIP: neither onednn nor openblas is available"; exit 77; fi

# a planted error of 10 bounds on the node: the fastest (only) choice is
# flagged out of tolerance, in the table and the JSON
FIRST=${NODES[0]}
out=$WORK/sweep_fault.json; rm -f "$out"
if "$DK" sweep "$MODEL" -b "fault:base=ref,node=$FIRST,kind=bias" --node "$FIRST" --reps 2 --warmup 0 \
        --seed "$SEED" -o "$out" > "$WORK/table_fault.txt" 2> "$WORK/err_fault.txt" \
    && grep -q "FASTEST OUT OF TOLERANCE" "$WORK/table_fault.txt" \
    && $PY -c "import json,sys; n=json.load(open(sys.argv[1]))['nodes'][0]; assert n['fastest_out_of_tolerance'] and n['rows'][0]['verdict']=='FAILED', n" "$out"; then
    echo "ok   planted error flagged: $(grep "FASTEST OUT OF TOLERANCE" "$WORK/table_fault.txt")"
else
    echo "FAIL planted error not flagged:"; cat "$WORK/table_fault.txt" "$WORK/err_fault.txt"; fail=1
fi

# the same node's plan declaring a transform-based convolution (as cuDNN's FFT
# and Winograd plans do): 2 bounds off is within the looser transform bound
# (u 4096 S against about 27 u S on this 27-term convolution), 1000 bounds
# off is past it too
for scale in 2 1000; do
    out=$WORK/sweep_transform_$scale.json; rm -f "$out"
    if ! "$DK" sweep "$MODEL" -b "fault:base=ref,node=$FIRST,kind=bias,scale=$scale,declare=transform" --node "$FIRST" \
            --reps 2 --warmup 0 --seed "$SEED" -o "$out" > "$WORK/table_transform_$scale.txt" 2>&1; then
        echo "FAIL declared transform, scale $scale: sweep exited $?"; cat "$WORK/table_transform_$scale.txt"; fail=1; continue
    fi
    if [ $scale = 2 ]; then want="r['within_transform_bound'] and r['within_tolerance'] and r['worst_ratio'] > 1"
        marks="TRANSFORM-BOUND"; nomark="OUT OF TOLERANCE"
    else want="not r['within_transform_bound'] and not r['within_tolerance']"; marks="FASTEST OUT OF TOLERANCE"; nomark="TRANSFORM-BOUND"
    fi
    if $PY -c "import json,sys; r=json.load(open(sys.argv[1]))['nodes'][0]['rows'][0]; assert $want, r" "$out" &&
        grep -q "$marks" "$WORK/table_transform_$scale.txt" && ! grep -q "$nomark" "$WORK/table_transform_$scale.txt"; then
        echo "ok   declared transform, $scale bounds off: $marks"
    else
        echo "FAIL declared transform, $scale bounds off:"; cat "$WORK/table_transform_$scale.txt"; fail=1
    fi
done

EXPECT_ERROR_ALLOW_PROGRESS=1
source "$(dirname "${BASH_SOURCE[0]}")/expect_error.sh"
expect_error "unknown backend" "unknown backend 'nosuch'" "$DK" sweep "$MODEL" -b nosuch
if "$DK" backends | awk '$1 == "cudnn" && $2 != "available" { f = 1 } END { exit !f }'; then
    expect_error "unavailable backend" "backend 'cudnn' is unavailable" "$DK" sweep "$MODEL" -b cudnn
fi
expect_error "unknown option value" "fpmath" "$DK" sweep "$MODEL" -b onednn:fpmath=fp64
expect_error "unknown node" "--node 'no_such_node'" "$DK" sweep "$MODEL" -b openblas --node no_such_node
CLIP=$("$DK" info --opt 1 "$MODEL" | awk '$3 == "Clip" { print $2; exit }')
expect_error "not a convolution" "not a convolution" "$DK" sweep "$MODEL" -b openblas --node "$CLIP"
touch "$WORK/exists.json"
expect_error "existing output" "exists.json exists" "$DK" sweep "$MODEL" -b openblas -o "$WORK/exists.json"
expect_error "missing model" "no_such.onnx" "$DK" sweep "$WORK/no_such.onnx" -b openblas
expect_error "no backend" "no backend given" "$DK" sweep "$MODEL"
expect_error "bad reps" "--reps '0'" "$DK" sweep "$MODEL" -b openblas --reps 0
exit $fail
