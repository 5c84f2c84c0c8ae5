/* Comparing two benchmark results: nodes matched by name; per node the ratio
 * of medians with a Hodges–Lehmann interval of the ratio, the Mann–Whitney
 * test on the repetitions, each node's share of the total change (of the
 * sum of absolute node changes, see dk_stats_shares) and the
 * counter medians.
 *
 * A node regression must be statistically significant after Holm's
 * correction over every node and the end to end, large: the lower end of
 * its simultaneous (Bonferroni, 1 - alpha/m) ratio interval, divided by the
 * common factor of all nodes, above 1 + threshold, and material: an added
 * time of at least min_share of the sum of the base's node medians. Rank tests on repetitions that drift together are
 * optimistic about independence; the effect-size floor is what keeps an A/A
 * comparison on a noisy host free of false alarms. The end to end is judged
 * the same way but gates only when asked (gate_end_to_end): its wall time
 * takes every interruption of every node, so its median follows the host's
 * load, while each node's median leaves the interrupted repetitions out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "deltakern/bench.h"
#include "drivers/bench/bench_compare_internal.h"
#include "runtime/stats.h"
#include "runtime/error.h"
#include "runtime/strmap.h"
#include "runtime/text.h"
#include "runtime/file.h"

/* Limits on a result file, far above what `bench` writes (its --reps stops
 * at 100000): a hostile or corrupt file is refused before its size costs
 * memory or time. */
#define DK_RESULT_MAX_BYTES ((size_t)256 << 20)
#define DK_RESULT_MAX_NODES 1000000   /* per variant */
#define DK_RESULT_MAX_SAMPLES 1000000 /* per samples_s array */

void dk_compare_options_default(dk_compare_options *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = 0.15;
    o->alpha = 0.05;
    o->min_share = 0.01;
}

static dk_status load_side(const char *path, dk__compare_side *s)
{
    s->path = path;
    char file[4096];
    long rank;
    DK_TRY(dk__bench_split_rank(path, file, sizeof file, &rank));
    unsigned char *data;
    size_t size;
    DK_TRY(dk__read_file(file, DK_RESULT_MAX_BYTES, &data, &size));
    const char *end = NULL;
    s->root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    long at = end ? (long)(end - (const char *)data) : -1;
    free(data);
    if (!s->root) return dk__error(DK_ERR_FORMAT, "%s: not valid JSON (error near byte %ld)", file, at);
    if (dk__ort_is_trace(s->root)) { /* an ONNX Runtime profile: read once the other side is known */
        if (rank >= 0)
            return dk__error(DK_ERR_INVALID, "%s: '#%ld' selects a rank of a run under mpirun; %s is a trace, not "
                             "such a run", path, rank, file);
        s->ort = 1;
        return DK_OK;
    }
    if (rank >= 0) {
        DK_TRY(dk__bench_select_rank(&s->root, rank, path, s->host, sizeof s->host));
        s->ranked = 1;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(s->root, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "deltakern-bench/1") != 0)
        return dk__error(DK_ERR_FORMAT, "%s: not a deltakern bench result (schema is not \"deltakern-bench/1\") "
                         "nor an ONNX Runtime profile", path);
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(s->root, "variants");
    if (!cJSON_IsArray(vs) || cJSON_GetArraySize(vs) < 1)
        return dk__error(DK_ERR_FORMAT, "%s: malformed result: no variants", path);
    return DK_OK;
}

