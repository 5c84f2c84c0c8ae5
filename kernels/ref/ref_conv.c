/* Reference Conv: direct convolution, float32 in and out, accumulated in double.
 *
 * 1-D and 2-D convolutions are 3-D ones with leading spatial dims of size 1.
 * The computation has three steps:
 *  1. Rearrange. The input is copied once into a zero-padded buffer. With
 *     strides, each padded channel plane is further split into stride phases
 *     (all positions congruent modulo the stride along every axis), so that
 *     the positions one kernel tap reads for consecutive outputs are
 *     consecutive in memory: output o, tap t reads padded position
 *     o*s + t*d = (o + (t*d)/s)*s + (t*d)%s, i.e. phase (t*d)%s at phase
 *     position o + (t*d)/s. Unit strides without padding read the input as is.
 *  2. Accumulate. A task computes a block of output channels of one image in
 *     double accumulators laid out with the phase planes' pitch: output
 *     (od, oh, ow) lives at od*Hq*Wq + oh*Wq + ow. A kernel tap then shifts the
 *     whole plane by one constant offset, so each (channel block, tap) pair is
 *     one long contiguous loop (the positions between rows are computed and
 *     never read back). The loop runs over chunks of the accumulator small
 *     enough to stay in the L1 cache through all channels and taps.
 *  3. Round the valid positions to float into the output. */
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/ref_omp.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/sanitize.h"
#include "runtime/vector.h"

/* Output and input channels handled together by the innermost loop: each
 * input element loaded serves OC_BLOCK accumulators, and each accumulator
 * load and store serves IC_BLOCK products. */
#define OC_BLOCK 4
#define IC_BLOCK 4

/* Accumulator elements per chunk: OC_BLOCK chunks of acc (16 KiB) and the
 * input they read stay in the L1 cache through all channels and taps. */
#define CHUNK 512

/* Geometry, right-aligned to 3 spatial axes (unused leading axes have size 1). */
typedef struct conv_geom {
    int64_t batch, in_c, out_c, group;
    int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
    int64_t phase_dims[3];     /* one stride phase of the padded plane: ceil(padded / stride) */
    int64_t pitch_d, pitch_h;  /* of a phase plane: Hq*Wq and Wq */
    int64_t phase_plane;       /* Dq*Hq*Wq */
    int64_t channel_plane;     /* all phases of one channel: sd*sh*sw*phase_plane */
    int64_t acc_len;           /* accumulator elements that cover the output plane */
    int64_t taps;              /* kernel elements */
    int rearranged;            /* 0 when the input is read in place */
} conv_geom;

static dk_status conv_error(const dk_node *n, dk_status s, const char *what)
{
    return dk__error(s, "node '%s' (Conv): %s", n->name, what);
}

