/* LD_PRELOAD shim for tests: the process kills itself with SIGKILL right
 * after renaming a file onto the name DK_KILL_AFTER_RENAME (a base name), so
 * that a test can stop a run between two steps of its atomic writes, which a
 * kill at a random moment would hit only by chance. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *);
    *(void **)&real = dlsym(RTLD_NEXT, "rename"); /* POSIX's way to a function pointer */
    int r = real(from, to);
    const char *want = getenv("DK_KILL_AFTER_RENAME"), *base = strrchr(to, '/');
    if (r == 0 && want && !strcmp(base ? base + 1 : to, want)) raise(SIGKILL);
    return r;
}
