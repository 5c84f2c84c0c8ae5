/* Internal to kernels/onednn: the backend's context and per-node plans.
 *
 * A plan is a short list of steps (oneDNN primitives: reorders and the
 * operation) run in order on the context's one stream, over memory objects
 * created at plan time. Each memory object is bound to
 *   - a session tensor (input i or output o of the node): its data handle is
 *     set at execute time, and only when the tensor's buffer moved;
 *   - a region of the context's workspace (reordered activations, a
 *     primitive's scratchpad): the workspace is shared by every node, since
 *     nodes run one at a time, and is sized at plan time;
 *   - its own buffer (weights reordered once at plan time).
 * Execute thus only sets handles that changed, runs the primitives and waits.
 *
 * Nodes that oneDNN cannot run (data movement, integer types, run-time Clip
 * bounds, MaxPool indices, shapes without an implementation) are planned as
 * "fallback" and run by the reference backend's kernels, in plain C on the
 * same host tensors; plan->note says why. */
#ifndef DK_KERNELS_ONEDNN_ONEDNN_INTERNAL_H
#define DK_KERNELS_ONEDNN_ONEDNN_INTERNAL_H

#include <stdio.h>

#include "kernels/onednn/onednn_api.h"
#include "kernels/onednn/onednn_plan_info.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"

typedef enum dk_onednn_algo {
    DK_ONEDNN_ALGO_AUTO,
    DK_ONEDNN_ALGO_DIRECT,
    DK_ONEDNN_ALGO_WINOGRAD
} dk_onednn_algo;

/* opt=3 (layout propagation): a value a convolution wrote in its own layout
 * stays there, in a buffer of the context, for the next convolution to read;
 * the host tensor is filled only when a consumer needs NCHW (a reorder step
 * of that consumer's plan) or the session asks (to_canonical). */
typedef struct dk_onednn_native {
    dk_dnnl_md md;
    void *buf;                    /* NULL: the value lives in its host tensor */
    void *own;                    /* the allocation buf is; NULL when buf lies in
                                     another value's (a Concat's part, in place) */
} dk_onednn_native;

typedef struct dk_onednn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int plain;                    /* layout=plain: NCHW/OIHW everywhere */
    int nchw16c;                  /* layout=nchw16c: convolutions on nChw16c */
    int bf16;                     /* fpmath=bf16 */
    dk_onednn_algo algo;
    int algo_given, layout_given; /* set in the variant (opt=3 then does not choose them) */
    int fuse;                     /* fuse=on: a Conv's fused sum/activation as post-ops */
    int propagate;                /* graph asks for layout propagation (opt=3), not plain */
    int dst_blocked;              /* opt=3's choice for a Concat's input: a destination in
                                     another layout reordered into channels blocked by 16 */
    int n_native;
    dk_onednn_native *native;     /* per graph value, allocated at the first plan */
    int verbose;                  /* DK_ONEDNN_VERBOSE set: one line per planned node */
    unsigned char *work;          /* shared workspace, DK_ONEDNN_ALIGN aligned */
    size_t work_size;
} dk_onednn_ctx;

#define DK_ONEDNN_ALIGN 64

typedef enum dk_onednn_bind {
    DK_ONEDNN_BIND_INPUT,   /* in[index]->data */
    DK_ONEDNN_BIND_OUTPUT,  /* out[index]->data */
    DK_ONEDNN_BIND_WORK,    /* ctx->work + offset */
    DK_ONEDNN_BIND_OWNED,   /* its own buffer, set at creation */
    DK_ONEDNN_BIND_NATIVE   /* native value `index`'s buffer, which a later plan may move */
} dk_onednn_bind;

typedef struct dk_onednn_mem {
    dnnl_memory_t mem;
    dk_onednn_bind bind;
    int index;
    size_t offset;
    size_t bytes;           /* the size its descriptor gives */
    void *bound;            /* handle set last (NULL: none yet); an owned buffer's */
    void *shared;           /* a shared weights buffer to release with the plan */
} dk_onednn_mem;

/* One contiguous copy between native values' buffers, located at run time
 * (skipped when the source already lies in place). */
