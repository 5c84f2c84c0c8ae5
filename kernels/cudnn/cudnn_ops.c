/* Pooling, activations (cuDNN's own, and HardSigmoid, HardSwish, LeakyRelu
 * and general Clip composed of cuDNN calls), element-wise binary ops,
 * batch-norm inference, LRN, softmax and ReduceMean on cuDNN. Shapes cuDNN
 * cannot express fall back to the host with the reason in the plan's note.
 *
 * Plan roles: t[0] input (A for binary ops), t[1] output, t[2] the second
 * operand or the parameter tensor (B, batch-norm's scale/bias/mean/var, a
 * Clip bound scalar). */
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

static const float one = 1.0f, zero = 0.0f;

/* A flat view (1, numel, 1, 1): element-wise ops on identically stored
 * input and output do not care about the shape. */
static dk_status flat_desc(cudnnTensorDescriptor_t d, const dk_tensor *t)
{
    int64_t dims[1] = {dk_tensor_numel(t)};
    int64_t four[4] = {1, dims[0], 1, 1};
    return dk__cudnn_tensor_desc(d, CUDNN_DATA_FLOAT, 4, four, 0);
}

/* Descriptor of a value as it is stored on the device. */
static dk_status value_desc(dk_cudnn_ctx *ctx, cudnnTensorDescriptor_t d, const dk_tensor *t)
{
    return dk__cudnn_tensor_desc(d, CUDNN_DATA_FLOAT, t->ndim, t->dims, dk__cudnn_is_nhwc(&ctx->cfg, t));
}

/* ---- pooling ------------------------------------------------------------------------ */

static dk_status run_pool(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnPoolingForward(ctx->cudnn, p->pool, &one, p->t[0], dk__cudnn_dev(ctx, n->inputs[0]), &zero,
                                 p->t[1], dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_pool)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *y = dk__cudnn_out(g, n, 0);
    DK_CUDNN(cudnnCreatePoolingDescriptor(&p->pool));
    if (dk__cudnn_pool_desc(p->pool, g, n, ctx->cfg.deterministic) != DK_OK) return dk__cudnn_fallback_last(p);
    DK_TRY(dk__cudnn_plan_tensors(p, 2));
    DK_TRY(value_desc(ctx, p->t[0], x));
    DK_TRY(value_desc(ctx, p->t[1], y));
    int nd = x->ndim < 4 ? 4 : x->ndim, out[5];
    DK_CUDNN(cudnnGetPoolingNdForwardOutputDim(p->pool, p->t[0], nd, out));
    for (int i = 0; i < nd; i++)
        if (out[i] != (i < y->ndim ? y->dims[i] : 1))
            return dk__cudnn_fallback(p, "cuDNN pooling gives output dimension %d = %d, the node %lld", i, out[i],
                                      (long long)(i < y->ndim ? y->dims[i] : 1));
    snprintf(p->info.note, sizeof p->info.note, "cuDNN pooling");
    p->run = run_pool;
    return DK_OK;
}

/* ---- activations ------------------------------------------------------------------------ */

static dk_status run_activation(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnActivationForward(ctx->cudnn, p->act, &one, p->t[0], dk__cudnn_dev(ctx, n->inputs[0]), &zero,
                                    p->t[1], dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

/* Clip with arbitrary bounds: y = max(x, min) then y = min(y, max), each a
 * cudnnOpTensor against a one-element tensor (owned[0] = {min, max}).
 * i[0]/i[1]: the lower/upper bound is finite. */
static dk_status run_clip(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const void *x = dk__cudnn_dev(ctx, n->inputs[0]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    const float *bounds = p->owned[0];
    if (p->i[0]) {
        DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[0], &one, p->t[0], x, &one, p->t[2], bounds, &zero, p->t[1], y));
        x = y;
    }
    if (p->i[1])
        DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[1], &one, p->t[0], x, &one, p->t[2], bounds + 1, &zero, p->t[1], y));
    if (!p->i[0] && !p->i[1] && x != y)
        DK_CUDA(cudaMemcpyAsync(y, x, dk_tensor_nbytes(dk__cudnn_out(g, n, 0)), cudaMemcpyDeviceToDevice,
                                ctx->stream));
    return DK_OK;
}

