/* Reference kernel for the variadic elementwise ops Sum, Mean, Max and Min:
 * any number of inputs, each broadcast (numpy, aligned right) onto the
 * output. Floating point values are combined in double and rounded once;
 * Max and Min compare integers in 64 bits, so every value is exact. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"

/* Element strides of t along each of out's dims, 0 where t is broadcast. */
static void input_strides(const dk_tensor *t, const dk_tensor *out, int64_t *s)
{
    int64_t stride = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
        int k = d - (out->ndim - t->ndim);
        s[d] = k < 0 || t->dims[k] == 1 ? 0 : stride;
        if (k >= 0) stride *= t->dims[k];
    }
}

static int64_t offset_of(const int64_t *s, const dk_tensor *out, int64_t i)
{
    int64_t off = 0;
    for (int d = out->ndim - 1; d >= 0; d--) {
        off += (i % out->dims[d]) * s[d];
        i /= out->dims[d];
    }
    return off;
}

/* NaN wins, as numpy's maximum and minimum propagate it. */
static double combine_float(dk_op op, double acc, double v)
{
    switch (op) {
    case DK_OP_SUM: case DK_OP_MEAN: return acc + v;
    case DK_OP_MAX: return isnan(acc) || v <= acc ? acc : v;
    case DK_OP_MIN: return isnan(acc) || v >= acc ? acc : v;
    default: return NAN;
    }
}

static int int_greater(uint64_t a, uint64_t b, int is_signed)
{
    return is_signed ? (int64_t)a > (int64_t)b : a > b;
}

DK_REF_KERNEL(dk_ref_variadic)
{
    dk_tensor *y = out[0];
    const dk_op op = n->op;
    if (op != DK_OP_SUM && op != DK_OP_MEAN && op != DK_OP_MAX && op != DK_OP_MIN)
        return dk__error(DK_ERR_INTERNAL, "node '%s': dk_ref_variadic called for %s", n->name,
                         dk_op_name(op));
    const int k = n->n_inputs;
    if (k < 1) return dk__error(DK_ERR_SHAPE, "node '%s' (%s): no inputs", n->name, dk_op_name(op));
    const int is_float = y->dtype == DK_F32 || y->dtype == DK_F64;
    for (int j = 0; j < k; j++) {
        const dk_tensor *t = in[j];
        int fits = t && t->dtype == y->dtype && t->ndim <= y->ndim;
        for (int d = 0; fits && d < t->ndim; d++) {
            int64_t td = t->dims[d], od = y->dims[d + y->ndim - t->ndim];
            fits = td == 1 || td == od;
        }
        if (!fits)
            return dk__error(DK_ERR_SHAPE, "node '%s' (%s): input %d does not broadcast to the "
                             "output", n->name, dk_op_name(op), j);
    }
    const int is_int = !dk_dtype_is_float(y->dtype) && y->dtype != DK_BOOL &&
                       (op == DK_OP_MAX || op == DK_OP_MIN);
    if (!is_float && !is_int)
        return dk__error(DK_ERR_UNSUPPORTED, "node '%s' (%s): element type %s", n->name,
                         dk_op_name(op), dk_dtype_name(y->dtype));
    const int64_t count = dk_tensor_numel(y);
    if (count == 0) return DK_OK;
    int64_t *strides = malloc(sizeof(int64_t) * (size_t)k * DK_MAX_DIMS);
    if (!strides) return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name,
                                   dk_op_name(op));
    for (int j = 0; j < k; j++) input_strides(in[j], y, strides + (int64_t)j * DK_MAX_DIMS);
    const int is_signed = dk_dtype_is_signed_int(y->dtype);
#pragma omp parallel for schedule(static) if (count > 65536)
    for (int64_t i = 0; i < count; i++) {
        if (is_float) {
            double acc = dk_tensor_get(in[0], offset_of(strides, y, i));
            for (int j = 1; j < k; j++)
                acc = combine_float(op, acc,
                                    dk_tensor_get(in[j], offset_of(strides + (int64_t)j * DK_MAX_DIMS, y, i)));
            if (op == DK_OP_MEAN) acc /= k;
            dk_tensor_set(y, i, acc);
        } else {
            uint64_t acc = dk_tensor_get_bits(in[0], offset_of(strides, y, i));
            for (int j = 1; j < k; j++) {
                uint64_t v = dk_tensor_get_bits(in[j], offset_of(strides + (int64_t)j * DK_MAX_DIMS, y, i));
                if (op == DK_OP_MAX ? int_greater(v, acc, is_signed) : int_greater(acc, v, is_signed))
                    acc = v;
            }
            dk_tensor_set_bits(y, i, acc);
        }
    }
    free(strides);
    return DK_OK;
}
