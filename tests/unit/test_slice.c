/* Unit tests of Slice (layers/op_slice.c): shape inference, error paths and
 * the dtype-generic eval against a naive version written from the ONNX spec's
 * loop (clamp, then `for (i = start; i < end (or > end); i += step)` per
 * axis), on random shapes, dtypes and slicing lists (seed printed). */
#include <stdio.h>
#include <string.h>

#include "deltakern/graph.h"
#include "layers/op_table.h"
#include "test_util.h"

/* A 1-D int64 constant. */
static int const_ints(dk_graph *g, const char *name, int count, const int64_t *v)
{
    int64_t len = count;
    int t = tu_add_value(g, name, DK_VALUE_CONSTANT, DK_I64, 1, &len, 0, 0);
    memcpy(g->values[t].t.data, v, sizeof *v * (size_t)count);
    return t;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The indices the spec's loop visits along one axis of length d. */
static int spec_indices(int64_t d, int64_t start, int64_t end, int64_t step, int64_t *idx)
{
    if (start < 0) start += d;
    if (end < 0) end += d;
    int n = 0;
    if (step > 0) {
        start = clamp(start, 0, d), end = clamp(end, 0, d);
        for (int64_t i = start; i < end; i += step) idx[n++] = i;
    } else {
        start = clamp(start, 0, d - 1), end = clamp(end, -1, d - 1);
        for (int64_t i = start; i > end; i += step) idx[n++] = i;
    }
    return n;
}

typedef struct slice_spec {
    int rank, count, with_axes, with_steps;
    int64_t dims[4], starts[4], ends[4], axes[4], steps[4];
} slice_spec;

/* Random lists: a random subset of axes (some negative), starts and ends
 * anywhere in [-d-3, d+3] or at the int64 extremes exporters write. */
static void random_spec(slice_spec *s)
{
    s->rank = (int)tu_rng_int(1, 4);
    for (int d = 0; d < s->rank; d++) s->dims[d] = tu_rng_int(1, 7);
    int perm[4] = {0, 1, 2, 3};
    for (int i = s->rank - 1; i > 0; i--) {
        int j = (int)tu_rng_int(0, i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    s->count = (int)tu_rng_int(1, s->rank);
    s->with_steps = tu_rng_int(0, 1);
    s->with_axes = s->with_steps || tu_rng_int(0, 1);
    for (int i = 0; i < s->count; i++) {
        int axis = s->with_axes ? perm[i] : i;
        int64_t d = s->dims[axis];
        s->axes[i] = axis - (tu_rng_int(0, 1) ? s->rank : 0);
        s->steps[i] = s->with_steps ? tu_rng_int(1, 3) * (tu_rng_int(0, 1) ? 1 : -1) : 1;
        s->starts[i] = tu_rng_int(-d - 3, d + 3);
        s->ends[i] = tu_rng_int(-d - 3, d + 3);
        if (tu_rng_int(0, 4) == 0) s->ends[i] = s->steps[i] > 0 ? INT64_MAX : INT64_MIN;
        if (tu_rng_int(0, 6) == 0) s->starts[i] = s->steps[i] > 0 ? INT64_MIN : INT64_MAX;
    }
}

/* Slice node over a graph input x of this dtype; opset < 10: attributes. */
static int slice_graph(dk_graph *g, const slice_spec *s, dk_dtype dt, int64_t opset, int *x)
{
    *x = tu_add_input(g, "x", dt, s->rank, s->dims, -100, 100);
    int ins[5] = {*x, -1, -1, -1, -1}, n_in = 1;
    if (opset >= 10) {
        ins[1] = const_ints(g, "starts", s->count, s->starts);
        ins[2] = const_ints(g, "ends", s->count, s->ends);
        if (s->with_axes) ins[3] = const_ints(g, "axes", s->count, s->axes);
        if (s->with_steps) ins[4] = const_ints(g, "steps", s->count, s->steps);
        n_in = s->with_steps ? 5 : s->with_axes ? 4 : 3;
    }
    int k = tu_add_node(g, DK_OP_SLICE, ins, n_in, 1);
    g->nodes[k].opset = opset;
    if (opset < 10) {
        tu_attr_ints(g, k, "starts", s->count, s->starts);
        tu_attr_ints(g, k, "ends", s->count, s->ends);
        if (s->with_axes) tu_attr_ints(g, k, "axes", s->count, s->axes);
    }
    return k;
}

static void check_against_spec(const slice_spec *s, dk_dtype dt, int64_t opset)
{
    dk_graph *g = tu_new_graph(opset);
    int x;
    int k = slice_graph(g, s, dt, opset, &x);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    assert_true(g->nodes[k].flops == 0);

    /* per input axis, the indices kept */
    int64_t idx[4][16], want[4];
    for (int d = 0; d < s->rank; d++) {
        want[d] = s->dims[d];
        for (int64_t i = 0; i < s->dims[d]; i++) idx[d][i] = i;
    }
    for (int i = 0; i < s->count; i++) {
        int axis = (int)(s->with_axes ? (s->axes[i] < 0 ? s->axes[i] + s->rank : s->axes[i]) : i);
        want[axis] = spec_indices(s->dims[axis], s->starts[i], s->ends[i], s->steps[i], idx[axis]);
    }
    tu_assert_shape(tu_output(g, k, 0), s->rank, want);
    assert_int_equal(tu_output(g, k, 0)->dtype, dt);

    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk__eval_slice, &y, 1), DK_OK);
    const dk_tensor *xt = &g->values[x].t;
    size_t es = dk_dtype_size(dt);
    for (int64_t o = 0; o < dk_tensor_numel(&y); o++) {
        int64_t rest = o, src = 0, stride = 1;
        for (int d = s->rank - 1; d >= 0; d--) {
            src += idx[d][rest % want[d]] * stride;
            rest /= want[d];
            stride *= s->dims[d];
        }
        if (memcmp((char *)y.data + o * es, (char *)xt->data + src * es, es) != 0)
            fail_msg("%s opset %lld: output element %lld differs from input element %lld",
                     dk_dtype_name(dt), (long long)opset, (long long)o, (long long)src);
    }
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_slice_random(void **state)
{
    (void)state;
    const dk_dtype types[3] = {DK_F32, DK_I64, DK_U8};
    for (int c = 0; c < 300; c++) {
        slice_spec s;
        random_spec(&s);
        check_against_spec(&s, types[c % 3], 13);
        if (!s.with_steps) check_against_spec(&s, types[c % 3], 9); /* attribute form */
    }
}

/* ShuffleNetV2's channel split and a reversal, with their shapes written out. */
static void test_slice_known_shapes(void **state)
{
    (void)state;
    slice_spec split = {4, 1, 1, 0, {1, 116, 28, 28}, {58}, {INT64_MAX}, {1}, {1}};
    dk_graph *g = tu_new_graph(13);
    int x, k = slice_graph(g, &split, DK_F32, 13, &x);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 4, (int64_t[]){1, 58, 28, 28});
    dk_graph_destroy(g);

    slice_spec rev = {2, 1, 1, 1, {3, 10}, {-1}, {INT64_MIN}, {-1}, {-3}};
    g = tu_new_graph(13);
    k = slice_graph(g, &rev, DK_I64, 13, &x);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 2, (int64_t[]){3, 4}); /* 9, 6, 3, 0 */
    dk_tensor y = {0};
    assert_int_equal(tu_run_kernel(g, k, dk__eval_slice, &y, 1), DK_OK);
    const int64_t *xd = g->values[x].t.data, *yd = y.data;
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 4; i++) assert_true(yd[r * 4 + i] == xd[r * 10 + 9 - 3 * i]);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);

    slice_spec empty = {1, 1, 0, 0, {5}, {7}, {9}, {0}, {1}}; /* starts past the end */
    g = tu_new_graph(13);
    k = slice_graph(g, &empty, DK_F32, 13, &x);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(tu_output(g, k, 0), 1, (int64_t[]){0});
    assert_int_equal(tu_run_kernel(g, k, dk__eval_slice, &y, 1), DK_OK);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void expect_spec_error(const slice_spec *s, int64_t opset, dk_status want,
                              const char *fragment)
{
    dk_graph *g = tu_new_graph(opset);
    int x;
    slice_graph(g, s, DK_F32, opset, &x);
    tu_expect_finalize_error(g, want, fragment);
    dk_graph_destroy(g);
}

