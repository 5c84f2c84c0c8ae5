/* Whether an MPI launcher started this process, from its environment: a
 * deltakern built without MPI must not let every rank run the whole job,
 * and one built with it calls MPI_Init only when there are ranks to join. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

static FILE *unsaid; /* what a rank other than 0 would have said */

int dk_cli_mpi_rank_0_says(int (*fn)(void *), void *arg)
{
    if (dk_cli_mpi_world_size() < 2 || dk_cli_mpi_world_rank() < 1) return fn(arg);
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    if (!unsaid) unsaid = tmpfile(); /* none: the error is not kept, only silenced */
    if (out < 0 || err < 0 || null < 0 || dup2(null, 1) < 0 || dup2(unsaid ? fileno(unsaid) : null, 2) < 0) {
        /* cannot silence: said twice is better than not checked */
        if (out >= 0) dup2(out, 1), close(out);
        if (err >= 0) dup2(err, 2), close(err);
        if (null >= 0) close(null);
        return fn(arg);
    }
    int rc = fn(arg);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1), dup2(err, 2);
    close(out), close(err), close(null);
    return rc;
}

void dk_cli_mpi_say_unsaid(void)
{
    if (!unsaid) return;
    char line[1024];
    rewind(unsaid);
    while (fgets(line, sizeof line, unsaid)) fputs(line, stderr);
    fflush(stderr);
}

#ifndef DK_HAVE_MPI
#include "tools/cli.h"

int dk_cli_mpi_usage_exit(int rc) { return rc; }

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
