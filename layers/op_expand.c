/* Expand: the input broadcast (numpy rules, both ways) with a constant shape:
 * ViT's class token repeated over the batch, any tensor at run time. FLOPs are
 * 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

dk_status dk__infer_expand(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t shape[DK_MAX_DIMS], dims[DK_MAX_DIMS];
    int count, ndim;
    char a[128], b[128];
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (!dk__in(g, n, 1)) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (shape) is required");
    DK_TRY(dk__const_ints(g, n, 1, shape, DK_MAX_DIMS, &count));
    if (g->values[n->inputs[1]].t.ndim != 1)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (shape) must be 1-D, got rank %d",
                              g->values[n->inputs[1]].t.ndim);
    for (int i = 0; i < count; i++)
        if (shape[i] < 0)
            return dk__node_error(g, n, DK_ERR_SHAPE, "shape %s has a negative dim",
                                  dk__ints_str(shape, count, a, sizeof a));
    const int ndims[2] = {x->ndim, count};
    const int64_t *shapes[2] = {x->dims, shape};
    if (!dk__broadcast_shapes(2, ndims, shapes, &ndim, dims))
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 of shape %s does not broadcast with "
                              "shape %s", dk_shape_str(x->ndim, x->dims, b, sizeof b),
                              dk__ints_str(shape, count, a, sizeof a));
    dk__set_out(g, n, 0, x->dtype, ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* Rows of the output's last dim: a row whose source does not repeat along
 * that dim is one memcpy, else element by element. */
dk_status dk__eval_expand(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (y->dtype != x->dtype || y->ndim < x->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const size_t es = dk_dtype_size(x->dtype);
    const int64_t total = dk_tensor_numel(y);
    if (total == 0) return DK_OK;
    const int64_t len = y->ndim ? y->dims[y->ndim - 1] : 1;
    const int contiguous = x->ndim > 0 && x->dims[x->ndim - 1] == len;
    const int first = y->ndim - x->ndim;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t row = 0; row < total / len; row++) {
        int64_t o = row * len, s = dk__broadcast_index(x, first, y, o);
        if (contiguous) {
            memcpy(dst + (size_t)o * es, src + (size_t)s * es, (size_t)len * es);
            continue;
        }
        for (int64_t i = 0; i < len; i++)
            memcpy(dst + (size_t)(o + i) * es, src + (size_t)dk__broadcast_index(x, first, y, o + i) * es,
                   es);
    }
    return DK_OK;
}
