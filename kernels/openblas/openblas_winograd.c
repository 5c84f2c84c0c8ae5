/* OpenBLAS Conv by Winograd F(2x2, 3x3) (Lavin and Gray 2016), float32:
 * 2-D, 3x3 kernel, stride 1, no dilation, one group (the 3x3 layers that
 * oneDNN runs as Winograd too).
 *
 * The output is cut into 2x2 tiles (T of them, the last row and column of
 * tiles cut off at the border); tile t reads the 4x4 input patch d at
 * (2 th - pad_top, 2 tw - pad_left), 0 outside the input. With
 *     V = B^T d B     (input transform, per channel and tile)
 *     U = G g G^T     (weight transform, per output and input channel)
 *     Y = A^T m A     (output transform, per output channel and tile)
 * the 16 transformed positions xi are 16 independent products
 *     m_xi [M x T] = U_xi [M x C] * V_xi [C x T]
 * one cblas_sgemm each: 16 x M x C x T multiply-adds for the 36 x M x C x T of
 * the direct convolution's (9 per output, 4 outputs a tile).
 *
 * Numerics: every transform is a fixed sequence of float additions (and
 * halvings, exact), so a run is deterministic and repeatable; the error is
 * that of the GEMM plus the transforms' few roundings, amplified by their
 * coefficients (at most 2 in V's and A's rows). The tolerance table's Conv row
 * bounds direct sums (check/tolerance.c); deltakern diff judges this variant
 * against it like any other.
 *
 * Weights: U of a constant weight tensor is computed once at plan time (a
 * session refuses new data for a constant); weights fed as a graph input are
 * transformed at every run. Threads: the transforms are spread over channels,
 * the 16 GEMMs over the threads (each single-threaded inside the parallel
 * region). The bias and the fused post-ops (sum, Relu/Clip) are applied in
 * the output transform, in the unfused nodes' order. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernels/openblas/openblas_internal.h"
#include "kernels/ref/ref_omp.h"

/* 2x2 output tiles per image. */
static int64_t tiles_of(const ob_conv_geom *c)
{
    return ((c->out[1] + 1) / 2) * ((c->out[2] + 1) / 2);
}

int dk__ob_winograd_chosen(const ob_ctx *ctx, const dk_graph *g, const dk_node *n,
                           const ob_conv_geom *c)
{
    const dk_tensor *w = &g->values[n->inputs[1]].t;
    const dk_window *win = &n->p.conv.win;
    if (win->nspatial != 2 || n->p.conv.group != 1 || w->ndim != 4) return 0;
    for (int i = 0; i < 2; i++)
        if (w->dims[2 + i] != 3 || win->stride[i] != 1 || win->dilation[i] != 1) return 0;
    if (ctx->conv == OB_CONV_WINOGRAD) return 1;
    return ctx->conv == OB_CONV_AUTO && (g->hints & DK_HINT_FASTEST_ALGO) &&
           c->in_c >= OB_WINOGRAD_MIN_CHANNELS && c->out_c >= OB_WINOGRAD_MIN_CHANNELS &&
           tiles_of(c) >= OB_WINOGRAD_MIN_TILES;
}

/* U [16][M][C] from the weights [M][C][3][3]. */
static void transform_weights(const ob_conv_geom *c, const float *w, float *u)
{
    const int64_t mc = c->out_c * c->in_c;
    DK_OMP(parallel for schedule(static) if (mc > 4096))
    for (int64_t i = 0; i < mc; i++) {
        const float *g = w + i * 9;
        float t[4][3]; /* G g */
        for (int j = 0; j < 3; j++) {
            float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
            t[0][j] = g0;
            t[1][j] = 0.5f * (g0 + g1 + g2);
            t[2][j] = 0.5f * (g0 - g1 + g2);
            t[3][j] = g2;
        }
        for (int r = 0; r < 4; r++) { /* (G g) G^T */
            float a = t[r][0], b = t[r][1], d = t[r][2];
            u[(r * 4 + 0) * mc + i] = a;
            u[(r * 4 + 1) * mc + i] = 0.5f * (a + b + d);
            u[(r * 4 + 2) * mc + i] = 0.5f * (a - b + d);
            u[(r * 4 + 3) * mc + i] = d;
        }
    }
}

/* V [16][C][T] from the input of image b, one row of tiles at a time: the
 * tile row's 4 input rows are copied zero-padded (width 2 tiles_w + 2), B^T
 * runs down the columns of all tiles at once and B along each row with
 * stride 2, so every loop runs over the tiles of the row (vectorised). */
