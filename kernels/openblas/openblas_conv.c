/* OpenBLAS Conv, float32: per image and group, Y_g = W_g * col_g (+ bias).
 *
 * The weights [M][C/group][kD][kH][kW] are already the row-major GEMM operand
 * W_g [opg x cpg*taps] of each group, so they are read as given (they may be
 * a graph input). The right operand is, by lowering:
 *  - GEMM (conv=auto, 1x1 kernel, stride 1, no padding): the group's input
 *    channels [cpg x plane] as they are, no copy;
 *  - IM2COL: col [cpg*taps x out plane], row (c, kd, kh, kw) holding the input
 *    value each output position reads through that tap (0 in the padding),
 *    the row order of the weights;
 *  - DEPTHWISE (conv=auto, one input channel per group, channel multiplier
 *    included): no GEMM; a direct float loop per output plane adds the taps
 *    in the weights' order and the bias last; with unit strides on the input
 *    copied into a zero-padded plane, so that each tap is one contiguous loop
 *    over the plane (the reference convolution's trick; 1.5-2x faster on
 *    14x14 and 7x7 planes), strided row by row (the padded copy, split into
 *    stride phases, measured slower there). A per-channel
 *    GEMM has K = taps (9) and M = the multiplier (1): all call overhead and
 *    copying (MobileNetV2: 14.8 ms with it, 8.5 ms with the loop). With
 *    conv=im2col depthwise goes through im2col + one sgemm per channel.
 * The bias is written into Y first and sgemm adds to it (beta = 1): faster
 * than a pass adding it afterwards (measured), and Y is written exactly once
 * more than without bias either way. With fused post-ops (a residual sum,
 * Relu/Clip) there is a pass afterwards anyway, so the bias joins it and the
 * fill is saved (ResNet-50: 8% of the run was these two passes).
 *
 * Threads: one group (group = 1) runs one multi-threaded sgemm per image
 * after an im2col spread over the threads. Several groups are independent
 * (image, group) tasks spread over the threads, each with its own col buffer
 * in the context's scratch and a single-threaded sgemm (OpenBLAS's OpenMP
 * build runs single-threaded inside a parallel region). 1-D and 2-D
 * convolutions are 3-D ones with leading spatial axes of size 1. */
#include <limits.h>
#include <string.h>

#include <cblas.h>

#include "kernels/openblas/openblas_internal.h"
#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"

static dk_status geometry(const dk_node *n, const dk_tensor *x, const dk_tensor *w,
                          const dk_tensor *y, ob_conv_geom *c)
{
    const dk_window *win = &n->p.conv.win;
    int k = win->nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || w->ndim != k + 2 || y->ndim != k + 2)
        return dk__ob_error(n, DK_ERR_INTERNAL, "tensor ranks do not match the window");
    memset(c, 0, sizeof *c);
    c->batch = x->dims[0];
    c->in_c = x->dims[1];
    c->out_c = y->dims[1];
    c->group = n->p.conv.group;
    if (c->group < 1 || c->in_c % c->group || c->out_c % c->group ||
        w->dims[0] != c->out_c || w->dims[1] != c->in_c / c->group || y->dims[0] != c->batch)
        return dk__ob_error(n, DK_ERR_INTERNAL, "weights do not match input and group");
    c->cpg = c->in_c / c->group;
    c->opg = c->out_c / c->group;
    c->taps = 1;
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k); /* window axis, < 0 for the leading axes of size 1 */
        c->in[a] = i < 0 ? 1 : x->dims[2 + i];
        c->out[a] = i < 0 ? 1 : y->dims[2 + i];
        c->kernel[a] = i < 0 ? 1 : w->dims[2 + i];
        c->stride[a] = i < 0 ? 1 : win->stride[i];
        c->dilation[a] = i < 0 ? 1 : win->dilation[i];
        c->pad_begin[a] = i < 0 ? 0 : win->pad_begin[i];
        int64_t pad_end = i < 0 ? 0 : win->pad_end[i];
        int64_t last = (c->out[a] - 1) * c->stride[a] + (c->kernel[a] - 1) * c->dilation[a];
        if (c->out[a] < 1 || c->stride[a] < 1 || c->dilation[a] < 1 || c->pad_begin[a] < 0 ||
            pad_end < 0 || last >= c->in[a] + c->pad_begin[a] + pad_end)
            return dk__ob_error(n, DK_ERR_INTERNAL, "output size does not match the window");
        c->taps *= c->kernel[a];
    }
    c->in_plane = c->in[0] * c->in[1] * c->in[2];
    c->out_plane = c->out[0] * c->out[1] * c->out[2];
    c->k_len = c->cpg * c->taps;
    return DK_OK;
}

