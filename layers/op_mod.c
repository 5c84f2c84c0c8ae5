/* Mod: the remainder of a / b, broadcast (numpy rules), at run time and
 * folded at load when both inputs are constants. fmod=1 takes the sign of
 * the dividend (C's fmod and %), fmod=0 the sign of the divisor (Python's %:
 * the integer default; on floats ONNX asks for fmod=1, torch's % on floats
 * is accepted as the same floor remainder). Integers are exact, x mod 0 = 0
 * (the integer Div's convention, op_arith.c); floats are computed in double
 * and rounded once. FLOPs: one per output element. */
#include <math.h>

#include "layers/op_move.h"

dk_status dk__infer_mod(dk_graph *g, dk_node *n)
{
    const dk_tensor *a, *b;
    int64_t fmod_attr, dims[DK_MAX_DIMS];
    int ndim;
    char s[2][96];
    DK_TRY(dk__move_input(g, n, 0, &a));
    DK_TRY(dk__move_input(g, n, 1, &b));
    DK_TRY(dk__attr_int(g, n, "fmod", 0, &fmod_attr));
    if (fmod_attr != 0 && fmod_attr != 1)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'fmod' value %lld is not "
                              "supported (0, 1)", (long long)fmod_attr);
    if (a->dtype != b->dtype)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 has element type %s but input 1 has "
                              "%s", dk_dtype_name(a->dtype), dk_dtype_name(b->dtype));
    if (a->dtype == DK_BOOL || a->dtype == DK_F16)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "element type %s is not supported",
                              dk_dtype_name(a->dtype));
    const int ndims[2] = {a->ndim, b->ndim};
    const int64_t *shapes[2] = {a->dims, b->dims};
    if (!dk__broadcast_shapes(2, ndims, shapes, &ndim, dims))
        return dk__node_error(g, n, DK_ERR_SHAPE, "input shapes %s and %s do not broadcast",
                              dk_shape_str(a->ndim, a->dims, s[0], sizeof s[0]),
                              dk_shape_str(b->ndim, b->dims, s[1], sizeof s[1]));
    n->p.mod.fmod = (int)fmod_attr;
    dk__set_out(g, n, 0, a->dtype, ndim, dims);
    n->flops = (double)dk_shape_numel(ndim, dims);
    return DK_OK;
}

static uint64_t int_mod(uint64_t x, uint64_t y, int is_signed, int c_sign)
{
    if (y == 0) return 0;
    if (!is_signed) return x % y;
    int64_t a = (int64_t)x, b = (int64_t)y;
    if (b == -1) return 0; /* no INT64_MIN % -1 trap */
    int64_t r = a % b;
    if (!c_sign && r != 0 && (r < 0) != (b < 0)) r += b;
    return (uint64_t)r;
}

static double float_mod(double a, double b, int c_sign)
{
    double r = fmod(a, b);
    if (!c_sign && r != 0 && (r < 0) != (b < 0)) r += b;
    return r;
}

dk_status dk__eval_mod(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *y = out[0];
    if (y->dtype != a->dtype || b->dtype != a->dtype || a->ndim > y->ndim || b->ndim > y->ndim)
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const int is_float = dk_dtype_is_float(y->dtype), is_signed = dk_dtype_is_signed_int(y->dtype);
    const int c_sign = n->p.mod.fmod;
    for (int64_t i = 0, numel = dk_tensor_numel(y); i < numel; i++) {
        int64_t ia = dk__broadcast_index(a, y->ndim - a->ndim, y, i);
        int64_t ib = dk__broadcast_index(b, y->ndim - b->ndim, y, i);
        if (is_float)
            dk_tensor_set(y, i, float_mod(dk_tensor_get(a, ia), dk_tensor_get(b, ib), c_sign));
        else
            dk_tensor_set_bits(y, i, int_mod(dk_tensor_get_bits(a, ia), dk_tensor_get_bits(b, ib),
                                             is_signed, c_sign));
    }
    return DK_OK;
}
