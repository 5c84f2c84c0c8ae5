/* The onednn backend: oneDNN 2.6 (C API) primitives on the session's host
 * float32 NCHW tensors. This file holds the backend table, its options,
 * open/close, probe, version and the dispatch from op to planner; the
 * planners are in onednn_conv.c, onednn_dense.c and onednn_ops.c, the plan
 * machinery in onednn_plan.c and every oneDNN-2-specific call in
 * onednn_api.c.
 *
 * Options:
 *   layout=blocked|nchw16c|plain
 *                          blocked: convolutions (source, weights, destination)
 *                          and constant matmul weights take the layout oneDNN
 *                          chooses; activations are reordered from NCHW
 *                          before each convolution and back after it (nodes
 *                          exchange canonical tensors). nchw16c: convolution
 *                          activations blocked by 16 channels, whose reorders
 *                          cost less than the NHWC transposes oneDNN's own
 *                          choice needs (see onednn_conv.c). plain: NCHW/OIHW.
 *   fpmath=strict|bf16     oneDNN's fpmath mode on every primitive: bf16 lets
 *                          it round float32 operands to bfloat16 internally
 *                          (at opt=3 a convolution where float32 is faster
 *                          keeps float32: onednn_choose.c).
 *   algo=auto|direct|winograd  convolution algorithm; winograd where oneDNN
 *                          implements it for the layer, auto elsewhere (the
 *                          plan note says which layer got which).
 *   isa=...                oneDNN's maximum CPU ISA. oneDNN keeps it per
 *                          process and accepts it only before the first
 *                          primitive exists: the first onednn session fixes
 *                          it; a later session asking for another value fails
 *                          with DK_ERR_UNSUPPORTED (run such a variant in its
 *                          own process).
 *
 * Setting DK_ONEDNN_VERBOSE in the environment prints one line per planned
 * node to stderr: oneDNN's implementation, the convolution algorithm, the
 * reorders, or why the node runs on the reference kernels. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/op_table.h"
#include "kernels/onednn/onednn_internal.h"
#include "kernels/fallback.h"
#include "kernels/ref/ref_kernels.h"
#include "runtime/error.h"

static const dk_option_spec onednn_options[] = {
    {"layout", "blocked|nchw16c|plain", "blocked",
     "blocked: convolutions use the layout oneDNN chooses (reordered from and to NCHW at each "
     "node); nchw16c: convolutions on channels blocked by 16 (cheaper reorders); plain: "
     "NCHW/OIHW everywhere", DK_ROLE_LAYOUT},
    {"fpmath", "strict|bf16", "strict",
     "oneDNN fpmath mode: bf16 allows float32 operands to be rounded to bfloat16 internally", DK_ROLE_PRECISION},
    {"algo", "auto|direct|winograd", "auto",
     "convolution algorithm; winograd where oneDNN implements it for the layer, auto elsewhere", DK_ROLE_CONV_IMPL},
    {"fuse", "on|off", "on",
     "a Conv's fused residual Add and Relu/Clip (graph passes of opt=2) as oneDNN post-ops "
     "(sum, eltwise) of the convolution primitive; off: in plain C after it", DK_ROLE_NONE},
    {"isa", "all|avx512_core_bf16|avx512_core_vnni|avx512_core|avx2|avx|sse41", "all",
     "maximum CPU ISA; process-wide: the first onednn session fixes it and a later one asking "
     "for another fails (run that variant in its own process)", DK_ROLE_NONE},
    {0},
};

/* ---- the process-wide ISA limit ---------------------------------------------- */

static pthread_mutex_t isa_lock = PTHREAD_MUTEX_INITIALIZER;
static char isa_fixed[DK_VARIANT_VALUE_MAX]; /* "" until the first session */

/* Applies isa=want the first time; afterwards only the same value is accepted.
 * isa=all leaves oneDNN's default (which honours ONEDNN_MAX_CPU_ISA). */
