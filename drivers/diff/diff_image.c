/* Differential harness: one image. The baseline runs once (or its values
 * come from a bundle); every variant runs propagated, then isolated node by
 * node on the baseline's inputs; outputs are compared against the tolerance
 * bound; label flips are explained and checked with mixed runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "drivers/diff/diff_engine.h"
#include "check/tolerance.h"
#include "exec/session_internal.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"
#include "runtime/text.h"

/* ---- one image ---- */

static void add_num(cJSON *o, const char *key, double x)
{
    /* JSON has no NaN or infinity: unknown is null, infinite a huge number */
    if (isnan(x)) cJSON_AddNullToObject(o, key);
    else if (isinf(x)) cJSON_AddNumberToObject(o, key, x > 0 ? 1e308 : -1e308);
    else cJSON_AddNumberToObject(o, key, x);
}

dk_status dk_diff_bundle_check(const dk_diff *d, const char *name, const dk_tensor *input)
{
    if (!d->have_against) return DK_OK;
    char hash[17];
    dk_diff_hash_tensor(input, hash);
    if (dk__bundle_find(&d->against, hash) >= 0) return DK_OK;
    char list[1024] = "";
    for (int k = 0; k < d->against.n_images; k++) dk_join(list, sizeof list, ", ", d->against.image_names[k]);
    return dk__error(DK_ERR_INVALID, "%s: this input (hash %s) is not in the bundle %s, which holds: %s", name, hash,
                     d->c.against, list);
}

static dk_status baseline_values(dk_diff *d, const char *name, const char *hash, const dk_tensor *input)
{
    if (d->have_against) {
        DK_TRY(dk_diff_bundle_check(d, name, input));
        return dk__bundle_load_image(&d->against, dk__bundle_find(&d->against, hash), &d->store);
    }
    dk_status st = dk_session_run(d->bs, input, 1);
    if (st != DK_OK) return dk__error_prefix(st, "baseline '%s' on %s", d->base_name, name);
    /* the baseline's values are viewed where its session holds them, not
     * copied: nothing runs that session again before the next image */
    d->store.views = 1;
    for (int s = 0; s < d->store.n; s++) {
        const dk_tensor *t = dk_session_value(d->bs, d->base_value[s]);
        if (!t) return DK_ERR_INTERNAL;
        d->store.t[s].data = t->data;
    }
    return DK_OK;
}

typedef struct node_eval {
    dk__diff_err iso, prop;
    double amp;
    double transform_ratio; /* over the table's bound on a transform plan: against the looser bound; else NAN */
    int compared;
} node_eval;

static const char *node_options(const vrun *r, char *buf, size_t n)
{
    const char *colon = strchr(r->name, ':');
    snprintf(buf, n, "%s", colon ? colon + 1 : "");
    return buf;
}

