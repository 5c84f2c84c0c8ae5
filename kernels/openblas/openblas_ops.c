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
#include <string.h>

#include "kernels/openblas/openblas_internal.h"
#include "kernels/ref/ref_omp.h"

/* ---- AveragePool ----------------------------------------------------------- */

typedef struct pool_geom {
    int64_t planes;
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
    int64_t count_end[3]; /* count_include_pad counts positions below this */
} pool_geom;

static dk_status pool_geometry(const dk_node *n, const dk_tensor *x, const dk_tensor *y,
                               pool_geom *g)
{
    const dk_pool_params *p = &n->p.pool;
    int k = p->win.nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || y->ndim != k + 2 || y->dims[0] != x->dims[0] ||
        y->dims[1] != x->dims[1])
        return ob_error(n, DK_ERR_INTERNAL, "tensor shapes do not match the window");
    g->planes = x->dims[0] * x->dims[1];
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k);
        g->in[a] = i < 0 ? 1 : x->dims[2 + i];
        g->out[a] = i < 0 ? 1 : y->dims[2 + i];
        g->kernel[a] = i < 0 ? 1 : p->win.kernel[i];
        g->stride[a] = i < 0 ? 1 : p->win.stride[i];
        g->dilation[a] = i < 0 ? 1 : p->win.dilation[i];
        g->pad_begin[a] = i < 0 ? 0 : p->win.pad_begin[i];
        g->count_end[a] = i < 0 ? 1 : g->in[a] + p->win.pad_end[i] - p->ceil_extra[i];
        if (g->kernel[a] < 1 || g->stride[a] < 1 || g->dilation[a] < 1)
            return ob_error(n, DK_ERR_INTERNAL, "invalid window");
    }
    return DK_OK;
}

/* Taps [*first, *last) of a window starting at `start` whose positions lie in [lo, hi). */
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

static void avgpool_plane(const pool_geom *g, const float *x, float *y, int include_pad)
{
    int64_t o[3], i = 0;
    for (o[0] = 0; o[0] < g->out[0]; o[0]++)
        for (o[1] = 0; o[1] < g->out[1]; o[1]++)
            for (o[2] = 0; o[2] < g->out[2]; o[2]++, i++) {
                int64_t start[3], first[3], last[3];
                float count = 1.0f;
                for (int a = 0; a < 3; a++) {
                    start[a] = o[a] * g->stride[a] - g->pad_begin[a];
                    tap_range(start[a], 0, g->in[a], g->kernel[a], g->dilation[a], &first[a],
                              &last[a]);
                    int64_t f = first[a], l = last[a];
                    if (include_pad)
                        tap_range(start[a], -g->pad_begin[a], g->count_end[a], g->kernel[a],
                                  g->dilation[a], &f, &l);
                    count *= (float)(l - f);
                }
                float sum = 0.0f;
                for (int64_t kd = first[0]; kd < last[0]; kd++)
                    for (int64_t kh = first[1]; kh < last[1]; kh++) {
                        int64_t d = start[0] + kd * g->dilation[0];
                        int64_t h = start[1] + kh * g->dilation[1];
                        const float *row = x + (d * g->in[1] + h) * g->in[2];
                        for (int64_t kw = first[2]; kw < last[2]; kw++)
                            sum += row[start[2] + kw * g->dilation[2]];
                    }
                y[i] = count > 0.0f ? sum / count : NAN;
            }
}

dk_status ob_exec_avgpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                          const dk_tensor *const *in, dk_tensor *const *out)
{
    pool_geom g = {0};
    DK_TRY(pool_geometry(n, in[0], out[0], &g));
    const int64_t in_plane = g.in[0] * g.in[1] * g.in[2];
    const int64_t out_plane = g.out[0] * g.out[1] * g.out[2];
    const int include_pad = n->p.pool.count_include_pad;
    const float *x = in[0]->data;
    float *y = out[0]->data;
    DK_OMP(parallel for schedule(static))
    for (int64_t pl = 0; pl < g.planes; pl++)
        avgpool_plane(&g, x + pl * in_plane, y + pl * out_plane, include_pad);
    return DK_OK;
}

/* ---- GlobalAveragePool ------------------------------------------------------- */

dk_status ob_exec_globalavgpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *xt = in[0], *yt = out[0];
    if (xt->ndim < 3 || dk_tensor_numel(yt) != xt->dims[0] * xt->dims[1])
        return ob_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
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

dk_status ob_exec_softmax(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                          const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_softmax_params sp = n->p.softmax;
    if (sp.axis < 0 || sp.axis >= x->ndim || dk_tensor_numel(out[0]) != dk_tensor_numel(x))
        return ob_error(n, DK_ERR_INTERNAL, "axis %d or output shape does not match rank %d",
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

dk_status ob_exec_reducemean(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_reduce_params *rp = &n->p.reduce;
    const int64_t in_count = dk_tensor_numel(x), out_count = dk_tensor_numel(out[0]);
    float *yp = out[0]->data;
    const float *xp = x->data;
    if (rp->naxes == 0) { /* noop_with_empty_axes: identity */
        if (in_count != out_count) return ob_error(n, DK_ERR_INTERNAL, "output shape differs");
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

dk_status ob_exec_lrn(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                      const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    const dk_lrn_params lp = n->p.lrn;
    if (x->ndim < 2 || dk_tensor_numel(out[0]) != dk_tensor_numel(x) || lp.size < 1)
        return ob_error(n, DK_ERR_INTERNAL, "output shape or size does not match the input");
    const int64_t batch = x->dims[0], channels = x->dims[1];
    const int64_t size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    if ((size_t)size > p->scratch_floats ||
        ctx->scratch_floats < p->scratch_floats * (size_t)p->threads)
        return ob_error(n, DK_ERR_INTERNAL, "scratch smaller than planned");
    const int64_t before = (lp.size - 1) / 2, after = lp.size - 1 - before;
    const float scale = lp.alpha / (float)lp.size;
    const float *xd = x->data;
    float *yd = out[0]->data;
    int threads = ob_max_threads() < p->threads ? ob_max_threads() : p->threads;
    (void)threads; /* unused without OpenMP */
    DK_OMP(parallel for num_threads(threads) schedule(static))
    for (int64_t t = 0; t < batch * channels; t++) {
        float *sq = ctx->scratch + (size_t)ob_thread_num() * p->scratch_floats;
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

dk_status ob_exec_batchnorm(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                            const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    if (x->ndim < 2 || dk_tensor_numel(out[0]) != dk_tensor_numel(x))
        return ob_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
    const int64_t channels = x->dims[1];
    for (int i = 1; i < 5; i++)
        if (!in[i] || in[i]->dtype != DK_F32 || dk_tensor_numel(in[i]) != channels)
            return ob_error(n, DK_ERR_INTERNAL, "input %d does not have one float per channel",
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
