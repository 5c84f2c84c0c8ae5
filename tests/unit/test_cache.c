/* Unit tests for runtime/cache.c: evicting memory from the caches (opt=3
 * times its candidates so) keeps its contents and, where hardware counters
 * can be read, makes the next reads miss the last-level cache; the cache
 * sizes it reports are sane. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/counters.h"
#include "runtime/cache.h"
#include "test_util.h"

static int evicts_here(void)
{
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

/* Eviction writes dirty lines back: the bytes read after it are the bytes
 * written before, on a range that starts and ends inside cache lines. */
static void test_evict_keeps_contents(void **state)
{
    (void)state;
    tu_init("evict_keeps_contents");
    const size_t n = (1u << 20) + 77;
    unsigned char *buf = malloc(n), *copy = malloc(n);
    assert_non_null(buf);
    assert_non_null(copy);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)tu_rng_next();
    memcpy(copy, buf, n);
    assert_int_equal(dk__cache_evict(buf + 3, n - 8), evicts_here());
    assert_memory_equal(buf, copy, n);
    assert_int_equal(dk__cache_evict(NULL, 0), 1); /* nothing to do */
    assert_int_equal(dk__cache_evict(buf, 0), 1);
    free(buf);
    free(copy);
}

/* Sum of one byte per line of buf, in the order idx gives (random: the
 * hardware prefetchers cannot run ahead of it). */
static unsigned read_lines(const unsigned char *buf, const uint32_t *idx, size_t lines)
{
    unsigned s = 0;
    for (size_t i = 0; i < lines; i++) s += buf[(size_t)idx[i] * 64];
    return s;
}

/* Read in random order, 4 MiB that fit the last-level cache miss it rarely
 * when read a second time, and at least every other line after eviction. */
static void test_evicted_lines_miss(void **state)
{
    (void)state;
    tu_init("evicted_lines_miss");
    if (!evicts_here()) skip();
    dk_counters *c = NULL;
    if (dk_counters_create("perf::LLC-LOAD-MISSES", &c) != DK_OK) {
        printf("SKIP: last-level cache misses cannot be counted here: %s\n", dk_last_error());
        skip();
    }
    const size_t bytes = 4u << 20, lines = bytes / 64;
    unsigned char *buf = malloc(bytes);
    uint32_t *idx = malloc(lines * sizeof *idx);
    assert_non_null(buf);
    assert_non_null(idx);
    memset(buf, 1, bytes);
    for (size_t i = 0; i < lines; i++) idx[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) { /* Fisher-Yates, seeded */
        size_t j = (size_t)tu_rng_int(0, (int64_t)i);
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    volatile unsigned sink = read_lines(buf, idx, lines); /* now cached */
    long long hot, cold;
    assert_int_equal(dk_counters_start(c), DK_OK);
    sink += read_lines(buf, idx, lines);
    assert_int_equal(dk_counters_stop(c, &hot), DK_OK);
    assert_int_equal(dk__cache_evict(buf, bytes), 1);
    assert_int_equal(dk_counters_start(c), DK_OK);
    sink += read_lines(buf, idx, lines);
    assert_int_equal(dk_counters_stop(c, &cold), DK_OK);
    printf("%zu lines read in random order: %lld last-level misses cached, %lld after eviction (sum %u)\n",
           lines, hot, cold, sink);
    assert_true(cold >= (long long)lines / 2);
    assert_true(4 * hot <= cold);
    dk_counters_destroy(c);
    free(buf);
    free(idx);
}

static int is_power_of_two(size_t x) { return x && !(x & (x - 1)); }

/* The last-level cache as sysfs lists it, and what the caches hold in
 * practice: a power-of-two number of MiB from 8 MiB to 1 GiB, measured once. */
static void test_cache_sizes(void **state)
{
    (void)state;
    tu_init("cache_sizes");
    size_t listed = dk__cache_last_level_bytes();
    printf("last-level cache listed: %zu bytes\n", listed);
    if (access("/sys/devices/system/cpu/cpu0/cache/index0/size", R_OK) == 0) assert_true(listed >= 4096);
    size_t held = dk__cache_effective_bytes();
    printf("the caches hold %.1f MiB in practice\n", (double)held / (1 << 20));
    assert_true(held % (1u << 20) == 0 && is_power_of_two(held / (1u << 20)));
    assert_true(held >= (size_t)8 << 20 && held <= (size_t)1 << 30);
    assert_true(dk__cache_effective_bytes() == held); /* once per process */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evict_keeps_contents),
        cmocka_unit_test(test_evicted_lines_miss),
        cmocka_unit_test(test_cache_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