static cJSON *node_json(const vrun *r, const dk_node *nd, const node_eval *e, int boundary, const char *group)
{
    const dk_graph *g = r->g;
    char shape[128];
    const dk_tensor *t = &g->values[nd->outputs[0]].t;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", nd->name);
    cJSON_AddStringToObject(o, "op", dk_op_name(nd->op));
    cJSON_AddStringToObject(o, "shape", dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    if (nd->covers) cJSON_AddStringToObject(o, "covers", nd->covers);
    if (boundary) cJSON_AddStringToObject(o, "group", group);
    add_num(o, "iso_max_abs", e->iso.max_abs);
    add_num(o, "iso_rel_l2", e->iso.rel_l2);
    add_num(o, "iso_cos", e->iso.cosine);
    add_num(o, "iso_ratio", e->iso.ratio);
    if (!isnan(e->transform_ratio)) add_num(o, "transform_ratio", e->transform_ratio);
    add_num(o, "prop_max_abs", e->prop.max_abs);
    add_num(o, "prop_rel_l2", e->prop.rel_l2);
    add_num(o, "prop_cos", e->prop.cosine);
    add_num(o, "prop_ratio", e->prop.ratio);
    add_num(o, "amp", e->amp);
    return o;
}

static cJSON *finding_json(const vrun *r, const dk_node *nd, const node_eval *e)
{
    char shape[128], opts[256];
    const dk_tensor *t = &r->g->values[nd->outputs[0]].t;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "node", nd->name);
    cJSON_AddStringToObject(o, "op", dk_op_name(nd->op));
    cJSON_AddStringToObject(o, "shape", dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    if (nd->covers) cJSON_AddStringToObject(o, "covers", nd->covers);
    cJSON_AddStringToObject(o, "backend", dk_backend_name(r->v.backend));
    cJSON_AddStringToObject(o, "options", node_options(r, opts, sizeof opts));
    add_num(o, "iso_ratio", e->iso.ratio);
    add_num(o, "iso_max_abs", e->iso.max_abs);
    add_num(o, "iso_rel_l2", e->iso.rel_l2);
    return o;
}

/* Input pointers of node k as the isolated run fed them. */
static void fed_inputs(dk_diff *d, vrun *r, const dk_node *nd, const dk_tensor **in)
{
    const dk_graph *g = r->g;
    for (int i = 0; i < nd->n_inputs; i++) {
        int v = nd->inputs[i];
        if (v < 0) in[i] = NULL;
        else if (g->values[v].kind == DK_VALUE_CONSTANT) in[i] = &g->values[v].t;
        else if (r->slot[v] >= 0) in[i] = &d->store.t[r->slot[v]];
        else in[i] = dk_session_value(r->s, v);
    }
}

/* Four arrays of count doubles each (a node's bound, its magnitudes and the
 * table's two other terms), kept from node to node and image to image: a
 * fresh allocation per node faulted its pages in every time (a tenth of a
 * diff's time on MobileNetV2). */
static double *scratch(dk_diff *d, int64_t count)
{
    if (!d->scratch || count > d->scratch_count) {
        free(d->scratch);
        d->scratch_count = 0;
        if ((uint64_t)count > SIZE_MAX / (4 * sizeof(double)) - 1 ||
            !(d->scratch = malloc(4 * sizeof(double) * (size_t)(count + 1))))
            return NULL;
        d->scratch_count = count;
    }
    return d->scratch;
}

/* The bound of node k of g on the inputs in, into tol (S, C and A: scratch). */
static dk_status bounds(const dk_graph *g, const dk_node *nd, dk_precision p, const dk_tensor *const *in,
                        const dk_tensor *ref, double *tol)
{
    int64_t count = dk_tensor_numel(ref);
    double *S = tol + count, *C = S + count, *A = C + count;
    return dk__tolerance_bounds_into(g, nd, p, in, ref, tol, S, C, A);
}

/* The bound of the baseline graph's node bk on the baseline's values. */
static dk_status base_bounds(dk_diff *d, int bk, dk_precision p, const dk_tensor *ref, double *tol)
{
    const dk_graph *bg = d->bg;
    const dk_node *bn = &bg->nodes[bk];
    const dk_tensor *in[64];
    if (bn->n_inputs > 64) return DK_ERR_UNSUPPORTED;
    for (int i = 0; i < bn->n_inputs; i++) {
        int v = bn->inputs[i], s = v >= 0 ? dk__store_find(&d->store, bg->values[v].t.name) : -1;
        in[i] = v < 0 ? NULL : bg->values[v].kind == DK_VALUE_CONSTANT ? &bg->values[v].t : s >= 0 ? &d->store.t[s] : NULL;
        if (v >= 0 && !in[i]) return DK_ERR_UNSUPPORTED;
    }
    return bounds(bg, bn, p, in, ref, tol);
}

/* A transform-based convolution (Winograd, FFT: the plan declares
 * DK_PLAN_TRANSFORM) over the table's bound, against the looser bound the
 * table holds such algorithms to, |y - ref| <= u L S with L =
 * dk_tolerance_transform_norm_limit (as the op suite does): <= 1 is no faulty
 * kernel. S is still in the scratch after bounds(); the next array (C, no
 * longer needed) takes the limit. */
static double transform_ratio(const vrun *r, const dk_tensor *ref, const dk_tensor *y, double *tol)
{
    int64_t count = dk_tensor_numel(ref);
    const double *S = tol + count;
    double *limit = tol + 2 * count;
    double f = dk_precision_get(r->prec)->u * dk_tolerance_transform_norm_limit(r->prec);
    for (int64_t i = 0; i < count; i++) limit[i] = f * S[i];
    dk__diff_err e;
    dk__diff_compare(ref, y, limit, r->scale, &e);
    return e.ratio;
}

typedef struct walk {
    node_eval *ev;         /* per node */
    double *prop_rel;      /* per value */
    int first_faulty;
    double tol_top[2];     /* the final node's bound at the baseline's top-1 and top-2 */
} walk;

/* Node k: its propagated output (still in the session: no later step has
 * written it yet) compared with the baseline's, then the node run isolated
 * (inputs from the baseline where it has them) and compared again, both
 * against the bound for the baseline's inputs. Holding no copy of the
 * propagated run keeps a variant's memory at one set of activations. */
static dk_status eval_node(dk_diff *d, vrun *r, int k, walk *w, int *chain, const dk__diff_top *btop)
{
    const dk_graph *g = r->g;
    const dk_node *nd = &g->nodes[k];
    *chain = 0;
    for (int i = 0; i < nd->n_inputs; i++) {
        int v = nd->inputs[i];
        if (v >= 0 && g->values[v].kind != DK_VALUE_CONSTANT && r->slot[v] < 0) *chain = 1;
    }
    int o = nd->outputs[0];
    node_eval *e = &w->ev[k];
    int compare = o >= 0 && r->slot[o] >= 0 && dk__diff_is_f32(g, o);
    if (nd->n_inputs > 64) return dk__error(DK_ERR_UNSUPPORTED, "node '%s': too many inputs", nd->name);
    double *tol = NULL;
    const dk_tensor *ref = compare ? &d->store.t[r->slot[o]] : NULL;
    if (compare) {
        const dk_tensor *in[64];
        fed_inputs(d, r, nd, in);
        if (!(tol = scratch(d, dk_tensor_numel(ref)))) return dk__error(DK_ERR_NOMEM, "out of memory");
        if (*chain) {
            /* the comparison spans nodes the baseline fuses: the bound is that of
             * the baseline's node computing this value, on the baseline's inputs
             * (none with a bundle, which has no graph) */
            int bk = d->bg ? d->base_producer[r->slot[o]] : -1;
            dk_status bst = bk >= 0 ? base_bounds(d, bk, r->prec, ref, tol) : DK_ERR_UNSUPPORTED;
            if (bst != DK_OK) {
                dk__error_clear();
                tol = NULL;
            }
        } else if (bounds(g, nd, r->prec, in, ref, tol) != DK_OK) {
            /* an op without a row in the table: compared, without a bound */
            dk__error_clear();
            tol = NULL;
        }
        const dk_tensor *yp = dk_session_value(r->s, o);
        if (!yp) return DK_ERR_INTERNAL;
        /* an exact op's bound is 0: its propagated error has no meaningful ratio */
        dk_tolerance tinfo;
        int exact = !*chain && dk_tolerance_for_node(g, nd, r->prec, &tinfo) == DK_OK && tinfo.exact;
        dk__error_clear();
        dk__diff_compare(ref, yp, exact ? NULL : tol, r->scale, &e->prop);
    }
    dk_status st = DK_OK;
    for (int i = 0; i < nd->n_inputs && st == DK_OK; i++) {
        int v = nd->inputs[i];
        if (v >= 0 && g->values[v].kind != DK_VALUE_CONSTANT && r->slot[v] >= 0)
            st = dk_session_set_value(r->s, v, &d->store.t[r->slot[v]]);
    }
    if (st == DK_OK) st = dk_session_run_node(r->s, k, NULL);
    const dk_tensor *y = st == DK_OK && compare ? dk_session_value(r->s, o) : NULL;
    if (st == DK_OK && compare && !y) st = DK_ERR_INTERNAL;
    if (st != DK_OK || !compare) return st;
    dk__diff_compare(ref, y, tol, r->scale, &e->iso);
    if (tol && !*chain && e->iso.ratio > 1 && (dk__session_node_traits(r->s, k) & DK_PLAN_TRANSFORM))
        e->transform_ratio = transform_ratio(r, ref, y, tol);
    if (tol && o == g->outputs[0] && btop->n >= 2) {
        w->tol_top[0] = r->scale * tol[btop->idx[0]];
        w->tol_top[1] = r->scale * tol[btop->idx[1]];
    }
    e->compared = 1;
    w->prop_rel[o] = e->prop.rel_l2;
    /* amplification: the propagated relative error out over the largest in */
    double in_rel = 0;
    int known = 1;
    for (int i = 0; i < nd->n_inputs; i++) {
        int v = nd->inputs[i];
        if (v < 0 || g->values[v].kind == DK_VALUE_CONSTANT) continue;
        if (isnan(w->prop_rel[v])) known = 0;
        else if (w->prop_rel[v] > in_rel) in_rel = w->prop_rel[v];
    }
    e->amp = known && in_rel > 0 && isfinite(in_rel) ? e->prop.rel_l2 / in_rel : NAN;
    if (w->first_faulty < 0 && e->iso.ratio > 1 && !(e->transform_ratio <= 1)) w->first_faulty = k;
    return DK_OK;
}

typedef struct suspect {
    int k;
    double ratio, amp;
} suspect;

static int cmp_suspect(const void *pa, const void *pb)
{
    const suspect *a = pa, *b = pb;
    if (a->ratio != b->ratio) return a->ratio > b->ratio ? -1 : 1;
    if (a->amp != b->amp) return a->amp > b->amp ? -1 : 1;
    return a->k - b->k;
}

static int cmp_amp(const void *pa, const void *pb)
{
    const suspect *a = pa, *b = pb;
    if (a->amp != b->amp) return a->amp > b->amp ? -1 : 1;
    return a->k - b->k;
}

/* The nodes ordered for amplification (amp desc) or suspicion (isolated ratio
 * desc, then amplification): every node of the graph. */
static suspect *rank(const vrun *r, const walk *w, int by_amp)
{
    int n = r->g->n_nodes;
    suspect *s = malloc(sizeof *s * (size_t)(n + 1));
    if (!s) return NULL;
    for (int k = 0; k < n; k++) {
        s[k].k = k;
        s[k].ratio = w->ev[k].compared && !isnan(w->ev[k].iso.ratio) ? w->ev[k].iso.ratio : 0;
        s[k].amp = w->ev[k].compared && !isnan(w->ev[k].amp) ? w->ev[k].amp : 0;
    }
    qsort(s, (size_t)n, sizeof *s, by_amp ? cmp_amp : cmp_suspect);
    return s;
}

/* ---- non-finite outputs ---- */

/* After a run: the first node (in order) whose output holds NaN or Inf while
 * its inputs were finite, -2 when the graph input itself is not finite, -1
 * when every output is finite. */
static int first_nonfinite(dk_session *s, const dk_graph *g)
{
    const dk_tensor *x = dk_session_value(s, g->inputs[0]);
    if (x && dk__diff_count_nonfinite(x)) return -2;
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        for (int o = 0; o < n->n_outputs; o++) {
            if (n->outputs[o] < 0 || !dk_dtype_is_float(g->values[n->outputs[o]].t.dtype)) continue;
            const dk_tensor *t = dk_session_value(s, n->outputs[o]);
            if (t && dk__diff_count_nonfinite(t)) return k;
        }
    }
    dk__error_clear();
    return -1;
}

