/* Shape inference for ConvTranspose.
 *
 * The output size along spatial axis i follows the ONNX spec (and its
 * reference implementation, onnx/reference/ops/op_conv_transpose.py):
 *   natural_i = stride (D_i - 1) + output_padding + dilation (k - 1) + 1
 *   O_i = natural_i - pad_begin - pad_end
 * With output_shape (or auto_pad SAME_*, whose output_shape is D_i * stride)
 * the pads are derived from total = natural_i - output_shape_i: SAME_UPPER
 * puts floor(total / 2) at the beginning, NOTSET and SAME_LOWER put it at the
 * end (Python's floor division: a negative total, an output larger than the
 * natural one, gives negative pads, i.e. outputs that only the bias reaches).
 * output_padding is folded into pad_end (ops.h).
 *
 * Every value from the model is bounded by dk__attr_dims (2^40) and every
 * product goes through runtime/checked.h.
 *
 * FLOPs: 2 * N * C * prod(D) * (M / group) * prod(kernel) (every input
 * element times every tap of its group's kernels), plus numel(Y) with a bias. */
#include <string.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"
#include "runtime/checked.h"

static int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

static dk_status check_tensors(dk_graph *g, dk_node *n, const dk_tensor *x, const dk_tensor *w,
                               const dk_tensor *b, int64_t group)
{
    char sx[96], sw[96];
    if (!x || !w) return dk__node_error(g, n, DK_ERR_FORMAT, "inputs 0 (X) and 1 (W) are required");
    for (int i = 0; i < 3; i++) {
        const dk_tensor *t = i == 0 ? x : i == 1 ? w : b;
        if (t && t->dtype != DK_F32)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d has element type %s "
                                  "(supported: float32)", i, dk_dtype_name(t->dtype));
    }
    dk_shape_str(x->ndim, x->dims, sx, sizeof sx);
    dk_shape_str(w->ndim, w->dims, sw, sizeof sw);
    if (x->ndim < 3 || x->ndim - 2 > DK_MAX_SPATIAL)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has shape %s: expected N, C and "
                              "1 to %d spatial dims", sx, DK_MAX_SPATIAL);
    if (w->ndim != x->ndim)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (W) has shape %s but input 0 has "
                              "shape %s: ranks differ", sw, sx);
    if (w->dims[0] != x->dims[1] || x->dims[1] % group != 0)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (W, %s) must have as many rows as "
                              "input 0 (%s) has channels (%lld), divisible by attribute 'group' "
                              "%lld", sw, sx, (long long)x->dims[1], (long long)group);
    for (int d = 1; d < w->ndim; d++)
        if (w->dims[d] < 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 1 (W) has an empty dim: %s", sw);
    int64_t m;
    if (!dk_ck_mul(w->dims[1], group, &m) || m > DK_MAX_DIM)
        return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'group' %lld times W's %lld output "
                              "channels per group is out of range", (long long)group,
                              (long long)w->dims[1]);
    if (b && (b->ndim != 1 || b->dims[0] != m))
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 2 (B) must be [%lld] (output channels)",
                              (long long)m);
    return DK_OK;
}

