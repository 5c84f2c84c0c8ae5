/* ConvTranspose on oneDNN's deconvolution, and the nearest Resize/Upsample
 * that oneDNN's resampling computes exactly.
 *
 * ConvTranspose: ONNX weights [C, M/g, k...] are oneDNN's deconvolution
 * weights [g, M/g, C/g, k...] (or [M, C, k...]) with input and output
 * channels swapped: a strided view of the same bytes, reordered once into
 * the layout the primitive picks. Source and destination stay NCHW.
 * oneDNN's padding_r is ONNX's end pad minus output_padding (ops.h); a
 * negative pad (output_shape larger than the natural size) runs on the
 * reference kernel.
 *
 * Resize/Upsample: oneDNN's nearest resampling picks source index
 * round((y + 1/2) * in / out - 1/2) (its own rounding, half away from zero),
 * which equals floor(y / f) whenever out = f * in for an integer f (the
 * fraction (2 (y mod f) + 1 - f) / (2 f) lies strictly within (-1/2, 1/2)).
 * The node runs natively only then, and only where the reference's own
 * index map (dk_resize_nearest, for the node's coordinate and rounding
 * modes) is floor(y / f) at every output index -- e.g. nearest asymmetric
 * floor x2/x4/x8 of the text detectors, or half_pixel round_prefer_floor.
 * Everything else (linear, whose coordinates oneDNN computes in float;
 * fractional factors; other index maps) runs on the reference kernel:
 * never a different result. */
#include <string.h>

#include "kernels/onednn/onednn_internal.h"
#include "kernels/ref/ref_kernels.h"

DK_ONEDNN_PLANNER(dk_onednn_plan_convtranspose)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *w = dk_onednn_input(g, n, 1);
    const dk_tensor *b = n->p.convt.has_bias ? dk_onednn_input(g, n, 2) : NULL;
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    const dk_window *win = &n->p.convt.win;
    const int64_t group = n->p.convt.group;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    const int k = win->nspatial, nd = k + 2;
    if (dk_tensor_numel(x) == 0 || k < 1 || k > 3 || group < 1)
        return dk_onednn_fallback(p, "reference kernel: empty input or unusual window");
    for (int i = 0; i < k; i++)
        if (win->pad_begin[i] < 0 || win->pad_end[i] < 0)
            return dk_onednn_fallback(p, "reference kernel: output_shape or output_padding "
                                         "beyond the pads (a negative oneDNN padding)");
    /* oneDNN's weights and the ONNX strides over them */
    const int64_t C = x->dims[1], M = y->dims[1], cpg = C / group, mpg = M / group;
    int64_t K = 1, wdims[DK_MAX_SPATIAL + 3], wstr[DK_MAX_SPATIAL + 3];
    for (int i = 0; i < k; i++) K *= w->dims[2 + i];
    int wnd = group > 1 ? nd + 1 : nd, s0 = group > 1 ? 1 : 0;
    if (group > 1) wdims[0] = group, wstr[0] = cpg * mpg * K;
    wdims[s0] = mpg, wstr[s0] = K;
    wdims[s0 + 1] = cpg, wstr[s0 + 1] = mpg * K;
    for (int64_t i = k - 1, inner = 1; i >= 0; i--) {
        wdims[s0 + 2 + i] = w->dims[2 + i];
        wstr[s0 + 2 + i] = inner;
        inner *= w->dims[2 + i];
    }
    int64_t dil[DK_MAX_SPATIAL];
    for (int i = 0; i < k; i++) dil[i] = win->dilation[i] - 1;

    dk_dnnl_md x_md = {0}, y_md = {0}, b_md = {0}, w_onnx = {0}, w_any = {0}, w_got = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, nd, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, nd, y->dims);
    if (s == dnnl_success && b) s = dk_dnnl_md_plain(&b_md, 1, &M);
    if (s == dnnl_success) s = dk_dnnl_md_strided(&w_onnx, wnd, wdims, wstr, dnnl_f32);
    if (s == dnnl_success) s = dk_dnnl_md_any(&w_any, wnd, wdims, dnnl_f32);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dk_status st = DK_OK;
    if (s == dnnl_success) st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
    if (st == DK_OK && s == dnnl_success)
        s = dk_dnnl_deconv_pd(&pd, ctx->engine, &x_md, &w_any, b ? &b_md : NULL, &y_md,
                              win->stride, dil, win->pad_begin, win->pad_end, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == DK_OK && s != dnnl_success) st = dk_onednn_pd_failed(p, n, s, "deconvolution");
    if (st == DK_OK && pd) {
        dk_dnnl_pd_md(pd, dnnl_query_weights_md, 0, &w_got);
        snprintf(p->info.note, sizeof p->info.note, "%s, deconvolution", dk_dnnl_impl_str(pd));
        dnnl_memory_t xm = NULL, wm = NULL, bm = NULL, ym = NULL;
        st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_INPUT, 0, &xm);
        if (st == DK_OK) st = dk_onednn_input_as(ctx, p, g, n, 1, &w_onnx, &w_got, &wm);
        if (st == DK_OK && b) st = dk_onednn_mem_io(ctx, p, n, &b_md, DK_ONEDNN_BIND_INPUT, 2, &bm);
        if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &y_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
        if (st == DK_OK) {
            dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym},
                                    {DNNL_ARG_BIAS, bm}};
            st = dk_onednn_add_step(ctx, p, n, pd, args, b ? 4 : 3);
            pd = NULL; /* owned by the step now */
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md *mds[] = {&x_md, &y_md, &b_md, &w_onnx, &w_any, &w_got};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++) dk_dnnl_md_fini(mds[i]);
    return st;
}

/* 1 when oneDNN's nearest resampling gives exactly the reference's indices. */
static int nearest_matches(const dk_node *n, const dk_tensor *x, const dk_tensor *y)
{
    const dk_resize_params *rp = &n->p.resize;
    if (rp->mode != DK_RESIZE_NEAREST || x->ndim < 3 || x->ndim > 5) return 0;
    if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) return 0;
    for (int a = 2; a < x->ndim; a++) {
        int64_t in = x->dims[a], out = y->dims[a];
        if (in < 1 || out % in != 0) return 0;
        int64_t f = out / in;
        for (int64_t o = 0; o < out; o++)
            if (dk_resize_nearest(rp, a, o, in) != o / f) return 0;
    }
    return 1;
}

DK_ONEDNN_PLANNER(dk_onednn_plan_resize)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (!nearest_matches(n, x, y))
        return dk_onednn_fallback(p, "reference kernel: oneDNN resampling computes other "
                                     "coordinates (only nearest by integer factors matches)");
    dk_dnnl_md x_md = {0}, y_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, y->ndim, y->dims);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dk_status st = s == dnnl_success ? dk_onednn_attr(ctx, n, NULL, 0, &attr) : DK_OK;
    if (st == DK_OK && s == dnnl_success)
        s = dk_dnnl_resampling_nearest_pd(&pd, ctx->engine, &x_md, &y_md, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == DK_OK && s != dnnl_success) st = dk_onednn_pd_failed(p, n, s, "resampling");
    if (st == DK_OK && pd) {
        snprintf(p->info.note, sizeof p->info.note, "%s, nearest resampling", dk_dnnl_impl_str(pd));
        dnnl_memory_t xm = NULL, ym = NULL;
        st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_INPUT, 0, &xm);
        if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &y_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
        if (st == DK_OK) {
            dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}};
            st = dk_onednn_add_step(ctx, p, n, pd, args, 2);
            pd = NULL;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&y_md);
    return st;
}
