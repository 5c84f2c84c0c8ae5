/* The diff section: the run and its environment, the dataset table, the
 * verdicts per variant, a plot per variant of per-node error against depth,
 * the flips with thumbnails and both top-5s, and the per-node table. Read
 * from the OUTDIR's summary.json, layers.csv, state.jsonl and
 * environment.json (docs/diff.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/report/report_internal.h"
#include "runtime/file.h"

#define JSON_MAX_BYTES (256u << 20)

static dk_status read_json(const char *dir, const char *name, int required, cJSON **out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *out = NULL;
    unsigned char *data;
    size_t size;
    dk_status st = dk__read_regular(path, JSON_MAX_BYTES, 1, &data, &size);
    if (st != DK_OK) return required ? st : DK_OK;
    *out = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return dk__error(DK_ERR_FORMAT, "report: %s: not a JSON object", path);
    }
    return DK_OK;
}

/* The input files, from the first line of state.jsonl (NULL when absent). */
static cJSON *state_inputs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.jsonl", dir);
    FILE *f;
    if (dk__open_regular(path, 1, &f) != DK_OK) {
        dk__error_clear();
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    cJSON *inputs = NULL;
    if (getline(&line, &cap, f) > 0) {
        cJSON *head = cJSON_Parse(line);
        inputs = cJSON_DetachItemFromObjectCaseSensitive(head, "inputs");
        cJSON_Delete(head);
    }
    free(line);
    fclose(f);
    return inputs;
}

/* The first few input files by name, and how many there are in all. */
static void input_names(dk_html *h, const char *dir)
{
    cJSON *inputs = state_inputs(dir);
    const cJSON *e;
    int i = 0, n = cJSON_GetArraySize(inputs);
    cJSON_ArrayForEach(e, inputs) {
        if (!cJSON_IsString(e)) continue;
        if (i == 8) {
            dk__html_printf(h, ", ... (%d more)", n - i);
            break;
        }
        dk__html_raw(h, i++ ? ", " : " <span class=\"mono\">");
        dk__html_text(h, e->valuestring);
    }
    if (i) dk__html_raw(h, "</span>");
    cJSON_Delete(inputs);
}

static void header(dk_html *h, const cJSON *sum, const cJSON *env, const char *dir, const dk_report_ctx *ctx)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(sum, "run");
    dk__html_raw(h, "<h2>diff: ");
    dk__html_text(h, dk__j_str(run, "model", "?"));
    dk__html_raw(h, "</h2>\n<div class=\"scroll\"><table class=\"kv\">");
    const char *keys[][2] = {{"model", "model"}, {"model_hash", "model hash"}, {"baseline", "baseline"},
                             {"against", "baseline bundle"}, {"labels", "labels"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = dk__j_str(run, keys[i][0], NULL);
        if (!v) continue;
        dk__html_printf(h, "<tr><th>%s</th><td class=\"mono\">", keys[i][1]);
        dk__html_text(h, v);
        dk__html_raw(h, "</td></tr>");
    }
    dk__html_raw(h, "<tr><th>variants</th><td class=\"mono\">");
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(run, "variants")) {
        if (!cJSON_IsString(v)) continue;
        dk__html_text(h, v->valuestring);
        dk__html_raw(h, "<br>");
    }
    dk__html_printf(h, "</td></tr><tr><th>inputs</th><td>%.0f", dk__j_num(sum, "images", 0));
    input_names(h, dir);
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sum, "complete")))
        dk__html_raw(h, " <span class=\"verdict-bad\">(interrupted: continue with --resume)</span>");
    dk__html_raw(h, "</td></tr><tr><th>result</th><td class=\"mono\">");
    dk__html_text(h, dir);
    dk__html_raw(h, "</td></tr>");
    const char *cmd = dk__j_str(env, "command", ctx->command);
    if (cmd) {
        dk__html_raw(h, "<tr><th>command</th><td><code>");
        dk__html_text(h, cmd);
        dk__html_raw(h, "</code>");
        const char *cwd = dk__j_str(env, "cwd", NULL);
        if (cwd) {
            dk__html_raw(h, " <span class=\"muted\">in ");
            dk__html_text(h, cwd);
            dk__html_raw(h, "</span>");
        }
        dk__html_raw(h, "</td></tr>");
    }
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(run, "notes")) {
        if (!cJSON_IsString(v)) continue;
        dk__html_raw(h, "<tr><th>note</th><td>");
        dk__html_text(h, v->valuestring);
        dk__html_raw(h, "</td></tr>");
    }
    dk__html_raw(h, "</table></div>\n");
    if (env) dk__report_environment(h, cJSON_GetObjectItemCaseSensitive(env, "environment"),
                                    cJSON_GetObjectItemCaseSensitive(env, "topology"));
    else dk__html_raw(h, "<p class=\"note\">This result records no environment (written before "
                         "environment.json existed).</p>\n");
}

