/* ConvTranspose on cuDNN: the data gradient of the forward convolution whose
 * input is the ConvTranspose's output Y (M channels) and whose output is its
 * input X (C channels), i.e. cudnnConvolutionBackwardData with dy = X, dx = Y
 * and the ONNX weight [C, M/group, k...] as the filter (K = C, C = M/group),
 * pads = pad_begin, the strides, dilations and group count of the node, then
 * cudnnAddTensor for the bias. 1-D runs as 2-D of height 1 (as Conv does);
 * layout=nhwc stores the 4-D activations and the filter NHWC (constant
 * weights only, transposed once at plan time).
 *
 * What runs on the host reference kernel, saying why (plan->info.note):
 * padding cuDNN's symmetric pads cannot give (pad_begin - pad_end, with
 * output_padding folded into pad_end, outside [0, stride): auto_pad
 * SAME_UPPER with an odd total, asymmetric pads, output_shape beyond the
 * natural size by a stride or more), math=fp16 (no float16 path here),
 * weights computed at run time with layout=nhwc, and a convolution cuDNN
 * offers no acceptable algorithm for.
 *
 * The algorithm: cuDNN's heuristics (cudnnGetConvolutionBackwardDataAlgorithm_v7),
 * or with algo=find (or opt=3's choose_algorithm) a timed search on the
 * node's buffers (cudnnFindConvolutionBackwardDataAlgorithmEx); either way
 * only algorithms that deterministic=on and math=fp32 (no TF32) accept. The
 * algo option names forward algorithms: a named one is not a backward-data
 * algorithm, so ConvTranspose then takes the heuristics' choice and its note
 * says so.
 *
 * Plan roles: t[0] input (dy), t[1] output (dx), t[2] bias [1, M, 1, 1(, 1)];
 * filter, conv; owned[0] the weights (NULL: read from the weight value each
 * run); bwd_algo; i[2] the algorithm's workspace bytes (at offset 0). */
#include <stdio.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"
#include "runtime/text.h"

#define ALIGN 256

static size_t align_up(size_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static const char *bwd_algo_name(cudnnConvolutionBwdDataAlgo_t a)
{
    switch (a) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return "BWD_DATA_ALGO_0";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return "BWD_DATA_ALGO_1";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return "BWD_DATA_FFT";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return "BWD_DATA_FFT_TILING";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return "BWD_DATA_WINOGRAD";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return "BWD_DATA_WINOGRAD_NONFUSED";
    default: return "?";
    }
}

dk_status dk__cudnn_convt_descs(const dk_cudnn_config *cfg, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p,
                                dk_cudnn_conv_geom *geo)
{
    if (cfg->math == DK_CUDNN_MATH_FP16)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "cudnn: ConvTranspose '%s': math=fp16 has no float16 backward-data path here", n->name);
    if (n->post.has_sum || n->post.act != DK_OP_NONE)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: ConvTranspose '%s': fused post-ops", n->name);
    DK_TRY(dk__cudnn_convt_geom(g, n, geo));
    const dk_tensor *yt = dk__cudnn_out(g, n, 0);
    const int nhwc = dk__cudnn_is_nhwc(cfg, yt);
    if (nhwc && !dk__cudnn_const(g, n, 1))
        return dk__error(DK_ERR_UNSUPPORTED,
                         "cudnn: ConvTranspose '%s': weights computed at run time need layout=nchw", n->name);
    DK_TRY(dk__cudnn_plan_tensors(p, 3));
    if (!p->filter) DK_CUDNN(cudnnCreateFilterDescriptor(&p->filter));
    if (!p->conv) DK_CUDNN(cudnnCreateConvolutionDescriptor(&p->conv));
    /* the forward convolution's input is our output: t[1] */
    DK_TRY(dk__cudnn_set_conv(geo, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, nhwc, p->t[1], p->filter, p->conv));
    DK_CUDNN(cudnnSetConvolutionMathType(p->conv, cfg->math == DK_CUDNN_MATH_FP32 ? CUDNN_FMA_MATH
                                                                                 : CUDNN_TENSOR_OP_MATH));
    int64_t dy[5];
    for (int i = 0; i < geo->nd; i++) dy[i] = geo->y[i];
    DK_TRY(dk__cudnn_tensor_desc(p->t[0], CUDNN_DATA_FLOAT, geo->nd, dy, nhwc));
    /* cuDNN takes dx only when the forward convolution of it has dy's shape */
    int out[5];
    DK_TRY(dk__cudnn_conv_out_dims(p->conv, p->t[1], p->filter, geo->nd, out));
    for (int i = 0; i < geo->nd; i++)
        if (out[i] != geo->y[i])
            return dk__error(DK_ERR_UNSUPPORTED,
                             "cudnn: ConvTranspose '%s': cuDNN's forward convolution of the output has %d on "
                             "axis %d, the input %d",
                             n->name, out[i], i, geo->y[i]);
    if (n->p.convt.has_bias) {
        int64_t bd[5] = {1, geo->x[1], 1, 1, 1};
        DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, geo->nd, bd, 0));
    }
    return DK_OK;
}

