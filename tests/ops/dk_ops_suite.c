/* dk_ops_suite: every float32 op of the reference on random shapes and data,
 * run on the reference and on each variant, judged with the tolerance table
 * (harness/tolerance.c). After ggml's test-backend-ops and oneDNN's benchdnn:
 * results have states (PASSED, FAILED, SKIPPED, MISTRUSTED), each failure
 * prints a repro line, outputs are poisoned with NaN before each run and
 * guarded by sentinels against stray writes, and inputs are checked to be
 * left untouched.
 *
 *   dk_ops_suite [--variant V | --all-options]... [--op NAME]... [--cases N] [--case K]
 *                [--seed S] [--inject X] [--margin R] [--max-ratio R] [--verbose]
 *                [--table] [--list]
 *
 * Without --variant every backend compiled in runs with its default options;
 * unavailable ones are reported SKIPPED with their reason. --inject X moves one
 * element of every candidate output to ref + X * its bound (X >= 1: at least
 * that far; X < 1: at most): with X = 10 every case must fail, with X < 1
 * every case must still pass. Exit status: 0 when nothing failed, 1 when a
 * case failed, 2 for bad usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/backend.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "harness/tolerance.h"
#include "ops_cases.h"
#include "runtime/backend_iface.h"

#define MAX_VARIANTS 32
#define MAX_OPS 64
#define MAX_OUT 8
#define GUARD 64              /* bytes of sentinel on each side of an output */
#define SENTINEL 0xCD

typedef struct slot {
    char text[256];           /* as given (or the backend's name) */
    dk_variant v;
    const dk_backend_iface *b;
    int available, opened;
    char reason[256];
    void *ctx;
    dk_precision prec;
    int threads;
} slot;

typedef struct stats {
    int cases, passed, failed, mistrusted, skipped;
    double worst_norm, worst_ratio, worst_l2;
    double *ratios;
    int n_ratios;
    int64_t k_min, k_max;
    char skip_reason[512];
} stats;

typedef struct outputs {
    int n;
    dk_tensor view[MAX_OUT];  /* not owning: data points into buf */
    unsigned char *buf[MAX_OUT];
    size_t bytes[MAX_OUT];
} outputs;

static struct {
    const char *argv0;
    uint64_t seed;
    int cases, only_case, verbose, all_options, list_variants;
    double inject, margin, max_ratio;
    int inject_set;
    int n_slots;
    slot slots[MAX_VARIANTS];
    slot ref;
    int n_ops;
    const og_op_gen *ops[MAX_OPS];
    int default_threads;
} S;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--variant V]... [--all-options] [--op NAME]... [--cases N] [--case K]\n"
            "          [--seed S]\n"
            "          [--inject X] [--margin R] [--max-ratio R] [--verbose] [--table] [--list]\n"
            "  --variant V  backend:key=value,... to check (repeatable; default: every backend)\n"
            "  --all-options  without --variant: also every non-default value of each backend\n"
            "               option, one at a time, and threads=1\n"
            "  --list-variants  print the variants that would run, one a line, and exit\n"
            "  --op NAME    ONNX op to test (repeatable; default: all, see --list)\n"
            "  --cases N    random cases per op (default 12, at least one per shape class)\n"
            "  --case K     only case K of each op (with --seed: reruns one case)\n"
            "  --seed S     seed of the random shapes and data (default: the clock)\n"
            "  --inject X   move one output element to ref + X * its bound (teeth check)\n"
            "  --margin R   flag ops whose worst ratio measured/bound exceeds R (default 0.5)\n"
            "  --max-ratio R  fail cases whose ratio measured/bound exceeds R (default 1;\n"
            "               0 demands bit-identical outputs, e.g. of the reference itself)\n"
            "  --verbose    one line per case\n"
            "  --table      print the tolerance table (op x precision) and exit\n"
            "  --list       list the ops and their shape classes and exit\n",
            S.argv0);
}

/* ---- the tolerance table, printed ------------------------------------------------ */