static int is_pointwise(const ob_conv_geom *c, const dk_window *win)
{
    for (int a = 0; a < 3; a++)
        if (c->kernel[a] != 1 || c->stride[a] != 1 || c->pad_begin[a] != 0) return 0;
    for (int i = 0; i < win->nspatial; i++)
        if (win->pad_end[i] != 0) return 0;
    return 1;
}

dk_status dk__ob_plan_conv(ob_ctx *ctx, const dk_graph *g, const dk_node *n, ob_plan *p)
{
    const dk_tensor *x = &g->values[n->inputs[0]].t, *w = &g->values[n->inputs[1]].t;
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    ob_conv_geom *c = &p->conv;
    DK_TRY(geometry(n, x, w, y, c));
    if (n->p.conv.has_bias && dk_tensor_numel(&g->values[n->inputs[2]].t) != c->out_c)
        return dk__ob_error(n, DK_ERR_INTERNAL, "bias does not have one value per output channel");
    if (dk__ob_winograd_chosen(ctx, g, n, c)) {
        DK_TRY(dk__ob_plan_winograd(ctx, g, n, p));
        p->exec = dk__ob_exec_winograd;
        return DK_OK;
    }
    if (ctx->conv != OB_CONV_IM2COL && is_pointwise(c, &n->p.conv.win))
        c->lowering = OB_LOWER_GEMM;
    else if (ctx->conv != OB_CONV_IM2COL && c->cpg == 1)
        c->lowering = OB_LOWER_DEPTHWISE;
    else
        c->lowering = OB_LOWER_IM2COL;
    /* sgemm's dimensions and leading dimensions are ints */
    if (c->opg > INT_MAX || c->k_len > INT_MAX || c->out_plane > INT_MAX)
        return dk__ob_error(n, DK_ERR_UNSUPPORTED, "GEMM of %lld x %lld x %lld exceeds OpenBLAS's "
                        "int dimensions", (long long)c->opg, (long long)c->out_plane,
                        (long long)c->k_len);
    int64_t tasks = c->batch * c->group;
    c->tasks_parallel = c->group > 1 && p->threads > 1;
    c->rows_parallel = c->group == 1 && p->threads > 1 &&
                       c->opg / p->threads >= OB_SPLIT_MIN_ROWS &&
                       (c->lowering == OB_LOWER_GEMM || c->lowering == OB_LOWER_IM2COL);
    if (c->lowering == OB_LOWER_DEPTHWISE &&
        c->stride[0] == 1 && c->stride[1] == 1 && c->stride[2] == 1) {
        const dk_window *win = &n->p.conv.win;
        for (int a = 0; a < 3; a++) {
            int i = a - (3 - win->nspatial);
            c->padded[a] = c->in[a] + c->pad_begin[a] + (i < 0 ? 0 : win->pad_end[i]);
        }
        c->flat = 1;
        c->pitch_h = c->padded[2];
        c->pitch_d = c->padded[1] * c->padded[2];
        c->padded_plane = c->padded[0] * c->pitch_d;
        c->acc_len = (c->out[0] - 1) * c->pitch_d + (c->out[1] - 1) * c->pitch_h + c->out[2];
        int64_t planes = c->batch * c->out_c;
        int64_t buffers = planes < p->threads ? planes : p->threads;
        p->scratch_floats = (size_t)(c->padded_plane + c->acc_len);
        DK_TRY(dk__ob_reserve_scratch(ctx, n, p->scratch_floats * (size_t)buffers));
        if (buffers < p->threads) p->threads = (int)buffers;
    }
    /* a large plane with few output rows per thread: col in chunks of output
       rows, about OB_COL_CHUNK floats each, one buffer per thread */
    c->cols_parallel = c->lowering == OB_LOWER_IM2COL && c->group == 1 && !c->rows_parallel &&
                       p->threads > 1 && c->k_len * c->out_plane > 4 * OB_COL_CHUNK;
    if (c->cols_parallel) {
        int64_t rows = OB_COL_CHUNK / (c->k_len * c->out[2]);
        c->chunk_rows = rows < 1 ? 1 : rows;
        p->scratch_floats = (size_t)(c->k_len * c->chunk_rows * c->out[2]);
        DK_TRY(dk__ob_reserve_scratch(ctx, n, p->scratch_floats * (size_t)p->threads));
    } else if (c->lowering == OB_LOWER_IM2COL) {
        int64_t buffers = c->tasks_parallel ? (tasks < p->threads ? tasks : p->threads) : 1;
        p->scratch_floats = (size_t)(c->k_len * c->out_plane);
        DK_TRY(dk__ob_reserve_scratch(ctx, n, p->scratch_floats * (size_t)buffers));
        /* with one col buffer the threads share it (rows_parallel) or sgemm's own */
        if (c->tasks_parallel && buffers < p->threads) p->threads = (int)buffers;
    }
    p->exec = dk__ob_exec_conv;
    return DK_OK;
}

