/* The fault-injection wrapper (backend "fault", fault/fault_backend.c) on a
 * small hand-built network: each kind changes the target node's output alone,
 * by the stated amount in units of the tolerance bound; slow only waits; bad
 * specifications give errors naming the culprit. Every other node is checked
 * in isolation (fed the plain base session's inputs) and must be bit-identical
 * to the base backend's output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "fault/fault_backend.h"
#include "test_util.h"

/* x[1,3,8,8] -> conv1 (3x3, pad 1) -> relu1 -> conv2 (1x1) -> pool (global average) -> flat */
typedef struct net {
    dk_graph *g;
    dk_tensor x;
} net;

static net N;
static dk_graph *G; /* the graph the helpers below run: N.g, or an optimised one */

/* The network with fresh random weights (the same for every call in a run). */
static dk_graph *build_graph(void)
{
    dk_graph *g = tu_new_graph(13);
    int64_t xd[4] = {1, 3, 8, 8}, w1d[4] = {4, 3, 3, 3}, b1d[1] = {4}, w2d[4] = {6, 4, 1, 1}, b2d[1] = {6};
    int x = tu_add_input(g, "x", DK_F32, 4, xd, 1, 0); /* shape only */
    int w1 = tu_add_value(g, "w1", DK_VALUE_CONSTANT, DK_F32, 4, w1d, -0.5, 0.5);
    int b1 = tu_add_value(g, "b1", DK_VALUE_CONSTANT, DK_F32, 1, b1d, -0.5, 0.5);
    int w2 = tu_add_value(g, "w2", DK_VALUE_CONSTANT, DK_F32, 4, w2d, -0.5, 0.5);
    int b2 = tu_add_value(g, "b2", DK_VALUE_CONSTANT, DK_F32, 1, b2d, -0.5, 0.5);
    int k = tu_add_named_node(g, "conv1", DK_OP_CONV, (int[]){x, w1, b1}, 3, "c1");
    tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    k = tu_add_named_node(g, "relu1", DK_OP_RELU, (int[]){g->nodes[k].outputs[0]}, 1, "r1");
    k = tu_add_named_node(g, "conv2", DK_OP_CONV, (int[]){g->nodes[k].outputs[0], w2, b2}, 3, "c2");
    k = tu_add_named_node(g, "pool", DK_OP_GLOBALAVGPOOL, (int[]){g->nodes[k].outputs[0]}, 1, "p");
    k = tu_add_named_node(g, "flat", DK_OP_FLATTEN, (int[]){g->nodes[k].outputs[0]}, 1, "f");
    g->outputs = malloc(sizeof(int));
    assert_non_null(g->outputs);
    g->outputs[g->n_outputs++] = g->nodes[k].outputs[0];
    g->inputs = malloc(sizeof(int));
    assert_non_null(g->inputs);
    g->inputs[g->n_inputs++] = x;
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    assert_int_equal(g->n_nodes, 5);
    return g;
}

