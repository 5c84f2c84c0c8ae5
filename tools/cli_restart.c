/* One restart for everything the libraries read when they load (cli.h):
 * OpenBLAS's kernel set and glibc's malloc tunables. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

void dk_cli_restart_if_needed(char **argv)
{
    const char *was = getenv("GLIBC_TUNABLES");
    char *tunables = was ? strdup(was) : NULL;
    if (was && !tunables) return; /* out of memory: leave everything as it is */
    int core = dk_cli_want_openblas_core(argv);
    int thp = dk_cli_want_malloc_thp(argv);
    if (core || thp) {
        execv("/proc/self/exe", argv);
        /* no /proc: go on as loaded, and say that nothing was set */
        if (core) {
            unsetenv("OPENBLAS_CORETYPE");
            unsetenv("DK_OPENBLAS_CORETYPE_BY");
        }
        if (thp) {
            if (tunables) setenv("GLIBC_TUNABLES", tunables, 1);
            else unsetenv("GLIBC_TUNABLES");
            unsetenv("DK_MALLOC_HUGETLB_BY");
        }
    }
    free(tunables);
}
