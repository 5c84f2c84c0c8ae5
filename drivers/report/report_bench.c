/* The bench section: header, end to end per variant, per-node times as bars
 * with p10-p90 whiskers, a roofline plot, and the per-node table that every
 * mark in the plots links to. Every JSON access tolerates anything: a field
 * missing or of the wrong type shows as "-". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/report/report_internal.h"

#define BAR_NODES_MAX 200 /* beyond this the bar chart shows the slowest only */
#define BAR_NODES_TOP 120
#define COUNTERS_MAX 16

static const cJSON *J(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static double tstat(const cJSON *node, const char *k) { return dk__j_num(J(J(node, "time"), "stats"), k, NAN); }
static const char *name_of(const cJSON *n) { return dk__j_str(n, "name", ""); }

static const char *desc_of(const cJSON *n)
{
    const char *d = dk__j_str(n, "desc", "");
    return *d ? d : dk__j_str(n, "op", "-");
}

static double gflops_of(const cJSON *n)
{
    double g = dk__j_num(n, "gflops", NAN);
    return isfinite(g) ? g : dk__j_num(n, "flops", NAN) / tstat(n, "median") / 1e9;
}

/* open, s escaped, close */
static void wrap(dk_html *h, const char *open, const char *s, const char *close)
{
    dk__html_raw(h, open);
    dk__html_text(h, s);
    dk__html_raw(h, close);
}

/* A JSON value as text: strings, numbers, booleans, arrays of them joined. */
static void jval(dk_html *h, const cJSON *v)
{
    const cJSON *e;
    int i = 0;
    if (cJSON_IsString(v)) dk__html_text(h, v->valuestring);
    else if (cJSON_IsNumber(v)) dk__html_num(h, v->valuedouble, 10);
    else if (cJSON_IsBool(v)) dk__html_raw(h, cJSON_IsTrue(v) ? "yes" : "no");
    else if (!cJSON_IsArray(v)) dk__html_raw(h, "-");
    else {
        cJSON_ArrayForEach(e, v) {
            if (i++) dk__html_raw(h, ", ");
            jval(h, e);
        }
        if (!i) dk__html_raw(h, "none");
    }
}

static void kv(dk_html *h, const char *key, const cJSON *o, const char *k)
{
    wrap(h, "<tr><th>", key, "</th><td>");
    jval(h, J(o, k));
    dk__html_raw(h, "</td></tr>\n");
}

void dk__report_host_load(dk_html *h, const cJSON *hl)
{
    const cJSON *r;
    int i = 0;
    if (!cJSON_IsObject(hl)) {
        dk__html_raw(h, "not recorded");
        return;
    }
    dk__html_text(h, dk__j_str(hl, "verdict", "unknown"));
    cJSON_ArrayForEach(r, (cJSON_IsArray(J(hl, "reasons")) ? J(hl, "reasons") : NULL)) {
        dk__html_raw(h, i++ ? "; " : ": ");
        jval(h, r);
    }
}

/* Nodes of all variants matched by name: row u of the table is node
 * at[u * nv + v] of variant v (NULL where the variant lacks it, as after
 * fusion). Open addressing keeps this linear for large graphs. */
typedef struct nodes {
    int nv, nu, cap;
    const cJSON **at;
    const cJSON **rep; /* per row: its first node, whose name and desc it shows */
    int *slot;         /* hash slot -> row, -1 free */
} nodes;

static int match(nodes *m, const cJSON *variants)
{
    int total = 0, iv = 0;
    const cJSON *v, *n;
    cJSON_ArrayForEach(v, variants) total += cJSON_GetArraySize(J(v, "nodes"));
    for (m->cap = 16; m->cap < 2 * total + 16;) m->cap *= 2;
    m->slot = malloc((size_t)m->cap * sizeof *m->slot);
    m->at = calloc((size_t)(total + 1) * (size_t)m->nv, sizeof *m->at);
    m->rep = calloc((size_t)(total + 1), sizeof *m->rep);
    if (!m->slot || !m->at || !m->rep) return 0;
    for (int i = 0; i < m->cap; i++) m->slot[i] = -1;
    cJSON_ArrayForEach(v, variants) {
        cJSON_ArrayForEach(n, J(v, "nodes")) {
            const char *name = name_of(n);
            unsigned long s = 1469598103934665603ul; /* FNV-1a */
            for (const char *c = name; *c; c++) s = (s ^ (unsigned char)*c) * 1099511628211ul;
            /* the first row of this name not yet filled for this variant, else a new row */
            for (s &= (unsigned long)(m->cap - 1); m->slot[s] >= 0; s = (s + 1) & (unsigned long)(m->cap - 1)) {
                int u = m->slot[s];
                if (!m->at[u * m->nv + iv] && !strcmp(name_of(m->rep[u]), name)) break;
            }
            if (m->slot[s] < 0) m->slot[s] = m->nu++;
            m->at[m->slot[s] * m->nv + iv] = n;
            if (!m->rep[m->slot[s]]) m->rep[m->slot[s]] = n;
        }
        iv++;
    }
    return 1;
}

static void header(dk_html *h, const cJSON *root, const cJSON *variants, const char *path, const dk_report_ctx *ctx)
{
    const cJSON *model = J(root, "model"), *input = J(root, "input"), *set = J(root, "settings"), *v, *c;
    static const char *const keys[] = {"reps", "warmup", "sessions", "cold", "bind", "counters", "counters_note"};
    wrap(h, "<h2>bench: ", dk__j_str(model, "name", path), "</h2>\n");
    wrap(h, "<div class=\"scroll\"><table class=\"kv\"><tbody>\n<tr><th>result</th><td class=\"mono\">", path,
         "</td></tr>\n");
    kv(h, "model", model, "path");
    kv(h, "model hash", model, "hash");
    kv(h, "input", input, "kind");
    kv(h, "input description", input, "description");
    kv(h, "seed", input, "seed");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) kv(h, keys[i], set, keys[i]);
    kv(h, "created", root, "created");
    kv(h, "deltakern", root, "deltakern_version");
    dk__html_raw(h, "<tr><th>host load</th><td>");
    dk__report_host_load(h, J(root, "host_load"));
    dk__html_raw(h, "</td></tr>\n");
    dk__html_raw(h, "<tr><th>variants</th><td>");
    cJSON_ArrayForEach(v, variants) {
        wrap(h, "<b>", dk__j_str(v, "name", "?"), "</b> ");
        wrap(h, "<span class=\"mono muted\">", dk__j_str(v, "variant", ""), v->next ? "</span><br>" : "</span>");
    }
    dk__html_raw(h, "</td></tr>\n</tbody></table></div>\n");
    dk__report_environment(h, J(cJSON_GetArrayItem(variants, 0), "environment"), J(root, "topology"));
    if (ctx && ctx->command) {
        wrap(h, "<p>command: <code>", ctx->command, "</code></p>\n");
        return;
    }
    /* bench results do not record their command line: rebuilt from the settings */
    wrap(h, "<p>command (reconstructed): <code>deltakern bench ", dk__j_str(model, "path", "MODEL.onnx"), "");
    cJSON_ArrayForEach(v, variants) wrap(h, " -v ", dk__j_str(v, "name", "?"), "");
    if (!strcmp(dk__j_str(input, "kind", ""), "file")) wrap(h, " -i ", dk__j_str(input, "description", "FILE"), "");
    else if (isfinite(dk__j_num(input, "seed", NAN))) dk__html_printf(h, " --seed %.17g", dk__j_num(input, "seed", 0));
    dk__html_printf(h, " --reps %.17g", dk__j_num(set, "reps_requested", dk__j_num(set, "reps", 10)));
    if (dk__j_num(set, "min_time_s", 0) > 0) dk__html_printf(h, " --min-time %g", dk__j_num(set, "min_time_s", 0));
    dk__html_printf(h, " --warmup %.17g --sessions %.17g%s", dk__j_num(set, "warmup", 1), dk__j_num(set, "sessions", 3),
                    cJSON_IsTrue(J(set, "cold")) ? " --cold" : "");
    if (dk__j_str(set, "bind", NULL)) wrap(h, " --bind ", dk__j_str(set, "bind", NULL), "");
    int k = 0;
    cJSON_ArrayForEach(c, (cJSON_IsArray(J(set, "counters")) ? J(set, "counters") : NULL))
        wrap(h, k++ ? "," : " --counters ", cJSON_IsString(c) ? c->valuestring : "?", "");
    dk__html_raw(h, " -o RESULT.json</code></p>\n");
}

