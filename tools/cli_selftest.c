/* deltakern selftest: every backend against the reference, in one command.
 * Runs the op suite (every op on random shapes, judged with the tolerance
 * table) and the ONNX node conformance cases (the reference against their
 * expected outputs, each variant against the reference with the table) and
 * prints one row per variant. The suites live in the library
 * (drivers/selftest/selftest.h); this file parses options and prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "deltakern/backend.h"
#include "deltakern/variant.h"
#include "drivers/selftest/selftest.h"
#include "tools/cli.h"

#define MAX_TARGETS 32
#define DEFAULT_CONFORMANCE "/usr/share/libonnx-testdata/data"

static const char *const suites[] = {"node", "pytorch-converted"};
#define N_SUITES 2

typedef struct selftest_opts {
    const char *patterns[MAX_TARGETS];
    int n_patterns;
    const char *conformance;  /* the data root holding node/ and pytorch-converted/ */
    int run_ops, run_conformance;
    dk__ops_config ops;
    dk__conf_config conf;
} selftest_opts;

static void help(void)
{
    printf(
        "usage: deltakern selftest [--backend VARIANT]... [--cases N] [--seed S] [--op NAME]...\n"
        "                          [--conformance DIR] [--no-conformance] [--no-ops]\n"
        "                          [--filter SUBSTR] [--inject X] [--verbose]\n"
        "\n"
        "Validates backends against the reference: the op suite (every op on random\n"
        "shapes and data, judged with the tolerance table) and the ONNX node\n"
        "conformance cases (the reference against their expected outputs, each variant\n"
        "against the reference with the tolerance table in its precision). Prints one\n"
        "row per variant: op-suite and conformance cases passed, failed and skipped,\n"
        "and the worst error as a fraction of its bound. Exit status 0 when nothing\n"
        "failed, 1 when a case failed, 2 for bad usage.\n"
        "\n"
        "options:\n"
        "  -b, --backend VARIANT  variant to check, e.g. onednn:fpmath=bf16; a/b values\n"
        "                         expand; repeatable (default: every backend compiled in,\n"
        "                         default options; unavailable ones are listed SKIPPED)\n"
        "      --cases N          random cases per op (default 12; at least one per shape\n"
        "                         class of each op)\n"
        "      --seed S           seed of the random shapes and data (default: the clock;\n"
        "                         printed)\n"
        "      --op NAME          only this ONNX op in the op suite (repeatable)\n"
        "      --case K           only case K of each op (with --seed: reruns one case)\n"
        "      --conformance DIR  ONNX test data root with node/ and pytorch-converted/\n"
        "                         (default " DEFAULT_CONFORMANCE ")\n"
        "      --no-conformance   skip the conformance cases\n"
        "      --no-ops           skip the op suite\n"
        "      --filter SUBSTR    only conformance cases whose name contains SUBSTR\n"
        "      --inject X         teeth check: move one element of every judged output to\n"
        "                         X times its bound (X >= 1 must fail, X < 1 must pass)\n"
        "  -v, --verbose          one line per case, skipped conformance cases included\n");
}

static int bad_value(const char *opt, const char *val, const char *want)
{
    dk_cli_error("selftest: %s '%s': expected %s", opt, val, want);
    return DK_EXIT_USAGE;
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
}

