/* The report of deltakern selftest, the tolerance table and the op list. */
#include <math.h>
#include <string.h>

#include "check/tolerance.h"
#include "deltakern/tolerance.h"
#include "drivers/selftest/selftest_print.h"

void dk__selftest_print_header(const dk_selftest_options *o, FILE *out, const dk__st_target *t, int n)
{
    fprintf(out, "deltakern selftest: seed %llu (repeat with --seed %llu), %d cases per op\n",
            (unsigned long long)o->seed, (unsigned long long)o->seed, o->cases);
    for (int i = 0; i < n; i++) {
        char canon[512];
        fprintf(out, "  %-28s %s, precision %s%s%s\n", t[i].text,
                t[i].v.backend ? dk_variant_canonical(&t[i].v, 1, canon, sizeof canon) : t[i].text,
                dk_precision_get(t[i].prec)->name, t[i].available ? "" : ", unavailable: ",
                t[i].available ? "" : t[i].reason);
    }
    if (o->inject_set)
        fprintf(out, "  injecting: one element per judged output moved to ref %s %g x its bound\n",
                o->inject >= 1 ? ">=" : "<=", o->inject);
}

/* --verbose: every op on every variant (cases, verdicts, K, worst errors). */
static void print_ops_table(const dk_selftest_options *o, FILE *out, const dk__st_target *t,
                            const dk__ops_result *r)
{
    fprintf(out, "\n%-18s %-26s %5s %5s %5s %5s %5s %-11s %11s %11s %11s %10s\n", "op", "variant", "cases",
            "pass", "fail", "mistr", "skip", "K", "worst u*S", "worst ratio", "median", "rel L2");
    int over = 0;
    for (int k = 0; k < r->n_ops; k++)
        for (int v = 0; v < r->n_targets; v++) {
            const dk__ops_stats *st = &r->rows[k * r->n_targets + v];
            fprintf(out, "%-18s %-26s %5d %5d %5d %5d %5d ", dk_op_name(r->ops[k]->op), t[v].text, st->cases,
                    st->passed, st->failed, st->mistrusted, st->skipped);
            if (st->compared == 0) {
                fprintf(out, "%s\n", st->skip_reason[0] ? st->skip_reason : "-");
                continue;
            }
            char kk[32];
            if (st->k_min == st->k_max) snprintf(kk, sizeof kk, "%lld", (long long)st->k_min);
            else snprintf(kk, sizeof kk, "%lld..%lld", (long long)st->k_min, (long long)st->k_max);
            int flag = st->worst_ratio > o->margin && st->worst_ratio <= 1.0;
            over += flag;
            fprintf(out, "%-11s %11.3g %10.3g%s %11.3g %10.3g\n", kk, st->worst_norm, st->worst_ratio,
                    flag ? "!" : " ", st->median_ratio, st->worst_l2);
        }
    if (over)
        fprintf(out, "%d op/variant rows have a worst ratio above the margin %g (marked !): inside the "
                     "bound, but with less slack than aimed for\n", over, o->margin);
}

/* --verbose: conformance's worst ratio per op of the judged nodes. */
static void print_conf_ops(FILE *out, const dk__st_target *t, int n, const dk__conf_result *conf)
{
    fprintf(out, "\nconformance: worst ratio per op (error / allowed; the node producing each output)\n");
    fprintf(out, "%-30s %-20s %8s %10s  %s\n", "variant", "op", "outputs", "worst", "judged by");
    for (int i = 0; i < n; i++) {
        if (!t[i].available) continue;
        for (int op = 0; op < DK_OP_COUNT; op++) {
            const dk__conf_op *c = &conf[i].ops[op];
            if (!c->judged) continue;
            fprintf(out, "%-30s %-20s %8d %10.3g  %s\n", t[i].text, op == DK_OP_NONE ? "?" : dk_op_name((dk_op)op),
                    c->judged, c->worst_ratio,
                    c->fallback == 0 ? "tolerance table"
                    : c->by_table    ? "tolerance table; non-float32 outputs: ONNX rtol/atol"
                                     : "no tolerance row: ONNX rtol 1e-3, atol 1e-7 against the reference");
        }
    }
}

