#!/bin/bash
# Wall time of one diff of the bundled photos as 1 process, under
# `mpirun -np 2` (Open MPI's default binding, and --bind-to none) and as a
# 2-task Slurm array with its dependent merge job on a one-node cluster
# started here (tests/cli/slurm_cluster.sh; root, Debian's slurmctld, slurmd,
# munge), interleaved round by round; each run's files are checked against
# the single run's (the point on one machine is equal results, not speed).
# usage: bench/scale_out.sh DELTAKERN MODEL_DIR ROUNDS [VARIANT...]
set -u
DK=$(realpath "$1") MODELS=$(realpath "$2") ROUNDS=$3
shift 3
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(openblas onednn onednn:opt=3 onednn:fpmath=bf16)
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
MODEL=$MODELS/mobilenet_v2.onnx
VARGS=()
for v in "${VARIANTS[@]}"; do VARGS+=(-v "$v"); done
ARGS=("$MODEL" -i "$SRC/data/images" "${VARGS[@]}")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DELTAKERN=$DK
. "$SRC/tests/cli/slurm_cluster.sh"
slurm_cluster_start "$WORK/cluster" || { echo "no Slurm cluster: $SLURM_CLUSTER_WHY"; exit 1; }
same() { for f in state.jsonl layers.csv flips.csv summary.csv; do cmp -s "$1/$f" "$2/$f" || return 1; done; }
now() { date +%s.%N; }
declare -A T
kinds=(single mpirun2 mpirun2_nobind slurm2)
for ((r = 1; r <= ROUNDS; r++)); do
    for k in "${kinds[@]}"; do
        out=$WORK/$k.$r
        t0=$(now)
        case $k in
            single) "$DK" diff "${ARGS[@]}" -q -o "$out" > /dev/null ;;
            mpirun2) mpirun -np 2 "$DK" diff "${ARGS[@]}" -q -o "$out" > /dev/null 2>&1 ;;
            mpirun2_nobind) mpirun -np 2 --bind-to none "$DK" diff "${ARGS[@]}" -q -o "$out" > /dev/null ;;
            slurm2)
                jid=$(sbatch --parsable --array=0-1 --output="$WORK/task-%A_%a.out" --chdir="$WORK" \
                    "$SRC/tools/slurm/diff_array.sbatch" 2 "$out" "${ARGS[@]}")
                mid=$(sbatch --parsable --dependency="afterok:$jid" --kill-on-invalid-dep=yes --output="$WORK/merge-%j.out" \
                    --chdir="$WORK" "$SRC/tools/slurm/diff_merge.sbatch" 2 "$out")
                slurm_wait "$jid" "$mid" ;;
        esac
        t=$(awk "BEGIN { printf \"%.1f\", $(now) - $t0 }")
        eq=equal
        same "$WORK/single.$r" "$out" || eq=DIFFERENT
        T[$k]="${T[$k]:-} $t"
        echo "round $r $k: $t s, files $eq to the single run's"
    done
done
echo
echo "| run | wall s per round | median s |"
echo "|---|---|---|"
for k in "${kinds[@]}"; do
    med=$(printf '%s\n' ${T[$k]} | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
    echo "| $k |${T[$k]} | $med |"
done
slurm_cluster_stop
[ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
