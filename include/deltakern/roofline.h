/* deltakern — the machine's roofline: fp32 peak and memory bandwidth.
 *
 * Measured with kernels of our own (measure/roofline_kernels.c): an FMA-bound
 * register-blocked loop (AVX-512, AVX2+FMA or plain C, chosen at run time) on
 * every OpenMP thread for the peak, and the STREAM triad over arrays several
 * times the last-level cache for the bandwidth (bytes as STREAM counts them:
 * 3 x 8 per element, no write-allocate traffic). Each is the best of several
 * trials (20 of 50 ms for the peak, 20 triads), since a peak is a maximum.
 * The peak sums each thread's rate over its own CPU time, so that threads
 * preempted on a shared host do not lower it (one thread per core assumed:
 * two hardware threads of one core taking turns would count it twice); the
 * bandwidth, a shared resource, is timed by the wall clock and wants an idle
 * machine.
 *
 * The result is cached in $XDG_CACHE_HOME/deltakern/roofline.json (or
 * ~/.cache/deltakern/roofline.json), one entry per CPU model and thread
 * count, written atomically.
 *
 * Plain structs, nothing to free. */
#ifndef DELTAKERN_ROOFLINE_H
#define DELTAKERN_ROOFLINE_H

#include <stddef.h>

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dk_roofline {
    double peak_gflops, bandwidth_gbs;
    char source[256]; /* where the numbers come from (kernel and cache file) */
} dk_roofline;

/* The cached measurement for this CPU and thread count; when none is cached
 * and measure_if_missing, measures (a few seconds) and caches it; otherwise
 * DK_ERR_UNAVAILABLE saying to run `deltakern roofline`. */
dk_status dk_roofline_get(int measure_if_missing, dk_roofline *out);

/* Measures now, without the cache. */
dk_status dk_roofline_measure(dk_roofline *out);
/* Reads the cached entry (DK_ERR_UNAVAILABLE when there is none,
 * DK_ERR_FORMAT naming the file when it is corrupt). */
dk_status dk_roofline_load(dk_roofline *out);
/* Writes r as this CPU's and thread count's entry, keeping the others. */
dk_status dk_roofline_store(const dk_roofline *r);
/* The cache file's path. */
dk_status dk_roofline_cache_path(char *buf, size_t n);

/* The kernels behind dk_roofline_measure, for callers that want one number:
 * GFLOP/s of the FMA loop on `threads` threads (0: the OpenMP default) and
 * the ISA it used ("avx512f", "avx2+fma", "scalar"); GB/s of the triad over
 * arrays of `bytes_per_array`. Best of `trials`. */
double dk_roofline_peak_gflops(int threads, int trials, const char **isa);
double dk_roofline_triad_gbs(size_t bytes_per_array, int trials);
/* The core clock in GHz from a chain of dependent integer adds (one per
 * cycle) timed by the thread's CPU time, best of 20; 0 where unknown (not
 * x86-64). For judging the peak: GFLOP/s / (threads x clock) is the flops per
 * cycle per core the FMA loop reached (64 for two 512-bit FMA units). */
double dk_roofline_clock_ghz(void);

#ifdef __cplusplus
}
#endif
#endif
