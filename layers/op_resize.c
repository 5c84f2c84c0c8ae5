/* Shape inference for Resize (opsets 10, 11, 13, 18) and Upsample (7, 9).
 *
 * The scales or sizes must be constants (known at load time). Output sizes:
 * floor(in * scale) for scales, the sizes themselves otherwise; the scale the
 * coordinate transformation uses is the given one, or out / in for sizes
 * (as the ONNX reference implementation does).
 *
 * Semantics by opset: Resize-10 and Upsample use asymmetric coordinates and,
 * for nearest, floor (the only nearest rounding they define: the reference
 * implementation repeats elements for integer scales); nearest downsampling
 * is not defined for them and is refused. Resize-11+ read
 * coordinate_transformation_mode and nearest_mode. Refused with an error
 * naming the attribute: mode cubic, tf_crop_and_resize (regions of
 * interest), exclude_outside=1 with nearest, antialias=1 when downsampling
 * linearly, keep_aspect_ratio_policy other than stretch. exclude_outside=1
 * with linear is the same computation (both neighbours of an outside
 * position clamp to the same edge element), and extrapolation_value only
 * matters for tf_crop_and_resize, so both are accepted there.
 *
 * FLOPs: none for nearest (a gather); linear: 2^d multiply-adds per output
 * element over the d resized axes, counted 2 each. */
#include <math.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"
#include "runtime/checked.h"

static dk_status read_mode(dk_graph *g, dk_node *n, dk_resize_params *p)
{
    const char *s;
    DK_TRY(dk__attr_string(g, n, "mode", "nearest", &s));
    if (!strcmp(s, "nearest")) p->mode = DK_RESIZE_NEAREST;
    else if (!strcmp(s, "linear") || (n->op == DK_OP_UPSAMPLE && !strcmp(s, "bilinear")))
        p->mode = DK_RESIZE_LINEAR;
    else
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'mode' '%s' is not supported "
                              "(supported: nearest, linear)", s);
    return DK_OK;
}

static dk_status read_resize11(dk_graph *g, dk_node *n, dk_resize_params *p)
{
    const char *s;
    DK_TRY(dk__attr_string(g, n, "coordinate_transformation_mode", "half_pixel", &s));
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                         "asymmetric", "tf_half_pixel_for_nearest"};
    int found = 0;
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, coords[i])) p->coord = (dk_resample_coord)i, found = 1;
    /* the name in early opset-11 models (and onnxruntime's alias) */
    if (!strcmp(s, "tf_half_pixel_for_nn")) p->coord = DK_COORD_TF_HALF_PIXEL_FOR_NEAREST, found = 1;
    if (!found)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute "
                              "'coordinate_transformation_mode' '%s' is not supported (supported: "
                              "half_pixel, pytorch_half_pixel, align_corners, asymmetric, "
                              "tf_half_pixel_for_nearest)", s);
    DK_TRY(dk__attr_string(g, n, "nearest_mode", "round_prefer_floor", &s));
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    found = 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, rounds[i])) p->nearest = (dk_resample_round)i, found = 1;
    if (!found)
        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'nearest_mode' '%s' is not one of "
                              "round_prefer_floor, round_prefer_ceil, floor, ceil", s);
    int64_t v;
    DK_TRY(dk__attr_int(g, n, "exclude_outside", 0, &v));
    if (v != 0 && p->mode == DK_RESIZE_NEAREST)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'exclude_outside'=%lld is not "
                              "supported with mode nearest (supported: 0)", (long long)v);
    DK_TRY(dk__attr_string(g, n, "keep_aspect_ratio_policy", "stretch", &s));
    if (strcmp(s, "stretch"))
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'keep_aspect_ratio_policy' "
                              "'%s' is not supported (supported: stretch)", s);
    return DK_OK;
}

/* Scales (float) or sizes (int64) of the axes listed in axes (all when
 * naxes == -1), from the constant input i, into scale/out of every axis. */
