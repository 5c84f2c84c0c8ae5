/* Internal: evicting memory from the caches, so that a timed run finds it
 * where a run inside a whole network does (opt=3's candidates), and the size
 * of the last-level cache. */
#ifndef DK_RUNTIME_CACHE_H
#define DK_RUNTIME_CACHE_H

#include <stddef.h>

/* Writes back and evicts the cache lines of [p, p + n) from every cache
 * level (x86-64: clflush; AArch64: dc civac), fenced. Returns 1, or 0 where
 * the build knows no such instruction (nothing is done then). */
int dk__cache_evict(const void *p, size_t n);

/* The bytes of CPU 0's largest cache (/sys/devices/system/cpu/cpu0/cache);
 * 0 when unknown. */
size_t dk__cache_last_level_bytes(void);

/* How much data stays in the caches in practice, measured once per process
 * (under a second): the largest buffer, doubling from twice the threads'
 * private caches (at least 8 MiB), that the OpenMP threads still read at
 * least at the geometric mean of the fastest and the slowest read bandwidth
 * seen (the largest buffer: 4x the last-level cache, at least 64 MiB, at
 * most 1 GiB and a quarter of the available memory). A virtual machine's
 * last-level cache, shared with other guests, holds much less than sysfs
 * says: here 480 MiB listed, reads slow down beyond 64-128 MiB. 0 when no
 * buffer could be allocated. */
size_t dk__cache_effective_bytes(void);

#endif
