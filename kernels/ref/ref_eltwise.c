/* Reference kernels for the elementwise ops: activations, Clip, Abs, Floor,
 * Ceil, Reciprocal and the libm functions Sqrt, Erf, Tanh, Exp, Log
 * (dk_ref_unary), Add/Sub/Mul/Div/Pow and PRelu with
 * broadcasting (dk_ref_binary). Floating point values are computed in double and rounded once to the
 * output type; integer arithmetic wraps modulo 2^bits like numpy. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"

/* ---- activations and Clip ------------------------------------------ */

static inline double clamp(double x, double lo, double hi)
{
    /* NaN passes through; two selects, which compile to maxsd/minsd */
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Softplus log(1 + e^x) without overflow or cancellation: for x > 0 it is
 * x + log(1 + e^-x), and log1p keeps the tiny values of large negative x. */
static inline double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Elu: expm1 keeps the relative accuracy of alpha (e^x - 1) near 0. */
static inline double elu(double alpha, double x)
{
    return x < 0 ? alpha * expm1(x) : x;
}

static inline double activate(dk_op op, const dk_act_params *p, double x)
{
    switch (op) {
    case DK_OP_RELU: return x < 0 ? 0 : x;
    case DK_OP_LEAKYRELU: return x < 0 ? (double)p->alpha * x : x;
    case DK_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case DK_OP_HARDSIGMOID: return clamp((double)p->alpha * x + (double)p->beta, 0.0, 1.0);
    case DK_OP_HARDSWISH: return x * clamp(x / 6.0 + 0.5, 0.0, 1.0);
    case DK_OP_CLIP: return clamp(x, (double)p->min, (double)p->max);
    case DK_OP_NEG: return -x;
    case DK_OP_SQRT: return sqrt(x);
    case DK_OP_ERF: return erf(x);
    case DK_OP_TANH: return tanh(x);
    case DK_OP_ABS: return fabs(x);
    case DK_OP_EXP: return exp(x);
    case DK_OP_LOG: return log(x);
    case DK_OP_RECIPROCAL: return 1.0 / x;
    case DK_OP_FLOOR: return floor(x);
    case DK_OP_CEIL: return ceil(x);
    case DK_OP_SOFTPLUS: return softplus(x);
    case DK_OP_ELU: return elu((double)p->alpha, x);
    default: return NAN;
    }
}

static int is_unary_op(dk_op op)
{
    return op == DK_OP_RELU || op == DK_OP_LEAKYRELU || op == DK_OP_SIGMOID ||
           op == DK_OP_HARDSIGMOID || op == DK_OP_HARDSWISH || op == DK_OP_CLIP || op == DK_OP_NEG ||
           op == DK_OP_SQRT || op == DK_OP_ERF || op == DK_OP_TANH || op == DK_OP_ABS ||
           op == DK_OP_EXP || op == DK_OP_LOG || op == DK_OP_RECIPROCAL || op == DK_OP_FLOOR ||
           op == DK_OP_CEIL || op == DK_OP_SOFTPLUS || op == DK_OP_ELU;
}

/* float32 on a span: one loop per op with the parameters in locals. The
 * constants 0 and 1 arrive as run-time values (read through a volatile by
 * the caller): with literals gcc turns the selects into branches on the
 * sign, mispredicted half the time and about 9x slower than maxsd/minsd.
 * Clip compares in float, which is exact (no arithmetic) and also
 * branch-free. */
static void unary_span_f32(dk_op op, const dk_act_params *p, double zero, double one,
                           const float *restrict x, float *restrict y, int64_t count)
{
    const double alpha = p->alpha, beta = p->beta;
    const float lo = p->min, hi = p->max;
    switch (op) {
    case DK_OP_RELU: {
        const float fzero = (float)zero; /* exact in float: no arithmetic */
        for (int64_t i = 0; i < count; i++) {
            const float v = x[i];
            y[i] = v < fzero ? fzero : v;
        }
        break;
    }
    case DK_OP_LEAKYRELU:
        /* max(v, 0) + alpha * min(v, 0): the same value as the select
         * v < 0 ? alpha*v : v (NaN included), without a branch */
        for (int64_t i = 0; i < count; i++) {
            const double v = x[i];
            const double pos = v < zero ? zero : v, neg = v > zero ? zero : v;
            y[i] = (float)(pos + alpha * neg);
        }
        break;
    case DK_OP_SIGMOID:
        for (int64_t i = 0; i < count; i++) y[i] = (float)(one / (one + exp(-(double)x[i])));
        break;
    case DK_OP_HARDSIGMOID:
        for (int64_t i = 0; i < count; i++) y[i] = (float)clamp(alpha * x[i] + beta, zero, one);
        break;
    case DK_OP_HARDSWISH:
        for (int64_t i = 0; i < count; i++) {
            const double v = x[i];
            y[i] = (float)(v * clamp(v / 6.0 + 0.5, zero, one));
        }
        break;
    case DK_OP_CLIP:
        for (int64_t i = 0; i < count; i++) {
            float v = x[i];
            v = v < lo ? lo : v;
            y[i] = v > hi ? hi : v;
        }
        break;
    case DK_OP_NEG: /* a sign flip: exact */
        for (int64_t i = 0; i < count; i++) y[i] = -x[i];
        break;
    /* libm in double, rounded once: within an ulp of float32's exact value */
    case DK_OP_SQRT:
        for (int64_t i = 0; i < count; i++) y[i] = (float)sqrt((double)x[i]);
        break;
    case DK_OP_ERF:
        for (int64_t i = 0; i < count; i++) y[i] = (float)erf((double)x[i]);
        break;
    case DK_OP_TANH:
        for (int64_t i = 0; i < count; i++) y[i] = (float)tanh((double)x[i]);
        break;
    case DK_OP_EXP:
        for (int64_t i = 0; i < count; i++) y[i] = (float)exp((double)x[i]);
        break;
    case DK_OP_LOG:
        for (int64_t i = 0; i < count; i++) y[i] = (float)log((double)x[i]);
        break;
    case DK_OP_SOFTPLUS:
        for (int64_t i = 0; i < count; i++) y[i] = (float)softplus((double)x[i]);
        break;
    case DK_OP_ELU:
        for (int64_t i = 0; i < count; i++) y[i] = (float)elu(alpha, (double)x[i]);
        break;
    /* exact in float32: no rounding happens (1/x is rounded once from double,
     * which equals float32's correctly rounded quotient as 53 >= 2*24 + 2) */
    case DK_OP_ABS:
        for (int64_t i = 0; i < count; i++) y[i] = fabsf(x[i]);
        break;
    case DK_OP_FLOOR:
        for (int64_t i = 0; i < count; i++) y[i] = floorf(x[i]);
        break;
    case DK_OP_CEIL:
        for (int64_t i = 0; i < count; i++) y[i] = ceilf(x[i]);
        break;
    case DK_OP_RECIPROCAL:
        for (int64_t i = 0; i < count; i++) y[i] = (float)(one / (double)x[i]);
        break;
    default:
        break;
    }
}

#define UNARY_SPAN 16384

static void unary_f32(dk_op op, const dk_act_params *p, const float *x, float *y, int64_t count)
{
    static volatile double volatile_zero = 0.0, volatile_one = 1.0;
    const double zero = volatile_zero, one = volatile_one;
    const int64_t spans = (count + UNARY_SPAN - 1) / UNARY_SPAN;
#pragma omp parallel for schedule(static) if (spans > 4)
    for (int64_t s = 0; s < spans; s++) {
        int64_t begin = s * UNARY_SPAN;
        int64_t len = count - begin < UNARY_SPAN ? count - begin : UNARY_SPAN;
        unary_span_f32(op, p, zero, one, x + begin, y + begin, len);
    }
}

/* Clip's bounds: inputs 1 and 2 when given (the params hold NaN for a bound
 * known only at run time), else the decoded params. */
static dk_status clip_bounds(const dk_node *n, const dk_tensor *const *in, dk_act_params *p)
{
    float *bound[2] = {&p->min, &p->max};
    for (int i = 1; i <= 2; i++) {
        const dk_tensor *t = n->n_inputs > i ? in[i] : NULL;
        if (t) {
            if (dk_tensor_numel(t) != 1 || t->dtype != in[0]->dtype || !t->data)
                return dk__error(DK_ERR_SHAPE, "node '%s' (Clip): input %d must be a scalar of "
                                 "the input's type", n->name, i);
            *bound[i - 1] = (float)dk_tensor_get(t, 0);
        }
        if (isnan(*bound[i - 1]))
            return dk__error(DK_ERR_INVALID, "node '%s' (Clip): %s bound is NaN", n->name,
                             i == 1 ? "min" : "max");
    }
    return DK_OK;
}

DK_REF_KERNEL(dk_ref_unary)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    if (!is_unary_op(n->op))
        return dk__error(DK_ERR_INTERNAL, "node '%s': dk_ref_unary called for %s", n->name,
                         dk_op_name(n->op));
    if (x->dtype != y->dtype || dk_tensor_numel(x) != dk_tensor_numel(y))
        return dk__error(DK_ERR_SHAPE, "node '%s' (%s): output does not match input", n->name,
                         dk_op_name(n->op));
    dk_act_params p = n->p.act;
    if (n->op == DK_OP_CLIP) DK_TRY(clip_bounds(n, in, &p));
    int64_t count = dk_tensor_numel(x);
    if (x->dtype == DK_F32) {
        unary_f32(n->op, &p, x->data, y->data, count);
        return DK_OK;
    }
    /* float64 and the small integer types of Clip: exact through double (Clip's
     * bounds are values of the type, so no rounding happens). */
    for (int64_t i = 0; i < count; i++) dk_tensor_set(y, i, activate(n->op, &p, dk_tensor_get(x, i)));
    return DK_OK;
}

