/* Unit tests for the normalisations: shape inference (layers/op_norm.c) and
 * reference kernels (kernels/ref/ref_norm.c) against naive computations
 * written straight from the ONNX formulas.
 *
 * Tolerance: kernel and naive version both compute in double and round once
 * to float32; they differ by the order of double operations (BatchNorm folds
 * scale and shift per channel; relative error ~1e-15) and by that rounding
 * (half an ulp), so |y - ref| <= 2^-23 |ref| + 1e-12 * scale must hold, with
 * scale the magnitude of the intermediate terms. */
#include <math.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* ---- BatchNormalization ------------------------------------------------------ */

/* BatchNormalization of X [dims] with per-channel inputs of `pc` elements;
 * `param_dt` the type of scale (input 1). */
static int bn_graph(dk_graph *g, int rank, const int64_t *x, int64_t pc, dk_dtype param_dt,
                    int n_out)
{
    int ins[5];
    ins[0] = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, rank, x, -3, 3);
    ins[1] = tu_add_value(g, "scale", DK_VALUE_CONSTANT, param_dt, 1, &pc, 0.5, 2);
    ins[2] = tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &pc, -1, 1);
    ins[3] = tu_add_value(g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, &pc, -1, 1);
    ins[4] = tu_add_value(g, "var", DK_VALUE_CONSTANT, DK_F32, 1, &pc, 0.1, 3);
    return tu_add_node(g, DK_OP_BATCHNORM, ins, 5, n_out);
}

static void test_batchnorm_kernel(void **state)
{
    (void)state;
    static const struct {
        int rank;
        int64_t x[5];
        int64_t opset;
        float epsilon; /* 0: attribute absent, default 1e-5 */
    } cases[] = {
        {2, {4, 7}, 15, 0},             /* BatchNorm1d on [N, C] */
        {3, {4, 5, 3}, 6, 1e-5f},       /* BatchNorm1d on [N, C, L], opset 6 */
        {4, {2, 3, 6, 5}, 9, 1e-3f},
        {5, {2, 3, 4, 3, 2}, 14, 0.2f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(cases[c].opset);
        int k = bn_graph(g, cases[c].rank, cases[c].x, cases[c].x[1], DK_F32, 1);
        if (cases[c].epsilon != 0) tu_attr_float(g, k, "epsilon", cases[c].epsilon);
        if (cases[c].opset == 6) {
            tu_attr_int(g, k, "is_test", 1);
            tu_attr_float(g, k, "momentum", 0.9f);
        }
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const dk_node *n = &g->nodes[k];
        const dk_tensor *x = &g->values[n->inputs[0]].t;
        assert_int_equal(g->values[n->outputs[0]].t.ndim, cases[c].rank);
        assert_true(n->flops == 2.0 * (double)dk_tensor_numel(x));
        double eps = cases[c].epsilon != 0 ? cases[c].epsilon : 1e-5f;
        assert_true(n->p.bn.epsilon == (float)eps);

        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_batchnorm, &y, 1), DK_OK);
        const float *xd = x->data, *scale = g->values[n->inputs[1]].t.data,
                    *bias = g->values[n->inputs[2]].t.data, *mean = g->values[n->inputs[3]].t.data,
                    *var = g->values[n->inputs[4]].t.data;
        int64_t channels = x->dims[1], size = dk_tensor_numel(x) / (x->dims[0] * channels);
        for (int64_t i = 0; i < dk_tensor_numel(x); i++) {
            int64_t ch = i / size % channels;
            double ref = ((double)xd[i] - mean[ch]) / sqrt((double)var[ch] + eps) * scale[ch] +
                         bias[ch];
            /* terms are below 10 in magnitude: |x - mean| <= 4, scale <= 2, 1/sqrt(var) < 4 */
            tu_assert_close("BatchNormalization", i, ((float *)y.data)[i], ref, 100.0);
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_batchnorm_errors(void **state)
{
    (void)state;
    const int64_t x[] = {2, 3, 4, 4};
    dk_graph *g = tu_new_graph(15);
    int k = bn_graph(g, 4, x, 3, DK_F32, 1);
    tu_attr_int(g, k, "training_mode", 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "training_mode=1");
    dk_graph_destroy(g);

    g = tu_new_graph(15);
    k = bn_graph(g, 4, x, 3, DK_F32, 3); /* running mean and var requested */
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "training outputs");
    dk_graph_destroy(g);

    g = tu_new_graph(6);
    k = bn_graph(g, 4, x, 3, DK_F32, 1);
    tu_attr_int(g, k, "is_test", 0);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "is_test=0");
    dk_graph_destroy(g);

    g = tu_new_graph(7);
    k = bn_graph(g, 4, x, 3, DK_F32, 1);
    tu_attr_int(g, k, "spatial", 0);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "spatial=0");
    dk_graph_destroy(g);

    g = tu_new_graph(15);
    bn_graph(g, 4, x, 4, DK_F32, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE,
                             "input 1 (scale) has shape 4 but input 0 (X, 2x3x4x4) has 3 channels");
    dk_graph_destroy(g);

    g = tu_new_graph(15);
    bn_graph(g, 4, x, 3, DK_F64, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "input 1 (scale) has element type float64");
    dk_graph_destroy(g);

    const int64_t x1[] = {5};
    g = tu_new_graph(15);
    bn_graph(g, 1, x1, 5, DK_F32, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "expected rank >= 2");
    dk_graph_destroy(g);
}

