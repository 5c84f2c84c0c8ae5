/* deltakern — the operator set and each operator's decoded parameters.
 *
 * The loader decodes ONNX attributes (and constant inputs such as Clip's
 * min/max or Reshape's shape) once, during shape inference, into the
 * dk_op_params of each node. Kernels read only these decoded parameters. */
#ifndef DELTAKERN_OPS_H
#define DELTAKERN_OPS_H

#include <stdint.h>
#include "deltakern/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dk_op {
    DK_OP_NONE = 0,
    DK_OP_CONV,
    DK_OP_BATCHNORM,
    DK_OP_RELU,
    DK_OP_CLIP,
    DK_OP_LEAKYRELU,
    DK_OP_SIGMOID,
    DK_OP_HARDSIGMOID,
    DK_OP_HARDSWISH,
    DK_OP_ADD,
    DK_OP_SUB,
    DK_OP_MUL,
    DK_OP_DIV,
    DK_OP_MAXPOOL,
    DK_OP_AVGPOOL,
    DK_OP_GLOBALAVGPOOL,
    DK_OP_GLOBALMAXPOOL,
    DK_OP_GEMM,
    DK_OP_MATMUL,
    DK_OP_FLATTEN,
    DK_OP_RESHAPE,
    DK_OP_TRANSPOSE,
    DK_OP_SQUEEZE,
    DK_OP_UNSQUEEZE,
    DK_OP_CONCAT,
    DK_OP_SOFTMAX,
    DK_OP_LRN,
    DK_OP_PAD,
    DK_OP_REDUCEMEAN,
    DK_OP_CONSTANT,
    DK_OP_IDENTITY,
    DK_OP_DROPOUT,
    DK_OP_SHAPE,
    DK_OP_GATHER,
    DK_OP_NEG,
    DK_OP_SQRT,
    DK_OP_ERF,
    DK_OP_TANH,
    DK_OP_POW,
    DK_OP_SLICE,
    DK_OP_LAYERNORM,
    DK_OP_EXPAND,
    DK_OP_CONSTANTOFSHAPE,
    DK_OP_EQUAL,
    DK_OP_WHERE,
    DK_OP_ABS,
    DK_OP_EXP,
    DK_OP_LOG,
    DK_OP_RECIPROCAL,
    DK_OP_FLOOR,
    DK_OP_CEIL,
    DK_OP_SOFTPLUS,
    DK_OP_ELU,
    DK_OP_SUM,
    DK_OP_MAX,
    DK_OP_MIN,
    DK_OP_MEAN,
    DK_OP_PRELU,
    DK_OP_CAST,
    DK_OP_REDUCEMAX,
    DK_OP_REDUCESUM,
    DK_OP_SPLIT,
    DK_OP_TILE,
    DK_OP_DEPTHTOSPACE,
    DK_OP_SPACETODEPTH,
    DK_OP_ARGMAX,
    DK_OP_REDUCEL2,
    DK_OP_RANGE,
    DK_OP_MOD,
    DK_OP_NOT,
    DK_OP_LESS,
    DK_OP_GREATER,
    DK_OP_SCATTERND,
    DK_OP_CONVTRANSPOSE,
    DK_OP_RESIZE,
    DK_OP_UPSAMPLE,
    DK_OP_INSTANCENORM,
    DK_OP_EINSUM,
    DK_OP_COUNT
} dk_op;

#define DK_MAX_SPATIAL 3

/* Sliding window of Conv and the pools, after auto_pad and ceil_mode are
 * resolved: output size along axis i is
 *   (in + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride + 1
 * (with ceil_mode already folded into pad_end so this floor formula holds,
 * see dk_pool_params.ceil_extra). */
typedef struct dk_window {
    int nspatial;                          /* 1..3 */
    int64_t kernel[DK_MAX_SPATIAL];
    int64_t stride[DK_MAX_SPATIAL];
    int64_t dilation[DK_MAX_SPATIAL];
    int64_t pad_begin[DK_MAX_SPATIAL];
    int64_t pad_end[DK_MAX_SPATIAL];
} dk_window;

typedef struct dk_conv_params {
    dk_window win;
    int64_t group;
    int has_bias;
} dk_conv_params;

