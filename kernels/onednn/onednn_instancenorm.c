/* InstanceNormalization on oneDNN's batch normalisation.
 *
 * oneDNN has no instance normalisation, but batch normalisation computing
 * its own statistics (forward training) normalises each channel over every
 * other dim: X seen as [1, N*C, spatial, 1] makes each (image, channel) a
 * channel of its own, whose mean and biased variance over the spatial dims
 * are ONNX's, and scale and B repeated once per image are the channel's
 * (4-D: oneDNN 2.6's optimised plain-layout batch normalisation, ncsp_bnorm,
 * takes 4-D only; a 3-D view gets its ref implementation).
 * The statistics go to the workspace. On a batch of one the scale and B
 * are bound as they are; on a larger batch they must be constants, copied
 * N times at plan time (run-time ones run on the reference kernel). */
#include <string.h>

#include "kernels/onednn/onednn_internal.h"

/* Memory for per-channel input `index` over the N*C view channels. */
static dk_status channel_param(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                               const dk_node *n, int index, int64_t images, int64_t C,
                               const dk_dnnl_md *c_md, const dk_dnnl_md *nc_md,
                               dnnl_memory_t *mem)
{
    if (images == 1) return dk_onednn_mem_io(ctx, p, n, c_md, DK_ONEDNN_BIND_INPUT, index, mem);
    const dk_tensor *t = dk_onednn_constant(g, n, index);
    float *dst = NULL;
    DK_TRY(dk_onednn_mem_owned(ctx, p, n, nc_md, mem));
    dnnl_status_t s = dnnl_memory_get_data_handle(*mem, (void **)&dst);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "reading a buffer address");
    for (int64_t i = 0; i < images; i++) memcpy(dst + i * C, t->data, sizeof(float) * (size_t)C);
    return DK_OK;
}

DK_ONEDNN_PLANNER(dk_onednn_plan_instancenorm)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_tensor *scale = dk_onednn_input(g, n, 1), *shift = dk_onednn_input(g, n, 2);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (x->ndim < 3 || !scale || !shift)
        return dk_onednn_fallback(p, "reference kernel: rank %d", x->ndim);
    const int64_t images = x->dims[0], C = x->dims[1];
    if (dk_tensor_numel(scale) != C || dk_tensor_numel(shift) != C)
        return dk_onednn_fallback(p, "reference kernel: scale or B not one per channel");
    if (images > 1 && (!dk_onednn_constant(g, n, 1) || !dk_onednn_constant(g, n, 2)))
        return dk_onednn_fallback(p, "reference kernel: scale or B computed at run time on a "
                                     "batch of %lld (repeated per image only when constant)",
                                  (long long)images);
    const int64_t dims[4] = {1, images * C, dk_shape_numel(x->ndim - 2, x->dims + 2), 1};
    dk_dnnl_md x_md = {0}, c_md = {0}, nc_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, 4, dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&c_md, 1, &C);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&nc_md, 1, &dims[1]);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dk_status st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
    if (st == DK_OK && s == dnnl_success)
        s = dk_dnnl_bnorm_stats_pd(&pd, ctx->engine, &x_md, n->p.inorm.epsilon, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == DK_OK && s != dnnl_success) st = dk_onednn_pd_failed(p, n, s, "batch normalisation");
    if (st == DK_OK && pd) {
        dnnl_memory_t xm = NULL, sm = NULL, bm = NULL, mm = NULL, vm = NULL, ym = NULL;
        st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_INPUT, 0, &xm);
        if (st == DK_OK) st = channel_param(ctx, p, g, n, 1, images, C, &c_md, &nc_md, &sm);
        if (st == DK_OK) st = channel_param(ctx, p, g, n, 2, images, C, &c_md, &nc_md, &bm);
        if (st == DK_OK) st = dk_onednn_mem_work(ctx, p, n, &nc_md, &mm);
        if (st == DK_OK) st = dk_onednn_mem_work(ctx, p, n, &nc_md, &vm);
        if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &x_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
        if (st == DK_OK) {
            snprintf(p->info.note, sizeof p->info.note,
                     "%s, batch normalisation computing the instance statistics",
                     dk_dnnl_impl_str(pd));
            dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm},  {DNNL_ARG_SCALE, sm},
                                    {DNNL_ARG_SHIFT, bm}, {DNNL_ARG_MEAN, mm},
                                    {DNNL_ARG_VARIANCE, vm}, {DNNL_ARG_DST, ym}};
            st = dk_onednn_add_step(ctx, p, n, pd, args, 6);
            pd = NULL; /* owned by the step now */
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&c_md);
    dk_dnnl_md_fini(&nc_md);
    return st;
}