/* "nonfinite": where the NaN or Inf came from, or null. */
static void nonfinite_json(cJSON *o, const char *key, const dk_graph *g, int k, const dk_tensor *out)
{
    if (k == -1) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    cJSON *j = cJSON_AddObjectToObject(o, key);
    /* g NULL: a bundle's baseline, whose nodes are not known here */
    cJSON_AddStringToObject(j, "node", k >= 0 ? g->nodes[k].name : g ? "(the input)" : "(in the bundle)");
    cJSON_AddStringToObject(j, "op", k >= 0 ? dk_op_name(g->nodes[k].op) : g ? "input" : "?");
    cJSON_AddNumberToObject(j, "nonfinite_outputs", (double)dk__diff_count_nonfinite(out));
}

/* ---- determinism: a second run on the same input, everything the first
 * left poisoned, every node output compared bit for bit ---- */

/* The bits of one node output, for the determinism check only (never
 * written anywhere): two runs hash every activation, and XXH3 takes a
 * fraction of a cycle per byte where the bundles' FNV-1a takes a multiply
 * (11% of a diff of MobileNetV2 on four variants). */
static uint64_t output_hash(const dk_tensor *t)
{
    int64_t head[2 + DK_MAX_DIMS] = {(int64_t)t->dtype, t->ndim};
    memcpy(head + 2, t->dims, sizeof(int64_t) * (size_t)t->ndim);
    uint64_t shape = XXH3_64bits(head, sizeof(int64_t) * (size_t)(2 + t->ndim));
    return t->data ? XXH3_64bits_withSeed(t->data, dk_tensor_nbytes(t), shape) : shape;
}

