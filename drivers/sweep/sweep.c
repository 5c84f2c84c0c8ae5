/* deltakern sweep (include/deltakern/sweep.h): every convolution of a model
 * under every implementation a backend offers, each timed and judged in
 * isolation against the reference on the same inputs. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "deltakern/backend.h"
#include "deltakern/file.h"
#include "deltakern/fingerprint.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/sweep.h"
#include "deltakern/tolerance.h"
#include "deltakern/topology.h"
#include "deltakern/variant.h"
#include "exec/session_internal.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"
#include "runtime/rng.h"
#include "runtime/stats.h"
#include "runtime/text.h"

#define MAX_NODES 512
#define MAX_COMBOS 256
#define MAX_IN 8

/* One option combination run on one node. */
typedef struct sweep_row {
    int ok;
    char error[320];
    double median, p10, p90; /* seconds */
    double gflops;
    dk_tol_result tol;
    const char *precision;
    int fastest, most_accurate;
    int transform_bound; /* a transform-based plan (Winograd, FFT) over the table's bound, within the
                            looser bound the table holds those to: not out of tolerance */
} sweep_row;

typedef struct sweep_node {
    int k;                      /* node index */
    dk_tensor in[MAX_IN];       /* the reference's inputs of the node (activations) */
    dk_tensor ref;              /* the reference's output 0 */
    char shape[160];
    int fastest;                /* row index of the fastest combination, -1 when none ran */
} sweep_node;

struct dk_sweep {
    dk_sweep_config o;
    dk_variant base;
    char base_text[512];
    dk_graph *g;
    int opt;
    char combos[MAX_COMBOS][256];
    int n_combos;
    sweep_node nodes[MAX_NODES];
    int n_nodes;
    sweep_row *rows;            /* n_nodes x n_combos */
};
typedef struct dk_sweep sweep_state;

/* ---- the variants to sweep ------------------------------------------------ */

/* The options that choose how a backend convolves, as its table declares them. */
static int key_swept(const dk_option_spec *spec)
{
    return spec->role == DK_ROLE_CONV_IMPL || spec->role == DK_ROLE_LAYOUT ||
           spec->role == DK_ROLE_PRECISION;
}

static int given_explicitly(const dk_variant *v, const char *key)
{
    for (int i = 0; i < v->n_options; i++)
        if (strcmp(v->options[i].key, key) == 0) return !v->options[i].is_default;
    return 0;
}

/* The product of the swept keys' values as "k=v,k=v" strings, last key
 * fastest. */
static dk_status build_combos(sweep_state *s)
{
    static char next[MAX_COMBOS][256];
    const dk_backend_iface *b = s->base.backend;
    s->n_combos = 1;
    s->combos[0][0] = '\0';
    for (int i = 0; dk_backend_option_at(b, i); i++) {
        const dk_option_spec *spec = dk_backend_option_at(b, i);
        if (!key_swept(spec) || given_explicitly(&s->base, spec->key)) continue;
        if (!strchr(spec->values, '|')) continue; /* not an enumeration */
        char vals[32][DK_VARIANT_VALUE_MAX];
        int nv = 0;
        for (const char *p = spec->values; *p && nv < 32;) {
            size_t len = strcspn(p, "|");
            snprintf(vals[nv++], DK_VARIANT_VALUE_MAX, "%.*s", (int)len, p);
            p += len + (p[len] == '|');
        }
        if (s->n_combos * nv > MAX_COMBOS) {
            return dk__error(DK_ERR_INVALID, "sweep: %s: more than %d option combinations; fix some "
                             "options in -b (e.g. -b %s:%s=%s)", s->o.backend, MAX_COMBOS,
                             dk_backend_name(b), spec->key, spec->def);
        }
        int n = 0;
        for (int c = 0; c < s->n_combos; c++)
            for (int v = 0; v < nv; v++) {
                int w = snprintf(next[n++], sizeof next[0], "%s%s%s=%s", s->combos[c],
                                 s->combos[c][0] ? "," : "", spec->key, vals[v]);
                if (w < 0 || (size_t)w >= sizeof next[0])
                    return dk__error(DK_ERR_INVALID, "sweep: %s: option combination too long", s->o.backend);
            }
        memcpy(s->combos, next, sizeof next[0] * (size_t)n);
        s->n_combos = n;
    }
    return DK_OK;
}

