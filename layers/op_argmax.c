/* ArgMax: the index (int64) of the largest element along one axis, the first
 * one or, with select_last_index, the last one among equals; a NaN counts as
 * the largest (numpy's argmax). Any numeric input, compared exactly (integers
 * as integers). FLOPs: one comparison per input element. */
#include <math.h>

#include "layers/op_move.h"

dk_status dk__infer_argmax(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    int64_t axis, keepdims, last, dims[DK_MAX_DIMS];
    dk_argmax_params *p = &n->p.argmax;
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (x->dtype == DK_BOOL || x->dtype == DK_F16)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s",
                              dk_dtype_name(x->dtype));
    DK_TRY(dk__attr_int(g, n, "axis", 0, &axis));
    DK_TRY(dk__attr_int(g, n, "keepdims", 1, &keepdims));
    DK_TRY(dk__attr_int(g, n, "select_last_index", 0, &last));
    if (x->ndim == 0) return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 is a scalar");
    DK_TRY(dk__norm_axis(g, n, axis, x->ndim, &p->axis));
    if (x->dims[p->axis] == 0)
        return dk__node_error(g, n, DK_ERR_SHAPE, "axis %d is empty", p->axis);
    p->keepdims = keepdims != 0;
    p->select_last = last != 0;
    int r = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != p->axis) dims[r++] = x->dims[d];
        else if (p->keepdims) dims[r++] = 1;
    }
    dk__set_out(g, n, 0, DK_I64, r, dims);
    n->flops = (double)dk_tensor_numel(x);
    return DK_OK;
}

/* a > b in the element type; NaN above every number */
static int greater(const dk_tensor *t, int64_t i, int64_t j)
{
    if (dk_dtype_is_float(t->dtype)) {
        double a = dk_tensor_get(t, i), b = dk_tensor_get(t, j);
        return isnan(a) ? !isnan(b) : a > b;
    }
    uint64_t a = dk_tensor_get_bits(t, i), b = dk_tensor_get_bits(t, j);
    return dk_dtype_is_signed_int(t->dtype) ? (int64_t)a > (int64_t)b : a > b;
}

dk_status dk__eval_argmax(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_argmax_params *p = &n->p.argmax;
    if (y->dtype != DK_I64 || p->axis >= x->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    int64_t outer = 1, inner = 1, len = x->dims[p->axis];
    for (int d = 0; d < p->axis; d++) outer *= x->dims[d];
    for (int d = p->axis + 1; d < x->ndim; d++) inner *= x->dims[d];
    if (dk_tensor_numel(y) != outer * inner)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    int64_t *yp = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            const int64_t base = o * len * inner + k;
            int64_t best = 0;
            for (int64_t j = 1; j < len; j++) {
                int64_t cand = base + j * inner, cur = base + best * inner;
                int better = greater(x, cand, cur);
                /* equal (or both NaN): the last index wins when asked */
                if (better || (p->select_last && !greater(x, cur, cand))) best = j;
            }
            yp[o * inner + k] = best;
        }
    return DK_OK;
}
