/* Unit tests for the roofline (runtime/roofline.c): the measurement gives
 * positive, finite numbers (no timing threshold), the cache round-trips, a
 * corrupt cache is an error naming the file, and storing replaces it. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deltakern/roofline.h"
#include "test_util.h"

static void test_roofline_measures_and_caches(void **state)
{
    (void)state;
    char dir[] = "/tmp/dk_roofline_XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
    dk_roofline r;
    tu_assert_status(dk_roofline_get(0, &r), DK_ERR_UNAVAILABLE, "run `deltakern roofline`");
    tu_assert_status(dk_roofline_get(1, &r), DK_OK, NULL);
    printf("roofline: %.1f GFLOP/s, %.1f GB/s; %s\n", r.peak_gflops, r.bandwidth_gbs, r.source);
    assert_true(r.peak_gflops > 0 && isfinite(r.peak_gflops));
    assert_true(r.bandwidth_gbs > 0 && isfinite(r.bandwidth_gbs));
    dk_roofline again;
    tu_assert_status(dk_roofline_get(0, &again), DK_OK, NULL);
    assert_true(again.peak_gflops == r.peak_gflops);
    assert_true(again.bandwidth_gbs == r.bandwidth_gbs);
    assert_non_null(strstr(again.source, dir));

    /* a corrupt cache is an error naming the file */
    char path[1024];
    assert_int_equal(dk_roofline_cache_path(path, sizeof path), DK_OK);
    tu_write_file(path, "{not json", 9);
    tu_assert_status(dk_roofline_get(0, &again), DK_ERR_FORMAT, path);
    /* storing replaces it */
    tu_assert_status(dk_roofline_store(&r), DK_OK, NULL);
    tu_assert_status(dk_roofline_load(&again), DK_OK, NULL);
    assert_true(again.peak_gflops == r.peak_gflops);
    unlink(path);
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/deltakern", dir);
    rmdir(sub);
    rmdir(dir);
    unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roofline_measures_and_caches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
