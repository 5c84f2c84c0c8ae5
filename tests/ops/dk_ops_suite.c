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
 * case failed, 2 for bad usage. The suite itself lives in the library
 * (harness/selftest_ops.c), shared with `deltakern selftest`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltakern/backend.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "drivers/selftest/selftest.h"
#include "check/tolerance.h"
#include "kernels/backend_iface.h"

#define MAX_VARIANTS 32

static struct {
    const char *argv0;
    int all_options, list_variants;
    double margin;
    dk__ops_config cfg;
    int n_targets;
    dk__st_target targets[MAX_VARIANTS];
    dk__st_target ref;
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
    for (int i = 0; dk__op_gen_at(i); i++) {
        const dk__op_gen *gen = dk__op_gen_at(i);
        printf("%-20s", dk_op_name(gen->op));
        for (int k = 0; k < gen->classes; k++) {
            char name[64];
            printf("%s%s", k ? " | " : "", dk__op_gen_class_name(gen, k, name, sizeof name));
        }
        printf("\n");
    }
}

/* ---- the summary ------------------------------------------------------------------------- */

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
}

static void print_summary(const dk__ops_result *r)
{
    printf("\n%-18s %-26s %5s %5s %5s %5s %5s %-11s %11s %11s %11s %10s\n", "op", "variant",
           "cases", "pass", "fail", "mistr", "skip", "K", "worst u*S", "worst ratio", "median",
           "rel L2");
    int over = 0;
    long totals[5] = {0};
    for (int o = 0; o < r->n_ops; o++)
        for (int v = 0; v < r->n_targets; v++) {
            const dk__ops_stats *st = &r->rows[o * r->n_targets + v];
            totals[0] += st->cases, totals[1] += st->passed, totals[2] += st->failed;
            totals[3] += st->mistrusted, totals[4] += st->skipped;
            printf("%-18s %-26s %5d %5d %5d %5d %5d ", dk_op_name(r->ops[o]->op), S.targets[v].text,
                   st->cases, st->passed, st->failed, st->mistrusted, st->skipped);
            if (st->compared == 0) {
                printf("%s\n", st->skip_reason[0] ? st->skip_reason : "-");
                continue;
            }
            char k[32];
            if (st->k_min == st->k_max) snprintf(k, sizeof k, "%lld", (long long)st->k_min);
            else snprintf(k, sizeof k, "%lld..%lld", (long long)st->k_min, (long long)st->k_max);
            int flag = st->worst_ratio > S.margin && st->worst_ratio <= 1.0;
            over += flag;
            printf("%-11s %11.3g %10.3g%s %11.3g %10.3g\n", k, st->worst_norm, st->worst_ratio,
                   flag ? "!" : " ", st->median_ratio, st->worst_l2);
        }
    printf("\nsummary: %ld cases, %ld passed, %ld failed, %ld mistrusted, %ld skipped "
           "(seed %llu%s)\n",
           totals[0], totals[1], totals[2], totals[3], totals[4], (unsigned long long)S.cfg.seed,
           S.cfg.inject_set ? ", injected errors" : "");
    if (over)
        printf("%d op/variant rows have a worst ratio above the margin %g (marked !): inside the "
               "bound, but with less slack than aimed for\n", over, S.margin);
    for (int v = 0; v < S.n_targets; v++)
        if (!S.targets[v].available)
            printf("%s: SKIPPED, unavailable: %s\n", S.targets[v].text, S.targets[v].reason);
}

/* ---- variants ------------------------------------------------------------------------ */

/* Adds one variant per non-default value of each of b's enumerated options
 * ("a|b|c"), plus threads=1 for backends other than ref: every option value
 * is exercised once, each against the reference. */
static int expand_options(const dk_backend_iface *b, const char **variants, int n,
                          char (*expanded)[160])
{
    char probe[64];
    if (dk_backend_probe(b, probe, sizeof probe) != DK_OK)
        return n; /* listed once, as unavailable */
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
    S.margin = 0.5;
    dk__ops_config *cfg = &S.cfg;
    dk__ops_config_default(cfg);
    cfg->seed = (uint64_t)time(NULL);
    cfg->repro = argv[0];
    cfg->log = print_line;
    const char *variants[MAX_VARIANTS];
    int n_variants = 0;
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
            const dk__op_gen *gen = dk__op_gen_find(argv[++i]);
            if (!gen) {
                fprintf(stderr, "dk_ops_suite: error: no cases for op '%s' (see --list)\n",
                        argv[i]);
                return 2;
            }
            if (cfg->n_ops < DK__OPS_MAX_OPS) cfg->ops[cfg->n_ops++] = gen;
        } else if (!strcmp(a, "--cases") && has_next) {
            cfg->cases = atoi(argv[++i]);
            if (cfg->cases < 1) {
                fprintf(stderr, "dk_ops_suite: error: --cases wants a positive number\n");
                return 2;
            }
        } else if (!strcmp(a, "--case") && has_next) {
            cfg->only_case = atoi(argv[++i]);
        } else if (!strcmp(a, "--seed") && has_next) {
            cfg->seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--inject") && has_next) {
            cfg->inject = strtod(argv[++i], NULL);
            cfg->inject_set = 1;
            if (!(cfg->inject >= 0)) {
                fprintf(stderr, "dk_ops_suite: error: --inject wants a factor >= 0\n");
                return 2;
            }
        } else if (!strcmp(a, "--margin") && has_next) {
            S.margin = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--max-ratio") && has_next) {
            cfg->max_ratio = strtod(argv[++i], NULL);
        } else if (!strcmp(a, "--all-options")) {
            S.all_options = 1;
        } else if (!strcmp(a, "--list-variants")) {
            S.list_variants = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            cfg->verbose = 1;
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
        if (dk__st_target_open(&S.targets[S.n_targets++], variants[i]) != DK_OK) {
            fprintf(stderr, "dk_ops_suite: error: %s\n", dk_last_error());
            return 2;
        }
    if (dk__st_target_open(&S.ref, "ref") != DK_OK || !S.ref.available) {
        fprintf(stderr, "dk_ops_suite: error: the reference backend is unavailable: %s\n",
                S.ref.reason);
        return 1;
    }

    printf("dk_ops_suite: seed %llu (repeat with --seed %llu)\n", (unsigned long long)cfg->seed,
           (unsigned long long)cfg->seed);
    for (int v = 0; v < S.n_targets; v++) {
        const dk__st_target *t = &S.targets[v];
        char canon[512];
        printf("  variant %-26s %s, precision %s%s%s\n", t->text,
               dk_variant_canonical(&t->v, 1, canon, sizeof canon), dk_precision_get(t->prec)->name,
               t->available ? "" : ", unavailable: ", t->available ? "" : t->reason);
    }
    if (cfg->inject_set)
        printf("  injecting: one element per output moved to ref %s %g x its bound\n",
               cfg->inject >= 1 ? ">=" : "<=", cfg->inject);

    dk__ops_result r;
    if (dk__ops_run(cfg, &S.ref, S.targets, S.n_targets, &r) != DK_OK) {
        fprintf(stderr, "dk_ops_suite: error: %s\n", dk_last_error());
        return 1;
    }
    print_summary(&r);
    int failures = r.failures;
    dk__ops_result_free(&r);
    for (int v = 0; v < S.n_targets; v++) dk__st_target_close(&S.targets[v]);
    dk__st_target_close(&S.ref);
    return failures ? 1 : 0;
}
