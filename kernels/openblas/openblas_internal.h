/* Internal: the OpenBLAS backend's shared declarations (kernels/openblas/).
 *
 * A context (one per session) holds the variant's options and one scratch
 * buffer for im2col. Each node's plan (ob_plan) holds what its kernel decided
 * at plan time: the float32 kernel to run, or the reference kernel it
 * delegates to, the convolution geometry and lowering, the thread count the
 * scratch was sized for. */
#ifndef DK_KERNELS_OPENBLAS_OPENBLAS_INTERNAL_H
#define DK_KERNELS_OPENBLAS_OPENBLAS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"
#include "runtime/sanitize.h"
#include "runtime/vector.h"

typedef enum ob_conv_option {
    OB_CONV_AUTO = 0, /* direct GEMM for 1x1/s1/p0, direct loop for depthwise, im2col otherwise */
    OB_CONV_IM2COL,   /* every convolution through im2col + sgemm */
    OB_CONV_WINOGRAD  /* 3x3 stride-1 undilated one-group 2-D: Winograd F(2x2, 3x3); else auto */
} ob_conv_option;

typedef struct ob_ctx {
    ob_conv_option conv;
    /* Scratch shared by the context's nodes (im2col columns, padded depthwise
     * planes, LRN sums; one slice per thread): the session runs one node at a
     * time, so one buffer sized at plan time for the largest node serves them
     * all, and execute never allocates. */
    float *scratch;
    size_t scratch_floats;
} ob_ctx;

/* How a convolution is computed. */
typedef enum ob_lowering {
    OB_LOWER_GEMM,      /* 1x1, stride 1, no padding: W_g [opg x cpg] * X_g [cpg x plane] */
    OB_LOWER_IM2COL,    /* col [cpg*taps x out plane] per group, then W_g * col */
    OB_LOWER_DEPTHWISE, /* one input channel per group: direct float loop per output plane */
    OB_LOWER_WINOGRAD   /* 16 sgemms on Winograd-transformed tiles (openblas_winograd.c) */
} ob_lowering;

/* Convolution geometry, right-aligned to 3 spatial axes (leading axes of
 * size 1 for 1-D and 2-D convolutions, as in the reference). */
typedef struct ob_conv_geom {
    ob_lowering lowering;
    int64_t batch, in_c, out_c, group, cpg, opg; /* cpg/opg: in/out channels per group */
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
    int64_t in_plane, out_plane, taps, k_len;    /* k_len = cpg * taps (GEMM K) */
    int tasks_parallel;                          /* 1: (image, group) tasks spread over threads,
                                                    each with its own col buffer and a
                                                    single-threaded sgemm */
    int rows_parallel;                           /* 1: one group, its output channels split
                                                    over the threads (OB_SPLIT_MIN_ROWS) */
    int cols_parallel;                           /* 1: IM2COL in chunks of chunk_rows output
                                                    rows over the threads (OB_COL_CHUNK) */
    int64_t chunk_rows;
    /* DEPTHWISE with unit strides (flat = 1): the input plane is copied into a
     * zero-padded plane (padded[3], pitches pitch_d, pitch_h), where output
     * (od, oh, ow) accumulates at od*pitch_d + oh*pitch_h + ow, so each tap is
     * one constant offset: one contiguous loop per tap over acc_len positions
     * (those between rows are computed, never read). Strided: row by row. */
    int flat;
    int64_t padded[3], pitch_d, pitch_h, padded_plane, acc_len;
    int64_t wino_tiles;                          /* WINOGRAD: 2x2 output tiles per image */
} ob_conv_geom;

/* MatMul after numpy promotion and broadcasting. */
typedef struct ob_matmul_geom {
    int64_t m, n, k, batches;
    int nb;                                      /* batch dims of the output */
    int64_t dims[DK_MAX_DIMS], sa[DK_MAX_DIMS], sb[DK_MAX_DIMS];
    int collapse;                                /* B shared by every batch and A dense:
                                                    one [batches*m x k] x [k x n] sgemm */
} ob_matmul_geom;

/* AveragePool geometry, right-aligned to 3 spatial axes. With unit strides
 * (flat = 1) the window sums run over whole planes as in the depthwise
 * convolution: on the input itself when unpadded, else on a zero-padded copy
 * (copy = 1), pitches pitch_d and pitch_h, acc_len accumulator positions. */
typedef struct ob_pool_geom { /* AveragePool and MaxPool */
    int64_t planes;
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
    int flat, copy;
    int empty_cols;                              /* MaxPool: an output column whose
                                                    windows have no tap in the input */
    int64_t padded[3], pitch_d, pitch_h, padded_plane, acc_len;
} ob_pool_geom;

typedef struct ob_plan ob_plan;
typedef dk_status (*ob_exec_fn)(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out);

struct ob_plan {
    ob_exec_fn exec;          /* float32 kernel of this backend, or NULL... */
    int fallback;             /* ...or the node runs on the reference kernels (kernels/fallback.h) */
    int threads;              /* OpenMP threads at plan time: scratch holds this many buffers */
    size_t scratch_floats;    /* per thread */
    ob_conv_geom conv;
    ob_matmul_geom mm;
    ob_pool_geom pool;
    float *wino_u;            /* WINOGRAD: transformed weights [16][M][C]; owned */
    int wino_u_fixed;         /* ...computed at plan time (constant weights) */
    size_t row_floats;        /* WINOGRAD: per-thread row buffer of the transforms */
    float *divisors;          /* AveragePool, MaxPool: per axis, each output index's tap count
                                 (out[0] + out[1] + out[2] floats); owned */
};

