/* The onednn backend's planners for pooling, element-wise, binary,
 * normalisation, softmax, concat and reduction nodes. These run on the
 * canonical NCHW tensors as they are, in every layout mode: reordering an
 * activation into a blocked layout and back for one memory-bound primitive
 * would cost more than it saves. Cases oneDNN's semantics do not cover are
 * planned as fallbacks (see each function). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/onednn/onednn_internal.h"

/* Runs one primitive on inputs and outputs bound directly: args[i].arg with
 * bind kind kinds[i], index idx[i], descriptor mds[i]. */
typedef struct io_arg {
    int arg;
    dk_onednn_bind bind;
    int index;
    const dk_dnnl_md *md;
} io_arg;

static dk_status single_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                             dnnl_primitive_desc_t pd, const io_arg *io, int nio)
{
    dk_onednn_arg args[DNNL_MAX_NDIMS + 8];
    dk_status st = DK_OK;
    if (nio > (int)(sizeof args / sizeof args[0])) {
        dnnl_primitive_desc_destroy(pd);
        return dk__error(DK_ERR_INTERNAL, "node '%s': too many arguments", n->name);
    }
    for (int i = 0; i < nio && st == DK_OK; i++) {
        args[i].arg = io[i].arg;
        st = dk_onednn_mem_io(ctx, p, n, io[i].md, io[i].bind, io[i].index, &args[i].mem);
    }
    if (st != DK_OK) {
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    snprintf(p->info.note, sizeof p->info.note, "%s", dk_dnnl_impl_str(pd));
    return dk_onednn_add_step(ctx, p, n, pd, args, nio);
}

/* ---- pooling ----------------------------------------------------------------- */

/* Taps of a window starting at `start` (k taps, dil apart) inside [lo, hi). */
static int64_t taps_inside(int64_t start, int64_t lo, int64_t hi, int64_t k, int64_t dil)
{
    int64_t count = 0;
    for (int64_t t = 0; t < k; t++) {
        int64_t pos = start + t * dil;
        count += pos >= lo && pos < hi;
    }
    return count;
}

/* AveragePool with count_include_pad and ceil_mode: oneDNN's include-padding
 * average would count the padding ceil_mode adds, which ONNX never counts.
 * The pool then runs excluding padding and a second step multiplies each
 * output position by (taps inside the input) / (taps inside input and
 * explicit padding), a factor computed here per spatial position. */
static dk_status ceil_correction(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                                 const dk_tensor *x, const dk_tensor *y, const dk_dnnl_md *y_md)
{
    const dk_pool_params *pp = &n->p.pool;
    const int k = pp->win.nspatial;
    int64_t fdims[2 + DK_MAX_SPATIAL] = {1, 1};
    for (int i = 0; i < k; i++) fdims[2 + i] = y->dims[2 + i];
    dk_dnnl_md f_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&f_md, k + 2, fdims);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "describing the count_include_pad factors");
    dnnl_memory_t fm, ym;
    float *f = NULL;
    dk_status st = dk_onednn_mem_owned(ctx, p, n, &f_md, &fm);
    if (st == DK_OK && (s = dnnl_memory_get_data_handle(fm, (void **)&f)) != dnnl_success)
        st = dk_dnnl_error(s, n, "reading a buffer address");
    const int64_t count = dk_shape_numel(k, fdims + 2);
    for (int64_t i = 0; st == DK_OK && i < count; i++) {
        double inside = 1, counted = 1;
        int64_t rest = i;
        for (int a = k - 1; a >= 0; a--) {
            int64_t o = rest % fdims[2 + a];
            rest /= fdims[2 + a];
            int64_t start = o * pp->win.stride[a] - pp->win.pad_begin[a];
            int64_t kk = pp->win.kernel[a], dil = pp->win.dilation[a], in = x->dims[2 + a];
            inside *= (double)taps_inside(start, 0, in, kk, dil);
            counted *= (double)taps_inside(start, -pp->win.pad_begin[a],
                                           in + pp->win.pad_end[a] - pp->ceil_extra[a], kk, dil);
        }
        f[i] = (float)(inside / counted);
    }
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, y_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
    if (st == DK_OK) st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
    if (st == DK_OK) {
        s = dk_dnnl_binary_pd(&pd, ctx->engine, dnnl_binary_mul, y_md, &f_md, y_md, attr);
        dnnl_primitive_attr_destroy(attr);
        if (s != dnnl_success) st = dk_dnnl_error(s, n, "creating the count_include_pad correction");
    }
    if (st == DK_OK) {
        dk_onednn_arg args[] = {{DNNL_ARG_SRC_0, ym}, {DNNL_ARG_SRC_1, fm}, {DNNL_ARG_DST, ym}};
        st = dk_onednn_add_step(ctx, p, n, pd, args, 3);
    }
    dk_dnnl_md_fini(&f_md);
    return st;
}