static dk_status run_convt(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    (void)g;
    const float one = 1.0f, zero = 0.0f;
    const void *x = dk__cudnn_dev(ctx, n->inputs[0]);
    const void *w = p->owned[0] ? p->owned[0] : dk__cudnn_dev(ctx, n->inputs[1]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    DK_CUDNN(cudnnConvolutionBackwardData(ctx->cudnn, &one, p->filter, w, p->t[0], x, p->conv, p->bwd_algo,
                                          ctx->work, (size_t)p->i[2], &zero, p->t[1], y));
    if (n->p.convt.has_bias)
        DK_CUDNN(cudnnAddTensor(ctx->cudnn, &one, p->t[2], dk__cudnn_dev(ctx, n->inputs[2]), &one, p->t[1], y));
    return DK_OK;
}

static void describe_results(const cudnnConvolutionBwdDataAlgoPerf_t *r, int n, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        dk_joinf(buf, size, ", ", "%s(%s%s)", bwd_algo_name(r[i].algo), cudnnGetErrorString(r[i].status),
                 r[i].determinism == CUDNN_DETERMINISTIC ? "" : ", non-deterministic");
}

/* Picks the backward-data algorithm; sets p->bwd_algo, the descriptor's math
 * type, p->work_bytes and p->run (or falls back, saying why). */
static dk_status choose_algo(dk_cudnn_ctx *ctx, const dk_graph *g, const dk_node *n, dk_cudnn_plan *p,
                             const void *wd, const void *xd, void *yd)
{
    cudnnConvolutionBwdDataAlgoPerf_t res[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int count = 0;
    dk_status st;
    const dk_cudnn_config *cfg = &ctx->cfg;
    if (dk__cudnn_wants_search(ctx, g)) {
        /* each algorithm runs on the node's own buffers: the largest
         * workspace any of them needs, within the cap */
        size_t most = 0;
        for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; a++) {
            size_t ws = 0;
            if (cudnnGetConvolutionBackwardDataWorkspaceSize(ctx->cudnn, p->filter, p->t[0], p->conv, p->t[1],
                                                             (cudnnConvolutionBwdDataAlgo_t)a,
                                                             &ws) == CUDNN_STATUS_SUCCESS &&
                ws <= DK_CUDNN_FIND_WORKSPACE_CAP && ws > most)
                most = ws;
        }
        DK_TRY(dk__cudnn_workspace(ctx, most));
        st = dk__cudnn_check(cudnnFindConvolutionBackwardDataAlgorithmEx(
                                 ctx->cudnn, p->filter, wd, p->t[0], xd, p->conv, p->t[1], yd,
                                 CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, res, ctx->work, most),
                             "cudnnFindConvolutionBackwardDataAlgorithmEx");
    } else {
        st = dk__cudnn_check(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx->cudnn, p->filter, p->t[0], p->conv,
                                                                         p->t[1], CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                                         &count, res),
                             "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    }
    /* cuDNN has nothing for this shape: the host */
    if (st == DK_ERR_UNSUPPORTED) return dk__cudnn_fallback_last(p);
    DK_TRY(st);
    int pick = -1;
    for (int i = 0; i < count && pick < 0; i++)
        if (dk__cudnn_algo_acceptable(ctx, res[i].status, res[i].memory, res[i].determinism, res[i].mathType))
            pick = i;
    if (pick < 0) {
        char offered[512];
        describe_results(res, count, offered, sizeof offered);
        return dk__cudnn_fallback(p, "no cuDNN backward-data algorithm for math=%s%s (offered: %.80s)",
                                  dk__cudnn_math_name(cfg->math), cfg->deterministic ? ", deterministic=on" : "",
                                  offered);
    }
    p->bwd_algo = res[pick].algo;
    dk__cudnn_note_choice(ctx, g, p, res[pick].determinism,
                          p->bwd_algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT ||
                              p->bwd_algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
                              p->bwd_algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
                              p->bwd_algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED);
    DK_CUDNN(cudnnSetConvolutionMathType(p->conv, res[pick].mathType));
    size_t ws = 0;
    DK_CUDNN(cudnnGetConvolutionBackwardDataWorkspaceSize(ctx->cudnn, p->filter, p->t[0], p->conv, p->t[1],
                                                          p->bwd_algo, &ws));
    p->work_bytes = align_up(ws);
    p->i[2] = (int64_t)ws;
    p->run = run_convt;
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_convtranspose)
{
    dk_cudnn_conv_geom geo;
    dk_status st = dk__cudnn_convt_descs(&ctx->cfg, g, n, p, &geo);
    if (st == DK_ERR_UNSUPPORTED) return dk__cudnn_fallback_last(p);
    DK_TRY(st);
    const dk_tensor *w = dk__cudnn_const(g, n, 1);
    const int nhwc = dk__cudnn_is_nhwc(&ctx->cfg, dk__cudnn_out(g, n, 0));
    p->half = 0;
    if (w) DK_TRY(dk__cudnn_upload_filter(ctx, &geo, nhwc, w, p));
    const void *wdev = p->owned[0] ? p->owned[0] : dk__cudnn_dev(ctx, n->inputs[1]);
    DK_TRY(choose_algo(ctx, g, n, p, wdev, dk__cudnn_dev(ctx, n->inputs[0]), dk__cudnn_dev(ctx, n->outputs[0])));
    if (!p->run) return DK_OK; /* no acceptable algorithm: on the host */
    const int searched = dk__cudnn_wants_search(ctx, g);
    snprintf(p->info.note, sizeof p->info.note, "cuDNN backward data %s (%s), math=%s%s%s%s%s%s",
             bwd_algo_name(p->bwd_algo), searched ? "fastest found" : "heuristics",
             dk__cudnn_math_name(ctx->cfg.math), nhwc ? ", NHWC" : "", n->p.convt.has_bias ? ", bias added" : "",
             p->info.nondeterministic ? ", non-deterministic" : "",
             ctx->cfg.algo >= 0 ? "; algo=" : "", ctx->cfg.algo >= 0 ? dk__cudnn_algo_name(ctx->cfg.algo) : "");
    if (ctx->cfg.algo >= 0)
        strncat(p->info.note, " names a forward algorithm, not used here",
                sizeof p->info.note - strlen(p->info.note) - 1);
    return DK_OK;
}
