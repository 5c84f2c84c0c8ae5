/* Large buffers on transparent huge pages (big_alloc.h). */
#define _GNU_SOURCE
#include "runtime/big_alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t round_up(size_t n, size_t to)
{
    return n > (size_t)-1 - (to - 1) ? 0 : (n + to - 1) / to * to;
}

void *dk_big_alloc(size_t align, size_t size)
{
    if (size == 0) size = 1;
    if (size < DK_BIG_ALLOC_HUGE) {
        size_t rounded = round_up(size, align);
        return rounded ? aligned_alloc(align, rounded) : NULL;
    }
    size_t rounded = round_up(size, DK_BIG_ALLOC_HUGE);
    void *p = NULL;
    if (!rounded || posix_memalign(&p, DK_BIG_ALLOC_HUGE, rounded)) return NULL;
#ifdef MADV_HUGEPAGE
    /* a hint: where huge pages are off (or the region is not eligible) the
     * memory is small pages as before, so the result is not checked */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

void *dk_big_alloc_zeroed(size_t size)
{
    if (size < DK_BIG_ALLOC_HUGE) return calloc(size ? size : 1, 1);
    void *p = dk_big_alloc(DK_BIG_ALLOC_HUGE, size);
    if (p) memset(p, 0, size);
    return p;
}
