/* Unit tests for Softmax and ReduceMean: shape inference (layers/op_reduce.c)
 * and reference kernels (kernels/ref/ref_reduce.c) against naive loops.
 *
 * Tolerance: both sides work in double and round to float32 once, so they
 * differ by about one float rounding (relative 6e-8); 1e-6 relative leaves
 * room for exp() and summation order. */
#include <math.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* ---- Softmax --------------------------------------------------------------- */

/* Softmax over the elements that share every index outside [axis, axis_end):
 * axis_end = axis + 1 for opset >= 13, ndim for the legacy 2-D coercion. */
static void check_softmax(const dk_tensor *x, int axis, int axis_end, const dk_tensor *y)
{
    int64_t outer = dk_shape_numel(axis, x->dims);
    int64_t len = dk_shape_numel(axis_end - axis, x->dims + axis);
    int64_t inner = dk_shape_numel(x->ndim - axis_end, x->dims + axis_end);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t l = 0; l < len; l++)
                mx = fmax(mx, dk_tensor_get(x, (o * len + l) * inner + j));
            for (int64_t l = 0; l < len; l++)
                sum += exp(dk_tensor_get(x, (o * len + l) * inner + j) - mx);
            for (int64_t l = 0; l < len; l++) {
                int64_t i = (o * len + l) * inner + j;
                double want = exp(dk_tensor_get(x, i) - mx) / sum, got = dk_tensor_get(y, i);
                if (!(fabs(got - want) <= 1e-6 * want + 1e-12))
                    fail_msg("Softmax element %lld: got %.9g want %.9g", (long long)i, got, want);
            }
        }
}

static void run_softmax(int64_t opset, int ndim, const int64_t *dims, int has_axis, int64_t axis,
                        int want_axis, int want_end, double lo, double hi)
{
    dk_graph *g = tu_new_graph(opset);
    int x = tu_add_input(g, "x", DK_F32, ndim, dims, lo, hi);
    int k = tu_add_node(g, DK_OP_SOFTMAX, &x, 1, 1);
    if (has_axis) tu_attr_int(g, k, "axis", axis);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    tu_assert_shape(tu_output(g, k, 0), ndim, dims);
    assert_int_equal(g->nodes[k].p.softmax.axis, want_axis);
    assert_int_equal(g->nodes[k].p.softmax.legacy, opset < 13);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_softmax, &y, 1), DK_OK);
    check_softmax(&g->values[x].t, want_axis, want_end, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_softmax(void **state)
{
    (void)state;
    const int64_t d3[3] = {3, 4, 5}, d2[2] = {2, 1000}, big[4] = {2, 21, 40, 40};
    run_softmax(13, 3, d3, 0, 0, 2, 3, -5, 5);    /* default: last axis */
    run_softmax(13, 3, d3, 1, 0, 0, 1, -5, 5);
    run_softmax(13, 3, d3, 1, 1, 1, 2, -5, 5);
    run_softmax(13, 3, d3, 1, -2, 1, 2, -5, 5);
    run_softmax(11, 3, d3, 0, 0, 1, 3, -5, 5);    /* legacy default axis 1: coerced 3x20 */
    run_softmax(11, 3, d3, 1, 0, 0, 3, -5, 5);    /* legacy: everything one row */
    run_softmax(1, 3, d3, 1, -1, 2, 3, -5, 5);
    run_softmax(13, 2, d2, 0, 0, 1, 2, 1e4, 1e4 + 30); /* large numbers need the max shift */
    run_softmax(13, 4, big, 1, 1, 1, 2, -5, 5);   /* channel axis, many tiles */
}

static void test_softmax_errors(void **state)
{
    (void)state;
    const int64_t d3[3] = {3, 4, 5};
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 3, d3, 1, 0);
    int k = tu_add_node(g, DK_OP_SOFTMAX, &x, 1, 1);
    tu_attr_int(g, k, "axis", 3);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "axis 3");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_I32, 3, d3, 1, 0);
    tu_add_node(g, DK_OP_SOFTMAX, &x, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
    dk_graph_destroy(g);
}