/* dst[ow] = src[ow * sw] for ow in [lo, hi), 0 outside: one output row of a
 * col row (vectorised clones: the strided copy of a stride-2 layer was
 * scalar). */
DK_VECTOR_CLONES
static void gather_row(float *restrict dst, const float *restrict src, int64_t lo, int64_t hi,
                       int64_t sw, int64_t ow_n)
{
    for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0;
    if (sw == 1) {
        memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
    } else if (sw == 2) { /* a constant stride: ResNet-50's stem 3-7% faster (3 pairs) */
        DK_OMP(simd)
        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * 2];
    } else {
        DK_OMP(simd)
        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw];
    }
    for (int64_t ow = hi; ow < ow_n; ow++) dst[ow] = 0;
}

/* col row r = (c, kd, kh, kw): for every output position of the output rows
 * [q0, q1) (q = od * out_h + oh) the input value the tap reads, 0 in the
 * padding; col rows (q1 - q0) * out_w long. Rows are spread over threads
 * when parallel. */
static void im2col_range(const ob_conv_geom *c, const float *x, float *col, int64_t q0,
                         int64_t q1, int parallel)
{
    const int64_t rows = c->k_len, kh_kw = c->kernel[1] * c->kernel[2];
    DK_OMP(parallel for if (parallel) schedule(static))
    for (int64_t r = 0; r < rows; r++) {
        int64_t ch = r / c->taps, t = r % c->taps;
        int64_t kd = t / kh_kw, kh = t / c->kernel[2] % c->kernel[1], kw = t % c->kernel[2];
        int64_t off_d = kd * c->dilation[0] - c->pad_begin[0];
        int64_t off_h = kh * c->dilation[1] - c->pad_begin[1];
        int64_t off_w = kw * c->dilation[2] - c->pad_begin[2];
        int64_t lo, hi, sw = c->stride[2], ow_n = c->out[2];
        ob_valid_range(ow_n, c->in[2], sw, off_w, &lo, &hi);
        const float *xc = x + ch * c->in_plane;
        float *dst = col + r * (q1 - q0) * ow_n;
        for (int64_t q = q0; q < q1; q++, dst += ow_n) {
            int64_t id = q / c->out[1] * c->stride[0] + off_d;
            int64_t ih = q % c->out[1] * c->stride[1] + off_h;
            if (id < 0 || id >= c->in[0] || ih < 0 || ih >= c->in[1]) {
                memset(dst, 0, (size_t)ow_n * sizeof *dst);
                continue;
            }
            gather_row(dst, xc + (id * c->in[1] + ih) * c->in[2] + off_w, lo, hi, sw, ow_n);
        }
    }
}