static dk_status read_targets(dk_graph *g, dk_node *n, const dk_tensor *x, int scales_in,
                              int sizes_in, const int *axes, int naxes, dk_resize_params *p,
                              int64_t *out)
{
    int r = x->ndim, count = naxes < 0 ? r : naxes;
    const dk_tensor *sc = scales_in >= 0 ? dk__in(g, n, scales_in) : NULL;
    const dk_tensor *sz = sizes_in >= 0 ? dk__in(g, n, sizes_in) : NULL;
    if (sc && dk_tensor_numel(sc) == 0) sc = NULL;
    if (sz && dk_tensor_numel(sz) == 0) sz = NULL;
    if (!sc == !sz)
        return dk__node_error(g, n, DK_ERR_FORMAT, "exactly one of the inputs 'scales' and "
                              "'sizes' must be given (non-empty)");
    for (int a = 0; a < r; a++)
        p->scale[a] = 1.0, out[a] = x->dims[a], p->length[a] = (double)x->dims[a];
    if (sz) {
        int64_t v[DK_MAX_DIMS];
        int got;
        DK_TRY(dk__const_ints(g, n, sizes_in, v, DK_MAX_DIMS, &got));
        if (got != count)
            return dk__node_error(g, n, DK_ERR_SHAPE, "input %d ('sizes') has %d values for %d "
                                  "axes", sizes_in, got, count);
        for (int i = 0; i < count; i++) {
            int a = naxes < 0 ? i : axes[i];
            if (!dk_ck_dim_ok(v[i], 0))
                return dk__node_error(g, n, DK_ERR_SHAPE, "input %d ('sizes') value %lld is out "
                                      "of range (0 to " DK_MAX_LIMIT_STR ")", sizes_in,
                                      (long long)v[i]);
            if (x->dims[a] == 0 && v[i] > 0)
                return dk__node_error(g, n, DK_ERR_SHAPE, "axis %d is empty and cannot be "
                                      "resized to %lld", a, (long long)v[i]);
            out[a] = v[i];
            p->length[a] = (double)v[i];
            p->scale[a] = x->dims[a] ? (double)v[i] / (double)x->dims[a] : 1.0;
        }
        return DK_OK;
    }
    const dk_tensor *c = dk__const_in(g, n, scales_in);
    if (!c)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input %d ('scales') must be a constant "
                              "known at load time", scales_in);
    if (c->dtype != DK_F32)
        return dk__node_error(g, n, DK_ERR_FORMAT, "input %d ('scales') must be float32, got %s",
                              scales_in, dk_dtype_name(c->dtype));
    if (dk_tensor_numel(c) != count)
        return dk__node_error(g, n, DK_ERR_SHAPE, "input %d ('scales') has %lld values for %d "
                              "axes", scales_in, (long long)dk_tensor_numel(c), count);
    for (int i = 0; i < count; i++) {
        int a = naxes < 0 ? i : axes[i];
        double s = ((const float *)c->data)[i], o = floor((double)x->dims[a] * s);
        if (!(s > 0) || !(o <= (double)DK_MAX_DIM))
            return dk__node_error(g, n, DK_ERR_SHAPE, "input %d ('scales') value %g on axis %d "
                                  "(size %lld) is not a positive scale with an output of at most "
                                  DK_MAX_LIMIT_STR, scales_in, s, a, (long long)x->dims[a]);
        p->scale[a] = s;
        p->length[a] = (double)x->dims[a] * s;
        out[a] = (int64_t)o;
    }
    return DK_OK;
}