/* hash[k]: node k's first output (0 where it has none) */
static dk_status hash_outputs(dk_session *s, const dk_graph *g, uint64_t *hash)
{
    for (int k = 0; k < g->n_nodes; k++) {
        hash[k] = 0;
        int v = g->nodes[k].outputs[0];
        if (v < 0) continue;
        const dk_tensor *t = dk_session_value(s, v);
        if (!t) return DK_ERR_INTERNAL;
        hash[k] = output_hash(t);
    }
    return DK_OK;
}

/* Did node k differ between the two runs on inputs that did not (a source
 * of the nondeterminism, not a node downstream of one)? first and second
 * hash each node's first output; producer[v]: the node whose first output
 * value v is (-1: none, counted as unchanged). */
static int differs_by_itself(const dk_graph *g, int k, const int *producer, const uint64_t *first,
                             const uint64_t *second)
{
    const dk_node *n = &g->nodes[k];
    for (int i = 0; i < n->n_inputs; i++) {
        int v = n->inputs[i], p = v >= 0 ? producer[v] : -1;
        if (p >= 0 && first[p] != second[p]) return 0;
    }
    return 1;
}

/* Runs the variant a second time (after dk_session_poison) and records in
 * vj whether every node output came out the same bits as the first run's
 * (their hashes in first); *n_differ receives how many did not. */