static dk_status geometry(const dk_node *n, const dk_tensor *x, const dk_tensor *w,
                          const dk_tensor *y, conv_geom *g)
{
    const dk_window *win = &n->p.conv.win;
    int k = win->nspatial;
    if (k < 1 || k > 3 || x->ndim != k + 2 || w->ndim != k + 2 || y->ndim != k + 2)
        return conv_error(n, DK_ERR_INTERNAL, "tensor ranks do not match the window");
    memset(g, 0, sizeof *g);
    g->batch = x->dims[0];
    g->in_c = x->dims[1];
    g->out_c = y->dims[1];
    g->group = n->p.conv.group;
    if (g->group < 1 || g->in_c % g->group || g->out_c % g->group ||
        w->dims[0] != g->out_c || w->dims[1] != g->in_c / g->group || y->dims[0] != g->batch)
        return conv_error(n, DK_ERR_INTERNAL, "weights do not match input and group");
    g->taps = 1;
    int64_t phases = 1, planes, in_bytes, acc_bytes;
    for (int a = 0; a < 3; a++) {
        int i = a - (3 - k); /* window axis, < 0 for the padding axes */
        g->in[a] = i < 0 ? 1 : x->dims[2 + i];
        g->out[a] = i < 0 ? 1 : y->dims[2 + i];
        g->kernel[a] = i < 0 ? 1 : w->dims[2 + i];
        g->stride[a] = i < 0 ? 1 : win->stride[i];
        g->dilation[a] = i < 0 ? 1 : win->dilation[i];
        g->pad_begin[a] = i < 0 ? 0 : win->pad_begin[i];
        int64_t pad_end = i < 0 ? 0 : win->pad_end[i];
        if (g->out[a] < 1 || g->stride[a] < 1 || g->dilation[a] < 1 || g->pad_begin[a] < 0 ||
            pad_end < 0 || g->kernel[a] < 1)
            return conv_error(n, DK_ERR_INTERNAL, "invalid window");
        /* A single output along an axis reads positions t*d only: its
         * stride is irrelevant, and as 1 it splits nothing into phases
         * (a stride of 2^40 would otherwise ask for 2^40 phase planes). */
        if (g->out[a] == 1) g->stride[a] = 1;
        /* Checked: the plan's sizes must fit before any buffer is sized by
         * them (shape inference bounds them; this does not trust it). */
        int64_t padded, last, span;
        if (!dk_ck_add(g->in[a], g->pad_begin[a], &padded) || !dk_ck_add(padded, pad_end, &padded) ||
            !dk_ck_mul(g->out[a] - 1, g->stride[a], &last) ||
            !dk_ck_window_span(g->kernel[a], g->dilation[a], &span) || !dk_ck_add(last, span, &last) ||
            last > padded)
            return conv_error(n, DK_ERR_INTERNAL, "output size does not match the window");
        g->phase_dims[a] = (padded - 1) / g->stride[a] + 1;
        g->rearranged |= g->stride[a] != 1 || g->pad_begin[a] != 0 || pad_end != 0;
        if (!dk_ck_mul(g->taps, g->kernel[a], &g->taps) ||
            !dk_ck_mul(phases, g->stride[a], &phases))
            return conv_error(n, DK_ERR_UNSUPPORTED, "the window is too large to plan");
    }
    g->pitch_h = g->phase_dims[2];
    /* acc_len <= phase_plane, and the rearranged input is planes * channel_plane floats */
    if (!dk_ck_mul(g->phase_dims[1], g->phase_dims[2], &g->pitch_d) ||
        !dk_ck_mul(g->phase_dims[0], g->pitch_d, &g->phase_plane) ||
        !dk_ck_mul(phases, g->phase_plane, &g->channel_plane) ||
        !dk_ck_mul(g->batch, g->in_c, &planes) ||
        !dk_ck_mul(planes, g->channel_plane, &in_bytes) ||
        !dk_ck_mul(in_bytes, (int64_t)sizeof(float), &in_bytes) ||
        !dk_ck_mul(g->phase_plane, OC_BLOCK * (int64_t)sizeof(double), &acc_bytes) ||
        (uint64_t)in_bytes > SIZE_MAX || (uint64_t)acc_bytes > SIZE_MAX)
        return conv_error(n, DK_ERR_UNSUPPORTED, "the padded input is too large to plan");
    g->acc_len = (g->out[0] - 1) * g->pitch_d + (g->out[1] - 1) * g->pitch_h + g->out[2];
    return DK_OK;
}

/* Step 1: copies every input channel plane into its zeroed, padded and
 * phase-split plane in xr. */
static void rearrange_input(const conv_geom *g, const float *x, float *xr)
{
    int64_t planes = g->batch * g->in_c, in_plane = g->in[0] * g->in[1] * g->in[2];
    const int64_t *s = g->stride;
    memset(xr, 0, (size_t)(planes * g->channel_plane) * sizeof *xr);
    DK_OMP(parallel for schedule(static))
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t d = 0; d < g->in[0]; d++)
            for (int64_t h = 0; h < g->in[1]; h++) {
                const float *src = x + p * in_plane + (d * g->in[1] + h) * g->in[2];
                int64_t pd = d + g->pad_begin[0], ph = h + g->pad_begin[1];
                /* the row's positions of phase `pw_phase` along W: w, w + s, ... */
                for (int64_t pw_phase = 0; pw_phase < s[2]; pw_phase++) {
                    int64_t phase = (pd % s[0] * s[1] + ph % s[1]) * s[2] + pw_phase;
                    float *dst = xr + p * g->channel_plane + phase * g->phase_plane +
                                 pd / s[0] * g->pitch_d + ph / s[1] * g->pitch_h;
                    int64_t w0 = ((pw_phase - g->pad_begin[2]) % s[2] + s[2]) % s[2];
                    dst += (w0 + g->pad_begin[2]) / s[2];
                    if (s[2] == 1) {
                        memcpy(dst, src, (size_t)g->in[2] * sizeof *src);
                        continue;
                    }
                    for (int64_t w = w0; w < g->in[2]; w += s[2]) *dst++ = src[w];
                }
            }
    }
}

/* Step 2, the innermost loops. Each adds, for i < len, products of input
 * channels x_k[i] (planes `plane` floats apart) and weights w ([n_oc][n_ic])
 * to accumulators acc_j[i] (acc_stride doubles apart). The sum for one
 * acc_j[i] is always evaluated in the same order, so results do not depend on
 * the vector width (runtime/vector.h). */

