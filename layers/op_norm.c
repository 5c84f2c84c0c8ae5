/* Shape inference for the normalisations: BatchNormalization (inference
 * only), LRN, LayerNormalization and InstanceNormalization.
 *
 * FLOP convention (a multiply-add counts 2):
 *   BatchNormalization  2 * numel(X): one multiply-add per element, the
 *                       per-channel scale and shift being folded once;
 *   LRN                 numel(X) * (2 * size + 3): a multiply-add per channel
 *                       in the window, then scale-and-bias, power and divide;
 *   LayerNormalization  8 * numel(X): the mean (an addition), the variance
 *                       (a subtraction and a multiply-add), then subtract,
 *                       scale by 1/sigma and a multiply-add with scale and B;
 *   InstanceNormalization  the same per (n, c) over the spatial dims. */
#include "layers/infer_util.h"
#include "layers/op_table.h"

static const char *const bn_input_names[] = {"X", "scale", "B", "mean", "var"};

/* Training-mode BatchNormalization computes batch statistics and updates the
 * running ones: it is not a layer to compare, so every way to ask for it is
 * refused. An absent is_test (opset <= 6, where the spec's default is 0) is
 * taken as inference, since such exporters wrote inference graphs. */
static dk_status check_inference_mode(dk_graph *g, dk_node *n)
{
    int64_t v;
    if (dk_node_attr(n, "training_mode")) {
        DK_TRY(dk__attr_int(g, n, "training_mode", 0, &v));
        if (v != 0)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute training_mode=%lld "
                                  "(training) is not supported", (long long)v);
    }
    if (n->opset <= 6 && dk_node_attr(n, "is_test")) {
        DK_TRY(dk__attr_int(g, n, "is_test", 1, &v));
        if (v == 0)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute is_test=0 (training) is "
                                  "not supported");
    }
    if (n->opset < 9 && dk_node_attr(n, "spatial")) {
        DK_TRY(dk__attr_int(g, n, "spatial", 1, &v));
        if (v == 0)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute spatial=0 (statistics per "
                                  "element instead of per channel) is not supported");
    }
    for (int i = 1; i < n->n_outputs; i++)
        if (dk__out(g, n, i))
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "training outputs (%d outputs, "
                                  "output %d requested) are not supported", n->n_outputs, i);
    return DK_OK;
}

dk_status dk__infer_batchnorm(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    char sx[96], sp[96];
    DK_TRY(check_inference_mode(g, n));
    for (int i = 0; i < 5; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (!t)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d (%s) is required", i,
                                  bn_input_names[i]);
        if (t->dtype != DK_F32)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d (%s) has element type %s "
                                  "(supported: float32)", i, bn_input_names[i],
                                  dk_dtype_name(t->dtype));
    }
    dk_shape_str(x->ndim, x->dims, sx, sizeof sx);
    if (x->ndim < 2)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 (X) has shape %s: expected rank >= 2 "
                              "(N, C, ...)", sx);
    for (int i = 1; i < 5; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (t->ndim != 1 || t->dims[0] != x->dims[1])
            return dk__node_error(g, n, DK_ERR_SHAPE, "input %d (%s) has shape %s but input 0 "
                                  "(X, %s) has %lld channels", i, bn_input_names[i],
                                  dk_shape_str(t->ndim, t->dims, sp, sizeof sp), sx,
                                  (long long)x->dims[1]);
    }
    DK_TRY(dk__attr_float(g, n, "epsilon", 1e-5f, &n->p.bn.epsilon));
    if (!(n->p.bn.epsilon >= 0))
        return dk__node_error(g, n, DK_ERR_FORMAT, "epsilon %g must be >= 0",
                              (double)n->p.bn.epsilon);
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = 2.0 * (double)dk_tensor_numel(x);
    return DK_OK;
}

dk_status dk__infer_lrn(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    dk_lrn_params *p = &n->p.lrn;
    char sx[96];
    if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 is required");
    if (x->dtype != DK_F32)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s "
                              "(supported: float32)", dk_dtype_name(x->dtype));
    if (x->ndim < 2)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s: expected rank >= 2 "
                              "(N, C, ...)", dk_shape_str(x->ndim, x->dims, sx, sizeof sx));
    if (!dk_node_attr(n, "size"))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'size' is required");
    DK_TRY(dk__attr_int(g, n, "size", 1, &p->size));
    if (p->size < 1)
        return dk__node_error(g, n, DK_ERR_FORMAT, "size %lld must be >= 1", (long long)p->size);
    DK_TRY(dk__attr_in_range(g, n, "size", p->size, 1)); /* the kernel adds it to indices */
    DK_TRY(dk__attr_float(g, n, "alpha", 1e-4f, &p->alpha));
    DK_TRY(dk__attr_float(g, n, "beta", 0.75f, &p->beta));
    DK_TRY(dk__attr_float(g, n, "bias", 1.0f, &p->bias));
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = (double)dk_tensor_numel(x) * (2.0 * (double)p->size + 3.0);
    return DK_OK;
}

