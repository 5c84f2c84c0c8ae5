/* Unit tests for the sliding-window ops: shape inference (layers/op_window.c)
 * and reference kernels (kernels/ref/ref_conv.c, ref_pool.c) against naive
 * computations written straight from the ONNX formulas.
 *
 * Expected shapes and pads are worked out by hand from the spec's formulas.
 * Tolerance: kernel and naive version both sum in double and round once to
 * float32; they differ only by the order of the double additions (relative
 * 1e-16 of the sum of |terms|) and by that one rounding (half an ulp), so
 * |y - ref| <= 2^-23 |ref| + 1e-12 * sum|terms| must hold. Maxima are exact. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* ---- multi-index arithmetic --------------------------------------------- */

/* Advances a multi-index idx over [0, lim) (last axis fastest); 0 after the last. */
static int next_index(int64_t *idx, const int64_t *lim, int k)
{
    for (int a = k - 1; a >= 0; a--) {
        if (++idx[a] < lim[a]) return 1;
        idx[a] = 0;
    }
    return 0;
}

static int64_t row_major(const int64_t *idx, const int64_t *dims, int k)
{
    int64_t off = 0;
    for (int a = 0; a < k; a++) off = off * dims[a] + idx[a];
    return off;
}

/* ---- Conv: shape inference ------------------------------------------------ */

typedef struct conv_setup {
    dk_graph *g;
    int node;
} conv_setup;

/* Conv with input [N, C, spatial...] and weights [M, C/group, kernel...];
 * data when `data` is set, bias of M elements when `bias` is set. */
static conv_setup conv_graph(int nspatial, const int64_t *xdims, const int64_t *wdims, int bias,
                             int data)
{
    conv_setup s = {tu_new_graph(11), 0};
    double lo = data ? -1 : 1, hi = data ? 1 : 0;
    int rank = nspatial + 2;
    int ins[3] = {tu_add_value(s.g, "x", DK_VALUE_INPUT, DK_F32, rank, xdims, lo, hi),
                  tu_add_value(s.g, "w", DK_VALUE_CONSTANT, DK_F32, rank, wdims, -1, 1), -1};
    if (bias) ins[2] = tu_add_value(s.g, "b", DK_VALUE_CONSTANT, DK_F32, 1, wdims, -1, 1);
    s.node = tu_add_node(s.g, DK_OP_CONV, ins, bias ? 3 : 2, 1);
    return s;
}

static void test_conv_shape_resnet_stem(void **state)
{
    (void)state;
    const int64_t x[] = {2, 3, 224, 224}, w[] = {64, 3, 7, 7};
    conv_setup s = conv_graph(2, x, w, 1, 0);
    const int64_t st[] = {2, 2}, pads[] = {3, 3, 3, 3};
    tu_attr_ints(s.g, s.node, "strides", 2, st);
    tu_attr_ints(s.g, s.node, "pads", 4, pads);
    assert_int_equal(dk_graph_finalize(s.g), DK_OK);
    const int64_t y[] = {2, 64, 112, 112};
    tu_assert_shape(tu_output(s.g, s.node, 0), 4, y);
    const dk_node *n = &s.g->nodes[s.node];
    assert_int_equal(n->p.conv.win.nspatial, 2);
    assert_int_equal(n->p.conv.win.kernel[0], 7);
    assert_int_equal(n->p.conv.group, 1);
    assert_true(n->p.conv.has_bias);
    double outputs = 2.0 * 64 * 112 * 112;
    assert_true(n->flops == 2.0 * outputs * 3 * 49 + outputs);
    dk_graph_destroy(s.g);
}

/* SAME padding: output ceil(in / stride); total pad (out-1)*s + (k-1)*d + 1 - in,
 * the odd unit at the end (SAME_UPPER) or at the beginning (SAME_LOWER). */