/* oneDNN's generic pooling kernels (simple_nchw, ref), far slower than its JIT ones. */
static int is_slow_impl(const char *impl)
{
    return !strncmp(impl, "simple", 6) || !strncmp(impl, "ref", 3);
}

DK_ONEDNN_PLANNER(dk_onednn_plan_pool)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_pool_params *pp = &n->p.pool;
    const int k = pp->win.nspatial, max = n->op == DK_OP_MAXPOOL;
    if (pp->has_indices && dk_onednn_output(g, n, 1))
        return dk_onednn_fallback(p, "reference kernel: oneDNN pooling has no ONNX Indices output");
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return dk_onednn_fallback(p, "reference kernel: %s", dk_dtype_name(x->dtype));
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (k < 1 || k > 3) return dk_onednn_fallback(p, "reference kernel: %d spatial dims", k);
    /* a window without a tap inside the input gives NaN in the reference;
     * oneDNN would give -FLT_MAX or divide by zero */
    for (int a = 0; a < k; a++)
        for (int64_t o = 0; o < y->dims[2 + a]; o++)
            if (taps_inside(o * pp->win.stride[a] - pp->win.pad_begin[a], 0, x->dims[2 + a],
                            pp->win.kernel[a], pp->win.dilation[a]) == 0)
                return dk_onednn_fallback(p, "reference kernel: a window lies entirely in the "
                                             "padding");
    int include = !max && pp->count_include_pad, correct = 0;
    for (int a = 0; a < k && include; a++) correct |= pp->ceil_extra[a] > 0;
    int64_t dil[DK_MAX_SPATIAL];
    for (int a = 0; a < k; a++) dil[a] = pp->win.dilation[a] - 1;

    dk_dnnl_md x_md = {0}, y_md = {0}, x16 = {0}, y16 = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, k + 2, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, k + 2, y->dims);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success)
        s = dk_dnnl_pool_pd(&pd, ctx->engine, max, include && !correct, &x_md, &y_md,
                            pp->win.stride, pp->win.kernel, dil, pp->win.pad_begin,
                            pp->win.pad_end, attr);
    /* oneDNN 2.6 has no JIT pooling for some NCHW shapes (its simple_nchw
     * kernel then takes milliseconds, e.g. InceptionV3's 147x147 MaxPool):
     * unless the layout is plain, pool on channels blocked by 16 between two
     * reorders, when that gets a faster implementation */
    if (s == dnnl_success && !ctx->plain && is_slow_impl(dk_dnnl_impl_str(pd))) {
        dnnl_primitive_desc_t pd16 = NULL;
        dnnl_status_t s16 = dk_dnnl_md_blocked16(&x16, k + 2, x->dims, dnnl_f32);
        if (s16 == dnnl_success) s16 = dk_dnnl_md_any(&y16, k + 2, y->dims, dnnl_f32);
        if (s16 == dnnl_success)
            s16 = dk_dnnl_pool_pd(&pd16, ctx->engine, max, include && !correct, &x16, &y16,
                                  pp->win.stride, pp->win.kernel, dil, pp->win.pad_begin,
                                  pp->win.pad_end, attr);
        if (s16 == dnnl_success && !is_slow_impl(dk_dnnl_impl_str(pd16))) {
            dnnl_primitive_desc_destroy(pd);
            pd = pd16;
        } else if (pd16) {
            dnnl_primitive_desc_destroy(pd16);
        }
    }
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "pooling");
    dk_dnnl_md x_got = {0}, y_got = {0};
    dk_dnnl_pd_md(pd, dnnl_query_src_md, 0, &x_got);
    dk_dnnl_pd_md(pd, dnnl_query_dst_md, 0, &y_got);
    const int y_direct = dk_dnnl_md_equal(&y_got, &y_md);
    snprintf(p->info.note, sizeof p->info.note, "%s%s", dk_dnnl_impl_str(pd),
             y_direct ? "" : ", src and dst reordered");
    dnnl_memory_t xm = NULL, ym = NULL, yout;
    dk_status st = dk_onednn_input_as(ctx, p, g, n, 0, &x_md, &x_got, &xm);
    if (st == DK_OK)
        st = y_direct ? dk_onednn_mem_io(ctx, p, n, &y_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym)
                      : dk_onednn_mem_work(ctx, p, n, &y_got, &ym);
    if (st == DK_OK) {
        dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}};
        st = dk_onednn_add_step(ctx, p, n, pd, args, 2);
    } else {
        dnnl_primitive_desc_destroy(pd);
    }
    if (st == DK_OK && !y_direct) {
        st = dk_onednn_mem_io(ctx, p, n, &y_md, DK_ONEDNN_BIND_OUTPUT, 0, &yout);
        if (st == DK_OK) st = dk_onednn_reorder_step(ctx, p, n, &y_got, ym, &y_md, yout);
    }
    if (st == DK_OK && correct) {
        st = ceil_correction(ctx, p, n, x, y, &y_md);
        strncat(p->info.note, ", count_include_pad corrected for ceil_mode",
                sizeof p->info.note - strlen(p->info.note) - 1);
    }
    dk_dnnl_md *mds[] = {&x_md, &y_md, &x16, &y16, &x_got, &y_got};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++) dk_dnnl_md_fini(mds[i]);
    return st;
}

