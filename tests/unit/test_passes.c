/* Graph passes: fold_batchnorm and fold_pad against the unfolded graph run
 * by the reference (the oracle for the rewrite), and the cases they must
 * leave alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "tests/unit/test_util.h"

/* x -> Conv(w[, b]) -> BatchNormalization -> y, plus (when extra) a Relu reading the conv output. */
static dk_graph *conv_bn_graph(int with_bias, int extra_consumer)
{
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 4, (int64_t[]){1, 3, 9, 9}, -1, 1);
    g->inputs = malloc(sizeof(int));
    g->inputs[g->n_inputs++] = x;
    int w = tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, (int64_t[]){5, 3, 3, 3}, -1, 1);
    int b = with_bias ? tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){5}, -1, 1) : -1;
    int c = tu_add_value(g, "c", DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL, 1, 0);
    int scale = tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){5}, 0.5, 1.5);
    int beta = tu_add_value(g, "beta", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){5}, -1, 1);
    int mean = tu_add_value(g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){5}, -1, 1);
    int var = tu_add_value(g, "var", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){5}, 0.1, 2);
    int y = tu_add_value(g, "y", DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL, 1, 0);
    int k;
    assert_int_equal(dk_graph_add_node(g, "conv", DK_OP_CONV, with_bias ? 3 : 2, 1, &k), DK_OK);
    g->nodes[k].inputs[0] = x;
    g->nodes[k].inputs[1] = w;
    if (with_bias) g->nodes[k].inputs[2] = b;
    g->nodes[k].outputs[0] = c;
    tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    assert_int_equal(dk_graph_add_node(g, "bn", DK_OP_BATCHNORM, 5, 1, &k), DK_OK);
    int ins[5] = {c, scale, beta, mean, var};
    memcpy(g->nodes[k].inputs, ins, sizeof ins);
    g->nodes[k].outputs[0] = y;
    tu_attr_float(g, k, "epsilon", 1e-3f);
    g->outputs = malloc(2 * sizeof(int));
    g->outputs[g->n_outputs++] = y;
    if (extra_consumer) {
        int r = tu_add_value(g, "r", DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL, 1, 0);
        assert_int_equal(dk_graph_add_node(g, "relu", DK_OP_RELU, 1, 1, &k), DK_OK);
        g->nodes[k].inputs[0] = c;
        g->nodes[k].outputs[0] = r;
        g->outputs[g->n_outputs++] = r;
    }
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    return g;
}

static void run_ref(const dk_graph *g, const dk_tensor *x, dk_tensor *y)
{
    dk_variant ref;
    dk_session *s;
    assert_int_equal(dk_variant_parse("ref", &ref), DK_OK);
    assert_int_equal(dk_session_create(g, &ref, &s), DK_OK);
    assert_int_equal(dk_session_run(s, x, 1), DK_OK);
    assert_int_equal(dk_tensor_copy(y, dk_session_output(s, 0)), DK_OK);
    dk_session_destroy(s);
}

static void check_fold(int with_bias)
{
    tu_init(with_bias ? "fold_batchnorm with bias" : "fold_batchnorm without bias");
    dk_graph *g = conv_bn_graph(with_bias, 0);
    dk_tensor x = {0}, before = {0}, after = {0};
    assert_int_equal(dk_tensor_copy(&x, &g->values[g->inputs[0]].t), DK_OK);
    /* F: the largest BN factor scale / sqrt(var + eps) */
    const float *scale = g->values[dk_graph_find_value(g, "scale")].t.data;
    const float *var = g->values[dk_graph_find_value(g, "var")].t.data;
    double F = 0;
    for (int c = 0; c < 5; c++) F = fmax(F, scale[c] / sqrt(var[c] + 1e-3));
    run_ref(g, &x, &before);
    assert_int_equal(dk_graph_optimize(g, 1, NULL), DK_OK);
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(g->nodes[0].op, DK_OP_CONV);
    assert_string_equal(g->nodes[0].covers, "conv,bn");
    assert_string_equal(g->values[g->outputs[0]].t.name, "y");
    run_ref(g, &x, &after);
    /* Both compute in double; they differ by float roundings only: of each folded
     * weight (u * F * sum|w||x| <= u * F * 27, as |w|, |x| <= 1) and of the folded
     * bias (u * (F * 3 + 1)), of the unfolded conv output before BN (u * F * 28),
     * and of each final output (u * |y| twice). u = 2^-24. */
    const double u = ldexp(1.0, -24);
    for (int64_t i = 0; i < dk_tensor_numel(&before); i++) {
        double a = ((float *)after.data)[i], b = ((float *)before.data)[i];
        double tol = u * (F * 27 + F * 3 + 1 + F * 28 + fabs(a) + fabs(b));
        if (!(fabs(a - b) <= tol))
            fail_msg("folded conv: element %lld is %.9g, unfolded %.9g (bound %.3g)", (long long)i, a, b, tol);
    }
    dk_tensor_reset(&x);
    dk_tensor_reset(&before);
    dk_tensor_reset(&after);
    dk_graph_destroy(g);
}