/* The base variant: -b as given, opt=1 unless it names a level. */
static dk_status parse_base(sweep_state *s)
{
    DK_TRY(dk_variant_parse(s->o.backend, &s->base));
    if (!given_explicitly(&s->base, "opt")) {
        char text[600];
        snprintf(text, sizeof text, "%s%sopt=1", s->o.backend, strchr(s->o.backend, ':') ? "," : ":");
        DK_TRY(dk_variant_parse(text, &s->base));
    }
    char reason[256];
    DK_TRY(dk_backend_probe(s->base.backend, reason, sizeof reason));
    dk_variant_canonical(&s->base, 0, s->base_text, sizeof s->base_text);
    s->opt = (int)dk_variant_get_int(&s->base, "opt", 1);
    return DK_OK;
}

/* ---- the graph and its convolutions --------------------------------------- */

static int covers_name(const dk_node *n, const char *name)
{
    if (strcmp(n->name, name) == 0) return 1;
    if (!n->covers) return 0;
    size_t len = strlen(name);
    for (const char *p = n->covers; *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, name, len) == 0) return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

static void describe_shape(const dk_graph *g, const dk_node *n, char *buf, size_t len)
{
    char a[64], b[64];
    const dk_tensor *x = &g->values[n->inputs[0]].t, *y = &g->values[n->outputs[0]].t;
    const dk_window *w = &n->p.conv.win;
    char k[48] = "", st[48] = "";
    for (int i = 0; i < w->nspatial; i++) {
        size_t lk = strlen(k), ls = strlen(st);
        snprintf(k + lk, sizeof k - lk, "%s%lld", i ? "x" : "", (long long)w->kernel[i]);
        snprintf(st + ls, sizeof st - ls, "%s%lld", i ? "x" : "", (long long)w->stride[i]);
    }
    snprintf(buf, len, "%s -> %s k%s s%s g%lld", dk_shape_str(x->ndim, x->dims, a, sizeof a),
             dk_shape_str(y->ndim, y->dims, b, sizeof b), k, st, (long long)n->p.conv.group);
}

static dk_status add_node(sweep_state *s, int k)
{
    for (int i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].k == k) return DK_OK;
    if (s->n_nodes == MAX_NODES)
        return dk__error(DK_ERR_INVALID, "sweep: %s: more than %d convolutions; choose some with --node",
                         s->o.model, MAX_NODES);
    const dk_node *n = &s->g->nodes[k];
    if (n->n_inputs > MAX_IN)
        return dk__error(DK_ERR_INVALID, "sweep: node '%s' has %d inputs (at most %d)", n->name,
                         n->n_inputs, MAX_IN);
    sweep_node *sn = &s->nodes[s->n_nodes++];
    memset(sn, 0, sizeof *sn);
    sn->k = k;
    describe_shape(s->g, n, sn->shape, sizeof sn->shape);
    return DK_OK;
}

