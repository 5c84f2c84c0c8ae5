/* ONNX Runtime's profile as a side of `compare` (docs/bench.md): the
 * Chrome trace that a session created with enableProfiling writes, a JSON
 * array of events (or an object holding them in "traceEvents").
 *
 * Runs: every "model_run" event (cat "Session") is one run; a node event
 * (cat "Node", name "<node>_kernel_time", args.op_name, args.provider) falls
 * into the run whose interval holds its start. A node's sample of a run is
 * the sum of its events in that run (0 when it did not run), so each run is
 * one repetition; the end to end of a run is its model_run duration.
 *
 * Names: ORT's optimised graph renames what it rewrites. A node it keeps has
 * its ONNX name; a node converted to the NCHWc layout is named after its
 * output, "<tensor>_nchwc", and an exporter such as PyTorch's names a
 * tensor "<node>_output_<k>"; fused nodes keep one of their parts' names:
 * Conv+Relu is named after the Relu's output under NCHWc
 * ("/features.1/Relu_output_0_nchwc", op_name Conv) and after the Conv at
 * the "extended" level (FusedConv); a Conv that took in a residual Add (a
 * fourth input, the sum) is named after the Conv; BatchNormalization folded
 * into its Conv and a Pad taken into the pooling after it leave no node.
 * So an ORT name is resolved against the other side's nodes (their names
 * and the ONNX nodes they cover): as it is, then with "_token_<n>" (ORT's
 * unique-name suffix), "_nchwc" and "_output_<k>" peeled off in turn. The
 * node it names is its anchor. The other side's nodes that no ORT node
 * names were fused away by ORT; each joins one ORT node's group, in this
 * order:
 *   1. the node whose op is the ORT node's op_name while the anchor's op is
 *      not (a Conv before the Relu that names the fused Conv): the nearest
 *      such ORT node after it;
 *   2. an Add: the nearest ORT Conv before it with a fourth input (the sum)
 *      that has no Add yet;
 *   3. a Pad: the group of the node after it (fused into the pooling);
 *      anything else (a folded BatchNormalization, a Relu after a fused
 *      Add): the group of the node before it, else the one after it;
 *   4. when ORT fused a residual Add into one Conv and the other side into
 *      another (deltakern's opt=2 into the downsample Conv computed after
 *      it), the two groups are joined.
 * Searches reach DK_ORT_WINDOW nodes either way (the work stays linear).
 * An ORT node that names none of the other side's nodes (ReorderInput,
 * ReorderOutput of the NCHWc layout, copies) stays a node of its own, listed
 * as only in the profile, with its time; a node of the other side that joins
 * no group is listed as only there.
 *
 * The profile becomes an in-memory result of schema deltakern-bench/1 with
 * one variant ("onnxruntime (PROVIDER)"): one node per group, named after
 * its main node on the other side (the first whose op is an ORT node's
 * op_name) and covering all of that group's ONNX nodes, so that compare's
 * matching of fused groups pairs them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "drivers/bench/bench_compare_internal.h"
#include "runtime/error.h"
#include "runtime/strmap.h"
#include "runtime/text.h"

#define DK_ORT_WINDOW 64
#define DK_ORT_MAX_NODES 1000000
#define DK_ORT_MAX_RUNS 1000000
#define DK_ORT_MAX_SAMPLES 10000000 /* nodes x runs, far above a real profile */
#define DK_ORT_SUFFIX "_kernel_time"

static const cJSON *events_of(const cJSON *root)
{
    if (cJSON_IsArray(root)) return root;
    if (!cJSON_IsObject(root) || cJSON_GetObjectItemCaseSensitive(root, "schema")) return NULL;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
    return cJSON_IsArray(ev) ? ev : NULL;
}

int dk__ort_is_trace(const cJSON *root) { return events_of(root) != NULL; }