static void test_fold_with_bias(void **state) { (void)state; check_fold(1); }
static void test_fold_without_bias(void **state) { (void)state; check_fold(0); }

static void test_level_and_disable(void **state)
{
    (void)state;
    tu_init("fold_batchnorm level and disable");
    dk_graph *g = conv_bn_graph(1, 0);
    assert_int_equal(dk_graph_optimize(g, 0, NULL), DK_OK); /* opt 0 leaves the graph as is */
    assert_int_equal(g->n_nodes, 2);
    assert_int_equal(dk_graph_optimize(g, 3, "fold_batchnorm"), DK_OK);
    assert_int_equal(g->n_nodes, 2);
    tu_assert_status(dk_graph_optimize(g, 1, "fold_batchnorm+nosuch"), DK_ERR_INVALID, "nosuch");
    tu_assert_status(dk_graph_optimize(g, 4, NULL), DK_ERR_INVALID, "opt=4");
    dk_graph_destroy(g);
}

/* The conv output feeds another node too: folding would change what it reads. */
static void test_shared_output_not_folded(void **state)
{
    (void)state;
    tu_init("fold_batchnorm shared output");
    dk_graph *g = conv_bn_graph(1, 1);
    assert_int_equal(dk_graph_optimize(g, 1, NULL), DK_OK);
    assert_int_equal(g->n_nodes, 3);
    assert_null(g->nodes[0].covers);
    dk_graph_destroy(g);
}

/* ---- fold_pad ------------------------------------------------------------ */

typedef struct pad_case {
    const char *name;
    int64_t pads[8];      /* ONNX order: begins of N, C, H, W, then ends */
    const char *mode;     /* NULL: constant */
    float value;          /* constant_value */
    int64_t kernel, stride;
    int pool_pads;        /* the pool's own pads, 1 on every side */
    int ceil;             /* ceil_mode */
    int folds;
} pad_case;

/* x [1,3,9,9] -> Pad -> AveragePool (count_include_pad 0) -> y. */
static dk_graph *pad_pool_graph(const pad_case *c)
{
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 4, (int64_t[]){1, 3, 9, 9}, -1, 1);
    g->inputs = malloc(sizeof(int));
    g->inputs[g->n_inputs++] = x;
    int pads = tu_add_value(g, "pads", DK_VALUE_CONSTANT, DK_I64, 1, (int64_t[]){8}, 0, 0);
    memcpy(g->values[pads].t.data, c->pads, sizeof c->pads);
    int value = tu_add_value(g, "value", DK_VALUE_CONSTANT, DK_F32, 0, NULL, 0, 0);
    *(float *)g->values[value].t.data = c->value;
    int padded = tu_add_value(g, "padded", DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL, 1, 0);
    int y = tu_add_value(g, "y", DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL, 1, 0);
    int k;
    assert_int_equal(dk_graph_add_node(g, "pad", DK_OP_PAD, 3, 1, &k), DK_OK);
    memcpy(g->nodes[k].inputs, (int[]){x, pads, value}, 3 * sizeof(int));
    g->nodes[k].outputs[0] = padded;
    if (c->mode) tu_attr_string(g, k, "mode", c->mode);
    assert_int_equal(dk_graph_add_node(g, "pool", DK_OP_AVGPOOL, 1, 1, &k), DK_OK);
    g->nodes[k].inputs[0] = padded;
    g->nodes[k].outputs[0] = y;
    tu_attr_ints(g, k, "kernel_shape", 2, (int64_t[]){c->kernel, c->kernel});
    tu_attr_ints(g, k, "strides", 2, (int64_t[]){c->stride, c->stride});
    if (c->pool_pads) tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    if (c->ceil) tu_attr_int(g, k, "ceil_mode", 1);
    g->outputs = malloc(sizeof(int));
    g->outputs[g->n_outputs++] = y;
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s: %s", c->name, dk_last_error());
    return g;
}