enum { OPT_CASES = 256, OPT_SEED, OPT_OP, OPT_CASE, OPT_CONF, OPT_NO_CONF, OPT_NO_OPS, OPT_FILTER,
       OPT_INJECT };

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, selftest_opts *o)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"backend", required_argument, NULL, 'b'},
        {"cases", required_argument, NULL, OPT_CASES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"op", required_argument, NULL, OPT_OP},
        {"case", required_argument, NULL, OPT_CASE},
        {"conformance", required_argument, NULL, OPT_CONF},
        {"no-conformance", no_argument, NULL, OPT_NO_CONF},
        {"no-ops", no_argument, NULL, OPT_NO_OPS},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"inject", required_argument, NULL, OPT_INJECT},
        {"verbose", no_argument, NULL, 'v'},
        {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    long v;
    char *end;
    while ((c = getopt_long(argc, argv, "hb:v", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return DK_EXIT_OK;
        case 'b':
            if (o->n_patterns == MAX_TARGETS)
                return bad_value("--backend", optarg, "at most 32 variants");
            o->patterns[o->n_patterns++] = optarg;
            break;
        case OPT_CASES:
            if (!parse_count(optarg, 1, 100000, &v))
                return bad_value("--cases", optarg, "a positive integer");
            o->ops.cases = (int)v;
            break;
        case OPT_SEED:
            o->ops.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-')
                return bad_value("--seed", optarg, "a non-negative integer");
            break;
        case OPT_OP: {
            const dk__op_gen *gen = dk__op_gen_find(optarg);
            if (!gen) {
                char names[1024] = "";
                for (int i = 0; dk__op_gen_at(i); i++) {
                    size_t used = strlen(names);
                    snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                             dk_op_name(dk__op_gen_at(i)->op));
                }
                dk_cli_error("selftest: --op '%s': the op suite has no cases for it (ops: %s)",
                             optarg, names);
                return DK_EXIT_USAGE;
            }
            if (o->ops.n_ops < DK__OPS_MAX_OPS) o->ops.ops[o->ops.n_ops++] = gen;
            break;
        }
        case OPT_CASE:
            if (!parse_count(optarg, 0, 100000, &v))
                return bad_value("--case", optarg, "a case number >= 0");
            o->ops.only_case = (int)v;
            break;
        case OPT_CONF: o->conformance = optarg; break;
        case OPT_NO_CONF: o->run_conformance = 0; break;
        case OPT_NO_OPS: o->run_ops = 0; break;
        case OPT_FILTER: o->conf.filter = optarg; break;
        case OPT_INJECT:
            o->ops.inject = strtod(optarg, &end);
            if (end == optarg || *end || !(o->ops.inject >= 0))
                return bad_value("--inject", optarg, "a factor >= 0");
            o->ops.inject_set = o->conf.inject_set = 1;
            o->conf.inject = o->ops.inject;
            break;
        case 'v': o->ops.verbose = o->conf.verbose = 1; break;
        default: return dk_cli_bad_option("selftest", argc, argv);
        }
    }
    if (optind < argc) {
        dk_cli_error("selftest: unexpected argument '%s' (see deltakern selftest --help)",
                     argv[optind]);
        return DK_EXIT_USAGE;
    }
    if (!o->run_ops && !o->run_conformance) {
        dk_cli_error("selftest: --no-ops and --no-conformance leave nothing to run");
        return DK_EXIT_USAGE;
    }
    return -1;
}

/* Opens the variants named on the command line (expanded) or every backend
 * compiled in. Returns -1 to continue, or an exit code. */
