/* Conv on oneDNN: 1-D, 2-D and 3-D, grouped and depthwise, strided, dilated,
 * asymmetric padding.
 *
 * ONNX to oneDNN: weights [M, C/g, k...] are read as oneDNN's grouped
 * [g, M/g, C/g, k...] (the same bytes); oneDNN's dilation counts the gaps
 * (ONNX dilation - 1); padding_l/padding_r are the begin/end pads.
 *
 * fpmath=bf16: source and weights are bfloat16 (converted by the same
 * reorders), accumulation, bias and destination float32 -- the down-
 * conversion fpmath=bf16 allows, made explicit because oneDNN 2.6 ignores
 * the fpmath attribute in its CPU convolutions without AMX.
 *
 * layout=blocked lets the primitive choose the layout of source, weights and
 * destination (format_tag any): the weights are reordered once here, the
 * source is reordered from NCHW before the convolution and the destination
 * back to NCHW after it, both into the shared workspace (a layout the
 * primitive picks equal to NCHW needs no reorder). oneDNN 2.6 picks NHWC for
 * most layers on AVX-512 (its brgconv kernels), and NCHW <-> NHWC reorders are
 * transposes. layout=nchw16c asks for channels blocked by 16 instead (NCHW
 * for inputs whose channels are not a multiple of 16; the weights still
 * oneDNN's choice), whose reorders move contiguous runs: slower kernels on
 * some layers, much cheaper reorders. A layer that would get only oneDNN's
 * reference implementation that way uses oneDNN's choice. layout=plain fixes
 * NCHW/OIHW. Weights fed at run time (not constants) are reordered at every
 * run.
 *
 * algo: auto lets oneDNN pick (dnnl_convolution_auto), direct forces direct;
 * winograd asks for Winograd and, where oneDNN has no Winograd
 * implementation for the layer, uses auto for that layer; the plan note records
 * which algorithm each layer got ("direct (winograd unavailable)"). oneDNN
 * 2.6 on AVX-512 has Winograd F(2x2, 3x3) only: 3x3, stride 1, undilated,
 * float32, on blocked layouts (so never with layout=plain or fpmath=bf16). */
#include <string.h>

#include "kernels/onednn/onednn_internal.h"

static const char *alg_name(dnnl_alg_kind_t a)
{
    return a == dnnl_convolution_winograd ? "winograd"
           : a == dnnl_convolution_direct ? "direct"
                                          : "auto";
}

/* Convolution descriptor for the node's window; algorithm `alg`, and when
 * that is Winograd and oneDNN has none for this layer, auto. */
static dnnl_status_t create_conv_pd(dk_onednn_ctx *ctx, const dk_node *n,
                                    dnnl_primitive_desc_t *pd, dnnl_alg_kind_t alg,
                                    const dk_dnnl_md *x, const dk_dnnl_md *w,
                                    const dk_dnnl_md *b, const dk_dnnl_md *y,
                                    const int64_t *dil, const_dnnl_primitive_attr_t attr)
{
    const dk_window *win = &n->p.conv.win;
    dnnl_status_t s = dk_dnnl_conv_pd(pd, ctx->engine, alg, x, w, b, y, win->stride, dil,
                                      win->pad_begin, win->pad_end, attr);
    if (s == dnnl_unimplemented && alg == dnnl_convolution_winograd)
        s = dk_dnnl_conv_pd(pd, ctx->engine, dnnl_convolution_auto, x, w, b, y, win->stride, dil,
                            win->pad_begin, win->pad_end, attr);
    return s;
}

/* A fused residual (Conv -> Add): oneDNN's sum post-op adds to what dst
 * holds, so the residual must be copied into dst before every run; a binary
 * add post-op reads it where it is. *pd (made with the sum) is replaced by
 * the same convolution with the binary add when oneDNN gives that the same
 * implementation (the sum's kernel with one read more, never a slower
 * one); the sum, ops[0], becomes the add. Returns whether it was. Both add
 * the residual to the float32 result once; the gemm convolution adds its
 * bias after the sum but before the binary add, so there the last bits may
 * differ from the sum's (within the table's bound: one rounding either way). */