static void end_to_end(dk_html *h, const cJSON *variants)
{
    static const char *const hd[] = {"variant", "median ms", "p10 ms", "p90 ms", "CV", "95% CI ms",
                                     "node median sum ms", "instrumentation overhead", "GFLOP/s"};
    const cJSON *v;
    dk__html_raw(h, "<h3>End to end</h3>\n");
    dk__html_table_begin(h, "sortable", hd, 9);
    cJSON_ArrayForEach(v, variants) {
        const cJSON *st = J(J(v, "end_to_end"), "stats"), *ci = J(st, "ci95");
        double med = dk__j_num(st, "median", NAN);
        dk__html_row_begin(h, NULL, NULL);
        dk__html_td_text(h, dk__j_str(v, "name", "?"));
        dk__html_td_num(h, med * 1e3, 4);
        dk__html_td_num(h, dk__j_num(st, "p10", NAN) * 1e3, 4);
        dk__html_td_num(h, dk__j_num(st, "p90", NAN) * 1e3, 4);
        dk__html_td_num(h, dk__j_num(st, "cv", NAN), 3);
        dk__html_raw(h, "<td class=\"n\">");
        dk__html_num(h, cJSON_IsArray(ci) && cJSON_IsNumber(ci->child) ? ci->child->valuedouble * 1e3 : NAN, 4);
        dk__html_raw(h, " – ");
        dk__html_num(h, cJSON_IsArray(ci) && cJSON_IsNumber(cJSON_GetArrayItem(ci, 1))
                            ? cJSON_GetArrayItem(ci, 1)->valuedouble * 1e3 : NAN, 4);
        dk__html_raw(h, " <span class=\"muted\">(");
        dk__html_num(h, dk__j_num(st, "ci_level", NAN) * 100, 4);
        dk__html_raw(h, "%)</span></td>");
        dk__html_td_num(h, dk__j_num(v, "node_median_sum_s", NAN) * 1e3, 4);
        dk__html_td_num(h, dk__j_num(v, "instrumentation_overhead", NAN), 3);
        dk__html_td_num(h, dk__j_num(v, "flops", NAN) / med / 1e9, 4);
        dk__html_row_end(h);
    }
    dk__html_table_end(h);
}

