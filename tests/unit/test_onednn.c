/* Unit tests for the onednn backend (kernels/onednn/): every op family it
 * runs on oneDNN, on random shapes and data, against the reference backend,
 * in every combination of layout (blocked, nchw16c, plain), fpmath (strict,
 * bf16) and algo (auto, direct, winograd): 18 variants per case.
 *
 * Each case is a one-node graph. The reference backend computes the expected
 * output; each variant opens the backend, plans the node (the test checks it
 * runs on oneDNN, or falls back to the reference kernels where the case
 * says so), executes it twice on NaN-poisoned outputs (the second time into
 * another buffer, so the handles are rebound) and compares element by
 * element with the project's tolerance table. The largest error seen per op
 * and precision is printed as a fraction of its bound.
 *
 * One case is a small graph instead (test_opt3_layout_choice): a
 * squeeze-and-excitation block at opt=3, in several sessions, every node
 * output against the reference's.
 *
 * Tolerances: the project's table (include/deltakern/tolerance.h,
 * check/tolerance.c), in the precision the variant names (fpmath=bf16:
 * the bf16 row). The table has no row for transform-based convolutions; for
 * the variants with algo=winograd a convolution's table bound (float32) is
 * multiplied by WINOGRAD_GROWTH = 16: oneDNN 2.6 has Winograd F(2x2, 3x3)
 * for float32 only (jit_fp32_wino_2x3). Its input transform adds 2 values
 * per axis (magnitudes grow up to 4x over a 2-D tile), its weight transform
 * takes combinations whose coefficients sum to at most 1.5 in absolute value
 * per axis (2.25x over a tile), so the products it sums are bounded by 9 S,
 * and each transform adds a few roundings: 16 covers both. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deltakern/backend.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "kernels/onednn/onednn_plan_info.h"
#include "kernels/backend_call.h"
#include "test_util.h"

#define WINOGRAD_GROWTH 16.0

static const dk_backend_iface *onednn, *ref;

/* ---- variants ----------------------------------------------------------------- */

typedef struct variant_info {
    char text[96];
    int bf16, winograd;
} variant_info;

static variant_info variants[18];
static int n_variants;

static void make_variants(void)
{
    static const char *layouts[] = {"blocked", "nchw16c", "plain"},
                      *fpmaths[] = {"strict", "bf16"}, *algos[] = {"auto", "direct", "winograd"};
    n_variants = 0;
    for (int l = 0; l < 3; l++)
        for (int f = 0; f < 2; f++)
            for (int a = 0; a < 3; a++) {
                variant_info *v = &variants[n_variants++];
                snprintf(v->text, sizeof v->text, "onednn:layout=%s,fpmath=%s,algo=%s", layouts[l],
                         fpmaths[f], algos[a]);
                v->bf16 = f == 1;
                v->winograd = a == 2;
            }
}

/* ---- worst errors, per op and precision ---------------------------------------------- */

typedef struct worst {
    dk_op op;
    int kind; /* 0 float32, 1 fpmath=bf16 (the table's bf16 row), 2 Winograd (float32) */
    double ratio;
} worst;
static worst worsts[64];
static int n_worsts;

static void note_worst(dk_op op, int kind, double ratio)
{
    for (int i = 0; i < n_worsts; i++)
        if (worsts[i].op == op && worsts[i].kind == kind) {
            if (ratio > worsts[i].ratio) worsts[i].ratio = ratio;
            return;
        }
    if (n_worsts < 64) worsts[n_worsts++] = (worst){op, kind, ratio};
}

/* ---- running one node ---------------------------------------------------------------- */

/* Runs node k on backend b (opened with variant text, NULL for ref) into ys
 * (allocated here, poisoned). *fallback receives whether the plan fell back. */
static dk_status run_on(const dk_backend_iface *b, const char *text, dk_graph *g, int k,
                        dk_tensor *ys, dk_tensor *ys2, int *fallback, char *note, size_t note_n)
{
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[8] = {0};
    dk_tensor *out[4] = {0};
    assert_true(n->n_inputs <= 8 && n->n_outputs <= 4);
    for (int i = 0; i < n->n_inputs; i++) in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
    dk_tensor *sets[2] = {ys, ys2};
    void *ctx = NULL, *plan = NULL;
    dk_status st = DK_OK;
    dk_variant v;
    if (dk_variant_parse(text ? text : dk_backend_name(b), &v) != DK_OK) fail_msg("%s: %s", text, dk_last_error());
    st = dk__backend_open(b, &v, &ctx);
    if (st == DK_OK) st = dk__backend_plan(b, ctx, g, k, &plan);
    if (st == DK_OK && plan && fallback) {
        const dk_onednn_plan_info *p = plan; /* every onednn plan starts with its info */
        *fallback = p->fallback;
        snprintf(note, note_n, "%s", p->note);
    }
    for (int run = 0; run < 2 && st == DK_OK; run++) {
        if (!sets[run]) continue;
        for (int o = 0; o < n->n_outputs; o++) {
            const dk_tensor *t = n->outputs[o] >= 0 ? &g->values[n->outputs[o]].t : NULL;
            out[o] = NULL;
            if (!t) continue;
            assert_int_equal(dk_tensor_alloc(&sets[run][o], t->dtype, t->ndim, t->dims), DK_OK);
            if (dk_dtype_is_float(t->dtype))
                for (int64_t i = 0; i < dk_tensor_numel(t); i++) dk_tensor_set(&sets[run][o], i, NAN);
            else
                memset(sets[run][o].data, 0xA5, dk_tensor_nbytes(t));
            out[o] = &sets[run][o];
        }
        st = dk__backend_execute(b, ctx, plan, g, n, in, out);
    }
    dk__backend_plan_destroy(b, ctx, plan);
    dk__backend_close(b, ctx);
    return st;
}

/* ---- cases ------------------------------------------------------------------------------- */

typedef struct tcase {
    const char *name;
    dk_graph *g;
    int node;
    int uses_bf16;     /* fpmath=bf16 rounds its operands (Conv, Gemm, MatMul) */
    int is_conv;       /* algo applies */
    int fallback;      /* expected to run on the reference kernels */
} tcase;

/* ---- the check ---------------------------------------------------------------------------- */

/* Judges output 0 of one run with the tolerance table (Winograd: see the
 * header). Returns the worst error as a fraction of its bound. */
static double compare(const tcase *c, const variant_info *v, const dk_tensor *got,
                      const dk_tensor *want, int run)
{
    const dk_node *n = &c->g->nodes[c->node];
    const dk_tensor *in[8] = {0};
    for (int i = 0; i < n->n_inputs && i < 8; i++)
        in[i] = n->inputs[i] >= 0 ? &c->g->values[n->inputs[i]].t : NULL;
    dk_variant var;
    assert_int_equal(dk_variant_parse(v->text, &var), DK_OK);
    const dk_precision prec = dk_variant_precision(&var);
    if (want->dtype != DK_F32) {
        if (memcmp(got->data, want->data, dk_tensor_nbytes(want)) != 0)
            fail_msg("%s on %s (run %d): %s output differs", c->name, v->text, run,
                     dk_dtype_name(want->dtype));
        return 0;
    }
    if (!(v->winograd && c->is_conv)) {
        dk_tol_result res;
        if (dk_tolerance_check(c->g, n, prec, in, want, got, &res) != DK_OK)
            fail_msg("%s: %s", c->name, dk_last_error());
        if (res.verdict == DK_VERDICT_FAILED)
            fail_msg("%s on %s (run %d): %s", c->name, v->text, run, res.explain);
        return res.worst_ratio;
    }
    const int64_t count = dk_tensor_numel(want);
    double *tol = malloc(sizeof(double) * (size_t)(2 * count + 1)), ratio = 0;
    assert_non_null(tol);
    if (dk_tolerance_bounds(c->g, n, prec, in, want, tol, tol + count) != DK_OK)
        fail_msg("%s: %s", c->name, dk_last_error());
    for (int64_t i = 0; i < count; i++) {
        double a = ((const float *)got->data)[i], b = ((const float *)want->data)[i];
        double err = fabs(a - b), bound = WINOGRAD_GROWTH * tol[i];
        if (!(err <= bound))
            fail_msg("%s on %s (run %d): element %lld is %.9g, reference %.9g (error %.3g, "
                     "bound %.3g = %g x the table's)", c->name, v->text, run, (long long)i, a, b,
                     err, bound, WINOGRAD_GROWTH);
        if (bound > 0 && err / bound > ratio) ratio = err / bound;
    }
    free(tol);
    return ratio;
}

/* Finalises the graph, runs the reference, then every variant. */
static void check_case(tcase *c)
{
    if (dk_graph_finalize(c->g) != DK_OK) fail_msg("%s: %s", c->name, dk_last_error());
    const dk_node *n = &c->g->nodes[c->node];
    dk_tensor want[4] = {{0}};
    assert_int_equal(run_on(ref, NULL, c->g, c->node, want, NULL, NULL, NULL, 0), DK_OK);
    char seen[2048] = ""; /* the distinct plan notes, printed once each */
    for (int vi = 0; vi < n_variants; vi++) {
        const variant_info *v = &variants[vi];
        dk_tensor got[4] = {{0}}, got2[4] = {{0}};
        int fallback = -1;
        char note[sizeof ((dk_onednn_plan_info *)0)->note] = "";
        dk_status st = run_on(onednn, v->text, c->g, c->node, got, got2, &fallback, note, sizeof note);
        if (st != DK_OK) fail_msg("%s on %s: %s", c->name, v->text, dk_last_error());
        if (!strstr(seen, note) && strlen(seen) + strlen(note) + 8 < sizeof seen) {
            printf("    %s: %s\n", v->text + 7, note);
            strcat(seen, note);
            strcat(seen, "\n");
        }
        if (fallback != c->fallback)
            fail_msg("%s on %s: expected to run on %s, plan says: %s", c->name, v->text,
                     c->fallback ? "the reference kernels" : "oneDNN", note);
        for (int o = 0; o < n->n_outputs; o++) {
            if (n->outputs[o] < 0) continue;
            if (o == 0) {
                double r1 = compare(c, v, &got[0], &want[0], 1);
                double r2 = compare(c, v, &got2[0], &want[0], 2);
                note_worst(n->op, v->bf16 ? 1 : v->winograd && c->is_conv ? 2 : 0, fmax(r1, r2));
            } else if (memcmp(got[o].data, want[o].data, dk_tensor_nbytes(&want[o])) != 0) {
                fail_msg("%s on %s: output %d differs", c->name, v->text, o);
            }
            dk_tensor_reset(&got[o]);
            dk_tensor_reset(&got2[o]);
        }
    }
    for (int o = 0; o < 4; o++) dk_tensor_reset(&want[o]);
    dk_graph_destroy(c->g);
    c->g = NULL;
}

