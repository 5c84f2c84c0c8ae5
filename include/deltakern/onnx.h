/* deltakern — loading ONNX models and tensors.
 *
 * Ownership: on success *out belongs to the caller (dk_graph_destroy /
 * dk_tensor_reset). On failure nothing is allocated and dk_last_error() says
 * what and why, naming the file and, where relevant, the node. */
#ifndef DELTAKERN_ONNX_H
#define DELTAKERN_ONNX_H

#include "deltakern/graph.h"
#include "deltakern/status.h"
#include "deltakern/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loads an ONNX model (opsets 7 to 17; older ones where their semantics are
 * handled), infers shapes, folds constants and removes Identity/Dropout. */
dk_status dk_onnx_load(const char *path, dk_graph **out);

/* As dk_onnx_load, but graph inputs named like one of the `n` tensors in
 * `bound` become constants with that data (dtype and shape must agree with the
 * model's declaration). This freezes inputs that determine shapes (Reshape's
 * shape, Pad's pads, Squeeze's axes fed at run time), the way TVM's
 * freeze_params does, so that the graph gets static shapes. */
dk_status dk_onnx_load_bound(const char *path, const dk_tensor *bound, int n, dk_graph **out);

/* A shape given for a graph input by name ("x=1x3x48x320" on the command
 * line): it fixes the input's symbolic dimensions. Its rank must be the
 * model's and it must agree with every static dimension of the declaration. */
typedef struct dk_input_shape {
    char name[256];
    int ndim;
    int64_t dims[DK_MAX_DIMS];
} dk_input_shape;

/* Parses "NAME=D1xD2x...xDn" (name up to the last '='; each D a decimal
 * integer from 1 to 2^40, at most DK_MAX_DIMS of them). DK_ERR_INVALID with a
 * message quoting the text when it is malformed. */
dk_status dk_input_shape_parse(const char *text, dk_input_shape *out);

/* How dk_onnx_load_with loads; zero-initialised means as dk_onnx_load. */
typedef struct dk_onnx_options {
    const dk_input_shape *shapes; /* graph inputs' shapes; a name that is no graph input is an error */
    int n_shapes;
    /* Fills only the symbolic dimensions of one graph input (name "" or none:
     * the first), e.g. from the tensor file it will be fed; ignored when the
     * rank differs or a shape above names that input. */
    const dk_input_shape *fill;
    const dk_tensor *bound; /* as dk_onnx_load_bound */
    int n_bound;
    /* Called with one line (no newline) for each thing worth a note, e.g. a
     * symbolic batch dimension set to 1; NULL: no notes. */
    void (*note)(const char *line, void *ctx);
    void *note_ctx;
} dk_onnx_options;

/* As dk_onnx_load, with options (NULL: none). Graph inputs' symbolic
 * dimensions take the given shapes; an unresolved symbolic leading (batch)
 * dimension becomes 1 (with a note), any other is an error naming the input,
 * the axis and the dimension's name. */
dk_status dk_onnx_load_with(const char *path, const dk_onnx_options *opts, dk_graph **out);

/* dk_onnx_load_with with `n` input shapes only. */
dk_status dk_onnx_load_shaped(const char *path, const dk_input_shape *shapes, int n, dk_graph **out);

/* One op type a model uses that deltakern does not support: its name and
 * domain ("" for the default ONNX domain; non-printable bytes as \xNN, long
 * text cut), how many nodes use it and the first of them. */
typedef struct dk_onnx_gap {
    char op[64];
    char domain[64];
    int count;
    char first[128];
} dk_onnx_gap;

/* The op types of the model at path that deltakern does not support, in order
 * of first use (n = 0 when there are none). dk_onnx_load fails on such a model
 * with one error naming all of them; this gives the list itself, e.g. for a
 * table. On success *gaps belongs to the caller (free()). */
dk_status dk_onnx_gaps(const char *path, dk_onnx_gap **gaps, int *n);

/* Loads a serialized ONNX TensorProto (.pb file, as in the ONNX test data). */
dk_status dk_onnx_load_tensor_file(const char *path, dk_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