static int by_time_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int by_index(const void *a, const void *b)
{
    double x = ((const double *)a)[1], y = ((const double *)b)[1];
    return x < y ? -1 : x > y;
}

static void legend(dk_plot *p, const char **vn, int nv)
{
    char cls[8];
    for (int v = 0; v < nv; v++) {
        snprintf(cls, sizeof cls, "p%d", v % 8);
        dk__plot_legend(p, v, cls, vn[v]);
    }
}

/* Bars of the median per node and variant, whiskers p10-p90; on a log axis,
 * so that small nodes stay visible beside the large ones. */
static void time_bars(dk_html *h, const nodes *m, const char **vn, const char *pre)
{
    int nb = m->nu, nv = m->nv;
    double *pick = malloc(sizeof *pick * 2 * (size_t)(nb + 1)); /* {slowest median, row} */
    if (!pick) {
        h->oom = 1;
        return;
    }
    for (int u = 0; u < nb; u++) {
        pick[2 * u] = -1;
        pick[2 * u + 1] = u;
        for (int v = 0; v < nv; v++) pick[2 * u] = fmax(pick[2 * u], tstat(m->at[u * nv + v], "median"));
    }
    if (nb > BAR_NODES_MAX) { /* the slowest, shown in execution order */
        qsort(pick, (size_t)nb, 2 * sizeof *pick, by_time_desc);
        nb = BAR_NODES_TOP;
        qsort(pick, (size_t)nb, 2 * sizeof *pick, by_index);
    }
    dk_axis x = {0, nb + 1, 0, nb < m->nu ? "node (the slowest, in execution order)" : "node (execution order)"};
    dk_axis y = {NAN, NAN, 1, "ms (median, whisker p10–p90)"};
    for (int i = 0; i < nb * nv; i++) {
        const cJSON *n = m->at[(int)pick[2 * (i / nv) + 1] * nv + i % nv];
        dk__axis_include(&y, tstat(n, "p10") * 1e3);
        dk__axis_include(&y, tstat(n, "p90") * 1e3);
        dk__axis_include(&y, tstat(n, "median") * 1e3);
    }
    dk__axis_include(&y, y.hi * 4); /* room for the legend */
    dk_plot p;
    char cls[8], t[1024];
    dk__plot_begin(&p, h, "Time per node", 1200, 380, x, y);
    for (int i = 0; i < nb * nv; i++) {
        int v = i % nv;
        const cJSON *n = m->at[(int)pick[2 * (i / nv) + 1] * nv + v];
        double med = tstat(n, "median") * 1e3, lo = tstat(n, "p10") * 1e3, hi = tstat(n, "p90") * 1e3;
        double w = 0.8 / nv, x0 = i / nv + 1 - 0.4 + v * w;
        if (!n || !(med > 0)) continue;
        snprintf(t, sizeof t, "%s — %s — %s: median %.4g ms (p10 %.4g, p90 %.4g)", name_of(n), desc_of(n), vn[v],
                 med, lo, hi);
        snprintf(cls, sizeof cls, "p%d", v % 8);
        dk__html_raw(h, "<a href=\"#"); /* the bar links to its table row */
        dk__html_id(h, pre, name_of(n));
        dk__html_raw(h, "\">");
        dk__plot_rect(&p, x0, 0, x0 + w, med, cls, t);
        dk__html_raw(h, "</a>");
        dk__plot_vsegment(&p, x0 + w / 2, lo, hi, "whisker");
    }
    legend(&p, vn, nv);
    dk__plot_end(&p);
    if (nb < m->nu)
        dk__html_printf(h, "<p class=\"note\">The %d slowest of %d nodes; the table below lists all.</p>\n", nb, m->nu);
    free(pick);
}

