/* The op suite: every float32 op of the reference on random shapes and data
 * (drivers/selftest/selftest_cases.c), run on the reference and on each variant through
 * the backend interface, judged with the tolerance table (check/tolerance.c).
 * After ggml's test-backend-ops and oneDNN's benchdnn: results have states
 * (PASSED, FAILED, SKIPPED, MISTRUSTED), each failure comes with a repro line,
 * outputs are poisoned with NaN before each run and guarded by sentinels
 * against stray writes, inputs are checked to be left untouched, and every
 * case runs twice on every variant: the two outputs must be equal bit for bit,
 * unless a plan declares that another run may differ (cuDNN: an algorithm it
 * marks non-deterministic under deterministic=off, or one chosen by timing):
 * a difference is then a NOTE, not a failure. A plan that declares a
 * transform-based convolution (Winograd, FFT) is held to the looser bound of
 * dk_tolerance_transform_norm_limit where it exceeds the table's (a NOTE). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "drivers/selftest/selftest.h"
#include "runtime/error.h"
#include "runtime/stats.h"

#define MAX_OUT 8
#define GUARD 64              /* bytes of sentinel on each side of an output */
#define SENTINEL 0xCD

typedef struct outputs {
    int n;
    dk_tensor view[MAX_OUT];  /* not owning: data points into buf */
    unsigned char *buf[MAX_OUT];
    size_t bytes[MAX_OUT];
    unsigned traits;          /* the plan's DK_PLAN_* traits */
} outputs;

typedef struct suite {
    const dk__ops_config *cfg;
    int default_threads;
} suite;

static void say(const dk__ops_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const dk__ops_config *cfg, const char *fmt, ...)
{
    if (!cfg->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_user, line);
}

void dk__ops_config_default(dk__ops_config *c)
{
    memset(c, 0, sizeof *c);
    c->cases = 12;
    c->only_case = -1;
    c->max_ratio = 1.0;
    c->repro = "deltakern selftest --no-conformance";
    c->variant_flag = "--backend";
}

static void apply_threads(const suite *S, const dk__st_target *t)
{
#ifdef _OPENMP
    omp_set_num_threads(t->threads > 0 ? t->threads : S->default_threads);
#else
    (void)S, (void)t;
#endif
}

/* ---- running one node ------------------------------------------------------------------- */

static void outputs_free(outputs *o)
{
    for (int i = 0; i < o->n; i++) free(o->buf[i]);
    memset(o, 0, sizeof *o);
}

/* Allocates node outputs with sentinels around them, poisoned with NaN (float)
 * or 0xA5 bytes (other types). */
static int outputs_alloc(const dk_graph *g, const dk_node *n, outputs *o)
{
    memset(o, 0, sizeof *o);
    o->n = n->n_outputs;
    for (int i = 0; i < o->n; i++) {
        if (n->outputs[i] < 0) continue;
        const dk_tensor *t = &g->values[n->outputs[i]].t;
        dk_tensor *v = &o->view[i];
        v->dtype = t->dtype;
        v->ndim = t->ndim;
        memcpy(v->dims, t->dims, sizeof v->dims);
        o->bytes[i] = dk_tensor_nbytes(v);
        o->buf[i] = malloc(o->bytes[i] + 2 * GUARD);
        if (!o->buf[i]) return -1;
        memset(o->buf[i], SENTINEL, GUARD);
        memset(o->buf[i] + GUARD + o->bytes[i], SENTINEL, GUARD);
        v->data = o->buf[i] + GUARD;
        if (t->dtype == DK_F32) {
            float *d = v->data;
            for (int64_t k = 0, numel = dk_tensor_numel(v); k < numel; k++) d[k] = NAN;
        } else {
            memset(v->data, 0xA5, o->bytes[i]);
        }
    }
    return 0;
}

/* "" when the sentinels are intact, else what was overwritten. */
static void check_guards(const outputs *o, char *why, size_t n)
{
    for (int i = 0; i < o->n; i++) {
        if (!o->buf[i]) continue;
        for (size_t k = 0; k < GUARD; k++) {
            if (o->buf[i][k] != SENTINEL) {
                snprintf(why, n, "wrote %zu bytes before output %d", GUARD - k, i);
                return;
            }
            if (o->buf[i][GUARD + o->bytes[i] + k] != SENTINEL) {
                snprintf(why, n, "wrote past the end of output %d", i);
                return;
            }
        }
    }
}