static dk_status check_determinism(vrun *r, const dk_tensor *input, const char *name, const uint64_t *first, cJSON *vj,
                                   int *n_differ)
{
    const dk_graph *g = r->g;
    *n_differ = 0;
    uint64_t *second = malloc(sizeof *second * (size_t)(g->n_nodes + 1));
    int *producer = malloc(sizeof *producer * (size_t)(g->n_values + 1));
    dk_status st = second && producer ? dk_session_poison(r->s) : dk__error(DK_ERR_NOMEM, "out of memory");
    for (int v = 0; st == DK_OK && v < g->n_values; v++) producer[v] = -1;
    for (int k = 0; st == DK_OK && k < g->n_nodes; k++)
        if (g->nodes[k].outputs[0] >= 0) producer[g->nodes[k].outputs[0]] = k;
    if (st == DK_OK && (st = dk_session_run(r->s, input, 1)) != DK_OK)
        st = dk__error_prefix(st, "variant '%s' on %s (second run)", r->name, name);
    if (st == DK_OK) st = hash_outputs(r->s, g, second);
    if (st == DK_OK) {
        cJSON *nodes = cJSON_CreateArray();
        int undeclared = 0;
        for (int k = 0; k < g->n_nodes; k++)
            if (first[k] != second[k]) {
                if ((*n_differ)++ < 10) cJSON_AddItemToArray(nodes, cJSON_CreateString(g->nodes[k].name));
                undeclared += differs_by_itself(g, k, producer, first, second) &&
                              !(dk__session_node_traits(r->s, k) & DK_PLAN_MAY_DIFFER);
            }
        cJSON_AddBoolToObject(vj, "deterministic", *n_differ == 0);
        cJSON_AddNumberToObject(vj, "nondeterministic_count", *n_differ);
        cJSON_AddItemToObject(vj, "nondeterministic_nodes", nodes); /* the first 10, in order */
        /* every node that differed on inputs that did not declares it may */
        if (*n_differ) cJSON_AddBoolToObject(vj, "nondeterminism_declared", undeclared == 0);
    }
    free(producer);
    free(second);
    return st;
}

/* The counterfactual mixed runs of a flip: the candidate on a set of nodes,
 * the baseline elsewhere. *single receives the node when the minimal set
 * found is one node (-1 otherwise). n_differ: the variant's nondeterministic
 * node outputs on this input, the first reason a flip may not reproduce. */