/* ---- ReduceMean ------------------------------------------------------------- */

/* Mean, max or sum over the axes flagged in `reduced`, one output element at a time. */
static void check_reduce(dk_op op, const dk_tensor *x, const int *reduced, const dk_tensor *y)
{
    int64_t kept_dims[DK_MAX_DIMS], red_dims[DK_MAX_DIMS];
    int nk = 0, nr = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (reduced[d]) red_dims[nr++] = x->dims[d];
        else kept_dims[nk++] = x->dims[d];
    }
    int64_t n_out = dk_shape_numel(nk, kept_dims), n_red = dk_shape_numel(nr, red_dims);
    assert_int_equal(dk_tensor_numel(y), n_out);
    for (int64_t o = 0; o < n_out; o++) {
        double sum = 0, mx = -INFINITY;
        for (int64_t r = 0; r < n_red; r++) {
            /* rebuild the input index from the kept and reduced counters */
            int64_t ko = o, kr = r, idx[DK_MAX_DIMS];
            for (int d = x->ndim - 1; d >= 0; d--) {
                int64_t *counter = reduced[d] ? &kr : &ko;
                idx[d] = *counter % x->dims[d];
                *counter /= x->dims[d];
            }
            int64_t i = 0;
            for (int d = 0; d < x->ndim; d++) i = i * x->dims[d] + idx[d];
            sum += dk_tensor_get(x, i);
            if (dk_tensor_get(x, i) > mx) mx = dk_tensor_get(x, i);
        }
        double want = op == DK_OP_REDUCEMEAN ? sum / (double)n_red
                      : op == DK_OP_REDUCESUM ? sum : mx;
        double got = dk_tensor_get(y, o);
        if (op == DK_OP_REDUCEMAX ? got != want : !(fabs(got - want) <= 1e-6 * fabs(want) + 1e-9))
            fail_msg("%s element %lld: got %.9g want %.9g", dk_op_name(op), (long long)o, got, want);
    }
}

typedef struct reduce_case {
    int64_t opset;
    int naxes;             /* -1: no axes */
    int64_t axes[4];
    int as_input;          /* axes as constant input 1 (opset 18) */
    int keepdims;          /* -1: attribute absent (default 1) */
    int noop;              /* noop_with_empty_axes */
    int reduced[4];        /* expected reduced axes of the 2x3x4x5 input */
    int ny;
    int64_t y[4];
} reduce_case;

