/* Internal to kernels/onednn: the one place that knows oneDNN 2.x's C API.
 *
 * oneDNN 3 removed operation descriptors (dnnl_*_desc_init followed by
 * dnnl_primitive_desc_create became one dnnl_*_primitive_desc_create call),
 * made memory descriptors opaque handles that must be destroyed, renamed
 * some algorithms (clip_v2, softmax_v2, pooling_v2) and dropped the scale
 * argument of eltwise post-ops. Every call of that kind goes through the
 * functions below (onednn_api.c), so a port to oneDNN 3 changes these two
 * files only. The rest of the backend uses the calls both versions share:
 * engines, streams, primitives, memories created from a descriptor,
 * dnnl_memory_set_data_handle, dnnl_primitive_execute with dnnl_exec_arg_t.
 *
 * Creators of primitive descriptors return the oneDNN status so that the
 * caller can tell "oneDNN has no implementation for this case" (fall back)
 * from a real failure (report it). */
#ifndef DK_KERNELS_ONEDNN_ONEDNN_API_H
#define DK_KERNELS_ONEDNN_ONEDNN_API_H

#include <stddef.h>
#include <stdint.h>

#include <dnnl.h>

#include "deltakern/graph.h"

/* A memory descriptor owned by the caller: a value in oneDNN 2.x, a handle to
 * destroy with dk_dnnl_md_fini in oneDNN 3. Zero-initialise before use. */
typedef struct dk_dnnl_md {
    dnnl_memory_desc_t d;
} dk_dnnl_md;

/* ---- errors ------------------------------------------------------------- */

/* oneDNN's name for a status ("unimplemented", "out_of_memory", ...). */
const char *dk_dnnl_status_str(dnnl_status_t s);

/* dk_status for a failed oneDNN call: sets the message
 * "node 'NAME' (Op): WHAT: oneDNN STATUS" (node may be NULL) and returns
 * DK_ERR_NOMEM, DK_ERR_UNSUPPORTED (unimplemented) or DK_ERR_INTERNAL. */
dk_status dk_dnnl_error(dnnl_status_t s, const dk_node *n, const char *what);

/* ---- memory descriptors (float32) --------------------------------------- */

/* Element types: float32 (dnnl_f32) everywhere; bfloat16 (dnnl_bf16) for
 * the operands of fpmath=bf16 convolutions and matmuls. */

/* Dense row-major float32: the canonical layout of a deltakern tensor. ndims
 * 0 is treated as the 1-D shape [1]. */
dnnl_status_t dk_dnnl_md_plain(dk_dnnl_md *md, int ndims, const int64_t *dims);
/* Dense row-major of element type dt. */
dnnl_status_t dk_dnnl_md_plain_dt(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                  dnnl_data_type_t dt);
/* Explicit element strides (e.g. a transposed matrix). */
dnnl_status_t dk_dnnl_md_strided(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                 const int64_t *strides, dnnl_data_type_t dt);
/* Layout left to the primitive (format_tag any). */
dnnl_status_t dk_dnnl_md_any(dk_dnnl_md *md, int ndims, const int64_t *dims,
                             dnnl_data_type_t dt);
/* Channels blocked by 16 (nCw16c, nChw16c, nCdhw16c for 3 to 5 dims). */
dnnl_status_t dk_dnnl_md_blocked16(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                   dnnl_data_type_t dt);
/* Channels blocked by `block` (8 or 16), 3 to 5 dims. */
dnnl_status_t dk_dnnl_md_blocked(dk_dnnl_md *md, int ndims, const int64_t *dims,
                                 dnnl_data_type_t dt, int block);
/* Copy of a primitive descriptor's memory descriptor: `what` is one of
 * dnnl_query_{src,weights,dst,scratchpad}_md, `index` its position. */
void dk_dnnl_pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index,
                   dk_dnnl_md *out);
int dk_dnnl_md_equal(const dk_dnnl_md *a, const dk_dnnl_md *b);
size_t dk_dnnl_md_size(const dk_dnnl_md *md);
void dk_dnnl_md_fini(dk_dnnl_md *md);

