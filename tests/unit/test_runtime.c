/* The ground floor's helpers: the random-number generator, one-line lists
 * for messages and the multi-part atomic write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deltakern/file.h"
#include "runtime/file.h"
#include "runtime/rng.h"
#include "runtime/text.h"
#include "tests/unit/test_util.h"

static void test_rng(void **state)
{
    (void)state;
    dk_rng a, b;
    uint64_t seed = tu_rng_next();
    dk_rng_seed(&a, seed);
    dk_rng_seed(&b, seed);
    for (int i = 0; i < 1000; i++) assert_true(dk_rng_next(&a) == dk_rng_next(&b)); /* repeatable */
    dk_rng_seed(&b, seed + 1);
    int same = 0;
    for (int i = 0; i < 1000; i++) same += dk_rng_next(&a) == dk_rng_next(&b);
    assert_true(same < 2); /* another seed, another stream */
    int64_t seen_lo = 0, seen_hi = 0;
    double sum = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t k = dk_rng_int(&a, -3, 3);
        assert_true(k >= -3 && k <= 3); /* both bounds inclusive */
        seen_lo += k == -3, seen_hi += k == 3;
        double u = dk_rng_uniform(&a, -2, 5);
        assert_true(u >= -2 && u < 5);
        sum += u;
    }
    assert_true(seen_lo > 2000 && seen_hi > 2000);     /* 1/7 each: ~2857 */
    assert_true(sum / 20000 > 1.4 && sum / 20000 < 1.6); /* mean 1.5 */
    float x[64];
    dk_rng_fill(&a, x, 64, 0.5, 0.75);
    for (int i = 0; i < 64; i++) assert_true(x[i] >= 0.5f && x[i] <= 0.75f);
    /* the splitmix64 step: the published first outputs for seed 0 */
    uint64_t s = 0;
    assert_true(dk_rng_mix(&s) == 0xE220A8397B1DCDAFull);
    assert_true(dk_rng_mix(&s) == 0x6E789E6AA1B965F4ull);
}

static void test_join(void **state)
{
    (void)state;
    char buf[32] = "";
    dk_join(buf, sizeof buf, ", ", "ref");
    dk_join(buf, sizeof buf, ", ", "onednn");
    dk_joinf(buf, sizeof buf, ", ", "%s:%d", "x", 7);
    assert_string_equal(buf, "ref, onednn, x:7");
    for (int i = 0; i < 20; i++) dk_join(buf, sizeof buf, ", ", "openblas"); /* never overflows */
    assert_int_equal(strlen(buf), sizeof buf - 1);
    assert_string_equal(buf + sizeof buf - 4, "..."); /* a cut list says so */
    char tiny[4] = "";
    dk_join(tiny, sizeof tiny, ", ", "abcdef");
    assert_true(strlen(tiny) <= 3);
}

static void test_write_parts(void **state)
{
    (void)state;
    char dir[] = "/tmp/dk_test_runtime_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    const char *a = "head:", *b = "data";
    const void *parts[3] = {a, "", b};
    size_t sizes[3] = {5, 0, 4};
    assert_int_equal(dk__file_write_parts(path, parts, sizes, 3), DK_OK);
    unsigned char *data;
    size_t n;
    assert_int_equal(dk__read_file(path, 1 << 20, &data, &n), DK_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(data, "head:data", 9);
    free(data);
    /* a failed write names the file and leaves no temporary behind */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x", dir);
    tu_assert_status(dk_file_write_atomic(bad, "x", 1), DK_ERR_IO, "no/such/dir");
    remove(path);
    assert_int_equal(rmdir(dir), 0); /* empty: nothing left over */
}

int main(void)
{
    tu_init("test_runtime");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_write_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
