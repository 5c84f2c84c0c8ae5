/* Unit tests for the OpenBLAS backend (kernels/openblas/): every convolution
 * geometry class, Gemm and MatMul shapes and the float reductions, on random
 * inputs (seed printed), run through the backend interface on outputs
 * poisoned with NaN, against the reference backend run the same way. Each
 * case runs on several variants: conv=auto and conv=im2col (which take the
 * direct-GEMM, depthwise-loop and im2col paths), conv=winograd (3x3 stride-1
 * undilated one-group 2-D cases through Winograd F(2x2, 3x3)), and 1 or 2
 * threads (serial groups and groups spread over threads). Skips (exit 77) when this build
 * has no OpenBLAS.
 *
 * Two checks per float output:
 * 1. The tolerance table (include/deltakern/tolerance.h, fp32 row): every
 *    element within its worst-case bound gamma_n(u) S (S = the computation on
 *    absolute values). This is the project's criterion.
 * 2. A statistical bound, sharper for long reductions where one wrong tap
 *    could hide inside gamma_K S: relative L2 error against the reference
 *    <= TOL_RELL2 = 1e-5. The reference accumulates in double and rounds
 *    once; OpenBLAS accumulates a length-K dot product in float. For
 *    zero-mean random data (inputs in [-1, 1], the worst realistic case: the
 *    sum cancels while partial sums grow like sqrt(k)), the rounding errors
 *    of a float sum add up like a random walk to about u * sqrt(K / 2) times
 *    the result, u = 2^-24: 3e-6 for K = 5000, the longest reduction here
 *    (blocked and FMA kernels do better: 3e-7 measured for K = 4608). 1e-5
 *    leaves a margin of 3 over that and is still 100x below the error of any
 *    wrong tap, channel or border row (a single wrong element of a
 *    10^5-element output gives ~3e-3). The float reductions reduce at most a
 *    few thousand terms and get the same bound. Softmax is the tightest: its
 *    terms are all positive, so the partial sums grow linearly and the error
 *    of the float sum, about u * sqrt(L) / 3 of it (std. dev.), scales the
 *    whole row by one common factor (measured 5e-6 for L = 5000 on one seed,
 *    hence L <= 2000 here: at most 3e-6 over 100 seeds). Reductions with few
 *    outputs get non-negative inputs: the relative error of a single sum of
 *    zero-mean terms is unbounded (cancellation).
 * Ops delegated to the reference kernels must match bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/backend.h"
#include "deltakern/passes.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "kernels/backend_iface.h"
#include "test_util.h"

#define TOL_RELL2 1e-5
#define MAX_OUT 2

/* Present when the build links OpenBLAS (weak: this file also builds without it). */
extern int openblas_get_num_threads(void) __attribute__((weak));
extern const char *dk__openblas_choose_core(const char *wanted, const char *env, const char *loaded,
                                            int cpu_avx512) __attribute__((weak));

