/* Internal: conversion of ONNX protobuf messages into deltakern types. */
#ifndef DK_LAYERS_ONNX_INTERNAL_H
#define DK_LAYERS_ONNX_INTERNAL_H

#include "deltakern/tensor.h"
#include "deltakern/onnx.h"
#include "onnx/onnx.pb-c.h"

/* Largest model or tensor file deltakern reads (protobuf's own 2 GiB limit). */
#define DK_ONNX_MAX_FILE ((size_t)2 << 30)

/* Converts a TensorProto (raw_data or typed fields) into out (name, dtype, shape,
 * data). `context` prefixes error messages ("model.onnx: initializer 'w'"). */
dk_status dk__onnx_tensor_convert(Onnx__TensorProto *tp, const char *context,
                                  dk_tensor *out);

/* Is d the default ONNX domain ("" or "ai.onnx")? */
int dk__onnx_default_domain(const char *d);
/* The graph's unsupported op types (layers/onnx_gaps.c); *out: free(). */
dk_status dk__onnx_gaps(const Onnx__GraphProto *gp, dk_onnx_gap **out, int *n);
/* One error naming every gap, for the model at path. */
dk_status dk__onnx_gaps_error(const char *path, const dk_onnx_gap *g, int n);

#endif
