/* Performance counters around a region, summed over the OpenMP pool's
 * threads: perf software events through perf_event_open(2), everything else
 * through PAPI (runtime/counters_papi.c). The header says why. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "measure/counters.h"
#include "measure/counters_papi.h"
#include "runtime/error.h"

#define MAX_THREADS 256
#define NAME_MAX_LEN 96

/* The Linux software events, under the names libpfm4 gives them in PAPI. */
static const struct sw_event {
    const char *name;
    unsigned long long config;
} sw_events[] = {
    {"TASK-CLOCK", PERF_COUNT_SW_TASK_CLOCK},
    {"CPU-CLOCK", PERF_COUNT_SW_CPU_CLOCK},
    {"PAGE-FAULTS", PERF_COUNT_SW_PAGE_FAULTS},
    {"MINOR-FAULTS", PERF_COUNT_SW_PAGE_FAULTS_MIN},
    {"MAJOR-FAULTS", PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    {"CONTEXT-SWITCHES", PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"CPU-MIGRATIONS", PERF_COUNT_SW_CPU_MIGRATIONS},
    {"ALIGNMENT-FAULTS", PERF_COUNT_SW_ALIGNMENT_FAULTS},
    {"EMULATION-FAULTS", PERF_COUNT_SW_EMULATION_FAULTS},
};
#define N_SW ((int)(sizeof sw_events / sizeof sw_events[0]))

/* perf's generic hardware events: known names that need the PMU. */
static const char *const hw_generic[] = {
    "CYCLES", "CPU-CYCLES", "INSTRUCTIONS", "CACHE-REFERENCES", "CACHE-MISSES", "BRANCHES",
    "BRANCH-INSTRUCTIONS", "BRANCH-MISSES", "BUS-CYCLES", "REF-CYCLES",
    "STALLED-CYCLES-FRONTEND", "STALLED-CYCLES-BACKEND",
};

static const char default_hw[] = "PAPI_TOT_CYC,PAPI_TOT_INS,PAPI_L1_DCM";
static const char default_sw[] = "perf::TASK-CLOCK,perf::PAGE-FAULTS,perf::CONTEXT-SWITCHES";

struct dk_counters {
    int n;
    char names[DK_COUNTERS_MAX_EVENTS][NAME_MAX_LEN];
    char note[512];
    int threads;
    int pool_size;       /* omp_get_max_threads() when the tids were recorded */
    pid_t tids[MAX_THREADS];
    /* software events: one perf group per thread, read with PERF_FORMAT_GROUP */
    int n_sw;
    int sw_slot[DK_COUNTERS_MAX_EVENTS];        /* event index of software event j */
    int sw_event[DK_COUNTERS_MAX_EVENTS];       /* its row in sw_events */
    int sw_fd[MAX_THREADS][DK_COUNTERS_MAX_EVENTS];
    long long sw_base[DK_COUNTERS_MAX_EVENTS];  /* summed over threads at start */
    /* PAPI events */
    int n_papi;
    int papi_slot[DK_COUNTERS_MAX_EVENTS];
    dk__papi_set *papi;
    long long papi_base[DK_COUNTERS_MAX_EVENTS];
    int started;
};

/* Index into sw_events for "perf::NAME" (or "perf::PERF_COUNT_SW_NAME"), -1 otherwise. */
static int sw_lookup(const char *name)
{
    if (strncasecmp(name, "perf::", 6) != 0) return -1;
    const char *e = name + 6;
    for (int i = 0; i < N_SW; i++) {
        if (strcasecmp(e, sw_events[i].name) == 0) return i;
        /* PERF_COUNT_SW_TASK_CLOCK spells the same event with '_' */
        char alt[64] = "PERF_COUNT_SW_";
        size_t k = strlen(alt);
        for (const char *p = sw_events[i].name; *p && k + 1 < sizeof alt; p++) alt[k++] = *p == '-' ? '_' : *p;
        alt[k] = '\0';
        if (strcasecmp(e, alt) == 0) return i;
    }
    return -1;
}

static int hw_generic_lookup(const char *name)
{
    if (strncasecmp(name, "perf::", 6) != 0) return 0;
    for (size_t i = 0; i < sizeof hw_generic / sizeof hw_generic[0]; i++)
        if (strcasecmp(name + 6, hw_generic[i]) == 0) return 1;
    return 0;
}

static int perf_open(unsigned long long config, pid_t tid, int group, int *err)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = config;
    a.read_format = PERF_FORMAT_GROUP;
    /* kernel-side counting (context switches happen in the kernel) where allowed */
    int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, group, 0);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, group, 0);
    }
    if (fd < 0) *err = errno;
    return fd;
}

const char *dk_counters_software_available(char *buf, size_t n)
{
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < N_SW; i++) {
        int err = 0;
        int fd = perf_open(sw_events[i].config, 0, -1, &err);
        if (fd < 0) continue;
        close(fd);
        int w = snprintf(buf + used, used < n ? n - used : 0, "%sperf::%s", used ? "," : "", sw_events[i].name);
        if (w > 0) used += (size_t)w;
    }
    return buf;
}

