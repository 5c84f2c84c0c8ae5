/* The OpenBLAS backend's float32 reductions, written plainly with float
 * accumulators and float arithmetic throughout (what a float32 library
 * computes; the reference does the same sums in double):
 *   AveragePool, GlobalAveragePool   sum in float, divided by the count;
 *   Softmax                          max, expf(x - max), sum in float, divide;
 *   ReduceMean                       sums in float, divided by the count;
 *   LRN                              squared sums in float, x / powf(...);
 *   BatchNormalization               a = scale / sqrtf(var + eps),
 *                                    y = x * a + (B - mean * a) in float.
 * The conventions (windows, padding counted by count_include_pad, NaN for an
 * empty window, NaN propagation in Softmax) are the reference's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/openblas/openblas_internal.h"
#include "kernels/ref/ref_omp.h"

/* row[ow] += x[ow*s + off] over the row's outputs whose tap is inside. */
static void add_taps_row(const ob_pool_geom *g, float *restrict row,
                         const float *restrict xrow)
{
    const int64_t ow_n = g->out[2], sw = g->stride[2];
    for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
        int64_t off = kw * g->dilation[2] - g->pad_begin[2], lo, hi;
        ob_valid_range(ow_n, g->in[2], sw, off, &lo, &hi);
        const float *src = xrow + off;
        DK_OMP(simd)
        for (int64_t ow = lo; ow < hi; ow++) row[ow] += src[ow * sw];
    }
}

typedef void (*tap_row_fn)(const ob_pool_geom *g, float *restrict row,
                           const float *restrict xrow);

/* Output row (od, oh): tap_row for each input row of its window that lies
 * inside the input, in the order kd, kh. */
static void window_rows(const ob_pool_geom *g, int64_t od, int64_t oh, const float *x, float *row,
                        tap_row_fn tap_row)
{
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        int64_t id = od * g->stride[0] + kd * g->dilation[0] - g->pad_begin[0];
        if (id < 0 || id >= g->in[0]) continue;
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            int64_t ih = oh * g->stride[1] + kh * g->dilation[1] - g->pad_begin[1];
            if (ih < 0 || ih >= g->in[1]) continue;
            tap_row(g, row, x + (id * g->in[1] + ih) * g->in[2]);
        }
    }
}

static void avgpool_plane(const ob_pool_geom *g, const float *div, const float *x, float *y)
{
    const float *div_d = div, *div_h = div + g->out[0], *div_w = div_h + g->out[1];
    const int64_t ow_n = g->out[2];
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < g->out[1]; oh++) {
            float *row = y + (od * g->out[1] + oh) * ow_n;
            memset(row, 0, (size_t)ow_n * sizeof *row);
            window_rows(g, od, oh, x, row, add_taps_row);
            const float dh = div_d[od] * div_h[oh];
            for (int64_t ow = 0; ow < ow_n; ow++) {
                float count = dh * div_w[ow];
                row[ow] = count > 0.0f ? row[ow] / count : NAN;
            }
        }
}

DK_VECTOR_CLONES
static void add_shifted(float *restrict acc, const float *restrict x, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) acc[i] += x[i];
}

/* Unit strides: every tap adds the (padded) plane shifted by its offset to
 * acc, taps in the order kd, kh, kw (a padded tap adds +0, which changes no
 * sum), then each valid position is divided by its count. */
