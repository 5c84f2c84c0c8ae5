/* Large buffers (activations, weights in a library's layout) on transparent
 * huge pages where the kernel offers them. */
#ifndef DK_RUNTIME_BIG_ALLOC_H
#define DK_RUNTIME_BIG_ALLOC_H

#include <stddef.h>

/* From this size on a buffer is advised as huge pages: one 2 MiB page. */
#define DK_BIG_ALLOC_HUGE ((size_t)2 << 20)

/* size bytes (at least 1) aligned to align (a power of two, at most
 * DK_BIG_ALLOC_HUGE), freed with free(); NULL when out of memory. Contents
 * are undefined. Buffers of DK_BIG_ALLOC_HUGE bytes or more are aligned to
 * and rounded up to whole huge pages and advised MADV_HUGEPAGE: the first
 * touch then faults a 2 MiB page in at once instead of 512 small ones (on a
 * virtual machine page faults were two fifths of a ResNet-50 bench's start). */
void *dk_big_alloc(size_t align, size_t size);

/* dk_big_alloc's memory, zeroed (as calloc's). */
void *dk_big_alloc_zeroed(size_t size);

#endif
