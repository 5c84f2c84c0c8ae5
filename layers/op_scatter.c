/* ScatterND (reduction "none"): a copy of data in which the slices named by
 * the rows of indices are replaced by updates. Any dtype; indices int64 (or
 * int32), negative ones counting from the end; an index out of range is an
 * error at run time. Folded at load when every input is a constant. FLOPs 0
 * (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

dk_status dk__infer_scatternd(dk_graph *g, dk_node *n)
{
    const dk_tensor *x, *idx, *upd;
    const char *reduction;
    char a[96], b[96], c[96];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(dk__move_input(g, n, 1, &idx));
    DK_TRY(dk__move_input(g, n, 2, &upd));
    DK_TRY(dk__attr_string(g, n, "reduction", "none", &reduction));
    if (strcmp(reduction, "none") != 0)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'reduction' value '%s' is not "
                              "supported (none)", reduction);
    if (idx->dtype != DK_I64 && idx->dtype != DK_I32)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (indices) has element type %s, "
                              "expected int64", dk_dtype_name(idx->dtype));
    if (upd->dtype != x->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 2 (updates) has element type %s, input "
                              "0 %s", dk_dtype_name(upd->dtype), dk_dtype_name(x->dtype));
    /* updates = indices.shape[:-1] + data.shape[k:], k = indices.shape[-1] */
    int ok = idx->ndim >= 1 && idx->dims[idx->ndim - 1] <= x->ndim &&
             upd->ndim == idx->ndim - 1 + x->ndim - (int)idx->dims[idx->ndim - 1];
    for (int d = 0; ok && d < idx->ndim - 1; d++) ok = upd->dims[d] == idx->dims[d];
    for (int d = idx->ndim - 1; ok && d < upd->ndim; d++)
        ok = upd->dims[d] == x->dims[d - (idx->ndim - 1) + idx->dims[idx->ndim - 1]];
    if (!ok)
        return dk__node_error(g, n, DK_ERR_SHAPE, "data %s, indices %s and updates %s do not "
                              "match", dk_shape_str(x->ndim, x->dims, a, sizeof a),
                              dk_shape_str(idx->ndim, idx->dims, b, sizeof b),
                              dk_shape_str(upd->ndim, upd->dims, c, sizeof c));
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = 0;
    return DK_OK;
}

static int64_t index_at(const dk_tensor *t, int64_t i)
{
    return t->dtype == DK_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

dk_status dk__eval_scatternd(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *idx = in[1], *upd = in[2];
    dk_tensor *y = out[0];
    if (y->dtype != x->dtype || upd->dtype != x->dtype || idx->ndim < 1 ||
        dk_tensor_nbytes(y) != dk_tensor_nbytes(x))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const size_t es = dk_dtype_size(x->dtype);
    const int k = (int)idx->dims[idx->ndim - 1];
    int64_t slice = 1;
    for (int d = k; d < x->ndim; d++) slice *= x->dims[d];
    const int64_t rows = k ? dk_tensor_numel(idx) / k : dk_shape_numel(idx->ndim - 1, idx->dims);
    if (y->data != x->data) memmove(y->data, x->data, dk_tensor_nbytes(x));
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = 0;
        for (int d = 0; d < k; d++) {
            int64_t v = index_at(idx, r * k + d), dim = x->dims[d];
            if (v < 0) v += dim;
            if (v < 0 || v >= dim)
                return dk__eval_error(n, DK_ERR_SHAPE, "index %lld of row %lld is out of range "
                                      "for axis %d of size %lld", (long long)index_at(idx, r * k + d),
                                      (long long)r, d, (long long)dim);
            off = off * dim + v;
        }
        memcpy((char *)y->data + (size_t)(off * slice) * es,
               (const char *)upd->data + (size_t)(r * slice) * es, (size_t)slice * es);
    }
    return DK_OK;
}