static const char *model_field(const dk__compare_side *s, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(s->root, "model");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The variant named `want` (its name or its index), or the first. */
static dk_status pick_variant(dk__compare_side *s, const char *want)
{
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(s->root, "variants");
    int n = cJSON_GetArraySize(vs);
    const cJSON *found = NULL;
    if (!want) {
        found = cJSON_GetArrayItem(vs, 0);
    } else {
        char *end;
        long i = strtol(want, &end, 10);
        if (*want && !*end && i >= 0 && i < n) found = cJSON_GetArrayItem(vs, (int)i);
        for (int k = 0; !found && k < n; k++) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(vs, k), "name");
            if (cJSON_IsString(name) && !strcmp(name->valuestring, want)) found = cJSON_GetArrayItem(vs, k);
        }
        if (!found) return dk__error(DK_ERR_INVALID, "%s: no variant '%s' (it has %d)", s->path, want, n);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(found, "name");
    if (!cJSON_IsString(name)) return dk__error(DK_ERR_FORMAT, "%s: malformed result: a variant has no name", s->path);
    s->variant = found;
    s->name = name->valuestring;
    return DK_OK;
}

/* The sample array obj.samples_s: non-negative times. A time below the
 * clock's resolution can read 0; it is taken as 1 ns so that ratios and
 * their logarithms stay defined. */
#define DK_MIN_TIME_S 1e-9
static dk_status samples_of(const dk__compare_side *s, const cJSON *obj, const char *what, double **out, int *n)
{
    *out = NULL;
    *n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "samples_s");
    int count = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || count < 1)
        return dk__error(DK_ERR_FORMAT, "%s: malformed result: %s has no samples", s->path, what);
    if (count > DK_RESULT_MAX_SAMPLES)
        return dk__error(DK_ERR_FORMAT, "%s: %s has %d samples; more than %d is refused", s->path, what, count,
                         DK_RESULT_MAX_SAMPLES);
    double *x = malloc(sizeof *x * (size_t)count);
    if (!x) return dk__error(DK_ERR_NOMEM, "out of memory");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0) || !isfinite(e->valuedouble)) {
            free(x);
            return dk__error(DK_ERR_FORMAT, "%s: malformed result: %s has a sample that is not a time",
                             s->path, what);
        }
        x[i++] = e->valuedouble > DK_MIN_TIME_S ? e->valuedouble : DK_MIN_TIME_S;
    }
    *out = x;
    *n = count;
    return DK_OK;
}

static const char *str_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Statistics of one pair of samples (verdict left for later). */
static dk_status compare_samples(const double *b, int nb, const double *c, int nc, double gate_conf,
                                 dk_compare_row *row)
{
    dk_stats sb, sc;
    DK_TRY(dk_stats_describe(b, nb, &sb));
    DK_TRY(dk_stats_describe(c, nc, &sc));
    row->base_median = sb.median;
    row->cand_median = sc.median;
    row->base_n = nb;
    row->cand_n = nc;
    row->ratio = sc.median / sb.median;
    row->delta = sc.median - sb.median;
    dk_shift r;
    DK_TRY(dk_stats_ratio(b, nb, c, nc, 0.95, &r));
    row->ratio_lo = r.lo;
    row->ratio_hi = r.hi;
    DK_TRY(dk_stats_ratio(b, nb, c, nc, gate_conf, &r));
    row->gate_lo = r.lo;
    dk_mw mw;
    DK_TRY(dk_stats_mann_whitney(b, nb, c, nc, &mw));
    row->p = mw.p;
    return DK_OK;
}

static dk_status compare_pair(const dk__compare_side *bs, const cJSON *bobj, const dk__compare_side *cs, const cJSON *cobj,
                              const char *what, double gate_conf, dk_compare_row *row)
{
    double *b = NULL, *c = NULL;
    int nb, nc;
    dk_status st = samples_of(bs, bobj, what, &b, &nb);
    if (st == DK_OK) st = samples_of(cs, cobj, what, &c, &nc);
    if (st == DK_OK) st = compare_samples(b, nb, c, nc, gate_conf, row);
    free(b);
    free(c);
    return st;
}

/* Per-repetition sums of the times of nodes[member[0..n_member)] (indices
 * ascending; repetitions of one run are aligned: same count for every node). */
