/* Reference pooling: MaxPool (float32, uint8, int8; optional Indices),
 * AveragePool (float32), GlobalAveragePool and GlobalMaxPool (float32).
 *
 * 1-D and 2-D pools are 3-D ones with leading spatial dims of size 1. For each
 * output position and axis, the kernel taps that land inside the input are
 * found first (tap_range), so the loops over taps need no bounds checks.
 * Padding never takes part in a maximum; a NaN in a window makes its maximum
 * NaN (as in numpy and PyTorch). For AveragePool, padding counts in the
 * divisor only with count_include_pad=1, and then only the explicit or
 * auto_pad padding, never the extra padding that ceil_mode adds. A window with
 * no tap inside the input (possible only with pads >= the window) yields NaN
 * (MaxPool float, AveragePool), 0 (MaxPool integers) and index -1. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/checked.h"
#include "runtime/error.h"

/* Geometry, right-aligned to 3 spatial axes (unused leading axes have size 1). */
typedef struct pool_geom {
    int64_t planes;                  /* N * C */
    int64_t in[3], out[3];
    int64_t kernel[3], stride[3], dilation[3], pad_begin[3];
    int64_t count_end[3];            /* count_include_pad counts positions below this:
                                        input size plus end padding without ceil_extra */
} pool_geom;

static dk_status pool_error(const dk_node *n, dk_status s, const char *what)
{
    return dk__error(s, "node '%s' (%s): %s", n->name, dk_op_name(n->op), what);
}

static dk_status geometry(const dk_node *n, const dk_tensor *x, const dk_tensor *y, pool_geom *g)
{
    const dk_pool_params *p = &n->p.pool;
    int k = p->win.nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || y->ndim != k + 2 || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1])
        return pool_error(n, DK_ERR_INTERNAL, "tensor shapes do not match the window");
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k); /* window axis, < 0 for the padding axes */
        g->in[a] = i < 0 ? 1 : x->dims[2 + i];
        g->out[a] = i < 0 ? 1 : y->dims[2 + i];
        g->kernel[a] = i < 0 ? 1 : p->win.kernel[i];
        g->stride[a] = i < 0 ? 1 : p->win.stride[i];
        g->dilation[a] = i < 0 ? 1 : p->win.dilation[i];
        g->pad_begin[a] = i < 0 ? 0 : p->win.pad_begin[i];
        g->count_end[a] = i < 0 ? 1 : g->in[a] + p->win.pad_end[i] - p->ceil_extra[i];
        if (g->kernel[a] < 1 || g->stride[a] < 1 || g->dilation[a] < 1 || g->out[a] < 1 ||
            g->pad_begin[a] < 0)
            return pool_error(n, DK_ERR_INTERNAL, "invalid window");
        /* Checked once here so that the per-element index arithmetic
         * (window starts, tap positions, padded counts) cannot overflow:
         * the last window's extent and the padded size must fit in int64. */
        int64_t last, span, padded;
        if (!dk_ck_mul(g->out[a] - 1, g->stride[a], &last) ||
            !dk_ck_window_span(g->kernel[a], g->dilation[a], &span) ||
            !dk_ck_add(last, span, &last) || !dk_ck_add(g->in[a], g->pad_begin[a], &padded) ||
            !dk_ck_add(padded, i < 0 ? 0 : p->win.pad_end[i], &padded) || last > padded)
            return pool_error(n, DK_ERR_INTERNAL, "output size does not match the window");
    }
    int64_t numel;
    if (!dk_ck_numel(x->ndim, x->dims, &numel) || !dk_ck_numel(y->ndim, y->dims, &numel) ||
        !dk_ck_mul(x->dims[0], x->dims[1], &g->planes))
        return pool_error(n, DK_ERR_INTERNAL, "tensor sizes overflow");
    return DK_OK;
}

/* Taps [*first, *last) of a window starting at `start` (k taps, `dilation`
 * apart) whose positions lie in [lo, hi). */
static void tap_range(int64_t start, int64_t lo, int64_t hi, int64_t k, int64_t dilation,
                      int64_t *first, int64_t *last)
{
    int64_t f = start >= lo ? 0 : (lo - start + dilation - 1) / dilation;
    int64_t l = start >= hi ? 0 : (hi - 1 - start) / dilation + 1;
    if (l > k) l = k;
    if (f > l) f = l;
    *first = f;
    *last = l;
}

