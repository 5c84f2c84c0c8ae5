/* Hot loops under AddressSanitizer: checked once per range, not per element.
 *
 * The test suite runs a second time under ASan and UBSan, where every load
 * and store of the reference convolution's inner loops was checked against
 * the shadow memory and nothing was vectorised: those loops were the largest
 * part of a sanitised diff (29% of its samples on MobileNetV2). A loop that
 * reads and writes whole contiguous ranges gets the same coverage from one
 * check of each range at its entry (__asan_region_is_poisoned), so such
 * loops are marked DK_RANGE_CHECKED (not instrumented), and their caller,
 * instrumented, applies DK_CHECK_RANGE to every range they touch (a compiler
 * may not inline an instrumented helper into them). A poisoned byte is then
 * read through an instrumented access, which makes ASan report it as usual
 * (with the allocation it belongs to and the call stack) and stop.
 * UBSan's checks are left out of these loops too: their only integer
 * arithmetic is an index below its bound.
 * Without ASan both macros are nothing. */
#ifndef DK_RUNTIME_SANITIZE_H
#define DK_RUNTIME_SANITIZE_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define DK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DK_ASAN 1
#endif
#endif

#ifdef DK_ASAN
#include <sanitizer/asan_interface.h>

#if defined(__clang__)
#define DK_RANGE_CHECKED __attribute__((no_sanitize("address", "undefined")))
#else
#define DK_RANGE_CHECKED __attribute__((no_sanitize_address, no_sanitize_undefined))
#endif

/* Reports, as ASan does, the first poisoned byte of count elements from p.
 * Called from instrumented code (the loop's caller): the volatile read of a
 * poisoned byte is what ASan reports. */
static inline void dk__check_range(const void *p, long long count, size_t size)
{
    if (count <= 0) return;
    const volatile char *bad = __asan_region_is_poisoned((void *)(size_t)p, (size_t)count * size);
    if (bad) (void)*bad;
}
#define DK_CHECK_RANGE(p, count) dk__check_range((p), (long long)(count), sizeof *(p))

#else
#define DK_RANGE_CHECKED
#define DK_CHECK_RANGE(p, count) ((void)0)
#endif

#endif
