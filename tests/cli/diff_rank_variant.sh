#!/bin/bash
# mpirun deltakern diff --rank-variant (tools/cli_rank_groups.c,
# drivers/diff/diff_merge_groups.c) with Debian's Open MPI on localhost:
# groups of ranks run different variants of the bundled photos' diff, and the
# merged result must equal one run of every variant, file by file — also the
# pairs of variants of different groups, compared from the logits the ranks
# record. A group of two ranks shares the inputs out. Groups that disagree on
# an input (here: rank 1 reads other pictures under the same names) are
# refused, as are rank specs that name no rank, a rank beyond the job, a
# variant in two groups, -v beside them, and --rank-variant outside mpirun.
# usage: diff_rank_variant.sh DELTAKERN HAVE_MPI MPIEXEC SOURCE_DIR MODEL_DIR WORK
set -u
DK=$1 HAVE_MPI=$2 MPIEXEC=$3 SRC=$4 MODELS=$5 WORK=$6
. "$SRC/tests/cli/mpi_env.sh"
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
. "$SRC/tests/cli/checks.sh"
# bf16 beside float32: pairs across the groups with top-5 overlap and tau
# below 1, so that a pair compared from the wrong logits shows
A=openblas B=onednn:fpmath=bf16
args=("$MODEL" -i "$SRC/data/images" -q)

"$DK" diff "${args[@]}" -v "$B" -v "$A" -o "$WORK/single" > "$WORK/single.txt" ||
    { echo "FAIL: the single run exited $?"; exit 1; }
run_groups() {  # run_groups NP OUTDIR SPEC...
    local np=$1 out=$2
    shift 2
    local specs=()
    for s in "$@"; do specs+=(--rank-variant "$s"); done
    "${MPIRUN[@]}" -np "$np" "$DK" diff "${args[@]}" "${specs[@]}" -o "$out" > "$out.txt" 2> "$out.err"
}
run_groups 2 "$WORK/np2" "0=$B" "1=$A"
rc=$?
[ $rc -eq 0 ] || sed 's/^/    /' "$WORK/np2.err"
check "2 ranks, one variant each (exit $rc), give one run of both" same_result "$WORK/single" "$WORK/np2"
check "the pair across the groups is the single run's" grep -qF "$(grep "^$B vs $A " "$WORK/single.txt")" "$WORK/np2.txt"
check "no rank or group directory is left" test ! -e "$WORK/np2/ranks"
check "environment.json lists both groups" /usr/bin/python3 -c "
import json,sys; e=json.load(open('$WORK/np2/environment.json'))
sys.exit(0 if [g['variants'] for g in e['groups']] == [['$B'], ['$A']] else 1)"
run_groups 3 "$WORK/np3" "1,2=$B" "0=$A"
rc=$?
[ $rc -eq 0 ] || sed 's/^/    /' "$WORK/np3.err"
check "3 ranks, a group of two sharing the inputs (exit $rc), give the same run" same_result "$WORK/single" "$WORK/np3"

# refusals, named once by rank 0
refused() {  # refused NAME EXPECTED NP ARGS...
    local name=$1 want=$2 np=$3
    shift 3
    "${MPIRUN[@]}" -np "$np" "$DK" diff "${args[@]}" "$@" > /dev/null 2> "$WORK/err.txt"
    local rc=$?
    check "$name is refused (exit $rc)" test $rc -ne 0 -a "$(grep -c "^deltakern: error: .*$want" "$WORK/err.txt")" = 1
    grep -q "^deltakern: error: .*$want" "$WORK/err.txt" || sed 's/^/    /' "$WORK/err.txt"
}
refused "a rank no spec names" "rank 2 of 3 runs no variant" 3 -o "$WORK/x" --rank-variant "0-1=$A"
refused "a rank beyond the job" "names rank 2, and the job has 2 ranks" 2 -o "$WORK/x" --rank-variant "0-2=$A"
refused "a variant in two groups" "runs on ranks with different variant sets" 2 -o "$WORK/x" \
    --rank-variant "0-1=$A" --rank-variant "1=$B"
refused "ranks that are not a list" "expected RANKS=VARIANT" 2 -o "$WORK/x" --rank-variant "one=$A"
refused "-v beside --rank-variant" "-v and --variants cannot be given with it" 2 -o "$WORK/x" \
    --rank-variant "0-1=$A" -v "$B"
check "nothing was written by the refusals" test ! -e "$WORK/x/summary.json"
expect_error "--rank-variant outside mpirun" "is for ranks started by mpirun" \
    "$DK" diff "${args[@]}" --rank-variant "0=$A" -o "$WORK/x"

# groups that disagree on an input: rank 1 reads other pictures under the
# same names (Open MPI's MPMD form: one program per rank)
mkdir -p "$WORK/left/images" "$WORK/right/images"
cp "$SRC/data/images/chelsea.png" "$WORK/left/images/a.png"
cp "$SRC/data/images/coffee.png" "$WORK/right/images/a.png"
ln -s "$MODEL" "$WORK/left/m.onnx" && ln -s "$MODEL" "$WORK/right/m.onnx"
side() { echo "cd '$WORK/$1' && exec '$DK' diff m.onnx -i images -q --rank-variant 0=$A --rank-variant 1=$B -o '$WORK/split'"; }
"${MPIRUN[@]}" -np 1 sh -c "$(side left)" : -np 1 sh -c "$(side right)" > /dev/null 2> "$WORK/split.err"
rc=$?
check "groups that disagree on an input are refused (exit $rc)" \
    test $rc -ne 0 -a "$(grep -c "^deltakern: error: .*disagree on input 0's input_hash" "$WORK/split.err")" = 1
grep -q "disagree on input" "$WORK/split.err" || sed 's/^/    /' "$WORK/split.err"
check "and leave no merged result" test ! -e "$WORK/split/summary.json"
echo "diff_rank_variant: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
