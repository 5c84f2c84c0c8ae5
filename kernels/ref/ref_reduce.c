/* Reference kernels for Softmax and ReduceMean/Max/Sum/L2, accumulating in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"

/* ---- Softmax -------------------------------------------------------------
 * The input is viewed as [outer, len, inner] and normalised along len:
 * legacy (opset < 13) folds every dim from the axis on into len (inner = 1),
 * otherwise len is the axis alone. Work is split into tiles of one outer
 * index and up to TILE inner positions; each tile keeps exp(x - max) in
 * double until the division so the output is rounded once. */

#define SOFTMAX_TILE 256

static void softmax_tile(const float *x, float *y, int64_t len, int64_t inner, int64_t width,
                         double *buf)
{
    double *mx = buf, *sum = buf + width, *e = buf + 2 * width;
    for (int64_t j = 0; j < width; j++) {
        mx[j] = -INFINITY;
        sum[j] = 0;
    }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) {
            double v = x[l * inner + j];
            /* NaN enters mx only through isnan so that it spreads to the row */
            if (v > mx[j] || isnan(v)) mx[j] = v;
        }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) {
            double v = exp((double)x[l * inner + j] - mx[j]);
            e[l * width + j] = v;
            sum[j] += v;
        }
    for (int64_t l = 0; l < len; l++)
        for (int64_t j = 0; j < width; j++) y[l * inner + j] = (float)(e[l * width + j] / sum[j]);
}

DK_REF_KERNEL(dk_ref_softmax)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_softmax_params p = n->p.softmax;
    if (x->dtype != DK_F32 || y->dtype != DK_F32 || p.axis < 0 || p.axis >= x->ndim)
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (Softmax): expects float32 and an axis "
                         "within rank %d", n->name, x->ndim);
    const int64_t outer = dk_shape_numel(p.axis, x->dims);
    const int64_t len = p.legacy ? dk_shape_numel(x->ndim - p.axis, x->dims + p.axis)
                                 : x->dims[p.axis];
    const int64_t inner = p.legacy ? 1 : dk_shape_numel(x->ndim - p.axis - 1, x->dims + p.axis + 1);
    if (outer * len * inner == 0) return DK_OK;
    const int64_t width = inner < SOFTMAX_TILE ? inner : SOFTMAX_TILE;
    const int64_t tiles_per_outer = (inner + width - 1) / width;
    const int64_t tiles = outer * tiles_per_outer;
    const float *xp = x->data;
    float *yp = y->data;
    int failed = 0;
#pragma omp parallel if (tiles > 1 && outer * len * inner > 16384)
    {
        double *buf = malloc(sizeof(double) * (size_t)(width * (len + 2)));
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tiles; t++) {
            if (!buf) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            int64_t o = t / tiles_per_outer, j0 = (t % tiles_per_outer) * width;
            int64_t w = inner - j0 < width ? inner - j0 : width;
            int64_t off = o * len * inner + j0;
            softmax_tile(xp + off, yp + off, len, inner, w, buf);
        }
        free(buf);
    }
    if (failed)
        return dk__error(DK_ERR_NOMEM, "node '%s' (Softmax): out of memory", n->name);
    return DK_OK;
}

/* ---- ReduceMean, ReduceMax, ReduceSum, ReduceL2 (sqrt of the sum of squares) --
 * Dims are merged into runs that are all reduced or all kept (size-1 dims
 * dropped), then the input is read once in order, each contiguous innermost
 * run combined into a double accumulator per output element: added (Mean,
 * Sum; Mean divides at the end) or compared (Max, which keeps a NaN). */

typedef struct reduce_view {
    int ndim;
    int64_t dims[DK_MAX_DIMS];
    int reduced[DK_MAX_DIMS];
    int64_t ostride[DK_MAX_DIMS];          /* output stride, 0 along reduced dims */
} reduce_view;

static void reduce_view_init(const dk_reduce_params *p, const dk_tensor *x, reduce_view *v)
{
    int is_reduced[DK_MAX_DIMS] = {0};
    for (int i = 0; i < p->naxes; i++) is_reduced[p->axes[i]] = 1;
    v->ndim = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (x->dims[d] == 1) continue;
        if (v->ndim > 0 && v->reduced[v->ndim - 1] == is_reduced[d]) {
            v->dims[v->ndim - 1] *= x->dims[d];
            continue;
        }
        v->dims[v->ndim] = x->dims[d];
        v->reduced[v->ndim] = is_reduced[d];
        v->ndim++;
    }
    if (v->ndim == 0) {
        v->ndim = 1;
        v->dims[0] = 1;
        v->reduced[0] = 0;
    }
    int64_t s = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        v->ostride[d] = v->reduced[d] ? 0 : s;
        if (!v->reduced[d]) s *= v->dims[d];
    }
}

/* Max keeps a NaN once it has one, and takes one when it comes. */
static inline double combine(int is_max, double acc, double v)
{
    if (!is_max) return acc + v;
    return isnan(acc) || v <= acc ? acc : v;
}

DK_REF_KERNEL(dk_ref_reduce)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_reduce_params *p = &n->p.reduce;
    const dk_op op = n->op;
    if (op != DK_OP_REDUCEMEAN && op != DK_OP_REDUCEMAX && op != DK_OP_REDUCESUM &&
        op != DK_OP_REDUCEL2)
        return dk__error(DK_ERR_INTERNAL, "node '%s': dk_ref_reduce called for %s", n->name,
                         dk_op_name(op));
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (%s): expects float32", n->name,
                         dk_op_name(op));
    const int is_max = op == DK_OP_REDUCEMAX, is_l2 = op == DK_OP_REDUCEL2;
    const int64_t in_count = dk_tensor_numel(x), out_count = dk_tensor_numel(y);
    if (p->naxes == 0) { /* noop_with_empty_axes: identity */
        memcpy(y->data, x->data, sizeof(float) * (size_t)in_count);
        return DK_OK;
    }
    if (out_count == 0) return DK_OK;
    double *acc = calloc((size_t)out_count, sizeof(double));
    if (!acc) return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name,
                               dk_op_name(op));
    if (is_max)
        for (int64_t i = 0; i < out_count; i++) acc[i] = -INFINITY;
    reduce_view v;
    reduce_view_init(p, x, &v);
    const int64_t run = v.dims[v.ndim - 1];
    const int last_reduced = v.reduced[v.ndim - 1];
    const float *xp = x->data;
    for (int64_t r = 0; in_count > 0 && r < in_count / run; r++) {
        int64_t o = 0, rest = r;
        for (int d = v.ndim - 2; d >= 0; d--) {
            o += (rest % v.dims[d]) * v.ostride[d];
            rest /= v.dims[d];
        }
        const float *row = xp + r * run;
        if (last_reduced) {
            double s = is_max ? -INFINITY : 0;
            for (int64_t j = 0; j < run; j++)
                s = combine(is_max, s, is_l2 ? (double)row[j] * row[j] : row[j]);
            acc[o] = combine(is_max, acc[o], s);
        } else {
            for (int64_t j = 0; j < run; j++)
                acc[o + j] = combine(is_max, acc[o + j], is_l2 ? (double)row[j] * row[j] : row[j]);
        }
    }
    const double count = op == DK_OP_REDUCEMEAN ? (double)in_count / (double)out_count : 1.0;
    float *yp = y->data;
    for (int64_t i = 0; i < out_count; i++) yp[i] = (float)(is_l2 ? sqrt(acc[i]) : acc[i] / count);
    free(acc);
    return DK_OK;
}
