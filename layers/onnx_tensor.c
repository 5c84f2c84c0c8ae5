/* ONNX TensorProto -> dk_tensor, from a message or a .pb file. */
#include <stdlib.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "layers/onnx_internal.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/file.h"

/* dk_dtype values equal ONNX TensorProto.DataType values (see tensor.h). */
static int known_dtype(int32_t t)
{
    switch (t) {
    case DK_F32: case DK_U8: case DK_I8: case DK_U16: case DK_I16: case DK_I32:
    case DK_I64: case DK_BOOL: case DK_F16: case DK_F64: case DK_U32: case DK_U64:
        return 1;
    }
    return 0;
}

/* Copies the typed repeated field that holds this dtype's values. */
static dk_status copy_typed(const Onnx__TensorProto *tp, const char *ctx, dk_tensor *t,
                            int64_t numel)
{
    size_t count;
    switch (t->dtype) {
    case DK_F32: count = tp->n_float_data; break;
    case DK_I64: count = tp->n_int64_data; break;
    case DK_F64: count = tp->n_double_data; break;
    case DK_U32: case DK_U64: count = tp->n_uint64_data; break;
    default: count = tp->n_int32_data; break; /* int32, int16, int8, uint16, uint8, bool, float16 */
    }
    if ((int64_t)count != numel)
        return dk__error(DK_ERR_FORMAT, "%s: has %zu values but its shape needs %lld", ctx, count,
                         (long long)numel);
    for (int64_t i = 0; i < numel; i++) {
        switch (t->dtype) {
        case DK_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
        case DK_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
        case DK_F64: ((double *)t->data)[i] = tp->double_data[i]; break;
        case DK_U32: ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i]; break;
        case DK_U64: ((uint64_t *)t->data)[i] = tp->uint64_data[i]; break;
        case DK_I32: ((int32_t *)t->data)[i] = tp->int32_data[i]; break;
        case DK_I16: ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i]; break;
        case DK_U16: case DK_F16: ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i]; break;
        case DK_I8: ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i]; break;
        case DK_U8: case DK_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i]; break;
        case DK_DTYPE_UNDEFINED: break;
        }
    }
    return DK_OK;
}

dk_status dk__onnx_tensor_convert(Onnx__TensorProto *tp, const char *ctx, dk_tensor *out)
{
    memset(out, 0, sizeof *out);
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: external tensor data is not supported", ctx);
    if (tp->segment) return dk__error(DK_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", ctx);
    if (!tp->has_data_type || !known_dtype(tp->data_type))
        return dk__error(DK_ERR_UNSUPPORTED, "%s: element type %d is not supported", ctx,
                         tp->has_data_type ? tp->data_type : 0);
    if (tp->n_dims > DK_MAX_DIMS)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: rank %zu exceeds the maximum of %d", ctx,
                         tp->n_dims, DK_MAX_DIMS);
    int64_t dims[DK_MAX_DIMS], numel;
    char shape[160];
    for (size_t i = 0; i < tp->n_dims; i++) {
        dims[i] = tp->dims[i];
        if (dims[i] < 0)
            return dk__error(DK_ERR_FORMAT, "%s: negative dimension %lld", ctx, (long long)dims[i]);
        if (dims[i] > DK_MAX_DIM)
            return dk__error(DK_ERR_FORMAT, "%s: dimension %lld at axis %zu is out of range (at "
                             "most " DK_MAX_LIMIT_STR ")", ctx, (long long)dims[i], i);
    }
    /* The product of bounded dims can still overflow int64: checked. */
    if (!dk_ck_numel_ok((int)tp->n_dims, dims, &numel))
        return dk__error(DK_ERR_FORMAT, "%s: shape %s has more than " DK_MAX_LIMIT_STR
                         " elements", ctx, dk_shape_str((int)tp->n_dims, dims, shape, sizeof shape));
    /* Check the stored data covers the shape before allocating for it, so a
     * corrupt shape fails as such and not as an enormous allocation. */
    size_t have = tp->has_raw_data ? tp->raw_data.len / dk_dtype_size((dk_dtype)tp->data_type)
                                   : tp->n_float_data + tp->n_int32_data + tp->n_int64_data +
                                         tp->n_double_data + tp->n_uint64_data;
    if ((uint64_t)numel > (uint64_t)have)
        return dk__error(DK_ERR_FORMAT, "%s: holds %zu values but its shape needs %lld", ctx, have,
                         (long long)numel);
    dk_tensor t = {0};
    dk_status s;
    size_t nbytes = (size_t)numel * dk_dtype_size((dk_dtype)tp->data_type);
    if (tp->has_raw_data && tp->raw_data.len == nbytes && nbytes) {
        /* ONNX raw_data is little-endian, as is every machine deltakern
         * targets: the tensor takes the parsed buffer itself (malloc'ed by
         * protobuf-c, aligned for any element type), so a model's weights are
         * never held twice while it loads */
        t.dtype = (dk_dtype)tp->data_type;
        t.ndim = (int)tp->n_dims;
        memcpy(t.dims, dims, sizeof(int64_t) * tp->n_dims);
        t.data = tp->raw_data.data;
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
    } else if ((s = dk_tensor_alloc(&t, (dk_dtype)tp->data_type, (int)tp->n_dims, dims)) != DK_OK) {
        return dk__error_prefix(s, "%s", ctx);
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != nbytes) {
            dk_shape_str(t.ndim, t.dims, shape, sizeof shape);
            dk_tensor_reset(&t);
            return dk__error(DK_ERR_FORMAT, "%s: raw data has %zu bytes but shape %s of %s needs %zu",
                             ctx, tp->raw_data.len, shape, dk_dtype_name((dk_dtype)tp->data_type),
                             nbytes);
        }
    } else if ((s = copy_typed(tp, ctx, &t, numel)) != DK_OK) {
        dk_tensor_reset(&t);
        return s;
    }
    if (tp->name && tp->name[0] && !(t.name = strdup(tp->name))) {
        dk_tensor_reset(&t);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return DK_OK;
}

dk_status dk_onnx_load_tensor_file(const char *path, dk_tensor *out)
{
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    DK_TRY(dk__read_file(path, DK_ONNX_MAX_FILE, &buf, &len));
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) return dk__error(DK_ERR_FORMAT, "%s: not a valid ONNX TensorProto (protobuf parse failed)", path);
    dk_status s = dk__onnx_tensor_convert(tp, path, out);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return s;
}
