/* Shape inference for the dense products: Gemm and MatMul.
 *
 * FLOP convention: a multiply-add counts 2, so an MxK by KxN product is
 * 2*M*N*K; Gemm's alpha/beta scaling and bias are not counted. */
#include "layers/infer_util.h"
#include "layers/op_table.h"

static dk_status want_f32(dk_graph *g, dk_node *n, int i)
{
    const dk_tensor *t = dk__in(g, n, i);
    if (t->dtype == DK_F32) return DK_OK;
    return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d has element type %s (supported: "
                          "float32)", i, dk_dtype_name(t->dtype));
}

static const char *shape_of(const dk_tensor *t, char *buf, size_t size)
{
    return dk_shape_str(t->ndim, t->dims, buf, size);
}

/* ---- Gemm --------------------------------------------------------------- */

/* C must broadcast onto MxN in one direction only: scalar, N, 1xN, Mx1, MxN.
 * Opset < 7 with broadcast=0 wants exactly MxN. */
static dk_status check_gemm_bias(dk_graph *g, dk_node *n, const dk_tensor *c, int64_t m,
                                 int64_t nn)
{
    char buf[96];
    int64_t broadcast = 1;
    if (n->opset < 7) DK_TRY(dk__attr_int(g, n, "broadcast", 0, &broadcast));
    else if (dk_node_attr(n, "broadcast"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute broadcast does not exist in "
                              "opset %lld", (long long)n->opset);
    int ok = c->ndim <= 2;
    if (ok && !broadcast) ok = c->ndim == 2 && c->dims[0] == m && c->dims[1] == nn;
    if (ok && c->ndim == 2) ok = (c->dims[0] == 1 || c->dims[0] == m);
    if (ok && c->ndim >= 1) ok = (c->dims[c->ndim - 1] == 1 || c->dims[c->ndim - 1] == nn);
    if (!ok)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 2 (C) has shape %s, which does not "
                              "%s the %lldx%lld output", shape_of(c, buf, sizeof buf),
                              broadcast ? "broadcast to" : "match (broadcast=0)", (long long)m,
                              (long long)nn);
    return DK_OK;
}

dk_status dk__infer_gemm(dk_graph *g, dk_node *n)
{
    const dk_tensor *a = dk__in(g, n, 0), *b = dk__in(g, n, 1), *c = dk__in(g, n, 2);
    dk_gemm_params *p = &n->p.gemm;
    int64_t ta, tb;
    DK_TRY(dk__attr_float(g, n, "alpha", 1.0f, &p->alpha));
    DK_TRY(dk__attr_float(g, n, "beta", 1.0f, &p->beta));
    DK_TRY(dk__attr_int(g, n, "transA", 0, &ta));
    DK_TRY(dk__attr_int(g, n, "transB", 0, &tb));
    p->trans_a = ta != 0;
    p->trans_b = tb != 0;
    p->has_c = c != NULL;
    for (int i = 0; i < n->n_inputs; i++)
        if (dk__in(g, n, i)) DK_TRY(want_f32(g, n, i));
    char sa[96], sb[96];
    if (a->ndim != 2 || b->ndim != 2)
        return dk__node_error(g, n, DK_ERR_SHAPE, "inputs must be matrices, got shapes %s and %s",
                              shape_of(a, sa, sizeof sa), shape_of(b, sb, sizeof sb));
    int64_t m = a->dims[p->trans_a ? 1 : 0], k = a->dims[p->trans_a ? 0 : 1];
    int64_t kb = b->dims[p->trans_b ? 1 : 0], nn = b->dims[p->trans_b ? 0 : 1];
    if (k != kb)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 (A%s) has shape %s, so K=%lld, but "
                              "input 1 (B%s) has shape %s, so K=%lld", p->trans_a ? ", transposed" : "",
                              shape_of(a, sa, sizeof sa), (long long)k,
                              p->trans_b ? ", transposed" : "", shape_of(b, sb, sizeof sb),
                              (long long)kb);
    if (c) DK_TRY(check_gemm_bias(g, n, c, m, nn));
    int64_t dims[2] = {m, nn};
    dk__set_out(g, n, 0, DK_F32, 2, dims);
    n->flops = 2.0 * (double)m * (double)nn * (double)k;
    return DK_OK;
}

/* ---- MatMul (numpy matmul) -------------------------------------------------
 * A 1-D A is a row vector [1,K] and a 1-D B a column vector [K,1]; the added
 * dim is dropped from the result. Leading (batch) dims broadcast. */

dk_status dk__infer_matmul(dk_graph *g, dk_node *n)
{
    const dk_tensor *a = dk__in(g, n, 0), *b = dk__in(g, n, 1);
    DK_TRY(want_f32(g, n, 0));
    DK_TRY(want_f32(g, n, 1));
    char sa[96], sb[96];
    if (a->ndim < 1 || b->ndim < 1)
        return dk__node_error(g, n, DK_ERR_SHAPE, "inputs must have rank >= 1, got shapes %s "
                              "and %s", shape_of(a, sa, sizeof sa), shape_of(b, sb, sizeof sb));
    int64_t m = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1, k = a->dims[a->ndim - 1];
    int64_t kb = b->ndim >= 2 ? b->dims[b->ndim - 2] : b->dims[0];
    int64_t nn = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    if (k != kb)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s (K=%lld) but input 1 "
                              "has shape %s (K=%lld)", shape_of(a, sa, sizeof sa),
                              (long long)k, shape_of(b, sb, sizeof sb), (long long)kb);
    int batch_a = a->ndim > 2 ? a->ndim - 2 : 0, batch_b = b->ndim > 2 ? b->ndim - 2 : 0;
    int batch = batch_a > batch_b ? batch_a : batch_b;
    int64_t dims[DK_MAX_DIMS + 2];
    double batch_count = 1;
    for (int d = 0; d < batch; d++) {
        int ia = d - (batch - batch_a), ib = d - (batch - batch_b);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "batch dims of input 0 (shape %s) and "
                                  "input 1 (shape %s) do not broadcast",
                                  shape_of(a, sa, sizeof sa), shape_of(b, sb, sizeof sb));
        dims[d] = da == 1 ? db : da;
        batch_count *= (double)dims[d];
    }
    int ndim = batch;
    if (a->ndim >= 2) dims[ndim++] = m;
    if (b->ndim >= 2) dims[ndim++] = nn;
    dk__set_out(g, n, 0, DK_F32, ndim, dims);
    n->flops = 2.0 * batch_count * (double)m * (double)nn * (double)k;
    return DK_OK;
}
