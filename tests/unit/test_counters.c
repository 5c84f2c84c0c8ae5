/* Unit tests for the counters (runtime/counters.c) on this machine: perf
 * software events advance over real work on every OpenMP thread and agree
 * with the threads' own CPU clocks, they are read around each node of a
 * session through its hooks, and bad event names fail naming the event.
 * Skips (77) when the kernel refuses perf_event_open altogether. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/onnx.h"
#include "deltakern/session.h"
#include "deltakern/variant.h"
#include "measure/counters.h"
#include "test_util.h"

#define CONV_MODEL "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d"

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Arithmetic on every pool thread; returns the sum of the threads' CPU time
 * spent inside (their own clocks). */
static double busy_all_threads(long iters)
{
    double cpu = 0, x0 = tu_rng_uniform(0.5, 1.0);
    volatile double sink = 0;
#ifdef _OPENMP
#pragma omp parallel reduction(+ : cpu)
#endif
    {
        double t0 = thread_cpu_seconds();
        double x = x0;
        for (long i = 0; i < iters; i++) x = x * 1.0000001 + 1e-9;
        sink += x;
        cpu += thread_cpu_seconds() - t0;
    }
    (void)sink;
    return cpu;
}

static int find(const dk_counters *c, const char *name)
{
    for (int i = 0; i < dk_counters_count(c); i++)
        if (strcmp(dk_counters_name(c, i), name) == 0) return i;
    fail_msg("event %s not in the set", name);
    return -1;
}

