/* The compare section: the story, the options and verdict, a waterfall from
 * the base's end to end to the candidate's by node, and the regression table
 * that the waterfall's bars link to. Every JSON access tolerates anything. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/report/report_internal.h"

#define WATERFALL_TOP 25 /* nodes with a bar of their own; the rest share one */

static const cJSON *J(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static double delta_of(const cJSON *n)
{
    double d = dk__j_num(n, "delta_s", NAN);
    if (!isfinite(d)) d = dk__j_num(n, "cand_median_s", NAN) - dk__j_num(n, "base_median_s", NAN);
    return isfinite(d) ? d : 0;
}

static const char *desc_of(const cJSON *n)
{
    const char *d = dk__j_str(n, "desc", "");
    return *d ? d : dk__j_str(n, "op", "-");
}

typedef struct bar {
    double d;
    const cJSON *n;
} bar;

static int by_size(const void *a, const void *b)
{
    double x = fabs(((const bar *)a)->d), y = fabs(((const bar *)b)->d);
    return x < y ? 1 : x > y ? -1 : 0;
}

static void summary(dk_html *h, const cJSON *root, const char *path)
{
    const cJSON *o = J(root, "options"), *e = J(root, "end_to_end");
    dk__html_raw(h, "<h2>compare: ");
    dk__html_text(h, dk__j_str(root, "base", "?"));
    dk__html_raw(h, " (");
    dk__html_text(h, dk__j_str(root, "base_variant", "?"));
    dk__html_raw(h, ") → ");
    dk__html_text(h, dk__j_str(root, "cand", "?"));
    dk__html_raw(h, " (");
    dk__html_text(h, dk__j_str(root, "cand_variant", "?"));
    dk__html_raw(h, ")</h2>\n<p class=\"story\">");
    dk__html_text(h, dk__j_str(root, "story", "(no story recorded)"));
    double nreg = dk__j_num(root, "regressions", NAN);
    dk__html_printf(h, "</p>\n<div class=\"scroll\"><table class=\"kv\"><tbody>\n<tr><th>verdict</th><td class=\"%s\">",
                    nreg > 0 ? "verdict-bad" : "verdict-ok");
    dk__html_num(h, nreg, 10);
    dk__html_printf(h, " regression%s</td></tr>\n<tr><th>result</th><td class=\"mono\">", nreg == 1 ? "" : "s");
    dk__html_text(h, path);
    dk__html_raw(h, "</td></tr>\n<tr><th>host load</th><td>base ");
    dk__report_host_load(h, J(root, "base_host_load"));
    dk__html_raw(h, "<br>candidate ");
    dk__report_host_load(h, J(root, "cand_host_load"));
    dk__html_raw(h, "</td></tr>\n<tr><th>options</th><td>threshold ");
    dk__html_num(h, dk__j_num(o, "threshold", NAN) * 100, 4);
    dk__html_raw(h, "%, alpha ");
    dk__html_num(h, dk__j_num(o, "alpha", NAN), 4);
    dk__html_raw(h, ", min share ");
    dk__html_num(h, dk__j_num(o, "min_share", NAN) * 100, 4);
    dk__html_printf(h, "%%, end to end %s</td></tr>\n<tr><th>common factor</th><td>",
                    cJSON_IsTrue(J(o, "gate_end_to_end")) ? "gated" : "not gated");
    dk__html_num(h, dk__j_num(root, "common_factor", NAN), 4);
    dk__html_raw(h, "× <span class=\"muted\">(median node ratio weighted by base time)</span></td></tr>\n"
                    "<tr><th>end to end</th><td>");
    dk__html_num(h, dk__j_num(e, "base_median_s", NAN) * 1e3, 5);
    dk__html_raw(h, " → ");
    dk__html_num(h, dk__j_num(e, "cand_median_s", NAN) * 1e3, 5);
    dk__html_raw(h, " ms, ratio ");
    dk__html_num(h, dk__j_num(e, "ratio", NAN), 4);
    dk__html_raw(h, "×, p ");
    dk__html_num(h, dk__j_num(e, "p", NAN), 3);
    dk__html_raw(h, "</td></tr>\n</tbody></table></div>\n");
}

/* Bars from the running total to the running total plus each change,
 * largest first, so that the chart ends where the candidate's end to end is.
 * The node deltas only explain the change in node time: the remainder
 * (between nodes, load) gets a bar of its own. */
static void waterfall(dk_html *h, const cJSON *root, const bar *b, int nb, const char *pre)
{
    const cJSON *e = J(root, "end_to_end");
    double base = dk__j_num(e, "base_median_s", NAN), cand = dk__j_num(e, "cand_median_s", NAN), nodes = 0;
    for (int i = 0; i < nb; i++) nodes += b[i].d;
    int own = nb < WATERFALL_TOP + 1 ? nb : WATERFALL_TOP; /* "other 1 node" would be silly */
    const char *what = "end to end";
    if (!isfinite(base) || !isfinite(cand)) { /* fall back to node time */
        base = cand = 0;
        for (int i = 0; i < nb; i++) {
            base += dk__j_num(b[i].n, "base_median_s", 0);
            cand += dk__j_num(b[i].n, "cand_median_s", 0);
        }
        what = "node time";
    }
    double other = 0, unexplained = cand - base - nodes, run = base;
    for (int i = own; i < nb; i++) other += b[i].d;
    int nbar = own + 4;
    dk_axis x = {0, nbar - 1 + 0.5, 0, "base, the largest node changes, other nodes, unexplained, candidate"};
    dk_axis y = {NAN, NAN, 0, "ms"};
    dk__axis_include(&y, base * 1e3);
    for (int i = 0; i < nb; i++) {
        run += b[i].d;
        dk__axis_include(&y, run * 1e3);
    }
    dk__axis_include(&y, cand * 1e3);
    dk__axis_include(&y, y.hi + (y.hi - y.lo) * 0.15); /* room for the legend */
    dk_plot p;
    char t[1024];
    dk__plot_begin(&p, h, "Waterfall: where the end-to-end change comes from (ms)", 1200, 380, x, y);
    snprintf(t, sizeof t, "base %s: %.5g ms", what, base * 1e3);
    dk__plot_rect(&p, 0.65, 0, 1.35, base * 1e3, "net", t);
    dk__plot_text(&p, 0.6, base * 1e3, NULL, "base");
    run = base;
    for (int i = 0; i < own; i++) {
        const cJSON *n = b[i].n;
        snprintf(t, sizeof t, "%s — %s: %+.4g ms (%.4g → %.4g ms), %.3g× , share %+.3g%%", dk__j_str(n, "name", "?"),
                 desc_of(n), b[i].d * 1e3, dk__j_num(n, "base_median_s", NAN) * 1e3,
                 dk__j_num(n, "cand_median_s", NAN) * 1e3, dk__j_num(n, "ratio", NAN),
                 dk__j_num(n, "share", NAN) * 100);
        dk__html_raw(h, "<a href=\"#");
        dk__html_id(h, pre, dk__j_str(n, "name", ""));
        dk__html_raw(h, "\">");
        dk__plot_rect(&p, i + 1.65, run * 1e3, i + 2.35, (run + b[i].d) * 1e3, b[i].d > 0 ? "up" : "down", t);
        dk__html_raw(h, "</a>");
        run += b[i].d;
    }
    snprintf(t, sizeof t, "other %d nodes: %+.4g ms", nb - own, other * 1e3);
    dk__plot_rect(&p, own + 1.65, run * 1e3, own + 2.35, (run + other) * 1e3, other > 0 ? "up" : "down", t);
    snprintf(t, sizeof t, "other %d", nb - own);
    if (nb > own) dk__plot_text(&p, own + 1.6, fmax(run, run + other) * 1e3, NULL, t);
    run += other;
    snprintf(t, sizeof t, "unexplained (between nodes / load): %+.4g ms", unexplained * 1e3);
    dk__plot_rect(&p, own + 2.65, run * 1e3, own + 3.35, (run + unexplained) * 1e3, unexplained > 0 ? "up" : "down",
                  t);
    snprintf(t, sizeof t, "candidate %s: %.5g ms", what, cand * 1e3);
    dk__plot_rect(&p, own + 3.65, 0, own + 4.35, cand * 1e3, "net", t);
    dk__plot_text(&p, own + 3.6, cand * 1e3, NULL, "cand");
    dk__plot_legend(&p, 0, "up", "slower");
    dk__plot_legend(&p, 1, "down", "faster");
    dk__plot_legend(&p, 2, "net", what);
    int cut = p.y.lo > 0; /* the bars are cut at the bottom */
    dk__plot_end(&p);
    dk__html_printf(h, "<p class=\"note\">From the base's %s (left) to the candidate's (right): the %d largest node "
                    "changes, the other %d nodes together, and what the nodes do not explain. The node changes add "
                    "up to the change in node time (", what, own, nb - own);
    dk__html_num(h, nodes * 1e3, 4);
    dk__html_raw(h, " ms); the rest of the change (");
    dk__html_num(h, unexplained * 1e3, 4);
    dk__html_raw(h, cut ? " ms) lies between the nodes or is load. The axis does not start at 0.</p>\n"
                        : " ms) lies between the nodes or is load.</p>\n");
}

static void name_list(dk_html *h, const cJSON *root, const char *key, const char *label)
{
    const cJSON *a = J(root, key), *e;
    int i = 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) return;
    dk__html_printf(h, "<p>%s (%d): ", label, cJSON_GetArraySize(a));
    cJSON_ArrayForEach(e, a) {
        dk__html_raw(h, i++ ? ", <code>" : "<code>");
        dk__html_text(h, cJSON_IsString(e) ? e->valuestring : "?");
        dk__html_raw(h, "</code>");
    }
    dk__html_raw(h, "</p>\n");
}