/* The OpenMP pool's thread ids (thread 0 is the caller); *asked receives
 * the omp_get_max_threads() they answer. */
static int pool_threads(pid_t *tids, int max, int *asked)
{
#ifdef _OPENMP
    int want = omp_get_max_threads();
    *asked = want;
    if (want > max) want = max;
    int got = 1;
#pragma omp parallel num_threads(want)
    {
        int t = omp_get_thread_num();
        if (t < want) tids[t] = (pid_t)syscall(SYS_gettid);
        if (t == 0) got = omp_get_num_threads();
    }
    return got < want ? got : want;
#else
    (void)max;
    *asked = 1;
    tids[0] = (pid_t)syscall(SYS_gettid);
    return 1;
#endif
}

static void close_sw(dk_counters *c)
{
    for (int t = 0; t < c->threads; t++)
        for (int j = 0; j < c->n_sw; j++) {
            if (c->sw_fd[t][j] >= 0) close(c->sw_fd[t][j]);
            c->sw_fd[t][j] = -1;
        }
}

void dk_counters_destroy(dk_counters *c)
{
    if (!c) return;
    close_sw(c);
    dk__papi_set_destroy(c->papi);
    free(c);
}

static dk_status open_sw(dk_counters *c)
{
    for (int t = 0; t < c->threads; t++)
        for (int j = 0; j < c->n_sw; j++) {
            int err = 0;
            int fd = perf_open(sw_events[c->sw_event[j]].config, c->tids[t], j ? c->sw_fd[t][0] : -1, &err);
            if (fd < 0)
                return dk__error(DK_ERR_UNAVAILABLE,
                                 "counter event '%s': perf_event_open on thread %d refused: %s "
                                 "(see /proc/sys/kernel/perf_event_paranoid)",
                                 c->names[c->sw_slot[j]], (int)c->tids[t], strerror(err));
            c->sw_fd[t][j] = fd;
        }
    return DK_OK;
}

/* The counts of the software events now, summed over threads. */
static dk_status read_sw(dk_counters *c, long long *sums)
{
    for (int j = 0; j < c->n_sw; j++) sums[j] = 0;
    for (int t = 0; t < c->threads; t++) {
        uint64_t buf[1 + DK_COUNTERS_MAX_EVENTS];
        ssize_t want = (ssize_t)(sizeof(uint64_t) * (size_t)(1 + c->n_sw));
        ssize_t r = read(c->sw_fd[t][0], buf, sizeof buf);
        if (r < want || buf[0] != (uint64_t)c->n_sw)
            return dk__error(DK_ERR_INTERNAL, "reading perf counters of thread %d: %s",
                             (int)c->tids[t], r < 0 ? strerror(errno) : "short read");
        for (int j = 0; j < c->n_sw; j++) sums[j] += (long long)buf[1 + j];
    }
    return DK_OK;
}

/* Splits "A,B" into c->names; trims blanks. */
static dk_status split_names(dk_counters *c, const char *events)
{
    const char *p = events;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0) return dk__error(DK_ERR_INVALID, "counter events '%s': empty event name", events);
        if (c->n == DK_COUNTERS_MAX_EVENTS)
            return dk__error(DK_ERR_INVALID, "counter events '%s': more than %d events", events,
                             DK_COUNTERS_MAX_EVENTS);
        if (len >= NAME_MAX_LEN)
            return dk__error(DK_ERR_INVALID, "counter event '%.*s...': name too long", 40, p);
        memcpy(c->names[c->n], p, len);
        c->names[c->n][len] = '\0';
        for (int i = 0; i < c->n; i++)
            if (strcasecmp(c->names[i], c->names[c->n]) == 0)
                return dk__error(DK_ERR_INVALID, "counter event '%s' given twice", c->names[c->n]);
        c->n++;
        if (!e) break;
        p = e + 1;
        if (!*p) return dk__error(DK_ERR_INVALID, "counter events '%s': empty event name", events);
    }
    if (c->n == 0) return dk__error(DK_ERR_INVALID, "counter events: empty list");
    return DK_OK;
}

/* Sorts every named event into software or PAPI, or fails naming it. */
static dk_status classify(dk_counters *c)
{
    char why[256], avail[512];
    for (int i = 0; i < c->n; i++) {
        const char *name = c->names[i];
        int k = sw_lookup(name);
        if (k >= 0) {
            c->sw_slot[c->n_sw] = i;
            c->sw_event[c->n_sw++] = k;
            continue;
        }
        dk__papi_class pc = dk__papi_classify(name);
        if (pc == DK_PAPI_COUNTABLE && dk__papi_hardware_usable(why, sizeof why)) {
            c->papi_slot[c->n_papi++] = i;
            continue;
        }
        if (pc != DK_PAPI_UNKNOWN || hw_generic_lookup(name)) {
            if (dk__papi_hardware_usable(why, sizeof why))
                snprintf(why, sizeof why, "PAPI knows the event but cannot count it on this CPU");
            dk_counters_software_available(avail, sizeof avail);
            return dk__error(DK_ERR_UNAVAILABLE,
                             "counter event '%s': hardware counters unavailable (%s); software "
                             "events available here: %s",
                             name, why, avail[0] ? avail : "none (perf_event_open refused)");
        }
        int hw = dk__papi_hardware_usable(why, sizeof why);
        return dk__error(DK_ERR_INVALID,
                         "unknown counter event '%s' (`papi_avail` and `papi_native_avail` list "
                         "the names; software events: perf::TASK-CLOCK, perf::PAGE-FAULTS, "
                         "perf::CONTEXT-SWITCHES, ...%s%s)",
                         name, hw ? "" : "; native hardware events unknown here: ", hw ? "" : why);
    }
    return DK_OK;
}

