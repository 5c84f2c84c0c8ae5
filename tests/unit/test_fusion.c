/* Graph passes of opt=2 (fuse_residual, fuse_activation) on the exported
 * torchvision models: the fused graph covers every ONNX node exactly once,
 * the architectures' Conv -> [Add] -> Relu/Clip chains all fuse, the
 * reference runs a fused graph bit for bit like the unfused one, and every
 * fused Conv of every CPU backend stays within the tolerance table when fed
 * the reference's inputs (isolated), while an error of 10x its bound fails.
 * Models come from DK_MODEL_DIR (exported by the e2e tests); without them
 * the test skips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/tolerance.h"
#include "tests/unit/test_util.h"

static char model_dir[512];

static dk_graph *load(const char *model, int opt)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.onnx", model_dir, model);
    dk_graph *g = NULL;
    assert_int_equal(dk_onnx_load(path, &g), DK_OK);
    assert_int_equal(dk_graph_optimize(g, opt, NULL), DK_OK);
    return g;
}

static int count_op(const dk_graph *g, dk_op op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++) c += g->nodes[k].op == op;
    return c;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted list of the ONNX node names a graph's nodes cover. */
static char **covered_names(const dk_graph *g, int *count)
{
    int cap = 64, n = 0;
    char **names = malloc(sizeof *names * (size_t)cap);
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *node = &g->nodes[k];
        char *list = strdup(node->covers ? node->covers : node->name), *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (n == cap) names = realloc(names, sizeof *names * (size_t)(cap *= 2));
            names[n++] = strdup(t);
        }
        free(list);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Every ONNX node of the opt=1 graph is covered exactly once at opt=2, and
 * the chains the architectures are made of are gone: ResNet-50 and
 * InceptionV3 apply Relu only after a Conv or a residual Add of a Conv,
 * MobileNetV2 applies ReLU6 (Clip) only after a Conv and adds residuals only
 * to a projection Conv's output. */
static void test_covers_and_chains(void **state)
{
    const struct {
        const char *model;
        dk_op gone[2];
    } cases[] = {
        {"resnet50", {DK_OP_RELU, DK_OP_ADD}},
        {"inception_v3", {DK_OP_RELU, DK_OP_PAD}}, /* Pad: fold_pad */
        {"mobilenet_v2", {DK_OP_CLIP, DK_OP_ADD}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dk_graph *g1 = load(cases[c].model, 1), *g2 = load(cases[c].model, 2);
        int n1, n2;
        char **a = covered_names(g1, &n1), **b = covered_names(g2, &n2);
        printf("%s: %d nodes at opt=1, %d at opt=2\n", cases[c].model, g1->n_nodes, g2->n_nodes);
        assert_int_equal(n1, n2);
        for (int i = 0; i < n1; i++) assert_string_equal(a[i], b[i]);
        assert_true(count_op(g1, cases[c].gone[0]) > 0);
        for (int i = 0; i < 2; i++) assert_int_equal(count_op(g2, cases[c].gone[i]), 0);
        /* fused Convs stand where their last node stood: still topological */
        for (int k = 0; k < g2->n_nodes; k++)
            for (int i = 0; i < g2->nodes[k].n_inputs; i++) {
                int v = g2->nodes[k].inputs[i];
                if (v >= 0 && g2->values[v].kind == DK_VALUE_ACTIVATION)
                    assert_true(g2->values[v].producer < k);
            }
        free_names(a, n1);
        free_names(b, n2);
        dk_graph_destroy(g1);
        dk_graph_destroy(g2);
    }
}

static void random_input(const dk_graph *g, dk_tensor *x)
{
    const dk_tensor *t = &g->values[g->inputs[0]].t;
    assert_int_equal(dk_tensor_alloc(x, t->dtype, t->ndim, t->dims), DK_OK);
    tu_fill_uniform(x, -2, 2);
}

static dk_session *session(const dk_graph *g, const char *variant)
{
    dk_variant v;
    dk_session *s = NULL;
    assert_int_equal(dk_variant_parse(variant, &v), DK_OK);
    dk_status st = dk_session_create(g, &v, &s);
    if (st == DK_ERR_UNAVAILABLE) return NULL;
    assert_int_equal(st, DK_OK);
    return s;
}

/* The reference applies post-ops to its rounded Conv output as the unfused
 * Add/Relu/Clip nodes do: the logits are identical bit for bit. */
static void test_reference_unchanged(void **state)
{
#ifdef __SANITIZE_ADDRESS__
    const char *models[] = {"mobilenet_v2", "resnet50"};
#else
    const char *models[] = {"mobilenet_v2", "resnet50", "inception_v3"}; /* + fold_pad */
#endif
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        dk_graph *g1 = load(models[m], 1), *g2 = load(models[m], 2);
        dk_tensor x = {0};
        random_input(g1, &x);
        dk_session *s1 = session(g1, "ref"), *s2 = session(g2, "ref");
        assert_int_equal(dk_session_run(s1, &x, 1), DK_OK);
        assert_int_equal(dk_session_run(s2, &x, 1), DK_OK);
        const dk_tensor *y1 = dk_session_output(s1, 0), *y2 = dk_session_output(s2, 0);
        assert_int_equal(dk_tensor_numel(y1), dk_tensor_numel(y2));
        assert_memory_equal(y1->data, y2->data, dk_tensor_nbytes(y1));
        dk_session_destroy(s1);
        dk_session_destroy(s2);
        dk_tensor_reset(&x);
        dk_graph_destroy(g1);
        dk_graph_destroy(g2);
    }
}