static int residual_read(dk_onednn_ctx *ctx, const dk_node *n, dnnl_primitive_desc_t *pd, dk_dnnl_postop *ops,
                         int n_post, const dk_dnnl_md *residual, const dk_dnnl_md *x, const dk_dnnl_md *w,
                         const dk_dnnl_md *b, const dk_dnnl_md *y, const int64_t *dil)
{
    ops[0] = (dk_dnnl_postop){.kind = DK_DNNL_POST_BINARY, .binary = dnnl_binary_add, .src1 = residual};
    dnnl_primitive_attr_t attr;
    if (dk_onednn_attr(ctx, n, ops, n_post, &attr) != DK_OK) return 0;
    dnnl_primitive_desc_t read = NULL;
    dnnl_status_t s = create_conv_pd(ctx, n, &read, dk_dnnl_conv_alg(*pd), x, w, b, y, dil, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return 0;
    if (strcmp(dk_dnnl_impl_str(read), dk_dnnl_impl_str(*pd)) || dk_dnnl_conv_alg(read) != dk_dnnl_conv_alg(*pd)) {
        dnnl_primitive_desc_destroy(read);
        return 0;
    }
    dnnl_primitive_desc_destroy(*pd);
    *pd = read;
    return 1;
}

DK_ONEDNN_PLANNER(dk_onednn_plan_conv)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *w = dk_onednn_input(g, n, 1);
    const dk_tensor *b = n->p.conv.has_bias ? dk_onednn_input(g, n, 2) : NULL;
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    const dk_window *win = &n->p.conv.win;
    const int64_t group = n->p.conv.group;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK; /* nothing to compute */
    if (dk_tensor_numel(x) == 0 || win->nspatial < 1 || win->nspatial > 3 || group < 1)
        return dk_onednn_fallback(p, "reference kernel: empty input or unusual window");
    const int k = win->nspatial, nd = k + 2;

    /* weights: [g, M/g, C/g, k...] when grouped */
    int64_t wdims[DK_MAX_SPATIAL + 3];
    int wnd = nd;
    if (group > 1) {
        wnd = nd + 1;
        wdims[0] = group;
        wdims[1] = w->dims[0] / group;
        for (int d = 1; d < nd; d++) wdims[d + 1] = w->dims[d];
    } else {
        memcpy(wdims, w->dims, sizeof(int64_t) * (size_t)nd);
    }
    int64_t dil[DK_MAX_SPATIAL];
    for (int i = 0; i < k; i++) dil[i] = win->dilation[i] - 1;

    dk_dnnl_md x_plain = {0}, w_plain = {0}, y_plain = {0}, b_md = {0};
    /* what the primitive is asked for: any layout (blocked) or NCHW/OIHW
     * (plain), of bfloat16 source and weights with fpmath=bf16 */
    const dnnl_data_type_t op_dt = ctx->bf16 ? dnnl_bf16 : dnnl_f32;
    dk_dnnl_md x_ask = {0}, w_ask = {0}, y_ask = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_plain, nd, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&w_plain, wnd, wdims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_plain, nd, y->dims);
    if (s == dnnl_success && b) s = dk_dnnl_md_plain(&b_md, 1, &y->dims[1]);
    if (s == dnnl_success && !ctx->plain) {
        s = dk_dnnl_md_any(&x_ask, nd, x->dims, op_dt);
        if (s == dnnl_success) s = dk_dnnl_md_any(&w_ask, wnd, wdims, op_dt);
        if (s == dnnl_success) s = dk_dnnl_md_any(&y_ask, nd, y->dims, dnnl_f32);
    } else if (s == dnnl_success && ctx->bf16) {
        s = dk_dnnl_md_plain_dt(&x_ask, nd, x->dims, op_dt);
        if (s == dnnl_success) s = dk_dnnl_md_plain_dt(&w_ask, wnd, wdims, op_dt);
    }
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "convolution's tensors");
    const dk_dnnl_md *x_want = ctx->plain && !ctx->bf16 ? &x_plain : &x_ask;
    const dk_dnnl_md *w_want = ctx->plain && !ctx->bf16 ? &w_plain : &w_ask;
    const dk_dnnl_md *y_want = ctx->plain ? &y_plain : &y_ask;

    /* fused post-ops (opt=2): sum, then Relu or Clip, inside the primitive
     * with fuse=on; after it in plain C otherwise */
    const dk_post_ops *post = &n->post;
    dk_dnnl_postop ops[2];
    int n_post = 0;
    if (ctx->fuse && post->has_sum) ops[n_post++] = (dk_dnnl_postop){.kind = DK_DNNL_POST_SUM};
    if (ctx->fuse && post->act == DK_OP_RELU)
        ops[n_post++] = (dk_dnnl_postop){.kind = DK_DNNL_POST_ELTWISE, .act = DK_DNNL_RELU};
    if (ctx->fuse && post->act == DK_OP_CLIP)
        ops[n_post++] = (dk_dnnl_postop){.kind = DK_DNNL_POST_ELTWISE, .act = DK_DNNL_CLIP,
                                         .alpha = post->min, .beta = post->max};
    p->info.post_in_c = !ctx->fuse && (post->has_sum || post->act != DK_OP_NONE);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, ops, n_post, &attr));
    dnnl_alg_kind_t alg = ctx->algo == DK_ONEDNN_ALGO_DIRECT     ? dnnl_convolution_direct
                          : ctx->algo == DK_ONEDNN_ALGO_WINOGRAD ? dnnl_convolution_winograd
                                                                 : dnnl_convolution_auto;
    dnnl_primitive_desc_t pd = NULL;
    s = dnnl_unimplemented;
    if (ctx->nchw16c) {
        /* channels blocked by 16 where the channel count allows, the first
         * layers' few input channels as NCHW; kept unless oneDNN only has its
         * reference implementation for that, which 'any' may avoid */
        dk_dnnl_md x16 = {0}, y16 = {0};
        s = x->dims[1] % 16 == 0 ? dk_dnnl_md_blocked16(&x16, nd, x->dims, op_dt)
                                 : dk_dnnl_md_plain_dt(&x16, nd, x->dims, op_dt);
        if (s == dnnl_success)
            s = y->dims[1] % 16 == 0 ? dk_dnnl_md_blocked16(&y16, nd, y->dims, dnnl_f32)
                                     : dk_dnnl_md_any(&y16, nd, y->dims, dnnl_f32);
        if (s == dnnl_success)
            s = create_conv_pd(ctx, n, &pd, alg, &x16, w_want, b ? &b_md : NULL, &y16, dil, attr);
        if (s == dnnl_success && !strncmp(dk_dnnl_impl_str(pd), "ref", 3)) {
            dnnl_primitive_desc_destroy(pd);
            pd = NULL;
            s = dnnl_unimplemented;
        }
        /* input channels not blocked by 16 (a branch's 24): the input in
         * whatever layout oneDNN prefers, the output still blocked */
        if (s != dnnl_success && x->dims[1] % 16 && y->dims[1] % 16 == 0) {
            s = create_conv_pd(ctx, n, &pd, alg, x_want, w_want, b ? &b_md : NULL, &y16, dil, attr);
            if (s == dnnl_success && !strncmp(dk_dnnl_impl_str(pd), "ref", 3)) {
                dnnl_primitive_desc_destroy(pd);
                pd = NULL;
                s = dnnl_unimplemented;
            }
        }
        dk_dnnl_md_fini(&x16);
        dk_dnnl_md_fini(&y16);
    }
    if (s != dnnl_success)
        s = create_conv_pd(ctx, n, &pd, alg, x_want, w_want, b ? &b_md : NULL, y_want, dil, attr);
    const int wino_missing = s == dnnl_success && alg == dnnl_convolution_winograd &&
                             dk_dnnl_conv_alg(pd) != dnnl_convolution_winograd;
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "convolution");

    dk_dnnl_md x_got = {0}, w_got = {0}, y_got = {0};
    dk_dnnl_pd_md(pd, dnnl_query_src_md, 0, &x_got);
    dk_dnnl_pd_md(pd, dnnl_query_weights_md, 0, &w_got);
    dk_dnnl_pd_md(pd, dnnl_query_dst_md, 0, &y_got);
    const dk_onednn_native *s_nat = ctx->fuse && post->has_sum ? dk_onednn_native_of(ctx, n->inputs[3]) : NULL;
    const int sum_read = ctx->fuse && post->has_sum &&
                         residual_read(ctx, n, &pd, ops, n_post, s_nat ? &s_nat->md : &y_plain, &x_got, &w_got,
                                       b ? &b_md : NULL, &y_got, dil);
    const dk_onednn_native *x_nat = dk_onednn_native_of(ctx, n->inputs[0]);
    const int x_same = dk_dnnl_md_equal(&x_got, x_nat ? &x_nat->md : &x_plain);
    /* opt=3 choosing for a Concat's input (dst_blocked): a destination the
     * primitive wants in another layout (brgconv's NHWC) is written to the
     * workspace and reordered into channels blocked by 16 after it, the
     * layout in which the Concat joins its inputs in place */
    dk_dnnl_md y16 = {0};
    const int y_to16 = ctx->dst_blocked && ctx->propagate && y->dims[1] % 16 == 0 &&
                       dk_onednn_channel_block(&y_got, y->ndim, y->dims) != 16 &&
                       dk_dnnl_md_blocked16(&y16, nd, y->dims, dnnl_f32) == dnnl_success;
    snprintf(p->info.note, sizeof p->info.note, "%s, %s%s%s%s%s", dk_dnnl_impl_str(pd),
             alg_name(dk_dnnl_conv_alg(pd)), wino_missing ? " (winograd unavailable)" : "",
             x_same ? "" : ", src reordered",
             y_to16                               ? ", dst reordered to channels blocked by 16"
             : dk_dnnl_md_equal(&y_got, &y_plain) ? ""
             : ctx->propagate                     ? ", dst kept in its layout"
                                                  : ", dst reordered",
             n_post ? (sum_read ? ", post-ops fused (the residual read by a binary add)" : ", post-ops fused")
             : p->info.post_in_c ? ", post-ops in C"
                                 : "");

    dnnl_memory_t xm = NULL, wm = NULL, bm = NULL, ym = NULL;
    /* source and weights: the inputs themselves or reordered (constant
     * weights once now, the rest into the workspace at every run); a source
     * a convolution left in its own layout (opt=3) is read from there */
    dk_status st = DK_OK;
    if (x_nat) {
        dnnl_memory_t nm;
        st = dk_onednn_native_mem(ctx, p, n, n->inputs[0], &nm);
        if (st == DK_OK && dk_dnnl_md_equal(&x_nat->md, &x_got)) {
            xm = nm;
        } else if (st == DK_OK) {
            st = dk_onednn_mem_work(ctx, p, n, &x_got, &xm);
            if (st == DK_OK) st = dk_onednn_reorder_step(ctx, p, n, &x_nat->md, nm, &x_got, xm);
        }
    } else {
        st = dk_onednn_input_as(ctx, p, g, n, 0, &x_plain, &x_got, &xm);
    }
    if (st == DK_OK) st = dk_onednn_input_as(ctx, p, g, n, 1, &w_plain, &w_got, &wm);
    if (st == DK_OK && b) st = dk_onednn_mem_io(ctx, p, n, &b_md, DK_ONEDNN_BIND_INPUT, 2, &bm);
    /* destination: the output itself, or the workspace reordered afterwards */
    int y_direct = !y_to16 && dk_dnnl_md_equal(&y_got, &y_plain);
    /* opt=3: a destination in the primitive's own layout stays there */
    const int y_native = !y_direct && !y_to16 && ctx->propagate;
    if (st == DK_OK)
        st = y_direct   ? dk_onednn_mem_io(ctx, p, n, &y_got, DK_ONEDNN_BIND_OUTPUT, 0, &ym)
             : y_native ? dk_onednn_native_make(ctx, p, n, n->outputs[0], &y_got, &ym)
                        : dk_onednn_mem_work(ctx, p, n, &y_got, &ym);
    /* the residual: read by the binary add, or, for the sum post-op, which
     * adds the primitive's result to what dst holds, copied (reordered) into
     * dst first */
    dnnl_memory_t sm = NULL;
    if (st == DK_OK && ctx->fuse && post->has_sum) {
        st = s_nat ? dk_onednn_native_mem(ctx, p, n, n->inputs[3], &sm)
                   : dk_onednn_mem_io(ctx, p, n, &y_plain, DK_ONEDNN_BIND_INPUT, 3, &sm);
        if (st == DK_OK && !sum_read)
            st = dk_onednn_reorder_step(ctx, p, n, s_nat ? &s_nat->md : &y_plain, sm, &y_got, ym);
    }
    if (st == DK_OK) {
        dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}, {DNNL_ARG_BIAS, bm},
                                {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, sm}};
        if (!b) args[3] = args[4];
        st = dk_onednn_add_step(ctx, p, n, pd, args, (b ? 4 : 3) + sum_read);
        pd = NULL; /* owned by the step now */
    }
    if (st == DK_OK && y_to16) {
        dnnl_memory_t yn;
        st = dk_onednn_native_make(ctx, p, n, n->outputs[0], &y16, &yn);
        if (st == DK_OK) st = dk_onednn_reorder_step(ctx, p, n, &y_got, ym, &y16, yn);
    } else if (st == DK_OK && !y_direct && !y_native) {
        dnnl_memory_t yout;
        st = dk_onednn_mem_io(ctx, p, n, &y_plain, DK_ONEDNN_BIND_OUTPUT, 0, &yout);
        if (st == DK_OK) st = dk_onednn_reorder_step(ctx, p, n, &y_got, ym, &y_plain, yout);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md *mds[] = {&x_plain, &w_plain, &y_plain, &b_md, &x_ask, &w_ask, &y_ask,
                         &x_got, &w_got, &y_got, &y16};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++) dk_dnnl_md_fini(mds[i]);
    return st;
}
