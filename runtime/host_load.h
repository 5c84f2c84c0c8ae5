/* Internal: the load of the host while something is timed (Linux /proc and
 * getrusage), sampled around and between the timed regions, never inside
 * them, and the rule that calls a measurement disturbed (docs/bench.md):
 * bench's recorded rounds, oneDNN opt=3's timing of its candidates.
 *
 * The parsers take text, so that the unit tests can feed them recorded
 * /proc content; the sampler reads the files and calls them. */
#ifndef DK_RUNTIME_HOST_LOAD_H
#define DK_RUNTIME_HOST_LOAD_H

#include <stddef.h>

/* The rule: disturbed when any measured quantity reaches its limit. */
#define DK_HOST_OTHERS_LIMIT 0.5     /* other runnable tasks on average over the samples */
#define DK_HOST_STEAL_LIMIT 0.03     /* stolen share of the host's CPU time */
#define DK_HOST_INVOL_LIMIT 120.0    /* our involuntary context switches per second, */
#define DK_HOST_INVOL_MIN 10         /* counted when at least this many (a short run's rate is noise) */

/* The aggregate "cpu" line of /proc/stat, in clock ticks, and procs_running. */
typedef struct dk__proc_stat {
    int have_cpu;             /* the "cpu" line was found */
    int n_fields;             /* columns it had (steal from 8, guest from 9) */
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
    long procs_running;       /* -1: no such line */
} dk__proc_stat;

/* /proc/stat text; 0 when a "cpu" line was found, else -1. */
int dk__host_parse_stat(const char *text, dk__proc_stat *out);
/* /proc/loadavg text: the 1, 5 and 15 minute averages; 0 or -1. */
int dk__host_parse_loadavg(const char *text, double la[3]);
/* A task's /proc/.../stat text: its state letter ('R', 'S', ...), 0 when malformed. */
char dk__host_parse_task_state(const char *text);

/* The derived numbers the rule looks at; NAN where a source was unreadable. */
typedef struct dk__host_figures {
    double others_mean;       /* other runnable tasks, mean over the samples */
    double steal_share;       /* stolen ticks / all ticks of the host over the run */
    double invol_per_s;       /* our involuntary context switches per second of wall time */
    double invol;             /* their number */
} dk__host_figures;

/* The verdict: 1 disturbed, 0 quiet, -1 unknown (no figure known). why gets
 * the reasons, "; "-separated ("" when none). */
int dk__host_verdict(const dk__host_figures *f, char *why, size_t n);

/* A run's samples. */
typedef struct dk__host_load {
    int started, ended;
    double t0, t1;                    /* dk__now() */
    dk__proc_stat s0, s1;
    int stat_ok;                      /* both ends read with a cpu line */
    char stat_why[160];
    double la0[3], la1[3];
    int la0_ok, la1_ok;
    char la_why[160];
    long nvcsw, nivcsw;               /* deltas (getrusage RUSAGE_SELF: every thread) */
    double cpu_s;                     /* our user + system time */
    int ru_ok;
    char ru_why[160];
    long ru_nvcsw0, ru_nivcsw0;
    double ru_cpu0;
    /* periodic: procs_running minus our running threads */
    int n_samples;
    double others_sum, procs_sum, own_sum;
    long others_max;
    char others_why[160];             /* why a sample failed ("" when none did) */
    double last_sample;
    int runs;                         /* repetitions measured (all variants) */
    long clk_tck, online_cpus;
} dk__host_load;

void dk__host_load_begin(dk__host_load *h);
/* Between repetitions; cheap, rate-limited after the first 64 samples. */
void dk__host_load_sample(dk__host_load *h);
void dk__host_load_end(dk__host_load *h, int runs);

/* Seconds between begin and end (0 before end). */
double dk__host_load_wall(const dk__host_load *h);
/* Host-wide tick deltas between begin and end: all, stolen, guest (NAN
 * without those columns) and busy (user to softirq); -1 when unread. */
int dk__host_load_ticks(const dk__host_load *h, double *all, double *steal, double *guest, double *busy);

/* The figures the rule takes. */
void dk__host_load_figures(const dk__host_load *h, dk__host_figures *f);

#endif