static dk_status select_nodes(sweep_state *s)
{
    const dk_graph *g = s->g;
    if (s->o.n_nodes == 0) {
        for (int k = 0; k < g->n_nodes; k++)
            if (g->nodes[k].op == DK_OP_CONV) DK_TRY(add_node(s, k));
        if (s->n_nodes == 0)
            return dk__error(DK_ERR_INVALID, "sweep: %s: the model has no convolution (after opt=%d)",
                             s->o.model, s->opt);
        return DK_OK;
    }
    for (int i = 0; i < s->o.n_nodes; i++) {
        const char *name = s->o.nodes[i];
        int found = -1;
        for (int k = 0; k < g->n_nodes && found < 0; k++)
            if (covers_name(&g->nodes[k], name)) found = k;
        if (found < 0) {
            char some[400] = "";
            int shown = 0, total = 0;
            for (int k = 0; k < g->n_nodes; k++) {
                if (g->nodes[k].op != DK_OP_CONV) continue;
                total++;
                if (shown < 5) {
                    dk_join(some, sizeof some, ", ", g->nodes[k].name);
                    shown++;
                }
            }
            return dk__error(DK_ERR_INVALID, "sweep: --node '%s': %s has no node of that name after "
                             "opt=%d (its %d convolutions include %s%s; see deltakern info --opt %d)",
                             name, s->o.model, s->opt, total, some, total > shown ? ", ..." : "", s->opt);
        }
        if (g->nodes[found].op != DK_OP_CONV)
            return dk__error(DK_ERR_INVALID, "sweep: --node '%s': node '%s' is a %s, not a convolution",
                             name, g->nodes[found].name, dk_op_name(g->nodes[found].op));
        DK_TRY(add_node(s, found));
    }
    return DK_OK;
}

/* ---- the reference: every node's inputs and output ----------------------- */

static dk_status reference_run(sweep_state *s)
{
    const dk_graph *g = s->g;
    dk_tensor inputs[16];
    memset(inputs, 0, sizeof inputs);
    if (g->n_inputs > 16)
        return dk__error(DK_ERR_INVALID, "sweep: %s: %d graph inputs (at most 16)", s->o.model, g->n_inputs);
    dk_rng rng;
    dk_rng_seed(&rng, s->o.seed);
    dk_status st = DK_OK;
    for (int i = 0; i < g->n_inputs && st == DK_OK; i++) {
        const dk_tensor *t = &g->values[g->inputs[i]].t;
        if (t->dtype != DK_F32) {
            st = dk__error(DK_ERR_INVALID, "sweep: %s: input '%s' is %s; sweep feeds random float32 inputs",
                           s->o.model, t->name, dk_dtype_name(t->dtype));
            break;
        }
        st = dk_tensor_alloc(&inputs[i], DK_F32, t->ndim, t->dims);
        if (st == DK_OK) dk_rng_fill(&rng, inputs[i].data, dk_tensor_numel(t), -2.0, 2.0);
    }
    dk_variant refv;
    dk_session *rs = NULL;
    char text[64];
    snprintf(text, sizeof text, "ref:opt=%d", s->opt);
    if (st == DK_OK) st = dk_variant_parse(text, &refv);
    if (st == DK_OK) st = dk_session_create(g, &refv, &rs);
    if (st == DK_OK) st = dk_session_run(rs, inputs, g->n_inputs);
    for (int i = 0; st == DK_OK && i < s->n_nodes; i++) {
        sweep_node *sn = &s->nodes[i];
        const dk_node *n = &g->nodes[sn->k];
        for (int j = 0; j < n->n_inputs && st == DK_OK; j++) {
            int v = n->inputs[j];
            if (v < 0 || g->values[v].kind == DK_VALUE_CONSTANT) continue;
            const dk_tensor *t = dk_session_value(rs, v);
            st = t ? dk_tensor_copy(&sn->in[j], t) : DK_ERR_INTERNAL;
        }
        const dk_tensor *y = st == DK_OK ? dk_session_value(rs, n->outputs[0]) : NULL;
        if (st == DK_OK) st = y ? dk_tensor_copy(&sn->ref, y) : DK_ERR_INTERNAL;
    }
    dk_session_destroy(rs);
    for (int i = 0; i < g->n_inputs && i < 16; i++) dk_tensor_reset(&inputs[i]);
    return st;
}

/* ---- one combination on every node ---------------------------------------- */

static void row_error(sweep_row *r, const char *what)
{
    r->ok = 0;
    snprintf(r->error, sizeof r->error, "%s%s%s", what, what[0] ? ": " : "",
             dk_last_error()[0] ? dk_last_error() : "failed");
}

static void variant_text(const sweep_state *s, int c, char *buf, size_t n)
{
    if (!s->combos[c][0]) snprintf(buf, n, "%s", s->base_text);
    else snprintf(buf, n, "%s%s%s", s->base_text, strchr(s->base_text, ':') ? "," : ":", s->combos[c]);
}