/* Opens every event on every pool thread. */
static dk_status open_events(dk_counters *c)
{
    if (c->n_sw) DK_TRY(open_sw(c));
    if (c->n_papi) {
        const char *names[DK_COUNTERS_MAX_EVENTS];
        for (int j = 0; j < c->n_papi; j++) names[j] = c->names[c->papi_slot[j]];
        DK_TRY(dk__papi_set_create(names, c->n_papi, c->threads, &c->papi));
    }
    return DK_OK;
}

static dk_status setup(dk_counters *c, const char *events)
{
    DK_TRY(split_names(c, events));
    DK_TRY(classify(c));
    return open_events(c);
}

/* The pool grew or shrank since creation (a session set another thread
 * count): counts on the pool as it is now. */
static dk_status follow_pool(dk_counters *c)
{
#ifdef _OPENMP
    if (omp_get_max_threads() == c->pool_size) return DK_OK;
    close_sw(c);
    dk__papi_set_destroy(c->papi);
    c->papi = NULL;
    c->threads = pool_threads(c->tids, MAX_THREADS, &c->pool_size);
    return open_events(c);
#else
    (void)c;
    return DK_OK;
#endif
}

static dk_counters *counters_new(void)
{
    dk_counters *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    for (int t = 0; t < MAX_THREADS; t++)
        for (int j = 0; j < DK_COUNTERS_MAX_EVENTS; j++) c->sw_fd[t][j] = -1;
    c->threads = pool_threads(c->tids, MAX_THREADS, &c->pool_size);
    return c;
}

dk_status dk_counters_create(const char *events, dk_counters **out)
{
    *out = NULL;
    dk_counters *c = counters_new();
    if (!c) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status st;
    if (events && *events && strcmp(events, "default") != 0) {
        st = setup(c, events);
    } else {
        char why[256];
        st = DK_ERR_UNAVAILABLE;
        if (dk__papi_hardware_usable(why, sizeof why)) {
            static const char *const hw[] = {"PAPI_TOT_CYC", "PAPI_TOT_INS", "PAPI_L1_DCM"};
            const char *missing = NULL;
            for (int i = 0; i < 3 && !missing; i++)
                if (dk__papi_classify(hw[i]) != DK_PAPI_COUNTABLE) missing = hw[i];
            if (missing) snprintf(why, sizeof why, "PAPI cannot count %s on this CPU", missing);
            else if ((st = setup(c, default_hw)) != DK_OK) snprintf(why, sizeof why, "%s", dk_last_error());
        }
        if (st != DK_OK) {
            dk_counters_destroy(c);
            if (!(c = counters_new())) return dk__error(DK_ERR_NOMEM, "out of memory");
            snprintf(c->note, sizeof c->note,
                     "hardware counters unavailable (%s): counting perf software events", why);
            st = setup(c, default_sw);
        }
    }
    if (st != DK_OK) {
        dk_counters_destroy(c);
        return st;
    }
    *out = c;
    return DK_OK;
}

const char *dk_counters_library(void) { return dk__papi_library(); }

int dk_counters_count(const dk_counters *c) { return c->n; }
const char *dk_counters_name(const dk_counters *c, int i) { return i >= 0 && i < c->n ? c->names[i] : NULL; }
const char *dk_counters_note(const dk_counters *c) { return c->note; }
int dk_counters_threads(const dk_counters *c) { return c->threads; }

dk_status dk_counters_start(dk_counters *c)
{
    DK_TRY(follow_pool(c));
    if (c->n_sw) DK_TRY(read_sw(c, c->sw_base));
    if (c->n_papi) DK_TRY(dk__papi_set_read(c->papi, c->papi_base));
    c->started = 1;
    return DK_OK;
}

dk_status dk_counters_stop(dk_counters *c, long long *values)
{
    if (!c->started) return dk__error(DK_ERR_INVALID, "counters stopped without a start");
    c->started = 0;
    long long now[DK_COUNTERS_MAX_EVENTS];
    if (c->n_sw) {
        DK_TRY(read_sw(c, now));
        for (int j = 0; j < c->n_sw; j++) values[c->sw_slot[j]] = now[j] - c->sw_base[j];
    }
    if (c->n_papi) {
        DK_TRY(dk__papi_set_read(c->papi, now));
        for (int j = 0; j < c->n_papi; j++) values[c->papi_slot[j]] = now[j] - c->papi_base[j];
    }
    return DK_OK;
}