/* Memory object over `handle` (NULL: none yet; DNNL_MEMORY_ALLOCATE: owned). */
dnnl_status_t dk_dnnl_memory(dnnl_engine_t engine, const dk_dnnl_md *md, void *handle,
                             dnnl_memory_t *mem);

/* ---- attributes ------------------------------------------------------------ */

/* Element-wise functions, as eltwise primitives and post-ops. */
typedef enum dk_dnnl_act {
    DK_DNNL_RELU,      /* x > 0 ? x : alpha x */
    DK_DNNL_LINEAR,    /* alpha x + beta */
    DK_DNNL_CLIP,      /* min(max(x, alpha), beta) */
    DK_DNNL_LOGISTIC,  /* 1 / (1 + exp(-x)) */
    DK_DNNL_HARDSWISH, /* x * min(max(x / 6 + 1/2, 0), 1) */
    DK_DNNL_SQRT,      /* sqrt(x) */
    DK_DNNL_TANH,      /* tanh(x) */
    DK_DNNL_POW,       /* alpha x^beta */
    DK_DNNL_ABS,       /* |x| */
    DK_DNNL_EXP,       /* exp(x) */
    DK_DNNL_ELU        /* x > 0 ? x : alpha (exp(x) - 1) */
} dk_dnnl_act;

typedef struct dk_dnnl_postop {
    enum { DK_DNNL_POST_ELTWISE, DK_DNNL_POST_BINARY, DK_DNNL_POST_SUM } kind;
                                  /* SUM: dst += the primitive's result (dst pre-filled) */
    dk_dnnl_act act;              /* ELTWISE */
    float alpha, beta;
    dnnl_alg_kind_t binary;       /* BINARY: dnnl_binary_add, ... */
    const dk_dnnl_md *src1;       /* BINARY: the second operand */
} dk_dnnl_postop;

/* Attributes every primitive of the backend gets: user-managed scratchpad
 * (allocated at plan time), fpmath mode bf16 when bf16 is set, then the
 * post-ops (may be NULL/0). Destroy with dnnl_primitive_attr_destroy. */
dnnl_status_t dk_dnnl_attr(dnnl_primitive_attr_t *attr, int bf16, const dk_dnnl_postop *post,
                           int n_post);

/* ---- primitive descriptors (forward inference) ------------------------------ */

/* Convolution; bias may be NULL. dilation in oneDNN's convention (0 = dense),
 * padding_r may include extra trailing padding. */
dnnl_status_t dk_dnnl_conv_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                              dnnl_alg_kind_t alg, const dk_dnnl_md *src, const dk_dnnl_md *wei,
                              const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                              const int64_t *strides, const int64_t *dilation,
                              const int64_t *padding_l, const int64_t *padding_r,
                              const_dnnl_primitive_attr_t attr);
/* Deconvolution (direct); bias may be NULL; dilation and padding as for
 * dk_dnnl_conv_pd. */
dnnl_status_t dk_dnnl_deconv_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *src, const dk_dnnl_md *wei,
                                const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                                const int64_t *strides, const int64_t *dilation,
                                const int64_t *padding_l, const int64_t *padding_r,
                                const_dnnl_primitive_attr_t attr);
/* Nearest-neighbour resampling, the factors taken from dst / src. */
dnnl_status_t dk_dnnl_resampling_nearest_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                            const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                            const_dnnl_primitive_attr_t attr);
/* The algorithm a convolution primitive descriptor settled on (direct or
 * winograd; `auto` is resolved at creation). */
dnnl_alg_kind_t dk_dnnl_conv_alg(const_dnnl_primitive_desc_t pd);

/* Pooling: max = 1 for max pooling, else average with include_pad. */
dnnl_status_t dk_dnnl_pool_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, int max,
                              int include_pad, const dk_dnnl_md *src, const dk_dnnl_md *dst,
                              const int64_t *strides, const int64_t *kernel,
                              const int64_t *dilation, const int64_t *padding_l,
                              const int64_t *padding_r, const_dnnl_primitive_attr_t attr);
