/* Plans: dispatch from op to planner, device buffers for the node's values,
 * CUDA events around every run, and the host fallback through the reference
 * kernels for what has no GPU path. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/op_table.h"
#include "kernels/cudnn/cudnn_internal.h"
#include "kernels/fallback.h"
#include "runtime/timer.h"

int dk__cudnn_all_f32(const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && g->values[n->inputs[i]].t.dtype != DK_F32) return 0;
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0 && g->values[n->outputs[o]].t.dtype != DK_F32) return 0;
    return 1;
}

dk_status dk__cudnn_fallback(dk_cudnn_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char why[160];
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(p->info.note, sizeof p->info.note, "host (reference kernel): %s", why);
    p->run = NULL;
    dk__error_clear();
    return DK_OK;
}

dk_status dk__cudnn_fallback_last(dk_cudnn_plan *p)
{
    const char *msg = dk_last_error();
    if (!strncmp(msg, "cudnn: ", 7)) msg += 7;
    return dk__cudnn_fallback(p, "%s", msg);
}

dk_status dk__cudnn_plan_tensors(dk_cudnn_plan *p, int n)
{
    for (int i = 0; i < n && i < DK_CUDNN_MAX_DESCS; i++)
        if (!p->t[i]) DK_CUDNN(cudnnCreateTensorDescriptor(&p->t[i]));
    return DK_OK;
}

void dk__cudnn_plan_free(dk_cudnn_plan *p)
{
    if (!p) return;
    for (int i = 0; i < DK_CUDNN_MAX_DESCS; i++)
        if (p->t[i]) cudnnDestroyTensorDescriptor(p->t[i]);
    if (p->filter) cudnnDestroyFilterDescriptor(p->filter);
    if (p->conv) cudnnDestroyConvolutionDescriptor(p->conv);
    if (p->act) cudnnDestroyActivationDescriptor(p->act);
    if (p->post_act) cudnnDestroyActivationDescriptor(p->post_act);
    if (p->pool) cudnnDestroyPoolingDescriptor(p->pool);
    if (p->lrn) cudnnDestroyLRNDescriptor(p->lrn);
    if (p->reduce) cudnnDestroyReduceTensorDescriptor(p->reduce);
    for (int i = 0; i < 2; i++)
        if (p->op[i]) cudnnDestroyOpTensorDescriptor(p->op[i]);
    for (int i = 0; i < DK_CUDNN_MAX_OWNED; i++)
        if (p->owned[i]) cudaFree(p->owned[i]);
    if (p->start) cudaEventDestroy(p->start);
    if (p->stop) cudaEventDestroy(p->stop);
    free(p);
}

typedef dk_status (*planner_fn)(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p);

/* Ops without a planner run on the host's reference kernels (kernels/fallback.h);
 * Resize, Upsample, InstanceNormalization and Einsum among them. */
DK_OP_TABLE_VISITED(78, "cuDNN's planners (kernels/cudnn/cudnn_plan.c)");
static const planner_fn planners[DK_OP_COUNT] = {
    [DK_OP_CONV] = dk__cudnn_plan_conv,
    [DK_OP_CONVTRANSPOSE] = dk__cudnn_plan_convtranspose,
    [DK_OP_BATCHNORM] = dk__cudnn_plan_batchnorm,
    [DK_OP_RELU] = dk__cudnn_plan_activation,
    [DK_OP_CLIP] = dk__cudnn_plan_activation,
    [DK_OP_SIGMOID] = dk__cudnn_plan_activation,
    [DK_OP_HARDSIGMOID] = dk__cudnn_plan_activation,
    [DK_OP_HARDSWISH] = dk__cudnn_plan_activation,
    [DK_OP_LEAKYRELU] = dk__cudnn_plan_activation,
    [DK_OP_ADD] = dk__cudnn_plan_binary,
    [DK_OP_SUB] = dk__cudnn_plan_binary,
    [DK_OP_MUL] = dk__cudnn_plan_binary,
    [DK_OP_MAXPOOL] = dk__cudnn_plan_pool,
    [DK_OP_AVGPOOL] = dk__cudnn_plan_pool,
    [DK_OP_GLOBALAVGPOOL] = dk__cudnn_plan_pool,
    [DK_OP_GLOBALMAXPOOL] = dk__cudnn_plan_pool,
    [DK_OP_GEMM] = dk__cudnn_plan_gemm,
    [DK_OP_MATMUL] = dk__cudnn_plan_matmul,
    [DK_OP_CONCAT] = dk__cudnn_plan_concat,
    [DK_OP_SOFTMAX] = dk__cudnn_plan_softmax,
    [DK_OP_LRN] = dk__cudnn_plan_lrn,
    [DK_OP_FLATTEN] = dk__cudnn_plan_reshape,
    [DK_OP_RESHAPE] = dk__cudnn_plan_reshape,
    [DK_OP_SQUEEZE] = dk__cudnn_plan_reshape,
    [DK_OP_UNSQUEEZE] = dk__cudnn_plan_reshape,
    [DK_OP_IDENTITY] = dk__cudnn_plan_reshape,
    [DK_OP_DROPOUT] = dk__cudnn_plan_reshape,
    [DK_OP_PAD] = dk__cudnn_plan_pad,
    [DK_OP_REDUCEMEAN] = dk__cudnn_plan_reducemean,
};

