/* Reference normalisations, float32 in and out, computed in double:
 *   BatchNormalization (inference)  y = (x - mean) / sqrt(var + epsilon) * scale + B,
 *                                   folded per channel into y = x * a + b;
 *   LRN (across channels)           y = x / (bias + alpha / size * sum of x^2 over
 *                                   channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta;
 *   LayerNormalization              y = (x - mean) / sqrt(var + epsilon) * Scale + B over
 *                                   the dims from axis on, two passes (mean, then the
 *                                   variance of x - mean);
 *   InstanceNormalization           the same over the spatial dims of each (n, c), with the
 *                                   channel's scale and B. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/error.h"

static dk_status norm_error(const dk_node *n, dk_status s, const char *what)
{
    return dk__error(s, "node '%s' (%s): %s", n->name, dk_op_name(n->op), what);
}

/* ---- BatchNormalization ------------------------------------------------- */

dk_status dk_ref_batchnorm(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (x->ndim < 2 || y->ndim != x->ndim || dk_tensor_numel(y) != dk_tensor_numel(x))
        return norm_error(n, DK_ERR_INTERNAL, "output shape does not match the input");
    int64_t channels = x->dims[1];
    for (int i = 0; i < 5; i++)
        if (!in[i] || in[i]->dtype != DK_F32 || (i > 0 && dk_tensor_numel(in[i]) != channels))
            return norm_error(n, DK_ERR_INTERNAL, "inputs do not match the inferred shapes");
    if (y->dtype != DK_F32) return norm_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    const float *scale = in[1]->data, *shift = in[2]->data, *mean = in[3]->data,
                *var = in[4]->data;
    const float *xd = x->data;
    float *yd = y->data;
    int64_t planes = x->dims[0] * channels;
    int64_t size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    double eps = n->p.bn.epsilon;

    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % channels;
        double a = scale[c] / sqrt((double)var[c] + eps);
        double b = shift[c] - mean[c] * a;
        const float *xp = xd + p * size;
        float *yp = yd + p * size;
        DK_OMP(simd)
        for (int64_t i = 0; i < size; i++) yp[i] = (float)(xp[i] * a + b);
    }
    return DK_OK;
}

/* ---- LRN ------------------------------------------------------------------ */

/* Normalises channel c of one image x (channels planes of `size` values);
 * sq receives the squared sums over the channel window (size doubles). */
static void lrn_channel(const dk_lrn_params *p, const float *x, float *y, int64_t channels,
                        int64_t c, int64_t size, double *sq)
{
    int64_t before = (p->size - 1) / 2, after = p->size - 1 - before;
    int64_t lo = c - before < 0 ? 0 : c - before;
    int64_t hi = c + after > channels - 1 ? channels - 1 : c + after;
    double scale = (double)p->alpha / (double)p->size;
    for (int64_t i = 0; i < size; i++) sq[i] = 0;
    for (int64_t k = lo; k <= hi; k++) {
        const float *xk = x + k * size;
        for (int64_t i = 0; i < size; i++) sq[i] += (double)xk[i] * xk[i];
    }
    const float *xc = x + c * size;
    float *yc = y + c * size;
    for (int64_t i = 0; i < size; i++)
        yc[i] = (float)(xc[i] / pow((double)p->bias + scale * sq[i], (double)p->beta));
}

dk_status dk_ref_lrn(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return norm_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    if (x->ndim < 2 || y->ndim != x->ndim || dk_tensor_numel(y) != dk_tensor_numel(x) ||
        n->p.lrn.size < 1)
        return norm_error(n, DK_ERR_INTERNAL, "output shape or size does not match the input");
    int64_t batch = x->dims[0], channels = x->dims[1];
    int64_t size = dk_shape_numel(x->ndim - 2, x->dims + 2);
    int failed = 0;
    DK_OMP(parallel)
    {
        double *sq = malloc((size_t)(size > 0 ? size : 1) * sizeof *sq);
        if (!sq) {
            DK_OMP(atomic write)
            failed = 1;
        }
        DK_OMP(for schedule(static))
        for (int64_t t = 0; t < batch * channels; t++) {
            int64_t b = t / channels, image = b * channels * size;
            if (sq)
                lrn_channel(&n->p.lrn, (const float *)x->data + image,
                            (float *)y->data + image, channels, t % channels, size, sq);
        }
        free(sq);
    }
    if (failed) return norm_error(n, DK_ERR_NOMEM, "cannot allocate the squared sums");
    return DK_OK;
}

/* ---- LayerNormalization ----------------------------------------------------- */

/* Mean and 1 / sqrt(biased variance + eps) of K values, two passes in
 * double: LayerNormalization's rows, InstanceNormalization's planes. */
