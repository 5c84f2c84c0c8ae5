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

/* fn(arg), with this rank's stdout and stderr silenced unless it is rank 0
 * (or no launcher started it): every rank checks the same command line,
 * rank 0 alone says what is wrong with it or prints --help. */
int dk_cli_mpi_rank_0_says(int (*fn)(void *), void *arg);
/* Writes to stderr what dk_cli_mpi_rank_0_says kept from this rank: for a
 * rank whose command line failed where rank 0's did not. */
void dk_cli_mpi_say_unsaid(void);

/* After a command-line error under an MPI launcher: the ranks meet, rank 0
 * having said what is wrong, and leave together with `rc` (a rank leaving
 * first would end the job before rank 0's line is out). Returns rc; built
 * without MPI, returns it at once. */
int dk_cli_mpi_usage_exit(int rc);

struct dk_cli_bench;

/* Benchmarks on every rank (ranks sharing a host in turn) and writes all
 * results into c->out on rank 0 (tools/cli_bench_mpi.c); returns the exit
 * code. Built without MPI: an error saying so. */
int dk_cli_bench_mpi(struct dk_cli_bench *c, int argc, char **argv);

#endif
