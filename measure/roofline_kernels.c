/* The roofline's own kernels: an FMA-bound loop for the fp32 peak and the
 * STREAM triad for the memory bandwidth (measure/roofline.h). */
#include <stdlib.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DK_X86 1
#endif

#include "deltakern/roofline.h"
#include "runtime/timer.h"

/* The vector kernels keep 14-16 independent accumulators, more than the FMA
 * units' latency (4 cycles) times their count (2), in chains of
 * x = x * a + b that converge to b / (1 - a) without denormals. */
static volatile float sink;

#ifdef DK_X86
/* 16 zmm chains of 16 floats: 512 flops per iteration. */
__attribute__((target("avx512f"))) static float fma_avx512(long iters)
{
    const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
    __m512 x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15;
    /* distinct starting points, or the compiler merges identical chains */
    x0 = _mm512_set1_ps(0.50f), x1 = _mm512_set1_ps(0.51f), x2 = _mm512_set1_ps(0.52f);
    x3 = _mm512_set1_ps(0.53f), x4 = _mm512_set1_ps(0.54f), x5 = _mm512_set1_ps(0.55f);
    x6 = _mm512_set1_ps(0.56f), x7 = _mm512_set1_ps(0.57f), x8 = _mm512_set1_ps(0.58f);
    x9 = _mm512_set1_ps(0.59f), x10 = _mm512_set1_ps(0.60f), x11 = _mm512_set1_ps(0.61f);
    x12 = _mm512_set1_ps(0.62f), x13 = _mm512_set1_ps(0.63f), x14 = _mm512_set1_ps(0.64f);
    x15 = _mm512_set1_ps(0.65f);
    for (long i = 0; i < iters; i++) {
        x0 = _mm512_fmadd_ps(x0, a, b), x1 = _mm512_fmadd_ps(x1, a, b);
        x2 = _mm512_fmadd_ps(x2, a, b), x3 = _mm512_fmadd_ps(x3, a, b);
        x4 = _mm512_fmadd_ps(x4, a, b), x5 = _mm512_fmadd_ps(x5, a, b);
        x6 = _mm512_fmadd_ps(x6, a, b), x7 = _mm512_fmadd_ps(x7, a, b);
        x8 = _mm512_fmadd_ps(x8, a, b), x9 = _mm512_fmadd_ps(x9, a, b);
        x10 = _mm512_fmadd_ps(x10, a, b), x11 = _mm512_fmadd_ps(x11, a, b);
        x12 = _mm512_fmadd_ps(x12, a, b), x13 = _mm512_fmadd_ps(x13, a, b);
        x14 = _mm512_fmadd_ps(x14, a, b), x15 = _mm512_fmadd_ps(x15, a, b);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)),
                             _mm512_add_ps(_mm512_add_ps(x4, x5), _mm512_add_ps(x6, x7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(x8, x9), _mm512_add_ps(x10, x11)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(x12, x13), _mm512_add_ps(x14, x15)));
    return _mm512_reduce_add_ps(s);
}

/* 14 ymm chains of 8 floats (16 registers, two hold a and b): 224 flops
 * per iteration. */
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters)
{
    const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
    __m256 x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13;
    x0 = _mm256_set1_ps(0.50f), x1 = _mm256_set1_ps(0.51f), x2 = _mm256_set1_ps(0.52f);
    x3 = _mm256_set1_ps(0.53f), x4 = _mm256_set1_ps(0.54f), x5 = _mm256_set1_ps(0.55f);
    x6 = _mm256_set1_ps(0.56f), x7 = _mm256_set1_ps(0.57f), x8 = _mm256_set1_ps(0.58f);
    x9 = _mm256_set1_ps(0.59f), x10 = _mm256_set1_ps(0.60f), x11 = _mm256_set1_ps(0.61f);
    x12 = _mm256_set1_ps(0.62f), x13 = _mm256_set1_ps(0.63f);
    for (long i = 0; i < iters; i++) {
        x0 = _mm256_fmadd_ps(x0, a, b), x1 = _mm256_fmadd_ps(x1, a, b);
        x2 = _mm256_fmadd_ps(x2, a, b), x3 = _mm256_fmadd_ps(x3, a, b);
        x4 = _mm256_fmadd_ps(x4, a, b), x5 = _mm256_fmadd_ps(x5, a, b);
        x6 = _mm256_fmadd_ps(x6, a, b), x7 = _mm256_fmadd_ps(x7, a, b);
        x8 = _mm256_fmadd_ps(x8, a, b), x9 = _mm256_fmadd_ps(x9, a, b);
        x10 = _mm256_fmadd_ps(x10, a, b), x11 = _mm256_fmadd_ps(x11, a, b);
        x12 = _mm256_fmadd_ps(x12, a, b), x13 = _mm256_fmadd_ps(x13, a, b);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                             _mm256_add_ps(_mm256_add_ps(x4, x5), _mm256_add_ps(x6, x7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(x8, x9), _mm256_add_ps(x10, x11)));
    s = _mm256_add_ps(s, _mm256_add_ps(x12, x13));
    float v[8];
    _mm256_storeu_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}
#endif

/* 8 scalar chains: 16 flops per iteration (what the compiler makes of it). */
static float fma_scalar(long iters)
{
    float x[8] = {0.50f, 0.51f, 0.52f, 0.53f, 0.54f, 0.55f, 0.56f, 0.57f};
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 8; k++) x[k] = x[k] * 0.9999f + 1e-4f;
    return x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];
}