static dk_status counterfactual(dk_diff *d, vrun *r, const walk *w, const dk_tensor *input, int vtop1,
                                int n_differ, cJSON *flip, int *single)
{
    *single = -1;
    if (!r->mixed_base) {
        dk_status st = dk_session_create(r->g, &d->mixed_variant, &r->mixed_base);
        if (st != DK_OK) return dk__error_prefix(st, "mixed runs for '%s'", r->name);
    }
    suspect *s = rank(r, w, 0);
    int *order = malloc(sizeof(int) * ((size_t)r->g->n_nodes + 1));
    if (!s || !order) {
        free(s);
        free(order);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < r->g->n_nodes; i++) order[i] = s[i].k;
    dk__cf_result cf;
    dk_status st = dk__diff_counterfactual(r->s, r->mixed_base, input, order, r->g->n_nodes, d->c.max_mixed_runs, &cf);
    free(s);
    free(order);
    if (st != DK_OK) {
        free(cf.set);
        return st;
    }
    cJSON *c = cJSON_AddObjectToObject(flip, "counterfactual");
    char name[256];
    cJSON_AddStringToObject(c, "mixed_baseline", dk_variant_canonical(&d->mixed_variant, 0, name, sizeof name));
    cJSON_AddBoolToObject(c, "reproduced", cf.reproduced);
    cJSON_AddNumberToObject(c, "runs", cf.runs);
    cJSON_AddNumberToObject(c, "top1_none", cf.top1_none);
    cJSON_AddNumberToObject(c, "top1_all", cf.top1_all);
    cJSON *set = cJSON_AddArrayToObject(c, "set");
    for (int i = 0; i < cf.n_set; i++) cJSON_AddItemToArray(set, cJSON_CreateString(r->g->nodes[cf.set[i]].name));
    if (cf.reproduced) cJSON_AddNumberToObject(c, "top1_set", cf.top1_set);
    cJSON_AddBoolToObject(c, "budget_exhausted", cf.exhausted);
    if (!cf.reproduced) {
        char why[512];
        if (n_differ)
            snprintf(why, sizeof why, "the variant is nondeterministic: %d node output(s) differ between two runs "
                     "on this input, so mixed runs cannot rebuild its own result", n_differ);
        else if (cf.top1_all != vtop1)
            snprintf(why, sizeof why, "with the candidate on every node the mixed runs give class %d, its own run "
                     "class %d: its result depends on state that moving values node by node does not carry",
                     cf.top1_all, vtop1);
        else
            snprintf(why, sizeof why, "the mixed runs flip only with the candidate on every node");
        cJSON_AddStringToObject(c, "not_reproduced_because", why);
    }
    if (cf.reproduced && cf.n_set == 1) *single = cf.set[0];
    free(cf.set);
    return DK_OK;
}

/* The final node's bound at a class as the typical error rather than the
 * worst case: rounding errors of n operations add like a random walk, so
 * the typical error grows as sqrt(n) u S where the bound allows n u S
 * (Higham, Accuracy and Stability, 2nd ed., section 3.3). */
static double typical(const vrun *r, double bound)
{
    const dk_graph *g = r->g;
    const dk_node *last = NULL;
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k].outputs[0] == g->outputs[0]) last = &g->nodes[k];
    dk_tolerance t;
    if (!last || dk_tolerance_for_node(g, last, r->prec, &t) != DK_OK || t.n < 1) {
        dk__error_clear();
        return bound;
    }
    return bound / sqrt(t.n);
}

/* The flip's cause, after its counterfactual: the first faulty kernel; one
 * node within its bound that alone flips the label (sensitive_node); a
 * margin within the last layer's typical error (tiny_margin); else rounding
 * amplified by the network (its strongest amplifiers). */
static dk_status explain_flip(dk_diff *d, vrun *r, const walk *w, const dk_tensor *input,
                              const dk__diff_top *btop, const dk__diff_top *vtop, int n_differ, cJSON *vj)
{
    cJSON *flip = cJSON_AddObjectToObject(vj, "flip");
    cJSON_AddNumberToObject(flip, "baseline_top1", btop->idx[0]);
    cJSON_AddNumberToObject(flip, "variant_top1", vtop->idx[0]);
    double margin = btop->n >= 2 ? btop->val[0] - btop->val[1] : INFINITY;
    double noise = typical(r, w->tol_top[0]) + typical(r, w->tol_top[1]);
    int tiny = noise >= margin;
    add_num(flip, "margin", margin);
    add_num(flip, "typical_error", noise);
    int single = -1;
    if (d->c.counterfactual) DK_TRY(counterfactual(d, r, w, input, vtop->idx[0], n_differ, flip, &single));
    cJSON *blamed = cJSON_CreateArray();
    const char *cause;
    if (w->first_faulty >= 0) {
        cause = "faulty_kernel";
        cJSON_AddItemToArray(blamed, cJSON_CreateString(r->g->nodes[w->first_faulty].name));
    } else if (single >= 0) {
        cause = "sensitive_node"; /* within its bound, yet it alone flips the label */
        cJSON_AddItemToArray(blamed, cJSON_CreateString(r->g->nodes[single].name));
    } else if (tiny) {
        cause = "tiny_margin";
    } else {
        cause = "amplified_rounding";
        suspect *s = rank(r, w, 1);
        if (!s) {
            cJSON_Delete(blamed);
            return dk__error(DK_ERR_NOMEM, "out of memory");
        }
        for (int i = 0; i < N_AMPLIFIERS && i < r->g->n_nodes && s[i].amp > 0; i++)
            cJSON_AddItemToArray(blamed, cJSON_CreateString(r->g->nodes[s[i].k].name));
        free(s);
    }
    cJSON_AddStringToObject(flip, "cause", cause);
    cJSON_AddItemToObject(flip, "blamed", blamed);
    cJSON_AddBoolToObject(flip, "tiny_margin", tiny);
    return DK_OK;
}

