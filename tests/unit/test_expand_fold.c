/* Unit tests of Expand (layers/op_expand.c) and of the ops evaluated only at
 * load time, ConstantOfShape, Equal and Where (layers/op_fold.c): shapes,
 * evals against naive versions written from the ONNX spec (numpy
 * broadcasting), error paths, and torch's expand(-1) chain folding away. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "layers/op_table.h"
#include "test_util.h"

static int const_ints(dk_graph *g, const char *name, int count, const int64_t *v)
{
    int64_t len = count;
    int t = tu_add_value(g, name, DK_VALUE_CONSTANT, DK_I64, 1, &len, 0, 0);
    if (count) memcpy(g->values[t].t.data, v, sizeof *v * (size_t)count);
    return t;
}

/* Element of t (aligned to the right of out, dims of 1 repeat) for out's multi-index. */
static int64_t naive_index(const dk_tensor *t, const dk_tensor *out, const int64_t *idx)
{
    int64_t i = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t c = idx[out->ndim - t->ndim + d];
        i = i * t->dims[d] + (t->dims[d] == 1 ? 0 : c);
    }
    return i;
}

static void unravel(int64_t lin, const dk_tensor *t, int64_t *idx)
{
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = lin % t->dims[d];
        lin /= t->dims[d];
    }
}

/* ---- Expand ----------------------------------------------------------------------- */

/* Random pairs: an output shape, an input with some dims 1 and maybe a lower
 * rank, a shape with some dims 1 (kept from the input) and maybe a lower rank. */
static void test_expand_random(void **state)
{
    (void)state;
    const dk_dtype types[3] = {DK_F32, DK_I64, DK_U8};
    for (int c = 0; c < 200; c++) {
        int r = (int)tu_rng_int(1, 5), xr = r, sr = r;
        if (tu_rng_int(0, 1)) sr = (int)tu_rng_int(0, r);
        else xr = (int)tu_rng_int(0, r);
        int64_t out[5], xd[5], shape[5];
        for (int d = 0; d < r; d++) {
            int xi = d - (r - xr), si = d - (r - sr);
            out[d] = tu_rng_int(1, 4);
            int64_t xv = xi >= 0 && tu_rng_int(0, 1) ? out[d] : 1;
            int64_t sv = si >= 0 && tu_rng_int(0, 1) ? out[d] : 1;
            if (xv == 1 && sv == 1) out[d] = 1;
            if (xi >= 0) xd[xi] = xv;
            if (si >= 0) shape[si] = sv;
        }
        dk_graph *g = tu_new_graph(13);
        int ins[2] = {tu_add_input(g, "x", types[c % 3], xr, xd, -100, 100),
                      const_ints(g, "shape", sr, shape)};
        int k = tu_add_node(g, DK_OP_EXPAND, ins, 2, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        const dk_tensor *x = &g->values[ins[0]].t;
        tu_assert_shape(tu_output(g, k, 0), r, out);
        dk_tensor y = {0};
        assert_int_equal(tu_run_kernel(g, k, dk__eval_expand, &y, 1), DK_OK);
        size_t es = dk_dtype_size(x->dtype);
        int64_t idx[5];
        for (int64_t i = 0; i < dk_tensor_numel(&y); i++) {
            unravel(i, &y, idx);
            int64_t j = naive_index(x, &y, idx);
            if (memcmp((char *)y.data + i * es, (char *)x->data + j * es, es) != 0)
                fail_msg("case %d: element %lld is not input element %lld", c, (long long)i,
                         (long long)j);
        }
        dk_tensor_reset(&y);
        dk_graph_destroy(g);
    }
}

static void test_expand_errors(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    int ins[2] = {tu_add_input(g, "x", DK_F32, 2, (int64_t[]){3, 4}, 0, 1),
                  const_ints(g, "shape", 2, (int64_t[]){2, 4})};
    tu_add_node(g, DK_OP_EXPAND, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "does not broadcast with shape [2, 4]");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){3, 1}, 0, 1);
    ins[1] = const_ints(g, "shape", 2, (int64_t[]){3, -1});
    tu_add_node(g, DK_OP_EXPAND, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_SHAPE, "negative dim");
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_F32, 2, (int64_t[]){3, 1}, 0, 1);
    ins[1] = tu_add_input(g, "runtime_shape", DK_I64, 1, (int64_t[]){2}, 1, 3);
    tu_add_node(g, DK_OP_EXPAND, ins, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_UNSUPPORTED,
                             "input 1 ('runtime_shape') must be a constant known at load time");
    dk_graph_destroy(g);
}

