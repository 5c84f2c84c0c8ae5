/* ONNX backend node tests (Debian's libonnx-testdata) on a deltakern backend.
 *
 * For every case directory (model.onnx + test_data_set_N/{input,output}_K.pb):
 * load the model, run every data set, compare every output. Cases whose model
 * uses an op, attribute or type deltakern does not support are SKIPPED with
 * the loader's reason; everything else must PASS. Prints one line per case
 * (with a repro command for failures) and a closing "N passed, N failed, N
 * skipped" line. Exit status 1 when a case failed or a required case skipped.
 *
 * Tolerance: outputs are compared as the ONNX backend test runner does
 * (onnx/backend/test/runner: numpy.testing.assert_allclose with rtol=1e-3,
 * atol=1e-7), the standard every ONNX backend is held to; integer and bool
 * outputs must match exactly. The largest relative error seen is printed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deltakern/backend.h"
#include "deltakern/onnx.h"
#include "deltakern/session.h"
#include "deltakern/variant.h"

#define RTOL 1e-3
#define ATOL 1e-7
#define MAX_IO 32

typedef struct options {
    const char *backend;
    const char *filter;
    const char **roots;
    int n_roots;
    const char **required; /* name prefixes: a skipped case matching one fails... */
    int n_required;
    const char **except;   /* ...unless its name contains one of these... */
    int n_except;
    const char **excused;  /* ...unless its skip reason contains one of these */
    int n_excused;
    int verbose;
} options;

