/* Unit tests for the host-load sampler's parsers and the rule that calls a
 * measurement disturbed (runtime/host_load.c; the record bench writes,
 * drivers/bench/bench_host_load.c), fed with /proc
 * content recorded on the 2-core development VM (Linux 6.18 under Firecracker, HZ 100): never
 * with the live host, which is shared and cannot be relied on to be quiet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/bench/bench_host_load.h"
#include "test_util.h"

/* /proc/stat 3 s apart while other developers' jobs (two multi-threaded
 * `deltakern selftest`/`diff` processes, nice 5) kept both cores busy:
 * procs_running 5 and 4, idle not advancing. */
static const char others_stat0[] =
    "cpu  5681581 1721126 2416612 3202670 27118 0 14516 0 0 0\n"
    "cpu0 2730830 854138 1139265 1796680 5682 0 4154 0 0 0\n"
    "cpu1 2950750 866988 1277347 1405989 21436 0 10361 0 0 0\n"
    "intr 37806698 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13119 4641 0 1080 1 "
    "5078284 0 75546 54885 0 11306 107191 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 51198660\n"
    "btime 1796205017\n"
    "processes 650143\n"
    "procs_running 5\n"
    "procs_blocked 0\n"
    "softirq 21832752 0 3661162 6 196015 5076973 0 176 3609783 76 9288561\n";

static const char others_stat1[] =
    "cpu  5681583 1721684 2416666 3202670 27119 0 14516 0 0 0\n"
    "cpu0 2730832 854428 1139280 1796681 5683 0 4154 0 0 0\n"
    "cpu1 2950751 867255 1277386 1405989 21436 0 10361 0 0 0\n"
    "intr 37808506 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13119 4641 0 1080 1 "
    "5078310 0 75546 54885 0 11308 107197 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 51200566\n"
    "btime 1796205017\n"
    "processes 650158\n"
    "procs_running 4\n"
    "procs_blocked 0\n"
    "softirq 21833350 0 3661303 6 196015 5076999 0 176 3609911 76 9288864\n";

/* /proc/self/stat of `cat` as recorded (state R: it was reading the file). */
static const char cat_stat[] =
    "965 (cat) R 961 961 24388 0 -1 4194304 118 0 0 0 0 0 0 0 20 0 1 0 6560171 3133440 388 18446744073709551615 "
    "94809088262144 94809088282025 140720429098080 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94809088298032 "
    "94809088299648 94810116546560 140720429103549 140720429103569 140720429103569 140720429105131 0\n";

static void assert_near(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) fail_msg("%s: %.17g, expected %.17g (tol %g)", what, got, want, tol);
}

static void test_parse_stat(void **state)
{
    (void)state;
    dk__proc_stat s;
    assert_int_equal(dk__host_parse_stat(others_stat0, &s), 0);
    assert_int_equal(s.have_cpu, 1);
    assert_int_equal(s.n_fields, 10);
    assert_true(s.user == 5681581ull && s.nice == 1721126ull && s.system == 2416612ull && s.idle == 3202670ull);
    assert_true(s.iowait == 27118ull && s.irq == 0 && s.softirq == 14516ull && s.steal == 0 && s.guest == 0);
    assert_int_equal(s.procs_running, 5); /* after the 900-column intr line */
    assert_int_equal(dk__host_parse_stat(others_stat1, &s), 0);
    assert_int_equal(s.procs_running, 4);
}

/* Kernels before 2.6.11 had no steal column, before 2.6.24 no guest; old
 * ones no procs_running line. A missing column is "unknown", never 0. */
static void test_parse_stat_old_formats(void **state)
{
    (void)state;
    dk__proc_stat s;
    assert_int_equal(dk__host_parse_stat("cpu  10 20 30 40\ncpu0 10 20 30 40\n", &s), 0);
    assert_int_equal(s.n_fields, 4);
    assert_int_equal(s.procs_running, -1);
    assert_int_equal(dk__host_parse_stat("cpu  1 2 3 4 5 6 7\nprocs_running 3\n", &s), 0);
    assert_int_equal(s.n_fields, 7);
    assert_int_equal(s.procs_running, 3);
    assert_int_equal(dk__host_parse_stat("cpu  1 2 3 4 5 6 7 8 9\n", &s), 0);
    assert_int_equal(s.n_fields, 9);
    assert_true(s.steal == 8 && s.guest == 9);
}

