/* Unit tests for Sum, Mean, Max and Min: shape inference (layers/op_eltwise.c)
 * and the reference kernel (kernels/ref/ref_variadic.c) against naive loops
 * over explicit broadcast coordinates. */
#include <math.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* Element of t at output coordinate idx (rank 3 output), t aligned right. */
static double at(const dk_tensor *t, const int64_t *idx)
{
    int64_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t i = idx[3 - t->ndim + d];
        off = off * t->dims[d] + (t->dims[d] == 1 ? 0 : i);
    }
    return dk_tensor_get(t, off);
}

static double naive(dk_op op, const double *v, int k)
{
    double acc = v[0];
    for (int j = 1; j < k; j++) {
        if (op == DK_OP_SUM || op == DK_OP_MEAN) acc += v[j];
        if (op == DK_OP_MAX && v[j] > acc) acc = v[j];
        if (op == DK_OP_MIN && v[j] < acc) acc = v[j];
    }
    return op == DK_OP_MEAN ? acc / k : acc;
}

/* [2,3,4] + [3,1] + [4] + [1,1,1] -> [2,3,4] */
static void check_op(dk_op op, dk_dtype dt)
{
    dk_graph *g = tu_new_graph(13);
    const int64_t d0[3] = {2, 3, 4}, d1[2] = {3, 1}, d2[1] = {4}, d3[3] = {1, 1, 1};
    int x[4] = {tu_add_input(g, "a", dt, 3, d0, -9, 9), tu_add_input(g, "b", dt, 2, d1, -9, 9),
                tu_add_input(g, "c", dt, 1, d2, -9, 9), tu_add_input(g, "d", dt, 3, d3, -9, 9)};
    int k = tu_add_node(g, op, x, 4, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 3, d0);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_variadic, &y, 1), DK_OK);
    int64_t idx[3];
    for (idx[0] = 0; idx[0] < 2; idx[0]++)
        for (idx[1] = 0; idx[1] < 3; idx[1]++)
            for (idx[2] = 0; idx[2] < 4; idx[2]++) {
                double v[4];
                for (int j = 0; j < 4; j++) v[j] = at(&g->values[x[j]].t, idx);
                double want = naive(op, v, 4);
                if (dt == DK_F32) want = (float)want;
                double got = dk_tensor_get(&y, (idx[0] * 3 + idx[1]) * 4 + idx[2]);
                if (got != want)
                    fail_msg("%s %s at (%lld,%lld,%lld): got %.17g want %.17g", dk_op_name(op),
                             dk_dtype_name(dt), (long long)idx[0], (long long)idx[1],
                             (long long)idx[2], got, want);
            }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_variadic_broadcasting(void **state)
{
    (void)state;
    const dk_op ops[4] = {DK_OP_SUM, DK_OP_MEAN, DK_OP_MAX, DK_OP_MIN};
    for (int o = 0; o < 4; o++) {
        check_op(ops[o], DK_F32);
        check_op(ops[o], DK_F64);
    }
    check_op(DK_OP_MAX, DK_I32);
    check_op(DK_OP_MIN, DK_I8);
}

/* int64 values that double cannot tell apart, and uint64 above INT64_MAX */
static void test_max_min_exact_integers(void **state)
{
    (void)state;
    const int64_t d[1] = {1};
    for (int o = 0; o < 2; o++) {
        dk_graph *g = tu_new_graph(13);
        int x[2] = {tu_add_input(g, "a", DK_I64, 1, d, 0, 0), tu_add_input(g, "b", DK_I64, 1, d, 0, 0)};
        ((int64_t *)g->values[x[0]].t.data)[0] = (INT64_C(1) << 60) + 1;
        ((int64_t *)g->values[x[1]].t.data)[0] = (INT64_C(1) << 60);
        int k = tu_add_node(g, o ? DK_OP_MIN : DK_OP_MAX, x, 2, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_variadic, &y, 1), DK_OK);
        assert_true(((int64_t *)y.data)[0] == (INT64_C(1) << 60) + (o ? 0 : 1));
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
    dk_graph *g = tu_new_graph(13);
    int x[2] = {tu_add_input(g, "a", DK_U64, 1, d, 0, 0), tu_add_input(g, "b", DK_U64, 1, d, 0, 0)};
    ((uint64_t *)g->values[x[0]].t.data)[0] = UINT64_MAX;
    ((uint64_t *)g->values[x[1]].t.data)[0] = 1;
    int k = tu_add_node(g, DK_OP_MAX, x, 2, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_variadic, &y, 1), DK_OK);
    assert_true(((uint64_t *)y.data)[0] == UINT64_MAX);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

/* NaN in any input, first or later, stays NaN (numpy maximum/minimum) */
static void test_max_min_keep_nan(void **state)
{
    (void)state;
    const int64_t d[1] = {2};
    for (int o = 0; o < 2; o++) {
        dk_graph *g = tu_new_graph(13);
        int x[2] = {tu_add_input(g, "a", DK_F32, 1, d, 0, 1), tu_add_input(g, "b", DK_F32, 1, d, 0, 1)};
        ((float *)g->values[x[0]].t.data)[0] = NAN;
        ((float *)g->values[x[1]].t.data)[1] = NAN;
        int k = tu_add_node(g, o ? DK_OP_MIN : DK_OP_MAX, x, 2, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk_ref_variadic, &y, 1), DK_OK);
        assert_true(isnan(((float *)y.data)[0]) && isnan(((float *)y.data)[1]));
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_variadic_errors(void **state)
{
    (void)state;
    const int64_t a[2] = {2, 3}, b[1] = {2};
    dk_graph *g = tu_new_graph(13);
    int x[3] = {tu_add_input(g, "a", DK_F32, 2, a, 0, 1), tu_add_input(g, "b", DK_F32, 2, a, 0, 1),
                tu_add_input(g, "c", DK_F32, 1, b, 0, 1)};
    tu_add_node(g, DK_OP_SUM, x, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 2");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    x[0] = tu_add_input(g, "a", DK_F32, 2, a, 0, 1);
    x[1] = tu_add_input(g, "b", DK_F64, 2, a, 0, 1);
    tu_add_node(g, DK_OP_MAX, x, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "input 1 has element type float64");
    dk_graph_destroy(g);

    g = tu_new_graph(13); /* Sum and Mean are float-only in ONNX */
    x[0] = tu_add_input(g, "a", DK_I32, 2, a, 0, 1);
    tu_add_node(g, DK_OP_MEAN, x, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "int32");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_variadic");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variadic_broadcasting),
        cmocka_unit_test(test_max_min_exact_integers),
        cmocka_unit_test(test_max_min_keep_nan),
        cmocka_unit_test(test_variadic_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