typedef struct dk_pool_params {
    dk_window win;                         /* pad_end includes ceil_extra */
    int64_t ceil_extra[DK_MAX_SPATIAL];    /* padding added by ceil_mode, never counted by
                                              count_include_pad */
    int count_include_pad;                 /* AveragePool */
    int storage_order;                     /* MaxPool Indices: 0 row major, 1 column major */
    int has_indices;                       /* MaxPool second output requested */
} dk_pool_params;

typedef struct dk_batchnorm_params { float epsilon; } dk_batchnorm_params;

/* ConvTranspose: X [N, C, D...], W [C, M/group, k...], Y [N, M, O...] with
 *   O_i = stride (D_i - 1) + dilation (k - 1) + 1 - pad_begin - pad_end
 * where auto_pad, output_shape and output_padding are resolved into the
 * window's pads: pad_end = pads_end - output_padding, so either pad may be
 * negative (an output_shape larger than the natural one). Input position d,
 * tap t feeds output position d * stride + t * dilation - pad_begin (when
 * within [0, O)). */
typedef struct dk_convtranspose_params {
    dk_window win;
    int64_t group;
    int has_bias;
} dk_convtranspose_params;

/* Resize (opset 10, 11, 13, 18) and Upsample (7, 9), decoded: for every axis
 * of X the scale used by the coordinate transformation (out / in for given
 * sizes) and the output size. */
typedef enum dk_resample_mode { DK_RESIZE_NEAREST = 0, DK_RESIZE_LINEAR } dk_resample_mode;
typedef enum dk_resample_coord {
    DK_COORD_HALF_PIXEL = 0,
    DK_COORD_PYTORCH_HALF_PIXEL,
    DK_COORD_ALIGN_CORNERS,
    DK_COORD_ASYMMETRIC,
    DK_COORD_TF_HALF_PIXEL_FOR_NEAREST
} dk_resample_coord;
typedef enum dk_resample_round {
    DK_ROUND_PREFER_FLOOR = 0,
    DK_ROUND_PREFER_CEIL,
    DK_ROUND_FLOOR,
    DK_ROUND_CEIL,
    DK_ROUND_LEGACY  /* Upsample, Resize-10: floor (upsampling only) */
} dk_resample_round;
typedef struct dk_resize_params {
    dk_resample_mode mode;
    dk_resample_coord coord;
    dk_resample_round nearest;
    double scale[DK_MAX_DIMS];
    double length[DK_MAX_DIMS]; /* resized length in the coordinate transformation: the
                                   size given, or in * scale (may be fractional) */
} dk_resize_params;

/* InstanceNormalization: y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c]
 * with mean and variance over the spatial dims of each (n, c). */
typedef struct dk_instancenorm_params { float epsilon; } dk_instancenorm_params;

typedef struct dk_lrn_params { float alpha, beta, bias; int64_t size; } dk_lrn_params;

/* LayerNormalization: dims [axis, rank) are normalised together (axis
 * normalised to [0, ndim)). */
typedef struct dk_layernorm_params { int axis; float epsilon; } dk_layernorm_params;

typedef struct dk_gemm_params {
    float alpha, beta;
    int trans_a, trans_b;
    int has_c;
} dk_gemm_params;

/* Relu, LeakyRelu (alpha), Elu (alpha), HardSigmoid (alpha, beta), Clip (min,
 * max; -inf/+inf when absent), Sigmoid, HardSwish, Neg, Sqrt, Erf, Tanh, Abs,
 * Exp, Log, Reciprocal, Floor, Ceil and Softplus (no parameter). A Clip bound fed as a
 * graph input (known only at run time) is NaN here: kernels then read it from
 * input 1 (min) or 2 (max); a backend that cannot must decline the node. */
typedef struct dk_act_params { float alpha, beta; float min, max; } dk_act_params;

/* Softmax: axis normalised to [0, ndim). legacy=1 for opset < 13, where the
 * input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]. */
typedef struct dk_softmax_params { int axis; int legacy; } dk_softmax_params;