/* Opens combination c on the node's own graph, gives it the reference's
 * inputs and warms it up; NULL (and the row's error) when it fails. */
static dk_session *open_combo(sweep_state *s, const dk_graph *sub, const sweep_node *sn, int c,
                              dk_variant *cv, sweep_row *r)
{
    char text[700];
    variant_text(s, c, text, sizeof text);
    dk_session *cs = NULL;
    if (dk_variant_parse(text, cv) != DK_OK) {
        row_error(r, "variant");
        return NULL;
    }
    if (dk_session_create(sub, cv, &cs) != DK_OK) {
        row_error(r, "plan");
        return NULL;
    }
    const dk_node *n = &sub->nodes[0];
    for (int j = 0; j < n->n_inputs; j++) {
        int w = n->inputs[j];
        if (w >= 0 && sub->values[w].kind != DK_VALUE_CONSTANT && dk_session_set_value(cs, w, &sn->in[j]) != DK_OK) {
            row_error(r, "setting the node's inputs");
            dk_session_destroy(cs);
            return NULL;
        }
    }
    for (int w = 0; w < s->o.warmup; w++)
        if (dk_session_run_node(cs, 0, NULL) != DK_OK) {
            row_error(r, "");
            dk_session_destroy(cs);
            return NULL;
        }
    return cs;
}

/* The output of a timed session judged against the reference, and its times summarised. */
static void judge(sweep_state *s, const dk_graph *sub, const sweep_node *sn, dk_session *cs,
                  const dk_variant *cv, double *times, sweep_row *r)
{
    const dk_node *n = &sub->nodes[0];
    const dk_tensor *in[MAX_IN];
    for (int j = 0; j < n->n_inputs; j++) {
        int w = n->inputs[j];
        in[j] = w < 0 ? NULL : sub->values[w].kind == DK_VALUE_CONSTANT ? &sub->values[w].t : &sn->in[j];
    }
    const dk_tensor *y = dk_session_value(cs, n->outputs[0]);
    if (!y) {
        row_error(r, "reading the output");
        return;
    }
    dk_precision prec = dk_variant_precision(cv);
    if (dk_tolerance_check(sub, n, prec, in, &sn->ref, y, &r->tol) != DK_OK) {
        row_error(r, "tolerance check");
        return;
    }
    /* as the op suite and diff judge a plan declaring a transform (check/tolerance.h) */
    r->transform_bound = (dk__session_node_traits(cs, 0) & DK_PLAN_TRANSFORM) &&
                         dk_tolerance_transform_accepts(&r->tol, prec);
    dk_stats st;
    if (dk_stats_describe(times, s->o.reps, &st) != DK_OK) {
        row_error(r, "summarising the times");
        return;
    }
    r->median = st.median;
    r->p10 = st.p10;
    r->p90 = st.p90;
    r->gflops = r->median > 0 ? n->flops / r->median * 1e-9 : 0;
    r->precision = dk_precision_get(prec)->name;
    r->ok = 1;
}

/* Every combination on node i: each planned on a graph of that node alone
 * (a refusal stays with the node), then timed round by round, one run of
 * every combination per round in a rotating order, so that the host's drift
 * falls on all alike. */
