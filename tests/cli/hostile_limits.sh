#!/bin/bash
# Inputs past deltakern's limits (tests/tools/make_limit_models.py,
# make_big_bench.py): each is refused with exactly one "deltakern: error:"
# line and exit 2, or, where the input is merely large, handled correctly:
#   - a 20,000-node chain stored backwards loads in order and runs to numpy's
#     value (node placement is a linear sort; it used to take minutes);
#   - a cycle names a node on it;
#   - a model needing 2 TiB of activations is refused when the session is
#     planned, with the size, never by malloc or the OOM killer;
#   - names with control bytes reach messages and tables as \xNN only;
#   - a 9000x9000 PNG (valid, small file) is refused before decoding;
#   - out-of-range option values name the option;
#   - compare on ~1 MB results (30,000 samples a node; 8,000 nodes) gives
#     every ratio as planted (it used to take minutes and gigabytes).
# Every command runs under a timeout: a hang fails instead of blocking.
# usage: hostile_limits.sh DELTAKERN WORKDIR SOURCE_DIR
set -u
DK=$1; WORK=$2; SRC=$3
PY=/usr/bin/python3
mkdir -p "$WORK"
fail=0; n=0
source "$(dirname "${BASH_SOURCE[0]}")/expect_error.sh"
if ! $PY -c "import onnx, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks onnx or numpy"
    exit 77
fi
M=$WORK/models
N=20000
LIMIT=120
rm -rf "$M"
$PY "$SRC/tests/tools/make_limit_models.py" "$M" $N || { echo "FAIL make_limit_models.py"; exit 1; }

check() { # NAME: counts a check that passed when the last command succeeded
    local name=$1 rc=$2
    n=$((n + 1))
    if [ "$rc" -eq 0 ]; then echo "ok   $name"; else echo "FAIL $name"; fail=$((fail + 1)); fi
}

# raw_bytes FILE: does FILE hold control bytes (other than newline) or non-ASCII?
raw_bytes() { LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f\x80-\xff]' "$1"; }

# --- a long chain stored backwards --------------------------------------------
timeout $LIMIT "$DK" info "$M/chain.onnx" > "$WORK/info.txt" 2> "$WORK/err.txt"
check "chain: info exits 0" $?
# the table lists n0..n{N-1} in order: each node after its producer
awk -v N=$N '$1 ~ /^[0-9]+$/ && $2 ~ /^n[0-9]+$/ { if ($2 != "n" $1) bad++; rows++ }
             END { exit !(rows == N && !bad) }' "$WORK/info.txt"
check "chain: info lists the $N nodes in dependency order" $?
rm -f "$WORK/chain.npy"
timeout $LIMIT "$DK" run "$M/chain.onnx" -i "$M/x.npy" -b ref --save-output "$WORK/chain.npy" \
    > /dev/null 2> "$WORK/err.txt"
check "chain: run exits 0" $?
$PY -c "
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
print('    got', got.ravel(), 'numpy', want.ravel())
sys.exit(0 if np.array_equal(got, want) else 1)" "$WORK/chain.npy" "$M/chain.expected.npy"
check "chain: output equals numpy's" $?

# --- a cycle ------------------------------------------------------------------
for cmd in info run; do
    args=(info "$M/cycle.onnx"); [ $cmd = run ] && args=(run "$M/cycle.onnx" -i "$M/x.npy" -b ref)
    expect_error "cycle ($cmd)" "cycle.onnx: the graph has a cycle through node '" timeout $LIMIT "$DK" "${args[@]}"
    n=$((n + 1))
    if ! grep -qE "node '(add_a|relu_b)'" "$WORK/err.txt"; then
        echo "FAIL cycle ($cmd): the node named is not on the cycle"; fail=$((fail + 1))
    fi
done

# --- more memory than the machine has -------------------------------------------
timeout $LIMIT "$DK" info "$M/bigmem.onnx" > /dev/null 2>&1
check "bigmem: info (no session) exits 0" $?
expect_error "bigmem (run)" "bigmem.onnx: the model needs 2048.0 GiB for its values (2199023256" \
    timeout $LIMIT "$DK" run "$M/bigmem.onnx" -i "$M/x8.npy" -b ref