typedef struct ort_node {
    char *name;       /* the event's name without "_kernel_time" */
    char *onnx;       /* the name it resolved to on the other side, owned */
    const char *op;   /* args.op_name */
    int n_inputs;     /* entries in args.input_type_shape */
    double *t;        /* seconds, per run */
    int anchor;       /* the other side's node its name names, -1 none */
    int next;         /* the next ORT node of the same anchor, -1 none */
    int head_missing; /* op_name differs from the anchor's op: its head was fused away */
    int add_missing;  /* a Conv with a sum input: an Add was fused into it */
} ort_node;

typedef struct ort_run {
    double ts, dur;
} ort_run;

typedef struct ort_profile {
    const char *path;
    ort_node *node;
    int n, cap;
    dk_strmap by_name;
    ort_run *run;
    int n_runs;
    char providers[256];
} ort_profile;

static void profile_free(ort_profile *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->node[i].name);
        free(p->node[i].onnx);
        free(p->node[i].t);
    }
    free(p->node);
    dk_strmap_free(&p->by_name);
    free(p->run);
}

static int by_ts(const void *a, const void *b)
{
    double x = ((const ort_run *)a)->ts, y = ((const ort_run *)b)->ts;
    return x < y ? -1 : x > y;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num_of(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return 0;
    *out = v->valuedouble;
    return 1;
}

static int is_node_event(const cJSON *e)
{
    const char *cat = str_of(e, "cat"), *name = str_of(e, "name");
    size_t n = name ? strlen(name) : 0, k = strlen(DK_ORT_SUFFIX);
    return cat && !strcmp(cat, "Node") && n > k && !strcmp(name + n - k, DK_ORT_SUFFIX);
}

/* The run whose interval holds ts, -1 none (runs sorted by start). */
static int run_at(const ort_profile *p, double ts)
{
    int lo = 0, hi = p->n_runs - 1, found = -1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (p->run[mid].ts <= ts) found = mid, lo = mid + 1;
        else hi = mid - 1;
    }
    return found >= 0 && ts <= p->run[found].ts + p->run[found].dur ? found : -1;
}

static dk_status add_provider(ort_profile *p, const char *prov)
{
    if (!prov || !*prov) return DK_OK;
    size_t n = strlen(prov);
    for (const char *s = p->providers; (s = strstr(s, prov)) != NULL; s += n)
        if ((s == p->providers || s[-1] == '+') && (s[n] == 0 || s[n] == '+')) return DK_OK;
    dk_join(p->providers, sizeof p->providers, "+", prov);
    return DK_OK;
}

static dk_status node_of(ort_profile *p, const cJSON *e, int *out)
{
    const char *full = str_of(e, "name");
    size_t len = strlen(full) - strlen(DK_ORT_SUFFIX);
    char *name = malloc(len + 1);
    if (!name) return dk__error(DK_ERR_NOMEM, "out of memory");
    memcpy(name, full, len);
    name[len] = 0;
    int k = dk_strmap_get(&p->by_name, name);
    if (k >= 0) {
        free(name);
        *out = k;
        return DK_OK;
    }
    if (p->n == DK_ORT_MAX_NODES || (double)(p->n + 1) * p->n_runs > DK_ORT_MAX_SAMPLES) {
        free(name);
        return dk__error(DK_ERR_FORMAT, "%s: the profile has more than %d nodes over %d runs; more than %d "
                         "samples is refused", p->path, p->n, p->n_runs, DK_ORT_MAX_SAMPLES);
    }
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        ort_node *grown = realloc(p->node, sizeof *grown * (size_t)cap);
        if (!grown) {
            free(name);
            return dk__error(DK_ERR_NOMEM, "out of memory");
        }
        p->node = grown;
        p->cap = cap;
    }
    ort_node *nd = &p->node[p->n];
    memset(nd, 0, sizeof *nd);
    nd->name = name;
    nd->anchor = nd->next = -1;
    nd->t = calloc((size_t)p->n_runs, sizeof *nd->t);
    if (!nd->t) {
        free(name);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
    nd->op = str_of(args, "op_name");
    if (!nd->op) nd->op = "?";
    const cJSON *shapes = cJSON_GetObjectItemCaseSensitive(args, "input_type_shape");
    nd->n_inputs = cJSON_IsArray(shapes) ? cJSON_GetArraySize(shapes) : 0;
    DK_TRY(add_provider(p, str_of(args, "provider")));
    p->n++;
    DK_TRY(dk_strmap_put(&p->by_name, name, p->n - 1));
    *out = p->n - 1;
    return DK_OK;
}

