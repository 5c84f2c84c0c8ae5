/* Differential harness: the dataset summary. Image records are folded into
 * per-pair, per-variant and per-node aggregates as they come (memory does not
 * grow with the number of images, only with the number of flips), then
 * written as summary.json, summary.csv, layers.csv and flips.csv. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/file.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"

#define SCHEMA "deltakern-diff-summary/1"
#define N_BLAMED 3

enum { CAUSE_FAULTY, CAUSE_SENSITIVE, CAUSE_TINY, CAUSE_AMPLIFIED, N_CAUSES };
static const char *cause_names[N_CAUSES] = {"faulty_kernel", "sensitive_node", "tiny_margin", "amplified_rounding"};

typedef struct node_agg {
    char *name, *op, *shape, *covers;
    int images;
    double iso_max, iso_sum, prop_max, prop_sum, amp_sum;
    int iso_n, prop_n, amp_n, over, first_faulty, blamed;
} node_agg;

typedef struct var_agg {
    char *name;
    int images, flips, faulty_images, causes[N_CAUSES], cf_tried, cf_reproduced, cf_runs;
    int nondeterministic, nonfinite; /* images where two runs differed / the output was not finite */
    int nondet_declared;             /* ... differed where the plans declare they may */
    int transform_within;            /* node results over the table's bound on a transform plan, within
                                        the looser bound the table holds those to (no faulty kernel) */
    int correct;                     /* labelled images whose top-1 is the true class */
    int n_nodes, cap_nodes;
    node_agg *nodes;
} var_agg;

typedef struct pair_agg {
    char *a, *b;
    int images, agree;
    int nonfinite;           /* images whose labels cannot be compared (not in images) */
    double overlap_sum, tau_sum;
} pair_agg;

struct dk_diff_summary {
    cJSON *identity;
    int images;
    const char *labels;          /* --labels FILE (in identity), or NULL */
    int labelled, base_correct;  /* images with a true class; the baseline's top-1 right */
    int n_vars, n_pairs;
    var_agg *vars;
    pair_agg *pairs;
    cJSON *flips;
};

static char *dup(const char *s) { return strdup(s ? s : ""); }

dk_status dk_diff_summary_create(const cJSON *identity, dk_diff_summary **out)
{
    *out = NULL;
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(identity, "variants");
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(identity, "baseline");
    if (!cJSON_IsArray(vs) || !cJSON_IsString(base)) return dk__error(DK_ERR_INVALID, "diff summary: identity lacks variants");
    dk_diff_summary *s = calloc(1, sizeof *s);
    if (!s) return dk__error(DK_ERR_NOMEM, "out of memory");
    s->identity = cJSON_Duplicate(identity, 1);
    s->flips = cJSON_CreateArray();
    s->n_vars = cJSON_GetArraySize(vs);
    int n = s->n_vars + 1;
    s->vars = calloc((size_t)s->n_vars + 1, sizeof *s->vars);
    s->pairs = calloc((size_t)(n * (n - 1) / 2) + 1, sizeof *s->pairs);
    if (!s->identity || !s->flips || !s->vars || !s->pairs) {
        dk_diff_summary_destroy(s);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->n_vars; i++) s->vars[i].name = dup(cJSON_GetArrayItem(vs, i)->valuestring);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(s->identity, "labels");
    s->labels = cJSON_IsString(labels) ? labels->valuestring : NULL;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            pair_agg *p = &s->pairs[s->n_pairs++];
            p->a = dup(a == 0 ? base->valuestring : s->vars[a - 1].name);
            p->b = dup(s->vars[b - 1].name);
        }
    *out = s;
    return DK_OK;
}

void dk_diff_summary_destroy(dk_diff_summary *s)
{
    if (!s) return;
    for (int i = 0; s->vars && i < s->n_vars; i++) {
        var_agg *v = &s->vars[i];
        for (int k = 0; k < v->n_nodes; k++) {
            free(v->nodes[k].name);
            free(v->nodes[k].op);
            free(v->nodes[k].shape);
            free(v->nodes[k].covers);
        }
        free(v->nodes);
        free(v->name);
    }
    for (int i = 0; s->pairs && i < s->n_pairs; i++) {
        free(s->pairs[i].a);
        free(s->pairs[i].b);
    }
    free(s->vars);
    free(s->pairs);
    cJSON_Delete(s->identity);
    cJSON_Delete(s->flips);
    free(s);
}