/* ---- ConstantOfShape, Equal, Where --------------------------------------------------- */

static void set_value_attr(dk_graph *g, int k, dk_dtype dt, int64_t count, double v)
{
    dk_attr *a = tu_add_attr(g, k, "value", DK_ATTR_TENSOR);
    a->t = calloc(1, sizeof *a->t);
    assert_non_null(a->t);
    assert_int_equal(dk_tensor_alloc(a->t, dt, 1, &count), DK_OK);
    for (int64_t i = 0; i < count; i++) dk_tensor_set(a->t, i, v);
}

static void test_constantofshape(void **state)
{
    (void)state;
    /* default: float32 zeros; folded, so the output is a constant */
    dk_graph *g = tu_new_graph(13);
    int s = const_ints(g, "shape", 3, (int64_t[]){2, 3, 4});
    int k = tu_add_node(g, DK_OP_CONSTANTOFSHAPE, &s, 1, 1);
    int y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *t = &g->values[y].t;
    assert_int_equal(g->values[y].kind, DK_VALUE_CONSTANT);
    assert_int_equal(t->dtype, DK_F32);
    tu_assert_shape(t, 3, (int64_t[]){2, 3, 4});
    for (int i = 0; i < 24; i++) assert_true(((float *)t->data)[i] == 0.0f);
    dk_graph_destroy(g);

    /* an int64 value, and an empty shape: a scalar */
    g = tu_new_graph(13);
    s = const_ints(g, "shape", 0, NULL);
    k = tu_add_node(g, DK_OP_CONSTANTOFSHAPE, &s, 1, 1);
    set_value_attr(g, k, DK_I64, 1, 7);
    y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(g->values[y].t.dtype, DK_I64);
    assert_int_equal(g->values[y].t.ndim, 0);
    assert_true(((int64_t *)g->values[y].t.data)[0] == 7);
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    s = const_ints(g, "shape", 1, (int64_t[]){2});
    k = tu_add_node(g, DK_OP_CONSTANTOFSHAPE, &s, 1, 1);
    set_value_attr(g, k, DK_F32, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "one element");
    dk_graph_destroy(g);
}

static void test_equal(void **state)
{
    (void)state;
    /* floats: NaN differs from itself, -0 equals 0; broadcast [3] against [2, 1] */
    dk_graph *g = tu_new_graph(13);
    int a = tu_add_value(g, "a", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){3}, 0, 0);
    int b = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, (int64_t[]){2, 1}, 0, 0);
    float *ad = g->values[a].t.data, *bd = g->values[b].t.data;
    ad[0] = NAN, ad[1] = -0.0f, ad[2] = 2.5f;
    bd[0] = NAN, bd[1] = 2.5f;
    int k = tu_add_node(g, DK_OP_EQUAL, (int[]){a, b}, 2, 1);
    int y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    tu_assert_shape(&g->values[y].t, 2, (int64_t[]){2, 3});
    assert_int_equal(g->values[y].t.dtype, DK_BOOL);
    const uint8_t want_f[6] = {0, 0, 0, 0, 0, 1};
    assert_memory_equal(g->values[y].t.data, want_f, 6);
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    a = tu_add_value(g, "a", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){1}, 0, 0);
    b = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){1}, 0, 0);
    ((float *)g->values[b].t.data)[0] = -0.0f;
    k = tu_add_node(g, DK_OP_EQUAL, (int[]){a, b}, 2, 1);
    y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_true(((uint8_t *)g->values[y].t.data)[0] == 1);
    dk_graph_destroy(g);

    /* int64 beyond 2^53 compares exactly */
    g = tu_new_graph(13);
    a = const_ints(g, "a", 2, (int64_t[]){(1LL << 53) + 1, -1});
    b = const_ints(g, "b", 2, (int64_t[]){1LL << 53, -1});
    k = tu_add_node(g, DK_OP_EQUAL, (int[]){a, b}, 2, 1);
    y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const uint8_t want_i[2] = {0, 1};
    assert_memory_equal(g->values[y].t.data, want_i, 2);
    dk_graph_destroy(g);

    /* a graph input: the node stays, to run on the kernels */
    g = tu_new_graph(13);
    a = tu_add_input(g, "runtime_a", DK_F32, 1, (int64_t[]){3}, 0, 1);
    b = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){3}, 0, 1);
    k = tu_add_node(g, DK_OP_EQUAL, (int[]){a, b}, 2, 1);
    y = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(g->n_nodes, 1);
    assert_int_not_equal(g->values[y].kind, DK_VALUE_CONSTANT);
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    a = tu_add_value(g, "a", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){3}, 0, 1);
    b = const_ints(g, "b", 3, (int64_t[]){1, 2, 3});
    tu_add_node(g, DK_OP_EQUAL, (int[]){a, b}, 2, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "int64");
    dk_graph_destroy(g);
}