static void test_parse_stat_malformed(void **state)
{
    (void)state;
    dk__proc_stat s;
    assert_int_equal(dk__host_parse_stat("", &s), -1);
    assert_int_equal(dk__host_parse_stat(NULL, &s), -1);
    /* per-CPU lines only: no aggregate */
    assert_int_equal(dk__host_parse_stat("cpu0 1 2 3 4\ncpu1 1 2 3 4\nprocs_running 2\n", &s), -1);
    assert_int_equal(s.procs_running, 2);
    assert_int_equal(dk__host_parse_stat("cpu  1 2 x\n", &s), -1);
    assert_int_equal(dk__host_parse_stat("cpu  1 2 3 4\nprocs_running -4\n", &s), 0);
    assert_int_equal(s.procs_running, -1);
    assert_int_equal(dk__host_parse_stat("cpu  1 2 3 4\nprocs_running\n", &s), 0);
    assert_int_equal(s.procs_running, -1);
}

static void test_parse_loadavg(void **state)
{
    (void)state;
    double la[3];
    assert_int_equal(dk__host_parse_loadavg("7.13 7.91 5.67 5/107 964\n", la), 0);
    assert_near("1 min", la[0], 7.13, 0);
    assert_near("5 min", la[1], 7.91, 0);
    assert_near("15 min", la[2], 5.67, 0);
    assert_int_equal(dk__host_parse_loadavg("", la), -1);
    assert_int_equal(dk__host_parse_loadavg("1.0 2.0\n", la), -1);
    assert_int_equal(dk__host_parse_loadavg("-1 0 0 1/1 1\n", la), -1);
    assert_int_equal(dk__host_parse_loadavg(NULL, la), -1);
}

static void test_parse_task_state(void **state)
{
    (void)state;
    assert_int_equal(dk__host_parse_task_state(cat_stat), 'R');
    /* a command name may hold spaces and ')': the state follows the last ')' */
    assert_int_equal(dk__host_parse_task_state("42 (a) S (b)) S 1 42 42 0\n"), 'S');
    assert_int_equal(dk__host_parse_task_state("42 (omp worker) R 1\n"), 'R');
    assert_int_equal(dk__host_parse_task_state("42 (x)"), 0);
    assert_int_equal(dk__host_parse_task_state("42 x R 1"), 0);
    assert_int_equal(dk__host_parse_task_state(""), 0);
    assert_int_equal(dk__host_parse_task_state(NULL), 0);
}

/* The rule at its limits, and "unknown" when nothing could be read. */
static void test_verdict_rule(void **state)
{
    (void)state;
    char why[512];
    dk__host_figures f = {.others_mean = 0.49, .steal_share = 0.029, .invol_per_s = 119.9, .invol = 500};
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
    assert_string_equal(why, "");
    f.others_mean = DK_HOST_OTHERS_LIMIT;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "0.50 other runnable tasks on average (limit 0.5)");
    f.others_mean = 0;
    f.steal_share = DK_HOST_STEAL_LIMIT;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "3.0% of the CPU time stolen (limit 3%)");
    f.steal_share = 0;
    f.invol_per_s = DK_HOST_INVOL_LIMIT;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "120 involuntary context switches/s (limit 120)");
    /* a short run's rate: 9 switches in 10 ms is 900/s, and no evidence */
    f.invol_per_s = 900;
    f.invol = DK_HOST_INVOL_MIN - 1;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
    f = (dk__host_figures){.others_mean = 2, .steal_share = 0.1, .invol_per_s = 300, .invol = 3000};
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "2.00 other runnable tasks on average (limit 0.5); 10.0% of the CPU time stolen "
                             "(limit 3%); 300 involuntary context switches/s (limit 120)");
    /* a short buffer truncates, never overruns */
    char tiny[8];
    assert_int_equal(dk__host_verdict(&f, tiny, sizeof tiny), 1);
    assert_int_equal(strlen(tiny), 7);
    f = (dk__host_figures){.others_mean = NAN, .steal_share = NAN, .invol_per_s = NAN, .invol = NAN};
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), -1);
    f.steal_share = 0;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
}

