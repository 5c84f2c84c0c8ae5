/* Waiting on MPI without spinning (tools/cli_mpi_wait.h). */
#include <time.h>

#include "tools/cli_mpi_wait.h"

enum { POLL_MS = 50 };

void dk_cli_mpi_pause(void)
{
    struct timespec t = {0, POLL_MS * 1000000L};
    nanosleep(&t, NULL);
}

int dk_cli_mpi_wait(int n, MPI_Request *r, long limit_ms)
{
    for (long waited = 0; limit_ms <= 0 || waited < limit_ms; waited += POLL_MS) {
        int done = 0, rc = MPI_Testall(n, r, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return rc;
        if (done) return MPI_SUCCESS;
        dk_cli_mpi_pause();
    }
    return MPI_ERR_PENDING;
}