static const char *const variants[] = {
    "openblas", "openblas:conv=im2col", "openblas:threads=1", "openblas:conv=im2col,threads=1",
    "openblas:conv=winograd", "openblas:conv=winograd,threads=1",
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static double worst_rel_l2, worst_ratio; /* over every compared case, printed at the end */

/* ---- running one node on a backend ---------------------------------------- */

static void set_threads(int threads)
{
#ifdef _OPENMP
    /* what the session does with the common `threads` option */
    omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
#else
    (void)threads;
#endif
}

/* Runs node k of g on the variant through the backend interface: open, plan,
 * execute on NaN-poisoned outputs ys[0..n_out), close. The variant's thread
 * count is set on the OpenMP pool as the session does, and reset afterwards
 * unless keep_threads. */
static dk_status run_variant_with(const char *text, const dk_graph *g, int k, dk_tensor *ys,
                                  int n_out, int keep_threads)
{
    dk_variant v;
    if (dk_variant_parse(text, &v) != DK_OK) fail_msg("%s", dk_last_error());
    const dk_backend_iface *b = v.backend;
    set_threads((int)dk_variant_get_int(&v, "threads", 0));
    void *ctx = NULL, *plan = NULL;
    const dk_node *n = &g->nodes[k];
    if (b->open) assert_int_equal(b->open(&v, &ctx), DK_OK);
    if (b->supports && !b->supports(ctx, g, n))
        fail_msg("%s does not support %s", text, dk_op_name(n->op));
    dk_status st = b->plan ? b->plan(ctx, g, k, &plan) : DK_OK;
    const dk_tensor *in[8] = {0};
    dk_tensor *outs[MAX_OUT] = {0};
    for (int i = 0; i < n->n_inputs; i++)
        in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
    tu_alloc_poisoned(g, k, ys, n_out, outs);
    if (st == DK_OK) st = b->execute(ctx, plan, g, n, in, outs);
    if (plan && b->plan_destroy) b->plan_destroy(ctx, plan);
    if (b->close) b->close(ctx);
    if (!keep_threads) set_threads(0);
    return st;
}

static dk_status run_variant(const char *text, const dk_graph *g, int k, dk_tensor *ys, int n_out)
{
    return run_variant_with(text, g, k, ys, n_out, 0);
}

#ifdef _OPENMP
static dk_status run_variant_keep_threads(const char *text, const dk_graph *g, int k,
                                          dk_tensor *ys, int n_out)
{
    return run_variant_with(text, g, k, ys, n_out, 1);
}
#endif

/* Relative L2 error of got against ref; a NaN where ref has a number (an
 * output left poisoned) counts as infinite. */
static double rel_l2(const dk_tensor *got, const dk_tensor *ref)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < dk_tensor_numel(ref); i++) {
        double r = dk_tensor_get(ref, i), y = dk_tensor_get(got, i);
        if (isnan(r)) {
            if (!isnan(y)) return INFINITY;
            continue;
        }
        if (!isfinite(y)) return INFINITY;
        num += (y - r) * (y - r);
        den += r * r;
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Runs node k on ref and on every variant; checks each output within tol
 * (relative L2) or, with tol < 0, bit for bit. */
static void compare_node(const char *what, dk_graph *g, int k, int n_out, double tol)
{
    dk_tensor want[MAX_OUT] = {{0}};
    if (run_variant("ref", g, k, want, n_out) != DK_OK)
        fail_msg("%s: ref failed: %s", what, dk_last_error());
    for (size_t v = 0; v < N_VARIANTS; v++) {
        dk_tensor got[MAX_OUT] = {{0}};
        if (run_variant(variants[v], g, k, got, n_out) != DK_OK)
            fail_msg("%s on %s: %s", what, variants[v], dk_last_error());
        for (int o = 0; o < n_out; o++) {
            if (tol < 0) {
                if (memcmp(got[o].data, want[o].data, dk_tensor_nbytes(&want[o])) != 0)
                    fail_msg("%s on %s: output %d differs from ref (must be identical)", what,
                             variants[v], o);
                continue;
            }
            const dk_node *n = &g->nodes[k];
            const dk_tensor *in[8] = {0};
            for (int i = 0; i < n->n_inputs && i < 8; i++)
                in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
            dk_tol_result res;
            if (dk_tolerance_check(g, n, DK_PREC_FP32, in, &want[o], &got[o], &res) != DK_OK)
                fail_msg("%s: tolerance check: %s", what, dk_last_error());
            if (res.verdict != DK_VERDICT_PASSED)
                fail_msg("%s on %s: %s against the tolerance table: %s", what, variants[v],
                         dk_verdict_name(res.verdict), res.explain);
            if (res.worst_ratio > worst_ratio) worst_ratio = res.worst_ratio;
            double e = rel_l2(&got[o], &want[o]);
            if (e > worst_rel_l2) worst_rel_l2 = e;
            if (!(e <= tol))
                fail_msg("%s on %s: relative L2 error %.3g > %.0e", what, variants[v], e, tol);
            if (v == 0)
                printf("  %-58s rel L2 %.2e, %.2g of the table's bound\n", what, e,
                       res.worst_ratio);
        }
        for (int o = 0; o < n_out; o++) dk_tensor_reset(&got[o]);
    }
    for (int o = 0; o < n_out; o++) dk_tensor_reset(&want[o]);
}

/* ---- Conv ------------------------------------------------------------------ */

typedef struct conv_case {
    const char *name;
    int ns;                                /* spatial dims */
    int64_t batch, c, m, group;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
    int bias;
    int w_is_input;                        /* weights fed as a graph input */
} conv_case;

static void run_conv(const conv_case *cc)
{
    dk_graph *g = tu_new_graph(13);
    int64_t xd[5] = {cc->batch, cc->c}, wd[5] = {cc->m, cc->c / cc->group}, bd[1] = {cc->m};
    for (int i = 0; i < cc->ns; i++) {
        xd[2 + i] = cc->in[i];
        wd[2 + i] = cc->k[i];
    }
    int ins[3] = {tu_add_input(g, "x", DK_F32, cc->ns + 2, xd, -1, 1),
                  tu_add_value(g, "w", cc->w_is_input ? DK_VALUE_INPUT : DK_VALUE_CONSTANT,
                               DK_F32, cc->ns + 2, wd, -1, 1),
                  -1};
    if (cc->bias) ins[2] = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, bd, -1, 1);
    int k = tu_add_node(g, DK_OP_CONV, ins, cc->bias ? 3 : 2, 1);
    int64_t kernel[3], strides[3], dil[3], pads[6];
    for (int i = 0; i < cc->ns; i++) {
        kernel[i] = cc->k[i];
        strides[i] = cc->s[i] ? cc->s[i] : 1;
        dil[i] = cc->d[i] ? cc->d[i] : 1;
        pads[i] = cc->pb[i];
        pads[cc->ns + i] = cc->pe[i];
    }
    tu_attr_ints(g, k, "kernel_shape", cc->ns, kernel);
    tu_attr_ints(g, k, "strides", cc->ns, strides);
    tu_attr_ints(g, k, "dilations", cc->ns, dil);
    tu_attr_ints(g, k, "pads", 2 * cc->ns, pads);
    if (cc->group != 1) tu_attr_int(g, k, "group", cc->group);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s: %s", cc->name, dk_last_error());
    char what[160], shape[64];
    const dk_tensor *y = tu_output(g, k, 0);
    snprintf(what, sizeof what, "Conv %s -> %s (K=%lld)", cc->name,
             dk_shape_str(y->ndim, y->dims, shape, sizeof shape),
             (long long)(cc->c / cc->group * cc->k[0] * (cc->ns > 1 ? cc->k[1] : 1) *
                         (cc->ns > 2 ? cc->k[2] : 1)));
    compare_node(what, g, k, 1, TOL_RELL2);
    dk_graph_destroy(g);
}

/* A random size in [lo, hi]. */
static int64_t rnd(int64_t lo, int64_t hi) { return tu_rng_int(lo, hi); }