typedef enum run_state { RUN_OK, RUN_SKIPPED, RUN_FAILED } run_state;

/* Runs the case's node on a variant through the call layer (supports, plan,
 * the conversions of a backend that keeps values in its own memory, execute,
 * plan_destroy) on poisoned and guarded outputs; then checks the sentinels
 * and that the inputs stayed the same. A backend that keeps values in its own
 * memory gets a context of its own per case (such a context may serve one
 * graph only). why receives the reason of a skip or failure. */
static run_state run_on(const suite *S, dk__st_target *s, dk__op_case *c, outputs *o, char *why,
                        size_t n)
{
    const dk_graph *g = c->g;
    const dk_node *node = &g->nodes[c->node];
    why[0] = '\0';
    memset(o, 0, sizeof *o);
    if (node->n_outputs > MAX_OUT || node->n_inputs > DK__OP_CASE_MAX_IN) {
        snprintf(why, n, "the suite handles at most %d inputs and %d outputs", DK__OP_CASE_MAX_IN,
                 MAX_OUT);
        return RUN_FAILED;
    }
    void *ctx = s->ctx;
    int own_ctx = dk__backend_native(s->b);
    if (own_ctx && dk__backend_open(s->b, &s->v, &ctx) != DK_OK) {
        snprintf(why, n, "cannot open a context: %s", dk_last_error());
        return RUN_FAILED;
    }
    /* snapshot of the inputs, to catch a backend writing into them */
    void *copy[DK__OP_CASE_MAX_IN] = {0};
    for (int i = 0; i < node->n_inputs; i++)
        if (c->in[i] && (copy[i] = malloc(dk_tensor_nbytes(c->in[i]) + 1)))
            memcpy(copy[i], c->in[i]->data, dk_tensor_nbytes(c->in[i]));
    run_state state = RUN_OK;
    if (outputs_alloc(g, node, o) != 0) {
        snprintf(why, n, "out of memory");
        state = RUN_FAILED;
    } else {
        dk_tensor *outs[MAX_OUT] = {0};
        for (int i = 0; i < o->n; i++) outs[i] = o->buf[i] ? &o->view[i] : NULL;
        apply_threads(S, s);
        dk__call_step step;
        dk_status st = dk__backend_run_node(s->b, ctx, g, c->node, NULL, c->in, outs, &step, &o->traits);
        if (st != DK_OK && (step == DK_STEP_SUPPORTS || (step == DK_STEP_PLAN && st == DK_ERR_UNSUPPORTED))) {
            snprintf(why, n, "%s: %s", dk__call_step_name(step), dk_last_error());
            state = RUN_SKIPPED;
        } else if (st != DK_OK) {
            snprintf(why, n, "%s failed (%s): %s", dk__call_step_name(step), dk_status_name(st), dk_last_error());
            state = RUN_FAILED;
        }
        if (state == RUN_OK) check_guards(o, why, n);
        for (int i = 0; state == RUN_OK && !why[0] && i < node->n_inputs; i++)
            if (copy[i] && memcmp(copy[i], c->in[i]->data, dk_tensor_nbytes(c->in[i])))
                snprintf(why, n, "modified input %d", i);
        if (state == RUN_OK && why[0]) state = RUN_FAILED;
    }
    for (int i = 0; i < DK__OP_CASE_MAX_IN; i++) free(copy[i]);
    if (own_ctx) dk__backend_close(s->b, ctx);
    return state;
}

/* Runs the case a second time on freshly poisoned outputs and compares the two
 * runs bit for bit: a kernel that reads memory nobody wrote, or races, shows
 * here even when both runs are within the tolerance. Returns RUN_OK when both
 * runs agree, RUN_FAILED with why (the first differing element) otherwise,
 * RUN_SKIPPED when the second run did not complete (why says so). A
 * difference where either run's plan declared that it may differ
 * (DK_PLAN_MAY_DIFFER) is RUN_OK with *differed set and why saying where. */