static dk_status group_samples(const dk__compare_side *s, const cJSON *const *nodes, const int *member, int n_member,
                               const char *what, double **out, int *n)
{
    *out = NULL;
    *n = 0;
    dk_status st = DK_OK;
    for (int g = 0; g < n_member; g++) {
        const cJSON *node = nodes[member[g]];
        double *x;
        int m;
        DK_TRY(samples_of(s, cJSON_GetObjectItemCaseSensitive(node, "time"), what, &x, &m));
        if (!*out) {
            *out = x;
            *n = m;
            continue;
        }
        if (m != *n) st = dk__error(DK_ERR_FORMAT, "%s: malformed result: nodes of %s have %d and %d samples",
                                    s->path, what, *n, m);
        for (int r = 0; st == DK_OK && r < m; r++) (*out)[r] += x[r];
        free(x);
        if (st != DK_OK) {
            free(*out);
            *out = NULL;
            return st;
        }
    }
    return DK_OK;
}

/* A node's median time (a node left on one side). */
static dk_status node_median(const dk__compare_side *s, const cJSON *node, double *out)
{
    char what[300];
    snprintf(what, sizeof what, "node '%s'", DK_ESC(str_field(node, "name")));
    double *x;
    int n;
    DK_TRY(samples_of(s, cJSON_GetObjectItemCaseSensitive(node, "time"), what, &x, &n));
    dk_stats st;
    dk_status rc = dk_stats_describe(x, n, &st);
    free(x);
    *out = rc == DK_OK ? st.median : NAN;
    return rc;
}

static double counter_median(const cJSON *node, const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "counters"), name);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "median");
    return cJSON_IsNumber(m) ? m->valuedouble : NAN;
}

/* Counters both nodes carry: their medians. */
static void add_counters(const cJSON *bn, const cJSON *cn, dk_compare_row *row)
{
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(bn, "counters"), *e;
    cJSON_ArrayForEach(e, bc)
    {
        if (row->n_counters == DK_COMPARE_MAX_COUNTERS || !e->string) break;
        double b = counter_median(bn, e->string), c = counter_median(cn, e->string);
        if (isnan(b) || isnan(c)) continue;
        row->counter_names[row->n_counters] = e->string;
        row->counter_base[row->n_counters] = b;
        row->counter_cand[row->n_counters] = c;
        row->n_counters++;
    }
}

/* The covers of a fused node, joined with ','; NULL for a single node. */
static char *join_covers(const cJSON *node)
{
    const cJSON *cov = cJSON_GetObjectItemCaseSensitive(node, "covers"), *e;
    if (!cJSON_IsArray(cov) || cJSON_GetArraySize(cov) < 2) return NULL;
    size_t len = 1;
    cJSON_ArrayForEach(e, cov) if (cJSON_IsString(e)) len += strlen(e->valuestring) + 1;
    char *out = malloc(len);
    if (!out) return NULL;
    size_t w = 0; /* appended in place: strcat would rescan, quadratic in the covers */
    cJSON_ArrayForEach(e, cov) if (cJSON_IsString(e))
    {
        if (w) out[w++] = ',';
        size_t n = strlen(e->valuestring);
        memcpy(out + w, e->valuestring, n);
        w += n;
    }
    out[w] = 0;
    return out;
}

/* One side's nodes, indexed: the array as pointers, and each name's nodes
 * (first[name], then next[k]), so that matching is linear in the nodes
 * (a result file may hold tens of thousands). */
typedef struct side_index {
    const cJSON **node;
    int n;
    dk_strmap first; /* name -> first node of that name */
    int *next;       /* the next node of the same name, -1 none */
    char *used;      /* already in a row */
    int *member;     /* scratch: one group's members */
} side_index;

static void side_index_free(side_index *x)
{
    free(x->node);
    dk_strmap_free(&x->first);
    free(x->next);
    free(x->used);
    free(x->member);
}

