/* Which OpenBLAS kernel set this process should load (deltakern/backend.h,
 * dk_openblas_better_core). OpenBLAS reads OPENBLAS_CORETYPE once, in its
 * constructor, so the answer is only useful before the program does anything
 * else: the CLI re-executes itself with the variable set. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cblas.h>

#include "deltakern/backend.h"
#include "kernels/openblas/openblas_internal.h"

/* The kernel sets of OpenBLAS 0.3.21's DYNAMIC_ARCH x86-64 build that use
 * AVX-512: nothing to gain by switching away from them. */
static int is_avx512_core(const char *core)
{
    static const char *const names[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(core, names[i])) return 1;
    return 0;
}

/* What SkylakeX's kernels execute (OpenBLAS checks the same five). */
int dk__openblas_cpu_has_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

/* The kernel sets the backend's core= option names. */
static int is_known_core(const char *core)
{
    static const char *const names[] = {"Haswell", "SkylakeX", "Cooperlake", "Zen"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(core, names[i])) return 1;
    return 0;
}

const char *dk__openblas_choose_core(const char *wanted, const char *env, const char *loaded,
                                     int cpu_avx512)
{
    /* a variant's core= is the most specific request: it wins over the
     * environment (an unknown name is left to the option parser's error) */
    if (wanted && *wanted && strcasecmp(wanted, "auto"))
        return is_known_core(wanted) && strcasecmp(wanted, loaded) ? wanted : NULL;
    if (env || is_avx512_core(loaded) || !cpu_avx512) return NULL;
    return "SkylakeX";
}

const char *dk_openblas_better_core(const char *wanted)
{
    return dk__openblas_choose_core(wanted, getenv("OPENBLAS_CORETYPE"), openblas_get_corename(),
                                    dk__openblas_cpu_has_avx512());
}
