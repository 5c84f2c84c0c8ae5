/* The load of the host while something is timed: /proc/stat (procs_running,
 * the steal and guest columns), /proc/loadavg, the states of our own threads
 * (/proc/self/task) and getrusage(RUSAGE_SELF). Sampled at the start and end
 * of the timed window and between repetitions, never inside a timed region.
 * bench watches its recorded rounds with it (bench_host_load.c writes what it
 * saw into the result), oneDNN's opt=3 the timing of its candidates. The
 * rule is in dk__host_verdict (docs/bench.md says why these limits). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/host_load.h"
#include "runtime/timer.h"

#define DK_HOST_MAX_PROC_FILE ((size_t)4 << 20)
#define DK_HOST_EAGER_SAMPLES 64      /* then at most one sample per ... */
#define DK_HOST_SAMPLE_GAP_S 0.002    /* ... 2 ms, so a tiny model's loop is not all sampling */

/* ---- parsers (text in, numbers out) ------------------------------------------- */

int dk__host_parse_stat(const char *text, dk__proc_stat *out)
{
    memset(out, 0, sizeof *out);
    out->procs_running = -1;
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, "cpu ", 4)) {
            unsigned long long v[10] = {0};
            int n = sscanf(p + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                           &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
            if (n >= 4) {
                out->have_cpu = 1;
                out->n_fields = n;
                out->user = v[0], out->nice = v[1], out->system = v[2], out->idle = v[3], out->iowait = v[4];
                out->irq = v[5], out->softirq = v[6], out->steal = v[7], out->guest = v[8], out->guest_nice = v[9];
            }
        } else if (!strncmp(p, "procs_running ", 14)) {
            char *end;
            long r = strtol(p + 14, &end, 10);
            if (end != p + 14 && r >= 0) out->procs_running = r;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return out->have_cpu ? 0 : -1;
}

int dk__host_parse_loadavg(const char *text, double la[3])
{
    return text && sscanf(text, "%lf %lf %lf", &la[0], &la[1], &la[2]) == 3 && la[0] >= 0 && la[1] >= 0 &&
                   la[2] >= 0 ? 0 : -1;
}

char dk__host_parse_task_state(const char *text)
{
    const char *p = text ? strrchr(text, ')') : NULL; /* the command name may hold ')' and spaces */
    if (!p || p[1] != ' ' || !p[2] || p[2] == ' ' || p[2] == '\n') return 0;
    return p[2];
}

/* ---- the rule ----------------------------------------------------------------- */

int dk__host_verdict(const dk__host_figures *f, char *why, size_t n)
{
    int known = 0, disturbed = 0, len = 0;
    if (n) why[0] = 0;
#define DK_REASON(...)                                                                             \
    do {                                                                                           \
        if (disturbed++ && len >= 0 && (size_t)len < n) len += snprintf(why + len, n - (size_t)len, "; "); \
        if (len >= 0 && (size_t)len < n) len += snprintf(why + len, n - (size_t)len, __VA_ARGS__);   \
    } while (0)
    if (isfinite(f->others_mean)) {
        known++;
        if (f->others_mean >= DK_HOST_OTHERS_LIMIT)
            DK_REASON("%.2f other runnable tasks on average (limit %.1f)", f->others_mean, DK_HOST_OTHERS_LIMIT);
    }
    if (isfinite(f->steal_share)) {
        known++;
        if (f->steal_share >= DK_HOST_STEAL_LIMIT)
            DK_REASON("%.1f%% of the CPU time stolen (limit %.0f%%)", f->steal_share * 100, DK_HOST_STEAL_LIMIT * 100);
    }
    if (isfinite(f->invol_per_s)) {
        known++;
        if (f->invol_per_s >= DK_HOST_INVOL_LIMIT && f->invol >= DK_HOST_INVOL_MIN)
            DK_REASON("%.0f involuntary context switches/s (limit %.0f)", f->invol_per_s, DK_HOST_INVOL_LIMIT);
    }
#undef DK_REASON
    return disturbed ? 1 : known ? 0 : -1;
}

/* ---- reading /proc ------------------------------------------------------------ */

/* The whole of a (small, virtual) file as a string; NULL with errno set. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (ferror(f) || len < cap - 1) break;
        if (cap >= DK_HOST_MAX_PROC_FILE) break;
        char *more = realloc(buf, cap * 2);
        if (!more) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = more;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (buf && err) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    if (buf) buf[len] = 0;
    return buf;
}

static int read_stat(dk__proc_stat *s, char *why, size_t n)
{
    char *text = slurp("/proc/stat");
    if (!text) {
        snprintf(why, n, "/proc/stat: %s", strerror(errno));
        return -1;
    }
    int rc = dk__host_parse_stat(text, s);
    free(text);
    if (rc) snprintf(why, n, "/proc/stat: no aggregate cpu line");
    return rc;
}

static int read_loadavg(double la[3], char *why, size_t n)
{
    char *text = slurp("/proc/loadavg");
    if (!text) {
        snprintf(why, n, "/proc/loadavg: %s", strerror(errno));
        return -1;
    }
    int rc = dk__host_parse_loadavg(text, la);
    free(text);
    if (rc) snprintf(why, n, "/proc/loadavg: unexpected format");
    return rc;
}

/* Our threads now runnable (state R); -1 when /proc/self/task is unreadable. */
static long own_running(char *why, size_t n)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        snprintf(why, n, "/proc/self/task: %s", strerror(errno));
        return -1;
    }
    long running = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[64], text[512];
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended meanwhile */
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[got] = 0;
        running += dk__host_parse_task_state(text) == 'R';
    }
    closedir(d);
    return running;
}