static void test_conv_geometries(void **state)
{
    (void)state;
    int64_t c = rnd(3, 24), m = rnd(4, 24), h = rnd(9, 20), w = rnd(9, 20);
    const conv_case cases[] = {
        {"1x1", 2, 1, c, m, 1, {h, w}, {1, 1}, {0}, {0}, {0}, {0}, 1, 0},
        {"1x1 no bias, batch 2", 2, 2, c, m, 1, {h, w}, {1, 1}, {0}, {0}, {0}, {0}, 0, 0},
        {"1x1 stride 2", 2, 1, c, m, 1, {h, w}, {1, 1}, {2, 2}, {0}, {0}, {0}, 1, 0},
        {"1x1 padded", 2, 1, c, m, 1, {h, w}, {1, 1}, {0}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"3x3 pad 1", 2, 1, c, m, 1, {h, w}, {3, 3}, {0}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"3x3 pad 1, batch 3", 2, 3, c, m, 1, {h, w}, {3, 3}, {0}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"3x3 stride 2", 2, 1, c, m, 1, {h, w}, {3, 3}, {2, 2}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"7x7 stride 2 pad 3 (stem)", 2, 1, 3, m, 1, {2 * h, 2 * w}, {7, 7}, {2, 2}, {0},
         {3, 3}, {3, 3}, 1, 0},
        {"5x5 stride 3x2", 2, 1, c, m, 1, {h, w}, {5, 5}, {3, 2}, {0}, {2, 1}, {2, 1}, 0, 0},
        {"3x3 dilation 2", 2, 1, c, m, 1, {h, w}, {3, 3}, {0}, {2, 2}, {2, 2}, {2, 2}, 1, 0},
        {"3x3 dilation 3x2 stride 2", 2, 1, c, m, 1, {h, w}, {3, 3}, {2, 2}, {3, 2}, {1, 0},
         {2, 1}, 1, 0},
        {"3x3 grouped (4)", 2, 1, 4 * rnd(1, 6), 4 * rnd(1, 6), 4, {h, w}, {3, 3}, {0}, {0},
         {1, 1}, {1, 1}, 1, 0},
        {"1x1 grouped (3), batch 2", 2, 2, 3 * rnd(1, 6), 3 * rnd(1, 6), 3, {h, w}, {1, 1},
         {0}, {0}, {0}, {0}, 1, 0},
        {"3x3 depthwise", 2, 1, 16, 16, 16, {h, w}, {3, 3}, {0}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"3x3 depthwise stride 2, batch 2", 2, 2, 12, 12, 12, {h, w}, {3, 3}, {2, 2}, {0},
         {1, 1}, {1, 1}, 1, 0},
        {"5x5 depthwise dilation 2", 2, 1, 8, 8, 8, {h, w}, {5, 5}, {0}, {2, 2}, {4, 4},
         {4, 4}, 0, 0},
        {"3x3 depthwise multiplier 3", 2, 1, 6, 18, 6, {h, w}, {3, 3}, {0}, {0}, {1, 1},
         {1, 1}, 1, 0},
        {"1-D k5 stride 2", 1, 2, c, m, 1, {3 * h}, {5}, {2}, {0}, {2}, {1}, 1, 0},
        {"1-D depthwise", 1, 1, 10, 10, 10, {3 * h}, {3}, {0}, {0}, {1}, {1}, 1, 0},
        {"3-D 3x3x3 pad 1", 3, 1, rnd(2, 6), rnd(2, 8), 1, {6, 7, 8}, {3, 3, 3}, {0}, {0},
         {1, 1, 1}, {1, 1, 1}, 1, 0},
        {"3-D 2x3x1 stride 2x1x2 grouped", 3, 1, 4, 6, 2, {7, 6, 9}, {2, 3, 1}, {2, 1, 2},
         {0}, {0, 1, 0}, {1, 0, 0}, 1, 0},
        {"asymmetric pads 0,2 / 3,1", 2, 1, c, m, 1, {h, w}, {3, 3}, {0}, {0}, {0, 3},
         {2, 1}, 1, 0},
        {"1x7 pad 0,3", 2, 1, c, m, 1, {h, w}, {1, 7}, {0}, {0}, {0, 3}, {0, 3}, 1, 0},
        {"7x1 pad 3,0", 2, 1, c, m, 1, {h, w}, {7, 1}, {0}, {0}, {3, 0}, {3, 0}, 1, 0},
        {"weights as graph input", 2, 1, c, m, 1, {h, w}, {3, 3}, {0}, {0}, {1, 1}, {1, 1}, 1,
         1},
        {"kernel larger than padded input rows", 2, 1, 2, 3, 1, {3, 9}, {3, 3}, {1, 4}, {0},
         {2, 2}, {2, 2}, 1, 0},
        {"3x3 pad 1 on a 1x2 input (one cut Winograd tile)", 2, 2, c, m, 1, {1, 2}, {3, 3},
         {0}, {0}, {1, 1}, {1, 1}, 1, 0},
        {"3x3 unpadded, odd output 7x9", 2, 1, c, m, 1, {9, 11}, {3, 3}, {0}, {0}, {0}, {0},
         1, 0},
        {"3x3 pads 2,0 / 0,2 (output wider than the input)", 2, 1, c, m, 1, {h, w}, {3, 3},
         {0}, {0}, {2, 0}, {0, 2}, 1, 0},
        /* 64+ output rows per thread: the rows split over the threads */
        {"1x1, 160 outputs", 2, 2, c, 160, 1, {h, w}, {1, 1}, {0}, {0}, {0}, {0}, 1, 0},
        {"3x3 stride 2, 136 outputs", 2, 1, c, 136, 1, {h, w}, {3, 3}, {2, 2}, {0}, {1, 1},
         {1, 1}, 0, 0},
        /* a col over 2 MB with few outputs: built and multiplied in chunks of
           output rows (11 rows here, the last chunk partial) */
        {"3x3 stride 1 on 80x80, 48 outputs, batch 2", 2, 2, 16, 48, 1, {80, 80}, {3, 3}, {0},
         {0}, {1, 1}, {1, 1}, 1, 0},
        {"7x7 stride 2 on 200x180 (stem), 24 outputs", 2, 1, 3, 24, 1, {200, 180}, {7, 7},
         {2, 2}, {0}, {3, 3}, {3, 3}, 0, 0},
        {"K=4608 (512 ch 3x3, ResNet layer4)", 2, 1, 512, 32, 1, {7, 7}, {3, 3}, {0}, {0},
         {1, 1}, {1, 1}, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_conv(&cases[i]);
}

/* Conv -> Add(conv, r) -> Relu, Conv -> Add and Conv -> Relu, fused by
 * opt=2's passes into one Conv with post-ops, through every lowering (GEMM,
 * im2col, grouped tasks, depthwise), with and without bias: the GEMM
 * lowerings add their bias in the post-op pass. */
static void test_conv_post_ops(void **state)
{
    (void)state;
    const struct { const char *name; int64_t c, m, group, k, pad, hw; } shapes[] = {
        {"1x1 (GEMM)", 12, 20, 1, 1, 0, 0},
        {"3x3 pad 1 (im2col)", 8, 16, 1, 3, 1, 0},
        {"3x3 grouped (2)", 8, 12, 2, 3, 1, 0},
        {"3x3 depthwise", 10, 10, 10, 3, 1, 0},
        {"1x1, 144 outputs (rows over threads)", 24, 144, 1, 1, 0, 0},
        {"3x3, 130 outputs (rows over threads)", 6, 130, 1, 3, 1, 0},
        {"3x3 on 80x80 (col in chunks)", 16, 48, 1, 3, 1, 80},
    };
    const struct { const char *name; int sum, relu; } posts[] = {
        {"+ sum, Relu", 1, 1}, {"+ sum", 1, 0}, {"Relu", 0, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (size_t pi = 0; pi < sizeof posts / sizeof posts[0]; pi++)
            for (int bias = 0; bias < 2; bias++) {
                const int64_t h = shapes[si].hw ? shapes[si].hw : rnd(5, 17);
                const int64_t w = shapes[si].hw ? shapes[si].hw : rnd(5, 17), m = shapes[si].m;
                const int64_t xd[4] = {2, shapes[si].c, h, w}, yd[4] = {2, m, h, w};
                const int64_t wd[4] = {m, shapes[si].c / shapes[si].group, shapes[si].k,
                                       shapes[si].k};
                dk_graph *g = tu_new_graph(13);
                int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, -1, 1),
                              tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1), -1};
                if (bias) ins[2] = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &m, -1, 1);
                int k = tu_add_node(g, DK_OP_CONV, ins, bias ? 3 : 2, 1);
                const int64_t kernel[2] = {shapes[si].k, shapes[si].k}, one[2] = {1, 1};
                const int64_t pads[4] = {shapes[si].pad, shapes[si].pad, shapes[si].pad,
                                         shapes[si].pad};
                tu_attr_ints(g, k, "kernel_shape", 2, kernel);
                tu_attr_ints(g, k, "strides", 2, one);
                tu_attr_ints(g, k, "pads", 4, pads);
                if (shapes[si].group != 1) tu_attr_int(g, k, "group", shapes[si].group);
                int last = g->nodes[k].outputs[0];
                if (posts[pi].sum) {
                    int add_in[2] = {last, tu_add_input(g, "r", DK_F32, 4, yd, -1, 1)};
                    last = g->nodes[tu_add_node(g, DK_OP_ADD, add_in, 2, 1)].outputs[0];
                }
                if (posts[pi].relu) last = g->nodes[tu_add_node(g, DK_OP_RELU, &last, 1, 1)].outputs[0];
                g->outputs[0] = last; /* only the chain's end: the rest may be fused */
                g->n_outputs = 1;
                if (dk_graph_finalize(g) != DK_OK || dk_graph_optimize(g, 2, NULL) != DK_OK)
                    fail_msg("%s", dk_last_error());
                assert_int_equal(g->n_nodes, 1);
                const dk_node *n = &g->nodes[0];
                assert_int_equal(n->op, DK_OP_CONV);
                assert_int_equal(n->post.has_sum, posts[pi].sum);
                assert_int_equal(n->post.act, posts[pi].relu ? DK_OP_RELU : DK_OP_NONE);
                char what[128];
                snprintf(what, sizeof what, "Conv %s %s%s", shapes[si].name, posts[pi].name,
                         bias ? ", bias" : "");
                compare_node(what, g, 0, 1, TOL_RELL2);
                dk_graph_destroy(g);
            }
}