/* The runs, then each node's time per run. */
static dk_status read_profile(const cJSON *events, ort_profile *p)
{
    const cJSON *e;
    int n_events = 0, n_node_events = 0;
    cJSON_ArrayForEach(e, events)
    {
        n_events++;
        if (!cJSON_IsObject(e))
            return dk__error(DK_ERR_FORMAT, "%s: malformed profile: event %d is not an object", p->path, n_events);
        const char *cat = str_of(e, "cat"), *name = str_of(e, "name");
        if (cat && name && !strcmp(cat, "Session") && !strcmp(name, "model_run")) p->n_runs++;
        n_node_events += is_node_event(e);
    }
    if (!n_node_events)
        return dk__error(DK_ERR_FORMAT, "%s: neither a deltakern bench result nor an ONNX Runtime profile (no "
                         "events of cat \"Node\" named *_kernel_time)", p->path);
    if (!p->n_runs)
        return dk__error(DK_ERR_FORMAT, "%s: an ONNX Runtime profile without a run (no \"model_run\" event)", p->path);
    if (p->n_runs > DK_ORT_MAX_RUNS)
        return dk__error(DK_ERR_FORMAT, "%s: the profile has %d runs; more than %d is refused", p->path, p->n_runs,
                         DK_ORT_MAX_RUNS);
    p->run = malloc(sizeof *p->run * (size_t)p->n_runs);
    if (!p->run) return dk__error(DK_ERR_NOMEM, "out of memory");
    int r = 0, i = 0;
    cJSON_ArrayForEach(e, events)
    {
        i++;
        const char *cat = str_of(e, "cat"), *name = str_of(e, "name");
        if (!cat || !name || strcmp(cat, "Session") || strcmp(name, "model_run")) continue;
        if (!num_of(e, "ts", &p->run[r].ts) || !num_of(e, "dur", &p->run[r].dur) || !(p->run[r].dur >= 0))
            return dk__error(DK_ERR_FORMAT, "%s: malformed profile: event %d (model_run) has no ts or no dur >= 0",
                             p->path, i);
        r++;
    }
    qsort(p->run, (size_t)p->n_runs, sizeof *p->run, by_ts);
    i = 0;
    cJSON_ArrayForEach(e, events)
    {
        i++;
        if (!is_node_event(e)) continue;
        double ts, dur;
        if (!num_of(e, "ts", &ts) || !num_of(e, "dur", &dur) || !(dur >= 0))
            return dk__error(DK_ERR_FORMAT, "%s: malformed profile: event %d (%s) has no ts or no dur >= 0", p->path,
                             i, DK_ESC(str_of(e, "name")));
        int run = run_at(p, ts), k = -1;
        if (run < 0) continue; /* outside every run: not a repetition */
        /* ORT times a node inside its Run call: one that outlasts the run is
         * a damaged file, and its time would be a made-up number */
        if (ts + dur > p->run[run].ts + p->run[run].dur)
            return dk__error(DK_ERR_FORMAT, "%s: malformed profile: event %d (%s) ends after its model_run", p->path, i,
                             DK_ESC(str_of(e, "name")));
        DK_TRY(node_of(p, e, &k));
        p->node[k].t[run] += dur * 1e-6;
    }
    if (!p->n)
        return dk__error(DK_ERR_FORMAT, "%s: malformed profile: no node event falls within a model_run", p->path);
    return DK_OK;
}

/* --- the other side's nodes ----------------------------------------------- */

typedef struct other_side {
    const cJSON **node;
    int n;
    dk_strmap onnx; /* node names and the ONNX nodes they cover -> node */
    int *group;     /* per node: its group (an anchor's index), -1 none */
    int *at;        /* per node: the first ORT node anchored there, -1 none */
    int *head;      /* per group (its anchor's index): its first node */
    int *gnext;     /* the next node (ascending) of the same group, -1 none */
    int *parent;    /* groups joined (union-find over anchors) */
    dk_strmap named; /* the ONNX names ORT nodes resolved to */
} other_side;