int dk_diff_summary_images(const dk_diff_summary *s) { return s->images; }

/* ---- folding records in ---- */

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int truth(const cJSON *o, const char *key) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key)); }

/* The node's aggregate; `hint` is where it was last time (records list nodes
 * in the same order image after image). */
static node_agg *find_node(var_agg *v, const char *name, int hint)
{
    if (hint < v->n_nodes && !strcmp(v->nodes[hint].name, name)) return &v->nodes[hint];
    for (int k = 0; k < v->n_nodes; k++)
        if (!strcmp(v->nodes[k].name, name)) return &v->nodes[k];
    if (v->n_nodes == v->cap_nodes) {
        int cap = v->cap_nodes ? 2 * v->cap_nodes : 64;
        node_agg *n = realloc(v->nodes, sizeof *n * (size_t)cap);
        if (!n) return NULL;
        v->nodes = n;
        v->cap_nodes = cap;
    }
    node_agg *a = &v->nodes[v->n_nodes++];
    memset(a, 0, sizeof *a);
    a->name = dup(name);
    return a;
}

static dk_status add_nodes(var_agg *v, const cJSON *vj)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(vj, "nodes");
    int i = 0;
    const cJSON *nj;
    cJSON_ArrayForEach(nj, nodes) {
        const char *name = str(nj, "node");
        if (!name) return dk__error(DK_ERR_FORMAT, "diff record: a node without a name");
        node_agg *a = find_node(v, name, i++);
        if (!a) return dk__error(DK_ERR_NOMEM, "out of memory");
        if (!a->op) {
            a->op = dup(str(nj, "op"));
            a->shape = dup(str(nj, "shape"));
            a->covers = dup(str(nj, "covers"));
        }
        a->images++;
        double r = num(nj, "iso_ratio"), p = num(nj, "prop_rel_l2"), amp = num(nj, "amp");
        if (!isnan(r)) {
            a->iso_max = a->iso_n ? fmax(a->iso_max, r) : r;
            a->iso_sum += r;
            a->iso_n++;
            a->over += r > 1;
        }
        v->transform_within += num(nj, "transform_ratio") <= 1;
        if (!isnan(p)) {
            a->prop_max = a->prop_n ? fmax(a->prop_max, p) : p;
            a->prop_sum += p;
            a->prop_n++;
        }
        if (!isnan(amp)) {
            a->amp_sum += amp;
            a->amp_n++;
        }
    }
    return DK_OK;
}

static void blame(var_agg *v, const char *name, int first_faulty)
{
    node_agg *a = find_node(v, name, 0);
    if (!a) return;
    if (first_faulty) a->first_faulty++;
    else a->blamed++;
}

/* The top-1 class of a record's top-5 list, -1 when it has none. */
static int top1_of(const cJSON *top5)
{
    const cJSON *t = cJSON_GetArrayItem(top5, 0);
    return cJSON_IsNumber(t) ? t->valueint : -1;
}

static cJSON *flip_entry(const cJSON *rec, const cJSON *vj, const cJSON *flip)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "image", str(rec, "image") ? str(rec, "image") : "");
    cJSON_AddStringToObject(f, "variant", str(vj, "variant"));
    if (!isnan(num(rec, "label"))) cJSON_AddNumberToObject(f, "label", num(rec, "label"));
    cJSON_AddNumberToObject(f, "baseline_top1", num(flip, "baseline_top1"));
    cJSON_AddNumberToObject(f, "variant_top1", num(flip, "variant_top1"));
    cJSON_AddNumberToObject(f, "margin", num(flip, "margin"));
    cJSON_AddBoolToObject(f, "tiny_margin", truth(flip, "tiny_margin"));
    cJSON_AddStringToObject(f, "cause", str(flip, "cause") ? str(flip, "cause") : "");
    cJSON_AddItemToObject(f, "blamed", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(flip, "blamed"), 1));
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(flip, "counterfactual");
    if (cf) cJSON_AddItemToObject(f, "counterfactual", cJSON_Duplicate(cf, 1));
    return f;
}

