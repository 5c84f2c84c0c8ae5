/* Ops evaluated only at load time, on constant inputs: ConstantOfShape, Equal
 * and Where. torch exports expand(-1) as ConstantOfShape -> Mul -> Equal ->
 * Where -> Expand (ViT's class token), all of it shape arithmetic that folds.
 * An input known only at run time is refused by name (the message the
 * conformance runner reads to bind it), so these ops never reach a backend.
 * FLOPs are 0 (see op_shape.c for the convention). */
#include <string.h>

#include "layers/op_move.h"

static dk_status want_constant_inputs(const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && !dk__const_in(g, n, i))
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED,
                                  "input %d ('%s') must be a constant known at load time (%s is "
                                  "evaluated at load only)", i, g->values[n->inputs[i]].t.name,
                                  dk_op_name(n->op));
    return DK_OK;
}

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

/* ---- ConstantOfShape ------------------------------------------------------------ */

/* The fill value: attribute 'value' (one element of any type), else float32 0. */
static const dk_tensor *fill_value(const dk_node *n)
{
    const dk_attr *a = dk_node_attr(n, "value");
    return a && a->type == DK_ATTR_TENSOR ? a->t : NULL;
}

dk_status dk__infer_constantofshape(dk_graph *g, dk_node *n)
{
    int64_t dims[DK_MAX_DIMS];
    int count;
    char a[128];
    DK_TRY(dk__const_ints(g, n, 0, dims, DK_MAX_DIMS, &count));
    if (count < 0) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 (shape) is required");
    for (int i = 0; i < count; i++)
        if (dims[i] < 0)
            return dk__node_error(g, n, DK_ERR_SHAPE, "shape %s has a negative dim",
                                  dk__ints_str(dims, count, a, sizeof a));
    const dk_attr *attr = dk_node_attr(n, "value");
    const dk_tensor *v = fill_value(n);
    if (attr && (!v || dk_tensor_numel(v) != 1 || !v->data || dk_dtype_size(v->dtype) == 0))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'value' must be a tensor of one "
                              "element of a known type");
    dk__set_out(g, n, 0, v ? v->dtype : DK_F32, count, dims);
    n->flops = 0;
    return DK_OK;
}

dk_status dk__eval_constantofshape(const dk_node *n, const dk_tensor *const *in,
                                   dk_tensor *const *out)
{
    (void)in;
    const dk_tensor *v = fill_value(n);
    dk_tensor *y = out[0];
    static const float zero = 0.0f;
    const void *src = v ? v->data : (const void *)&zero;
    const size_t es = dk_dtype_size(y->dtype);
    if ((v ? v->dtype : DK_F32) != y->dtype)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) memcpy((char *)y->data + (size_t)i * es, src, es);
    return DK_OK;
}

/* ---- Equal ------------------------------------------------------------------------ */

dk_status dk__infer_equal(dk_graph *g, dk_node *n)
{
    const dk_tensor *a, *b;
    int ndim;
    int64_t dims[DK_MAX_DIMS];
    DK_TRY(dk__move_input(g, n, 0, &a));
    DK_TRY(dk__move_input(g, n, 1, &b));
    if (a->dtype != b->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 has element type %s but input 1 has "
                              "%s", dk_dtype_name(a->dtype), dk_dtype_name(b->dtype));
    DK_TRY(want_constant_inputs(g, n));
    DK_TRY(broadcast_inputs(g, n, &ndim, dims));
    dk__set_out(g, n, 0, DK_BOOL, ndim, dims);
    n->flops = 0;
    return DK_OK;
}

/* Floats compare as numbers (NaN differs from itself, -0 equals 0), bools by
 * truth, integers by their bytes. */
static int same(const dk_tensor *a, int64_t i, const dk_tensor *b, int64_t j)
{
    if (dk_dtype_is_float(a->dtype)) return dk_tensor_get(a, i) == dk_tensor_get(b, j);
    if (a->dtype == DK_BOOL) return !((const uint8_t *)a->data)[i] == !((const uint8_t *)b->data)[j];
    size_t es = dk_dtype_size(a->dtype);
    return memcmp((const char *)a->data + (size_t)i * es, (const char *)b->data + (size_t)j * es,
                  es) == 0;
}

dk_status dk__eval_equal(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *y = out[0];
    if (y->dtype != DK_BOOL || a->dtype != b->dtype || a->ndim > y->ndim || b->ndim > y->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    for (int64_t i = 0; i < dk_tensor_numel(y); i++)
        ((uint8_t *)y->data)[i] = (uint8_t)same(a, dk__broadcast_index(a, y->ndim - a->ndim, y, i),
                                                b, dk__broadcast_index(b, y->ndim - b->ndim, y, i));
    return DK_OK;
}

/* ---- Where ------------------------------------------------------------------------ */

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
    DK_TRY(want_constant_inputs(g, n));
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
    for (int64_t i = 0; i < dk_tensor_numel(o); i++) {
        int take_x = ((const uint8_t *)c->data)[dk__broadcast_index(c, o->ndim - c->ndim, o, i)] != 0;
        const dk_tensor *src = take_x ? x : y;
        int64_t j = dk__broadcast_index(src, o->ndim - src->ndim, o, i);
        memcpy((char *)o->data + (size_t)i * es, (const char *)src->data + (size_t)j * es, es);
    }
    return DK_OK;
}
