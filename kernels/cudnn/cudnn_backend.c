/* The cudnn backend: cuDNN 9 (legacy API) and cuBLAS on one CUDA device.
 * This file holds the backend table: probe, version, describe, options,
 * open/close, plan/execute dispatch, the canonical conversions, sync and the
 * device timer. Planners are in cudnn_conv.c, cudnn_convt.c (ConvTranspose),
 * cudnn_ops.c, cudnn_dense.c and cudnn_move.c; device memory in cudnn_memory.c; error translation in
 * cudnn_errors.c.
 *
 * Values stay on the device between nodes; the session calls from_canonical
 * for graph inputs and values it sets, to_canonical for observed values and
 * graph outputs (copies outside the timed region). Each node's time is the
 * CUDA events recorded around its calls on the backend's stream.
 *
 * Setting DK_CUDNN_VERBOSE in the environment prints one line per planned
 * node to stderr: the cuDNN/cuBLAS call and algorithm, or why the node runs
 * on the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"
#include "kernels/fallback.h"

static void library_versions(char *buf, size_t n)
{
    char reason[512];
    if (dk__cuda_load(reason, sizeof reason) != DK_OK) {
        if (snprintf(buf, n, "libraries not loaded: %s", reason) >= (int)n && n > 4)
            memcpy(buf + n - 4, "...", 4); /* cut: the probe's reason has it whole */
        return;
    }
    size_t v = cudnnGetVersion();
    int rt = 0, major = 0, minor = 0, patch = 0;
    /* host-only queries; a failure leaves 0 in the line rather than no line */
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) rt = 0;
    if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
        major = minor = patch = 0;
    /* cuDNN 9 encodes its version as major*10000 + minor*100 + patch */
    snprintf(buf, n, "cuDNN %zu.%zu.%zu, cuBLAS %d.%d.%d, CUDA runtime %d.%d", v / 10000, v / 100 % 100, v % 100,
             major, minor, patch, rt / 1000, rt % 1000 / 10);
}

static const char *cudnn_version(void)
{
    static char v[128];
    library_versions(v, sizeof v);
    return v;
}

static dk_status cudnn_probe(char *reason, size_t n)
{
    int count = 0;
    if (dk__cuda_load(reason, n) != DK_OK) return DK_ERR_UNAVAILABLE;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(reason, n, "no CUDA device: %s: %s", cudaGetErrorName(e), cudaGetErrorString(e));
        return DK_ERR_UNAVAILABLE;
    }
    if (count < 1) {
        snprintf(reason, n, "no CUDA device: cudaGetDeviceCount found none");
        return DK_ERR_UNAVAILABLE;
    }
    return DK_OK;
}

/* One line: device 0's name, compute capability and memory, the driver and
 * library versions (the session's device=N may differ: see the variant). */
static dk_status cudnn_describe(char *buf, size_t n)
{
    char libs[128], reason[192];
    library_versions(libs, sizeof libs);
    if (cudnn_probe(reason, sizeof reason) != DK_OK) {
        snprintf(buf, n, "unavailable (%s); %s", reason, libs);
        return DK_OK;
    }
    int count = 0, driver = 0;
    struct cudaDeviceProp prop;
    DK_CUDA(cudaGetDeviceCount(&count));
    DK_CUDA(cudaDriverGetVersion(&driver));
    DK_CUDA(cudaGetDeviceProperties(&prop, 0));
    snprintf(buf, n, "%s (device 0 of %d), compute capability %d.%d, %.1f GiB, %d SMs, driver %d.%d; %s",
             prop.name, count, prop.major, prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0),
             prop.multiProcessorCount, driver / 1000, driver % 1000 / 10, libs);
    return DK_OK;
}

static void cudnn_close(void *vctx)
{
    dk_cudnn_ctx *ctx = vctx;
    if (!ctx) return;
    if (ctx->stream) cudaStreamSynchronize(ctx->stream);
    dk__cudnn_values_free(ctx);
    if (ctx->cublas) cublasDestroy(ctx->cublas);
    if (ctx->cudnn) cudnnDestroy(ctx->cudnn);
    if (ctx->stream) cudaStreamDestroy(ctx->stream);
    free(ctx);
}