static void sweep_node_all(sweep_state *s, int i, dk_session **cs, dk_variant *cv, double *times)
{
    sweep_node *sn = &s->nodes[i];
    sweep_row *rows = &s->rows[(size_t)i * (size_t)s->n_combos];
    int nc = s->n_combos, reps = s->o.reps;
    fprintf(stderr, "sweep: [%d/%d] %s: %d combination%s\n", i + 1, s->n_nodes, s->g->nodes[sn->k].name, nc,
            nc == 1 ? "" : "s");
    dk_graph *sub = NULL;
    if (dk_graph_extract_node(s->g, sn->k, &sub) != DK_OK) {
        for (int c = 0; c < nc; c++) row_error(&rows[c], "the node as a graph of its own");
        return;
    }
    for (int c = 0; c < nc; c++) cs[c] = open_combo(s, sub, sn, c, &cv[c], &rows[c]);
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < nc; k++) {
            int c = (k + r) % nc;
            if (cs[c] && dk_session_run_node(cs[c], 0, &times[(size_t)c * (size_t)reps + (size_t)r]) != DK_OK) {
                row_error(&rows[c], "");
                dk_session_destroy(cs[c]);
                cs[c] = NULL;
            }
        }
    for (int c = 0; c < nc; c++) {
        if (cs[c]) judge(s, sub, sn, cs[c], &cv[c], &times[(size_t)c * (size_t)reps], &rows[c]);
        dk_session_destroy(cs[c]);
        cs[c] = NULL;
    }
    dk_graph_destroy(sub);
}

static dk_status run_combos(sweep_state *s)
{
    double *times = malloc(sizeof(double) * (size_t)s->o.reps * (size_t)s->n_combos);
    dk_session **cs = calloc((size_t)s->n_combos, sizeof *cs);
    dk_variant *cv = calloc((size_t)s->n_combos, sizeof *cv);
    s->rows = calloc((size_t)s->n_nodes * (size_t)s->n_combos, sizeof *s->rows);
    dk_status st = (!times || !cs || !cv || !s->rows) ? dk__error(DK_ERR_NOMEM, "sweep: out of memory") : DK_OK;
    for (int i = 0; st == DK_OK && i < s->n_nodes; i++) sweep_node_all(s, i, cs, cv, times);
    free(times);
    free(cs);
    free(cv);
    return st;
}

/* ---- marks, table and JSON ------------------------------------------------ */

/* Marks the fastest and the most accurate row of node i; returns the fastest
 * row's index (-1 when no row ran). */
static int mark(sweep_state *s, int i)
{
    sweep_row *rows = &s->rows[(size_t)i * (size_t)s->n_combos];
    int fast = -1, acc = -1;
    for (int c = 0; c < s->n_combos; c++) {
        if (!rows[c].ok) continue;
        if (fast < 0 || rows[c].median < rows[fast].median) fast = c;
        if (acc < 0 || rows[c].tol.worst_ratio < rows[acc].tol.worst_ratio ||
            (rows[c].tol.worst_ratio == rows[acc].tol.worst_ratio && rows[c].median < rows[acc].median))
            acc = c;
    }
    if (fast >= 0) rows[fast].fastest = 1;
    if (acc >= 0) rows[acc].most_accurate = 1;
    return fast;
}

static int out_of_tolerance(const sweep_row *r)
{
    return !r->transform_bound && (r->tol.verdict == DK_VERDICT_FAILED || !(r->tol.worst_ratio <= 1.0));
}

static const char *combo_label(const sweep_state *s, int c) { return s->combos[c][0] ? s->combos[c] : "(defaults)"; }

