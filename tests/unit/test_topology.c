/* Unit tests for the topology and binding (runtime/topology.c) on this
 * machine: the topology agrees with sysconf, and binding to cores puts each
 * pool thread on a core of its own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/topology.h"
#include "test_util.h"

static double num(const cJSON *j, const char *key)
{
    const cJSON *e = cJSON_GetObjectItem(j, key);
    if (!cJSON_IsNumber(e)) fail_msg("%s: missing or not a number", key);
    return e->valuedouble;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *e = cJSON_GetObjectItem(j, key);
    if (!cJSON_IsString(e)) fail_msg("%s: missing or not a string", key);
    return e->valuestring;
}

static void test_topology_matches_sysconf(void **state)
{
    (void)state;
    cJSON *t = dk_topology_json();
    assert_non_null(t);
    char *text = cJSON_PrintUnformatted(t);
    printf("topology: %s\n", text);
    cJSON_free(text);
    assert_true(num(t, "packages") >= 1);
    assert_true(num(t, "cores") >= 1);
    assert_int_equal((long)num(t, "pus"), sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(num(t, "pus") >= num(t, "cores"));
    if (strncmp(str(t, "source"), "hwloc", 5) == 0) {
        const cJSON *caches = cJSON_GetObjectItem(t, "caches");
        assert_true(cJSON_GetArraySize(caches) >= 1);
        const cJSON *c;
        cJSON_ArrayForEach(c, caches) {
            assert_true(num(c, "level") >= 1);
            assert_true(num(c, "size_bytes") > 0);
            assert_true(num(c, "line_bytes") > 0);
        }
        const cJSON *numa = cJSON_GetObjectItem(t, "numa_nodes");
        assert_true(cJSON_GetArraySize(numa) >= 1);
        assert_true(num(cJSON_GetArrayItem(numa, 0), "memory_bytes") > 0);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "core_list")), (int)num(t, "cores"));
    }
    cJSON_Delete(t);
}

/* Runs a little work on every pool thread so that each has a last CPU. */
static void touch_pool(void)
{
    volatile double sink = 0;
#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        double x = 1;
        for (int i = 0; i < 100000; i++) x = x * 1.0000001 + 1e-9;
        sink += x;
    }
    (void)sink;
}

static void test_bind_core_puts_threads_on_distinct_cores(void **state)
{
    (void)state;
    int cores = dk_topology_cores();
#ifdef _OPENMP
    int threads = omp_get_max_threads();
#else
    int threads = 1;
#endif
    dk_status st = dk_bind_threads("core");
    if (st == DK_ERR_UNAVAILABLE) {
        printf("binding unavailable here: %s\n", dk_last_error());
        skip();
    }
    assert_int_equal(st, DK_OK);
    touch_pool();
    cJSON *b = dk_binding_json();
    assert_non_null(b);
    char *text = cJSON_PrintUnformatted(b);
    printf("binding after --bind core (%d cores, %d threads): %s\n", cores, threads, text);
    cJSON_free(text);
    assert_string_equal(str(b, "mode"), "core");
    const cJSON *arr = cJSON_GetObjectItem(b, "threads");
    assert_int_equal(cJSON_GetArraySize(arr), threads);
    if (cores >= threads) {
        int seen[256] = {0};
        const cJSON *e;
        cJSON_ArrayForEach(e, arr) {
            int core = (int)num(e, "core");
            assert_true(core >= 0 && core < 256);
            assert_int_equal(seen[core], 0); /* one thread per core */
            seen[core] = 1;
            /* bound to exactly one PU */
            const char *set = str(e, "cpuset");
            assert_null(strpbrk(set, ",-"));
            assert_int_equal(atoi(set), (int)num(e, "last_pu"));
        }
    }
    cJSON_Delete(b);
    assert_int_equal(dk_bind_threads("none"), DK_OK);
    touch_pool();
    b = dk_binding_json();
    assert_string_equal(str(b, "mode"), "none");
    cJSON_Delete(b);
    tu_assert_status(dk_bind_threads("socket"), DK_ERR_INVALID, "'socket': expected core or none");
}



int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topology_matches_sysconf),
        cmocka_unit_test(test_bind_core_puts_threads_on_distinct_cores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
