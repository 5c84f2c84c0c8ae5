/* Unit tests for the elementwise ops: shape inference (layers/op_eltwise.c)
 * and reference kernels (kernels/ref/ref_eltwise.c) against naive
 * computations written straight from the ONNX formulas.
 *
 * Tolerance: the kernels compute in double and round once to float32, as
 * the naive versions here do, so float results must match exactly; integer
 * results always match exactly. */
#include <math.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* ---- activations -------------------------------------------------------- */

static double naive_activation(dk_op op, double x, double alpha, double beta)
{
    switch (op) {
    case DK_OP_RELU: return x > 0 ? x : 0;
    case DK_OP_LEAKYRELU: return x >= 0 ? x : alpha * x;
    case DK_OP_SIGMOID: return 1 / (1 + exp(-x));
    case DK_OP_HARDSIGMOID: return fmax(0, fmin(1, alpha * x + beta));
    case DK_OP_HARDSWISH: return x * fmax(0, fmin(1, x / 6 + 0.5));
    case DK_OP_NEG: return -x;
    case DK_OP_SQRT: return sqrt(x); /* NaN below 0, as in ONNX */
    case DK_OP_ERF: return erf(x);
    case DK_OP_TANH: return tanh(x);
    case DK_OP_ABS: return x < 0 ? -x : x;
    case DK_OP_EXP: return exp(x);
    case DK_OP_LOG: return log(x); /* NaN below 0 */
    case DK_OP_RECIPROCAL: return 1 / x;
    case DK_OP_FLOOR: return (double)(int64_t)x - ((double)(int64_t)x > x); /* |x| < 2^63 */
    case DK_OP_CEIL: return (double)(int64_t)x + ((double)(int64_t)x < x);
    /* the textbook formulas in long double (no cancellation at these inputs) */
    case DK_OP_SOFTPLUS: return (double)logl(1.0L + expl((long double)x));
    case DK_OP_ELU: return x < 0 ? (double)((long double)alpha * (expl((long double)x) - 1.0L)) : x;
    default: return NAN;
    }
}

/* Runs one activation with optional alpha/beta attributes (NAN = absent)
 * and checks it against the naive formula with the expected parameters. */