static void im2col(const ob_conv_geom *c, const float *x, float *col, int parallel)
{
    im2col_range(c, x, col, 0, c->out[0] * c->out[1], parallel);
}

/* y[j * ld + i] = bias[j] for the rows [m0, m1) and the first len columns:
 * sgemm with beta = 1 then adds the product to the bias. */
static void fill_bias(float *y, int64_t ld, const float *bias, int64_t m0, int64_t m1,
                      int64_t len)
{
    for (int64_t j = m0; j < m1; j++)
        for (int64_t i = 0; i < len; i++) y[j * ld + i] = bias[j];
}

/* One (image, group) of a GEMM or IM2COL lowering. */
static void conv_gemm_task(const ob_conv_geom *c, const float *x, const float *w,
                           const float *bias, float *y, int64_t b, int64_t grp, float *col,
                           int parallel)
{
    const float *xg = x + (b * c->in_c + grp * c->cpg) * c->in_plane;
    const float *wg = w + grp * c->opg * c->k_len;
    float *yg = y + (b * c->out_c + grp * c->opg) * c->out_plane;
    const float *rhs = xg;
    if (c->lowering == OB_LOWER_IM2COL) {
        im2col(c, xg, col, parallel);
        rhs = col;
    }
    float beta = 0.0f;
    if (bias) {
        /* spread over the threads: a serial fill costs up to 15% of a 1x1 conv */
        const int64_t opg = c->opg, plane = c->out_plane;
        DK_OMP(parallel for if (parallel && opg * plane > 32768) schedule(static))
        for (int64_t j = 0; j < opg; j++) fill_bias(yg, plane, bias + grp * opg, j, j + 1, plane);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->opg, (int)c->out_plane,
                (int)c->k_len, 1.0f, wg, (int)c->k_len, rhs, (int)c->out_plane, beta, yg,
                (int)c->out_plane);
}

/* row[ow] += w[kw] * (input row at ow*stride + kw*dilation - pad), tap by
 * tap, for the output positions whose tap lies inside the input row. */
DK_VECTOR_CLONES
static void depthwise_row(float *restrict row, const float *restrict xrow,
                          const float *restrict w, const ob_conv_geom *c)
{
    const int64_t ow_n = c->out[2], sw = c->stride[2];
    for (int64_t kw = 0; kw < c->kernel[2]; kw++) {
        int64_t off = kw * c->dilation[2] - c->pad_begin[2], lo, hi;
        ob_valid_range(ow_n, c->in[2], sw, off, &lo, &hi);
        const float wv = w[kw], *src = xrow + off;
        DK_OMP(simd)
        for (int64_t ow = lo; ow < hi; ow++) row[ow] += wv * src[ow * sw];
    }
}

/* Strided depthwise, output plane of channel oc of image b: taps added in the
 * weights' order into each output row (those in the padding skipped: they
 * add 0), then the bias. */