/* ---- binary ops with broadcasting -------------------------------------- */
/* Pow's exponent may have a type of its own (float base, integer exponent):
 * that case reads it through dk_tensor_get, exact up to 2^53. */

/* Output dims and, per operand, the element stride along each output dim
 * (0 where the operand is broadcast), after merging adjacent dims that are
 * contiguous for both operands: a same-shape Add becomes one row, a
 * per-channel 1xCx1x1 Mul on NxCxHxW becomes N*C rows of H*W elements. */
typedef struct bcast {
    int ndim;
    int64_t dims[DK_MAX_DIMS];
    int64_t sa[DK_MAX_DIMS], sb[DK_MAX_DIMS];
} bcast;

/* Strides of operand t whose dim 0 sits at output dim `first`. */
static void operand_strides(const dk_tensor *t, int first, const dk_tensor *o, int64_t *s)
{
    int64_t stride = 1;
    for (int d = o->ndim - 1; d >= 0; d--) {
        int k = d - first;
        if (k < 0 || k >= t->ndim) {
            s[d] = 0;
            continue;
        }
        s[d] = t->dims[k] == 1 ? 0 : stride;
        stride *= t->dims[k];
    }
}

static dk_status bcast_init(const dk_node *n, const dk_tensor *a, const dk_tensor *b,
                            const dk_tensor *o, bcast *bc)
{
    int first_b = n->p.axis.axis, first_a = o->ndim - a->ndim;
    if (first_a < 0 || first_b < 0 || first_b + b->ndim > o->ndim)
        return dk__error(DK_ERR_SHAPE, "node '%s' (%s): operands do not fit the output rank %d",
                         n->name, dk_op_name(n->op), o->ndim);
    for (int d = 0; d < o->ndim; d++) {
        int ka = d - first_a, kb = d - first_b;
        int64_t da = ka >= 0 ? a->dims[ka] : 1;
        int64_t db = kb >= 0 && kb < b->ndim ? b->dims[kb] : 1;
        if ((da != 1 && da != o->dims[d]) || (db != 1 && db != o->dims[d]))
            return dk__error(DK_ERR_SHAPE, "node '%s' (%s): operands do not broadcast to the "
                             "output along dim %d", n->name, dk_op_name(n->op), d);
    }
    int64_t sa[DK_MAX_DIMS], sb[DK_MAX_DIMS];
    operand_strides(a, first_a, o, sa);
    operand_strides(b, first_b, o, sb);
    /* Drop size-1 dims, then merge each dim into the one before it when both
     * operands step through it contiguously. */
    bc->ndim = 0;
    for (int d = 0; d < o->ndim; d++) {
        if (o->dims[d] == 1) continue;
        int m = bc->ndim - 1;
        if (m >= 0 && bc->sa[m] == sa[d] * o->dims[d] && bc->sb[m] == sb[d] * o->dims[d]) {
            bc->dims[m] *= o->dims[d];
            bc->sa[m] = sa[d];
            bc->sb[m] = sb[d];
            continue;
        }
        bc->dims[bc->ndim] = o->dims[d];
        bc->sa[bc->ndim] = sa[d];
        bc->sb[bc->ndim] = sb[d];
        bc->ndim++;
    }
    if (bc->ndim == 0) { /* a scalar result */
        bc->ndim = 1;
        bc->dims[0] = 1;
        bc->sa[0] = bc->sb[0] = 0;
    }
    return DK_OK;
}