/* ---- Conv ------------------------------------------------------------------------------------- */

typedef struct conv_spec {
    const char *name;
    int k;                         /* spatial dims */
    int64_t n, c, m, group;
    int64_t in[3], kernel[3], stride[3], dil[3], pb[3], pe[3];
    int bias, runtime_weights;
} conv_spec;

static void run_conv(const conv_spec *s)
{
    tcase c = {.name = s->name, .uses_bf16 = 1, .is_conv = 1};
    c.g = tu_new_graph(13);
    int64_t xd[5] = {s->n, s->c}, wd[5] = {s->m, s->c / s->group}, ones[3] = {1, 1, 1};
    for (int i = 0; i < s->k; i++) {
        xd[2 + i] = s->in[i];
        wd[2 + i] = s->kernel[i];
    }
    int ins[3] = {tu_add_input(c.g, "x", DK_F32, s->k + 2, xd, -1, 1),
                  tu_add_value(c.g, "w", s->runtime_weights ? DK_VALUE_INPUT : DK_VALUE_CONSTANT,
                               DK_F32, s->k + 2, wd, -1, 1),
                  -1};
    if (s->bias) ins[2] = tu_add_value(c.g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &s->m, -1, 1);
    c.node = tu_add_node(c.g, DK_OP_CONV, ins, s->bias ? 3 : 2, 1);
    int64_t pads[6];
    for (int i = 0; i < s->k; i++) {
        pads[i] = s->pb[i];
        pads[s->k + i] = s->pe[i];
    }
    tu_attr_ints(c.g, c.node, "strides", s->k, s->stride[0] ? s->stride : ones);
    tu_attr_ints(c.g, c.node, "dilations", s->k, s->dil[0] ? s->dil : ones);
    tu_attr_ints(c.g, c.node, "pads", 2 * s->k, pads);
    tu_attr_int(c.g, c.node, "group", s->group);
    char shape[64];
    printf("  %-24s x %s, %lld filters, group %lld\n", s->name,
           dk_shape_str(s->k + 2, xd, shape, sizeof shape), (long long)s->m, (long long)s->group);
    check_case(&c);
}

static int64_t rnd(int64_t lo, int64_t hi) { return tu_rng_int(lo, hi); }

static void test_conv(void **state)
{
    (void)state;
    conv_spec specs[16];
    int ns = 0;
    int64_t c0 = rnd(1, 40), m0 = rnd(1, 40);
    specs[ns++] = (conv_spec){"1x1", 2, rnd(1, 2), c0, m0, 1, {rnd(1, 9), rnd(1, 9)}, {1, 1},
                              .bias = 1};
    specs[ns++] = (conv_spec){"3x3 pad 1", 2, 1, rnd(8, 40), rnd(8, 40), 1, {rnd(3, 12), rnd(3, 12)},
                              {3, 3}, .pb = {1, 1}, .pe = {1, 1}, .bias = (int)rnd(0, 1)};
    specs[ns++] = (conv_spec){"3x3 unpadded, C=3", 2, 1, 3, rnd(16, 40), 1, {rnd(5, 15), rnd(5, 15)},
                              {3, 3}, .bias = 1};
    specs[ns++] = (conv_spec){"strided 5x5", 2, rnd(1, 2), rnd(1, 24), rnd(1, 24), 1,
                              {rnd(5, 14), rnd(5, 14)}, {5, 5}, {2, 2}, .pb = {2, 1}, .pe = {2, 2},
                              .bias = 1};
    specs[ns++] = (conv_spec){"dilated", 2, 1, rnd(1, 20), rnd(1, 20), 1, {rnd(7, 14), rnd(7, 14)},
                              {3, 3}, {1, 1}, {2, 3}, {2, 3}, {2, 3}, .bias = 1};
    int64_t grp = rnd(2, 4);
    specs[ns++] = (conv_spec){"grouped", 2, 1, grp * rnd(1, 8), grp * rnd(1, 8), grp,
                              {rnd(3, 10), rnd(3, 10)}, {3, 3}, .pb = {1, 1}, .pe = {1, 1}, .bias = 1};
    int64_t dw = rnd(1, 40);
    specs[ns++] = (conv_spec){"depthwise", 2, 1, dw, dw, dw, {rnd(3, 12), rnd(3, 12)}, {3, 3},
                              {rnd(1, 2), 1}, .pb = {1, 1}, .pe = {1, 1}, .bias = 1};
    int64_t dm = rnd(1, 16);
    specs[ns++] = (conv_spec){"depthwise multiplier 2", 2, 1, dm, 2 * dm, dm, {rnd(3, 9), rnd(3, 9)},
                              {3, 3}, .pb = {1, 0}, .pe = {0, 1}};
    specs[ns++] = (conv_spec){"1-D", 1, rnd(1, 2), rnd(1, 24), rnd(1, 24), 1, {rnd(5, 30)},
                              {rnd(1, 5)}, {rnd(1, 2)}, .pb = {1}, .pe = {2}, .bias = 1};
    specs[ns++] = (conv_spec){"3-D", 3, 1, rnd(1, 16), rnd(1, 16), 1, {rnd(3, 6), rnd(3, 6), rnd(3, 6)},
                              {3, 3, 3}, .pb = {1, 1, 1}, .pe = {1, 1, 1}, .bias = 1};
    specs[ns++] = (conv_spec){"asymmetric pads", 2, 1, rnd(1, 24), rnd(1, 24), 1,
                              {rnd(4, 10), rnd(4, 10)}, {3, 2}, {1, 2}, .pb = {0, 2}, .pe = {2, 1},
                              .bias = 1};
    specs[ns++] = (conv_spec){"1x7", 2, 1, rnd(8, 32), rnd(8, 32), 1, {rnd(7, 12), rnd(7, 12)}, {1, 7},
                              .pb = {0, 3}, .pe = {0, 3}, .bias = 1};
    specs[ns++] = (conv_spec){"7x1", 2, 1, rnd(8, 32), rnd(8, 32), 1, {rnd(7, 12), rnd(7, 12)}, {7, 1},
                              .pb = {3, 0}, .pe = {3, 0}, .bias = 1};
    specs[ns++] = (conv_spec){"run-time weights", 2, 1, rnd(8, 32), rnd(8, 32), 1,
                              {rnd(3, 9), rnd(3, 9)}, {3, 3}, .pb = {1, 1}, .pe = {1, 1},
                              .bias = 1, .runtime_weights = 1};
    specs[ns++] = (conv_spec){"3x3 64 channels", 2, 1, 64, 64, 1, {14, 14}, {3, 3}, .pb = {1, 1},
                              .pe = {1, 1}, .bias = 1};
    for (int i = 0; i < ns; i++) run_conv(&specs[i]);
}

/* ---- pooling ------------------------------------------------------------------------------------ */

typedef struct pool_spec {
    const char *name;
    dk_op op;
    int k;
    int64_t in[3], kernel[3], stride[3], dil[3], pb[3], pe[3];
    int ceil, include_pad, indices;
} pool_spec;

static void run_pool(const pool_spec *s)
{
    int max = s->op == DK_OP_MAXPOOL;
    tcase c = {.name = s->name, .fallback = s->indices};
    c.g = tu_new_graph(13);
    int64_t xd[5] = {rnd(1, 2), rnd(1, 20)}, ones[3] = {1, 1, 1};
    for (int i = 0; i < s->k; i++) xd[2 + i] = s->in[i];
    int x = tu_add_input(c.g, "x", DK_F32, s->k + 2, xd, -1, 1);
    c.node = tu_add_node(c.g, s->op, &x, 1, s->indices ? 2 : 1);
    int64_t pads[6];
    for (int i = 0; i < s->k; i++) {
        pads[i] = s->pb[i];
        pads[s->k + i] = s->pe[i];
    }
    tu_attr_ints(c.g, c.node, "kernel_shape", s->k, s->kernel);
    tu_attr_ints(c.g, c.node, "strides", s->k, s->stride[0] ? s->stride : ones);
    if (s->dil[0]) tu_attr_ints(c.g, c.node, "dilations", s->k, s->dil);
    tu_attr_ints(c.g, c.node, "pads", 2 * s->k, pads);
    if (s->ceil) tu_attr_int(c.g, c.node, "ceil_mode", 1);
    if (!max) tu_attr_int(c.g, c.node, "count_include_pad", s->include_pad);
    printf("  %s\n", s->name);
    check_case(&c);
}