/* The roof at intensity I is min(peak, bandwidth x I); 0 when none */
static int roof(const cJSON *variant, double *peak, double *bw)
{
    const cJSON *r = J(variant, "roofline");
    *peak = dk__j_num(r, "peak_gflops", NAN);
    *bw = dk__j_num(r, "bandwidth_gbs", NAN);
    return *peak > 0 && *bw > 0 && isfinite(*peak) && isfinite(*bw);
}

/* Arithmetic intensity against attained GFLOP/s, one point per node and
 * variant, under each variant's roof. */
static void roofline(dk_html *h, const nodes *m, const cJSON *variants, const char **vn, const char *pre,
                     const char *note)
{
    int nv = m->nv, skipped = 0, points = 0, roofs = 0, iv = 0;
    double pk, bw;
    const cJSON *v;
    dk_axis x = {NAN, NAN, 1, "arithmetic intensity (FLOP/byte)"}, y = {NAN, NAN, 1, "attained GFLOP/s"};
    for (int i = 0; i < m->nu * nv; i++) {
        double f = dk__j_num(m->at[i], "flops", 0), b = dk__j_num(m->at[i], "bytes", 0);
        skipped += m->at[i] && !(f > 0 && b > 0);
        if (m->at[i] && f > 0 && b > 0) {
            dk__axis_include(&x, f / b);
            dk__axis_include(&y, gflops_of(m->at[i]));
        }
    }
    cJSON_ArrayForEach(v, variants) if (roof(v, &pk, &bw)) {
        dk__axis_include(&y, pk);
        dk__axis_include(&x, pk / bw);
    }
    dk__axis_include(&y, y.hi * 4);
    dk_plot p;
    char cls[8], t[1024];
    dk__plot_begin(&p, h, "Roofline: attained GFLOP/s per node", 1200, 440, x, y);
    cJSON_ArrayForEach(v, variants) {
        if (roof(v, &pk, &bw)) {
            double xs[3] = {p.x.lo, pk / bw, p.x.hi}, ys[3] = {fmin(pk, bw * p.x.lo), pk, pk};
            dk__plot_polyline(&p, xs, ys, 3, roofs % 2 ? "l1" : "l0");
            snprintf(t, sizeof t, "%s: %.4g GFLOP/s, %.4g GB/s", vn[iv], pk, bw);
            dk__plot_text(&p, pk / bw, pk, NULL, t);
            roofs++;
        }
        iv++;
    }
    for (int i = 0; i < m->nu * nv; i++) {
        const cJSON *n = m->at[i];
        double f = dk__j_num(n, "flops", 0), b = dk__j_num(n, "bytes", 0), g = gflops_of(n);
        double of = dk__j_num(J(n, "attainment"), "of_roof", NAN);
        if (!n || !(f > 0 && b > 0) || !dk__plot_in(&p, f / b, g)) continue;
        char ofs[40] = "";
        if (isfinite(of)) snprintf(ofs, sizeof ofs, ", %.3g%% of roof", of * 100);
        snprintf(t, sizeof t, "%s — %s — %s: %.4g FLOP/B, %.4g GFLOP/s%s", name_of(n), desc_of(n), vn[i % nv], f / b,
                 g, ofs);
        snprintf(cls, sizeof cls, "p%d", i % nv % 8);
        dk__plot_point(&p, f / b, g, 3, cls, t, pre, name_of(n));
        points++;
    }
    legend(&p, vn, nv);
    dk__plot_end(&p);
    dk__html_printf(h, "<p class=\"note\">%d points", points);
    if (skipped) dk__html_printf(h, "; %d node measurements without FLOPs or bytes counted are left out", skipped);
    dk__html_raw(h, roofs ? ". Roofs (lines) from " : ". No roofline cached for this thread count (run deltakern roofline)");
    iv = roofs = 0;
    cJSON_ArrayForEach(v, variants) {
        if (roof(v, &pk, &bw)) {
            wrap(h, roofs++ ? "; " : "", vn[iv], ": ");
            dk__html_text(h, dk__j_str(J(v, "roofline"), "source", "unknown source"));
        }
        iv++;
    }
    if (roofs < nv && note && *note) wrap(h, ". ", note, "");
    dk__html_raw(h, ".</p>\n");
}

