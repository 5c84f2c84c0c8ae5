/* Unit tests for ConvTranspose, Resize/Upsample and InstanceNormalization:
 * shape inference (layers/op_convtranspose.c, op_resize.c, op_norm.c) with
 * shapes and pads worked out by hand from the ONNX spec's formulas, the
 * refusals (absurd sizes, unimplemented attribute values: one error naming
 * the node and the attribute), and the reference kernels against naive
 * computations written from the ONNX definitions (random data, printed seed)
 * or against small cases computed by hand.
 *
 * Tolerance for the naive comparisons: both sides sum in double and round
 * once to float32, so |y - ref| <= 2^-23 |ref| + 1e-12 sum|terms|. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "runtime/checked.h"
#include "test_util.h"

/* ---- ConvTranspose ---------------------------------------------------------------- */

static int ct_graph(dk_graph *g, int k, const int64_t *xd, const int64_t *wd, int bias)
{
    int64_t m = wd[1];
    int ins[3] = {tu_add_input(g, "x", DK_F32, k + 2, xd, -1, 1),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, k + 2, wd, -1, 1), -1};
    if (bias) ins[2] = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &m, -1, 1);
    return tu_add_node(g, DK_OP_CONVTRANSPOSE, ins, bias ? 3 : 2, 1);
}

/* The spec's output size stride (D - 1) + output_padding + (k - 1) d + 1 - pads,
 * and output_shape / auto_pad's pad split, on hand-worked numbers. */
static void test_convtranspose_shapes(void **state)
{
    (void)state;
    static const int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {2, 3, 3, 3};
    /* strides 3,2 pads 1,2,1,2: 3*2+3-2 = 7, 2*2+3-4 = 3 (test_convtranspose_pads) */
    dk_graph *g = tu_new_graph(13);
    int k = ct_graph(g, 2, xd, wd, 1);
    tu_attr_ints(g, k, "strides", 2, (int64_t[]){3, 2});
    tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 2, 1, 2});
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 3, 7, 3});
    dk_graph_destroy(g);
    /* output_shape 10,8 with strides 3,2: natural 9,7; total -1: pads 0 at the
     * beginning, -1 at the end (Python's floor division) */
    g = tu_new_graph(13);
    k = ct_graph(g, 2, xd, wd, 0);
    tu_attr_ints(g, k, "strides", 2, (int64_t[]){3, 2});
    tu_attr_ints(g, k, "output_shape", 2, (int64_t[]){10, 8});
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 3, 10, 8});
    assert_int_equal(g->nodes[k].p.convt.win.pad_begin[0], 0);
    assert_int_equal(g->nodes[k].p.convt.win.pad_end[0], -1);
    dk_graph_destroy(g);
    /* SAME_UPPER, stride 2: output 6; natural 2*2+3 = 7, total 1: 0 + 1 */
    g = tu_new_graph(13);
    k = ct_graph(g, 2, xd, wd, 0);
    tu_attr_ints(g, k, "strides", 2, (int64_t[]){2, 2});
    tu_attr_string(g, k, "auto_pad", "SAME_UPPER");
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 3, 6, 6});
    assert_int_equal(g->nodes[k].p.convt.win.pad_begin[0], 0);
    assert_int_equal(g->nodes[k].p.convt.win.pad_end[0], 1);
    dk_graph_destroy(g);
    /* output_padding 1,1 with stride 2, pads 1: 2*2+1+3-2 = 6; folded into pad_end */
    g = tu_new_graph(13);
    k = ct_graph(g, 2, xd, wd, 0);
    tu_attr_ints(g, k, "strides", 2, (int64_t[]){2, 2});
    tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    tu_attr_ints(g, k, "output_padding", 2, (int64_t[]){1, 1});
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 3, 6, 6});
    assert_int_equal(g->nodes[k].p.convt.win.pad_end[1], 0);
    dk_graph_destroy(g);
}