static void depthwise_plane_rows(const ob_conv_geom *c, const float *x, const float *w,
                                 const float *bias, float *y, int64_t b, int64_t oc)
{
    const float *xc = x + (b * c->in_c + oc / c->opg) * c->in_plane;
    const float *wc = w + oc * c->taps;
    float *yc = y + (b * c->out_c + oc) * c->out_plane;
    const int64_t ow_n = c->out[2];
    for (int64_t od = 0; od < c->out[0]; od++)
        for (int64_t oh = 0; oh < c->out[1]; oh++) {
            float *row = yc + (od * c->out[1] + oh) * ow_n;
            memset(row, 0, (size_t)ow_n * sizeof *row);
            for (int64_t kd = 0; kd < c->kernel[0]; kd++) {
                int64_t id = od * c->stride[0] + kd * c->dilation[0] - c->pad_begin[0];
                if (id < 0 || id >= c->in[0]) continue;
                for (int64_t kh = 0; kh < c->kernel[1]; kh++) {
                    int64_t ih = oh * c->stride[1] + kh * c->dilation[1] - c->pad_begin[1];
                    if (ih < 0 || ih >= c->in[1]) continue;
                    depthwise_row(row, xc + (id * c->in[1] + ih) * c->in[2],
                                  wc + (kd * c->kernel[1] + kh) * c->kernel[2], c);
                }
            }
            if (bias) {
                const float bv = bias[oc];
                DK_OMP(simd)
                for (int64_t ow = 0; ow < ow_n; ow++) row[ow] += bv;
            }
        }
}

/* acc[i] += w * x[i] over a whole padded plane (the caller checks both
 * ranges under ASan: runtime/sanitize.h). */
DK_VECTOR_CLONES DK_RANGE_CHECKED
static void add_scaled(float *restrict acc, const float *restrict x, float w, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) acc[i] += w * x[i];
}

/* Unit-stride depthwise, output plane of channel oc of image b: the input
 * channel is copied into the zero-padded plane xp, then every tap adds
 * w * xp shifted by the tap's offset to acc (pitch of the padded plane),
 * taps in the weights' order, and the valid positions plus the bias go to y. */
static void depthwise_plane_flat(const ob_conv_geom *c, const float *x, const float *w,
                                 const float *bias, float *y, int64_t b, int64_t oc,
                                 float *xp)
{
    const float *xc = x + (b * c->in_c + oc / c->opg) * c->in_plane;
    const float *wc = w + oc * c->taps;
    float *yc = y + (b * c->out_c + oc) * c->out_plane, *acc = xp + c->padded_plane;
    memset(xp, 0, (size_t)c->padded_plane * sizeof *xp);
    for (int64_t d = 0; d < c->in[0]; d++)
        for (int64_t h = 0; h < c->in[1]; h++)
            memcpy(xp + (d + c->pad_begin[0]) * c->pitch_d + (h + c->pad_begin[1]) * c->pitch_h +
                       c->pad_begin[2],
                   xc + (d * c->in[1] + h) * c->in[2], (size_t)c->in[2] * sizeof *xp);
    memset(acc, 0, (size_t)c->acc_len * sizeof *acc);
    int64_t t = 0;
    for (int64_t kd = 0; kd < c->kernel[0]; kd++)
        for (int64_t kh = 0; kh < c->kernel[1]; kh++)
            for (int64_t kw = 0; kw < c->kernel[2]; kw++, t++) {
                const float *xt = xp + kd * c->dilation[0] * c->pitch_d +
                                  kh * c->dilation[1] * c->pitch_h + kw * c->dilation[2];
                DK_CHECK_RANGE(acc, c->acc_len);
                DK_CHECK_RANGE(xt, c->acc_len);
                add_scaled(acc, xt, wc[t], c->acc_len);
            }
    const float bv = bias ? bias[oc] : 0.0f;
    for (int64_t od = 0; od < c->out[0]; od++)
        for (int64_t oh = 0; oh < c->out[1]; oh++) {
            const float *src = acc + od * c->pitch_d + oh * c->pitch_h;
            float *row = yc + (od * c->out[1] + oh) * c->out[2];
            if (bias) {
                DK_OMP(simd)
                for (int64_t ow = 0; ow < c->out[2]; ow++) row[ow] = src[ow] + bv;
            } else {
                memcpy(row, src, (size_t)c->out[2] * sizeof *row);
            }
        }
}