dk_status dk__infer_resize(dk_graph *g, dk_node *n)
{
    const dk_tensor *x = dk__in(g, n, 0);
    dk_resize_params *p = &n->p.resize;
    memset(p, 0, sizeof *p);
    if (!x) return dk__node_error(g, n, DK_ERR_FORMAT, "input 0 (X) is required");
    if (x->dtype != DK_F32)
        return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "input 0 has element type %s "
                              "(supported: float32)", dk_dtype_name(x->dtype));
    if (x->ndim < 1) return dk__node_error(g, n, DK_ERR_SHAPE, "input 0 (X) is a scalar");
    DK_TRY(read_mode(g, n, p));
    int legacy = n->op == DK_OP_UPSAMPLE || n->opset < 11;
    int64_t out[DK_MAX_DIMS];
    int axes[DK_MAX_DIMS], naxes = -1;
    if (legacy) {
        p->coord = DK_COORD_ASYMMETRIC;
        p->nearest = DK_ROUND_LEGACY;
        if (n->op == DK_OP_UPSAMPLE && n->opset < 9) {
            /* Upsample-7: the scales attribute */
            int cnt;
            const float *f;
            DK_TRY(dk__attr_floats(g, n, "scales", &cnt, &f));
            if (cnt != x->ndim)
                return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'scales' has %d values "
                                      "for rank %d", cnt, x->ndim);
            for (int a = 0; a < x->ndim; a++) {
                double o = floor((double)x->dims[a] * f[a]);
                if (!(f[a] > 0) || !(o <= (double)DK_MAX_DIM))
                    return dk__node_error(g, n, DK_ERR_SHAPE, "attribute 'scales' value %g on "
                                          "axis %d is out of range", (double)f[a], a);
                p->scale[a] = f[a];
                p->length[a] = (double)x->dims[a] * f[a];
                out[a] = (int64_t)o;
            }
        } else {
            DK_TRY(read_targets(g, n, x, 1, -1, NULL, -1, p, out));
        }
        for (int a = 0; a < x->ndim; a++)
            if (p->mode == DK_RESIZE_NEAREST && p->scale[a] < 1)
                return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "scale %g on axis %d: nearest "
                                      "downsampling is not defined for %s-%d (supported: scales "
                                      ">= 1)", p->scale[a], a, dk_op_name(n->op), (int)n->opset);
    } else {
        DK_TRY(read_resize11(g, n, p));
        if (dk_node_attr(n, "axes")) {
            int cnt;
            const int64_t *v;
            DK_TRY(dk__attr_ints(g, n, "axes", &cnt, &v));
            if (cnt < 1 || cnt > x->ndim)
                return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'axes' has %d values for "
                                      "rank %d", cnt, x->ndim);
            for (int i = 0; i < cnt; i++) {
                DK_TRY(dk__norm_axis(g, n, v[i], x->ndim, &axes[i]));
                for (int j = 0; j < i; j++)
                    if (axes[j] == axes[i])
                        return dk__node_error(g, n, DK_ERR_FORMAT, "attribute 'axes' repeats "
                                              "axis %d", axes[i]);
            }
            naxes = cnt;
        }
        DK_TRY(read_targets(g, n, x, 2, 3, axes, naxes, p, out));
        int64_t anti;
        DK_TRY(dk__attr_int(g, n, "antialias", 0, &anti));
        for (int a = 0; a < x->ndim && anti; a++)
            if (p->mode == DK_RESIZE_LINEAR && p->scale[a] < 1)
                return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute 'antialias'=%lld is "
                                      "not supported when downsampling (axis %d, scale %g)",
                                      (long long)anti, a, p->scale[a]);
        const dk_tensor *roi = dk__in(g, n, 1);
        (void)roi; /* read by tf_crop_and_resize only, which is refused */
    }
    dk__set_out(g, n, 0, DK_F32, x->ndim, out);
    int resized = 0;
    for (int a = 0; a < x->ndim; a++) resized += out[a] != x->dims[a] || p->scale[a] != 1.0;
    n->flops = p->mode == DK_RESIZE_LINEAR
                   ? 2.0 * ldexp(1.0, resized) * (double)dk_shape_numel(x->ndim, out)
                   : 0.0;
    return DK_OK;
}
