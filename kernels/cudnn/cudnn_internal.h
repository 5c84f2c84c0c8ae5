/* Internal to kernels/cudnn: the cuDNN 9 / cuBLAS backend's configuration,
 * context, device values and per-node plans. Every CUDA, cuDNN and cuBLAS call
 * of deltakern lives in this folder.
 *
 * Values stay on the device: each graph value a node reads or writes has one
 * device buffer (dk_cudnn_value), allocated at plan time; constants (weights)
 * are uploaded once, when the first node that reads them is planned. A 4-D
 * float32 value is stored NHWC when the variant says layout=nhwc, every other
 * value in its canonical (row-major) order. The session moves values between
 * the host and the device only through from_canonical/to_canonical.
 *
 * A plan holds the node's descriptors, its chosen convolution algorithm, its
 * share of the context's device workspace and its CUDA events. Nodes with no
 * GPU path run as "host fallback": their inputs are copied to the session's
 * host tensors, the reference kernel runs, and the outputs are uploaded again
 * (plan->info.note says why). */
#ifndef DK_KERNELS_CUDNN_CUDNN_INTERNAL_H
#define DK_KERNELS_CUDNN_CUDNN_INTERNAL_H

#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/cudnn/cudnn_symbols.h" /* after the CUDA headers: calls through dlsym'd pointers */
#include "kernels/cudnn/cudnn_plan_info.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"

/* ---- configuration: the variant's options (cudnn_config.c) ------------------------ */

typedef enum dk_cudnn_math {
    DK_CUDNN_MATH_FP32 = 0, /* FMA kernels only: no TF32 tensor cores */
    DK_CUDNN_MATH_TF32,     /* float32 data, tensor cores rounding operands to TF32 */
    DK_CUDNN_MATH_FP16      /* convolution operands converted to float16, float32 accumulation */
} dk_cudnn_math;

/* algo option values besides the named forward algorithms */
#define DK_CUDNN_ALGO_HEURISTIC (-1) /* cuDNN's heuristics (cudnnGetConvolutionForwardAlgorithm_v7) */
#define DK_CUDNN_ALGO_FIND (-2)      /* timed search at plan time (cudnnFindConvolutionForwardAlgorithmEx) */
#define DK_CUDNN_ALGO_UNKNOWN (-3)

typedef struct dk_cudnn_config {
    int device;        /* CUDA device ordinal */
    int algo;          /* DK_CUDNN_ALGO_HEURISTIC, _FIND, or a cudnnConvolutionFwdAlgo_t */
    dk_cudnn_math math;
    int nhwc;          /* layout=nhwc: 4-D float32 activations stored NHWC */
    int fuse;          /* fuse=on: a Conv's bias, residual and Relu post-ops in its cuDNN call */
    int deterministic; /* deterministic=on: only algorithms cuDNN marks deterministic */
} dk_cudnn_config;

/* The backend's option table (NULL-terminated). */
extern const dk_option_spec dk__cudnn_options[];

/* Reads a parsed variant's options; DK_ERR_INVALID naming the option otherwise. */
dk_status dk__cudnn_config_read(const dk_variant *v, dk_cudnn_config *cfg);

/* "IMPLICIT_GEMM" ... for a forward algorithm, "heuristic"/"find" for the
 * choices, "?" otherwise. */
const char *dk__cudnn_algo_name(int algo);
/* The algo option value for a name (the inverse), DK_CUDNN_ALGO_UNKNOWN when none. */
int dk__cudnn_algo_from_name(const char *name);
const char *dk__cudnn_math_name(dk_cudnn_math m);

/* ---- errors (cudnn_errors.c) --------------------------------------------------------- */

/* DK_OK on success; otherwise sets "CALL: NAME: library's description" and
 * returns the matching dk_status. `call` may be a whole call expression: only
 * the function name (up to '(') is kept. */
dk_status dk__cuda_check(cudaError_t e, const char *call);
dk_status dk__cudnn_check(cudnnStatus_t s, const char *call);
dk_status dk__cublas_check(cublasStatus_t s, const char *call);
/* dk_status for each library's code (also used by the checks above). */
dk_status dk__cuda_status(cudaError_t e);
dk_status dk__cudnn_status(cudnnStatus_t s);
dk_status dk__cublas_status(cublasStatus_t s);

#define DK_CUDA(call) DK_TRY(dk__cuda_check((call), #call))
#define DK_CUDNN(call) DK_TRY(dk__cudnn_check((call), #call))
#define DK_CUBLAS(call) DK_TRY(dk__cublas_check((call), #call))

/* ---- descriptors from deltakern shapes (cudnn_desc.c; no device needed) -------------- */

/* Physical layout of a value on the device: NHWC for 4-D float32 when nhwc is set. */
int dk__cudnn_is_nhwc(const dk_cudnn_config *cfg, const dk_tensor *t);

