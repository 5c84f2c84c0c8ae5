/* Internal: the operator table. One row per op: ONNX name, input/output
 * arity, accepted attributes, shape inference and an optional dtype-generic
 * evaluation (used for constant folding and by the reference backend). */
#ifndef DK_LAYERS_OP_TABLE_H
#define DK_LAYERS_OP_TABLE_H

#include "deltakern/graph.h"

/* Evaluates a node: in[i] is NULL for an omitted optional input; out[i] is
 * already allocated with the inferred dtype and shape (NULL if omitted).
 * The same signature is used by reference kernels. */
typedef dk_status (*dk_eval_fn)(const dk_node *n, const dk_tensor *const *in,
                                dk_tensor *const *out);

/* Validates inputs and attributes, decodes n->p, sets dtype and shape of every
 * output value and n->flops. Constant inputs (weights, Clip bounds, Reshape
 * shape) have data in g->values[...].t.data. Errors go through dk__node_error. */
typedef dk_status (*dk_infer_fn)(dk_graph *g, dk_node *n);

typedef struct dk_op_info {
    dk_op op;
    const char *name;            /* ONNX op_type */
    int min_inputs, max_inputs;
    int min_outputs, max_outputs;
    const char *const *attrs;    /* accepted attribute names, NULL-terminated; others are
                                    rejected as unsupported */
    dk_infer_fn infer;
    dk_eval_fn eval;             /* optional */
} dk_op_info;

const dk_op_info *dk__op_info(dk_op op);

/* Per-family infer/eval functions, defined in layers/op_<family>.c */
#define DK_DECLARE_INFER(fn) dk_status fn(dk_graph *g, dk_node *n)
#define DK_DECLARE_EVAL(fn) \
    dk_status fn(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)

/* op_window.c */
DK_DECLARE_INFER(dk__infer_conv);
DK_DECLARE_INFER(dk__infer_maxpool);
DK_DECLARE_INFER(dk__infer_avgpool);
DK_DECLARE_INFER(dk__infer_global_pool);
/* op_norm.c */
DK_DECLARE_INFER(dk__infer_batchnorm);
DK_DECLARE_INFER(dk__infer_lrn);
/* op_eltwise.c */
DK_DECLARE_INFER(dk__infer_unary);      /* Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish */
DK_DECLARE_INFER(dk__infer_clip);
DK_DECLARE_INFER(dk__infer_binary);     /* Add, Sub, Mul, Div with broadcasting */
/* op_dense.c */
DK_DECLARE_INFER(dk__infer_gemm);
DK_DECLARE_INFER(dk__infer_matmul);
/* op_reduce.c */
DK_DECLARE_INFER(dk__infer_softmax);
DK_DECLARE_INFER(dk__infer_reducemean);
/* op_shape.c: data movement, all with eval */
DK_DECLARE_INFER(dk__infer_flatten);
DK_DECLARE_INFER(dk__infer_reshape);
DK_DECLARE_INFER(dk__infer_transpose);
DK_DECLARE_INFER(dk__infer_squeeze);
DK_DECLARE_INFER(dk__infer_unsqueeze);
DK_DECLARE_INFER(dk__infer_concat);
DK_DECLARE_INFER(dk__infer_pad);
DK_DECLARE_INFER(dk__infer_constant);
DK_DECLARE_INFER(dk__infer_identity);   /* Identity and Dropout (inference only) */
DK_DECLARE_INFER(dk__infer_shape);
DK_DECLARE_INFER(dk__infer_gather);
DK_DECLARE_EVAL(dk__eval_copy);         /* Flatten, Reshape, Squeeze, Unsqueeze, Identity,
                                           Dropout (first output; mask output set true) */
DK_DECLARE_EVAL(dk__eval_transpose);
DK_DECLARE_EVAL(dk__eval_concat);
DK_DECLARE_EVAL(dk__eval_pad);
DK_DECLARE_EVAL(dk__eval_constant);
DK_DECLARE_EVAL(dk__eval_shape);
DK_DECLARE_EVAL(dk__eval_gather);

#endif
