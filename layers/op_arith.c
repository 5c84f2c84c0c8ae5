/* Add, Sub, Mul, Div and Pow evaluated at load time, when both operands are
 * constants: the shape arithmetic exporters emit between Shape and Slice or
 * Reshape (ShuffleNetV2's channel split, Shape -> Gather -> Div -> Mul ->
 * Slice; torch's multi-head attention, the same for q, k and v). At run time
 * these ops go to the kernels; this eval computes what the reference kernel
 * (kernels/ref/ref_eltwise.c, a floor above) does: floats in double rounded
 * once to the output type, integers wrapping modulo 2^bits with truncating
 * division and x / 0 = 0, Pow's exponent of any numeric type. */
#include <math.h>

#include "layers/op_move.h"

static int is_signed_int(dk_dtype t)
{
    return t == DK_I8 || t == DK_I16 || t == DK_I32 || t == DK_I64;
}

/* Integer element i, sign- or zero-extended to 64 bits: exact, unlike
 * dk_tensor_get's double for int64 beyond 2^53. */
static uint64_t load_int(const dk_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case DK_U8: return ((const uint8_t *)t->data)[i];
    case DK_I8: return (uint64_t)(int64_t)((const int8_t *)t->data)[i];
    case DK_U16: return ((const uint16_t *)t->data)[i];
    case DK_I16: return (uint64_t)(int64_t)((const int16_t *)t->data)[i];
    case DK_U32: return ((const uint32_t *)t->data)[i];
    case DK_I32: return (uint64_t)(int64_t)((const int32_t *)t->data)[i];
    case DK_U64: return ((const uint64_t *)t->data)[i];
    case DK_I64: return (uint64_t)((const int64_t *)t->data)[i];
    default: return 0;
    }
}

/* Stores the low bits of v (two's complement wrap-around). */
static void store_int(dk_tensor *t, int64_t i, uint64_t v)
{
    switch (dk_dtype_size(t->dtype)) {
    case 1: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case 2: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case 4: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    default: ((uint64_t *)t->data)[i] = v; break;
    }
}

static uint64_t int_op(dk_op op, uint64_t x, uint64_t y, int is_signed)
{
    switch (op) {
    case DK_OP_ADD: return x + y;
    case DK_OP_SUB: return x - y;
    case DK_OP_MUL: return x * y;
    default: /* DK_OP_DIV */
        if (y == 0) return 0;
        if (!is_signed) return x / y;
        if ((int64_t)y == -1) return 0 - x; /* no INT64_MIN / -1 trap */
        return (uint64_t)((int64_t)x / (int64_t)y);
    }
}

static double float_op(dk_op op, double x, double y)
{
    switch (op) {
    case DK_OP_ADD: return x + y;
    case DK_OP_SUB: return x - y;
    case DK_OP_MUL: return x * y;
    case DK_OP_DIV: return x / y;
    default: return pow(x, y);
    }
}

dk_status dk__eval_arith(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *y = out[0];
    const int first_a = y->ndim - a->ndim, first_b = n->p.axis.axis;
    if (y->dtype != a->dtype || first_a < 0 || first_b < 0 || first_b + b->ndim > y->ndim ||
        (b->dtype != a->dtype && n->op != DK_OP_POW))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const int is_float = dk_dtype_is_float(y->dtype);
    if ((is_float && y->dtype != DK_F32 && y->dtype != DK_F64) ||
        (!is_float && n->op == DK_OP_POW))
        return dk__eval_error(n, DK_ERR_UNSUPPORTED, "element type %s",
                              dk_dtype_name(y->dtype));
    const int is_signed = is_signed_int(y->dtype);
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) {
        int64_t ia = dk__broadcast_index(a, first_a, y, i), ib = dk__broadcast_index(b, first_b, y, i);
        if (is_float)
            dk_tensor_set(y, i, float_op(n->op, dk_tensor_get(a, ia), dk_tensor_get(b, ib)));
        else
            store_int(y, i, int_op(n->op, load_int(a, ia), load_int(b, ib), is_signed));
    }
    return DK_OK;
}
