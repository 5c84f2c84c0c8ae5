/* deltakern selftest: the command line over dk_selftest_run
 * (drivers/selftest/): every backend against the reference, op suite and
 * ONNX node conformance, one row per variant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltakern/selftest.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_LIST 64

typedef struct selftest_cli {
    dk_selftest_options o;
    const char *variants[MAX_LIST], *ops[MAX_LIST], *roots[16];
    const char *required[MAX_LIST], *except[16], *excused[16];
    int list_variants, table, list_ops, skip_status;
} selftest_cli;

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, selftest_cli *c)
{
    dk_selftest_options *o = &c->o;
    const dk_cli_opt opts[] = {
        {"backend", 'b', DK_CLI_LIST, c->variants, "VARIANT", .count = &o->n_variants, .max = MAX_LIST,
         .help = "variant to check, e.g. onednn:fpmath=bf16; a/b values\n"
                 "expand; repeatable (default: every backend compiled in,\n"
                 "default options; unavailable ones are listed SKIPPED)"},
        {"all-options", 0, DK_CLI_FLAG, &o->all_options,
         .help = "without --backend: also every non-default value of each\n"
                 "backend option, one at a time, and threads=1"},
        {"list-variants", 0, DK_CLI_FLAG, &c->list_variants,
         .help = "print the variants that would run, one a line, and exit"},
        {NULL, 0, DK_CLI_HEADING, .help = "op suite:"},
        {"cases", 0, DK_CLI_INT, &o->cases, "N", .min = 1, .max = 100000,
         .help = "random cases per op (default 12; at least one per shape\nclass of each op)"},
        {"seed", 0, DK_CLI_U64, &o->seed, "S",
         .help = "seed of the random shapes and data (default: the clock;\nprinted)"},
        {"op", 0, DK_CLI_LIST, c->ops, "NAME", .count = &o->n_ops, .max = MAX_LIST,
         .help = "only this ONNX op (repeatable; see --list)"},
        {"case", 0, DK_CLI_INT, &o->only_case, "K", .min = 0, .max = 100000,
         .help = "only case K of each op (with --seed: reruns one case)"},
        {"max-ratio", 0, DK_CLI_DOUBLE, &o->max_ratio, "R", .lo = 0, .hi = 1e6,
         .help = "fail cases whose error exceeds R x the bound (default 1;\n"
                 "0 demands bit-identical outputs, e.g. of the reference)"},
        {"margin", 0, DK_CLI_DOUBLE, &o->margin, "R", .lo = 0, .hi = 1e6,
         .help = "flag ops whose worst ratio exceeds R (default 0.5; -v)"},
        {"no-ops", 0, DK_CLI_FLAG, &o->run_ops, .flags = DK_CLI_CLEAR, .help = "skip the op suite"},
        {"list", 0, DK_CLI_FLAG, &c->list_ops, .help = "list the ops and their shape classes and exit"},
        {"table", 0, DK_CLI_FLAG, &c->table, .help = "print the tolerance table (op x precision) and exit"},
        {NULL, 0, DK_CLI_HEADING, .help = "ONNX conformance:"},
        {"conformance", 0, DK_CLI_STRING, &o->data, "DIR",
         .help = "test data root with node/ and pytorch-converted/\n(default " DK_SELFTEST_DATA ")"},
        {"root", 0, DK_CLI_LIST, c->roots, "DIR", .count = &o->n_roots, .max = 16,
         .help = "one suite directory instead (repeatable)"},
        {"no-conformance", 0, DK_CLI_FLAG, &o->run_conformance, .flags = DK_CLI_CLEAR,
         .help = "skip the conformance cases"},
        {"filter", 0, DK_CLI_STRING, &o->filter, "SUBSTR", .help = "only cases whose name contains SUBSTR"},
        {"require", 0, DK_CLI_LIST, c->required, "PREFIX", .count = &o->n_required, .max = MAX_LIST,
         .help = "a skipped case whose name starts with PREFIX fails\n(repeatable) ..."},
        {"except", 0, DK_CLI_LIST, c->except, "SUBSTR", .count = &o->n_except, .max = 16,
         .help = "... unless its name contains SUBSTR ..."},
        {"excuse", 0, DK_CLI_LIST, c->excused, "SUBSTR", .count = &o->n_excused, .max = 16,
         .help = "... or its skip reason does"},
        {"require-families", 0, DK_CLI_FLAG, &o->require_families,
         .help = "require the families every backend must support (conv,\n"
                 "pool, gemm, batchnorm, activations, concat, softmax, pad)"},
        {NULL, 0, DK_CLI_HEADING, .help = "both:"},
        {"inject", 0, DK_CLI_DOUBLE, &o->inject, "X", .lo = 0, .hi = 1e6, .expect = "a factor from 0 to 1e6",
         .help = "teeth check: move one element of every judged output to\n"
                 "X times its bound (X >= 1 must fail, X < 1 must pass)"},
        {"skip-status", 0, DK_CLI_INT, &c->skip_status, "N", .min = 0, .max = 255,
         .help = "exit status when nothing could be checked: every variant\n"
                 "unavailable or no test data (default 0; 77 is what CTest\n"
                 "and automake read as skipped)"},
        {"verbose", 'v', DK_CLI_FLAG, &o->verbose, .help = "one line per case; per-op tables"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "selftest", .opts = opts,
        .about = "Validates backends against the reference: the op suite (every op on random\n"
                 "shapes and data, judged with the tolerance table) and the ONNX node\n"
                 "conformance cases (the reference against their expected outputs, each variant\n"
                 "against the reference with the tolerance table in its precision). Prints one\n"
                 "row per variant: op-suite and conformance cases passed, failed and skipped,\n"
                 "and the worst error as a fraction of its bound. Exit status 0 when nothing\n"
                 "failed, 1 when a case failed, 2 for bad usage."};
    o->inject = NAN; /* stays NaN unless --inject is given */
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    o->inject_set = !isnan(o->inject);
    if (!o->inject_set) o->inject = 0;
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