static int setup(void **state)
{
    (void)state;
    tu_init("test_fault");
    N.g = build_graph();
    G = N.g;
    int64_t xd[4] = {1, 3, 8, 8};
    assert_int_equal(dk_tensor_alloc(&N.x, DK_F32, 4, xd), DK_OK);
    tu_fill_uniform(&N.x, -1, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dk_tensor_reset(&N.x);
    dk_graph_destroy(N.g);
    return 0;
}

static int node_index(const char *name)
{
    for (int k = 0; k < G->n_nodes; k++)
        if (!strcmp(G->nodes[k].name, name)) return k;
    fail_msg("no node %s", name);
    return -1;
}

static dk_session *open_session(const char *spec)
{
    dk_variant v;
    dk_session *s = NULL;
    assert_int_equal(dk_variant_parse(spec, &v), DK_OK);
    dk_status st = dk_session_create(G, &v, &s);
    if (st != DK_OK) fail_msg("%s: %s", spec, dk_last_error());
    assert_int_equal(dk_session_run(s, &N.x, 1), DK_OK);
    return s;
}

static int same_tensor(const dk_tensor *a, const dk_tensor *b)
{
    return dk_tensor_numel(a) == dk_tensor_numel(b) && !memcmp(a->data, b->data, dk_tensor_nbytes(a));
}

/* Checks the target's corrupted output y against the plain output ref. */
typedef void (*target_check)(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref,
                             const dk_tensor *y, const dk_variant *v, double scale);

/* Runs `spec` (base `plain`) and the plain base on N.x. Nodes before the
 * target are identical in the full run; then every node is run alone on the
 * plain session's inputs: all but the target give the plain output bit for
 * bit, the target is handed to check. */
static void run_and_compare(const char *plain_spec, const char *spec, const char *target, double scale,
                            target_check check)
{
    printf("  %s\n", spec);
    dk_session *plain = open_session(plain_spec), *faulty = open_session(spec);
    const dk_graph *g = G;
    int t = node_index(target);
    for (int k = 0; k < t; k++)
        assert_true(same_tensor(dk_session_value(plain, g->nodes[k].outputs[0]),
                                dk_session_value(faulty, g->nodes[k].outputs[0])));
    assert_false(same_tensor(dk_session_output(plain, 0), dk_session_output(faulty, 0)));
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        const dk_tensor *in[8] = {0};
        for (int i = 0; i < n->n_inputs; i++) {
            assert_non_null(in[i] = dk_session_value(plain, n->inputs[i]));
            assert_int_equal(dk_session_set_value(faulty, n->inputs[i], in[i]), DK_OK);
        }
        double seconds = -1;
        assert_int_equal(dk_session_run_node(faulty, k, &seconds), DK_OK);
        const dk_tensor *ref = dk_session_value(plain, n->outputs[0]);
        const dk_tensor *y = dk_session_value(faulty, n->outputs[0]);
        if (k != t) {
            if (!same_tensor(ref, y)) fail_msg("node %s changed, but the fault is on %s", n->name, target);
            continue;
        }
        dk__fault_event ev;
        dk__fault_last_event(&ev);
        assert_int_equal(ev.node, t);
        assert_int_equal(ev.count, dk_tensor_numel(ref));
        assert_true(seconds == ev.base_seconds); /* corrupting is not timed */
        check(n, in, ref, y, dk_session_variant(faulty), scale);
    }
    dk_session_destroy(faulty);
    dk_session_destroy(plain);
}

/* Every element exactly `scale` bounds off up to the one float32 rounding of
 * the corrupted value, upwards when `upwards`; the tolerance check agrees. */
static void check_scaled(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                         const dk_variant *v, double scale, int upwards)
{
    dk_precision p = dk_variant_precision(v);
    int64_t count = dk_tensor_numel(ref);
    double *tol = malloc(sizeof(double) * (size_t)count), *S = malloc(sizeof(double) * (size_t)count);
    assert_non_null(tol);
    assert_non_null(S);
    assert_int_equal(dk_tolerance_bounds(G, n, p, in, ref, tol, S), DK_OK);
    const float *r = ref->data, *c = y->data;
    int ups = 0;
    double lo = 0, hi = 0; /* the largest ratio lies between the largest lower and upper limits */
    for (int64_t i = 0; i < count; i++) {
        double moved = fabs((double)c[i] - r[i]), rounding = 0x1p-24 * fabs((double)c[i]);
        if (fabs(moved - scale * tol[i]) > rounding)
            fail_msg("%s element %lld: %.9g vs %.9g moved %.4g bounds, not %g", n->name, (long long)i, c[i],
                     r[i], moved / tol[i], scale);
        lo = fmax(lo, scale - rounding / tol[i]);
        hi = fmax(hi, scale + rounding / tol[i]);
        ups += c[i] > r[i];
    }
    if (upwards) assert_int_equal(ups, count);
    else assert_true(ups > 0 && ups < count); /* random signs */
    dk_tol_result res;
    assert_int_equal(dk_tolerance_check(G, n, p, in, ref, y, &res), DK_OK);
    printf("    %s: %s, worst ratio %.4g, expected %.4g to %.4g (%s)\n", n->name, dk_verdict_name(res.verdict),
           res.worst_ratio, lo, hi, res.explain);
    assert_true(res.worst_ratio >= lo && res.worst_ratio <= hi);
    assert_int_equal(res.verdict, lo > 1 ? DK_VERDICT_FAILED : DK_VERDICT_PASSED);
    if (lo > 1) assert_int_equal(res.violations, count);
    free(tol);
    free(S);
}

static void check_noise(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                        const dk_variant *v, double scale)
{
    check_scaled(n, in, ref, y, v, scale, 0);
}

static void check_bias(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                       const dk_variant *v, double scale)
{
    check_scaled(n, in, ref, y, v, scale, 1);
}

static void check_zero(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                       const dk_variant *v, double scale)
{
    (void)n, (void)in, (void)v, (void)scale;
    int nonzero = 0;
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) {
        assert_true(((const float *)y->data)[i] == 0.0f);
        nonzero += ((const float *)ref->data)[i] != 0.0f;
    }
    assert_true(nonzero > 0);
}