/* Concat, Flatten, Gather: axis normalised to [0, ndim).
 * Add, Sub, Mul, Div, Pow, PRelu: the output dimension B's first dimension lines up with
 * (rank(out) - rank(B) under numpy broadcasting; differs only for the legacy
 * opset < 7 broadcast/axis form). */
typedef struct dk_axis_params { int axis; } dk_axis_params;

typedef struct dk_reduce_params {
    int naxes;                             /* reduced axes, normalised and sorted */
    int axes[DK_MAX_DIMS];
    int keepdims;
} dk_reduce_params;

typedef struct dk_transpose_params { int perm[DK_MAX_DIMS]; } dk_transpose_params;

typedef enum dk_pad_mode { DK_PAD_CONSTANT = 0, DK_PAD_REFLECT, DK_PAD_EDGE } dk_pad_mode;
typedef struct dk_pad_params {
    int64_t begin[DK_MAX_DIMS], end[DK_MAX_DIMS]; /* may be negative (cropping) */
    dk_pad_mode mode;
    double value;
} dk_pad_params;

/* Slice: per input axis (unsliced ones start 0, step 1) the first index
 * taken and the step, after ONNX's clamping; the counts are the output dims. */
typedef struct dk_slice_params { int64_t start[DK_MAX_DIMS], step[DK_MAX_DIMS]; } dk_slice_params;

/* Split: the axis (normalised) and the size of each of count outputs. */
#define DK_MAX_SPLIT 32
typedef struct dk_split_params { int axis, count; int64_t sizes[DK_MAX_SPLIT]; } dk_split_params;

/* DepthToSpace (crd: mode CRD, else DCR) and SpaceToDepth. */
typedef struct dk_space_params { int64_t blocksize; int crd; } dk_space_params;

/* ArgMax: axis normalised to [0, ndim). */
typedef struct dk_argmax_params { int axis, keepdims, select_last; } dk_argmax_params;

/* Mod: fmod=1 takes the dividend's sign, 0 the divisor's. */
typedef struct dk_mod_params { int fmod; } dk_mod_params;

/* Einsum, the equation decoded: every axis of every input and of the output
 * carries a label (a letter, or one dimension of the ellipsis, broadcast
 * numpy-style across the inputs). Labels 0..n_labels-1; the labels of the
 * output come first (label i is output axis i, i < out_ndim), the summed ones
 * after, in order of first appearance. An input axis whose label repeats
 * within that input takes the diagonal; a label of size 1 in one input and
 * n in another broadcasts. The size of each label is read from the inputs
 * (dk__einsum_label_dims, layers/op_table.h). */
#define DK_EINSUM_MAX_INPUTS 8
#define DK_EINSUM_MAX_LABELS (DK_EINSUM_MAX_INPUTS * DK_MAX_DIMS)
typedef struct dk_einsum_params {
    int n_inputs, n_labels, out_ndim;
    signed char label[DK_EINSUM_MAX_INPUTS][DK_MAX_DIMS]; /* label of each input axis */
} dk_einsum_params;

/* Shape (opset 15 start/end, normalised and clamped). */
typedef struct dk_shape_params { int start, end; } dk_shape_params;

typedef union dk_op_params {
    dk_conv_params conv;
    dk_convtranspose_params convt;
    dk_resize_params resize;
    dk_instancenorm_params inorm;
    dk_pool_params pool;
    dk_batchnorm_params bn;
    dk_lrn_params lrn;
    dk_layernorm_params layernorm;
    dk_gemm_params gemm;
    dk_act_params act;
    dk_softmax_params softmax;
    dk_axis_params axis;
    dk_reduce_params reduce;
    dk_transpose_params transpose;
    dk_pad_params pad;
    dk_shape_params shape;
    dk_slice_params slice;
    dk_split_params split;
    dk_space_params space;
    dk_argmax_params argmax;
    dk_mod_params mod;
    dk_einsum_params einsum;
} dk_op_params;

/* ONNX op_type name of an op ("Conv"), or "?" for an invalid value. */
const char *dk_op_name(dk_op op);
/* Op for an ONNX op_type, DK_OP_NONE when deltakern does not know it. */
dk_op dk_op_from_name(const char *onnx_op_type);

#ifdef __cplusplus
}
#endif
#endif
