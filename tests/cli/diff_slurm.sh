#!/bin/bash
# tools/slurm/diff_array.sbatch and diff_merge.sbatch on a one-node Slurm
# cluster started here on localhost (tests/cli/slurm_cluster.sh): the
# bundled photos diffed once without Slurm, then as a 2-task array with a
# dependent merge job; the merged result must equal the single run file by
# file (summary.json but for its timing). Then a task that died half-way is
# rerun alone with the same arguments: it continues its own state and the
# merge gives the same result again. Skips (77) with the daemons' own reason
# when the cluster cannot start.
# usage: diff_slurm.sh DELTAKERN SOURCE_DIR MODEL_DIR WORK [VARIANT...]
set -u
DK=$1 SRC=$2 MODELS=$3 WORK=$4
shift 4
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(openblas onednn onednn:opt=3 onednn:fpmath=bf16)
MODEL=$MODELS/mobilenet_v2.onnx
[ -f "$MODEL" ] || { echo "SKIP: $MODEL not exported (run e2e.mobilenet_v2)"; exit 77; }
command -v sbatch > /dev/null || { echo "SKIP: no sbatch (Debian: slurm-client)"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/cli/slurm_cluster.sh"
if ! slurm_cluster_start "$WORK/cluster"; then
    echo "SKIP: the one-node Slurm cluster did not start: $SLURM_CLUSTER_WHY"
    exit 77
fi
echo "slurm: $(sinfo -V), node $(sinfo -h -o '%N %c CPUs %T')"
export DELTAKERN=$DK
n=0 fail=0
. "$SRC/tests/cli/checks.sh"
VARGS=()
for v in "${VARIANTS[@]}"; do VARGS+=(-v "$v"); done
diff_args=("$MODEL" -i "$SRC/data/images" "${VARGS[@]}")
ARRAY=$SRC/tools/slurm/diff_array.sbatch MERGE=$SRC/tools/slurm/diff_merge.sbatch
OUT=$WORK/array
# submit N OUTDIR ARRAY_SPEC: the array and its dependent merge; prints both job ids
submit() {
    local jid mid
    jid=$(sbatch --parsable --array="$3" --output="$WORK/task-%A_%a.out" --chdir="$WORK" \
        "$ARRAY" "$1" "$2" "${diff_args[@]}") || return 1
    mid=$(sbatch --parsable --dependency="afterok:$jid" --kill-on-invalid-dep=yes \
        --output="$WORK/merge-%j.out" --chdir="$WORK" "$MERGE" "$1" "$2" --force) || return 1
    echo "$jid $mid"
}

t0=$(date +%s.%N)
"$DK" diff "${diff_args[@]}" -q -o "$WORK/single" > /dev/null || { echo "FAIL: the single run exited $?"; exit 1; }
t1=$(date +%s.%N)
read -r jid mid <<< "$(submit 2 "$OUT" 0-1)" || { echo "FAIL: sbatch refused the jobs"; exit 1; }
slurm_wait "$jid" "$mid" || { echo "FAIL: the jobs did not finish"; tail -n 5 "$WORK"/*.out; exit 1; }
t2=$(date +%s.%N)
echo "wall time: 1 process $(secs "$t0" "$t1") s, a 2-task Slurm array and its merge $(secs "$t1" "$t2") s"
for f in "$WORK"/task-*.out "$WORK"/merge-*.out; do echo "  $(basename "$f"): $(tail -n 1 "$f")"; done
check "the array tasks ran shards 0/2 and 1/2" test -f "$OUT/shards/0-of-2/summary.json" -a \
    -f "$OUT/shards/1-of-2/summary.json"
check "the merge job ran after them" grep -q "merged 5 of 5 inputs from 2 shard(s)" "$WORK/merge-$mid.out"
check "the array and merge give the single run's result" same_result "$WORK/single" "$OUT"

# task 1 died after its first input: rerun alone, it continues its state
STATE=$OUT/shards/1-of-2/state.jsonl
head -n 2 "$STATE" > "$WORK/cut" && mv "$WORK/cut" "$STATE" && rm -f "$OUT/shards/1-of-2/summary.json" "$OUT/summary.json"
read -r jid mid <<< "$(submit 2 "$OUT" 1)" || { echo "FAIL: sbatch refused the rerun"; exit 1; }
slurm_wait "$jid" "$mid" || { echo "FAIL: the rerun did not finish"; exit 1; }
check "the rerun task continued its shard" grep -q "shard 1/2 .*resumed" "$WORK/task-${jid}_1.out"
check "the rerun and merge give the single run's result" same_result "$WORK/single" "$OUT"

# the template's own refusals
sbatch_err=$(SLURM_ARRAY_TASK_ID=2 bash "$ARRAY" 2 "$OUT" "${diff_args[@]}" 2>&1)
check "a task outside 0..N-1 is refused" test $? -eq 2 -a -n "$sbatch_err"
echo "diff_slurm: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