static dk_status side_index_build(const dk__compare_side *s, const cJSON *nodes, side_index *x)
{
    x->n = cJSON_GetArraySize(nodes);
    if (x->n > DK_RESULT_MAX_NODES)
        return dk__error(DK_ERR_FORMAT, "%s: the result has %d nodes; more than %d is refused", s->path, x->n,
                         DK_RESULT_MAX_NODES);
    x->node = calloc((size_t)x->n + 1, sizeof *x->node);
    x->next = malloc(((size_t)x->n + 1) * sizeof *x->next);
    x->used = calloc((size_t)x->n + 1, 1);
    x->member = malloc(((size_t)x->n + 1) * sizeof *x->member);
    if (!x->node || !x->next || !x->used || !x->member) return dk__error(DK_ERR_NOMEM, "out of memory");
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, nodes) x->node[k++] = e;
    for (k = x->n - 1; k >= 0; k--) { /* backwards: first[] ends at the first of each name */
        const char *name = str_field(x->node[k], "name");
        x->next[k] = dk_strmap_get(&x->first, name);
        DK_TRY(dk_strmap_put(&x->first, name, k));
    }
    return DK_OK;
}

static int by_index(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    return (i > j) - (i < j);
}

/* The members of a group on side x: node `self` and the unused nodes named
 * in `covers` (the other side's node), in array order, marked used. */
static int gather(side_index *x, int self, const cJSON *covers)
{
    int n = 0;
    if (!x->used[self]) x->member[n++] = self, x->used[self] = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, covers)
    {
        if (!cJSON_IsString(e)) continue;
        for (int k = dk_strmap_get(&x->first, e->valuestring); k >= 0; k = x->next[k])
            if (!x->used[k]) x->member[n++] = k, x->used[k] = 1;
    }
    qsort(x->member, (size_t)n, sizeof *x->member, by_index);
    return n;
}

/* One row: base node bi and the candidate node ci of its name, each widened
 * to the nodes the other side's node covers, so that a node fused on one side
 * (Conv+Clip) is compared with the sum of its parts on the other. */
static dk_status match_group(dk_compare *c, side_index *bx, side_index *cx, int bi, int ci, double gate_conf)
{
    const cJSON *b = bx->node[bi], *m = cx->node[ci];
    int size_b = gather(bx, bi, cJSON_GetObjectItemCaseSensitive(m, "covers"));
    int size_c = gather(cx, ci, cJSON_GetObjectItemCaseSensitive(b, "covers"));
    dk_compare_row *row = &c->rows[c->n_rows];
    row->name = str_field(b, "name");
    row->op = str_field(b, "op");
    row->desc = str_field(b, "desc");
    /* the node that stands for the whole group: the one covering more */
    const cJSON *wider = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "covers")) >
                                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "covers"))
                             ? m : b;
    c->covers[c->n_rows] = join_covers(wider);
    row->covers = c->covers[c->n_rows];
    char what[300];
    snprintf(what, sizeof what, "node '%s'", DK_ESC(row->name));
    double *sb = NULL, *sc = NULL;
    int n1 = 0, n2 = 0;
    dk_status st = group_samples(&c->base, bx->node, bx->member, size_b, what, &sb, &n1);
    if (st == DK_OK) st = group_samples(&c->cand, cx->node, cx->member, size_c, what, &sc, &n2);
    if (st == DK_OK) st = compare_samples(sb, n1, sc, n2, gate_conf, row);
    if (st == DK_OK && size_b == 1 && size_c == 1) add_counters(b, m, row);
    if (st == DK_OK) c->n_rows++;
    free(sb);
    free(sc);
    return st;
}

