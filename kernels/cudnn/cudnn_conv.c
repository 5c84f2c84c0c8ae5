/* Convolution on cuDNN: descriptors, algorithm choice (heuristics, a timed
 * search, or the algorithm the variant names), workspace size and weight
 * upload at plan time; cudnnConvolutionForward (+ cudnnAddTensor for the
 * bias, or both in cudnnConvolutionBiasActivationForward with fuse=on) at run
 * time. math=fp16 converts the input and output around a float16 convolution
 * (float32 accumulation) with cudnnTransformTensor; the weights are converted
 * once at plan time.
 *
 * Plan roles: t[0] input, t[1] output, t[2] bias, t[3]/t[4] float16 input and
 * output; owned[0] the weights (NULL: read from the weight value each run);
 * i[0] workspace offset of the float16 input, i[1] of the float16 output,
 * i[2] the algorithm's own workspace bytes (at offset 0); post-ops: i[3]
 * POST_ACT_*, i[4]/i[5] a general Clip's bounds are finite, t[5] their
 * one-element descriptor, owned[2] the bounds, owned[1] a zero bias for the
 * fused call when the node has none. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"
#include "runtime/text.h"

#define ALIGN 256
#define FIND_WORKSPACE_CAP DK_CUDNN_FIND_WORKSPACE_CAP

static size_t align_up(size_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static dk_status run_conv(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n);

enum { POST_ACT_NONE = 0, POST_ACT_CUDNN, POST_ACT_CLIP };

int dk__cudnn_algo_acceptable(const dk_cudnn_ctx *ctx, cudnnStatus_t status, size_t memory,
                               cudnnDeterminism_t determinism, cudnnMathType_t math)
{
    const dk_cudnn_config *cfg = &ctx->cfg;
    if (status != CUDNN_STATUS_SUCCESS || memory > FIND_WORKSPACE_CAP) return 0;
    if (cfg->deterministic && determinism != CUDNN_DETERMINISTIC) return 0;
    /* math=fp32 must not let cuDNN use TF32 tensor cores: CUDNN_DEFAULT_MATH
     * permits them from compute capability 8.0 (A100) on */
    if (cfg->math == DK_CUDNN_MATH_FP32 && math != CUDNN_FMA_MATH &&
        !(math == CUDNN_DEFAULT_MATH && ctx->cc_major < 8))
        return 0;
    return 1;
}

void dk__cudnn_note_choice(const dk_cudnn_ctx *ctx, const dk_graph *g, dk_cudnn_plan *p,
                           cudnnDeterminism_t determinism, int transform)
{
    p->info.nondeterministic = determinism != CUDNN_DETERMINISTIC;
    p->info.may_differ = p->info.nondeterministic || dk__cudnn_wants_search(ctx, g);
    p->info.transform = transform;
}

/* Is this algorithm result acceptable under the variant's math and determinism? */
static int acceptable(const dk_cudnn_ctx *ctx, const cudnnConvolutionFwdAlgoPerf_t *r)
{
    return dk__cudnn_algo_acceptable(ctx, r->status, r->memory, r->determinism, r->mathType);
}

static void describe_results(const cudnnConvolutionFwdAlgoPerf_t *r, int n, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        dk_joinf(buf, size, ", ", "%s(%s%s)", dk__cudnn_algo_name((int)r[i].algo), cudnnGetErrorString(r[i].status),
                 r[i].determinism == CUDNN_DETERMINISTIC ? "" : ", non-deterministic");
}

/* The timed search: algo=find, or opt=3's choose_algorithm where no
 * algorithm is named. */
int dk__cudnn_wants_search(const dk_cudnn_ctx *ctx, const dk_graph *g)
{
    return ctx->cfg.algo == DK_CUDNN_ALGO_FIND ||
           (ctx->cfg.algo == DK_CUDNN_ALGO_HEURISTIC && (g->hints & DK_HINT_FASTEST_ALGO));
}