static dk_status add_variant(dk_diff_summary *s, var_agg *v, const cJSON *rec, const cJSON *vj)
{
    v->images++;
    double label = num(rec, "label");
    if (!isnan(label)) v->correct += top1_of(cJSON_GetObjectItemCaseSensitive(vj, "top5")) == (int)label;
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(vj, "deterministic");
    v->nondeterministic += cJSON_IsFalse(det);
    v->nondet_declared += cJSON_IsFalse(det) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vj, "nondeterminism_declared"));
    v->nonfinite += cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(vj, "nonfinite"));
    DK_TRY(add_nodes(v, vj));
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(vj, "first_faulty");
    if (cJSON_IsObject(ff) && str(ff, "node")) {
        v->faulty_images++;
        blame(v, str(ff, "node"), 1);
    }
    const cJSON *flip = cJSON_GetObjectItemCaseSensitive(vj, "flip");
    if (!cJSON_IsObject(flip)) return DK_OK;
    v->flips++;
    const char *cause = str(flip, "cause");
    for (int c = 0; c < N_CAUSES; c++)
        if (cause && !strcmp(cause, cause_names[c])) v->causes[c]++;
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(flip, "blamed"))
        if (cJSON_IsString(b)) blame(v, b->valuestring, 0);
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(flip, "counterfactual");
    if (cJSON_IsObject(cf)) {
        v->cf_tried++;
        v->cf_runs += (int)num(cf, "runs");
        v->cf_reproduced += truth(cf, "reproduced");
    }
    cJSON_AddItemToArray(s->flips, flip_entry(rec, vj, flip));
    return DK_OK;
}

dk_status dk_diff_summary_add(dk_diff_summary *s, const cJSON *rec)
{
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(rec, "variants");
    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(rec, "pairs");
    if (cJSON_GetArraySize(vars) != s->n_vars || cJSON_GetArraySize(pairs) != s->n_pairs)
        return dk__error(DK_ERR_FORMAT, "diff record for %s: %d variants and %d pairs, expected %d and %d",
                         str(rec, "image") ? str(rec, "image") : "?", cJSON_GetArraySize(vars),
                         cJSON_GetArraySize(pairs), s->n_vars, s->n_pairs);
    double label = num(rec, "label");
    if (s->labels && isnan(label))
        return dk__error(DK_ERR_FORMAT, "diff record for %s: no label, but the run has --labels %s",
                         str(rec, "image") ? str(rec, "image") : "?", s->labels);
    if (!isnan(label)) {
        s->labelled++;
        s->base_correct += top1_of(cJSON_GetObjectItemCaseSensitive(rec, "baseline_top5")) == (int)label;
    }
    for (int i = 0; i < s->n_vars; i++) DK_TRY(add_variant(s, &s->vars[i], rec, cJSON_GetArrayItem(vars, i)));
    for (int i = 0; i < s->n_pairs; i++) {
        const cJSON *p = cJSON_GetArrayItem(pairs, i);
        pair_agg *a = &s->pairs[i];
        if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(p, "top1_agree"))) { /* NONFINITE */
            a->nonfinite++;
            continue;
        }
        a->images++;
        a->agree += truth(p, "top1_agree");
        a->overlap_sum += num(p, "top5_overlap");
        a->tau_sum += num(p, "kendall_tau");
    }
    s->images++;
    return DK_OK;
}

/* ---- outputs ---- */

