/* PAPI event sets, one per OpenMP pool thread (see measure/counters.h for
 * why per thread). Without PAPI (DK_HAVE_PAPI unset) every entry point says
 * so and no event is known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/counters_papi.h"
#include "runtime/error.h"

#ifdef DK_HAVE_PAPI

#include <papi.h>
#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int papi_state;          /* 0: not tried, 1: initialised, -1: failed */
static char papi_failure[256];
static pthread_once_t papi_once = PTHREAD_ONCE_INIT;

static unsigned long papi_thread_id(void) { return (unsigned long)pthread_self(); }

static void papi_init_once(void)
{
    /* deltakern counts CPU events only; the GPU components initialise their
     * vendors' libraries, which print to stderr where they find no device
     * (ROCm SMI: "Failed to open drm root directory"). Absent ones: no-ops. */
    static const char *const unused[] = {"rocm_smi", "rocm", "cuda", "nvml", "sysdetect"};
    for (size_t i = 0; i < sizeof unused / sizeof unused[0]; i++) (void)PAPI_disable_component_by_name(unused[i]);
    int v = PAPI_library_init(PAPI_VER_CURRENT);
    if (v != PAPI_VER_CURRENT) {
        snprintf(papi_failure, sizeof papi_failure, "PAPI_library_init: %s",
                 v > 0 ? "version mismatch" : PAPI_strerror(v));
        papi_state = -1;
        return;
    }
    int r = PAPI_thread_init(papi_thread_id);
    if (r != PAPI_OK) {
        snprintf(papi_failure, sizeof papi_failure, "PAPI_thread_init: %s", PAPI_strerror(r));
        papi_state = -1;
        return;
    }
    papi_state = 1;
}

static int papi_ready(void)
{
    pthread_once(&papi_once, papi_init_once);
    return papi_state == 1;
}

int dk__papi_hardware_usable(char *why, size_t n)
{
    if (!papi_ready()) {
        snprintf(why, n, "%s", papi_failure);
        return 0;
    }
    const PAPI_hw_info_t *hw = PAPI_get_hardware_info();
    const char *vm = hw && hw->virtualized ? "; a virtual machine, whose hypervisor hides the PMU" : "";
    int cidx = PAPI_get_component_index("perf_event");
    const PAPI_component_info_t *ci = cidx >= 0 ? PAPI_get_component_info(cidx) : NULL;
    if (!ci) {
        snprintf(why, n, "PAPI has no perf_event component%s", vm);
        return 0;
    }
    if (ci->disabled) {
        snprintf(why, n, "PAPI perf_event component disabled: %s%s", ci->disabled_reason, vm);
        return 0;
    }
    if (PAPI_num_cmp_hwctrs(cidx) <= 0) {
        snprintf(why, n, "PAPI reports 0 hardware counters%s", vm);
        return 0;
    }
    if (n) why[0] = '\0';
    return 1;
}