static void dataset(dk_html *h, const cJSON *sum)
{
    dk__html_raw(h, "<h3>Labels across the data set</h3>\n");
    static const char *const cols[] = {"a", "b", "inputs", "label differences", "%", "mean top-5 overlap",
                                       "mean Kendall τ", "a accuracy %", "b accuracy %"};
    dk__html_table_begin(h, "sortable", cols, 9);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sum, "pairs")) {
        dk__html_row_begin(h, NULL, NULL);
        dk__html_td_text(h, dk__j_str(p, "a", "?"));
        dk__html_td_text(h, dk__j_str(p, "b", "?"));
        dk__html_td_num(h, dk__j_num(p, "images", NAN), 8);
        dk__html_td_num(h, dk__j_num(p, "label_differences", NAN), 8);
        dk__html_td_num(h, dk__j_num(p, "label_differences_pct", NAN), 4);
        dk__html_td_num(h, dk__j_num(p, "mean_top5_overlap", NAN), 4);
        dk__html_td_num(h, dk__j_num(p, "mean_kendall_tau", NAN), 4);
        dk__html_td_num(h, dk__j_num(p, "a_accuracy_pct", NAN), 4);
        dk__html_td_num(h, dk__j_num(p, "b_accuracy_pct", NAN), 4);
        dk__html_row_end(h);
    }
    dk__html_table_end(h);
    dk__html_raw(h, "<h3>Verdicts per variant</h3>\n");
    static const char *const vcols[] = {"variant", "flips", "faulty kernel", "nondeterministic", "non-finite",
                                        "tiny margin", "sensitive node", "amplified rounding", "most blamed"};
    dk__html_table_begin(h, "sortable", vcols, 9);
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sum, "variants")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "flip_causes");
        int bad = dk__j_num(p, "faulty_kernel_images", 0) > 0 || dk__j_num(p, "nondeterministic_images", 0) > 0 ||
                  dk__j_num(p, "nonfinite_images", 0) > 0;
        dk__html_raw(h, bad ? "<tr class=\"bad\">" : "<tr>");
        dk__html_td_text(h, dk__j_str(p, "variant", "?"));
        dk__html_td_num(h, dk__j_num(p, "flips", NAN), 8);
        dk__html_td_num(h, dk__j_num(p, "faulty_kernel_images", NAN), 8);
        dk__html_td_num(h, dk__j_num(p, "nondeterministic_images", NAN), 8);
        dk__html_td_num(h, dk__j_num(p, "nonfinite_images", NAN), 8);
        dk__html_td_num(h, dk__j_num(c, "tiny_margin", NAN), 8);
        dk__html_td_num(h, dk__j_num(c, "sensitive_node", NAN), 8);
        dk__html_td_num(h, dk__j_num(c, "amplified_rounding", NAN), 8);
        dk__html_raw(h, "<td class=\"mono\">");
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(p, "most_blamed")) {
            dk__html_text(h, dk__j_str(m, "node", "?"));
            dk__html_printf(h, " (%.0f) ", dk__j_num(m, "first_faulty", 0) + dk__j_num(m, "blamed_for_flips", 0));
        }
        dk__html_raw(h, "</td></tr>\n");
    }
    dk__html_table_end(h);
}

/* One plot per variant: isolated ratio to bound (points) and propagated
 * relative L2 (line) against the node's position, the bound at ratio 1, the
 * first faulty kernels and the three largest amplifiers marked. */