/* Tensor descriptor of dims (rank padded to 4 with trailing 1s) stored
 * row-major, or NHWC when nhwc (4-D only). DK_ERR_UNSUPPORTED past 8 dims or
 * for dimensions beyond int. */
dk_status dk__cudnn_tensor_desc(cudnnTensorDescriptor_t d, cudnnDataType_t dt, int ndim,
                                const int64_t *dims, int nhwc);
/* The same with explicit element strides (ndim >= 3 after padding by the caller). */
dk_status dk__cudnn_tensor_desc_strided(cudnnTensorDescriptor_t d, cudnnDataType_t dt, int ndim,
                                        const int64_t *dims, const int64_t *strides);

/* Convolution geometry in cuDNN's terms: 1-D convolutions become 2-D with a
 * height of 1. DK_ERR_UNSUPPORTED (naming the node) when the padding is
 * asymmetric, which cuDNN cannot express. */
typedef struct dk_cudnn_conv_geom {
    int nd;                    /* tensor rank: 4 or 5 */
    int x[5], w[5], y[5];      /* input, filter (O, I/group, k...), output */
    int pad[3], stride[3], dilation[3];
    int group;
} dk_cudnn_conv_geom;
dk_status dk__cudnn_conv_geom(const dk_graph *g, const dk_node *n, dk_cudnn_conv_geom *geo);

/* ConvTranspose as the data gradient (cudnnConvolutionBackwardData) of a
 * forward convolution, in that convolution's terms: x is the ConvTranspose's
 * output (dx), y its input (dy), w the ONNX weight [C, M/group, k...] as it
 * is, pad the pad_begin. DK_ERR_UNSUPPORTED (why in the message) when
 * cuDNN's symmetric padding cannot give the output: a negative pad_begin, or
 * pad_begin - pad_end (output_padding folded in) outside [0, stride). */
dk_status dk__cudnn_convt_geom(const dk_graph *g, const dk_node *n, dk_cudnn_conv_geom *geo);

/* Sets the input, filter and convolution descriptors from geo (output dims
 * are then cuDNN's: see dk__cudnn_conv_out_dims). */
dk_status dk__cudnn_set_conv(const dk_cudnn_conv_geom *geo, cudnnDataType_t data, cudnnDataType_t compute,
                             int nhwc, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                             cudnnConvolutionDescriptor_t c);
/* The output dims cuDNN computes for the descriptors (cudnnGetConvolutionNdForwardOutputDim). */
dk_status dk__cudnn_conv_out_dims(cudnnConvolutionDescriptor_t c, cudnnTensorDescriptor_t x,
                                  cudnnFilterDescriptor_t w, int nd, int *out);

/* Pooling descriptor for MaxPool/AveragePool/Global*Pool; DK_ERR_UNSUPPORTED
 * (why in the message) for asymmetric padding, dilation or indices. */
dk_status dk__cudnn_pool_desc(cudnnPoolingDescriptor_t d, const dk_graph *g, const dk_node *n,
                              int deterministic);
/* Activation for Relu, Sigmoid and Clip with min 0 (clipped ReLU);
 * DK_ERR_UNSUPPORTED otherwise. */
dk_status dk__cudnn_activation_desc(cudnnActivationDescriptor_t d, const dk_node *n);
/* LRN across channels; DK_ERR_UNSUPPORTED outside cuDNN's limits (size 1..16, bias >= 1e-5, beta >= 0.01). */
dk_status dk__cudnn_lrn_desc(cudnnLRNDescriptor_t d, const dk_node *n);

/* ---- context, device values, workspace (cudnn_memory.c) ------------------------------ */

typedef struct dk_cudnn_value {
    void *dev;       /* device copy (NULL: none yet) */
    size_t bytes;
    int nhwc;        /* stored NHWC (4-D float32 with layout=nhwc) */
} dk_cudnn_value;

typedef struct dk_cudnn_ctx {
    dk_cudnn_config cfg;
    cudaStream_t stream;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
    const dk_graph *g;           /* the graph the values belong to (set by the first plan) */
    dk_cudnn_value *values;      /* one per graph value */
    int n_values;
    void *work;                  /* shared device workspace (nodes run one at a time) */
    size_t work_size;
    int verbose;                 /* DK_CUDNN_VERBOSE set: one line per planned node */
    int cc_major;                /* the device's compute capability (major) */
} dk_cudnn_ctx;

/* The backend's poison entry: every non-constant device value all-ones (NaN). */
dk_status dk__cudnn_poison(void *ctx, const dk_graph *g);
/* Makes sure value v of g has a device buffer; a constant is uploaded the first time,
 * anything else starts as NaN. */