static dk_status fix_isa(const char *want)
{
    dk_status st = DK_OK;
    pthread_mutex_lock(&isa_lock);
    if (!isa_fixed[0]) {
        dnnl_status_t s = strcmp(want, "all") ? dk_dnnl_set_max_isa(want) : dnnl_success;
        if (s == dnnl_success)
            snprintf(isa_fixed, sizeof isa_fixed, "%s", want);
        else
            st = dk__error(DK_ERR_UNSUPPORTED,
                           "isa=%s: oneDNN refused the limit (%s): it can only be set before "
                           "oneDNN's first primitive in this process; run this variant in its "
                           "own process", want, dk_dnnl_status_str(s));
    } else if (strcmp(isa_fixed, want)) {
        st = dk__error(DK_ERR_UNSUPPORTED,
                       "isa=%s: isa can be set once per process and an earlier onednn session "
                       "fixed it to %s; run this variant in its own process", want, isa_fixed);
    }
    pthread_mutex_unlock(&isa_lock);
    return st;
}

/* ---- table entries ------------------------------------------------------------ */

static const char *onednn_version(void)
{
    static char v[192];
    char lib[96];
    dk_dnnl_library_version(lib, sizeof lib);
    pthread_mutex_lock(&isa_lock);
    /* asking oneDNN for its ISA fixes it: only once a session has fixed it */
    if (isa_fixed[0])
        snprintf(v, sizeof v, "%s, dispatching up to %s", lib, dk_dnnl_effective_isa());
    else
        snprintf(v, sizeof v, "%s, CPU up to %s", lib, dk_dnnl_detected_isa());
    pthread_mutex_unlock(&isa_lock);
    return v;
}

static dk_status onednn_probe(char *reason, size_t n)
{
    if (dnnl_engine_get_count(dnnl_cpu) < 1) {
        snprintf(reason, n, "oneDNN reports no CPU engine");
        return DK_ERR_UNAVAILABLE;
    }
    return DK_OK;
}

static void onednn_close(void *vctx)
{
    dk_onednn_ctx *ctx = vctx;
    if (!ctx) return;
    dk_onednn_native_free(ctx);
    if (ctx->stream) dnnl_stream_destroy(ctx->stream);
    if (ctx->engine) dnnl_engine_destroy(ctx->engine);
    free(ctx->work);
    free(ctx);
}

static dk_status onednn_open(const dk_variant *v, void **out)
{
    *out = NULL;
    const char *layout = dk_variant_get(v, "layout"), *fpmath = dk_variant_get(v, "fpmath");
    const char *algo = dk_variant_get(v, "algo"), *isa = dk_variant_get(v, "isa");
    DK_TRY(fix_isa(isa ? isa : "all"));
    dk_onednn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return dk__error(DK_ERR_NOMEM, "onednn: out of memory");
    ctx->plain = layout && !strcmp(layout, "plain");
    ctx->nchw16c = layout && !strcmp(layout, "nchw16c");
    ctx->bf16 = fpmath && !strcmp(fpmath, "bf16");
    for (int i = 0; i < v->n_options; i++) {
        if (!strcmp(v->options[i].key, "algo")) ctx->algo_given = !v->options[i].is_default;
        if (!strcmp(v->options[i].key, "layout")) ctx->layout_given = !v->options[i].is_default;
    }
    const char *fuse = dk_variant_get(v, "fuse");
    ctx->fuse = !fuse || strcmp(fuse, "off") != 0;
    ctx->algo = !algo || !strcmp(algo, "auto")   ? DK_ONEDNN_ALGO_AUTO
                : !strcmp(algo, "direct")        ? DK_ONEDNN_ALGO_DIRECT
                                                 : DK_ONEDNN_ALGO_WINOGRAD;
    ctx->verbose = getenv("DK_ONEDNN_VERBOSE") != NULL;
    dnnl_status_t s = dnnl_engine_create(&ctx->engine, dnnl_cpu, 0);
    if (s == dnnl_success) s = dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        dk_status st = dk_dnnl_error(s, NULL, "creating the CPU engine and stream");
        onednn_close(ctx);
        return st;
    }
    *out = ctx;
    return DK_OK;
}