static run_state run_again_same(const suite *S, dk__st_target *s, dk__op_case *c, const outputs *first,
                                char *why, size_t n, int *differed)
{
    *differed = 0;
    outputs again;
    run_state rs = run_on(S, s, c, &again, why, n);
    if (rs != RUN_OK) {
        char inner[400];
        snprintf(inner, sizeof inner, "%s", why);
        snprintf(why, n, "the second run (determinism check) %s: %s",
                 rs == RUN_SKIPPED ? "was declined" : "failed", inner);
        outputs_free(&again);
        return RUN_FAILED;
    }
    for (int i = 0; i < first->n && rs == RUN_OK; i++) {
        if (!first->buf[i] || !memcmp(first->view[i].data, again.view[i].data, first->bytes[i])) continue;
        rs = RUN_FAILED;
        if (first->view[i].dtype == DK_F32) {
            const float *a = first->view[i].data, *b = again.view[i].data;
            int64_t k = 0, numel = dk_tensor_numel(&first->view[i]);
            while (k < numel && !memcmp(&a[k], &b[k], sizeof *a)) k++;
            snprintf(why, n, "nondeterministic: output %d differs between two runs on poisoned buffers "
                     "(first at element %lld: %.9g, then %.9g)", i, (long long)k, a[k], b[k]);
        } else {
            snprintf(why, n, "nondeterministic: output %d differs between two runs on poisoned buffers", i);
        }
    }
    if (rs == RUN_FAILED && ((first->traits | again.traits) & DK_PLAN_MAY_DIFFER)) {
        *differed = 1;
        rs = RUN_OK;
    }
    outputs_free(&again);
    return rs;
}

/* ---- the loop ------------------------------------------------------------------------- */

static uint64_t case_seed(uint64_t seed, dk_op op, int k)
{
    uint64_t x = seed ^ ((uint64_t)op << 40) ^ ((uint64_t)k << 8);
    return dk_rng_mix(&x);
}

static void repro(const suite *S, const char *op, int k, const dk__st_target *s)
{
    const dk__ops_config *cfg = S->cfg;
    char inject[64] = "";
    if (cfg->inject_set) snprintf(inject, sizeof inject, " --inject %g", cfg->inject);
    say(cfg, "  repro: %s --seed %llu --op %s --case %d %s '%s'%s", cfg->repro,
        (unsigned long long)cfg->seed, op, k, cfg->variant_flag, s->text, inject);
}

/* Per-row ratios, for the median (kept beside the rows, freed at the end). */
typedef struct ratios { double *v; int n; } ratios;

static void record(dk__ops_stats *st, ratios *r, const dk_tol_result *res)
{
    if (res->max_norm > st->worst_norm) st->worst_norm = res->max_norm;
    if (res->worst_ratio > st->worst_ratio) st->worst_ratio = res->worst_ratio;
    if (res->rel_l2 > st->worst_l2) st->worst_l2 = res->rel_l2;
    double *v = realloc(r->v, sizeof(double) * (size_t)(r->n + 1));
    if (v) {
        r->v = v;
        r->v[r->n++] = res->worst_ratio;
    }
    st->compared++;
    if (st->k_min == 0 || res->tol.K < st->k_min) st->k_min = res->tol.K;
    if (res->tol.K > st->k_max) st->k_max = res->tol.K;
}

/* Judges target v's output against the reference's and counts the verdict.
 * Returns 1 when the case failed. */