static void avgpool_plane_flat(const ob_pool_geom *g, const float *div, const float *x,
                               float *y, float *scratch)
{
    const float *div_d = div, *div_h = div + g->out[0], *div_w = div_h + g->out[1];
    const float *src = x;
    float *acc = scratch + g->padded_plane;
    if (g->copy) {
        memset(scratch, 0, (size_t)g->padded_plane * sizeof *scratch);
        for (int64_t d = 0; d < g->in[0]; d++)
            for (int64_t h = 0; h < g->in[1]; h++)
                memcpy(scratch + (d + g->pad_begin[0]) * g->pitch_d +
                           (h + g->pad_begin[1]) * g->pitch_h + g->pad_begin[2],
                       x + (d * g->in[1] + h) * g->in[2], (size_t)g->in[2] * sizeof *x);
        src = scratch;
    }
    memset(acc, 0, (size_t)g->acc_len * sizeof *acc);
    for (int64_t kd = 0; kd < g->kernel[0]; kd++)
        for (int64_t kh = 0; kh < g->kernel[1]; kh++)
            for (int64_t kw = 0; kw < g->kernel[2]; kw++)
                add_shifted(acc,
                            src + kd * g->dilation[0] * g->pitch_d +
                                kh * g->dilation[1] * g->pitch_h + kw * g->dilation[2],
                            g->acc_len);
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < g->out[1]; oh++) {
            const float *sum = acc + od * g->pitch_d + oh * g->pitch_h;
            float *row = y + (od * g->out[1] + oh) * g->out[2];
            const float dh = div_d[od] * div_h[oh];
            for (int64_t ow = 0; ow < g->out[2]; ow++) {
                float count = dh * div_w[ow];
                row[ow] = count > 0.0f ? sum[ow] / count : NAN;
            }
        }
}

typedef void (*pool_plane_fn)(const ob_pool_geom *g, const float *counts, const float *x,
                              float *y);
typedef void (*pool_flat_fn)(const ob_pool_geom *g, const float *counts, const float *x,
                             float *y, float *scratch);

/* A pool plane by plane over the threads: whole planes with a scratch slice
 * per thread when g->flat, else row by row. */
static dk_status run_pool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                          const dk_tensor *const *in, dk_tensor *const *out, pool_flat_fn flat,
                          pool_plane_fn rows)
{
    const ob_pool_geom *g = &p->pool;
    const int64_t in_plane = g->in[0] * g->in[1] * g->in[2];
    const int64_t out_plane = g->out[0] * g->out[1] * g->out[2];
    if (dk_tensor_numel(in[0]) != g->planes * in_plane ||
        dk_tensor_numel(out[0]) != g->planes * out_plane)
        return dk__ob_error(n, DK_ERR_SHAPE, "tensors do not have the planned shapes");
    const float *x = in[0]->data;
    float *y = out[0]->data;
    if (g->flat) {
        if (ctx->scratch_floats < p->scratch_floats * (size_t)p->threads)
            return dk__ob_error(n, DK_ERR_INTERNAL, "scratch smaller than planned");
        int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
        (void)threads; /* unused without OpenMP */
        DK_OMP(parallel for num_threads(threads) schedule(static))
        for (int64_t pl = 0; pl < g->planes; pl++)
            flat(g, p->divisors, x + pl * in_plane, y + pl * out_plane,
                 ctx->scratch + (size_t)dk__ob_thread_num() * p->scratch_floats);
        return DK_OK;
    }
    DK_OMP(parallel for schedule(static))
    for (int64_t pl = 0; pl < g->planes; pl++)
        rows(g, p->divisors, x + pl * in_plane, y + pl * out_plane);
    return DK_OK;
}

/* Plan time: `floats` of scratch per plane for each thread that gets one. */
static dk_status reserve_plane_scratch(ob_ctx *ctx, const dk_node *n, ob_plan *p, size_t floats)
{
    int64_t buffers = p->pool.planes < p->threads ? p->pool.planes : p->threads;
    p->scratch_floats = floats;
    DK_TRY(dk__ob_reserve_scratch(ctx, n, p->scratch_floats * (size_t)buffers));
    if (buffers < p->threads) p->threads = (int)buffers;
    return DK_OK;
}

static dk_status exec_avgpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                              const dk_tensor *const *in, dk_tensor *const *out)
{
    return run_pool(ctx, p, n, in, out, avgpool_plane_flat, avgpool_plane);
}

/* ---- AveragePool -------------------------------------------------------------
 * Row by row: each output row sums its window's taps in the order kd, kh, kw
 * (taps outside the input skipped), vectorised along the row (with unit
 * strides: over the whole plane at once, see ob_pool_geom), then divides
 * by the window's count: the taps inside the input, or with count_include_pad
 * those inside the explicit padding too (never ceil_mode's extra padding).
 * The count factorises over the axes; each axis's factor per output index is
 * tabulated at plan time. A window with count 0 gives NaN. */