/* OC_BLOCK output channels times IC_BLOCK input channels. */
DK_VECTOR_CLONES DK_RANGE_CHECKED
static void add_oc_ic_block(double *restrict acc, int64_t acc_stride, const float *restrict x,
                            int64_t plane, const double *restrict w, int64_t len)
{
    const float *x0 = x, *x1 = x + plane, *x2 = x + 2 * plane, *x3 = x + 3 * plane;
    double *a0 = acc, *a1 = acc + acc_stride, *a2 = acc + 2 * acc_stride,
           *a3 = acc + 3 * acc_stride;
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) {
        double v0 = x0[i], v1 = x1[i], v2 = x2[i], v3 = x3[i];
        a0[i] += w[0] * v0 + w[1] * v1 + w[2] * v2 + w[3] * v3;
        a1[i] += w[4] * v0 + w[5] * v1 + w[6] * v2 + w[7] * v3;
        a2[i] += w[8] * v0 + w[9] * v1 + w[10] * v2 + w[11] * v3;
        a3[i] += w[12] * v0 + w[13] * v1 + w[14] * v2 + w[15] * v3;
    }
}

/* One output channel times IC_BLOCK input channels. */
DK_VECTOR_CLONES DK_RANGE_CHECKED
static void add_ic_block(double *restrict acc, const float *restrict x, int64_t plane,
                         const double *restrict w, int64_t len)
{
    const float *x0 = x, *x1 = x + plane, *x2 = x + 2 * plane, *x3 = x + 3 * plane;
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++)
        acc[i] += w[0] * x0[i] + w[1] * x1[i] + w[2] * x2[i] + w[3] * x3[i];
}

/* One output channel times one input channel. */
DK_VECTOR_CLONES DK_RANGE_CHECKED
static void add_single(double *restrict acc, const float *restrict x, double w, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) acc[i] += w * x[i];
}

/* Step 2's start and step 3: accumulators set to the bias, a row rounded. */
DK_RANGE_CHECKED
static void fill(double *restrict a, double v, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) a[i] = v;
}

DK_RANGE_CHECKED
static void round_row(float *restrict y, const double *restrict a, int64_t len)
{
    DK_OMP(simd)
    for (int64_t i = 0; i < len; i++) y[i] = (float)a[i];
}

/* The block of output channels one task computes. */
typedef struct oc_block {
    int n_oc;          /* 1 or OC_BLOCK */
    const float *x;    /* the group's first input channel plane (rearranged) */
    const float *w;    /* the block's first output channel weights: [cpg][taps] */
    int64_t cpg;       /* input channels per group */
    double *acc;       /* n_oc planes of acc_len doubles */
} oc_block;

/* Adds input channels [ic, ic + n_ic) through kernel tap `tap` (its index
 * along the 3 axes), with weights w ([n_oc][n_ic]), to accumulator positions
 * [begin, end). */
static void add_tap(const conv_geom *g, const oc_block *o, int64_t begin, int64_t end,
                    int64_t ic, int n_ic, const int64_t tap[3], const double *w)
{
    int64_t off[3], phase = 0;
    for (int a = 0; a < 3; a++) {
        int64_t t = tap[a] * g->dilation[a];
        phase = phase * g->stride[a] + t % g->stride[a];
        off[a] = t / g->stride[a];
    }
    const float *x = o->x + ic * g->channel_plane + phase * g->phase_plane +
                     off[0] * g->pitch_d + off[1] * g->pitch_h + off[2] + begin;
    double *acc = o->acc + begin;
    int64_t len = end - begin;
    for (int k = 0; k < n_ic; k++) DK_CHECK_RANGE(x + k * g->channel_plane, len);
    for (int j = 0; j < o->n_oc; j++) DK_CHECK_RANGE(acc + j * g->acc_len, len);
    DK_CHECK_RANGE(w, o->n_oc * n_ic);
    if (o->n_oc == OC_BLOCK && n_ic == IC_BLOCK)
        add_oc_ic_block(acc, g->acc_len, x, g->channel_plane, w, len);
    else if (n_ic == IC_BLOCK)
        add_ic_block(acc, x, g->channel_plane, w, len);
    else
        for (int j = 0; j < o->n_oc; j++) add_single(acc + j * g->acc_len, x, w[j], len);
}

/* Adds all input channels of the group through all kernel taps to
 * accumulator positions [begin, end). */
static void accumulate_chunk(const conv_geom *g, const oc_block *o, int64_t begin, int64_t end)
{
    for (int64_t ic = 0; ic < o->cpg;) {
        int n_ic = o->cpg - ic >= IC_BLOCK ? IC_BLOCK : 1;
        int64_t tap[3], t = 0;
        for (tap[0] = 0; tap[0] < g->kernel[0]; tap[0]++)
            for (tap[1] = 0; tap[1] < g->kernel[1]; tap[1]++)
                for (tap[2] = 0; tap[2] < g->kernel[2]; tap[2]++, t++) {
                    double w[OC_BLOCK * IC_BLOCK];
                    for (int j = 0; j < o->n_oc; j++)
                        for (int k = 0; k < n_ic; k++)
                            w[j * n_ic + k] = o->w[(j * o->cpg + ic + k) * g->taps + t];
                    add_tap(g, o, begin, end, ic, n_ic, tap, w);
                }
        ic += n_ic;
    }
}