/* Element offsets of A and B for row r (all dims but the last). */
static void row_offsets(const bcast *bc, int64_t r, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int d = bc->ndim - 2; d >= 0; d--) {
        int64_t i = r % bc->dims[d];
        r /= bc->dims[d];
        a += i * bc->sa[d];
        b += i * bc->sb[d];
    }
    *oa = a;
    *ob = b;
}

/* One row of a floating point op; the stride cases are spelled out so that
 * the contiguous ones vectorise. */
#define FLOAT_ROW_LOOP(T, EXPR)                                                            \
    do {                                                                                   \
        if (sa == 1 && sb == 1)                                                            \
            for (int64_t i = 0; i < len; i++) {                                            \
                double x = a[i], y = b[i];                                                 \
                o[i] = (T)(EXPR);                                                          \
            }                                                                              \
        else if (sa == 1 && sb == 0) {                                                     \
            double y = b[0];                                                               \
            for (int64_t i = 0; i < len; i++) {                                            \
                double x = a[i];                                                           \
                o[i] = (T)(EXPR);                                                          \
            }                                                                              \
        } else if (sa == 0 && sb == 1) {                                                   \
            double x = a[0];                                                               \
            for (int64_t i = 0; i < len; i++) {                                            \
                double y = b[i];                                                           \
                o[i] = (T)(EXPR);                                                          \
            }                                                                              \
        } else                                                                             \
            for (int64_t i = 0; i < len; i++) {                                            \
                double x = a[i * sa], y = b[i * sb];                                       \
                o[i] = (T)(EXPR);                                                          \
            }                                                                              \
    } while (0)