void dk__selftest_print_report(const dk_selftest_options *o, FILE *out, const dk__st_target *t, int n,
                               const dk__ops_result *ops, const dk__conf_result *conf,
                               const dk_selftest_summary *sum)
{
    if (o->verbose && ops) print_ops_table(o, out, t, ops);
    if (o->verbose && conf) print_conf_ops(out, t, n, conf);
    fprintf(out, "\n%-30s %-8s %27s   %27s\n", "", "", "op suite (tolerance table)", "ONNX conformance (vs ref)");
    fprintf(out, "%-30s %-8s %6s %6s %6s %7s   %6s %6s %6s %7s\n", "variant", "result", "passed", "failed",
            "skipped", "worst", "passed", "failed", "skipped", "worst");
    for (int i = 0; i < n; i++) {
        if (!t[i].available) {
            fprintf(out, "%-30s %-8s %s\n", t[i].text, "SKIPPED", t[i].reason);
            continue;
        }
        char op_cols[64] = "     -      -       -       -", conf_cols[64] = "     -      -       -       -";
        int fail = 0;
        if (ops) {
            dk__ops_stats s;
            dk__ops_totals(ops, i, &s);
            snprintf(op_cols, sizeof op_cols, "%6d %6d %7d %7.3g", s.passed + s.mistrusted, s.failed, s.skipped,
                     s.worst_ratio);
            fail |= s.failed > 0;
        }
        if (conf) {
            snprintf(conf_cols, sizeof conf_cols, "%6d %6d %7d %7.3g", conf[i].passed, conf[i].failed,
                     conf[i].skipped, conf[i].worst_ratio);
            fail |= conf[i].failed > 0;
        }
        fprintf(out, "%-30s %-8s %s   %s\n", t[i].text, fail ? "FAIL" : "PASS", op_cols, conf_cols);
    }
    fprintf(out, "\nworst: the largest error as a fraction of what is allowed (pass: <= 1); the op suite\n"
                 "and conformance use the tolerance table in each variant's precision (ops without a\n"
                 "row: the ONNX rtol 1e-3, atol 1e-7 against the reference).\n");
    if (ops) {
        fprintf(out, "summary: %d cases, %d passed, %d failed, %d mistrusted, %d skipped (seed %llu%s)\n",
                sum->ops_cases, sum->ops_passed, sum->ops_failed, sum->ops_mistrusted, sum->ops_skipped,
                (unsigned long long)o->seed, o->inject_set ? ", injected errors" : "");
        if (sum->ops_mistrusted)
            fprintf(out, "%d op-suite case%s passed MISTRUSTED (reference nearly all zero), counted as passed.\n",
                    sum->ops_mistrusted, sum->ops_mistrusted == 1 ? "" : "s");
        if (sum->ops_differed)
            fprintf(out, "%d op-suite case%s gave other bits on the second run, where the plan declared it may "
                         "(NOTE lines above: a kernel its library marks non-deterministic, or one chosen by "
                         "timing; cuDNN: deterministic=on with a named or heuristic algorithm excludes both); "
                         "judged on the first run.\n",
                    sum->ops_differed, sum->ops_differed == 1 ? "" : "s");
        if (sum->ops_transform)
            fprintf(out, "%d op-suite case%s exceeded the table's bound on a transform-based convolution (Winograd, "
                         "FFT) and passed its looser bound, sqrt(u) S (NOTE lines above).\n",
                    sum->ops_transform, sum->ops_transform == 1 ? "" : "s");
        if (sum->broken > 0)
            fprintf(out, "%d op-suite case%s could not be built or failed on the reference (ERROR lines above)\n",
                    sum->broken, sum->broken == 1 ? "" : "s");
    }
    for (int i = 0; conf && i < n; i++)
        if (t[i].available) {
            fprintf(out, "the reference against the ONNX expected outputs: worst %.3g of atol %.0e + rtol "
                         "%.0e |expected|\n", conf[i].ref_worst, DK__CONF_ATOL, DK__CONF_RTOL);
            if (o->require_families || o->n_required)
                fprintf(out, "required families (conv, pool, gemm, batchnorm, activations, concat, softmax, "
                             "pad): %d cases passed\n", conf[i].required_passed);
            break;
        }
    fprintf(out, "\nselftest: %s\n", sum->failed || sum->broken > 0 ? "FAIL" : "PASS");
}

/* ---- the tolerance table and the op list ------------------------------------------ */