dk_status dk__cudnn_value_ensure(dk_cudnn_ctx *ctx, const dk_graph *g, int v);
/* Device pointer of value v (NULL when it has none: the caller planned wrong). */
void *dk__cudnn_dev(dk_cudnn_ctx *ctx, int v);
/* Host canonical tensor -> device copy of v (transposed to NHWC when stored so); synchronous. */
dk_status dk__cudnn_upload(dk_cudnn_ctx *ctx, const dk_graph *g, int v, const dk_tensor *src);
/* Device copy of v -> host canonical tensor; synchronous. */
dk_status dk__cudnn_download(dk_cudnn_ctx *ctx, const dk_graph *g, int v, dk_tensor *dst);
/* Grows the shared workspace to at least bytes (plan time only). */
dk_status dk__cudnn_workspace(dk_cudnn_ctx *ctx, size_t bytes);
/* Uploads n bytes of host data into a new device buffer (*dev; free with cudaFree). */
dk_status dk__cudnn_upload_new(dk_cudnn_ctx *ctx, const void *host, size_t n, void **dev);
void dk__cudnn_values_free(dk_cudnn_ctx *ctx);

/* NCHW <-> NHWC on the host (dims are the NCHW dims). */
void dk__cudnn_nchw_to_nhwc(const float *src, float *dst, const int64_t *dims);
void dk__cudnn_nhwc_to_nchw(const float *src, float *dst, const int64_t *dims);

/* ---- plans ------------------------------------------------------------------------------ */

typedef struct dk_cudnn_plan dk_cudnn_plan;
typedef dk_status (*dk_cudnn_run_fn)(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g,
                                     const dk_node *n);

#define DK_CUDNN_MAX_DESCS 8
#define DK_CUDNN_MAX_OWNED 4

struct dk_cudnn_plan {
    dk_cudnn_plan_info info;               /* first: a plan pointer is an info pointer */
    dk_cudnn_run_fn run;                   /* NULL: host fallback */
    cudaEvent_t start, stop;
    double host_seconds;                   /* host fallback: its wall time */
    cudnnTensorDescriptor_t t[DK_CUDNN_MAX_DESCS]; /* the op's tensor descriptors, by role */
    cudnnFilterDescriptor_t filter;
    cudnnConvolutionDescriptor_t conv;
    cudnnActivationDescriptor_t act;
    cudnnActivationDescriptor_t post_act;  /* conv: a post-op activation run after it */
    cudnnPoolingDescriptor_t pool;
    cudnnLRNDescriptor_t lrn;
    cudnnOpTensorDescriptor_t op[2];
    cudnnReduceTensorDescriptor_t reduce;
    cudnnConvolutionFwdAlgo_t algo;
    cudnnConvolutionBwdDataAlgo_t bwd_algo; /* ConvTranspose's backward-data algorithm */
    size_t work_bytes;                     /* of the shared workspace */
    void *owned[DK_CUDNN_MAX_OWNED];       /* device buffers of this plan (weights, constants) */
    int fused_act;                         /* conv: bias (+ residual, Relu) in one
                                              cudnnConvolutionBiasActivationForward */
    int half;                              /* conv: math=fp16, operands converted to float16 */
    int swap;                              /* binary: A and B exchanged (A was the broadcast one) */
    float alpha[2];
    int64_t i[8];                          /* op-specific integers (documented by each planner) */
};

/* Marks p as run on the host by the reference kernel, saying why (printf-like). */
dk_status dk__cudnn_fallback(dk_cudnn_plan *p, const char *fmt, ...) DK_PRINTF(2, 3);
/* For a planner's DK_ERR_UNSUPPORTED: falls back with the current error message. */
dk_status dk__cudnn_fallback_last(dk_cudnn_plan *p);
/* Creates descriptor slots t[0..n) of p. */
dk_status dk__cudnn_plan_tensors(dk_cudnn_plan *p, int n);

/* Graph helpers. */
static inline const dk_tensor *dk__cudnn_in(const dk_graph *g, const dk_node *n, int i)
{
    return i < n->n_inputs && n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
}
static inline const dk_tensor *dk__cudnn_out(const dk_graph *g, const dk_node *n, int o)
{
    return o < n->n_outputs && n->outputs[o] >= 0 ? &g->values[n->outputs[o]].t : NULL;
}
static inline const dk_tensor *dk__cudnn_const(const dk_graph *g, const dk_node *n, int i)
{
    if (i >= n->n_inputs || n->inputs[i] < 0) return NULL;
    const dk_value *v = &g->values[n->inputs[i]];
    return v->kind == DK_VALUE_CONSTANT && v->t.data ? &v->t : NULL;
}
/* 1 when every present input and output is float32. */
int dk__cudnn_all_f32(const dk_graph *g, const dk_node *n);

#define DK_CUDNN_PLANNER(fn) \
    dk_status fn(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p)