typedef struct dk_onednn_copy {
    int dst_value, src_value;
    size_t dst_offset, src_offset, bytes;
} dk_onednn_copy;

typedef struct dk_onednn_step {
    dnnl_primitive_t prim;  /* NULL: the step is its copies, in order */
    int nargs;
    dnnl_exec_arg_t *args;
    int n_copies;
    dk_onednn_copy *copies;
} dk_onednn_step;

typedef struct dk_onednn_plan {
    dk_onednn_plan_info info; /* first: a plan pointer is an info pointer */
    int n_mems, cap_mems;
    dk_onednn_mem *mems;
    int n_steps, cap_steps;
    dk_onednn_step *steps;
    size_t work_used;       /* bytes of the workspace this plan uses */
    int n_pre;              /* leading steps bringing native inputs to NCHW (run
                               before a fallback's reference kernel too) */
} dk_onednn_plan;

/* One argument of a step: DNNL_ARG_* and a memory from dk_onednn_mem_*. */
typedef struct dk_onednn_arg {
    int arg;
    dnnl_memory_t mem;
} dk_onednn_arg;

/* ---- building plans (onednn_plan.c) --------------------------------------- */

/* Memory of descriptor md bound to input/output `index` of the node. */
dk_status dk_onednn_mem_io(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                           const dk_dnnl_md *md, dk_onednn_bind bind, int index,
                           dnnl_memory_t *mem);
/* Memory of descriptor md in this plan's part of the shared workspace. */
dk_status dk_onednn_mem_work(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                             const dk_dnnl_md *md, dnnl_memory_t *mem);
/* Memory over native value v's buffer, rebound when the buffer moves. */
dk_status dk_onednn_mem_native(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                               const dk_dnnl_md *md, int v, dnnl_memory_t *mem);
/* Memory over a buffer that outlives the plan, never rebound. */
dk_status dk_onednn_mem_fixed(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                              const dk_dnnl_md *md, void *handle, dnnl_memory_t *mem);
/* Memory with its own buffer; filled by the caller (or a plan-time reorder). */
dk_status dk_onednn_mem_owned(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                              const dk_dnnl_md *md, dnnl_memory_t *mem);

/* Appends a step running the primitive of pd on args; adds the scratchpad
 * argument when pd needs one. Takes ownership of pd (destroyed here). */
dk_status dk_onednn_add_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                         dnnl_primitive_desc_t pd, const dk_onednn_arg *args, int nargs);
/* Appends a step of plain copies (taken over: freed with the plan). */
dk_status dk_onednn_add_copy_step(dk_onednn_plan *p, const dk_node *n, dk_onednn_copy *copies,
                                  int n_copies);
/* Appends a reorder step from src (descriptor src_md) to dst (dst_md). */
dk_status dk_onednn_reorder_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                                 const dk_dnnl_md *src_md, dnnl_memory_t src,
                                 const dk_dnnl_md *dst_md, dnnl_memory_t dst);
/* Plan time: copies `data` (laid out as src_md) into a new owned memory of
 * layout dst_md, by a reorder run now. */
dk_status dk_onednn_reorder_now(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                                const dk_dnnl_md *src_md, const void *data,
                                const dk_dnnl_md *dst_md, dnnl_memory_t *dst);

/* Memory holding input `index` in layout `want` for a primitive: the input
 * itself when want is its canonical layout `plain`; a constant input
 * reordered now into an owned buffer; else the input reordered into the
 * workspace by a step added here (so add it before the primitive's step). */
dk_status dk_onednn_input_as(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                             const dk_node *n, int index, const dk_dnnl_md *plain,
                             const dk_dnnl_md *want, dnnl_memory_t *mem);

/* Attributes for the node's primitives (fpmath from the context). */
dk_status dk_onednn_attr(dk_onednn_ctx *ctx, const dk_node *n, const dk_dnnl_postop *post,
                         int n_post, dnnl_primitive_attr_t *attr);

/* Marks the plan as run by the reference backend, saying why (printf-like). */
dk_status dk_onednn_fallback(dk_onednn_plan *p, const char *fmt, ...)
    DK_PRINTF(2, 3);
