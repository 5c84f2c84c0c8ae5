/* Internal: the reference backend's kernels. Plain C, accumulation in double.
 * Same signature as dk_eval_fn: out tensors are allocated with the inferred
 * dtype and shape; in[i] is NULL for omitted optional inputs. */
#ifndef DK_KERNELS_REF_REF_KERNELS_H
#define DK_KERNELS_REF_REF_KERNELS_H

#include "layers/op_table.h"

#define DK_REF_KERNEL(fn) \
    dk_status fn(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)

/* The reference kernel for an op (a dedicated kernel, else the op table's
 * dtype-generic eval), NULL when none: other backends delegate to it for the
 * ops they do not implement themselves. */
dk_eval_fn dk_ref_kernel_for(dk_op op);

/* ref_conv.c */
DK_REF_KERNEL(dk_ref_conv);
/* A Conv node's fused post-ops (dk_node.post) applied to its float32 output
 * in place, rounded exactly as the unfused Add, Relu and Clip would round:
 * every backend without post-ops of its own runs them this way. */
DK_REF_KERNEL(dk_ref_conv_post);
/* ref_pool.c */
DK_REF_KERNEL(dk_ref_maxpool);
DK_REF_KERNEL(dk_ref_avgpool);
DK_REF_KERNEL(dk_ref_globalavgpool);
DK_REF_KERNEL(dk_ref_globalmaxpool);
/* ref_norm.c */
DK_REF_KERNEL(dk_ref_batchnorm);
DK_REF_KERNEL(dk_ref_lrn);
DK_REF_KERNEL(dk_ref_layernorm);  /* outputs 1 and 2 (Mean, InvStdDev) when asked for */
DK_REF_KERNEL(dk_ref_instancenorm);
/* ref_convtranspose.c */
DK_REF_KERNEL(dk_ref_convtranspose);
/* ref_resize.c: Resize and Upsample */
DK_REF_KERNEL(dk_ref_resize);
/* The original coordinate of output index y along axis (of input size in),
 * and the input index nearest mode picks for it (clamped to the axis): the
 * oneDNN backend compares its own index map against this one. */
double dk_resize_source(const dk_resize_params *p, int axis, int64_t y, int64_t in);
int64_t dk_resize_nearest(const dk_resize_params *p, int axis, int64_t y, int64_t in);
/* ref_eltwise.c */
DK_REF_KERNEL(dk_ref_unary);     /* Relu, Clip, LeakyRelu, Elu, Sigmoid, HardSigmoid, HardSwish,
                                    Softplus, Neg, Abs, Floor, Ceil, Reciprocal, Sqrt, Erf,
                                    Tanh, Exp, Log (libm in double) */
DK_REF_KERNEL(dk_ref_variadic);  /* Sum, Mean, Max, Min (ref_variadic.c) */
DK_REF_KERNEL(dk_ref_binary);    /* Add, Sub, Mul, Div, Pow with broadcasting; PRelu */
/* ref_dense.c */
/* MatMul batch broadcasting: for each of the output's nb batch dims (dims),
 * the element stride between t's matrices, 0 where t is broadcast. */
void dk_ref_batch_strides(const dk_tensor *t, int nb, const int64_t *dims, int64_t *s);
DK_REF_KERNEL(dk_ref_gemm);
DK_REF_KERNEL(dk_ref_matmul);
/* ref_einsum.c */
DK_REF_KERNEL(dk_ref_einsum);
/* ref_reduce.c */
DK_REF_KERNEL(dk_ref_softmax);
DK_REF_KERNEL(dk_ref_reduce);    /* ReduceMean, ReduceMax, ReduceSum, ReduceL2 */

#endif
