/* Shape inference for the sliding-window ops: Conv, MaxPool, AveragePool and
 * the global pools GlobalAveragePool and GlobalMaxPool.
 *
 * Window resolution (auto_pad, pads, ceil_mode) follows the ONNX spec: the
 * kernels only see the final dk_window, whose pad_end already includes the
 * padding that ceil_mode adds (n->p.pool.ceil_extra says how much of it).
 *
 * FLOP convention (a multiply-add counts 2, everything else 1):
 *   Conv           2 * N * M * prod(out spatial) * (C / group) * prod(kernel),
 *                  plus N * M * prod(out spatial) when there is a bias;
 *   MaxPool        one comparison per window tap: numel(Y) * prod(kernel);
 *   AveragePool    one add per window tap and one division per output:
 *                  numel(Y) * (prod(kernel) + 1);
 *   GlobalMaxPool  numel(X); GlobalAveragePool numel(X) + numel(Y).
 * Padding taps are counted as if they were computed (what a dense kernel does). */
#include <string.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"
#include "runtime/checked.h"

typedef enum auto_pad_mode {
    AUTO_PAD_NOTSET,
    AUTO_PAD_VALID,
    AUTO_PAD_SAME_UPPER,
    AUTO_PAD_SAME_LOWER
} auto_pad_mode;

/* Input 0 must be [N, C, D1, ..., Dk] with 1 <= k <= DK_MAX_SPATIAL. */
static dk_status spatial_input(dk_graph *g, dk_node *n, const dk_tensor *x, int *nspatial)
{
    char s[96];
    if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 is required");
    if (x->ndim < 3)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s: expected rank >= 3 "
                              "(N, C, spatial...)", dk_shape_str(x->ndim, x->dims, s, sizeof s));
    if (x->ndim - 2 > DK_MAX_SPATIAL)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has shape %s: %d spatial dims "
                              "(supported: 1 to %d)", dk_shape_str(x->ndim, x->dims, s, sizeof s),
                              x->ndim - 2, DK_MAX_SPATIAL);
    *nspatial = x->ndim - 2;
    return DK_OK;
}

static dk_status want_dtype(dk_graph *g, dk_node *n, int i, const dk_tensor *t, dk_dtype want)
{
    if (t->dtype == want) return DK_OK;
    return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d has element type %s (supported: %s)",
                          i, dk_dtype_name(t->dtype), dk_dtype_name(want));
}

static dk_status read_auto_pad(dk_graph *g, dk_node *n, auto_pad_mode *mode)
{
    const char *s;
    DK_TRY(dk__attr_string(g, n, "auto_pad", "NOTSET", &s));
    if (strcmp(s, "NOTSET") == 0 || s[0] == '\0') *mode = AUTO_PAD_NOTSET;
    else if (strcmp(s, "VALID") == 0) *mode = AUTO_PAD_VALID;
    else if (strcmp(s, "SAME_UPPER") == 0) *mode = AUTO_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0) *mode = AUTO_PAD_SAME_LOWER;
    else
        return dk__node_error(g, n, DK_ERR_FORMAT, "auto_pad '%s' is not one of NOTSET, VALID, "
                              "SAME_UPPER, SAME_LOWER", s);
    return DK_OK;
}

/* Resolves padding and output size along spatial axis i of input size `in`.
 * Explicit pads with ceil_mode follow the ONNX/PyTorch rule: the output is
 * rounded up, but a last window that would start in the end padding is
 * dropped; the padding the rounding adds is recorded in *ceil_extra. */