/* ---- LRN ---------------------------------------------------------------------- */

static void test_lrn_kernel(void **state)
{
    (void)state;
    static const struct {
        int rank;
        int64_t x[4];
        int64_t size;
        float alpha, beta, bias; /* alpha 0: attributes absent (defaults) */
    } cases[] = {
        {4, {2, 7, 4, 5}, 3, 0, 0, 0},
        {4, {1, 9, 3, 3}, 5, 2e-4f, 0.5f, 2.0f},
        {4, {2, 6, 2, 3}, 4, 0.1f, 0.75f, 1.0f},  /* even size: window one longer after c */
        {3, {2, 5, 6}, 1, 0.3f, 1.5f, 0.5f},
        {2, {3, 8}, 7, 1.0f, 0.6f, 1.0f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(13);
        int xin = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, cases[c].rank, cases[c].x, -2, 2);
        int k = tu_add_node(g, DK_OP_LRN, &xin, 1, 1);
        tu_attr_int(g, k, "size", cases[c].size);
        double alpha = 1e-4f, beta = 0.75f, bias = 1.0f; /* ONNX defaults */
        if (cases[c].alpha != 0) {
            tu_attr_float(g, k, "alpha", cases[c].alpha);
            tu_attr_float(g, k, "beta", cases[c].beta);
            tu_attr_float(g, k, "bias", cases[c].bias);
            alpha = cases[c].alpha;
            beta = cases[c].beta;
            bias = cases[c].bias;
        }
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const dk_tensor *x = &g->values[xin].t;
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_lrn, &y, 1), DK_OK);
        int64_t channels = x->dims[1], size = dk_tensor_numel(x) / (x->dims[0] * channels);
        int64_t n_size = cases[c].size;
        const float *xd = x->data;
        for (int64_t i = 0; i < dk_tensor_numel(x); i++) {
            int64_t ch = i / size % channels, base = i - ch * size;
            /* channels max(0, c - floor((size-1)/2)) .. min(C-1, c + ceil((size-1)/2)) */
            int64_t from = ch - (n_size - 1) / 2, to = ch + n_size / 2;
            double square_sum = 0;
            for (int64_t j = from < 0 ? 0 : from; j <= to && j < channels; j++)
                square_sum += (double)xd[base + j * size] * xd[base + j * size];
            double ref = xd[i] / pow(bias + alpha / (double)n_size * square_sum, beta);
            tu_assert_close("LRN", i, ((float *)y.data)[i], ref, fabs(ref));
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_lrn_errors(void **state)
{
    (void)state;
    const int64_t x[] = {1, 4, 3, 3}, x1[] = {4};
    dk_graph *g = tu_new_graph(13);
    int xin = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, 1, 0);
    tu_add_node(g, DK_OP_LRN, &xin, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'size' is required");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    xin = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, 1, 0);
    int k = tu_add_node(g, DK_OP_LRN, &xin, 1, 1);
    tu_attr_int(g, k, "size", 0);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "size 0");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    xin = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 1, x1, 1, 0);
    k = tu_add_node(g, DK_OP_LRN, &xin, 1, 1);
    tu_attr_int(g, k, "size", 3);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "expected rank >= 2");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    xin = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F64, 4, x, 1, 0);
    k = tu_add_node(g, DK_OP_LRN, &xin, 1, 1);
    tu_attr_int(g, k, "size", 3);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "float64");
    dk_graph_destroy(g);
}