static void other_free(other_side *x)
{
    free(x->node);
    dk_strmap_free(&x->onnx);
    free(x->group);
    free(x->at);
    free(x->head);
    free(x->gnext);
    free(x->parent);
    dk_strmap_free(&x->named);
}

static const char *field(const cJSON *o, const char *key)
{
    const char *s = str_of(o, key);
    return s ? s : "";
}

static dk_status other_build(const dk__compare_side *s, other_side *x)
{
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(s->variant, "nodes");
    if (!cJSON_IsArray(nodes)) return dk__error(DK_ERR_FORMAT, "%s: malformed result: no nodes", s->path);
    x->n = cJSON_GetArraySize(nodes);
    if (x->n > DK_ORT_MAX_NODES)
        return dk__error(DK_ERR_FORMAT, "%s: the result has %d nodes; more than %d is refused", s->path, x->n,
                         DK_ORT_MAX_NODES);
    size_t n1 = (size_t)x->n + 1;
    x->node = calloc(n1, sizeof *x->node);
    x->group = malloc(n1 * sizeof *x->group);
    x->at = malloc(n1 * sizeof *x->at);
    x->head = malloc(n1 * sizeof *x->head);
    x->gnext = malloc(n1 * sizeof *x->gnext);
    x->parent = malloc(n1 * sizeof *x->parent);
    if (!x->node || !x->group || !x->at || !x->head || !x->gnext || !x->parent) return dk__error(DK_ERR_NOMEM, "out of memory");
    int k = 0;
    const cJSON *e, *c;
    cJSON_ArrayForEach(e, nodes) x->node[k++] = e;
    for (k = 0; k < x->n; k++) {
        x->group[k] = x->at[k] = x->head[k] = x->gnext[k] = -1;
        x->parent[k] = k;
        const char *name = field(x->node[k], "name");
        if (dk_strmap_get(&x->onnx, name) < 0) DK_TRY(dk_strmap_put(&x->onnx, name, k));
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(x->node[k], "covers"))
        {
            if (cJSON_IsString(c) && dk_strmap_get(&x->onnx, c->valuestring) < 0)
                DK_TRY(dk_strmap_put(&x->onnx, c->valuestring, k));
        }
    }
    return DK_OK;
}

/* Peels one ORT suffix off name ("_token_<n>", "_nchwc", "_output_<k>"):
 * 1 when one was. */
static int ends_with_number(char *name, const char *stem)
{
    size_t n = strlen(name), digits = 0;
    while (digits < n && name[n - 1 - digits] >= '0' && name[n - 1 - digits] <= '9') digits++;
    size_t s = strlen(stem);
    if (!digits || n < digits + s + 1 || memcmp(name + n - digits - s, stem, s)) return 0;
    name[n - digits - s] = 0;
    return 1;
}

static int peel(char *name)
{
    size_t n = strlen(name), k = strlen("_nchwc");
    if (n > k && !strcmp(name + n - k, "_nchwc")) {
        name[n - k] = 0;
        return 1;
    }
    return ends_with_number(name, "_token_") || ends_with_number(name, "_output_");
}

/* The other side's node that ORT's name names, -1 none; *found: the ONNX
 * name it was found by (owned by the caller), or NULL. */
static int resolve(const other_side *x, const char *ort_name, char **found)
{
    size_t len = strlen(ort_name);
    char *buf = malloc(len + 1);
    *found = NULL;
    if (!buf) return -1;
    memcpy(buf, ort_name, len + 1);
    int k;
    while ((k = dk_strmap_get(&x->onnx, buf)) < 0 && peel(buf)) {
    }
    if (k >= 0) *found = buf;
    else free(buf);
    return k;
}

/* FusedConv, FusedGemm ... are their base op. */
static const char *base_op(const char *op)
{
    return !strncmp(op, "Fused", 5) && op[5] ? op + 5 : op;
}

