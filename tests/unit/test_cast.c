/* Unit tests for Cast (layers/op_cast.c): conversions against values written
 * out from the rules (C's correctly rounded conversions, truncation, two's
 * complement wrapping), folding of constants at load, and refusals. */
#include <math.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "test_util.h"

/* Casts the values of x (a graph input) to `to` with the reference kernel. */
static void run_cast(dk_dtype from, const void *data, int64_t count, dk_dtype to, dk_tensor *y)
{
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", from, 1, &count, 1, 0);
    assert_int_equal(dk_tensor_alloc(&g->values[x].t, from, 1, &count), DK_OK);
    memcpy(g->values[x].t.data, data, dk_dtype_size(from) * (size_t)count);
    int k = tu_add_node(g, DK_OP_CAST, &x, 1, 1);
    tu_attr_int(g, k, "to", to);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(tu_output(g, k, 0)->dtype, to);
    assert_int_equal(tu_run_kernel(g, k, dk_ref_kernel_for(DK_OP_CAST), y, 1), DK_OK);
    dk_graph_destroy(g);
}

static const float fx[8] = {-1.5f, 2.75f, NAN, 1e20f, -0.0f, 300.5f, -300.5f, 0.25f};

static void test_float_to_integers(void **state)
{
    (void)state;
    dk_tensor y = {0};
    /* truncation toward zero; NaN 0; 1e20 beyond int64 saturates, then wraps */
    run_cast(DK_F32, fx, 8, DK_I64, &y);
    const int64_t w64[8] = {-1, 2, 0, INT64_MAX, 0, 300, -300, 0};
    assert_memory_equal(y.data, w64, sizeof w64);
    dk_tensor_reset(&y);
    run_cast(DK_F32, fx, 8, DK_I32, &y);
    const int32_t w32[8] = {-1, 2, 0, -1, 0, 300, -300, 0}; /* INT64_MAX's low 32 bits */
    assert_memory_equal(y.data, w32, sizeof w32);
    dk_tensor_reset(&y);
    run_cast(DK_F32, fx, 8, DK_U8, &y);
    const uint8_t w8[8] = {255, 2, 0, 255, 0, 300 - 256, (uint8_t)(-300 + 512), 0};
    assert_memory_equal(y.data, w8, sizeof w8);
    dk_tensor_reset(&y);
    run_cast(DK_F32, fx, 8, DK_BOOL, &y);
    const uint8_t wb[8] = {1, 1, 1, 1, 0, 1, 1, 1}; /* NaN != 0 */
    assert_memory_equal(y.data, wb, sizeof wb);
    dk_tensor_reset(&y);
}

static void test_to_floats(void **state)
{
    (void)state;
    dk_tensor y = {0};
    /* 2^60 + 2^36 + 1 lies just above the midpoint of two float32 neighbours:
     * rounded once it goes up to 2^60 + 2^37; through double it would land on
     * the midpoint and round to even, 2^60. */
    const int64_t ix[3] = {(INT64_C(1) << 60) + (INT64_C(1) << 36) + 1, -7, INT64_MIN};
    run_cast(DK_I64, ix, 3, DK_F32, &y);
    const float wf[3] = {ldexpf(1.0f, 60) + ldexpf(1.0f, 37), -7.0f, -ldexpf(1.0f, 63)};
    assert_memory_equal(y.data, wf, sizeof wf);
    dk_tensor_reset(&y);
    const double dx[3] = {0.1, 1e300, -2.5};
    run_cast(DK_F64, dx, 3, DK_F32, &y);
    assert_true(((float *)y.data)[0] == 0.1f && isinf(((float *)y.data)[1]) &&
                ((float *)y.data)[2] == -2.5f);
    dk_tensor_reset(&y);
    const uint8_t bx[3] = {0, 1, 1};
    run_cast(DK_BOOL, bx, 3, DK_F64, &y);
    assert_true(((double *)y.data)[0] == 0 && ((double *)y.data)[1] == 1);
    dk_tensor_reset(&y);
    const int32_t i32[2] = {INT32_MIN, 5};
    run_cast(DK_I32, i32, 2, DK_U8, &y); /* wraps: the low byte */
    assert_true(((uint8_t *)y.data)[0] == 0 && ((uint8_t *)y.data)[1] == 5);
    dk_tensor_reset(&y);
}

/* A Cast of a constant is evaluated at load: its output becomes a constant. */
static void test_cast_folds(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    int c = tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_I64, 1, (int64_t[]){3}, -50, 50);
    int k = tu_add_node(g, DK_OP_CAST, &c, 1, 1);
    tu_attr_int(g, k, "to", DK_F32);
    int o = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *ot = &g->values[o].t;
    assert_int_equal(g->values[o].kind, DK_VALUE_CONSTANT);
    assert_int_equal(ot->dtype, DK_F32);
    for (int i = 0; i < 3; i++)
        assert_true(((float *)ot->data)[i] == (float)((int64_t *)g->values[c].t.data)[i]);
    dk_graph_destroy(g);
}

static void test_cast_errors(void **state)
{
    (void)state;
    const int64_t d[1] = {2};
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 1, d, 0, 1);
    int k = tu_add_node(g, DK_OP_CAST, &x, 1, 1);
    tu_attr_int(g, k, "to", DK_F16);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "'to' = 10 (float16)");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_F32, 1, d, 0, 1);
    tu_add_node(g, DK_OP_CAST, &x, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'to' is required");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    x = tu_add_input(g, "x", DK_F16, 1, d, 1, 0);
    k = tu_add_node(g, DK_OP_CAST, &x, 1, 1);
    tu_attr_int(g, k, "to", DK_F32);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED, "input 0 has element type float16");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_cast");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_to_integers),
        cmocka_unit_test(test_to_floats),
        cmocka_unit_test(test_cast_folds),
        cmocka_unit_test(test_cast_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