/* Output positions [*lo, *hi) of `out` along one axis whose tap at offset
 * `off` (= tap * dilation - pad_begin) reads inside the input:
 * 0 <= o * s + off < in. */
static inline void ob_valid_range(int64_t out, int64_t in, int64_t s, int64_t off, int64_t *lo,
                                  int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* OpenMP helpers that also compile without OpenMP. */
int dk__ob_max_threads(void);
/* AVX-512 F, DQ, CD, BW and VL: what OpenBLAS's SkylakeX kernels run on (openblas_core.c) */
int dk__openblas_cpu_has_avx512(void);
/* dk_openblas_better_core's decision from its inputs: the variant's core=
 * (or NULL), OPENBLAS_CORETYPE (or NULL), the loaded kernel set's name and
 * whether the CPU has AVX-512 (openblas_core.c) */
const char *dk__openblas_choose_core(const char *wanted, const char *env, const char *loaded,
                                     int cpu_avx512);
int dk__ob_thread_num(void);

/* Grows ctx->scratch to at least `floats` floats (plan time only). */
dk_status dk__ob_reserve_scratch(ob_ctx *ctx, const dk_node *n, size_t floats);

/* openblas_conv.c */
dk_status dk__ob_plan_conv(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
dk_status dk__ob_exec_conv(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                       const dk_tensor *const *in, dk_tensor *const *out);
/* A one-group GEMM convolution whose output channels give every thread at
 * least this many rows splits them over the threads, each running a
 * single-threaded sgemm and the post-ops on its rows, instead of one
 * OpenBLAS-threaded sgemm and a pass over the output afterwards: 0.74-0.83
 * of the time for M x K x N = 2048x512x49, 1024x256x196, 512x128x784 and
 * 0.93-0.97 for 256x64x3136 and 128x512x784 (2 threads, with the post-op
 * pass), but 1.2x for 64 rows, where OpenBLAS splits the long N itself. */
#define OB_SPLIT_MIN_ROWS 64
/* An im2col convolution not split by rows whose col would exceed 4 times
 * this many floats (2 MB, an L2 cache) is built and multiplied in chunks of
 * output rows of about this size (512 KB), one per thread at a time, so that
 * the col stays in the thread's cache instead of a trip through memory.
 * ResNet-50's 7x7 stem (a 7.4 MB col): 1.64-1.70 ms against 2.57-2.58 in the
 * network; with smaller cols (SqueezeNet's 1.3 and 1.7 MB) chunks were
 * 3-11% slower than one OpenBLAS-threaded sgemm. */
#define OB_COL_CHUNK (128 * 1024)

/* At opt=3 (the choose_algorithm pass) conv=auto takes Winograd for the 3x3
 * layers it fits with at least this many input and output channels: measured
 * faster than im2col there on ResNet-50, InceptionV3 and GoogLeNet (0.72-0.99
 * of the time, `deltakern sweep -b openblas`), slower below (up to 1.5x with
 * 16-48 input channels, where the transforms outweigh the GEMMs saved). A
 * fixed rule rather than timing, so that opt=3 computes the same bits on
 * every run and machine. */
#define OB_WINOGRAD_MIN_CHANNELS 64
/* ...and at least this many 2x2 output tiles: each GEMM reads 16 x M x C
 * transformed weights (16/9 of the direct weights) for T tiles, so a small
 * plane is bound by reading them. ResNet-50's two 512-channel 3x3 layers at
 * 7x7 (T = 16, 16 MB of U each) took 4.29-4.43 ms in the network by
 * Winograd against 3.85-3.91 by im2col. */
#define OB_WINOGRAD_MIN_TILES 32

/* openblas_winograd.c: whether the Conv (geometry c) runs by Winograd
 * F(2x2, 3x3) (it fits, and conv=winograd or opt=3's rule above), its plan
 * (after dk__ob_plan_conv's geometry) and kernel (no post-op pass) */
int dk__ob_winograd_chosen(const ob_ctx *ctx, const dk_graph *g, const dk_node *n,
                           const ob_conv_geom *c);
dk_status dk__ob_plan_winograd(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
dk_status dk__ob_exec_winograd(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                               const dk_tensor *const *in, dk_tensor *const *out);
/* openblas_conv.c: y = act((y + bias) + sum) over len outputs of one
 * channel (no bias added when has_bias is 0: adding +0 would turn -0 into
 * +0; sum may be NULL), each operation rounded to float as the unfused Conv,
 * Add and Relu/Clip nodes round it: every fused epilogue of this backend. */
void dk__ob_bias_post_row(float *restrict y, const float *sum, int has_bias, float bias,
                          const dk_post_ops *post, int64_t len);
/* openblas_dense.c */
dk_status dk__ob_plan_gemm(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
dk_status dk__ob_plan_matmul(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
/* openblas_ops.c: float32 kernels with float accumulation */
dk_status dk__ob_plan_avgpool(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
/* MaxPool float32 without Indices (else p->exec stays NULL: the reference) */
dk_status dk__ob_plan_maxpool(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p);
dk_status dk__ob_exec_globalavgpool(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out);
dk_status dk__ob_exec_softmax(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                          const dk_tensor *const *in, dk_tensor *const *out);
dk_status dk__ob_exec_reducemean(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out);
dk_status dk__ob_exec_lrn(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                      const dk_tensor *const *in, dk_tensor *const *out);
dk_status dk__ob_exec_batchnorm(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                            const dk_tensor *const *in, dk_tensor *const *out);

/* Error for node n: "node 'NAME' (Op): what" (printf-style). */
dk_status dk__ob_error(const dk_node *n, dk_status s, const char *fmt, ...) DK_PRINTF(3, 4);

#endif