dk_status dk_onednn_plan_pool_native(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                     dk_onednn_plan *p, int *done)
{
    *done = 0;
    const int global = n->op == DK_OP_GLOBALAVGPOOL || n->op == DK_OP_GLOBALMAXPOOL;
    if (!global && n->op != DK_OP_MAXPOOL && n->op != DK_OP_AVGPOOL) return DK_OK;
    const dk_onednn_native *nat = n->n_inputs > 0 ? dk_onednn_native_of(ctx, n->inputs[0]) : NULL;
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const int k = x ? x->ndim - 2 : 0;
    if (!nat || !y || !dk_onednn_all_f32(g, n) || k < 1 || k > 3 || y->ndim != x->ndim ||
        dk_tensor_numel(y) == 0)
        return DK_OK;
    int64_t stride[DK_MAX_SPATIAL], kernel[DK_MAX_SPATIAL], dil[DK_MAX_SPATIAL],
        pad_l[DK_MAX_SPATIAL], pad_r[DK_MAX_SPATIAL];
    int max = n->op == DK_OP_MAXPOOL || n->op == DK_OP_GLOBALMAXPOOL, include = 0;
    for (int a = 0; a < k; a++) {
        stride[a] = 1;
        kernel[a] = x->dims[2 + a];
        dil[a] = pad_l[a] = pad_r[a] = 0;
    }
    if (!global) { /* the cases the NCHW planner handles specially stay with it */
        const dk_pool_params *pp = &n->p.pool;
        if ((pp->has_indices && dk_onednn_output(g, n, 1)) || pp->win.nspatial != k) return DK_OK;
        include = !max && pp->count_include_pad;
        for (int a = 0; a < k; a++) {
            if (include && pp->ceil_extra[a] > 0) return DK_OK;
            for (int64_t o = 0; o < y->dims[2 + a]; o++)
                if (taps_inside(o * pp->win.stride[a] - pp->win.pad_begin[a], 0, x->dims[2 + a],
                                pp->win.kernel[a], pp->win.dilation[a]) == 0)
                    return DK_OK;
            stride[a] = pp->win.stride[a];
            kernel[a] = pp->win.kernel[a];
            dil[a] = pp->win.dilation[a] - 1;
            pad_l[a] = pp->win.pad_begin[a];
            pad_r[a] = pp->win.pad_end[a];
        }
    }
    dk_dnnl_md y_any = {0}, y_got = {0};
    dnnl_primitive_attr_t attr;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dk_dnnl_md_any(&y_any, y->ndim, y->dims, dnnl_f32);
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    if (s == dnnl_success)
        s = dk_dnnl_pool_pd(&pd, ctx->engine, max, include, &nat->md, &y_any, stride, kernel, dil,
                            pad_l, pad_r, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_dnnl_md_fini(&y_any);
    if (s != dnnl_success) return DK_OK; /* not on this layout: the NCHW way */
    if (is_slow_impl(dk_dnnl_impl_str(pd))) {
        dnnl_primitive_desc_destroy(pd);
        return DK_OK;
    }
    dk_dnnl_pd_md(pd, dnnl_query_dst_md, 0, &y_got);
    snprintf(p->info.note, sizeof p->info.note, "%s, in its input's layout (kept)",
             dk_dnnl_impl_str(pd));
    dnnl_memory_t xm, ym;
    dk_status st = dk_onednn_native_mem(ctx, p, n, n->inputs[0], &xm);
    if (st == DK_OK) st = dk_onednn_native_make(ctx, p, n, n->outputs[0], &y_got, &ym);
    if (st == DK_OK) {
        dk_onednn_arg args[] = {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}};
        st = dk_onednn_add_step(ctx, p, n, pd, args, 2);
    } else {
        dnnl_primitive_desc_destroy(pd);
    }
    dk_dnnl_md_fini(&y_got);
    *done = st == DK_OK;
    return st;
}