static dk_status match_nodes(dk_compare *c, double gate_conf)
{
    const cJSON *bn = cJSON_GetObjectItemCaseSensitive(c->base.variant, "nodes");
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(c->cand.variant, "nodes");
    if (!cJSON_IsArray(bn)) return dk__error(DK_ERR_FORMAT, "%s: malformed result: no nodes", c->base.path);
    if (!cJSON_IsArray(cn)) return dk__error(DK_ERR_FORMAT, "%s: malformed result: no nodes", c->cand.path);
    side_index bx = {0}, cx = {0};
    dk_status st = side_index_build(&c->base, bn, &bx);
    if (st == DK_OK) st = side_index_build(&c->cand, cn, &cx);
    int nb = bx.n, ncand = cx.n;
    if (st == DK_OK) {
        c->rows = calloc((size_t)nb + 1, sizeof *c->rows);
        c->covers = calloc((size_t)nb + 1, sizeof *c->covers);
        c->cap_rows = c->covers ? nb + 1 : 0;
        c->only[0] = calloc((size_t)nb + 1, sizeof *c->only[0]);
        c->only[1] = calloc((size_t)ncand + 1, sizeof *c->only[1]);
        c->only_median[0] = calloc((size_t)nb + 1, sizeof *c->only_median[0]);
        c->only_median[1] = calloc((size_t)ncand + 1, sizeof *c->only_median[1]);
        if (!c->rows || !c->covers || !c->only[0] || !c->only[1] || !c->only_median[0] || !c->only_median[1])
            st = dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < nb && st == DK_OK; k++) {
        if (bx.used[k]) continue;
        int mi = dk_strmap_get(&cx.first, str_field(bx.node[k], "name"));
        if (mi >= 0 && !cx.used[mi]) st = match_group(c, &bx, &cx, k, mi, gate_conf);
    }
    for (int in_cand = 0; in_cand < 2 && st == DK_OK; in_cand++) {
        const side_index *x = in_cand ? &cx : &bx;
        for (int k = 0; k < x->n && st == DK_OK; k++) {
            if (x->used[k]) continue;
            int i = c->n_only[in_cand]++;
            c->only[in_cand][i] = str_field(x->node[k], "name");
            st = node_median(in_cand ? &c->cand : &c->base, x->node[k], &c->only_median[in_cand][i]);
        }
    }
    side_index_free(&bx);
    side_index_free(&cx);
    return st;
}

/* base_total: the sum of the base's node medians, the yardstick of
 * materiality (the end-to-end wall time would make it follow the load). */
static int by_ratio(const void *a, const void *b)
{
    double x = ((const dk_compare_row *)a)->ratio, y = ((const dk_compare_row *)b)->ratio;
    return x < y ? -1 : x > y;
}

static int by_contribution(const void *a, const void *b)
{
    double x = fabs(((const dk_compare_row *)a)->delta), y = fabs(((const dk_compare_row *)b)->delta);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A node's verdict. Its slowdown is measured against the common factor:
 * load from other processes between two runs slows every node somewhat
 * (memory-bound ones more), and a node is a regression only if it stands
 * out from the rest of the network by more than the threshold. */
static void judge_node(dk_compare_row *r, const dk_compare_options *o, double base_total, double common)
{
    r->change = DK_CHANGE_NONE;
    if (!(r->p_adj < o->alpha)) return;
    if (r->ratio < 1) {
        r->change = DK_CHANGE_FASTER;
        return;
    }
    /* discounting a common slowdown only: when the network got faster, a
     * node that kept its time is no regression */
    int large = r->gate_lo / (common > 1 ? common : 1) > 1 + o->threshold;
    int material = r->delta >= o->min_share * base_total;
    r->change = large && material ? DK_CHANGE_REGRESSION : DK_CHANGE_SLOWER;
}

/* The end to end, with gate_end_to_end: a regression when the whole network
 * is slower, i.e. the common factor of the nodes is beyond the threshold and
 * the end-to-end change significant, or its own interval is beyond the
 * threshold. Without it, reported only: between two runs on a shared host
 * the load moves every node together, which neither can tell from a real
 * uniform slowdown. */
static void judge_end_to_end(dk_compare_row *r, const dk_compare_options *o, double common)
{
    r->change = DK_CHANGE_NONE;
    if (!(r->p_adj < o->alpha)) return;
    if (r->ratio < 1) {
        r->change = DK_CHANGE_FASTER;
        return;
    }
    int uniform = common > 1 + o->threshold;
    int own = r->gate_lo > 1 + o->threshold;
    r->change = o->gate_end_to_end && (uniform || own) ? DK_CHANGE_REGRESSION : DK_CHANGE_SLOWER;
}

/* Median of the node ratios weighted by the base's node times: what the
 * network as a whole did, insensitive to a few nodes that changed alone. */
static double common_factor(const dk_compare_row *rows, int n)
{
    if (n == 0) return 1;
    dk_compare_row *sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) return 1;
    memcpy(sorted, rows, sizeof *sorted * (size_t)n);
    qsort(sorted, (size_t)n, sizeof *sorted, by_ratio);
    double total = 0, acc = 0, out = sorted[n - 1].ratio;
    for (int i = 0; i < n; i++) total += sorted[i].base_median;
    for (int i = 0; i < n; i++) {
        acc += sorted[i].base_median;
        if (acc >= total / 2) {
            out = sorted[i].ratio;
            break;
        }
    }
    free(sorted);
    return out > 0 ? out : 1;
}

