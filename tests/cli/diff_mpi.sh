#!/bin/bash
# mpirun deltakern diff (tools/cli_diff_mpi.c) with Debian's Open MPI on
# localhost: the bundled photos diffed once without MPI, then by 2 and 3
# ranks; each merged result must equal the single run file by file
# (summary.json but for its timing) and leave no rank directory behind.
# Rank 0 alone prints the progress of the whole job and the table. A rank
# killed mid-run fails the job and leaves each rank's state; the same
# command with --resume finishes it to the single run's result. Refusals:
# --shard, --save, an OUTDIR holding results, --resume with nothing to resume.
# usage: diff_mpi.sh DELTAKERN HAVE_MPI MPIEXEC SOURCE_DIR MODEL_DIR WORK [VARIANT...]
set -u
DK=$1 HAVE_MPI=$2 MPIEXEC=$3 SRC=$4 MODELS=$5 WORK=$6
shift 6
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(openblas onednn onednn:opt=3 onednn:fpmath=bf16)
. "$SRC/tests/cli/mpi_env.sh"
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/expect_error.sh"
. "$SRC/tests/cli/checks.sh"
VARGS=()
for v in "${VARIANTS[@]}"; do VARGS+=(-v "$v"); done
diff_args=("$MODEL" -i "$SRC/data/images" "${VARGS[@]}")

echo "variants: ${VARIANTS[*]}; $("$MPIEXEC" --version 2>&1 | head -n 1)"
t0=$(date +%s.%N)
"$DK" diff "${diff_args[@]}" -q -o "$WORK/single" > /dev/null || { echo "FAIL: the single run exited $?"; exit 1; }
t1=$(date +%s.%N)
"${MPIRUN[@]}" -np 2 "$DK" diff "${diff_args[@]}" -o "$WORK/np2" > "$WORK/np2.out" 2> "$WORK/np2.err"
rc=$?
t2=$(date +%s.%N)
echo "wall time: 1 process $(secs "$t0" "$t1") s, mpirun -np 2 $(secs "$t1" "$t2") s"
if [ $rc -ne 0 ]; then echo "FAIL: mpirun -np 2 exited $rc:"; sed 's/^/    /' "$WORK/np2.err"; exit 1; fi
check "mpirun -np 2 gives the single run's result" same_result "$WORK/single" "$WORK/np2"
check "no rank directory is left" test ! -e "$WORK/np2/ranks"
check "rank 0 alone prints the job's progress, once at the end" \
    test "$(grep -c '^diff: 5/5 inputs on 2 ranks$' "$WORK/np2.err")" = 1
check "rank 0 alone prints the table" test "$(grep -cF "ref vs ${VARIANTS[0]} " "$WORK/np2.out")" = 1
check "environment.json lists both ranks' hosts" /usr/bin/python3 -c "
import json,sys; e=json.load(open('$WORK/np2/environment.json'))
sys.exit(0 if sorted(s['index'] for s in e['shards']) == [0, 1] else 1)"

"${MPIRUN[@]}" -np 3 "$DK" diff "${diff_args[@]}" -q -o "$WORK/np3" > /dev/null 2> "$WORK/np3.err" ||
    { echo "FAIL: mpirun -np 3 exited $?:"; sed 's/^/    /' "$WORK/np3.err"; exit 1; }
check "mpirun -np 3 gives the single run's result" same_result "$WORK/single" "$WORK/np3"

# refusals, named by rank 0 (mpirun adds its own lines about the exit code)
refused() {  # refused NAME EXPECTED ARGS...: non-zero exit, the reason once
    local name=$1 want=$2
    shift 2
    "${MPIRUN[@]}" -np 2 "$DK" diff "${diff_args[@]}" -q "$@" > /dev/null 2> "$WORK/err.txt"
    local rc=$?
    check "$name is refused (exit $rc)" test $rc -ne 0 -a "$(grep -c "^deltakern: error: .*$want" "$WORK/err.txt")" = 1
}
refused "an OUTDIR holding results" "holds results" -o "$WORK/np2"
refused "--shard under mpirun" "each rank is one shard already" -o "$WORK/x" --shard 0/2
refused "--save under mpirun" "--save under mpirun" -o "$WORK/x" --save "$WORK/bundle"
refused "--resume with no rank states" "there is none" -o "$WORK/np2" --resume
# a bad command line: every rank checks it, rank 0 alone says it, and the
# ranks leave together so that the launcher does not end the job first
refused "a missing input" "$WORK/nosuch: No such file" -o "$WORK/x" -i "$WORK/nosuch"
refused "--rank-variant with -v" "--rank-variant gives every rank its variants" -o "$WORK/x" --rank-variant 0-1=ref -v onednn
check "nothing was written by the refusals" test ! -e "$WORK/x/summary.json" -a ! -e "$WORK/bundle"

# a rank killed mid-run: the job fails, the states stay, --resume finishes it
"${MPIRUN[@]}" -np 2 "$DK" diff "${diff_args[@]}" -q -o "$WORK/kill" > /dev/null 2> "$WORK/kill.err" &
job=$!
state=$WORK/kill/ranks/1-of-2/state.jsonl victim=
for _ in $(seq 1 6000); do  # rank 1 has 2 inputs: kill it after the first
    if [ -f "$state" ] && [ "$(wc -l < "$state")" -ge 2 ]; then
        for p in $(pgrep -f -- "diff .*$WORK/kill"); do
            tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$p
        done
        break
    fi
    sleep 0.05
done
[ -n "$victim" ] && kill -9 "$victim"
wait $job
rc=$?
check "a killed rank fails the job (exit $rc)" test -n "$victim" -a $rc -ne 0
check "mpirun names the killed rank" grep -qi "signal 9\|killed" "$WORK/kill.err"
check "no merged result after the kill" test ! -e "$WORK/kill/summary.json"
check "the killed rank's state holds its first input" test "$(wc -l < "$state")" -ge 2
"${MPIRUN[@]}" -np 2 "$DK" diff "${diff_args[@]}" -q -o "$WORK/kill" --resume > /dev/null 2> "$WORK/resume.err"
rc=$?
check "--resume finishes the job (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || sed 's/^/    /' "$WORK/resume.err"
check "the resumed job gives the single run's result" same_result "$WORK/single" "$WORK/kill"
echo "diff_mpi: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
