/* Large buffers on transparent huge pages (runtime/big_alloc.h): aligned as
 * asked, zeroed where promised, whole buffers writable, and a buffer of 2 MiB
 * or more in a mapping the kernel may back with huge pages (smaps'
 * THPeligible), where the kernel offers them on advice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deltakern/fingerprint.h"
#include "deltakern/tensor.h"
#include "runtime/big_alloc.h"

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void test_small(void **state)
{
    (void)state;
    unsigned char *p = dk_big_alloc(64, 100);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    memset(p, 0xab, 100);
    free(p);
    p = dk_big_alloc(4096, 0); /* at least one byte */
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 4096, 0);
    p[0] = 1;
    free(p);
    unsigned char *z = dk_big_alloc_zeroed(1000);
    assert_non_null(z);
    assert_true(all_zero(z, 1000));
    free(z);
}

static void test_large_aligned_zeroed(void **state)
{
    (void)state;
    /* a dirty block freed first, so that the allocator may hand it back */
    const size_t n = 3 * DK_BIG_ALLOC_HUGE + 5;
    unsigned char *dirty = dk_big_alloc(64, n);
    assert_non_null(dirty);
    memset(dirty, 0xff, n);
    free(dirty);
    unsigned char *p = dk_big_alloc_zeroed(n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % DK_BIG_ALLOC_HUGE, 0);
    assert_true(all_zero(p, n));
    memset(p, 0x5a, n); /* every byte of it is the caller's */
    free(p);
}

static void test_tensor_alloc_large(void **state)
{
    (void)state;
    dk_tensor t = {0};
    const int64_t dims[4] = {1, 64, 112, 112}; /* 3.2 MB, a ResNet-50 activation */
    assert_int_equal(dk_tensor_alloc(&t, DK_F32, 4, dims), DK_OK);
    assert_int_equal((uintptr_t)t.data % DK_BIG_ALLOC_HUGE, 0);
    assert_true(all_zero(t.data, dk_tensor_nbytes(&t)));
    dk_tensor_reset(&t);
}

/* smaps' THPeligible line of the mapping that holds p: 1, 0, or -1 when the
 * kernel does not report it */
static int thp_eligible(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int inside = 0, found = -1;
    const uintptr_t at = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = at >= lo && at < hi;
        } else if (inside && !strncmp(line, "THPeligible:", 12)) {
            found = atoi(line + 12);
            break;
        }
    }
    fclose(f);
    return found;
}

static void test_large_advised(void **state)
{
    (void)state;
    const char *mode = dk_transparent_huge_pages();
    if (strcmp(mode, "madvise") && strcmp(mode, "always")) {
        printf("SKIP: transparent huge pages are '%s' here: nothing to advise\n", mode);
        skip();
    }
    unsigned char *p = dk_big_alloc(64, 2 * DK_BIG_ALLOC_HUGE);
    assert_non_null(p);
    memset(p, 1, 2 * DK_BIG_ALLOC_HUGE);
    int eligible = thp_eligible(p);
    if (eligible < 0) {
        free(p);
        printf("SKIP: /proc/self/smaps has no THPeligible line for the buffer\n");
        skip();
    }
    assert_int_equal(eligible, 1);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_large_aligned_zeroed),
        cmocka_unit_test(test_tensor_alloc_large),
        cmocka_unit_test(test_large_advised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