/* Constant inputs a planner copies into its own layout (Conv and
 * ConvTranspose weights, Gemm's broadcast C): no device copy of the value
 * itself. */
static int own_copy(const dk_graph *g, const dk_node *n, int i)
{
    const dk_value *v = &g->values[n->inputs[i]];
    if (v->kind != DK_VALUE_CONSTANT || !v->t.data) return 0;
    return ((n->op == DK_OP_CONV || n->op == DK_OP_CONVTRANSPOSE) && i == 1) || (n->op == DK_OP_GEMM && i == 2);
}

dk_status dk__cudnn_plan_choose(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p)
{
    planner_fn fn = n->op > DK_OP_NONE && n->op < DK_OP_COUNT ? planners[n->op] : NULL;
    dk_status st;
    /* data movement copies bytes of any dtype, and Pad and ReduceMean take
     * integer pads/axes inputs (each checks its data itself); the rest is
     * float32 only */
    int any_dtype = fn == dk__cudnn_plan_concat || fn == dk__cudnn_plan_reshape || fn == dk__cudnn_plan_pad ||
                    fn == dk__cudnn_plan_reducemean;
    if (fn && !any_dtype && !dk__cudnn_all_f32(g, n))
        st = dk__cudnn_fallback(p, "%s on non-float32 tensors", dk_op_name(n->op));
    else if (fn) {
        st = fn(ctx, g, n, p);
        /* a shape cuDNN rejects (an empty tensor, a rank beyond its limits)
         * runs on the host, saying why; the convolution planner decides
         * itself (an algorithm the variant names must not quietly move the
         * node to the host) */
        if (st == DK_ERR_UNSUPPORTED && n->op != DK_OP_CONV) st = dk__cudnn_fallback_last(p);
    } else
        st = dk__cudnn_fallback(p, "no GPU path for %s", dk_op_name(n->op));
    if (st == DK_OK && !p->run && !dk__fallback_supports(n))
        st = dk__error(DK_ERR_UNSUPPORTED, "cudnn: no GPU path and no reference kernel for %s", dk_op_name(n->op));
    p->info.host = p->run == NULL;
    return st;
}

dk_status dk__cudnn_plan_node(dk_cudnn_ctx *ctx, const dk_graph *g, int node, dk_cudnn_plan **out)
{
    const dk_node *n = &g->nodes[node];
    *out = NULL;
    dk_cudnn_plan *p = calloc(1, sizeof *p);
    if (!p) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
    dk_status st = DK_OK;
    /* every value the node touches lives on the device (constants uploaded now) */
    for (int i = 0; i < n->n_inputs && st == DK_OK; i++)
        if (n->inputs[i] >= 0 && !own_copy(g, n, i)) st = dk__cudnn_value_ensure(ctx, g, n->inputs[i]);
    for (int o = 0; o < n->n_outputs && st == DK_OK; o++)
        if (n->outputs[o] >= 0) st = dk__cudnn_value_ensure(ctx, g, n->outputs[o]);
    if (st == DK_OK) st = dk__cuda_check(cudaEventCreate(&p->start), "cudaEventCreate");
    if (st == DK_OK) st = dk__cuda_check(cudaEventCreate(&p->stop), "cudaEventCreate");
    if (st == DK_OK) st = dk__cudnn_plan_choose(ctx, g, n, p);
    if (st == DK_OK && p->work_bytes) st = dk__cudnn_workspace(ctx, p->work_bytes);
    if (st != DK_OK) {
        dk__cudnn_plan_free(p);
        return st;
    }
    if (ctx->verbose)
        fprintf(stderr, "cudnn: node '%s' (%s): %s\n", n->name, dk_op_name(n->op),
                p->info.note[0] ? p->info.note : "GPU");
    *out = p;
    return DK_OK;
}

/* The reference kernel on the session's host tensors: inputs brought down from
 * the device, outputs sent back up. */
static dk_status run_on_host(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n,
                             const dk_tensor *const *in, dk_tensor *const *out)
{
    double t0 = dk__now();
    for (int i = 0; i < n->n_inputs; i++) {
        int v = n->inputs[i];
        if (v < 0 || !in[i] || g->values[v].kind == DK_VALUE_CONSTANT) continue;
        DK_TRY(dk__cudnn_download(ctx, g, v, (dk_tensor *)in[i]));
    }
    DK_TRY(dk__fallback_run("cudnn", n, in, out));
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0 && out[o]) DK_TRY(dk__cudnn_upload(ctx, g, n->outputs[o], out[o]));
    p->host_seconds = dk__now() - t0;
    return DK_OK;
}

dk_status dk__cudnn_plan_execute(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g,
                                 const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    if (!p->run) return run_on_host(ctx, p, g, n, in, out);
    DK_CUDA(cudaEventRecord(p->start, ctx->stream));
    DK_TRY(p->run(ctx, p, g, n));
    DK_CUDA(cudaEventRecord(p->stop, ctx->stream));
    return DK_OK;
}

double dk__cudnn_plan_seconds(dk_cudnn_plan *p)
{
    if (!p) return 0.0;
    if (!p->run) return p->host_seconds;
    float ms = 0.0f;
    /* the session has synchronised the stream, so the stop event has completed */
    if (cudaEventElapsedTime(&ms, p->start, p->stop) != cudaSuccess) return 0.0;
    return (double)ms * 1e-3;
}
