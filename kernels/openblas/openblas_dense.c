/* OpenBLAS Gemm and MatMul, float32, through cblas_sgemm.
 *
 * Gemm: Y = alpha * op(A) op(B) + beta * C. C (scalar, N, 1xN, Mx1 or MxN) is
 * broadcast into Y first and sgemm scales and adds to it (its beta); without
 * C, or with beta = 0, sgemm's beta is 0 (BLAS semantics: C is then not read,
 * so an Inf or NaN in C does not reach Y, where the reference's 0 * Inf would
 * give NaN).
 * MatMul: numpy matmul (1-D operands promoted, batch dims broadcast); one
 * sgemm per output matrix, or a single [batches*M x K] x [K x N] sgemm when
 * every batch shares B and A is dense. Many small batches are spread over
 * the threads (single-threaded sgemm each), few large ones use sgemm's
 * threads. */
#include <limits.h>
#include <string.h>

#include <cblas.h>

#include "kernels/openblas/openblas_internal.h"
#include "kernels/ref/ref_omp.h"

static int fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

static int64_t at_least_1(int64_t v) { return v < 1 ? 1 : v; }

/* ---- Gemm ------------------------------------------------------------------ */

static dk_status exec_gemm(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                           const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *a = in[0], *b = in[1], *c = n->p.gemm.has_c ? in[2] : NULL;
    dk_tensor *y = out[0];
    const dk_gemm_params gp = n->p.gemm;
    if (a->ndim != 2 || b->ndim != 2 || y->ndim != 2)
        return dk__ob_error(n, DK_ERR_SHAPE, "expects matrices");
    const int64_t m = y->dims[0], nn = y->dims[1], k = a->dims[gp.trans_a ? 0 : 1];
    if (a->dims[gp.trans_a ? 1 : 0] != m || b->dims[gp.trans_b ? 0 : 1] != nn ||
        b->dims[gp.trans_b ? 1 : 0] != k)
        return dk__ob_error(n, DK_ERR_SHAPE, "operands do not have the planned shapes");
    float *yp = y->data;
    float beta = 0.0f;
    if (c && gp.beta != 0.0f) {
        /* strides of C over Y, 0 along broadcast dims */
        int64_t c_si = 0, c_sj = 0;
        if (c->ndim >= 1 && c->dims[c->ndim - 1] != 1) c_sj = 1;
        if (c->ndim == 2 && c->dims[0] != 1) c_si = c->dims[1];
        const float *cp = c->data;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++) yp[i * nn + j] = cp[i * c_si + j * c_sj];
        beta = gp.beta;
    }
    if (m == 0 || nn == 0) return DK_OK;
    if (k == 0) { /* empty sum: sgemm's lda/ldb would be 0 */
        for (int64_t i = 0; i < m * nn; i++) yp[i] = beta != 0.0f ? beta * yp[i] : 0.0f;
        return DK_OK;
    }
    cblas_sgemm(CblasRowMajor, gp.trans_a ? CblasTrans : CblasNoTrans,
                gp.trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)nn, (int)k, gp.alpha,
                a->data, (int)a->dims[1], b->data, (int)b->dims[1], beta, yp, (int)nn);
    return DK_OK;
}

dk_status dk__ob_plan_gemm(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    const dk_tensor *a = &g->values[n->inputs[0]].t, *b = &g->values[n->inputs[1]].t;
    if (a->ndim != 2 || b->ndim != 2)
        return dk__ob_error(n, DK_ERR_INTERNAL, "operands are not matrices");
    for (int d = 0; d < 2; d++)
        if (!fits_int(a->dims[d]) || !fits_int(b->dims[d]))
            return dk__ob_error(n, DK_ERR_UNSUPPORTED, "dimensions exceed OpenBLAS's int range");
    p->exec = exec_gemm;
    return DK_OK;
}

/* ---- MatMul ------------------------------------------------------------------ */

static dk_status exec_matmul(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out);

dk_status dk__ob_plan_matmul(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    const dk_tensor *a = &g->values[n->inputs[0]].t, *b = &g->values[n->inputs[1]].t;
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    ob_matmul_geom *mm = &p->mm;
    if (a->ndim < 1 || b->ndim < 1)
        return dk__ob_error(n, DK_ERR_INTERNAL, "operands must have rank >= 1");
    mm->m = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    mm->k = a->dims[a->ndim - 1];
    mm->n = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    mm->nb = y->ndim - (a->ndim >= 2) - (b->ndim >= 2);
    if (mm->nb < 0 || mm->nb > DK_MAX_DIMS)
        return dk__ob_error(n, DK_ERR_INTERNAL, "output rank %d does not fit the inputs", y->ndim);
    for (int d = 0; d < mm->nb; d++) mm->dims[d] = y->dims[d];
    dk_ref_batch_strides(a, mm->nb, mm->dims, mm->sa);
    dk_ref_batch_strides(b, mm->nb, mm->dims, mm->sb);
    mm->batches = dk_shape_numel(mm->nb, mm->dims);
    int b_shared = 1;
    for (int d = 0; d < mm->nb; d++) b_shared &= mm->sb[d] == 0;
    mm->collapse = b_shared && dk_tensor_numel(a) == mm->batches * mm->m * mm->k;
    if (!fits_int(mm->m * (mm->collapse ? mm->batches : 1)) || !fits_int(mm->n) ||
        !fits_int(mm->k))
        return dk__ob_error(n, DK_ERR_UNSUPPORTED, "dimensions exceed OpenBLAS's int range");
    p->exec = exec_matmul;
    return DK_OK;
}

/* One output matrix (or the collapsed batch) of rows x N. */
static void matmul_one(const ob_matmul_geom *mm, int64_t rows, const float *a, const float *b,
                       float *y)
{
    if (mm->k == 0) {
        memset(y, 0, (size_t)(rows * mm->n) * sizeof *y);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)mm->n, (int)mm->k,
                1.0f, a, (int)at_least_1(mm->k), b, (int)at_least_1(mm->n), 0.0f, y,
                (int)at_least_1(mm->n));
}

static void batch_offsets(const ob_matmul_geom *mm, int64_t bi, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int d = mm->nb - 1; d >= 0; d--) {
        int64_t i = bi % mm->dims[d];
        bi /= mm->dims[d];
        a += i * mm->sa[d];
        b += i * mm->sb[d];
    }
    *oa = a;
    *ob = b;
}

static dk_status exec_matmul(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out)
{
    const ob_matmul_geom *mm = &p->mm;
    const float *a = in[0]->data, *b = in[1]->data;
    float *y = out[0]->data;
    if (dk_tensor_numel(out[0]) != mm->batches * mm->m * mm->n)
        return dk__ob_error(n, DK_ERR_SHAPE, "output does not have the planned shape");
    if (mm->batches * mm->m * mm->n == 0) return DK_OK;
    if (mm->collapse) {
        matmul_one(mm, mm->batches * mm->m, a, b, y);
        return DK_OK;
    }
    const int64_t per_y = mm->m * mm->n;
    /* many batches: one per thread at a time; few: sgemm's own threads */
    int spread = mm->batches >= dk__ob_max_threads() && dk__ob_max_threads() > 1;
    (void)spread; /* unused without OpenMP */
    DK_OMP(parallel for if (spread) schedule(static))
    for (int64_t bi = 0; bi < mm->batches; bi++) {
        int64_t oa, ob;
        batch_offsets(mm, bi, &oa, &ob);
        matmul_one(mm, mm->m, a + oa, b + ob, y + bi * per_y);
    }
    return DK_OK;
}
