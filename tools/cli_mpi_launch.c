/* Whether an MPI launcher started this process, from its environment: a
 * deltakern built without MPI must not let every rank run the whole job,
 * and one built with it calls MPI_Init only when there are ranks to join. */
#include <stdlib.h>

#include "tools/cli_mpi.h"

static int env_int(const char *name)
{
    const char *s = getenv(name);
    return s && *s ? atoi(s) : 0;
}

int dk_cli_mpi_world_size(void)
{
    int n = env_int("OMPI_COMM_WORLD_SIZE"); /* Open MPI's mpirun */
    if (n < 1) n = env_int("PMI_SIZE");      /* MPICH's Hydra, srun --mpi=pmi2 */
    if (n < 1 && getenv("PMIX_RANK")) n = env_int("SLURM_NTASKS"); /* srun --mpi=pmix */
    return n > 1 ? n : 1;
}

int dk_cli_mpi_world_rank(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (getenv(names[i]) && *getenv(names[i])) return env_int(names[i]);
    return 0;
}

#ifndef DK_HAVE_MPI
#include "tools/cli.h"

int dk_cli_diff_mpi(const dk_diff_run_options *ro, const char *const *rank_variants, int n_rank_variants,
                    const char *report, int argc, char **argv)
{
    (void)ro, (void)rank_variants, (void)n_rank_variants, (void)report, (void)argc, (void)argv;
    dk_cli_error("diff: started as one of %d MPI ranks, but this deltakern was built without MPI "
                 "(install libopenmpi-dev and rebuild, DK_WITH_MPI); each rank would run the whole job",
                 dk_cli_mpi_world_size());
    return DK_EXIT_USAGE;
}

int dk_cli_bench_mpi(struct dk_cli_bench *c, int argc, char **argv)
{
    (void)c, (void)argc, (void)argv;
    if (dk_cli_mpi_world_rank() > 0) return DK_EXIT_USAGE; /* said once, by rank 0 */
    dk_cli_error("bench: started as one of %d MPI ranks, but this deltakern was built without MPI "
                 "(install libopenmpi-dev and rebuild, DK_WITH_MPI); each rank would write the same file",
                 dk_cli_mpi_world_size());
    return DK_EXIT_USAGE;
}
#endif