/* Where with all three operands broadcast, against the naive select. */
static void test_where(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    int c = tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_BOOL, 2, (int64_t[]){4, 1}, 1, 0);
    assert_int_equal(dk_tensor_alloc(&g->values[c].t, DK_BOOL, 2, (int64_t[]){4, 1}), DK_OK);
    for (int i = 0; i < 4; i++) ((uint8_t *)g->values[c].t.data)[i] = (uint8_t)tu_rng_int(0, 1);
    int x = tu_add_value(g, "x", DK_VALUE_CONSTANT, DK_I64, 1, (int64_t[]){5}, -1e6, 1e6);
    int yv = tu_add_value(g, "y", DK_VALUE_CONSTANT, DK_I64, 3, (int64_t[]){2, 4, 1}, -1e6, 1e6);
    int k = tu_add_node(g, DK_OP_WHERE, (int[]){c, x, yv}, 3, 1);
    int o = g->nodes[k].outputs[0];
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_tensor *ot = &g->values[o].t, *ct = &g->values[c].t, *xt = &g->values[x].t,
                    *yt = &g->values[yv].t;
    tu_assert_shape(ot, 3, (int64_t[]){2, 4, 5});
    int64_t idx[3];
    for (int64_t i = 0; i < 40; i++) {
        unravel(i, ot, idx);
        int take_x = ((uint8_t *)ct->data)[naive_index(ct, ot, idx)];
        int64_t want = take_x ? ((int64_t *)xt->data)[naive_index(xt, ot, idx)]
                              : ((int64_t *)yt->data)[naive_index(yt, ot, idx)];
        assert_true(((int64_t *)ot->data)[i] == want);
    }
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    c = tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){2}, 0, 1);
    x = tu_add_value(g, "x", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){2}, 0, 1);
    yv = tu_add_value(g, "y", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){2}, 0, 1);
    tu_add_node(g, DK_OP_WHERE, (int[]){c, x, yv}, 3, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "expected bool");
    dk_graph_destroy(g);
}

/* torch's class_token.expand(2, -1, -1): ConstantOfShape([3]) of 1 -> Mul(-1)
 * -> Equal(target) -> Where(.., ones, target) -> Expand(token). Everything is
 * constant and folds; the output holds the token twice. */
static void test_expand_minus_one_chain_folds(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(13);
    int len = const_ints(g, "len", 1, (int64_t[]){3});
    int k = tu_add_node(g, DK_OP_CONSTANTOFSHAPE, &len, 1, 1);
    set_value_attr(g, k, DK_I64, 1, 1);
    int ones = g->nodes[k].outputs[0];
    int minus = tu_add_value(g, "minus_one", DK_VALUE_CONSTANT, DK_I64, 0, NULL, -1, -1);
    k = tu_add_node(g, DK_OP_MUL, (int[]){ones, minus}, 2, 1);
    int neg = g->nodes[k].outputs[0];
    int target = const_ints(g, "target", 3, (int64_t[]){2, -1, -1});
    k = tu_add_node(g, DK_OP_EQUAL, (int[]){target, neg}, 2, 1);
    int eq = g->nodes[k].outputs[0];
    k = tu_add_node(g, DK_OP_WHERE, (int[]){eq, ones, target}, 3, 1);
    int shape = g->nodes[k].outputs[0];
    int token = tu_add_value(g, "token", DK_VALUE_CONSTANT, DK_F32, 3, (int64_t[]){1, 1, 8}, -1, 1);
    k = tu_add_node(g, DK_OP_EXPAND, (int[]){token, shape}, 2, 1);
    int y = g->nodes[k].outputs[0];
    /* only the Expand's output is the graph's */
    g->outputs[0] = y;
    g->n_outputs = 1;
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    assert_int_equal(g->n_nodes, 0);
    assert_int_equal(g->values[y].kind, DK_VALUE_CONSTANT);
    tu_assert_shape(&g->values[y].t, 3, (int64_t[]){2, 1, 8});
    const float *yd = g->values[y].t.data, *td = g->values[token].t.data;
    for (int i = 0; i < 16; i++) assert_true(yd[i] == td[i % 8]);
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_expand_fold");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_random),
        cmocka_unit_test(test_expand_errors),
        cmocka_unit_test(test_constantofshape),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_expand_minus_one_chain_folds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