DK_ONEDNN_PLANNER(dk_onednn_plan_global_pool)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    const int k = x->ndim - 2;
    if (k < 1 || k > 3 || dk_tensor_numel(x) == 0)
        return dk_onednn_fallback(p, "reference kernel: %d spatial dims", k);
    int64_t ones[DK_MAX_SPATIAL] = {1, 1, 1}, zeros[DK_MAX_SPATIAL] = {0, 0, 0};
    dk_dnnl_md x_md = {0}, y_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, y->ndim, y->dims);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success)
        s = dk_dnnl_pool_pd(&pd, ctx->engine, n->op == DK_OP_GLOBALMAXPOOL, 0, &x_md, &y_md, ones,
                            x->dims + 2, zeros, zeros, zeros, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "global pooling");
    io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &x_md},
                   {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &y_md}};
    dk_status st = single_step(ctx, p, n, pd, io, 2);
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&y_md);
    return st;
}

/* ---- element-wise ----------------------------------------------------------------- */

/* Relu, LeakyRelu, Sigmoid, HardSwish, Sqrt, Tanh, Abs, Exp, Elu: one eltwise primitive over
 * the tensor seen as a flat vector; Pow too when its exponent is a constant
 * scalar (eltwise pow is alpha x^beta), else it falls back. HardSigmoid (oneDNN 2.6 has none): linear
 * alpha x + beta, then clip to [0, 1] in place. Clip with bounds known at
 * load time: clip_v2 (min > max gives max everywhere, as ONNX and numpy do:
 * both bounds are then set to max); bounds fed at run time fall back. */
