/* A command-line error under mpirun: every rank parses the same line, rank 0
 * alone says what is wrong. Were the other ranks to exit at once, the
 * launcher would end the job on their non-zero exit, at times before rank 0
 * had even started, and its line would be lost. So the ranks meet first:
 * rank 0 (its line already written) sends each rank the exit code, each
 * answers, and all leave together. Where one side hears nothing (a rank
 * whose command line differs went on to work), it ends the job rather than
 * wait for ever, a rank other than 0 saying its own error first. */
#include <stdlib.h>

#include "tools/cli.h"
#include "tools/cli_mpi.h"
#include "tools/cli_mpi_wait.h"

enum { TAG_CODE = 31, TAG_HEARD = 32, WAIT_MS = 10000 };

int dk_cli_mpi_usage_exit(int rc)
{
    int rank = 0, size = 1;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS || MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &size) != MPI_SUCCESS)
        return rc; /* no MPI to meet in: leave at once */
    MPI_Request *r = calloc(2 * (size_t)size, sizeof *r);
    int *word = calloc((size_t)size, sizeof *word); /* rank 0: each rank's answer */
    int n = 0, ok = r && word;
    if (ok && rank == 0) {
        for (int k = 1; k < size && ok; k++)
            ok = MPI_Isend(&rc, 1, MPI_INT, k, TAG_CODE, MPI_COMM_WORLD, &r[n++]) == MPI_SUCCESS &&
                 MPI_Irecv(&word[k], 1, MPI_INT, k, TAG_HEARD, MPI_COMM_WORLD, &r[n++]) == MPI_SUCCESS;
    } else if (ok) {
        ok = MPI_Irecv(&word[0], 1, MPI_INT, 0, TAG_CODE, MPI_COMM_WORLD, &r[0]) == MPI_SUCCESS &&
             dk_cli_mpi_wait(1, r, WAIT_MS) == MPI_SUCCESS &&
             MPI_Isend(&word[0], 1, MPI_INT, 0, TAG_HEARD, MPI_COMM_WORLD, &r[n++]) == MPI_SUCCESS;
    }
    if (!ok || dk_cli_mpi_wait(n, r, WAIT_MS) != MPI_SUCCESS) {
        if (rank != 0) dk_cli_mpi_say_unsaid(); /* rank 0 did not say it */
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    free(r);
    free(word);
    MPI_Finalize();
    return rc;
}
