/* Overflow-checked int64 arithmetic for shapes, and the size limits.
 *
 * Shape inference computes with dims, pads, strides, dilations and kernel
 * sizes that come straight from the model file: a hostile model can make
 * plain int64 arithmetic wrap (undefined behaviour) and hand the kernels
 * sizes that do not match their buffers. Every such computation goes through
 * these helpers, which return 1 when the result is exact and 0 when it
 * overflowed (the result is then unspecified and must not be used).
 *
 * The limits: no dimension and no element count may exceed 2^40 (4 TiB of
 * float32). Any value within them leaves room to add and multiply a few of
 * them in int64, and no real model comes near them. */
#ifndef DK_RUNTIME_CHECKED_H
#define DK_RUNTIME_CHECKED_H

#include <stdint.h>

#define DK_MAX_LOG2 40
#define DK_MAX_LIMIT_STR "2^40" /* for messages */
#define DK_MAX_DIM ((int64_t)1 << DK_MAX_LOG2)      /* largest dimension */
#define DK_MAX_ELEMENTS ((int64_t)1 << DK_MAX_LOG2) /* largest element count */

static inline int dk_ck_add(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

static inline int dk_ck_sub(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_sub_overflow(a, b, r);
}

static inline int dk_ck_mul(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

/* A dimension (or pad, stride, kernel size...) in [lo, DK_MAX_DIM]. */
static inline int dk_ck_dim_ok(int64_t v, int64_t lo) { return v >= lo && v <= DK_MAX_DIM; }

/* Product of dims[0..ndim); 0 when a dim is negative or the product
 * overflows. A zero dim makes the product 0 whatever the others are. */
static inline int dk_ck_numel(int ndim, const int64_t *dims, int64_t *r)
{
    int64_t p = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return 0;
        if (dims[i] == 0) p = 0;
    }
    for (int i = 0; i < ndim && p; i++)
        if (!dk_ck_mul(p, dims[i], &p)) return 0;
    *r = p;
    return 1;
}

/* Like dk_ck_numel, and the count must also be at most DK_MAX_ELEMENTS. */
static inline int dk_ck_numel_ok(int ndim, const int64_t *dims, int64_t *r)
{
    return dk_ck_numel(ndim, dims, r) && *r <= DK_MAX_ELEMENTS;
}

/* Extent of a dilated window: dilation * (kernel - 1) + 1. */
static inline int dk_ck_window_span(int64_t kernel, int64_t dilation, int64_t *r)
{
    return kernel >= 1 && dk_ck_mul(dilation, kernel - 1, r) && dk_ck_add(*r, 1, r);
}

/* Output size of a sliding window along one axis:
 *   (in + pads - dilation * (kernel - 1) - 1) / stride + 1,
 * the division rounded up when ceil is set. *r is 0 when the window does not
 * fit the padded input. Needs stride >= 1; returns 0 on overflow or when a
 * parameter is out of its domain (negative input or pads, kernel or dilation
 * below 1). */
static inline int dk_ck_window_out(int64_t in, int64_t pads, int64_t kernel, int64_t stride,
                                   int64_t dilation, int ceil, int64_t *r)
{
    int64_t padded, span, room;
    if (in < 0 || pads < 0 || kernel < 1 || stride < 1 || dilation < 1) return 0;
    if (!dk_ck_add(in, pads, &padded) || !dk_ck_window_span(kernel, dilation, &span)) return 0;
    if (padded < span) {
        *r = 0;
        return 1;
    }
    room = padded - span; /* >= 0: no overflow */
    *r = room / stride + (ceil && room % stride != 0) + 1; /* not room + stride - 1: may overflow */
    return 1;
}

#endif