static int open_targets(const selftest_opts *o, dk__st_target *t, int *n)
{
    *n = 0;
    if (o->n_patterns == 0) {
        for (int i = 0; i < dk_backend_count() && *n < MAX_TARGETS; i++)
            if (dk__st_target_open(&t[(*n)++], dk_backend_name(dk_backend_at(i))) != DK_OK)
                return dk_cli_fail(DK_ERR_INVALID);
        return -1;
    }
    for (int p = 0; p < o->n_patterns; p++) {
        dk_variant vs[MAX_TARGETS];
        int count = 0;
        if (dk_variant_expand(o->patterns[p], vs, MAX_TARGETS - *n, &count) != DK_OK) {
            dk_cli_error("selftest: --backend '%s': %s", o->patterns[p], dk_last_error());
            return DK_EXIT_USAGE;
        }
        for (int i = 0; i < count; i++) {
            char text[256];
            dk_variant_canonical(&vs[i], 0, text, sizeof text);
            if (dk__st_target_open(&t[(*n)++], text) != DK_OK) {
                dk_cli_error("selftest: --backend '%s': %s", o->patterns[p], dk_last_error());
                return DK_EXIT_USAGE;
            }
        }
    }
    return -1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Runs both conformance suites on every available target. *ran receives
 * whether any suite was found. */
static int run_conformance(selftest_opts *o, dk__st_target *t, int n, dk__conf_result *res,
                           int *ran)
{
    *ran = 0;
    if (!is_dir(o->conformance)) {
        printf("conformance: %s not found (install Debian's libonnx-testdata): skipped\n",
               o->conformance);
        return -1;
    }
    for (int s = 0; s < N_SUITES; s++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", o->conformance, suites[s]);
        if (!is_dir(dir)) {
            printf("conformance: %s not found: suite %s skipped\n", dir, suites[s]);
            continue;
        }
        *ran = 1;
        for (int i = 0; i < n; i++) {
            if (!t[i].available) continue;
            char repro[4096];
            char inject[64] = "";
            if (o->conf.inject_set) snprintf(inject, sizeof inject, " --inject %g", o->conf.inject);
            snprintf(repro, sizeof repro,
                     "deltakern selftest --backend '%.255s' --no-ops --conformance %.3500s --seed "
                     "%llu%s",
                     t[i].text, o->conformance, (unsigned long long)o->conf.seed, inject);
            o->conf.repro = repro;
            if (dk__conformance_run_root(&o->conf, &t[i].v, dir, &res[i]) != DK_OK) {
                dk_cli_fail(DK_ERR_IO);
                return DK_EXIT_FAILURE;
            }
        }
    }
    return -1;
}

/* --verbose: the worst ratio of every op on every variant, in both suites. */
static void print_per_op(const selftest_opts *o, const dk__st_target *t, int n,
                         const dk__ops_result *ops, const dk__conf_result *conf, int conf_ran)
{
    printf("\nworst ratio per op (error / bound; conformance: the node producing each output)\n");
    printf("%-30s %-20s %8s %10s   %8s %10s\n", "variant", "op", "op cases", "worst", "outputs",
           "worst");
    for (int i = 0; i < n; i++) {
        if (!t[i].available) continue;
        for (int op = 0; op < DK_OP_COUNT; op++) {
            const dk__ops_stats *st = NULL;
            for (int k = 0; o->run_ops && k < ops->n_ops; k++)
                if ((int)ops->ops[k]->op == op) st = &ops->rows[k * ops->n_targets + i];
            const dk__conf_op *c = o->run_conformance && conf_ran ? &conf[i].ops[op] : NULL;
            if ((!st || !st->compared) && (!c || !c->judged)) continue;
            char a[32] = "-", b[32] = "-", x[32] = "-", y[48] = "-";
            if (st && st->compared) {
                snprintf(a, sizeof a, "%d", st->compared);
                snprintf(b, sizeof b, "%.3g", st->worst_ratio);
            }
            if (c && c->judged) {
                snprintf(x, sizeof x, "%d", c->judged);
                snprintf(y, sizeof y, "%.3g%s", c->worst_ratio, c->by_table ? "" : " (rtol)");
            }
            printf("%-30s %-20s %8s %10s   %8s %10s\n", t[i].text, dk_op_name((dk_op)op), a, b, x,
                   y);
        }
    }
}

static void print_table(const selftest_opts *o, const dk__st_target *t, int n,
                        const dk__ops_result *ops, const dk__conf_result *conf, int conf_ran,
                        int *failed)
{
    printf("\n%-30s %-8s %27s   %27s\n", "", "", "op suite (tolerance table)",
           "ONNX conformance (vs ref)");
    printf("%-30s %-8s %6s %6s %6s %7s   %6s %6s %6s %7s\n", "variant", "result", "passed",
           "failed", "skipped", "worst", "passed", "failed", "skipped", "worst");
    int mistrusted = 0;
    for (int i = 0; i < n; i++) {
        if (!t[i].available) {
            printf("%-30s %-8s %s\n", t[i].text, "SKIPPED", t[i].reason);
            continue;
        }
        char op_cols[64] = "     -      -       -       -",
             conf_cols[64] = "     -      -       -       -";
        int fail = 0;
        if (o->run_ops) {
            dk__ops_stats s;
            dk__ops_totals(ops, i, &s);
            snprintf(op_cols, sizeof op_cols, "%6d %6d %7d %7.3g", s.passed + s.mistrusted,
                     s.failed, s.skipped, s.worst_ratio);
            fail |= s.failed > 0;
            mistrusted += s.mistrusted;
        }
        if (o->run_conformance && conf_ran) {
            const dk__conf_result *c = &conf[i];
            snprintf(conf_cols, sizeof conf_cols, "%6d %6d %7d %7.3g", c->passed, c->failed,
                     c->skipped, c->worst_ratio);
            fail |= c->failed > 0;
        }
        *failed |= fail;
        printf("%-30s %-8s %s   %s\n", t[i].text, fail ? "FAIL" : "PASS", op_cols, conf_cols);
    }
    printf(
        "\nworst: the largest error as a fraction of what is allowed (pass: <= 1); the op suite\n"
        "and conformance use the tolerance table in each variant's precision (ops without a\n"
        "row: the ONNX rtol 1e-3, atol 1e-7 against the reference).\n");
    if (mistrusted)
        printf(
            "%d op-suite cases passed MISTRUSTED (reference nearly all zero), counted as passed.\n",
            mistrusted);
    if (o->run_conformance && conf_ran)
        for (int i = 0; i < n; i++)
            if (t[i].available) {
                printf("the reference against the ONNX expected outputs: worst %.3g of atol 1e-7 + "
                       "rtol 1e-3 |expected|\n", conf[i].ref_worst);
                break;
            }
}

int dk_cmd_selftest(int argc, char **argv)
{
    static selftest_opts o;
    memset(&o, 0, sizeof o);
    dk__ops_config_default(&o.ops);
    o.ops.seed = (uint64_t)time(NULL);
    o.ops.repro = "deltakern selftest --no-conformance";
    o.ops.variant_flag = "--backend";
    o.ops.log = print_line;
    o.conf.log = print_line;
    o.conf.quiet_skips = 1;
    dk__conf_required_families(&o.conf);
    o.conformance = DEFAULT_CONFORMANCE;
    o.run_ops = o.run_conformance = 1;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.conf.verbose) o.conf.quiet_skips = 0;
    o.conf.seed = o.ops.seed;

    static dk__st_target targets[MAX_TARGETS];
    int n = 0, exit_code = DK_EXIT_OK;
    dk__st_target ref;
    memset(&ref, 0, sizeof ref);
    if ((rc = open_targets(&o, targets, &n)) >= 0) goto done;
    if (dk__st_target_open(&ref, "ref") != DK_OK || !ref.available) {
        dk_cli_error("selftest: the reference backend is unavailable: %s", ref.reason);
        rc = DK_EXIT_FAILURE;
        goto done;
    }
    printf("deltakern selftest: seed %llu (repeat with --seed %llu), %d cases per op\n",
           (unsigned long long)o.ops.seed, (unsigned long long)o.ops.seed, o.ops.cases);
    for (int i = 0; i < n; i++) {
        char canon[512];
        printf("  %-28s %s, precision %s%s%s\n", targets[i].text,
               dk_variant_canonical(&targets[i].v, 1, canon, sizeof canon),
               dk_precision_get(targets[i].prec)->name,
               targets[i].available ? "" : ", unavailable: ",
               targets[i].available ? "" : targets[i].reason);
    }
    if (o.ops.inject_set)
        printf("  injecting: one element per judged output moved to ref %s %g x its bound\n",
               o.ops.inject >= 1 ? ">=" : "<=", o.ops.inject);

    dk__ops_result ops = {0};
    if (o.run_ops && dk__ops_run(&o.ops, &ref, targets, n, &ops) != DK_OK) {
        rc = dk_cli_fail(DK_ERR_INTERNAL);
        goto done;
    }
    static dk__conf_result conf[MAX_TARGETS];
    memset(conf, 0, sizeof conf);
    int conf_ran = 0;
    if (o.run_conformance && (rc = run_conformance(&o, targets, n, conf, &conf_ran)) >= 0) {
        dk__ops_result_free(&ops);
        goto done;
    }
    int failed = 0;
    if (o.ops.verbose) print_per_op(&o, targets, n, &ops, conf, conf_ran);
    print_table(&o, targets, n, &ops, conf, conf_ran, &failed);
    int broken = 0;
    if (o.run_ops) {
        int counted = 0;
        for (int i = 0; i < n; i++) {
            dk__ops_stats s;
            dk__ops_totals(&ops, i, &s);
            counted += s.failed;
        }
        broken = ops.failures - counted;
        if (broken > 0)
            printf("%d op-suite cases could not be built or failed on the reference (ERROR lines "
                   "above)\n", broken);
    }
    dk__ops_result_free(&ops);
    exit_code = failed || broken > 0 ? DK_EXIT_FAILURE : DK_EXIT_OK;
    printf("\nselftest: %s\n", exit_code == DK_EXIT_OK ? "PASS" : "FAIL");
    rc = exit_code;
done:
    for (int i = 0; i < n; i++) dk__st_target_close(&targets[i]);
    dk__st_target_close(&ref);
    return rc;
}
