/* The comparisons and selections on bool tensors, at run time and folded at
 * load when every input is a constant: Equal, Less, Greater (two inputs of
 * one type, broadcast; a bool output), Not, and Where (a bool condition
 * choosing between two inputs of one type). torch exports expand(-1) as
 * ConstantOfShape -> Mul -> Equal -> Where -> Expand (ViT's class token,
 * folded), and Swin's shifted-window mask as comparisons at run time. FLOPs
 * are 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

/* The output shape: the inputs' shapes broadcast (numpy rules). */
static dk_status broadcast_inputs(dk_graph *g, dk_node *n, int *ndim, int64_t *dims)
{
    int ndims[3];
    const int64_t *shapes[3];
    for (int i = 0; i < n->n_inputs && i < 3; i++) {
        ndims[i] = dk__in(g, n, i)->ndim;
        shapes[i] = dk__in(g, n, i)->dims;
    }
    if (dk__broadcast_shapes(n->n_inputs, ndims, shapes, ndim, dims)) return DK_OK;
    char buf[3][96];
    return dk__node_error(g, n, DK_ERR_SHAPE, "input shapes %s, %s%s%s do not broadcast",
                          dk_shape_str(ndims[0], shapes[0], buf[0], sizeof buf[0]),
                          dk_shape_str(ndims[1], shapes[1], buf[1], sizeof buf[1]),
                          n->n_inputs > 2 ? ", " : "",
                          n->n_inputs > 2 ? dk_shape_str(ndims[2], shapes[2], buf[2], sizeof buf[2])
                                          : "");
}

/* ---- Equal, Less, Greater ----------------------------------------------------------- */

dk_status dk__infer_compare(dk_graph *g, dk_node *n)
{
    const dk_tensor *a, *b;
    int ndim;
    int64_t dims[DK_MAX_DIMS];
    DK_TRY(dk__move_input(g, n, 0, &a));
    DK_TRY(dk__move_input(g, n, 1, &b));
    if (a->dtype != b->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 has element type %s but input 1 has "
                              "%s", dk_dtype_name(a->dtype), dk_dtype_name(b->dtype));
    if (a->dtype == DK_F16 || (a->dtype == DK_BOOL && n->op != DK_OP_EQUAL))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "element type %s is not supported",
                              dk_dtype_name(a->dtype));
    if (n->opset < 7 && (dk_node_attr(n, "broadcast") || dk_node_attr(n, "axis")))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'broadcast' or 'axis' "
                              "(opset %lld legacy broadcasting) is not supported",
                              (long long)n->opset);
    DK_TRY(broadcast_inputs(g, n, &ndim, dims));
    dk__set_out(g, n, 0, DK_BOOL, ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* -1, 0, 1 as a is below, equal to or above b: floats as numbers (a NaN is
 * unordered: 2, equal to nothing), bools by truth, integers exactly. */
static int order(const dk_tensor *a, int64_t i, const dk_tensor *b, int64_t j)
{
    if (dk_dtype_is_float(a->dtype)) {
        double x = dk_tensor_get(a, i), y = dk_tensor_get(b, j);
        return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
    }
    if (a->dtype == DK_BOOL)
        return !((const uint8_t *)a->data)[i] == !((const uint8_t *)b->data)[j] ? 0 : 2;
    uint64_t x = dk_tensor_get_bits(a, i), y = dk_tensor_get_bits(b, j);
    if (x == y) return 0;
    if (dk_dtype_is_signed_int(a->dtype)) return (int64_t)x < (int64_t)y ? -1 : 1;
    return x < y ? -1 : 1;
}

dk_status dk__eval_compare(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *y = out[0];
    if (y->dtype != DK_BOOL || a->dtype != b->dtype || a->ndim > y->ndim || b->ndim > y->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const int want = n->op == DK_OP_LESS ? -1 : n->op == DK_OP_GREATER ? 1 : 0;
    for (int64_t i = 0, numel = dk_tensor_numel(y); i < numel; i++)
        ((uint8_t *)y->data)[i] = (uint8_t)(order(a, dk__broadcast_index(a, y->ndim - a->ndim, y, i),
                                                  b, dk__broadcast_index(b, y->ndim - b->ndim, y, i)) ==
                                            want);
    return DK_OK;
}

/* ---- Not ---------------------------------------------------------------------------- */

dk_status dk__infer_not(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    DK_TRY(dk__move_input(g, n, 0, &x));
    if (x->dtype != DK_BOOL)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 has element type %s, expected bool",
                              dk_dtype_name(x->dtype));
    dk__set_out(g, n, 0, DK_BOOL, x->ndim, x->dims);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_not(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    if (out[0]->dtype != DK_BOOL || in[0]->dtype != DK_BOOL ||
        dk_tensor_numel(in[0]) != dk_tensor_numel(out[0]))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const uint8_t *x = in[0]->data;
    uint8_t *y = out[0]->data;
    for (int64_t i = 0, numel = dk_tensor_numel(out[0]); i < numel; i++) y[i] = !x[i];
    return DK_OK;
}

/* ---- Where -------------------------------------------------------------------------- */

dk_status dk__infer_where(dk_graph *g, dk_node *n)
{
    const dk_tensor *c, *x, *y;
    int ndim;
    int64_t dims[DK_MAX_DIMS];
    DK_TRY(dk__move_input(g, n, 0, &c));
    DK_TRY(dk__move_input(g, n, 1, &x));
    DK_TRY(dk__move_input(g, n, 2, &y));
    if (c->dtype != DK_BOOL)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 (condition) has element type %s, "
                              "expected bool", dk_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 has element type %s but input 2 has "
                              "%s", dk_dtype_name(x->dtype), dk_dtype_name(y->dtype));
    DK_TRY(broadcast_inputs(g, n, &ndim, dims));
    dk__set_out(g, n, 0, x->dtype, ndim, dims);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_where(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *c = in[0], *x = in[1], *y = in[2];
    dk_tensor *o = out[0];
    if (o->dtype != x->dtype || y->dtype != x->dtype || c->dtype != DK_BOOL ||
        c->ndim > o->ndim || x->ndim > o->ndim || y->ndim > o->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const size_t es = dk_dtype_size(o->dtype);
    for (int64_t i = 0, numel = dk_tensor_numel(o); i < numel; i++) {
        int take_x = ((const uint8_t *)c->data)[dk__broadcast_index(c, o->ndim - c->ndim, o, i)] != 0;
        const dk_tensor *src = take_x ? x : y;
        int64_t j = dk__broadcast_index(src, o->ndim - src->ndim, o, i);
        memcpy((char *)o->data + (size_t)i * es, (const char *)src->data + (size_t)j * es, es);
    }
    return DK_OK;
}