static void test_task_clock_counts_every_thread(void **state)
{
    (void)state;
    tu_init("task_clock_counts_every_thread");
    dk_counters *c = NULL;
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK,perf::PAGE-FAULTS", &c), DK_OK, NULL);
    assert_int_equal(dk_counters_count(c), 2);
    int clk = find(c, "perf::TASK-CLOCK"), pf = find(c, "perf::PAGE-FAULTS");
    long long v[2];

    busy_all_threads(1000); /* the pool is up before counting */
    assert_int_equal(dk_counters_start(c), DK_OK);
    double cpu = busy_all_threads(20 * 1000 * 1000);
    assert_int_equal(dk_counters_stop(c, v), DK_OK);
    printf("busy loop on %d threads: TASK-CLOCK %lld ns, threads' own CPU clocks %.0f ns\n",
           dk_counters_threads(c), v[clk], cpu * 1e9);
    /* the counter covers at least what each thread's clock saw inside the
     * region, summed over threads (0.5%% slack for clock granularity) */
    assert_true(v[clk] > 0);
    assert_true((double)v[clk] >= 0.995 * cpu * 1e9);

    /* fresh pages fault when first touched */
    size_t bytes = 16u << 20;
    assert_int_equal(dk_counters_start(c), DK_OK);
    char *p = malloc(bytes);
    assert_non_null(p);
    for (size_t i = 0; i < bytes; i += 4096) p[i] = (char)i;
    assert_int_equal(dk_counters_stop(c, v), DK_OK);
    free(p);
    printf("touching 16 MiB: %lld page faults\n", v[pf]);
    assert_true(v[pf] >= 1);

    /* the cost of one start/stop pair, for the record (not asserted) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(dk_counters_start(c), DK_OK);
        assert_int_equal(dk_counters_stop(c, v), DK_OK);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("one start/stop pair: %.2f us\n",
           ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1000 * 1e-3);
    dk_counters_destroy(c);
}

/* A session that sets another thread count after the counters exist: the
 * next start counts the pool as it is then. */
static void test_follows_the_pool_size(void **state)
{
    (void)state;
#ifdef _OPENMP
    tu_init("follows_the_pool_size");
    int before = omp_get_max_threads();
    dk_counters *c = NULL;
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK", &c), DK_OK, NULL);
    assert_int_equal(dk_counters_threads(c), before);
    long long v[1];
    int sizes[] = {1, before + 1, before};
    for (int i = 0; i < 3; i++) {
        omp_set_num_threads(sizes[i]);
        assert_int_equal(dk_counters_start(c), DK_OK);
        double cpu = busy_all_threads(2 * 1000 * 1000);
        assert_int_equal(dk_counters_stop(c, v), DK_OK);
        printf("%d threads: counted %d, TASK-CLOCK %lld ns, own clocks %.0f ns\n", sizes[i],
               dk_counters_threads(c), v[0], cpu * 1e9);
        assert_int_equal(dk_counters_threads(c), sizes[i]);
        assert_true((double)v[0] >= 0.995 * cpu * 1e9);
    }
    omp_set_num_threads(before);
    dk_counters_destroy(c);
#else
    skip();
#endif
}

static void test_default_set_on_this_machine(void **state)
{
    (void)state;
    tu_init("default_set_on_this_machine");
    dk_counters *c = NULL;
    tu_assert_status(dk_counters_create(NULL, &c), DK_OK, NULL);
    assert_int_equal(dk_counters_count(c), 3);
    printf("default events: %s, %s, %s; note: %s\n", dk_counters_name(c, 0), dk_counters_name(c, 1),
           dk_counters_name(c, 2), dk_counters_note(c)[0] ? dk_counters_note(c) : "(none)");
    /* either the hardware set, or the software one with a note saying why */
    if (strcmp(dk_counters_name(c, 0), "PAPI_TOT_CYC") != 0) {
        assert_string_equal(dk_counters_name(c, 0), "perf::TASK-CLOCK");
        assert_non_null(strstr(dk_counters_note(c), "hardware counters unavailable ("));
        assert_non_null(strstr(dk_counters_note(c), "counting perf software events"));
    } else {
        assert_string_equal(dk_counters_note(c), "");
    }
    long long v[3];
    assert_int_equal(dk_counters_start(c), DK_OK);
    busy_all_threads(1000 * 1000);
    assert_int_equal(dk_counters_stop(c, v), DK_OK);
    assert_true(v[0] > 0);
    dk_counters_destroy(c);
}

/* Counters read in the session's before/after hooks, one reading per node. */
typedef struct per_node {
    dk_counters *c;
    long long values[64][DK_COUNTERS_MAX_EVENTS];
    int calls, failures;
} per_node;

static void before_node(void *user, int node)
{
    per_node *p = user;
    (void)node;
    if (dk_counters_start(p->c) != DK_OK) p->failures++;
}

static void after_node(void *user, int node)
{
    per_node *p = user;
    (void)node;
    if (p->calls < 64 && dk_counters_stop(p->c, p->values[p->calls]) == DK_OK) p->calls++;
    else p->failures++;
}

static void test_read_per_node_in_a_session(void **state)
{
    (void)state;
    dk_graph *g = NULL;
    tu_assert_status(dk_onnx_load(CONV_MODEL "/model.onnx", &g), DK_OK, NULL);
    dk_tensor x;
    memset(&x, 0, sizeof x);
    tu_assert_status(dk_onnx_load_tensor_file(CONV_MODEL "/test_data_set_0/input_0.pb", &x), DK_OK, NULL);
    dk_variant v;
    tu_assert_status(dk_variant_parse("ref", &v), DK_OK, NULL);
    dk_session *s = NULL;
    tu_assert_status(dk_session_create(g, &v, &s), DK_OK, NULL);
    per_node p;
    memset(&p, 0, sizeof p);
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK,perf::CONTEXT-SWITCHES", &p.c), DK_OK, NULL);
    dk_session_set_hooks(s, before_node, after_node, &p);
    int runs = 5;
    for (int r = 0; r < runs; r++) tu_assert_status(dk_session_run(s, &x, 1), DK_OK, NULL);
    if (p.failures) fail_msg("%d counter start/stop failures: %s", p.failures, dk_last_error());
    assert_int_equal(p.calls, runs * g->n_nodes);
    for (int i = 0; i < p.calls; i++) {
        printf("node reading %d: TASK-CLOCK %lld ns, CONTEXT-SWITCHES %lld\n", i, p.values[i][0],
               p.values[i][1]);
        if (!(p.values[i][0] > 0 && p.values[i][1] >= 0))
            fail_msg("node reading %d: TASK-CLOCK %lld, CONTEXT-SWITCHES %lld", i, p.values[i][0], p.values[i][1]);
    }
    dk_counters_destroy(p.c);
    dk_session_destroy(s);
    dk_tensor_reset(&x);
    dk_graph_destroy(g);
}

static void test_bad_event_names(void **state)
{
    (void)state;
    dk_counters *c = (dk_counters *)&c;
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK,NO_SUCH_EVENT", &c), DK_ERR_INVALID,
                     "unknown counter event 'NO_SUCH_EVENT'");
    assert_null(c);
    assert_non_null(strstr(dk_last_error(), "papi_native_avail"));
    tu_assert_status(dk_counters_create("perf::NOT-AN-EVENT", &c), DK_ERR_INVALID, "'perf::NOT-AN-EVENT'");
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK,,perf::PAGE-FAULTS", &c), DK_ERR_INVALID,
                     "empty event name");
    tu_assert_status(dk_counters_create("perf::TASK-CLOCK,perf::task-clock", &c), DK_ERR_INVALID,
                     "given twice");
    /* a hardware event: countable where the PMU is visible, otherwise an
     * error that says so and names the software events */
    dk_status st = dk_counters_create("PAPI_TOT_CYC", &c);
    if (st == DK_OK) {
        printf("PAPI_TOT_CYC is countable here\n");
        dk_counters_destroy(c);
    } else {
        printf("PAPI_TOT_CYC: %s\n", dk_last_error());
        tu_assert_status(st, DK_ERR_UNAVAILABLE, "counter event 'PAPI_TOT_CYC': hardware counters unavailable");
        assert_non_null(strstr(dk_last_error(), "perf::TASK-CLOCK"));
    }
    st = dk_counters_create("perf::CYCLES", &c);
    if (st == DK_OK) dk_counters_destroy(c);
    else tu_assert_status(st, DK_ERR_UNAVAILABLE, "hardware counters unavailable");
}

int main(void)
{
    /* skip where the kernel refuses perf events (perf_event_paranoid 3, seccomp) */
    dk_counters *probe = NULL;
    if (dk_counters_create("perf::TASK-CLOCK", &probe) != DK_OK) {
        printf("SKIP: perf software events cannot be counted here: %s\n", dk_last_error());
        return 77;
    }
    dk_counters_destroy(probe);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_clock_counts_every_thread),
        cmocka_unit_test(test_follows_the_pool_size),
        cmocka_unit_test(test_default_set_on_this_machine),
        cmocka_unit_test(test_read_per_node_in_a_session),
        cmocka_unit_test(test_bad_event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