static dk_status open_device(dk_cudnn_ctx *ctx)
{
    int count = 0;
    char reason[512];
    if (dk__cuda_load(reason, sizeof reason) != DK_OK)
        return dk__error(DK_ERR_UNAVAILABLE, "cudnn: %s", reason);
    DK_CUDA(cudaGetDeviceCount(&count));
    if (ctx->cfg.device >= count)
        return dk__error(DK_ERR_INVALID, "cudnn: option device=%d: this machine has %d CUDA device%s (0..%d)",
                         ctx->cfg.device, count, count == 1 ? "" : "s", count - 1);
    DK_CUDA(cudaSetDevice(ctx->cfg.device));
    DK_CUDA(cudaDeviceGetAttribute(&ctx->cc_major, cudaDevAttrComputeCapabilityMajor, ctx->cfg.device));
    DK_CUDA(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
    DK_CUDNN(cudnnCreate(&ctx->cudnn));
    DK_CUDNN(cudnnSetStream(ctx->cudnn, ctx->stream));
    DK_CUBLAS(cublasCreate(&ctx->cublas));
    DK_CUBLAS(cublasSetStream(ctx->cublas, ctx->stream));
    DK_CUBLAS(cublasSetMathMode(ctx->cublas, ctx->cfg.math == DK_CUDNN_MATH_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                                 : CUBLAS_DEFAULT_MATH));
    DK_CUBLAS(cublasSetAtomicsMode(ctx->cublas, ctx->cfg.deterministic ? CUBLAS_ATOMICS_NOT_ALLOWED
                                                                       : CUBLAS_ATOMICS_ALLOWED));
    return DK_OK;
}

static dk_status cudnn_open(const dk_variant *v, void **out)
{
    *out = NULL;
    dk_cudnn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
    dk_status st = dk__cudnn_config_read(v, &ctx->cfg);
    if (st == DK_OK) st = open_device(ctx);
    if (st != DK_OK) {
        cudnn_close(ctx);
        return st;
    }
    ctx->verbose = getenv("DK_CUDNN_VERBOSE") != NULL;
    *out = ctx;
    return DK_OK;
}

/* Every op with a reference kernel: what has no GPU path runs there. */
static int cudnn_supports(void *ctx, const dk_graph *g, const dk_node *n) { return dk__fallback_supports(n); }

static dk_status cudnn_plan(void *ctx, const dk_graph *g, int node, void **out)
{
    dk_cudnn_plan *p = NULL;
    DK_TRY(dk__cudnn_plan_node(ctx, g, node, &p));
    *out = p;
    return DK_OK;
}

static void cudnn_plan_destroy(void *ctx, void *plan) { dk__cudnn_plan_free(plan); }

static dk_status cudnn_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                               const dk_tensor *const *in, dk_tensor *const *out)
{
    if (!plan) return dk__error(DK_ERR_INTERNAL, "cudnn: node '%s' (%s) was not planned", n->name, dk_op_name(n->op));
    return dk__cudnn_plan_execute(ctx, plan, g, n, in, out);
}

static dk_status cudnn_from_canonical(void *ctx, const dk_graph *g, int value, const dk_tensor *src)
{
    return dk__cudnn_upload(ctx, g, value, src);
}

static dk_status cudnn_to_canonical(void *vctx, const dk_graph *g, int value, dk_tensor *dst)
{
    dk_cudnn_ctx *ctx = vctx;
    const dk_value *gv = &g->values[value];
    /* a constant no node reads (a graph output, say) never went to the device */
    if (!dk__cudnn_dev(ctx, value) && gv->kind == DK_VALUE_CONSTANT && gv->t.data) {
        if (dk_tensor_nbytes(dst) != dk_tensor_nbytes(&gv->t) || !dst->data)
            return dk__error(DK_ERR_SHAPE, "cudnn: value '%s': host tensor of another size", gv->t.name);
        memcpy(dst->data, gv->t.data, dk_tensor_nbytes(dst));
        return DK_OK;
    }
    return dk__cudnn_download(ctx, g, value, dst);
}

static dk_status cudnn_sync(void *vctx)
{
    dk_cudnn_ctx *ctx = vctx;
    DK_CUDA(cudaStreamSynchronize(ctx->stream));
    return DK_OK;
}

static double cudnn_node_seconds(void *ctx, void *plan) { return dk__cudnn_plan_seconds(plan); }

/* every plan starts with its info (cudnn_plan_info.h) */
static unsigned cudnn_plan_traits(void *ctx, void *plan)
{
    const dk_cudnn_plan_info *info = plan;
    if (!info) return 0;
    return (info->may_differ ? DK_PLAN_MAY_DIFFER : 0u) | (info->transform ? DK_PLAN_TRANSFORM : 0u);
}

const dk_backend_iface dk_backend_cudnn = {
    .name = "cudnn",
    .description = "cuDNN 9 and cuBLAS on a CUDA device, values kept on the device; ops without a GPU path "
                   "(reflect/edge Pad, Transpose, Gather, Shape, Div, asymmetric padding, ...) run on the "
                   "host reference kernels",
    .version = cudnn_version,
    .probe = cudnn_probe,
    .options = dk__cudnn_options,
    .open = cudnn_open,
    .close = cudnn_close,
    .supports = cudnn_supports,
    .plan = cudnn_plan,
    .plan_destroy = cudnn_plan_destroy,
    .execute = cudnn_execute,
    .from_canonical = cudnn_from_canonical,
    .to_canonical = cudnn_to_canonical,
    .sync = cudnn_sync,
    .node_seconds = cudnn_node_seconds,
    .plan_traits = cudnn_plan_traits,
    .describe = cudnn_describe,
    .poison = dk__cudnn_poison,
};
