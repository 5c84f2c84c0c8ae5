/* glibc's malloc advises its large blocks as transparent huge pages only when
 * the tunable glibc.malloc.hugetlb=1 is in GLIBC_TUNABLES, which glibc reads
 * once, before main. Where the kernel hands out huge pages on advice only
 * ("madvise") and the user set no hugetlb tunable of their own, the commands
 * that build sessions add it and have the program executed again (see
 * cli_restart.c); the marker DK_MALLOC_HUGETLB_BY=deltakern tells the
 * environment fingerprint who chose. Without it every 4 KiB of weights and
 * activations was a page fault of its own: on a virtual machine, where each
 * is expensive, two fifths of bench's start on ResNet-50. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/fingerprint.h"
#include "tools/cli.h"

/* commands whose sessions allocate weights and activations */
static int builds_sessions(const char *cmd)
{
    static const char *const with_sessions[] = {"run", "diff", "bench", "selftest", "sweep"};
    for (size_t i = 0; cmd && i < sizeof with_sessions / sizeof with_sessions[0]; i++)
        if (!strcmp(cmd, with_sessions[i])) return 1;
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
static const int sanitized = 1; /* the sanitizer's allocator ignores glibc's tunables */
#else
static const int sanitized = 0;
#endif

int dk_cli_want_malloc_thp(char **argv)
{
    if (sanitized || getenv("DK_MALLOC_HUGETLB_BY") || !builds_sessions(argv[0] ? argv[1] : NULL)) return 0;
    const char *old = getenv("GLIBC_TUNABLES");
    if (old && strstr(old, "glibc.malloc.hugetlb")) return 0; /* the user's choice */
    if (strcmp(dk_transparent_huge_pages(), "madvise")) return 0; /* "always" needs no advice */
    char *value = NULL;
    int n = old && old[0] ? asprintf(&value, "%s:glibc.malloc.hugetlb=1", old)
                          : asprintf(&value, "glibc.malloc.hugetlb=1");
    if (n < 0) return 0;
    /* the marker first: where either cannot be set, nothing is */
    int ok = !setenv("DK_MALLOC_HUGETLB_BY", "deltakern", 1);
    if (ok && setenv("GLIBC_TUNABLES", value, 1)) {
        unsetenv("DK_MALLOC_HUGETLB_BY");
        ok = 0;
    }
    free(value);
    return ok;
}
