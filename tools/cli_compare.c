/* deltakern compare: two benchmark results, node by node; the story in one
 * line, then the table. Exit code 1 when a regression is found (a CI gate). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/bench.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

/* A percentage, "10" or "10%", within .lo to .hi, stored as a fraction. */
static int parse_pct(const dk_cli_opt *opt, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "%")) || !(v >= opt->lo && v <= opt->hi)) return DK_CLI_BAD;
    *(double *)opt->dest = v / 100;
    return DK_EXIT_OK;
}

static const char *verdict(dk_change c)
{
    switch (c) {
    case DK_CHANGE_REGRESSION: return "REGRESSION";
    case DK_CHANGE_SLOWER: return "slower";
    case DK_CHANGE_FASTER: return "faster";
    default: return "=";
    }
}

/* s in `width` terminal columns (UTF-8 aware: × and → are one column). */
static void print_cell(const char *s, int width)
{
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) == 0x80) {
            putchar(*p);
            continue;
        }
        if (cols == width) break;
        putchar(*p);
        cols++;
    }
    printf("%*s", width - cols, "");
}

static void print_row(const dk_compare_row *r)
{
    char shown[48];
    size_t len = strlen(r->name);
    /* long ONNX names differ at their end: keep the end */
    if (len > 40) snprintf(shown, sizeof shown, "...%s", r->name + len - 37);
    else snprintf(shown, sizeof shown, "%s", r->name);
    print_cell(shown, 40);
    putchar(' ');
    print_cell(r->desc && r->desc[0] ? r->desc : r->op, 24);
    printf(" %10.4f %10.4f %6.3f [%6.3f, %6.3f] %8.2g %7.1f%%  %-10s",
           r->base_median * 1e3, r->cand_median * 1e3, r->ratio, r->ratio_lo, r->ratio_hi, r->p_adj,
           r->share * 100, verdict(r->change));
    for (int e = 0; e < r->n_counters; e++) {
        const char *name = strstr(r->counter_names[e], "::");
        name = name ? name + 2 : r->counter_names[e];
        if (r->counter_base[e] != 0)
            printf(" %s %+.0f%%", name, (r->counter_cand[e] / r->counter_base[e] - 1) * 100);
        else
            printf(" %s %.0f→%.0f", name, r->counter_base[e], r->counter_cand[e]);
    }
    if (r->covers && r->covers[0]) printf("  covers %s", r->covers);
    printf("\n");
}

static void print_report(const dk_compare *c, const char *base, const char *cand, int top)
{
    printf("%s\n\n", dk_compare_story(c));
    /* FILE#K: a rank of a run under mpirun, named with its host */
    const char *hb = dk_compare_host(c, 0), *hc = dk_compare_host(c, 1);
    printf("base %s (%s%s%s), candidate %s (%s%s%s)\n", base, dk_compare_base_variant(c), hb ? ", on " : "",
           hb ? hb : "", cand, dk_compare_cand_variant(c), hc ? ", on " : "", hc ? hc : "");
    printf("host load: base %s; candidate %s\n", dk_compare_host_load(c, 0), dk_compare_host_load(c, 1));
    printf("%-40s %-24s %10s %10s %6s %16s %8s %8s  %-10s counters\n", "node", "op", "base ms", "cand ms",
           "ratio", "95% CI", "p (Holm)", "share", "verdict");
    print_row(dk_compare_end_to_end(c));
    int n = dk_compare_row_count(c);
    for (int i = 0; i < n && i < top; i++) print_row(dk_compare_row_at(c, i));
    int regressions_hidden = 0;
    for (int i = top; i < n; i++) regressions_hidden += dk_compare_row_at(c, i)->change == DK_CHANGE_REGRESSION;
    if (n > top)
        printf("... %d more node%s (%d of them regressions; --top %d shows all)\n", n - top, n - top > 1 ? "s" : "",
               regressions_hidden, n);
    for (int side = 0; side < 2; side++) {
        int m = dk_compare_unmatched_count(c, side);
        if (!m) continue;
        printf("only in %s (%d):", side ? "candidate" : "base", m);
        for (int i = 0; i < m && i < 6; i++) {
            double t = dk_compare_unmatched_median(c, side, i);
            printf(" %s", dk_compare_unmatched_at(c, side, i));
            if (!isnan(t)) printf(" (%.4f ms)", t * 1e3);
        }
        printf("%s\n", m > 6 ? " ... (--json lists all)" : "");
    }
}