DK_ONEDNN_PLANNER(dk_onednn_plan_eltwise)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_act_params a = n->p.act;
    if (x->dtype != DK_F32 || y->dtype != DK_F32)
        return dk_onednn_fallback(p, "reference kernel: %s", dk_dtype_name(x->dtype));
    if (n->op == DK_OP_CLIP && (isnan(a.min) || isnan(a.max)))
        return dk_onednn_fallback(p, "reference kernel: Clip bounds known only at run time");
    const int64_t count = dk_tensor_numel(y);
    if (count == 0) return DK_OK;
    dk_dnnl_act act[2];
    float alpha[2] = {0, 0}, beta[2] = {0, 0};
    int steps = 1;
    switch (n->op) {
    case DK_OP_RELU: act[0] = DK_DNNL_RELU; break;
    case DK_OP_LEAKYRELU: act[0] = DK_DNNL_RELU; alpha[0] = a.alpha; break;
    case DK_OP_SIGMOID: act[0] = DK_DNNL_LOGISTIC; break;
    case DK_OP_HARDSWISH: act[0] = DK_DNNL_HARDSWISH; break;
    case DK_OP_SQRT: act[0] = DK_DNNL_SQRT; break;
    case DK_OP_TANH: act[0] = DK_DNNL_TANH; break;
    case DK_OP_ABS: act[0] = DK_DNNL_ABS; break;
    case DK_OP_EXP: act[0] = DK_DNNL_EXP; break;
    case DK_OP_ELU: act[0] = DK_DNNL_ELU; alpha[0] = a.alpha; break;
    case DK_OP_NEG: act[0] = DK_DNNL_LINEAR; alpha[0] = -1.0f; break; /* -1 x + 0: exact */
    case DK_OP_POW: {
        const dk_tensor *e = dk_onednn_constant(g, n, 1);
        if (!e || e->dtype != DK_F32 || dk_tensor_numel(e) != 1)
            return dk_onednn_fallback(p, "reference kernel: Pow exponent is not a constant "
                                      "float32 scalar");
        act[0] = DK_DNNL_POW;
        alpha[0] = 1.0f;
        beta[0] = ((const float *)e->data)[0];
        break;
    }
    case DK_OP_CLIP:
        act[0] = DK_DNNL_CLIP;
        alpha[0] = a.min > a.max ? a.max : a.min;
        beta[0] = a.max;
        break;
    case DK_OP_HARDSIGMOID:
        act[0] = DK_DNNL_LINEAR;
        alpha[0] = a.alpha;
        beta[0] = a.beta;
        act[1] = DK_DNNL_CLIP;
        alpha[1] = 0.0f;
        beta[1] = 1.0f;
        steps = 2;
        break;
    default: return dk_onednn_fallback(p, "reference kernel: not an eltwise op");
    }
    dk_dnnl_md md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&md, 1, &count);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "eltwise");
    dnnl_memory_t xm = NULL, ym = NULL;
    dk_status st = dk_onednn_mem_io(ctx, p, n, &md, DK_ONEDNN_BIND_INPUT, 0, &xm);
    if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, &md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
    for (int k = 0; k < steps && st == DK_OK && !p->info.fallback; k++) {
        dnnl_primitive_attr_t attr;
        dnnl_primitive_desc_t pd = NULL;
        st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
        if (st != DK_OK) break;
        s = dk_dnnl_eltwise_pd(&pd, ctx->engine, act[k], alpha[k], beta[k], &md, attr);
        dnnl_primitive_attr_destroy(attr);
        if (s != dnnl_success) {
            st = dk_onednn_pd_failed(p, n, s, "eltwise");
            break;
        }
        if (k == 0) snprintf(p->info.note, sizeof p->info.note, "%s", dk_dnnl_impl_str(pd));
        /* the second step works in place on the output */
        dk_onednn_arg args[] = {{DNNL_ARG_SRC, k == 0 ? xm : ym}, {DNNL_ARG_DST, ym}};
        st = dk_onednn_add_step(ctx, p, n, pd, args, 2);
    }
    dk_dnnl_md_fini(&md);
    return st;
}

/* ---- binary ------------------------------------------------------------------------- */

/* dims of operand t placed at output dim `first` in an output of rank r. */
static void aligned_dims(const dk_tensor *t, int first, int r, int64_t *dims)
{
    for (int d = 0; d < r; d++) {
        int k = d - first;
        dims[d] = k >= 0 && k < t->ndim ? t->dims[k] : 1;
    }
}

/* oneDNN broadcasts only the second operand: when the first is the
 * broadcast one, Add and Mul swap them; Sub and Div fall back. */