static void check_swap(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                       const dk_variant *v, double scale)
{
    (void)n, (void)in, (void)v, (void)scale;
    int64_t C = ref->dims[1], inner = dk_tensor_numel(ref) / C;
    const float *r = ref->data, *c = y->data;
    for (int64_t ch = 0; ch < C; ch++) {
        int64_t from = ch == 0 ? 1 : ch == 1 ? 0 : ch;
        assert_memory_equal(c + ch * inner, r + from * inner, sizeof(float) * (size_t)inner);
    }
    assert_memory_not_equal(c, r, sizeof(float) * (size_t)inner);
}

static void test_noise(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=conv2", "conv2", 10, check_noise);
    run_and_compare("ref", "fault:base=ref,node=conv1,kind=noise,scale=3,seed=7", "conv1", 3, check_noise);
}

static void test_bias(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=conv2,kind=bias,scale=10", "conv2", 10, check_bias);
    run_and_compare("ref", "fault:base=ref,node=pool,kind=bias,scale=100", "pool", 100, check_bias);
}

/* Half a bound: the check must still pass (the fault is where the table says). */
static void test_below_bound_passes(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=conv2,kind=bias,scale=0.5", "conv2", 0.5, check_bias);
}

static void test_zero(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=conv1,kind=zero", "conv1", 0, check_zero);
}

static void test_swap_channels(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=conv2,kind=swap-channels", "conv2", 0, check_swap);
    run_and_compare("ref", "fault:base=ref,node=flat,kind=swap-channels", "flat", 0, check_swap);
}

/* Relu is exact (bound 0) and Flatten a copy: the bound is 1e-3 |y| + 1e-6 there. */
static void check_fallback(const dk_node *n, const dk_tensor *const *in, const dk_tensor *ref, const dk_tensor *y,
                           const dk_variant *v, double scale)
{
    (void)in, (void)v;
    dk__fault_event ev;
    dk__fault_last_event(&ev);
    assert_int_equal(ev.fallback, ev.count);
    const float *r = ref->data, *c = y->data;
    for (int64_t i = 0; i < dk_tensor_numel(ref); i++) {
        double want = scale * (1e-3 * fabs((double)r[i]) + 1e-6);
        double got = (double)c[i] - r[i];
        if (fabs(got - want) > 1e-6 * fabs((double)r[i]) + 1e-9)
            fail_msg("%s element %lld: moved by %.9g, want %.9g", n->name, (long long)i, got, want);
    }
}

static void test_fallback_bound(void **state)
{
    (void)state;
    run_and_compare("ref", "fault:base=ref,node=relu1,kind=bias,scale=2", "relu1", 2, check_fallback);
    run_and_compare("ref", "fault:base=ref,node=flat,kind=bias,scale=5", "flat", 5, check_fallback);
}

/* Every kernel library usable here as the base, default options. */
static void test_every_base(void **state)
{
    (void)state;
    for (int i = 0; i < dk_backend_count(); i++) {
        const dk_backend_iface *b = dk_backend_at(i);
        char reason[256], spec[128];
        if (dk_backend_probe(b, reason, sizeof reason) != DK_OK) {
            printf("  base %s: unavailable here (%s)\n", dk_backend_name(b), reason);
            continue;
        }
        snprintf(spec, sizeof spec, "fault:base=%s,node=conv2,kind=bias", dk_backend_name(b));
        run_and_compare(dk_backend_name(b), spec, "conv2", 10, check_bias);
    }
}

/* fpmath reaches the base and the bounds are bf16's. */
static void test_passes_base_options(void **state)
{
    (void)state;
    dk_variant v;
    char reason[256];
    assert_int_equal(dk_variant_parse("onednn", &v), DK_OK);
    if (dk_backend_probe(v.backend, reason, sizeof reason) != DK_OK) {
        printf("  onednn unavailable (%s): skipped\n", reason);
        skip();
    }
    assert_int_equal(dk_variant_parse("fault:base=onednn,fpmath=bf16,node=conv2,kind=bias", &v), DK_OK);
    assert_int_equal(dk_variant_precision(&v), DK_PREC_BF16);
    run_and_compare("onednn:fpmath=bf16", "fault:base=onednn,fpmath=bf16,node=conv2,kind=bias", "conv2", 10,
                    check_bias);
}

/* A base that keeps values in its own memory (oneDNN propagating layouts at
 * opt=3): the output is corrupted through to_canonical and from_canonical.
 * Fused nodes are found by the ONNX nodes they cover. */