static void test_conv_shape_auto_pad(void **state)
{
    (void)state;
    static const struct {
        const char *mode;
        int64_t pb, pe, out;
    } cases[] = {{"SAME_UPPER", 0, 1, 4}, {"SAME_LOWER", 1, 0, 4}, {"VALID", 0, 0, 3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* in 8, kernel 3, stride 2: SAME out 4, total (4-1)*2 + 3 - 8 = 1;
         * VALID out floor((8-3)/2) + 1 = 3 */
        const int64_t x[] = {1, 2, 8}, w[] = {4, 2, 3}, st[] = {2};
        conv_setup s = conv_graph(1, x, w, 0, 0);
        tu_attr_ints(s.g, s.node, "strides", 1, st);
        tu_attr_string(s.g, s.node, "auto_pad", cases[c].mode);
        assert_int_equal(dk_graph_finalize(s.g), DK_OK);
        const dk_node *n = &s.g->nodes[s.node];
        const int64_t y[] = {1, 4, cases[c].out};
        tu_assert_shape(tu_output(s.g, s.node, 0), 3, y);
        assert_int_equal(n->p.conv.win.pad_begin[0], cases[c].pb);
        assert_int_equal(n->p.conv.win.pad_end[0], cases[c].pe);
        assert_false(n->p.conv.has_bias);
        dk_graph_destroy(s.g);
    }
}

static void test_conv_shape_3d_dilated_grouped(void **state)
{
    (void)state;
    /* out = (in + pads - d*(k-1) - 1) / s + 1: D (5+1+0-2*1-1)/1+1 = 4,
     * H (6+0+2-1*2-1)/2+1 = 3, W (7+0+0-3*2-1)/1+1 = 1 */
    const int64_t x[] = {1, 6, 5, 6, 7}, w[] = {4, 3, 2, 3, 3};
    conv_setup s = conv_graph(3, x, w, 1, 0);
    const int64_t st[] = {1, 2, 1}, dil[] = {2, 1, 3}, pads[] = {1, 0, 0, 0, 2, 0},
                  ks[] = {2, 3, 3};
    tu_attr_int(s.g, s.node, "group", 2);
    tu_attr_ints(s.g, s.node, "strides", 3, st);
    tu_attr_ints(s.g, s.node, "dilations", 3, dil);
    tu_attr_ints(s.g, s.node, "pads", 6, pads);
    tu_attr_ints(s.g, s.node, "kernel_shape", 3, ks);
    assert_int_equal(dk_graph_finalize(s.g), DK_OK);
    const int64_t y[] = {1, 4, 4, 3, 1};
    tu_assert_shape(tu_output(s.g, s.node, 0), 5, y);
    assert_int_equal(s.g->nodes[s.node].p.conv.group, 2);
    dk_graph_destroy(s.g);
}

static void test_conv_errors(void **state)
{
    (void)state;
    const int64_t x[] = {1, 3, 8, 8}, w_bad[] = {8, 4, 3, 3}, w[] = {8, 3, 3, 3};
    conv_setup s = conv_graph(2, x, w_bad, 0, 0);
    tu_expect_finalize_error(s.g, DK_ERR_SHAPE,
                             "has 4 channels per group but input 0 (1x3x8x8) has 3");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0); /* group 2 does not divide 3 channels */
    tu_attr_int(s.g, s.node, "group", 2);
    tu_expect_finalize_error(s.g, DK_ERR_SHAPE, "group 2 does not divide");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0);
    const int64_t ks[] = {3, 5};
    tu_attr_ints(s.g, s.node, "kernel_shape", 2, ks);
    tu_expect_finalize_error(s.g, DK_ERR_SHAPE, "kernel_shape has 5 at index 1");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0);
    const int64_t st[] = {1, 1, 1};
    tu_attr_ints(s.g, s.node, "strides", 3, st);
    tu_expect_finalize_error(s.g, DK_ERR_SHAPE, "'strides' has 3 values but input 0 needs 2");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0);
    const int64_t st0[] = {1, 0};
    tu_attr_ints(s.g, s.node, "strides", 2, st0);
    tu_expect_finalize_error(s.g, DK_ERR_FORMAT, "'strides' has value 0");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0);
    tu_attr_string(s.g, s.node, "auto_pad", "SAME");
    tu_expect_finalize_error(s.g, DK_ERR_FORMAT, "auto_pad 'SAME'");
    dk_graph_destroy(s.g);

    s = conv_graph(2, x, w, 0, 0);
    const int64_t pads[] = {1, 1, 1, 1};
    tu_attr_ints(s.g, s.node, "pads", 4, pads);
    tu_attr_string(s.g, s.node, "auto_pad", "SAME_UPPER");
    tu_expect_finalize_error(s.g, DK_ERR_FORMAT, "cannot be combined with auto_pad");
    dk_graph_destroy(s.g);

    const int64_t small[] = {1, 3, 2, 8};
    s = conv_graph(2, small, w, 0, 0);
    tu_expect_finalize_error(s.g, DK_ERR_SHAPE, "does not fit input size 2");
    dk_graph_destroy(s.g);

    const int64_t bias_dims[] = {7};
    { /* bias with the wrong number of channels */
        dk_graph *g = tu_new_graph(11);
        int ins[3] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, 1, 0),
                      tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, w, -1, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, bias_dims, -1, 1)};
        tu_add_node(g, DK_OP_CONV, ins, 3, 1);
        tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 2 (bias) has shape 7");
        dk_graph_destroy(g);
    }
    { /* integer input */
        dk_graph *g = tu_new_graph(11);
        int ins[2] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_I32, 4, x, 1, 0),
                      tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, w, -1, 1)};
        tu_add_node(g, DK_OP_CONV, ins, 2, 1);
        tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
        dk_graph_destroy(g);
    }
    { /* rank 2 input, rank 6 input */
        const int64_t x2[] = {1, 3}, x6[] = {1, 3, 4, 4, 4, 4}, w6[] = {8, 3, 1, 1, 1, 1};
        dk_graph *g = tu_new_graph(11);
        int ins[2] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 2, x2, 1, 0),
                      tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, w, -1, 1)};
        tu_add_node(g, DK_OP_CONV, ins, 2, 1);
        tu_expect_finalize_error(g, DK_ERR_SHAPE, "expected rank >= 3");
        dk_graph_destroy(g);
        g = tu_new_graph(11);
        int ins6[2] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 6, x6, 1, 0),
                       tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 6, w6, -1, 1)};
        tu_add_node(g, DK_OP_CONV, ins6, 2, 1);
        tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "4 spatial dims");
        dk_graph_destroy(g);
    }
}