/* A reduction length typical of each op in image networks, for the printed table. */
static int64_t typical_k(dk_op op, int which)
{
    switch (op) {
    case DK_OP_CONV: return which == 0 ? 64 : which == 1 ? 576 : 4608;
    case DK_OP_GEMM: return 2048;
    case DK_OP_MATMUL: return 768;
    case DK_OP_EINSUM: return 32;
    case DK_OP_AVGPOOL: case DK_OP_MAXPOOL: return 9;
    case DK_OP_GLOBALAVGPOOL: case DK_OP_GLOBALMAXPOOL: case DK_OP_REDUCEMEAN: return 49;
    case DK_OP_SOFTMAX: return 1000;
    case DK_OP_LRN: return 5;
    default: return 1;
    }
}

void dk_selftest_print_tolerance_table(FILE *out)
{
    fprintf(out, "Tolerance table: |y - ref| <= tol per element, tol = c * S + c_out * |ref| (+ input\n"
                 "and argument terms for Sigmoid, Softmax, LRN, Clip), S = the computation on |inputs|.\n"
                 "Shown: (c + c_in + c_out) for the worst case |ref| = S, as a multiple of each\n"
                 "precision's u, then absolute; n = roundings in sequence. Derivation: check/tolerance.c.\n\n");
    fprintf(out, "%-22s %-7s", "op (typical K)", "n");
    for (int p = 0; p < DK_PREC_COUNT; p++) {
        const dk_precision_info *pi = dk_precision_get((dk_precision)p);
        char head[48];
        snprintf(head, sizeof head, "%s (u=2^%d)", pi->name, (int)round(log2(pi->u)));
        fprintf(out, " %-21s", head);
    }
    fprintf(out, "\n");
    for (int i = 0; dk__tolerance_row(i); i++) {
        const dk__tol_row_text *r = dk__tolerance_row(i);
        int variants = r->op == DK_OP_CONV ? 3 : 1;
        for (int w = 0; w < variants; w++) {
            int64_t K = typical_k(r->op, w);
            char label[48];
            if (!strcmp(r->k, "-")) snprintf(label, sizeof label, "%s", dk_op_name(r->op));
            else snprintf(label, sizeof label, "%s K=%lld", dk_op_name(r->op), (long long)K);
            dk_tolerance tol;
            dk_tolerance_typical(r->op, DK_PREC_FP32, K, &tol);
            fprintf(out, "%-22s %-7g", label, tol.n);
            for (int p = 0; p < DK_PREC_COUNT; p++) {
                double c;
                dk_tolerance_coefficient(r->op, (dk_precision)p, K, &c);
                const dk_precision_info *pi = dk_precision_get((dk_precision)p);
                char cell[48];
                if (c == 0) snprintf(cell, sizeof cell, "exact");
                else snprintf(cell, sizeof cell, "%.4gu = %.2e", c / pi->u, c);
                fprintf(out, " %-21s", cell);
            }
            fprintf(out, "\n");
        }
    }
    fprintf(out, "\nRows (K from the node; n = roundings in sequence; m = rounded operands per term;\n"
                 "T = %g, one transcendental function at 4 ulps):\n", DK_TOL_TRANSCENDENTAL_U);
    for (int i = 0; dk__tolerance_row(i); i++) {
        const dk__tol_row_text *r = dk__tolerance_row(i);
        fprintf(out, "  %-18s K=%-24s n=%-34s m=%d S=%s\n  %-18s   %s\n", dk_op_name(r->op), r->k, r->n, r->m,
                r->s, "", r->why);
    }
    fprintf(out, "\nPrecisions:\n");
    for (int p = 0; p < DK_PREC_COUNT; p++) {
        const dk_precision_info *pi = dk_precision_get((dk_precision)p);
        fprintf(out, "  %-5s u_in=%-9.3g u_acc=%-9.3g u_out=%-9.3g %s\n", pi->name, pi->u_in, pi->u_acc,
                pi->u_out, pi->why);
    }
}

void dk_selftest_list_ops(FILE *out)
{
    for (int i = 0; dk__op_gen_at(i); i++) {
        const dk__op_gen *gen = dk__op_gen_at(i);
        fprintf(out, "%-20s", dk_op_name(gen->op));
        for (int k = 0; k < gen->classes; k++) {
            char name[64];
            fprintf(out, "%s%s", k ? " | " : "", dk__op_gen_class_name(gen, k, name, sizeof name));
        }
        fprintf(out, "\n");
    }
}
