/* dk_session_release: a session's activations freed and allocated again
 * (poisoned) on its next use, on every CPU backend compiled in and available:
 * a run after a release gives the same bits as before it, a node run alone
 * after a release reads NaN where nothing was written, and set_value works
 * on a released session. x[1,4,6,6] -> relu -> conv 1x1 (4 -> 5) -> y. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/backend.h"
#include "deltakern/session.h"
#include "deltakern/variant.h"
#include "test_util.h"

static dk_graph *G;
static dk_tensor X;

static int setup(void **state)
{
    (void)state;
    tu_init("test_session");
    G = tu_new_graph(13);
    int64_t xd[4] = {1, 4, 6, 6}, wd[4] = {5, 4, 1, 1}, bd[1] = {5};
    int x = tu_add_input(G, "x", DK_F32, 4, xd, 1, 0); /* shape only */
    int w = tu_add_value(G, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1);
    int b = tu_add_value(G, "b", DK_VALUE_CONSTANT, DK_F32, 1, bd, -1, 1);
    int relu = tu_add_named_node(G, "relu", DK_OP_RELU, (int[]){x}, 1, "r");
    int conv = tu_add_named_node(G, "conv", DK_OP_CONV, (int[]){G->nodes[relu].outputs[0], w, b}, 3, "y");
    assert_non_null(G->outputs = malloc(sizeof(int)));
    G->outputs[G->n_outputs++] = G->nodes[conv].outputs[0];
    assert_non_null(G->inputs = malloc(sizeof(int)));
    G->inputs[G->n_inputs++] = x;
    assert_int_equal(dk_graph_finalize(G), DK_OK);
    assert_int_equal(dk_tensor_alloc(&X, DK_F32, 4, xd), DK_OK);
    tu_fill_uniform(&X, -1, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dk_tensor_reset(&X);
    dk_graph_destroy(G);
    return 0;
}

static void test_release(void **state)
{
    (void)state;
    const char *specs[] = {"ref", "openblas", "onednn", "onednn:layout=blocked,opt=3"};
    int tried = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        dk_variant v;
        assert_int_equal(dk_variant_parse(specs[i], &v), DK_OK);
        char why[256];
        if (dk_backend_probe(v.backend, why, sizeof why) != DK_OK) {
            printf("    %s: not available (%s)\n", specs[i], why);
            continue;
        }
        dk_session *s = NULL;
        assert_int_equal(dk_session_create(G, &v, &s), DK_OK);
        assert_int_equal(dk_session_run(s, &X, 1), DK_OK);
        dk_tensor first = {0};
        assert_int_equal(dk_tensor_copy(&first, dk_session_output(s, 0)), DK_OK);
        /* released: the output's buffer is gone; a run brings it back, same bits */
        dk_session_release(s);
        assert_null(dk_session_output(s, 0)->data);
        assert_int_equal(dk_session_run(s, &X, 1), DK_OK);
        assert_memory_equal(first.data, dk_session_output(s, 0)->data, dk_tensor_nbytes(&first));
        /* released, then the conv alone: its input (the relu's output) was
         * never written since, so it reads NaN */
        int conv = 1, r = G->nodes[conv].inputs[0];
        dk_session_release(s);
        assert_int_equal(dk_session_run_node(s, conv, NULL), DK_OK);
        const dk_tensor *y = dk_session_value(s, G->nodes[conv].outputs[0]);
        assert_non_null(y);
        assert_true(isnan(((const float *)y->data)[0]));
        /* released, then the relu's output set and the conv run: the first bits again */
        dk_tensor relu_out = {0};
        assert_int_equal(dk_session_run(s, &X, 1), DK_OK);
        assert_int_equal(dk_tensor_copy(&relu_out, dk_session_value(s, r)), DK_OK);
        dk_session_release(s);
        assert_int_equal(dk_session_set_value(s, r, &relu_out), DK_OK);
        assert_int_equal(dk_session_run_node(s, conv, NULL), DK_OK);
        y = dk_session_value(s, G->nodes[conv].outputs[0]);
        assert_memory_equal(first.data, y->data, dk_tensor_nbytes(&first));
        /* poison on a released session allocates, poisoned */
        dk_session_release(s);
        assert_int_equal(dk_session_poison(s), DK_OK);
        assert_true(isnan(((const float *)dk_session_value(s, r)->data)[0]));
        printf("    %s: release, run, run_node, set_value, poison: ok\n", specs[i]);
        dk_tensor_reset(&relu_out);
        dk_tensor_reset(&first);
        dk_session_release(s); /* destroy after a release frees nothing twice */
        dk_session_destroy(s);
        tried++;
    }
    assert_true(tried >= 1); /* the reference is always there */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_release)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
