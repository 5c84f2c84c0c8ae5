/* Device copies of graph values, their conversion from and to the host's
 * canonical tensors, and the shared workspace. */
#include <stdlib.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

void dk__cudnn_nchw_to_nhwc(const float *src, float *dst, const int64_t *dims)
{
    const int64_t N = dims[0], C = dims[1], HW = dims[2] * dims[3];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < HW; i++) dst[(n * HW + i) * C + c] = src[(n * C + c) * HW + i];
}

void dk__cudnn_nhwc_to_nchw(const float *src, float *dst, const int64_t *dims)
{
    const int64_t N = dims[0], C = dims[1], HW = dims[2] * dims[3];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < HW; i++) dst[(n * C + c) * HW + i] = src[(n * HW + i) * C + c];
}

void *dk__cudnn_dev(dk_cudnn_ctx *ctx, int v)
{
    return v >= 0 && v < ctx->n_values ? ctx->values[v].dev : NULL;
}

/* The value table is sized on first use for the graph being planned. */
static dk_status values_for(dk_cudnn_ctx *ctx, const dk_graph *g)
{
    if (ctx->values) {
        if (ctx->g != g || ctx->n_values != g->n_values)
            return dk__error(DK_ERR_INTERNAL, "cudnn: one backend context serves one graph");
        return DK_OK;
    }
    ctx->values = calloc((size_t)g->n_values + 1, sizeof *ctx->values);
    if (!ctx->values) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
    ctx->g = g;
    ctx->n_values = g->n_values;
    return DK_OK;
}

