/* Unit tests for the tolerance table (check/tolerance.c): the derivation
 * against numbers worked out by hand (gamma_n, the coefficients of a specific
 * convolution, the per-element bound of a Softmax), the magnitudes S against
 * naive double loops, the metric on crafted tensors, and the table checked
 * against simulated backends: naive float32 and bf16 convolutions and GEMMs
 * (recursive summation, the order with the largest error bound) must pass
 * their rows, and the bf16 ones must fail the fp32 row. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "deltakern/tolerance.h"
#include "check/tolerance.h"
#include "test_util.h"

#define U32 0x1p-24
#define U64 0x1p-53

/* |got - want| <= rel |want| (both finite) */
static void assert_rel(const char *what, double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("%s: %.17g, expected %.17g", what, got, want);
}

/* Node inputs as a backend receives them. */
static void node_inputs(const dk_graph *g, int k, const dk_tensor **in)
{
    const dk_node *n = &g->nodes[k];
    for (int i = 0; i < n->n_inputs; i++) in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
}

/* The reference output of node k (the absolute-reference helper with no transform). */
static void ref_output(const dk_graph *g, int k, dk_tensor *y)
{
    const dk_tensor *in[8] = {0};
    node_inputs(g, k, in);
    memset(y, 0, sizeof *y);
    dk_status st = dk_tolerance_abs_reference(g, &g->nodes[k], in, NULL, 0, y);
    if (st != DK_OK) fail_msg("reference run: %s", dk_last_error());
}

static void set_values(dk_tensor *t, const float *v)
{
    memcpy(t->data, v, sizeof(float) * (size_t)dk_tensor_numel(t));
}

static float *fdata(const dk_tensor *t) { return t->data; }

/* Round to nearest even bfloat16 (finite values). */
static float to_bf16(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    b += 0x7FFFu + ((b >> 16) & 1u);
    b &= 0xFFFF0000u;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* ---- gamma and the precisions ------------------------------------------------ */

static void test_gamma(void **state)
{
    (void)state;
    assert_true(dk_gamma(0, U32) == 0);
    assert_rel("gamma_1(2^-24)", dk_gamma(1, U32), U32 / (1 - U32), 1e-15);
    assert_rel("gamma_2(1/4)", dk_gamma(2, 0.25), 1.0, 1e-15);        /* 0.5 / 0.5 */
    assert_rel("gamma_3(1/8)", dk_gamma(3, 0.125), 0.6, 1e-15);       /* 0.375 / 0.625 */
    assert_rel("gamma_100(2^-24)", dk_gamma(100, U32), 100 * U32 / (1 - 100 * U32), 1e-15);
    assert_true(isinf(dk_gamma(4, 0.25)));                             /* n u = 1 */
    assert_true(isinf(dk_gamma(5, 0.25)));
}

static void test_precisions(void **state)
{
    (void)state;
    const dk_precision_info *fp32 = dk_precision_get(DK_PREC_FP32);
    const dk_precision_info *bf16 = dk_precision_get(DK_PREC_BF16);
    assert_true(fp32->u == U32 && fp32->u_in == 0 && fp32->u_acc == U32 && fp32->u_out == 0);
    assert_true(bf16->u == 0x1p-8 && bf16->u_in == 0x1p-8 && bf16->u_acc == U32);
    assert_true(dk_precision_get(DK_PREC_TF32)->u == 0x1p-11);
    assert_true(dk_precision_get(DK_PREC_FP16)->u == 0x1p-11);
    assert_null(dk_precision_get(DK_PREC_COUNT));
    dk_precision p;
    assert_int_equal(dk_precision_from_name("bf16", &p), DK_OK);
    assert_int_equal(p, DK_PREC_BF16);
    tu_assert_status(dk_precision_from_name("fp8", &p), DK_ERR_INVALID, "fp8");

    dk_variant v;
    assert_int_equal(dk_variant_parse("ref", &v), DK_OK);
    assert_int_equal(dk_variant_precision(&v), DK_PREC_FP32);
    /* a variant with fpmath=bf16, the option of the precision role (filled by
     * hand: whether the onednn backend is built and declares fpmath is not
     * this test's concern) */
    memset(&v, 0, sizeof v);
    v.backend = dk_backend_find("onednn");
    v.n_options = 1;
    strcpy(v.options[0].key, "fpmath");
    strcpy(v.options[0].value, "bf16");
    v.options[0].role = DK_ROLE_PRECISION;
    assert_int_equal(dk_variant_precision(&v), DK_PREC_BF16);
    strcpy(v.options[0].value, "strict");
    assert_int_equal(dk_variant_precision(&v), DK_PREC_FP32);
    assert_int_equal(dk_variant_precision(NULL), DK_PREC_FP32);
}

/* ---- a specific convolution, by hand ----------------------------------------------- */

/* Conv x [1,4,5,5], w [2,4,3,3], bias, pads 1. */
static dk_graph *conv_graph(int group, int64_t cin, int *node)
{
    dk_graph *g = tu_new_graph(13);
    const int64_t xd[] = {1, cin, 5, 5}, wd[] = {2 * group, cin / group, 3, 3}, bd[] = {2 * group};
    int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, -1, 1),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1),
                  tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, bd, -1, 1)};
    *node = tu_add_node(g, DK_OP_CONV, ins, 3, 1);
    const int64_t pads[] = {1, 1, 1, 1};
    tu_attr_ints(g, *node, "pads", 4, pads);
    if (group > 1) tu_attr_int(g, *node, "group", group);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    *node = 0;
    return g;
}