/* The pool's geometry, right-aligned to 3 spatial axes; count_end (may be
 * NULL): per axis, the end of the range count_include_pad counts. */
static dk_status pool_geometry(const dk_graph *g, const dk_node *n, ob_pool_geom *pg,
                               int64_t count_end[3])
{
    const dk_tensor *x = &g->values[n->inputs[0]].t, *y = &g->values[n->outputs[0]].t;
    const dk_pool_params *pp = &n->p.pool;
    int k = pp->win.nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || y->ndim != k + 2 || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1])
        return dk__ob_error(n, DK_ERR_INTERNAL, "tensor shapes do not match the window");
    pg->planes = x->dims[0] * x->dims[1];
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k);
        pg->in[a] = i < 0 ? 1 : x->dims[2 + i];
        pg->out[a] = i < 0 ? 1 : y->dims[2 + i];
        pg->kernel[a] = i < 0 ? 1 : pp->win.kernel[i];
        pg->stride[a] = i < 0 ? 1 : pp->win.stride[i];
        pg->dilation[a] = i < 0 ? 1 : pp->win.dilation[i];
        pg->pad_begin[a] = i < 0 ? 0 : pp->win.pad_begin[i];
        if (count_end) count_end[a] = i < 0 ? 1 : pg->in[a] + pp->win.pad_end[i] - pp->ceil_extra[i];
        if (pg->kernel[a] < 1 || pg->stride[a] < 1 || pg->dilation[a] < 1)
            return dk__ob_error(n, DK_ERR_INTERNAL, "invalid window");
    }
    return DK_OK;
}

/* p->divisors: per axis and output index, the number of taps t with
 * lo <= o*s - pad + t*dil < hi, where [lo, hi) is the input, or with
 * count_end the range count_include_pad counts (begin padding included). */
static dk_status tap_counts(const dk_node *n, ob_plan *p, const int64_t *count_end)
{
    const ob_pool_geom *pg = &p->pool;
    p->divisors = malloc((size_t)(pg->out[0] + pg->out[1] + pg->out[2]) * sizeof *p->divisors);
    if (!p->divisors) return dk__ob_error(n, DK_ERR_NOMEM, "out of memory for the tap counts");
    float *d = p->divisors;
    for (int a = 0; a < 3; a++)
        for (int64_t o = 0; o < pg->out[a]; o++) {
            int64_t start = o * pg->stride[a] - pg->pad_begin[a];
            int64_t lo = count_end ? -pg->pad_begin[a] : 0;
            int64_t hi = count_end ? count_end[a] : pg->in[a];
            int64_t f = start >= lo ? 0 : (lo - start + pg->dilation[a] - 1) / pg->dilation[a];
            int64_t l = start >= hi ? 0 : (hi - 1 - start) / pg->dilation[a] + 1;
            if (l > pg->kernel[a]) l = pg->kernel[a];
            *d++ = (float)(f < l ? l - f : 0);
        }
    return DK_OK;
}

dk_status dk__ob_plan_avgpool(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    const dk_pool_params *pp = &n->p.pool;
    ob_pool_geom *pg = &p->pool;
    int k = pp->win.nspatial;
    int64_t count_end[3];
    DK_TRY(pool_geometry(g, n, pg, count_end));
    DK_TRY(tap_counts(n, p, pp->count_include_pad ? count_end : NULL));
    if (pg->stride[0] == 1 && pg->stride[1] == 1 && pg->stride[2] == 1) {
        pg->flat = 1;
        for (int a = 0; a < 3; a++) {
            int i = a - (3 - k);
            int64_t pad_end = i < 0 ? 0 : pp->win.pad_end[i];
            pg->padded[a] = pg->in[a] + pg->pad_begin[a] + pad_end;
            pg->copy |= pg->pad_begin[a] != 0 || pad_end != 0;
        }
        pg->pitch_h = pg->padded[2];
        pg->pitch_d = pg->padded[1] * pg->padded[2];
        pg->padded_plane = pg->copy ? pg->padded[0] * pg->pitch_d : 0;
        pg->acc_len = (pg->out[0] - 1) * pg->pitch_d + (pg->out[1] - 1) * pg->pitch_h + pg->out[2];
        DK_TRY(reserve_plane_scratch(ctx, n, p, (size_t)(pg->padded_plane + pg->acc_len)));
    }
    p->exec = exec_avgpool;
    return DK_OK;
}