static void variant_plot(dk_html *h, const dk_csv *c, const char *variant, const char *prefix)
{
    int cv = dk__csv_col(c, "variant"), cn = dk__csv_col(c, "node"), co = dk__csv_col(c, "op");
    int ciso = dk__csv_col(c, "iso_ratio_max"), cprop = dk__csv_col(c, "prop_rel_l2_max");
    int camp = dk__csv_col(c, "amplification_mean"), cff = dk__csv_col(c, "first_faulty");
    int n = 0;
    for (int r = 0; r < c->n_rows; r++) n += !strcmp(dk__csv_get(c, r, cv), variant);
    if (!n) return;
    double *xs = malloc(sizeof *xs * (size_t)n * 3);
    int *rows = malloc(sizeof *rows * (size_t)n);
    if (!xs || !rows) {
        free(xs);
        free(rows);
        h->oom = 1;
        return;
    }
    double *iso = xs + n, *prop = xs + 2 * n;
    for (int r = 0, k = 0; r < c->n_rows; r++) {
        if (strcmp(dk__csv_get(c, r, cv), variant)) continue;
        rows[k] = r;
        xs[k] = k + 1;
        iso[k] = dk__csv_num(c, r, ciso);
        prop[k] = dk__csv_num(c, r, cprop);
        k++;
    }
    dk_axis x = dk__axis_fit(xs, n, 0, "node, in execution order");
    dk_axis y = dk__axis_fit(iso, n, 1, "error (log)");
    for (int k = 0; k < n; k++) dk__axis_include(&y, prop[k]);
    dk__axis_include(&y, 1);
    char title[512];
    snprintf(title, sizeof title, "%s: error per node against depth", variant);
    dk_plot p;
    dk__plot_begin(&p, h, title, 1200, 340, x, y);
    dk__plot_hline(&p, 1, "bound", "tolerance bound (ratio 1)");
    dk__plot_polyline(&p, xs, prop, n, "l1");
    /* the three largest amplifiers, by their mean amplification */
    int top[3] = {-1, -1, -1};
    for (int k = 0; k < n; k++) {
        double a = dk__csv_num(c, rows[k], camp);
        if (!(a > 1)) continue;
        for (int t = 0; t < 3; t++) {
            if (top[t] < 0 || a > dk__csv_num(c, rows[top[t]], camp)) {
                memmove(top + t + 1, top + t, sizeof *top * (size_t)(2 - t));
                top[t] = k;
                break;
            }
        }
    }
    char tip[1024];
    for (int k = 0; k < n; k++) {
        const char *node = dk__csv_get(c, rows[k], cn);
        int faulty = dk__csv_num(c, rows[k], cff) > 0;
        snprintf(tip, sizeof tip, "%s (%s)\nisolated ratio to bound %.3g\npropagated rel. L2 %.3g%s", node,
                 dk__csv_get(c, rows[k], co), iso[k], prop[k], faulty ? "\nFIRST FAULTY KERNEL" : "");
        char name[1024];
        snprintf(name, sizeof name, "%s/%s", variant, node);
        dk__plot_point(&p, xs[k], iso[k], faulty ? 5 : 2.6, faulty ? "faulty" : "p0", tip, prefix, name);
        if (faulty) dk__plot_text(&p, xs[k], iso[k], NULL, node);
    }
    /* amplifiers are marked A1..A3 in the plot and named under it: names
     * of neighbouring nodes would overlap */
    for (int t = 0; t < 3 && top[t] >= 0; t++) {
        int k = top[t];
        char label[600];
        snprintf(label, sizeof label, "A%d: amplifies ×%.3g: %s", t + 1, dk__csv_num(c, rows[k], camp),
                 dk__csv_get(c, rows[k], cn));
        dk__plot_point(&p, xs[k], prop[k], 5, "amp", label, NULL, NULL);
        snprintf(label, sizeof label, "A%d", t + 1);
        dk__plot_text(&p, xs[k], prop[k], NULL, label);
    }
    dk__plot_legend(&p, 0, "p0", "isolated: ratio to bound (max over inputs)");
    dk__plot_legend(&p, 1, "p1", "propagated: relative L2 (max)");
    dk__plot_legend(&p, 2, "faulty", "first faulty kernel");
    dk__plot_end(&p);
    if (top[0] >= 0) {
        dk__html_raw(h, "<p class=\"note\">Largest amplifiers (mean growth of the propagated error across the "
                        "node):");
        for (int t = 0; t < 3 && top[t] >= 0; t++) {
            char name[1024];
            snprintf(name, sizeof name, "%s/%s", variant, dk__csv_get(c, rows[top[t]], cn));
            dk__html_printf(h, " A%d ×%.3g <a class=\"mono\" href=\"#", t + 1, dk__csv_num(c, rows[top[t]], camp));
            dk__html_id(h, prefix, name);
            dk__html_raw(h, "\">");
            dk__html_text(h, dk__csv_get(c, rows[top[t]], cn));
            dk__html_raw(h, "</a>;");
        }
        dk__html_raw(h, "</p>\n");
    }
    free(xs);
    free(rows);
}

