#!/bin/bash
# Planted faults: four nodes of a model drawn at random (seed printed; early,
# middle, late, inside a residual or inception branch) each get a fault of
# 10x their tolerance bound through the fault wrapper on BASE; deltakern diff
# must name each as the first faulty kernel in isolated mode. A fifth variant
# zeroes the late node's output, which flips labels: the counterfactual set of
# every flip must reproduce it and contain the node.
# usage: diff_planted.sh DELTAKERN SOURCE_DIR MODEL_DIR MODEL N_IMAGES BASE WORK
set -u
DK=$1; SRC=$2; DIR=$3; MODEL=$4; N=$5; BASE=$6; WORK=$7
PY=/usr/bin/python3
FILE="$DIR/$MODEL.onnx"
if [ ! -f "$FILE" ]; then
    echo "SKIP: $FILE is missing (the e2e.$MODEL test exports it)"; exit 77
fi
if ! $PY -c "import onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks onnx or numpy"; exit 77
fi
SEED=${DK_TEST_SEED:-$(( $(date +%s) % 100000 ))}
echo "seed $SEED (set DK_TEST_SEED=$SEED to repeat)"
mapfile -t NODES < <($PY "$SRC/tests/tools/diff_pick_nodes.py" "$FILE" "$SEED") || exit 1
[ ${#NODES[@]} -eq 4 ] || { echo "FAIL: picked ${#NODES[@]} nodes"; exit 1; }
ARGS=()
for n in "${NODES[@]}"; do
    echo "planted: $n (noise, 10x its bound)"
    ARGS+=(-v "fault:base=$BASE,node=$n,kind=noise,scale=10")
done
ARGS+=(-v "fault:base=$BASE,node=${NODES[2]},kind=zero")
echo "planted: ${NODES[2]} (zero)"
mapfile -t IMAGES < <(ls "$SRC"/data/images/* | sort | head -n "$N")
IN=()
for i in "${IMAGES[@]}"; do IN+=(-i "$i"); done
rm -rf "$WORK"; mkdir -p "$(dirname "$WORK")"
"$DK" diff "$FILE" "${IN[@]}" "${ARGS[@]}" -o "$WORK" -q || exit 1
$PY "$SRC/tests/tools/check_diff.py" planted "$WORK" "${NODES[@]}" "${NODES[2]}"