static void print_table(const sweep_state *s, FILE *f)
{
    int width = 12;
    for (int c = 0; c < s->n_combos; c++)
        if ((int)strlen(combo_label(s, c)) > width) width = (int)strlen(combo_label(s, c));
    fprintf(f, "sweep of %s on %s: %d convolution%s x %d combination%s, seed %llu, median of %d runs after %d warm-up\n",
           s->o.model, s->base_text, s->n_nodes, s->n_nodes == 1 ? "" : "s", s->n_combos,
           s->n_combos == 1 ? "" : "s", (unsigned long long)s->o.seed, s->o.reps, s->o.warmup);
    for (int i = 0; i < s->n_nodes; i++) {
        const dk_node *n = &s->g->nodes[s->nodes[i].k];
        fprintf(f, "\n%s  %s  %.1f MFLOP%s%s\n", n->name, s->nodes[i].shape, n->flops * 1e-6,
               n->covers ? "  covers " : "", n->covers ? n->covers : "");
        fprintf(f, "  %-*s  %10s  %17s  %8s  %11s  %-4s  %s\n", width, "options", "median ms", "p10..p90 ms",
               "GFLOP/s", "worst ratio", "prec", "marks");
        for (int c = 0; c < s->n_combos; c++) {
            const sweep_row *r = &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c];
            if (!r->ok) {
                fprintf(f, "  %-*s  error: %s\n", width, combo_label(s, c), r->error);
                continue;
            }
            char range[40];
            snprintf(range, sizeof range, "%.4f..%.4f", r->p10 * 1e3, r->p90 * 1e3);
            fprintf(f, "  %-*s  %10.4f  %17s  %8.1f  %11.3g  %-4s  %s%s%s%s%s\n", width, combo_label(s, c),
                   r->median * 1e3, range, r->gflops, r->tol.worst_ratio, r->precision,
                   r->fastest ? "FASTEST" : "", r->fastest && r->most_accurate ? " " : "",
                   r->most_accurate ? "MOST-ACCURATE" : "", out_of_tolerance(r) ? " OUT-OF-TOLERANCE" : "",
                   r->transform_bound ? " TRANSFORM-BOUND" : "");
        }
        if (s->nodes[i].fastest >= 0) {
            const sweep_row *r = &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)s->nodes[i].fastest];
            if (out_of_tolerance(r))
                fprintf(f, "  FASTEST OUT OF TOLERANCE: %s (worst ratio %.3g in %s; %s)\n", combo_label(s, s->nodes[i].fastest),
                       r->tol.worst_ratio, r->precision, r->tol.explain);
        } else {
            fprintf(f, "  no combination ran on this node\n");
        }
    }
}

static cJSON *row_json(const sweep_state *s, int c, const sweep_row *r)
{
    char text[700];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "options", combo_label(s, c));
    variant_text(s, c, text, sizeof text);
    cJSON_AddStringToObject(e, "variant", text);
    cJSON_AddBoolToObject(e, "ok", r->ok);
    if (!r->ok) {
        cJSON_AddStringToObject(e, "error", r->error);
        return e;
    }
    cJSON_AddNumberToObject(e, "median_ms", r->median * 1e3);
    cJSON_AddNumberToObject(e, "p10_ms", r->p10 * 1e3);
    cJSON_AddNumberToObject(e, "p90_ms", r->p90 * 1e3);
    cJSON_AddNumberToObject(e, "gflops", r->gflops);
    cJSON_AddStringToObject(e, "precision", r->precision);
    /* inf (tol = 0 with an error) is not JSON: written as a string */
    if (isfinite(r->tol.worst_ratio)) cJSON_AddNumberToObject(e, "worst_ratio", r->tol.worst_ratio);
    else cJSON_AddStringToObject(e, "worst_ratio", isnan(r->tol.worst_ratio) ? "nan" : "inf");
    if (isfinite(r->tol.max_norm)) cJSON_AddNumberToObject(e, "max_norm_error", r->tol.max_norm);
    cJSON_AddNumberToObject(e, "max_abs_error", r->tol.max_abs);
    cJSON_AddNumberToObject(e, "rel_l2_error", r->tol.rel_l2);
    cJSON_AddStringToObject(e, "verdict", dk_verdict_name(r->tol.verdict));
    cJSON_AddBoolToObject(e, "within_tolerance", !out_of_tolerance(r));
    cJSON_AddBoolToObject(e, "within_transform_bound", r->transform_bound);
    cJSON_AddBoolToObject(e, "fastest", r->fastest);
    cJSON_AddBoolToObject(e, "most_accurate", r->most_accurate);
    return e;
}