/* ---- MaxPool -------------------------------------------------------------------
 * A maximum is exact, so this kernel must equal the reference bit for bit; it
 * only reorganises the work. Row by row, each tap of the window (order kd,
 * kh, kw, those outside the input skipped) is one vectorised loop over the
 * row's outputs that read inside the input, with the reference's rule: a
 * value replaces the best when greater, a NaN replaces a number, the first
 * of equal values (+0 before -0) stays. The rows start at -inf, which only a
 * -inf input equals. A window with no tap in the input (pads >= the window)
 * gives NaN, found from the per-axis tap counts (p->divisors). float32
 * without the Indices output; the other cases stay on the reference.
 *
 * 1-D and 2-D pools (flat = 1) run separably over whole planes instead, as
 * rows of a few dozen outputs spend their time in loop overhead (GoogLeNet:
 * 13 pools, 8.8 ms row by row). The rule picks the first of the maximal
 * values in tap order, and the taps in order are the window's rows one after
 * the other, so the maximum of each row's maxima, rows in order, is the same
 * value with the same bits. The plane is copied into one padded with -inf
 * (never greater than a value, and the same bits as an input -inf it ties
 * with); a pass along the rows takes each position's maximum over the kw
 * taps, one contiguous loop over the plane per tap, a pass down the columns
 * the maximum over the kh taps of those, and the output reads every
 * stride-th position. */

/* The reference's rule for the best value so far b and the next tap v. */
static inline float max_rule(float b, float v)
{
    return v > b || (v != v && b == b) ? v : b;
}

DK_VECTOR_CLONES
static void max_taps_row(const ob_pool_geom *g, float *restrict row, const float *restrict xrow)
{
    const int64_t ow_n = g->out[2], sw = g->stride[2];
    for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
        int64_t off = kw * g->dilation[2] - g->pad_begin[2], lo, hi;
        ob_valid_range(ow_n, g->in[2], sw, off, &lo, &hi);
        const float *src = xrow + off;
        DK_OMP(simd)
        for (int64_t ow = lo; ow < hi; ow++) row[ow] = max_rule(row[ow], src[ow * sw]);
    }
}

static void maxpool_plane(const ob_pool_geom *g, const float *counts, const float *x, float *y)
{
    const float *cnt_d = counts, *cnt_h = counts + g->out[0], *cnt_w = cnt_h + g->out[1];
    const int64_t ow_n = g->out[2];
    for (int64_t od = 0; od < g->out[0]; od++)
        for (int64_t oh = 0; oh < g->out[1]; oh++) {
            float *row = y + (od * g->out[1] + oh) * ow_n;
            if (cnt_d[od] == 0.0f || cnt_h[oh] == 0.0f) {
                for (int64_t ow = 0; ow < ow_n; ow++) row[ow] = NAN;
                continue;
            }
            for (int64_t ow = 0; ow < ow_n; ow++) row[ow] = -INFINITY;
            window_rows(g, od, oh, x, row, max_taps_row);
            for (int64_t ow = 0; ow < ow_n; ow++)
                if (cnt_w[ow] == 0.0f) row[ow] = NAN;
        }
}

DK_VECTOR_CLONES
static void max_shifted(float *restrict acc, const float *restrict x, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) acc[i] = max_rule(acc[i], x[i]);
}

/* 1-D and 2-D: separable over the -inf-padded plane (see above); scratch
 * holds two padded planes. */