/* A run as the sampler would have recorded it: /proc/stat at both ends,
 * the periodic samples' sums, getrusage's deltas. */
static dk__host_load recorded(const char *stat0, const char *stat1, double wall_s, int samples, double others_sum,
                              long others_max, double own_sum, long nvcsw, long nivcsw, double cpu_s, int runs)
{
    dk__host_load h;
    memset(&h, 0, sizeof h);
    h.started = h.ended = 1;
    h.t0 = 100;
    h.t1 = 100 + wall_s;
    h.stat_ok = dk__host_parse_stat(stat0, &h.s0) == 0 && dk__host_parse_stat(stat1, &h.s1) == 0;
    h.n_samples = samples;
    h.others_sum = others_sum;
    h.procs_sum = others_sum + own_sum;
    h.own_sum = own_sum;
    h.others_max = others_max;
    h.ru_ok = 1;
    h.nvcsw = nvcsw;
    h.nivcsw = nivcsw;
    h.cpu_s = cpu_s;
    h.runs = runs;
    h.clk_tck = 100;
    h.online_cpus = 2;
    h.la0_ok = h.la1_ok = 1;
    return h;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k) { return cJSON_GetNumberValue(get(o, k)); }

/* The recorded pair above: `cat` read both files (own running 1 each time,
 * so 4 and 3 others), 3 s apart, this process idle. */
static void test_recorded_others_busy(void **state)
{
    (void)state;
    dk__host_load h = recorded(others_stat0, others_stat1, 3.0, 2, 7, 4, 2, 0, 0, 0, 0);
    dk__host_figures f;
    dk__host_load_figures(&h, &f);
    assert_near("others", f.others_mean, 3.5, 1e-12);
    assert_near("steal", f.steal_share, 0, 0);
    assert_near("switches/s", f.invol_per_s, 0, 0);
    cJSON *j = dk__host_load_json(&h);
    /* busy: user 2 + nice 558 + system 54 ticks of 615 (iowait 1) in 3 s at HZ 100 */
    assert_near("host_busy_cores", num(j, "host_busy_cores"), 6.14 / 3, 1e-12);
    assert_near("others_cpu_cores", num(j, "others_cpu_cores"), 6.14 / 3, 1e-12);
    assert_near("guest_share", num(j, "guest_share"), 0, 0);
    assert_string_equal(cJSON_GetStringValue(get(j, "verdict")), "disturbed");
    assert_true(cJSON_IsTrue(get(j, "disturbed")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(get(j, "reasons"), 0)),
                        "3.50 other runnable tasks on average (limit 0.5)");
    assert_int_equal(cJSON_GetArraySize(get(j, "unavailable")), 0);
    char note[640];
    dk__host_load_note(&h, note, sizeof note);
    assert_string_equal(note, "host disturbed: 3.50 other runnable tasks on average (limit 0.5); rerun on a quiet "
                              "host, or with OMP_WAIT_POLICY=passive");
    cJSON_Delete(j);
}

/* Steal: the recorded pair with 60 ticks of steal added to the second
 * (edited: this VM's hypervisor reports none): 60 of 675 ticks. A kernel
 * without the column gives null, with the reason, not 0. */