static void table(dk_html *h, const cJSON *nodes, const char *pre)
{
    static const char *const hd[] = {"node", "op / desc", "base ms", "cand ms", "ratio", "95% CI",
                                     "p (Holm)", "share %", "verdict", "covers"};
    const cJSON *n;
    dk__html_raw(h, "<h3>Nodes, largest contributions first</h3>\n");
    dk__html_table_begin(h, "sortable", hd, 10);
    cJSON_ArrayForEach(n, nodes) {
        const char *ch = dk__j_str(n, "change", "-"), *name = dk__j_str(n, "name", "");
        const cJSON *ci = J(n, "ratio_ci95");
        int bad = !strcmp(ch, "regression");
        /* a regression's row is marked; dk__html_row_begin has no class */
        dk__html_raw(h, bad ? "<tr class=\"bad\" id=\"" : "<tr id=\"");
        dk__html_id(h, pre, name);
        dk__html_raw(h, "\">");
        /* a link to the row itself (a permalink); wide enough not to wrap letter by letter */
        dk__html_raw(h, "<td class=\"mono\" style=\"min-width:16em\"><a href=\"#");
        dk__html_id(h, pre, name);
        dk__html_raw(h, "\">");
        dk__html_text(h, name);
        dk__html_raw(h, "</a></td>");
        dk__html_td_text(h, desc_of(n));
        dk__html_td_num(h, dk__j_num(n, "base_median_s", NAN) * 1e3, 4);
        dk__html_td_num(h, dk__j_num(n, "cand_median_s", NAN) * 1e3, 4);
        dk__html_td_num(h, dk__j_num(n, "ratio", NAN), 4);
        double lo = NAN, hi = NAN;
        if (cJSON_GetArraySize(ci) == 2 && cJSON_IsNumber(ci->child) && cJSON_IsNumber(ci->child->next)) {
            lo = ci->child->valuedouble;
            hi = ci->child->next->valuedouble;
        }
        dk__html_raw(h, "<td class=\"n\">");
        dk__html_num(h, lo, 3);
        dk__html_raw(h, " – ");
        dk__html_num(h, hi, 3);
        dk__html_raw(h, "</td>");
        dk__html_td_num(h, dk__j_num(n, "p_holm", NAN), 3);
        dk__html_td_num(h, dk__j_num(n, "share", NAN) * 100, 3);
        dk__html_printf(h, "<td class=\"%s\">%s</td>", bad ? "verdict-bad" : "",
                        bad ? "REGRESSION" : !strcmp(ch, "slower") ? "slower" : !strcmp(ch, "faster") ? "faster" : "=");
        dk__html_raw(h, "<td class=\"mono\" style=\"min-width:16em\">");
        dk__html_text(h, dk__j_str(n, "covers", ""));
        dk__html_raw(h, "</td>");
        dk__html_row_end(h);
    }
    dk__html_table_end(h);
}