DK_VECTOR_CLONES
static void maxpool_plane_flat(const ob_pool_geom *g, const float *counts, const float *x,
                               float *y, float *scratch)
{
    const float *cnt_h = counts + g->out[0], *cnt_w = cnt_h + g->out[1];
    const int64_t hp = g->padded[1], wp = g->padded[2], plane = hp * wp;
    float *restrict xp = scratch, *restrict hm = scratch + plane;
    DK_OMP(simd)
    for (int64_t i = 0; i < plane; i++) xp[i] = -INFINITY;
    for (int64_t h = 0; h < g->in[1]; h++)
        memcpy(xp + (h + g->pad_begin[1]) * wp + g->pad_begin[2], x + h * g->in[2],
               (size_t)g->in[2] * sizeof *x);
    /* along the rows: hm[i] = max over kw of xp[i + kw*dw] (the tail of the
     * plane, which no output reads, keeps the first tap) */
    memcpy(hm, xp, (size_t)plane * sizeof *hm);
    const int64_t row_span = (g->kernel[2] - 1) * g->dilation[2];
    for (int64_t kw = 1; kw < g->kernel[2]; kw++)
        max_shifted(hm, xp + kw * g->dilation[2], plane - row_span);
    /* down the columns, into xp: max over kh of hm[i + kh*dh*wp] */
    const int64_t col_span = (g->kernel[1] - 1) * g->dilation[1] * wp;
    memcpy(xp, hm, (size_t)plane * sizeof *xp);
    for (int64_t kh = 1; kh < g->kernel[1]; kh++)
        max_shifted(xp, hm + kh * g->dilation[1] * wp, plane - col_span);
    const int64_t sh = g->stride[1], sw = g->stride[2], ow_n = g->out[2];
    for (int64_t oh = 0; oh < g->out[1]; oh++) {
        const float *restrict src = xp + oh * sh * wp;
        float *restrict row = y + oh * ow_n;
        if (sw == 1) {
            memcpy(row, src, (size_t)ow_n * sizeof *row);
        } else {
            DK_OMP(simd)
            for (int64_t ow = 0; ow < ow_n; ow++) row[ow] = src[ow * sw];
        }
        /* windows with no tap in the input */
        if (cnt_h[oh] == 0.0f)
            for (int64_t ow = 0; ow < ow_n; ow++) row[ow] = NAN;
        else if (g->empty_cols)
            for (int64_t ow = 0; ow < ow_n; ow++)
                if (cnt_w[ow] == 0.0f) row[ow] = NAN;
    }
}

static dk_status exec_maxpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                              const dk_tensor *const *in, dk_tensor *const *out)
{
    return run_pool(ctx, p, n, in, out, maxpool_plane_flat, maxpool_plane);
}

dk_status dk__ob_plan_maxpool(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    if (n->p.pool.has_indices && n->n_outputs > 1) return DK_OK; /* the reference's */
    ob_pool_geom *pg = &p->pool;
    DK_TRY(pool_geometry(g, n, pg, NULL));
    DK_TRY(tap_counts(n, p, NULL));
    p->exec = exec_maxpool;
    if (pg->kernel[0] != 1 || pg->in[0] != 1 || pg->out[0] != 1) return DK_OK; /* 3-D: rows */
    /* padded so that every tap of every output lies in the plane */
    for (int a = 1; a < 3; a++) {
        int64_t need = (pg->out[a] - 1) * pg->stride[a] + (pg->kernel[a] - 1) * pg->dilation[a] + 1;
        pg->padded[a] = pg->in[a] + pg->pad_begin[a] > need ? pg->in[a] + pg->pad_begin[a] : need;
    }
    pg->flat = 1;
    const float *cnt_w = p->divisors + pg->out[0] + pg->out[1];
    for (int64_t ow = 0; ow < pg->out[2]; ow++) pg->empty_cols |= cnt_w[ow] == 0.0f;
    return reserve_plane_scratch(ctx, n, p, (size_t)(2 * pg->padded[1] * pg->padded[2]));
}

/* ---- GlobalAveragePool ------------------------------------------------------- */

dk_status dk__ob_exec_globalavgpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *xt = in[0], *yt = out[0];
    if (xt->ndim < 3 || dk_tensor_numel(yt) != xt->dims[0] * xt->dims[1])
        return dk__ob_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
    const int64_t planes = xt->dims[0] * xt->dims[1];
    const int64_t size = dk_shape_numel(xt->ndim - 2, xt->dims + 2);
    const float *x = xt->data;
    float *y = yt->data;
    DK_OMP(parallel for schedule(static))
    for (int64_t pl = 0; pl < planes; pl++) {
        float sum = 0.0f;
        for (int64_t i = 0; i < size; i++) sum += x[pl * size + i];
        y[pl] = sum / (float)size;
    }
    return DK_OK;
}

