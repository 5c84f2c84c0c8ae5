/* Shape inference for the elementwise ops: activations and functions (Relu,
 * LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish, Softplus, Neg, Abs, Sqrt,
 * Erf, Tanh, Exp, Log, Reciprocal, Floor, Ceil), Clip,
 * the broadcasting binary ops Add, Sub, Mul, Div, Pow, PRelu, and the variadic Sum,
 * Mean, Max, Min.
 *
 * FLOP convention: one operation per output element, whatever the op
 * (an activation's exp, a libm function or a comparison counts as one). */
#include <float.h>
#include <math.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"

static void set_same_as_input(dk_graph *g, dk_node *n, const dk_tensor *x)
{
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = (double)dk_tensor_numel(x);
}

static dk_status want_float_input(dk_graph *g, dk_node *n, const dk_tensor *x)
{
    if (x->dtype == DK_F32 || x->dtype == DK_F64) return DK_OK;
    return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s (supported: "
                          "float32, float64)", dk_dtype_name(x->dtype));
}

/* ---- activations ---------------------------------------------------- */

dk_status dk__infer_unary(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    DK_TRY(want_float_input(g, n, x));
    dk_act_params *p = &n->p.act;
    p->alpha = p->beta = 0;
    p->min = -INFINITY;
    p->max = INFINITY;
    switch (n->op) {
    case DK_OP_LEAKYRELU:
        DK_TRY(dk__attr_float(g, n, "alpha", 0.01f, &p->alpha));
        break;
    case DK_OP_HARDSIGMOID:
        DK_TRY(dk__attr_float(g, n, "alpha", 0.2f, &p->alpha));
        DK_TRY(dk__attr_float(g, n, "beta", 0.5f, &p->beta));
        break;
    case DK_OP_ELU:
        DK_TRY(dk__attr_float(g, n, "alpha", 1.0f, &p->alpha));
        break;
    case DK_OP_RELU: case DK_OP_SIGMOID: case DK_OP_HARDSWISH: case DK_OP_NEG:
    case DK_OP_SQRT: case DK_OP_ERF: case DK_OP_TANH: case DK_OP_ABS: case DK_OP_EXP:
    case DK_OP_LOG: case DK_OP_RECIPROCAL: case DK_OP_FLOOR: case DK_OP_CEIL:
    case DK_OP_SOFTPLUS:
        break;
    default:
        return dk__node_error(g, n, DK_ERR_INTERNAL, "not an activation op");
    }
    set_same_as_input(g, n, x);
    return DK_OK;
}

/* ---- Clip ------------------------------------------------------------- */

/* Integer Clip keeps its bounds in the float params, so only types whose
 * whole range is exact in float32 are accepted. */
static int clip_int_range(dk_dtype t, float *lo, float *hi)
{
    switch (t) {
    case DK_I8: *lo = INT8_MIN; *hi = INT8_MAX; return 1;
    case DK_U8: *lo = 0; *hi = UINT8_MAX; return 1;
    case DK_I16: *lo = INT16_MIN; *hi = INT16_MAX; return 1;
    case DK_U16: *lo = 0; *hi = UINT16_MAX; return 1;
    default: return 0;
    }
}

/* Opset >= 11: bound i (1 = min, 2 = max) is an optional scalar input. A
 * constant bound is decoded into the params; a bound only known at run time
 * (the ONNX conformance cases feed them as graph inputs) is stored as NaN,
 * which tells a kernel to read it from input i. */
static dk_status clip_bound_input(dk_graph *g, dk_node *n, int i, float *bound)
{
    const dk_tensor *t = dk__in(g, n, i);
    if (!t) return DK_OK;
    const char *which = i == 1 ? "min" : "max";
    const dk_tensor *x = dk__in(g, n, 0);
    if (t->dtype != x->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input %d (%s) has element type %s but "
                              "input 0 has %s", i, which, dk_dtype_name(t->dtype),
                              dk_dtype_name(x->dtype));
    if (dk_tensor_numel(t) != 1) {
        char buf[64];
        return dk__node_error(g, n, DK_ERR_SHAPE, "input %d (%s) must be a scalar, got shape %s",
                              i, which, dk_shape_str(t->ndim, t->dims, buf, sizeof buf));
    }
    const dk_tensor *c = dk__const_in(g, n, i);
    *bound = c ? (float)dk_tensor_get(c, 0) : NAN;
    if (c && isnan(*bound))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d (%s) is NaN", i, which);
    return DK_OK;
}