/* Every node the reference backend runs: what oneDNN lacks runs there. */
static int onednn_supports(void *vctx, const dk_graph *g, const dk_node *n) { return dk__fallback_supports(n); }

typedef dk_status (*planner_fn)(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                dk_onednn_plan *p);

/* Ops without a planner run on the reference kernels (kernels/fallback.h).
 * Log stays there: eltwise log errs by 3.4e-6 absolute near x = 1 (44x the
 * tolerance row's bound, oneDNN 2.6.3 on this CPU). So does Softplus:
 * eltwise soft_relu computes log(1 + exp(x)) without log1p, off by ~7e-7 on
 * outputs near 3e-4 (x near -8), over 1,000x the row's bound. */
DK_OP_TABLE_VISITED(78, "oneDNN's planners (kernels/onednn/onednn_backend.c)");
static const planner_fn planners[DK_OP_COUNT] = {
    [DK_OP_CONV] = dk_onednn_plan_conv,
    [DK_OP_CONVTRANSPOSE] = dk_onednn_plan_convtranspose,
    [DK_OP_RESIZE] = dk_onednn_plan_resize,
    [DK_OP_UPSAMPLE] = dk_onednn_plan_resize,
    [DK_OP_BATCHNORM] = dk_onednn_plan_batchnorm,
    [DK_OP_RELU] = dk_onednn_plan_eltwise,
    [DK_OP_CLIP] = dk_onednn_plan_eltwise,
    [DK_OP_LEAKYRELU] = dk_onednn_plan_eltwise,
    [DK_OP_SIGMOID] = dk_onednn_plan_eltwise,
    [DK_OP_HARDSIGMOID] = dk_onednn_plan_eltwise,
    [DK_OP_HARDSWISH] = dk_onednn_plan_eltwise,
    [DK_OP_SQRT] = dk_onednn_plan_eltwise,
    [DK_OP_TANH] = dk_onednn_plan_eltwise,
    [DK_OP_ABS] = dk_onednn_plan_eltwise,
    [DK_OP_EXP] = dk_onednn_plan_eltwise,
    [DK_OP_ELU] = dk_onednn_plan_eltwise,
    [DK_OP_NEG] = dk_onednn_plan_eltwise,
    [DK_OP_POW] = dk_onednn_plan_eltwise,
    [DK_OP_ADD] = dk_onednn_plan_binary,
    [DK_OP_SUB] = dk_onednn_plan_binary,
    [DK_OP_MUL] = dk_onednn_plan_binary,
    [DK_OP_DIV] = dk_onednn_plan_binary,
    [DK_OP_MAXPOOL] = dk_onednn_plan_pool,
    [DK_OP_AVGPOOL] = dk_onednn_plan_pool,
    [DK_OP_GLOBALAVGPOOL] = dk_onednn_plan_global_pool,
    [DK_OP_GLOBALMAXPOOL] = dk_onednn_plan_global_pool,
    [DK_OP_GEMM] = dk_onednn_plan_gemm,
    [DK_OP_MATMUL] = dk_onednn_plan_matmul,
    [DK_OP_CONCAT] = dk_onednn_plan_concat,
    [DK_OP_SOFTMAX] = dk_onednn_plan_softmax,
    [DK_OP_LRN] = dk_onednn_plan_lrn,
    [DK_OP_LAYERNORM] = dk_onednn_plan_layernorm,
    [DK_OP_INSTANCENORM] = dk_onednn_plan_instancenorm,
    [DK_OP_PRELU] = dk_onednn_plan_prelu,
    [DK_OP_REDUCEMEAN] = dk_onednn_plan_reducemean,
};