DK_VECTOR_CLONES
static void bias_post_row(float *restrict y, const float *sum, int has_bias, float bias, int act,
                          float lo, float hi, int64_t len)
{
    if (sum) {
        DK_OMP(simd)
        for (int64_t i = 0; i < len; i++) {
            float v = has_bias ? y[i] + bias : y[i];
            v = v + sum[i];
            if (act) {
                v = v < lo ? lo : v;
                v = v > hi ? hi : v;
            }
            y[i] = v;
        }
        return;
    }
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) {
        float v = has_bias ? y[i] + bias : y[i];
        if (act) {
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
        }
        y[i] = v;
    }
}

/* The clones above are an ifunc, which the link-level floor check
 * (tests/tools/check_rooms.sh) does not see as a definition: the exported
 * name is this plain function. */
void dk__ob_bias_post_row(float *restrict y, const float *sum, int has_bias, float bias,
                          const dk_post_ops *post, int64_t len)
{
    bias_post_row(y, sum, has_bias, bias, post->act != DK_OP_NONE, post->min, post->max, len);
}

/* Rows [m0, m1) and cols columns of one image's output of a one-group GEMM
 * lowering, y and sum pointing at the block's first column (their rows
 * out_plane apart), rhs the block's K x cols operand (rows ldb apart): the
 * bias filled in first when there are no post-ops, the sgemm, then with
 * post-ops bias, sum and Relu/Clip while the block is in cache. */
static void gemm_block(const ob_conv_geom *c, const dk_node *n, const float *w, const float *rhs,
                       int64_t ldb, int64_t cols, const float *bias, const float *sum, float *y,
                       int64_t m0, int64_t m1)
{
    const dk_post_ops *post = &n->post;
    const int has_post = post->has_sum || post->act != DK_OP_NONE;
    const int64_t plane = c->out_plane;
    if (bias && !has_post) fill_bias(y, plane, bias, m0, m1, cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)cols,
                (int)c->k_len, 1.0f, w + m0 * c->k_len, (int)c->k_len, rhs, (int)ldb,
                bias && !has_post ? 1.0f : 0.0f, y + m0 * plane, (int)plane);
    if (has_post)
        for (int64_t j = m0; j < m1; j++)
            dk__ob_bias_post_row(y + j * plane, sum ? sum + j * plane : NULL, bias != NULL,
                                 bias ? bias[j] : 0.0f, post, cols);
}

/* One image with the output channels split over the threads
 * (c->rows_parallel): each runs a single-threaded sgemm on its rows (OpenBLAS
 * runs single-threaded inside a parallel region) and their post-ops. With
 * one thread left at run time, one call outside any parallel region, so
 * that OpenBLAS threads it as usual. */
static void conv_rows_parallel(const ob_conv_geom *c, const dk_node *n, const float *rhs,
                               const float *w, const float *bias, const float *sum, float *y,
                               int threads)
{
    const int64_t plane = c->out_plane;
    if (threads < 2) {
        gemm_block(c, n, w, rhs, plane, plane, bias, sum, y, 0, c->opg);
        return;
    }
    DK_OMP(parallel for num_threads(threads) schedule(static))
    for (int part = 0; part < threads; part++)
        gemm_block(c, n, w, rhs, plane, plane, bias, sum, y, c->opg * part / threads,
                   c->opg * (part + 1) / threads);
}

/* Output rows [q0, q1) of one image of a one-group IM2COL lowering: their
 * col in `col`, then gemm_block on those columns. */