static void check_activation_on(dk_dtype dt, int ndim, const int64_t *dims, dk_op op,
                                float alpha_attr, float beta_attr, double alpha, double beta)
{
    dk_graph *g = tu_new_graph(14);
    int x = tu_add_input(g, "x", dt, ndim, dims, -8, 8);
    int k = tu_add_node(g, op, &x, 1, 1);
    if (!isnan(alpha_attr)) tu_attr_float(g, k, "alpha", alpha_attr);
    if (!isnan(beta_attr)) tu_attr_float(g, k, "beta", beta_attr);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(tu_output(g, k, 0)->dtype, dt);
    tu_assert_shape(tu_output(g, k, 0), ndim, dims);
    const int64_t count = dk_shape_numel(ndim, dims);
    assert_true(g->nodes[k].flops == (double)count);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
    for (int64_t i = 0; i < count; i++) {
        double xv = dk_tensor_get(&g->values[x].t, i), got = dk_tensor_get(&y, i);
        double want = naive_activation(op, xv, alpha, beta);
        if (dt == DK_F32) want = (float)want;
        /* the kernel's stable forms (log1p, expm1) and the long double formula
         * may differ in double's last bits */
        double slack = dt == DK_F64 && (op == DK_OP_SOFTPLUS || op == DK_OP_ELU)
                           ? 0x1p-50 * fabs(want) : 0;
        if (fabs(got - want) > slack && !(isnan(got) && isnan(want)))
            fail_msg("%s %s x=%.17g: got %.17g want %.17g", dk_dtype_name(dt), dk_op_name(op),
                     xv, got, want);
    }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void check_activation(dk_op op, float alpha_attr, float beta_attr, double alpha,
                             double beta)
{
    const int64_t small[4] = {2, 3, 4, 5}, large[4] = {4, 64, 32, 32}; /* large: threaded */
    check_activation_on(DK_F32, 4, small, op, alpha_attr, beta_attr, alpha, beta);
    check_activation_on(DK_F32, 4, large, op, alpha_attr, beta_attr, alpha, beta);
    check_activation_on(DK_F64, 4, small, op, alpha_attr, beta_attr, alpha, beta);
}

static void test_activations(void **state)
{
    (void)state;
    check_activation(DK_OP_RELU, NAN, NAN, 0, 0);
    check_activation(DK_OP_SIGMOID, NAN, NAN, 0, 0);
    check_activation(DK_OP_HARDSWISH, NAN, NAN, 0, 0);
    check_activation(DK_OP_LEAKYRELU, NAN, NAN, 0.01f, 0);
    check_activation(DK_OP_LEAKYRELU, 0.3f, NAN, 0.3f, 0);
    check_activation(DK_OP_HARDSIGMOID, NAN, NAN, 0.2f, 0.5f);
    check_activation(DK_OP_HARDSIGMOID, 0.5f, 0.6f, 0.5f, 0.6f);
    check_activation(DK_OP_NEG, NAN, NAN, 0, 0);
    check_activation(DK_OP_SQRT, NAN, NAN, 0, 0);
    check_activation(DK_OP_ERF, NAN, NAN, 0, 0);
    check_activation(DK_OP_TANH, NAN, NAN, 0, 0);
    check_activation(DK_OP_ABS, NAN, NAN, 0, 0);
    check_activation(DK_OP_EXP, NAN, NAN, 0, 0);
    check_activation(DK_OP_LOG, NAN, NAN, 0, 0);
    check_activation(DK_OP_RECIPROCAL, NAN, NAN, 0, 0);
    check_activation(DK_OP_FLOOR, NAN, NAN, 0, 0);
    check_activation(DK_OP_CEIL, NAN, NAN, 0, 0);
    check_activation(DK_OP_SOFTPLUS, NAN, NAN, 0, 0);
    check_activation(DK_OP_ELU, NAN, NAN, 1, 0);
    check_activation(DK_OP_ELU, 0.4f, NAN, 0.4f, 0);
}

static void test_activation_rejects_int(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(14);
    const int64_t dims[1] = {4};
    int x = tu_add_input(g, "x", DK_I32, 1, dims, 1, 0);
    tu_add_node(g, DK_OP_SIGMOID, &x, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
    dk_graph_destroy(g);
}

/* NaN in, NaN out: a diverging layer must stay visible downstream. */
static void test_activations_keep_nan(void **state)
{
    (void)state;
    const dk_op ops[] = {DK_OP_RELU, DK_OP_LEAKYRELU, DK_OP_SIGMOID, DK_OP_HARDSIGMOID,
                         DK_OP_HARDSWISH, DK_OP_CLIP, DK_OP_SQRT, DK_OP_ERF, DK_OP_TANH,
                         DK_OP_ABS, DK_OP_EXP, DK_OP_LOG, DK_OP_RECIPROCAL, DK_OP_FLOOR,
                         DK_OP_CEIL, DK_OP_SOFTPLUS, DK_OP_ELU};
    for (int o = 0; o < (int)(sizeof ops / sizeof ops[0]); o++) {
        dk_graph *g = tu_new_graph(14);
        const int64_t dims[1] = {3};
        int x = tu_add_input(g, "x", DK_F32, 1, dims, -1, 1);
        ((float *)g->values[x].t.data)[1] = NAN;
        int k = tu_add_node(g, ops[o], &x, 1, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
        if (!isnan(((float *)y.data)[1])) fail_msg("%s dropped a NaN", dk_op_name(ops[o]));
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

/* ---- Clip ---------------------------------------------------------------- */

static void check_clipped(const dk_tensor *x, const dk_tensor *y, double lo, double hi)
{
    for (int64_t i = 0; i < dk_tensor_numel(x); i++) {
        double v = dk_tensor_get(x, i), want = v < lo ? lo : (v > hi ? hi : v);
        if (dk_tensor_get(y, i) != (double)(float)want)
            fail_msg("clip x=%.9g to [%g, %g]: got %.9g", v, lo, hi, dk_tensor_get(y, i));
    }
}

static void test_clip_opset6_attributes(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(6);
    const int64_t dims[2] = {7, 9};
    int x = tu_add_input(g, "x", DK_F32, 2, dims, -3, 3);
    int k = tu_add_node(g, DK_OP_CLIP, &x, 1, 1);
    tu_attr_float(g, k, "min", -0.5f);
    tu_attr_float(g, k, "max", 1.25f);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_true(g->nodes[k].p.act.min == -0.5f && g->nodes[k].p.act.max == 1.25f);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
    check_clipped(&g->values[x].t, &y, -0.5, 1.25);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_clip_constant_inputs(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    const int64_t dims[3] = {2, 5, 6};
    int x = tu_add_input(g, "x", DK_F32, 3, dims, -6, 6);
    int lo = tu_add_value(g, "lo", DK_VALUE_CONSTANT, DK_F32, 0, NULL, -2, -1);
    int ins[3] = {x, lo, -1}; /* max omitted: unbounded above */
    int k = tu_add_node(g, DK_OP_CLIP, ins, 3, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    double lo_v = dk_tensor_get(&g->values[lo].t, 0);
    assert_true(g->nodes[k].p.act.min == (float)lo_v);
    assert_true(isinf(g->nodes[k].p.act.max) && g->nodes[k].p.act.max > 0);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
    check_clipped(&g->values[x].t, &y, lo_v, INFINITY);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* Bounds fed at run time (as the ONNX conformance cases do) are read from
 * the inputs; the params hold NaN for them. */
static void test_clip_runtime_bounds(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    const int64_t dims[1] = {50};
    int x = tu_add_input(g, "x", DK_F32, 1, dims, -6, 6);
    int lo = tu_add_input(g, "lo", DK_F32, 0, NULL, -3, -1);
    int hi = tu_add_input(g, "hi", DK_F32, 0, NULL, 1, 3);
    int ins[3] = {x, lo, hi};
    int k = tu_add_node(g, DK_OP_CLIP, ins, 3, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_true(isnan(g->nodes[k].p.act.min) && isnan(g->nodes[k].p.act.max));
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
    check_clipped(&g->values[x].t, &y, dk_tensor_get(&g->values[lo].t, 0),
                  dk_tensor_get(&g->values[hi].t, 0));
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_clip_int8(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    const int64_t dims[2] = {6, 7};
    int x = tu_add_input(g, "x", DK_I8, 2, dims, -128, 127);
    int hi = tu_add_value(g, "hi", DK_VALUE_CONSTANT, DK_I8, 0, NULL, -20, 20);
    int ins[3] = {x, -1, hi};
    int k = tu_add_node(g, DK_OP_CLIP, ins, 3, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(tu_output(g, k, 0)->dtype, DK_I8);
    assert_true(g->nodes[k].p.act.min == -128.0f); /* absent: the type's range */
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_unary, &y, 1), DK_OK);
    check_clipped(&g->values[x].t, &y, -128, dk_tensor_get(&g->values[hi].t, 0));
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_clip_errors(void **state)
{
    (void)state;
    const int64_t dims[1] = {4}, two[1] = {2};
    /* int32: its range is not exact in the float params */
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_I32, 1, dims, 1, 0);
    tu_add_node(g, DK_OP_CLIP, &x, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
    dk_graph_destroy(g);
    /* a bound that is not a scalar */
    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_F32, 1, dims, 1, 0);
    int lo = tu_add_value(g, "lo", DK_VALUE_CONSTANT, DK_F32, 1, two, 0, 1);
    int ins[2] = {x, lo};
    tu_add_node(g, DK_OP_CLIP, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 1");
    dk_graph_destroy(g);
    /* a bound of another type */
    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_F32, 1, dims, 1, 0);
    lo = tu_add_value(g, "lo", DK_VALUE_CONSTANT, DK_I8, 0, NULL, 0, 1);
    ins[1] = lo;
    tu_add_node(g, DK_OP_CLIP, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "int8");
    dk_graph_destroy(g);
}

/* ---- Add, Sub, Mul, Div -------------------------------------------------- */

static double naive_float_op(dk_op op, double a, double b)
{
    switch (op) {
    case DK_OP_ADD: return a + b;
    case DK_OP_SUB: return a - b;
    case DK_OP_MUL: return a * b;
    case DK_OP_DIV: return a / b;
    case DK_OP_POW: return pow(a, b);
    default: return NAN;
    }
}

/* Index into an operand whose dim 0 sits at output dim `first` (dims of
 * size 1 broadcast), for the output multi-index idx. */
static int64_t operand_index(const dk_tensor *t, int first, const int64_t *idx)
{
    int64_t i = 0;
    for (int d = 0; d < t->ndim; d++) i = i * t->dims[d] + (t->dims[d] == 1 ? 0 : idx[first + d]);
    return i;
}

/* Naive broadcasting check for float32 outputs: every output element from
 * its multi-index. b_first < 0 means numpy alignment. */
static void check_binary_f32(dk_op op, const dk_tensor *a, const dk_tensor *b, int b_first,
                             const dk_tensor *y)
{
    if (b_first < 0) b_first = y->ndim - b->ndim;
    int64_t idx[DK_MAX_DIMS];
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) {
        int64_t r = i;
        for (int d = y->ndim - 1; d >= 0; d--) {
            idx[d] = r % y->dims[d];
            r /= y->dims[d];
        }
        double av = dk_tensor_get(a, operand_index(a, y->ndim - a->ndim, idx));
        double bv = dk_tensor_get(b, operand_index(b, b_first, idx));
        float want = (float)naive_float_op(op, av, bv);
        float got = ((const float *)y->data)[i];
        if (got != want && !(isnan(got) && isnan(want)))
            fail_msg("%s element %lld: %.9g op %.9g = %.9g, got %.9g", dk_op_name(op),
                     (long long)i, av, bv, want, got);
    }
}

typedef struct bcast_case {
    int na, nb, ny;
    int64_t a[4], b[4], y[4];
} bcast_case;

static void test_binary_broadcasting(void **state)
{
    (void)state;
    static const bcast_case cases[] = {
        {4, 4, 4, {2, 3, 4, 5}, {2, 3, 4, 5}, {2, 3, 4, 5}},   /* residual Add */
        {4, 4, 4, {2, 3, 4, 5}, {1, 3, 1, 1}, {2, 3, 4, 5}},   /* per-channel scale */
        {4, 3, 4, {2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},      /* per-channel, lower rank */
        {3, 1, 3, {3, 4, 5}, {5}, {3, 4, 5}},                  /* bias along the last dim */
        {3, 0, 3, {3, 4, 5}, {0}, {3, 4, 5}},                  /* scalar B */
        {0, 3, 3, {0}, {3, 4, 5}, {3, 4, 5}},                  /* scalar A */
        {2, 2, 2, {3, 1}, {1, 4}, {3, 4}},                     /* outer product */
        {4, 4, 4, {1, 3, 1, 1}, {2, 3, 4, 5}, {2, 3, 4, 5}},   /* A broadcast */
        {4, 3, 4, {2, 1, 4, 1}, {3, 1, 6}, {2, 3, 4, 6}},      /* both broadcast */
        {2, 2, 2, {1, 1}, {1, 1}, {1, 1}},
    };
    const dk_op ops[4] = {DK_OP_ADD, DK_OP_SUB, DK_OP_MUL, DK_OP_DIV};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int o = 0; o < 4; o++) {
            dk_graph *g = tu_new_graph(14);
            int ins[2] = {tu_add_input(g, "a", DK_F32, cases[c].na, cases[c].a, -4, 4),
                          tu_add_input(g, "b", DK_F32, cases[c].nb, cases[c].b, 0.5, 4)};
            int k = tu_add_node(g, ops[o], ins, 2, 1);
            if (dk_graph_finalize(g) != DK_OK) fail_msg("case %zu: %s", c, dk_last_error());
            tu_assert_shape(tu_output(g, k, 0), cases[c].ny, cases[c].y);
            assert_true(g->nodes[k].flops == (double)dk_tensor_numel(tu_output(g, k, 0)));
            dk_tensor y = {0};
            assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
            check_binary_f32(ops[o], &g->values[ins[0]].t, &g->values[ins[1]].t, -1, &y);
            dk_tensor_reset(&y);
            dk_graph_destroy(g);
        }
}

/* Large enough to take the OpenMP path. */
static void test_binary_large_per_channel(void **state)
{
    (void)state;
    const int64_t a[4] = {2, 64, 30, 30}, b[4] = {1, 64, 1, 1};
    dk_graph *g = tu_new_graph(14);
    int ins[2] = {tu_add_input(g, "a", DK_F32, 4, a, -4, 4),
                  tu_add_input(g, "b", DK_F32, 4, b, -4, 4)};
    int k = tu_add_node(g, DK_OP_MUL, ins, 2, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
    check_binary_f32(DK_OP_MUL, &g->values[ins[0]].t, &g->values[ins[1]].t, -1, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_binary_legacy_axis(void **state)
{
    (void)state;
    const int64_t a[4] = {2, 3, 4, 5}, b[2] = {3, 4};
    dk_graph *g = tu_new_graph(6);
    int ins[2] = {tu_add_input(g, "a", DK_F32, 4, a, -4, 4),
                  tu_add_input(g, "b", DK_F32, 2, b, -4, 4)};
    int k = tu_add_node(g, DK_OP_SUB, ins, 2, 1);
    tu_attr_int(g, k, "broadcast", 1);
    tu_attr_int(g, k, "axis", 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, a);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
    check_binary_f32(DK_OP_SUB, &g->values[ins[0]].t, &g->values[ins[1]].t, 1, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);

    /* broadcast=1 without axis: suffix alignment, as numpy */
    const int64_t b2[2] = {4, 5};
    g = tu_new_graph(6);
    ins[0] = tu_add_input(g, "a", DK_F32, 4, a, -4, 4);
    ins[1] = tu_add_input(g, "b", DK_F32, 2, b2, -4, 4);
    k = tu_add_node(g, DK_OP_ADD, ins, 2, 1);
    tu_attr_int(g, k, "broadcast", 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
    check_binary_f32(DK_OP_ADD, &g->values[ins[0]].t, &g->values[ins[1]].t, -1, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);

    /* broadcast=0 needs equal shapes */
    g = tu_new_graph(6);
    ins[0] = tu_add_input(g, "a", DK_F32, 4, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_F32, 2, b2, 1, 0);
    tu_add_node(g, DK_OP_ADD, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "2x3x4x5");
    dk_graph_destroy(g);
}

static void test_binary_errors(void **state)
{
    (void)state;
    const int64_t a[3] = {3, 4, 5}, b[1] = {4};
    dk_graph *g = tu_new_graph(14);
    int ins[2] = {tu_add_input(g, "a", DK_F32, 3, a, 1, 0),
                  tu_add_input(g, "b", DK_F32, 1, b, 1, 0)};
    tu_add_node(g, DK_OP_ADD, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "3x4x5");
    dk_graph_destroy(g);

    g = tu_new_graph(14);
    ins[0] = tu_add_input(g, "a", DK_F32, 3, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_I64, 3, a, 1, 0);
    tu_add_node(g, DK_OP_MUL, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "int64");
    dk_graph_destroy(g);

    g = tu_new_graph(14);
    ins[0] = tu_add_input(g, "a", DK_BOOL, 3, a, 1, 0);
    ins[1] = tu_add_input(g, "b", DK_BOOL, 3, a, 1, 0);
    tu_add_node(g, DK_OP_MUL, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "bool");
    dk_graph_destroy(g);
}

/* ---- Pow ----------------------------------------------------------------- */

/* Pow on a positive base against libm's pow, with the exponent as a scalar,
 * a broadcast tensor, the lower-ranked operand and of other types (ONNX T1). */
static void test_pow(void **state)
{
    (void)state;
    static const struct {
        int nb;
        int64_t b[4];
        dk_dtype bt;
        double lo, hi;
    } cases[] = {
        {0, {0}, DK_F32, 2, 2},             /* x^2 */
        {0, {0}, DK_F32, 0.5, 0.5},         /* sqrt as pow */
        {4, {1, 3, 1, 1}, DK_F32, -2, 3},   /* per-channel exponent */
        {1, {5}, DK_F32, -3, 3},            /* along the last dim */
        {4, {2, 3, 4, 5}, DK_F32, -3, 3},   /* same shape */
        {0, {0}, DK_I64, -3, 4},            /* int64 exponent */
        {4, {1, 3, 1, 1}, DK_I32, -3, 4},   /* int32 tensor exponent */
    };
    const int64_t a[4] = {2, 3, 4, 5};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(15);
        int ins[2] = {tu_add_input(g, "x", DK_F32, 4, a, 0.05, 4),
                      tu_add_value(g, "e", DK_VALUE_CONSTANT, cases[c].bt, cases[c].nb,
                                   cases[c].b, cases[c].lo, cases[c].hi)};
        int k = tu_add_node(g, DK_OP_POW, ins, 2, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("case %zu: %s", c, dk_last_error());
        assert_int_equal(tu_output(g, k, 0)->dtype, DK_F32);
        tu_assert_shape(tu_output(g, k, 0), 4, a);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
        check_binary_f32(DK_OP_POW, &g->values[ins[0]].t, &g->values[ins[1]].t, -1, &y);
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
    /* a negative base: integer exponents are fine, a fraction gives NaN */
    dk_graph *g = tu_new_graph(15);
    const int64_t n3[1] = {3};
    int ins[2] = {tu_add_input(g, "x", DK_F64, 1, n3, -4, -1),
                  tu_add_value(g, "e", DK_VALUE_CONSTANT, DK_F64, 1, n3, 0, 0)};
    const double e[3] = {3, -2, 0.5};
    for (int i = 0; i < 3; i++) dk_tensor_set(&g->values[ins[1]].t, i, e[i]);
    int k = tu_add_node(g, DK_OP_POW, ins, 2, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
    for (int i = 0; i < 2; i++) {
        double x = dk_tensor_get(&g->values[ins[0]].t, i), want = i == 0 ? x * x * x : 1 / (x * x);
        tu_assert_close("Pow of a negative base", i, dk_tensor_get(&y, i), want, fabs(want));
    }
    assert_true(isnan(dk_tensor_get(&y, 2)));
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_pow_errors(void **state)
{
    (void)state;
    const int64_t a[2] = {3, 4};
    dk_graph *g = tu_new_graph(15);
    int ins[2] = {tu_add_input(g, "x", DK_I32, 2, a, 1, 3),
                  tu_add_input(g, "e", DK_I32, 2, a, 1, 3)};
    tu_add_node(g, DK_OP_POW, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "base (input 0) has element type int32");
    dk_graph_destroy(g);

    g = tu_new_graph(15);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, a, 1, 3);
    ins[1] = tu_add_input(g, "e", DK_BOOL, 2, a, 1, 0);
    tu_add_node(g, DK_OP_POW, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "exponent (input 1)");
    dk_graph_destroy(g);

    g = tu_new_graph(15);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, a, 1, 3);
    ins[1] = tu_add_input(g, "e", DK_F32, 1, (int64_t[]){3}, 1, 3);
    tu_add_node(g, DK_OP_POW, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "not broadcastable");
    dk_graph_destroy(g);
}

/* PRelu against the formula with explicit indices: X [2,3,4,5], slope [3,1,1]
 * (per channel) and [5]; a slope larger than X is refused. */
static void test_prelu(void **state)
{
    (void)state;
    const int64_t xd[4] = {2, 3, 4, 5}, s1[3] = {3, 1, 1}, s2[1] = {5};
    for (int v = 0; v < 2; v++) {
        dk_graph *g = tu_new_graph(16);
        int ins[2] = {tu_add_input(g, "x", DK_F32, 4, xd, -2, 2),
                      v ? tu_add_input(g, "s", DK_F32, 1, s2, -1, 1)
                        : tu_add_input(g, "s", DK_F32, 3, s1, -1, 1)};
        int k = tu_add_node(g, DK_OP_PRELU, ins, 2, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        tu_assert_shape(tu_output(g, k, 0), 4, xd);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
        const float *x = g->values[ins[0]].t.data, *s = g->values[ins[1]].t.data;
        for (int64_t i = 0; i < 120; i++) {
            int64_t c = (i / 20) % 3, w = i % 5;
            double slope = v ? s[w] : s[c];
            float want = x[i] < 0 ? (float)((double)x[i] * slope) : x[i];
            if (((float *)y.data)[i] != want)
                fail_msg("PRelu slope %d at %lld: got %g want %g", v, (long long)i,
                         (double)((float *)y.data)[i], (double)want);
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
    /* opset 6: a 1-D slope of C values is per channel, as Caffe2 had it */
    dk_graph *g = tu_new_graph(6);
    const int64_t x3[3] = {2, 3, 4}, c3[1] = {3};
    int in6[2] = {tu_add_input(g, "x", DK_F32, 3, x3, -2, 2), tu_add_input(g, "s", DK_F32, 1, c3, -1, 1)};
    int k6 = tu_add_node(g, DK_OP_PRELU, in6, 2, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor y6 = {0};
    assert_int_equal(tu_run_kernel(g, k6, dk_ref_binary, &y6, 1), DK_OK);
    const float *x6 = g->values[in6[0]].t.data, *sl6 = g->values[in6[1]].t.data;
    for (int64_t i = 0; i < 24; i++) {
        float want = x6[i] < 0 ? (float)((double)x6[i] * sl6[(i / 4) % 3]) : x6[i];
        assert_true(((float *)y6.data)[i] == want);
    }
    dk_tensor_reset(&y6);
    dk_graph_destroy(g);

    g = tu_new_graph(16);
    int ins[2] = {tu_add_input(g, "x", DK_F32, 1, s2, -2, 2),
                  tu_add_input(g, "s", DK_F32, 2, (int64_t[]){2, 5}, -1, 1)};
    tu_add_node(g, DK_OP_PRELU, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "does not broadcast onto X");
    dk_graph_destroy(g);
}

/* numpy semantics: wrap modulo 2^bits; integer Div truncates toward zero,
 * and x / 0 gives 0. */
static int64_t naive_int_op(dk_op op, int64_t a, int64_t b, int bits, int is_signed)
{
    int64_t r;
    switch (op) {
    case DK_OP_ADD: r = a + b; break;
    case DK_OP_SUB: r = a - b; break;
    case DK_OP_MUL: r = a * b; break;
    default: r = b == 0 ? 0 : a / b; break;
    }
    int64_t mod = (int64_t)1 << bits;
    r = ((r % mod) + mod) % mod;
    if (is_signed && r >= mod / 2) r -= mod;
    return r;
}

static void check_int_binary(dk_dtype dt, int bits, int is_signed, double lo, double hi)
{
    const int64_t a[2] = {5, 12}, b[1] = {12};
    const dk_op ops[4] = {DK_OP_ADD, DK_OP_SUB, DK_OP_MUL, DK_OP_DIV};
    for (int o = 0; o < 4; o++) {
        dk_graph *g = tu_new_graph(14);
        int ins[2] = {tu_add_input(g, "a", dt, 2, a, lo, hi),
                      tu_add_input(g, "b", dt, 1, b, lo, hi)};
        dk_tensor_set(&g->values[ins[1]].t, 0, 0); /* division by zero */
        int k = tu_add_node(g, ops[o], ins, 2, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        assert_int_equal(tu_output(g, k, 0)->dtype, dt);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y, 1), DK_OK);
        for (int64_t i = 0; i < 60; i++) {
            int64_t av = (int64_t)dk_tensor_get(&g->values[ins[0]].t, i);
            int64_t bv = (int64_t)dk_tensor_get(&g->values[ins[1]].t, i % 12);
            int64_t want = naive_int_op(ops[o], av, bv, bits, is_signed);
            if ((int64_t)dk_tensor_get(&y, i) != want)
                fail_msg("%s %s: %lld op %lld = %lld, got %lld", dk_dtype_name(dt),
                         dk_op_name(ops[o]), (long long)av, (long long)bv, (long long)want,
                         (long long)dk_tensor_get(&y, i));
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_binary_integers(void **state)
{
    (void)state;
    check_int_binary(DK_U8, 8, 0, 0, 255);
    check_int_binary(DK_I8, 8, 1, -128, 127);
    check_int_binary(DK_I32, 32, 1, -2147483647.0, 2147483647.0);
    check_int_binary(DK_I64, 62, 1, -1e6, 1e6); /* no overflow in the naive int64 math */
}

/* ---- constant folding (layers/op_arith.c) ----------------------------------- */

/* The load-time eval of Add/Sub/Mul/Div/Pow computes the bits the reference
 * kernel computes, for every dtype and broadcast, so folding a node changes
 * nothing downstream. */
static void test_arith_eval_matches_kernel(void **state)
{
    (void)state;
    static const struct {
        dk_dtype t;
        double lo, hi;
    } types[] = {{DK_F32, -4, 4}, {DK_F64, -4, 4}, {DK_I64, -3e15, 3e15}, {DK_I32, -1e9, 1e9},
                 {DK_U8, 0, 255}, {DK_I8, -128, 127}, {DK_U16, 0, 65535}};
    const dk_op ops[5] = {DK_OP_ADD, DK_OP_SUB, DK_OP_MUL, DK_OP_DIV, DK_OP_POW};
    const int64_t a[3] = {3, 4, 5}, b[2] = {4, 1};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (int o = 0; o < 5; o++) {
            int is_float = types[t].t == DK_F32 || types[t].t == DK_F64;
            if (ops[o] == DK_OP_POW && !is_float) continue; /* refused at load */
            dk_graph *g = tu_new_graph(14);
            int ins[2] = {tu_add_input(g, "a", types[t].t, 3, a, types[t].lo, types[t].hi),
                          tu_add_input(g, "b", types[t].t, 2, b, types[t].lo, types[t].hi)};
            dk_tensor_set(&g->values[ins[1]].t, 1, 0); /* a zero divisor */
            if (ops[o] == DK_OP_POW) /* positive bases: no NaN to compare */
                for (int64_t i = 0; i < 60; i++)
                    dk_tensor_set(&g->values[ins[0]].t, i,
                                  fabs(dk_tensor_get(&g->values[ins[0]].t, i)));
            int k = tu_add_node(g, ops[o], ins, 2, 1);
            assert_int_equal(dk_graph_finalize(g), DK_OK);
            dk_tensor y_kernel = {0}, y_eval = {0};
            assert_int_equal(tu_run_kernel(g, k, dk_ref_binary, &y_kernel, 1), DK_OK);
            assert_int_equal(tu_run_kernel(g, k, dk__op_info(ops[o])->eval, &y_eval, 1), DK_OK);
            if (memcmp(y_kernel.data, y_eval.data, dk_tensor_nbytes(&y_kernel)) != 0)
                fail_msg("%s %s: the load-time eval differs from the reference kernel",
                         dk_dtype_name(types[t].t), dk_op_name(ops[o]));
            dk_tensor_reset(&y_kernel);
            dk_tensor_reset(&y_eval);
            dk_graph_destroy(g);
        }
}

int main(void)
{
    tu_init("test_eltwise");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_activation_rejects_int),
        cmocka_unit_test(test_activations_keep_nan),
        cmocka_unit_test(test_clip_opset6_attributes),
        cmocka_unit_test(test_clip_constant_inputs),
        cmocka_unit_test(test_clip_runtime_bounds),
        cmocka_unit_test(test_clip_int8),
        cmocka_unit_test(test_clip_errors),
        cmocka_unit_test(test_binary_broadcasting),
        cmocka_unit_test(test_binary_large_per_channel),
        cmocka_unit_test(test_binary_legacy_axis),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_binary_integers),
        cmocka_unit_test(test_pow),
        cmocka_unit_test(test_pow_errors),
        cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_arith_eval_matches_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