static dk_status diff_variant(dk_diff *d, vrun *r, const char *name, const dk_tensor *input,
                              const dk__diff_top *btop, cJSON *vj)
{
    const dk_graph *g = r->g;
    dk_status st = dk_session_run(r->s, input, 1);
    if (st != DK_OK) return dk__error_prefix(st, "variant '%s' on %s", r->name, name);
    DK_TRY(dk_tensor_copy(&r->logits, dk_session_output(r->s, 0)));
    /* NaN or Inf in the output: where they came from (labels are then not compared) */
    nonfinite_json(vj, "nonfinite", g, dk__diff_count_nonfinite(&r->logits) ? first_nonfinite(r->s, g) : -1,
                   &r->logits);
    walk w = {0};
    w.first_faulty = -1;
    w.ev = calloc((size_t)g->n_nodes + 1, sizeof *w.ev);
    w.prop_rel = malloc(sizeof *w.prop_rel * ((size_t)g->n_values + 1));
    uint64_t *first = d->c.skip_determinism ? NULL : malloc(sizeof *first * (size_t)(g->n_nodes + 1));
    st = w.ev && w.prop_rel && (first || d->c.skip_determinism) ? DK_OK : dk__error(DK_ERR_NOMEM, "out of memory");
    for (int v = 0; st == DK_OK && v < g->n_values; v++) w.prop_rel[v] = NAN;
    if (st == DK_OK) w.prop_rel[g->inputs[0]] = 0;
    /* the first run's bits, for the determinism check after the walk */
    if (st == DK_OK && first) st = hash_outputs(r->s, g, first);
    cJSON *nodes = cJSON_AddArrayToObject(vj, "nodes");
    char group[2048] = "";
    for (int k = 0; k < g->n_nodes && st == DK_OK; k++) {
        int chain;
        w.ev[k].amp = NAN;
        w.ev[k].transform_ratio = NAN;
        st = eval_node(d, r, k, &w, &chain, btop);
        if (st != DK_OK) break;
        const dk_node *nd = &g->nodes[k];
        size_t used = strlen(group);
        snprintf(group + used, sizeof group - used, "%s%s", used ? "," : "", nd->name);
        if (!w.ev[k].compared) continue; /* inside a group the baseline does not observe */
        cJSON_AddItemToArray(nodes, node_json(r, nd, &w.ev[k], chain, group));
        group[0] = 0;
    }
    int n_differ = 0;
    if (st == DK_OK && first) st = check_determinism(r, input, name, first, vj, &n_differ);
    free(first);
    if (st == DK_OK) {
        if (w.first_faulty >= 0)
            cJSON_AddItemToObject(vj, "first_faulty", finding_json(r, &g->nodes[w.first_faulty], &w.ev[w.first_faulty]));
        else
            cJSON_AddNullToObject(vj, "first_faulty");
        dk__diff_top vtop;
        dk__diff_top_of(&r->logits, &vtop);
        dk__diff_labels lab;
        dk__diff_compare_labels(&d->store.t[d->slot_output], &r->logits, &lab);
        cJSON_AddItemToObject(vj, "top5", dk__diff_top_json(&vtop));
        if (lab.comparable) {
            cJSON_AddBoolToObject(vj, "top1_agree", lab.top1_agree);
            add_num(vj, "top5_overlap", lab.top5_overlap);
            add_num(vj, "kendall_tau", lab.tau);
        } else { /* NONFINITE: no label to compare, never a label difference */
            cJSON_AddNullToObject(vj, "top1_agree");
            cJSON_AddNullToObject(vj, "top5_overlap");
            cJSON_AddNullToObject(vj, "kendall_tau");
        }
        cJSON *amps = cJSON_AddArrayToObject(vj, "amplifiers");
        suspect *s = rank(r, &w, 1);
        for (int i = 0; s && i < N_AMPLIFIERS && i < g->n_nodes && s[i].amp > 0; i++)
            cJSON_AddItemToArray(amps, cJSON_CreateString(g->nodes[s[i].k].name));
        free(s);
        if (lab.comparable && !lab.top1_agree) st = explain_flip(d, r, &w, input, btop, &vtop, n_differ, vj);
    }
    free(w.prop_rel);
    free(w.ev);
    return st;
}

