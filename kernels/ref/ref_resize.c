/* Reference Resize and Upsample, float32, coordinates and weights in double.
 *
 * Per axis, output index y maps to the original coordinate x (ONNX's
 * coordinate_transformation_mode, see dk_resize_source); nearest takes the
 * element at x rounded by nearest_mode, linear the two neighbours floor(x)
 * and floor(x) + 1 weighted 1 - r and r (r = x - floor(x)). Indices are
 * clamped to the axis (the edge element repeats), as in the ONNX reference
 * implementation. Linear over several axes is the product of the per-axis
 * weights, summed over the 2^d corners in double and rounded once. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/error.h"

double dk_resize_source(const dk_resize_params *p, int axis, int64_t y, int64_t in)
{
    double s = p->scale[axis], len = p->length[axis], yd = (double)y;
    switch (p->coord) {
    case DK_COORD_HALF_PIXEL: return (yd + 0.5) / s - 0.5;
    case DK_COORD_PYTORCH_HALF_PIXEL: return len > 1 ? (yd + 0.5) / s - 0.5 : 0.0;
    case DK_COORD_ALIGN_CORNERS: return len == 1 ? 0.0 : yd * (double)(in - 1) / (len - 1);
    case DK_COORD_ASYMMETRIC: return yd / s;
    case DK_COORD_TF_HALF_PIXEL_FOR_NEAREST: return (yd + 0.5) / s;
    }
    return yd;
}

static int64_t clamp_index(double v, int64_t in)
{
    if (!(v > 0)) return 0; /* also NaN */
    return v >= (double)(in - 1) ? in - 1 : (int64_t)v;
}

int64_t dk_resize_nearest(const dk_resize_params *p, int axis, int64_t y, int64_t in)
{
    double x = dk_resize_source(p, axis, y, in), f = floor(x), r = x - f, pick = f;
    if (r > 0) {
        switch (p->nearest) {
        case DK_ROUND_PREFER_FLOOR: pick = r <= 0.5 ? f : f + 1; break;
        case DK_ROUND_PREFER_CEIL: pick = r < 0.5 ? f : f + 1; break;
        case DK_ROUND_FLOOR: case DK_ROUND_LEGACY: pick = f; break;
        case DK_ROUND_CEIL: pick = f + 1; break;
        }
    }
    return clamp_index(pick, in);
}

/* Per-axis tables: for output index y, the neighbours i0, i1 (element
 * offsets along the axis, times its stride) and the weight w1 of i1. */
typedef struct axis_table {
    int64_t *i0, *i1;
    double *w1;
} axis_table;

static dk_status resize_error(const dk_node *n, dk_status s, const char *what)
{
    return dk__error(s, "node '%s' (%s): %s", n->name, dk_op_name(n->op), what);
}

dk_status dk_ref_resize(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0];
    dk_tensor *y = out[0];
    const dk_resize_params *p = &n->p.resize;
    const int r = x->ndim, linear = p->mode == DK_RESIZE_LINEAR;
    if (x->dtype != DK_F32 || y->dtype != DK_F32 || y->ndim != r || r < 1)
        return resize_error(n, DK_ERR_INTERNAL, "tensors do not match the inferred shapes");
    int64_t total = dk_tensor_numel(y);
    if (total == 0) return DK_OK;
    int64_t stride[DK_MAX_DIMS], sum = 0;
    stride[r - 1] = 1;
    for (int a = r - 2; a >= 0; a--) stride[a] = stride[a + 1] * x->dims[a + 1];
    for (int a = 0; a < r; a++) {
        if (x->dims[a] < 1) return resize_error(n, DK_ERR_INTERNAL, "empty input axis");
        sum += y->dims[a];
    }
    /* one allocation for all tables: sum of the output dims entries each */
    int64_t *idx = malloc((size_t)sum * 2 * sizeof *idx + 1);
    double *wts = malloc((size_t)sum * sizeof *wts + 1);
    if (!idx || !wts) {
        free(idx);
        free(wts);
        return resize_error(n, DK_ERR_NOMEM, "cannot allocate the index tables");
    }
    axis_table t[DK_MAX_DIMS];
    int64_t at = 0;
    for (int a = 0; a < r; a++) {
        int64_t len = x->dims[a];
        t[a].i0 = idx + 2 * at;
        t[a].i1 = t[a].i0 + y->dims[a];
        t[a].w1 = wts + at;
        at += y->dims[a];
        for (int64_t o = 0; o < y->dims[a]; o++) {
            if (!linear) {
                t[a].i0[o] = t[a].i1[o] = dk_resize_nearest(p, a, o, len) * stride[a];
                t[a].w1[o] = 0;
                continue;
            }
            double c = dk_resize_source(p, a, o, len), f = floor(c);
            t[a].i0[o] = clamp_index(f, len) * stride[a];
            t[a].i1[o] = clamp_index(f + 1, len) * stride[a];
            t[a].w1[o] = c - f;
            if (t[a].i0[o] == t[a].i1[o]) t[a].w1[o] = 0; /* both clamp to one element */
        }
    }
    const float *xd = x->data;
    float *yd = y->data;
    const int64_t inner = y->dims[r - 1], rows = total / inner;
    DK_OMP(parallel for schedule(static))
    for (int64_t row = 0; row < rows; row++) {
        /* the output index of the row's first element, axis by axis */
        int64_t o[DK_MAX_DIMS], rem = row;
        for (int a = r - 2; a >= 0; a--) {
            o[a] = rem % y->dims[a];
            rem /= y->dims[a];
        }
        float *yr = yd + row * inner;
        for (int64_t j = 0; j < inner; j++) {
            o[r - 1] = j;
            double acc = 0;
            for (unsigned mask = 0; mask < (1u << r); mask++) {
                double w = 1;
                int64_t off = 0;
                for (int a = 0; a < r && w != 0; a++) {
                    double w1 = t[a].w1[o[a]];
                    if (mask >> a & 1) {
                        w *= w1;
                        off += t[a].i1[o[a]];
                    } else {
                        w *= 1 - w1;
                        off += t[a].i0[o[a]];
                    }
                }
                if (w != 0) acc += w * xd[off];
                if (!linear) break; /* mask 0: the nearest element, weight 1 */
            }
            yr[j] = (float)acc;
        }
    }
    free(idx);
    free(wts);
    return DK_OK;
}