static void test_pool(void **state)
{
    (void)state;
    const pool_spec specs[] = {
        {"MaxPool 3x3/2 pad 1", DK_OP_MAXPOOL, 2, {rnd(5, 16), rnd(5, 16)}, {3, 3}, {2, 2},
         .pb = {1, 1}, .pe = {1, 1}},
        {"MaxPool ceil_mode", DK_OP_MAXPOOL, 2, {rnd(6, 15), rnd(6, 15)}, {3, 3}, {2, 2}, .ceil = 1},
        {"MaxPool dilated", DK_OP_MAXPOOL, 2, {rnd(7, 14), rnd(7, 14)}, {2, 3}, {1, 2}, {2, 2},
         .pb = {1, 0}, .pe = {0, 1}},
        {"MaxPool 1-D", DK_OP_MAXPOOL, 1, {rnd(6, 30)}, {3}, {2}, .pb = {1}, .pe = {1}},
        {"MaxPool 3-D", DK_OP_MAXPOOL, 3, {rnd(4, 7), rnd(4, 7), rnd(4, 7)}, {2, 2, 2}, {2, 2, 2}, .ceil = 0},
        {"MaxPool with Indices", DK_OP_MAXPOOL, 2, {8, 8}, {2, 2}, {2, 2}, .indices = 1},
        {"AveragePool exclude pad", DK_OP_AVGPOOL, 2, {rnd(5, 14), rnd(5, 14)}, {3, 3}, {1, 1},
         .pb = {1, 1}, .pe = {1, 1}},
        {"AveragePool include pad", DK_OP_AVGPOOL, 2, {rnd(5, 14), rnd(5, 14)}, {3, 3}, {2, 2},
         .pb = {1, 1}, .pe = {1, 1}, .include_pad = 1},
        {"AveragePool ceil, exclude pad", DK_OP_AVGPOOL, 2, {rnd(6, 15), rnd(6, 15)}, {3, 3}, {2, 2},
         .pb = {1, 0}, .pe = {1, 0}, .ceil = 1},
        /* ceil_mode padding never counts: the corrected include-padding path */
        {"AveragePool ceil, include pad", DK_OP_AVGPOOL, 2, {10, 7}, {3, 3}, {2, 2},
         .pb = {1, 1}, .pe = {1, 1}, .ceil = 1, .include_pad = 1},
        {"AveragePool 1-D ceil include", DK_OP_AVGPOOL, 1, {12}, {3}, {2}, .pb = {1}, .pe = {1},
         .ceil = 1, .include_pad = 1},
        {"AveragePool 3-D", DK_OP_AVGPOOL, 3, {rnd(4, 7), rnd(4, 7), rnd(4, 7)}, {3, 3, 3},
         {2, 2, 2}, .pb = {1, 1, 1}, .pe = {1, 1, 1}},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) run_pool(&specs[i]);
}

static void test_global_pool(void **state)
{
    (void)state;
    const dk_op ops[] = {DK_OP_GLOBALAVGPOOL, DK_OP_GLOBALMAXPOOL};
    for (int rank = 3; rank <= 5; rank++)
        for (int o = 0; o < 2; o++) {
            tcase c = {.name = dk_op_name(ops[o])};
            c.g = tu_new_graph(13);
            int64_t xd[5] = {rnd(1, 2), rnd(1, 40), rnd(1, 9), rnd(1, 9), rnd(1, 5)};
            int x = tu_add_input(c.g, "x", DK_F32, rank, xd, -1, 1);
            c.node = tu_add_node(c.g, ops[o], &x, 1, 1);
            check_case(&c);
        }
}

/* ---- Gemm and MatMul ------------------------------------------------------------------------------- */

static void test_gemm(void **state)
{
    (void)state;
    /* C shapes: 0 none, 1 scalar, 2 [N], 3 [1,N], 4 [M,1], 5 [M,N] */
    static const struct {
        int ta, tb, c_shape;
        float alpha, beta;
        int b_runtime, c_runtime;
    } cases[] = {
        {0, 0, 3, 1, 1, 0, 0}, {0, 1, 2, 1, 1, 0, 0}, {1, 0, 5, 1, 1, 1, 1},
        {1, 1, 0, 1, 1, 0, 0}, {0, 1, 4, 1, 1, 0, 0}, {0, 0, 1, 1, 1, 0, 0},
        {0, 1, 2, 0.5f, 1, 0, 0}, {0, 0, 5, 1, 0.25f, 0, 0}, {1, 0, 3, 2.5f, 0.75f, 1, 1},
        {0, 1, 5, 1, 0.5f, 0, 1}, {0, 0, 0, 1.5f, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t m = rnd(1, 40), nn = rnd(1, 40), k = rnd(1, 300);
        tcase c = {.name = "Gemm", .uses_bf16 = 1};
        c.g = tu_new_graph(13);
        int64_t ad[2] = {cases[i].ta ? k : m, cases[i].ta ? m : k};
        int64_t bd[2] = {cases[i].tb ? nn : k, cases[i].tb ? k : nn};
        int64_t cd[2] = {cases[i].c_shape == 5 || cases[i].c_shape == 4 ? m : 1,
                         cases[i].c_shape == 4 ? 1 : nn};
        int c_rank = cases[i].c_shape == 1 ? 0 : cases[i].c_shape == 2 ? 1 : 2;
        int ins[3] = {tu_add_input(c.g, "a", DK_F32, 2, ad, -1, 1),
                      tu_add_value(c.g, "b", cases[i].b_runtime ? DK_VALUE_INPUT : DK_VALUE_CONSTANT,
                                   DK_F32, 2, bd, -1, 1),
                      -1};
        if (cases[i].c_shape)
            ins[2] = tu_add_value(c.g, "c", cases[i].c_runtime ? DK_VALUE_INPUT : DK_VALUE_CONSTANT,
                                  DK_F32, c_rank, c_rank == 1 ? cd + 1 : cd, -1, 1);
        c.node = tu_add_node(c.g, DK_OP_GEMM, ins, cases[i].c_shape ? 3 : 2, 1);
        tu_attr_int(c.g, c.node, "transA", cases[i].ta);
        tu_attr_int(c.g, c.node, "transB", cases[i].tb);
        tu_attr_float(c.g, c.node, "alpha", cases[i].alpha);
        tu_attr_float(c.g, c.node, "beta", cases[i].beta);
        printf("  Gemm %lldx%lldx%lld transA %d transB %d C shape %d alpha %g beta %g\n",
               (long long)m, (long long)k, (long long)nn, cases[i].ta, cases[i].tb,
               cases[i].c_shape, cases[i].alpha, cases[i].beta);
        check_case(&c);
    }
}

static void test_matmul(void **state)
{
    (void)state;
    static const struct {
        int ra, rb;
        int64_t a[4], b[4];
        int b_const;
    } cases[] = {
        {2, 2, {0, 0}, {0, 0}, 1},                 /* M x K @ K x N, constant weights */
        {2, 2, {0, 0}, {0, 0}, 0},
        {3, 3, {3, 0, 0}, {3, 0, 0}, 0},           /* batched */
        {3, 2, {4, 0, 0}, {0, 0}, 1},              /* B broadcast over the batch */
        {4, 4, {2, 1, 0, 0}, {1, 3, 0, 0}, 0},     /* both broadcast */
        {1, 2, {0}, {0, 0}, 1},                    /* 1-D A */
        {3, 1, {2, 0, 0}, {0}, 0},                 /* 1-D B */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t m = rnd(1, 20), nn = rnd(1, 20), k = rnd(1, 100);
        int64_t ad[4], bd[4];
        int ra = cases[i].ra, rb = cases[i].rb;
        for (int d = 0; d < ra; d++) ad[d] = cases[i].a[d];
        for (int d = 0; d < rb; d++) bd[d] = cases[i].b[d];
        if (ra == 1) ad[0] = k;
        else { ad[ra - 2] = m; ad[ra - 1] = k; }
        if (rb == 1) bd[0] = k;
        else { bd[rb - 2] = k; bd[rb - 1] = nn; }
        tcase c = {.name = "MatMul", .uses_bf16 = 1};
        c.g = tu_new_graph(13);
        int ins[2] = {tu_add_input(c.g, "a", DK_F32, ra, ad, -1, 1),
                      tu_add_value(c.g, "b", cases[i].b_const ? DK_VALUE_CONSTANT : DK_VALUE_INPUT,
                                   DK_F32, rb, bd, -1, 1)};
        c.node = tu_add_node(c.g, DK_OP_MATMUL, ins, 2, 1);
        printf("  MatMul rank %d @ rank %d, M %lld K %lld N %lld\n", ra, rb, (long long)m,
               (long long)k, (long long)nn);
        check_case(&c);
    }
}

/* ---- element-wise and binary ------------------------------------------------------------------------ */

static void test_eltwise(void **state)
{
    (void)state;
    static const struct {
        dk_op op;
        float alpha, beta;
    } ops[] = {
        {DK_OP_RELU, 0, 0},    {DK_OP_LEAKYRELU, 0.1f, 0},      {DK_OP_SIGMOID, 0, 0},
        {DK_OP_HARDSWISH, 0, 0}, {DK_OP_HARDSIGMOID, 0.3f, 0.4f}, {DK_OP_SQRT, 0, 0},
        {DK_OP_TANH, 0, 0},    {DK_OP_ABS, 0, 0},              {DK_OP_EXP, 0, 0},
        {DK_OP_ELU, 0.7f, 0},  {DK_OP_NEG, 0, 0},
    };
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        tcase c = {.name = dk_op_name(ops[o].op)};
        c.g = tu_new_graph(14);
        int64_t xd[4] = {rnd(1, 2), rnd(1, 30), rnd(1, 20), rnd(1, 20)};
        /* Sqrt on positive inputs: NaN would compare equal and prove nothing */
        int x = tu_add_input(c.g, "x", DK_F32, 4, xd, ops[o].op == DK_OP_SQRT ? 0.01 : -8, 8);
        c.node = tu_add_node(c.g, ops[o].op, &x, 1, 1);
        if (ops[o].op == DK_OP_LEAKYRELU || ops[o].op == DK_OP_HARDSIGMOID || ops[o].op == DK_OP_ELU)
            tu_attr_float(c.g, c.node, "alpha", ops[o].alpha);
        if (ops[o].op == DK_OP_HARDSIGMOID) tu_attr_float(c.g, c.node, "beta", ops[o].beta);
        check_case(&c);
    }
}

/* Pow: eltwise pow (alpha x^beta) for a constant float32 scalar exponent;
 * a tensor exponent, one known only at run time or an int64 one falls back. */