/* The taps of output position o (3 axes) that read the input. */
typedef struct window_taps {
    int64_t start[3], first[3], last[3];
} window_taps;

static void window_at(const pool_geom *g, const int64_t o[3], window_taps *t)
{
    for (int a = 0; a < 3; a++) {
        t->start[a] = o[a] * g->stride[a] - g->pad_begin[a];
        tap_range(t->start[a], 0, g->in[a], g->kernel[a], g->dilation[a], &t->first[a],
                  &t->last[a]);
    }
}

static double load(const void *data, dk_dtype t, int64_t i)
{
    switch (t) {
    case DK_U8: return ((const uint8_t *)data)[i];
    case DK_I8: return ((const int8_t *)data)[i];
    default: return ((const float *)data)[i];
    }
}

static void store(void *data, dk_dtype t, int64_t i, double v)
{
    switch (t) {
    case DK_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case DK_I8: ((int8_t *)data)[i] = (int8_t)v; break;
    default: ((float *)data)[i] = (float)v; break;
    }
}

/* ---- MaxPool ------------------------------------------------------------ */

/* ONNX Indices: flat index into X, (n*C + c) * spatial size plus the spatial
 * offset in row-major order, or column-major (first spatial axis fastest)
 * when storage_order is 1. */
static int64_t flat_index(const pool_geom *g, int64_t plane, const int64_t pos[3], int k,
                          int column_major)
{
    int64_t spatial = g->in[0] * g->in[1] * g->in[2];
    int64_t off = 0;
    if (!column_major) {
        off = (pos[0] * g->in[1] + pos[1]) * g->in[2] + pos[2];
    } else {
        int64_t scale = 1;
        for (int a = 3 - k; a < 3; a++) {
            off += pos[a] * scale;
            scale *= g->in[a];
        }
    }
    return plane * spatial + off;
}

static void maxpool_plane(const dk_node *n, const pool_geom *g, const dk_tensor *x,
                          dk_tensor *y, int64_t *indices, int64_t plane)
{
    int64_t in_plane = g->in[0] * g->in[1] * g->in[2];
    int64_t out_base = plane * g->out[0] * g->out[1] * g->out[2];
    int k = n->p.pool.win.nspatial;
    int64_t o[3], i = 0;
    for (o[0] = 0; o[0] < g->out[0]; o[0]++)
        for (o[1] = 0; o[1] < g->out[1]; o[1]++)
            for (o[2] = 0; o[2] < g->out[2]; o[2]++, i++) {
                window_taps t;
                window_at(g, o, &t);
                double best = NAN;
                int64_t best_pos[3] = {-1, -1, -1}, pos[3];
                for (int64_t kd = t.first[0]; kd < t.last[0]; kd++)
                    for (int64_t kh = t.first[1]; kh < t.last[1]; kh++)
                        for (int64_t kw = t.first[2]; kw < t.last[2]; kw++) {
                            pos[0] = t.start[0] + kd * g->dilation[0];
                            pos[1] = t.start[1] + kh * g->dilation[1];
                            pos[2] = t.start[2] + kw * g->dilation[2];
                            double v = load(x->data, x->dtype, plane * in_plane +
                                            (pos[0] * g->in[1] + pos[1]) * g->in[2] + pos[2]);
                            /* the first maximum wins; a NaN wins over numbers */
                            if (best_pos[0] < 0 || v > best || (isnan(v) && !isnan(best))) {
                                best = v;
                                memcpy(best_pos, pos, sizeof pos);
                            }
                        }
                if (best_pos[0] < 0 && x->dtype != DK_F32) best = 0;
                store(y->data, y->dtype, out_base + i, best);
                if (indices)
                    indices[out_base + i] =
                        best_pos[0] < 0 ? -1
                                        : flat_index(g, plane, best_pos, k,
                                                     n->p.pool.storage_order == 1);
            }
}

