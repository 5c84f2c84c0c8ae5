/* Cast: every element converted to the type named by attribute 'to', between
 * float32, float64, bool and the 8- to 64-bit integers (uint64 aside). The
 * eval is the reference kernel and folds casts of constants at load time
 * (torch's shape arithmetic casts int64 to float and back).
 *
 * Conversions, as numpy's astype on x86 where ONNX leaves them open:
 *   to a float type   rounded to nearest once (int64 -> float32 directly,
 *                     never through double, which would round twice);
 *   float to integer  truncated toward zero, then wrapped to the width like
 *                     any integer (-1.0 -> uint8 255); NaN gives 0, values
 *                     beyond +-2^63 saturate to int64's range first;
 *   integer to integer wrapped to the width (two's complement);
 *   to bool           x != 0 (NaN is true); bool is 0 or 1.
 * FLOPs are 0 (see op_shape.c for the convention). */
#include <math.h>
#include <stdint.h>

#include "layers/op_move.h"

static int cast_dtype_ok(dk_dtype t)
{
    switch (t) {
    case DK_F32: case DK_F64: case DK_BOOL: case DK_U8: case DK_I8: case DK_U16: case DK_I16:
    case DK_U32: case DK_I32: case DK_I64:
        return 1;
    default:
        return 0;
    }
}

#define CAST_TYPES "float32, float64, bool, int8 to int64, uint8 to uint32"

dk_status dk__infer_cast(dk_graph *g, dk_node *n)
{
    const dk_tensor *x;
    DK_TRY(dk__move_input(g, n, 0, &x));
    const dk_attr *a = dk_node_attr(n, "to");
    if (!a) return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'to' is required");
    if (a->type != DK_ATTR_INT)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'to' is not an int (the "
                              "opset 1 string form is not supported)");
    int64_t to;
    DK_TRY(dk__attr_int(g, n, "to", 0, &to));
    if (!cast_dtype_ok(x->dtype))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s (supported: "
                              CAST_TYPES ")", dk_dtype_name(x->dtype));
    if (to < 0 || to > 64 || !cast_dtype_ok((dk_dtype)to))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'to' = %lld (%s) is not "
                              "supported (supported: " CAST_TYPES ")", (long long)to,
                              to >= 0 && to <= 64 ? dk_dtype_name((dk_dtype)to) : "unknown");
    dk__set_out(g, n, 0, (dk_dtype)to, x->ndim, x->dims);
    n->flops = 0;
    return DK_OK;
}

/* An element as either a double (float sources) or an int64 (the others). */
typedef struct cast_value { int is_float; double f; int64_t i; } cast_value;

static cast_value load(const dk_tensor *t, int64_t k)
{
    cast_value v = {0, 0, 0};
    const void *p = t->data;
    switch (t->dtype) {
    case DK_F32: v.is_float = 1, v.f = ((const float *)p)[k]; break;
    case DK_F64: v.is_float = 1, v.f = ((const double *)p)[k]; break;
    case DK_BOOL: v.i = ((const uint8_t *)p)[k] != 0; break;
    case DK_U8: v.i = ((const uint8_t *)p)[k]; break;
    case DK_I8: v.i = ((const int8_t *)p)[k]; break;
    case DK_U16: v.i = ((const uint16_t *)p)[k]; break;
    case DK_I16: v.i = ((const int16_t *)p)[k]; break;
    case DK_U32: v.i = ((const uint32_t *)p)[k]; break;
    case DK_I32: v.i = ((const int32_t *)p)[k]; break;
    case DK_I64: v.i = ((const int64_t *)p)[k]; break;
    default: break;
    }
    return v;
}

/* A float truncated toward zero into int64, NaN 0, saturating beyond. */
static int64_t float_to_int64(double f)
{
    if (isnan(f)) return 0;
    f = trunc(f);
    if (f >= 0x1p63) return INT64_MAX;
    if (f < -0x1p63) return INT64_MIN;
    return (int64_t)f;
}

static void store(dk_tensor *t, int64_t k, cast_value v)
{
    void *p = t->data;
    if (t->dtype == DK_F32) {
        ((float *)p)[k] = v.is_float ? (float)v.f : (float)v.i;
        return;
    }
    if (t->dtype == DK_F64) {
        ((double *)p)[k] = v.is_float ? v.f : (double)v.i;
        return;
    }
    if (t->dtype == DK_BOOL) {
        ((uint8_t *)p)[k] = v.is_float ? v.f != 0 : v.i != 0;
        return;
    }
    uint64_t bits = (uint64_t)(v.is_float ? float_to_int64(v.f) : v.i);
    switch (t->dtype) {
    case DK_U8: case DK_I8: ((uint8_t *)p)[k] = (uint8_t)bits; break;
    case DK_U16: case DK_I16: ((uint16_t *)p)[k] = (uint16_t)bits; break;
    case DK_U32: case DK_I32: ((uint32_t *)p)[k] = (uint32_t)bits; break;
    case DK_I64: ((uint64_t *)p)[k] = bits; break;
    default: break;
    }
}

dk_status dk__eval_cast(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (!cast_dtype_ok(x->dtype) || !cast_dtype_ok(y->dtype) ||
        dk_tensor_numel(x) != dk_tensor_numel(y))
        return dk__eval_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred node");
    const int64_t count = dk_tensor_numel(y);
    for (int64_t k = 0; k < count; k++) store(y, k, load(x, k));
    return DK_OK;
}