static void test_convtranspose_errors(void **state)
{
    (void)state;
    static const int64_t xd[3] = {1, 2, 5}, wd[3] = {2, 3, 3};
    /* a stride of 2^40 on 5 positions: an output over the limit */
    dk_graph *g = tu_new_graph(13);
    int k = ct_graph(g, 1, xd, wd, 0);
    tu_attr_ints(g, k, "strides", 1, (int64_t[]){DK_MAX_DIM});
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'strides'");
    dk_graph_destroy(g);
    /* a stride beyond 2^40: refused by the attribute's range */
    g = tu_new_graph(13);
    k = ct_graph(g, 1, xd, wd, 0);
    tu_attr_ints(g, k, "strides", 1, (int64_t[]){INT64_MAX});
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'strides'");
    dk_graph_destroy(g);
    /* pads eating the whole output */
    g = tu_new_graph(13);
    k = ct_graph(g, 1, xd, wd, 0);
    tu_attr_ints(g, k, "pads", 2, (int64_t[]){4, 4});
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'pads'");
    dk_graph_destroy(g);
    /* W's rows must be X's channels */
    g = tu_new_graph(13);
    k = ct_graph(g, 1, xd, (int64_t[]){3, 3, 3}, 0);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 1");
    dk_graph_destroy(g);
    /* group must divide the channels */
    g = tu_new_graph(13);
    k = ct_graph(g, 1, (int64_t[]){1, 3, 5}, (int64_t[]){3, 1, 3}, 0);
    tu_attr_int(g, k, "group", 2);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'group'");
    dk_graph_destroy(g);
}

/* The kernel refuses sizes its accumulators cannot hold before allocating
 * anything (the output here is a shape with no data behind it). */
static void test_convtranspose_refuses_absurd(void **state)
{
    (void)state;
    dk_node n = {0};
    n.name = "absurd";
    n.op = DK_OP_CONVTRANSPOSE;
    n.p.convt.group = 1;
    n.p.convt.win.nspatial = 2;
    for (int i = 0; i < 2; i++) {
        n.p.convt.win.kernel[i] = n.p.convt.win.stride[i] = n.p.convt.win.dilation[i] = 1;
        n.p.convt.win.pad_begin[i] = n.p.convt.win.pad_end[i] = 0;
    }
    dk_tensor x = {0}, w = {0}, y = {0};
    assert_int_equal(dk_tensor_alloc(&x, DK_F32, 4, (int64_t[]){1, 1, 1, 1}), DK_OK);
    assert_int_equal(dk_tensor_alloc(&w, DK_F32, 4, (int64_t[]){1, 1, 1, 1}), DK_OK);
    y.dtype = DK_F32;
    y.ndim = 4;
    int64_t yd[4] = {1, 1, (int64_t)1 << 31, (int64_t)1 << 31};
    memcpy(y.dims, yd, sizeof yd);
    const dk_tensor *in[3] = {&x, &w, NULL};
    dk_tensor *out[1] = {&y};
    tu_assert_status(dk_ref_convtranspose(&n, in, out), DK_ERR_UNSUPPORTED, "too large to plan");
    dk_tensor_reset(&x);
    dk_tensor_reset(&w);
}

/* y[n, m, o] = b[m] + sum over c in m's group, taps t, positions d with
 * d * s + t * dil - pad_begin = o of x[n, c, d] W[c, m', t] (the ONNX
 * definition, written as a gather), against the kernel on random layers. */