dk_status dk_ref_maxpool(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0], *ind = n->p.pool.has_indices && n->n_outputs > 1 ? out[1] : NULL;
    pool_geom g;
    if (x->dtype != y->dtype || (x->dtype != DK_F32 && x->dtype != DK_U8 && x->dtype != DK_I8))
        return pool_error(n, DK_ERR_UNSUPPORTED, "only float32, uint8 and int8 are supported");
    if (ind && ind->dtype != DK_I64)
        return pool_error(n, DK_ERR_INTERNAL, "Indices output must be int64");
    DK_TRY(geometry(n, x, y, &g));
    int64_t *indices = ind ? ind->data : NULL;
    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < g.planes; p++) maxpool_plane(n, &g, x, y, indices, p);
    return DK_OK;
}

/* ---- AveragePool --------------------------------------------------------- */

/* Number of taps counted by count_include_pad=1: positions from the start of
 * the begin padding up to count_end, along every axis. */
static double padded_count(const pool_geom *g, const window_taps *t)
{
    double count = 1;
    for (int a = 0; a < 3; a++) {
        int64_t first, last;
        tap_range(t->start[a], -g->pad_begin[a], g->count_end[a], g->kernel[a], g->dilation[a],
                  &first, &last);
        count *= (double)(last - first);
    }
    return count;
}

static void avgpool_plane(const pool_geom *g, const float *x, float *y, int include_pad)
{
    int64_t o[3], i = 0;
    for (o[0] = 0; o[0] < g->out[0]; o[0]++)
        for (o[1] = 0; o[1] < g->out[1]; o[1]++)
            for (o[2] = 0; o[2] < g->out[2]; o[2]++, i++) {
                window_taps t;
                window_at(g, o, &t);
                double sum = 0;
                for (int64_t kd = t.first[0]; kd < t.last[0]; kd++)
                    for (int64_t kh = t.first[1]; kh < t.last[1]; kh++) {
                        int64_t d = t.start[0] + kd * g->dilation[0];
                        int64_t h = t.start[1] + kh * g->dilation[1];
                        const float *row = x + (d * g->in[1] + h) * g->in[2];
                        for (int64_t kw = t.first[2]; kw < t.last[2]; kw++)
                            sum += row[t.start[2] + kw * g->dilation[2]];
                    }
                double count = include_pad ? padded_count(g, &t)
                                           : (double)((t.last[0] - t.first[0]) *
                                                      (t.last[1] - t.first[1]) *
                                                      (t.last[2] - t.first[2]));
                y[i] = (float)(count > 0 ? sum / count : NAN);
            }
}

dk_status dk_ref_avgpool(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    pool_geom g;
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return pool_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    DK_TRY(geometry(n, x, y, &g));
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
    int include_pad = n->p.pool.count_include_pad;
    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < g.planes; p++)
        avgpool_plane(&g, (const float *)x->data + p * in_plane,
                      (float *)y->data + p * out_plane, include_pad);
    return DK_OK;
}

/* ---- GlobalAveragePool and GlobalMaxPool ---------------------------------- */

/* Checks X = [N, C, ...] float32 and Y = [N, C, 1, ...]; returns planes and size. */
static dk_status global_shapes(const dk_node *n, const dk_tensor *x, const dk_tensor *y,
                               int64_t *planes, int64_t *size)
{
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return pool_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    if (x->ndim < 3 || y->ndim != x->ndim || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1] || dk_tensor_numel(y) != x->dims[0] * x->dims[1])
        return pool_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
    *planes = x->dims[0] * x->dims[1];
    *size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    return DK_OK;
}

dk_status dk_ref_globalavgpool(const dk_node *n, const dk_tensor *const *in,
                               dk_tensor *const *out)
{
    int64_t planes, size;
    DK_TRY(global_shapes(n, in[0], out[0], &planes, &size));
    const float *x = in[0]->data;
    float *y = out[0]->data;
    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0;
        for (int64_t i = 0; i < size; i++) sum += x[p * size + i];
        y[p] = (float)(sum / (double)size);
    }
    return DK_OK;
}

dk_status dk_ref_globalmaxpool(const dk_node *n, const dk_tensor *const *in,
                               dk_tensor *const *out)
{
    int64_t planes, size;
    DK_TRY(global_shapes(n, in[0], out[0], &planes, &size));
    const float *x = in[0]->data;
    float *y = out[0]->data;
    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < planes; p++) {
        float best = x[p * size];
        for (int64_t i = 1; i < size; i++) {
            float v = x[p * size + i];
            if (v > best || (isnan(v) && !isnan(best))) best = v; /* NaN propagates */
        }
        y[p] = best;
    }
    return DK_OK;
}