/* ---- Conv: kernel against the naive formula --------------------------------
 * y[b, m, o] = B[m] + sum over c of group(m), kernel index t of
 *              x[b, c, o*stride - pad_begin + t*dilation] * W[m, c', t],
 * terms whose input position lies in the padding being zero. */

static void naive_conv(const dk_node *n, const dk_tensor *x, const dk_tensor *w,
                       const dk_tensor *b, const dk_tensor *y, double *ref, double *abssum)
{
    const dk_window *win = &n->p.conv.win;
    int k = win->nspatial;
    int64_t batch = x->dims[0], c_in = x->dims[1], m_out = y->dims[1];
    int64_t cpg = c_in / n->p.conv.group, mpg = m_out / n->p.conv.group;
    const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
    int64_t in_size = dk_shape_numel(k, x->dims + 2), out_size = dk_shape_numel(k, y->dims + 2);
    int64_t taps = dk_shape_numel(k, win->kernel);
    for (int64_t bi = 0; bi < batch; bi++)
        for (int64_t m = 0; m < m_out; m++) {
            int64_t o[3] = {0, 0, 0};
            do {
                int64_t yi = (bi * m_out + m) * out_size + row_major(o, y->dims + 2, k);
                double sum = bd ? bd[m] : 0, abs_sum = bd ? fabs(bd[m]) : 0;
                for (int64_t cg = 0; cg < cpg; cg++) {
                    int64_t c = m / mpg * cpg + cg;
                    int64_t t[3] = {0, 0, 0};
                    do {
                        int64_t pos[3];
                        int inside = 1;
                        for (int a = 0; a < k; a++) {
                            pos[a] = o[a] * win->stride[a] - win->pad_begin[a] +
                                     t[a] * win->dilation[a];
                            if (pos[a] < 0 || pos[a] >= x->dims[2 + a]) inside = 0;
                        }
                        if (!inside) continue;
                        double xv = xd[(bi * c_in + c) * in_size + row_major(pos, x->dims + 2, k)];
                        double wv = wd[(m * cpg + cg) * taps + row_major(t, win->kernel, k)];
                        sum += xv * wv;
                        abs_sum += fabs(xv * wv);
                    } while (next_index(t, win->kernel, k));
                }
                ref[yi] = sum;
                abssum[yi] = abs_sum;
            } while (next_index(o, y->dims + 2, k));
        }
}

typedef struct conv_case {
    const char *name;
    int nspatial;
    int64_t x[5], w[5];
    int64_t group;
    int64_t stride[3], dilation[3], pads[6]; /* zeros mean "attribute absent" */
    const char *auto_pad;
    int bias;
} conv_case;

static void check_conv_case(const conv_case *cc)
{
    int k = cc->nspatial;
    conv_setup s = conv_graph(k, cc->x, cc->w, cc->bias, 1);
    if (cc->group > 1) tu_attr_int(s.g, s.node, "group", cc->group);
    if (cc->stride[0]) tu_attr_ints(s.g, s.node, "strides", k, cc->stride);
    if (cc->dilation[0]) tu_attr_ints(s.g, s.node, "dilations", k, cc->dilation);
    int any_pad = 0;
    for (int i = 0; i < 2 * k; i++) any_pad |= cc->pads[i] != 0;
    if (any_pad) tu_attr_ints(s.g, s.node, "pads", 2 * k, cc->pads);
    if (cc->auto_pad) tu_attr_string(s.g, s.node, "auto_pad", cc->auto_pad);
    if (dk_graph_finalize(s.g) != DK_OK) fail_msg("%s: %s", cc->name, dk_last_error());

    const dk_node *n = &s.g->nodes[s.node];
    const dk_tensor *x = &s.g->values[n->inputs[0]].t, *w = &s.g->values[n->inputs[1]].t;
    const dk_tensor *b = cc->bias ? &s.g->values[n->inputs[2]].t : NULL;
    dk_tensor y = {0};
    if (tu_run_kernel(s.g, s.node, dk_ref_conv, &y, 1) != DK_OK)
        fail_msg("%s: %s", cc->name, dk_last_error());
    int64_t numel = dk_tensor_numel(&y);
    double *ref = malloc(sizeof(double) * (size_t)numel), *abssum = malloc(sizeof(double) * (size_t)numel);
    assert_non_null(ref);
    assert_non_null(abssum);
    naive_conv(n, x, w, b, &y, ref, abssum);
    for (int64_t i = 0; i < numel; i++)
        tu_assert_close(cc->name, i, ((float *)y.data)[i], ref[i], abssum[i]);
    free(ref);
    free(abssum);
    dk_tensor_reset(&y);
    dk_graph_destroy(s.g);
}