static void conv_col_chunk(const ob_conv_geom *c, const dk_node *n, const float *x,
                           const float *w, const float *bias, const float *sum, float *y,
                           float *col, int64_t q0, int64_t q1)
{
    const int64_t n0 = q0 * c->out[2], cols = (q1 - q0) * c->out[2];
    im2col_range(c, x, col, q0, q1, 0);
    gemm_block(c, n, w, col, cols, cols, bias, sum ? sum + n0 : NULL, y + n0, 0, c->opg);
}

/* One image of a one-group IM2COL lowering in chunks of c->chunk_rows output
 * rows (c->cols_parallel) spread over the threads, each chunk's col in its
 * thread's buffer, small enough to stay in its cache. With one thread left
 * at run time, the chunks in turn outside any parallel region (OpenBLAS then
 * threads each sgemm as usual). */
static void conv_cols_parallel(const ob_conv_geom *c, const dk_node *n, const float *x,
                               const float *w, const float *bias, const float *sum, float *y,
                               float *scratch, size_t per_thread, int threads)
{
    const int64_t q_n = c->out[0] * c->out[1];
    const int64_t chunks = (q_n + c->chunk_rows - 1) / c->chunk_rows;
    if (threads < 2) {
        for (int64_t k = 0; k < chunks; k++) {
            const int64_t q0 = k * c->chunk_rows;
            conv_col_chunk(c, n, x, w, bias, sum, y, scratch, q0,
                           q0 + c->chunk_rows < q_n ? q0 + c->chunk_rows : q_n);
        }
        return;
    }
    DK_OMP(parallel for num_threads(threads) schedule(dynamic, 1))
    for (int64_t k = 0; k < chunks; k++) {
        const int64_t q0 = k * c->chunk_rows;
        conv_col_chunk(c, n, x, w, bias, sum, y,
                       scratch + (size_t)dk__ob_thread_num() * per_thread, q0,
                       q0 + c->chunk_rows < q_n ? q0 + c->chunk_rows : q_n);
    }
}

/* The convolution; without its bias when defer_bias (a GEMM lowering whose
 * post-op pass adds it). */
