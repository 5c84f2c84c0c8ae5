/* The OpenBLAS backend: convolutions and dense layers through cblas_sgemm,
 * the float reductions in plain C float32.
 *
 * What runs where (float32 nodes; every other dtype goes to the reference):
 *  - Conv: im2col + cblas_sgemm per group (openblas_conv.c); with conv=auto a
 *    1x1 stride-1 unpadded convolution is one GEMM on the input as it is and
 *    a depthwise one (one input channel per group) a direct float loop;
 *    3x3 stride-1 layers by Winograd F(2x2, 3x3) as 16 sgemms
 *    (openblas_winograd.c) with conv=winograd, and at opt=3 those with at
 *    least 64 input and output channels and 32 output tiles.
 *  - Gemm, MatMul: cblas_sgemm (openblas_dense.c).
 *  - AveragePool, GlobalAveragePool, Softmax, ReduceMean, LRN,
 *    BatchNormalization: plain C with float accumulation (openblas_ops.c),
 *    what a float32 library computes, where the reference uses double.
 *  - MaxPool (float32, no Indices): row-vectorised in openblas_ops.c,
 *    bit-identical to the reference (a maximum is exact); the reference's
 *    general loop took 4.2 of ResNet-50's 59 ms.
 *  - Everything else is delegated to the reference kernels
 *    (kernels/ref/ref_kernels.h) or the op table's eval: other MaxPools,
 *    GlobalMaxPool, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
 *    Add, Sub, Mul, Div and all data movement. Their float result is exact
 *    or one rounding of the exact value, so a float32 rewrite could only add
 *    noise. The backend's differences from the reference are therefore
 *    exactly the GEMM-based convolution/dense layers and the float reductions.
 *
 * Threads: Debian's OpenMP build of OpenBLAS (libopenblas0-openmp) sizes each
 * call from omp_get_max_threads() (OpenBLAS 0.3.21, num_cpu_avail), so the
 * session's omp_set_num_threads (the common `threads` option) governs it;
 * called inside an OpenMP parallel region it runs single-threaded, which the
 * grouped convolutions and batched MatMuls use to spread groups over threads.
 *
 * Vendor errors: cblas_sgemm returns nothing; invalid arguments make it call
 * xerbla, which prints a message and returns. Every argument is therefore
 * checked at plan time (dimensions within the int range of blasint, leading
 * dimensions >= 1), so that such a call cannot happen. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/openblas/openblas_internal.h"
#include "kernels/backend_iface.h"
#include "kernels/fallback.h"

int dk__ob_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int dk__ob_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

dk_status dk__ob_error(const dk_node *n, dk_status s, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return dk__error(s, "openblas: node '%s' (%s): %s", n->name, dk_op_name(n->op), what);
}

dk_status dk__ob_reserve_scratch(ob_ctx *ctx, const dk_node *n, size_t floats)
{
    if (floats <= ctx->scratch_floats) return DK_OK;
    float *s = realloc(ctx->scratch, floats * sizeof *s);
    if (!s)
        return dk__ob_error(n, DK_ERR_NOMEM, "cannot allocate %zu bytes of scratch",
                        floats * sizeof *s);
    ctx->scratch = s;
    ctx->scratch_floats = floats;
    return DK_OK;
}

/* ---- identity -------------------------------------------------------------- */