/* One row per node; per variant its times, throughput, attainment and the
 * counters' medians where they were measured. */
static void node_table(dk_html *h, const nodes *m, const char **vn, const char *pre)
{
    int nv = m->nv, nc = 0, k = 3, *att = calloc((size_t)nv, sizeof *att);
    const char *cn[COUNTERS_MAX];
    for (int i = 0; i < m->nu * nv && att; i++) {
        const cJSON *c, *ctr = J(m->at[i], "counters");
        att[i % nv] |= cJSON_IsObject(J(m->at[i], "attainment"));
        cJSON_ArrayForEach(c, (cJSON_IsObject(ctr) ? ctr : NULL)) {
            int j = 0;
            while (j < nc && strcmp(cn[j], c->string)) j++;
            if (j == nc && nc < COUNTERS_MAX) cn[nc++] = c->string;
        }
    }
    /* the columns depend on the variants and the counters measured */
    int nh = 3 + nv * (3 + nc);
    char(*text)[128] = malloc(sizeof *text * (size_t)nh);
    const char **hd = malloc(sizeof *hd * (size_t)nh);
    if (!att || !text || !hd) {
        h->oom = 1;
        free(att), free(text), free(hd);
        return;
    }
    strcpy(text[0], "#");
    strcpy(text[1], "node");
    strcpy(text[2], "op / desc, shape in → out");
    for (int v = 0; v < nv; v++) {
        snprintf(text[k++], sizeof *text, "%s median ms (p10–p90)", vn[v]);
        snprintf(text[k++], sizeof *text, "%s GFLOP/s", vn[v]);
        if (att[v]) snprintf(text[k++], sizeof *text, "%s %% of roof", vn[v]);
        for (int c = 0; c < nc; c++) snprintf(text[k++], sizeof *text, "%s %s", vn[v], cn[c]);
    }
    for (int i = 0; i < k; i++) hd[i] = text[i];
    dk__html_raw(h, "<h3>Nodes</h3>\n");
    dk__html_table_begin(h, "sortable", hd, k);
    for (int u = 0; u < m->nu; u++) {
        const cJSON *r = m->rep[u];
        dk__html_row_begin(h, pre, name_of(r));
        dk__html_td_num(h, u + 1, 10);
        /* long names must not squeeze into a letter-wide column beside many numbers */
        wrap(h, "<td class=\"mono\" style=\"min-width:16em\">", name_of(r), "</td>");
        wrap(h, "<td style=\"min-width:12em\">", desc_of(r), "<br><span class=\"mono muted\">");
        wrap(h, "", dk__j_str(r, "input_shape", "-"), " → ");
        wrap(h, "", dk__j_str(r, "shape", "-"), "</span></td>");
        for (int v = 0; v < nv; v++) {
            const cJSON *n = m->at[u * nv + v]; /* NULL: not in this variant (fused away) */
            double med = tstat(n, "median") * 1e3;
            dk__html_printf(h, "<td class=\"n\" data-sort=\"%.17g\">", isfinite(med) ? med : 1e308);
            dk__html_num(h, med, 4);
            if (n) {
                dk__html_raw(h, " <span class=\"muted\">(");
                dk__html_num(h, tstat(n, "p10") * 1e3, 3);
                dk__html_raw(h, "–");
                dk__html_num(h, tstat(n, "p90") * 1e3, 3);
                dk__html_raw(h, ")</span>");
            }
            dk__html_raw(h, "</td>");
            dk__html_td_num(h, n ? gflops_of(n) : NAN, 4);
            if (att[v]) dk__html_td_num(h, dk__j_num(J(n, "attainment"), "of_roof", NAN) * 100, 3);
            for (int c = 0; c < nc; c++) dk__html_td_num(h, dk__j_num(J(J(n, "counters"), cn[c]), "median", NAN), 6);
        }
        dk__html_row_end(h);
    }
    dk__html_table_end(h);
    free(att), free(text), free(hd);
}

