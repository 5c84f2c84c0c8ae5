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

/* Graph input vi's dtype and static shape into t (layers/onnx_inputs.c):
 * symbolic dimensions from opts' shapes or fill (first: vi is the first
 * graph input), a symbolic batch set to 1 with a note, others an error. */
dk_status dk__onnx_input_type(const char *path, const Onnx__ValueInfoProto *vi, const dk_onnx_options *opts,
                              int first, dk_tensor *t);
/* Every shape in opts names one of gp's inputs that is no initializer (those
 * already in g), else an error listing them. */
dk_status dk__onnx_check_shape_names(const char *path, const Onnx__GraphProto *gp, const dk_graph *g,
                                     const dk_onnx_options *opts);

#endif