static const char *ob_version(void)
{
    static char v[480];
    int par = openblas_get_parallel();
    const char *model = par == 2   ? "OpenMP build"
                        : par == 1 ? "pthreads build"
                                   : "sequential build";
    /* runtime configuration first; the header's version tells what it was built against */
    /* who chose the kernel set: OpenBLAS's own detection, the user's
     * OPENBLAS_CORETYPE, or deltakern's re-exec (dk_openblas_better_core) */
    const char *env = getenv("OPENBLAS_CORETYPE"), *mark = getenv("DK_OPENBLAS_CORETYPE_BY");
    const char *core = openblas_get_corename();
    char by[160] = "detected by OpenBLAS";
    if (env && mark && !strcmp(mark, "deltakern"))
        snprintf(by, sizeof by, "OPENBLAS_CORETYPE=%s set by deltakern", env);
    else if (env)
        snprintf(by, sizeof by, "OPENBLAS_CORETYPE=%s from the environment%s", env,
                 dk__openblas_cpu_has_avx512() && !strcasecmp(core, "Haswell")
                     ? ", AVX2 kernels on an AVX-512 CPU"
                     : "");
    snprintf(v, sizeof v, "%s (core %s, %s, %s; built against%s)", openblas_get_config(), core, by,
             model, OPENBLAS_VERSION);
    return v;
}

static const dk_option_spec ob_options[] = {
    {"conv", "auto|im2col|winograd", "auto",
     "convolution lowering: auto = 1x1 stride-1 unpadded as one GEMM on the input, depthwise "
     "as a direct float loop, the rest im2col + sgemm; im2col = every convolution through "
     "im2col + sgemm (depthwise as one GEMM per channel); winograd = 3x3 stride-1 undilated "
     "one-group 2-D convolutions by Winograd F(2x2, 3x3) as 16 sgemms, the rest as auto",
     DK_ROLE_CONV_IMPL},
    {"core", "auto|Haswell|SkylakeX|Cooperlake|Zen", "auto",
     "OpenBLAS kernel set, fixed when the library loads (environment OPENBLAS_CORETYPE): "
     "auto accepts the one loaded, a name requires it. Where OPENBLAS_CORETYPE is unset the "
     "deltakern command restarts itself with it set before OpenBLAS loads: to the name given "
     "here, or for auto to SkylakeX on an AVX-512 CPU OpenBLAS does not know (0.3.21 loads "
     "Haswell's AVX2 kernels on AMD family 25/26). Process-wide, like onednn's isa", DK_ROLE_NONE},
    {0},
};

static dk_status ob_open(const dk_variant *v, void **out)
{
    const char *core = dk_variant_get(v, "core");
    if (core && strcmp(core, "auto") && strcasecmp(core, openblas_get_corename()))
        return dk__error(DK_ERR_UNAVAILABLE,
                         "core=%s: this process runs OpenBLAS's %s kernels, fixed when the "
                         "library loaded (one kernel set per process): run this variant in a "
                         "deltakern command of its own", core, openblas_get_corename());
    ob_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return dk__error(DK_ERR_NOMEM, "openblas: out of memory");
    const char *conv = dk_variant_get(v, "conv");
    ctx->conv = !conv                       ? OB_CONV_AUTO
                : !strcmp(conv, "im2col")   ? OB_CONV_IM2COL
                : !strcmp(conv, "winograd") ? OB_CONV_WINOGRAD
                                            : OB_CONV_AUTO;
    *out = ctx;
    return DK_OK;
}

static void ob_close(void *vctx)
{
    ob_ctx *ctx = vctx;
    if (!ctx) return;
    free(ctx->scratch);
    free(ctx);
}

/* ---- dispatch -------------------------------------------------------------- */

/* Every op the reference runs: float32 nodes of the ops above run here, the
 * rest (other dtypes included) on the reference kernel. */
static int ob_supports(void *ctx, const dk_graph *g, const dk_node *n)
{
    return dk__fallback_supports(n);
}

static const dk_tensor *value(const dk_graph *g, const dk_node *n, int i, int output)
{
    int count = output ? n->n_outputs : n->n_inputs;
    if (i >= count) return NULL;
    int v = output ? n->outputs[i] : n->inputs[i];
    return v >= 0 && v < g->n_values ? &g->values[v].t : NULL;
}

static int is_f32(const dk_tensor *t) { return t && t->dtype == DK_F32; }

