/* deltakern diff and bench under an MPI launcher (mpirun, srun): diff runs
 * one shard per rank, merged by rank 0 (tools/cli_diff_mpi.c); bench runs on
 * every rank, results written by rank 0 (tools/cli_bench_mpi.c). Both are
 * built where MPI is found. */
#ifndef DK_TOOLS_CLI_MPI_H
#define DK_TOOLS_CLI_MPI_H

#include "deltakern/diff.h"

/* The number of processes an MPI launcher started this one among, read from
 * the launcher's environment (Open MPI, PMI, PMIx under Slurm); 1 when none
 * did. MPI itself is not touched. */
int dk_cli_mpi_world_size(void);
/* This process's rank among them, from the same environment; 0 when none. */
int dk_cli_mpi_world_rank(void);

/* Runs `ro` as one shard per rank and writes the merged result to ro->out on
 * rank 0 (and --report there); returns the exit code. With --rank-variant
 * values (RANKS=VARIANT, tools/cli_rank_groups.h) the ranks run those
 * variants instead of ro's, each group of ranks its own share of the inputs,
 * and the groups' results are merged into one run of every variant. Built
 * without MPI: an error saying so. */
int dk_cli_diff_mpi(const dk_diff_run_options *ro, const char *const *rank_variants, int n_rank_variants,
                    const char *report, int argc, char **argv);

struct dk_cli_bench;

/* Benchmarks on every rank (ranks sharing a host in turn) and writes all
 * results into c->out on rank 0 (tools/cli_bench_mpi.c); returns the exit
 * code. Built without MPI: an error saying so. */
int dk_cli_bench_mpi(struct dk_cli_bench *c, int argc, char **argv);

#endif
