/* Reference kernels for Gemm and MatMul: one output row at a time, the row of
 * A widened to double and every dot product accumulated in double, then
 * rounded once to float32. Rows are spread over the OpenMP threads. */
#include <stdlib.h>

#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"

/* How to walk a matrix operand: element (i, j) is at p[i*si + j*sj]. */
typedef struct mat_view {
    const float *p;
    int64_t si, sj;
} mat_view;

/* acc[j] = sum_k arow[k] * B(k, j) for j < n. arow holds K doubles. */
static void row_times_matrix(const double *arow, int64_t k_len, mat_view b, int64_t n_len,
                             double *acc)
{
    if (b.sj == 1) {
        /* B rows contiguous: accumulate scaled rows, the inner loop vectorises */
        for (int64_t j = 0; j < n_len; j++) acc[j] = 0;
        for (int64_t k = 0; k < k_len; k++) {
            const double a = arow[k];
            const float *brow = b.p + k * b.si;
            for (int64_t j = 0; j < n_len; j++) acc[j] += a * (double)brow[j];
        }
    } else {
        /* B columns contiguous (transposed B): one dot product per output */
        for (int64_t j = 0; j < n_len; j++) {
            const float *bcol = b.p + j * b.sj;
            double s = 0;
            for (int64_t k = 0; k < k_len; k++) s += arow[k] * (double)bcol[k * b.si];
            acc[j] = s;
        }
    }
}

static void load_row(mat_view a, int64_t i, int64_t k_len, double *arow)
{
    const float *p = a.p + i * a.si;
    for (int64_t k = 0; k < k_len; k++) arow[k] = p[k * a.sj];
}

static dk_status nomem(const dk_node *n)
{
    return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory for row buffers", n->name,
                     dk_op_name(n->op));
}

/* ---- Gemm ------------------------------------------------------------- */

/* Y = alpha * A' B' + beta * C, C broadcast from scalar, N, 1xN, Mx1 or MxN. */
DK_REF_KERNEL(dk_ref_gemm)
{
    const dk_tensor *a = in[0], *b = in[1], *c = n->p.gemm.has_c ? in[2] : NULL;
    dk_tensor *y = out[0];
    const dk_gemm_params p = n->p.gemm;
    if (a->dtype != DK_F32 || b->dtype != DK_F32 || y->dtype != DK_F32 ||
        (c && c->dtype != DK_F32) || a->ndim != 2 || b->ndim != 2 || y->ndim != 2)
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (Gemm): expects float32 matrices",
                         n->name);
    const int64_t m_len = y->dims[0], n_len = y->dims[1];
    const int64_t k_len = a->dims[p.trans_a ? 0 : 1];
    mat_view av = {a->data, p.trans_a ? 1 : a->dims[1], p.trans_a ? a->dims[1] : 1};
    mat_view bv = {b->data, p.trans_b ? 1 : b->dims[1], p.trans_b ? b->dims[1] : 1};
    /* strides of C over the output (0 along broadcast dims) */
    int64_t c_si = 0, c_sj = 0;
    if (c && c->ndim >= 1 && c->dims[c->ndim - 1] != 1) c_sj = 1;
    if (c && c->ndim == 2 && c->dims[0] != 1) c_si = c->dims[1];
    const float *cp = c ? c->data : NULL;
    float *yp = y->data;
    int failed = 0;
#pragma omp parallel if (m_len > 1)
    {
        double *arow = malloc(sizeof(double) * (size_t)(k_len + n_len + 1));
        double *acc = arow ? arow + k_len : NULL;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < m_len; i++) {
            if (!arow) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            load_row(av, i, k_len, arow);
            row_times_matrix(arow, k_len, bv, n_len, acc);
            for (int64_t j = 0; j < n_len; j++) {
                double v = (double)p.alpha * acc[j];
                if (cp) v += (double)p.beta * (double)cp[i * c_si + j * c_sj];
                yp[i * n_len + j] = (float)v;
            }
        }
        free(arow);
    }
    return failed ? nomem(n) : DK_OK;
}

/* ---- MatMul ------------------------------------------------------------ */

/* Offsets (in elements) of the A and B matrices used by output matrix number
 * `bi` of the batch, numpy broadcasting the leading dims. */
typedef struct batch_map {
    int nb;                                /* batch dims of the output */
    int64_t dims[DK_MAX_DIMS];
    int64_t sa[DK_MAX_DIMS], sb[DK_MAX_DIMS];
} batch_map;

void dk_ref_batch_strides(const dk_tensor *t, int nb, const int64_t *dims, int64_t *s)
{
    int tb = t->ndim > 2 ? t->ndim - 2 : 0;
    int64_t stride = t->ndim >= 2 ? t->dims[t->ndim - 2] * t->dims[t->ndim - 1] : t->dims[0];
    for (int d = nb - 1; d >= 0; d--) {
        int k = d - (nb - tb);
        if (k < 0) {
            s[d] = 0;
            continue;
        }
        s[d] = t->dims[k] == 1 && dims[d] != 1 ? 0 : stride;
        stride *= t->dims[k];
    }
}

static void batch_offsets(const batch_map *bm, int64_t bi, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int d = bm->nb - 1; d >= 0; d--) {
        int64_t i = bi % bm->dims[d];
        bi /= bm->dims[d];
        a += i * bm->sa[d];
        b += i * bm->sb[d];
    }
    *oa = a;
    *ob = b;
}

DK_REF_KERNEL(dk_ref_matmul)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *y = out[0];
    if (a->dtype != DK_F32 || b->dtype != DK_F32 || y->dtype != DK_F32 || a->ndim < 1 ||
        b->ndim < 1)
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (MatMul): expects float32 operands",
                         n->name);
    const int64_t m_len = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    const int64_t k_len = a->dims[a->ndim - 1];
    const int64_t n_len = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    batch_map bm;
    bm.nb = y->ndim - (a->ndim >= 2) - (b->ndim >= 2);
    if (bm.nb < 0 || bm.nb > DK_MAX_DIMS)
        return dk__error(DK_ERR_SHAPE, "node '%s' (MatMul): output rank %d does not fit inputs",
                         n->name, y->ndim);
    for (int d = 0; d < bm.nb; d++) bm.dims[d] = y->dims[d];
    dk_ref_batch_strides(a, bm.nb, bm.dims, bm.sa);
    dk_ref_batch_strides(b, bm.nb, bm.dims, bm.sb);
    const int64_t batches = dk_shape_numel(bm.nb, bm.dims);
    const int64_t rows = batches * m_len;
    const float *ap = a->data, *bp = b->data;
    float *yp = y->data;
    int failed = 0;
#pragma omp parallel if (rows > 1)
    {
        double *arow = malloc(sizeof(double) * (size_t)(k_len + n_len + 1));
        double *acc = arow ? arow + k_len : NULL;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            if (!arow) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            int64_t oa, ob;
            batch_offsets(&bm, r / m_len, &oa, &ob);
            mat_view av = {ap + oa, k_len, 1};
            mat_view bv = {bp + ob, n_len, 1}; /* a 1-D B is a K x 1 column */
            load_row(av, r % m_len, k_len, arow);
            row_times_matrix(arow, k_len, bv, n_len, acc);
            for (int64_t j = 0; j < n_len; j++) yp[r * n_len + j] = (float)acc[j];
        }
        free(arow);
    }
    return failed ? nomem(n) : DK_OK;
}