static void test_conv_coefficients(void **state)
{
    (void)state;
    int k;
    dk_graph *g = conv_graph(1, 4, &k);
    dk_tolerance t;
    /* K = C_in/group * kh * kw = 4 * 3 * 3 = 36; n = K + 1 (bias) = 37 */
    assert_int_equal(dk_tolerance_for_node(g, &g->nodes[k], DK_PREC_FP32, &t), DK_OK);
    assert_int_equal(t.K, 36);
    assert_true(t.n == 37);
    assert_int_equal(t.m, 2);
    assert_false(t.exact);
    /* fp32: c = gamma_37(2^-24) + gamma_37(2^-53) = 37u/(1-37u) + 37u'/(1-37u') */
    assert_rel("fp32 c", t.c, 37 * U32 / (1 - 37 * U32) + 37 * U64 / (1 - 37 * U64), 1e-14);
    assert_true(t.c_in == 0 && t.c_a == 0);
    assert_true(t.c_out == U32); /* the reference's own rounding to float32 */
    /* floor = n eta_acc + (m K + 1) eta_io = (37 + 73) 2^-126 */
    assert_rel("fp32 floor", t.floor, 110 * 0x1p-126, 1e-15);

    /* bf16: e_in = (1 + 2^-8)^2 - 1 = 2^-7 + 2^-16 */
    assert_int_equal(dk_tolerance_for_node(g, &g->nodes[k], DK_PREC_BF16, &t), DK_OK);
    double e_in = 0x1p-7 + 0x1p-16;
    assert_rel("bf16 c", t.c, e_in + 37 * U32 / (1 - 37 * U32) * (1 + e_in) + 37 * U64 / (1 - 37 * U64),
               1e-14);
    dk_graph_destroy(g);

    /* grouped: x [1,6,5,5], group 2, w [4,3,3,3]: K = 6/2 * 9 = 27 */
    g = conv_graph(2, 6, &k);
    assert_int_equal(dk_tolerance_for_node(g, &g->nodes[k], DK_PREC_FP32, &t), DK_OK);
    assert_int_equal(t.K, 27);
    assert_true(t.n == 28);
    dk_graph_destroy(g);

    /* the table's typical rows: coefficient = c + c_in + c_out */
    double c;
    assert_int_equal(dk_tolerance_coefficient(DK_OP_CONV, DK_PREC_FP32, 576, &c), DK_OK);
    assert_rel("Conv K=576", c, dk_gamma(577, U32) + dk_gamma(577, U64) + U32, 1e-14);
    assert_int_equal(dk_tolerance_coefficient(DK_OP_ADD, DK_PREC_FP32, 1, &c), DK_OK);
    assert_rel("Add", c, dk_gamma(1, U32) + dk_gamma(1, U64) + U32, 1e-14);
    assert_int_equal(dk_tolerance_coefficient(DK_OP_RELU, DK_PREC_FP32, 1, &c), DK_OK);
    assert_true(c == 0); /* exact */
    assert_int_equal(dk_tolerance_coefficient(DK_OP_SOFTMAX, DK_PREC_FP32, 10, &c), DK_OK);
    /* n = K + 1 + 2T = 10 + 1 + 16 */
    assert_rel("Softmax K=10", c, dk_gamma(27, U32) + dk_gamma(27, U64) + U32, 1e-14);
    tu_assert_status(dk_tolerance_coefficient(DK_OP_SHAPE, DK_PREC_FP32, 1, &c),
                     DK_ERR_UNSUPPORTED, "Shape");
    /* every row prints with its derivation */
    for (int i = 0; dk__tolerance_row(i); i++) {
        const dk__tol_row_text *r = dk__tolerance_row(i);
        assert_true(r->k && r->n && r->s && r->why && r->why[0] && r->m >= 1);
    }
}