/* ---- Softmax --------------------------------------------------------------------
 * Viewed as [outer, len, inner], normalised along len (legacy: len is every
 * dim from the axis on). A tile is one outer index and up to TILE inner
 * positions; exp(x - max) is stored in y and divided by the sum in place. */

#define SOFTMAX_TILE 256

static void softmax_tile(const float *x, float *y, int64_t len, int64_t inner, int64_t width)
{
    float mx[SOFTMAX_TILE], sum[SOFTMAX_TILE];
    for (int64_t j = 0; j < width; j++) {
        mx[j] = -INFINITY;
        sum[j] = 0.0f;
    }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) {
            float v = x[l * inner + j];
            if (v > mx[j] || isnan(v)) mx[j] = v; /* a NaN spreads to the whole row */
        }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) {
            float e = expf(x[l * inner + j] - mx[j]);
            y[l * inner + j] = e;
            sum[j] += e;
        }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) y[l * inner + j] /= sum[j];
}

dk_status dk__ob_exec_softmax(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                          const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_softmax_params sp = n->p.softmax;
    if (sp.axis < 0 || sp.axis >= x->ndim || dk_tensor_numel(out[0]) != dk_tensor_numel(x))
        return dk__ob_error(n, DK_ERR_INTERNAL, "axis %d or output shape does not match rank %d",
                        sp.axis, x->ndim);
    const int64_t outer = dk_shape_numel(sp.axis, x->dims);
    const int64_t len = sp.legacy ? dk_shape_numel(x->ndim - sp.axis, x->dims + sp.axis)
                                  : x->dims[sp.axis];
    const int64_t inner =
        sp.legacy ? 1 : dk_shape_numel(x->ndim - sp.axis - 1, x->dims + sp.axis + 1);
    if (outer * len * inner == 0) return DK_OK;
    const int64_t width = inner < SOFTMAX_TILE ? inner : SOFTMAX_TILE;
    const int64_t per_outer = (inner + width - 1) / width, tiles = outer * per_outer;
    const float *xp = x->data;
    float *yp = out[0]->data;
    DK_OMP(parallel for if (tiles > 1 && outer * len * inner > 16384) schedule(static))
    for (int64_t t = 0; t < tiles; t++) {
        int64_t o = t / per_outer, j0 = t % per_outer * width;
        int64_t w = inner - j0 < width ? inner - j0 : width;
        int64_t off = o * len * inner + j0;
        softmax_tile(xp + off, yp + off, len, inner, w);
    }
    return DK_OK;
}

/* ---- ReduceMean ------------------------------------------------------------------
 * Dims merged into runs all reduced or all kept; the input is read once in
 * order, each run added into the float output, which is divided at the end. */

dk_status dk__ob_exec_reducemean(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_reduce_params *rp = &n->p.reduce;
    const int64_t in_count = dk_tensor_numel(x), out_count = dk_tensor_numel(out[0]);
    float *yp = out[0]->data;
    const float *xp = x->data;
    if (rp->naxes == 0) { /* noop_with_empty_axes: identity */
        if (in_count != out_count) return dk__ob_error(n, DK_ERR_INTERNAL, "output shape differs");
        memcpy(yp, xp, sizeof(float) * (size_t)in_count);
        return DK_OK;
    }
    if (out_count == 0) return DK_OK;
    int is_reduced[DK_MAX_DIMS] = {0}, nd = 0, reduced[DK_MAX_DIMS];
    int64_t dims[DK_MAX_DIMS], ostride[DK_MAX_DIMS];
    for (int i = 0; i < rp->naxes; i++) is_reduced[rp->axes[i]] = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (x->dims[d] == 1) continue;
        if (nd > 0 && reduced[nd - 1] == is_reduced[d]) {
            dims[nd - 1] *= x->dims[d];
            continue;
        }
        dims[nd] = x->dims[d];
        reduced[nd++] = is_reduced[d];
    }
    if (nd == 0) {
        dims[0] = 1;
        reduced[nd++] = 0;
    }
    for (int64_t s = 1, d = nd - 1; d >= 0; d--) {
        ostride[d] = reduced[d] ? 0 : s;
        if (!reduced[d]) s *= dims[d];
    }
    for (int64_t i = 0; i < out_count; i++) yp[i] = 0.0f;
    const int64_t run = dims[nd - 1];
    for (int64_t r = 0; in_count > 0 && r < in_count / run; r++) {
        int64_t o = 0, rest = r;
        for (int d = nd - 2; d >= 0; d--) {
            o += rest % dims[d] * ostride[d];
            rest /= dims[d];
        }
        const float *row = xp + r * run;
        if (reduced[nd - 1]) {
            float s = 0.0f;
            for (int64_t j = 0; j < run; j++) s += row[j];
            yp[o] += s;
        } else {
            for (int64_t j = 0; j < run; j++) yp[o + j] += row[j];
        }
    }
    const float count = (float)(in_count / out_count);
    for (int64_t i = 0; i < out_count; i++) yp[i] /= count;
    return DK_OK;
}

