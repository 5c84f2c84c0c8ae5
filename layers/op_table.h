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

/* ---- the checklist of an op (docs/adding-an-op.md) --------------------------
 *
 * Beside every per-op table, with the op count written there: stops the
 * build when an op is added or removed until each table has been visited
 * and its count raised (ggml's static_assert(GGML_OP_COUNT == N) beside each
 * table). The tables: this op table (layers/op_table.c), the reference
 * kernels (kernels/ref/ref_backend.c), the tolerance table
 * (check/tolerance.c), the op suite's generators
 * (drivers/selftest/selftest_cases.c), and the native paths of oneDNN
 * (kernels/onednn/onednn_backend.c) and cuDNN (kernels/cudnn/cudnn_plan.c),
 * where an op without a row falls back to the reference kernels. */
#define DK_OP_TABLE_VISITED(count, table)                                                          \
    _Static_assert(DK_OP_COUNT == (count),                                                         \
                   "an op was added or removed: give it a row in " table " (or an exemption in "   \
                   "layers/op_checklist.c), then update the count here (docs/adding-an-op.md)")

/* Tables an op must have a row in, unless exempt. */
typedef enum dk_op_table_kind {
    DK_OPTAB_REF_KERNEL = 0, /* kernels/ref: the oracle runs every op */
    DK_OPTAB_TOLERANCE,      /* check/tolerance.c: how far another backend may be */
    DK_OPTAB_OP_SUITE,       /* drivers/selftest/selftest_cases.c: random cases */
    DK_OPTAB_COUNT
} dk_op_table_kind;

/* NULL when op must have a row in table t; otherwise why it deliberately has
 * none. The exemptions, all in one place: layers/op_checklist.c; each is
 * tested to be needed (tests/unit/test_op_checklist.c). */
const char *dk__op_exemption(dk_op op, dk_op_table_kind t);
const char *dk__op_table_kind_name(dk_op_table_kind t);

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
DK_DECLARE_INFER(dk__infer_layernorm);
DK_DECLARE_INFER(dk__infer_instancenorm);
DK_DECLARE_INFER(dk__infer_convtranspose); /* op_convtranspose.c */
DK_DECLARE_INFER(dk__infer_resize);        /* op_resize.c: Resize and Upsample */
/* op_eltwise.c */
DK_DECLARE_INFER(dk__infer_unary);      /* Relu, LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish,
                                           Softplus, Neg, Abs, Sqrt, Erf, Tanh, Exp, Log,
                                           Reciprocal, Floor, Ceil */
DK_DECLARE_INFER(dk__infer_clip);
DK_DECLARE_INFER(dk__infer_variadic);   /* Sum, Mean, Max, Min: numpy broadcasting of all inputs */
DK_DECLARE_INFER(dk__infer_binary);     /* Add, Sub, Mul, Div, Pow with broadcasting; PRelu
                                           (slope broadcast onto X) */
/* op_dense.c */
DK_DECLARE_INFER(dk__infer_gemm);
DK_DECLARE_INFER(dk__infer_matmul);
/* op_einsum.c */
DK_DECLARE_INFER(dk__infer_einsum);
/* Einsum: the size of every label (dk_einsum_params) read from the node's
 * inputs (an axis of 1 broadcasts), and the number of terms per output
 * element (the product of the summed labels' sizes). */
void dk__einsum_label_dims(const dk_einsum_params *p, const dk_tensor *const *in, int64_t *size);
int64_t dk__einsum_terms(const dk_einsum_params *p, const dk_tensor *const *in);
/* op_reduce.c */
DK_DECLARE_INFER(dk__infer_softmax);
DK_DECLARE_INFER(dk__infer_reduce);     /* ReduceMean, ReduceMax, ReduceSum, ReduceL2 */
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
DK_DECLARE_INFER(dk__infer_slice);      /* op_slice.c */
DK_DECLARE_INFER(dk__infer_expand);     /* op_expand.c */
DK_DECLARE_INFER(dk__infer_constantofshape); /* op_fold.c: on constants only */
DK_DECLARE_INFER(dk__infer_range);
DK_DECLARE_INFER(dk__infer_compare);    /* op_compare.c: Equal, Less, Greater */
DK_DECLARE_INFER(dk__infer_not);
DK_DECLARE_INFER(dk__infer_where);
DK_DECLARE_INFER(dk__infer_mod);        /* op_mod.c */
DK_DECLARE_INFER(dk__infer_scatternd);  /* op_scatter.c */
DK_DECLARE_INFER(dk__infer_split);      /* op_split.c */
DK_DECLARE_INFER(dk__infer_tile);
DK_DECLARE_INFER(dk__infer_space);      /* op_space.c: DepthToSpace, SpaceToDepth */
DK_DECLARE_INFER(dk__infer_argmax);     /* op_argmax.c */
DK_DECLARE_INFER(dk__infer_cast);       /* op_cast.c */
DK_DECLARE_EVAL(dk__eval_copy);         /* Flatten, Reshape, Squeeze, Unsqueeze, Identity,
                                           Dropout (first output; mask output set true) */
DK_DECLARE_EVAL(dk__eval_transpose);
DK_DECLARE_EVAL(dk__eval_concat);
DK_DECLARE_EVAL(dk__eval_pad);
DK_DECLARE_EVAL(dk__eval_constant);
DK_DECLARE_EVAL(dk__eval_shape);
DK_DECLARE_EVAL(dk__eval_gather);
DK_DECLARE_EVAL(dk__eval_slice);
DK_DECLARE_EVAL(dk__eval_expand);
DK_DECLARE_EVAL(dk__eval_constantofshape);
DK_DECLARE_EVAL(dk__eval_range);
DK_DECLARE_EVAL(dk__eval_compare);
DK_DECLARE_EVAL(dk__eval_not);
DK_DECLARE_EVAL(dk__eval_where);
DK_DECLARE_EVAL(dk__eval_mod);
DK_DECLARE_EVAL(dk__eval_scatternd);
DK_DECLARE_EVAL(dk__eval_split);
DK_DECLARE_EVAL(dk__eval_tile);
DK_DECLARE_EVAL(dk__eval_space);
DK_DECLARE_EVAL(dk__eval_argmax);
DK_DECLARE_EVAL(dk__eval_cast);
DK_DECLARE_EVAL(dk__eval_arith);        /* op_arith.c: Add, Sub, Mul, Div, Pow on constants */

#endif