dk_status dk__report_bench(dk_html *h, const cJSON *root, const char *path, const dk_report_ctx *ctx)
{
    const cJSON *variants = J(root, "variants"), *v;
    if (!cJSON_IsArray(variants) || cJSON_GetArraySize(variants) < 1)
        return dk__error(DK_ERR_FORMAT, "report: %s: \"variants\" is not a non-empty array", path);
    int nv = 0;
    cJSON_ArrayForEach(v, variants) {
        if (!cJSON_IsArray(J(v, "nodes")))
            return dk__error(DK_ERR_FORMAT, "report: %s: variant %d is not an object with a \"nodes\" array", path, nv);
        nv++;
    }
    nodes m = {.nv = nv};
    const char **vn = malloc(sizeof *vn * (size_t)nv);
    if (!vn || !match(&m, variants)) {
        free(vn), free(m.at), free(m.rep), free(m.slot);
        return dk__error(DK_ERR_NOMEM, "report: out of memory");
    }
    nv = 0;
    cJSON_ArrayForEach(v, variants) vn[nv++] = dk__j_str(v, "name", "?");
    char pre[24]; /* row ids unique in the page: several results may show the same nodes */
    snprintf(pre, sizeof pre, "b%d", h->next_id++);
    header(h, root, variants, path, ctx);
    end_to_end(h, variants);
    dk__report_bench_ranks(h, root);
    if (m.nu) {
        time_bars(h, &m, vn, pre);
        roofline(h, &m, variants, vn, pre, dk__j_str(root, "roofline_note", ""));
        node_table(h, &m, vn, pre);
    } else {
        dk__html_raw(h, "<p class=\"note\">No nodes were measured.</p>\n");
    }
    free(vn), free(m.at), free(m.rep), free(m.slot);
    return DK_OK;
}