DK_VECTOR_CLONES
static void transform_input_row(const ob_conv_geom *c, const float *xc, int64_t th, float *buf,
                                float *dst, int64_t ct)
{
    const int64_t tiles_w = (c->out[2] + 1) / 2, width = 2 * tiles_w + 2;
    float *d[4], *s[4];
    for (int r = 0; r < 4; r++) {
        d[r] = buf + r * width;
        s[r] = buf + (4 + r) * width;
        const int64_t ih = th * 2 - c->pad_begin[1] + r;
        memset(d[r], 0, (size_t)width * sizeof *buf);
        if (ih < 0 || ih >= c->in[1]) continue;
        int64_t lo = c->pad_begin[2], n = c->in[2];
        if (lo + n > width) n = width - lo; /* columns past the last tile are never read */
        if (n > 0) memcpy(d[r] + lo, xc + ih * c->in[2], (size_t)n * sizeof *buf);
    }
    for (int64_t j = 0; j < width; j++) { /* B^T d */
        s[0][j] = d[0][j] - d[2][j];
        s[1][j] = d[1][j] + d[2][j];
        s[2][j] = d[2][j] - d[1][j];
        s[3][j] = d[1][j] - d[3][j];
    }
    for (int r = 0; r < 4; r++) { /* (B^T d) B */
        const float *sr = s[r];
        float *v0 = dst + (r * 4 + 0) * ct, *v1 = dst + (r * 4 + 1) * ct;
        float *v2 = dst + (r * 4 + 2) * ct, *v3 = dst + (r * 4 + 3) * ct;
        for (int64_t t = 0; t < tiles_w; t++) {
            v0[t] = sr[2 * t] - sr[2 * t + 2];
            v1[t] = sr[2 * t + 1] + sr[2 * t + 2];
            v2[t] = sr[2 * t + 2] - sr[2 * t + 1];
            v3[t] = sr[2 * t + 1] - sr[2 * t + 3];
        }
    }
}

static void transform_input(const ob_conv_geom *c, const float *x, float *v, float *bufs,
                            int threads)
{
    const int64_t tiles_w = (c->out[2] + 1) / 2, tiles_h = (c->out[1] + 1) / 2;
    const int64_t tiles = c->wino_tiles, ct = c->in_c * tiles, width = 2 * tiles_w + 2;
    (void)threads; /* unused without OpenMP */
    DK_OMP(parallel for num_threads(threads) schedule(static))
    for (int64_t ch = 0; ch < c->in_c; ch++)
        for (int64_t th = 0; th < tiles_h; th++)
            transform_input_row(c, x + ch * c->in_plane, th,
                                bufs + (size_t)dk__ob_thread_num() * 8 * (size_t)width,
                                v + ch * tiles + th * tiles_w, ct);
}

/* Output rows 2 th and 2 th + 1 of channel oc: A^T m down the columns of the
 * row's tiles, A along each row into buf (stride 2), its valid columns to y,
 * then bias and post-ops (dk__ob_bias_post_row). */
DK_VECTOR_CLONES
static void transform_output_row(const ob_conv_geom *c, const dk_node *n, const float *m,
                                 int64_t mt, int has_bias, float bias, const float *sum,
                                 float *y, int64_t th, float *buf)
{
    const int64_t tiles_w = (c->out[2] + 1) / 2, ow_n = c->out[2];
    float *s[2][4], *out = buf + 8 * tiles_w;
    for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++) s[r][q] = buf + (r * 4 + q) * tiles_w;
    for (int q = 0; q < 4; q++) {
        const float *m0 = m + (0 * 4 + q) * mt, *m1 = m + (1 * 4 + q) * mt;
        const float *m2 = m + (2 * 4 + q) * mt, *m3 = m + (3 * 4 + q) * mt;
        for (int64_t t = 0; t < tiles_w; t++) {
            s[0][q][t] = m0[t] + m1[t] + m2[t];
            s[1][q][t] = m1[t] - m2[t] - m3[t];
        }
    }
    const int post = has_bias || n->post.has_sum || n->post.act != DK_OP_NONE;
    for (int r = 0; r < 2 && th * 2 + r < c->out[1]; r++) {
        for (int64_t t = 0; t < tiles_w; t++) {
            out[2 * t] = s[r][0][t] + s[r][1][t] + s[r][2][t];
            out[2 * t + 1] = s[r][1][t] - s[r][2][t] - s[r][3][t];
        }
        float *row = y + (th * 2 + r) * ow_n;
        memcpy(row, out, (size_t)ow_n * sizeof *row);
        if (post)
            dk__ob_bias_post_row(row, sum ? sum + (th * 2 + r) * ow_n : NULL, has_bias, bias,
                                 &n->post, ow_n);
    }
}

