/* The operator table: every op deltakern knows, in one place. */
#include <string.h>

#include "layers/op_table.h"

#define ATTRS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ATTRS ((const char *const[]){NULL})

/* Attributes that only name things or carry documentation are accepted everywhere. */
DK_OP_TABLE_VISITED(65, "the op table (layers/op_table.c)");
static const dk_op_info op_table[DK_OP_COUNT] = {
    [DK_OP_CONV] = {DK_OP_CONV, "Conv", 2, 3, 1, 1,
                    ATTRS("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"),
                    dk__infer_conv, NULL},
    [DK_OP_CONVTRANSPOSE] = {DK_OP_CONVTRANSPOSE, "ConvTranspose", 2, 3, 1, 1,
                             ATTRS("auto_pad", "dilations", "group", "kernel_shape",
                                   "output_padding", "output_shape", "pads", "strides"),
                             dk__infer_convtranspose, NULL},
    [DK_OP_RESIZE] = {DK_OP_RESIZE, "Resize", 1, 4, 1, 1,
                      ATTRS("mode", "coordinate_transformation_mode", "nearest_mode",
                            "cubic_coeff_a", "exclude_outside", "extrapolation_value",
                            "antialias", "axes", "keep_aspect_ratio_policy"),
                      dk__infer_resize, NULL},
    [DK_OP_UPSAMPLE] = {DK_OP_UPSAMPLE, "Upsample", 1, 2, 1, 1, ATTRS("mode", "scales"),
                        dk__infer_resize, NULL},
    [DK_OP_INSTANCENORM] = {DK_OP_INSTANCENORM, "InstanceNormalization", 3, 3, 1, 1,
                            ATTRS("epsilon"), dk__infer_instancenorm, NULL},
    [DK_OP_BATCHNORM] = {DK_OP_BATCHNORM, "BatchNormalization", 5, 5, 1, 5,
                         ATTRS("epsilon", "momentum", "spatial", "is_test", "training_mode",
                               "consumed_inputs"),
                         dk__infer_batchnorm, NULL},
    [DK_OP_RELU] = {DK_OP_RELU, "Relu", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_CLIP] = {DK_OP_CLIP, "Clip", 1, 3, 1, 1, ATTRS("min", "max", "consumed_inputs"),
                    dk__infer_clip, NULL},
    [DK_OP_LEAKYRELU] = {DK_OP_LEAKYRELU, "LeakyRelu", 1, 1, 1, 1, ATTRS("alpha", "consumed_inputs"),
                         dk__infer_unary, NULL},
    [DK_OP_SIGMOID] = {DK_OP_SIGMOID, "Sigmoid", 1, 1, 1, 1, ATTRS("consumed_inputs"),
                       dk__infer_unary, NULL},
    [DK_OP_HARDSIGMOID] = {DK_OP_HARDSIGMOID, "HardSigmoid", 1, 1, 1, 1,
                           ATTRS("alpha", "beta", "consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_HARDSWISH] = {DK_OP_HARDSWISH, "HardSwish", 1, 1, 1, 1, NO_ATTRS, dk__infer_unary, NULL},
    [DK_OP_NEG] = {DK_OP_NEG, "Neg", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_SQRT] = {DK_OP_SQRT, "Sqrt", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_ERF] = {DK_OP_ERF, "Erf", 1, 1, 1, 1, NO_ATTRS, dk__infer_unary, NULL},
    [DK_OP_TANH] = {DK_OP_TANH, "Tanh", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_ABS] = {DK_OP_ABS, "Abs", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_EXP] = {DK_OP_EXP, "Exp", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_LOG] = {DK_OP_LOG, "Log", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_RECIPROCAL] = {DK_OP_RECIPROCAL, "Reciprocal", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_FLOOR] = {DK_OP_FLOOR, "Floor", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_CEIL] = {DK_OP_CEIL, "Ceil", 1, 1, 1, 1, ATTRS("consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_SOFTPLUS] = {DK_OP_SOFTPLUS, "Softplus", 1, 1, 1, 1, NO_ATTRS, dk__infer_unary, NULL},
    [DK_OP_ELU] = {DK_OP_ELU, "Elu", 1, 1, 1, 1, ATTRS("alpha", "consumed_inputs"), dk__infer_unary, NULL},
    [DK_OP_ADD] = {DK_OP_ADD, "Add", 2, 2, 1, 1, ATTRS("broadcast", "axis", "consumed_inputs"),
                   dk__infer_binary, dk__eval_arith},
    [DK_OP_SUB] = {DK_OP_SUB, "Sub", 2, 2, 1, 1, ATTRS("broadcast", "axis", "consumed_inputs"),
                   dk__infer_binary, dk__eval_arith},
    [DK_OP_MUL] = {DK_OP_MUL, "Mul", 2, 2, 1, 1, ATTRS("broadcast", "axis", "consumed_inputs"),
                   dk__infer_binary, dk__eval_arith},
    [DK_OP_DIV] = {DK_OP_DIV, "Div", 2, 2, 1, 1, ATTRS("broadcast", "axis", "consumed_inputs"),
                   dk__infer_binary, dk__eval_arith},
    [DK_OP_POW] = {DK_OP_POW, "Pow", 2, 2, 1, 1, ATTRS("broadcast", "axis"), dk__infer_binary,
                   dk__eval_arith},
    [DK_OP_SUM] = {DK_OP_SUM, "Sum", 1, 1 << 20, 1, 1, ATTRS("consumed_inputs"), dk__infer_variadic,
               NULL},
    [DK_OP_MAX] = {DK_OP_MAX, "Max", 1, 1 << 20, 1, 1, ATTRS("consumed_inputs"), dk__infer_variadic,
               NULL},
    [DK_OP_MIN] = {DK_OP_MIN, "Min", 1, 1 << 20, 1, 1, ATTRS("consumed_inputs"), dk__infer_variadic,
               NULL},
    [DK_OP_MEAN] = {DK_OP_MEAN, "Mean", 1, 1 << 20, 1, 1, ATTRS("consumed_inputs"), dk__infer_variadic,
               NULL},
    [DK_OP_PRELU] = {DK_OP_PRELU, "PRelu", 2, 2, 1, 1, ATTRS("consumed_inputs"), dk__infer_binary,
                     NULL},
    [DK_OP_MAXPOOL] = {DK_OP_MAXPOOL, "MaxPool", 1, 1, 1, 2,
                       ATTRS("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                             "storage_order", "strides"),
                       dk__infer_maxpool, NULL},
    [DK_OP_AVGPOOL] = {DK_OP_AVGPOOL, "AveragePool", 1, 1, 1, 1,
                       ATTRS("auto_pad", "ceil_mode", "count_include_pad", "dilations",
                             "kernel_shape", "pads", "strides"),
                       dk__infer_avgpool, NULL},
    [DK_OP_GLOBALAVGPOOL] = {DK_OP_GLOBALAVGPOOL, "GlobalAveragePool", 1, 1, 1, 1, NO_ATTRS,
                             dk__infer_global_pool, NULL},
    [DK_OP_GLOBALMAXPOOL] = {DK_OP_GLOBALMAXPOOL, "GlobalMaxPool", 1, 1, 1, 1, NO_ATTRS,
                             dk__infer_global_pool, NULL},
    [DK_OP_GEMM] = {DK_OP_GEMM, "Gemm", 2, 3, 1, 1,
                    ATTRS("alpha", "beta", "transA", "transB", "broadcast"), dk__infer_gemm, NULL},
    [DK_OP_MATMUL] = {DK_OP_MATMUL, "MatMul", 2, 2, 1, 1, NO_ATTRS, dk__infer_matmul, NULL},
    [DK_OP_FLATTEN] = {DK_OP_FLATTEN, "Flatten", 1, 1, 1, 1, ATTRS("axis"), dk__infer_flatten,
                       dk__eval_copy},
    [DK_OP_RESHAPE] = {DK_OP_RESHAPE, "Reshape", 1, 2, 1, 1, ATTRS("allowzero", "shape"),
                       dk__infer_reshape, dk__eval_copy},
    [DK_OP_TRANSPOSE] = {DK_OP_TRANSPOSE, "Transpose", 1, 1, 1, 1, ATTRS("perm"),
                         dk__infer_transpose, dk__eval_transpose},
    [DK_OP_SQUEEZE] = {DK_OP_SQUEEZE, "Squeeze", 1, 2, 1, 1, ATTRS("axes"), dk__infer_squeeze,
                       dk__eval_copy},
    [DK_OP_UNSQUEEZE] = {DK_OP_UNSQUEEZE, "Unsqueeze", 1, 2, 1, 1, ATTRS("axes"),
                         dk__infer_unsqueeze, dk__eval_copy},
    [DK_OP_CONCAT] = {DK_OP_CONCAT, "Concat", 1, 1 << 20, 1, 1, ATTRS("axis"), dk__infer_concat,
                      dk__eval_concat},
    [DK_OP_SOFTMAX] = {DK_OP_SOFTMAX, "Softmax", 1, 1, 1, 1, ATTRS("axis"), dk__infer_softmax, NULL},
    [DK_OP_LRN] = {DK_OP_LRN, "LRN", 1, 1, 1, 1, ATTRS("alpha", "beta", "bias", "size"),
                   dk__infer_lrn, NULL},
    [DK_OP_PAD] = {DK_OP_PAD, "Pad", 1, 4, 1, 1, ATTRS("mode", "pads", "value", "paddings"),
                   dk__infer_pad, dk__eval_pad},
    [DK_OP_REDUCEMEAN] = {DK_OP_REDUCEMEAN, "ReduceMean", 1, 2, 1, 1,
                          ATTRS("axes", "keepdims", "noop_with_empty_axes"), dk__infer_reduce, NULL},
    [DK_OP_REDUCEMAX] = {DK_OP_REDUCEMAX, "ReduceMax", 1, 2, 1, 1,
                         ATTRS("axes", "keepdims", "noop_with_empty_axes"), dk__infer_reduce, NULL},
    [DK_OP_REDUCESUM] = {DK_OP_REDUCESUM, "ReduceSum", 1, 2, 1, 1,
                         ATTRS("axes", "keepdims", "noop_with_empty_axes"), dk__infer_reduce, NULL},
    [DK_OP_CONSTANT] = {DK_OP_CONSTANT, "Constant", 0, 0, 1, 1,
                        ATTRS("value", "value_float", "value_floats", "value_int", "value_ints"),
                        dk__infer_constant, dk__eval_constant},
    [DK_OP_IDENTITY] = {DK_OP_IDENTITY, "Identity", 1, 1, 1, 1, NO_ATTRS, dk__infer_identity,
                        dk__eval_copy},
    [DK_OP_DROPOUT] = {DK_OP_DROPOUT, "Dropout", 1, 3, 1, 2,
                       ATTRS("ratio", "seed", "is_test", "consumed_inputs"), dk__infer_identity,
                       dk__eval_copy},
    [DK_OP_SHAPE] = {DK_OP_SHAPE, "Shape", 1, 1, 1, 1, ATTRS("start", "end"), dk__infer_shape,
                     dk__eval_shape},
    [DK_OP_GATHER] = {DK_OP_GATHER, "Gather", 2, 2, 1, 1, ATTRS("axis"), dk__infer_gather,
                      dk__eval_gather},
    [DK_OP_LAYERNORM] = {DK_OP_LAYERNORM, "LayerNormalization", 2, 3, 1, 3,
                         ATTRS("axis", "epsilon", "stash_type"), dk__infer_layernorm, NULL},
    [DK_OP_SLICE] = {DK_OP_SLICE, "Slice", 1, 5, 1, 1, ATTRS("starts", "ends", "axes"),
                     dk__infer_slice, dk__eval_slice},
    [DK_OP_EXPAND] = {DK_OP_EXPAND, "Expand", 2, 2, 1, 1, NO_ATTRS, dk__infer_expand,
                      dk__eval_expand},
    [DK_OP_CONSTANTOFSHAPE] = {DK_OP_CONSTANTOFSHAPE, "ConstantOfShape", 1, 1, 1, 1,
                               ATTRS("value"), dk__infer_constantofshape,
                               dk__eval_constantofshape},
    [DK_OP_CAST] = {DK_OP_CAST, "Cast", 1, 1, 1, 1, ATTRS("to"), dk__infer_cast, dk__eval_cast},
    [DK_OP_EQUAL] = {DK_OP_EQUAL, "Equal", 2, 2, 1, 1, NO_ATTRS, dk__infer_equal, dk__eval_equal},
    [DK_OP_WHERE] = {DK_OP_WHERE, "Where", 3, 3, 1, 1, NO_ATTRS, dk__infer_where, dk__eval_where},
};

const dk_op_info *dk__op_info(dk_op op)
{
    if (op <= DK_OP_NONE || op >= DK_OP_COUNT || !op_table[op].name) return NULL;
    return &op_table[op];
}

const char *dk_op_name(dk_op op)
{
    const dk_op_info *info = dk__op_info(op);
    return info ? info->name : "?";
}

dk_op dk_op_from_name(const char *onnx_op_type)
{
    for (int op = DK_OP_NONE + 1; op < DK_OP_COUNT; op++)
        if (op_table[op].name && strcmp(op_table[op].name, onnx_op_type) == 0) return (dk_op)op;
    return DK_OP_NONE;
}