/* cudnn_conv.c */
DK_CUDNN_PLANNER(dk__cudnn_plan_conv);
#define DK_CUDNN_FIND_WORKSPACE_CAP ((size_t)1 << 30) /* largest workspace an algorithm may ask for */
/* Is an algorithm cuDNN offers (its status, workspace, determinism and math
 * type) acceptable under the variant's math (math=fp32: no TF32 tensor cores)
 * and determinism? Shared by the forward and backward-data choices. */
int dk__cudnn_algo_acceptable(const dk_cudnn_ctx *ctx, cudnnStatus_t status, size_t memory,
                               cudnnDeterminism_t determinism, cudnnMathType_t math);
/* The timed search: algo=find, or opt=3's choose_algorithm where no algorithm is named. */
int dk__cudnn_wants_search(const dk_cudnn_ctx *ctx, const dk_graph *g);
/* Records what the chosen (forward or backward-data) algorithm means for the
 * plan's traits (cudnn_plan_info.h): cuDNN's determinism flag, whether the
 * choice was timed, and whether it is a transform (Winograd, FFT). */
void dk__cudnn_note_choice(const dk_cudnn_ctx *ctx, const dk_graph *g, dk_cudnn_plan *p,
                           cudnnDeterminism_t determinism, int transform);
/* Uploads constant weights w into p->owned[0] as the convolution reads them:
 * NHWC-ordered filter when nhwc, float16 when p->half (geo->w: the filter dims). */
dk_status dk__cudnn_upload_filter(dk_cudnn_ctx *ctx, const dk_cudnn_conv_geom *geo, int nhwc, const dk_tensor *w,
                                  dk_cudnn_plan *p);
/* cudnn_convt.c: ConvTranspose as cudnnConvolutionBackwardData (+ cudnnAddTensor
 * for the bias). The host-side half, used by the planner and by the unit
 * tests without a GPU: checks what the cuDNN path covers and sets p's
 * descriptors (t[0] the input as dy, t[1] the output as dx, t[2] the bias,
 * filter, conv) and *geo. DK_ERR_UNSUPPORTED, saying why, for what runs on
 * the host. */
dk_status dk__cudnn_convt_descs(const dk_cudnn_config *cfg, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p,
                                dk_cudnn_conv_geom *geo);
DK_CUDNN_PLANNER(dk__cudnn_plan_convtranspose);
/* cudnn_dense.c (cuBLAS) */
DK_CUDNN_PLANNER(dk__cudnn_plan_gemm);
DK_CUDNN_PLANNER(dk__cudnn_plan_matmul);
/* cudnn_ops.c */
DK_CUDNN_PLANNER(dk__cudnn_plan_pool);       /* MaxPool, AveragePool, Global*Pool */
DK_CUDNN_PLANNER(dk__cudnn_plan_activation); /* Relu, Sigmoid, Clip, HardSigmoid, HardSwish, LeakyRelu */
DK_CUDNN_PLANNER(dk__cudnn_plan_binary);     /* Add, Sub, Mul */
DK_CUDNN_PLANNER(dk__cudnn_plan_batchnorm);
DK_CUDNN_PLANNER(dk__cudnn_plan_lrn);
DK_CUDNN_PLANNER(dk__cudnn_plan_softmax);
DK_CUDNN_PLANNER(dk__cudnn_plan_reducemean);
/* cudnn_move.c: data movement by device copies and cudnnTransformTensor */
DK_CUDNN_PLANNER(dk__cudnn_plan_concat);
DK_CUDNN_PLANNER(dk__cudnn_plan_reshape);    /* Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout */
DK_CUDNN_PLANNER(dk__cudnn_plan_pad);        /* constant mode */
/* Concat's copy of input k: `height` rows of `width` bytes from the input
 * (packed) to the output at dst_offset + row * dst_pitch (cudaMemcpy2DAsync). */
typedef struct dk_cudnn_copy2d {
    size_t dst_offset, dst_pitch, width, height;
} dk_cudnn_copy2d;
#define DK_CUDNN_MAX_CONCAT 64
void dk__cudnn_concat_geometry(const dk_cudnn_config *cfg, const dk_graph *g, const dk_node *n,
                               dk_cudnn_copy2d *copies);

/* cudnn_plan.c */
/* Runs the op's planner (or marks the plan host fallback): descriptors and
 * choices only; the node's values must already be on the device for the
 * planners that upload or search (conv, Gemm's C, general Clip). */
dk_status dk__cudnn_plan_choose(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p);
dk_status dk__cudnn_plan_node(dk_cudnn_ctx *ctx, const dk_graph *g, int node, dk_cudnn_plan **out);
void dk__cudnn_plan_free(dk_cudnn_plan *p);
dk_status dk__cudnn_plan_execute(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g,
                                 const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out);
double dk__cudnn_plan_seconds(dk_cudnn_plan *p);

#endif