dk_status dk__infer_convtranspose(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0), *w = dk__in(g, n, 1), *b = dk__in(g, n, 2);
    dk_convtranspose_params *p = &n->p.convt;
    memset(p, 0, sizeof *p);
    DK_TRY(dk__attr_int(g, n, "group", 1, &p->group));
    DK_TRY(dk__attr_in_range(g, n, "group", p->group, 1));
    DK_TRY(check_tensors(g, n, x, w, b, p->group));
    p->has_bias = b != NULL;
    const int k = x->ndim - 2;
    dk_window *win = &p->win;
    win->nspatial = k;
    int64_t out_pad[DK_MAX_SPATIAL], pads[2 * DK_MAX_SPATIAL], out_shape[DK_MAX_SPATIAL + 2];
    DK_TRY(dk__attr_dims(g, n, "kernel_shape", k, 1, 1, win->kernel));
    for (int i = 0; i < k; i++) {
        if (dk_node_attr(n, "kernel_shape") && win->kernel[i] != w->dims[2 + i])
            return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'kernel_shape' has %lld at "
                                  "index %d but input 1 (W) has %lld", (long long)win->kernel[i],
                                  i, (long long)w->dims[2 + i]);
        win->kernel[i] = w->dims[2 + i];
    }
    DK_TRY(dk__attr_dims(g, n, "strides", k, 1, 1, win->stride));
    DK_TRY(dk__attr_dims(g, n, "dilations", k, 1, 1, win->dilation));
    DK_TRY(dk__attr_dims(g, n, "output_padding", k, 0, 0, out_pad));
    DK_TRY(dk__attr_dims(g, n, "pads", 2 * k, 0, 0, pads));
    const char *ap;
    DK_TRY(dk__attr_string(g, n, "auto_pad", "NOTSET", &ap));
    int same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
    if (!same_upper && !same_lower && strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && ap[0])
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'auto_pad' '%s' is not one of "
                              "NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap);
    if (!strcmp(ap, "VALID")) memset(pads, 0, sizeof pads);
    int n_shape = 0;
    if (dk_node_attr(n, "output_shape")) {
        const int64_t *v;
        DK_TRY(dk__attr_ints(g, n, "output_shape", &n_shape, &v));
        if (n_shape != k && n_shape != k + 2)
            return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'output_shape' has %d values "
                                  "(expected %d spatial dims, or %d with N and C)", n_shape, k,
                                  k + 2);
        DK_TRY(dk__attr_dims(g, n, "output_shape", n_shape, 1, 1, out_shape));
        if (n_shape == k + 2) memmove(out_shape, out_shape + 2, sizeof(int64_t) * (size_t)k);
    }
    int64_t dims[DK_MAX_DIMS];
    dims[0] = x->dims[0];
    dims[1] = w->dims[1] * p->group; /* checked in check_tensors */
    for (int i = 0; i < k; i++) {
        int64_t natural, span, want;
        if (!dk_ck_window_span(win->kernel[i], win->dilation[i], &span) ||
            !dk_ck_mul(win->stride[i], x->dims[2 + i] > 0 ? x->dims[2 + i] - 1 : 0, &natural) ||
            !dk_ck_add(natural, span, &natural) || !dk_ck_add(natural, out_pad[i], &natural) ||
            natural > DK_MAX_DIM)
            return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: attributes 'strides' "
                                  "%lld, 'dilations' %lld and kernel %lld on input size %lld give "
                                  "an output over " DK_MAX_LIMIT_STR, i, (long long)win->stride[i],
                                  (long long)win->dilation[i], (long long)win->kernel[i],
                                  (long long)x->dims[2 + i]);
        if (x->dims[2 + i] == 0)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has an empty spatial axis %d", i);
        if (n_shape || same_upper || same_lower) {
            if (n_shape) want = out_shape[i];
            else if (!dk_ck_mul(x->dims[2 + i], win->stride[i], &want) || want > DK_MAX_DIM)
                return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: auto_pad output "
                                      "size over " DK_MAX_LIMIT_STR, i);
            int64_t total = natural - want; /* both within [0, 2^40] */
            win->pad_begin[i] = same_upper ? floor_div2(total) : total - floor_div2(total);
            win->pad_end[i] = total - win->pad_begin[i];
        } else {
            win->pad_begin[i] = pads[i];
            win->pad_end[i] = pads[k + i];
        }
        dims[2 + i] = natural - win->pad_begin[i] - win->pad_end[i];
        win->pad_end[i] -= out_pad[i];
        if (dims[2 + i] < 1)
            return dk__node_error(g, n, DK_ERR_SHAPE, "spatial axis %d: attribute 'pads' "
                                  "(%lld+%lld) leaves no output of the natural size %lld", i,
                                  (long long)win->pad_begin[i],
                                  (long long)(win->pad_end[i] + out_pad[i]), (long long)natural);
    }
    dk__set_out(g, n, 0, DK_F32, x->ndim, dims);
    double taps = 1;
    for (int i = 0; i < k; i++) taps *= (double)win->kernel[i];
    n->flops = 2.0 * (double)dk_tensor_numel(x) * (double)w->dims[1] * taps;
    if (b) n->flops += (double)dk_shape_numel(x->ndim, dims);
    return DK_OK;
}