/* A growing text buffer. */
typedef struct text {
    char *p;
    size_t n, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int need = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (need < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && t->n + (size_t)need < t->cap) {
            t->n += (size_t)need;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)need;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

/* A CSV field: quoted, with quotes doubled. */
static void put_field(text *t, const char *s)
{
    put(t, "\"");
    for (; s && *s; s++) put(t, *s == '"' ? "\"\"" : "%c", *s);
    put(t, "\"");
}

static double mean(double sum, int n) { return n ? sum / n : NAN; }

/* A CSV number: empty when unknown. */
static void put_num(text *t, double x)
{
    if (!isnan(x)) put(t, "%.6g", x);
}


/* Node indices of v by blame count (first faulty + flips blamed), most first. */
static int *most_blamed(const var_agg *v, int *n_out)
{
    int *idx = malloc(sizeof(int) * ((size_t)v->n_nodes + 1));
    int n = 0;
    if (!idx) return NULL;
    for (int k = 0; k < v->n_nodes; k++)
        if (v->nodes[k].first_faulty + v->nodes[k].blamed > 0) idx[n++] = k;
    /* insertion sort: few nodes are ever blamed; ties keep topological order */
    for (int i = 1; i < n; i++) {
        int x = idx[i], j = i;
        int cx = v->nodes[x].first_faulty + v->nodes[x].blamed;
        while (j > 0 && v->nodes[idx[j - 1]].first_faulty + v->nodes[idx[j - 1]].blamed < cx) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
    *n_out = n;
    return idx;
}

static void add_num(cJSON *o, const char *key, double x)
{
    if (isnan(x)) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, x);
}

/* Accuracy against the labels in percent: the baseline (name NULL) or a
 * variant; NAN without labels. */
static double accuracy(const dk_diff_summary *s, const char *name)
{
    if (!s->labelled) return NAN;
    for (int i = 0; name && i < s->n_vars; i++)
        if (!strcmp(s->vars[i].name, name)) return 100.0 * s->vars[i].correct / s->labelled;
    return 100.0 * s->base_correct / s->labelled;
}

static const char *baseline_name(const dk_diff_summary *s)
{
    return cJSON_GetObjectItemCaseSensitive(s->identity, "baseline")->valuestring;
}

static cJSON *accuracy_entry(const char *name, int correct, int labelled)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "variant", name);
    cJSON_AddNumberToObject(o, "labelled", labelled);
    cJSON_AddNumberToObject(o, "correct", correct);
    add_num(o, "accuracy_pct", labelled ? 100.0 * correct / labelled : NAN);
    return o;
}

static cJSON *summary_json(const dk_diff_summary *s, int complete, const cJSON *files, const cJSON *timing)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", SCHEMA);
    cJSON_AddBoolToObject(j, "complete", complete);
    cJSON_AddItemToObject(j, "run", cJSON_Duplicate(s->identity, 1));
    cJSON_AddNumberToObject(j, "images", s->images);
    if (s->labels) { /* the baseline first, then every variant */
        cJSON *acc = cJSON_AddArrayToObject(j, "accuracy");
        cJSON_AddItemToArray(acc, accuracy_entry(baseline_name(s), s->base_correct, s->labelled));
        for (int i = 0; i < s->n_vars; i++)
            cJSON_AddItemToArray(acc, accuracy_entry(s->vars[i].name, s->vars[i].correct, s->labelled));
    }
    cJSON *pairs = cJSON_AddArrayToObject(j, "pairs");
    for (int i = 0; i < s->n_pairs; i++) {
        const pair_agg *p = &s->pairs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "a", p->a);
        cJSON_AddStringToObject(o, "b", p->b);
        cJSON_AddNumberToObject(o, "images", p->images);
        cJSON_AddNumberToObject(o, "nonfinite_images", p->nonfinite);
        cJSON_AddNumberToObject(o, "label_differences", p->images - p->agree);
        add_num(o, "label_differences_pct", p->images ? 100.0 * (p->images - p->agree) / p->images : NAN);
        add_num(o, "mean_top5_overlap", mean(p->overlap_sum, p->images));
        add_num(o, "mean_kendall_tau", mean(p->tau_sum, p->images));
        if (s->labels) {
            add_num(o, "a_accuracy_pct", accuracy(s, i < s->n_vars ? NULL : p->a));
            add_num(o, "b_accuracy_pct", accuracy(s, p->b));
        }
        cJSON_AddItemToArray(pairs, o);
    }
    cJSON *vars = cJSON_AddArrayToObject(j, "variants");
    for (int i = 0; i < s->n_vars; i++) {
        const var_agg *v = &s->vars[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "variant", v->name);
        cJSON_AddNumberToObject(o, "images", v->images);
        cJSON_AddNumberToObject(o, "flips", v->flips);
        cJSON_AddNumberToObject(o, "faulty_kernel_images", v->faulty_images);
        cJSON_AddNumberToObject(o, "nondeterministic_images", v->nondeterministic);
        cJSON_AddNumberToObject(o, "nondeterministic_declared_images", v->nondet_declared);
        cJSON_AddNumberToObject(o, "transform_within_bound", v->transform_within);
        cJSON_AddNumberToObject(o, "nonfinite_images", v->nonfinite);
        if (s->labels) {
            cJSON_AddNumberToObject(o, "correct", v->correct);
            add_num(o, "accuracy_pct", accuracy(s, v->name));
        }
        cJSON *causes = cJSON_AddObjectToObject(o, "flip_causes");
        for (int c = 0; c < N_CAUSES; c++) cJSON_AddNumberToObject(causes, cause_names[c], v->causes[c]);
        cJSON *cf = cJSON_AddObjectToObject(o, "counterfactual");
        cJSON_AddNumberToObject(cf, "checked", v->cf_tried);
        cJSON_AddNumberToObject(cf, "reproduced", v->cf_reproduced);
        add_num(cf, "mean_runs", mean(v->cf_runs, v->cf_tried));
        cJSON *mb = cJSON_AddArrayToObject(o, "most_blamed");
        int n;
        int *idx = most_blamed(v, &n);
        for (int k = 0; idx && k < n; k++) {
            const node_agg *a = &v->nodes[idx[k]];
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "node", a->name);
            cJSON_AddStringToObject(b, "op", a->op ? a->op : "");
            cJSON_AddNumberToObject(b, "first_faulty", a->first_faulty);
            cJSON_AddNumberToObject(b, "blamed_for_flips", a->blamed);
            cJSON_AddItemToArray(mb, b);
        }
        free(idx);
        cJSON_AddItemToArray(vars, o);
    }
    cJSON_AddItemToObject(j, "flips", cJSON_Duplicate(s->flips, 1));
    if (files) cJSON_AddItemToObject(j, "files", cJSON_Duplicate(files, 1));
    if (timing) cJSON_AddItemToObject(j, "timing", cJSON_Duplicate(timing, 1));
    return j;
}