const char *dk__papi_library(void)
{
    static char buf[64];
    int v = papi_ready() ? PAPI_get_opt(PAPI_LIB_VERSION, NULL) : (int)PAPI_VER_CURRENT;
    snprintf(buf, sizeof buf, "PAPI %d.%d.%d.%d", PAPI_VERSION_MAJOR(v), PAPI_VERSION_MINOR(v),
             PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
    return buf;
}

dk__papi_class dk__papi_classify(const char *name)
{
    if (!papi_ready()) return DK_PAPI_UNKNOWN;
    int code;
    if (PAPI_event_name_to_code(name, &code) != PAPI_OK) return DK_PAPI_UNKNOWN;
    if (PAPI_query_event(code) != PAPI_OK) return DK_PAPI_UNCOUNTABLE;
    int cidx = PAPI_get_event_component(code);
    const PAPI_component_info_t *ci = cidx >= 0 ? PAPI_get_component_info(cidx) : NULL;
    return ci && !ci->disabled ? DK_PAPI_COUNTABLE : DK_PAPI_UNCOUNTABLE;
}

struct dk__papi_set {
    int n, threads;
    int *sets;        /* per thread */
    long long *vals;  /* per thread x n */
    int *rc;          /* per thread: first failing PAPI call's code */
    int *bad;         /* per thread: the event being added when it failed */
};

/* Runs `body` once on every pool thread t (0..threads-1). */
#ifdef _OPENMP
#define DK_ON_EACH_THREAD(threads, t, body)                          \
    _Pragma("omp parallel num_threads(threads)")                     \
    {                                                                \
        int t = omp_get_thread_num();                                \
        body                                                         \
    }
#else
#define DK_ON_EACH_THREAD(threads, t, body) \
    {                                       \
        int t = 0;                          \
        (void)(threads);                    \
        body                                \
    }
#endif

static dk_status first_failure(const dk__papi_set *s, const char *what)
{
    for (int t = 0; t < s->threads; t++)
        if (s->rc[t] != PAPI_OK)
            return dk__error(DK_ERR_UNAVAILABLE, "PAPI %s on thread %d: %s", what, t,
                             PAPI_strerror(s->rc[t]));
    return DK_OK;
}

dk_status dk__papi_set_create(const char *const *names, int n, int threads, dk__papi_set **out)
{
    *out = NULL;
    if (!papi_ready()) return dk__error(DK_ERR_UNAVAILABLE, "%s", papi_failure);
    dk__papi_set *s = calloc(1, sizeof *s);
    if (!s) return dk__error(DK_ERR_NOMEM, "out of memory");
    s->n = n;
    s->threads = threads;
    s->sets = malloc(sizeof *s->sets * (size_t)threads);
    s->vals = calloc((size_t)threads * (size_t)n, sizeof *s->vals);
    s->rc = calloc((size_t)threads, sizeof *s->rc);
    s->bad = calloc((size_t)threads, sizeof *s->bad);
    if (!s->sets || !s->vals || !s->rc || !s->bad) {
        dk__papi_set_destroy(s);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int t = 0; t < threads; t++) s->sets[t] = PAPI_NULL;
    DK_ON_EACH_THREAD(threads, t, {
        if (t < threads) {
            int es = PAPI_NULL;
            int r = PAPI_register_thread();
            if (r == PAPI_OK) r = PAPI_create_eventset(&es);
            for (int i = 0; r == PAPI_OK && i < n; i++) {
                r = PAPI_add_named_event(es, names[i]);
                if (r != PAPI_OK) s->bad[t] = i;
            }
            if (r == PAPI_OK) r = PAPI_start(es);
            s->sets[t] = es;
            s->rc[t] = r;
        }
    })
    for (int t = 0; t < threads; t++)
        if (s->rc[t] != PAPI_OK) {
            /* PAPI may list an event it cannot add (a virtual machine's
             * perf::CYCLES: "Event does not exist") */
            dk_status st = dk__error(DK_ERR_UNAVAILABLE,
                                     "counter event '%s': hardware counters unavailable (PAPI cannot "
                                     "count it on thread %d: %s)",
                                     names[s->bad[t]], t, PAPI_strerror(s->rc[t]));
            dk__papi_set_destroy(s);
            return st;
        }
    *out = s;
    return DK_OK;
}

dk_status dk__papi_set_read(dk__papi_set *s, long long *sums)
{
    int threads = s->threads;
    DK_ON_EACH_THREAD(threads, t, {
        if (t < s->threads) s->rc[t] = PAPI_read(s->sets[t], s->vals + (size_t)t * (size_t)s->n);
    })
    DK_TRY(first_failure(s, "read"));
    for (int i = 0; i < s->n; i++) {
        long long sum = 0;
        for (int t = 0; t < s->threads; t++) sum += s->vals[(size_t)t * (size_t)s->n + (size_t)i];
        sums[i] = sum;
    }
    return DK_OK;
}

void dk__papi_set_destroy(dk__papi_set *s)
{
    if (!s) return;
    if (s->sets) {
        int threads = s->threads;
        DK_ON_EACH_THREAD(threads, t, {
            if (t < s->threads && s->sets[t] != PAPI_NULL) {
                long long scratch[64];
                PAPI_stop(s->sets[t], scratch);
                PAPI_cleanup_eventset(s->sets[t]);
                PAPI_destroy_eventset(&s->sets[t]);
                PAPI_unregister_thread();
            }
        })
    }
    free(s->sets);
    free(s->vals);
    free(s->rc);
    free(s->bad);
    free(s);
}

#else /* !DK_HAVE_PAPI */

int dk__papi_hardware_usable(char *why, size_t n)
{
    snprintf(why, n, "deltakern was built without PAPI");
    return 0;
}

const char *dk__papi_library(void) { return "built without PAPI"; }

/* PAPI's presets are named PAPI_*: known, though nothing counts them here. */
dk__papi_class dk__papi_classify(const char *name)
{
    return strncmp(name, "PAPI_", 5) == 0 ? DK_PAPI_UNCOUNTABLE : DK_PAPI_UNKNOWN;
}

struct dk__papi_set {
    int unused;
};

dk_status dk__papi_set_create(const char *const *names, int n, int threads, dk__papi_set **out)
{
    (void)names;
    (void)n;
    (void)threads;
    *out = NULL;
    return dk__error(DK_ERR_UNAVAILABLE, "deltakern was built without PAPI");
}

dk_status dk__papi_set_read(dk__papi_set *s, long long *sums)
{
    (void)s;
    (void)sums;
    return dk__error(DK_ERR_UNAVAILABLE, "deltakern was built without PAPI");
}

void dk__papi_set_destroy(dk__papi_set *s) { (void)s; }

#endif