/* Picks the algorithm; sets p->algo, the descriptor's math type and p->work_bytes. */
static dk_status choose_algo(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p,
                             cudnnTensorDescriptor_t x, cudnnTensorDescriptor_t y, const void *xd,
                             const void *wd, void *yd)
{
    cudnnConvolutionFwdAlgoPerf_t res[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    dk_status st;
    const dk_cudnn_config *cfg = &ctx->cfg;
    if (dk__cudnn_wants_search(ctx, g)) {
        /* the search runs each algorithm on the node's own buffers: give it
         * the largest workspace any of them needs, within the cap */
        size_t most = 0;
        for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; a++) {
            size_t ws = 0;
            if (cudnnGetConvolutionForwardWorkspaceSize(ctx->cudnn, x, p->filter, p->conv, y,
                                                        (cudnnConvolutionFwdAlgo_t)a, &ws) == CUDNN_STATUS_SUCCESS &&
                ws <= FIND_WORKSPACE_CAP && ws > most)
                most = ws;
        }
        DK_TRY(dk__cudnn_workspace(ctx, most));
        st = dk__cudnn_check(cudnnFindConvolutionForwardAlgorithmEx(ctx->cudnn, x, xd, p->filter, wd, p->conv, y, yd,
                                                                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, res,
                                                                    ctx->work, most),
                             "cudnnFindConvolutionForwardAlgorithmEx");
    } else {
        st = dk__cudnn_check(cudnnGetConvolutionForwardAlgorithm_v7(ctx->cudnn, x, p->filter, p->conv, y,
                                                                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, res),
                             "cudnnGetConvolutionForwardAlgorithm_v7");
    }
    /* cuDNN has nothing for this convolution: the host, unless an algorithm was named */
    if (st == DK_ERR_UNSUPPORTED && cfg->algo < 0) return dk__cudnn_fallback_last(p);
    DK_TRY(st);
    int pick = -1;
    for (int i = 0; i < count && pick < 0; i++) {
        if (cfg->algo >= 0 && (int)res[i].algo != cfg->algo) continue;
        if (acceptable(ctx, &res[i])) pick = i;
    }
    if (pick < 0) {
        char offered[512];
        describe_results(res, count, offered, sizeof offered);
        if (cfg->algo >= 0) /* the variant's choice does not fit this layer: the node fails, saying so */
            return dk__error(DK_ERR_UNSUPPORTED,
                             "cudnn: conv '%s': algorithm %s is not available for this convolution with "
                             "math=%s%s (cuDNN offers: %s)",
                             n->name, dk__cudnn_algo_name(cfg->algo), dk__cudnn_math_name(cfg->math),
                             cfg->deterministic ? ", deterministic=on" : "", offered);
        /* heuristic or find: the node runs on the host, saying why */
        return dk__cudnn_fallback(p, "no cuDNN algorithm for math=%s%s (offered: %.80s)",
                                  dk__cudnn_math_name(cfg->math), cfg->deterministic ? ", deterministic=on" : "",
                                  offered);
    }
    p->algo = res[pick].algo;
    dk__cudnn_note_choice(ctx, g, p, res[pick].determinism,
                          p->algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT || p->algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
                              p->algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
                              p->algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED);
    DK_CUDNN(cudnnSetConvolutionMathType(p->conv, res[pick].mathType));
    size_t ws = 0;
    DK_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(ctx->cudnn, x, p->filter, p->conv, y, p->algo, &ws));
    p->work_bytes = align_up(ws);
    p->i[2] = (int64_t)ws;
    p->run = run_conv;
    return DK_OK;
}