/* Computes output channels [oc, oc + n_oc) of image b into y (their planes). */
static void conv_block(const conv_geom *g, const float *xr, const float *wt, const float *bias,
                       int64_t b, int64_t oc, int n_oc, double *acc, float *y)
{
    int64_t cpg = g->in_c / g->group;
    int64_t first_ic = oc / (g->out_c / g->group) * cpg;
    oc_block o = {n_oc, xr + (b * g->in_c + first_ic) * g->channel_plane,
                  wt + oc * cpg * g->taps, cpg, acc};
    int64_t acc_len = g->acc_len;
    for (int j = 0; j < n_oc; j++) {
        DK_CHECK_RANGE(acc + j * acc_len, acc_len);
        fill(acc + j * acc_len, bias ? bias[oc + j] : 0.0, acc_len);
    }
    for (int64_t begin = 0; begin < acc_len; begin += CHUNK)
        accumulate_chunk(g, &o, begin, begin + CHUNK < acc_len ? begin + CHUNK : acc_len);

    int64_t out_d = g->out[0], out_h = g->out[1], out_w = g->out[2];
    for (int j = 0; j < n_oc; j++)
        for (int64_t od = 0; od < out_d; od++)
            for (int64_t oh = 0; oh < out_h; oh++) {
                const double *acc_row = acc + j * acc_len + od * g->pitch_d + oh * g->pitch_h;
                float *y_row = y + ((j * out_d + od) * out_h + oh) * out_w;
                DK_CHECK_RANGE(acc_row, out_w);
                DK_CHECK_RANGE(y_row, out_w);
                round_row(y_row, acc_row, out_w);
            }
}

dk_status dk_ref_conv(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_tensor *x = in[0], *w = in[1], *b = n->p.conv.has_bias ? in[2] : NULL;
    dk_tensor *y = out[0];
    conv_geom g;
    if (x->dtype != DK_F32 || w->dtype != DK_F32 || y->dtype != DK_F32 ||
        (b && (b->dtype != DK_F32 || dk_tensor_numel(b) != y->dims[1])))
        return conv_error(n, DK_ERR_UNSUPPORTED, "only float32 is supported");
    DK_TRY(geometry(n, x, w, y, &g));

    float *rearranged = NULL;
    const float *xr = x->data;
    if (g.rearranged) {
        rearranged = malloc((size_t)(g.batch * g.in_c * g.channel_plane) * sizeof *rearranged);
        if (!rearranged) return conv_error(n, DK_ERR_NOMEM, "cannot allocate the padded input");
        rearrange_input(&g, x->data, rearranged);
        xr = rearranged;
    }

    /* A task is a block of output channels of one image, within one group. */
    int64_t out_plane = g.out[0] * g.out[1] * g.out[2];
    int n_oc = (g.out_c / g.group) % OC_BLOCK == 0 ? OC_BLOCK : 1;
    int64_t blocks = g.out_c / n_oc, tasks = g.batch * blocks;
    int failed = 0;
    DK_OMP(parallel)
    {
        double *acc = malloc((size_t)(n_oc * g.acc_len) * sizeof *acc);
        if (!acc) {
            DK_OMP(atomic write)
            failed = 1;
        }
        DK_OMP(for schedule(dynamic, 1))
        for (int64_t t = 0; t < tasks; t++) {
            if (!acc) continue;
            int64_t bi = t / blocks, oc = t % blocks * n_oc;
            conv_block(&g, xr, w->data, b ? b->data : NULL, bi, oc, n_oc, acc,
                       (float *)y->data + (bi * g.out_c + oc) * out_plane);
        }
        free(acc);
    }
    free(rearranged);
    if (failed) return conv_error(n, DK_ERR_NOMEM, "cannot allocate the accumulators");
    return dk_ref_conv_post(n, in, out);
}

dk_status dk_ref_conv_post(const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    const dk_post_ops *post = &n->post;
    if (!post->has_sum && post->act == DK_OP_NONE) return DK_OK;
    const float *sum = post->has_sum ? in[3]->data : NULL;
    float *y = out[0]->data;
    const int64_t count = dk_tensor_numel(out[0]);
    const int act = post->act != DK_OP_NONE;
    const float lo = post->min, hi = post->max; /* Relu: 0, +inf */
#pragma omp parallel for schedule(static) if (count > 65536)
    for (int64_t i = 0; i < count; i++) {
        float v = sum ? y[i] + sum[i] : y[i];
        if (act) {
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
        }
        y[i] = v;
    }
    return DK_OK;
}
