/* ONNX backend node tests (Debian's libonnx-testdata) on a deltakern backend.
 *
 * For every case directory (model.onnx + test_data_set_N/{input,output}_K.pb)
 * the model runs on the reference and on the variant under test: the
 * reference must match the case's expected outputs as the ONNX backend test
 * runner compares them (rtol 1e-3, atol 1e-7; integer and bool outputs
 * exactly), and the variant must match the reference within the tolerance
 * table in its precision, node by node (the node producing each graph output
 * fed the reference's inputs), falling back to the ONNX comparison for
 * outputs the table has no row for. The runner lives in the library
 * (harness/selftest_conformance.c), shared with `deltakern selftest`.
 *
 * Cases whose model uses an op, attribute or type deltakern does not support
 * are SKIPPED with the reason; everything else must PASS. Prints one line per
 * failed or skipped case (with a repro command for failures), the worst ratio
 * per op and a closing "N passed, N failed, N skipped" line. Exit status 1
 * when a case failed or a required case skipped, 77 (CTest's skip) when the
 * backend or the test data is missing, 2 for bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deltakern/backend.h"
#include "deltakern/variant.h"
#include "drivers/selftest/selftest.h"

static int usage(FILE *f)
{
    fprintf(
        f, "usage: dk_conformance [--backend VARIANT] [--root DIR]... [--filter SUBSTR] [-v]\n"
           "                      [--require PREFIX]... [--except SUBSTR]... [--excuse SUBSTR]...\n"
           "                      [--require-families] [--inject X] [--seed S]\n"
           "Runs the ONNX backend node tests under each root on VARIANT (default ref),\n"
           "judged against the reference with the tolerance table. A skipped case whose\n"
           "name starts with a --require prefix fails, unless its name contains an\n"
           "--except substring or its skip reason an --excuse one; --require-families\n"
           "requires the families every backend must support. --inject X moves one\n"
           "element of every judged output to X times its bound (teeth check).\n");
    return f == stdout ? 0 : 2;
}

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
}

static void print_ops(const dk__conf_result *c)
{
    printf("worst ratio per op (error / allowed, the candidate against the reference):\n");
    for (int op = 0; op < DK_OP_COUNT; op++) {
        const dk__conf_op *o = &c->ops[op];
        if (!o->judged) continue;
        printf("  %-22s %4d outputs  worst %-9.3g %s\n",
               op == DK_OP_NONE ? "?" : dk_op_name((dk_op)op), o->judged, o->worst_ratio,
               o->fallback == 0 ? "tolerance table"
               : o->by_table    ? "tolerance table; outputs > 0 or non-float32: ONNX rtol/atol"
                             : "no tolerance row: ONNX rtol 1e-3, atol 1e-7 against the reference");
    }
}

int main(int argc, char **argv)
{
    const char *backend = "ref", *roots[16], *required[64], *excused[16], *except[16];
    int n_roots = 0, n_required = 0, n_excused = 0, n_except = 0, families = 0;
    dk__conf_config cfg = {.log = print_line, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-v")) cfg.verbose = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        else if (!strcmp(a, "--backend") && v) backend = argv[++i];
        else if (!strcmp(a, "--filter") && v) cfg.filter = argv[++i];
        else if (!strcmp(a, "--root") && v && n_roots < 16) roots[n_roots++] = argv[++i];
        else if (!strcmp(a, "--require") && v && n_required < 64)
            required[n_required++] = argv[++i];
        else if (!strcmp(a, "--except") && v && n_except < 16) except[n_except++] = argv[++i];
        else if (!strcmp(a, "--excuse") && v && n_excused < 16) excused[n_excused++] = argv[++i];
        else if (!strcmp(a, "--require-families")) families = 1;
        else if (!strcmp(a, "--seed") && v) cfg.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--inject") && v) {
            cfg.inject = strtod(argv[++i], NULL);
            cfg.inject_set = 1;
        } else {
            fprintf(stderr, "dk_conformance: error: unknown or incomplete option '%s'\n", a);
            return usage(stderr);
        }
    }
    if (families) dk__conf_required_families(&cfg);
    if (n_required) {
        cfg.required = required, cfg.n_required = n_required;
        cfg.except = except, cfg.n_except = n_except;
        cfg.excused = excused, cfg.n_excused = n_excused;
    }
    if (n_roots == 0) {
        roots[n_roots++] = "/usr/share/libonnx-testdata/data/node";
        roots[n_roots++] = "/usr/share/libonnx-testdata/data/pytorch-converted";
    }
    /* The backend first: one compiled out or unusable here skips, whatever
     * options the variant names (a stub declares none). */
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(backend, ":"), backend);
    const dk_backend_iface *b = dk_backend_find(name);
    if (!b) {
        fprintf(stderr, "dk_conformance: error: %s\n", dk_last_error());
        return 2;
    }
    char reason[256];
    if (dk_backend_probe(b, reason, sizeof reason) != DK_OK) {
        printf("backend %s unavailable: %s\n", name, reason);
        return 77; /* CTest's skip code */
    }
    dk_variant variant;
    if (dk_variant_parse(backend, &variant) != DK_OK) {
        fprintf(stderr, "dk_conformance: error: %s\n", dk_last_error());
        return 2;
    }
    for (int r = 0; r < n_roots; r++) {
        struct stat st;
        if (stat(roots[r], &st) != 0) {
            printf("test data %s not found (install Debian's libonnx-testdata)\n", roots[r]);
            return 77;
        }
    }
    dk__conf_result c = {0};
    for (int r = 0; r < n_roots; r++) {
        char repro[1024];
        char inject[64] = "";
        if (cfg.inject_set)
            snprintf(inject, sizeof inject, " --inject %g --seed %llu", cfg.inject,
                     (unsigned long long)cfg.seed);
        snprintf(repro, sizeof repro, "%s --backend '%s' --root %s%s", argv[0], backend, roots[r],
                 inject);
        cfg.repro = repro;
        if (dk__conformance_run_root(&cfg, &variant, roots[r], &c) != DK_OK) {
            fprintf(stderr, "dk_conformance: error: %s\n", dk_last_error());
            return 2;
        }
    }
    printf("backend %s (precision %s): %d cases\n", backend,
           dk_precision_get(dk_variant_precision(&variant))->name, c.cases);
    printf("the reference against the expected outputs: worst error %.3f of the allowed "
           "atol %.0e + rtol %.0e * |expected|\n", c.ref_worst, DK__CONF_ATOL, DK__CONF_RTOL);
    print_ops(&c);
    if (cfg.n_required)
        printf(
            "required families (conv, pool, gemm, batchnorm, activations, concat, softmax, pad): "
            "%d cases passed\n",
            c.required_passed);
    printf("%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped);
    return c.failed ? 1 : 0;
}
