/* OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, before main.
 * Where this process loaded a kernel set other than the one it should run
 * (dk_openblas_better_core: a variant's openblas core=, or AVX-512 on a CPU
 * this OpenBLAS does not know), set the variable, for the program to be
 * executed again (cli_restart.c); the marker DK_OPENBLAS_CORETYPE_BY=deltakern
 * tells the environment fingerprint who chose. A user's own
 * OPENBLAS_CORETYPE is never touched. */
#include <stdlib.h>
#include <string.h>

#include "deltakern/backend.h"
#include "tools/cli.h"

/* The first core=NAME inside an argument naming openblas (-v openblas:core=X,
 * --rank-variant 1=openblas:conv=im2col,core=X, fault:base=openblas,core=X). */
static const char *requested_core(char **argv, char *buf, size_t n)
{
    for (char **a = argv + 1; *a; a++) {
        if (!strstr(*a, "openblas")) continue;
        for (const char *p = *a; (p = strstr(p, "core=")) != NULL; p += 5) {
            if (p != *a && p[-1] != ':' && p[-1] != ',') continue;
            size_t len = strcspn(p + 5, ",: ");
            if (len == 0 || len >= n) continue;
            memcpy(buf, p + 5, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}

int dk_cli_want_openblas_core(char **argv)
{
    char wanted[64];
    if (getenv("DK_OPENBLAS_CORETYPE_BY")) return 0; /* already restarted once */
    const char *core = dk_openblas_better_core(requested_core(argv, wanted, sizeof wanted));
    if (!core) return 0;
    return !setenv("OPENBLAS_CORETYPE", core, 1) && !setenv("DK_OPENBLAS_CORETYPE_BY", "deltakern", 1);
}