/* HardSigmoid, HardSwish and LeakyRelu composed of cuDNN calls on the flat
 * views t[0] (x) and t[1] (y), with no constant in device memory:
 *   HardSigmoid  y = beta (cudnnSetTensor); y = alpha x + y (cudnnAddTensor);
 *                y = clamp(y, 0, 1) (clipped ReLU, in place)
 *   HardSwish    the same with alpha 1/6, beta 1/2, then y = y * x (op-tensor)
 *   LeakyRelu    y = max(x, alpha x) for alpha <= 1, min(x, alpha x) above
 *                (one op-tensor with x as both operands)
 * p->alpha = {alpha, beta}; p->act the clipped ReLU; p->op[0] the op-tensor. */
static dk_status run_composed(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const void *x = dk__cudnn_dev(ctx, n->inputs[0]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    if (n->op == DK_OP_LEAKYRELU) {
        DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[0], &one, p->t[0], x, &p->alpha[0], p->t[0], x, &zero, p->t[1], y));
        return DK_OK;
    }
    DK_CUDNN(cudnnSetTensor(ctx->cudnn, p->t[1], y, &p->alpha[1]));
    DK_CUDNN(cudnnAddTensor(ctx->cudnn, &p->alpha[0], p->t[0], x, &one, p->t[1], y));
    DK_CUDNN(cudnnActivationForward(ctx->cudnn, p->act, &one, p->t[1], y, &zero, p->t[1], y));
    if (n->op == DK_OP_HARDSWISH)
        DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[0], &one, p->t[1], y, &one, p->t[0], x, &zero, p->t[1], y));
    return DK_OK;
}

