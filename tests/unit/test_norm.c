/* Unit tests for the normalisations: shape inference (layers/op_norm.c) and
 * reference kernels (kernels/ref/ref_norm.c) against naive computations
 * written straight from the ONNX formulas.
 *
 * Tolerance: kernel and naive version both compute in double and round once
 * to float32; they differ by the order of double operations (BatchNorm folds
 * scale and shift per channel; relative error ~1e-15) and by that rounding
 * (half an ulp), so |y - ref| <= 2^-23 |ref| + 1e-12 * scale must hold, with
 * scale the magnitude of the intermediate terms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"

/* ---- helpers: hand-built graphs, random data ------------------------------ */

static uint64_t rng_state;

static void seed_rng(void)
{
    const char *env = getenv("DK_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("test_norm: seed %llu (set DK_TEST_SEED to repeat)\n", (unsigned long long)seed);
    rng_state = seed * 2654435761u + 1;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rng_uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next() >> 11) / 9007199254740992.0;
}

static dk_graph *new_graph(int64_t opset)
{
    dk_graph *g = NULL;
    assert_int_equal(dk_graph_create(&g), DK_OK);
    g->opset = opset;
    g->source = strdup("norm_test.onnx");
    return g;
}

/* Adds a value with dtype and shape, and random data in [lo, hi] when lo <= hi. */
static int add_value(dk_graph *g, const char *name, dk_value_kind kind, dk_dtype dt, int ndim,
                     const int64_t *dims, double lo, double hi)
{
    int v;
    assert_int_equal(dk_graph_add_value(g, name, kind, &v), DK_OK);
    dk_tensor *t = &g->values[v].t;
    if (lo <= hi) {
        assert_int_equal(dk_tensor_alloc(t, dt, ndim, dims), DK_OK);
        for (int64_t i = 0; i < dk_tensor_numel(t); i++) dk_tensor_set(t, i, rng_uniform(lo, hi));
    } else {
        t->dtype = dt;
        t->ndim = ndim;
        for (int d = 0; d < ndim; d++) t->dims[d] = dims[d];
    }
    return v;
}

/* Adds node "norm_node" reading `ins` with n_out outputs, all graph outputs. */
static int add_node(dk_graph *g, dk_op op, const int *ins, int n_in, int n_out)
{
    int k;
    assert_int_equal(dk_graph_add_node(g, "norm_node", op, n_in, n_out, &k), DK_OK);
    for (int i = 0; i < n_in; i++) g->nodes[k].inputs[i] = ins[i];
    for (int o = 0; o < n_out; o++) {
        int y;
        char name[16];
        snprintf(name, sizeof name, "y%d", o);
        assert_int_equal(dk_graph_add_value(g, name, DK_VALUE_ACTIVATION, &y), DK_OK);
        g->nodes[k].outputs[o] = y;
        g->values[y].producer = k;
        g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
        assert_non_null(g->outputs);
        g->outputs[g->n_outputs++] = y;
    }
    return k;
}

static dk_attr *new_attr(dk_graph *g, int k, const char *name, dk_attr_type type)
{
    dk_node *n = &g->nodes[k];
    n->attrs = realloc(n->attrs, sizeof(dk_attr) * (size_t)(n->n_attrs + 1));
    assert_non_null(n->attrs);
    dk_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void attr_int(dk_graph *g, int k, const char *name, int64_t v)
{
    new_attr(g, k, name, DK_ATTR_INT)->i = v;
}

static void attr_float(dk_graph *g, int k, const char *name, float v)
{
    new_attr(g, k, name, DK_ATTR_FLOAT)->f = v;
}

static void expect_error(dk_graph *g, dk_status s, const char *what)
{
    dk_status got = dk_graph_finalize(g);
    const char *msg = dk_last_error();
    if (got != s || !strstr(msg, "norm_node") || !strstr(msg, what))
        fail_msg("expected %s containing '%s', got %s: %s", dk_status_name(s), what,
                 dk_status_name(got), msg);
}

/* Allocates y like node k's output 0, poisons it with NaN and runs fn. */
static dk_status run_kernel(dk_graph *g, int k, dk_eval_fn fn, dk_tensor *y)
{
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[5] = {0};
    for (int i = 0; i < n->n_inputs && i < 5; i++)
        in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
    const dk_tensor *o = &g->values[n->outputs[0]].t;
    assert_int_equal(dk_tensor_alloc(y, o->dtype, o->ndim, o->dims), DK_OK);
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) ((float *)y->data)[i] = NAN;
    dk_tensor *outs[1] = {y};
    return fn(n, in, outs);
}

