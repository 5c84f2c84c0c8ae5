/* Shape inference for the reductions: Softmax, ReduceMean, ReduceMax,
 * ReduceSum and ReduceL2.
 *
 * FLOP convention: Softmax counts 4 per element (subtract the max, exp, add
 * to the sum, divide); the Reduce ops one add or comparison per input
 * element (ReduceMean's final division per output element is not counted),
 * ReduceL2 two (square, add). */
#include "layers/infer_util.h"
#include "layers/op_table.h"

static dk_status want_f32_input(dk_graph *g, dk_node *n, const dk_tensor *x)
{
    if (x->dtype == DK_F32) return DK_OK;
    return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s (supported: "
                          "float32)", dk_dtype_name(x->dtype));
}

/* ---- Softmax -----------------------------------------------------------
 * Opset < 13: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
 * and normalised along the second dim, default axis 1. Opset >= 13: along
 * `axis` only, default -1. */
dk_status dk__infer_softmax(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    DK_TRY(want_f32_input(g, n, x));
    if (x->ndim < 1)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 is a scalar, expected rank >= 1");
    dk_softmax_params *p = &n->p.softmax;
    p->legacy = n->opset < 13;
    int64_t axis;
    DK_TRY(dk__attr_int(g, n, "axis", p->legacy ? 1 : -1, &axis));
    DK_TRY(dk__norm_axis(g, n, axis, x->ndim, &p->axis));
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = 4.0 * (double)dk_tensor_numel(x);
    return DK_OK;
}

/* ---- ReduceMean, ReduceMax, ReduceSum, ReduceL2 ---------------------------
 * Axes come from the attribute (opset < 18; ReduceSum < 13) or the optional
 * constant input 1 (opset 18; ReduceSum 13). No axes means all axes, unless noop_with_empty_axes=1 (opset
 * 18), which makes the node an identity (naxes = 0). */

static dk_status reduce_axes(dk_graph *g, dk_node *n, int64_t *axes, int *count)
{
    const int64_t *attr;
    int n_attr;
    DK_TRY(dk__attr_ints(g, n, "axes", &n_attr, &attr));
    int n_input = -1;
    DK_TRY(dk__const_ints(g, n, 1, axes, DK_MAX_DIMS, &n_input));
    if (n_attr >= 0 && n_input >= 0)
        return dk__node_error(g, n, DK_ERR_FORMAT, "axes given both as attribute and as input 1");
    if (n_attr > DK_MAX_DIMS)
        return dk__node_error(g, n, DK_ERR_SHAPE, "%d axes given, at most %d possible", n_attr,
                              DK_MAX_DIMS);
    for (int i = 0; i < n_attr; i++) axes[i] = attr[i];
    *count = n_attr >= 0 ? n_attr : n_input;
    return DK_OK;
}

dk_status dk__infer_reduce(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    DK_TRY(want_f32_input(g, n, x));
    dk_reduce_params *p = &n->p.reduce;
    int64_t keepdims, noop;
    DK_TRY(dk__attr_int(g, n, "keepdims", 1, &keepdims));
    DK_TRY(dk__attr_int(g, n, "noop_with_empty_axes", 0, &noop));
    p->keepdims = keepdims != 0;
    int64_t axes[DK_MAX_DIMS];
    int count = -1;
    DK_TRY(reduce_axes(g, n, axes, &count));

    int reduced[DK_MAX_DIMS] = {0};
    if (count <= 0) {
        for (int d = 0; d < x->ndim; d++) reduced[d] = !noop;
    } else {
        for (int i = 0; i < count; i++) {
            int a;
            DK_TRY(dk__norm_axis(g, n, axes[i], x->ndim, &a));
            if (reduced[a])
                return dk__node_error(g, n, DK_ERR_FORMAT, "axis %lld listed twice",
                                      (long long)axes[i]);
            reduced[a] = 1;
        }
    }
    int64_t dims[DK_MAX_DIMS];
    int ndim = 0;
    p->naxes = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (reduced[d]) {
            p->axes[p->naxes++] = d;
            if (p->keepdims) dims[ndim++] = 1;
        } else {
            dims[ndim++] = x->dims[d];
        }
    }
    dk__set_out(g, n, 0, x->dtype, ndim, dims);
    n->flops = (n->op == DK_OP_REDUCEL2 ? 2.0 : 1.0) * (double)dk_tensor_numel(x);
    return DK_OK;
}