static dk_status analyse(dk_compare *c, const dk_compare_options *o)
{
    int m = c->n_rows + 1;
    double *p = malloc(sizeof *p * (size_t)m), *delta = malloc(sizeof *delta * (size_t)m);
    double *share = malloc(sizeof *share * (size_t)m);
    if (!p || !delta || !share) {
        free(p);
        free(delta);
        free(share);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < c->n_rows; i++) {
        p[i] = c->rows[i].p;
        delta[i] = c->rows[i].delta;
    }
    p[c->n_rows] = c->e2e.p;
    dk_stats_holm(p, m);
    dk_stats_shares(delta, c->n_rows, share);
    double base_total = 0;
    for (int i = 0; i < c->n_rows; i++) base_total += c->rows[i].base_median;
    c->common = common_factor(c->rows, c->n_rows);
    for (int i = 0; i < c->n_rows; i++) {
        c->rows[i].p_adj = p[i];
        c->rows[i].share = share[i];
        judge_node(&c->rows[i], o, base_total, c->common);
        c->n_regressions += c->rows[i].change == DK_CHANGE_REGRESSION;
    }
    c->e2e.p_adj = p[c->n_rows];
    c->e2e.share = 1;
    judge_end_to_end(&c->e2e, o, c->common);
    c->n_regressions += c->e2e.change == DK_CHANGE_REGRESSION;
    free(p);
    free(delta);
    free(share);
    qsort(c->rows, (size_t)c->n_rows, sizeof *c->rows, by_contribution);
    return DK_OK;
}

/* "+38.0% end to end (...); 71% of it is node X (Conv 3×3 256→256), 2.90× slower; ...".
 * The shares divide the sum of the node changes; when that sum does not
 * account for the end-to-end change (time outside the nodes changed, or
 * noise), the story says whose change the share is of. */