/* "name (3), other (1)" for the variant named b when a is the baseline. */
static void put_blamed(text *t, const dk_diff_summary *s, const pair_agg *p, int csv)
{
    const char *base = baseline_name(s);
    const var_agg *v = NULL;
    for (int i = 0; i < s->n_vars && strcmp(p->a, base) == 0; i++)
        if (!strcmp(s->vars[i].name, p->b) && p == &s->pairs[i]) v = &s->vars[i];
    text b = {0};
    int n = 0;
    int *idx = v ? most_blamed(v, &n) : NULL;
    for (int k = 0; idx && k < n && k < N_BLAMED; k++)
        put(&b, "%s%s (faulty in %d, blamed for %d flips)", k ? "; " : "", v->nodes[idx[k]].name,
            v->nodes[idx[k]].first_faulty, v->nodes[idx[k]].blamed);
    free(idx);
    const char *txt = b.p ? b.p : (v ? "-" : "");
    if (csv) put_field(t, txt);
    else put(t, "%s", txt);
    free(b.p);
}

static void summary_csv(const dk_diff_summary *s, text *t)
{
    put(t, "a,b,images,nonfinite_images,label_differences,label_differences_pct,mean_top5_overlap,mean_kendall_tau,"
           "most_blamed,a_accuracy_pct,b_accuracy_pct\n");
    for (int i = 0; i < s->n_pairs; i++) {
        const pair_agg *p = &s->pairs[i];
        put_field(t, p->a);
        put(t, ",");
        put_field(t, p->b);
        put(t, ",%d,%d,%d,", p->images, p->nonfinite, p->images - p->agree);
        put_num(t, p->images ? 100.0 * (p->images - p->agree) / p->images : NAN);
        put(t, ",");
        put_num(t, mean(p->overlap_sum, p->images));
        put(t, ",");
        put_num(t, mean(p->tau_sum, p->images));
        put(t, ",");
        put_blamed(t, s, p, 1);
        put(t, ",");
        put_num(t, accuracy(s, i < s->n_vars ? NULL : p->a));
        put(t, ",");
        put_num(t, accuracy(s, p->b));
        put(t, "\n");
    }
}