n=$((n + 1))
grep -qF "more than this machine's memory" "$WORK/err.txt" || { echo "FAIL bigmem: no memory size"; fail=$((fail + 1)); }

# --- names with control bytes ---------------------------------------------------
for cmd in info run; do
    args=(info "$M/badname.onnx"); [ $cmd = run ] && args=(run "$M/badname.onnx" -i "$M/x.npy" -b ref)
    expect_error "badname ($cmd)" "):  \\x05group\\x7f::Conv x1 (first 'conv\\x01\\x1b[31m')" \
        timeout $LIMIT "$DK" "${args[@]}"
    n=$((n + 1))
    if raw_bytes "$WORK/err.txt" || raw_bytes "$WORK/out.txt"; then
        echo "FAIL badname ($cmd): raw bytes in the output"; fail=$((fail + 1))
    fi
done
expect_error "badinput (info)" "graph input 'in\\x07put\\xc3\\x83' has no shape" \
    timeout $LIMIT "$DK" info "$M/badinput.onnx"
n=$((n + 1))
raw_bytes "$WORK/err.txt" && { echo "FAIL badinput: raw bytes in the message"; fail=$((fail + 1)); }

# --- image pixel limit ------------------------------------------------------------
expect_error "big.png" "big.png: image is 9000x9000 pixels (81.0 megapixels" \
    timeout $LIMIT "$DK" run "$M/tiny.onnx" -i "$M/big.png" -b ref
timeout $LIMIT "$DK" run "$M/tiny.onnx" -i "$M/small.png" -b ref > /dev/null 2>&1
check "small.png decodes and runs" $?

# --- option bounds ------------------------------------------------------------------
expect_error "run --scale 1e30" "run: --scale '1e30': expected a positive number, at most 1e6" \
    timeout $LIMIT "$DK" run "$M/tiny.onnx" -i "$M/small.png" -b ref --scale 1e30
expect_error "run --mean inf" "run: --mean 'inf,0,0': expected three numbers R,G,B, each from -1e6 to 1e6" \
    timeout $LIMIT "$DK" run "$M/tiny.onnx" -i "$M/small.png" -b ref --mean inf,0,0
expect_error "fault factor=1e12" "option factor=1e12: expected a number from 1 to 1000" \
    timeout $LIMIT "$DK" run "$M/tiny.onnx" -i "$M/small.png" -b fault:base=ref,node=relu,kind=slow,factor=1e12

# --- compare on large results -----------------------------------------------------------
timeout $LIMIT "$DK" bench "$M/tiny.onnx" -v ref -n 3 --warmup 0 --seed 1 -o "$WORK/bench.json" --force \
    > /dev/null 2> "$WORK/err.txt"
check "bench on tiny.onnx" $?
$PY "$SRC/tests/tools/make_big_bench.py" "$WORK/bench.json" "$WORK" 30000 8000 || { echo "FAIL make_big_bench.py"; exit 1; }
for kind in samples nodes; do
    rm -f "$WORK/$kind.cmp.json"
    timeout $LIMIT "$DK" compare "$WORK/$kind.json" "$WORK/$kind.cand.json" --json "$WORK/$kind.cmp.json" \
        > /dev/null 2> "$WORK/err.txt"
    rc=$?
    n=$((n + 1))
    if [ $rc -gt 1 ]; then
        echo "FAIL compare $kind: exit $rc"; sed 's/^/    /' "$WORK/err.txt"; fail=$((fail + 1)); continue
    fi
    # every time doubled: every row's ratio is 2 and within its interval
    $PY - "$WORK/$kind.cmp.json" "$WORK/$kind.json" <<'PYEOF'
import json, sys
c, base = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rows = c.get("nodes") or c.get("rows") or []
want = len(base["variants"][0]["nodes"])
bad = [r for r in rows if not (abs(r["ratio"] - 2) < 1e-9 and r["ratio_ci95"][0] <= r["ratio"] <= r["ratio_ci95"][1])]
print(f"    {len(rows)} rows of {want} nodes, {len(bad)} not at ratio 2")
sys.exit(0 if len(rows) == want and not bad else 1)
PYEOF
    if [ $? -eq 0 ]; then echo "ok   compare $kind: every ratio 2"; else echo "FAIL compare $kind"; fail=$((fail + 1)); fi
done

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