static void write_story(dk_compare *c, const dk_compare_options *o)
{
    const dk_compare_row *e = &c->e2e;
    int len = snprintf(c->story, sizeof c->story, "%+.1f%% end to end (%.3f → %.3f ms, %s)",
                       (e->ratio - 1) * 100, e->base_median * 1e3, e->cand_median * 1e3,
                       e->change == DK_CHANGE_NONE ? "not significant" : "significant");
    /* the node told about: the regression, else the significant change, else
     * any change, with the largest change either way (with the net change
     * near zero, noise cancelling out, the largest share of one sign would
     * miss a real change of the other) */
    const dk_compare_row *top = NULL;
    double node_delta = 0;
    for (int i = 0; i < c->n_rows; i++) node_delta += c->rows[i].delta;
    for (int rank = 0; rank < 3 && !top; rank++)
        for (int i = 0; i < c->n_rows; i++) {
            const dk_compare_row *r = &c->rows[i];
            int eligible = rank == 0 ? r->change == DK_CHANGE_REGRESSION
                         : rank == 1 ? r->change != DK_CHANGE_NONE : 1;
            if (eligible && (!top || fabs(r->delta) > fabs(top->delta))) top = r;
        }
    int explains = node_delta * e->delta > 0 && fabs(node_delta - e->delta) <= 0.5 * fabs(e->delta) &&
                   top && top->delta * e->delta > 0;
    if (top && top->delta != 0 && len > 0 && (size_t)len < sizeof c->story) {
        double f = top->ratio >= 1 ? top->ratio : 1 / top->ratio;
        len += snprintf(c->story + len, sizeof c->story - (size_t)len, "; %.0f%% of %s is node %s (%s), %.2f× %s%s",
                        (explains ? top->delta / e->delta : fabs(top->share)) * 100,
                        explains ? "it" : "the change in node time", top->name, top->desc, f,
                        top->ratio >= 1 ? "slower" : "faster",
                        top->change == DK_CHANGE_NONE ? " (not significant)" : "");
    }
    if (fabs(c->common - 1) >= 0.02 && len > 0 && (size_t)len < sizeof c->story)
        len += snprintf(c->story + len, sizeof c->story - (size_t)len, "; the nodes as a whole %.2f×", c->common);
    if (len > 0 && (size_t)len < sizeof c->story) {
        if (c->n_regressions)
            snprintf(c->story + len, sizeof c->story - (size_t)len, "; %d regression%s above %.0f%%",
                     c->n_regressions, c->n_regressions > 1 ? "s" : "", o->threshold * 100);
        else
            snprintf(c->story + len, sizeof c->story - (size_t)len, "; no regression above %.0f%%",
                     o->threshold * 100);
    }
}

static dk_status run_compare(dk_compare *c, const char *base, const char *cand, const dk_compare_options *o)
{
    DK_TRY(load_side(base, &c->base));
    DK_TRY(load_side(cand, &c->cand));
    if (!c->base.ort && !c->cand.ort) {
        const char *hb = model_field(&c->base, "hash"), *hc = model_field(&c->cand, "hash");
        if (!hb) return dk__error(DK_ERR_FORMAT, "%s: malformed result: no model hash", base);
        if (!hc) return dk__error(DK_ERR_FORMAT, "%s: malformed result: no model hash", cand);
        if (strcmp(hb, hc) != 0) {
            const char *pb = model_field(&c->base, "path"), *pc = model_field(&c->cand, "path");
            return dk__error(DK_ERR_INVALID, "%s and %s are results of different models (%s, %s; %s, %s)", base,
                             cand, pb ? pb : "?", hb, pc ? pc : "?", hc);
        }
    }
    /* an ONNX Runtime profile has no model hash: its nodes are matched to the
     * other side's by name, and too few found means another model */
    if (!c->base.ort) DK_TRY(pick_variant(&c->base, o->base_variant));
    if (!c->cand.ort) DK_TRY(pick_variant(&c->cand, o->cand_variant));
    if (c->base.ort) DK_TRY(dk__ort_side(&c->base, c->cand.ort ? NULL : &c->cand));
    if (c->cand.ort) DK_TRY(dk__ort_side(&c->cand, c->base.ort ? NULL : &c->base));
    if (c->base.ort && c->cand.ort) DK_TRY(dk__ort_same_model(&c->base, &c->cand));
    if (c->base.ort) DK_TRY(pick_variant(&c->base, o->base_variant));
    if (c->cand.ort) DK_TRY(pick_variant(&c->cand, o->cand_variant));
    const cJSON *bn = cJSON_GetObjectItemCaseSensitive(c->base.variant, "nodes");
    double gate_conf = 1 - o->alpha / (cJSON_GetArraySize(bn) + 1);
    c->e2e.name = "end to end";
    c->e2e.op = "";
    c->e2e.desc = "";
    DK_TRY(compare_pair(&c->base, cJSON_GetObjectItemCaseSensitive(c->base.variant, "end_to_end"), &c->cand,
                        cJSON_GetObjectItemCaseSensitive(c->cand.variant, "end_to_end"), "end_to_end", gate_conf,
                        &c->e2e));
    DK_TRY(match_nodes(c, gate_conf));
    DK_TRY(analyse(c, o));
    write_story(c, o);
    dk__compare_host_load(c);
    return DK_OK;
}

