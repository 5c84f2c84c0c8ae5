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
    const int is_signed = dk_dtype_is_signed_int(y->dtype);
    for (int64_t i = 0, numel = dk_tensor_numel(y); i < numel; i++) {
        int64_t ia = dk__broadcast_index(a, first_a, y, i), ib = dk__broadcast_index(b, first_b, y, i);
        if (is_float)
            dk_tensor_set(y, i, float_op(n->op, dk_tensor_get(a, ia), dk_tensor_get(b, ib)));
        else
            dk_tensor_set_bits(y, i, int_op(n->op, dk_tensor_get_bits(a, ia), dk_tensor_get_bits(b, ib), is_signed));
    }
    return DK_OK;
}
