/* Unit tests for the overflow-checked shape arithmetic (runtime/checked.h),
 * the saturating element counts of runtime/tensor.c, the limits as shape
 * inference applies them, and the reference kernels' plan checks, which must
 * refuse an inconsistent plan instead of writing out of bounds.
 *
 * Expected values come from the definitions: exact products and sums are
 * computed in unsigned __int128 (which cannot overflow for two int64
 * operands), window sizes by counting window positions one by one. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"
#include "runtime/checked.h"
#include "test_util.h"

typedef __int128 wide;

static const int64_t edge_values[] = {0,         1,         -1,        2,         -2,
                                      3,         INT64_MAX, INT64_MIN, INT64_MAX - 1,
                                      INT64_MIN + 1, (int64_t)1 << 31, (int64_t)1 << 32,
                                      (int64_t)1 << 40, ((int64_t)1 << 40) + 1,
                                      (int64_t)1 << 62, -((int64_t)1 << 62),
                                      3037000499, 3037000500, -3037000500};
#define N_EDGE ((int)(sizeof edge_values / sizeof edge_values[0]))

static int fits(wide v) { return v >= INT64_MIN && v <= INT64_MAX; }

/* add, sub and mul report overflow exactly when the exact result leaves int64,
 * and give the exact result otherwise. */
static void test_add_sub_mul(void **state)
{
    (void)state;
    tu_init("checked_add_sub_mul");
    for (int k = 0; k < N_EDGE * N_EDGE + 20000; k++) {
        int64_t a, b, r;
        if (k < N_EDGE * N_EDGE) {
            a = edge_values[k / N_EDGE];
            b = edge_values[k % N_EDGE];
        } else { /* random magnitudes of every size */
            a = (int64_t)(tu_rng_next() >> tu_rng_int(0, 63));
            b = (int64_t)(tu_rng_next() >> tu_rng_int(0, 63));
            if (tu_rng_next() & 1) a = -a;
            if (tu_rng_next() & 1) b = -b;
        }
        wide sum = (wide)a + b, diff = (wide)a - b, prod = (wide)a * b;
        assert_int_equal(dk_ck_add(a, b, &r), fits(sum));
        if (fits(sum)) assert_true(r == (int64_t)sum);
        assert_int_equal(dk_ck_sub(a, b, &r), fits(diff));
        if (fits(diff)) assert_true(r == (int64_t)diff);
        assert_int_equal(dk_ck_mul(a, b, &r), fits(prod));
        if (fits(prod)) assert_true(r == (int64_t)prod);
    }
}

static void test_dim_ok(void **state)
{
    (void)state;
    assert_true(dk_ck_dim_ok(0, 0));
    assert_false(dk_ck_dim_ok(0, 1));
    assert_true(dk_ck_dim_ok(DK_MAX_DIM, 1));
    assert_false(dk_ck_dim_ok(DK_MAX_DIM + 1, 1));
    assert_false(dk_ck_dim_ok(-1, 0));
    assert_false(dk_ck_dim_ok(INT64_MAX, 0));
    assert_false(dk_ck_dim_ok(INT64_MIN, 0));
    assert_true(DK_MAX_DIM == (int64_t)1 << 40 && DK_MAX_ELEMENTS == (int64_t)1 << 40);
}

/* Exact product of dims, or -1 when it leaves int64 (dims >= 0). */
static wide exact_numel(int ndim, const int64_t *dims)
{
    wide p = 1;
    for (int i = 0; i < ndim; i++)
        if (dims[i] == 0) return 0;
    for (int i = 0; i < ndim; i++) {
        p *= dims[i];
        if (p > INT64_MAX) return -1;
    }
    return p;
}