dk_status dk__cudnn_upload_filter(dk_cudnn_ctx *ctx, const dk_cudnn_conv_geom *geo, int nhwc,
                                  const dk_tensor *w, dk_cudnn_plan *p)
{
    size_t bytes = dk_tensor_nbytes(w);
    const float *host = w->data;
    float *tmp = NULL;
    if (nhwc) {
        if (!(tmp = malloc(bytes))) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
        dk__cudnn_nchw_to_nhwc(w->data, tmp, w->dims);
        host = tmp;
    }
    void *f32 = NULL;
    dk_status st = dk__cudnn_upload_new(ctx, host, bytes, &f32);
    free(tmp);
    if (st != DK_OK) return st;
    if (!p->half) {
        p->owned[0] = f32;
        return DK_OK;
    }
    /* float32 -> float16 on the device, once */
    int64_t dims[5];
    for (int i = 0; i < geo->nd; i++) dims[i] = geo->w[i];
    cudnnTensorDescriptor_t from = NULL, to = NULL;
    const float one = 1.0f, zero = 0.0f;
    st = dk__cudnn_check(cudnnCreateTensorDescriptor(&from), "cudnnCreateTensorDescriptor");
    if (st == DK_OK) st = dk__cudnn_check(cudnnCreateTensorDescriptor(&to), "cudnnCreateTensorDescriptor");
    if (st == DK_OK) st = dk__cudnn_tensor_desc(from, CUDNN_DATA_FLOAT, geo->nd, dims, nhwc);
    if (st == DK_OK) st = dk__cudnn_tensor_desc(to, CUDNN_DATA_HALF, geo->nd, dims, nhwc);
    if (st == DK_OK) st = dk__cuda_check(cudaMalloc(&p->owned[0], bytes / 2 + 1), "cudaMalloc");
    if (st == DK_OK)
        st = dk__cudnn_check(cudnnTransformTensor(ctx->cudnn, &one, from, f32, &zero, to, p->owned[0]),
                             "cudnnTransformTensor");
    if (st == DK_OK) st = dk__cuda_check(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
    if (from) cudnnDestroyTensorDescriptor(from);
    if (to) cudnnDestroyTensorDescriptor(to);
    cudaFree(f32);
    return st;
}

/* The post-ops not fused into the convolution call, in place on y:
 * activation (Relu, Clip(0, max)) or a general Clip as max/min op-tensors. */
static dk_status run_post_act(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, void *y)
{
    const float one = 1.0f, zero = 0.0f;
    if (p->i[3] == POST_ACT_CUDNN)
        DK_CUDNN(cudnnActivationForward(ctx->cudnn, p->post_act, &one, p->t[1], y, &zero, p->t[1], y));
    if (p->i[3] == POST_ACT_CLIP) {
        const float *bounds = p->owned[2];
        if (p->i[4])
            DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[0], &one, p->t[1], y, &one, p->t[5], bounds, &zero, p->t[1], y));
        if (p->i[5])
            DK_CUDNN(cudnnOpTensor(ctx->cudnn, p->op[1], &one, p->t[1], y, &one, p->t[5], bounds + 1, &zero, p->t[1],
                                   y));
    }
    return DK_OK;
}

static dk_status run_conv(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const float one = 1.0f, zero = 0.0f;
    const void *x = dk__cudnn_dev(ctx, n->inputs[0]);
    const void *w = p->owned[0] ? p->owned[0] : dk__cudnn_dev(ctx, n->inputs[1]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    const void *b = n->p.conv.has_bias ? dk__cudnn_dev(ctx, n->inputs[2]) : NULL;
    const void *sum = n->post.has_sum ? dk__cudnn_dev(ctx, n->inputs[3]) : NULL;
    void *ws = ctx->work;
    unsigned char *work = ctx->work;
    if (p->fused_act) {
        /* y = act(conv(x) + alpha2 z + bias): z is the residual (alpha2 = 1) or,
         * with none, y itself with alpha2 = 0 (not read) */
        const float alpha2 = sum ? 1.0f : 0.0f;
        DK_CUDNN(cudnnConvolutionBiasActivationForward(ctx->cudnn, &one, p->t[0], x, p->filter, w, p->conv,
                                                       p->algo, ws, (size_t)p->i[2], &alpha2, p->t[1],
                                                       sum ? sum : y, p->t[2], b ? b : p->owned[1], p->act,
                                                       p->t[1], y));
        return run_post_act(ctx, p, y);
    }
    if (p->half) {
        void *xh = work + p->i[0], *yh = work + p->i[1];
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[0], x, &zero, p->t[3], xh));
        DK_CUDNN(cudnnConvolutionForward(ctx->cudnn, &one, p->t[3], xh, p->filter, w, p->conv, p->algo, ws,
                                         (size_t)p->i[2], &zero, p->t[4], yh));
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[4], yh, &zero, p->t[1], y));
    } else {
        DK_CUDNN(cudnnConvolutionForward(ctx->cudnn, &one, p->t[0], x, p->filter, w, p->conv, p->algo, ws,
                                         (size_t)p->i[2], &zero, p->t[1], y));
    }
    if (b) DK_CUDNN(cudnnAddTensor(ctx->cudnn, &one, p->t[2], b, &one, p->t[1], y));
    if (sum) DK_CUDNN(cudnnAddTensor(ctx->cudnn, &one, p->t[1], sum, &one, p->t[1], y));
    return run_post_act(ctx, p, y);
}

static void note_add(dk_cudnn_plan *p, const char *text)
{
    strncat(p->info.note, text, sizeof p->info.note - strlen(p->info.note) - 1);
}

