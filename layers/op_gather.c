/* Gather (axis; int32/int64 indices of any rank, negative indices count from
 * the end). FLOPs are 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

static int64_t index_at(const dk_tensor *idx, int64_t i)
{
    return idx->dtype == DK_I32 ? ((const int32_t *)idx->data)[i]
                                : ((const int64_t *)idx->data)[i];
}

dk_status dk__infer_gather(dk_graph *g, dk_node *n)
{
    const dk_tensor *x, *idx;
    int64_t axis, dims[DK_MAX_DIMS];
    char a[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    DK_TRY(dk__move_input(g, n, 1, &idx));
    if (idx->dtype != DK_I32 && idx->dtype != DK_I64)
        return dk__node_error(g, n, DK_ERR_FORMAT,
                              "indices (input 1) must be int32 or int64, got %s",
                              dk_dtype_name(idx->dtype));
    if (x->ndim == 0) return dk__node_error(g, n, DK_ERR_SHAPE, "cannot gather from a scalar");
    DK_TRY(dk__attr_int(g, n, "axis", 0, &axis));
    DK_TRY(dk__norm_axis(g, n, axis, x->ndim, &n->p.axis.axis));
    int ax = n->p.axis.axis;
    int r = x->ndim - 1 + idx->ndim;
    if (r > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", r,
                              DK_MAX_DIMS);

    /* Constant indices are checked now so that the error comes at load time. */
    const dk_tensor *cidx = dk__const_in(g, n, 1);
    int64_t size = x->dims[ax];
    for (int64_t i = 0; cidx && i < dk_tensor_numel(cidx); i++) {
        int64_t v = index_at(cidx, i);
        if (v < -size || v >= size)
            return dk__node_error(g, n, DK_ERR_SHAPE,
                                  "index %lld out of range [%lld, %lld) for axis %d of input %s",
                                  (long long)v, (long long)-size, (long long)size, ax,
                                  dk_shape_str(x->ndim, x->dims, a, sizeof a));
    }

    /* output = data.dims[:axis] + indices.dims + data.dims[axis+1:] */
    int k = 0;
    for (int d = 0; d < ax; d++) dims[k++] = x->dims[d];
    for (int d = 0; d < idx->ndim; d++) dims[k++] = idx->dims[d];
    for (int d = ax + 1; d < x->ndim; d++) dims[k++] = x->dims[d];
    dk__set_out(g, n, 0, x->dtype, r, dims);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_gather(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *idx = in[1];
    dk_tensor *y = out[0];
    int ax = n->p.axis.axis;
    if (ax >= x->ndim || y->dtype != x->dtype || (idx->dtype != DK_I32 && idx->dtype != DK_I64))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    int64_t size = x->dims[ax], count = dk_tensor_numel(idx);
    int64_t outer = dk_shape_numel(ax, x->dims);
    size_t chunk = (size_t)dk_shape_numel(x->ndim - ax - 1, x->dims + ax + 1) *
                   dk_dtype_size(x->dtype);
    if ((size_t)(outer * count) * chunk != dk_tensor_nbytes(y))
        return dk__eval_error(n, DK_ERR_INTERNAL, "output has %zu bytes, expected %zu",
                              dk_tensor_nbytes(y), (size_t)(outer * count) * chunk);

    for (int64_t i = 0; i < count; i++) {
        int64_t v = index_at(idx, i);
        if (v < -size || v >= size)
            return dk__eval_error(n, DK_ERR_SHAPE,
                                  "index %lld out of range [%lld, %lld) for axis %d",
                                  (long long)v, (long long)-size, (long long)size, ax);
    }
    if (chunk == 0) return DK_OK;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++) {
        const char *slab = src + (size_t)(o * size) * chunk;
        for (int64_t i = 0; i < count; i++) {
            int64_t v = index_at(idx, i);
            memcpy(dst, slab + (size_t)(v < 0 ? v + size : v) * chunk, chunk);
            dst += chunk;
        }
    }
    return DK_OK;
}