static dk_status plan_composed(const dk_node *n, dk_cudnn_plan *p)
{
    const dk_act_params *a = &n->p.act;
    dk__error_clear(); /* the single-activation attempt's refusal */
    if (n->op == DK_OP_LEAKYRELU) {
        p->alpha[0] = a->alpha;
        DK_CUDNN(cudnnCreateOpTensorDescriptor(&p->op[0]));
        DK_CUDNN(cudnnSetOpTensorDescriptor(p->op[0], a->alpha <= 1.0f ? CUDNN_OP_TENSOR_MAX : CUDNN_OP_TENSOR_MIN,
                                            CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
        snprintf(p->info.note, sizeof p->info.note, "cuDNN op-tensor %s(x, alpha x)", a->alpha <= 1.0f ? "max" : "min");
    } else {
        /* ONNX HardSwish is x * HardSigmoid(x) with alpha 1/6, beta 1/2 */
        p->alpha[0] = n->op == DK_OP_HARDSWISH ? 1.0f / 6.0f : a->alpha;
        p->alpha[1] = n->op == DK_OP_HARDSWISH ? 0.5f : a->beta;
        DK_CUDNN(cudnnSetActivationDescriptor(p->act, CUDNN_ACTIVATION_CLIPPED_RELU, CUDNN_PROPAGATE_NAN, 1.0));
        if (n->op == DK_OP_HARDSWISH) {
            DK_CUDNN(cudnnCreateOpTensorDescriptor(&p->op[0]));
            DK_CUDNN(cudnnSetOpTensorDescriptor(p->op[0], CUDNN_OP_TENSOR_MUL, CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
        }
        snprintf(p->info.note, sizeof p->info.note, "cuDNN set + add-tensor + clipped ReLU%s",
                 n->op == DK_OP_HARDSWISH ? " + op-tensor mul" : "");
    }
    p->run = run_composed;
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_activation)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0);
    DK_TRY(dk__cudnn_plan_tensors(p, 3));
    if (flat_desc(p->t[0], x) != DK_OK || flat_desc(p->t[1], x) != DK_OK)
        return dk__cudnn_fallback_last(p);
    DK_CUDNN(cudnnCreateActivationDescriptor(&p->act));
    if (dk__cudnn_activation_desc(p->act, n) == DK_OK) {
        snprintf(p->info.note, sizeof p->info.note, "cuDNN activation");
        p->run = run_activation;
        return DK_OK;
    }
    if (n->op == DK_OP_HARDSIGMOID || n->op == DK_OP_HARDSWISH || n->op == DK_OP_LEAKYRELU)
        return plan_composed(n, p);
    const dk_act_params *a = &n->p.act;
    if (n->op != DK_OP_CLIP || isnan(a->min) || isnan(a->max)) return dk__cudnn_fallback_last(p);
    float bounds[2] = {a->min, a->max};
    DK_TRY(dk__cudnn_upload_new(ctx, bounds, sizeof bounds, &p->owned[0]));
    int64_t ones[4] = {1, 1, 1, 1};
    DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, 4, ones, 0));
    for (int k = 0; k < 2; k++) {
        DK_CUDNN(cudnnCreateOpTensorDescriptor(&p->op[k]));
        DK_CUDNN(cudnnSetOpTensorDescriptor(p->op[k], k ? CUDNN_OP_TENSOR_MIN : CUDNN_OP_TENSOR_MAX,
                                            CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
    }
    p->i[0] = !isinf(a->min);
    p->i[1] = !isinf(a->max);
    snprintf(p->info.note, sizeof p->info.note, "cuDNN op-tensor max/min");
    p->run = run_clip;
    return DK_OK;
}

/* ---- Add, Sub, Mul -------------------------------------------------------------------- */

/* Operand t of a binary node viewed in the output's rank r: `lead` leading
 * unit axes, t's dims, then unit axes; strides as t is stored. */
static dk_status operand_view(dk_cudnn_ctx *ctx, const dk_tensor *t, int r, int lead, int64_t *dims,
                              int64_t *strides)
{
    if (lead < 0 || lead + t->ndim > r)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: operand of rank %d does not line up with rank %d", t->ndim, r);
    int nd = r < 4 ? 4 : r;
    for (int i = 0; i < nd; i++) dims[i] = i >= lead && i < lead + t->ndim ? t->dims[i - lead] : 1;
    if (dk__cudnn_is_nhwc(&ctx->cfg, t)) {
        if (lead || r != 4) return dk__error(DK_ERR_UNSUPPORTED, "cudnn: NHWC operand broadcast to rank %d", r);
        strides[1] = 1, strides[3] = dims[1], strides[2] = dims[3] * dims[1], strides[0] = dims[2] * strides[2];
        return DK_OK;
    }
    strides[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--) strides[i] = strides[i + 1] * dims[i + 1];
    return DK_OK;
}

static dk_status run_binary(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const void *a = dk__cudnn_dev(ctx, n->inputs[p->swap ? 1 : 0]);
    const void *b = dk__cudnn_dev(ctx, n->inputs[p->swap ? 0 : 1]);
    DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[0], &p->alpha[0], p->t[0], a, &p->alpha[1], p->t[2], b, &zero, p->t[1],
                           dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_binary)
{
    const dk_tensor *a = dk__cudnn_in(g, n, 0), *b = dk__cudnn_in(g, n, 1), *y = dk__cudnn_out(g, n, 0);
    const int r = y->ndim;
    if (r > 5) return dk__cudnn_fallback(p, "rank %d beyond cuDNN's op-tensor", r);
    int64_t ad[8], as[8], bd[8], bs[8], yd[8], ys[8];
    if (operand_view(ctx, a, r, r - a->ndim, ad, as) != DK_OK ||
        operand_view(ctx, b, r, n->p.axis.axis, bd, bs) != DK_OK || operand_view(ctx, y, r, 0, yd, ys) != DK_OK)
        return dk__cudnn_fallback_last(p);
    int nd = r < 4 ? 4 : r, a_full = 1, b_full = 1;
    for (int i = 0; i < nd; i++) a_full &= ad[i] == yd[i], b_full &= bd[i] == yd[i];
    /* cuDNN broadcasts B only: exchange the operands when A is the broadcast one */
    p->swap = !a_full;
    if (p->swap && !b_full) return dk__cudnn_fallback(p, "both operands broadcast (cuDNN broadcasts one)");
    DK_TRY(dk__cudnn_plan_tensors(p, 3));
    DK_TRY(dk__cudnn_tensor_desc_strided(p->t[0], CUDNN_DATA_FLOAT, nd, p->swap ? bd : ad, p->swap ? bs : as));
    DK_TRY(dk__cudnn_tensor_desc_strided(p->t[2], CUDNN_DATA_FLOAT, nd, p->swap ? ad : bd, p->swap ? as : bs));
    DK_TRY(dk__cudnn_tensor_desc_strided(p->t[1], CUDNN_DATA_FLOAT, nd, yd, ys));
    DK_CUDNN(cudnnCreateOpTensorDescriptor(&p->op[0]));
    DK_CUDNN(cudnnSetOpTensorDescriptor(p->op[0], n->op == DK_OP_MUL ? CUDNN_OP_TENSOR_MUL : CUDNN_OP_TENSOR_ADD,
                                        CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
    /* a - b as a + (-1) b, with the signs following the exchange */
    p->alpha[0] = n->op == DK_OP_SUB && p->swap ? -1.0f : 1.0f;
    p->alpha[1] = n->op == DK_OP_SUB && !p->swap ? -1.0f : 1.0f;
    snprintf(p->info.note, sizeof p->info.note, "cuDNN op-tensor%s", p->swap ? " (operands exchanged)" : "");
    p->run = run_binary;
    return DK_OK;
}

/* ---- BatchNormalization (inference) ------------------------------------------------------ */

static dk_status run_batchnorm(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnBatchNormalizationForwardInference(
        ctx->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, p->t[0], dk__cudnn_dev(ctx, n->inputs[0]), p->t[1],
        dk__cudnn_dev(ctx, n->outputs[0]), p->t[2], dk__cudnn_dev(ctx, n->inputs[1]),
        dk__cudnn_dev(ctx, n->inputs[2]), dk__cudnn_dev(ctx, n->inputs[3]), dk__cudnn_dev(ctx, n->inputs[4]),
        (double)n->p.bn.epsilon));
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_batchnorm)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0);
    if (x->ndim < 2 || x->ndim > 5) return dk__cudnn_fallback(p, "input of rank %d", x->ndim);
    if (n->n_outputs > 1)
        for (int o = 1; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0) return dk__cudnn_fallback(p, "training-mode outputs requested");
    if ((double)n->p.bn.epsilon < CUDNN_BN_MIN_EPSILON)
        return dk__cudnn_fallback(p, "epsilon %g below cuDNN's minimum", (double)n->p.bn.epsilon);
    DK_TRY(dk__cudnn_plan_tensors(p, 3));
    DK_TRY(value_desc(ctx, p->t[0], x));
    DK_TRY(value_desc(ctx, p->t[1], dk__cudnn_out(g, n, 0)));
    int64_t pd[4] = {1, x->dims[1], 1, 1};
    int64_t pd5[5] = {1, x->dims[1], 1, 1, 1};
    DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, x->ndim == 5 ? 5 : 4, x->ndim == 5 ? pd5 : pd, 0));
    snprintf(p->info.note, sizeof p->info.note, "cuDNN batch-norm inference");
    p->run = run_batchnorm;
    return DK_OK;
}