/* Fused post-ops (n->post, from the graph passes): y = act(conv + b + sum).
 * With fuse=on (and float32 operands) the convolution, bias, residual and a
 * Relu run as one cudnnConvolutionBiasActivationForward; cuDNN accepts an
 * identity activation there only with IMPLICIT_PRECOMP_GEMM, so other
 * activations and algorithms leave the rest to separate calls. */
static dk_status plan_post_ops(dk_cudnn_ctx *ctx, const dk_node *n, const dk_cudnn_conv_geom *geo,
                               dk_cudnn_plan *p)
{
    const dk_post_ops *post = &n->post;
    const int relu = post->act == DK_OP_RELU || (post->act == DK_OP_CLIP && post->min == 0.0f && isinf(post->max));
    const int clipped = post->act == DK_OP_CLIP && post->min == 0.0f && !relu;
    const int general = post->act == DK_OP_CLIP && !relu && !clipped;
    const int precomp = p->algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    const int has_work = n->p.conv.has_bias || post->has_sum || post->act != DK_OP_NONE;
    int fused_relu = 0;
    if (ctx->cfg.fuse && has_work && !p->half && (relu || precomp)) {
        DK_CUDNN(cudnnCreateActivationDescriptor(&p->act));
        DK_CUDNN(cudnnSetActivationDescriptor(p->act, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
                                              CUDNN_PROPAGATE_NAN, 0.0));
        if (!n->p.conv.has_bias) { /* the fused call always adds a bias: zeros */
            int64_t bd[5] = {1, geo->y[1], 1, 1, 1};
            DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, geo->nd, bd, 0));
            DK_CUDA(cudaMalloc(&p->owned[1], sizeof(float) * (size_t)geo->y[1]));
            DK_CUDA(cudaMemsetAsync(p->owned[1], 0, sizeof(float) * (size_t)geo->y[1], ctx->stream));
            DK_CUDA(cudaStreamSynchronize(ctx->stream));
        }
        p->fused_act = 1;
        fused_relu = relu;
        note_add(p, relu ? ", bias+residual+Relu fused" : ", bias+residual fused");
    } else if (ctx->cfg.fuse && has_work) {
        note_add(p, p->half ? ", not fused (math=fp16)"
                            : ", not fused (cuDNN fuses an identity activation only with IMPLICIT_PRECOMP_GEMM)");
    }
    if ((relu && !fused_relu) || clipped) {
        DK_CUDNN(cudnnCreateActivationDescriptor(&p->post_act));
        DK_CUDNN(cudnnSetActivationDescriptor(p->post_act, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_CLIPPED_RELU,
                                              CUDNN_PROPAGATE_NAN, relu ? 0.0 : (double)post->max));
        p->i[3] = POST_ACT_CUDNN;
    } else if (general) {
        float bounds[2] = {post->min, post->max};
        DK_TRY(dk__cudnn_upload_new(ctx, bounds, sizeof bounds, &p->owned[2]));
        int64_t ones[5] = {1, 1, 1, 1, 1};
        DK_TRY(dk__cudnn_tensor_desc(p->t[5], CUDNN_DATA_FLOAT, geo->nd, ones, 0));
        for (int k = 0; k < 2; k++) {
            DK_CUDNN(cudnnCreateOpTensorDescriptor(&p->op[k]));
            DK_CUDNN(cudnnSetOpTensorDescriptor(p->op[k], k ? CUDNN_OP_TENSOR_MIN : CUDNN_OP_TENSOR_MAX,
                                                CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
        }
        p->i[3] = POST_ACT_CLIP;
        p->i[4] = !isinf(post->min);
        p->i[5] = !isinf(post->max);
    }
    if (post->has_sum || post->act != DK_OP_NONE) note_add(p, ", with its fused post-ops");
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_conv)
{
    dk_cudnn_conv_geom geo;
    if (dk__cudnn_conv_geom(g, n, &geo) != DK_OK) return dk__cudnn_fallback_last(p);
    const dk_tensor *xt = dk__cudnn_in(g, n, 0), *yt = dk__cudnn_out(g, n, 0);
    const dk_tensor *w = dk__cudnn_const(g, n, 1);
    const int nhwc = dk__cudnn_is_nhwc(&ctx->cfg, xt);
    if (!w && (nhwc || ctx->cfg.math == DK_CUDNN_MATH_FP16))
        return dk__cudnn_fallback(p, "weights computed at run time need layout=nchw and math other than fp16");
    p->half = ctx->cfg.math == DK_CUDNN_MATH_FP16;
    const cudnnDataType_t data = p->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    DK_TRY(dk__cudnn_plan_tensors(p, 6));
    DK_CUDNN(cudnnCreateFilterDescriptor(&p->filter));
    DK_CUDNN(cudnnCreateConvolutionDescriptor(&p->conv));
    /* the float32 input descriptor; the convolution's own (t[3] with fp16).
     * Shapes cuDNN cannot describe (an empty tensor) run on the host. */
    if (dk__cudnn_set_conv(&geo, data, CUDNN_DATA_FLOAT, nhwc, p->half ? p->t[3] : p->t[0], p->filter,
                           p->conv) != DK_OK)
        return dk__cudnn_fallback_last(p);
    int64_t xd[5], yd[5];
    for (int i = 0; i < geo.nd; i++) xd[i] = geo.x[i], yd[i] = geo.y[i];
    if (p->half) DK_TRY(dk__cudnn_tensor_desc(p->t[0], CUDNN_DATA_FLOAT, geo.nd, xd, nhwc));
    DK_CUDNN(cudnnSetConvolutionMathType(p->conv, ctx->cfg.math == DK_CUDNN_MATH_FP32 ? CUDNN_FMA_MATH
                                                                                     : CUDNN_TENSOR_OP_MATH));
    int out[5];
    DK_TRY(dk__cudnn_conv_out_dims(p->conv, p->half ? p->t[3] : p->t[0], p->filter, geo.nd, out));
    for (int i = 0; i < geo.nd; i++)
        if (out[i] != geo.y[i])
            return dk__error(DK_ERR_INTERNAL, "cudnn: conv '%s': cuDNN's output dimension %d is %d, deltakern's %d",
                             n->name, i, out[i], geo.y[i]);
    DK_TRY(dk__cudnn_tensor_desc(p->t[1], CUDNN_DATA_FLOAT, geo.nd, yd, nhwc));
    if (p->half) DK_TRY(dk__cudnn_tensor_desc(p->t[4], CUDNN_DATA_HALF, geo.nd, yd, nhwc));
    if (n->p.conv.has_bias) {
        int64_t bd[5] = {1, geo.y[1], 1, 1, 1};
        DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, geo.nd, bd, 0));
    }
    if (w) DK_TRY(dk__cudnn_upload_filter(ctx, &geo, nhwc, w, p));
    const cudnnTensorDescriptor_t cx = p->half ? p->t[3] : p->t[0], cy = p->half ? p->t[4] : p->t[1];
    /* the search runs on the node's own buffers (float16 ones in the workspace) */
    size_t xh_bytes = p->half ? align_up((size_t)dk_tensor_numel(xt) * 2) : 0;
    size_t yh_bytes = p->half ? align_up((size_t)dk_tensor_numel(yt) * 2) : 0;
    void *xdev = dk__cudnn_dev(ctx, n->inputs[0]), *ydev = dk__cudnn_dev(ctx, n->outputs[0]);
    const void *wdev = p->owned[0] ? p->owned[0] : dk__cudnn_dev(ctx, n->inputs[1]);
    void *half_bufs = NULL;
    if (p->half && dk__cudnn_wants_search(ctx, g)) {
        DK_CUDA(cudaMalloc(&half_bufs, xh_bytes + yh_bytes));
        xdev = half_bufs;
        ydev = (unsigned char *)half_bufs + xh_bytes;
    }
    dk_status st = choose_algo(ctx, g, n, p, cx, cy, xdev, wdev, ydev);
    if (half_bufs) cudaFree(half_bufs);
    DK_TRY(st);
    if (!p->run) return DK_OK; /* no acceptable algorithm: on the host */
    if (p->half) {
        p->i[0] = (int64_t)p->work_bytes;
        p->i[1] = p->i[0] + (int64_t)xh_bytes;
        p->work_bytes += xh_bytes + yh_bytes;
    }
    snprintf(p->info.note, sizeof p->info.note, "cuDNN %s (%s), math=%s%s%s", dk__cudnn_algo_name((int)p->algo),
             ctx->cfg.algo >= 0 ? "named" : dk__cudnn_wants_search(ctx, g) ? "fastest found" : "heuristics",
             dk__cudnn_math_name(ctx->cfg.math), nhwc ? ", NHWC" : "", p->info.nondeterministic ? ", non-deterministic" : "");
    DK_TRY(plan_post_ops(ctx, n, &geo, p));
    return DK_OK;
}