static void assert_close(const char *what, int64_t i, double y, double ref, double scale)
{
    double tol = ldexp(fabs(ref), -23) + 1e-12 * scale;
    if (!(fabs(y - ref) <= tol))
        fail_msg("%s: element %lld is %.9g, expected %.9g (tolerance %.3g)", what, (long long)i, y,
                 ref, tol);
}

/* ---- BatchNormalization ------------------------------------------------------ */

/* BatchNormalization of X [dims] with per-channel inputs of `pc` elements;
 * `param_dt` the type of scale (input 1). */
static int bn_graph(dk_graph *g, int rank, const int64_t *x, int64_t pc, dk_dtype param_dt,
                    int n_out)
{
    int ins[5];
    ins[0] = add_value(g, "x", DK_VALUE_INPUT, DK_F32, rank, x, -3, 3);
    ins[1] = add_value(g, "scale", DK_VALUE_CONSTANT, param_dt, 1, &pc, 0.5, 2);
    ins[2] = add_value(g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &pc, -1, 1);
    ins[3] = add_value(g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, &pc, -1, 1);
    ins[4] = add_value(g, "var", DK_VALUE_CONSTANT, DK_F32, 1, &pc, 0.1, 3);
    return add_node(g, DK_OP_BATCHNORM, ins, 5, n_out);
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
        dk_graph *g = new_graph(cases[c].opset);
        int k = bn_graph(g, cases[c].rank, cases[c].x, cases[c].x[1], DK_F32, 1);
        if (cases[c].epsilon != 0) attr_float(g, k, "epsilon", cases[c].epsilon);
        if (cases[c].opset == 6) {
            attr_int(g, k, "is_test", 1);
            attr_float(g, k, "momentum", 0.9f);
        }
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const dk_node *n = &g->nodes[k];
        const dk_tensor *x = &g->values[n->inputs[0]].t;
        assert_int_equal(g->values[n->outputs[0]].t.ndim, cases[c].rank);
        assert_true(n->flops == 2.0 * (double)dk_tensor_numel(x));
        double eps = cases[c].epsilon != 0 ? cases[c].epsilon : 1e-5f;
        assert_true(n->p.bn.epsilon == (float)eps);

        dk_tensor y = {0};
        assert_int_equal(run_kernel(g, k, dk_ref_batchnorm, &y), DK_OK);
        const float *xd = x->data, *scale = g->values[n->inputs[1]].t.data,
                    *bias = g->values[n->inputs[2]].t.data, *mean = g->values[n->inputs[3]].t.data,
                    *var = g->values[n->inputs[4]].t.data;
        int64_t channels = x->dims[1], size = dk_tensor_numel(x) / (x->dims[0] * channels);
        for (int64_t i = 0; i < dk_tensor_numel(x); i++) {
            int64_t ch = i / size % channels;
            double ref = ((double)xd[i] - mean[ch]) / sqrt((double)var[ch] + eps) * scale[ch] +
                         bias[ch];
            /* terms are below 10 in magnitude: |x - mean| <= 4, scale <= 2, 1/sqrt(var) < 4 */
            assert_close("BatchNormalization", i, ((float *)y.data)[i], ref, 100.0);
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_batchnorm_errors(void **state)
{
    (void)state;
    const int64_t x[] = {2, 3, 4, 4};
    dk_graph *g = new_graph(15);
    int k = bn_graph(g, 4, x, 3, DK_F32, 1);
    attr_int(g, k, "training_mode", 1);
    expect_error(g, DK_ERR_UNSUPPORTED, "training_mode=1");
    dk_graph_destroy(g);

    g = new_graph(15);
    k = bn_graph(g, 4, x, 3, DK_F32, 3); /* running mean and var requested */
    expect_error(g, DK_ERR_UNSUPPORTED, "training outputs");
    dk_graph_destroy(g);

    g = new_graph(6);
    k = bn_graph(g, 4, x, 3, DK_F32, 1);
    attr_int(g, k, "is_test", 0);
    expect_error(g, DK_ERR_UNSUPPORTED, "is_test=0");
    dk_graph_destroy(g);

    g = new_graph(7);
    k = bn_graph(g, 4, x, 3, DK_F32, 1);
    attr_int(g, k, "spatial", 0);
    expect_error(g, DK_ERR_UNSUPPORTED, "spatial=0");
    dk_graph_destroy(g);

    g = new_graph(15);
    bn_graph(g, 4, x, 4, DK_F32, 1);
    expect_error(g, DK_ERR_SHAPE, "input 1 (scale) has shape 4 but input 0 (X, 2x3x4x4) has 3 "
                                  "channels");
    dk_graph_destroy(g);

    g = new_graph(15);
    bn_graph(g, 4, x, 3, DK_F64, 1);
    expect_error(g, DK_ERR_UNSUPPORTED, "input 1 (scale) has element type float64");
    dk_graph_destroy(g);

    const int64_t x1[] = {5};
    g = new_graph(15);
    bn_graph(g, 1, x1, 5, DK_F32, 1);
    expect_error(g, DK_ERR_SHAPE, "expected rank >= 2");
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
        dk_graph *g = new_graph(13);
        int xin = add_value(g, "x", DK_VALUE_INPUT, DK_F32, cases[c].rank, cases[c].x, -2, 2);
        int k = add_node(g, DK_OP_LRN, &xin, 1, 1);
        attr_int(g, k, "size", cases[c].size);
        double alpha = 1e-4f, beta = 0.75f, bias = 1.0f; /* ONNX defaults */
        if (cases[c].alpha != 0) {
            attr_float(g, k, "alpha", cases[c].alpha);
            attr_float(g, k, "beta", cases[c].beta);
            attr_float(g, k, "bias", cases[c].bias);
            alpha = cases[c].alpha;
            beta = cases[c].beta;
            bias = cases[c].bias;
        }
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const dk_tensor *x = &g->values[xin].t;
        dk_tensor y = {0};
        assert_int_equal(run_kernel(g, k, dk_ref_lrn, &y), DK_OK);
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
            assert_close("LRN", i, ((float *)y.data)[i], ref, fabs(ref));
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_lrn_errors(void **state)
{
    (void)state;
    const int64_t x[] = {1, 4, 3, 3}, x1[] = {4};
    dk_graph *g = new_graph(13);
    int xin = add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, 1, 0);
    add_node(g, DK_OP_LRN, &xin, 1, 1);
    expect_error(g, DK_ERR_FORMAT, "'size' is required");
    dk_graph_destroy(g);

    g = new_graph(13);
    xin = add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, 1, 0);
    int k = add_node(g, DK_OP_LRN, &xin, 1, 1);
    attr_int(g, k, "size", 0);
    expect_error(g, DK_ERR_FORMAT, "size 0");
    dk_graph_destroy(g);

    g = new_graph(13);
    xin = add_value(g, "x", DK_VALUE_INPUT, DK_F32, 1, x1, 1, 0);
    k = add_node(g, DK_OP_LRN, &xin, 1, 1);
    attr_int(g, k, "size", 3);
    expect_error(g, DK_ERR_SHAPE, "expected rank >= 2");
    dk_graph_destroy(g);

    g = new_graph(13);
    xin = add_value(g, "x", DK_VALUE_INPUT, DK_F64, 4, x, 1, 0);
    k = add_node(g, DK_OP_LRN, &xin, 1, 1);
    attr_int(g, k, "size", 3);
    expect_error(g, DK_ERR_UNSUPPORTED, "float64");
    dk_graph_destroy(g);
}

int main(void)
{
    seed_rng();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_kernel),
        cmocka_unit_test(test_batchnorm_errors),
        cmocka_unit_test(test_lrn_kernel),
        cmocka_unit_test(test_lrn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
