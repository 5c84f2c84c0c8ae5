#!/bin/bash
# No false alarms: the float32 variants of oneDNN and OpenBLAS against the
# reference on the bundled images flag no faulty kernel (every node's isolated
# error within its tolerance bound), fused groups (opt=2) included, compared
# at their boundaries.
# usage: diff_clean.sh DELTAKERN SOURCE_DIR MODEL_DIR MODEL N_IMAGES WORK
set -u
DK=$1; SRC=$2; DIR=$3; MODEL=$4; N=$5; WORK=$6
PY=/usr/bin/python3
FILE="$DIR/$MODEL.onnx"
[ -f "$FILE" ] || { echo "SKIP: $FILE is missing (the e2e.$MODEL test exports it)"; exit 77; }
$PY -c "import numpy" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy"; exit 77; }
mapfile -t IMAGES < <(ls "$SRC"/data/images/* | sort | head -n "$N")
IN=()
for i in "${IMAGES[@]}"; do IN+=(-i "$i"); done
V=()
for v in onednn onednn:layout=plain onednn:opt=2 openblas openblas:conv=im2col; do
    "$DK" backends | grep -q "^${v%%:*} *available" && V+=(-v "$v")
done
[ ${#V[@]} -gt 0 ] || { echo "SKIP: neither onednn nor openblas is available in this build"; exit 77; }
rm -rf "$WORK"; mkdir -p "$(dirname "$WORK")"
"$DK" diff "$FILE" "${IN[@]}" "${V[@]}" -o "$WORK" -q || exit 1
$PY "$SRC/tests/tools/check_diff.py" clean "$WORK"