static cJSON *sweep_json(const sweep_state *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", "deltakern-sweep");
    cJSON_AddStringToObject(j, "model", s->o.model);
    cJSON_AddStringToObject(j, "backend", s->base_text);
    cJSON_AddNumberToObject(j, "opt", s->opt);
    cJSON_AddNumberToObject(j, "seed", (double)s->o.seed);
    cJSON_AddNumberToObject(j, "reps", s->o.reps);
    cJSON_AddNumberToObject(j, "warmup", s->o.warmup);
    cJSON *combos = cJSON_AddArrayToObject(j, "combinations");
    for (int c = 0; c < s->n_combos; c++) cJSON_AddItemToArray(combos, cJSON_CreateString(combo_label(s, c)));
    cJSON *nodes = cJSON_AddArrayToObject(j, "nodes");
    for (int i = 0; i < s->n_nodes; i++) {
        const dk_node *n = &s->g->nodes[s->nodes[i].k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", n->name);
        if (n->covers) cJSON_AddStringToObject(e, "covers", n->covers);
        cJSON_AddStringToObject(e, "shape", s->nodes[i].shape);
        cJSON_AddNumberToObject(e, "flops", n->flops);
        cJSON *rows = cJSON_AddArrayToObject(e, "rows");
        for (int c = 0; c < s->n_combos; c++)
            cJSON_AddItemToArray(rows, row_json(s, c, &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c]));
        int f = s->nodes[i].fastest;
        if (f >= 0) {
            cJSON_AddStringToObject(e, "fastest", combo_label(s, f));
            for (int c = 0; c < s->n_combos; c++)
                if (s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c].most_accurate)
                    cJSON_AddStringToObject(e, "most_accurate", combo_label(s, c));
            cJSON_AddBoolToObject(e, "fastest_out_of_tolerance",
                                  out_of_tolerance(&s->rows[(size_t)i * (size_t)s->n_combos + (size_t)f]));
        }
        cJSON_AddItemToArray(nodes, e);
    }
    cJSON_AddItemToObject(j, "environment", dk_environment_json(&s->base));
    cJSON_AddItemToObject(j, "topology", dk_topology_json());
    return j;
}

static void cleanup(sweep_state *s)
{
    for (int i = 0; i < s->n_nodes; i++) {
        for (int j = 0; j < MAX_IN; j++) dk_tensor_reset(&s->nodes[i].in[j]);
        dk_tensor_reset(&s->nodes[i].ref);
    }
    free(s->rows);
    dk_graph_destroy(s->g);
}

void dk_sweep_destroy(dk_sweep *s)
{
    if (!s) return;
    cleanup(s);
    free(s);
}

dk_status dk_sweep_run(const dk_sweep_config *cfg, dk_sweep **out)
{
    *out = NULL;
    if (cfg->reps < 1 || cfg->warmup < 0)
        return dk__error(DK_ERR_INVALID, "sweep: reps must be >= 1 and warmup >= 0");
    sweep_state *s = calloc(1, sizeof *s);
    if (!s) return dk__error(DK_ERR_NOMEM, "sweep: out of memory");
    s->o = *cfg;
    dk_status st = parse_base(s);
    if (st == DK_OK) st = build_combos(s);
    if (st == DK_OK) st = dk_onnx_load_with(s->o.model, s->o.load, &s->g);
    if (st == DK_OK) st = dk_graph_optimize(s->g, s->opt, dk_variant_get(&s->base, "disable"));
    if (st == DK_OK) st = select_nodes(s);
    if (st == DK_OK) {
        fprintf(stderr, "sweep: seed %llu; reference run\n", (unsigned long long)s->o.seed);
        st = reference_run(s);
    }
    if (st == DK_OK) st = run_combos(s);
    for (int i = 0; st == DK_OK && i < s->n_nodes; i++) s->nodes[i].fastest = mark(s, i);
    if (st != DK_OK) {
        dk_sweep_destroy(s);
        return st;
    }
    *out = s;
    return DK_OK;
}

void dk_sweep_print(const dk_sweep *s, FILE *f) { print_table(s, f); }

dk_status dk_sweep_write_json(const dk_sweep *s, const char *path)
{
    cJSON *j = sweep_json(s);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text) return dk__error(DK_ERR_NOMEM, "sweep: out of memory");
    dk_status st = dk_file_write_text(path, text);
    cJSON_free(text);
    return st;
}

int dk_sweep_any_ran(const dk_sweep *s)
{
    for (int i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].fastest >= 0) return 1;
    return 0;
}