static dk_status resolve_axis(dk_graph *g, dk_node *n, int i, int64_t in, auto_pad_mode mode,
                              int ceil_mode, dk_window *w, int64_t *ceil_extra, int64_t *out)
{
    /* in, kernel, stride, dilation and pads are each at most 2^40 (checked
     * before), so sums of a few of them cannot overflow; products can. */
    int64_t k = w->kernel[i], s = w->stride[i], span;
    *ceil_extra = 0;
    if (!dk_ck_window_span(k, w->dilation[i], &span) || span > DK_MAX_DIM)
        return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: the window of kernel %lld "
                              "with attribute 'dilations' %lld spans more than " DK_MAX_LIMIT_STR,
                              i, (long long)k, (long long)w->dilation[i]);
    if (mode == AUTO_PAD_SAME_UPPER || mode == AUTO_PAD_SAME_LOWER) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + span - in;
        if (total < 0) total = 0;
        int64_t small = total / 2;
        w->pad_begin[i] = mode == AUTO_PAD_SAME_UPPER ? small : total - small;
        w->pad_end[i] = total - w->pad_begin[i];
        return DK_OK;
    }
    if (mode == AUTO_PAD_VALID) w->pad_begin[i] = w->pad_end[i] = 0;
    int64_t pads = w->pad_begin[i] + w->pad_end[i], padded = in + pads;
    int use_ceil = ceil_mode && mode == AUTO_PAD_NOTSET;
    if (!dk_ck_window_out(in, pads, k, s, w->dilation[i], use_ceil, out) || *out < 1)
        return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: window of %lld (kernel %lld, "
                              "dilation %lld) does not fit input size %lld with pads %lld+%lld",
                              i, (long long)span, (long long)k, (long long)w->dilation[i],
                              (long long)in, (long long)w->pad_begin[i], (long long)w->pad_end[i]);
    if (*out > DK_MAX_DIM) /* only padding can make the output larger than the input */
        return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: attribute 'pads' (%lld+%lld "
                              "on input size %lld) gives output size %lld, out of range (at most "
                              DK_MAX_LIMIT_STR ")", i, (long long)w->pad_begin[i],
                              (long long)w->pad_end[i], (long long)in, (long long)*out);
    if (use_ceil && (*out - 1) * s >= in + w->pad_begin[i]) (*out)--;
    int64_t extra = (*out - 1) * s + span - padded;
    if (extra > 0) {
        *ceil_extra = extra;
        w->pad_end[i] += extra;
    }
    return DK_OK;
}

/* Decodes strides, dilations, pads and auto_pad for a window whose kernel is
 * already in w->kernel, and computes the output's spatial dims. */
static dk_status decode_window(dk_graph *g, dk_node *n, const dk_tensor *x, int ceil_mode,
                               dk_window *w, int64_t *ceil_extra, int64_t *out_spatial)
{
    int k = w->nspatial;
    int64_t pads[2 * DK_MAX_SPATIAL];
    auto_pad_mode mode = AUTO_PAD_NOTSET;
    DK_TRY(read_auto_pad(g, n, &mode));
    DK_TRY(dk__attr_dims(g, n, "strides", k, 1, 1, w->stride));
    DK_TRY(dk__attr_dims(g, n, "dilations", k, 1, 1, w->dilation));
    DK_TRY(dk__attr_dims(g, n, "pads", 2 * k, 0, 0, pads));
    for (int i = 0; i < k; i++) {
        if (mode != AUTO_PAD_NOTSET && (pads[i] || pads[k + i]))
            return dk__node_error(g, n, DK_ERR_FORMAT, "explicit pads cannot be combined with "
                                  "auto_pad other than NOTSET");
        w->pad_begin[i] = pads[i];
        w->pad_end[i] = pads[k + i];
    }
    for (int i = 0; i < k; i++)
        DK_TRY(resolve_axis(g, n, i, x->dims[2 + i], mode, ceil_mode, w, &ceil_extra[i],
                            &out_spatial[i]));
    return DK_OK;
}

/* In double: only FLOP counts use it, and the product of kernel sizes of
 * up to 2^40 each may not fit in int64. */
static double kernel_size(const dk_window *w)
{
    double p = 1;
    for (int i = 0; i < w->nspatial; i++) p *= (double)w->kernel[i];
    return p;
}

/* ---- Conv ------------------------------------------------------------- */