static void test_conv_kernel(void **state)
{
    (void)state;
    static const conv_case cases[] = {
        {"1x1", 2, {2, 8, 5, 6}, {6, 8, 1, 1}, 1, {0}, {0}, {0}, NULL, 1},
        {"3x3 pad 1", 2, {1, 9, 7, 8}, {5, 9, 3, 3}, 1, {0}, {0}, {1, 1, 1, 1}, NULL, 1},
        {"3x3 stride 2", 2, {2, 6, 9, 8}, {4, 6, 3, 3}, 1, {2, 2}, {0}, {1, 1, 1, 1}, NULL, 0},
        {"7x7 stride 2 pad 3", 2, {1, 3, 17, 16}, {4, 3, 7, 7}, 1, {2, 2}, {0}, {3, 3, 3, 3},
         NULL, 1},
        {"1x7 and asymmetric pads", 2, {1, 5, 6, 9}, {3, 5, 1, 7}, 1, {0}, {0}, {0, 3, 0, 2},
         NULL, 1},
        {"7x1", 2, {1, 4, 9, 5}, {3, 4, 7, 1}, 1, {0}, {0}, {3, 0, 3, 0}, NULL, 1},
        {"5x5 SAME_LOWER stride 2", 2, {1, 3, 10, 11}, {2, 3, 5, 5}, 1, {2, 2}, {0}, {0},
         "SAME_LOWER", 1},
        {"dilated", 2, {1, 4, 12, 11}, {3, 4, 3, 3}, 1, {1, 2}, {2, 3}, {2, 1, 0, 3}, NULL, 1},
        {"groups", 2, {2, 12, 6, 5}, {6, 6, 3, 2}, 2, {0}, {0}, {1, 0, 0, 1}, NULL, 1},
        {"depthwise", 2, {1, 5, 8, 8}, {5, 1, 3, 3}, 5, {0}, {0}, {1, 1, 1, 1}, NULL, 1},
        {"depthwise stride 2", 2, {1, 4, 9, 9}, {4, 1, 3, 3}, 4, {2, 2}, {0}, {1, 1, 1, 1}, NULL,
         0},
        {"channel multiplier", 2, {1, 3, 6, 7}, {9, 1, 3, 3}, 3, {0}, {0}, {0}, NULL, 1},
        {"1-D", 1, {2, 6, 20}, {4, 6, 5}, 1, {3}, {2}, {2, 4}, NULL, 1},
        {"1-D SAME_UPPER", 1, {1, 3, 9}, {2, 3, 4}, 1, {2}, {0}, {0}, "SAME_UPPER", 0},
        {"3-D", 3, {1, 5, 5, 6, 7}, {3, 5, 2, 3, 3}, 1, {0}, {0}, {1, 0, 1, 0, 1, 1}, NULL, 1},
        {"3-D strided dilated grouped", 3, {2, 4, 7, 6, 8}, {4, 2, 2, 2, 3}, 2, {2, 1, 2},
         {2, 2, 1}, {0, 1, 1, 1, 0, 2}, NULL, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) check_conv_case(&cases[c]);
}

/* Random geometries: every combination of rank, group, stride, dilation and
 * (asymmetric) padding the kernel distinguishes, on small tensors. */
static void test_conv_kernel_random(void **state)
{
    (void)state;
    static const int64_t out_per_group[] = {1, 2, 3, 4, 5, 8};
    for (int round = 0; round < 40; round++) {
        conv_case cc;
        memset(&cc, 0, sizeof cc);
        char name[64];
        snprintf(name, sizeof name, "random conv %d", round);
        cc.name = name;
        cc.nspatial = (int)tu_rng_int(1, 3);
        cc.group = tu_rng_int(1, 3);
        int64_t cpg = tu_rng_int(1, 6), mpg = out_per_group[tu_rng_int(0, 5)];
        cc.x[0] = tu_rng_int(1, 2);
        cc.x[1] = cc.group * cpg;
        cc.w[0] = cc.group * mpg;
        cc.w[1] = cpg;
        int64_t max_in = cc.nspatial == 3 ? 7 : cc.nspatial == 2 ? 12 : 30;
        for (int a = 0; a < cc.nspatial; a++) {
            int64_t k = tu_rng_int(1, 4), d = tu_rng_int(1, 2), s = tu_rng_int(1, 3);
            int64_t pb = tu_rng_int(0, 2), pe = tu_rng_int(0, 2), span = d * (k - 1) + 1;
            cc.w[2 + a] = k;
            cc.stride[a] = s;
            cc.dilation[a] = d;
            cc.pads[a] = pb;
            cc.pads[cc.nspatial + a] = pe;
            int64_t least = span - pb - pe > 1 ? span - pb - pe : 1;
            cc.x[2 + a] = tu_rng_int(least, least > max_in ? least : max_in);
        }
        cc.bias = (int)tu_rng_int(0, 1);
        check_conv_case(&cc);
    }
}

/* ---- MaxPool / AveragePool: shape inference ----------------------------------- */

static int pool_graph(dk_graph *g, dk_op op, dk_dtype dt, int rank, const int64_t *xdims,
                      int data, int n_out)
{
    int x = tu_add_value(g, "x", DK_VALUE_INPUT, dt, rank, xdims, data ? -4 : 1, data ? 4 : 0);
    if (data && dt == DK_U8)
        for (int64_t i = 0; i < dk_tensor_numel(&g->values[x].t); i++)
            dk_tensor_set(&g->values[x].t, i, floor(tu_rng_uniform(0, 256)));
    return tu_add_node(g, op, &x, 1, n_out);
}

/* ceil_mode: out = ceil((in + pads - k) / s) + 1, minus one when the last
 * window would start at or beyond in + pad_begin. */
static void test_pool_shape_ceil_mode(void **state)
{
    (void)state;
    static const struct {
        int64_t in, k, s, pb, pe;
        int ceil;
        int64_t out, ceil_extra;
    } cases[] = {
        {4, 3, 2, 0, 0, 1, 2, 1},  /* test_averagepool_2d_ceil: (4-3)/2 = 0.5 -> 1, +1 */
        {4, 3, 2, 0, 0, 0, 1, 0},  /* floor */
        {5, 2, 2, 1, 1, 1, 3, 0},  /* ceil gives 4, but window 3 starts at 6 >= 5 + 1 */
        {6, 2, 2, 1, 1, 1, 4, 0},  /* (6+2-2)/2 + 1 = 4 exactly */
        {112, 3, 2, 0, 0, 1, 56, 1}, /* GoogLeNet-style ceil pooling: 54.5 -> 55, +1 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(12);
        const int64_t x[] = {1, 2, cases[c].in};
        int k = pool_graph(g, DK_OP_MAXPOOL, DK_F32, 3, x, 0, 1);
        const int64_t ks[] = {cases[c].k}, st[] = {cases[c].s}, pads[] = {cases[c].pb, cases[c].pe};
        tu_attr_ints(g, k, "kernel_shape", 1, ks);
        tu_attr_ints(g, k, "strides", 1, st);
        tu_attr_ints(g, k, "pads", 2, pads);
        tu_attr_int(g, k, "ceil_mode", cases[c].ceil);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const int64_t y[] = {1, 2, cases[c].out};
        tu_assert_shape(tu_output(g, k, 0), 3, y);
        const dk_pool_params *p = &g->nodes[k].p.pool;
        assert_int_equal(p->ceil_extra[0], cases[c].ceil_extra);
        assert_int_equal(p->win.pad_end[0], cases[c].pe + cases[c].ceil_extra);
        dk_graph_destroy(g);
    }
}

static void test_pool_shape_same_and_indices(void **state)
{
    (void)state;
    /* SAME_LOWER, in 32, kernel 2, stride 1: out 32, pad 1 at the beginning */
    dk_graph *g = tu_new_graph(12);
    const int64_t x[] = {1, 3, 32, 32}, ks[] = {2, 2};
    int k = pool_graph(g, DK_OP_MAXPOOL, DK_F32, 4, x, 0, 2);
    tu_attr_ints(g, k, "kernel_shape", 2, ks);
    tu_attr_string(g, k, "auto_pad", "SAME_LOWER");
    tu_attr_int(g, k, "storage_order", 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, x);
    assert_int_equal(tu_output(g, k, 1)->dtype, DK_I64);
    tu_assert_shape(tu_output(g, k, 1), 4, x);
    const dk_pool_params *p = &g->nodes[k].p.pool;
    assert_int_equal(p->win.pad_begin[0], 1);
    assert_int_equal(p->win.pad_end[0], 0);
    assert_true(p->has_indices);
    assert_int_equal(p->storage_order, 1);
    assert_true(g->nodes[k].flops == 3.0 * 32 * 32 * 4);
    dk_graph_destroy(g);

    /* AveragePool 3-D, strides, count_include_pad: (9+1+1-3)/2 + 1 = 5 */
    g = tu_new_graph(11);
    const int64_t x3[] = {2, 2, 9, 9, 9}, ks3[] = {3, 3, 3}, st3[] = {2, 2, 2},
                  pads3[] = {1, 1, 1, 1, 1, 1};
    k = pool_graph(g, DK_OP_AVGPOOL, DK_F32, 5, x3, 0, 1);
    tu_attr_ints(g, k, "kernel_shape", 3, ks3);
    tu_attr_ints(g, k, "strides", 3, st3);
    tu_attr_ints(g, k, "pads", 6, pads3);
    tu_attr_int(g, k, "count_include_pad", 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const int64_t y3[] = {2, 2, 5, 5, 5};
    tu_assert_shape(tu_output(g, k, 0), 5, y3);
    assert_true(g->nodes[k].p.pool.count_include_pad);
    assert_true(g->nodes[k].flops == 2.0 * 2 * 125 * (27 + 1));
    dk_graph_destroy(g);
}

static void test_pool_errors(void **state)
{
    (void)state;
    const int64_t x[] = {1, 3, 8, 8}, ks[] = {2, 2}, ks1[] = {2};
    dk_graph *g = tu_new_graph(12);
    pool_graph(g, DK_OP_MAXPOOL, DK_F32, 4, x, 0, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'kernel_shape' is required");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    int k = pool_graph(g, DK_OP_AVGPOOL, DK_F32, 4, x, 0, 1);
    tu_attr_ints(g, k, "kernel_shape", 1, ks1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'kernel_shape' has 1 values but input 0 needs 2");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    k = pool_graph(g, DK_OP_AVGPOOL, DK_U8, 4, x, 0, 1);
    tu_attr_ints(g, k, "kernel_shape", 2, ks);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "uint8");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    k = pool_graph(g, DK_OP_MAXPOOL, DK_I32, 4, x, 0, 1);
    tu_attr_ints(g, k, "kernel_shape", 2, ks);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    k = pool_graph(g, DK_OP_MAXPOOL, DK_F32, 4, x, 0, 1);
    tu_attr_ints(g, k, "kernel_shape", 2, ks);
    tu_attr_int(g, k, "storage_order", 2);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "storage_order 2");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    k = pool_graph(g, DK_OP_MAXPOOL, DK_F32, 4, x, 0, 1);
    const int64_t big[] = {9, 2};
    tu_attr_ints(g, k, "kernel_shape", 2, big);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "window of 9");
    dk_graph_destroy(g);

    g = tu_new_graph(12);
    k = pool_graph(g, DK_OP_MAXPOOL, DK_F32, 4, x, 0, 1);
    const int64_t neg[] = {0, -1, 0, 0};
    tu_attr_ints(g, k, "kernel_shape", 2, ks);
    tu_attr_ints(g, k, "pads", 4, neg);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'pads' has value -1");
    dk_graph_destroy(g);
}

/* ---- MaxPool / AveragePool: kernels against the naive formulas ----------------
 * Window taps at o*stride - pad_begin + t*dilation. MaxPool: maximum over the
 * taps inside the input, Indices the first such maximum's flat index into X
 * (row major, or the spatial axes column major with storage_order 1).
 * AveragePool: sum over taps inside the input divided by their number, or
 * with count_include_pad by the number of taps inside the explicitly padded
 * input [-pad_begin, in + pad_end) (ceil_mode's extra padding not counted). */

typedef struct pool_case {
    const char *name;
    dk_op op;
    dk_dtype dtype;
    int nspatial;
    int64_t x[5];
    int64_t kernel[3], stride[3], dilation[3], pads[6]; /* zeros: attribute absent */
    const char *auto_pad;
    int ceil_mode, count_include_pad, indices, storage_order;
} pool_case;

static void naive_pool(const pool_case *pc, const dk_node *n, const dk_tensor *x,
                       const dk_tensor *y, double *ref, int64_t *ref_idx)
{
    const dk_pool_params *p = &n->p.pool;
    int k = pc->nspatial;
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t in_size = dk_shape_numel(k, x->dims + 2), out_size = dk_shape_numel(k, y->dims + 2);
    for (int64_t pl = 0; pl < planes; pl++) {
        int64_t o[3] = {0, 0, 0};
        do {
            int64_t yi = pl * out_size + row_major(o, y->dims + 2, k);
            double best = -INFINITY, sum = 0, inside_count = 0, padded_count = 0;
            int64_t best_idx = -1;
            int64_t t[3] = {0, 0, 0};
            do {
                int64_t pos[3];
                int inside = 1, in_padded = 1;
                for (int a = 0; a < k; a++) {
                    pos[a] = o[a] * p->win.stride[a] - p->win.pad_begin[a] +
                             t[a] * p->win.dilation[a];
                    if (pos[a] < 0 || pos[a] >= x->dims[2 + a]) inside = 0;
                    int64_t explicit_end = x->dims[2 + a] + p->win.pad_end[a] - p->ceil_extra[a];
                    if (pos[a] >= explicit_end) in_padded = 0;
                }
                padded_count += in_padded;
                if (!inside) continue;
                double v = dk_tensor_get(x, pl * in_size + row_major(pos, x->dims + 2, k));
                sum += v;
                inside_count++;
                if (v > best) {
                    best = v;
                    if (pc->storage_order == 0) {
                        best_idx = pl * in_size + row_major(pos, x->dims + 2, k);
                    } else { /* column major: first spatial axis fastest */
                        int64_t off = 0;
                        for (int a = k - 1; a >= 0; a--) off = off * x->dims[2 + a] + pos[a];
                        best_idx = pl * in_size + off;
                    }
                }
            } while (next_index(t, p->win.kernel, k));
            if (pc->op == DK_OP_MAXPOOL) {
                ref[yi] = best;
                ref_idx[yi] = best_idx;
            } else {
                ref[yi] = sum / (pc->count_include_pad ? padded_count : inside_count);
            }
        } while (next_index(o, y->dims + 2, k));
    }
}

static void check_pool_case(const pool_case *pc)
{
    int k = pc->nspatial;
    dk_graph *g = tu_new_graph(12);
    int node = pool_graph(g, pc->op, pc->dtype, k + 2, pc->x, 1, pc->indices ? 2 : 1);
    tu_attr_ints(g, node, "kernel_shape", k, pc->kernel);
    if (pc->stride[0]) tu_attr_ints(g, node, "strides", k, pc->stride);
    if (pc->dilation[0]) tu_attr_ints(g, node, "dilations", k, pc->dilation);
    int any_pad = 0;
    for (int i = 0; i < 2 * k; i++) any_pad |= pc->pads[i] != 0;
    if (any_pad) tu_attr_ints(g, node, "pads", 2 * k, pc->pads);
    if (pc->auto_pad) tu_attr_string(g, node, "auto_pad", pc->auto_pad);
    if (pc->ceil_mode) tu_attr_int(g, node, "ceil_mode", 1);
    if (pc->count_include_pad) tu_attr_int(g, node, "count_include_pad", 1);
    if (pc->storage_order) tu_attr_int(g, node, "storage_order", 1);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s: %s", pc->name, dk_last_error());

    const dk_node *n = &g->nodes[node];
    const dk_tensor *x = &g->values[n->inputs[0]].t;
    dk_tensor y[2] = {{0}, {0}};
    dk_eval_fn fn = pc->op == DK_OP_MAXPOOL ? dk_ref_maxpool : dk_ref_avgpool;
    if (tu_run_kernel(g, node, fn, y, pc->indices ? 2 : 1) != DK_OK)
        fail_msg("%s: %s", pc->name, dk_last_error());
    int64_t numel = dk_tensor_numel(&y[0]);
    double *ref = malloc(sizeof(double) * (size_t)numel);
    int64_t *ref_idx = malloc(sizeof(int64_t) * (size_t)numel);
    assert_non_null(ref);
    assert_non_null(ref_idx);
    naive_pool(pc, n, x, &y[0], ref, ref_idx);
    for (int64_t i = 0; i < numel; i++) {
        double v = dk_tensor_get(&y[0], i);
        if (pc->op == DK_OP_MAXPOOL && v != ref[i])
            fail_msg("%s: element %lld is %g, expected %g", pc->name, (long long)i, v, ref[i]);
        /* inputs lie in [-4, 4], so the mean of |terms| is at most 4 */
        if (pc->op == DK_OP_AVGPOOL) tu_assert_close(pc->name, i, v, ref[i], 4.0);
        if (pc->indices && ((int64_t *)y[1].data)[i] != ref_idx[i])
            fail_msg("%s: index %lld is %lld, expected %lld", pc->name, (long long)i,
                     (long long)((int64_t *)y[1].data)[i], (long long)ref_idx[i]);
    }
    free(ref);
    free(ref_idx);
    dk_tensor_reset(&y[0]);
    dk_tensor_reset(&y[1]);
    dk_graph_destroy(g);
}

static void test_pool_kernels(void **state)
{
    (void)state;
    static const pool_case cases[] = {
        {"max 3x3 s2 p1 (ResNet)", DK_OP_MAXPOOL, DK_F32, 2, {2, 3, 12, 11}, {3, 3}, {2, 2}, {0},
         {1, 1, 1, 1}, NULL, 0, 0, 1, 0},
        {"max ceil_mode with dropped window", DK_OP_MAXPOOL, DK_F32, 2, {1, 2, 5, 7}, {2, 3},
         {2, 2}, {0}, {1, 1, 1, 0}, NULL, 1, 0, 1, 0},
        {"max ceil_mode 3x3 s2", DK_OP_MAXPOOL, DK_F32, 2, {1, 3, 14, 13}, {3, 3}, {2, 2}, {0},
         {0}, NULL, 1, 0, 0, 0},
        {"max dilated, column-major indices", DK_OP_MAXPOOL, DK_F32, 2, {2, 2, 9, 8}, {2, 3},
         {1, 2}, {2, 2}, {1, 0, 0, 2}, NULL, 0, 0, 1, 1},
        {"max SAME_UPPER uint8", DK_OP_MAXPOOL, DK_U8, 2, {1, 2, 7, 6}, {3, 2}, {2, 1}, {0}, {0},
         "SAME_UPPER", 0, 0, 0, 0},
        {"max int8 pads", DK_OP_MAXPOOL, DK_I8, 2, {1, 1, 5, 5}, {5, 5}, {0}, {0},
         {2, 2, 2, 2}, NULL, 0, 0, 0, 0},
        {"max 1-D", DK_OP_MAXPOOL, DK_F32, 1, {2, 3, 17}, {4}, {3}, {0}, {1, 2}, NULL, 1, 0, 1,
         1},
        {"max 3-D column-major", DK_OP_MAXPOOL, DK_F32, 3, {1, 2, 5, 6, 4}, {2, 3, 2}, {2, 2, 1},
         {0}, {1, 1, 0, 0, 0, 1}, NULL, 0, 0, 1, 1},
        {"avg", DK_OP_AVGPOOL, DK_F32, 2, {2, 3, 10, 9}, {3, 3}, {2, 2}, {0}, {1, 1, 1, 1}, NULL,
         0, 0, 0, 0},
        {"avg count_include_pad", DK_OP_AVGPOOL, DK_F32, 2, {1, 3, 10, 9}, {3, 3}, {2, 2}, {0},
         {1, 2, 2, 1}, NULL, 0, 1, 0, 0},
        {"avg ceil_mode", DK_OP_AVGPOOL, DK_F32, 2, {1, 2, 8, 9}, {3, 3}, {2, 2}, {0}, {0},
         NULL, 1, 0, 0, 0},
        {"avg ceil_mode count_include_pad", DK_OP_AVGPOOL, DK_F32, 2, {1, 2, 8, 10}, {3, 2},
         {2, 3}, {0}, {1, 1, 1, 1}, NULL, 1, 1, 0, 0},
        {"avg SAME_LOWER count_include_pad", DK_OP_AVGPOOL, DK_F32, 2, {1, 2, 7, 7}, {4, 4},
         {3, 3}, {0}, {0}, "SAME_LOWER", 0, 1, 0, 0},
        {"avg dilated", DK_OP_AVGPOOL, DK_F32, 2, {1, 2, 9, 9}, {2, 2}, {1, 1}, {3, 2}, {0},
         NULL, 0, 0, 0, 0},
        {"avg 1-D", DK_OP_AVGPOOL, DK_F32, 1, {2, 3, 11}, {3}, {2}, {0}, {1, 1}, NULL, 1, 1, 0,
         0},
        {"avg 3-D", DK_OP_AVGPOOL, DK_F32, 3, {1, 2, 6, 5, 7}, {2, 3, 3}, {2, 1, 2}, {0},
         {0, 1, 1, 1, 0, 1}, NULL, 0, 1, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) check_pool_case(&cases[c]);
}

/* Random pooling geometries, with ceil_mode and count_include_pad; pads stay
 * below half the window so that every window reads the input. */
static void test_pool_kernels_random(void **state)
{
    (void)state;
    for (int round = 0; round < 60; round++) {
        pool_case pc;
        memset(&pc, 0, sizeof pc);
        char name[64];
        snprintf(name, sizeof name, "random pool %d", round);
        pc.name = name;
        pc.op = tu_rng_int(0, 1) ? DK_OP_MAXPOOL : DK_OP_AVGPOOL;
        pc.dtype = DK_F32;
        pc.nspatial = (int)tu_rng_int(1, 3);
        pc.x[0] = tu_rng_int(1, 2);
        pc.x[1] = tu_rng_int(1, 3);
        int64_t max_extra = pc.nspatial == 3 ? 4 : 9;
        for (int a = 0; a < pc.nspatial; a++) {
            int64_t k = tu_rng_int(1, 4), d = tu_rng_int(1, 2), s = tu_rng_int(1, 3);
            int64_t span = d * (k - 1) + 1, half = (span - 1) / 2;
            pc.kernel[a] = k;
            pc.stride[a] = s;
            pc.dilation[a] = d;
            pc.pads[a] = tu_rng_int(0, half);
            pc.pads[pc.nspatial + a] = tu_rng_int(0, half);
            pc.x[2 + a] = span + tu_rng_int(0, max_extra);
        }
        pc.ceil_mode = (int)tu_rng_int(0, 1);
        if (pc.op == DK_OP_MAXPOOL) {
            pc.indices = (int)tu_rng_int(0, 1);
            pc.storage_order = pc.indices ? (int)tu_rng_int(0, 1) : 0;
        } else {
            pc.count_include_pad = (int)tu_rng_int(0, 1);
        }
        check_pool_case(&pc);
    }
}

/* ---- Global pools ----------------------------------------------------------- */

static void test_global_pools(void **state)
{
    (void)state;
    static const struct {
        int rank;
        int64_t x[5];
    } shapes[] = {{3, {2, 3, 17}}, {4, {2, 5, 7, 6}}, {5, {1, 3, 4, 3, 5}}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++)
        for (int avg = 0; avg < 2; avg++) {
            dk_graph *g = tu_new_graph(11);
            dk_op op = avg ? DK_OP_GLOBALAVGPOOL : DK_OP_GLOBALMAXPOOL;
            int k = pool_graph(g, op, DK_F32, shapes[c].rank, shapes[c].x, 1, 1);
            assert_int_equal(dk_graph_finalize(g), DK_OK);
            int64_t ydims[5];
            for (int d = 0; d < shapes[c].rank; d++) ydims[d] = d < 2 ? shapes[c].x[d] : 1;
            tu_assert_shape(tu_output(g, k, 0), shapes[c].rank, ydims);
            const dk_tensor *x = &g->values[g->nodes[k].inputs[0]].t;
            dk_tensor y = {0};
            assert_int_equal(tu_run_kernel(g, k, avg ? dk_ref_globalavgpool : dk_ref_globalmaxpool,
                                           &y, 1),
                             DK_OK);
            int64_t planes = x->dims[0] * x->dims[1], size = dk_tensor_numel(x) / planes;
            for (int64_t p = 0; p < planes; p++) {
                double sum = 0, best = -INFINITY;
                for (int64_t i = 0; i < size; i++) {
                    double v = ((float *)x->data)[p * size + i];
                    sum += v;
                    if (v > best) best = v;
                }
                double got = ((float *)y.data)[p];
                if (avg) tu_assert_close("GlobalAveragePool", p, got, sum / size, fabs(sum / size));
                else if (got != best) fail_msg("GlobalMaxPool plane %lld: %g != %g", (long long)p, got, best);
            }
            dk_tensor_reset(&y);
            dk_graph_destroy(g);
        }

    dk_graph *g = tu_new_graph(11);
    const int64_t x2[] = {2, 3};
    pool_graph(g, DK_OP_GLOBALAVGPOOL, DK_F32, 2, x2, 0, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "expected rank >= 3");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_window");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_shape_resnet_stem),
        cmocka_unit_test(test_conv_shape_auto_pad),
        cmocka_unit_test(test_conv_shape_3d_dilated_grouped),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_conv_kernel),
        cmocka_unit_test(test_conv_kernel_random),
        cmocka_unit_test(test_pool_shape_ceil_mode),
        cmocka_unit_test(test_pool_shape_same_and_indices),
        cmocka_unit_test(test_pool_errors),
        cmocka_unit_test(test_pool_kernels),
        cmocka_unit_test(test_pool_kernels_random),
        cmocka_unit_test(test_global_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