typedef struct counts { int passed, failed, skipped, required_passed; double worst_rel; } counts;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the entries of dir that start with prefix. */
static int list_dir(const char *dir, const char *prefix, char ***names)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    *names = NULL;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            *names = realloc(*names, sizeof(char *) * (size_t)cap);
        }
        (*names)[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, sizeof(char *), cmp_str);
    return n;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int same_shape(const dk_tensor *a, const dk_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* Compares one output; writes why into msg on mismatch. */
static int compare(const dk_tensor *got, const dk_tensor *want, double *worst_rel, char *msg, size_t n)
{
    char gs[128], ws[128];
    if (got->dtype != want->dtype || !same_shape(got, want)) {
        snprintf(msg, n, "output '%s' is %s %s, expected %s %s", want->name ? want->name : "?",
                 dk_dtype_name(got->dtype), dk_shape_str(got->ndim, got->dims, gs, sizeof gs),
                 dk_dtype_name(want->dtype), dk_shape_str(want->ndim, want->dims, ws, sizeof ws));
        return 0;
    }
    int is_float = dk_dtype_is_float(want->dtype);
    int64_t numel = dk_tensor_numel(want);
    for (int64_t i = 0; i < numel; i++) {
        double a = dk_tensor_get(got, i), b = dk_tensor_get(want, i);
        if (isnan(b) && isnan(a)) continue;
        double err = fabs(a - b);
        double rel = err / (fabs(b) > 1e-30 ? fabs(b) : 1e-30);
        double ratio = err / (ATOL + RTOL * fabs(b)); /* error as a fraction of what is allowed */
        if (is_float && ratio <= 1) {
            if (ratio > *worst_rel) *worst_rel = ratio;
            continue;
        }
        if (!is_float && a == b) continue;
        snprintf(msg, n, "output '%s'[%lld] = %.9g, expected %.9g (abs err %.3g, rel err %.3g)",
                 want->name ? want->name : "?", (long long)i, a, b, err, rel);
        return 0;
    }
    return 1;
}

/* Name of the graph input the loader needs at load time, parsed from its
 * message "... input K (..'NAME') must be a constant known at load time". */
static int needed_constant(const char *msg, char *name, size_t n)
{
    const char *end = strstr(msg, "') must be a constant known at load time");
    if (!end) return 0;
    const char *start = end;
    while (start > msg && start[-1] != '\'') start--;
    if (start == msg || (size_t)(end - start) >= n) return 0;
    memcpy(name, start, (size_t)(end - start));
    name[end - start] = '\0';
    return 1;
}

/* Loads the model, freezing inputs that it needs at load time (Reshape's
 * shape, Pad's pads fed as graph inputs) to this data set's values. The
 * ONNX node tests feed them at run time; deltakern infers static shapes, so a
 * user of such a model binds them the same way (dk_onnx_load_bound). */
static dk_status load_for_data_set(const char *model, dk_tensor *inputs, int n_in, int *is_bound,
                                   dk_graph **g)
{
    dk_tensor bound[MAX_IO];
    int n_bound = 0;
    for (;;) {
        n_bound = 0;
        for (int i = 0; i < n_in; i++)
            if (is_bound[i]) bound[n_bound++] = inputs[i];
        dk_status st = dk_onnx_load_bound(model, bound, n_bound, g);
        char name[256];
        if (st != DK_ERR_UNSUPPORTED || !needed_constant(dk_last_error(), name, sizeof name)) return st;
        int found = 0;
        for (int i = 0; i < n_in && !found; i++)
            if (!is_bound[i] && inputs[i].name && !strcmp(inputs[i].name, name)) is_bound[i] = found = 1;
        if (!found) return st;
    }
}

/* Runs one data set; returns 1 on pass, 0 on failure (msg says why), -1 when
 * the model is unsupported (msg has the loader's reason). */
static int run_data_set(const options *opt, const dk_variant *b, const char *model,
                        const char *dir, double *worst_rel, char *msg, size_t n)
{
    char path[4096];
    char **names;
    int n_in = list_dir(dir, "input_", &names);
    free_names(names, n_in);
    int n_out = list_dir(dir, "output_", &names);
    free_names(names, n_out);
    if (n_in > MAX_IO || n_out > MAX_IO) {
        snprintf(msg, n, "too many inputs or outputs");
        return 0;
    }
    dk_tensor inputs[MAX_IO] = {0}, fed[MAX_IO];
    int is_bound[MAX_IO] = {0}, n_fed = 0;
    int ok = 1;
    dk_graph *g = NULL;
    dk_session *s = NULL;
    char needed[256];
    /* Load the model first: cases whose inputs are sequences or optionals are
     * unsupported models, and their .pb files are not TensorProtos. */
    dk_status st = dk_onnx_load(model, &g);
    if (st != DK_OK && !(st == DK_ERR_UNSUPPORTED && needed_constant(dk_last_error(), needed, sizeof needed))) {
        snprintf(msg, n, "%s", dk_last_error());
        return st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    for (int i = 0; i < n_in && ok; i++) {
        snprintf(path, sizeof path, "%s/input_%d.pb", dir, i);
        if (dk_onnx_load_tensor_file(path, &inputs[i]) != DK_OK) {
            snprintf(msg, n, "%s", dk_last_error());
            ok = 0;
        }
    }
    if (ok && !g) {
        st = load_for_data_set(model, inputs, n_in, is_bound, &g);
        if (st != DK_OK) {
            snprintf(msg, n, "%s", dk_last_error());
            ok = st == DK_ERR_UNSUPPORTED ? -1 : 0;
        }
    }
    for (int i = 0; i < n_in && ok == 1; i++)
        if (!is_bound[i]) fed[n_fed++] = inputs[i];
    if (ok == 1 && n_fed != g->n_inputs) {
        snprintf(msg, n, "data set has %d inputs, model has %d", n_fed, g->n_inputs);
        ok = 0;
    }
    if (ok == 1 && dk_session_create(g, b, &s) != DK_OK) {
        snprintf(msg, n, "session: %s", dk_last_error());
        ok = 0;
    }
    if (ok == 1 && dk_session_run(s, fed, n_fed) != DK_OK) {
        snprintf(msg, n, "run failed: %s", dk_last_error());
        ok = 0;
    }
    for (int o = 0; o < n_out && ok == 1; o++) {
        dk_tensor want = {0};
        snprintf(path, sizeof path, "%s/output_%d.pb", dir, o);
        if (dk_onnx_load_tensor_file(path, &want) != DK_OK) {
            snprintf(msg, n, "%s", dk_last_error());
            ok = 0;
        } else if (o >= g->n_outputs) {
            snprintf(msg, n, "expected output %d, model has %d", o, g->n_outputs);
            ok = 0;
        } else {
            ok = compare(dk_session_output(s, o), &want, worst_rel, msg, n);
        }
        dk_tensor_reset(&want);
    }
    (void)opt;
    dk_session_destroy(s);
    dk_graph_destroy(g);
    for (int i = 0; i < n_in; i++) dk_tensor_reset(&inputs[i]);
    return ok;
}

static int matches_any(const char *s, const char **subs, int n)
{
    for (int i = 0; i < n; i++)
        if (strstr(s, subs[i])) return 1;
    return 0;
}

static int starts_with_any(const char *s, const char **prefixes, int n)
{
    for (int i = 0; i < n; i++)
        if (!strncmp(s, prefixes[i], strlen(prefixes[i]))) return 1;
    return 0;
}

static void run_case(const options *opt, const dk_variant *b, const char *root,
                     const char *name, counts *c)
{
    char model[4096], msg[1024] = "";
    double worst = 0;
    snprintf(model, sizeof model, "%s/%s/model.onnx", root, name);
    char **sets = NULL, casedir[4096];
    snprintf(casedir, sizeof casedir, "%s/%s", root, name);
    int n_sets = list_dir(casedir, "test_data_set_", &sets);
    int ok = 1;
    for (int i = 0; i < n_sets && ok == 1; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", casedir, sets[i]);
        ok = run_data_set(opt, b, model, dir, &worst, msg, sizeof msg);
    }
    if (ok == 1 && n_sets == 0) {
        snprintf(msg, sizeof msg, "no test_data_set_* directory");
        ok = 0;
    }
    free_names(sets, n_sets);
    if (ok == -1) {
        int required = starts_with_any(name, opt->required, opt->n_required) &&
                       !matches_any(name, opt->except, opt->n_except) &&
                       !matches_any(msg, opt->excused, opt->n_excused);
        if (required) {
            printf("FAIL  %-55s required case unsupported: %s\n", name, msg);
            c->failed++;
        } else {
            printf("SKIP  %-55s %s\n", name, msg);
            c->skipped++;
        }
    } else if (ok == 1) {
        c->passed++;
        if (starts_with_any(name, opt->required, opt->n_required) &&
            !matches_any(name, opt->except, opt->n_except))
            c->required_passed++;
        if (worst > c->worst_rel) c->worst_rel = worst;
        if (opt->verbose) printf("PASS  %-55s worst error %.3f of the allowed\n", name, worst);
    } else {
        c->failed++;
        printf("FAIL  %-55s %s\n      repro: dk_conformance --backend %s --root %s --filter %s -v\n",
               name, msg, opt->backend, root, name);
    }
}

static int usage(FILE *f)
{
    fprintf(f,
            "usage: dk_conformance [--backend VARIANT] [--root DIR]... [--filter SUBSTR] [-v]\n"
            "                      [--require PREFIX]... [--except SUBSTR]... [--excuse SUBSTR]...\n"
            "Runs the ONNX backend node tests under each root on backend B (default ref).\n"
            "A skipped case whose name starts with a --require prefix fails, unless its\n"
            "name contains an --except substring or its skip reason an --excuse one.\n");
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    options opt = {.backend = "ref"};
    const char *roots[16], *required[64], *excused[16], *except[16];
    opt.roots = roots;
    opt.except = except;
    opt.required = required;
    opt.excused = excused;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-v")) opt.verbose = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        else if (!strcmp(a, "--backend") && v) opt.backend = argv[++i];
        else if (!strcmp(a, "--filter") && v) opt.filter = argv[++i];
        else if (!strcmp(a, "--root") && v && opt.n_roots < 16) opt.roots[opt.n_roots++] = argv[++i];
        else if (!strcmp(a, "--require") && v && opt.n_required < 64) opt.required[opt.n_required++] = argv[++i];
        else if (!strcmp(a, "--except") && v && opt.n_except < 16) opt.except[opt.n_except++] = argv[++i];
        else if (!strcmp(a, "--excuse") && v && opt.n_excused < 16) opt.excused[opt.n_excused++] = argv[++i];
        else {
            fprintf(stderr, "dk_conformance: error: unknown or incomplete option '%s'\n", a);
            return usage(stderr);
        }
    }
    if (opt.n_roots == 0) {
        opt.roots[opt.n_roots++] = "/usr/share/libonnx-testdata/data/node";
        opt.roots[opt.n_roots++] = "/usr/share/libonnx-testdata/data/pytorch-converted";
    }
    /* The backend first: one compiled out or unusable here skips, whatever
     * options the variant names (a stub declares none). */
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(opt.backend, ":"), opt.backend);
    const dk_backend_iface *backend = dk_backend_find(name);
    if (!backend) {
        fprintf(stderr, "dk_conformance: error: %s\n", dk_last_error());
        return 2;
    }
    char reason[256];
    if (dk_backend_probe(backend, reason, sizeof reason) != DK_OK) {
        printf("backend %s unavailable: %s\n", name, reason);
        return 77; /* CTest's skip code */
    }
    dk_variant variant;
    const dk_variant *b = &variant;
    if (dk_variant_parse(opt.backend, &variant) != DK_OK) {
        fprintf(stderr, "dk_conformance: error: %s\n", dk_last_error());
        return 2;
    }
    counts c = {0};
    int n_cases_total = 0;
    for (int r = 0; r < opt.n_roots; r++) {
        struct stat st;
        if (stat(opt.roots[r], &st) != 0) {
            printf("test data %s not found (install Debian's libonnx-testdata)\n", opt.roots[r]);
            return 77;
        }
        char **cases;
        int n = list_dir(opt.roots[r], "test_", &cases);
        for (int i = 0; i < n; i++) {
            if (opt.filter && !strstr(cases[i], opt.filter)) continue;
            n_cases_total++;
            run_case(&opt, b, opt.roots[r], cases[i], &c);
        }
        free_names(cases, n);
    }
    printf("backend %s: %d cases; worst float error among passed cases %.3f of the allowed "
           "atol %.0e + rtol %.0e * |expected|\n", opt.backend, n_cases_total, c.worst_rel, ATOL, RTOL);
    if (opt.n_required)
        printf("required families (conv, pool, gemm, batchnorm, activations, concat, softmax, pad): "
               "%d cases passed\n", c.required_passed);
    printf("%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped);
    return c.failed ? 1 : 0;
}