static void test_steal(void **state)
{
    (void)state;
    const char *rest = strchr(others_stat1, '\n');
    assert_non_null(rest);
    size_t n = strlen(rest) + 128;
    char *edited = malloc(n);
    assert_non_null(edited);
    snprintf(edited, n, "cpu  5681583 1721684 2416666 3202670 27119 0 14516 60 0 0%s", rest);
    dk__host_load h = recorded(others_stat0, edited, 3.0, 2, 0, 0, 2, 10, 5, 2.9, 10);
    dk__host_figures f;
    dk__host_load_figures(&h, &f);
    assert_near("steal", f.steal_share, 60.0 / 675, 1e-12);
    char why[256];
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "8.9% of the CPU time stolen (limit 3%)");
    free(edited);

    h = recorded("cpu  1 2 3 4 5 6 7\nprocs_running 1\n", "cpu  101 2 3 104 5 6 7\nprocs_running 1\n", 2.0, 2, 0,
                 0, 2, 1, 1, 1.0, 4);
    cJSON *j = dk__host_load_json(&h);
    assert_true(cJSON_IsNull(get(j, "steal_share")));
    assert_string_equal(cJSON_GetStringValue(get(get(j, "unavailable"), "steal_share")), "/proc/stat: no steal column");
    assert_true(cJSON_IsNull(get(j, "guest_share")));
    assert_near("busy", num(j, "host_busy_cores"), 0.5, 1e-12);
    assert_string_equal(cJSON_GetStringValue(get(j, "verdict")), "quiet"); /* from the other two figures */
    cJSON_Delete(j);
}

/* Sources that could not be read: null with the reason, never a number;
 * nothing known at all is "unknown", not "quiet". */
static void test_unreadable(void **state)
{
    (void)state;
    dk__host_load h;
    memset(&h, 0, sizeof h);
    h.started = h.ended = 1;
    h.t1 = 1;
    snprintf(h.stat_why, sizeof h.stat_why, "/proc/stat: No such file or directory");
    snprintf(h.others_why, sizeof h.others_why, "/proc/stat: No such file or directory");
    snprintf(h.la_why, sizeof h.la_why, "/proc/loadavg: No such file or directory");
    snprintf(h.ru_why, sizeof h.ru_why, "getrusage: Operation not permitted");
    cJSON *j = dk__host_load_json(&h);
    static const char *const nulls[] = {"others_runnable", "steal_share", "guest_share", "host_busy_cores",
                                        "others_cpu_cores", "loadavg_start", "loadavg_end", "context_switches",
                                        "cpu_s", "cpu_per_wall", "disturbed"};
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        if (!cJSON_IsNull(get(j, nulls[i]))) fail_msg("%s is not null", nulls[i]);
    const cJSON *why = get(j, "unavailable");
    assert_string_equal(cJSON_GetStringValue(get(why, "others_runnable")), "/proc/stat: No such file or directory");
    assert_string_equal(cJSON_GetStringValue(get(why, "steal_share")), "/proc/stat: No such file or directory");
    assert_string_equal(cJSON_GetStringValue(get(why, "loadavg")), "/proc/loadavg: No such file or directory");
    assert_string_equal(cJSON_GetStringValue(get(why, "context_switches")), "getrusage: Operation not permitted");
    assert_string_equal(cJSON_GetStringValue(get(j, "verdict")), "unknown");
    char note[64];
    dk__host_load_note(&h, note, sizeof note);
    assert_string_equal(note, "");
    cJSON_Delete(j);
}

/* Reading results back: an old one has no host_load ("not recorded"). */
static void test_read_back(void **state)
{
    (void)state;
    char why[256];
    cJSON *old = cJSON_Parse("{\"schema\": \"deltakern-bench/1\", \"variants\": []}");
    assert_int_equal(dk__host_load_read(old, why, sizeof why), -2);
    assert_string_equal(dk__host_load_verdict_name(-2), "not recorded");
    cJSON_Delete(old);
    cJSON *d = cJSON_Parse("{\"host_load\": {\"verdict\": \"disturbed\", \"disturbed\": true, \"reasons\": "
                           "[\"1.02 other runnable tasks on average (limit 0.5)\", \"262 involuntary context "
                           "switches/s (limit 120)\"]}}");
    assert_int_equal(dk__host_load_read(d, why, sizeof why), 1);
    assert_string_equal(why, "1.02 other runnable tasks on average (limit 0.5), 262 involuntary context switches/s "
                             "(limit 120)");
    cJSON_Delete(d);
    cJSON *q = cJSON_Parse("{\"host_load\": {\"verdict\": \"quiet\", \"disturbed\": false, \"reasons\": []}}");
    assert_int_equal(dk__host_load_read(q, why, sizeof why), 0);
    cJSON_Delete(q);
    cJSON *u = cJSON_Parse("{\"host_load\": {\"verdict\": \"unknown\", \"disturbed\": null}}");
    assert_int_equal(dk__host_load_read(u, why, sizeof why), -1);
    assert_string_equal(dk__host_load_verdict_name(-1), "unknown");
    cJSON_Delete(u);
}