/* Whether an ORT Conv with a sum input names node j (its Add is its own). */
static int has_sum_conv(const ort_profile *p, const other_side *x, int j)
{
    for (int i = x->at[j]; i >= 0; i = p->node[i].next)
        if (!strcmp(base_op(p->node[i].op), "Conv") && p->node[i].n_inputs >= 4) return 1;
    return 0;
}

static int find(int *parent, int g)
{
    while (parent[g] != g) g = parent[g] = parent[parent[g]];
    return g;
}

/* Whether node j covers an Add that no ORT node names (by the exporter's
 * node name: its last part is the op type, "/layer1/layer1.0/Add"). */
static int covers_unnamed_add(const other_side *x, int j)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(x->node[j], "covers"))
    {
        if (!cJSON_IsString(c) || dk_strmap_get(&x->named, c->valuestring) >= 0) continue;
        const char *last = strrchr(c->valuestring, '/');
        last = last ? last + 1 : c->valuestring;
        if (!strncmp(last, "Add", 3) && (!last[3] || last[3] == '_')) return 1;
    }
    return 0;
}

static int is_layout_op(const char *op)
{
    return !strncmp(op, "Reorder", 7) || !strncmp(op, "Memcpy", 6) || !strcmp(op, "Transpose");
}

/* Every ORT node's anchor, then the groups of the nodes ORT fused away. */
static void assign(ort_profile *p, other_side *x)
{
    for (int i = p->n - 1; i >= 0; i--) { /* backwards: at[] lists them in order */
        ort_node *o = &p->node[i];
        int k = resolve(x, o->name, &o->onnx);
        if (k < 0) continue;
        dk_strmap_put(&x->named, o->onnx, 1);
        o->anchor = k;
        o->next = x->at[k];
        x->at[k] = i;
        x->group[k] = k;
        o->head_missing = strcmp(base_op(o->op), field(x->node[k], "op")) != 0;
        o->add_missing = !strcmp(base_op(o->op), "Conv") && o->n_inputs >= 4;
    }
    /* 1. a head the ORT node's op_name says it took in, after it */
    for (int k = 0; k < x->n; k++) {
        if (x->group[k] >= 0) continue;
        const char *op = field(x->node[k], "op");
        for (int j = k + 1; j < x->n && j <= k + DK_ORT_WINDOW && x->group[k] < 0; j++)
            for (int i = x->at[j]; i >= 0; i = p->node[i].next)
                if (p->node[i].head_missing && !strcmp(base_op(p->node[i].op), op)) {
                    p->node[i].head_missing = 0;
                    x->group[k] = x->group[j];
                    break;
                }
    }
    /* 2. an Add taken in by a Conv with a sum input, before it */
    for (int k = 0; k < x->n; k++) {
        if (x->group[k] >= 0 || strcmp(field(x->node[k], "op"), "Add")) continue;
        for (int j = k - 1; j >= 0 && j >= k - DK_ORT_WINDOW && x->group[k] < 0; j--)
            for (int i = x->at[j]; i >= 0; i = p->node[i].next)
                if (p->node[i].add_missing) {
                    p->node[i].add_missing = 0;
                    x->group[k] = x->group[j];
                    break;
                }
    }
    /* 3. the rest with the node before it (a Pad with the one after it) */
    for (int k = 1; k < x->n; k++)
        if (x->group[k] < 0 && strcmp(field(x->node[k], "op"), "Pad")) x->group[k] = x->group[k - 1];
    for (int k = x->n - 2; k >= 0; k--)
        if (x->group[k] < 0) x->group[k] = x->group[k + 1];
    /* 4. an Add ORT fused into one Conv and the other side into another (the
     * downsample branch's, computed after it, at deltakern's opt=2 and
     * above): the nearest node covering an Add no ORT node names, and its
     * group with it, joins the Conv's group, so that both sides' rows hold
     * the Add and its Relu */
    for (int i = 0; i < p->n; i++) {
        ort_node *o = &p->node[i];
        /* an Add of its own node (the other side fused it there too) */
        if (!o->add_missing || o->anchor < 0 || covers_unnamed_add(x, o->anchor)) continue;
        int g = find(x->parent, x->group[o->anchor]);
        for (int d = 1; d <= DK_ORT_WINDOW && o->add_missing; d++)
            for (int side = 0; side < 2 && o->add_missing; side++) {
                int j = side ? o->anchor - d : o->anchor + d;
                if (j < 0 || j >= x->n || x->group[j] < 0 || find(x->parent, x->group[j]) == g) continue;
                if (!covers_unnamed_add(x, j) || has_sum_conv(p, x, j)) continue;
                x->parent[find(x->parent, x->group[j])] = g;
                o->add_missing = 0;
            }
    }
    for (int k = 0; k < x->n; k++)
        if (x->group[k] >= 0) x->group[k] = find(x->parent, x->group[k]);
    for (int k = x->n - 1; k >= 0; k--) /* member lists, ascending */
        if (x->group[k] >= 0) {
            x->gnext[k] = x->head[x->group[k]];
            x->head[x->group[k]] = k;
        }
}