/* opt=3's rule (OB_WINOGRAD_MIN_CHANNELS, OB_WINOGRAD_MIN_TILES): a 3x3
 * stride-1 layer with 64 input and output channels and 48 output tiles
 * computes the bits of conv=winograd; one with 32 channels, or with 64 on a
 * 6x6 output (9 tiles), those of conv=auto at opt=2 (im2col). The two
 * lowerings' bits differ. */
static void test_winograd_at_opt3(void **state)
{
    (void)state;
    const struct { int64_t ch, h, w; int wino; } cases[] = {
        {64, 16, 12, 1}, {32, 16, 12, 0}, {64, 6, 6, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int64_t ch = cases[i].ch;
        dk_graph *g = tu_new_graph(13);
        const int64_t xd[4] = {1, ch, cases[i].h, cases[i].w}, wd[4] = {ch, ch, 3, 3};
        int ins[3] = {tu_add_input(g, "x", DK_F32, 4, xd, -1, 1),
                      tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &ch, -1, 1)};
        int k = tu_add_node(g, DK_OP_CONV, ins, 3, 1);
        const int64_t kernel[2] = {3, 3}, pads[4] = {1, 1, 1, 1};
        tu_attr_ints(g, k, "kernel_shape", 2, kernel);
        tu_attr_ints(g, k, "pads", 4, pads);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        dk_tensor auto2 = {0}, wino = {0}, opt3 = {0};
        assert_int_equal(run_variant("openblas", g, k, &auto2, 1), DK_OK);
        assert_int_equal(run_variant("openblas:conv=winograd", g, k, &wino, 1), DK_OK);
        g->hints |= DK_HINT_FASTEST_ALGO; /* what opt=3's choose_algorithm sets */
        assert_int_equal(run_variant("openblas", g, k, &opt3, 1), DK_OK);
        const size_t bytes = dk_tensor_nbytes(&opt3);
        assert_true(memcmp(auto2.data, wino.data, bytes) != 0);
        const dk_tensor *want = cases[i].wino ? &wino : &auto2;
        if (memcmp(opt3.data, want->data, bytes) != 0)
            fail_msg("%lld channels, %lldx%lld at opt=3: not the bits of %s", (long long)ch,
                     (long long)cases[i].h, (long long)cases[i].w,
                     cases[i].wino ? "conv=winograd" : "im2col");
        printf("  %lld channels, %lldx%lld: opt=3 computes conv=%s's bits\n", (long long)ch,
               (long long)cases[i].h, (long long)cases[i].w, cases[i].wino ? "winograd" : "auto");
        dk_tensor_reset(&auto2);
        dk_tensor_reset(&wino);
        dk_tensor_reset(&opt3);
        dk_graph_destroy(g);
    }
}