static void ob_plan_destroy(void *ctx, void *plan)
{
    ob_plan *p = plan;
    if (!p) return;
    free(p->divisors);
    free(p->wino_u);
    free(p);
}

static dk_status ob_plan_node(void *vctx, const dk_graph *g, int node, void **out)
{
    ob_ctx *ctx = vctx;
    const dk_node *n = &g->nodes[node];
    *out = NULL;
    ob_plan *p = calloc(1, sizeof *p);
    if (!p) return dk__ob_error(n, DK_ERR_NOMEM, "out of memory for the plan");
    p->threads = dk__ob_max_threads() > 0 ? dk__ob_max_threads() : 1;
    const dk_tensor *x = value(g, n, 0, 0), *y = value(g, n, 0, 1);
    int f32 = is_f32(x) && is_f32(y);
    dk_status st = DK_OK;
    switch (f32 ? n->op : DK_OP_NONE) {
    case DK_OP_CONV:
        if (is_f32(value(g, n, 1, 0)) && (!n->p.conv.has_bias || is_f32(value(g, n, 2, 0))))
            st = dk__ob_plan_conv(ctx, g, n, p);
        break;
    case DK_OP_GEMM:
        if (is_f32(value(g, n, 1, 0)) && (!n->p.gemm.has_c || is_f32(value(g, n, 2, 0))))
            st = dk__ob_plan_gemm(ctx, g, n, p);
        break;
    case DK_OP_MATMUL:
        if (is_f32(value(g, n, 1, 0))) st = dk__ob_plan_matmul(ctx, g, n, p);
        break;
    case DK_OP_AVGPOOL: st = dk__ob_plan_avgpool(ctx, g, n, p); break;
    case DK_OP_MAXPOOL: st = dk__ob_plan_maxpool(ctx, g, n, p); break;
    case DK_OP_GLOBALAVGPOOL: p->exec = dk__ob_exec_globalavgpool; break;
    case DK_OP_SOFTMAX: p->exec = dk__ob_exec_softmax; break;
    case DK_OP_REDUCEMEAN: p->exec = dk__ob_exec_reducemean; break;
    case DK_OP_BATCHNORM: p->exec = dk__ob_exec_batchnorm; break;
    case DK_OP_LRN:
        /* per thread: the squared sums of one channel plane */
        p->scratch_floats = x->ndim > 2 ? (size_t)dk_shape_numel(x->ndim - 2, x->dims + 2) : 1;
        if (p->scratch_floats < 1) p->scratch_floats = 1;
        st = dk__ob_reserve_scratch(ctx, n, p->scratch_floats * (size_t)p->threads);
        p->exec = dk__ob_exec_lrn;
        break;
    default: break;
    }
    if (st == DK_OK && !p->exec && !(p->fallback = dk__fallback_supports(n)))
        st = dk__ob_error(n, DK_ERR_UNSUPPORTED, "no kernel for this op");
    if (st != DK_OK) {
        ob_plan_destroy(ctx, p);
        return st;
    }
    *out = p;
    return DK_OK;
}

static dk_status ob_execute(void *vctx, void *plan, const dk_graph *g, const dk_node *n,
                            const dk_tensor *const *in, dk_tensor *const *out)
{
    const ob_plan *p = plan;
    if (!p) return dk__ob_error(n, DK_ERR_INTERNAL, "executed without a plan");
    if (p->exec) return p->exec(vctx, p, n, in, out);
    return dk__fallback_run("openblas", n, in, out);
}

const dk_backend_iface dk_backend_openblas = {
    .name = "openblas",
    .description = "OpenBLAS: im2col + sgemm (or Winograd) convolutions, sgemm Gemm/MatMul, "
                   "float32 reductions",
    .version = ob_version,
    .options = ob_options,
    .open = ob_open,
    .close = ob_close,
    .supports = ob_supports,
    .plan = ob_plan_node,
    .plan_destroy = ob_plan_destroy,
    .execute = ob_execute,
};