/* ResNet-50 on onednn (two threads), 10 repetitions, on the development VM
 * while other worktrees' jobs kept it at load average 5-6: /proc/stat read
 * just before and after each bench, and the bench's own host_load (wall
 * time, samples, getrusage). p8: as it was (end to end median 104 ms, CV
 * 26%); b8: with one busy `sh -c 'while :; do :; done'` beside it (704 ms,
 * CV 48%). */
static const char p8_stat0[] =
    "cpu  5718054 1856049 2469874 3211978 27192 0 14662 0 0 0\n"
    "cpu0 2748792 922711 1165164 1801258 5724 0 4169 0 0 0\n"
    "cpu1 2969262 933338 1304710 1410719 21467 0 10492 0 0 0\n"
    "intr 38634887 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13353 4757 0 1099 1 "
    "5135439 0 75546 54885 0 11830 109168 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 52714293\n"
    "btime 1796205017\n"
    "processes 675245\n"
    "procs_running 5\n"
    "procs_blocked 0\n"
    "softirq 22329833 0 3760268 6 197959 5134103 0 176 3665186 76 9572059\n";
static const char p8_stat1[] =
    "cpu  5718353 1856462 2470012 3211978 27192 0 14662 0 0 0\n"
    "cpu0 2748895 922999 1165198 1801258 5724 0 4169 0 0 0\n"
    "cpu1 2969458 933463 1304813 1410719 21467 0 10493 0 0 0\n"
    "intr 38637297 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13354 4757 0 1099 1 "
    "5135475 0 75546 54885 0 11837 109199 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 52716593\n"
    "btime 1796205017\n"
    "processes 675252\n"
    "procs_running 4\n"
    "procs_blocked 0\n"
    "softirq 22330529 0 3760427 6 197959 5134139 0 176 3665362 76 9572384\n";
static const char b8_stat0[] =
    "cpu  5718401 1856509 2470031 3211978 27192 0 14662 0 0 0\n"
    "cpu0 2748936 923012 1165201 1801258 5724 0 4169 0 0 0\n"
    "cpu1 2969465 933497 1304829 1410719 21467 0 10493 0 0 0\n"
    "intr 38637667 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13354 4757 0 1099 1 "
    "5135488 0 75546 54885 0 11838 109202 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 52717171\n"
    "btime 1796205017\n"
    "processes 675276\n"
    "procs_running 8\n"
    "procs_blocked 0\n"
    "softirq 22330839 0 3760503 6 197959 5134152 0 176 3665383 76 9572584\n";
static const char b8_stat1[] =
    "cpu  5719497 1858092 2470621 3211979 27192 0 14663 0 0 0\n"
    "cpu0 2749624 923731 1165429 1801259 5724 0 4169 0 0 0\n"
    "cpu1 2969872 934361 1305192 1410719 21467 0 10493 0 0 0\n"
    "intr 38647185 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13358 4758 0 1099 1 "
    "5135604 0 75546 54885 0 11858 109279 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 52728108\n"
    "btime 1796205017\n"
    "processes 675361\n"
    "procs_running 7\n"
    "procs_blocked 0\n"
    "softirq 22334805 0 3761461 6 197959 5134268 0 176 3666014 76 9574845\n";