/* ---- magnitudes --------------------------------------------------------------------- */

static void test_conv_magnitude(void **state)
{
    (void)state;
    int k;
    dk_graph *g = conv_graph(1, 4, &k);
    const dk_tensor *in[8] = {0};
    node_inputs(g, k, in);
    dk_tensor y;
    ref_output(g, k, &y);
    double S[50];
    assert_int_equal(dk_tolerance_magnitude(g, &g->nodes[k], in, &y, S), DK_OK);
    const float *x = fdata(in[0]), *w = fdata(in[1]), *b = fdata(in[2]);
    for (int m = 0; m < 2; m++)
        for (int oh = 0; oh < 5; oh++)
            for (int ow = 0; ow < 5; ow++) {
                double want = fabs(b[m]);
                for (int c = 0; c < 4; c++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++) {
                            int ih = oh - 1 + kh, iw = ow - 1 + kw;
                            if (ih < 0 || ih >= 5 || iw < 0 || iw >= 5) continue;
                            want += fabs(w[((m * 4 + c) * 3 + kh) * 3 + kw]) *
                                    fabs(x[(c * 5 + ih) * 5 + iw]);
                        }
                /* S comes out of the reference rounded to float32 */
                assert_rel("conv S", S[(m * 5 + oh) * 5 + ow], want, 0x1p-23);
            }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_gemm_and_batchnorm_magnitude(void **state)
{
    (void)state;
    /* Gemm with negative alpha and beta: S = |alpha| |A||B| + |beta| |C| */
    dk_graph *g = tu_new_graph(13);
    const int64_t ad[] = {2, 3}, bd[] = {3, 2}, cd[] = {2};
    int ins[3] = {tu_add_input(g, "a", DK_F32, 2, ad, -1, 1),
                  tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, bd, -1, 1),
                  tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_F32, 1, cd, -1, 1)};
    int k = tu_add_node(g, DK_OP_GEMM, ins, 3, 1);
    tu_attr_float(g, k, "alpha", -2.0f);
    tu_attr_float(g, k, "beta", -0.5f);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *in[8] = {0};
    node_inputs(g, 0, in);
    dk_tensor y;
    ref_output(g, 0, &y);
    double S[4];
    assert_int_equal(dk_tolerance_magnitude(g, &g->nodes[0], in, &y, S), DK_OK);
    const float *a = fdata(in[0]), *b = fdata(in[1]), *c = fdata(in[2]);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double want = 0.5 * fabs(c[j]);
            for (int q = 0; q < 3; q++) want += 2.0 * fabs(a[i * 3 + q]) * fabs(b[q * 2 + j]);
            assert_rel("gemm S", S[i * 2 + j], want, 0x1p-23);
        }
    dk_tolerance t;
    assert_int_equal(dk_tolerance_for_node(g, &g->nodes[0], DK_PREC_FP32, &t), DK_OK);
    assert_true(t.K == 3 && t.n == 6); /* K + 1 (alpha) + 2 (beta C, addition) */
    dk_tensor_reset(&y);
    dk_graph_destroy(g);

    /* BatchNormalization: S = |a| (|x| + |mean|) + |B|, a = scale / sqrt(var + eps) */
    g = tu_new_graph(15);
    const int64_t xd[] = {1, 3, 2, 2}, ch[] = {3};
    int bins[5] = {tu_add_input(g, "x", DK_F32, 4, xd, -2, 2),
                   tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, ch, -1, 1),
                   tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, ch, -1, 1),
                   tu_add_value(g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, ch, -1, 1),
                   tu_add_value(g, "var", DK_VALUE_CONSTANT, DK_F32, 1, ch, 0.1, 2)};
    tu_add_node(g, DK_OP_BATCHNORM, bins, 5, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    node_inputs(g, 0, in);
    ref_output(g, 0, &y);
    double Sb[12];
    assert_int_equal(dk_tolerance_magnitude(g, &g->nodes[0], in, &y, Sb), DK_OK);
    const float *x = fdata(in[0]), *sc = fdata(in[1]), *B = fdata(in[2]), *mean = fdata(in[3]),
                *var = fdata(in[4]);
    double eps = g->nodes[0].p.bn.epsilon;
    for (int c2 = 0; c2 < 3; c2++)
        for (int i = 0; i < 4; i++) {
            double a2 = fabs(sc[c2] / sqrt((double)var[c2] + eps));
            double want = a2 * (fabs(x[c2 * 4 + i]) + fabs(mean[c2])) + fabs(B[c2]);
            assert_rel("batchnorm S", Sb[c2 * 4 + i], want, 0x1p-22);
        }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* Softmax over [0, -10, 2]: n = K + 1 + 2T = 20, S = y, A_i = 2 y_i (|x_i - max| + R), R = 12. */
static void test_softmax_bound_by_hand(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    const int64_t xd[] = {1, 3};
    int x = tu_add_input(g, "x", DK_F32, 2, xd, -1, 1);
    const float xv[] = {0.0f, -10.0f, 2.0f};
    set_values(&g->values[x].t, xv);
    tu_add_node(g, DK_OP_SOFTMAX, &x, 1, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *in[8] = {0};
    node_inputs(g, 0, in);
    dk_tensor y;
    ref_output(g, 0, &y);
    double tol[3], S[3];
    assert_int_equal(dk_tolerance_bounds(g, &g->nodes[0], DK_PREC_FP32, in, &y, tol, S), DK_OK);
    const double n = 3 + 1 + 2 * DK_TOL_TRANSCENDENTAL_U;
    const double c = n * U32 / (1 - n * U32) + n * U64 / (1 - n * U64);
    const double floor = n * 0x1p-126 + (1 * 3 + 1) * 0x1p-126;
    const double d[3] = {2, 12, 0}, R = 12;
    for (int i = 0; i < 3; i++) {
        double yi = fdata(&y)[i];
        double want = c * yi + U32 * 2 * yi * (d[i] + R) + U32 * yi + floor;
        assert_rel("softmax S", S[i], yi, 0);
        assert_rel("softmax tol", tol[i], want, 1e-14);
    }
    /* bf16: the input term u_in C_i, C_i = y_i (|x_i| + sum_j y_j |x_j|) */
    double tolb[3], Sb[3];
    assert_int_equal(dk_tolerance_bounds(g, &g->nodes[0], DK_PREC_BF16, in, &y, tolb, Sb), DK_OK);
    double weighted = 0;
    for (int j = 0; j < 3; j++) weighted += fdata(&y)[j] * fabs(xv[j]);
    for (int i = 0; i < 3; i++) {
        double yi = fdata(&y)[i], u_in = 0x1p-8;
        double want = (c + n * U32 / (1 - n * U32) * u_in) * yi + 0x1p-8 * yi * (fabs(xv[i]) + weighted) +
                      U32 * (1 + u_in) * 2 * yi * (d[i] + R) + U32 * yi + floor;
        assert_rel("softmax bf16 tol", tolb[i], want, 1e-12);
    }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* ---- the metric on crafted tensors ------------------------------------------------------- */

typedef struct add_setup {
    dk_graph *g;
    const dk_tensor *in[2];
    dk_tensor ref, cand;
} add_setup;

static void add_setup_init(add_setup *s, const float *a, const float *b)
{
    s->g = tu_new_graph(13);
    const int64_t d[] = {4};
    int ins[2] = {tu_add_input(s->g, "a", DK_F32, 1, d, -1, 1),
                  tu_add_value(s->g, "b", DK_VALUE_CONSTANT, DK_F32, 1, d, -1, 1)};
    set_values(&s->g->values[ins[0]].t, a);
    set_values(&s->g->values[ins[1]].t, b);
    tu_add_node(s->g, DK_OP_ADD, ins, 2, 1);
    assert_int_equal(dk_graph_finalize(s->g), DK_OK);
    node_inputs(s->g, 0, s->in);
    ref_output(s->g, 0, &s->ref);
    memset(&s->cand, 0, sizeof s->cand);
    assert_int_equal(dk_tensor_copy(&s->cand, &s->ref), DK_OK);
}

static void add_setup_free(add_setup *s)
{
    dk_tensor_reset(&s->ref);
    dk_tensor_reset(&s->cand);
    dk_graph_destroy(s->g);
}

static dk_tol_result check(add_setup *s)
{
    dk_tol_result r;
    assert_int_equal(dk_tolerance_check(s->g, &s->g->nodes[0], DK_PREC_FP32, s->in, &s->ref, &s->cand, &r),
                     DK_OK);
    return r;
}

static void test_metric_crafted(void **state)
{
    (void)state;
    const float a[] = {1.0f, -2.0f, 3.0f, 0.5f}, b[] = {0.25f, 0.5f, -1.0f, 0.5f};
    add_setup s;
    add_setup_init(&s, a, b);
    const float want_ref[] = {1.25f, -1.5f, 2.0f, 1.0f};
    for (int i = 0; i < 4; i++) assert_true(fdata(&s.ref)[i] == want_ref[i]);

    /* identical: passed, every metric 0 */
    dk_tol_result r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_PASSED);
    assert_true(r.worst_ratio == 0 && r.max_abs == 0 && r.rel_l2 == 0 && r.max_norm == 0);
    assert_int_equal(r.count, 4);
    assert_int_equal(r.violations, 0);

    /* element 1 off by 1.5x its bound: tol = (gamma_1(2^-24) + gamma_1(2^-53)) S + 2^-24 |ref|
     * + floor, S = |a| + |b| = 2.5, floor = (1 + 2) 2^-126 */
    double tol1 = (U32 / (1 - U32) + U64 / (1 - U64)) * 2.5 + U32 * 1.5 + 3 * 0x1p-126;
    float moved = (float)(-1.5 - 1.5 * tol1);
    double err = fabs((double)moved + 1.5);
    fdata(&s.cand)[1] = moved;
    r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_FAILED);
    assert_int_equal(r.violations, 1);
    assert_int_equal(r.worst, 1);
    assert_rel("worst ratio", r.worst_ratio, err / tol1, 1e-12);
    assert_true(r.worst_ratio > 1.3 && r.worst_ratio < 1.7);
    assert_rel("max abs", r.max_abs, err, 0);
    assert_rel("rel L2", r.rel_l2, err / sqrt(1.25 * 1.25 + 1.5 * 1.5 + 4 + 1), 1e-12);
    assert_rel("max norm", r.max_norm, err / (U32 * 2.5), 1e-12);
    assert_rel("worst tol", r.worst_tol, tol1, 1e-12);
    assert_non_null(strstr(r.explain, "1 of 4 elements over the bound"));
    assert_non_null(strstr(r.explain, "[1]"));

    /* one ulp (2^-23 at 1.5) is half of the bound of about 4u: passes */
    fdata(&s.cand)[1] = nextafterf(-1.5f, 0.0f);
    r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_PASSED);
    assert_rel("one ulp", r.worst_ratio, 0x1p-23 / tol1, 1e-12);

    /* a NaN where the reference has a number fails with an infinite ratio */
    fdata(&s.cand)[1] = -1.5f;
    fdata(&s.cand)[3] = NAN;
    r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_FAILED);
    assert_int_equal(r.worst, 3);
    assert_true(isinf(r.worst_ratio));
    add_setup_free(&s);

    /* NaN in both is agreement */
    const float an[] = {NAN, -2.0f, 3.0f, 0.5f};
    add_setup_init(&s, an, b);
    assert_true(isnan(fdata(&s.ref)[0]));
    r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_PASSED);
    fdata(&s.cand)[0] = 1.0f;
    r = check(&s);
    assert_int_equal(r.verdict, DK_VERDICT_FAILED);
    add_setup_free(&s);
}