/* Checks W = [M, C/group, k1..kn] and B = [M] against X = [N, C, ...]. */
static dk_status check_conv_weights(dk_graph *g, dk_node *n, const dk_tensor *x,
                                    const dk_tensor *wt, const dk_tensor *b, int64_t group)
{
    char sx[96], sw[96];
    int64_t c = x->dims[1];
    dk_shape_str(x->ndim, x->dims, sx, sizeof sx);
    dk_shape_str(wt->ndim, wt->dims, sw, sizeof sw);
    if (wt->ndim != x->ndim)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (weights) has shape %s, rank %d, but "
                              "input 0 has shape %s, rank %d", sw, wt->ndim, sx, x->ndim);
    int64_t m = wt->dims[0];
    if (c % group != 0 || m % group != 0)
        return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'group': group %lld does not "
                              "divide the %lld input channels and %lld output channels",
                              (long long)group, (long long)c, (long long)m);
    if (wt->dims[1] != c / group)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (weights, %s) has %lld channels per "
                              "group but input 0 (%s) has %lld (%lld channels, group %lld)", sw,
                              (long long)wt->dims[1], sx, (long long)(c / group), (long long)c,
                              (long long)group);
    for (int d = 2; d < wt->ndim; d++)
        if (wt->dims[d] < 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (weights) has empty kernel %s", sw);
    if (b && (b->ndim != 1 || b->dims[0] != m)) {
        char sb[96];
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 2 (bias) has shape %s but the weights "
                              "(%s) have %lld output channels",
                              dk_shape_str(b->ndim, b->dims, sb, sizeof sb), sw, (long long)m);
    }
    return DK_OK;
}

/* Fused post-ops: the sum operand has the output's shape exactly. */
static dk_status infer_conv_post(dk_graph *g, dk_node *n, int ndim, const int64_t *dims,
                                 double outputs)
{
    const dk_post_ops *post = &n->post;
    if (post->act != DK_OP_NONE && post->act != DK_OP_RELU && post->act != DK_OP_CLIP)
        return dk__node_error(g, n, DK_ERR_INTERNAL, "fused activation %s is not Relu or Clip",
                              dk_op_name(post->act));
    if (post->act != DK_OP_NONE) n->flops += outputs;
    if (!post->has_sum) return DK_OK;
    const dk_tensor *sum = dk__in(g, n, 3);
    int same = sum && sum->dtype == DK_F32 && sum->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = sum->dims[d] == dims[d];
    if (!same) return dk__node_error(g, n, DK_ERR_SHAPE, "fused residual (input 3) does not have the output's shape");
    n->flops += outputs;
    return DK_OK;
}

dk_status dk__infer_conv(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0), *wt = dk__in(g, n, 1), *b = dk__in(g, n, 2);
    dk_conv_params *p = &n->p.conv;
    int k;
    memset(p, 0, sizeof *p);
    DK_TRY(spatial_input(g, n, x, &k));
    if (!wt) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (weights) is required");
    DK_TRY(want_dtype(g, n, 0, x, DK_F32));
    DK_TRY(want_dtype(g, n, 1, wt, DK_F32));
    if (b) DK_TRY(want_dtype(g, n, 2, b, DK_F32));
    DK_TRY(dk__attr_int(g, n, "group", 1, &p->group));
    DK_TRY(dk__attr_in_range(g, n, "group", p->group, 1));
    DK_TRY(check_conv_weights(g, n, x, wt, b, p->group));
    p->has_bias = b != NULL;

    /* kernel_shape is optional: the weights' spatial dims are the kernel. */
    p->win.nspatial = k;
    DK_TRY(dk__attr_dims(g, n, "kernel_shape", k, 1, 1, p->win.kernel));
    for (int i = 0; i < k; i++) {
        if (dk_node_attr(n, "kernel_shape") && p->win.kernel[i] != wt->dims[2 + i]) {
            char sw[96];
            return dk__node_error(g, n, DK_ERR_SHAPE, "attribute kernel_shape has %lld at index "
                                  "%d but input 1 (weights) has shape %s", (long long)p->win.kernel[i],
                                  i, dk_shape_str(wt->ndim, wt->dims, sw, sizeof sw));
        }
        p->win.kernel[i] = wt->dims[2 + i];
    }
    int64_t ceil_extra[DK_MAX_SPATIAL], dims[DK_MAX_DIMS];
    dims[0] = x->dims[0];
    dims[1] = wt->dims[0];
    DK_TRY(decode_window(g, n, x, 0, &p->win, ceil_extra, dims + 2));
    dk__set_out(g, n, 0, DK_F32, x->ndim, dims);

    double outputs = (double)dk_shape_numel(x->ndim, dims);
    n->flops = 2.0 * outputs * (double)wt->dims[1] * kernel_size(&p->win);
    if (p->has_bias) n->flops += outputs;
    return infer_conv_post(g, n, x->ndim, dims, outputs);
}