static void test_slice_errors(void **state)
{
    (void)state;
    slice_spec s = {2, 2, 1, 1, {4, 5}, {0, 0}, {2, 2}, {0, 1}, {1, 0}};
    expect_spec_error(&s, 13, DK_ERR_FORMAT, "step 0 for axis 1");
    s.steps[1] = 1, s.axes[1] = -2;
    expect_spec_error(&s, 13, DK_ERR_FORMAT, "axis 0 is sliced twice");
    s.axes[1] = 2;
    expect_spec_error(&s, 13, DK_ERR_SHAPE, "axis 2 out of range for rank 2");

    /* lists of different lengths */
    dk_graph *g = tu_new_graph(13);
    int ins[3] = {tu_add_input(g, "x", DK_F32, 2, (int64_t[]){4, 5}, 0, 1),
                  const_ints(g, "starts", 2, (int64_t[]){0, 0}),
                  const_ints(g, "ends", 1, (int64_t[]){2})};
    tu_add_node(g, DK_OP_SLICE, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "starts has 2 values, ends 1");
    dk_graph_destroy(g);

    /* ends known only at run time: named, so that the conformance runner can bind it */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){4, 5}, 0, 1);
    ins[1] = const_ints(g, "starts", 1, (int64_t[]){0});
    ins[2] = tu_add_input(g, "runtime_ends", DK_I64, 1, (int64_t[]){1}, 1, 2);
    tu_add_node(g, DK_OP_SLICE, ins, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED,
                             "input 2 ('runtime_ends') must be a constant known at load time");
    dk_graph_destroy(g);

    /* the two forms do not mix */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){4, 5}, 0, 1);
    ins[1] = const_ints(g, "starts", 1, (int64_t[]){0});
    ins[2] = const_ints(g, "ends", 1, (int64_t[]){2});
    int k = tu_add_node(g, DK_OP_SLICE, ins, 3, 1);
    tu_attr_ints(g, k, "axes", 1, (int64_t[]){1});
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "not attributes");
    dk_graph_destroy(g);

    g = tu_new_graph(9);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){4, 5}, 0, 1);
    ins[1] = const_ints(g, "starts", 1, (int64_t[]){0});
    ins[2] = const_ints(g, "ends", 1, (int64_t[]){2});
    k = tu_add_node(g, DK_OP_SLICE, ins, 3, 1);
    g->nodes[k].opset = 9;
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "opset 9 Slice takes 1 input");
    dk_graph_destroy(g);

    g = tu_new_graph(9);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){4, 5}, 0, 1);
    k = tu_add_node(g, DK_OP_SLICE, ins, 1, 1);
    g->nodes[k].opset = 9;
    tu_attr_ints(g, k, "starts", 1, (int64_t[]){0});
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "'starts' and 'ends' are required");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_slice");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_random),
        cmocka_unit_test(test_slice_known_shapes),
        cmocka_unit_test(test_slice_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