dk_status dk__cudnn_upload(dk_cudnn_ctx *ctx, const dk_graph *g, int v, const dk_tensor *src)
{
    DK_TRY(dk__cudnn_value_ensure(ctx, g, v));
    dk_cudnn_value *dv = &ctx->values[v];
    if (!dv->bytes) return DK_OK;
    if (!src->data || dk_tensor_nbytes(src) != dv->bytes)
        return dk__error(DK_ERR_SHAPE, "cudnn: value '%s': host tensor of %zu bytes for a device copy of %zu",
                         g->values[v].t.name, src->data ? dk_tensor_nbytes(src) : 0, dv->bytes);
    const void *host = src->data;
    float *tmp = NULL;
    if (dv->nhwc) {
        if (!(tmp = malloc(dv->bytes))) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
        dk__cudnn_nchw_to_nhwc(src->data, tmp, src->dims);
        host = tmp;
    }
    dk_status st = dk__cuda_check(cudaMemcpyAsync(dv->dev, host, dv->bytes, cudaMemcpyHostToDevice, ctx->stream),
                                  "cudaMemcpyAsync");
    if (st == DK_OK) st = dk__cuda_check(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
    free(tmp);
    if (st != DK_OK) return dk__error_prefix(st, "cudnn: uploading value '%s'", g->values[v].t.name);
    return DK_OK;
}

dk_status dk__cudnn_download(dk_cudnn_ctx *ctx, const dk_graph *g, int v, dk_tensor *dst)
{
    if (v < 0 || v >= ctx->n_values || !ctx->values[v].dev)
        return dk__error(DK_ERR_INTERNAL, "cudnn: value '%s' has no device copy", g->values[v].t.name);
    dk_cudnn_value *dv = &ctx->values[v];
    if (!dst->data || dk_tensor_nbytes(dst) != dv->bytes)
        return dk__error(DK_ERR_SHAPE, "cudnn: value '%s': host tensor of %zu bytes for a device copy of %zu",
                         g->values[v].t.name, dst->data ? dk_tensor_nbytes(dst) : 0, dv->bytes);
    void *host = dst->data;
    float *tmp = NULL;
    if (dv->nhwc) {
        if (!(tmp = malloc(dv->bytes))) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
        host = tmp;
    }
    dk_status st = dk__cuda_check(cudaMemcpyAsync(host, dv->dev, dv->bytes, cudaMemcpyDeviceToHost, ctx->stream),
                                  "cudaMemcpyAsync");
    if (st == DK_OK) st = dk__cuda_check(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
    if (st == DK_OK && tmp) dk__cudnn_nhwc_to_nchw(tmp, dst->data, dst->dims);
    free(tmp);
    if (st != DK_OK) return dk__error_prefix(st, "cudnn: downloading value '%s'", g->values[v].t.name);
    return DK_OK;
}

dk_status dk__cudnn_value_ensure(dk_cudnn_ctx *ctx, const dk_graph *g, int v)
{
    DK_TRY(values_for(ctx, g));
    if (v < 0 || v >= g->n_values) return dk__error(DK_ERR_INTERNAL, "cudnn: no value %d", v);
    dk_cudnn_value *dv = &ctx->values[v];
    if (dv->dev) return DK_OK;
    const dk_value *gv = &g->values[v];
    if (gv->t.dtype == DK_DTYPE_UNDEFINED)
        return dk__error(DK_ERR_INTERNAL, "cudnn: value '%s' has no type", gv->t.name);
    dv->bytes = dk_tensor_nbytes(&gv->t);
    dv->nhwc = dk__cudnn_is_nhwc(&ctx->cfg, &gv->t);
    /* an empty tensor still gets a (1-byte) buffer, so "has a copy" stays a pointer test */
    DK_CUDA(cudaMalloc(&dv->dev, dv->bytes ? dv->bytes : 1));
    if (gv->kind == DK_VALUE_CONSTANT && gv->t.data && dv->bytes) DK_TRY(dk__cudnn_upload(ctx, g, v, &gv->t));
    else if (dv->bytes) {
        /* all-ones: NaN in float32. On the context's stream, and finished
         * here: a cudaMemset goes to the legacy default stream, which a
         * cudaStreamNonBlocking stream does not wait for, so it could land
         * after a later upload or kernel and overwrite its result (seen on an
         * H200 with other processes on the GPU: inputs and outputs NaN) */
        DK_CUDA(cudaMemsetAsync(dv->dev, 0xFF, dv->bytes, ctx->stream));
        DK_CUDA(cudaStreamSynchronize(ctx->stream));
    }
    return DK_OK;
}

dk_status dk__cudnn_poison(void *vctx, const dk_graph *g)
{
    dk_cudnn_ctx *ctx = vctx;
    for (int v = 0; ctx && v < ctx->n_values && v < g->n_values; v++)
        if (ctx->values[v].dev && ctx->values[v].bytes && g->values[v].kind != DK_VALUE_CONSTANT)
            DK_CUDA(cudaMemsetAsync(ctx->values[v].dev, 0xFF, ctx->values[v].bytes, ctx->stream));
    DK_CUDA(cudaStreamSynchronize(ctx->stream));
    return DK_OK;
}

dk_status dk__cudnn_upload_new(dk_cudnn_ctx *ctx, const void *host, size_t n, void **dev)
{
    *dev = NULL;
    DK_CUDA(cudaMalloc(dev, n ? n : 1));
    if (!n) return DK_OK;
    DK_CUDA(cudaMemcpyAsync(*dev, host, n, cudaMemcpyHostToDevice, ctx->stream));
    DK_CUDA(cudaStreamSynchronize(ctx->stream));
    return DK_OK;
}

dk_status dk__cudnn_workspace(dk_cudnn_ctx *ctx, size_t bytes)
{
    if (bytes <= ctx->work_size) return DK_OK;
    if (ctx->work) {
        DK_CUDA(cudaStreamSynchronize(ctx->stream));
        DK_CUDA(cudaFree(ctx->work));
        ctx->work = NULL;
        ctx->work_size = 0;
    }
    DK_CUDA(cudaMalloc(&ctx->work, bytes));
    ctx->work_size = bytes;
    return DK_OK;
}

void dk__cudnn_values_free(dk_cudnn_ctx *ctx)
{
    for (int v = 0; ctx->values && v < ctx->n_values; v++)
        if (ctx->values[v].dev) cudaFree(ctx->values[v].dev);
    free(ctx->values);
    ctx->values = NULL;
    ctx->n_values = 0;
    if (ctx->work) cudaFree(ctx->work);
    ctx->work = NULL;
    ctx->work_size = 0;
}