static void layers_csv(const dk_diff_summary *s, text *t)
{
    put(t, "variant,node,op,shape,covers,images,iso_ratio_max,iso_ratio_mean,over_bound,prop_rel_l2_max,"
           "prop_rel_l2_mean,amplification_mean,first_faulty,blamed_for_flips\n");
    for (int i = 0; i < s->n_vars; i++) {
        const var_agg *v = &s->vars[i];
        for (int k = 0; k < v->n_nodes; k++) {
            const node_agg *a = &v->nodes[k];
            if (!a->op) continue; /* blamed but never compared */
            put_field(t, v->name);
            put(t, ",");
            put_field(t, a->name);
            put(t, ",%s,%s,", a->op, a->shape);
            put_field(t, a->covers);
            put(t, ",%d,", a->images);
            put_num(t, a->iso_n ? a->iso_max : NAN);
            put(t, ",");
            put_num(t, mean(a->iso_sum, a->iso_n));
            put(t, ",%d,", a->over);
            put_num(t, a->prop_n ? a->prop_max : NAN);
            put(t, ",");
            put_num(t, mean(a->prop_sum, a->prop_n));
            put(t, ",");
            put_num(t, mean(a->amp_sum, a->amp_n));
            put(t, ",%d,%d\n", a->first_faulty, a->blamed);
        }
    }
}

static void join_names(text *t, const cJSON *arr)
{
    text b = {0};
    const cJSON *x;
    int i = 0;
    cJSON_ArrayForEach(x, arr)
        if (cJSON_IsString(x)) put(&b, "%s%s", i++ ? ";" : "", x->valuestring);
    put_field(t, b.p ? b.p : "");
    free(b.p);
}

static void flips_csv(const dk_diff_summary *s, text *t)
{
    put(t, "image,variant,baseline_top1,variant_top1,margin,tiny_margin,cause,blamed,counterfactual_set,"
           "reproduced,mixed_runs,label\n");
    const cJSON *f;
    cJSON_ArrayForEach(f, s->flips) {
        put_field(t, str(f, "image"));
        put(t, ",");
        put_field(t, str(f, "variant"));
        put(t, ",%d,%d,", (int)num(f, "baseline_top1"), (int)num(f, "variant_top1"));
        put_num(t, num(f, "margin"));
        put(t, ",%d,%s,", truth(f, "tiny_margin"), str(f, "cause") ? str(f, "cause") : "");
        join_names(t, cJSON_GetObjectItemCaseSensitive(f, "blamed"));
        put(t, ",");
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(f, "counterfactual");
        join_names(t, cJSON_GetObjectItemCaseSensitive(cf, "set"));
        if (cf) put(t, ",%d,%d,", truth(cf, "reproduced"), (int)num(cf, "runs"));
        else put(t, ",,,");
        put_num(t, num(f, "label"));
        put(t, "\n");
    }
}

static dk_status write_text(const char *dir, const char *file, text *t, cJSON *hashes)
{
    if (t->failed || !t->p) {
        free(t->p);
        memset(t, 0, sizeof *t);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    char path[4096], hash[17];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    dk__diff_hash_bytes(t->p, strlen(t->p), hash);
    if (hashes) cJSON_AddStringToObject(hashes, file, hash);
    dk_status st = dk_file_write_atomic(path, t->p, strlen(t->p));
    free(t->p);
    memset(t, 0, sizeof *t);
    return st;
}

/* The CSV files first, summary.json last: it marks the set whole (a reader
 * finding no summary.json has an unfinished set) and names the hash of each
 * CSV file it was written with, so that a set mixed by hand is told too. */
dk_status dk_diff_summary_write(const dk_diff_summary *s, const char *dir, int complete, const cJSON *timing)
{
    cJSON *hashes = cJSON_CreateObject();
    if (!hashes) return dk__error(DK_ERR_NOMEM, "out of memory");
    text t = {0};
    summary_csv(s, &t);
    dk_status st = write_text(dir, "summary.csv", &t, hashes);
    if (st == DK_OK) layers_csv(s, &t);
    if (st == DK_OK) st = write_text(dir, "layers.csv", &t, hashes);
    if (st == DK_OK) flips_csv(s, &t);
    if (st == DK_OK) st = write_text(dir, "flips.csv", &t, hashes);
    cJSON *j = st == DK_OK ? summary_json(s, complete, hashes, timing) : NULL;
    cJSON_Delete(hashes);
    if (st != DK_OK) return st;
    char *js = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!js) return dk__error(DK_ERR_NOMEM, "out of memory");
    put(&t, "%s\n", js);
    free(js);
    return write_text(dir, "summary.json", &t, NULL);
}