static dk_status check_options(const dk_compare_options *o)
{
    if (!(o->threshold >= 0) || o->threshold > 100)
        return dk__error(DK_ERR_INVALID, "compare: threshold %g is out of range (0 to 100 = 10000%%)", o->threshold);
    if (!(o->alpha > 0 && o->alpha < 1)) return dk__error(DK_ERR_INVALID, "compare: alpha %g is not in (0, 1)", o->alpha);
    if (!(o->min_share >= 0 && o->min_share < 1))
        return dk__error(DK_ERR_INVALID, "compare: minimum share %g is not in [0, 1)", o->min_share);
    return DK_OK;
}

dk_status dk_compare_files(const char *base, const char *cand, const dk_compare_options *o, dk_compare **out)
{
    *out = NULL;
    DK_TRY(check_options(o));
    dk_compare *c = calloc(1, sizeof *c);
    if (!c) return dk__error(DK_ERR_NOMEM, "out of memory");
    c->opts = *o;
    dk_status st = run_compare(c, base, cand, o);
    if (st != DK_OK) {
        dk_compare_destroy(c);
        return st;
    }
    *out = c;
    return DK_OK;
}

void dk_compare_destroy(dk_compare *c)
{
    if (!c) return;
    cJSON_Delete(c->base.root);
    cJSON_Delete(c->cand.root);
    for (int i = 0; c->covers && i < c->cap_rows; i++) free(c->covers[i]);
    free(c->covers);
    free(c->rows);
    free(c->only[0]);
    free(c->only[1]);
    free(c->only_median[0]);
    free(c->only_median[1]);
    free(c);
}

const dk_compare_row *dk_compare_end_to_end(const dk_compare *c) { return &c->e2e; }
int dk_compare_row_count(const dk_compare *c) { return c->n_rows; }
const dk_compare_row *dk_compare_row_at(const dk_compare *c, int i)
{
    return i >= 0 && i < c->n_rows ? &c->rows[i] : NULL;
}
const char *dk_compare_host(const dk_compare *c, int cand)
{
    const dk__compare_side *s = cand ? &c->cand : &c->base;
    return s->ranked ? s->host : NULL;
}
int dk_compare_unmatched_count(const dk_compare *c, int in_cand) { return c->n_only[in_cand ? 1 : 0]; }
const char *dk_compare_unmatched_at(const dk_compare *c, int in_cand, int i)
{
    int s = in_cand ? 1 : 0;
    return i >= 0 && i < c->n_only[s] ? c->only[s][i] : NULL;
}
double dk_compare_unmatched_median(const dk_compare *c, int in_cand, int i)
{
    int s = in_cand ? 1 : 0;
    return i >= 0 && i < c->n_only[s] ? c->only_median[s][i] : NAN;
}
int dk_compare_is_ort_profile(const dk_compare *c, int cand) { return (cand ? &c->cand : &c->base)->ort; }
const char *dk_compare_base_variant(const dk_compare *c) { return c->base.name; }
const char *dk_compare_cand_variant(const dk_compare *c) { return c->cand.name; }
const char *dk_compare_story(const dk_compare *c) { return c->story; }
int dk_compare_regressions(const dk_compare *c) { return c->n_regressions; }

double dk_compare_common_factor(const dk_compare *c) { return c->common; }
