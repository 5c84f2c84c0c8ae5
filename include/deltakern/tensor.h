/* deltakern — tensors: element type, shape and (optionally) data.
 *
 * Ownership: a dk_tensor owns its `name` and `data`; dk_tensor_reset() frees
 * both. Tensors are plain structs, copied with dk_tensor_copy(), never by
 * assignment when they own data. */
#ifndef DELTAKERN_TENSOR_H
#define DELTAKERN_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DK_MAX_DIMS 8

/* Values follow ONNX TensorProto.DataType so conversion is a table lookup. */
typedef enum dk_dtype {
    DK_DTYPE_UNDEFINED = 0,
    DK_F32 = 1,
    DK_U8 = 2,
    DK_I8 = 3,
    DK_U16 = 4,
    DK_I16 = 5,
    DK_I32 = 6,
    DK_I64 = 7,
    DK_BOOL = 9,
    DK_F16 = 10,
    DK_F64 = 11,
    DK_U32 = 12,
    DK_U64 = 13
} dk_dtype;

typedef struct dk_tensor {
    char *name;                  /* owned, may be NULL */
    dk_dtype dtype;
    int ndim;                    /* 0 for a scalar */
    int64_t dims[DK_MAX_DIMS];
    void *data;                  /* owned, NULL when only the shape is known */
} dk_tensor;

size_t dk_dtype_size(dk_dtype t);           /* 0 for unknown types */
const char *dk_dtype_name(dk_dtype t);      /* "float32", "int64", ... */
int dk_dtype_is_float(dk_dtype t);

/* Element counts: INT64_MAX when a dim is negative or the product overflows
 * (a hostile shape never wraps into a small count). */
int64_t dk_shape_numel(int ndim, const int64_t *dims);
int64_t dk_tensor_numel(const dk_tensor *t);
/* Bytes of the data: SIZE_MAX when that does not fit in size_t. */
size_t dk_tensor_nbytes(const dk_tensor *t);

/* Formats a shape as "1x3x224x224" ("scalar" for ndim 0) into buf. */
const char *dk_shape_str(int ndim, const int64_t *dims, char *buf, size_t n);

/* Sets dtype and shape and allocates zeroed data. Frees previous data.
 * Refuses negative dims and more than 2^40 elements (runtime/checked.h). */
dk_status dk_tensor_alloc(dk_tensor *t, dk_dtype dtype, int ndim, const int64_t *dims);
/* Deep copy (name, shape and data) of src into dst (dst is reset first). */
dk_status dk_tensor_copy(dk_tensor *dst, const dk_tensor *src);
/* Frees name and data and zeroes the struct. */
void dk_tensor_reset(dk_tensor *t);

/* Element access with conversion, for dtype-generic code paths. */
double dk_tensor_get(const dk_tensor *t, int64_t i);
void dk_tensor_set(dk_tensor *t, int64_t i, double v);
/* Integer element i exactly, sign- or zero-extended to 64 bits (dk_tensor_get's
 * double is inexact beyond 2^53); 0 for non-integer types. */
uint64_t dk_tensor_get_bits(const dk_tensor *t, int64_t i);
/* Stores the low bits of v into integer element i (two's-complement wrap). */
void dk_tensor_set_bits(dk_tensor *t, int64_t i, uint64_t v);
/* Is t a signed integer type (int8 to int64)? */
int dk_dtype_is_signed_int(dk_dtype t);

#ifdef __cplusplus
}
#endif
#endif