/* ---- LRN ---------------------------------------------------------------------------- */

static dk_status run_lrn(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnLRNCrossChannelForward(ctx->cudnn, p->lrn, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, p->t[0],
                                         dk__cudnn_dev(ctx, n->inputs[0]), &zero, p->t[1],
                                         dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_lrn)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0);
    if (x->ndim < 3 || x->ndim > 5) return dk__cudnn_fallback(p, "input of rank %d", x->ndim);
    /* cuDNN documents cross-channel LRN on packed NCHW tensors */
    if (dk__cudnn_is_nhwc(&ctx->cfg, x)) return dk__cudnn_fallback(p, "LRN on an NHWC-stored value");
    DK_CUDNN(cudnnCreateLRNDescriptor(&p->lrn));
    if (dk__cudnn_lrn_desc(p->lrn, n) != DK_OK) return dk__cudnn_fallback_last(p);
    DK_TRY(dk__cudnn_plan_tensors(p, 2));
    DK_TRY(value_desc(ctx, p->t[0], x));
    DK_TRY(value_desc(ctx, p->t[1], dk__cudnn_out(g, n, 0)));
    snprintf(p->info.note, sizeof p->info.note, "cuDNN LRN across channels");
    p->run = run_lrn;
    return DK_OK;
}

/* ---- Softmax ---------------------------------------------------------------------- */