static void test_pow(void **state)
{
    (void)state;
    static const struct {
        float e;
        int rank;
        dk_value_kind kind;
        dk_dtype dt;
        int fallback;
    } cases[] = {{2, 0, DK_VALUE_CONSTANT, DK_F32, 0},   {0.5f, 0, DK_VALUE_CONSTANT, DK_F32, 0},
                 {3, 1, DK_VALUE_CONSTANT, DK_F32, 0},   {-1.5f, 0, DK_VALUE_CONSTANT, DK_F32, 0},
                 {2, 0, DK_VALUE_INPUT, DK_F32, 1},      {2, 0, DK_VALUE_CONSTANT, DK_I64, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "Pow", .fallback = cases[i].fallback};
        c.g = tu_new_graph(15);
        int64_t xd[3] = {rnd(1, 4), rnd(1, 30), rnd(1, 40)}, one = 1;
        int ins[2] = {tu_add_input(c.g, "x", DK_F32, 3, xd, 0.05, 4),
                      tu_add_value(c.g, "e", cases[i].kind, cases[i].dt, cases[i].rank, &one, 0, 0)};
        dk_tensor_set(&c.g->values[ins[1]].t, 0, cases[i].e);
        c.node = tu_add_node(c.g, DK_OP_POW, ins, 2, 1);
        printf("  Pow e=%g %s %s\n", (double)cases[i].e, dk_dtype_name(cases[i].dt),
               cases[i].kind == DK_VALUE_INPUT ? "(graph input)" : "(constant)");
        check_case(&c);
    }
}

static void test_clip(void **state)
{
    (void)state;
    /* bounds: both, min only, max only, min > max (all max), run-time (fallback) */
    static const struct {
        int has_min, has_max;
        float lo, hi;
        int runtime;
    } cases[] = {{1, 1, -1.5f, 2.0f, 0}, {1, 0, 0.0f, 0, 0}, {0, 1, 0, 6.0f, 0},
                 {1, 1, 1.0f, -1.0f, 0}, {1, 1, -1.0f, 1.0f, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "Clip", .fallback = cases[i].runtime};
        c.g = tu_new_graph(13);
        int64_t xd[2] = {rnd(1, 30), rnd(1, 300)};
        int ins[3] = {tu_add_input(c.g, "x", DK_F32, 2, xd, -8, 8), -1, -1};
        dk_value_kind kind = cases[i].runtime ? DK_VALUE_INPUT : DK_VALUE_CONSTANT;
        if (cases[i].has_min) {
            ins[1] = tu_add_value(c.g, "lo", kind, DK_F32, 0, NULL, 0, 0);
            ((float *)c.g->values[ins[1]].t.data)[0] = cases[i].lo;
        }
        if (cases[i].has_max) {
            ins[2] = tu_add_value(c.g, "hi", kind, DK_F32, 0, NULL, 0, 0);
            ((float *)c.g->values[ins[2]].t.data)[0] = cases[i].hi;
        }
        c.node = tu_add_node(c.g, DK_OP_CLIP, ins, 3, 1);
        check_case(&c);
    }
}

static void test_binary(void **state)
{
    (void)state;
    /* B shapes as numpy broadcasting sees them against A [n, c, h, w] */
    static const struct {
        dk_op op;
        int a_full;      /* 0: A is the broadcast operand [1, c, 1, 1] and B is full */
        int b_rank;
        int b_kind;      /* 0 full, 1 per channel [c,1,1], 2 scalar, 3 [w], 4 [n,1,h,1] */
        int fallback;
    } cases[] = {
        {DK_OP_ADD, 1, 4, 0, 0}, {DK_OP_SUB, 1, 3, 1, 0}, {DK_OP_MUL, 1, 0, 2, 0},
        {DK_OP_DIV, 1, 1, 3, 0}, {DK_OP_ADD, 1, 4, 4, 0}, {DK_OP_MUL, 0, 4, 0, 0},
        {DK_OP_ADD, 0, 4, 0, 0}, {DK_OP_SUB, 0, 4, 0, 1}, {DK_OP_DIV, 0, 4, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_op op = cases[i].op;
        tcase c = {.name = dk_op_name(op),
                   .fallback = cases[i].fallback};
        c.g = tu_new_graph(14);
        int64_t full[4] = {rnd(1, 2), rnd(1, 20), rnd(1, 9), rnd(1, 9)};
        /* A broadcast against a full B needs a full shape other than [1, c, 1, 1]:
         * otherwise nothing is broadcast and oneDNN rightly runs it natively */
        if (!cases[i].a_full) full[2] = rnd(2, 9);
        int64_t bd[4];
        switch (cases[i].b_kind) {
        case 0: memcpy(bd, full, sizeof bd); break;
        case 1: bd[0] = full[1]; bd[1] = bd[2] = 1; break;
        case 2: break;
        case 3: bd[0] = full[3]; break;
        default: bd[0] = full[0]; bd[1] = 1; bd[2] = full[2]; bd[3] = 1; break;
        }
        int64_t small[4] = {1, full[1], 1, 1};
        /* divisors away from 0 */
        double lo = op == DK_OP_DIV ? 0.5 : -4, hi = op == DK_OP_DIV ? 2 : 4;
        int ins[2];
        if (cases[i].a_full) {
            ins[0] = tu_add_input(c.g, "a", DK_F32, 4, full, -4, 4);
            ins[1] = tu_add_input(c.g, "b", DK_F32, cases[i].b_rank, bd, lo, hi);
        } else {
            ins[0] = tu_add_input(c.g, "a", DK_F32, 4, small, -4, 4);
            ins[1] = tu_add_input(c.g, "b", DK_F32, 4, full, lo, hi);
        }
        c.node = tu_add_node(c.g, op, ins, 2, 1);
        check_case(&c);
    }
}

/* ---- normalisation, softmax, concat, reduction ---------------------------------------------------------- */

static void test_batchnorm(void **state)
{
    (void)state;
    for (int rank = 2; rank <= 5; rank++) {
        tcase c = {.name = "BatchNormalization"};
        c.g = tu_new_graph(15);
        int64_t xd[5] = {rnd(1, 3), rnd(1, 40), rnd(1, 8), rnd(1, 8), rnd(1, 4)};
        int64_t ch = xd[1];
        int ins[5] = {tu_add_input(c.g, "x", DK_F32, rank, xd, -3, 3),
                      tu_add_value(c.g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, &ch, -2, 2),
                      tu_add_value(c.g, "B", DK_VALUE_CONSTANT, DK_F32, 1, &ch, -1, 1),
                      tu_add_value(c.g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, &ch, -1, 1),
                      tu_add_value(c.g, "var", DK_VALUE_CONSTANT, DK_F32, 1, &ch, 0.1, 3)};
        c.node = tu_add_node(c.g, DK_OP_BATCHNORM, ins, 5, 1);
        tu_attr_float(c.g, c.node, "epsilon", 1e-3f);
        check_case(&c);
    }
}

/* LayerNormalization: the primitive over the last dim, with X seen as
 * [rows, K] for an earlier axis; a broadcast Scale and the Mean/InvStdDev
 * outputs fall back. */
static void test_layernorm(void **state)
{
    (void)state;
    static const struct {
        int axis, bias, broadcast, n_out, fallback;
    } cases[] = {{3, 1, 0, 1, 0}, {3, 0, 0, 1, 0}, {1, 1, 0, 1, 0}, {2, 1, 1, 1, 1}, {3, 1, 0, 3, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "LayerNormalization", .fallback = cases[i].fallback};
        c.g = tu_new_graph(17);
        int64_t xd[4] = {rnd(1, 2), rnd(1, 12), rnd(1, 12), rnd(8, 96)}, sd[3];
        int axis = cases[i].axis, srank = 4 - axis;
        for (int d = 0; d < srank; d++) sd[d] = xd[axis + d];
        if (cases[i].broadcast) { /* a dim of 1 in X would make the broadcast no broadcast */
            xd[axis] = rnd(2, 12);
            sd[0] = 1;
        }
        int ins[3] = {tu_add_input(c.g, "x", DK_F32, 4, xd, -2, 4),
                      tu_add_value(c.g, "scale", DK_VALUE_CONSTANT, DK_F32, srank, sd, 0.5, 1.5),
                      cases[i].bias ? tu_add_value(c.g, "B", DK_VALUE_CONSTANT, DK_F32, srank, sd,
                                                   -1, 1)
                                    : -1};
        c.node = tu_add_node(c.g, DK_OP_LAYERNORM, ins, cases[i].bias ? 3 : 2, cases[i].n_out);
        tu_attr_int(c.g, c.node, "axis", axis);
        printf("  LayerNormalization axis %d%s%s%s\n", axis, cases[i].bias ? " B" : "",
               cases[i].broadcast ? " broadcast Scale" : "", cases[i].n_out > 1 ? " Mean, InvStdDev" : "");
        check_case(&c);
    }
}

static void test_softmax(void **state)
{
    (void)state;
    static const struct {
        int64_t opset;
        int rank, axis;
    } cases[] = {{13, 2, 1}, {13, 4, 1}, {13, 4, 3}, {13, 3, 0}, {11, 4, 1}, {11, 2, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "Softmax"};
        c.g = tu_new_graph(cases[i].opset);
        int64_t xd[4] = {rnd(1, 6), rnd(2, 40), rnd(1, 6), rnd(1, 6)};
        int x = tu_add_input(c.g, "x", DK_F32, cases[i].rank, xd, -5, 5);
        c.node = tu_add_node(c.g, DK_OP_SOFTMAX, &x, 1, 1);
        tu_attr_int(c.g, c.node, "axis", cases[i].axis);
        check_case(&c);
    }
}

static void test_lrn(void **state)
{
    (void)state;
    const int64_t sizes[] = {3, 5, 1, 4};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tcase c = {.name = "LRN", .fallback = sizes[i] % 2 == 0};
        c.g = tu_new_graph(13);
        int64_t xd[4] = {rnd(1, 2), rnd(1, 24), rnd(1, 9), rnd(1, 9)};
        int x = tu_add_input(c.g, "x", DK_F32, 4, xd, -2, 2);
        c.node = tu_add_node(c.g, DK_OP_LRN, &x, 1, 1);
        tu_attr_int(c.g, c.node, "size", sizes[i]);
        tu_attr_float(c.g, c.node, "alpha", 1e-2f);
        tu_attr_float(c.g, c.node, "beta", 0.75f);
        tu_attr_float(c.g, c.node, "bias", 2.0f);
        check_case(&c);
    }
}