cJSON *dk__diff_pair_json(const char *a, const char *b, const dk_tensor *ta, const dk_tensor *tb)
{
    dk__diff_labels lab;
    dk__diff_compare_labels(ta, tb, &lab);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "a", a);
    cJSON_AddStringToObject(p, "b", b);
    if (lab.comparable) {
        cJSON_AddBoolToObject(p, "top1_agree", lab.top1_agree);
        add_num(p, "top5_overlap", lab.top5_overlap);
        add_num(p, "kendall_tau", lab.tau);
    } else { /* one side is not finite: nothing to compare */
        cJSON_AddNullToObject(p, "top1_agree");
        cJSON_AddNullToObject(p, "top5_overlap");
        cJSON_AddNullToObject(p, "kendall_tau");
    }
    return p;
}

static cJSON *pairs_json(const dk_diff *d)
{
    cJSON *pairs = cJSON_CreateArray();
    int n = d->n + 1;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            const dk_tensor *ta = a == 0 ? &d->store.t[d->slot_output] : &d->v[a - 1].logits;
            cJSON_AddItemToArray(pairs, dk__diff_pair_json(a == 0 ? d->base_name : d->v[a - 1].name,
                                                           d->v[b - 1].name, ta, &d->v[b - 1].logits));
        }
    return pairs;
}

dk_status dk_diff_image(dk_diff *d, const char *name, const dk_tensor *input, cJSON **record)
{
    *record = NULL;
    char hash[17];
    dk_diff_hash_tensor(input, hash);
    DK_TRY(baseline_values(d, name, hash, input));
    if (d->saving) DK_TRY(dk__bundle_add_image(&d->save, name, hash, &d->store));
    cJSON *rec = cJSON_CreateObject();
    if (!rec) return dk__error(DK_ERR_NOMEM, "out of memory");
    const char *base = strrchr(name, '/');
    cJSON_AddStringToObject(rec, "image", base ? base + 1 : name);
    cJSON_AddStringToObject(rec, "input_hash", hash);
    dk__diff_top btop;
    dk__diff_top_of(&d->store.t[d->slot_output], &btop);
    cJSON_AddItemToObject(rec, "baseline_top5", dk__diff_top_json(&btop));
    const dk_tensor *bout = &d->store.t[d->slot_output];
    nonfinite_json(rec, "baseline_nonfinite", d->bg, !dk__diff_count_nonfinite(bout) ? -1 : d->bs ? first_nonfinite(d->bs, d->bg) : -2,
                   bout);
    add_num(rec, "margin", btop.n >= 2 ? btop.val[0] - btop.val[1] : NAN);
    add_num(rec, "relative_margin", btop.n >= 2 && btop.val[0] != 0 ? (btop.val[0] - btop.val[1]) / fabs(btop.val[0]) : NAN);
    cJSON *vars = cJSON_AddArrayToObject(rec, "variants");
    dk_status st = DK_OK;
    for (int i = 0; i < d->n && st == DK_OK; i++) {
        cJSON *vj = cJSON_CreateObject();
        cJSON_AddItemToArray(vars, vj);
        cJSON_AddStringToObject(vj, "variant", d->v[i].name);
        st = diff_variant(d, &d->v[i], name, input, &btop, vj);
        /* its activations are compared, hashed and copied (logits): freed
         * until the next input, so that one variant's are held at a time */
        dk_session_release(d->v[i].s);
        dk_session_release(d->v[i].mixed_base);
    }
    if (st != DK_OK) {
        cJSON_Delete(rec);
        return st;
    }
    cJSON_AddItemToObject(rec, "pairs", pairs_json(d));
    *record = rec;
    return DK_OK;
}