typedef float (*fma_fn)(long);

static fma_fn pick(const char **isa, double *flops_per_iter)
{
#ifdef DK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *isa = "avx512f";
        *flops_per_iter = 16.0 * 16 * 2;
        return fma_avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *isa = "avx2+fma";
        *flops_per_iter = 14.0 * 8 * 2;
        return fma_avx2;
    }
#endif
    *isa = "scalar";
    *flops_per_iter = 8.0 * 2;
    return fma_scalar;
}

static int thread_count(int threads)
{
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
    return 1;
#endif
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every thread runs fn(iters) (a parallel region). Returns the wall seconds
 * of the region; *rate receives the sum over threads of iters per second of
 * each thread's own CPU time, which a preempted thread does not lose (on a
 * shared host both cores are seldom free at once for a whole trial). */
static double run_all(fma_fn fn, long iters, int threads, double *rate)
{
    double t0 = dk__now(), sum = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : sum)
#endif
    {
        double c0 = thread_cpu_seconds();
        float r = fn(iters);
        double c = thread_cpu_seconds() - c0;
        if (r == 12345.0f) sink = r; /* never true: keeps the loop */
        sum += c > 0 ? (double)iters / c : 0;
    }
#ifndef _OPENMP
    (void)threads;
#endif
    if (rate) *rate = sum;
    return dk__now() - t0;
}

double dk_roofline_peak_gflops(int threads, int trials, const char **isa)
{
    double per_iter;
    const char *name;
    fma_fn fn = pick(&name, &per_iter);
    if (isa) *isa = name;
    int nt = thread_count(threads);
    /* calibrate to about 0.05 s per trial; the fastest of three runs, so that
     * one preempted run cannot shrink the trials to where starting the
     * threads dominates */
    long iters = 100000;
    double t = run_all(fn, iters, nt, NULL);
    while (t < 0.02) {
        iters *= 4;
        t = run_all(fn, iters, nt, NULL);
    }
    for (int k = 0; k < 2; k++) {
        double again = run_all(fn, iters, nt, NULL);
        if (again < t) t = again;
    }
    iters = (long)((double)iters * 0.05 / t) + 1;
    double best = 0;
    for (int k = 0; k < (trials > 0 ? trials : 1); k++) {
        double rate;
        run_all(fn, iters, nt, &rate);
        double g = rate * per_iter * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

double dk_roofline_clock_ghz(void)
{
#if defined(__x86_64__)
    double best = 0;
    for (int k = 0; k < 20; k++) {
        long n = 10 * 1000 * 1000, x = 0;
        double c0 = thread_cpu_seconds();
        /* four dependent adds per iteration: one cycle each */
        __asm__ volatile("1: add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "sub $1, %1\n\tjnz 1b"
                         : "+r"(x), "+r"(n));
        double c = thread_cpu_seconds() - c0;
        double ghz = c > 0 ? 4.0 * 10 * 1000 * 1000 / c * 1e-9 : 0;
        if (ghz > best) best = ghz;
    }
    return best;
#else
    return 0;
#endif
}

double dk_roofline_triad_gbs(size_t bytes_per_array, int trials)
{
    long n = (long)(bytes_per_array / sizeof(double));
    double *a = malloc(sizeof(double) * (size_t)n);
    double *b = malloc(sizeof(double) * (size_t)n);
    double *c = malloc(sizeof(double) * (size_t)n);
    double best = -1;
    if (a && b && c) {
        /* first touch with the triad's own schedule, so pages sit by their thread */
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
        for (long i = 0; i < n; i++) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;
        const double s = 3.0;
        best = 0;
        for (int k = 0; k < (trials > 0 ? trials : 1) + 1; k++) {
            double t0 = dk__now();
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
            for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
            double sec = dk__now() - t0;
            double gbs = 3.0 * sizeof(double) * (double)n / sec * 1e-9;
            if (k > 0 && gbs > best) best = gbs; /* the first pass warms up */
        }
        sink = (float)a[n / 2];
    }
    free(a);
    free(b);
    free(c);
    return best;
}