/* ---- MaxPool and AveragePool -------------------------------------------- */

static dk_status decode_pool(dk_graph *g, dk_node *n, const dk_tensor *x, int64_t *dims)
{
    dk_pool_params *p = &n->p.pool;
    int k;
    int64_t ceil_mode;
    memset(p, 0, sizeof *p);
    DK_TRY(spatial_input(g, n, x, &k));
    if (!dk_node_attr(n, "kernel_shape"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'kernel_shape' is required");
    p->win.nspatial = k;
    DK_TRY(dk__attr_dims(g, n, "kernel_shape", k, 1, 1, p->win.kernel));
    DK_TRY(dk__attr_int(g, n, "ceil_mode", 0, &ceil_mode));
    if (ceil_mode != 0 && ceil_mode != 1)
        return dk__node_error(g, n, DK_ERR_FORMAT, "ceil_mode %lld must be 0 or 1",
                              (long long)ceil_mode);
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    return decode_window(g, n, x, (int)ceil_mode, &p->win, p->ceil_extra, dims + 2);
}

dk_status dk__infer_maxpool(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    int64_t dims[DK_MAX_DIMS], storage_order;
    DK_TRY(decode_pool(g, n, x, dims));
    if (x->dtype != DK_F32 && x->dtype != DK_U8 && x->dtype != DK_I8)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s (supported: "
                              "float32, uint8, int8)", dk_dtype_name(x->dtype));
    DK_TRY(dk__attr_int(g, n, "storage_order", 0, &storage_order));
    if (storage_order != 0 && storage_order != 1)
        return dk__node_error(g, n, DK_ERR_FORMAT, "storage_order %lld must be 0 or 1",
                              (long long)storage_order);
    n->p.pool.storage_order = (int)storage_order;
    n->p.pool.has_indices = dk__out(g, n, 1) != NULL;
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    dk__set_out(g, n, 1, DK_I64, x->ndim, dims);
    n->flops = (double)dk_shape_numel(x->ndim, dims) * kernel_size(&n->p.pool.win);
    return DK_OK;
}

dk_status dk__infer_avgpool(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    int64_t dims[DK_MAX_DIMS], count_include_pad;
    DK_TRY(decode_pool(g, n, x, dims));
    DK_TRY(want_dtype(g, n, 0, x, DK_F32));
    DK_TRY(dk__attr_int(g, n, "count_include_pad", 0, &count_include_pad));
    if (count_include_pad != 0 && count_include_pad != 1)
        return dk__node_error(g, n, DK_ERR_FORMAT, "count_include_pad %lld must be 0 or 1",
                              (long long)count_include_pad);
    n->p.pool.count_include_pad = (int)count_include_pad;
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    n->flops = (double)dk_shape_numel(x->ndim, dims) *
               (kernel_size(&n->p.pool.win) + 1.0);
    return DK_OK;
}

/* ---- GlobalAveragePool and GlobalMaxPool --------------------------------- */

dk_status dk__infer_global_pool(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    char s[96];
    if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 is required");
    if (x->ndim < 3)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s: expected rank >= 3 "
                              "(N, C, spatial...)", dk_shape_str(x->ndim, x->dims, s, sizeof s));
    DK_TRY(want_dtype(g, n, 0, x, DK_F32));
    int64_t dims[DK_MAX_DIMS];
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int d = 2; d < x->ndim; d++) {
        if (x->dims[d] < 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s: cannot pool over "
                                  "an empty axis", dk_shape_str(x->ndim, x->dims, s, sizeof s));
        dims[d] = 1;
    }
    dk__set_out(g, n, 0, x->dtype, x->ndim, dims);
    n->flops = (double)dk_tensor_numel(x);
    if (n->op == DK_OP_GLOBALAVGPOOL) n->flops += (double)dk_shape_numel(x->ndim, dims);
    return DK_OK;
}