DK_ONEDNN_PLANNER(dk_onednn_plan_binary)
{
    const dk_tensor *a = dk_onednn_input(g, n, 0), *b = dk_onednn_input(g, n, 1);
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    const int r = y->ndim > 0 ? y->ndim : 1;
    if (r > DNNL_MAX_NDIMS) return dk_onednn_fallback(p, "reference kernel: rank %d", r);
    int64_t yd[DNNL_MAX_NDIMS], ad[DNNL_MAX_NDIMS], bd[DNNL_MAX_NDIMS];
    for (int d = 0; d < r; d++) yd[d] = y->ndim > 0 ? y->dims[d] : 1;
    aligned_dims(a, y->ndim - a->ndim, r, ad);
    aligned_dims(b, n->p.axis.axis, r, bd);
    int in0 = 0, in1 = 1;
    if (memcmp(ad, yd, sizeof(int64_t) * (size_t)r) != 0) {
        if (memcmp(bd, yd, sizeof(int64_t) * (size_t)r) != 0 ||
            (n->op != DK_OP_ADD && n->op != DK_OP_MUL))
            return dk_onednn_fallback(p, "reference kernel: oneDNN broadcasts only the second operand");
        in0 = 1;
        in1 = 0;
    }
    dnnl_alg_kind_t alg = n->op == DK_OP_ADD   ? dnnl_binary_add
                          : n->op == DK_OP_SUB ? dnnl_binary_sub
                          : n->op == DK_OP_MUL ? dnnl_binary_mul
                                               : dnnl_binary_div;
    dk_dnnl_md m0 = {0}, m1 = {0}, my = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&m0, r, in0 == 0 ? ad : bd);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&m1, r, in1 == 0 ? ad : bd);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&my, r, yd);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = dk_dnnl_binary_pd(&pd, ctx->engine, alg, &m0, &m1, &my, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "binary op");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC_0, DK_ONEDNN_BIND_INPUT, in0, &m0},
                       {DNNL_ARG_SRC_1, DK_ONEDNN_BIND_INPUT, in1, &m1},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &my}};
        st = single_step(ctx, p, n, pd, io, 3);
    }
    dk_dnnl_md_fini(&m0);
    dk_dnnl_md_fini(&m1);
    dk_dnnl_md_fini(&my);
    return st;
}

/* ---- normalisation ----------------------------------------------------------------- */

DK_ONEDNN_PLANNER(dk_onednn_plan_batchnorm)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    for (int o = 1; o < n->n_outputs; o++)
        if (dk_onednn_output(g, n, o))
            return dk_onednn_fallback(p, "reference kernel: training outputs requested");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (x->ndim < 2) return dk_onednn_fallback(p, "reference kernel: rank %d", x->ndim);
    dk_dnnl_md x_md = {0}, c_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&c_md, 1, &x->dims[1]);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = dk_dnnl_bnorm_pd(&pd, ctx->engine, &x_md, n->p.bn.epsilon, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "batch normalisation");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &x_md},
                       {DNNL_ARG_SCALE, DK_ONEDNN_BIND_INPUT, 1, &c_md},
                       {DNNL_ARG_SHIFT, DK_ONEDNN_BIND_INPUT, 2, &c_md},
                       {DNNL_ARG_MEAN, DK_ONEDNN_BIND_INPUT, 3, &c_md},
                       {DNNL_ARG_VARIANCE, DK_ONEDNN_BIND_INPUT, 4, &c_md},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &x_md}};
        st = single_step(ctx, p, n, pd, io, 6);
    }
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&c_md);
    return st;
}

/* LayerNormalization: oneDNN normalises the last dim, so X is seen as
 * [rows, K] with K the normalised block; Scale and B must hold K values
 * (a broadcast one falls back), and Mean/InvStdDev are not given out. */