/* Eltwise with src and dst of the same descriptor. */
dnnl_status_t dk_dnnl_eltwise_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 dk_dnnl_act act, float alpha, float beta,
                                 const dk_dnnl_md *data, const_dnnl_primitive_attr_t attr);
dnnl_status_t dk_dnnl_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                dnnl_alg_kind_t alg, const dk_dnnl_md *src0,
                                const dk_dnnl_md *src1, const dk_dnnl_md *dst,
                                const_dnnl_primitive_attr_t attr);
/* Batch normalisation with given mean and variance, scale and shift. */
dnnl_status_t dk_dnnl_bnorm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, float epsilon,
                               const_dnnl_primitive_attr_t attr);
/* Batch normalisation computing its own statistics over every dim but the
 * channel dim (forward training: mean and variance are outputs), with scale
 * and shift: InstanceNormalization on a batch of one. */
dnnl_status_t dk_dnnl_bnorm_stats_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const dk_dnnl_md *data, float epsilon,
                                     const_dnnl_primitive_attr_t attr);
/* PReLU: dst = src > 0 ? src : weights * src, weights broadcast (each dim
 * equal to data's or 1). */
dnnl_status_t dk_dnnl_prelu_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, const dk_dnnl_md *weights,
                               const_dnnl_primitive_attr_t attr);
/* Layer normalisation over the last dim of data, statistics computed;
 * scale always, shift when has_shift. */
dnnl_status_t dk_dnnl_lnorm_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                               const dk_dnnl_md *data, float epsilon, int has_shift,
                               const_dnnl_primitive_attr_t attr);
/* LRN across channels. */
dnnl_status_t dk_dnnl_lrn_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                             const dk_dnnl_md *data, int64_t size, float alpha, float beta,
                             float k, const_dnnl_primitive_attr_t attr);
dnnl_status_t dk_dnnl_softmax_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 const dk_dnnl_md *src, const dk_dnnl_md *dst, int axis,
                                 const_dnnl_primitive_attr_t attr);
dnnl_status_t dk_dnnl_concat_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *dst, int n, int axis, const dk_dnnl_md *srcs,
                                const_dnnl_primitive_attr_t attr);
/* Matmul; bias may be NULL. */
dnnl_status_t dk_dnnl_matmul_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                const dk_dnnl_md *src, const dk_dnnl_md *wei,
                                const dk_dnnl_md *bias, const dk_dnnl_md *dst,
                                const_dnnl_primitive_attr_t attr);
/* Reduction by mean over the dims where dst has size 1 and src does not. */
dnnl_status_t dk_dnnl_reduce_mean_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                     const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                     const_dnnl_primitive_attr_t attr);
dnnl_status_t dk_dnnl_reorder_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                 const dk_dnnl_md *src, const dk_dnnl_md *dst,
                                 const_dnnl_primitive_attr_t attr);

/* oneDNN's implementation name for a primitive descriptor ("jit:avx512_core"). */
const char *dk_dnnl_impl_str(const_dnnl_primitive_desc_t pd);

/* ---- library and CPU ISA ------------------------------------------------------ */

/* "2.6.3 (git N/A, OpenMP runtime)". */
const char *dk_dnnl_library_version(char *buf, size_t n);
/* Maximum CPU ISA by its option name ("avx2"); "all" lifts the limit. The
 * setting is process-wide and can be made once, before the first primitive. */
dnnl_status_t dk_dnnl_set_max_isa(const char *name);
/* Name of the ISA oneDNN dispatches to. Reading it fixes the setting for the
 * process, like creating a primitive does. */
const char *dk_dnnl_effective_isa(void);
/* The highest of the option's ISAs that this CPU (and OS) supports, found
 * without asking oneDNN, so without fixing anything. */
const char *dk_dnnl_detected_isa(void);

#endif
