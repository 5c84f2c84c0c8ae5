#!/bin/bash
# The directories diff writes: one run at a time (a second one is told the
# first one's pid; a lock left by a dead run blocks nothing), temporary files
# a killed run left are removed at the start, on --resume and on --force (only
# those: a result file's name, ".tmp.", digits), symbolic links among the
# result files are refused, and --resume of a run killed before its first
# record starts it afresh. A tiny generated model keeps it short.
# usage: diff_outdir.sh DELTAKERN SOURCE_DIR WORK
set -u
DK=$1; SRC=$2; WORK=$3
PY=/usr/bin/python3
$PY -c "import numpy, onnx" 2>/dev/null || { echo "SKIP: /usr/bin/python3 lacks numpy or onnx"; exit 77; }
rm -rf "$WORK"; mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
$PY "$SRC/tests/tools/make_tiny_cnn.py" "$WORK/tiny.onnx" 7 "$WORK/inputs" 3 || exit 1
M="$WORK/tiny.onnx"
ARGS=(-i "$WORK/inputs" -v openblas -q --no-counterfactual)
check() { # NAME CONDITION...
    local name=$1; shift
    n=$((n + 1))
    if "$@" > /dev/null; then echo "ok   $name"; else echo "FAIL $name"; fail=$((fail + 1)); fi
}

# a second run on a directory in use: stopped while it holds the lock. The
# lock file outlives its run, so the run must still be there when stopped: it
# gets 100 inputs (each record synced), and is started again, up to three
# times, should it finish before the stop lands (a zombie, not stopped)
$PY "$SRC/tests/tools/make_tiny_cnn.py" "$WORK/tiny_busy.onnx" 7 "$WORK/many" 100 || exit 1
for attempt in 1 2 3; do
    rm -rf "$WORK/busy"
    "$DK" diff "$M" -i "$WORK/many" -v openblas -q --no-counterfactual -o "$WORK/busy" > /dev/null &
    pid=$!
    for _ in $(seq 1 600); do [ "$(cat "$WORK/busy/.lock" 2>/dev/null)" = "$pid" ] && break; sleep 0.05; done
    kill -STOP $pid 2> /dev/null
    case "$(ps -o stat= -p $pid 2> /dev/null)" in T*) break ;; esac
    echo "note: attempt $attempt: the first run ended before it was stopped"
    kill -CONT $pid 2> /dev/null; wait $pid
done
expect_error "second run on the same OUTDIR" "$WORK/busy is in use by pid $pid" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/busy" --force
expect_error "second run saving into the first one's OUTDIR" "$WORK/busy is in use by pid $pid" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/other" --save "$WORK/busy"
kill -CONT $pid
wait $pid
check "the first run finished undisturbed" [ $? -eq 0 ]
check "its result set is whole" $PY "$SRC/tests/tools/check_diff.py" whole "$WORK/busy"
# the lock file still names the dead run: it blocks nothing
check "a dead run's lock file blocks nothing" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/busy" --force
check "...and then names the new owner" [ -s "$WORK/busy/.lock" ]

# stale temporary files: ours removed, anything else kept
plant() {
    mkdir -p "$1"
    for f in summary.json.tmp.12345 layers.csv.tmp.1 state.jsonl.tmp.99 notes.tmp.5 summary.json.tmp.x keep.txt; do
        echo x > "$1/$f"
    done
}
planted_ok() {
    [ ! -e "$1/summary.json.tmp.12345" ] && [ ! -e "$1/layers.csv.tmp.1" ] && [ ! -e "$1/state.jsonl.tmp.99" ] &&
        [ -e "$1/notes.tmp.5" ] && [ -e "$1/summary.json.tmp.x" ] && [ -e "$1/keep.txt" ]
}
plant "$WORK/tmp_start"
"$DK" diff "$M" "${ARGS[@]}" -o "$WORK/tmp_start" > /dev/null
check "stale temporary files removed at the start (others kept)" planted_ok "$WORK/tmp_start"
plant "$WORK/tmp_start"
"$DK" diff "$M" "${ARGS[@]}" -o "$WORK/tmp_start" --resume > /dev/null
check "...on --resume" planted_ok "$WORK/tmp_start"
plant "$WORK/tmp_start"
"$DK" diff "$M" "${ARGS[@]}" -o "$WORK/tmp_start" --force > /dev/null
check "...on --force" planted_ok "$WORK/tmp_start"

# symbolic links among the result files are not written through
mkdir -p "$WORK/links"
cp "$WORK/busy/state.jsonl" "$WORK/elsewhere.jsonl"
cp "$WORK/elsewhere.jsonl" "$WORK/elsewhere.orig"
ln -s "$WORK/elsewhere.jsonl" "$WORK/links/state.jsonl"
expect_error "--resume of a state.jsonl that is a link" "state.jsonl: is a symbolic link" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/links" --resume
rm "$WORK/links/state.jsonl"; ln -s "$WORK/elsewhere.jsonl" "$WORK/links/layers.csv"
expect_error "--force with layers.csv a link" "layers.csv: is a symbolic link" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/links" --force
check "the link's target is untouched" cmp -s "$WORK/elsewhere.jsonl" "$WORK/elsewhere.orig"
rm -f "$WORK/links/layers.csv" "$WORK/links/.lock"; ln -s "$WORK/elsewhere.jsonl" "$WORK/links/.lock"
expect_error "a lock file that is a link" ".lock: is a symbolic link" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/links"

# --resume of a run killed before its first record (only its lock file there)
mkdir -p "$WORK/early"; echo 1 > "$WORK/early/.lock"
check "--resume of a run killed before it recorded anything starts afresh" "$DK" diff "$M" "${ARGS[@]}" -o "$WORK/early" --resume
check "...and gives the whole result" $PY "$SRC/tests/tools/check_diff.py" exact "$WORK/busy" "$WORK/early"
echo "$((n - fail)) of $n checks passed"
[ $fail -eq 0 ]