DK_ONEDNN_PLANNER(dk_onednn_plan_layernorm)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_tensor *scale = dk_onednn_input(g, n, 1), *shift = dk_onednn_input(g, n, 2);
    const int axis = n->p.layernorm.axis;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    for (int o = 1; o < n->n_outputs; o++)
        if (dk_onednn_output(g, n, o))
            return dk_onednn_fallback(p, "reference kernel: Mean/InvStdDev outputs requested");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    const int64_t dims[2] = {dk_shape_numel(axis, x->dims),
                             dk_shape_numel(x->ndim - axis, x->dims + axis)};
    if (dk_tensor_numel(scale) != dims[1] || (shift && dk_tensor_numel(shift) != dims[1]))
        return dk_onednn_fallback(p, "reference kernel: Scale or B broadcast over the "
                                     "normalised dims");
    dk_dnnl_md x_md = {0}, c_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, 2, dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&c_md, 1, &dims[1]);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success)
        s = dk_dnnl_lnorm_pd(&pd, ctx->engine, &x_md, n->p.layernorm.epsilon, shift != NULL, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "layer normalisation");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &x_md},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &x_md},
                       {DNNL_ARG_SCALE, DK_ONEDNN_BIND_INPUT, 1, &c_md},
                       {DNNL_ARG_SHIFT, DK_ONEDNN_BIND_INPUT, 2, &c_md}};
        st = single_step(ctx, p, n, pd, io, shift ? 4 : 3);
    }
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&c_md);
    return st;
}

/* oneDNN sums channels [c - (size-1)/2, c + (size-1)/2]; ONNX sums
 * [c - floor((size-1)/2), c + ceil((size-1)/2)]: the same for odd sizes
 * only, so even sizes fall back. */
DK_ONEDNN_PLANNER(dk_onednn_plan_lrn)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_lrn_params lp = n->p.lrn;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (lp.size % 2 == 0)
        return dk_onednn_fallback(p, "reference kernel: oneDNN centres an even LRN window "
                                     "differently from ONNX");
    dk_dnnl_md x_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success)
        s = dk_dnnl_lrn_pd(&pd, ctx->engine, &x_md, lp.size, lp.alpha, lp.beta, lp.bias, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "LRN");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &x_md},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &x_md}};
        st = single_step(ctx, p, n, pd, io, 2);
    }
    dk_dnnl_md_fini(&x_md);
    return st;
}

/* ---- softmax ------------------------------------------------------------------------ */

/* Opset < 13 (legacy) normalises over all dims from the axis on: the tensor
 * is seen as 2-D [outer, inner] and normalised along dim 1. */
DK_ONEDNN_PLANNER(dk_onednn_plan_softmax)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_softmax_params sp = n->p.softmax;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (x->ndim < 1 || sp.axis < 0 || sp.axis >= x->ndim || x->ndim > DNNL_MAX_NDIMS)
        return dk_onednn_fallback(p, "reference kernel: rank %d", x->ndim);
    dk_dnnl_md md = {0};
    int axis = sp.axis;
    dnnl_status_t s;
    if (sp.legacy) {
        int64_t d2[2] = {dk_shape_numel(sp.axis, x->dims),
                         dk_shape_numel(x->ndim - sp.axis, x->dims + sp.axis)};
        s = dk_dnnl_md_plain(&md, 2, d2);
        axis = 1;
    } else {
        s = dk_dnnl_md_plain(&md, x->ndim, x->dims);
    }
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = dk_dnnl_softmax_pd(&pd, ctx->engine, &md, &md, axis, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "softmax");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &md},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &md}};
        st = single_step(ctx, p, n, pd, io, 2);
    }
    dk_dnnl_md_fini(&md);
    return st;
}

/* ---- concat --------------------------------------------------------------------------- */