static void run_reduce_case(dk_op op, const reduce_case *rc)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    /* ReduceSum takes its axes as an input from opset 13 on, the others from 18 */
    int64_t opset = op == DK_OP_REDUCESUM && rc->opset == 18 ? 13 : rc->opset;
    if (op == DK_OP_REDUCESUM && opset == 13 && !rc->as_input && rc->naxes >= 0) opset = 11;
    dk_graph *g = tu_new_graph(opset);
    int ins[2] = {tu_add_input(g, "x", DK_F32, 4, dims, -3, 3), -1};
    if (rc->as_input) {
        const int64_t n_axes[1] = {rc->naxes};
        ins[1] = tu_add_value(g, "axes", DK_VALUE_CONSTANT, DK_I64, 1, n_axes, 0, 0);
        for (int i = 0; i < rc->naxes; i++) dk_tensor_set(&g->values[ins[1]].t, i, (double)rc->axes[i]);
    }
    int k = tu_add_node(g, op, ins, rc->as_input ? 2 : 1, 1);
    if (!rc->as_input && rc->naxes >= 0) tu_attr_ints(g, k, "axes", rc->naxes, rc->axes);
    if (rc->keepdims >= 0) tu_attr_int(g, k, "keepdims", rc->keepdims);
    if (rc->noop) tu_attr_int(g, k, "noop_with_empty_axes", 1);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    tu_assert_shape(tu_output(g, k, 0), rc->ny, rc->y);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_reduce, &y, 1), DK_OK);
    check_reduce(op, &g->values[ins[0]].t, rc->reduced, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_reducemean(void **state)
{
    (void)state;
    const reduce_case cases[] = {
        {13, 1, {1}, 0, 1, 0, {0, 1, 0, 0}, 4, {2, 1, 4, 5}},
        {13, 1, {1}, 0, 0, 0, {0, 1, 0, 0}, 3, {2, 4, 5}},
        {13, 1, {-2}, 0, -1, 0, {0, 0, 1, 0}, 4, {2, 3, 1, 5}},
        {13, 2, {2, 3}, 0, 1, 0, {0, 0, 1, 1}, 4, {2, 3, 1, 1}},   /* global average pool */
        {13, 2, {3, 0}, 0, 0, 0, {1, 0, 0, 1}, 2, {3, 4}},
        {13, 3, {0, 1, 3}, 0, 0, 0, {1, 1, 0, 1}, 1, {4}},
        {13, -1, {0}, 0, -1, 0, {1, 1, 1, 1}, 4, {1, 1, 1, 1}},    /* all axes */
        {13, -1, {0}, 0, 0, 0, {1, 1, 1, 1}, 0, {0}},              /* all axes to a scalar */
        {6, 1, {2}, 0, 0, 0, {0, 0, 1, 0}, 3, {2, 3, 5}},
        {18, 2, {1, -1}, 1, 1, 0, {0, 1, 0, 1}, 4, {2, 1, 4, 1}},  /* axes as input */
        {18, 0, {0}, 1, 0, 0, {1, 1, 1, 1}, 0, {0}},               /* empty axes: all */
        {18, 0, {0}, 1, 1, 1, {0, 0, 0, 0}, 4, {2, 3, 4, 5}},      /* empty axes, noop */
    };
    const dk_op ops[3] = {DK_OP_REDUCEMEAN, DK_OP_REDUCEMAX, DK_OP_REDUCESUM};
    for (int o = 0; o < 3; o++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_reduce_case(ops[o], &cases[i]);
}

/* ReduceMax keeps a NaN wherever it sits in the reduced run */
static void test_reducemax_nan(void **state)
{
    (void)state;
    const int64_t dims[2] = {3, 4}, axes[1] = {1};
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 2, dims, -1, 1);
    ((float *)g->values[x].t.data)[0] = NAN; /* first of row 0 */
    ((float *)g->values[x].t.data)[7] = NAN; /* last of row 1 */
    int k = tu_add_node(g, DK_OP_REDUCEMAX, &x, 1, 1);
    tu_attr_ints(g, k, "axes", 1, axes);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_reduce, &y, 1), DK_OK);
    const float *yp = y.data;
    assert_true(isnan(yp[0]) && isnan(yp[1]) && !isnan(yp[2]));
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_reducemean_errors(void **state)
{
    (void)state;
    const int64_t dims[3] = {2, 3, 4};
    const int64_t dup[2] = {1, -2}, out_of_range[1] = {3};
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 3, dims, 1, 0);
    int k = tu_add_node(g, DK_OP_REDUCEMEAN, &x, 1, 1);
    tu_attr_ints(g, k, "axes", 2, dup);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "twice");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_F32, 3, dims, 1, 0);
    k = tu_add_node(g, DK_OP_REDUCEMEAN, &x, 1, 1);
    tu_attr_ints(g, k, "axes", 1, out_of_range);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "axis 3");
    dk_graph_destroy(g);

    /* axes input that is not known at load time */
    const int64_t one[1] = {1};
    g = tu_new_graph(18);
    int ins[2] = {tu_add_input(g, "x", DK_F32, 3, dims, 1, 0),
                  tu_add_input(g, "axes", DK_I64, 1, one, 1, 0)};
    tu_add_node(g, DK_OP_REDUCEMEAN, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "axes");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_reduce");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_errors),
        cmocka_unit_test(test_reducemean),
        cmocka_unit_test(test_reducemean_errors),
        cmocka_unit_test(test_reducemax_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