char *dk_diff_summary_table(const dk_diff_summary *s)
{
    text t = {0};
    int w = 10;
    for (int i = 0; i < s->n_pairs; i++) {
        int l = (int)(strlen(s->pairs[i].a) + strlen(s->pairs[i].b) + 4);
        if (l > w) w = l;
    }
    put(&t, "%-*s %7s %10s %11s %9s %7s  %s\n", w, "pair", "images", "non-finite", "label diff", "top-5 ovl", "tau",
        "most blamed");
    for (int i = 0; i < s->n_pairs; i++) {
        const pair_agg *p = &s->pairs[i];
        char name[1024];
        snprintf(name, sizeof name, "%s vs %s", p->a, p->b);
        put(&t, "%-*s %7d %10d %10.1f%% %9.3f %7.3f  ", w, name, p->images, p->nonfinite,
            p->images ? 100.0 * (p->images - p->agree) / p->images : 0.0, mean(p->overlap_sum, p->images),
            mean(p->tau_sum, p->images));
        put_blamed(&t, s, p, 0);
        put(&t, "\n");
    }
    if (s->labels) {
        put(&t, "accuracy against %s (%d labelled inputs):\n", s->labels, s->labelled);
        put(&t, "  %-*s %6.2f%% (%d correct)\n", w, baseline_name(s), accuracy(s, NULL), s->base_correct);
        for (int i = 0; i < s->n_vars; i++)
            put(&t, "  %-*s %6.2f%% (%d correct)\n", w, s->vars[i].name, accuracy(s, s->vars[i].name),
                s->vars[i].correct);
    }
    for (int i = 0; i < s->n_vars; i++) {
        const var_agg *v = &s->vars[i];
        put(&t, "%s: %d flip(s) (faulty kernel %d, sensitive node %d, tiny margin %d, amplified rounding %d), "
            "faulty kernel in %d image(s)", v->name, v->flips, v->causes[CAUSE_FAULTY], v->causes[CAUSE_SENSITIVE],
            v->causes[CAUSE_TINY], v->causes[CAUSE_AMPLIFIED], v->faulty_images);
        if (v->nondeterministic && v->nondet_declared == v->nondeterministic)
            put(&t, "; nondeterministic in %d image(s), where its plans declare they may", v->nondeterministic);
        else if (v->nondeterministic) {
            put(&t, "; NONDETERMINISTIC in %d image(s)", v->nondeterministic);
            if (v->nondet_declared) put(&t, " (%d where its plans declare they may)", v->nondet_declared);
        }
        if (v->transform_within)
            put(&t, "; %d node result(s) of transform-based convolutions over the table's bound, within "
                "their looser bound", v->transform_within);
        if (v->nonfinite) put(&t, "; NONFINITE output in %d image(s)", v->nonfinite);
        if (v->cf_tried) put(&t, "; counterfactual reproduced %d of %d, %.1f mixed runs each", v->cf_reproduced, v->cf_tried, (double)v->cf_runs / v->cf_tried);
        put(&t, "\n");
    }
    if (t.failed) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

double dk__diff_summary_ms_per_input(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, "summary.json");
    unsigned char *data;
    size_t size;
    double ms = 0;
    if (dk__read_regular(path, 64u << 20, 1, &data, &size) == DK_OK) {
        cJSON *sum = cJSON_ParseWithLength((const char *)data, size);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "timing"),
                                                          "ms_per_input_this_run");
        ms = cJSON_IsNumber(v) ? v->valuedouble : 0;
        cJSON_Delete(sum);
        free(data);
    }
    dk__error_clear(); /* no summary.json: no timing */
    return ms;
}