/* A zero Pad of the spatial axes below the window folds into the pool, and
 * the reference computes the same bits; anything else stays two nodes. */
static void test_fold_pad(void **state)
{
    (void)state;
    const pad_case cases[] = {
        {"symmetric", {0, 0, 1, 1, 0, 0, 1, 1}, NULL, 0, 3, 1, 0, 0, 1},
        {"asymmetric, stride 2", {0, 0, 0, 2, 0, 0, 1, 0}, NULL, 0, 3, 2, 0, 0, 1},
        {"constant mode named", {0, 0, 1, 1, 0, 0, 1, 1}, "constant", 0, 3, 1, 0, 0, 1},
        {"nonzero value", {0, 0, 1, 1, 0, 0, 1, 1}, NULL, 0.5f, 3, 1, 0, 0, 0},
        {"reflect", {0, 0, 1, 1, 0, 0, 1, 1}, "reflect", 0, 3, 1, 0, 0, 0},
        {"pad as wide as the window", {0, 0, 3, 0, 0, 0, 0, 0}, NULL, 0, 3, 1, 0, 0, 0},
        {"channels padded", {0, 1, 1, 1, 0, 0, 1, 1}, NULL, 0, 3, 1, 0, 0, 0},
        {"pool pads too", {0, 0, 1, 1, 0, 0, 1, 1}, NULL, 0, 3, 1, 1, 0, 0},
        {"cropping", {0, 0, -1, 1, 0, 0, 1, 1}, NULL, 0, 3, 1, 0, 0, 0},
        {"ceil_mode exact", {0, 0, 1, 1, 0, 0, 1, 1}, NULL, 0, 3, 2, 0, 1, 1},
        {"ceil_mode adding padding", {0, 0, 1, 1, 0, 0, 0, 0}, NULL, 0, 3, 2, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_init(cases[i].name);
        dk_graph *g = pad_pool_graph(&cases[i]);
        dk_tensor x = {0}, before = {0}, after = {0};
        assert_int_equal(dk_tensor_copy(&x, &g->values[g->inputs[0]].t), DK_OK);
        run_ref(g, &x, &before);
        assert_int_equal(dk_graph_optimize(g, 2, NULL), DK_OK);
        printf("  %s: %d node(s)\n", cases[i].name, g->n_nodes);
        assert_int_equal(g->n_nodes, cases[i].folds ? 1 : 2);
        if (cases[i].folds) {
            assert_int_equal(g->nodes[0].op, DK_OP_AVGPOOL);
            assert_string_equal(g->nodes[0].covers, "pool,pad");
            assert_int_equal(g->nodes[0].p.pool.count_include_pad, 1);
        }
        run_ref(g, &x, &after);
        assert_int_equal(dk_tensor_numel(&before), dk_tensor_numel(&after));
        assert_memory_equal(before.data, after.data, dk_tensor_nbytes(&before));
        dk_tensor_reset(&x);
        dk_tensor_reset(&before);
        dk_tensor_reset(&after);
        dk_graph_destroy(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_with_bias),
        cmocka_unit_test(test_fold_without_bias),
        cmocka_unit_test(test_level_and_disable),
        cmocka_unit_test(test_shared_output_not_folded),
        cmocka_unit_test(test_fold_pad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