/* Each node of the candidate (fused Convs included), fed the reference's
 * inputs, is judged against the reference's output with the tolerance table
 * of the variant's precision: for fpmath=bf16 this is the bound the table
 * puts on every layer of the model. */
static void check_isolated(const char *model, int opt, const char *variant)
{
    dk_graph *g = load(model, opt);
    dk_session *ref = session(g, "ref"), *cand = session(g, variant);
    if (!cand) {
        printf("%s: unavailable here, not checked\n", variant);
        dk_session_destroy(ref);
        dk_graph_destroy(g);
        return;
    }
    dk_variant v;
    assert_int_equal(dk_variant_parse(variant, &v), DK_OK);
    dk_tensor x = {0};
    random_input(g, &x);
    assert_int_equal(dk_session_run(ref, &x, 1), DK_OK);
    int fused = 0, caught = 0, checked = 0, armed = 0;
    double worst = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        dk_tolerance tol;
        if (dk_tolerance_for_node(g, n, dk_variant_precision(&v), &tol) != DK_OK) continue;
        if (g->values[n->outputs[0]].t.dtype != DK_F32 || n->n_inputs > 8) continue;
        const dk_tensor *in[8] = {0};
        for (int i = 0; i < n->n_inputs; i++) {
            if (n->inputs[i] < 0) continue;
            in[i] = dk_session_value(ref, n->inputs[i]);
            assert_non_null(in[i]);
            if (g->values[n->inputs[i]].kind != DK_VALUE_CONSTANT)
                assert_int_equal(dk_session_set_value(cand, n->inputs[i], in[i]), DK_OK);
        }
        assert_int_equal(dk_session_run_node(cand, k, NULL), DK_OK);
        const dk_tensor *want = dk_session_value(ref, n->outputs[0]);
        dk_tensor got = {0};
        assert_int_equal(dk_tensor_copy(&got, dk_session_value(cand, n->outputs[0])), DK_OK);
        dk_tol_result r;
        assert_int_equal(dk_tolerance_check(g, n, dk_variant_precision(&v), in, want, &got, &r), DK_OK);
        if (r.verdict == DK_VERDICT_FAILED) printf("%s %s: %s\n", variant, n->name, r.explain);
        assert_int_not_equal(r.verdict, DK_VERDICT_FAILED);
        worst = fmax(worst, r.worst_ratio);
        /* teeth: one element moved to 10x its bound must fail */
        if (r.worst >= 0 && r.worst_tol > 0) {
            armed++;
            ((float *)got.data)[r.worst] = (float)(r.worst_ref + 10.0 * r.worst_tol);
            dk_tol_result bad;
            assert_int_equal(dk_tolerance_check(g, n, dk_variant_precision(&v), in, want, &got, &bad), DK_OK);
            caught += bad.verdict == DK_VERDICT_FAILED;
        }
        checked++;
        fused += n->op == DK_OP_CONV && (n->post.has_sum || n->post.act != DK_OP_NONE);
        dk_tensor_reset(&got);
    }
    printf("%s at opt=%d on %s: %d nodes (%d fused Convs) within tolerance, worst ratio %.3g; 10x errors "
           "caught in %d of %d\n", variant, opt, model, checked, fused, worst, caught, armed);
    assert_true(fused > 0);
    assert_true(armed > 0);
    assert_int_equal(caught, armed);
    dk_tensor_reset(&x);
    dk_session_destroy(ref);
    dk_session_destroy(cand);
    dk_graph_destroy(g);
}

