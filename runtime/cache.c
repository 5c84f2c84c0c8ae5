/* Evicting memory from the caches, and measuring how much they hold: see cache.h. */
#include "runtime/cache.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/host.h"
#include "runtime/timer.h"

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#endif

/* The smallest data-cache line of the CPUs built for; a smaller step than
 * the real line only flushes a line twice. */
#define DK_CACHE_LINE 64

int dk__cache_evict(const void *p, size_t n)
{
    if (!p || !n) return 1;
    const char *a = (const char *)((uintptr_t)p & ~(uintptr_t)(DK_CACHE_LINE - 1));
    const char *end = (const char *)p + n;
#if defined(__x86_64__) || defined(__i386__)
    for (; a < end; a += DK_CACHE_LINE) _mm_clflush(a);
    _mm_mfence();
    return 1;
#elif defined(__aarch64__)
    for (; a < end; a += DK_CACHE_LINE) __asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
    __asm__ volatile("dsb ish" : : : "memory");
    return 1;
#else
    (void)a;
    (void)end;
    return 0;
#endif
}

/* CPU 0's data or unified caches from sysfs: the largest level's size in
 * *last and the level below's in *below (0 when unknown). */
static void cache_sizes(size_t *last, size_t *below)
{
    size_t by_level[8] = {0};
    for (int i = 0; i < 16; i++) {
        char path[96], buf[64];
        size_t v[3] = {0};
        const char *what[] = {"level", "type", "size"};
        int ok = 1;
        for (int w = 0; w < 3 && ok; w++) {
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", i, what[w]);
            FILE *f = fopen(path, "r");
            ok = f && fgets(buf, sizeof buf, f);
            if (f) fclose(f);
            if (!ok) break;
            if (w == 1 && !strncmp(buf, "Instruction", 11)) ok = 0;
            char *end;
            double x = strtod(buf, &end); /* "2", "2048K", "480M" */
            if (*end == 'K') x *= 1024;
            else if (*end == 'M') x *= 1024 * 1024;
            else if (*end == 'G') x *= 1024.0 * 1024 * 1024;
            v[w] = (size_t)x;
        }
        if (ok && v[0] < 8 && v[2] > by_level[v[0]]) by_level[v[0]] = v[2];
    }
    *last = *below = 0;
    for (int l = 7; l >= 0; l--)
        if (by_level[l]) {
            if (!*last) *last = by_level[l];
            else if (!*below) *below = by_level[l];
        }
}

size_t dk__cache_last_level_bytes(void)
{
    size_t last, below;
    cache_sizes(&last, &below);
    return last;
}

/* Seconds of the fastest of three timed passes (after one untimed) of
 * `passes` reads of one double per cache line over the first `bytes` of buf. */
static volatile double read_sink; /* keeps the reads */

static double read_seconds(const double *buf, size_t bytes, int passes)
{
    const size_t n = bytes / sizeof(double), step = DK_CACHE_LINE / sizeof(double);
    double best = HUGE_VAL, s = 0;
    for (int r = 0; r < 4; r++) {
        double t0 = dk__now();
        for (int p = 0; p < passes; p++) {
#ifdef _OPENMP
#pragma omp parallel for reduction(+ : s) schedule(static)
#endif
            for (size_t i = 0; i < n; i += step) s += buf[i];
        }
        double dt = dk__now() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    read_sink += s;
    return best;
}

static size_t effective_bytes;
static pthread_once_t effective_once = PTHREAD_ONCE_INIT;

static void measure_effective(void)
{
    const size_t mib = (size_t)1 << 20;
    size_t max = 4 * dk__cache_last_level_bytes();
    if (max < 64 * mib) max = 64 * mib;
    if (max > 1024 * mib) max = 1024 * mib;
    double total, available;
    dk__host_memory(&total, &available);
    while (max > 64 * mib && (double)max > available / 4) max /= 2;
    /* from twice the private caches of the threads (those of the level
     * below the last), at least 8 MiB */
    size_t last, below, first = 8 * mib;
    cache_sizes(&last, &below);
#ifdef _OPENMP
    const size_t threads = (size_t)omp_get_max_threads();
#else
    const size_t threads = 1;
#endif
    while (first < 2 * below * threads && first < max) first *= 2;
    double *buf = malloc(max);
    if (!buf) return;
    /* pages of their own before the timing (not zeros: malloc and memset 0
     * may become calloc, whose untouched pages all read the one zero page) */
    memset(buf, 1, max);
    double bw[16];
    int k = 0;
    size_t size[16];
    for (size_t bytes = first; bytes <= max && k < 16; bytes *= 2, k++) {
        int passes = bytes < 64 * mib ? (int)(64 * mib / bytes) : 1; /* >= 64 MiB read per timing */
        size[k] = bytes;
        bw[k] = (double)bytes * passes / read_seconds(buf, bytes, passes);
    }
    free(buf);
    double fast = 0, slow = HUGE_VAL;
    for (int i = 0; i < k; i++) {
        if (bw[i] > fast) fast = bw[i];
        if (bw[i] < slow) slow = bw[i];
    }
    const double line = sqrt(fast * slow);
    effective_bytes = k ? size[0] : max;
    for (int i = 0; i < k; i++)
        if (bw[i] >= line) effective_bytes = size[i];
}

size_t dk__cache_effective_bytes(void)
{
    pthread_once(&effective_once, measure_effective);
    return effective_bytes;
}