dk_status dk__report_compare(dk_html *h, const cJSON *root, const char *path, const dk_report_ctx *ctx)
{
    (void)ctx; /* a comparison records its inputs; the command adds nothing */
    const cJSON *nodes = J(root, "nodes"), *n;
    if (!cJSON_IsArray(nodes)) return dk__error(DK_ERR_FORMAT, "report: %s: \"nodes\" is not an array", path);
    if (!cJSON_IsObject(J(root, "end_to_end")))
        return dk__error(DK_ERR_FORMAT, "report: %s: \"end_to_end\" is not an object", path);
    int nb = 0;
    bar *b = malloc(sizeof *b * (size_t)(cJSON_GetArraySize(nodes) + 1));
    if (!b) return dk__error(DK_ERR_NOMEM, "report: out of memory");
    cJSON_ArrayForEach(n, nodes) b[nb++] = (bar){delta_of(n), n};
    qsort(b, (size_t)nb, sizeof *b, by_size);
    char pre[24]; /* row ids unique in the page */
    snprintf(pre, sizeof pre, "c%d", h->next_id++);
    summary(h, root, path);
    waterfall(h, root, b, nb, pre);
    table(h, nodes, pre);
    name_list(h, root, "only_in_base", "only in the base");
    name_list(h, root, "only_in_cand", "only in the candidate");
    free(b);
    return DK_OK;
}