static int64_t typical_k(dk_op op, int which)
{
    switch (op) {
    case DK_OP_CONV: return which == 0 ? 64 : which == 1 ? 576 : 4608;
    case DK_OP_GEMM: return 2048;
    case DK_OP_MATMUL: return 768;
    case DK_OP_AVGPOOL: case DK_OP_MAXPOOL: return 9;
    case DK_OP_GLOBALAVGPOOL: case DK_OP_GLOBALMAXPOOL: case DK_OP_REDUCEMEAN: return 49;
    case DK_OP_SOFTMAX: return 1000;
    case DK_OP_LRN: return 5;
    default: return 1;
    }
}

static void print_table(void)
{
    printf("Tolerance table: |y - ref| <= tol per element, tol = c * S + c_out * |ref| (+ input\n"
           "and argument terms for Sigmoid, Softmax, LRN, Clip), S = the computation on |inputs|.\n"
           "Shown: (c + c_in + c_out) for the worst case |ref| = S, as a multiple of each\n"
           "precision's u, then absolute; n = roundings in sequence. Derivation: "
           "harness/tolerance.c.\n\n");
    printf("%-22s %-7s", "op (typical K)", "n");
    for (int p = 0; p < DK_PREC_COUNT; p++) {
        const dk_precision_info *pi = dk_precision_get((dk_precision)p);
        char head[48];
        snprintf(head, sizeof head, "%s (u=2^%d)", pi->name, (int)round(log2(pi->u)));
        printf(" %-21s", head);
    }
    printf("\n");
    for (int i = 0; dk__tolerance_row(i); i++) {
        const dk__tol_row_text *r = dk__tolerance_row(i);
        int variants = r->op == DK_OP_CONV ? 3 : 1;
        for (int w = 0; w < variants; w++) {
            int64_t K = typical_k(r->op, w);
            char label[48];
            if (!strcmp(r->k, "-")) snprintf(label, sizeof label, "%s", dk_op_name(r->op));
            else snprintf(label, sizeof label, "%s K=%lld", dk_op_name(r->op), (long long)K);
            dk_tolerance t;
            dk_tolerance_typical(r->op, DK_PREC_FP32, K, &t);
            printf("%-22s %-7g", label, t.n);
            for (int p = 0; p < DK_PREC_COUNT; p++) {
                double c;
                dk_tolerance_coefficient(r->op, (dk_precision)p, K, &c);
                const dk_precision_info *pi = dk_precision_get((dk_precision)p);
                char cell[48];
                if (c == 0) snprintf(cell, sizeof cell, "exact");
                else snprintf(cell, sizeof cell, "%.4gu = %.2e", c / pi->u, c);
                printf(" %-21s", cell);
            }
            printf("\n");
        }
    }
    printf("\nRows (K from the node; n = roundings in sequence; m = rounded operands per term;\n"
           "T = %g, one transcendental function at 4 ulps):\n", DK_TOL_TRANSCENDENTAL_U);
    for (int i = 0; dk__tolerance_row(i); i++) {
        const dk__tol_row_text *r = dk__tolerance_row(i);
        printf("  %-18s K=%-24s n=%-34s m=%d S=%s\n  %-18s   %s\n", dk_op_name(r->op), r->k, r->n,
               r->m, r->s, "", r->why);
    }
    printf("\nPrecisions:\n");
    for (int p = 0; p < DK_PREC_COUNT; p++) {
        const dk_precision_info *pi = dk_precision_get((dk_precision)p);
        printf("  %-5s u_in=%-9.3g u_acc=%-9.3g u_out=%-9.3g %s\n", pi->name, pi->u_in, pi->u_acc,
               pi->u_out, pi->why);
    }
}

static void print_list(void)
{
    for (int i = 0; og_generator(i); i++) {
        const og_op_gen *gen = og_generator(i);
        printf("%-20s", dk_op_name(gen->op));
        for (int k = 0; k < gen->classes; k++) {
            char name[64];
            printf("%s%s", k ? " | " : "", og_class_name(gen, k, name, sizeof name));
        }
        printf("\n");
    }
}

/* ---- variants ------------------------------------------------------------------------ */

