/* Somewhere to receive an MPI message into and drop it: rank 0, out of memory
 * for a rank's result, must still take every message, or the sender waits for
 * ever. */
#ifndef DK_TOOLS_CLI_MPI_SINK_H
#define DK_TOOLS_CLI_MPI_SINK_H

#include <stddef.h>

/* A scratch buffer of at least size bytes, kept for the process's life;
 * NULL when even that cannot be mapped. Mapped on first use: a static array
 * of that size would sit in every process's data segment, where
 * LeakSanitizer scans it (64 MB: 0.3 s at every exit of a sanitised build). */
void *dk_cli_mpi_sink(size_t size);

#endif