static void transform_output(const ob_conv_geom *c, const dk_node *n, const float *m,
                             const float *bias, const float *sum, float *y, float *bufs,
                             int threads)
{
    const int64_t tiles_w = (c->out[2] + 1) / 2, tiles_h = (c->out[1] + 1) / 2;
    const int64_t tiles = c->wino_tiles, mt = c->out_c * tiles;
    (void)threads; /* unused without OpenMP */
    DK_OMP(parallel for num_threads(threads) schedule(static))
    for (int64_t oc = 0; oc < c->out_c; oc++)
        for (int64_t th = 0; th < tiles_h; th++)
            transform_output_row(c, n, m + oc * tiles + th * tiles_w, mt, bias != NULL,
                                 bias ? bias[oc] : 0.0f,
                                 sum ? sum + oc * c->out_plane : NULL, y + oc * c->out_plane, th,
                                 bufs + (size_t)dk__ob_thread_num() * 10 * (size_t)(tiles_w + 1));
}

dk_status dk__ob_plan_winograd(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    ob_conv_geom *c = &p->conv;
    c->lowering = OB_LOWER_WINOGRAD;
    c->wino_tiles = tiles_of(c);
    if (c->out_c > INT_MAX || c->in_c > INT_MAX || c->wino_tiles > INT_MAX)
        return dk__ob_error(n, DK_ERR_UNSUPPORTED, "Winograd GEMM of %lld x %lld x %lld exceeds "
                            "OpenBLAS's int dimensions", (long long)c->out_c,
                            (long long)c->wino_tiles, (long long)c->in_c);
    const size_t u_floats = (size_t)(16 * c->out_c * c->in_c);
    const dk_value *wv = &g->values[n->inputs[1]];
    p->wino_u = malloc(u_floats * sizeof *p->wino_u);
    if (!p->wino_u) return dk__ob_error(n, DK_ERR_NOMEM, "out of memory for the Winograd weights");
    p->wino_u_fixed = wv->kind == DK_VALUE_CONSTANT && wv->t.data;
    if (p->wino_u_fixed) transform_weights(c, wv->t.data, p->wino_u);
    /* V [16][C][T], m [16][M][T], then per thread the row buffers of the
     * transforms: 8 rows of 2 tiles_w + 2 (input), 10 of tiles_w + 1 (output) */
    const int64_t tiles_w = (c->out[2] + 1) / 2;
    p->row_floats = (size_t)(8 * (2 * tiles_w + 2) > 10 * (tiles_w + 1) ? 8 * (2 * tiles_w + 2)
                                                                        : 10 * (tiles_w + 1));
    p->scratch_floats = (size_t)(16 * c->wino_tiles * (c->in_c + c->out_c)) +
                        p->row_floats * (size_t)p->threads;
    return dk__ob_reserve_scratch(ctx, n, p->scratch_floats);
}

dk_status dk__ob_exec_winograd(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                               const dk_tensor *const *in, dk_tensor *const *out)
{
    const ob_conv_geom *c = &p->conv;
    if (dk_tensor_numel(in[0]) != c->batch * c->in_c * c->in_plane ||
        dk_tensor_numel(in[1]) != c->out_c * c->k_len ||
        dk_tensor_numel(out[0]) != c->batch * c->out_c * c->out_plane ||
        (n->p.conv.has_bias && dk_tensor_numel(in[2]) != c->out_c) ||
        (n->post.has_sum && dk_tensor_numel(in[3]) != dk_tensor_numel(out[0])))
        return dk__ob_error(n, DK_ERR_SHAPE, "tensors do not have the planned shapes");
    if (ctx->scratch_floats < p->scratch_floats)
        return dk__ob_error(n, DK_ERR_INTERNAL, "Winograd scratch smaller than planned");
    const float *x = in[0]->data, *bias = n->p.conv.has_bias ? in[2]->data : NULL;
    const float *sum = n->post.has_sum ? in[3]->data : NULL;
    float *y = out[0]->data, *u = p->wino_u;
    if (!p->wino_u_fixed) transform_weights(c, in[1]->data, u);
    const int64_t tiles = c->wino_tiles;
    float *v = ctx->scratch, *m = v + 16 * c->in_c * tiles, *bufs = m + 16 * c->out_c * tiles;
    /* never more threads than row buffers were planned for */
    const int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
    const int mi = (int)c->out_c, ti = (int)tiles, ci = (int)c->in_c;
    for (int64_t b = 0; b < c->batch; b++) {
        transform_input(c, x + b * c->in_c * c->in_plane, v, bufs, threads);
        DK_OMP(parallel for schedule(static))
        for (int xi = 0; xi < 16; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, mi, ti, ci, 1.0f,
                        u + (int64_t)xi * c->out_c * c->in_c, ci, v + (int64_t)xi * c->in_c * tiles,
                        ti, 0.0f, m + (int64_t)xi * c->out_c * tiles, ti);
        transform_output(c, n, m, bias, sum ? sum + b * c->out_c * c->out_plane : NULL,
                         y + b * c->out_c * c->out_plane, bufs, threads);
    }
    return DK_OK;
}