static int slot_init(slot *s, const char *text)
{
    memset(s, 0, sizeof *s);
    snprintf(s->text, sizeof s->text, "%s", text);
    if (dk_variant_parse(text, &s->v) != DK_OK) {
        fprintf(stderr, "dk_ops_suite: error: %s\n", dk_last_error());
        return -1;
    }
    s->b = s->v.backend;
    s->prec = dk_variant_precision(&s->v);
    s->threads = (int)dk_variant_get_int(&s->v, "threads", 0);
    if (dk_backend_probe(s->b, s->reason, sizeof s->reason) != DK_OK) return 0;
    if (s->b->open && s->b->open(&s->v, &s->ctx) != DK_OK) {
        snprintf(s->reason, sizeof s->reason, "cannot open: %s", dk_last_error());
        return 0;
    }
    s->available = s->opened = 1;
    return 0;
}

static void slot_close(slot *s)
{
    if (s->opened && s->b->close) s->b->close(s->ctx);
    s->opened = 0;
}

static void apply_threads(const slot *s)
{
#ifdef _OPENMP
    omp_set_num_threads(s->threads > 0 ? s->threads : S.default_threads);
#else
    (void)s;
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
            for (int64_t k = 0; k < dk_tensor_numel(v); k++) d[k] = NAN;
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

/* Runs the case's node on a variant: supports, plan, execute (poisoned and
 * guarded outputs), plan_destroy; checks the sentinels and that inputs stayed
 * the same. why receives the reason of a skip or failure. */
static run_state run_on(slot *s, og_case *c, outputs *o, char *why, size_t n)
{
    const dk_graph *g = c->g;
    const dk_node *node = &g->nodes[c->node];
    why[0] = '\0';
    memset(o, 0, sizeof *o);
    if (node->n_outputs > MAX_OUT || node->n_inputs > OG_MAX_IN) {
        snprintf(why, n, "the suite handles at most %d inputs and %d outputs", OG_MAX_IN, MAX_OUT);
        return RUN_FAILED;
    }
    if (s->b->supports && !s->b->supports(s->ctx, g, node)) {
        snprintf(why, n, "%s does not support this node", s->b->name);
        return RUN_SKIPPED;
    }
    void *plan = NULL;
    if (s->b->plan) {
        dk_status st = s->b->plan(s->ctx, g, c->node, &plan);
        if (st == DK_ERR_UNSUPPORTED) {
            snprintf(why, n, "plan: %s", dk_last_error());
            return RUN_SKIPPED;
        }
        if (st != DK_OK) {
            snprintf(why, n, "plan failed (%s): %s", dk_status_name(st), dk_last_error());
            return RUN_FAILED;
        }
    }
    run_state state = RUN_OK;
    /* snapshot of the inputs, to catch a backend writing into them */
    void *copy[OG_MAX_IN] = {0};
    for (int i = 0; i < node->n_inputs; i++)
        if (c->in[i] && (copy[i] = malloc(dk_tensor_nbytes(c->in[i]) + 1)))
            memcpy(copy[i], c->in[i]->data, dk_tensor_nbytes(c->in[i]));
    if (outputs_alloc(g, node, o) != 0) {
        snprintf(why, n, "out of memory");
        state = RUN_FAILED;
    } else {
        dk_tensor *outs[MAX_OUT] = {0};
        for (int i = 0; i < o->n; i++) outs[i] = o->buf[i] ? &o->view[i] : NULL;
        apply_threads(s);
        dk_status st = s->b->execute(s->ctx, plan, g, node, c->in, outs);
        if (st != DK_OK) {
            snprintf(why, n, "execute failed (%s): %s", dk_status_name(st), dk_last_error());
            state = RUN_FAILED;
        }
        if (state == RUN_OK) check_guards(o, why, n);
        for (int i = 0; state == RUN_OK && !why[0] && i < node->n_inputs; i++)
            if (copy[i] && memcmp(copy[i], c->in[i]->data, dk_tensor_nbytes(c->in[i])))
                snprintf(why, n, "modified input %d", i);
        if (why[0]) state = RUN_FAILED;
    }
    for (int i = 0; i < OG_MAX_IN; i++) free(copy[i]);
    if (plan && s->b->plan_destroy) s->b->plan_destroy(s->ctx, plan);
    return state;
}

/* ---- injection ------------------------------------------------------------------------- */

/* Moves one element of y (a finite reference element picked by rng) to
 * ref + X * tol: at least that far for X >= 1, at most for X < 1; an element
 * with tol 0 moves by one ulp when X >= 1. */
static dk_status inject(og_case *c, slot *s, const dk_tensor *ref, dk_tensor *y, og_rng *rng,
                        int64_t *where)
{
    int64_t count = dk_tensor_numel(ref);
    *where = -1;
    if (count == 0) return DK_OK;
    double *tol = malloc(sizeof(double) * (size_t)count), *mag = malloc(sizeof(double) * (size_t)count);
    dk_status st = tol && mag ? dk_tolerance_bounds(c->g, &c->g->nodes[c->node], s->prec, c->in, ref,
                                                    tol, mag)
                              : DK_ERR_NOMEM;
    const float *r = ref->data;
    float *d = y->data;
    int64_t j = og_int(rng, 0, count - 1);
    for (int64_t k = 0; k < count && !isfinite(r[j]); k++) j = (j + 1) % count;
    if (st == DK_OK && isfinite(r[j])) {
        double X = S.inject, t = tol[j];
        float dir = og_chance(rng, 0.5) ? INFINITY : -INFINITY;
        float v;
        if (t <= 0 || !isfinite(t)) {
            v = X >= 1 ? nextafterf(r[j], dir) : r[j];
        } else {
            double target = X * t;
            v = (float)((double)r[j] + (dir > 0 ? target : -target));
            if (X >= 1)
                while (fabs((double)v - r[j]) < target) v = nextafterf(v, dir);
            else
                while (fabs((double)v - r[j]) > target) v = nextafterf(v, -dir);
        }
        d[j] = v;
        *where = j;
    }
    free(tol);
    free(mag);
    return st;
}

/* ---- the loop ------------------------------------------------------------------------- */

static uint64_t case_seed(uint64_t seed, dk_op op, int k)
{
    uint64_t x = seed ^ ((uint64_t)op << 40) ^ ((uint64_t)k << 8);
    return og_mix(&x);
}

static void repro(const char *op, int k, const slot *s)
{
    printf("  repro: %s --seed %llu --op %s --case %d --variant '%s'", S.argv0,
           (unsigned long long)S.seed, op, k, s->text);
    if (S.inject_set) printf(" --inject %g", S.inject);
    printf("\n");
}

static void record(stats *st, const dk_tol_result *res)
{
    if (res->max_norm > st->worst_norm) st->worst_norm = res->max_norm;
    if (res->worst_ratio > st->worst_ratio) st->worst_ratio = res->worst_ratio;
    if (res->rel_l2 > st->worst_l2) st->worst_l2 = res->rel_l2;
    double *r = realloc(st->ratios, sizeof(double) * (size_t)(st->n_ratios + 1));
    if (r) {
        st->ratios = r;
        st->ratios[st->n_ratios++] = res->worst_ratio;
    }
    if (st->k_min == 0 || res->tol.K < st->k_min) st->k_min = res->tol.K;
    if (res->tol.K > st->k_max) st->k_max = res->tol.K;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs case k of op gen on the reference and on every slot. Returns the
 * number of failures (a broken case counts as one). */
static int run_case(const og_op_gen *gen, int k, stats *row)
{
    og_case c;
    char cls[64], why[512];
    const char *opname = dk_op_name(gen->op);
    uint64_t seed = case_seed(S.seed, gen->op, k);
    og_begin(&c, seed, 17);
    gen->gen(&c, k % gen->classes);
    og_class_name(gen, k, cls, sizeof cls);
    if (og_finish(&c) != DK_OK) {
        printf("ERROR %s#%d (%s): cannot build the case: %s\n", opname, k, cls, dk_last_error());
        og_end(&c);
        return 1;
    }
    outputs ref;
    run_state rs = run_on(&S.ref, &c, &ref, why, sizeof why);
    if (rs != RUN_OK) {
        printf("ERROR %s#%d (%s): the reference %s: %s\n  case: %s\n", opname, k, cls,
               rs == RUN_SKIPPED ? "declines it" : "failed", why, c.desc);
        outputs_free(&ref);
        og_end(&c);
        return 1;
    }
    int failures = 0;
    for (int v = 0; v < S.n_slots; v++) {
        slot *s = &S.slots[v];
        stats *st = &row[v];
        st->cases++;
        if (!s->available) {
            st->skipped++;
            snprintf(st->skip_reason, sizeof st->skip_reason, "backend unavailable (reason below)");
            continue;
        }
        outputs out;
        rs = run_on(s, &c, &out, why, sizeof why);
        if (rs == RUN_SKIPPED) {
            st->skipped++;
            snprintf(st->skip_reason, sizeof st->skip_reason, "%s", why);
            if (S.verbose) printf("  SKIPPED %s#%d %-14s %s: %s\n", opname, k, cls, s->text, why);
            outputs_free(&out);
            continue;
        }
        if (rs == RUN_FAILED) {
            st->failed++;
            failures++;
            printf("FAILED %s#%d (%s) on %s: %s\n  case: %s\n", opname, k, cls, s->text, why, c.desc);
            repro(opname, k, s);
            outputs_free(&out);
            continue;
        }
        int64_t injected = -1;
        if (S.inject_set) {
            og_rng irng;
            og_rng_seed(&irng, seed ^ (uint64_t)(v + 1));
            if (inject(&c, s, &ref.view[0], &out.view[0], &irng, &injected) != DK_OK)
                printf("  (injection failed: %s)\n", dk_last_error());
        }
        dk_tol_result res;
        dk_status cs = dk_tolerance_check(c.g, &c.g->nodes[c.node], s->prec, c.in, &ref.view[0],
                                          &out.view[0], &res);
        if (cs != DK_OK) {
            st->failed++;
            failures++;
            printf("FAILED %s#%d (%s) on %s: cannot compare: %s\n  case: %s\n", opname, k, cls,
                   s->text, dk_last_error(), c.desc);
            repro(opname, k, s);
            outputs_free(&out);
            continue;
        }
        record(st, &res);
        if (res.verdict != DK_VERDICT_FAILED && res.worst_ratio > S.max_ratio) {
            res.verdict = DK_VERDICT_FAILED;
            snprintf(res.explain, sizeof res.explain,
                     "worst ratio %.3g is above --max-ratio %g (inside the table's bound)",
                     res.worst_ratio, S.max_ratio);
        }
        switch (res.verdict) {
        case DK_VERDICT_PASSED: st->passed++; break;
        case DK_VERDICT_MISTRUSTED: st->mistrusted++; break;
        case DK_VERDICT_SKIPPED: st->skipped++; break;
        case DK_VERDICT_FAILED: st->failed++; failures++; break;
        }
        if (res.verdict == DK_VERDICT_FAILED) {
            printf("FAILED %s#%d (%s) on %s: %s\n  case: %s\n", opname, k, cls, s->text, res.explain,
                   c.desc);
            repro(opname, k, s);
        } else if (S.verbose || res.verdict == DK_VERDICT_MISTRUSTED) {
            printf("  %-10s %s#%d %-22s %-24s ratio %-9.3g %s | %s\n", dk_verdict_name(res.verdict),
                   opname, k, cls, s->text, res.worst_ratio, c.desc, res.explain);
        }
        outputs_free(&out);
    }
    outputs_free(&ref);
    og_end(&c);
    return failures;
}

static void print_summary(stats *rows)
{
    printf("\n%-18s %-26s %5s %5s %5s %5s %5s %-11s %11s %11s %11s %10s\n", "op", "variant", "cases",
           "pass", "fail", "mistr", "skip", "K", "worst u*S", "worst ratio", "median", "rel L2");
    int over = 0;
    long totals[5] = {0};
    for (int o = 0; o < S.n_ops; o++)
        for (int v = 0; v < S.n_slots; v++) {
            stats *st = &rows[o * S.n_slots + v];
            const slot *s = &S.slots[v];
            totals[0] += st->cases, totals[1] += st->passed, totals[2] += st->failed;
            totals[3] += st->mistrusted, totals[4] += st->skipped;
            printf("%-18s %-26s %5d %5d %5d %5d %5d ", dk_op_name(S.ops[o]->op), s->text, st->cases,
                   st->passed, st->failed, st->mistrusted, st->skipped);
            if (st->n_ratios == 0) {
                printf("%s\n", st->skip_reason[0] ? st->skip_reason : "-");
                continue;
            }
            qsort(st->ratios, (size_t)st->n_ratios, sizeof(double), cmp_double);
            char k[32];
            if (st->k_min == st->k_max) snprintf(k, sizeof k, "%lld", (long long)st->k_min);
            else snprintf(k, sizeof k, "%lld..%lld", (long long)st->k_min, (long long)st->k_max);
            int flag = st->worst_ratio > S.margin && st->worst_ratio <= 1.0;
            over += flag;
            printf("%-11s %11.3g %10.3g%s %11.3g %10.3g\n", k, st->worst_norm, st->worst_ratio,
                   flag ? "!" : " ", st->ratios[st->n_ratios / 2], st->worst_l2);
        }
    printf("\nsummary: %ld cases, %ld passed, %ld failed, %ld mistrusted, %ld skipped "
           "(seed %llu%s%s)\n",
           totals[0], totals[1], totals[2], totals[3], totals[4], (unsigned long long)S.seed,
           S.inject_set ? ", injected errors" : "", "");
    if (over)
        printf("%d op/variant rows have a worst ratio above the margin %g (marked !): inside the "
               "bound, but with less slack than aimed for\n", over, S.margin);
    for (int v = 0; v < S.n_slots; v++)
        if (!S.slots[v].available)
            printf("%s: SKIPPED, unavailable: %s\n", S.slots[v].text, S.slots[v].reason);
}

/* Adds one variant per non-default value of each of b's enumerated options
 * ("a|b|c"), plus threads=1 for backends other than ref: every option value
 * is exercised once, each against the reference. */
static int expand_options(const dk_backend_iface *b, const char **variants, int n,
                          char (*expanded)[160])
{
    char probe[64];
    if (dk_backend_probe(b, probe, sizeof probe) != DK_OK) return n; /* listed once, as unavailable */
    const char *name = dk_backend_name(b);
    if (strcmp(name, "ref") && n < MAX_VARIANTS) {
        snprintf(expanded[n], 160, "%s:threads=1", name);
        variants[n] = expanded[n];
        n++;
    }
    for (int i = 0; dk_backend_option_at(b, i); i++) {
        const dk_option_spec *o = dk_backend_option_at(b, i);
        if (!strchr(o->values, '|') || !strncmp(o->values, "int:", 4)) continue;
        for (const char *p = o->values; *p && n < MAX_VARIANTS;) {
            size_t len = strcspn(p, "|");
            if (strlen(o->def) != len || strncmp(p, o->def, len)) {
                snprintf(expanded[n], 160, "%s:%s=%.*s", name, o->key, (int)len, p);
                variants[n] = expanded[n];
                n++;
            }
            p += len + (p[len] == '|');
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    S.argv0 = argv[0];
    S.cases = 12;
    S.only_case = -1;
    S.margin = 0.5;
    S.max_ratio = 1.0;
    S.seed = (uint64_t)time(NULL);
    const char *variants[MAX_VARIANTS];
    int n_variants = 0;
#ifdef _OPENMP
    S.default_threads = omp_get_max_threads();
#endif
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (!strcmp(a, "--variant") && has_next) {
            if (n_variants == MAX_VARIANTS) {
                fprintf(stderr, "dk_ops_suite: error: more than %d variants\n", MAX_VARIANTS);
                return 2;
            }
            variants[n_variants++] = argv[++i];
        } else if (!strcmp(a, "--op") && has_next) {
            const og_op_gen *gen = og_generator_by_name(argv[++i]);
            if (!gen) {
                fprintf(stderr, "dk_ops_suite: error: no cases for op '%s' (see --list)\n", argv[i]);
                return 2;
            }
            if (S.n_ops < MAX_OPS) S.ops[S.n_ops++] = gen;
        } else if (!strcmp(a, "--cases") && has_next) {
            S.cases = atoi(argv[++i]);
            if (S.cases < 1) {
                fprintf(stderr, "dk_ops_suite: error: --cases wants a positive number\n");
                return 2;
            }
        } else if (!strcmp(a, "--case") && has_next) {
            S.only_case = atoi(argv[++i]);
        } else if (!strcmp(a, "--seed") && has_next) {
            S.seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--inject") && has_next) {
            S.inject = strtod(argv[++i], NULL);
            S.inject_set = 1;
            if (!(S.inject >= 0)) {
                fprintf(stderr, "dk_ops_suite: error: --inject wants a factor >= 0\n");
                return 2;
            }
        } else if (!strcmp(a, "--margin") && has_next) {
            S.margin = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--max-ratio") && has_next) {
            S.max_ratio = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--all-options")) {
            S.all_options = 1;
        } else if (!strcmp(a, "--list-variants")) {
            S.list_variants = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            S.verbose = 1;
        } else if (!strcmp(a, "--table")) {
            print_table();
            return 0;
        } else if (!strcmp(a, "--list")) {
            print_list();
            return 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "dk_ops_suite: error: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (S.n_ops == 0)
        for (int i = 0; og_generator(i) && S.n_ops < MAX_OPS; i++) S.ops[S.n_ops++] = og_generator(i);
    static char expanded[MAX_VARIANTS][160];
    if (n_variants == 0)
        for (int i = 0; i < dk_backend_count() && n_variants < MAX_VARIANTS; i++) {
            const dk_backend_iface *b = dk_backend_at(i);
            variants[n_variants++] = dk_backend_name(b);
            if (S.all_options) n_variants = expand_options(b, variants, n_variants, expanded);
        }
    if (S.list_variants) {
        for (int i = 0; i < n_variants; i++) printf("%s\n", variants[i]);
        return 0;
    }
    for (int i = 0; i < n_variants; i++)
        if (slot_init(&S.slots[S.n_slots++], variants[i]) != 0) return 2;
    if (slot_init(&S.ref, "ref") != 0 || !S.ref.available) {
        fprintf(stderr, "dk_ops_suite: error: the reference backend is unavailable: %s\n", S.ref.reason);
        return 1;
    }

    printf("dk_ops_suite: seed %llu (repeat with --seed %llu)\n", (unsigned long long)S.seed,
           (unsigned long long)S.seed);
    for (int v = 0; v < S.n_slots; v++) {
        char canon[512];
        printf("  variant %-26s %s, precision %s%s%s\n", S.slots[v].text,
               dk_variant_canonical(&S.slots[v].v, 1, canon, sizeof canon),
               dk_precision_get(S.slots[v].prec)->name,
               S.slots[v].available ? "" : ", unavailable: ", S.slots[v].available ? "" : S.slots[v].reason);
    }
    if (S.inject_set)
        printf("  injecting: one element per output moved to ref %s %g x its bound\n",
               S.inject >= 1 ? ">=" : "<=", S.inject);

    stats *rows = calloc((size_t)(S.n_ops * S.n_slots) + 1, sizeof *rows);
    if (!rows) return 1;
    int failures = 0;
    for (int o = 0; o < S.n_ops; o++) {
        const og_op_gen *gen = S.ops[o];
        int cases = S.cases > gen->classes ? S.cases : gen->classes;
        for (int k = 0; k < cases; k++) {
            if (S.only_case >= 0 && k != S.only_case) continue;
            failures += run_case(gen, k, &rows[o * S.n_slots]);
        }
    }
    print_summary(rows);
    for (int i = 0; i < S.n_ops * S.n_slots; i++) free(rows[i].ratios);
    free(rows);
    for (int v = 0; v < S.n_slots; v++) slot_close(&S.slots[v]);
    slot_close(&S.ref);
    return failures ? 1 : 0;
}