static void test_recorded_resnet50_loaded(void **state)
{
    (void)state;
    char why[512];
    dk__host_figures f;
    /* p8: 12 samples, others 3.25 on average (max 4), 274 involuntary switches in 1.133 s */
    dk__host_load h = recorded(p8_stat0, p8_stat1, 1.1334484810067806, 12, 39, 4, 24, 3, 274, 1.155431, 10);
    dk__host_load_figures(&h, &f);
    assert_near("p8 others", f.others_mean, 3.25, 1e-12);
    assert_near("p8 steal", f.steal_share, 0, 0);
    assert_near("p8 switches/s", f.invol_per_s, 241.74, 0.01);
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "3.25 other runnable tasks on average (limit 0.5); 242 involuntary context switches/s "
                             "(limit 120)");
    /* b8: 12 samples, others 5.5 (max 6), 1005 involuntary switches in 8.178 s */
    h = recorded(b8_stat0, b8_stat1, 8.1778145749995, 12, 66, 6, 24, 28, 1005, 3.672249, 10);
    dk__host_load_figures(&h, &f);
    assert_near("b8 others", f.others_mean, 5.5, 1e-12);
    assert_near("b8 switches/s", f.invol_per_s, 122.89, 0.01);
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "5.50 other runnable tasks on average (limit 0.5); 123 involuntary context switches/s "
                             "(limit 120)");
    cJSON *j = dk__host_load_json(&h);
    assert_near("cpu_per_wall", num(j, "cpu_per_wall"), 3.672249 / 8.1778145749995, 1e-9);
    assert_near("involuntary_per_run", num(get(j, "context_switches"), "involuntary_per_run"), 100.5, 1e-12);
    cJSON_Delete(j);
}

/* ResNet-50 on onednn (two threads), 10 repetitions, on the development VM
 * in a quiet moment (load average 0.3, nothing else runnable): /proc/stat
 * read just before and after each bench, and the bench's own host_load.
 * quiet: end to end median 34.8 ms, CV 3.4%, two cores of our own CPU per
 * wall second, and still 16 involuntary switches in 0.352 s (45/s: kernel
 * work preempting the spinning OpenMP threads); the next quiet run had 62/s.
 * busy: the same with one `sh -c 'while :; do :; done'` beside it: 71.7 ms,
 * CV 42%, 1.41 cores, 147 switches in 0.843 s (175/s). */
static const char quiet_stat0[] =
    "cpu  5744402 1947613 2500603 3260654 27311 0 14854 0 0 0\n"
    "cpu0 2757923 968124 1178681 1831846 5770 0 4277 0 0 0\n"
    "cpu1 2986478 979488 1321922 1428808 21540 0 10577 0 0 0\n"
    "intr 39178661 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13552 4847 0 1115 1 "
    "5159560 0 75546 54885 0 12583 112284 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 53345529\n"
    "btime 1796205017\n"
    "processes 685323\n"
    "procs_running 2\n"
    "procs_blocked 0\n"
    "softirq 22612560 0 3815323 6 202690 5158223 0 176 3730801 76 9705265\n";
static const char quiet_stat1[] =
    "cpu  5744643 1947613 2500728 3260866 27311 0 14857 0 0 0\n"
    "cpu0 2757994 968124 1178697 1832049 5770 0 4279 0 0 0\n"
    "cpu1 2986649 979488 1322031 1428817 21541 0 10578 0 0 0\n"
    "intr 39180109 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13552 4847 0 1115 1 "
    "5159681 0 75546 54885 0 12583 112286 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 53346202\n"
    "btime 1796205017\n"
    "processes 685326\n"
    "procs_running 1\n"
    "procs_blocked 0\n"
    "softirq 22613253 0 3815418 6 202690 5158344 0 176 3731119 76 9705424\n";
static const char busy_stat0[] =
    "cpu  5744676 1947613 2500730 3260896 27311 0 14857 0 0 0\n"
    "cpu0 2757995 968124 1178698 1832078 5770 0 4279 0 0 0\n"
    "cpu1 2986681 979488 1322032 1428817 21541 0 10578 0 0 0\n"
    "intr 39180254 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13552 4848 0 1115 1 "
    "5159681 0 75546 54885 0 12583 112286 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 53346277\n"
    "btime 1796205017\n"
    "processes 685329\n"
    "procs_running 2\n"
    "procs_blocked 0\n"
    "softirq 22613353 0 3815440 6 202690 5158344 0 176 3731161 76 9705460\n";