static void test_numel(void **state)
{
    (void)state;
    tu_init("checked_numel");
    int64_t r = 12345;
    assert_true(dk_ck_numel(0, NULL, &r) && r == 1); /* a scalar */
    const int64_t neg[] = {2, -3};
    assert_false(dk_ck_numel(2, neg, &r));
    /* a zero anywhere, even after a product that overflows, makes it empty */
    const int64_t zero_last[] = {(int64_t)1 << 40, (int64_t)1 << 40, 0};
    assert_true(dk_ck_numel(3, zero_last, &r) && r == 0);
    const int64_t over[] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    assert_false(dk_ck_numel(3, over, &r));
    const int64_t limit[] = {(int64_t)1 << 20, (int64_t)1 << 20};
    assert_true(dk_ck_numel_ok(2, limit, &r) && r == DK_MAX_ELEMENTS);
    const int64_t past[] = {((int64_t)1 << 20) + 1, (int64_t)1 << 20};
    assert_true(dk_ck_numel(2, past, &r));
    assert_false(dk_ck_numel_ok(2, past, &r));
    for (int k = 0; k < 5000; k++) {
        int64_t dims[DK_MAX_DIMS];
        int ndim = (int)tu_rng_int(1, DK_MAX_DIMS);
        for (int i = 0; i < ndim; i++) /* small dims, or any size up to INT64_MAX */
            dims[i] = tu_rng_int(0, 1) ? tu_rng_int(0, 40)
                                       : (int64_t)(tu_rng_next() >> tu_rng_int(1, 63));
        wide want = exact_numel(ndim, dims);
        int ok = dk_ck_numel(ndim, dims, &r);
        assert_int_equal(ok, want >= 0);
        if (ok) assert_true(r == (int64_t)want);
        assert_int_equal(dk_ck_numel_ok(ndim, dims, &r), want >= 0 && want <= DK_MAX_ELEMENTS);
    }
}

/* Windows counted one by one: window o starts at o * stride; without ceil
 * it must end inside the padded input, with ceil it must start at most
 * stride - 1 positions past the last start that would (ONNX ceil_mode). */
static int64_t count_windows(int64_t padded, int64_t span, int64_t stride, int ceil)
{
    if (padded < span) return 0;
    int64_t count = 0;
    /* floor: o*s + span <= padded; ceil: o*s <= padded - span + s - 1 */
    for (int64_t o = 0; ceil ? o * stride <= padded - span + stride - 1 : o * stride + span <= padded; o++)
        count++;
    return count;
}

static void test_window_out(void **state)
{
    (void)state;
    int64_t r;
    for (int64_t in = 0; in <= 12; in++)
        for (int64_t pads = 0; pads <= 4; pads++)
            for (int64_t k = 1; k <= 5; k++)
                for (int64_t s = 1; s <= 4; s++)
                    for (int64_t d = 1; d <= 3; d++)
                        for (int ceil = 0; ceil <= 1; ceil++) {
                            assert_true(dk_ck_window_out(in, pads, k, s, d, ceil, &r));
                            int64_t want = count_windows(in + pads, d * (k - 1) + 1, s, ceil);
                            if (r != want)
                                fail_msg("in %lld pads %lld k %lld s %lld d %lld ceil %d: %lld, "
                                         "expected %lld", (long long)in, (long long)pads,
                                         (long long)k, (long long)s, (long long)d, ceil,
                                         (long long)r, (long long)want);
                        }
    /* overflow and out-of-domain parameters are refused, not wrapped */
    assert_false(dk_ck_window_out(8, INT64_MAX, 3, 1, 1, 0, &r));
    assert_false(dk_ck_window_out(8, 0, 3, 1, INT64_MAX, 0, &r));
    assert_false(dk_ck_window_out(8, 0, INT64_MAX, 1, 2, 0, &r));
    assert_false(dk_ck_window_out(INT64_MAX, 1, 1, 1, 1, 0, &r));
    /* ceil without forming room + stride - 1: a second window starting at INT64_MAX */
    assert_true(dk_ck_window_out(INT64_MAX, 0, 1, INT64_MAX, 1, 1, &r) && r == 2);
    assert_false(dk_ck_window_out(8, 0, 3, 0, 1, 0, &r));
    assert_false(dk_ck_window_out(8, -1, 3, 1, 1, 0, &r));
    assert_false(dk_ck_window_out(8, 0, 0, 1, 1, 0, &r));
    assert_false(dk_ck_window_out(-1, 0, 1, 1, 1, 0, &r));
    /* a huge stride is one window; a huge dilation does not fit */
    assert_true(dk_ck_window_out(8, 0, 3, INT64_MAX, 1, 0, &r) && r == 1);
    /* ceil((8 - 3) / s) + 1 = 2: the formula's second window starts past the
     * input; shape inference drops it, the formula does not */
    assert_true(dk_ck_window_out(8, 0, 3, INT64_MAX, 1, 1, &r) && r == 2);
    assert_true(dk_ck_window_out(8, 0, 2, 1, INT64_MAX / 2, 0, &r) && r == 0);
    assert_true(dk_ck_window_span(3, INT64_MAX / 2, &r) && r == INT64_MAX);
    assert_false(dk_ck_window_span(3, INT64_MAX / 2 + 1, &r));
}