#define DEFINE_FLOAT_ROW(NAME, T)                                                          \
    static void NAME(dk_op op, const T *a, int64_t sa, const T *b, int64_t sb, T *o,       \
                     int64_t len)                                                          \
    {                                                                                      \
        switch (op) {                                                                      \
        case DK_OP_ADD: FLOAT_ROW_LOOP(T, x + y); break;                                   \
        case DK_OP_SUB: FLOAT_ROW_LOOP(T, x - y); break;                                   \
        case DK_OP_MUL: FLOAT_ROW_LOOP(T, x * y); break;                                   \
        case DK_OP_DIV: FLOAT_ROW_LOOP(T, x / y); break;                                   \
        case DK_OP_POW: FLOAT_ROW_LOOP(T, pow(x, y)); break;                               \
        case DK_OP_PRELU: FLOAT_ROW_LOOP(T, x < 0 ? x * y : x); break;                     \
        default: break;                                                                    \
        }                                                                                  \
    }

DEFINE_FLOAT_ROW(row_f32, float)
DEFINE_FLOAT_ROW(row_f64, double)

/* Integers: loaded into 64 bits (sign- or zero-extended), computed with
 * unsigned wrap-around for + - * and truncating division, stored back
 * truncated to the type's width (two's complement, as numpy does). */
static int dtype_is_signed(dk_dtype t)
{
    return t == DK_I8 || t == DK_I16 || t == DK_I32 || t == DK_I64;
}

static uint64_t load_int(dk_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case DK_U8: return ((const uint8_t *)p)[i];
    case DK_I8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
    case DK_U16: return ((const uint16_t *)p)[i];
    case DK_I16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
    case DK_U32: return ((const uint32_t *)p)[i];
    case DK_I32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
    case DK_U64: return ((const uint64_t *)p)[i];
    case DK_I64: return (uint64_t)((const int64_t *)p)[i];
    default: return 0;
    }
}

static void store_int(dk_dtype t, void *p, int64_t i, uint64_t v)
{
    switch (t) {
    case DK_U8: case DK_I8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case DK_U16: case DK_I16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case DK_U32: case DK_I32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case DK_U64: case DK_I64: ((uint64_t *)p)[i] = v; break;
    default: break;
    }
}

/* Division by zero gives 0, as numpy does for integers. */
static uint64_t int_div(uint64_t x, uint64_t y, int is_signed)
{
    if (y == 0) return 0;
    if (!is_signed) return x / y;
    int64_t sx = (int64_t)x, sy = (int64_t)y;
    if (sy == -1) return 0 - x; /* avoids INT64_MIN / -1; wraps like numpy */
    return (uint64_t)(sx / sy);
}

