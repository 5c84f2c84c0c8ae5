/* PRelu on oneDNN's prelu primitive. ONNX broadcasts the slope
 * unidirectionally (numpy rules, aligned at the last dim); oneDNN takes a
 * weights tensor of the source's rank whose dims each equal the source's or
 * are 1: the slope with leading 1s is exactly that, over the same bytes.
 * Slopes are read as they are each run (a run-time slope works too). */
#include "kernels/onednn/onednn_internal.h"

DK_ONEDNN_PLANNER(dk_onednn_plan_prelu)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *w = dk_onednn_input(g, n, 1);
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (!w || x->ndim < 1 || w->ndim > x->ndim || x->ndim > DNNL_MAX_NDIMS)
        return dk_onednn_fallback(p, "reference kernel: slope of rank above the input's");
    int64_t wdims[DNNL_MAX_NDIMS];
    const int lead = x->ndim - w->ndim;
    for (int a = 0; a < x->ndim; a++) {
        wdims[a] = a < lead ? 1 : w->dims[a - lead];
        if (wdims[a] != 1 && wdims[a] != x->dims[a])
            return dk_onednn_fallback(p, "reference kernel: slope does not broadcast to the input");
    }
    dk_dnnl_md x_md = {0}, w_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&w_md, x->ndim, wdims);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dk_status st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
    if (st == DK_OK && s == dnnl_success) s = dk_dnnl_prelu_pd(&pd, ctx->engine, &x_md, &w_md, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == DK_OK && s != dnnl_success) st = dk_onednn_pd_failed(p, n, s, "prelu");
    if (st == DK_OK && pd) {
        dnnl_memory_t xm = NULL, wm = NULL, ym = NULL;
        st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_INPUT, 0, &xm);
        if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &w_md, DK_ONEDNN_BIND_INPUT, 1, &wm);
        if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
        if (st == DK_OK) {
            snprintf(p->info.note, sizeof p->info.note, "%s, prelu", dk_dnnl_impl_str(pd));
            dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}};
            st = dk_onednn_add_step(ctx, p, n, pd, args, 3);
            pd = NULL; /* owned by the step now */
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&w_md);
    return st;
}
