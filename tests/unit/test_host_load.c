/* Unit tests for the host-load sampler's parsers and the rule that calls a
 * measurement disturbed (drivers/bench/bench_host_load.c), fed with /proc
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
    dk__host_figures f = {.others_mean = 0.49, .steal_share = 0.029, .invol_per_s = 49.9, .invol = 500};
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
    assert_string_equal(why, "50 involuntary context switches/s (limit 50)");
    /* a short run's rate: 9 switches in 10 ms is 900/s, and no evidence */
    f.invol_per_s = 900;
    f.invol = DK_HOST_INVOL_MIN - 1;
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 0);
    f = (dk__host_figures){.others_mean = 2, .steal_share = 0.1, .invol_per_s = 300, .invol = 3000};
    assert_int_equal(dk__host_verdict(&f, why, sizeof why), 1);
    assert_string_equal(why, "2.00 other runnable tasks on average (limit 0.5); 10.0% of the CPU time stolen "
                             "(limit 3%); 300 involuntary context switches/s (limit 50)");
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
                           "switches/s (limit 50)\"]}}");
    assert_int_equal(dk__host_load_read(d, why, sizeof why), 1);
    assert_string_equal(why, "1.02 other runnable tasks on average (limit 0.5), 262 involuntary context switches/s "
                             "(limit 50)");
    cJSON_Delete(d);
    cJSON *q = cJSON_Parse("{\"host_load\": {\"verdict\": \"quiet\", \"disturbed\": false, \"reasons\": []}}");
    assert_int_equal(dk__host_load_read(q, why, sizeof why), 0);
    cJSON_Delete(q);
    cJSON *u = cJSON_Parse("{\"host_load\": {\"verdict\": \"unknown\", \"disturbed\": null}}");
    assert_int_equal(dk__host_load_read(u, why, sizeof why), -1);
    assert_string_equal(dk__host_load_verdict_name(-1), "unknown");
    cJSON_Delete(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),        cmocka_unit_test(test_parse_stat_old_formats),
        cmocka_unit_test(test_parse_stat_malformed), cmocka_unit_test(test_parse_loadavg),
        cmocka_unit_test(test_parse_task_state),  cmocka_unit_test(test_verdict_rule),
        cmocka_unit_test(test_recorded_others_busy), cmocka_unit_test(test_steal),
        cmocka_unit_test(test_unreadable),        cmocka_unit_test(test_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