/* For a failed primitive descriptor creation: falls back when oneDNN has no
 * implementation or rejects the arguments (unimplemented, invalid_arguments),
 * reports any other status as an error. */
dk_status dk_onednn_pd_failed(dk_onednn_plan *p, const dk_node *n, dnnl_status_t s,
                              const char *what);

/* ---- native values (onednn_native.c) ---------------------------------------- */

/* Called by each plan: sizes the native table for g; propagation is on when
 * g asks for it (DK_HINT_PROPAGATE_LAYOUT) and the layout is not plain. */
dk_status dk_onednn_native_begin(dk_onednn_ctx *ctx, const dk_graph *g);
/* The native copy of value v, NULL when it lives in its host tensor. */
const dk_onednn_native *dk_onednn_native_of(const dk_onednn_ctx *ctx, int v);
/* Makes value v native in layout md: a buffer of the context and a memory
 * over it in plan p. */
dk_status dk_onednn_native_make(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n, int v,
                                const dk_dnnl_md *md, dnnl_memory_t *mem);
/* Forgets the native copy of value v, if any (frees its buffer; values lying
 * in it get their own): v lives in its host tensor again. Every plan of a
 * node starts so for its outputs. */
dk_status dk_onednn_native_drop(dk_onednn_ctx *ctx, int v);
/* The backend's poison entry: NaN in every native buffer. */
dk_status dk_onednn_native_poison(void *ctx, const dk_graph *g);
/* Memory in plan p over native value v's buffer. */
dk_status dk_onednn_native_mem(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n, int v,
                               dnnl_memory_t *mem);
/* Steps bringing every native input of a node that reads NCHW to its host tensor. */
dk_status dk_onednn_native_inputs_to_host(dk_onednn_ctx *ctx, dk_onednn_plan *p,
                                          const dk_graph *g, const dk_node *n);
/* The backend interface's conversions (no-ops for values on the host). */
dk_status dk_onednn_to_canonical(void *ctx, const dk_graph *g, int v, dk_tensor *dst);
dk_status dk_onednn_from_canonical(void *ctx, const dk_graph *g, int v, const dk_tensor *src);
void dk_onednn_native_free(dk_onednn_ctx *ctx);
/* The channel block of layout md for a tensor of `ndim` dims `dims`: 16 or 8
 * when md is float32 nC..16c / nC..8c, 1 when it is dense row-major float32,
 * 0 otherwise. */
int dk_onednn_channel_block(const dk_dnnl_md *md, int ndim, const int64_t *dims);
/* A channel Concat of native inputs planned on their layout (*done = 1), or
 * left to the NCHW planner (*done = 0). */
dk_status dk_onednn_plan_concat_native(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                       dk_onednn_plan *p, int *done);

/* opt=3: MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool of a
 * native input planned on its layout, output kept native (*done = 1), or left
 * to the NCHW planner (*done = 0) (onednn_ops.c). */
dk_status dk_onednn_plan_pool_native(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                     dk_onednn_plan *p, int *done);

/* ---- the graph -------------------------------------------------------------- */

static inline const dk_tensor *dk_onednn_input(const dk_graph *g, const dk_node *n, int i)
{
    return i < n->n_inputs && n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
}

static inline const dk_tensor *dk_onednn_output(const dk_graph *g, const dk_node *n, int o)
{
    return o < n->n_outputs && n->outputs[o] >= 0 ? &g->values[n->outputs[o]].t : NULL;
}

/* Input i's value when it is a constant with data (weights), else NULL. */
static inline const dk_tensor *dk_onednn_constant(const dk_graph *g, const dk_node *n, int i)
{
    if (i >= n->n_inputs || n->inputs[i] < 0) return NULL;
    const dk_value *v = &g->values[n->inputs[i]];
    return v->kind == DK_VALUE_CONSTANT && v->t.data ? &v->t : NULL;
}

/* 1 when every present input and output of the node is float32. */
int dk_onednn_all_f32(const dk_graph *g, const dk_node *n);

/* ---- planners, one per op family --------------------------------------------- */

#define DK_ONEDNN_PLANNER(fn) \
    dk_status fn(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_onednn_plan *p)