/* --- the in-memory result ------------------------------------------------- */

static cJSON *times(const double *t, int n)
{
    cJSON *o = cJSON_CreateObject();
    if (o) cJSON_AddItemToObject(o, "samples_s", cJSON_CreateDoubleArray(t, n));
    return o;
}

static void add_cover(cJSON *covers, dk_strmap *seen, const char *name)
{
    if (dk_strmap_get(seen, name) >= 0) return;
    dk_strmap_put(seen, name, 1);
    cJSON_AddItemToArray(covers, cJSON_CreateString(name));
}

/* One node of the result: a group (its nodes on the other side from `first`
 * on, the ORT nodes anchored at each), or, when first < 0, the single ORT
 * node `self`. */
static dk_status emit(cJSON *nodes, ort_profile *p, const other_side *x, int first, int self, double *sum)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return dk__error(DK_ERR_NOMEM, "out of memory");
    cJSON_AddItemToArray(nodes, o);
    memset(sum, 0, sizeof *sum * (size_t)p->n_runs);
    char op[256] = "";
    cJSON *covers = cJSON_CreateArray();
    dk_strmap seen = {0};
    if (first < 0) {
        ort_node *nd = &p->node[self];
        cJSON_AddStringToObject(o, "name", nd->name);
        cJSON_AddStringToObject(o, "op", nd->op);
        cJSON_AddStringToObject(o, "desc", nd->op);
        cJSON_AddItemToArray(covers, cJSON_CreateString(nd->name));
        memcpy(sum, nd->t, sizeof *sum * (size_t)p->n_runs);
    } else {
        /* named after its main node: the first whose op is an ORT node's
         * op_name (the Conv of Conv+Relu, the pooling of Pad+AveragePool) */
        int main = -1;
        dk_strmap ops = {0};
        for (int k = first; k >= 0; k = x->gnext[k])
            for (int i = x->at[k]; i >= 0; i = p->node[i].next) dk_strmap_put(&ops, base_op(p->node[i].op), 1);
        for (int k = first; k >= 0 && main < 0; k = x->gnext[k])
            if (dk_strmap_get(&ops, field(x->node[k], "op")) >= 0) main = k;
        dk_strmap_free(&ops);
        if (main < 0) main = first;
        cJSON_AddStringToObject(o, "name", field(x->node[main], "name"));
        cJSON_AddStringToObject(o, "desc", field(x->node[main], "desc"));
        for (int k = first; k >= 0; k = x->gnext[k]) {
            add_cover(covers, &seen, field(x->node[k], "name"));
            const cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(x->node[k], "covers"))
            {
                if (cJSON_IsString(c)) add_cover(covers, &seen, c->valuestring);
            }
            for (int i = x->at[k]; i >= 0; i = p->node[i].next) {
                if (!strstr(op, p->node[i].op)) dk_join(op, sizeof op, "+", p->node[i].op);
                for (int r = 0; r < p->n_runs; r++) sum[r] += p->node[i].t[r];
            }
        }
        cJSON_AddStringToObject(o, "op", op);
    }
    dk_strmap_free(&seen);
    cJSON_AddItemToObject(o, "covers", covers);
    cJSON_AddItemToObject(o, "time", times(sum, p->n_runs));
    return DK_OK;
}

