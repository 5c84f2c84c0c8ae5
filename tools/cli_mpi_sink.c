/* A throw-away receive buffer for MPI (tools/cli_mpi_sink.h). */
#include <sys/mman.h>

#include "tools/cli_mpi_sink.h"

void *dk_cli_mpi_sink(size_t size)
{
    static void *sink;
    static size_t have;
    if (sink && size <= have) return sink;
    if (sink) munmap(sink, have);
    /* MAP_NORESERVE: no memory is taken until pages are written */
    void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    sink = p == MAP_FAILED ? NULL : p;
    have = sink ? size : 0;
    return sink;
}
