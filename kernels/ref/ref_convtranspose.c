/* Reference ConvTranspose: float32 in and out, accumulated in double.
 *
 * One task computes one output channel m of one image: a double plane of the
 * output's size starts at the bias, and every input channel c of m's group
 * scatters x[c][d] * W[c][m - group_first][t] to output position
 * d * stride + t * dilation - pad_begin of each tap t that lands inside. The
 * plane is then rounded to float once. 1-D and 2-D are 3-D with leading
 * axes of size 1.
 *
 * The sizes are checked (runtime/checked.h) before any buffer is sized by
 * them: a window too large for the accumulators is refused here, before any
 * allocation, as the reference Conv refuses its padded input. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/checked.h"
#include "runtime/error.h"

typedef struct ct_geom {
    int64_t batch, in_c, out_c, group, cpg, mpg; /* cpg, mpg: in/out channels per group */
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
    int64_t in_plane, out_plane, taps;
} ct_geom;

static dk_status ct_error(const dk_node *n, dk_status s, const char *what)
{
    return dk__error(s, "node '%s' (ConvTranspose): %s", n->name, what);
}

static dk_status geometry(const dk_node *n, const dk_tensor *x, const dk_tensor *w,
                          const dk_tensor *y, ct_geom *g)
{
    const dk_window *win = &n->p.convt.win;
    int k = win->nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || w->ndim != k + 2 || y->ndim != k + 2)
        return ct_error(n, DK_ERR_INTERNAL, "tensor ranks do not match the window");
    memset(g, 0, sizeof *g);
    g->batch = x->dims[0];
    g->in_c = x->dims[1];
    g->out_c = y->dims[1];
    g->group = n->p.convt.group;
    if (g->group < 1 || g->in_c % g->group || g->out_c % g->group || w->dims[0] != g->in_c ||
        w->dims[1] != g->out_c / g->group || y->dims[0] != g->batch)
        return ct_error(n, DK_ERR_INTERNAL, "weights do not match input and group");
    g->cpg = g->in_c / g->group;
    g->mpg = g->out_c / g->group;
    g->in_plane = g->out_plane = g->taps = 1;
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k);
        g->in[a] = i < 0 ? 1 : x->dims[2 + i];
        g->out[a] = i < 0 ? 1 : y->dims[2 + i];
        g->kernel[a] = i < 0 ? 1 : w->dims[2 + i];
        g->stride[a] = i < 0 ? 1 : win->stride[i];
        g->dilation[a] = i < 0 ? 1 : win->dilation[i];
        g->pad_begin[a] = i < 0 ? 0 : win->pad_begin[i];
        if (g->stride[a] < 1 || g->dilation[a] < 1 || g->kernel[a] < 1 ||
            g->pad_begin[a] < -DK_MAX_DIM || g->pad_begin[a] > DK_MAX_DIM)
            return ct_error(n, DK_ERR_INTERNAL, "invalid window");
        /* positions d * stride + t * dilation must fit int64 for every d, t */
        int64_t last, span;
        if (!dk_ck_mul(g->in[a], g->stride[a], &last) ||
            !dk_ck_window_span(g->kernel[a], g->dilation[a], &span) || !dk_ck_add(last, span, &last) ||
            !dk_ck_mul(g->in_plane, g->in[a], &g->in_plane) ||
            !dk_ck_mul(g->out_plane, g->out[a], &g->out_plane) ||
            !dk_ck_mul(g->taps, g->kernel[a], &g->taps))
            return ct_error(n, DK_ERR_UNSUPPORTED, "the window is too large to plan");
    }
    int64_t acc_bytes;
    if (!dk_ck_mul(g->out_plane, (int64_t)sizeof(double), &acc_bytes) ||
        (uint64_t)acc_bytes > SIZE_MAX)
        return ct_error(n, DK_ERR_UNSUPPORTED, "the output plane is too large to plan");
    return DK_OK;
}

/* Range of input positions d in [0, in) with 0 <= d * s + off < out. */
static void valid_range(int64_t in, int64_t out, int64_t s, int64_t off, int64_t *lo, int64_t *hi)
{
    int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;      /* first d with d*s + off >= 0 */
    int64_t b = out - off <= 0 ? 0 : (out - off - 1) / s + 1; /* first d with d*s + off >= out */
    *lo = a;
    *hi = b < in ? b : in;
}

/* Adds channel plane x (input) through all taps of w (the channel's kernel
 * for this output channel) to acc. */
static void scatter_channel(const ct_geom *g, const float *x, const float *w, double *acc)
{
    int64_t t[3], tap = 0;
    for (t[0] = 0; t[0] < g->kernel[0]; t[0]++)
        for (t[1] = 0; t[1] < g->kernel[1]; t[1]++)
            for (t[2] = 0; t[2] < g->kernel[2]; t[2]++, tap++) {
                double wv = w[tap];
                int64_t off[3], lo[3], hi[3];
                for (int a = 0; a < 3; a++) {
                    off[a] = t[a] * g->dilation[a] - g->pad_begin[a];
                    valid_range(g->in[a], g->out[a], g->stride[a], off[a], &lo[a], &hi[a]);
                }
                for (int64_t d0 = lo[0]; d0 < hi[0]; d0++)
                    for (int64_t d1 = lo[1]; d1 < hi[1]; d1++) {
                        const float *xr = x + (d0 * g->in[1] + d1) * g->in[2];
                        double *ar = acc + ((d0 * g->stride[0] + off[0]) * g->out[1] +
                                            d1 * g->stride[1] + off[1]) * g->out[2] + off[2];
                        int64_t s2 = g->stride[2];
                        for (int64_t d2 = lo[2]; d2 < hi[2]; d2++) ar[d2 * s2] += wv * xr[d2];
                    }
            }
}

dk_status dk_ref_convtranspose(const dk_node *n, const dk_tensor *const *in,
                               dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *w = in[1], *b = n->p.convt.has_bias ? in[2] : NULL;
    dk_tensor *y = out[0];
    ct_geom g;
    if (x->dtype != DK_F32 || w->dtype != DK_F32 || y->dtype != DK_F32 ||
        (b && (b->dtype != DK_F32 || dk_tensor_numel(b) != y->dims[1])))
        return ct_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    DK_TRY(geometry(n, x, w, y, &g));
    int64_t tasks = g.batch * g.out_c;
    int failed = 0;
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    float *yd = y->data;
    DK_OMP(parallel)
    {
        double *acc = tasks ? malloc((size_t)g.out_plane * sizeof *acc + 1) : NULL;
        if (tasks && !acc) {
            DK_OMP(atomic write)
            failed = 1;
        }
        DK_OMP(for schedule(dynamic, 1))
        for (int64_t task = 0; task < tasks; task++) {
            if (!acc) continue;
            int64_t bi = task / g.out_c, m = task % g.out_c, grp = m / g.mpg, mi = m % g.mpg;
            double init = bd ? bd[m] : 0.0;
            for (int64_t i = 0; i < g.out_plane; i++) acc[i] = init;
            for (int64_t ci = 0; ci < g.cpg; ci++) {
                int64_t c = grp * g.cpg + ci;
                scatter_channel(&g, xd + (bi * g.in_c + c) * g.in_plane,
                                wd + (c * g.mpg + mi) * g.taps, acc);
            }
            float *yp = yd + task * g.out_plane;
            for (int64_t i = 0; i < g.out_plane; i++) yp[i] = (float)acc[i];
        }
        free(acc);
    }
    if (failed) return ct_error(n, DK_ERR_NOMEM, "cannot allocate the accumulators");
    return DK_OK;
}