dk_status dk_onednn_plan_node(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                              dk_onednn_plan **out)
{
    *out = NULL;
    dk_onednn_plan *p = calloc(1, sizeof *p);
    if (!p) return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name, dk_op_name(n->op));
    planner_fn fn = n->op > DK_OP_NONE && n->op < DK_OP_COUNT ? planners[n->op] : NULL;
    /* with layout propagation convolutions, and Concats and poolings of
     * native values, read native layouts; the others get their native inputs
     * reordered to NCHW first (so does a convolution that falls back, which
     * has no steps of its own then) */
    dk_status st = dk_onednn_native_begin(ctx, g);
    /* this plan decides afresh where the node's outputs live: a native copy
     * left by an earlier plan of the node (opt=3 plans each candidate layout
     * of a convolution before the fastest) would otherwise stay in place for
     * the consumers and to_canonical to read when this plan writes NCHW */
    for (int o = 0; st == DK_OK && o < n->n_outputs; o++) st = dk_onednn_native_drop(ctx, n->outputs[o]);
    int done = 0;
    if (st == DK_OK && n->op == DK_OP_CONCAT) st = dk_onednn_plan_concat_native(ctx, g, n, p, &done);
    if (st == DK_OK && !done) st = dk_onednn_plan_pool_native(ctx, g, n, p, &done);
    if (st == DK_OK && done) {
        *out = p;
        return DK_OK;
    }
    if (st == DK_OK && n->op != DK_OP_CONV) st = dk_onednn_native_inputs_to_host(ctx, p, g, n);
    /* data movement (Reshape, Transpose, Pad, ...) has no oneDNN primitive
     * worth using on canonical tensors: plain C, by the reference kernels */
    if (st == DK_OK)
        st = fn ? fn(ctx, g, n, p)
                : dk_onednn_fallback(p, "reference kernel: no oneDNN primitive for %s",
                                     dk_op_name(n->op));
    if (st == DK_OK && n->op == DK_OP_CONV && p->info.fallback && p->n_steps == 0)
        st = dk_onednn_native_inputs_to_host(ctx, p, g, n);
    if (st != DK_OK) {
        dk_onednn_plan_free(p);
        return st;
    }
    *out = p;
    return DK_OK;
}

static dk_status onednn_plan(void *vctx, const dk_graph *g, int node, void **out)
{
    dk_onednn_ctx *ctx = vctx;
    const dk_node *n = &g->nodes[node];
    dk_onednn_plan *p = NULL;
    *out = NULL;
    /* opt=3: each convolution's algorithm and layout by timing (unless the
     * variant fixes them) */
    dk_status st = (g->hints & DK_HINT_FASTEST_ALGO) && n->op == DK_OP_CONV
                       ? dk_onednn_plan_fastest_conv(ctx, g, n, &p)
                       : dk_onednn_plan_node(ctx, g, n, &p);
    if (st != DK_OK) return st;
    if (ctx->verbose)
        fprintf(stderr, "onednn: node '%s' (%s): %s\n", n->name, dk_op_name(n->op),
                p->info.note[0] ? p->info.note : (p->n_steps ? "?" : "empty output, nothing to run"));
    *out = p;
    return DK_OK;
}

static void onednn_plan_destroy(void *ctx, void *plan) { dk_onednn_plan_free(plan); }

static dk_status onednn_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out)
{
    if (!plan) return dk__error(DK_ERR_INTERNAL, "node '%s' (%s): not planned", n->name, dk_op_name(n->op));
    DK_TRY(dk_onednn_plan_run(ctx, plan, g, n, in, out));
    const dk_onednn_plan *p = plan;
    return p->info.post_in_c ? dk_ref_conv_post(n, in, out) : DK_OK;
}

const dk_backend_iface dk_backend_onednn = {
    .name = "onednn",
    .description = "oneDNN primitives (C API), reference kernels for what oneDNN lacks",
    .version = onednn_version,
    .probe = onednn_probe,
    .options = onednn_options,
    .open = onednn_open,
    .close = onednn_close,
    .supports = onednn_supports,
    .plan = onednn_plan,
    .plan_destroy = onednn_plan_destroy,
    .execute = onednn_execute,
    .to_canonical = dk_onednn_to_canonical,
    .from_canonical = dk_onednn_from_canonical,
    .poison = dk_onednn_native_poison,
};