/* Every variant on MobileNetV2 (depthwise, Clip, residuals without
 * activation); the defaults and bf16 on ResNet-50 (Add + Relu fused); opt=3
 * reads and writes values kept in oneDNN's layouts through the session's
 * conversions (on InceptionV3 its Concats and poolings too). */
static void test_isolated_within_tolerance(void **state)
{
#ifdef __SANITIZE_ADDRESS__
    /* under the sanitizers (10x slower) the code paths once each: fused
     * post-ops in the primitive and in C, native layouts, bf16 */
    const char *variants[] = {"openblas", "onednn:fuse=off"};
    const int resnet = 0;
#else
    const char *variants[] = {"openblas", "onednn", "onednn:fuse=off", "onednn:layout=plain",
                              "onednn:layout=nchw16c", "onednn:fpmath=bf16"};
    const int resnet = 1;
#endif
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        check_isolated("mobilenet_v2", 2, variants[i]);
    check_isolated("mobilenet_v2", 3, "onednn:fpmath=bf16");
    if (resnet) {
        check_isolated("resnet50", 2, "openblas"); /* bias + sum + Relu in one pass, MaxPool */
        check_isolated("resnet50", 2, "onednn");
        check_isolated("resnet50", 3, "onednn");
        /* Concats joined by copies and poolings on native layouts */
        check_isolated("inception_v3", 3, "onednn");
    }
}

/* Weights are prepared at plan time: a session refuses new data for a
 * constant instead of silently ignoring it, and accepts its own data. */
static void test_constants_fixed(void **state)
{
    dk_graph *g = load("mobilenet_v2", 2);
    dk_session *s = session(g, "onednn");
    if (!s) s = session(g, "ref");
    int w = g->nodes[0].inputs[1];
    dk_tensor t = {0};
    assert_int_equal(dk_tensor_copy(&t, &g->values[w].t), DK_OK);
    assert_int_equal(dk_session_set_value(s, w, &t), DK_OK);
    ((float *)t.data)[0] += 1.0f;
    tu_assert_status(dk_session_set_value(s, w, &t), DK_ERR_INVALID, "is a constant");
    dk_tensor_reset(&t);
    dk_session_destroy(s);
    dk_graph_destroy(g);
}

/* A Conv with a fourth input that no pass made a residual is malformed. */
static void test_four_inputs_rejected(void **state)
{
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 4, (int64_t[]){1, 2, 5, 5}, -1, 1);
    int w = tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, (int64_t[]){3, 2, 3, 3}, -1, 1);
    int b = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, (int64_t[]){3}, -1, 1);
    int r = tu_add_value(g, "r", DK_VALUE_CONSTANT, DK_F32, 4, (int64_t[]){1, 3, 3, 3}, -1, 1);
    tu_add_node(g, DK_OP_CONV, (int[]){x, w, b, r}, 4, 1);
    tu_expect_finalize_error(g, DK_ERR_FORMAT, "expected 2 to 3");
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("fusion");
    const char *dir = getenv("DK_MODEL_DIR");
    snprintf(model_dir, sizeof model_dir, "%s", dir && *dir ? dir : DK_DEFAULT_MODEL_DIR);
    const char *need[] = {"mobilenet_v2", "resnet50", "inception_v3"};
    for (int i = 0; i < 3; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s.onnx", model_dir, need[i]);
        if (access(path, R_OK) != 0) {
            printf("SKIP: %s is missing (the e2e tests export it)\n", path);
            return 77;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_inputs_rejected),
        cmocka_unit_test(test_constants_fixed),
        cmocka_unit_test(test_covers_and_chains),
        cmocka_unit_test(test_reference_unchanged),
        cmocka_unit_test(test_isolated_within_tolerance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