static void test_exact_and_mistrusted(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    const int64_t d[] = {10};
    int x = tu_add_input(g, "x", DK_F32, 1, d, -1, 1);
    const float xv[] = {-1, -2, -3, -4, -5, -6, -7, -8, -9, 0.75f};
    set_values(&g->values[x].t, xv);
    tu_add_node(g, DK_OP_RELU, &x, 1, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *in[1];
    node_inputs(g, 0, in);
    dk_tensor y, c;
    ref_output(g, 0, &y);
    memset(&c, 0, sizeof c);
    assert_int_equal(dk_tensor_copy(&c, &y), DK_OK);
    dk_tolerance t;
    assert_int_equal(dk_tolerance_for_node(g, &g->nodes[0], DK_PREC_FP32, &t), DK_OK);
    assert_true(t.exact && t.c == 0 && t.c_out == 0 && t.floor == 0);

    /* 9 of 10 zeros (> 80%): within the bound but MISTRUSTED */
    dk_tol_result r;
    assert_int_equal(dk_tolerance_check(g, &g->nodes[0], DK_PREC_FP32, in, &y, &c, &r), DK_OK);
    assert_int_equal(r.verdict, DK_VERDICT_MISTRUSTED);
    assert_int_equal(r.zeros, 9);
    assert_non_null(strstr(r.explain, "9 of 10"));

    /* exact op: one ulp off fails */
    fdata(&c)[9] = nextafterf(0.75f, 1.0f);
    assert_int_equal(dk_tolerance_check(g, &g->nodes[0], DK_PREC_FP32, in, &y, &c, &r), DK_OK);
    assert_int_equal(r.verdict, DK_VERDICT_FAILED);
    assert_true(isinf(r.worst_ratio));
    /* ... but in bf16 (inputs rounded to 8 bits) one ulp of float32 is fine */
    assert_int_equal(dk_tolerance_check(g, &g->nodes[0], DK_PREC_BF16, in, &y, &c, &r), DK_OK);
    assert_int_equal(r.verdict, DK_VERDICT_MISTRUSTED);

    /* shapes must agree */
    dk_tensor short_c;
    memset(&short_c, 0, sizeof short_c);
    const int64_t d5[] = {5};
    assert_int_equal(dk_tensor_alloc(&short_c, DK_F32, 1, d5), DK_OK);
    tu_assert_status(dk_tolerance_check(g, &g->nodes[0], DK_PREC_FP32, in, &y, &short_c, &r),
                     DK_ERR_SHAPE, "candidate 5");
    dk_tensor_reset(&short_c);
    dk_tensor_reset(&c);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* ---- the table against simulated backends ----------------------------------------------- */

/* Conv (group 1, square stride/pad) the way a naive float32 backend would:
 * recursive float summation, bias first. With bf16 set, x, w and b are
 * rounded to bfloat16 first (oneDNN's fpmath=bf16). */
static void naive_conv(const dk_graph *g, const dk_node *n, const dk_tensor *const *in, int bf16,
                       dk_tensor *y)
{
    const dk_tensor *xt = in[0], *wt = in[1];
    const float *x = xt->data, *w = wt->data, *b = in[2] ? fdata(in[2]) : NULL;
    int64_t N = xt->dims[0], C = xt->dims[1], H = xt->dims[2], W = xt->dims[3];
    int64_t M = wt->dims[0], KH = wt->dims[2], KW = wt->dims[3];
    int64_t OH = y->dims[2], OW = y->dims[3];
    int64_t s = n->p.conv.win.stride[0], p = n->p.conv.win.pad_begin[0];
    float *out = y->data;
#define RB(v) (bf16 ? to_bf16(v) : (v))
    for (int64_t i = 0; i < N; i++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    float acc = b ? RB(b[m]) : 0.0f;
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * s - p + kh, iw = ow * s - p + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                float xv = RB(x[((i * C + c) * H + ih) * W + iw]);
                                float wv = RB(w[((m * C + c) * KH + kh) * KW + kw]);
                                acc = acc + xv * wv; /* two roundings: no contraction in C11 */
                            }
                    out[((i * M + m) * OH + oh) * OW + ow] = acc;
                }
#undef RB
}

static void test_simulated_conv(void **state)
{
    (void)state;
    static const struct { int64_t c, m, hw, k, s, p; } shapes[] = {
        {64, 8, 6, 3, 1, 1}, {128, 4, 5, 3, 2, 1}, {16, 8, 9, 1, 1, 0}, {3, 8, 16, 7, 2, 3}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        dk_graph *g = tu_new_graph(13);
        const int64_t xd[] = {1, shapes[sh].c, shapes[sh].hw, shapes[sh].hw};
        const int64_t wd[] = {shapes[sh].m, shapes[sh].c, shapes[sh].k, shapes[sh].k};
        const int64_t bd[] = {shapes[sh].m};
        int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, -1, 1),
                      tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, bd, -1, 1)};
        int k = tu_add_node(g, DK_OP_CONV, ins, 3, 1);
        const int64_t st[] = {shapes[sh].s, shapes[sh].s};
        const int64_t pads[] = {shapes[sh].p, shapes[sh].p, shapes[sh].p, shapes[sh].p};
        tu_attr_ints(g, k, "strides", 2, st);
        tu_attr_ints(g, k, "pads", 4, pads);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        const dk_tensor *in[3];
        node_inputs(g, 0, in);
        dk_tensor y, c32, c16;
        ref_output(g, 0, &y);
        memset(&c32, 0, sizeof c32);
        memset(&c16, 0, sizeof c16);
        assert_int_equal(dk_tensor_copy(&c32, &y), DK_OK);
        assert_int_equal(dk_tensor_copy(&c16, &y), DK_OK);
        for (int64_t i = 0; i < dk_tensor_numel(&y); i++) fdata(&c32)[i] = fdata(&c16)[i] = NAN;
        naive_conv(g, &g->nodes[0], in, 0, &c32);
        naive_conv(g, &g->nodes[0], in, 1, &c16);
        dk_tol_result r32, r16, r16_as_32;
        const dk_node *n = &g->nodes[0];
        assert_int_equal(dk_tolerance_check(g, n, DK_PREC_FP32, in, &y, &c32, &r32), DK_OK);
        assert_int_equal(dk_tolerance_check(g, n, DK_PREC_BF16, in, &y, &c16, &r16), DK_OK);
        assert_int_equal(dk_tolerance_check(g, n, DK_PREC_FP32, in, &y, &c16, &r16_as_32), DK_OK);
        printf("conv K=%lld: float32 recursive sum ratio %.3g (%.3g u*S), bf16 ratio %.3g "
               "(%.3g u*S); bf16 judged as fp32: ratio %.3g\n",
               (long long)r32.tol.K, r32.worst_ratio, r32.max_norm, r16.worst_ratio, r16.max_norm,
               r16_as_32.worst_ratio);
        if (r32.verdict != DK_VERDICT_PASSED) fail_msg("float32 conv: %s", r32.explain);
        if (r16.verdict != DK_VERDICT_PASSED) fail_msg("bf16 conv: %s", r16.explain);
        assert_true(r32.worst_ratio <= 0.5 && r16.worst_ratio <= 0.5); /* margin */
        if (r16_as_32.verdict != DK_VERDICT_FAILED)
            fail_msg("bf16 rounding passed the fp32 row: %s", r16_as_32.explain);
        dk_tensor_reset(&y);
        dk_tensor_reset(&c32);
        dk_tensor_reset(&c16);
        dk_graph_destroy(g);
    }
}