/* ---- LayerNormalization ----------------------------------------------------------- */

/* Element of Scale/B (right-aligned onto the normalised block, dims of 1
 * repeat) for the block's multi-index idx of nd dims. */
static int64_t affine_at(const dk_tensor *t, int nd, const int64_t *idx)
{
    int64_t i = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t c = idx[nd - t->ndim + d];
        i = i * t->dims[d] + (t->dims[d] == 1 ? 0 : c);
    }
    return i;
}

typedef struct ln_case {
    int rank;
    int64_t x[4];
    int64_t axis;     /* as written in the attribute; 99: absent (default -1) */
    int srank;
    int64_t s[4];     /* Scale's shape, also B's */
    int bias, n_out;
    float epsilon;    /* 0: absent (default 1e-5) */
} ln_case;

static void check_layernorm(const ln_case *c)
{
    dk_graph *g = tu_new_graph(17);
    int ins[3] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, c->rank, c->x, -3, 5),
                  tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, c->srank, c->s, -2, 2),
                  c->bias ? tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, c->srank, c->s, -1, 1)
                          : -1};
    int k = tu_add_node(g, DK_OP_LAYERNORM, ins, c->bias ? 3 : 2, c->n_out);
    if (c->axis != 99) tu_attr_int(g, k, "axis", c->axis);
    if (c->epsilon != 0) tu_attr_float(g, k, "epsilon", c->epsilon);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    const int axis = (int)(c->axis == 99 ? c->rank - 1 : c->axis < 0 ? c->axis + c->rank : c->axis);
    const double eps = c->epsilon != 0 ? c->epsilon : 1e-5f;
    assert_int_equal(g->nodes[k].p.layernorm.axis, axis);
    tu_assert_shape(tu_output(g, k, 0), c->rank, c->x);
    int64_t stat[4];
    for (int d = 0; d < c->rank; d++) stat[d] = d < axis ? c->x[d] : 1;
    for (int o = 1; o < c->n_out; o++) tu_assert_shape(tu_output(g, k, o), c->rank, stat);

    dk_tensor y[3] = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_layernorm, y, c->n_out), DK_OK);
    const dk_tensor *x = &g->values[ins[0]].t, *s = &g->values[ins[1]].t,
                    *b = c->bias ? &g->values[ins[2]].t : NULL;
    const int nd = c->rank - axis;
    int64_t rows = 1, K = 1;
    for (int d = 0; d < c->rank; d++) *(d < axis ? &rows : &K) *= c->x[d];
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < K; j++) mean += dk_tensor_get(x, r * K + j) / (double)K;
        for (int64_t j = 0; j < K; j++) {
            double d = dk_tensor_get(x, r * K + j) - mean;
            var += d * d / (double)K;
        }
        double sigma = sqrt(var + eps);
        for (int64_t j = 0; j < K; j++) {
            int64_t idx[4], rest = j;
            for (int d = nd - 1; d >= 0; d--) idx[d] = rest % c->x[axis + d], rest /= c->x[axis + d];
            double want = (dk_tensor_get(x, r * K + j) - mean) / sigma * dk_tensor_get(s, affine_at(s, nd, idx)) +
                          (b ? dk_tensor_get(b, affine_at(b, nd, idx)) : 0);
            /* terms: |x - mean| <= 8, 1/sigma <= 1/sqrt(eps), |scale| <= 2 */
            tu_assert_close("LayerNormalization", r * K + j, dk_tensor_get(&y[0], r * K + j), want,
                            16 / sqrt(eps));
        }
        if (c->n_out > 1) tu_assert_close("Mean", r, dk_tensor_get(&y[1], r), mean, 8);
        if (c->n_out > 2) tu_assert_close("InvStdDev", r, dk_tensor_get(&y[2], r), 1 / sigma, 1 / sqrt(eps));
    }
    for (int o = 0; o < c->n_out; o++) dk_tensor_reset(&y[o]);
    dk_graph_destroy(g);
}