dk_status dk__infer_clip(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    dk_act_params *p = &n->p.act;
    p->alpha = p->beta = 0;
    p->min = -INFINITY;
    p->max = INFINITY;
    int is_int = clip_int_range(x->dtype, &p->min, &p->max);
    if (!is_int && x->dtype != DK_F32 && x->dtype != DK_F64)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s "
                              "(supported: float32, float64, int8, uint8, int16, uint16)",
                              dk_dtype_name(x->dtype));
    if (n->opset < 11) {
        if (n->n_inputs > 1)
            return dk__node_error(g, n, DK_ERR_FORMAT, "opset %lld Clip takes 1 input, got %d",
                                  (long long)n->opset, n->n_inputs);
        /* Opset 1 and 6 defaulted to the float range, same as unbounded here. */
        DK_TRY(dk__attr_float(g, n, "min", p->min, &p->min));
        DK_TRY(dk__attr_float(g, n, "max", p->max, &p->max));
    } else {
        if (dk_node_attr(n, "min") || dk_node_attr(n, "max"))
            return dk__node_error(g, n, DK_ERR_FORMAT, "opset %lld Clip takes min/max as "
                                  "inputs, not attributes", (long long)n->opset);
        DK_TRY(clip_bound_input(g, n, 1, &p->min));
        DK_TRY(clip_bound_input(g, n, 2, &p->max));
    }
    if (n->opset < 11 && (isnan(p->min) || isnan(p->max)))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "NaN bound (min %g, max %g)",
                              (double)p->min, (double)p->max);
    set_same_as_input(g, n, x);
    return DK_OK;
}

/* ---- Add, Sub, Mul, Div, Pow, PRelu ----------------------------------------------
 * Convention shared with the kernels: the output has A's dims aligned to the
 * right, and B's first dim aligned with output dim n->p.axis.axis. With numpy
 * broadcasting (opset >= 7) that is rank(out) - rank(B); the legacy
 * broadcast=1/axis attributes of opset < 7 may place B elsewhere (e.g. A
 * 2x3x4x5, B 3x4, axis 1). Any dim of size 1 broadcasts. */

static int binary_dtype_ok(dk_dtype t)
{
    switch (t) {
    case DK_F32: case DK_F64: case DK_U8: case DK_I8: case DK_U16: case DK_I16:
    case DK_I32: case DK_I64: case DK_U32: case DK_U64:
        return 1;
    default:
        return 0;
    }
}

static dk_status shape_mismatch(dk_graph *g, dk_node *n, const dk_tensor *a, const dk_tensor *b,
                                const char *why)
{
    char sa[96], sb[96];
    return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s and input 1 has shape %s: %s",
                          dk_shape_str(a->ndim, a->dims, sa, sizeof sa),
                          dk_shape_str(b->ndim, b->dims, sb, sizeof sb), why);
}

static dk_status numpy_broadcast(dk_graph *g, dk_node *n, const dk_tensor *a, const dk_tensor *b,
                                 int *ndim, int64_t *dims)
{
    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int d = 0; d < r; d++) {
        int ia = d - (r - a->ndim), ib = d - (r - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return shape_mismatch(g, n, a, b, "not broadcastable");
        dims[d] = da == 1 ? db : da;
    }
    *ndim = r;
    n->p.axis.axis = r - b->ndim;
    return DK_OK;
}

/* Opset < 7: B is broadcast onto A (never the reverse) when broadcast=1. */
static dk_status legacy_broadcast(dk_graph *g, dk_node *n, const dk_tensor *a, const dk_tensor *b,
                                  int *ndim, int64_t *dims)
{
    int64_t broadcast, axis;
    DK_TRY(dk__attr_int(g, n, "broadcast", 0, &broadcast));
    DK_TRY(dk__attr_int(g, n, "axis", a->ndim - b->ndim, &axis));
    if (!broadcast) {
        int same = a->ndim == b->ndim;
        for (int d = 0; same && d < a->ndim; d++) same = a->dims[d] == b->dims[d];
        if (!same) return shape_mismatch(g, n, a, b, "shapes differ and broadcast=0");
        axis = 0;
    } else {
        if (axis < 0 && axis >= -a->ndim) axis += a->ndim;
        /* compared without adding to axis, which comes from the file */
        if (axis < 0 || axis > a->ndim - b->ndim)
            return shape_mismatch(g, n, a, b, "legacy broadcast axis places input 1 outside "
                                              "input 0");
        for (int d = 0; d < b->ndim; d++)
            if (b->dims[d] != 1 && b->dims[d] != a->dims[axis + d])
                return shape_mismatch(g, n, a, b, "input 1 does not broadcast onto input 0 at "
                                                  "the legacy axis");
    }
    *ndim = a->ndim;
    for (int d = 0; d < a->ndim; d++) dims[d] = a->dims[d];
    n->p.axis.axis = (int)axis;
    return DK_OK;
}

/* Pow: a float base; the exponent may have another numeric type (ONNX's T1),
 * the output has the base's. Integer bases are refused: their results
 * overflow without a defined wrap-around. */
static dk_status pow_dtypes(dk_graph *g, dk_node *n, const dk_tensor *a, const dk_tensor *b)
{
    if (a->dtype != DK_F32 && a->dtype != DK_F64)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "base (input 0) has element type %s "
                              "(supported: float32, float64)", dk_dtype_name(a->dtype));
    if (!binary_dtype_ok(b->dtype))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "exponent (input 1) has element type %s",
                              dk_dtype_name(b->dtype));
    return DK_OK;
}

