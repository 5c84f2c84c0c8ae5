/* The ONNX backend node tests (Debian's libonnx-testdata) as a conformance
 * suite for every backend, judged twice:
 *  - the reference against each case's expected outputs, as the ONNX backend
 *    test runner compares them (numpy.testing.assert_allclose, rtol 1e-3,
 *    atol 1e-7; integer and bool outputs exactly), so that the reference
 *    itself stays validated by an independent source;
 *  - the candidate against the reference with the tolerance table in the
 *    candidate's precision, one node at a time: each node that produces a
 *    graph output reruns on the candidate fed the reference's values of its
 *    inputs, so that its error is its own and the table's bound applies
 *    (this is what makes fpmath=bf16 conformance possible; rtol 1e-3 is a
 *    float32 standard). Outputs the table has no row for fall back to the
 *    ONNX comparison against the reference.
 *
 * For every case directory (model.onnx + test_data_set_N/{input,output}_K.pb)
 * every data set runs. Cases whose model uses an op, attribute or type that
 * the loader, the reference or the candidate does not support are skipped
 * with the reason. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "drivers/selftest/selftest.h"
#include "runtime/error.h"

#define MAX_IO 32

/* One data set's context. */
typedef struct conf_run {
    const dk__conf_config *cfg;
    const dk_variant *cand;
    dk_variant ref;
    dk_precision prec;      /* the candidate's row of the table */
    dk_rng rng;            /* injection */
    dk__conf_result *acc;
    double ref_worst;       /* this case: the reference against the expected outputs */
    double cand_worst;      /* this case: the candidate against the reference */
} conf_run;

static void say(const dk__conf_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const dk__conf_config *cfg, const char *fmt, ...)
{
    if (!cfg->log) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(cfg->log_user, line);
}

/* snprintf for messages and paths: a message may be cut short; a path cut
 * short names no file, and opening it fails with that name. */
static void put(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

void dk__conf_required_families(dk__conf_config *c)
{
    static const char *const required[] = {
        "test_basic_conv", "test_conv_", "test_Conv", "test_averagepool", "test_maxpool",
        "test_globalaveragepool", "test_globalmaxpool", "test_AvgPool", "test_MaxPool",
        "test_gemm", "test_Linear", "test_matmul", "test_batchnorm", "test_BatchNorm",
        "test_relu", "test_leakyrelu", "test_sigmoid", "test_hardsigmoid", "test_hardswish",
        "test_clip", "test_ReLU", "test_LeakyReLU", "test_Sigmoid", "test_concat",
        "test_softmax", "test_Softmax", "test_constant_pad", "test_edge_pad",
        "test_reflect_pad", "test_ConstantPad", "test_ZeroPad", "test_ReflectionPad",
        "test_ReplicationPad", "test_lrn", "test_convtranspose", "test_ConvTranspose",
        "test_resize_", "test_upsample_", "test_instancenorm", "test_einsum"};
    /* Resize's cubic mode and regions of interest are refused by name */
    static const char *const except[] = {"_expanded", "integer", "_cubic", "tf_crop_and_resize"};
    static const char *const excused[] = {"training"};
    c->required = required;
    c->n_required = (int)(sizeof required / sizeof required[0]);
    c->except = except;
    c->n_except = (int)(sizeof except / sizeof except[0]);
    c->excused = excused;
    c->n_excused = (int)(sizeof excused / sizeof excused[0]);
}

/* ---- directories ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Sorted names of the entries of dir that start with prefix; -1 when dir
 * cannot be read or memory runs out. */
static int list_dir(const char *dir, const char *prefix, char ***names)
{
    DIR *d = opendir(dir);
    int n = 0, cap = 0;
    *names = NULL;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(*names, sizeof(char *) * (size_t)cap);
            if (!grown) break;
            *names = grown;
        }
        if (!((*names)[n] = strdup(e->d_name))) break;
        n++;
    }
    int complete = e == NULL;
    closedir(d);
    if (!complete) {
        free_names(*names, n);
        *names = NULL;
        return -1;
    }
    if (n) qsort(*names, (size_t)n, sizeof(char *), cmp_str);
    return n;
}