static void test_native_base(void **state)
{
    (void)state;
    dk_variant v;
    char reason[256];
    assert_int_equal(dk_variant_parse("onednn", &v), DK_OK);
    if (dk_backend_probe(v.backend, reason, sizeof reason) != DK_OK) {
        printf("  onednn unavailable (%s): skipped\n", reason);
        skip();
    }
    /* oneDNN keeps propagated values in its own memory (kernels/backend_iface.h) */
    dk_graph *g3 = build_graph();
    /* choose_algorithm times algorithms: two sessions could pick different ones */
    assert_int_equal(dk_graph_optimize(g3, 3, "choose_algorithm"), DK_OK);
    assert_true(g3->hints & DK_HINT_PROPAGATE_LAYOUT);
    G = g3;
    const char *plain = "onednn:opt=3,disable=choose_algorithm";
    run_and_compare(plain, "fault:base=onednn,opt=3,disable=choose_algorithm,node=conv2,kind=bias", "conv2", 10,
                    check_bias);
    run_and_compare(plain, "fault:base=onednn,opt=3,disable=choose_algorithm,node=conv2,kind=swap-channels",
                    "conv2", 0, check_swap);
    /* relu1 is fused into conv1 now */
    const dk_node *fused = &g3->nodes[node_index("conv1")];
    assert_non_null(fused->covers);
    assert_non_null(strstr(fused->covers, "relu1"));
    run_and_compare(plain, "fault:base=onednn,opt=3,disable=choose_algorithm,node=relu1,kind=zero", "conv1", 0,
                    check_zero);
    G = N.g;
    dk_graph_destroy(g3);
}

/* slow: results untouched; the wait is (factor - 1) x the base's time and the
 * node's reported time includes it. No wall-clock threshold is asserted. */
static void test_slow(void **state)
{
    (void)state;
    dk_session *plain = open_session("ref"), *slow = open_session("fault:base=ref,node=conv1,kind=slow,factor=3");
    assert_true(same_tensor(dk_session_output(plain, 0), dk_session_output(slow, 0)));
    int t = node_index("conv1");
    double seconds = -1;
    assert_int_equal(dk_session_run_node(slow, t, &seconds), DK_OK);
    dk__fault_event ev;
    dk__fault_last_event(&ev);
    printf("  conv1: base %.3g s, wait %.3g s asked, %.3g s waited, reported %.3g s\n", ev.base_seconds,
           ev.wait_seconds, ev.waited_seconds, seconds);
    assert_int_equal(ev.node, t);
    assert_string_equal(ev.kind, "slow");
    assert_true(ev.base_seconds > 0);
    assert_true(ev.wait_seconds == 2.0 * ev.base_seconds);
    assert_true(ev.waited_seconds >= ev.wait_seconds);
    assert_true(seconds == ev.base_seconds + ev.waited_seconds);
    /* other nodes are not slowed down */
    ev.node = -2;
    assert_int_equal(dk_session_run_node(slow, node_index("relu1"), NULL), DK_OK);
    dk__fault_last_event(&ev);
    assert_int_equal(ev.node, t); /* still the conv1 event */
    assert_true(dk__fault_busy_wait(0) >= 0);
    dk_session_destroy(slow);
    dk_session_destroy(plain);
}

static void expect_parse_error(const char *spec, const char *needle)
{
    dk_variant v;
    assert_int_equal(dk_variant_parse(spec, &v), DK_ERR_INVALID);
    printf("    %s -> %s\n", spec, dk_last_error());
    if (!strstr(dk_last_error(), needle)) fail_msg("'%s' lacks '%s'", dk_last_error(), needle);
}