/* The public counts saturate instead of wrapping; allocation refuses. */
static void test_tensor_counts(void **state)
{
    (void)state;
    const int64_t over[] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    assert_true(dk_shape_numel(3, over) == INT64_MAX);
    const int64_t neg[] = {4, -2};
    assert_true(dk_shape_numel(2, neg) == INT64_MAX);
    const int64_t ok[] = {2, 3, 4};
    assert_true(dk_shape_numel(3, ok) == 24);
    dk_tensor t = {.dtype = DK_F64, .ndim = 2, .dims = {(int64_t)1 << 31, (int64_t)1 << 31}};
    assert_true(dk_tensor_numel(&t) == (int64_t)1 << 62);
    assert_true(dk_tensor_nbytes(&t) == SIZE_MAX); /* 2^65 bytes */
    t.dims[1] = 3;
    assert_true(dk_tensor_nbytes(&t) == (size_t)3 << 34);

    dk_tensor a = {0};
    tu_assert_status(dk_tensor_alloc(&a, DK_F32, 3, over), DK_ERR_SHAPE, "more than 2^40 elements");
    const int64_t past[] = {((int64_t)1 << 20) + 1, (int64_t)1 << 20};
    tu_assert_status(dk_tensor_alloc(&a, DK_F32, 2, past), DK_ERR_SHAPE, "more than 2^40 elements");
    tu_assert_status(dk_tensor_alloc(&a, DK_F32, 2, neg), DK_ERR_SHAPE, "negative dimension -2");
    assert_null(a.data);
    const int64_t empty[] = {(int64_t)1 << 40, (int64_t)1 << 40, 0};
    assert_int_equal(dk_tensor_alloc(&a, DK_F32, 3, empty), DK_OK);
    dk_tensor_reset(&a);
}

/* ---- the limits in shape inference ----------------------------------------- */

static int conv_node(dk_graph *g, const int64_t *xdims, const int64_t *wdims)
{
    int ins[2] = {tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, xdims, -1, 1),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wdims, -1, 1)};
    return tu_add_node(g, DK_OP_CONV, ins, 2, 1);
}

