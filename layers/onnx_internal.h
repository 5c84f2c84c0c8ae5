/* Internal: conversion of ONNX protobuf messages into deltakern types. */
#ifndef DK_LAYERS_ONNX_INTERNAL_H
#define DK_LAYERS_ONNX_INTERNAL_H

#include "deltakern/tensor.h"
#include "onnx/onnx.pb-c.h"

/* Largest model or tensor file deltakern reads (protobuf's own 2 GiB limit). */
#define DK_ONNX_MAX_FILE ((size_t)2 << 30)

/* Converts a TensorProto (raw_data or typed fields) into out (name, dtype, shape,
 * data). `context` prefixes error messages ("model.onnx: initializer 'w'"). */
dk_status dk__onnx_tensor_convert(Onnx__TensorProto *tp, const char *context,
                                  dk_tensor *out);

#endif
