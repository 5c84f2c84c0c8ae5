/* Reference kernel for Einsum (float32 or float64 in and out), from the
 * labels shape inference decoded (dk_einsum_params, layers/op_einsum.c).
 *
 * Every output element is one sum over the summed labels, accumulated in
 * double as MatMul's dot products are: each term the product of the inputs'
 * elements (widened to double, multiplied left to right), the terms added in
 * one fixed order (the summed labels as an odometer, the last fastest), the
 * sum rounded once to the output type. Output elements are spread over the
 * OpenMP threads; each is computed by one thread in that order, so the
 * result does not depend on the thread count. A repeated label within one
 * input walks its diagonal (the strides of its axes add up); an axis of size
 * 1 under a label of size n is broadcast (stride 0). */
#include <stdint.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/error.h"

typedef struct es_plan {
    int p;      /* inputs */
    int r;      /* output labels: 0..r-1 */
    int L;      /* all labels; the summed ones are r..L-1 */
    int64_t K;  /* terms per output element */
    int64_t size[DK_EINSUM_MAX_LABELS];
    int64_t stride[DK_EINSUM_MAX_INPUTS][DK_EINSUM_MAX_LABELS];
} es_plan;

/* The sum behind one output element whose inputs start at base[i]. */
#define ES_SUM(NAME, T)                                                                          \
    static double NAME(const es_plan *pl, const void *const *xv, const int64_t *base)            \
    {                                                                                            \
        const T *x[DK_EINSUM_MAX_INPUTS] = {0};                                                  \
        int64_t off[DK_EINSUM_MAX_INPUTS], st[DK_EINSUM_MAX_INPUTS], idx[DK_EINSUM_MAX_LABELS];  \
        const int p = pl->p, r = pl->r, L = pl->L;                                               \
        for (int i = 0; i < p; i++) x[i] = xv[i];                                                \
        if (L == r) { /* nothing summed: one term */                                             \
            double v = (double)x[0][base[0]];                                                    \
            for (int i = 1; i < p; i++) v *= (double)x[i][base[i]];                              \
            return v;                                                                            \
        }                                                                                        \
        if (pl->K == 0) return 0.0;                                                              \
        const int inner = L - 1;                                                                 \
        const int64_t kn = pl->size[inner];                                                      \
        for (int i = 0; i < p; i++) off[i] = base[i], st[i] = pl->stride[i][inner];              \
        for (int l = r; l < inner; l++) idx[l] = 0;                                              \
        double acc = 0;                                                                          \
        for (;;) {                                                                               \
            if (p == 1) {                                                                        \
                const T *a = x[0] + off[0];                                                      \
                for (int64_t k = 0; k < kn; k++) acc += (double)a[k * st[0]];                    \
            } else if (p == 2) {                                                                 \
                const T *a = x[0] + off[0], *b = x[1] + off[1];                                  \
                const int64_t sa = st[0], sb = st[1];                                            \
                for (int64_t k = 0; k < kn; k++) acc += (double)a[k * sa] * (double)b[k * sb];   \
            } else {                                                                             \
                for (int64_t k = 0; k < kn; k++) {                                               \
                    double v = (double)x[0][off[0] + k * st[0]];                                 \
                    for (int i = 1; i < p; i++) v *= (double)x[i][off[i] + k * st[i]];           \
                    acc += v;                                                                    \
                }                                                                                \
            }                                                                                    \
            int l = inner - 1;                                                                   \
            for (; l >= r; l--) {                                                                \
                for (int i = 0; i < p; i++) off[i] += pl->stride[i][l];                          \
                if (++idx[l] < pl->size[l]) break;                                               \
                for (int i = 0; i < p; i++) off[i] -= pl->stride[i][l] * pl->size[l];            \
                idx[l] = 0;                                                                      \
            }                                                                                    \
            if (l < r) return acc;                                                               \
        }                                                                                        \
    }

ES_SUM(sum_f32, float)
ES_SUM(sum_f64, double)

static dk_status bad(const dk_node *n, const char *why)
{
    return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (Einsum): %s", n->name, why);
}

DK_REF_KERNEL(dk_ref_einsum)
{
    const dk_einsum_params *ep = &n->p.einsum;
    dk_tensor *y = out[0];
    const dk_dtype dt = y->dtype;
    if (dt != DK_F32 && dt != DK_F64) return bad(n, "expects float32 or float64 tensors");
    if (ep->n_inputs < 1 || ep->n_inputs > DK_EINSUM_MAX_INPUTS || ep->n_inputs != n->n_inputs ||
        ep->n_labels < ep->out_ndim || ep->n_labels > DK_EINSUM_MAX_LABELS ||
        ep->out_ndim != y->ndim)
        return bad(n, "the decoded equation does not fit the node");
    for (int i = 0; i < ep->n_inputs; i++) {
        if (!in[i] || in[i]->dtype != dt) return bad(n, "expects inputs of the output's type");
        for (int a = 0; a < in[i]->ndim; a++)
            if (ep->label[i][a] < 0 || ep->label[i][a] >= ep->n_labels)
                return bad(n, "the decoded equation does not fit the node");
    }
    es_plan pl = {.p = ep->n_inputs, .r = ep->out_ndim, .L = ep->n_labels, .K = 1};
    dk__einsum_label_dims(ep, in, pl.size);
    for (int l = 0; l < pl.r; l++)
        if (y->dims[l] != pl.size[l]) return bad(n, "output shape does not fit the inputs");
    for (int l = pl.r; l < pl.L; l++) pl.K *= pl.size[l];
    for (int i = 0; i < pl.p; i++) {
        const dk_tensor *x = in[i];
        int64_t s = 1;
        for (int a = x->ndim - 1; a >= 0; a--) {
            const int l = ep->label[i][a];
            if (x->dims[a] != 1) pl.stride[i][l] += s; /* a diagonal adds up its axes */
            s *= x->dims[a];
        }
    }
    const void *xv[DK_EINSUM_MAX_INPUTS];
    for (int i = 0; i < pl.p; i++) xv[i] = in[i]->data;
    const int64_t count = dk_tensor_numel(y);
    void *yv = y->data;
    DK_OMP(parallel for schedule(static) if (count > 1))
    for (int64_t j = 0; j < count; j++) {
        int64_t base[DK_EINSUM_MAX_INPUTS] = {0}, rest = j;
        for (int l = pl.r - 1; l >= 0; l--) {
            const int64_t at = rest % pl.size[l];
            rest /= pl.size[l];
            for (int i = 0; i < pl.p; i++) base[i] += at * pl.stride[i][l];
        }
        if (dt == DK_F32) ((float *)yv)[j] = (float)sum_f32(&pl, xv, base);
        else ((double *)yv)[j] = sum_f64(&pl, xv, base);
    }
    return DK_OK;
}