static void test_inference_limits(void **state)
{
    (void)state;
    const int64_t x[] = {1, 2, 8, 8}, w[] = {2, 2, 3, 3};
    static const struct {
        const char *attr;
        int64_t v[4];
        int n; /* -1: an int attribute */
        dk_status status;
        const char *want;
    } cases[] = {
        {"strides", {((int64_t)1 << 40) + 1, 1}, 2, DK_ERR_FORMAT, "attribute 'strides' value 1099511627777 at index 0 is out of range (at most 2^40)"},
        {"dilations", {1, INT64_MAX}, 2, DK_ERR_FORMAT, "attribute 'dilations' value 9223372036854775807 at index 1"},
        {"pads", {0, 0, INT64_MAX, 0}, 4, DK_ERR_FORMAT, "attribute 'pads' value 9223372036854775807 at index 2"},
        {"dilations", {(int64_t)1 << 40, 1}, 2, DK_ERR_SHAPE, "attribute 'dilations' 1099511627776 spans more than 2^40"},
        {"pads", {(int64_t)1 << 40, 0, 0, 0}, 4, DK_ERR_SHAPE, "attribute 'pads' (1099511627776+0 on input size 8) gives output size 1099511627782"},
        {"group", {INT64_MAX}, -1, DK_ERR_FORMAT, "attribute 'group' value 9223372036854775807 is out of range"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g = tu_new_graph(13);
        int k = conv_node(g, x, w);
        if (cases[c].n < 0) tu_attr_int(g, k, cases[c].attr, cases[c].v[0]);
        else tu_attr_ints(g, k, cases[c].attr, cases[c].n, cases[c].v);
        tu_expect_finalize_error(g, cases[c].status, cases[c].want);
        dk_graph_destroy(g);
    }
    /* at the limit: a stride of 2^40 is one window */
    dk_graph *g = tu_new_graph(13);
    int k = conv_node(g, x, w);
    const int64_t st[] = {(int64_t)1 << 40, (int64_t)1 << 40};
    tu_attr_ints(g, k, "strides", 2, st);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const int64_t y[] = {1, 2, 1, 1};
    tu_assert_shape(tu_output(g, k, 0), 4, y);
    dk_graph_destroy(g);

    /* a graph input past the element limit is refused by its first reader */
    g = tu_new_graph(13);
    const int64_t big[] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    int in = tu_add_value(g, "big", DK_VALUE_INPUT, DK_F32, 3, big, 1, 0);
    tu_add_node(g, DK_OP_RELU, &in, 1, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "input 0 ('big') has shape 2097152x2097152x2097152: more than 2^40 elements");
    dk_graph_destroy(g);
}

/* ---- kernels refuse plans that do not fit ------------------------------------ */

/* A valid Conv whose plan is then corrupted the way overflowing inference
 * used to corrupt it: the kernel must return an error, not write. */
static void test_conv_kernel_refuses_bad_plan(void **state)
{
    (void)state;
    const int64_t x[] = {1, 2, 8, 8}, w[] = {2, 2, 3, 3};
    static const struct {
        int64_t stride, dilation, pad;
    } bad[] = {{INT64_MAX, 1, 0}, {1, INT64_MAX, 0}, {1, 1, INT64_MAX}, {(int64_t)1 << 40, 1, 0}};
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        dk_graph *g = tu_new_graph(13);
        int k = conv_node(g, x, w);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        dk_window *win = &g->nodes[k].p.conv.win;
        win->stride[1] = bad[c].stride;
        win->dilation[1] = bad[c].dilation;
        win->pad_begin[1] = bad[c].pad;
        dk_tensor ys[1] = {{0}};
        tu_assert_status(tu_run_kernel(g, k, dk_ref_conv, ys, 1), DK_ERR_INTERNAL,
                         "does not match the window");
        dk_tensor_reset(&ys[0]);
        dk_graph_destroy(g);
    }
}

static void test_pool_kernel_refuses_bad_plan(void **state)
{
    (void)state;
    const int64_t x[] = {1, 2, 8, 8}, ks[] = {2, 2};
    for (int c = 0; c < 3; c++) {
        for (int avg = 0; avg <= 1; avg++) {
            dk_graph *g = tu_new_graph(13);
            int in = tu_add_value(g, "x", DK_VALUE_INPUT, DK_F32, 4, x, -1, 1);
            int k = tu_add_node(g, avg ? DK_OP_AVGPOOL : DK_OP_MAXPOOL, &in, 1, 1);
            tu_attr_ints(g, k, "kernel_shape", 2, ks);
            assert_int_equal(dk_graph_finalize(g), DK_OK);
            dk_window *win = &g->nodes[k].p.pool.win;
            if (c == 0) win->stride[0] = INT64_MAX;
            if (c == 1) win->dilation[1] = INT64_MAX;
            if (c == 2) win->kernel[1] = INT64_MAX;
            dk_tensor ys[1] = {{0}};
            tu_assert_status(tu_run_kernel(g, k, avg ? dk_ref_avgpool : dk_ref_maxpool, ys, 1),
                             DK_ERR_INTERNAL, "does not match the window");
            dk_tensor_reset(&ys[0]);
            dk_graph_destroy(g);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub_mul),
        cmocka_unit_test(test_dim_ok),
        cmocka_unit_test(test_numel),
        cmocka_unit_test(test_window_out),
        cmocka_unit_test(test_tensor_counts),
        cmocka_unit_test(test_inference_limits),
        cmocka_unit_test(test_conv_kernel_refuses_bad_plan),
        cmocka_unit_test(test_pool_kernel_refuses_bad_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