static int judge(const suite *S, dk__op_case *c, int k, const char *cls, uint64_t seed, int v,
                 dk__st_target *s, const outputs *ref, outputs *out, dk__ops_stats *st, ratios *rr)
{
    const dk__ops_config *cfg = S->cfg;
    const char *opname = dk_op_name(c->g->nodes[c->node].op);
    if (cfg->inject_set) {
        dk_rng irng;
        int64_t where;
        dk_rng_seed(&irng, seed ^ (uint64_t)(v + 1));
        if (dk__st_inject(c->g, &c->g->nodes[c->node], s->prec, c->in, &ref->view[0],
                          &out->view[0], cfg->inject, &irng, &where) != DK_OK)
            say(cfg, "  (injection failed: %s)", dk_last_error());
    }
    dk_tol_result res;
    dk_status cs = dk_tolerance_check(c->g, &c->g->nodes[c->node], s->prec, c->in, &ref->view[0],
                                      &out->view[0], &res);
    if (cs != DK_OK) {
        st->failed++;
        say(cfg, "FAILED %s#%d (%s) on %s: cannot compare: %s", opname, k, cls, s->text,
            dk_last_error());
        say(cfg, "  case: %s", c->desc);
        repro(S, opname, k, s);
        return 1;
    }
    record(st, rr, &res);
    int loose = 0; /* judged against the transform bound */
    if (res.verdict == DK_VERDICT_FAILED && (out->traits & DK_PLAN_TRANSFORM) &&
        dk_tolerance_transform_accepts(&res, s->prec) && cfg->max_ratio >= 1.0 && !cfg->inject_set) {
        st->transform++;
        say(cfg, "NOTE %s#%d (%s) on %s: %s; a transform-based algorithm (Winograd, FFT) the table does not "
            "bound: within its looser bound, %.3g of %.3g u S", opname, k, cls, s->text, res.explain,
            res.max_norm, dk_tolerance_transform_norm_limit(s->prec));
        res.verdict = DK_VERDICT_PASSED;
        loose = 1;
    }
    if (!loose && res.verdict != DK_VERDICT_FAILED && res.worst_ratio > cfg->max_ratio) {
        res.verdict = DK_VERDICT_FAILED;
        snprintf(res.explain, sizeof res.explain,
                 "worst ratio %.3g is above --max-ratio %g (inside the table's bound)",
                 res.worst_ratio, cfg->max_ratio);
    }
    switch (res.verdict) {
    case DK_VERDICT_PASSED: st->passed++; break;
    case DK_VERDICT_MISTRUSTED: st->mistrusted++; break;
    case DK_VERDICT_SKIPPED: st->skipped++; break;
    case DK_VERDICT_FAILED: st->failed++; break;
    }
    if (res.verdict == DK_VERDICT_FAILED) {
        say(cfg, "FAILED %s#%d (%s) on %s: %s", opname, k, cls, s->text, res.explain);
        say(cfg, "  case: %s", c->desc);
        repro(S, opname, k, s);
        return 1;
    }
    if (cfg->verbose || res.verdict == DK_VERDICT_MISTRUSTED)
        say(cfg, "  %-10s %s#%d %-22s %-24s ratio %-9.3g %s | %s", dk_verdict_name(res.verdict),
            opname, k, cls, s->text, res.worst_ratio, c->desc, res.explain);
    return 0;
}

/* Runs case k of op gen on the reference and on every target. Returns the
 * number of failures (a broken case counts as one). */
static int run_case(const suite *S, dk__st_target *ref_target, dk__st_target *targets,
                    int n_targets, const dk__op_gen *gen, int k, dk__ops_stats *row, ratios *rr)
{
    const dk__ops_config *cfg = S->cfg;
    dk__op_case c;
    char cls[64], why[512];
    const char *opname = dk_op_name(gen->op);
    uint64_t seed = case_seed(cfg->seed, gen->op, k);
    dk__op_case_begin(&c, seed, 17);
    gen->gen(&c, k % gen->classes);
    dk__op_gen_class_name(gen, k, cls, sizeof cls);
    if (dk__op_case_finish(&c) != DK_OK) {
        say(cfg, "ERROR %s#%d (%s): cannot build the case: %s", opname, k, cls, dk_last_error());
        dk__op_case_end(&c);
        return 1;
    }
    outputs ref;
    run_state rs = run_on(S, ref_target, &c, &ref, why, sizeof why);
    int differed = 0; /* never on the reference: it declares no kernel that may differ */
    if (rs == RUN_OK) rs = run_again_same(S, ref_target, &c, &ref, why, sizeof why, &differed);
    if (rs != RUN_OK) {
        say(cfg, "ERROR %s#%d (%s): the reference %s: %s", opname, k, cls,
            rs == RUN_SKIPPED ? "declines it" : "failed", why);
        say(cfg, "  case: %s", c.desc);
        outputs_free(&ref);
        dk__op_case_end(&c);
        return 1;
    }
    int failures = 0;
    for (int v = 0; v < n_targets; v++) {
        dk__st_target *s = &targets[v];
        dk__ops_stats *st = &row[v];
        st->cases++;
        if (!s->available) {
            st->skipped++;
            snprintf(st->skip_reason, sizeof st->skip_reason, "unavailable: %s", s->reason);
            continue;
        }
        outputs out;
        rs = run_on(S, s, &c, &out, why, sizeof why);
        if (rs == RUN_OK) rs = run_again_same(S, s, &c, &out, why, sizeof why, &differed);
        if (rs == RUN_SKIPPED) {
            st->skipped++;
            snprintf(st->skip_reason, sizeof st->skip_reason, "%s", why);
            if (cfg->verbose)
                say(cfg, "  SKIPPED %s#%d %-14s %s: %s", opname, k, cls, s->text, why);
        } else if (rs == RUN_FAILED) {
            st->failed++;
            failures++;
            say(cfg, "FAILED %s#%d (%s) on %s: %s", opname, k, cls, s->text, why);
            say(cfg, "  case: %s", c.desc);
            repro(S, opname, k, s);
        } else {
            if (differed) {
                st->differed++;
                say(cfg, "NOTE %s#%d (%s) on %s: %s; the plan declares that runs may differ (a kernel its "
                    "library marks non-deterministic, or one chosen by timing), which the variant allows "
                    "(judged on the first run)", opname, k, cls, s->text, why);
            }
            failures += judge(S, &c, k, cls, seed, v, s, &ref, &out, st, &rr[v]);
        }
        outputs_free(&out);
    }
    outputs_free(&ref);
    dk__op_case_end(&c);
    return failures;
}