static dk_status build_result(ort_profile *p, const other_side *x, cJSON **out)
{
    cJSON *root = cJSON_CreateObject();
    *out = root;
    if (!root) return dk__error(DK_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(root, "schema", "deltakern-bench/1");
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "path", p->path);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "variants"), v);
    char name[300];
    snprintf(name, sizeof name, "onnxruntime (%s)", p->providers[0] ? p->providers : "provider not named");
    cJSON_AddStringToObject(v, "name", name);
    double *sum = malloc(sizeof *sum * ((size_t)p->n_runs + 1));
    if (!sum) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int r = 0; r < p->n_runs; r++) sum[r] = p->run[r].dur * 1e-6;
    cJSON_AddItemToObject(v, "end_to_end", times(sum, p->n_runs));
    cJSON *nodes = cJSON_AddArrayToObject(v, "nodes");
    char *done = x ? calloc((size_t)x->n + 1, 1) : NULL;
    dk_status st = x && !done ? dk__error(DK_ERR_NOMEM, "out of memory") : DK_OK;
    for (int i = 0; i < p->n && st == DK_OK; i++) { /* in ORT's order of execution */
        ort_node *nd = &p->node[i];
        if (!x || nd->anchor < 0) {
            st = emit(nodes, p, x, -1, i, sum);
            continue;
        }
        int g = x->group[nd->anchor];
        if (done[g]) continue;
        done[g] = 1;
        st = emit(nodes, p, x, x->head[g], i, sum);
    }
    free(done);
    free(sum);
    return st;
}

dk_status dk__ort_side(dk__compare_side *s, const dk__compare_side *other)
{
    ort_profile p = {.path = s->path};
    other_side x = {0};
    dk_status st = read_profile(events_of(s->root), &p);
    if (st == DK_OK && other) st = other_build(other, &x);
    cJSON *result = NULL;
    if (st == DK_OK && other) {
        assign(&p, &x);
        int named = 0, compute = 0, covered = 0;
        for (int i = 0; i < p.n; i++) {
            named += p.node[i].anchor >= 0;
            compute += !is_layout_op(p.node[i].op) || p.node[i].anchor >= 0;
        }
        for (int k = 0; k < x.n; k++) covered += x.group[k] >= 0;
        if (2 * named < compute || 2 * covered < x.n)
            st = dk__error(DK_ERR_INVALID, "%s is a profile of another model than %s: only %d of the profile's %d "
                           "nodes are named in it, covering %d of its %d nodes", s->path, other->path, named, p.n,
                           covered, x.n);
    }
    if (st == DK_OK) st = build_result(&p, other ? &x : NULL, &result);
    if (st == DK_OK) {
        cJSON_Delete(s->root);
        s->root = result;
    } else {
        cJSON_Delete(result);
    }
    other_free(&x);
    profile_free(&p);
    return st;
}

/* Two profiles: named alike, node for node, or of another model. */
dk_status dk__ort_same_model(const dk__compare_side *a, const dk__compare_side *b)
{
    const cJSON *na = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
                          cJSON_GetObjectItemCaseSensitive(a->root, "variants"), 0), "nodes");
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
                          cJSON_GetObjectItemCaseSensitive(b->root, "variants"), 0), "nodes");
    dk_strmap names = {0};
    const cJSON *e;
    dk_status st = DK_OK;
    cJSON_ArrayForEach(e, na) if (st == DK_OK) st = dk_strmap_put(&names, field(e, "name"), 1);
    int common = 0, n_a = cJSON_GetArraySize(na), n_b = cJSON_GetArraySize(nb);
    cJSON_ArrayForEach(e, nb) common += dk_strmap_get(&names, field(e, "name")) >= 0;
    dk_strmap_free(&names);
    if (st == DK_OK && 2 * common < (n_a < n_b ? n_a : n_b))
        st = dk__error(DK_ERR_INVALID, "%s and %s are profiles of different models: %d of their %d and %d node "
                       "names are common", a->path, b->path, common, n_a, n_b);
    return st;
}