/* Gemm y = A B^T + C in float32 with a worst-case-prone input: all terms
 * positive (no cancellation to hide behind), so the error of recursive
 * summation grows steadily with K. */
static void test_simulated_gemm_positive(void **state)
{
    (void)state;
    const int64_t M = 3, K = 4096, N = 5;
    dk_graph *g = tu_new_graph(13);
    const int64_t ad[] = {M, K}, bd[] = {N, K}, cd[] = {N};
    int ins[3] = {tu_add_input(g, "a", DK_F32, 2, ad, 0, 1),
                  tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, bd, 0, 1),
                  tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_F32, 1, cd, 0, 1)};
    int k = tu_add_node(g, DK_OP_GEMM, ins, 3, 1);
    tu_attr_int(g, k, "transB", 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *in[3];
    node_inputs(g, 0, in);
    dk_tensor y, c;
    ref_output(g, 0, &y);
    memset(&c, 0, sizeof c);
    assert_int_equal(dk_tensor_copy(&c, &y), DK_OK);
    const float *a = fdata(in[0]), *b = fdata(in[1]), *cc = fdata(in[2]);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float acc = 0;
            for (int64_t q = 0; q < K; q++) acc = acc + a[i * K + q] * b[j * K + q];
            fdata(&c)[i * N + j] = 1.0f * acc + 1.0f * cc[j];
        }
    dk_tol_result r;
    assert_int_equal(dk_tolerance_check(g, &g->nodes[0], DK_PREC_FP32, in, &y, &c, &r), DK_OK);
    printf("gemm K=%lld, positive terms, float32 recursive sum: ratio %.3g (%.3g u*S)\n",
           (long long)r.tol.K, r.worst_ratio, r.max_norm);
    if (r.verdict != DK_VERDICT_PASSED) fail_msg("float32 gemm: %s", r.explain);
    assert_true(r.worst_ratio <= 0.5);
    assert_true(r.max_norm > 1); /* the error is real, the bound is not vacuous */
    dk_tensor_reset(&y);
    dk_tensor_reset(&c);
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_tolerance");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gamma),
        cmocka_unit_test(test_precisions),
        cmocka_unit_test(test_conv_coefficients),
        cmocka_unit_test(test_conv_magnitude),
        cmocka_unit_test(test_gemm_and_batchnorm_magnitude),
        cmocka_unit_test(test_softmax_bound_by_hand),
        cmocka_unit_test(test_metric_crafted),
        cmocka_unit_test(test_exact_and_mistrusted),
        cmocka_unit_test(test_simulated_conv),
        cmocka_unit_test(test_simulated_gemm_positive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
