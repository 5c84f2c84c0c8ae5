#!/bin/bash
# A diff run killed with SIGKILL loses nothing: at random moments (from a
# printed seed) and right after each rename of its atomic writes (an
# LD_PRELOAD shim), what it leaves is never a half-written file in place of a
# whole one nor a set marked whole that is not (check_diff.py whole), and
# --resume then gives byte for byte the files of an uninterrupted run
# (summary.json's timing aside: check_diff.py exact). A tiny generated model
# keeps each run short.
# usage: diff_kill.sh DELTAKERN SOURCE_DIR SHIM WORK TRIALS
set -u
DK=$1; SRC=$2; SHIM=$3; WORK=$4; TRIALS=$5
PY=/usr/bin/python3
CHECK="$SRC/tests/tools/check_diff.py"
$PY -c "import numpy, onnx" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy or onnx"; exit 77; }
SEED=${DK_TEST_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
echo "seed $SEED (DK_TEST_SEED=$SEED repeats this test)"
RANDOM=$SEED
rm -rf "$WORK"; mkdir -p "$WORK"
$PY "$SRC/tests/tools/make_tiny_cnn.py" "$WORK/tiny.onnx" "$SEED" "$WORK/inputs" 4 || exit 1
ARGS=(-i "$WORK/inputs" -i "$SRC/data/images/chelsea.png" -i "$SRC/data/images/rocket.jpg"
      -v openblas -v "fault:base=openblas,node=conv2,kind=noise,scale=3000" --max-runs 8 -q)
t0=$(date +%s%N)
"$DK" diff "$WORK/tiny.onnx" "${ARGS[@]}" -o "$WORK/full" > /dev/null || exit 1
ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
recs=$($PY "$CHECK" whole "$WORK/full") || { echo "$recs"; exit 1; }
n_inputs=$recs
echo "uninterrupted run: $ms ms, $recs records"

# kill OUT [EXTRA...]: runs in OUT and kills it at a random moment: after a
# random number of records (0..all, so that the moment does not hang on how
# loaded the machine is), then a random part of one input's time more
per_input=$($PY -c "import json,sys; print(int(json.load(open(sys.argv[1]))['timing']['ms_per_input_this_run']) + 1)" "$WORK/full/summary.json")
kill_randomly() {
    local out=$1; shift
    local k=$(( RANDOM % (n_inputs + 1) )) at=$(( RANDOM * RANDOM % per_input ))
    "$DK" diff "$WORK/tiny.onnx" "${ARGS[@]}" -o "$out" "$@" > /dev/null 2>&1 &
    local pid=$!
    while kill -0 $pid 2>/dev/null && [ "$( { wc -l < "$out/state.jsonl"; } 2>/dev/null || echo 0)" -lt $((k + 1)) ]; do
        sleep 0.01
    done
    sleep "$(printf '%d.%03d' $((at / 1000)) $((at % 1000)))"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ $? -eq 137 ] && killed=$((killed + 1))
    local recs; recs=$($PY "$CHECK" whole "$out") || { fails=$((fails + 1)); return 1; }
    local mark=""
    [ -f "$out/summary.json" ] && mark="+summary"
    moments="$moments ${k}rec+${at}ms:${recs}rec$mark"
    return 0
}

# finish OUT: --resume to the end (a plain run when the kill came before OUTDIR
# existed), then the same files as the uninterrupted run
finish() {
    local out=$1
    if [ -d "$out" ]; then
        "$DK" diff "$WORK/tiny.onnx" "${ARGS[@]}" -o "$out" --resume > /dev/null || { echo "FAIL: --resume of $out"; fails=$((fails + 1)); return 1; }
    else
        before_dir=$((before_dir + 1))
        "$DK" diff "$WORK/tiny.onnx" "${ARGS[@]}" -o "$out" > /dev/null || { fails=$((fails + 1)); return 1; }
    fi
    $PY "$CHECK" whole "$out" > /dev/null && $PY "$CHECK" exact "$WORK/full" "$out" || { fails=$((fails + 1)); return 1; }
    resumed=$((resumed + 1))
}

fails=0; killed=0; before_dir=0; resumed=0; moments=""
for t in $(seq 1 "$TRIALS"); do
    out="$WORK/t$t"
    kill_randomly "$out" || continue
    # every other trial kills the resumed run too
    if [ $((t % 2)) -eq 0 ] && [ -d "$out" ]; then kill_randomly "$out" --resume || continue; fi
    finish "$out"
done
echo "random kills: $TRIALS trials, $resumed resumed to the uninterrupted files, $killed kills landed (the others came after the run ended), $before_dir before OUTDIR existed; at (records seen + delay: records left):$moments"

# right after each rename of the run's atomic writes: the state file's
# header, every summary file; then --resume
renames=0
for name in state.jsonl summary.csv layers.csv flips.csv summary.json; do
    out="$WORK/rename_$name"
    # (in a subshell, whose report of the kill goes to /dev/null)
    ( DK_KILL_AFTER_RENAME=$name LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$DK" diff "$WORK/tiny.onnx" "${ARGS[@]}" -o "$out" > /dev/null 2>&1; exit $? ) 2> /dev/null
    rc=$?
    [ $rc -eq 137 ] || { echo "FAIL: the run was not killed after renaming $name (exit $rc)"; fails=$((fails + 1)); continue; }
    if ! $PY "$CHECK" whole "$out" > /dev/null; then fails=$((fails + 1)); continue; fi
    renames=$((renames + 1))
    finish "$out"
done
echo "kills right after a rename: $renames of 5 left a consistent set, $resumed trials resumed in all"
[ $fails -eq 0 ] && [ $resumed -eq $((TRIALS + 5)) ] || { echo "FAIL: $fails check(s) failed, $resumed of $((TRIALS + 5)) resumed (seed $SEED)"; exit 1; }
echo "ok: every killed run resumed to the uninterrupted result"