int dk_cmd_compare(int argc, char **argv)
{
    dk_compare_options o;
    dk_compare_options_default(&o);
    int top = 20, force = 0;
    const char *json = NULL, *files[2];
    const dk_cli_opt opts[] = {
        {"threshold", 0, DK_CLI_CUSTOM, &o.threshold, "PCT", .parse = parse_pct, .lo = 0, .hi = 10000,
         .expect = "a percentage, 0 to 10000", .help = "smallest slowdown that counts as a regression (default 15)"},
        {"alpha", 0, DK_CLI_DOUBLE, &o.alpha, "A", .lo = 0, .hi = 1, .flags = DK_CLI_OPEN_LO | DK_CLI_OPEN_HI,
         .help = "family-wise significance level (default 0.05)"},
        {"min-share", 0, DK_CLI_CUSTOM, &o.min_share, "PCT", .parse = parse_pct, .lo = 0, .hi = 99.99,
         .expect = "a percentage below 100", .help = "a node must add this % of the base's node time (default 1)"},
        {"top", 0, DK_CLI_INT, &top, "N", .min = 0, .max = 1000000,
         .help = "table rows, largest contributions first (default 20)"},
        {"base-variant", 0, DK_CLI_STRING, &o.base_variant, "V",
         .help = "variant of BASE by name or index (default: the first)"},
        {"cand-variant", 0, DK_CLI_STRING, &o.cand_variant, "V",
         .help = "variant of CAND by name or index (default: the first)"},
        {"gate-end-to-end", 0, DK_CLI_FLAG, &o.gate_end_to_end,
         .help = "the end to end can fail the gate too (for a quiet host:\n"
                 "on a shared one the load moves every node together)"},
        {"json", 0, DK_CLI_STRING, &json, "FILE", .help = "also write the comparison as JSON"},
        {"force", 0, DK_CLI_FLAG, &force, .help = "overwrite an existing --json file"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "compare", .opts = opts, .args = "BASE.json CAND.json", .arg_name = "result files", .min_args = 2,
        .max_args = 2, .argv_out = files,
        .about = "Compares two results of deltakern bench on the same model. Nodes are matched\n"
                 "by name; per node: the ratio of medians (candidate/base) with a 95% interval\n"
                 "(Hodges-Lehmann on log times), the Mann-Whitney test on the repetitions\n"
                 "(Holm-adjusted over all nodes), the node's share of the total change and its\n"
                 "counter changes. A node regression is significant after the adjustment AND\n"
                 "larger than the threshold with confidence: the lower end of its simultaneous\n"
                 "interval, over the common factor of all nodes when they all got slower, above\n"
                 "1 + threshold AND adds at least --min-share of the base's node time. The end\n"
                 "to end is reported; with --gate-end-to-end it is a regression too when it is\n"
                 "significant and the common factor or its own interval is beyond the threshold.\n"
                 "A result of mpirun deltakern bench holds every rank's: RUN.json#K selects\n"
                 "rank K's (compare RUN.json#0 RUN.json#1 contrasts two machines); RUN.json\n"
                 "alone is rank 0's. Either side may be an ONNX Runtime profile (the trace\n"
                 "enableProfiling writes; bench/ort_profile.mjs): its nodes are matched to the\n"
                 "other side's by ONNX node name (a fused ORT node covers the nodes it took in),\n"
                 "each run one repetition; ORT-only nodes (layout reorders) are listed.",
        .epilog = "exit codes: 0 no regression, 1 a regression, 2 bad usage or input."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    const char *base = files[0], *cand = files[1];
    dk_compare *c;
    dk_status st = dk_compare_files(base, cand, &o, &c);
    if (st != DK_OK) return dk_cli_fail(st);
    print_report(c, base, cand, top);
    if (json && (st = dk_compare_write_json(c, json, force)) != DK_OK) {
        dk_compare_destroy(c);
        return dk_cli_fail(st);
    }
    rc = dk_compare_regressions(c) > 0 ? DK_EXIT_FAILURE : DK_EXIT_OK;
    dk_compare_destroy(c);
    return rc;
}