static void test_convtranspose_kernel_random(void **state)
{
    (void)state;
    for (int rep = 0; rep < 24; rep++) {
        int k = (int)tu_rng_int(1, 3);
        int64_t group = tu_rng_int(1, 3), C = group * tu_rng_int(1, 3), M = group * tu_rng_int(1, 3);
        int64_t xd[5] = {tu_rng_int(1, 2), C}, wd[5] = {C, M / group}, s[3], d[3], pads[6];
        for (int a = 0; a < k; a++) {
            xd[2 + a] = tu_rng_int(1, k == 3 ? 4 : 7);
            wd[2 + a] = tu_rng_int(1, 4);
            s[a] = tu_rng_int(1, 3);
            d[a] = tu_rng_int(1, 2);
            pads[a] = tu_rng_int(0, 1);
            pads[k + a] = tu_rng_int(0, 1);
        }
        int bias = rep % 2;
        dk_graph *g = tu_new_graph(13);
        int node = ct_graph(g, k, xd, wd, bias);
        tu_attr_ints(g, node, "strides", k, s);
        tu_attr_ints(g, node, "dilations", k, d);
        tu_attr_ints(g, node, "pads", 2 * k, pads);
        if (group > 1) tu_attr_int(g, node, "group", group);
        if (dk_graph_finalize(g) != DK_OK) { /* pads larger than the natural size */
            dk_graph_destroy(g);
            continue;
        }
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, node, dk_ref_convtranspose, &y, 1), DK_OK);
        const dk_node *n = &g->nodes[node];
        const float *x = g->values[n->inputs[0]].t.data, *w = g->values[n->inputs[1]].t.data;
        const float *b = bias ? g->values[n->inputs[2]].t.data : NULL;
        int64_t od[3] = {1, 1, 1}, id[3] = {1, 1, 1}, kd[3] = {1, 1, 1}, S[3] = {1, 1, 1},
                D[3] = {1, 1, 1}, P[3] = {0, 0, 0};
        for (int a = 0; a < k; a++) {
            int e = 3 - k + a;
            od[e] = y.dims[2 + a], id[e] = xd[2 + a], kd[e] = wd[2 + a];
            S[e] = s[a], D[e] = d[a], P[e] = pads[a];
        }
        int64_t cpg = C / group, mpg = M / group, taps = kd[0] * kd[1] * kd[2];
        int64_t i = 0;
        for (int64_t bi = 0; bi < xd[0]; bi++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t o0 = 0; o0 < od[0]; o0++)
                    for (int64_t o1 = 0; o1 < od[1]; o1++)
                        for (int64_t o2 = 0; o2 < od[2]; o2++, i++) {
                            double sum = b ? b[m] : 0, mag = b ? fabs(b[m]) : 0;
                            int64_t grp = m / mpg;
                            for (int64_t ci = 0; ci < cpg; ci++) {
                                int64_t c = grp * cpg + ci;
                                for (int64_t t = 0; t < taps; t++) {
                                    int64_t tt[3] = {t / (kd[1] * kd[2]), t / kd[2] % kd[1], t % kd[2]};
                                    int64_t o[3] = {o0, o1, o2}, src[3], ok = 1;
                                    for (int a = 0; a < 3 && ok; a++) {
                                        int64_t num = o[a] + P[a] - tt[a] * D[a];
                                        ok = num >= 0 && num % S[a] == 0 && num / S[a] < id[a];
                                        src[a] = ok ? num / S[a] : 0;
                                    }
                                    if (!ok) continue;
                                    double xv = x[((bi * C + c) * id[0] + src[0]) * id[1] * id[2] +
                                                  src[1] * id[2] + src[2]];
                                    double wv = w[(c * mpg + m % mpg) * taps + t];
                                    sum += xv * wv;
                                    mag += fabs(xv * wv);
                                }
                            }
                            double got = ((float *)y.data)[i];
                            if (!(fabs(got - sum) <= 0x1p-23 * fabs(sum) + 1e-12 * mag))
                                fail_msg("ConvTranspose %dd group %lld element %lld: %.9g, naive %.9g",
                                         k, (long long)group, (long long)i, got, sum);
                        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

/* ---- Resize and Upsample ---------------------------------------------------------------- */

/* Resize-13 of x [1, 1, h, w] holding v with scales (or sizes when sz). */
static dk_graph *resize_graph(int *node, int64_t h, int64_t w, const float *v, const float *sc,
                              const int64_t *sz, const char *mode, const char *coord)
{
    dk_graph *g = tu_new_graph(13);
    int64_t xd[4] = {1, 1, h, w}, four = 4;
    int x = tu_add_input(g, "x", DK_F32, 4, xd, 0, 1);
    if (v) memcpy(g->values[x].t.data, v, sizeof(float) * (size_t)(h * w));
    int ins[4] = {x, -1, -1, -1};
    if (sc) {
        ins[2] = tu_add_value(g, "scales", DK_VALUE_CONSTANT, DK_F32, 1, &four, 1, 1);
        memcpy(g->values[ins[2]].t.data, sc, 4 * sizeof(float));
    } else {
        ins[3] = tu_add_value(g, "sizes", DK_VALUE_CONSTANT, DK_I64, 1, &four, 1, 1);
        memcpy(g->values[ins[3]].t.data, sz, 4 * sizeof(int64_t));
    }
    *node = tu_add_node(g, DK_OP_RESIZE, ins, sc ? 3 : 4, 1);
    tu_attr_string(g, *node, "mode", mode);
    if (coord) tu_attr_string(g, *node, "coordinate_transformation_mode", coord);
    return g;
}

static void expect_values(dk_graph *g, int node, int n, const float *want, const char *what)
{
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s: %s", what, dk_last_error());
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, node, dk_ref_resize, &y, 1), DK_OK);
    assert_int_equal(dk_tensor_numel(&y), n);
    for (int i = 0; i < n; i++)
        if (fabsf(((float *)y.data)[i] - want[i]) > 1e-6f)
            fail_msg("%s: element %d is %g, expected %g", what, i, ((float *)y.data)[i], want[i]);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* Small cases worked out by hand from the coordinate formulas. */