/* ---- LayerNormalization ------------------------------------------------------ */

/* Scale and B broadcast onto the normalised dims X.dims[axis:] (aligned to the
 * right, dims of 1 repeat), as the op's function body broadcasts them. */
static dk_status check_affine(dk_graph *g, dk_node *n, int i, const char *what,
                              const dk_tensor *x, int axis)
{
    const dk_tensor *t = dk__in(g, n, i);
    char st[96], sx[96];
    if (!t) return DK_OK;
    if (t->dtype != DK_F32)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d (%s) has element type %s "
                              "(supported: float32)", i, what, dk_dtype_name(t->dtype));
    int fits = t->ndim <= x->ndim - axis;
    for (int d = 0; fits && d < t->ndim; d++) {
        int64_t want = x->dims[x->ndim - t->ndim + d];
        fits = t->dims[d] == want || t->dims[d] == 1;
    }
    if (!fits)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input %d (%s) has shape %s, which does not "
                              "broadcast onto the normalised dims %s of input 0 (axis %d)", i,
                              what, dk_shape_str(t->ndim, t->dims, st, sizeof st),
                              dk_shape_str(x->ndim - axis, x->dims + axis, sx, sizeof sx), axis);
    return DK_OK;
}

dk_status dk__infer_layernorm(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    dk_layernorm_params *p = &n->p.layernorm;
    int64_t axis, stash;
    if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 (X) is required");
    if (x->dtype != DK_F32)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 (X) has element type %s "
                              "(supported: float32)", dk_dtype_name(x->dtype));
    if (x->ndim < 1) return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 (X) is a scalar");
    DK_TRY(dk__attr_int(g, n, "axis", -1, &axis));
    DK_TRY(dk__norm_axis(g, n, axis, x->ndim, &p->axis));
    DK_TRY(dk__attr_float(g, n, "epsilon", 1e-5f, &p->epsilon));
    if (!(p->epsilon >= 0))
        return dk__node_error(g, n, DK_ERR_FORMAT, "epsilon %g must be >= 0", (double)p->epsilon);
    /* the statistics are computed in double; their outputs are float32 */
    DK_TRY(dk__attr_int(g, n, "stash_type", 1, &stash));
    if (stash != 1)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute stash_type=%lld (supported: "
                              "1, float32)", (long long)stash);
    if (!dk__in(g, n, 1)) return dk__node_error(g, n, DK_ERR_FORMAT, "input 1 (Scale) is required");
    DK_TRY(check_affine(g, n, 1, "Scale", x, p->axis));
    DK_TRY(check_affine(g, n, 2, "B", x, p->axis));
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    /* Mean and InvStdDev: X's dims with the normalised ones set to 1 */
    int64_t stat[DK_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) stat[d] = d < p->axis ? x->dims[d] : 1;
    dk__set_out(g, n, 1, DK_F32, x->ndim, stat);
    dk__set_out(g, n, 2, DK_F32, x->ndim, stat);
    n->flops = 8.0 * (double)dk_tensor_numel(x);
    return DK_OK;
}

/* ---- InstanceNormalization ------------------------------------------------------ */

/* X [N, C, spatial...], scale and B [C]; FLOPs as LayerNormalization's. */
dk_status dk__infer_instancenorm(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    char sx[96], sp[96];
    static const char *const names[] = {"input", "scale", "B"};
    for (int i = 0; i < 3; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (!t) return dk__node_error(g, n, DK_ERR_FORMAT, "input %d (%s) is required", i, names[i]);
        if (t->dtype != DK_F32)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d (%s) has element type %s "
                                  "(supported: float32)", i, names[i], dk_dtype_name(t->dtype));
    }
    dk_shape_str(x->ndim, x->dims, sx, sizeof sx);
    if (x->ndim < 3)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 has shape %s: expected rank >= 3 "
                              "(N, C, spatial...)", sx);
    for (int i = 1; i < 3; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (t->ndim != 1 || t->dims[0] != x->dims[1])
            return dk__node_error(g, n, DK_ERR_SHAPE, "input %d (%s) has shape %s but input 0 "
                                  "(%s) has %lld channels", i, names[i],
                                  dk_shape_str(t->ndim, t->dims, sp, sizeof sp), sx,
                                  (long long)x->dims[1]);
    }
    DK_TRY(dk__attr_float(g, n, "epsilon", 1e-5f, &n->p.inorm.epsilon));
    if (!(n->p.inorm.epsilon >= 0))
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'epsilon' %g must be >= 0",
                              (double)n->p.inorm.epsilon);
    dk__set_out(g, n, 0, x->dtype, x->ndim, x->dims);
    n->flops = 8.0 * (double)dk_tensor_numel(x);
    return DK_OK;
}