static int read_rusage(long *nvcsw, long *nivcsw, double *cpu, char *why, size_t n)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        snprintf(why, n, "getrusage: %s", strerror(errno));
        return -1;
    }
    *nvcsw = ru.ru_nvcsw;
    *nivcsw = ru.ru_nivcsw;
    *cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
    return 0;
}

/* ---- the sampler ------------------------------------------------------------- */

static void sample_now(dk__host_load *h)
{
    char why[160] = "";
    dk__proc_stat s;
    long own = -1;
    if (read_stat(&s, why, sizeof why) == 0) {
        if (s.procs_running < 0) snprintf(why, sizeof why, "/proc/stat: no procs_running line");
        else own = own_running(why, sizeof why);
    }
    h->last_sample = dk__now();
    if (own < 0) {
        if (!h->others_why[0]) snprintf(h->others_why, sizeof h->others_why, "%s", why);
        return;
    }
    /* the two reads are not one instant: a thread of ours may have stopped
     * running in between */
    long others = s.procs_running - own;
    if (others < 0) others = 0;
    h->n_samples++;
    h->others_sum += (double)others;
    h->procs_sum += (double)s.procs_running;
    h->own_sum += (double)own;
    if (others > h->others_max) h->others_max = others;
}

void dk__host_load_begin(dk__host_load *h)
{
    memset(h, 0, sizeof *h);
    h->started = 1;
    h->clk_tck = sysconf(_SC_CLK_TCK);
    h->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    h->la0_ok = read_loadavg(h->la0, h->la_why, sizeof h->la_why) == 0;
    h->ru_ok = read_rusage(&h->ru_nvcsw0, &h->ru_nivcsw0, &h->ru_cpu0, h->ru_why, sizeof h->ru_why) == 0;
    h->stat_ok = read_stat(&h->s0, h->stat_why, sizeof h->stat_why) == 0;
    sample_now(h);
    h->t0 = dk__now();
}

void dk__host_load_sample(dk__host_load *h)
{
    if (!h->started || h->ended) return;
    if (h->n_samples >= DK_HOST_EAGER_SAMPLES && dk__now() - h->last_sample < DK_HOST_SAMPLE_GAP_S) return;
    sample_now(h);
}

void dk__host_load_end(dk__host_load *h, int runs)
{
    if (!h->started || h->ended) return;
    h->t1 = dk__now();
    h->ended = 1;
    h->runs = runs;
    long nv, niv;
    double cpu;
    if (h->ru_ok && read_rusage(&nv, &niv, &cpu, h->ru_why, sizeof h->ru_why) == 0) {
        h->nvcsw = nv - h->ru_nvcsw0;
        h->nivcsw = niv - h->ru_nivcsw0;
        h->cpu_s = cpu - h->ru_cpu0;
    } else {
        h->ru_ok = 0;
    }
    if (h->stat_ok && read_stat(&h->s1, h->stat_why, sizeof h->stat_why) != 0) h->stat_ok = 0;
    h->la1_ok = read_loadavg(h->la1, h->la_why, sizeof h->la_why) == 0;
    sample_now(h);
}

/* ---- what was seen ------------------------------------------------------------ */

double dk__host_load_wall(const dk__host_load *h) { return h->ended ? h->t1 - h->t0 : 0; }

/* Host-wide tick deltas: all, stolen, guest, busy (user to softirq). */
int dk__host_load_ticks(const dk__host_load *h, double *all, double *steal, double *guest, double *busy)
{
    if (!h->stat_ok) return -1;
    const dk__proc_stat *a = &h->s0, *b = &h->s1;
#define D(f) ((double)(b->f >= a->f ? b->f - a->f : 0))
    *busy = D(user) + D(nice) + D(system) + D(irq) + D(softirq); /* guest time is inside user */
    *steal = a->n_fields >= 8 && b->n_fields >= 8 ? D(steal) : NAN;
    *guest = a->n_fields >= 9 && b->n_fields >= 9 ? D(guest) + (b->n_fields >= 10 ? D(guest_nice) : 0) : NAN;
    *all = *busy + D(idle) + D(iowait) + (isfinite(*steal) ? *steal : 0);
#undef D
    return 0;
}

void dk__host_load_figures(const dk__host_load *h, dk__host_figures *f)
{
    double all, steal, guest, busy, wall = dk__host_load_wall(h);
    f->others_mean = h->n_samples > 0 ? h->others_sum / h->n_samples : NAN;
    f->steal_share = dk__host_load_ticks(h, &all, &steal, &guest, &busy) == 0 && all > 0 ? steal / all : NAN;
    f->invol_per_s = h->ru_ok && wall > 0 ? (double)h->nivcsw / wall : NAN;
    f->invol = h->ru_ok ? (double)h->nivcsw : NAN;
}