static void layers_table(dk_html *h, const dk_csv *c, const char *prefix)
{
    static const char *const cols[] = {"variant", "node", "op", "shape", "covers", "isolated ratio max",
                                       "isolated ratio mean", "over bound", "propagated rel. L2 max",
                                       "amplification", "first faulty", "blamed for flips"};
    static const char *const keys[] = {"iso_ratio_max", "iso_ratio_mean", "over_bound", "prop_rel_l2_max",
                                       "amplification_mean", "first_faulty", "blamed_for_flips"};
    int cv = dk__csv_col(c, "variant"), cn = dk__csv_col(c, "node");
    int ct[3] = {dk__csv_col(c, "op"), dk__csv_col(c, "shape"), dk__csv_col(c, "covers")};
    dk__html_table_begin(h, "sortable", cols, 12);
    char name[1024];
    for (int r = 0; r < c->n_rows; r++) {
        snprintf(name, sizeof name, "%s/%s", dk__csv_get(c, r, cv), dk__csv_get(c, r, cn));
        dk__html_row_begin(h, prefix, name);
        dk__html_td_text(h, dk__csv_get(c, r, cv));
        dk__html_raw(h, "<td class=\"mono\">");
        dk__html_text(h, dk__csv_get(c, r, cn));
        dk__html_raw(h, "</td>");
        for (int i = 0; i < 3; i++) dk__html_td_text(h, dk__csv_get(c, r, ct[i]));
        for (int i = 0; i < 7; i++) dk__html_td_num(h, dk__csv_num(c, r, dk__csv_col(c, keys[i])), 4);
        dk__html_row_end(h);
    }
    dk__html_table_end(h);
}

dk_status dk__report_diff(dk_html *h, const char *dir, const dk_report_ctx *ctx)
{
    cJSON *sum = NULL, *env = NULL;
    dk_csv layers = {0};
    char path[4096];
    dk_status st = read_json(dir, "summary.json", 1, &sum);
    const char *schema = st == DK_OK ? dk__j_str(sum, "schema", "") : "";
    if (st == DK_OK && strcmp(schema, "deltakern-diff-summary/1"))
        st = dk__error(DK_ERR_FORMAT, "report: %s/summary.json: schema \"%s\", not deltakern-diff-summary/1", dir,
                       schema);
    if (st == DK_OK && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(sum, "pairs")))
        st = dk__error(DK_ERR_FORMAT, "report: %s/summary.json: no \"pairs\" array", dir);
    if (st == DK_OK) st = read_json(dir, "environment.json", 0, &env);
    snprintf(path, sizeof path, "%s/layers.csv", dir);
    if (st == DK_OK) st = dk__csv_read(path, &layers);
    if (st == DK_OK && (dk__csv_col(&layers, "variant") < 0 || dk__csv_col(&layers, "node") < 0))
        st = dk__error(DK_ERR_FORMAT, "report: %s: no variant or node column", path);
    if (st == DK_OK) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "d%d", h->next_id++);
        header(h, sum, env, dir, ctx);
        dataset(h, sum);
        dk__html_raw(h, "<h3>Error per node against depth</h3><p class=\"note\">Per variant: the isolated "
                        "error of each node (run on the baseline's inputs) as a ratio to its tolerance bound, "
                        "and the propagated relative L2 error (the variant on its own outputs), both the "
                        "largest over the inputs. Points above the dashed line are over their bound; a red "
                        "point is a first faulty kernel. Each point links to its row below.</p>\n");
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sum, "run"),
                                                               "variants"))
            if (cJSON_IsString(v)) variant_plot(h, &layers, v->valuestring, prefix);
        st = dk__report_diff_flips(h, dir, sum, env, prefix);
        if (st == DK_OK) {
            dk__html_raw(h, "<h3>Per node</h3>\n");
            layers_table(h, &layers, prefix);
        }
    }
    dk__csv_free(&layers);
    cJSON_Delete(env);
    cJSON_Delete(sum);
    return st;
}