/* Random geometries: kernel, stride, dilation, padding and group. */
static void test_conv_random(void **state)
{
    (void)state;
    for (int t = 0; t < 40; t++) {
        conv_case cc = {.name = "random"};
        cc.ns = (int)rnd(1, 3);
        cc.batch = rnd(1, 2);
        int64_t group = rnd(0, 2) == 0 ? 1 : rnd(1, 6);
        cc.group = group;
        int dw = rnd(0, 3) == 0; /* depthwise, perhaps with a multiplier */
        cc.c = dw ? group : group * rnd(1, 5);
        cc.m = group * rnd(1, 5);
        cc.bias = (int)rnd(0, 1);
        for (int i = 0; i < cc.ns; i++) {
            cc.k[i] = rnd(1, cc.ns == 3 ? 3 : 5);
            cc.s[i] = rnd(1, 3);
            cc.d[i] = rnd(1, 2);
            /* Pads below the kernel size and an input at least as long as the
               dilated kernel, as in real models: then every window reads some
               input. A window of padding only (or whose dilated taps skip the
               input) yields outputs of 0, which prove nothing (MISTRUSTED). */
            cc.pb[i] = rnd(0, cc.k[i] - 1);
            cc.pe[i] = rnd(0, cc.k[i] - 1);
            int64_t span = (cc.k[i] - 1) * cc.d[i] + 1, max_in = cc.ns == 3 ? 8 : 24;
            cc.in[i] = rnd(span, span > max_in ? span : max_in);
        }
        char name[160];
        int used = snprintf(name, sizeof name, "random g%lld", (long long)cc.group);
        for (int i = 0; i < cc.ns && used < (int)sizeof name; i++)
            used += snprintf(name + used, sizeof name - (size_t)used,
                             " [in%lld k%lld s%lld d%lld p%lld,%lld]",
                             (long long)cc.in[i], (long long)cc.k[i], (long long)cc.s[i],
                             (long long)cc.d[i], (long long)cc.pb[i], (long long)cc.pe[i]);
        cc.name = name;
        run_conv(&cc);
    }
}

/* ---- Gemm and MatMul -------------------------------------------------------- */

typedef struct gemm_case {
    int64_t m, n, k;
    int ta, tb;
    float alpha, beta;   /* NaN: attribute absent */
    int c_ndim;          /* -1: no C */
    int64_t c_dims[2];
} gemm_case;