/* Empty inputs contribute nothing and are left out of the primitive. */
DK_ONEDNN_PLANNER(dk_onednn_plan_concat)
{
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    const int axis = n->p.axis.axis;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (y->ndim < 1 || y->ndim > DNNL_MAX_NDIMS)
        return dk_onednn_fallback(p, "reference kernel: rank %d", y->ndim);
    dk_dnnl_md *mds = calloc((size_t)n->n_inputs + 1, sizeof *mds);
    int *which = calloc((size_t)n->n_inputs + 1, sizeof *which);
    dk_dnnl_md y_md = {0};
    int count = 0;
    dnnl_status_t s = dnnl_success;
    dk_status st = DK_OK;
    if (!mds || !which) st = dk__error(DK_ERR_NOMEM, "node '%s' (Concat): out of memory", n->name);
    for (int i = 0; st == DK_OK && s == dnnl_success && i < n->n_inputs; i++) {
        const dk_tensor *t = dk_onednn_input(g, n, i);
        if (!t || dk_tensor_numel(t) == 0) continue;
        which[count] = i;
        s = dk_dnnl_md_plain(&mds[count++], t->ndim, t->dims);
    }
    if (st == DK_OK && s == dnnl_success) s = dk_dnnl_md_plain(&y_md, y->ndim, y->dims);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (st == DK_OK) st = dk_onednn_attr(ctx, n, NULL, 0, &attr);
    if (st == DK_OK && s == dnnl_success)
        s = dk_dnnl_concat_pd(&pd, ctx->engine, &y_md, count, axis, mds, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st == DK_OK && s != dnnl_success) st = dk_onednn_pd_failed(p, n, s, "concat");
    dk_onednn_arg *args = st == DK_OK && !p->info.fallback ? calloc((size_t)count + 1, sizeof *args) : NULL;
    if (st == DK_OK && !p->info.fallback && !args)
        st = dk__error(DK_ERR_NOMEM, "node '%s' (Concat): out of memory", n->name);
    for (int i = 0; args && st == DK_OK && i < count; i++) {
        args[i].arg = DNNL_ARG_MULTIPLE_SRC + i;
        st = dk_onednn_mem_io(ctx, p, n, &mds[i], DK_ONEDNN_BIND_INPUT, which[i], &args[i].mem);
    }
    if (args && st == DK_OK) {
        dnnl_memory_t ym;
        st = dk_onednn_mem_io(ctx, p, n, &y_md, DK_ONEDNN_BIND_OUTPUT, 0, &ym);
        if (st == DK_OK) {
            args[count] = (dk_onednn_arg){DNNL_ARG_DST, ym};
            snprintf(p->info.note, sizeof p->info.note, "%s", dk_dnnl_impl_str(pd));
            st = dk_onednn_add_step(ctx, p, n, pd, args, count + 1);
            pd = NULL;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    for (int i = 0; mds && i < count; i++) dk_dnnl_md_fini(&mds[i]);
    dk_dnnl_md_fini(&y_md);
    free(args);
    free(mds);
    free(which);
    return st;
}

/* ---- ReduceMean ------------------------------------------------------------------------ */

/* oneDNN's reduction keeps the rank (reduced dims become 1), which is the
 * same buffer as ONNX's output with or without keepdims. No axes
 * (noop_with_empty_axes) or only axes of size 1 make a copy: fallback. */
DK_ONEDNN_PLANNER(dk_onednn_plan_reducemean)
{
    const dk_tensor *x = dk_onednn_input(g, n, 0), *y = dk_onednn_output(g, n, 0);
    const dk_reduce_params *rp = &n->p.reduce;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (rp->naxes == 0 || x->ndim < 1 || dk_tensor_numel(x) == 0)
        return dk_onednn_fallback(p, "reference kernel: nothing to reduce");
    int64_t yd[DK_MAX_DIMS], reduced = 1;
    memcpy(yd, x->dims, sizeof(int64_t) * (size_t)x->ndim);
    for (int i = 0; i < rp->naxes; i++) {
        reduced *= x->dims[rp->axes[i]];
        yd[rp->axes[i]] = 1;
    }
    /* oneDNN rejects a reduction whose source and destination are equal */
    if (reduced == 1) return dk_onednn_fallback(p, "reference kernel: the reduced dims have size 1");
    dk_dnnl_md x_md = {0}, y_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&x_md, x->ndim, x->dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, x->ndim, yd);
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = dk_dnnl_reduce_mean_pd(&pd, ctx->engine, &x_md, &y_md, attr);
    dnnl_primitive_attr_destroy(attr);
    dk_status st;
    if (s != dnnl_success) {
        st = dk_onednn_pd_failed(p, n, s, "reduction");
    } else {
        io_arg io[] = {{DNNL_ARG_SRC, DK_ONEDNN_BIND_INPUT, 0, &x_md},
                       {DNNL_ARG_DST, DK_ONEDNN_BIND_OUTPUT, 0, &y_md}};
        st = single_step(ctx, p, n, pd, io, 2);
    }
    dk_dnnl_md_fini(&x_md);
    dk_dnnl_md_fini(&y_md);
    return st;
}