static dk_status conv_core(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                           const dk_tensor *const *in, dk_tensor *const *out, int defer_bias)
{
    const ob_conv_geom *c = &p->conv;
    const dk_tensor *xt = in[0], *wt = in[1], *bt = n->p.conv.has_bias ? in[2] : NULL;
    dk_tensor *yt = out[0];
    if (dk_tensor_numel(xt) != c->batch * c->in_c * c->in_plane ||
        dk_tensor_numel(wt) != c->out_c * c->k_len ||
        dk_tensor_numel(yt) != c->batch * c->out_c * c->out_plane ||
        (bt && dk_tensor_numel(bt) != c->out_c))
        return dk__ob_error(n, DK_ERR_SHAPE, "tensors do not have the planned shapes");
    if (c->lowering == OB_LOWER_IM2COL &&
        ctx->scratch_floats <
            p->scratch_floats * (size_t)(c->tasks_parallel || c->cols_parallel ? p->threads : 1))
        return dk__ob_error(n, DK_ERR_INTERNAL, "im2col scratch smaller than planned");
    const float *x = xt->data, *w = wt->data, *bias = bt && !defer_bias ? bt->data : NULL;
    float *y = yt->data;
    if (c->flat) {
        if (ctx->scratch_floats < p->scratch_floats * (size_t)p->threads)
            return dk__ob_error(n, DK_ERR_INTERNAL, "depthwise scratch smaller than planned");
        const int64_t planes = c->batch * c->out_c;
        int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
        (void)threads; /* unused without OpenMP */
        DK_OMP(parallel for num_threads(threads) schedule(static))
        for (int64_t t = 0; t < planes; t++)
            depthwise_plane_flat(c, x, w, bias, y, t / c->out_c, t % c->out_c,
                                 ctx->scratch + (size_t)dk__ob_thread_num() * p->scratch_floats);
        return DK_OK;
    }
    if (c->lowering == OB_LOWER_DEPTHWISE) {
        const int64_t planes = c->batch * c->out_c;
        DK_OMP(parallel for schedule(static))
        for (int64_t t = 0; t < planes; t++)
            depthwise_plane_rows(c, x, w, bias, y, t / c->out_c, t % c->out_c);
        return DK_OK;
    }
    if (c->cols_parallel) {
        const float *sum = n->post.has_sum ? in[3]->data : NULL;
        int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
        for (int64_t b = 0; b < c->batch; b++) {
            const int64_t image = b * c->out_c * c->out_plane;
            conv_cols_parallel(c, n, x + b * c->in_c * c->in_plane, w, bias,
                               sum ? sum + image : NULL, y + image, ctx->scratch,
                               p->scratch_floats, threads);
        }
        return DK_OK;
    }
    if (c->rows_parallel) {
        const float *sum = n->post.has_sum ? in[3]->data : NULL;
        int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
        for (int64_t b = 0; b < c->batch; b++) {
            const float *rhs = x + b * c->in_c * c->in_plane;
            if (c->lowering == OB_LOWER_IM2COL) {
                im2col(c, rhs, ctx->scratch, 1);
                rhs = ctx->scratch;
            }
            const int64_t image = b * c->out_c * c->out_plane;
            conv_rows_parallel(c, n, rhs, w, bias, sum ? sum + image : NULL, y + image, threads);
        }
        return DK_OK;
    }
    if (!c->tasks_parallel) {
        for (int64_t b = 0; b < c->batch; b++)
            for (int64_t grp = 0; grp < c->group; grp++)
                conv_gemm_task(c, x, w, bias, y, b, grp, ctx->scratch, 1);
        return DK_OK;
    }
    /* never more threads than col buffers were planned for */
    int threads = dk__ob_max_threads() < p->threads ? dk__ob_max_threads() : p->threads;
    const int64_t tasks = c->batch * c->group;
    (void)threads; /* unused without OpenMP */
    DK_OMP(parallel for num_threads(threads) schedule(dynamic, 1))
    for (int64_t t = 0; t < tasks; t++) {
        float *col = ctx->scratch + (size_t)dk__ob_thread_num() * p->scratch_floats;
        conv_gemm_task(c, x, w, bias, y, t / c->group, t % c->group, col, 0);
    }
    return DK_OK;
}

/* The bias and the fused post-ops in one pass, plane by plane. */
static void bias_post(const ob_conv_geom *c, const dk_node *n, const float *bias,
                      const dk_tensor *const *in, float *y)
{
    const float *sum = n->post.has_sum ? in[3]->data : NULL;
    const int64_t planes = c->batch * c->out_c, len = c->out_plane;
    DK_OMP(parallel for schedule(static) if (planes * len > 65536))
    for (int64_t t = 0; t < planes; t++)
        dk__ob_bias_post_row(y + t * len, sum ? sum + t * len : NULL, 1, bias[t % c->out_c],
                             &n->post, len);
}

/* The convolution, then its fused post-ops (sum, Relu/Clip) in one pass over
 * the output, rounded like the unfused nodes; a GEMM's bias joins that pass. */
dk_status dk__ob_exec_conv(ob_ctx *ctx, const ob_plan *p, const dk_node *n,
                       const dk_tensor *const *in, dk_tensor *const *out)
{
    const int post = n->post.has_sum || n->post.act != DK_OP_NONE;
    const int in_threads = p->conv.rows_parallel || p->conv.cols_parallel;
    const int defer_bias = post && n->p.conv.has_bias && p->conv.lowering != OB_LOWER_DEPTHWISE &&
                           !in_threads;
    DK_TRY(conv_core(ctx, p, n, in, out, defer_bias));
    if (in_threads) return DK_OK; /* post-ops applied by each thread */
    if (defer_bias) {
        bias_post(&p->conv, n, in[2]->data, in, out[0]->data);
        return DK_OK;
    }
    return dk_ref_conv_post(n, in, out);
}
