/* deltakern selftest: the command line over dk_selftest_run
 * (drivers/selftest/): every backend against the reference, op suite and
 * ONNX node conformance, one row per variant. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltakern/selftest.h"
#include "tools/cli.h"

#define MAX_LIST 64

typedef struct selftest_cli {
    dk_selftest_options o;
    const char *variants[MAX_LIST], *ops[MAX_LIST], *roots[16];
    const char *required[MAX_LIST], *except[16], *excused[16];
    int list_variants, table, list_ops, skip_status;
} selftest_cli;

static void help(void)
{
    printf(
        "usage: deltakern selftest [--backend VARIANT]... [options]\n"
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
        "      --all-options      without --backend: also every non-default value of each\n"
        "                         backend option, one at a time, and threads=1\n"
        "      --list-variants    print the variants that would run, one a line, and exit\n"
        "op suite:\n"
        "      --cases N          random cases per op (default 12; at least one per shape\n"
        "                         class of each op)\n"
        "      --seed S           seed of the random shapes and data (default: the clock;\n"
        "                         printed)\n"
        "      --op NAME          only this ONNX op (repeatable; see --list)\n"
        "      --case K           only case K of each op (with --seed: reruns one case)\n"
        "      --max-ratio R      fail cases whose error exceeds R x the bound (default 1;\n"
        "                         0 demands bit-identical outputs, e.g. of the reference)\n"
        "      --margin R         flag ops whose worst ratio exceeds R (default 0.5; -v)\n"
        "      --no-ops           skip the op suite\n"
        "      --list             list the ops and their shape classes and exit\n"
        "      --table            print the tolerance table (op x precision) and exit\n"
        "ONNX conformance:\n"
        "      --conformance DIR  test data root with node/ and pytorch-converted/\n"
        "                         (default " DK_SELFTEST_DATA ")\n"
        "      --root DIR         one suite directory instead (repeatable)\n"
        "      --no-conformance   skip the conformance cases\n"
        "      --filter SUBSTR    only cases whose name contains SUBSTR\n"
        "      --require PREFIX   a skipped case whose name starts with PREFIX fails\n"
        "                         (repeatable) ...\n"
        "      --except SUBSTR    ... unless its name contains SUBSTR ...\n"
        "      --excuse SUBSTR    ... or its skip reason does\n"
        "      --require-families require the families every backend must support (conv,\n"
        "                         pool, gemm, batchnorm, activations, concat, softmax, pad)\n"
        "both:\n"
        "      --inject X         teeth check: move one element of every judged output to\n"
        "                         X times its bound (X >= 1 must fail, X < 1 must pass)\n"
        "      --skip-status N    exit status when nothing could be checked: every variant\n"
        "                         unavailable or no test data (default 0; 77 is what CTest\n"
        "                         and automake read as skipped)\n"
        "  -v, --verbose          one line per case; per-op tables\n");
}

static int bad_value(const char *opt, const char *val, const char *want)
{
    dk_cli_error("selftest: %s '%s': expected %s", opt, val, want);
    return DK_EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int add(const char **list, int *n, int max, const char *opt, const char *value)
{
    if (*n == max) {
        dk_cli_error("selftest: more than %d %s options", max, opt);
        return 0;
    }
    list[(*n)++] = value;
    return 1;
}

enum { OPT_CASES = 256, OPT_SEED, OPT_OP, OPT_CASE, OPT_CONF, OPT_ROOT, OPT_NO_CONF, OPT_NO_OPS, OPT_FILTER,
       OPT_INJECT, OPT_ALL, OPT_LISTV, OPT_MAXR, OPT_MARGIN, OPT_LIST, OPT_TABLE, OPT_REQ, OPT_EXCEPT,
       OPT_EXCUSE, OPT_FAMILIES, OPT_SKIP };

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, selftest_cli *c)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},           {"backend", required_argument, NULL, 'b'},
        {"cases", required_argument, NULL, OPT_CASES}, {"seed", required_argument, NULL, OPT_SEED},
        {"op", required_argument, NULL, OPT_OP},    {"case", required_argument, NULL, OPT_CASE},
        {"conformance", required_argument, NULL, OPT_CONF}, {"root", required_argument, NULL, OPT_ROOT},
        {"no-conformance", no_argument, NULL, OPT_NO_CONF}, {"no-ops", no_argument, NULL, OPT_NO_OPS},
        {"filter", required_argument, NULL, OPT_FILTER}, {"inject", required_argument, NULL, OPT_INJECT},
        {"all-options", no_argument, NULL, OPT_ALL}, {"list-variants", no_argument, NULL, OPT_LISTV},
        {"max-ratio", required_argument, NULL, OPT_MAXR}, {"margin", required_argument, NULL, OPT_MARGIN},
        {"list", no_argument, NULL, OPT_LIST},      {"table", no_argument, NULL, OPT_TABLE},
        {"require", required_argument, NULL, OPT_REQ}, {"except", required_argument, NULL, OPT_EXCEPT},
        {"excuse", required_argument, NULL, OPT_EXCUSE}, {"require-families", no_argument, NULL, OPT_FAMILIES},
        {"skip-status", required_argument, NULL, OPT_SKIP}, {"verbose", no_argument, NULL, 'v'},
        {0, 0, 0, 0}};
    dk_selftest_options *o = &c->o;
    opterr = 0;
    optind = 1;
    int ch;
    long v;
    char *end;
    while ((ch = getopt_long(argc, argv, "hb:v", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': help(); return DK_EXIT_OK;
        case 'b': if (!add(c->variants, &o->n_variants, MAX_LIST, "--backend", optarg)) return DK_EXIT_USAGE; break;
        case OPT_CASES:
            if (!parse_long(optarg, 1, 100000, &v)) return bad_value("--cases", optarg, "a positive integer");
            o->cases = (int)v;
            break;
        case OPT_SEED:
            o->seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-') return bad_value("--seed", optarg, "a non-negative integer");
            break;
        case OPT_OP: if (!add(c->ops, &o->n_ops, MAX_LIST, "--op", optarg)) return DK_EXIT_USAGE; break;
        case OPT_CASE:
            if (!parse_long(optarg, 0, 100000, &v)) return bad_value("--case", optarg, "a case number >= 0");
            o->only_case = (int)v;
            break;
        case OPT_CONF: o->data = optarg; break;
        case OPT_ROOT: if (!add(c->roots, &o->n_roots, 16, "--root", optarg)) return DK_EXIT_USAGE; break;
        case OPT_NO_CONF: o->run_conformance = 0; break;
        case OPT_NO_OPS: o->run_ops = 0; break;
        case OPT_FILTER: o->filter = optarg; break;
        case OPT_INJECT:
            o->inject = strtod(optarg, &end);
            if (end == optarg || *end || !(o->inject >= 0)) return bad_value("--inject", optarg, "a factor >= 0");
            o->inject_set = 1;
            break;
        case OPT_ALL: o->all_options = 1; break;
        case OPT_LISTV: c->list_variants = 1; break;
        case OPT_MAXR:
            o->max_ratio = strtod(optarg, &end);
            if (end == optarg || *end || !(o->max_ratio >= 0)) return bad_value("--max-ratio", optarg, "a ratio >= 0");
            break;
        case OPT_MARGIN:
            o->margin = strtod(optarg, &end);
            if (end == optarg || *end || !(o->margin >= 0)) return bad_value("--margin", optarg, "a ratio >= 0");
            break;
        case OPT_LIST: c->list_ops = 1; break;
        case OPT_TABLE: c->table = 1; break;
        case OPT_REQ: if (!add(c->required, &o->n_required, MAX_LIST, "--require", optarg)) return DK_EXIT_USAGE; break;
        case OPT_EXCEPT: if (!add(c->except, &o->n_except, 16, "--except", optarg)) return DK_EXIT_USAGE; break;
        case OPT_EXCUSE: if (!add(c->excused, &o->n_excused, 16, "--excuse", optarg)) return DK_EXIT_USAGE; break;
        case OPT_FAMILIES: o->require_families = 1; break;
        case OPT_SKIP:
            if (!parse_long(optarg, 0, 255, &v)) return bad_value("--skip-status", optarg, "an exit status 0..255");
            c->skip_status = (int)v;
            break;
        case 'v': o->verbose = 1; break;
        default: return dk_cli_bad_option("selftest", argc, argv);
        }
    }
    if (optind < argc) {
        dk_cli_error("selftest: unexpected argument '%s' (see deltakern selftest --help)", argv[optind]);
        return DK_EXIT_USAGE;
    }
    if (!o->run_ops && !o->run_conformance) {
        dk_cli_error("selftest: --no-ops and --no-conformance leave nothing to run");
        return DK_EXIT_USAGE;
    }
    return -1;
}

int dk_cmd_selftest(int argc, char **argv)
{
    static selftest_cli c;
    memset(&c, 0, sizeof c);
    dk_selftest_options_default(&c.o);
    c.o.seed = (uint64_t)time(NULL);
    c.o.variants = c.variants, c.o.ops = c.ops, c.o.roots = c.roots;
    c.o.required = c.required, c.o.except = c.except, c.o.excused = c.excused;
    int rc = parse(argc, argv, &c);
    if (rc >= 0) return rc;
    if (c.table) {
        dk_selftest_print_tolerance_table(stdout);
        return DK_EXIT_OK;
    }
    if (c.list_ops) {
        dk_selftest_list_ops(stdout);
        return DK_EXIT_OK;
    }
    dk_status st = c.list_variants ? dk_selftest_list_variants(&c.o, stdout) : DK_OK;
    if (st != DK_OK) return dk_cli_fail(st);
    if (c.list_variants) return DK_EXIT_OK;
    dk_selftest_summary sum;
    if ((st = dk_selftest_run(&c.o, stdout, &sum)) != DK_OK) return dk_cli_fail(st);
    if (sum.failed || sum.broken > 0) return DK_EXIT_FAILURE;
    int nothing = sum.available == 0 || (!c.o.run_ops && !sum.conf_found);
    return nothing ? c.skip_status : DK_EXIT_OK;
}