static void test_resize_hand_cases(void **state)
{
    (void)state;
    static const float x4[4] = {1, 2, 3, 4}; /* [[1, 2], [3, 4]] */
    int k;
    /* nearest asymmetric floor x2: every element repeated 2x2 */
    dk_graph *g = resize_graph(&k, 2, 2, x4, (float[]){1, 1, 2, 2}, NULL, "nearest", "asymmetric");
    tu_attr_string(g, k, "nearest_mode", "floor");
    expect_values(g, k, 16, (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
                  "nearest asymmetric floor x2");
    /* linear align_corners to 3x3: x = y * (2-1)/(3-1) = 0, 0.5, 1 */
    g = resize_graph(&k, 2, 2, x4, NULL, (int64_t[]){1, 1, 3, 3}, "linear", "align_corners");
    expect_values(g, k, 9, (float[]){1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, "linear align_corners");
    /* linear half_pixel x2 on one row [1, 2]: x = (y + 0.5)/2 - 0.5 = -0.25, 0.25,
     * 0.75, 1.25 -> clamped 1, 1.25, 1.75, 2 */
    g = resize_graph(&k, 1, 2, x4, (float[]){1, 1, 1, 2}, NULL, "linear", "half_pixel");
    expect_values(g, k, 4, (float[]){1, 1.25f, 1.75f, 2}, "linear half_pixel x2");
    /* nearest half_pixel round_prefer_ceil, 4 -> 3 on [1, 2, 3, 4]: x = (y + 0.5) * 4/3
     * - 0.5 = 1/6, 1.5, 17/6 -> 0, 2 (tie to ceil), 3 */
    g = resize_graph(&k, 1, 4, x4, NULL, (int64_t[]){1, 1, 1, 3}, "nearest", "half_pixel");
    tu_attr_string(g, k, "nearest_mode", "round_prefer_ceil");
    expect_values(g, k, 3, (float[]){1, 3, 4}, "nearest round_prefer_ceil 4->3");
    /* the same with round_prefer_floor: the tie goes to 1 */
    g = resize_graph(&k, 1, 4, x4, NULL, (int64_t[]){1, 1, 1, 3}, "nearest", "half_pixel");
    expect_values(g, k, 3, (float[]){1, 2, 4}, "nearest round_prefer_floor 4->3");
    /* scales 0.6 on 4: floor(2.4) = 2 outputs */
    g = resize_graph(&k, 1, 4, x4, (float[]){1, 1, 1, 0.6f}, NULL, "nearest", "asymmetric");
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 1, 1, 2});
    dk_graph_destroy(g);
}

static void test_resize_refusals(void **state)
{
    (void)state;
    int k;
    dk_graph *g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, 2, 2}, NULL, "cubic", NULL);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "'mode' 'cubic'");
    dk_graph_destroy(g);
    g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, 2, 2}, NULL, "linear", "tf_crop_and_resize");
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "'coordinate_transformation_mode'");
    dk_graph_destroy(g);
    g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, 2, 2}, NULL, "nearest", NULL);
    tu_attr_int(g, k, "exclude_outside", 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "'exclude_outside'");
    dk_graph_destroy(g);
    g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, 0.5f, 0.5f}, NULL, "linear", NULL);
    g->opset = 18;
    tu_attr_int(g, k, "antialias", 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "'antialias'");
    dk_graph_destroy(g);
    g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, -2, 2}, NULL, "nearest", NULL);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'scales'");
    dk_graph_destroy(g);
    g = resize_graph(&k, 2, 2, NULL, (float[]){1, 1, 1e13f, 1}, NULL, "nearest", NULL);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "'scales'");
    dk_graph_destroy(g);
    /* scales fed at run time */
    g = tu_new_graph(13);
    int64_t xd[4] = {1, 1, 2, 2}, four = 4;
    int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, 0, 1), -1,
                  tu_add_input(g, "scales", DK_F32, 1, &four, 1, 2)};
    k = tu_add_node(g, DK_OP_RESIZE, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "constant");
    dk_graph_destroy(g);
    /* Upsample-9 nearest downsampling is not defined */
    g = tu_new_graph(9);
    int up[2] = {tu_add_input(g, "x", DK_F32, 4, xd, 0, 1),
                 tu_add_value(g, "scales", DK_VALUE_CONSTANT, DK_F32, 1, &four, 1, 1)};
    ((float *)g->values[up[1]].t.data)[3] = 0.5f;
    k = tu_add_node(g, DK_OP_UPSAMPLE, up, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "downsampling");
    dk_graph_destroy(g);
}