static const char busy_stat1[] =
    "cpu  5745281 1947613 2500852 3260899 27312 0 14857 0 0 0\n"
    "cpu0 2758324 968124 1178732 1832081 5771 0 4279 0 0 0\n"
    "cpu1 2986956 979488 1322120 1428818 21541 0 10578 0 0 0\n"
    "intr 39182371 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 9 0 2 0 0 13553 4848 0 1115 1 "
    "5159711 0 75546 54885 0 12584 112290 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
    "0\n"
    "ctxt 53347256\n"
    "btime 1796205017\n"
    "processes 685332\n"
    "procs_running 2\n"
    "procs_blocked 0\n"
    "softirq 22613853 0 3815556 6 202690 5158374 0 176 3731341 76 9705634\n";

static void test_recorded_resnet50_quiet_and_busy(void **state)
{
    (void)state;
    char why[512];
    dk__host_figures f;
    /* quiet: 12 samples, no other runnable task in any */
    dk__host_load h = recorded(quiet_stat0, quiet_stat1, 0.35234162501001265, 12, 0, 0, 24, 0, 16, 0.703115, 10);
    dk__host_load_figures(&h, &f);
    assert_near("quiet others", f.others_mean, 0, 0);
    assert_near("quiet steal", f.steal_share, 0, 0);
    assert_near("quiet switches/s", f.invol_per_s, 45.41, 0.01);
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
    assert_string_equal(why, "");
    cJSON *j = dk__host_load_json(&h);
    assert_string_equal(cJSON_GetStringValue(get(j, "verdict")), "quiet");
    assert_true(cJSON_IsFalse(get(j, "disturbed")));
    assert_int_equal(cJSON_GetArraySize(get(j, "reasons")), 0);
    assert_near("cpu_per_wall", num(j, "cpu_per_wall"), 0.703115 / 0.35234162501001265, 1e-9);
    cJSON_Delete(j);
    char note[640];
    dk__host_load_note(&h, note, sizeof note);
    assert_string_equal(note, "");
    /* the second quiet run: one other task in 2 of 12 samples, 24 switches in 0.390 s */
    h = recorded(quiet_stat0, quiet_stat1, 0.38964268199924845, 12, 2, 1, 24, 0, 24, 0.771156, 10);
    dk__host_load_figures(&h, &f);
    assert_near("quiet 2 others", f.others_mean, 2.0 / 12, 1e-12);
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
    /* busy: the loop runnable in every sample */
    h = recorded(busy_stat0, busy_stat1, 0.8426135589979822, 12, 12, 1, 24, 3, 147, 1.190607, 10);
    dk__host_load_figures(&h, &f);
    assert_near("busy others", f.others_mean, 1, 0);
    assert_near("busy switches/s", f.invol_per_s, 174.46, 0.01);
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "1.00 other runnable tasks on average (limit 0.5); 174 involuntary context switches/s "
                             "(limit 120)");
    dk__host_load_note(&h, note, sizeof note);
    assert_string_equal(note, "host disturbed: 1.00 other runnable tasks on average (limit 0.5); 174 involuntary "
                              "context switches/s (limit 120); rerun on a quiet host, or with OMP_WAIT_POLICY=passive");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),        cmocka_unit_test(test_parse_stat_old_formats),
        cmocka_unit_test(test_parse_stat_malformed), cmocka_unit_test(test_parse_loadavg),
        cmocka_unit_test(test_parse_task_state),  cmocka_unit_test(test_verdict_rule),
        cmocka_unit_test(test_recorded_others_busy), cmocka_unit_test(test_steal),
        cmocka_unit_test(test_unreadable),        cmocka_unit_test(test_read_back),
        cmocka_unit_test(test_recorded_resnet50_loaded), cmocka_unit_test(test_recorded_resnet50_quiet_and_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