dk_status dk__infer_binary(dk_graph *g, dk_node *n)
{
    const dk_tensor *a = dk__in(g, n, 0), *b = dk__in(g, n, 1);
    if (!a || !b) return dk__node_error(g, n, DK_ERR_FORMAT, "needs two inputs");
    if (n->op == DK_OP_POW)
        DK_TRY(pow_dtypes(g, n, a, b));
    else if (a->dtype != b->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 has element type %s but input 1 "
                              "has %s", dk_dtype_name(a->dtype), dk_dtype_name(b->dtype));
    if (!binary_dtype_ok(a->dtype))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "element type %s is not supported",
                              dk_dtype_name(a->dtype));
    if (n->op == DK_OP_PRELU && a->dtype != DK_F32 && a->dtype != DK_F64)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "element type %s (supported: float32, "
                              "float64)", dk_dtype_name(a->dtype));
    int ndim = 0;
    int64_t dims[DK_MAX_DIMS];
    if (n->op == DK_OP_PRELU && n->opset < 7 && b->ndim == 1 && a->ndim >= 2 &&
        b->dims[0] == a->dims[1] && b->dims[0] != 1) {
        /* opset 1 and 6 (Caffe2): a 1-D slope holds one value per channel */
        ndim = a->ndim;
        for (int d = 0; d < ndim; d++) dims[d] = a->dims[d];
        n->p.axis.axis = 1;
    } else if (n->op == DK_OP_PRELU) {
        /* the slope broadcasts onto X, never the reverse */
        DK_TRY(numpy_broadcast(g, n, a, b, &ndim, dims));
        int same = ndim == a->ndim;
        for (int d = 0; same && d < ndim; d++) same = dims[d] == a->dims[d];
        if (!same) return shape_mismatch(g, n, a, b, "slope (input 1) does not broadcast onto X");
    } else if (n->opset >= 7) {
        if (dk_node_attr(n, "broadcast") || dk_node_attr(n, "axis"))
            return dk__node_error(g, n, DK_ERR_FORMAT, "attributes broadcast/axis do not exist "
                                  "in opset %lld", (long long)n->opset);
        DK_TRY(numpy_broadcast(g, n, a, b, &ndim, dims));
    } else {
        DK_TRY(legacy_broadcast(g, n, a, b, &ndim, dims));
    }
    dk__set_out(g, n, 0, a->dtype, ndim, dims);
    n->flops = (double)dk_shape_numel(ndim, dims);
    return DK_OK;
}

/* ---- Sum, Mean, Max, Min ---------------------------------------------------
 * Any number of inputs of one type, broadcast together numpy-style (opset < 8
 * required equal shapes, a special case). Sum and Mean take floats only, as
 * ONNX does; Max and Min also integers (opset 12). FLOPs: one per output
 * element and extra input. */
dk_status dk__infer_variadic(dk_graph *g, dk_node *n)
{
    const dk_tensor *first = dk__in(g, n, 0);
    if (!first) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 is missing");
    const int ints_ok = n->op == DK_OP_MAX || n->op == DK_OP_MIN;
    if (first->dtype != DK_F32 && first->dtype != DK_F64 &&
        (!ints_ok || !binary_dtype_ok(first->dtype)))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s (supported: "
                              "float32, float64%s)", dk_dtype_name(first->dtype),
                              ints_ok ? ", 8- to 64-bit integers" : "");
    int ndim = first->ndim;
    int64_t dims[DK_MAX_DIMS];
    for (int d = 0; d < ndim; d++) dims[d] = first->dims[d];
    for (int i = 1; i < n->n_inputs; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (!t) return dk__node_error(g, n, DK_ERR_FORMAT, "input %d is missing", i);
        if (t->dtype != first->dtype)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d has element type %s but input 0 "
                                  "has %s", i, dk_dtype_name(t->dtype),
                                  dk_dtype_name(first->dtype));
        int r = ndim > t->ndim ? ndim : t->ndim;
        int64_t out[DK_MAX_DIMS];
        for (int d = 0; d < r; d++) {
            int ia = d - (r - ndim), ib = d - (r - t->ndim);
            int64_t da = ia >= 0 ? dims[ia] : 1, db = ib >= 0 ? t->dims[ib] : 1;
            if (da != db && da != 1 && db != 1) {
                char sa[96], sb[96];
                return dk__node_error(g, n, DK_ERR_SHAPE, "input %d has shape %s, not "
                                      "broadcastable with %s (inputs 0 to %d)", i,
                                      dk_shape_str(t->ndim, t->dims, sb, sizeof sb),
                                      dk_shape_str(ndim, dims, sa, sizeof sa), i - 1);
            }
            out[d] = da == 1 ? db : da;
        }
        ndim = r;
        for (int d = 0; d < r; d++) dims[d] = out[d];
    }
    dk__set_out(g, n, 0, first->dtype, ndim, dims);
    n->flops = (double)dk_shape_numel(ndim, dims) * (n->n_inputs > 1 ? n->n_inputs - 1 : 1);
    return DK_OK;
}