dk_status dk__ops_run(const dk__ops_config *cfg, dk__st_target *ref, dk__st_target *targets,
                      int n_targets, dk__ops_result *out)
{
    memset(out, 0, sizeof *out);
    if (!ref->available)
        return dk__error(DK_ERR_UNAVAILABLE, "op suite: the reference backend is unavailable: %s",
                         ref->reason);
    suite S = {.cfg = cfg};
#ifdef _OPENMP
    S.default_threads = omp_get_max_threads();
#endif
    if (cfg->n_ops > 0) {
        out->n_ops = cfg->n_ops < DK__OPS_MAX_OPS ? cfg->n_ops : DK__OPS_MAX_OPS;
        memcpy(out->ops, cfg->ops, sizeof(out->ops[0]) * (size_t)out->n_ops);
    } else {
        for (int i = 0; dk__op_gen_at(i) && out->n_ops < DK__OPS_MAX_OPS; i++)
            out->ops[out->n_ops++] = dk__op_gen_at(i);
    }
    out->n_targets = n_targets;
    size_t n_rows = (size_t)(out->n_ops * n_targets) + 1;
    out->rows = calloc(n_rows, sizeof *out->rows);
    ratios *rr = calloc(n_rows, sizeof *rr);
    if (!out->rows || !rr) {
        free(rr);
        dk__ops_result_free(out);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int o = 0; o < out->n_ops; o++) {
        const dk__op_gen *gen = out->ops[o];
        int cases = cfg->cases > gen->classes ? cfg->cases : gen->classes;
        for (int k = 0; k < cases; k++) {
            if (cfg->only_case >= 0 && k != cfg->only_case) continue;
            out->failures += run_case(&S, ref, targets, n_targets, gen, k,
                                      &out->rows[o * n_targets], &rr[o * n_targets]);
        }
    }
    for (size_t i = 0; i + 1 < n_rows; i++) {
        dk_stats st;
        if (rr[i].n && dk_stats_describe(rr[i].v, rr[i].n, &st) == DK_OK) out->rows[i].median_ratio = st.median;
        free(rr[i].v);
    }
    free(rr);
#ifdef _OPENMP
    omp_set_num_threads(S.default_threads);
#endif
    return DK_OK;
}

void dk__ops_result_free(dk__ops_result *r)
{
    free(r->rows);
    r->rows = NULL;
}

void dk__ops_totals(const dk__ops_result *r, int t, dk__ops_stats *sum)
{
    memset(sum, 0, sizeof *sum);
    for (int o = 0; o < r->n_ops; o++) {
        const dk__ops_stats *st = &r->rows[o * r->n_targets + t];
        sum->cases += st->cases;
        sum->passed += st->passed;
        sum->failed += st->failed;
        sum->mistrusted += st->mistrusted;
        sum->skipped += st->skipped;
        sum->differed += st->differed;
        sum->transform += st->transform;
        sum->compared += st->compared;
        if (st->worst_norm > sum->worst_norm) sum->worst_norm = st->worst_norm;
        if (st->worst_ratio > sum->worst_ratio) sum->worst_ratio = st->worst_ratio;
        if (st->worst_l2 > sum->worst_l2) sum->worst_l2 = st->worst_l2;
        if (st->skip_reason[0])
            snprintf(sum->skip_reason, sizeof sum->skip_reason, "%s", st->skip_reason);
    }
}