static int count_entries(const char *dir, const char *prefix)
{
    char **names;
    int n = list_dir(dir, prefix, &names);
    if (n > 0) free_names(names, n);
    return n;
}

/* ---- comparisons ------------------------------------------------------------------------ */

static int same_shape(const dk_tensor *a, const dk_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* The ONNX runner's comparison of got with want: float within atol + rtol
 * |want|, other types exactly. *worst receives the largest error as a
 * fraction of what is allowed (when it passes); msg says why on mismatch. */
static int compare_onnx(const char *what, const dk_tensor *got, const dk_tensor *want,
                        double *worst, char *msg, size_t n)
{
    char gs[128], ws[128];
    const char *name = want->name ? want->name : got->name ? got->name : "?";
    *worst = 0;
    if (got->dtype != want->dtype || !same_shape(got, want)) {
        put(msg, n, "%s: output '%s' is %s %s, expected %s %s", what, name,
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
        double ratio = err / (DK__CONF_ATOL + DK__CONF_RTOL * fabs(b));
        if (is_float && ratio <= 1) {
            if (ratio > *worst) *worst = ratio;
            continue;
        }
        if (!is_float && a == b) continue;
        double rel = err / (fabs(b) > 1e-30 ? fabs(b) : 1e-30);
        put(msg, n, "%s: output '%s'[%lld] = %.9g, expected %.9g (abs err %.3g, rel err %.3g)",
                 what, name, (long long)i, a, b, err, rel);
        return 0;
    }
    return 1;
}

/* ---- loading ---------------------------------------------------------------------------- */

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
    for (;;) {
        int n_bound = 0;
        for (int i = 0; i < n_in; i++)
            if (is_bound[i]) bound[n_bound++] = inputs[i];
        dk_status st = dk_onnx_load_bound(model, bound, n_bound, g);
        char name[256];
        if (st != DK_ERR_UNSUPPORTED || !needed_constant(dk_last_error(), name, sizeof name))
            return st;
        int found = 0;
        for (int i = 0; i < n_in && !found; i++)
            if (!is_bound[i] && inputs[i].name && !strcmp(inputs[i].name, name))
                is_bound[i] = found = 1;
        if (!found) return st;
    }
}

/* ---- judging the candidate -------------------------------------------------------------- */

static void count_op(conf_run *r, dk_op op, int by_table, double ratio)
{
    dk__conf_op *o = &r->acc->ops[op >= 0 && op < DK_OP_COUNT ? op : DK_OP_NONE];
    o->judged++;
    if (by_table) o->by_table++;
    else o->fallback++;
    if (ratio > o->worst_ratio) o->worst_ratio = ratio;
    if (ratio > r->acc->worst_ratio) r->acc->worst_ratio = ratio;
    if (ratio > r->cand_worst) r->cand_worst = ratio;
}

/* Judges output j of node (the candidate's y, the reference's ref). Returns 1
 * when it passes, 0 with msg set otherwise. */
static int judge_output(conf_run *r, const dk_graph *g, const dk_node *node, int j,
                        const dk_tensor *const *in, const dk_tensor *ref, dk_tensor *y, char *msg,
                        size_t n)
{
    dk_tolerance t;
    int by_table = j == 0 && ref->dtype == DK_F32 && y->dtype == DK_F32 &&
                   dk_tolerance_for_node(g, node, r->prec, &t) == DK_OK;
    char what[256];
    put(what, sizeof what, "%s, node '%s' (%s)", r->cand->backend->name, node->name,
             dk_op_name(node->op));
    if (!by_table) {
        double worst;
        int ok = compare_onnx(what, y, ref, &worst, msg, n);
        count_op(r, node->op, 0, ok ? worst : INFINITY);
        return ok;
    }
    if (r->cfg->inject_set) {
        int64_t where;
        if (dk__st_inject(g, node, r->prec, in, ref, y, r->cfg->inject, &r->rng, &where) != DK_OK) {
            put(msg, n, "%s: injection failed: %s", what, dk_last_error());
            return 0;
        }
    }
    dk_tol_result res;
    if (dk_tolerance_check(g, node, r->prec, in, ref, y, &res) != DK_OK) {
        put(msg, n, "%s: cannot compare: %s", what, dk_last_error());
        count_op(r, node->op, 1, INFINITY);
        return 0;
    }
    count_op(r, node->op, 1, res.worst_ratio);
    if (res.verdict == DK_VERDICT_FAILED) {
        put(msg, n, "%s, output '%s': %s", what, ref->name ? ref->name : "?", res.explain);
        return 0;
    }
    return 1;
}

/* Reruns node k on the candidate fed the reference's values of its inputs
 * and judges its outputs that are graph outputs. */
static int judge_node(conf_run *r, dk_session *ref_s, dk_session *cand_s, const dk_graph *g, int k,
                      char *msg, size_t n)
{
    const dk_node *node = &g->nodes[k];
    const dk_tensor *in[MAX_IO] = {0};
    if (node->n_inputs > MAX_IO) {
        put(msg, n, "node '%s' has more than %d inputs", node->name, MAX_IO);
        return 0;
    }
    for (int i = 0; i < node->n_inputs; i++) {
        int v = node->inputs[i];
        if (v < 0) continue;
        if (!(in[i] = dk_session_value(ref_s, v))) {
            put(msg, n, "the reference: %s", dk_last_error());
            return 0;
        }
        if (g->values[v].kind == DK_VALUE_CONSTANT) continue;
        if (dk_session_set_value(cand_s, v, in[i]) != DK_OK) {
            put(msg, n, "%s: %s", r->cand->backend->name, dk_last_error());
            return 0;
        }
    }
    if (dk_session_run_node(cand_s, k, NULL) != DK_OK) {
        put(msg, n, "%s: %s", r->cand->backend->name, dk_last_error());
        return 0;
    }
    for (int j = 0; j < node->n_outputs; j++) {
        int v = node->outputs[j], is_output = 0;
        for (int o = 0; v >= 0 && o < g->n_outputs; o++) is_output |= g->outputs[o] == v;
        if (!is_output) continue;
        const dk_tensor *ref = dk_session_value(ref_s, v), *got = dk_session_value(cand_s, v);
        dk_tensor y = {0};
        if (!ref || !got || dk_tensor_copy(&y, got) != DK_OK) {
            put(msg, n, "%s", dk_last_error());
            return 0;
        }
        int ok = judge_output(r, g, node, j, in, ref, &y, msg, n);
        dk_tensor_reset(&y);
        if (!ok) return 0;
    }
    return 1;
}

/* Judges every graph output on the candidate (after both ran the data set). */
static int judge_candidate(conf_run *r, dk_session *ref_s, dk_session *cand_s, const dk_graph *g,
                           char *msg, size_t n)
{
    for (int k = 0; k < g->n_nodes; k++) {
        int produces_output = 0;
        for (int o = 0; o < g->n_outputs; o++)
            produces_output |= g->values[g->outputs[o]].producer == k;
        if (produces_output && !judge_node(r, ref_s, cand_s, g, k, msg, n)) return 0;
    }
    /* graph outputs no node produces (an input or constant passed through) */
    for (int o = 0; o < g->n_outputs; o++) {
        if (g->values[g->outputs[o]].producer >= 0) continue;
        double worst;
        if (!compare_onnx(r->cand->backend->name, dk_session_output(cand_s, o),
                          dk_session_output(ref_s, o), &worst, msg, n))
            return 0;
    }
    return 1;
}

/* ---- one data set ----------------------------------------------------------------------- */

/* Runs one data set; returns 1 on pass, 0 on failure (msg says why), -1 when
 * the model is unsupported (msg has the reason). */
static int run_data_set(conf_run *r, const char *model, const char *dir, char *msg, size_t n)
{
    char path[4096], needed[256];
    int n_in = count_entries(dir, "input_"), n_out = count_entries(dir, "output_");
    if (n_in < 0 || n_out < 0 || n_in > MAX_IO || n_out > MAX_IO) {
        put(msg, n, "%s: cannot list the data set or more than %d inputs or outputs", dir,
                 MAX_IO);
        return 0;
    }
    dk_tensor inputs[MAX_IO] = {0}, fed[MAX_IO];
    int is_bound[MAX_IO] = {0}, n_fed = 0, ok = 1;
    dk_graph *g = NULL;
    dk_session *ref_s = NULL, *cand_s = NULL;
    /* Load the model first: cases whose inputs are sequences or optionals are
     * unsupported models, and their .pb files are not TensorProtos. */
    dk_status st = dk_onnx_load(model, &g);
    if (st != DK_OK &&
        !(st == DK_ERR_UNSUPPORTED && needed_constant(dk_last_error(), needed, sizeof needed))) {
        put(msg, n, "%s", dk_last_error());
        return st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    for (int i = 0; i < n_in && ok; i++) {
        put(path, sizeof path, "%s/input_%d.pb", dir, i);
        if (dk_onnx_load_tensor_file(path, &inputs[i]) != DK_OK) {
            put(msg, n, "%s", dk_last_error());
            ok = 0;
        }
    }
    if (ok && !g && (st = load_for_data_set(model, inputs, n_in, is_bound, &g)) != DK_OK) {
        put(msg, n, "%s", dk_last_error());
        ok = st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    for (int i = 0; i < n_in && ok == 1; i++)
        if (!is_bound[i]) fed[n_fed++] = inputs[i];
    if (ok == 1 && n_fed != g->n_inputs) {
        put(msg, n, "data set has %d inputs, model has %d", n_fed, g->n_inputs);
        ok = 0;
    }
    /* the candidate's graph optimisation level applies to both runs */
    int opt = (int)dk_variant_get_int(r->cand, "opt", 0);
    const char *disable = dk_variant_get(r->cand, "disable");
    if (ok == 1 && (st = dk_graph_optimize(g, opt, disable)) != DK_OK) {
        put(msg, n, "graph passes: %s", dk_last_error());
        ok = st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    if (ok == 1 && (st = dk_session_create(g, &r->ref, &ref_s)) != DK_OK) {
        put(msg, n, "the reference: %s", dk_last_error());
        ok = st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    if (ok == 1 && dk_session_run(ref_s, fed, n_fed) != DK_OK) {
        put(msg, n, "the reference: run failed: %s", dk_last_error());
        ok = 0;
    }
    for (int o = 0; o < n_out && ok == 1; o++) {
        dk_tensor want = {0};
        double worst = 0;
        put(path, sizeof path, "%s/output_%d.pb", dir, o);
        if (dk_onnx_load_tensor_file(path, &want) != DK_OK) {
            put(msg, n, "%s", dk_last_error());
            ok = 0;
        } else if (o >= g->n_outputs) {
            put(msg, n, "expected output %d, model has %d", o, g->n_outputs);
            ok = 0;
        } else {
            ok = compare_onnx("the reference", dk_session_output(ref_s, o), &want, &worst, msg, n);
            if (worst > r->ref_worst) r->ref_worst = worst;
        }
        dk_tensor_reset(&want);
    }
    if (ok == 1 && (st = dk_session_create(g, r->cand, &cand_s)) != DK_OK) {
        put(msg, n, "%s", dk_last_error());
        ok = st == DK_ERR_UNSUPPORTED ? -1 : 0;
    }
    if (ok == 1 && dk_session_run(cand_s, fed, n_fed) != DK_OK) {
        put(msg, n, "%s: run failed: %s", r->cand->backend->name, dk_last_error());
        ok = 0;
    }
    if (ok == 1) ok = judge_candidate(r, ref_s, cand_s, g, msg, n);
    dk_session_destroy(cand_s);
    dk_session_destroy(ref_s);
    dk_graph_destroy(g);
    for (int i = 0; i < n_in; i++) dk_tensor_reset(&inputs[i]);
    return ok;
}

/* ---- cases ------------------------------------------------------------------------------ */

static int matches_any(const char *s, const char *const *subs, int n)
{
    for (int i = 0; i < n; i++)
        if (strstr(s, subs[i])) return 1;
    return 0;
}

static int starts_with_any(const char *s, const char *const *prefixes, int n)
{
    for (int i = 0; i < n; i++)
        if (!strncmp(s, prefixes[i], strlen(prefixes[i]))) return 1;
    return 0;
}

static void run_case(conf_run *r, const char *root, const char *name)
{
    const dk__conf_config *cfg = r->cfg;
    dk__conf_result *c = r->acc;
    char model[4096], casedir[4096], msg[1024] = "";
    put(model, sizeof model, "%s/%s/model.onnx", root, name);
    put(casedir, sizeof casedir, "%s/%s", root, name);
    char **sets = NULL;
    int n_sets = list_dir(casedir, "test_data_set_", &sets);
    int ok = 1;
    r->ref_worst = r->cand_worst = 0;
    for (int i = 0; i < n_sets && ok == 1; i++) {
        char dir[4096];
        put(dir, sizeof dir, "%s/%s", casedir, sets[i]);
        ok = run_data_set(r, model, dir, msg, sizeof msg);
    }
    if (ok == 1 && n_sets <= 0) {
        put(msg, sizeof msg, "no test_data_set_* directory");
        ok = 0;
    }
    if (n_sets > 0) free_names(sets, n_sets);
    c->cases++;
    int required = starts_with_any(name, cfg->required, cfg->n_required) &&
                   !matches_any(name, cfg->except, cfg->n_except);
    if (ok == -1) {
        if (required && !matches_any(msg, cfg->excused, cfg->n_excused)) {
            say(cfg, "FAIL  %-55s required case unsupported: %s", name, msg);
            c->failed++;
        } else {
            if (!cfg->quiet_skips) say(cfg, "SKIP  %-55s %s", name, msg);
            c->skipped++;
        }
    } else if (ok == 1) {
        c->passed++;
        c->required_passed += required;
        if (r->ref_worst > c->ref_worst) c->ref_worst = r->ref_worst;
        if (cfg->verbose)
            say(cfg, "PASS  %-55s reference %.3f of the ONNX allowance; %s worst ratio %.3g",
                name, r->ref_worst, r->cand->backend->name, r->cand_worst);
    } else {
        c->failed++;
        say(cfg, "FAIL  %-55s %s", name, msg);
        say(cfg, "      repro: %s --filter %s -v", cfg->repro ? cfg->repro : "", name);
    }
}

dk_status dk__conformance_run_root(const dk__conf_config *cfg, const dk_variant *cand,
                                   const char *root, dk__conf_result *acc)
{
    conf_run r = {.cfg = cfg, .cand = cand, .acc = acc, .prec = dk_variant_precision(cand)};
    DK_TRY(dk_variant_parse("ref", &r.ref));
    dk_rng_seed(&r.rng, cfg->seed);
    char **cases;
    int n = list_dir(root, "test_", &cases);
    if (n < 0) return dk__error(DK_ERR_IO, "%s: cannot read the conformance cases", root);
    for (int i = 0; i < n; i++)
        if (!cfg->filter || strstr(cases[i], cfg->filter)) run_case(&r, root, cases[i]);
    if (n > 0) free_names(cases, n);
    return DK_OK;
}