static void test_gemm(void **state)
{
    (void)state;
    const gemm_case cases[] = {
        {7, 9, 11, 0, 0, NAN, NAN, -1, {0}},
        {7, 9, 11, 1, 0, 0.5f, NAN, 2, {7, 9}},
        {7, 9, 11, 0, 1, NAN, 0.25f, 1, {9}},
        {7, 9, 11, 1, 1, -1.5f, 2.0f, 2, {1, 9}},
        {7, 9, 11, 0, 0, NAN, NAN, 2, {7, 1}},
        {7, 9, 11, 0, 0, NAN, 3.0f, 0, {0}},
        {7, 9, 11, 0, 1, NAN, 0.0f, 2, {7, 9}},
        {64, 33, 300, 1, 1, 0.75f, -0.5f, 1, {33}},
        {1, 1000, 2048, 0, 1, NAN, NAN, 1, {1000}},   /* ResNet-50 classifier */
        {3, 4096, 4800, 0, 1, NAN, NAN, 1, {4096}},  /* VGG-like, K near 5000 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gemm_case *gc = &cases[i];
        dk_graph *g = tu_new_graph(13);
        int64_t ad[2] = {gc->ta ? gc->k : gc->m, gc->ta ? gc->m : gc->k};
        int64_t bd[2] = {gc->tb ? gc->n : gc->k, gc->tb ? gc->k : gc->n};
        int ins[3] = {tu_add_input(g, "a", DK_F32, 2, ad, -1, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, bd, -1, 1), -1};
        if (gc->c_ndim >= 0)
            ins[2] = tu_add_value(g, "c", DK_VALUE_CONSTANT, DK_F32, gc->c_ndim, gc->c_dims,
                                  -1, 1);
        int k = tu_add_node(g, DK_OP_GEMM, ins, gc->c_ndim >= 0 ? 3 : 2, 1);
        if (gc->ta) tu_attr_int(g, k, "transA", 1);
        if (gc->tb) tu_attr_int(g, k, "transB", 1);
        if (!isnan(gc->alpha)) tu_attr_float(g, k, "alpha", gc->alpha);
        if (!isnan(gc->beta)) tu_attr_float(g, k, "beta", gc->beta);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        char what[128];
        snprintf(what, sizeof what, "Gemm %lldx%lldx%lld tA%d tB%d C rank %d", (long long)gc->m,
                 (long long)gc->n, (long long)gc->k, gc->ta, gc->tb, gc->c_ndim);
        compare_node(what, g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
}

typedef struct matmul_case {
    int na, nb;
    int64_t a[4], b[4];
    int positive; /* inputs in [0, 1] instead of [-1, 1]: for the dot product,
                     whose one output of zero-mean terms would have an unbounded
                     relative error (cancellation) */
} matmul_case;

static void test_matmul(void **state)
{
    (void)state;
    const matmul_case cases[] = {
        {2, 2, {13, 17}, {17, 11}, 0},
        {3, 3, {4, 13, 17}, {4, 17, 11}, 0},             /* batched */
        {3, 2, {5, 13, 17}, {17, 11}, 0},                /* B shared: one collapsed sgemm */
        {2, 3, {13, 17}, {5, 17, 11}, 0},                /* A shared */
        {4, 3, {2, 1, 6, 9}, {3, 9, 7}, 0},              /* both broadcast */
        {4, 4, {2, 3, 6, 9}, {2, 1, 9, 7}, 0},
        {1, 2, {17}, {17, 11}, 0},                       /* 1-D A */
        {2, 1, {13, 17}, {17}, 0},                       /* 1-D B */
        {3, 1, {4, 13, 17}, {17}, 0},
        {1, 3, {17}, {4, 17, 11}, 0},
        {1, 1, {300}, {300}, 1},                         /* dot product */
        {3, 3, {12, 64, 64}, {12, 64, 64}, 0},           /* many batches: spread over threads */
        {2, 2, {1, 3000}, {3000, 257}, 0},               /* long K */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const matmul_case *mc = &cases[i];
        dk_graph *g = tu_new_graph(13);
        double lo = mc->positive ? 0 : -1;
        int ins[2] = {tu_add_input(g, "a", DK_F32, mc->na, mc->a, lo, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, mc->nb, mc->b, lo, 1)};
        int k = tu_add_node(g, DK_OP_MATMUL, ins, 2, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        char what[128], sa[48], sb[48];
        snprintf(what, sizeof what, "MatMul %s x %s", dk_shape_str(mc->na, mc->a, sa, sizeof sa),
                 dk_shape_str(mc->nb, mc->b, sb, sizeof sb));
        compare_node(what, g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
}

/* ---- float reductions -------------------------------------------------------- */

/* Mostly negative values with +0 and -0 among them (the first of equal
 * maxima must stay), and a few NaN (win over numbers) and -inf: the cases in
 * which a maximum's bits depend on how it is computed. */
static void sprinkle_specials(dk_tensor *t)
{
    float *x = t->data;
    for (int64_t i = 0; i < dk_tensor_numel(t); i++) {
        x[i] = x[i] - 1.0f;
        if (i % 10 == 0) x[i] = -0.0f;
        if (i % 10 == 3) x[i] = 0.0f;
        if (i % 41 == 7) x[i] = NAN;
        if (i % 29 == 5) x[i] = -INFINITY;
    }
}

static void test_pools(void **state)
{
    (void)state;
    typedef struct pool_case {
        const char *name;
        dk_op op;
        int ns;
        int64_t in[3], k[3], s[3], pb[3], pe[3];
        int ceil, include_pad;
        int64_t d[3]; /* dilations; 0: 1 */
    } pool_case;
    const pool_case cases[] = {
        {"AveragePool 3x3 s2", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {2, 2}, {0}, {0}, 0, 0, {0}},
        {"AveragePool 3x3 pad 1 excl", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {1, 1}, {1, 1},
         {1, 1}, 0, 0, {0}},
        {"AveragePool 3x3 pad 1 incl", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {1, 1}, {1, 1},
         {1, 1}, 0, 1, {0}},
        /* ceil_mode adds 1 padding row and column, never counted */
        {"AveragePool ceil incl", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {2, 2}, {1, 0}, {0, 1}, 1,
         1, {0}},
        {"AveragePool ceil excl", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {2, 2}, {1, 0}, {0, 1}, 1,
         0, {0}},
        {"AveragePool 1-D", DK_OP_AVGPOOL, 1, {40}, {4}, {3}, {1}, {2}, 0, 0, {0}},
        {"AveragePool 3-D", DK_OP_AVGPOOL, 3, {6, 7, 8}, {2, 3, 2}, {2, 1, 2}, {0, 1, 0},
         {1, 1, 0}, 1, 0, {0}},
        {"AveragePool 8x8 (Inception)", DK_OP_AVGPOOL, 2, {8, 8}, {8, 8}, {1, 1}, {0}, {0}, 0, 0,
         {0}},
        {"AveragePool 3x3 s1 unpadded (Inception)", DK_OP_AVGPOOL, 2, {17, 15}, {3, 3}, {1, 1},
         {0}, {0}, 0, 0, {0}},
        {"AveragePool 3-D 2x3x2 s1 pad 1", DK_OP_AVGPOOL, 3, {5, 6, 7}, {2, 3, 2}, {1, 1, 1},
         {1, 1, 0}, {0, 1, 1}, 0, 1, {0}},
        {"AveragePool 3x2 dilation 2x3 incl", DK_OP_AVGPOOL, 2, {15, 16}, {3, 2}, {2, 1}, {2, 1},
         {1, 2}, 0, 1, {2, 3}},
        /* windows wholly in the padding: NaN (excluded) or 0 (included) */
        {"AveragePool all-padding windows excl", DK_OP_AVGPOOL, 2, {6, 7}, {2, 2}, {1, 1}, {3, 2},
         {2, 3}, 0, 0, {0}},
        {"AveragePool all-padding windows incl", DK_OP_AVGPOOL, 2, {6, 7}, {2, 2}, {1, 1}, {3, 2},
         {2, 3}, 0, 1, {0}},
        /* MaxPool: bit-identical to the reference (inputs with NaN, -inf, +0, -0) */
        {"MaxPool 3x3 s2 pad 1 ceil", DK_OP_MAXPOOL, 2, {17, 15}, {3, 3}, {2, 2}, {1, 1}, {1, 1},
         1, 0, {0}},
        {"MaxPool 3x3 s2 unpadded (ResNet-style)", DK_OP_MAXPOOL, 2, {23, 21}, {3, 3}, {2, 2},
         {0}, {0}, 0, 0, {0}},
        {"MaxPool 3x3 s1 pad 1 (Inception-style)", DK_OP_MAXPOOL, 2, {13, 12}, {3, 3}, {1, 1},
         {1, 1}, {1, 1}, 0, 0, {0}},
        {"MaxPool 2x2 s2", DK_OP_MAXPOOL, 2, {16, 15}, {2, 2}, {2, 2}, {0}, {0}, 1, 0, {0}},
        {"MaxPool 1-D", DK_OP_MAXPOOL, 1, {40}, {4}, {3}, {1}, {2}, 0, 0, {0}},
        {"MaxPool 3-D", DK_OP_MAXPOOL, 3, {6, 7, 8}, {2, 3, 2}, {2, 1, 2}, {0, 1, 0}, {1, 1, 0},
         1, 0, {0}},
        {"MaxPool 3x2 dilation 2x3", DK_OP_MAXPOOL, 2, {15, 16}, {3, 2}, {2, 1}, {2, 1}, {1, 2},
         0, 0, {2, 3}},
        {"MaxPool all-padding windows", DK_OP_MAXPOOL, 2, {6, 7}, {2, 2}, {1, 1}, {3, 2}, {2, 3},
         0, 0, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pool_case *pc = &cases[i];
        dk_graph *g = tu_new_graph(13);
        int64_t xd[5] = {2, 5};
        for (int a = 0; a < pc->ns; a++) xd[2 + a] = pc->in[a];
        int ins[1] = {tu_add_input(g, "x", DK_F32, pc->ns + 2, xd, -1, 1)};
        if (pc->op == DK_OP_MAXPOOL) sprinkle_specials(&g->values[ins[0]].t);
        int k = tu_add_node(g, pc->op, ins, 1, 1);
        int64_t pads[6];
        for (int a = 0; a < pc->ns; a++) {
            pads[a] = pc->pb[a];
            pads[pc->ns + a] = pc->pe[a];
        }
        tu_attr_ints(g, k, "kernel_shape", pc->ns, pc->k);
        tu_attr_ints(g, k, "strides", pc->ns, pc->s);
        tu_attr_ints(g, k, "pads", 2 * pc->ns, pads);
        if (pc->ceil) tu_attr_int(g, k, "ceil_mode", 1);
        if (pc->include_pad) tu_attr_int(g, k, "count_include_pad", 1);
        if (pc->d[0]) tu_attr_ints(g, k, "dilations", pc->ns, pc->d);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        compare_node(pc->name, g, k, 1, pc->op == DK_OP_MAXPOOL ? -1 : TOL_RELL2);
        dk_graph_destroy(g);
    }
    for (int global = 0; global < 2; global++) {
        const int64_t xd[4] = {2, 7, 13, 11};
        dk_graph *g = tu_new_graph(13);
        int ins[1] = {tu_add_input(g, "x", DK_F32, 4, xd, 0, 1)}; /* see ReduceMean */
        int k = tu_add_node(g, global ? DK_OP_GLOBALMAXPOOL : DK_OP_GLOBALAVGPOOL, ins, 1, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        compare_node(global ? "GlobalMaxPool (delegated)" : "GlobalAveragePool", g, k, 1,
                     global ? -1 : TOL_RELL2);
        dk_graph_destroy(g);
    }
}

static void test_softmax_reducemean(void **state)
{
    (void)state;
    const struct { int64_t opset; int ndim; int64_t dims[4]; int axis; } sm[] = {
        {13, 2, {3, 1000}, -1}, {13, 4, {2, 5, 7, 300}, 1}, {13, 3, {2, 600, 3}, 1},
        {11, 4, {2, 5, 7, 9}, 1}, /* legacy: coerced to 2-D */
        {13, 1, {2000}, 0},
    };
    for (size_t i = 0; i < sizeof sm / sizeof sm[0]; i++) {
        dk_graph *g = tu_new_graph(sm[i].opset);
        int ins[1] = {tu_add_input(g, "x", DK_F32, sm[i].ndim, sm[i].dims, -8, 8)};
        int k = tu_add_node(g, DK_OP_SOFTMAX, ins, 1, 1);
        tu_attr_int(g, k, "axis", sm[i].axis);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        char what[96], s[48];
        snprintf(what, sizeof what, "Softmax opset %lld %s axis %d", (long long)sm[i].opset,
                 dk_shape_str(sm[i].ndim, sm[i].dims, s, sizeof s), sm[i].axis);
        compare_node(what, g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
    const struct { int naxes; int64_t axes[3]; int keepdims; } rm[] = {
        {2, {2, 3}, 1}, {1, {1}, 0}, {2, {0, 2}, 1}, {3, {1, 2, 3}, 0}, {1, {3}, 1},
    };
    for (size_t i = 0; i < sizeof rm / sizeof rm[0]; i++) {
        const int64_t xd[4] = {3, 6, 17, 19};
        dk_graph *g = tu_new_graph(13);
        /* non-negative (as after a Relu): a mean of zero-mean terms cancels and
           its relative error is unbounded when few outputs are compared */
        int ins[1] = {tu_add_input(g, "x", DK_F32, 4, xd, 0, 1)};
        int k = tu_add_node(g, DK_OP_REDUCEMEAN, ins, 1, 1);
        tu_attr_ints(g, k, "axes", rm[i].naxes, rm[i].axes);
        tu_attr_int(g, k, "keepdims", rm[i].keepdims);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        char what[96];
        snprintf(what, sizeof what, "ReduceMean 3x6x17x19 over %d axes from %lld keepdims %d",
                 rm[i].naxes, (long long)rm[i].axes[0], rm[i].keepdims);
        compare_node(what, g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
}

static void test_norms(void **state)
{
    (void)state;
    for (int size = 1; size <= 5; size += 2) {
        const int64_t xd[4] = {2, 11, 9, 8};
        dk_graph *g = tu_new_graph(13);
        int ins[1] = {tu_add_input(g, "x", DK_F32, 4, xd, -2, 2)};
        int k = tu_add_node(g, DK_OP_LRN, ins, 1, 1);
        tu_attr_int(g, k, "size", size);
        tu_attr_float(g, k, "alpha", 1e-3f * (float)size);
        tu_attr_float(g, k, "beta", 0.75f);
        tu_attr_float(g, k, "bias", 2.0f);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        char what[64];
        snprintf(what, sizeof what, "LRN size %d", size);
        compare_node(what, g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
    const int64_t shapes[][4] = {{2, 6, 9, 7}, {3, 5, 0, 0}};
    for (int s = 0; s < 2; s++) {
        int ndim = s ? 2 : 4;
        const int64_t cd[1] = {shapes[s][1]};
        dk_graph *g = tu_new_graph(15);
        int ins[5] = {tu_add_input(g, "x", DK_F32, ndim, shapes[s], -3, 3),
                      tu_add_value(g, "scale", DK_VALUE_CONSTANT, DK_F32, 1, cd, -2, 2),
                      tu_add_value(g, "bias", DK_VALUE_CONSTANT, DK_F32, 1, cd, -1, 1),
                      tu_add_value(g, "mean", DK_VALUE_CONSTANT, DK_F32, 1, cd, -1, 1),
                      tu_add_value(g, "var", DK_VALUE_CONSTANT, DK_F32, 1, cd, 0.05, 3)};
        int k = tu_add_node(g, DK_OP_BATCHNORM, ins, 5, 1);
        if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
        compare_node(s ? "BatchNormalization 2-D" : "BatchNormalization 4-D", g, k, 1, TOL_RELL2);
        dk_graph_destroy(g);
    }
}

/* ---- delegated ops: bit for bit ------------------------------------------------ */

static void test_delegated(void **state)
{
    (void)state;
    const int64_t xd[4] = {2, 3, 5, 7}, bd[2] = {5, 1};
    dk_graph *g = tu_new_graph(13);
    int ins[2] = {tu_add_input(g, "x", DK_F32, 4, xd, -2, 2), -1};
    int k = tu_add_node(g, DK_OP_RELU, ins, 1, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    compare_node("Relu", g, k, 1, -1);
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_F32, 4, xd, -2, 2);
    ins[1] = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, bd, -2, 2);
    k = tu_add_node(g, DK_OP_DIV, ins, 2, 1);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    compare_node("Div with broadcasting", g, k, 1, -1);
    dk_graph_destroy(g);

    /* a non-float dtype goes to the reference kernel too */
    g = tu_new_graph(13);
    ins[0] = tu_add_input(g, "x", DK_U8, 4, xd, 0, 255);
    k = tu_add_node(g, DK_OP_MAXPOOL, ins, 1, 1);
    const int64_t kernel[2] = {2, 2};
    tu_attr_ints(g, k, "kernel_shape", 2, kernel);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    compare_node("MaxPool uint8", g, k, 1, -1);
    dk_graph_destroy(g);

    g = tu_new_graph(13);
    const int64_t td[3] = {4, 5, 6};
    ins[0] = tu_add_input(g, "x", DK_F32, 3, td, -1, 1);
    k = tu_add_node(g, DK_OP_TRANSPOSE, ins, 1, 1);
    const int64_t perm[3] = {2, 0, 1};
    tu_attr_ints(g, k, "perm", 3, perm);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    compare_node("Transpose", g, k, 1, -1);
    dk_graph_destroy(g);
}

/* ---- backend identity, options and threads -------------------------------------- */

static void test_identity_and_options(void **state)
{
    (void)state;
    const dk_backend_iface *b = dk_backend_find("openblas");
    assert_non_null(b);
    const char *version = dk_backend_version(b);
    printf("  openblas version: %s\n", version);
    assert_non_null(strstr(version, "OpenBLAS"));
    char reason[256];
    assert_int_equal(dk_backend_probe(b, reason, sizeof reason), DK_OK);
    dk_variant v;
    assert_int_equal(dk_variant_parse("openblas:conv=im2col", &v), DK_OK);
    assert_string_equal(dk_variant_get(&v, "conv"), "im2col");
    assert_int_equal(dk_variant_parse("openblas", &v), DK_OK);
    assert_string_equal(dk_variant_get(&v, "conv"), "auto");
    assert_int_equal(dk_variant_parse("openblas:conv=winograd", &v), DK_OK);
    tu_assert_status(dk_variant_parse("openblas:conv=fft", &v), DK_ERR_INVALID,
                     "auto|im2col|winograd");
}

/* Which kernel set the CLI restarts itself with (kernels/openblas/openblas_core.c):
 * every branch of the decision, since this machine's CPU exercises only one. */
static void test_choose_core(void **state)
{
    (void)state;
    if (!dk__openblas_choose_core) skip();
    const struct {
        const char *wanted, *env, *loaded;
        int avx512;
        const char *want;
    } cases[] = {
        {NULL, NULL, "Haswell", 1, "SkylakeX"},       /* an AVX-512 CPU OpenBLAS does not know */
        {"auto", NULL, "Haswell", 1, "SkylakeX"},
        {NULL, NULL, "Haswell", 0, NULL},             /* AVX2 is all the CPU has */
        {NULL, NULL, "Cooperlake", 1, NULL},          /* detected: nothing to improve */
        {NULL, NULL, "SkylakeX", 1, NULL},
        {NULL, "Haswell", "Haswell", 1, NULL},        /* the user's OPENBLAS_CORETYPE stays */
        {"Haswell", NULL, "Cooperlake", 1, "Haswell"}, /* core= wins over detection */
        {"SkylakeX", "Haswell", "Haswell", 1, "SkylakeX"}, /* and over the environment */
        {"haswell", NULL, "Haswell", 1, NULL},        /* already loaded (any case) */
        {"Bogus", NULL, "Haswell", 1, NULL},          /* left to the option parser */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = dk__openblas_choose_core(cases[i].wanted, cases[i].env, cases[i].loaded,
                                                   cases[i].avx512);
        printf("  core=%s OPENBLAS_CORETYPE=%s loaded %s avx512 %d -> %s\n",
               cases[i].wanted ? cases[i].wanted : "(none)", cases[i].env ? cases[i].env : "(unset)",
               cases[i].loaded, cases[i].avx512, got ? got : "(keep)");
        if (cases[i].want) {
            assert_non_null(got);
            assert_string_equal(got, cases[i].want);
        } else {
            assert_null(got);
        }
    }
}

/* OpenBLAS's OpenMP build follows omp_set_num_threads (the session's
 * `threads`): it sizes each call from omp_get_max_threads(). The check uses
 * 3 then 2 threads: with 1, OpenBLAS 0.3.21 runs the call single-threaded
 * without updating openblas_get_num_threads() (measured: 1024^3 sgemm at
 * 120 GFLOP/s with 1 thread, 238 with 2), so the count it reports proves
 * nothing there. The GEMM (128^3) is above OpenBLAS's multithreading
 * threshold (65536 * 4 multiply-adds), below which it uses one thread. */
static void test_threads_follow_openmp(void **state)
{
    (void)state;
    if (!openblas_get_num_threads) skip();
#ifdef _OPENMP
    const int64_t ad[2] = {128, 128};
    const int sequence[] = {3, 2};
    for (int i = 0; i < 2; i++) {
        int threads = sequence[i];
        dk_graph *g = tu_new_graph(13);
        int ins[2] = {tu_add_input(g, "a", DK_F32, 2, ad, -1, 1),
                      tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 2, ad, -1, 1)};
        int k = tu_add_node(g, DK_OP_MATMUL, ins, 2, 1);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        char text[64];
        snprintf(text, sizeof text, "openblas:threads=%d", threads);
        dk_tensor y[1] = {{0}};
        assert_int_equal(run_variant_keep_threads(text, g, k, y, 1), DK_OK);
        printf("  threads=%d: openblas_get_num_threads() = %d after the call\n", threads,
               openblas_get_num_threads());
        assert_int_equal(openblas_get_num_threads(), threads);
        dk_tensor_reset(&y[0]);
        dk_graph_destroy(g);
    }
    set_threads(0);
#else
    skip();
#endif
}

static int print_worst(void **state)
{
    (void)state;
    printf("test_openblas: largest relative L2 error against ref %.3g (bound %.0e); "
           "largest error / tolerance-table bound %.3g (bound 1)\n",
           worst_rel_l2, TOL_RELL2, worst_ratio);
    return 0;
}

int main(void)
{
    tu_init("test_openblas");
    const dk_backend_iface *b = dk_backend_find("openblas");
    char reason[256];
    if (!b || dk_backend_probe(b, reason, sizeof reason) != DK_OK) {
        printf("SKIP: openblas backend unavailable: %s\n", b ? reason : dk_last_error());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_and_options),
        cmocka_unit_test(test_choose_core),
        cmocka_unit_test(test_threads_follow_openmp),
        cmocka_unit_test(test_conv_geometries),
        cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_conv_post_ops),
        cmocka_unit_test(test_winograd_at_opt3),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_softmax_reducemean),
        cmocka_unit_test(test_norms),
        cmocka_unit_test(test_delegated),
    };
    return cmocka_run_group_tests(tests, NULL, print_worst);
}