static void test_layernorm_kernel(void **state)
{
    (void)state;
    static const ln_case cases[] = {
        {3, {2, 5, 24}, 99, 1, {24}, 1, 1, 0},                 /* ViT: default axis -1 */
        {4, {1, 3, 4, 16}, -1, 1, {16}, 1, 1, 1e-6f},          /* ConvNeXt channels-last */
        {4, {2, 3, 4, 5}, 1, 3, {3, 4, 5}, 1, 3, 0},           /* three dims, Mean, InvStdDev */
        {4, {2, 3, 4, 5}, -2, 2, {1, 5}, 0, 2, 0.1f},          /* broadcast Scale, no B */
        {2, {6, 7}, 0, 1, {7}, 1, 3, 0},                       /* axis 0: the whole tensor */
        {1, {9}, 0, 0, {0}, 1, 1, 0},                          /* scalar Scale and B */
        {3, {64, 40, 48}, 2, 1, {48}, 1, 1, 0},                /* enough rows for threads */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) check_layernorm(&cases[c]);
}

static void test_layernorm_errors(void **state)
{
    (void)state;
    const int64_t x[3] = {2, 3, 4}, bad[1] = {3}, i4[1] = {4};
    dk_graph *g = tu_new_graph(17);
    int ins[3] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 3, x, 1, 0),
                  tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, bad, 1, 2), -1};
    tu_add_node(g, DK_OP_LAYERNORM, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "does not broadcast onto the normalised dims 4");
    dk_graph_destroy(g);

    g = tu_new_graph(17);
    ins[0] = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 3, x, 1, 0);
    ins[1] = tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, i4, 1, 2);
    int k = tu_add_node(g, DK_OP_LAYERNORM, ins, 2, 1);
    tu_attr_int(g, k, "axis", 3);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "axis 3 out of range for rank 3");
    dk_graph_destroy(g);

    g = tu_new_graph(17);
    ins[0] = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 3, x, 1, 0);
    ins[1] = tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, i4, 1, 2);
    k = tu_add_node(g, DK_OP_LAYERNORM, ins, 2, 1);
    tu_attr_int(g, k, "stash_type", 11);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "stash_type=11");
    dk_graph_destroy(g);

    g = tu_new_graph(17);
    ins[0] = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F64, 3, x, 1, 0);
    ins[1] = tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, i4, 1, 2);
    tu_add_node(g, DK_OP_LAYERNORM, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "input 0 (X) has element type float64");
    dk_graph_destroy(g);

    g = tu_new_graph(17);
    ins[0] = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 3, x, 1, 0);
    ins[1] = tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, i4, 1, 2);
    ins[2] = tu_add_value(g, "B", DK_VALUE_CONSTANT, DK_I64, 1, i4, 1, 2);
    tu_add_node(g, DK_OP_LAYERNORM, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "input 2 (B) has element type int64");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_norm");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_kernel),
        cmocka_unit_test(test_batchnorm_errors),
        cmocka_unit_test(test_lrn_kernel),
        cmocka_unit_test(test_lrn_errors),
        cmocka_unit_test(test_layernorm_kernel),
        cmocka_unit_test(test_layernorm_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