static uint64_t int_op(dk_op op, uint64_t x, uint64_t y, int is_signed)
{
    switch (op) {
    case DK_OP_ADD: return x + y;
    case DK_OP_SUB: return x - y;
    case DK_OP_MUL: return x * y;
    case DK_OP_DIV: return int_div(x, y, is_signed);
    default: return 0;
    }
}

static void row_int(dk_op op, dk_dtype t, const void *a, int64_t oa, int64_t sa, const void *b,
                    int64_t ob, int64_t sb, void *o, int64_t oo, int64_t len)
{
    int is_signed = dtype_is_signed(t);
    for (int64_t i = 0; i < len; i++)
        store_int(t, o, oo + i,
                  int_op(op, load_int(t, a, oa + i * sa), load_int(t, b, ob + i * sb), is_signed));
}

/* Pow with an exponent of another type: a float base, read and written in double. */
static void row_pow_mixed(const dk_tensor *a, int64_t oa, int64_t sa, const dk_tensor *b,
                          int64_t ob, int64_t sb, dk_tensor *o, int64_t oo, int64_t len)
{
    for (int64_t i = 0; i < len; i++)
        dk_tensor_set(o, oo + i, pow(dk_tensor_get(a, oa + i * sa), dk_tensor_get(b, ob + i * sb)));
}

#define BINARY_PIECE 16384

static int is_binary_op(dk_op op)
{
    return op == DK_OP_ADD || op == DK_OP_SUB || op == DK_OP_MUL || op == DK_OP_DIV ||
           op == DK_OP_POW || op == DK_OP_PRELU;
}

DK_REF_KERNEL(dk_ref_binary)
{
    const dk_tensor *a = in[0], *b = in[1];
    dk_tensor *o = out[0];
    if (!is_binary_op(n->op))
        return dk__error(DK_ERR_INTERNAL, "node '%s': dk_ref_binary called for %s", n->name,
                         dk_op_name(n->op));
    const int mixed = b->dtype != o->dtype; /* only Pow's exponent may differ */
    if (a->dtype != o->dtype || (mixed && n->op != DK_OP_POW))
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (%s): mixed element types %s, %s -> %s",
                         n->name, dk_op_name(n->op), dk_dtype_name(a->dtype),
                         dk_dtype_name(b->dtype), dk_dtype_name(o->dtype));
    if (dk_tensor_numel(o) == 0) return DK_OK;
    bcast bc;
    DK_TRY(bcast_init(n, a, b, o, &bc));
    const int64_t len = bc.dims[bc.ndim - 1];
    const int64_t sa = bc.sa[bc.ndim - 1], sb = bc.sb[bc.ndim - 1];
    const int64_t rows = dk_tensor_numel(o) / len;
    const dk_op op = n->op;
    const dk_dtype t = o->dtype;
    if (t != DK_F32 && t != DK_F64 && (dk_dtype_is_float(t) || op == DK_OP_POW || op == DK_OP_PRELU))
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (%s): element type %s", n->name,
                         dk_op_name(op), dk_dtype_name(t));
    /* Work items are pieces of at most BINARY_PIECE elements of a row, so a
     * single long row (same-shape Add) is shared between threads too. */
    const int64_t pieces_per_row = (len + BINARY_PIECE - 1) / BINARY_PIECE;
    const int64_t pieces = rows * pieces_per_row;
#pragma omp parallel for schedule(static) if (pieces > 1 && rows * len > 65536)
    for (int64_t w = 0; w < pieces; w++) {
        const int64_t r = w / pieces_per_row, j = (w % pieces_per_row) * BINARY_PIECE;
        const int64_t cnt = len - j < BINARY_PIECE ? len - j : BINARY_PIECE;
        int64_t oa, ob;
        row_offsets(&bc, r, &oa, &ob);
        oa += j * sa;
        ob += j * sb;
        const int64_t oo = r * len + j;
        if (mixed)
            row_pow_mixed(a, oa, sa, b, ob, sb, o, oo, cnt);
        else if (t == DK_F32)
            row_f32(op, (const float *)a->data + oa, sa, (const float *)b->data + ob, sb,
                    (float *)o->data + oo, cnt);
        else if (t == DK_F64)
            row_f64(op, (const double *)a->data + oa, sa, (const double *)b->data + ob, sb,
                    (double *)o->data + oo, cnt);
        else
            row_int(op, t, a->data, oa, sa, b->data, ob, sb, o->data, oo, cnt);
    }
    return DK_OK;
}