static void row_stats(const float *x, int64_t K, double eps, double *mean, double *inv)
{
    double sum = 0, sq = 0;
    for (int64_t j = 0; j < K; j++) sum += x[j];
    *mean = sum / (double)K;
    for (int64_t j = 0; j < K; j++) {
        double d = x[j] - *mean;
        sq += d * d;
    }
    *inv = 1.0 / sqrt(sq / (double)K + eps);
}

/* For each of the K positions of the normalised block (shape dims[0..nd)),
 * the element of Scale or B (aligned to the right, dims of 1 repeat). */
static void affine_index(const dk_tensor *t, int nd, const int64_t *dims, int64_t K, int64_t *idx)
{
    for (int64_t j = 0; j < K; j++) {
        int64_t rest = j, off = 0, stride = 1;
        for (int d = nd - 1; d >= 0; d--) {
            int64_t c = rest % dims[d];
            rest /= dims[d];
            int k = d - (nd - t->ndim);
            if (k < 0) continue;
            if (t->dims[k] != 1) off += c * stride;
            stride *= t->dims[k];
        }
        idx[j] = off;
    }
}

dk_status dk_ref_layernorm(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *scale = in[1], *shift = n->n_inputs > 2 ? in[2] : NULL;
    dk_tensor *y = out[0];
    dk_tensor *mean_out = n->n_outputs > 1 ? out[1] : NULL, *inv_out = n->n_outputs > 2 ? out[2] : NULL;
    const int axis = n->p.layernorm.axis;
    if (x->dtype != DK_F32 || y->dtype != DK_F32 || !scale || scale->dtype != DK_F32 ||
        (shift && shift->dtype != DK_F32))
        return norm_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    if (axis < 0 || axis >= x->ndim || dk_tensor_numel(y) != dk_tensor_numel(x))
        return norm_error(n, DK_ERR_INTERNAL, "output shape or axis does not match the input");
    const int64_t rows = dk_shape_numel(axis, x->dims);
    const int64_t K = dk_shape_numel(x->ndim - axis, x->dims + axis);
    for (int o = 1; o < 3; o++) {
        const dk_tensor *t = o == 1 ? mean_out : inv_out;
        if (t && (t->dtype != DK_F32 || dk_tensor_numel(t) != rows))
            return norm_error(n, DK_ERR_INTERNAL, "Mean or InvStdDev does not match the input");
    }
    int64_t *sidx = malloc(sizeof *sidx * (size_t)(2 * K + 1)), *bidx = sidx + K;
    if (!sidx) return norm_error(n, DK_ERR_NOMEM, "cannot allocate the affine indices");
    affine_index(scale, x->ndim - axis, x->dims + axis, K, sidx);
    if (shift) affine_index(shift, x->ndim - axis, x->dims + axis, K, bidx);
    const float *xd = x->data, *s = scale->data, *b = shift ? shift->data : NULL;
    float *yd = y->data;
    const double eps = n->p.layernorm.epsilon;

    DK_OMP(parallel for schedule(static))
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xd + r * K;
        float *yr = yd + r * K;
        double mean, inv;
        row_stats(xr, K, eps, &mean, &inv);
        for (int64_t j = 0; j < K; j++)
            yr[j] = (float)((xr[j] - mean) * inv * s[sidx[j]] + (b ? b[bidx[j]] : 0.0));
        if (mean_out) ((float *)mean_out->data)[r] = (float)mean;
        if (inv_out) ((float *)inv_out->data)[r] = (float)inv;
    }
    free(sidx);
    return DK_OK;
}

/* ---- InstanceNormalization ---------------------------------------------------- */

/* As LayerNormalization over the spatial dims of each (image, channel), two
 * passes, with the channel's scale and B. */
dk_status dk_ref_instancenorm(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *scale = in[1], *shift = in[2];
    dk_tensor *y = out[0];
    if (x->dtype != DK_F32 || y->dtype != DK_F32 || !scale || !shift ||
        scale->dtype != DK_F32 || shift->dtype != DK_F32)
        return norm_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    if (x->ndim < 3 || dk_tensor_numel(y) != dk_tensor_numel(x) ||
        dk_tensor_numel(scale) != x->dims[1] || dk_tensor_numel(shift) != x->dims[1])
        return norm_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred shapes");
    const int64_t channels = x->dims[1], planes = x->dims[0] * channels;
    const int64_t K = dk_shape_numel(x->ndim - 2, x->dims + 2);
    const float *xd = x->data, *s = scale->data, *b = shift->data;
    float *yd = y->data;
    const double eps = n->p.inorm.epsilon;
    if (K == 0) return DK_OK;

    DK_OMP(parallel for schedule(static))
    for (int64_t r = 0; r < planes; r++) {
        const float *xr = xd + r * K;
        float *yr = yd + r * K;
        double mean, inv;
        row_stats(xr, K, eps, &mean, &inv);
        const double a = s[r % channels] * inv, sh = b[r % channels];
        for (int64_t j = 0; j < K; j++) yr[j] = (float)((xr[j] - mean) * a + sh);
    }
    return DK_OK;
}
