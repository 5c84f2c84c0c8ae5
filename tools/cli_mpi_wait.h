/* Waiting on MPI without spinning: MPI's blocking calls spin, and a waiting
 * rank would take a core from the ranks working beside it (a rank measuring,
 * under bench). Waits poll instead, sleeping between polls. */
#ifndef DK_TOOLS_CLI_MPI_WAIT_H
#define DK_TOOLS_CLI_MPI_WAIT_H

#include <mpi.h>

/* Sleeps one poll interval (50 ms: 20 polls a second). */
void dk_cli_mpi_pause(void);

/* Waits until the n requests complete, polling with dk_cli_mpi_pause:
 * MPI_SUCCESS; MPI's error code when a poll fails; MPI_ERR_PENDING when
 * limit_ms (> 0) passed first. limit_ms <= 0: no limit. */
int dk_cli_mpi_wait(int n, MPI_Request *r, long limit_ms);

#endif