/* onednn_conv.c */
DK_ONEDNN_PLANNER(dk_onednn_plan_conv);
/* onednn_upsample.c */
DK_ONEDNN_PLANNER(dk_onednn_plan_convtranspose);
DK_ONEDNN_PLANNER(dk_onednn_plan_resize);        /* Resize, Upsample: nearest, integer factors */
/* onednn_dense.c */
DK_ONEDNN_PLANNER(dk_onednn_plan_gemm);
DK_ONEDNN_PLANNER(dk_onednn_plan_matmul);
/* onednn_ops.c */
DK_ONEDNN_PLANNER(dk_onednn_plan_pool);          /* MaxPool, AveragePool */
DK_ONEDNN_PLANNER(dk_onednn_plan_global_pool);   /* GlobalAveragePool, GlobalMaxPool */
DK_ONEDNN_PLANNER(dk_onednn_plan_eltwise);       /* Relu ... HardSwish, Clip */
DK_ONEDNN_PLANNER(dk_onednn_plan_binary);        /* Add, Sub, Mul, Div */
DK_ONEDNN_PLANNER(dk_onednn_plan_batchnorm);
DK_ONEDNN_PLANNER(dk_onednn_plan_lrn);
DK_ONEDNN_PLANNER(dk_onednn_plan_layernorm);
DK_ONEDNN_PLANNER(dk_onednn_plan_instancenorm); /* batch normalisation, batch of one */
DK_ONEDNN_PLANNER(dk_onednn_plan_prelu);
DK_ONEDNN_PLANNER(dk_onednn_plan_softmax);
DK_ONEDNN_PLANNER(dk_onednn_plan_concat);
DK_ONEDNN_PLANNER(dk_onednn_plan_reducemean);

/* The plan of one node with the context's settings (onednn_backend.c). */
dk_status dk_onednn_plan_node(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                              dk_onednn_plan **out);
/* opt=3 (onednn_choose.c): plans a convolution with each algorithm and layout
 * the variant leaves open, times each at plan time and keeps the fastest. */
dk_status dk_onednn_plan_fastest_conv(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                      dk_onednn_plan **out);

/* ---- running (onednn_plan.c) ---------------------------------------------------- */

dk_status dk_onednn_plan_run(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                             const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out);
/* The bytes the plan touches apart from the node's inputs: its output,
 * weights and workspace. In a whole network these were last touched a pass
 * before, while the inputs have just been written by their producers. */
size_t dk_onednn_plan_own_bytes(const dk_onednn_ctx *ctx, const dk_onednn_plan *p, const dk_node *n);
/* Evicts those from the caches (opt=3 times its candidates so when they
 * cannot stay near the cores: onednn_choose.c). Returns 0 where this build
 * cannot evict (runtime/cache.h). */
int dk_onednn_plan_evict(const dk_onednn_ctx *ctx, const dk_onednn_plan *p, const dk_node *n);
void dk_onednn_plan_free(dk_onednn_plan *p);

/* opt=3's choices, remembered (onednn_choices.c): the key of a convolution
 * (its shapes, window, post-ops, precision and the candidates open), the
 * candidate chosen before for it (1 and its name; busy gets why the host was
 * busy when it was timed, "" when it was quiet), and storing a new one (busy
 * NULL or "" when timed on a quiet host; replace: the entry found names no
 * candidate, a file edited by hand, and goes). */
void dk_onednn_choice_key(const dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n, const char *cands,
                          char *key, size_t len);
int dk_onednn_choice_find(const char *key, char *name, size_t len, char *busy, size_t busy_len);
void dk_onednn_choice_store(const char *key, const char *name, const char *busy, int replace);

/* Constant weights reordered once per process (onednn_weights.c): the buffer
 * holding src (described by src_md) in the layout dst_md, shared and counted;
 * *ready is 0 when the caller must fill it. NULL when out of memory. */
void *dk_onednn_weights_acquire(const void *src, const dk_dnnl_md *src_md, const dk_dnnl_md *dst_md, int *ready);
void dk_onednn_weights_release(void *buf);

#endif
