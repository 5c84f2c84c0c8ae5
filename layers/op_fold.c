/* Ops evaluated only at load time, on constant inputs: ConstantOfShape and
 * Range, whose output shape is the value of an input. torch exports
 * expand(-1) as ConstantOfShape -> Mul -> Equal -> Where -> Expand (ViT's
 * class token) and Swin's relative positions through Range, all of it
 * arithmetic on constants that folds.
 * An input known only at run time is refused by name (the message the
 * conformance runner reads to bind it), so these ops never reach a backend.
 * FLOPs are 0 (see op_shape.c for the convention). */
#include <math.h>
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
    for (int64_t i = 0, numel = dk_tensor_numel(y); i < numel; i++) memcpy((char *)y->data + (size_t)i * es, src, es);
    return DK_OK;
}

/* ---- Range ------------------------------------------------------------------------ */

/* start, limit and delta: scalars of one numeric type, known at load. */
dk_status dk__infer_range(dk_graph *g, dk_node *n)
{
    const dk_tensor *t[3];
    for (int i = 0; i < 3; i++) {
        DK_TRY(dk__move_input(g, n, i, &t[i]));
        if (dk_tensor_numel(t[i]) != 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input %d must be a scalar", i);
        if (t[i]->dtype != t[0]->dtype)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d has element type %s, input 0 %s",
                                  i, dk_dtype_name(t[i]->dtype), dk_dtype_name(t[0]->dtype));
    }
    const dk_dtype dt = t[0]->dtype;
    if (dt == DK_BOOL || dt == DK_F16)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "element type %s is not supported",
                              dk_dtype_name(dt));
    DK_TRY(want_constant_inputs(g, n));
    double count;
    if (dk_dtype_is_float(dt)) {
        double start = dk_tensor_get(t[0], 0), limit = dk_tensor_get(t[1], 0),
               delta = dk_tensor_get(t[2], 0);
        count = ceil((limit - start) / delta);
        if (delta == 0 || isnan(count))
            return dk__node_error(g, n, DK_ERR_FORMAT, "start %g, limit %g, delta %g give no "
                                  "length", start, limit, delta);
    } else {
        /* exact: integers never pass through double until the count */
        int is_signed = dk_dtype_is_signed_int(dt);
        uint64_t s = dk_tensor_get_bits(t[0], 0), l = dk_tensor_get_bits(t[1], 0),
                 d = dk_tensor_get_bits(t[2], 0);
        if (d == 0) return dk__node_error(g, n, DK_ERR_FORMAT, "delta is 0");
        if (is_signed) {
            double span = (double)(int64_t)l - (double)(int64_t)s;
            count = ceil(span / (double)(int64_t)d);
        } else {
            count = l > s ? ceil((double)(l - s) / (double)d) : 0;
        }
    }
    if (count < 0) count = 0;
    if (count > (double)DK_MAX_DIM)
        return dk__node_error(g, n, DK_ERR_SHAPE, "more than " DK_MAX_LIMIT_STR " elements");
    int64_t len = (int64_t)count;
    dk__set_out(g, n, 0, dt, 1, &len);
    n->flops = 0;
    return DK_OK;
}

/* y[i] = start + i * delta: in double for floats (rounded once), with
 * wrapping integer arithmetic for integers. */
dk_status dk__eval_range(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    dk_tensor *y = out[0];
    if (y->dtype != in[0]->dtype || y->ndim != 1)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    for (int64_t i = 0; i < y->dims[0]; i++) {
        if (dk_dtype_is_float(y->dtype))
            dk_tensor_set(y, i, dk_tensor_get(in[0], 0) + (double)i * dk_tensor_get(in[2], 0));
        else
            dk_tensor_set_bits(y, i, dk_tensor_get_bits(in[0], 0) +
                                         (uint64_t)i * dk_tensor_get_bits(in[2], 0));
    }
    return DK_OK;
}