static void test_concat(void **state)
{
    (void)state;
    for (int axis = 0; axis < 4; axis++) {
        tcase c = {.name = "Concat"};
        c.g = tu_new_graph(13);
        int64_t base[4] = {rnd(1, 3), rnd(1, 20), rnd(1, 7), rnd(1, 7)};
        int n_in = (int)rnd(1, 4), ins[4];
        for (int i = 0; i < n_in; i++) {
            int64_t d[4];
            memcpy(d, base, sizeof d);
            d[axis] = rnd(1, 6);
            char name[16];
            snprintf(name, sizeof name, "x%d", i);
            ins[i] = tu_add_input(c.g, name, DK_F32, 4, d, -1, 1);
        }
        c.node = tu_add_node(c.g, DK_OP_CONCAT, ins, n_in, 1);
        tu_attr_int(c.g, c.node, "axis", axis);
        check_case(&c);
    }
}

static void test_reducemean(void **state)
{
    (void)state;
    static const struct {
        int naxes;
        int64_t axes[3];
        int keepdims;
    } cases[] = {{2, {2, 3}, 1}, {1, {1}, 0}, {3, {0, 2, 3}, 1}, {1, {-1}, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "ReduceMean"};
        c.g = tu_new_graph(13);
        int64_t xd[4] = {rnd(1, 3), rnd(1, 20), rnd(2, 9), rnd(2, 9)};
        int x = tu_add_input(c.g, "x", DK_F32, 4, xd, -1, 1);
        c.node = tu_add_node(c.g, DK_OP_REDUCEMEAN, &x, 1, 1);
        tu_attr_ints(c.g, c.node, "axes", cases[i].naxes, cases[i].axes);
        tu_attr_int(c.g, c.node, "keepdims", cases[i].keepdims);
        int64_t reduced = 1; /* oneDNN refuses to reduce only dims of size 1 */
        for (int a = 0; a < cases[i].naxes; a++) reduced *= xd[(cases[i].axes[a] + 4) % 4];
        c.fallback = reduced == 1;
        check_case(&c);
    }
}

/* Data movement and integer types run on the reference kernels. */
/* InstanceNormalization: batch normalisation computing its statistics on X
 * seen as [1, N*C, spatial]; a larger batch with run-time scale and B falls
 * back. */
static void test_instancenorm(void **state)
{
    (void)state;
    static const struct {
        int rank;
        int64_t images;
        int runtime_params, fallback;
        int large; /* a 112x112 plane: float accumulation over 12,544 values */
    } cases[] = {{4, 1, 0, 0, 0}, {3, 1, 0, 0, 0}, {5, 1, 1, 0, 0},
                 {4, 3, 0, 0, 0}, {4, 2, 1, 1, 0}, {4, 1, 0, 0, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "InstanceNormalization", .fallback = cases[i].fallback};
        c.g = tu_new_graph(6);
        const int r = cases[i].rank;
        int64_t xd[5] = {cases[i].images, rnd(1, 24)};
        for (int a = 2; a < r; a++) xd[a] = cases[i].large ? 112 : rnd(1, r == 5 ? 5 : 12);
        const dk_value_kind pk = cases[i].runtime_params ? DK_VALUE_INPUT : DK_VALUE_CONSTANT;
        /* an offset mean and a spread variance: the statistics matter */
        int ins[3] = {tu_add_input(c.g, "x", DK_F32, r, xd, -3, 5),
                      tu_add_value(c.g, "scale", pk, DK_F32, 1, &xd[1], 0.5, 1.5),
                      tu_add_value(c.g, "B", pk, DK_F32, 1, &xd[1], -1, 1)};
        c.node = tu_add_node(c.g, DK_OP_INSTANCENORM, ins, 3, 1);
        tu_attr_float(c.g, c.node, "epsilon", 1e-5f);
        char shape[64];
        printf("  InstanceNormalization x %s%s\n", dk_shape_str(r, xd, shape, sizeof shape),
               cases[i].runtime_params ? ", run-time scale and B" : "");
        check_case(&c);
    }
}

/* PRelu: the slope broadcast onto X as oneDNN's prelu weights (each dim the
 * input's or 1), constant or run-time. */
static void test_prelu(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        int srank;
        int64_t mask; /* bit a: slope dim a (aligned at X's last dim) is X's, else 1 */
        int runtime;
    } cases[] = {
        {"per channel [C,1,1]", 3, 4, 0}, {"one slope [1]", 1, 0, 0},
        {"full shape", 4, 15, 0},         {"last dim [W]", 1, 1, 0},
        {"run-time [C,1,1]", 3, 4, 1},    {"[1,C,H,1]", 4, 6, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "PRelu"};
        c.g = tu_new_graph(9);
        int64_t xd[4] = {rnd(1, 2), rnd(1, 24), rnd(1, 9), rnd(1, 9)}, sd[4];
        const int sr = cases[i].srank;
        for (int a = 0; a < sr; a++) /* slope dim a sits over X's dim 4 - sr + a */
            sd[a] = (cases[i].mask >> (sr - 1 - a)) & 1 ? xd[4 - sr + a] : 1;
        int ins[2] = {tu_add_input(c.g, "x", DK_F32, 4, xd, -2, 2),
                      tu_add_value(c.g, "slope",
                                   cases[i].runtime ? DK_VALUE_INPUT : DK_VALUE_CONSTANT,
                                   DK_F32, sr, sd, -0.5, 0.5)};
        c.node = tu_add_node(c.g, DK_OP_PRELU, ins, 2, 1);
        char shape[64], sshape[64];
        printf("  PRelu %-20s x %s, slope %s\n", cases[i].desc,
               dk_shape_str(4, xd, shape, sizeof shape), dk_shape_str(sr, sd, sshape, sizeof sshape));
        check_case(&c);
    }
}

/* ---- ConvTranspose ------------------------------------------------------------------------------ */

/* Deconvolution against the reference; an output_shape beyond the natural
 * size (negative pads for oneDNN) falls back. */
static void test_convtranspose(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int k;
        int64_t group, kernel, stride, dil, pb, pe, out_pad, out_extra;
        int bias, runtime_weights, fallback;
    } cases[] = {
        {"2x2/s2 (text detector)", 2, 1, 2, 2, 1, 0, 0, 0, 0, 1, 0, 0},
        {"3x3/s2 p1 output_padding", 2, 1, 3, 2, 1, 1, 1, 1, 0, 1, 0, 0},
        {"grouped 4x4/s2 p1", 2, 2, 4, 2, 1, 1, 1, 0, 0, 0, 0, 0},
        {"dilated asymmetric pads", 2, 1, 3, 1, 2, 2, 0, 0, 0, 1, 0, 0},
        {"1-D", 1, 1, 3, 3, 1, 0, 1, 0, 0, 1, 0, 0},
        {"3-D", 3, 1, 2, 2, 1, 0, 0, 0, 0, 1, 0, 0},
        {"run-time weights", 2, 1, 2, 2, 1, 0, 0, 0, 0, 0, 1, 0},
        {"output_shape beyond natural", 2, 1, 3, 2, 1, 0, 0, 0, 1, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = "ConvTranspose", .is_conv = 0, .fallback = cases[i].fallback};
        const int k = cases[i].k;
        int64_t g = cases[i].group, C = g * rnd(1, 6), M = g * rnd(1, 6);
        int64_t xd[5] = {rnd(1, 2), C}, wd[5] = {C, M / g}, v[3], pads[6], os[3], op[3];
        for (int a = 0; a < k; a++) {
            xd[2 + a] = rnd(2, k == 3 ? 5 : 9);
            wd[2 + a] = cases[i].kernel;
            pads[a] = cases[i].pb;
            pads[k + a] = cases[i].pe;
            op[a] = cases[i].out_pad;
            os[a] = cases[i].stride * (xd[2 + a] - 1) + cases[i].dil * (cases[i].kernel - 1) + 1 +
                    cases[i].out_extra;
        }
        c.g = tu_new_graph(13);
        int ins[3] = {tu_add_input(c.g, "x", DK_F32, k + 2, xd, -1, 1),
                      tu_add_value(c.g, "w", cases[i].runtime_weights ? DK_VALUE_INPUT
                                                                      : DK_VALUE_CONSTANT,
                                   DK_F32, k + 2, wd, -1, 1),
                      cases[i].bias ? tu_add_value(c.g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &M, -1, 1)
                                    : -1};
        c.node = tu_add_node(c.g, DK_OP_CONVTRANSPOSE, ins, cases[i].bias ? 3 : 2, 1);
        for (int a = 0; a < k; a++) v[a] = cases[i].stride;
        tu_attr_ints(c.g, c.node, "strides", k, v);
        for (int a = 0; a < k; a++) v[a] = cases[i].dil;
        tu_attr_ints(c.g, c.node, "dilations", k, v);
        if (g > 1) tu_attr_int(c.g, c.node, "group", g);
        if (cases[i].out_extra) tu_attr_ints(c.g, c.node, "output_shape", k, os);
        else tu_attr_ints(c.g, c.node, "pads", 2 * k, pads);
        if (cases[i].out_pad) tu_attr_ints(c.g, c.node, "output_padding", k, op);
        char shape[64];
        printf("  ConvTranspose %-28s x %s, %lld filters\n", cases[i].name,
               dk_shape_str(k + 2, xd, shape, sizeof shape), (long long)M);
        check_case(&c);
    }
}

/* ---- Resize and Upsample ------------------------------------------------------------------------- */

/* Nearest by integer factors whose reference indices are floor(y / f) runs
 * on oneDNN's resampling and must match the reference bit for bit (the row
 * is exact); every other mode, rounding or factor falls back. */