static void expect_open_error(const char *spec, dk_status want, const char *needle)
{
    dk_variant v;
    dk_session *s = NULL;
    assert_int_equal(dk_variant_parse(spec, &v), DK_OK);
    assert_int_equal(dk_session_create(G, &v, &s), want);
    assert_null(s);
    printf("    %s -> %s\n", spec, dk_last_error());
    if (!strstr(dk_last_error(), needle)) fail_msg("'%s' lacks '%s'", dk_last_error(), needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_parse_error("fault", "needs option 'base'");
    expect_parse_error("fault:node=conv1", "needs option 'base'");
    expect_parse_error("fault:base=ref", "needs option 'node'");
    expect_parse_error("fault:base=nosuch,node=conv1", "unknown backend 'nosuch'");
    expect_parse_error("fault:base=fault,node=conv1", "cannot wrap a wrapper");
    expect_parse_error("fault:base=ref,node=conv1,kind=frob", "kind=frob is not valid (allowed: noise|bias");
    expect_parse_error("fault:base=ref,node=conv1,frob=1", "no option 'frob' (options: threads");
    expect_parse_error("fault:base=ref,node=conv1,fpmath=bf16", "no option 'fpmath'"); /* ref has none */
    expect_parse_error("fault:base=ref,base=onednn,node=conv1", "'base' is given twice");
    expect_open_error("fault:base=ref,node=conv3", DK_ERR_INVALID,
                      "node=conv3: unit_test.onnx has no node of that name (closest: conv1, conv2");
    expect_open_error("fault:base=ref,node=conv1,scale=abc", DK_ERR_INVALID, "scale=abc");
    expect_open_error("fault:base=ref,node=conv1,scale=inf", DK_ERR_INVALID, "scale=inf");
    expect_open_error("fault:base=ref,node=conv1,kind=slow,factor=0.5", DK_ERR_INVALID,
                      "factor=0.5: expected a number from 1 to 1000");
    /* a slow-down of 1e12 would never finish; a noise of 1e300 is inf */
    expect_open_error("fault:base=ref,node=conv1,kind=slow,factor=1e12", DK_ERR_INVALID,
                      "option factor=1e12: expected a number from 1 to 1000");
    expect_open_error("fault:base=ref,node=conv1,scale=-1e300", DK_ERR_INVALID,
                      "option scale=-1e300: expected a number from -1e+06 to 1e+06");
}

/* The wrapper is as available as its base: dk_variant_probe says so before a
 * session is tried, and a session on an unavailable base fails as unavailable. */
static void test_probe_follows_base(void **state)
{
    (void)state;
    for (int i = 0; i < dk_backend_count(); i++) {
        const dk_backend_iface *b = dk_backend_at(i);
        char spec[128], reason[256], fault_reason[256];
        dk_variant v;
        snprintf(spec, sizeof spec, "fault:base=%s,node=conv1", dk_backend_name(b));
        assert_int_equal(dk_variant_parse(spec, &v), DK_OK);
        dk_status want = dk_backend_probe(b, reason, sizeof reason);
        assert_int_equal(dk_variant_probe(&v, fault_reason, sizeof fault_reason), want);
        printf("  %s: %s%s\n", spec, want == DK_OK ? "available" : "unavailable: ", want == DK_OK ? "" : fault_reason);
        if (want == DK_OK) continue;
        assert_string_equal(fault_reason, reason);
        dk_session *s = NULL;
        assert_int_equal(dk_session_create(G, &v, &s), DK_ERR_UNAVAILABLE);
        assert_null(s);
        assert_non_null(strstr(dk_last_error(), reason));
    }
}

static void test_canonical_and_expand(void **state)
{
    (void)state;
    dk_variant v, again, many[4];
    char buf[512], buf2[512];
    assert_int_equal(dk_variant_parse("fault:fpmath=bf16,base=onednn,node=/a/b.0/Conv,kind=bias", &v), DK_OK);
    assert_string_equal(dk_variant_canonical(&v, 0, buf, sizeof buf),
                        "fault:base=onednn,node=/a/b.0/Conv,kind=bias,fpmath=bf16");
    assert_string_equal(dk_variant_get(&v, "layout"), "blocked"); /* the base's default */
    assert_string_equal(dk_variant_get(&v, "scale"), "10");
    dk_variant_canonical(&v, 1, buf, sizeof buf);
    printf("  %s\n", buf);
    assert_int_equal(dk_variant_parse(buf, &again), DK_OK);
    assert_string_equal(dk_variant_canonical(&again, 1, buf2, sizeof buf2), buf);
    /* '/' in a node name is part of it; elsewhere it still expands */
    int n = 0;
    assert_int_equal(dk_variant_expand("fault:base=ref,node=/layer1/conv1/Conv,kind=noise/bias", many, 4, &n), DK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(dk_variant_get(&many[0], "node"), "/layer1/conv1/Conv");
    assert_string_equal(dk_variant_get(&many[1], "kind"), "bias");
    assert_int_equal(dk_variant_expand("fault:base=ref/openblas,node=/x/y", many, 4, &n), DK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(dk_variant_get(&many[1], "base"), "openblas");
    assert_string_equal(dk_variant_get(&many[1], "node"), "/x/y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_bias),
        cmocka_unit_test(test_below_bound_passes),
        cmocka_unit_test(test_zero),
        cmocka_unit_test(test_swap_channels),
        cmocka_unit_test(test_fallback_bound),
        cmocka_unit_test(test_every_base),
        cmocka_unit_test(test_passes_base_options),
        cmocka_unit_test(test_native_base),
        cmocka_unit_test(test_slow),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_probe_follows_base),
        cmocka_unit_test(test_canonical_and_expand),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
