/* Reference normalisations, float32 in and out, computed in double:
 *   BatchNormalization (inference)  y = (x - mean) / sqrt(var + epsilon) * scale + B,
 *                                   folded per channel into y = x * a + b;
 *   LRN (across channels)           y = x / (bias + alpha / size * sum of x^2 over
 *                                   channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta. */
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