static void test_resize(void **state)
{
    (void)state;
    static const struct {
        const char *desc, *mode, *coord, *round;
        int rank;
        float f[3];     /* spatial factors */
        int sizes;      /* sizes input instead of scales */
        int upsample;   /* Upsample-9 */
        int fallback;
    } cases[] = {
        {"nearest asymmetric floor x2", "nearest", "asymmetric", "floor", 4, {2, 2}, 0, 0, 0},
        {"nearest asymmetric floor x4", "nearest", "asymmetric", "floor", 4, {4, 4}, 0, 0, 0},
        {"nearest asymmetric floor x8,x2", "nearest", "asymmetric", "floor", 4, {8, 2}, 0, 0, 0},
        {"nearest half_pixel round_prefer_floor x3 (sizes)", "nearest", "half_pixel",
         "round_prefer_floor", 4, {3, 3}, 1, 0, 0},
        {"nearest 3-D asymmetric floor x2", "nearest", "asymmetric", "floor", 5, {2, 2, 2}, 0, 0, 0},
        {"Upsample-9 nearest x2", "nearest", NULL, NULL, 4, {2, 2}, 0, 1, 0},
        {"nearest asymmetric round_prefer_floor x3", "nearest", "asymmetric",
         "round_prefer_floor", 4, {3, 3}, 0, 0, 1},
        {"nearest half_pixel floor x2", "nearest", "half_pixel", "floor", 4, {2, 2}, 0, 0, 1},
        {"nearest asymmetric floor x1.5", "nearest", "asymmetric", "floor", 4, {1.5f, 2}, 0, 0, 1},
        {"nearest asymmetric floor x0.5", "nearest", "asymmetric", "floor", 4, {0.5f, 1}, 0, 0, 1},
        {"linear half_pixel x2", "linear", "half_pixel", NULL, 4, {2, 2}, 0, 0, 1},
        {"Upsample-9 linear x2", "linear", NULL, NULL, 4, {2, 2}, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcase c = {.name = cases[i].desc, .fallback = cases[i].fallback};
        const int r = cases[i].rank;
        int64_t xd[5] = {rnd(1, 2), rnd(1, 16)}, four = r, sizes[5];
        float sc[5] = {1, 1};
        for (int a = 2; a < r; a++) {
            xd[a] = rnd(2, r == 5 ? 5 : 12);
            sc[a] = cases[i].f[a - 2];
            if (sc[a] < 1) xd[a] = 2 * rnd(2, 6); /* an even size: 0.5 halves it */
        }
        for (int a = 0; a < r; a++) sizes[a] = (int64_t)((double)xd[a] * sc[a]);
        c.g = tu_new_graph(cases[i].upsample ? 9 : 13);
        int x = tu_add_input(c.g, "x", DK_F32, r, xd, -1, 1);
        int sv = cases[i].sizes ? -1 : tu_add_value(c.g, "scales", DK_VALUE_CONSTANT, DK_F32, 1, &four, 1, 1);
        if (sv >= 0) memcpy(c.g->values[sv].t.data, sc, sizeof(float) * (size_t)r);
        int zv = -1;
        if (cases[i].sizes) {
            zv = tu_add_value(c.g, "sizes", DK_VALUE_CONSTANT, DK_I64, 1, &four, 1, 1);
            memcpy(c.g->values[zv].t.data, sizes, sizeof(int64_t) * (size_t)r);
        }
        if (cases[i].upsample) {
            int ins[2] = {x, sv};
            c.node = tu_add_node(c.g, DK_OP_UPSAMPLE, ins, 2, 1);
        } else {
            int ins[4] = {x, -1, sv, zv};
            c.node = tu_add_node(c.g, DK_OP_RESIZE, ins, cases[i].sizes ? 4 : 3, 1);
            tu_attr_string(c.g, c.node, "coordinate_transformation_mode", cases[i].coord);
            if (cases[i].round) tu_attr_string(c.g, c.node, "nearest_mode", cases[i].round);
        }
        tu_attr_string(c.g, c.node, "mode", cases[i].mode);
        char shape[64];
        printf("  %-50s x %s\n", cases[i].desc, dk_shape_str(r, xd, shape, sizeof shape));
        check_case(&c);
    }
}

static void test_fallbacks(void **state)
{
    (void)state;
    {
        tcase c = {.name = "Transpose", .fallback = 1};
        c.g = tu_new_graph(13);
        int64_t xd[3] = {rnd(1, 5), rnd(1, 5), rnd(1, 5)}, perm[3] = {2, 0, 1};
        int x = tu_add_input(c.g, "x", DK_F32, 3, xd, -1, 1);
        c.node = tu_add_node(c.g, DK_OP_TRANSPOSE, &x, 1, 1);
        tu_attr_ints(c.g, c.node, "perm", 3, perm);
        check_case(&c);
    }
    {
        tcase c = {.name = "Add int32", .fallback = 1};
        c.g = tu_new_graph(14);
        int64_t xd[2] = {rnd(1, 5), rnd(1, 5)};
        int ins[2] = {tu_add_input(c.g, "a", DK_I32, 2, xd, -100, 100),
                      tu_add_input(c.g, "b", DK_I32, 2, xd, -100, 100)};
        c.node = tu_add_node(c.g, DK_OP_ADD, ins, 2, 1);
        check_case(&c);
    }
}

/* ---- opt=3: layouts chosen by timing -------------------------------------------------------- */

/* One node of a small test network: its output is named after it; m, c, k
 * give a Conv's output and input channels and its square kernel (3x3 padded
 * by 1); pool is a MaxPool/AveragePool's window (stride 2 when s2). */
typedef struct net_node {
    const char *name;
    dk_op op;
    const char *in[2];
    int64_t m, c, k;
    int s2;
} net_node;

/* The network of `count` nodes on x [1,3,H,H], output "out", at opt=3. */
static dk_graph *net_graph(const net_node *nodes, int count, int64_t H)
{
    dk_graph *g = tu_new_graph(13);
    int x = tu_add_input(g, "x", DK_F32, 4, (int64_t[]){1, 3, H, H}, -1, 1);
    g->inputs = malloc(sizeof(int));
    assert_non_null(g->inputs);
    g->inputs[g->n_inputs++] = x;
    for (int i = 0; i < count; i++) {
        const int conv = nodes[i].op == DK_OP_CONV;
        const int pool = nodes[i].op == DK_OP_MAXPOOL || nodes[i].op == DK_OP_AVGPOOL;
        int ins[3], n_in = 0, k;
        ins[n_in++] = dk_graph_find_value(g, nodes[i].in[0]);
        if (nodes[i].in[1]) ins[n_in++] = dk_graph_find_value(g, nodes[i].in[1]);
        if (conv) {
            char name[32];
            const double r = 1 / sqrt((double)(nodes[i].c * nodes[i].k * nodes[i].k));
            snprintf(name, sizeof name, "%s.w", nodes[i].name);
            ins[n_in++] = tu_add_value(g, name, DK_VALUE_CONSTANT, DK_F32, 4,
                                       (int64_t[]){nodes[i].m, nodes[i].c, nodes[i].k, nodes[i].k}, -r, r);
            snprintf(name, sizeof name, "%s.b", nodes[i].name);
            ins[n_in++] = tu_add_value(g, name, DK_VALUE_CONSTANT, DK_F32, 1, &nodes[i].m, -0.5, 0.5);
        }
        assert_int_equal(dk_graph_add_node(g, nodes[i].name, nodes[i].op, n_in, 1, &k), DK_OK);
        memcpy(g->nodes[k].inputs, ins, sizeof(int) * (size_t)n_in);
        assert_int_equal(dk_graph_add_value(g, nodes[i].name, DK_VALUE_ACTIVATION, &g->nodes[k].outputs[0]), DK_OK);
        g->values[g->nodes[k].outputs[0]].producer = k;
        if (conv && nodes[i].k == 3) tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
        if (nodes[i].op == DK_OP_CONCAT) tu_attr_int(g, k, "axis", 1);
        if (pool) {
            const int64_t st = nodes[i].s2 ? 2 : 1, pad = nodes[i].s2 ? 0 : 1;
            tu_attr_ints(g, k, "kernel_shape", 2, (int64_t[]){3, 3});
            tu_attr_ints(g, k, "strides", 2, (int64_t[]){st, st});
            tu_attr_ints(g, k, "pads", 4, (int64_t[]){pad, pad, pad, pad});
        }
    }
    g->outputs = malloc(sizeof(int));
    assert_non_null(g->outputs);
    g->outputs[g->n_outputs++] = dk_graph_find_value(g, "out");
    if (dk_graph_finalize(g) != DK_OK) fail_msg("test network: %s", dk_last_error());
    assert_int_equal(dk_graph_optimize(g, 3, NULL), DK_OK);
    return g;
}

/* A squeeze-and-excitation block as EfficientNet, MnasNet and RegNetY have it:
 * x [1,3,8,8] -> Conv 3x3 + Relu -> a [1,C,8,8]; a -> GlobalAveragePool ->
 * 1x1 Conv (C->R) -> Relu -> 1x1 Conv (R->C) -> Sigmoid -> Mul with a -> 1x1
 * Conv (C->C) -> y. */
static dk_graph *se_graph(int64_t C, int64_t R)
{
    const net_node nodes[] = {
        {"conv", DK_OP_CONV, {"x", NULL}, C, 3, 3, 0},
        {"relu", DK_OP_RELU, {"conv", NULL}, 0, 0, 0, 0},
        {"gap", DK_OP_GLOBALAVGPOOL, {"relu", NULL}, 0, 0, 0, 0},
        {"fc1", DK_OP_CONV, {"gap", NULL}, R, C, 1, 0},
        {"relu1", DK_OP_RELU, {"fc1", NULL}, 0, 0, 0, 0},
        {"fc2", DK_OP_CONV, {"relu1", NULL}, C, R, 1, 0},
        {"sigmoid", DK_OP_SIGMOID, {"fc2", NULL}, 0, 0, 0, 0},
        {"mul", DK_OP_MUL, {"relu", "sigmoid"}, 0, 0, 0, 0},
        {"out", DK_OP_CONV, {"mul", NULL}, C, C, 1, 0},
    };
    return net_graph(nodes, (int)(sizeof nodes / sizeof nodes[0]), 8);
}

/* Fire modules as SqueezeNet and GoogLeNet have them, each a squeeze Conv,
 * expand Convs of different kernels and their channel Concat, then pooling.
 * cat1's channels (32 + 16) are whole blocks of 16 and it is read only by
 * catn (48 + 16), so opt=3 builds both in place: the expand Convs write
 * straight into catn's buffer, cat1 moved there with its parts. cat2's (24 +
 * 8) are not whole blocks: oneDNN's concat joins them. cat3 reads one value
 * twice: copies. MaxPool, AveragePool and GlobalAveragePool read their native
 * inputs and keep their outputs native. */
static dk_graph *fire_graph(void)
{
    const net_node nodes[] = {
        {"stem", DK_OP_CONV, {"x", NULL}, 16, 3, 3, 0},
        {"sq1", DK_OP_CONV, {"stem", NULL}, 16, 16, 1, 0},
        {"e1a", DK_OP_CONV, {"sq1", NULL}, 32, 16, 1, 0},
        {"e1b", DK_OP_CONV, {"sq1", NULL}, 16, 16, 3, 0},
        {"cat1", DK_OP_CONCAT, {"e1a", "e1b"}, 0, 0, 0, 0},
        {"e1c", DK_OP_CONV, {"sq1", NULL}, 16, 16, 3, 0},
        {"catn", DK_OP_CONCAT, {"cat1", "e1c"}, 0, 0, 0, 0},
        {"pool1", DK_OP_MAXPOOL, {"catn", NULL}, 0, 0, 0, 1},
        {"e2a", DK_OP_CONV, {"pool1", NULL}, 24, 64, 1, 0},
        {"e2b", DK_OP_CONV, {"pool1", NULL}, 8, 64, 3, 0},
        {"cat2", DK_OP_CONCAT, {"e2a", "e2b"}, 0, 0, 0, 0},
        {"pool2", DK_OP_AVGPOOL, {"cat2", NULL}, 0, 0, 0, 0},
        {"top", DK_OP_CONV, {"pool2", NULL}, 16, 32, 1, 0},
        {"cat3", DK_OP_CONCAT, {"top", "top"}, 0, 0, 0, 0},
        {"gap", DK_OP_GLOBALAVGPOOL, {"cat3", NULL}, 0, 0, 0, 0},
        {"out", DK_OP_CONV, {"gap", NULL}, 16, 32, 1, 0},
    };
    return net_graph(nodes, (int)(sizeof nodes / sizeof nodes[0]), 13);
}

/* opt=3 plans each convolution with every layout candidate, times them, and
 * plans the fastest again. The fastest may write NCHW (oneDNN's NHWC of a
 * 1x1 image is NCHW; a gemm convolution on NCHW) after a slower candidate
 * kept its output in a blocked layout: nothing of that candidate may remain
 * for the consumers or the session to read; and Concats and poolings of
 * native values write native outputs of their own. Which candidate wins
 * depends on the timing, so every case runs in several sessions; the values
 * are poisoned with NaN (host tensors and the backend's own copies) before
 * each run and every node output is compared with the reference's. The nodes
 * run on their own inputs, so their errors add up along the network:
 * relative L2 within OPT3_REL_L2 (float32 roundings give ~1e-7; a stale,
 * misplaced or unwritten buffer gives O(1) or NaN). */
#define OPT3_REL_L2 1e-5

/* A reference session of g, run on x. */
static dk_session *reference_run(dk_graph *g, const dk_tensor *x)
{
    dk_variant var;
    dk_session *s;
    assert_int_equal(dk_variant_parse("ref", &var), DK_OK);
    assert_int_equal(dk_session_create(g, &var, &s), DK_OK);
    assert_int_equal(dk_session_run(s, x, 1), DK_OK);
    return s;
}

/* Relative L2 error of got against want (same element count). */
static double rel_l2(const dk_tensor *got, const dk_tensor *want)
{
    double err = 0, norm = 0;
    for (int64_t i = 0; i < dk_tensor_numel(want); i++) {
        double a = dk_tensor_get(got, i), b = dk_tensor_get(want, i);
        err += (a - b) * (a - b);
        norm += b * b;
    }
    return sqrt(err / fmax(norm, 1e-300));
}

static void check_graph_on(dk_graph *g, const char *label, const char *const *texts, size_t n_texts)
{
    enum { SESSIONS = 4 };
    dk_tensor x = {0}, nan_t[64] = {{0}};
    assert_true(g->n_values <= 64);
    assert_int_equal(dk_tensor_copy(&x, &g->values[g->inputs[0]].t), DK_OK);
    dk_session *ref_s = reference_run(g, &x);
    dk_variant var;
    for (int v = 0; v < g->n_values; v++) {
        const dk_tensor *t = &g->values[v].t;
        if (g->values[v].kind != DK_VALUE_ACTIVATION || g->values[v].producer < 0) continue;
        assert_int_equal(dk_tensor_alloc(&nan_t[v], t->dtype, t->ndim, t->dims), DK_OK);
        for (int64_t i = 0; i < dk_tensor_numel(t); i++) dk_tensor_set(&nan_t[v], i, NAN);
    }
    for (size_t ti = 0; ti < n_texts; ti++) {
        assert_int_equal(dk_variant_parse(texts[ti], &var), DK_OK);
        double largest = 0;
        for (int rep = 0; rep < SESSIONS; rep++) {
            dk_session *s;
            if (dk_session_create(g, &var, &s) != DK_OK) fail_msg("%s: %s", texts[ti], dk_last_error());
            for (int v = 0; v < g->n_values; v++)
                if (nan_t[v].data) assert_int_equal(dk_session_set_value(s, v, &nan_t[v]), DK_OK);
            if (dk_session_run(s, &x, 1) != DK_OK) fail_msg("%s: %s", texts[ti], dk_last_error());
            for (int k = 0; k < g->n_nodes; k++) {
                const dk_node *n = &g->nodes[k];
                const dk_tensor *want = dk_session_value(ref_s, n->outputs[0]);
                const dk_tensor *got = dk_session_value(s, n->outputs[0]);
                assert_non_null(want);
                assert_non_null(got);
                const double rel = rel_l2(got, want);
                if (!(rel <= OPT3_REL_L2))
                    fail_msg("%s on %s, graph at opt=3 (session %d): node '%s' (%s) has relative L2 "
                             "error %.3g against the reference (bound %g)",
                             label, texts[ti], rep + 1, n->name, dk_op_name(n->op), rel, OPT3_REL_L2);
                if (rel > largest) largest = rel;
            }
            dk_session_destroy(s);
        }
        printf("  %s on %s, graph at opt=3, %d sessions: largest relative L2 error %.3g\n", label,
               texts[ti], SESSIONS, largest);
    }
    for (int v = 0; v < 64; v++) dk_tensor_reset(&nan_t[v]);
    dk_tensor_reset(&x);
    dk_session_destroy(ref_s);
}

static void check_opt3_graph(dk_graph *g, const char *label)
{
    static const char *const texts[] = {"onednn", "onednn:algo=direct"};
    check_graph_on(g, label, texts, sizeof texts / sizeof texts[0]);
}

static void test_opt3_layout_choice(void **state)
{
    (void)state;
    static const int64_t shapes[][2] = {{20, 8}, {32, 8}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        char label[64];
        snprintf(label, sizeof label, "SE block C=%lld R=%lld", (long long)shapes[si][0],
                 (long long)shapes[si][1]);
        dk_graph *g = se_graph(shapes[si][0], shapes[si][1]);
        check_opt3_graph(g, label);
        dk_graph_destroy(g);
    }
    dk_graph *g = fire_graph();
    check_opt3_graph(g, "fire modules");
    dk_graph_destroy(g);
}

/* Residual blocks as ResNet has them (Conv -> Add of the block's input ->
 * Relu) and as MobileNetV2 has them (no Relu): each fused into one Conv with
 * a sum at opt=3. The residual is read by a binary add post-op where oneDNN
 * gives that the sum's kernel (kernels/onednn/onednn_conv.c), else copied
 * into the destination for the sum post-op: either way every value of every
 * layout, poisoned before each run, matches the reference's. With
 * AVX-512's direct kernels and oneDNN's gemm convolution (where the read was
 * measured) the blocked and plain layouts must take the read (its Winograd
 * kernel has no binary post-op: the sum stays). */
static void test_residual_read(void **state)
{
    (void)state;
    const net_node nodes[] = {
        {"stem", DK_OP_CONV, {"x", NULL}, 32, 3, 3, 0},
        {"r0", DK_OP_RELU, {"stem", NULL}, 0, 0, 0, 0},
        {"a", DK_OP_CONV, {"r0", NULL}, 16, 32, 1, 0},
        {"ra", DK_OP_RELU, {"a", NULL}, 0, 0, 0, 0},
        {"b", DK_OP_CONV, {"ra", NULL}, 32, 16, 3, 0},
        {"sum1", DK_OP_ADD, {"b", "r0"}, 0, 0, 0, 0},
        {"r1", DK_OP_RELU, {"sum1", NULL}, 0, 0, 0, 0},
        {"c", DK_OP_CONV, {"r1", NULL}, 32, 32, 1, 0},
        {"sum2", DK_OP_ADD, {"c", "r1"}, 0, 0, 0, 0},
        {"out", DK_OP_CONV, {"sum2", NULL}, 16, 32, 1, 0},
    };
    dk_graph *g = net_graph(nodes, (int)(sizeof nodes / sizeof nodes[0]), 14);
    int sums = 0; /* the fusion pass made two */
    for (int k = 0; k < g->n_nodes; k++) sums += g->nodes[k].op == DK_OP_CONV && g->nodes[k].post.has_sum;
    assert_int_equal(sums, 2);
    static const char *const texts[] = {"onednn:layout=nchw16c", "onednn:layout=plain", "onednn:layout=blocked"};
    check_graph_on(g, "residual blocks", texts, sizeof texts / sizeof texts[0]);
    for (size_t ti = 0; ti < 2; ti++) {
        dk_variant var;
        void *ctx = NULL, *plans[32] = {0};
        assert_true(g->n_nodes <= 32);
        assert_int_equal(dk_variant_parse(texts[ti], &var), DK_OK);
        assert_int_equal(dk__backend_open(onednn, &var, &ctx), DK_OK);
        int read = 0, avx512 = 0; /* sums read; sums on kernels known to read */
        for (int k = 0; k < g->n_nodes; k++) {
            assert_int_equal(dk__backend_plan(onednn, ctx, g, k, &plans[k]), DK_OK);
            const dk_onednn_plan_info *p = plans[k];
            if (!p || !g->nodes[k].post.has_sum) continue;
            printf("  %s, %s: %s\n", texts[ti], g->nodes[k].name, p->note);
            read += strstr(p->note, "the residual read by a binary add") != NULL;
            avx512 += strstr(p->note, "avx512_core, direct,") != NULL || !strncmp(p->note, "x64:gemm:jit,", 13);
        }
        if (avx512 == sums) assert_int_equal(read, sums);
        else printf("  %s: oneDNN's kernels here are neither AVX-512's nor its gemm; the read is not required\n",
                    texts[ti]);
        for (int k = 0; k < g->n_nodes; k++) dk__backend_plan_destroy(onednn, ctx, plans[k]);
        dk__backend_close(onednn, ctx);
    }
    dk_graph_destroy(g);
}

/* A Concat planned again in one context: its buffer is freed and made anew,
 * and the values lying in it in place (its inputs, an inner Concat's inputs)
 * must get buffers of their own, not stay in freed memory (the sanitizer
 * build reads it). Every node of fire_graph planned in order, then catn
 * again (cat1 and its inputs lay in its buffer), then the network run node by
 * node on these plans: its output matches the reference's. */
static void test_concat_planned_again(void **state)
{
    (void)state;
    dk_graph *g = fire_graph();
    enum { MAXN = 32, MAXV = 64 };
    assert_true(g->n_nodes <= MAXN && g->n_values <= MAXV);
    dk_tensor x = {0}, vals[MAXV] = {{0}};
    assert_int_equal(dk_tensor_copy(&x, &g->values[g->inputs[0]].t), DK_OK);
    dk_session *ref_s = reference_run(g, &x);
    dk_variant var;
    assert_int_equal(dk_variant_parse("onednn", &var), DK_OK);
    void *ctx = NULL, *plans[MAXN] = {0};
    assert_int_equal(dk__backend_open(onednn, &var, &ctx), DK_OK);
    for (int k = 0; k < g->n_nodes; k++) assert_int_equal(dk__backend_plan(onednn, ctx, g, k, &plans[k]), DK_OK);
    for (int k = 0; k < g->n_nodes; k++)
        if (!strcmp(g->nodes[k].name, "catn")) {
            dk__backend_plan_destroy(onednn, ctx, plans[k]);
            plans[k] = NULL;
            assert_int_equal(dk__backend_plan(onednn, ctx, g, k, &plans[k]), DK_OK);
        }
    for (int v = 0; v < g->n_values; v++) {
        const dk_tensor *t = &g->values[v].t;
        if (g->values[v].kind == DK_VALUE_ACTIVATION)
            assert_int_equal(dk_tensor_alloc(&vals[v], t->dtype, t->ndim, t->dims), DK_OK);
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        const dk_tensor *in[4] = {0};
        dk_tensor *out[1] = {&vals[n->outputs[0]]};
        for (int i = 0; i < n->n_inputs && i < 4; i++)
            in[i] = g->values[n->inputs[i]].kind == DK_VALUE_ACTIVATION ? &vals[n->inputs[i]]
                    : n->inputs[i] == g->inputs[0]                      ? &x
                                                                        : &g->values[n->inputs[i]].t;
        if (dk__backend_execute(onednn, ctx, plans[k], g, n, in, out) != DK_OK)
            fail_msg("node '%s': %s", n->name, dk_last_error());
    }
    const int y = g->outputs[0];
    assert_int_equal(dk__backend_to_canonical(onednn, ctx, g, y, &vals[y]), DK_OK);
    const double rel = rel_l2(&vals[y], dk_session_output(ref_s, 0));
    printf("  fire modules, catn planned again: relative L2 error %.3g\n", rel);
    assert_true(rel <= OPT3_REL_L2);
    for (int k = 0; k < g->n_nodes; k++) dk__backend_plan_destroy(onednn, ctx, plans[k]);
    dk__backend_close(onednn, ctx);
    for (int v = 0; v < MAXV; v++) dk_tensor_reset(&vals[v]);
    dk_tensor_reset(&x);
    dk_session_destroy(ref_s);
    dk_graph_destroy(g);
}

/* ---- options, version and the process-wide ISA -------------------------------------------------------- */

static void test_version_and_probe(void **state)
{
    (void)state;
    char reason[256] = "";
    assert_int_equal(dk_backend_probe(onednn, reason, sizeof reason), DK_OK);
    const char *v = dk_backend_version(onednn);
    printf("  onednn version: %s\n", v);
    if (!strstr(v, "2.") || !strstr(v, "runtime")) fail_msg("version '%s' lacks the library version", v);
    dk_variant var;
    tu_assert_status(dk_variant_parse("onednn:layout=nchw", &var), DK_ERR_INVALID, "blocked|nchw16c|plain");
    tu_assert_status(dk_variant_parse("onednn:fuse=yes", &var), DK_ERR_INVALID, "on|off");
    tu_assert_status(dk_variant_parse("onednn:fuse=off", &var), DK_OK, NULL);
}

/* In a fresh process (this binary re-run with --isa-child ISA): the ISA
 * limit applies, the convolution is still right, the version names it. */
static int isa_child(const char *isa)
{
    /* isa=all: what the version says before a session fixes the ISA (the
     * CPU's, detected by deltakern) is what oneDNN then dispatches to (an
     * AMX CPU said avx512_core_bf16 before) */
    char detected[64] = "";
    const char *before = strstr(dk_backend_version(onednn), "CPU up to ");
    if (before) snprintf(detected, sizeof detected, "%s", before + strlen("CPU up to "));
    char text[64];
    snprintf(text, sizeof text, "onednn:isa=%s", isa);
    dk_variant v;
    void *ctx = NULL;
    if (dk_variant_parse(text, &v) != DK_OK || onednn->open(&v, &ctx) != DK_OK) {
        fprintf(stderr, "isa child: %s\n", dk_last_error());
        return 1;
    }
    const char *ver = dk_backend_version(onednn);
    onednn->close(ctx);
    printf("  %s: version says '%s'\n", text, ver);
    char want[sizeof detected + 32];
    snprintf(want, sizeof want, "dispatching up to %s", strcmp(isa, "all") ? isa : detected);
    printf("  before the session: CPU up to '%s'\n", detected);
    if (!detected[0] || !strstr(ver, want)) return 1;
    make_variants();
    snprintf(variants[0].text, sizeof variants[0].text, "%s", text);
    snprintf(variants[1].text, sizeof variants[1].text, "%s,layout=plain", text);
    n_variants = 2;
    conv_spec s = {"isa-limited 3x3", 2, 1, 32, 32, 1, {12, 12}, {3, 3}, .pb = {1, 1},
                   .pe = {1, 1}, .bias = 1};
    run_conv(&s);
    return 0;
}

static const char *child_isa;

static void test_isa_child(void **state)
{
    (void)state;
    if (isa_child(child_isa) != 0) fail_msg("isa=%s: the limit did not take effect", child_isa);
}

static void test_isa(void **state)
{
    (void)state;
    char self[4096], cmd[4200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(len > 0);
    self[len] = '\0';
    snprintf(cmd, sizeof cmd, "'%s' --isa-child avx2", self);
    if (system(cmd) != 0) fail_msg("the isa=avx2 child process failed");
    snprintf(cmd, sizeof cmd, "'%s' --isa-child all", self);
    if (system(cmd) != 0) fail_msg("the isa=all child process failed");
    /* in this process the ISA is fixed by the first session (isa=all) */
    dk_variant v;
    void *ctx = NULL;
    assert_int_equal(dk_variant_parse("onednn", &v), DK_OK);
    assert_int_equal(onednn->open(&v, &ctx), DK_OK);
    onednn->close(ctx);
    assert_int_equal(dk_variant_parse("onednn:isa=avx2", &v), DK_OK);
    tu_assert_status(onednn->open(&v, &ctx), DK_ERR_UNSUPPORTED, "once per process");
}

static int print_worst(void **state)
{
    (void)state;
    printf("largest error per op, as a fraction of its bound:\n");
    for (int i = 0; i < n_worsts; i++)
        printf("  %-20s %-9s %.3g\n", dk_op_name(worsts[i].op),
               worsts[i].kind == 1 ? "bf16" : worsts[i].kind == 2 ? "winograd" : "fp32",
               worsts[i].ratio);
    return 0;
}

int main(int argc, char **argv)
{
    /* opt=3 times its candidates afresh in every session here (no remembered
     * choices): the SE-block test relies on the choosing itself */
    setenv("DK_ONEDNN_CHOICES", "fresh", 1);
    onednn = dk_backend_find("onednn");
    ref = dk_backend_find("ref");
    char reason[256] = "";
    if (!onednn || !ref || dk_backend_probe(onednn, reason, sizeof reason) != DK_OK) {
        printf("SKIP: onednn backend unavailable: %s\n", reason);
        return 77;
    }
    tu_init("test_onednn");
    if (argc == 3 && !strcmp(argv[1], "--isa-child")) {
        child_isa = argv[2];
        const struct CMUnitTest child[] = {cmocka_unit_test(test_isa_child)};
        return cmocka_run_group_tests(child, NULL, NULL);
    }
    make_variants();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_probe),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_global_pool),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_eltwise),
        cmocka_unit_test(test_pow),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_lrn),
        cmocka_unit_test(test_layernorm),
        cmocka_unit_test(test_instancenorm),
        cmocka_unit_test(test_prelu),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_reducemean),
        cmocka_unit_test(test_convtranspose),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_opt3_layout_choice),
        cmocka_unit_test(test_concat_planned_again),
        cmocka_unit_test(test_residual_read),
        cmocka_unit_test(test_isa),
    };
    return cmocka_run_group_tests(tests, NULL, print_worst);
}