/* ---- InstanceNormalization ---------------------------------------------------------------- */

static void test_instancenorm_kernel_random(void **state)
{
    (void)state;
    for (int rep = 0; rep < 8; rep++) {
        int rank = (int)tu_rng_int(3, 5);
        int64_t xd[5] = {tu_rng_int(1, 3), tu_rng_int(1, 8)}, C;
        for (int a = 2; a < rank; a++) xd[a] = tu_rng_int(1, 9);
        C = xd[1];
        dk_graph *g = tu_new_graph(13);
        int ins[3] = {tu_add_input(g, "x", DK_F32, rank, xd, -3, 5),
                      tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, &C, -2, 2),
                      tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &C, -1, 1)};
        int k = tu_add_node(g, DK_OP_INSTANCENORM, ins, 3, 1);
        float eps = rep == 0 ? 1e-5f : (float)tu_rng_uniform(1e-6, 1e-2);
        if (rep) tu_attr_float(g, k, "epsilon", eps);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_instancenorm, &y, 1), DK_OK);
        const float *x = g->values[ins[0]].t.data, *s = g->values[ins[1]].t.data,
                    *b = g->values[ins[2]].t.data;
        int64_t K = dk_shape_numel(rank - 2, xd + 2);
        for (int64_t p = 0; p < xd[0] * C; p++) {
            double mean = 0, var = 0;
            for (int64_t j = 0; j < K; j++) mean += x[p * K + j];
            mean /= (double)K;
            for (int64_t j = 0; j < K; j++) var += (x[p * K + j] - mean) * (x[p * K + j] - mean);
            var /= (double)K;
            for (int64_t j = 0; j < K; j++) {
                double want = (x[p * K + j] - mean) / sqrt(var + eps) * s[p % C] + b[p % C];
                double got = ((float *)y.data)[p * K + j];
                if (!(fabs(got - want) <= 0x1p-23 * fabs(want) + 1e-9))
                    fail_msg("InstanceNormalization plane %lld element %lld: %.9g, naive %.9g",
                             (long long)p, (long long)j, got, want);
            }
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_instancenorm_errors(void **state)
{
    (void)state;
    int64_t xd[4] = {1, 3, 2, 2}, two = 2, three = 3;
    dk_graph *g = tu_new_graph(13);
    int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, 0, 1),
                  tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, &two, 0, 1),
                  tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &three, 0, 1)};
    tu_add_node(g, DK_OP_INSTANCENORM, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 1 (scale)");
    dk_graph_destroy(g);
    g = tu_new_graph(13);
    int64_t x2[2] = {1, 3};
    int ins2[3] = {tu_add_input(g, "x", DK_F32, 2, x2, 0, 1),
                   tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, &three, 0, 1),
                   tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &three, 0, 1)};
    int k = tu_add_node(g, DK_OP_INSTANCENORM, ins2, 3, 1);
    (void)k;
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "rank >= 3");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_upsampling");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convtranspose_shapes),
        cmocka_unit_test(test_convtranspose_errors),
        cmocka_unit_test(test_convtranspose_refuses_absurd),
        cmocka_unit_test(test_convtranspose_kernel_random),
        cmocka_unit_test(test_resize_hand_cases),
        cmocka_unit_test(test_resize_refusals),
        cmocka_unit_test(test_instancenorm_kernel_random),
        cmocka_unit_test(test_instancenorm_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