/* ---- LRN ---------------------------------------------------------------------- */

dk_status dk__ob_exec_lrn(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                      const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_lrn_params lp = n->p.lrn;
    if (x->ndim < 2 || dk_tensor_numel(out[0]) != dk_tensor_numel(x) || lp.size < 1)
        return dk__ob_error(n, DK_ERR_INTERNAL, "output shape or size does not match the input");
    const int64_t batch = x->dims[0], channels = x->dims[1];
    const int64_t size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    if ((size_t)size > p->scratch_floats ||
        ctx->scratch_floats < p->scratch_floats * (size_t)p->threads)
        return dk__ob_error(n, DK_ERR_INTERNAL, "scratch smaller than planned");
    const int64_t before = (lp.size - 1) / 2, after = lp.size - 1 - before;
    const float scale = lp.alpha / (float)lp.size;
    const float *xd = x->data;
    float *yd = out[0]->data;
    int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
    (void)threads; /* unused without OpenMP */
    DK_OMP(parallel for num_threads(threads) schedule(static))
    for (int64_t t = 0; t < batch * channels; t++) {
        float *sq = ctx->scratch + (size_t)dk__ob_thread_num() * p->scratch_floats;
        int64_t c = t % channels, image = t / channels * channels * size;
        int64_t lo = c - before < 0 ? 0 : c - before;
        int64_t hi = c + after > channels - 1 ? channels - 1 : c + after;
        for (int64_t i = 0; i < size; i++) sq[i] = 0.0f;
        for (int64_t k = lo; k <= hi; k++) {
            const float *xk = xd + image + k * size;
            for (int64_t i = 0; i < size; i++) sq[i] += xk[i] * xk[i];
        }
        const float *xc = xd + image + c * size;
        float *yc = yd + image + c * size;
        for (int64_t i = 0; i < size; i++) yc[i] = xc[i] / powf(lp.bias + scale * sq[i], lp.beta);
    }
    return DK_OK;
}

/* ---- BatchNormalization --------------------------------------------------------- */

dk_status dk__ob_exec_batchnorm(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                            const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    if (x->ndim < 2 || dk_tensor_numel(out[0]) != dk_tensor_numel(x))
        return dk__ob_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
    const int64_t channels = x->dims[1];
    for (int i = 1; i < 5; i++)
        if (!in[i] || in[i]->dtype != DK_F32 || dk_tensor_numel(in[i]) != channels)
            return dk__ob_error(n, DK_ERR_INTERNAL, "input %d does not have one float per channel",
                            i);
    const float *scale = in[1]->data, *shift = in[2]->data, *mean = in[3]->data,
                *var = in[4]->data, *xd = x->data;
    float *yd = out[0]->data;
    const int64_t planes = x->dims[0] * channels;
    const int64_t size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    const float eps = n->p.bn.epsilon;
    DK_OMP(parallel for schedule(static))
    for (int64_t pl = 0; pl < planes; pl++) {
        int64_t c = pl % channels;
        float a = scale[c] / sqrtf(var[c] + eps), b = shift[c] - mean[c] * a;
        const float *xp = xd + pl * size;
        float *yp = yd + pl * size;
        for (int64_t i = 0; i < size; i++) yp[i] = xp[i] * a + b;
    }
    return DK_OK;
}
