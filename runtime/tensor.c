/* Tensor shapes, allocation and dtype-generic element access. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/tensor.h"
#include "runtime/big_alloc.h"
#include "runtime/checked.h"
#include "runtime/error.h"

size_t dk_dtype_size(dk_dtype t)
{
    switch (t) {
    case DK_F32: case DK_I32: case DK_U32: return 4;
    case DK_U8: case DK_I8: case DK_BOOL: return 1;
    case DK_U16: case DK_I16: case DK_F16: return 2;
    case DK_I64: case DK_U64: case DK_F64: return 8;
    case DK_DTYPE_UNDEFINED: break;
    }
    return 0;
}

const char *dk_dtype_name(dk_dtype t)
{
    switch (t) {
    case DK_F32: return "float32";
    case DK_U8: return "uint8";
    case DK_I8: return "int8";
    case DK_U16: return "uint16";
    case DK_I16: return "int16";
    case DK_I32: return "int32";
    case DK_I64: return "int64";
    case DK_BOOL: return "bool";
    case DK_F16: return "float16";
    case DK_F64: return "float64";
    case DK_U32: return "uint32";
    case DK_U64: return "uint64";
    case DK_DTYPE_UNDEFINED: break;
    }
    return "undefined";
}

int dk_dtype_is_float(dk_dtype t) { return t == DK_F32 || t == DK_F64 || t == DK_F16; }

int64_t dk_shape_numel(int ndim, const int64_t *dims)
{
    int64_t n;
    return dk_ck_numel(ndim, dims, &n) ? n : INT64_MAX;
}

int64_t dk_tensor_numel(const dk_tensor *t) { return dk_shape_numel(t->ndim, t->dims); }

size_t dk_tensor_nbytes(const dk_tensor *t)
{
    int64_t numel = dk_tensor_numel(t), bytes;
    if (!dk_ck_mul(numel, (int64_t)dk_dtype_size(t->dtype), &bytes) || (uint64_t)bytes > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)bytes;
}

const char *dk_shape_str(int ndim, const int64_t *dims, char *buf, size_t n)
{
    if (n == 0) return buf;
    if (ndim == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? "x%lld" : "%lld", (long long)dims[i]);
    return buf;
}

dk_status dk_tensor_alloc(dk_tensor *t, dk_dtype dtype, int ndim, const int64_t *dims)
{
    if (ndim < 0 || ndim > DK_MAX_DIMS)
        return dk__error(DK_ERR_UNSUPPORTED, "tensor rank %d exceeds the maximum of %d", ndim,
                         DK_MAX_DIMS);
    size_t esize = dk_dtype_size(dtype);
    if (esize == 0) return dk__error(DK_ERR_UNSUPPORTED, "tensor of undefined element type");
    int64_t numel;
    char shape[160];
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0)
            return dk__error(DK_ERR_SHAPE, "tensor of shape %s: negative dimension %lld at axis %d",
                             dk_shape_str(ndim, dims, shape, sizeof shape), (long long)dims[i], i);
    if (!dk_ck_numel_ok(ndim, dims, &numel))
        return dk__error(DK_ERR_SHAPE, "tensor of shape %s has more than " DK_MAX_LIMIT_STR
                         " elements", dk_shape_str(ndim, dims, shape, sizeof shape));
    free(t->data);
    t->data = NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    /* at least one element (calloc(0) may return NULL); numel <= 2^40, so
     * the product cannot overflow */
    t->data = dk_big_alloc_zeroed((numel > 0 ? (size_t)numel : 1) * esize);
    if (!t->data) return dk__error(DK_ERR_NOMEM, "cannot allocate %lld elements", (long long)numel);
    return DK_OK;
}

dk_status dk_tensor_copy(dk_tensor *dst, const dk_tensor *src)
{
    if (dst == src) return DK_OK;
    dk_tensor_reset(dst);
    if (src->name && !(dst->name = strdup(src->name))) return dk__error(DK_ERR_NOMEM, "out of memory");
    dst->dtype = src->dtype;
    dst->ndim = src->ndim;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
    if (src->data) {
        DK_TRY(dk_tensor_alloc(dst, src->dtype, src->ndim, src->dims));
        memcpy(dst->data, src->data, dk_tensor_nbytes(src));
    }
    return DK_OK;
}

void dk_tensor_reset(dk_tensor *t)
{
    free(t->name);
    free(t->data);
    memset(t, 0, sizeof *t);
}

double dk_tensor_get(const dk_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case DK_F32: return ((const float *)t->data)[i];
    case DK_F64: return ((const double *)t->data)[i];
    case DK_U8: return ((const uint8_t *)t->data)[i];
    case DK_I8: return ((const int8_t *)t->data)[i];
    case DK_U16: return ((const uint16_t *)t->data)[i];
    case DK_I16: return ((const int16_t *)t->data)[i];
    case DK_I32: return ((const int32_t *)t->data)[i];
    case DK_I64: return (double)((const int64_t *)t->data)[i];
    case DK_U32: return ((const uint32_t *)t->data)[i];
    case DK_U64: return (double)((const uint64_t *)t->data)[i];
    case DK_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    case DK_F16: case DK_DTYPE_UNDEFINED: break;
    }
    return NAN;
}

void dk_tensor_set(dk_tensor *t, int64_t i, double v)
{
    switch (t->dtype) {
    case DK_F32: ((float *)t->data)[i] = (float)v; break;
    case DK_F64: ((double *)t->data)[i] = v; break;
    case DK_U8: ((uint8_t *)t->data)[i] = (uint8_t)(int64_t)v; break;
    case DK_I8: ((int8_t *)t->data)[i] = (int8_t)(int64_t)v; break;
    case DK_U16: ((uint16_t *)t->data)[i] = (uint16_t)(int64_t)v; break;
    case DK_I16: ((int16_t *)t->data)[i] = (int16_t)(int64_t)v; break;
    case DK_I32: ((int32_t *)t->data)[i] = (int32_t)(int64_t)v; break;
    case DK_I64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case DK_U32: ((uint32_t *)t->data)[i] = (uint32_t)(int64_t)v; break;
    case DK_U64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    case DK_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    case DK_F16: case DK_DTYPE_UNDEFINED: break;
    }
}

int dk_dtype_is_signed_int(dk_dtype t) { return t == DK_I8 || t == DK_I16 || t == DK_I32 || t == DK_I64; }

uint64_t dk_tensor_get_bits(const dk_tensor *t, int64_t i)
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

void dk_tensor_set_bits(dk_tensor *t, int64_t i, uint64_t v)
{
    switch (t->dtype) {
    case DK_U8: case DK_I8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case DK_U16: case DK_I16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case DK_U32: case DK_I32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case DK_U64: case DK_I64: ((uint64_t *)t->data)[i] = v; break;
    default: break;
    }
}