static dk_status run_softmax(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnSoftmaxForward(ctx->cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, &one, p->t[0],
                                 dk__cudnn_dev(ctx, n->inputs[0]), &zero, p->t[0],
                                 dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

/* Softmax along one axis (or, before opset 13, over the trailing axes
 * flattened) as cuDNN's channel mode on (outer, len, inner, 1). */
DK_CUDNN_PLANNER(dk__cudnn_plan_softmax)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0);
    const int axis = n->p.softmax.axis;
    DK_TRY(dk__cudnn_plan_tensors(p, 1));
    if (dk__cudnn_is_nhwc(&ctx->cfg, x)) {
        if (axis != 1 || n->p.softmax.legacy)
            return dk__cudnn_fallback(p, "softmax of an NHWC value off the channel axis");
        DK_TRY(value_desc(ctx, p->t[0], x));
    } else {
        int64_t outer = 1, len = 1, inner = 1;
        for (int i = 0; i < x->ndim; i++) {
            if (i < axis) outer *= x->dims[i];
            else if (i == axis || n->p.softmax.legacy) len *= x->dims[i];
            else inner *= x->dims[i];
        }
        int64_t dims[4] = {outer, len, inner, 1};
        if (dk__cudnn_tensor_desc(p->t[0], CUDNN_DATA_FLOAT, 4, dims, 0) != DK_OK) return dk__cudnn_fallback_last(p);
    }
    snprintf(p->info.note, sizeof p->info.note, "cuDNN softmax (accurate)");
    p->run = run_softmax;
    return DK_OK;
}

/* ---- ReduceMean ------------------------------------------------------------------------ */

static dk_status run_reducemean(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    DK_CUDNN(cudnnReduceTensor(ctx->cudnn, p->reduce, NULL, 0, ctx->work, p->work_bytes, &one, p->t[0],
                               dk__cudnn_dev(ctx, n->inputs[0]), &zero, p->t[1], dk__cudnn_dev(ctx, n->outputs[0])));
    return DK_OK;
}

/* The average over the reduced axes (cudnnReduceTensor): the output viewed
 * with those axes kept as 1, which is how it lies in memory either way. */
DK_CUDNN_PLANNER(dk__cudnn_plan_reducemean)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *y = dk__cudnn_out(g, n, 0);
    const dk_reduce_params *rp = &n->p.reduce;
    if (x->dtype != DK_F32 || y->dtype != DK_F32) return dk__cudnn_fallback(p, "ReduceMean of non-float32 data");
    if (x->ndim < 1 || x->ndim > 5 || rp->naxes < 1) return dk__cudnn_fallback(p, "ReduceMean of this rank or axes");
    int64_t cd[DK_MAX_DIMS];
    int reduces = 0;
    for (int i = 0; i < x->ndim; i++) cd[i] = x->dims[i];
    for (int k = 0; k < rp->naxes; k++) {
        reduces |= x->dims[rp->axes[k]] != 1;
        cd[rp->axes[k]] = 1;
    }
    /* cudnnReduceTensor rejects a reduction whose input and output shapes
     * agree (CUDNN_STATUS_BAD_PARAM, "!dims_differ"): an identity */
    if (!reduces) return dk__cudnn_fallback(p, "ReduceMean over axes of extent 1 only (cuDNN rejects the identity)");
    DK_TRY(dk__cudnn_plan_tensors(p, 2));
    DK_TRY(value_desc(ctx, p->t[0], x));
    DK_TRY(dk__cudnn_tensor_desc(p->t[1], CUDNN_DATA_FLOAT, x->ndim, cd, dk__cudnn_is_nhwc(&ctx->cfg, y)));
    DK_CUDNN(cudnnCreateReduceTensorDescriptor(&p->reduce));
    DK_CUDNN(cudnnSetReduceTensorDescriptor(p->reduce, CUDNN_REDUCE_TENSOR_AVG, CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN,
                                            CUDNN_REDUCE_TENSOR_NO_INDICES, CUDNN_32BIT_INDICES));
    size_t ws = 0;
    DK_CUDNN(cudnnGetReductionWorkspaceSize(ctx->cudnn, p->reduce, p->t[0], p->t[1], &ws));
    p->work_bytes = ws;
    snprintf(p->info.note, sizeof p->info.note, "cuDNN reduce-tensor (average)");
    p->run = run_reducemean;
    return DK_OK;
}
