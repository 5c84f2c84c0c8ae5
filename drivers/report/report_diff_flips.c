/* The diff section's flips table: for each flipped input and variant its
 * thumbnail, both top-5s, the margin, the cause and the counterfactual set,
 * read from state.jsonl (the image records, in input order; line 1 names
 * the input files). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/report/report_internal.h"
#include "runtime/file.h"

#define THUMB_SIDE 96
#define MAX_THUMBS 200 /* past this, flips are listed without pictures */
#define MAX_ROWS 5000  /* the page stays openable; summary.json has every flip */

static void int_list(dk_html *h, const cJSON *a)
{
    const cJSON *e;
    int first = 1;
    cJSON_ArrayForEach(e, a) {
        if (cJSON_IsNumber(e)) dk__html_printf(h, "%s%.0f", first ? "" : " ", e->valuedouble);
        else if (cJSON_IsString(e)) {
            dk__html_raw(h, first ? "" : "; ");
            dk__html_text(h, e->valuestring);
        }
        first = 0;
    }
}

/* The input's file as the diff saw it: relative names are relative to the
 * directory diff ran in, when environment.json names it and the file is not
 * found from here. */
static void input_path(char *buf, size_t n, const char *name, const cJSON *env)
{
    const char *cwd = dk__j_str(env, "cwd", NULL);
    snprintf(buf, n, "%s", name);
    if (name[0] != '/' && cwd && access(name, F_OK) != 0) snprintf(buf, n, "%s/%s", cwd, name);
}

static void row(dk_html *h, const cJSON *rec, const cJSON *var, const char *file, int thumb, const char *prefix)
{
    const cJSON *flip = cJSON_GetObjectItemCaseSensitive(var, "flip");
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(flip, "counterfactual");
    const char *cause = dk__j_str(flip, "cause", "?");
    dk__html_raw(h, strcmp(cause, "faulty_kernel") ? "<tr>" : "<tr class=\"bad\">");
    dk__html_raw(h, "<td>");
    if (thumb && file) dk__report_thumbnail(h, file, THUMB_SIDE);
    dk__html_raw(h, "<br><span class=\"mono\">");
    dk__html_text(h, dk__j_str(rec, "image", "?"));
    dk__html_raw(h, "</span></td>");
    dk__html_td_text(h, dk__j_str(var, "variant", "?"));
    dk__html_raw(h, "<td class=\"mono\">");
    int_list(h, cJSON_GetObjectItemCaseSensitive(rec, "baseline_top5"));
    dk__html_raw(h, "</td><td class=\"mono\">");
    int_list(h, cJSON_GetObjectItemCaseSensitive(var, "top5"));
    dk__html_raw(h, "</td>");
    dk__html_td_num(h, dk__j_num(flip, "margin", NAN), 4);
    dk__html_td_text(h, cause);
    dk__html_raw(h, "<td class=\"mono\">");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(flip, "blamed")) {
        if (!cJSON_IsString(e)) continue;
        char name[1024];
        snprintf(name, sizeof name, "%s/%s", dk__j_str(var, "variant", ""), e->valuestring);
        dk__html_raw(h, "<a href=\"#");
        dk__html_id(h, prefix, name);
        dk__html_raw(h, "\">");
        dk__html_text(h, e->valuestring);
        dk__html_raw(h, "</a> ");
    }
    dk__html_raw(h, "</td><td class=\"mono\">");
    if (cf) {
        int_list(h, cJSON_GetObjectItemCaseSensitive(cf, "set"));
        dk__html_printf(h, "<br><span class=\"muted\">%s in %.0f mixed runs</span>",
                        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cf, "reproduced")) ? "reproduced"
                                                                                        : "not reproduced",
                        dk__j_num(cf, "runs", 0));
    } else {
        dk__html_raw(h, "<span class=\"muted\">not run</span>");
    }
    dk__html_raw(h, "</td></tr>\n");
}

dk_status dk__report_diff_flips(dk_html *h, const char *dir, const cJSON *sum, const cJSON *env, const char *prefix)
{
    int n_flips = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum, "flips"));
    dk__html_printf(h, "<h3>Label flips (%d)</h3>\n", n_flips);
    if (!n_flips) {
        dk__html_raw(h, "<p class=\"note\">No variant changed a top-1 label.</p>\n");
        return DK_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/state.jsonl", dir);
    FILE *f;
    if (dk__open_regular(path, 1, &f) != DK_OK) {
        dk__html_raw(h, "<p class=\"note\">No state.jsonl beside summary.json: the flips' top-5s and pictures "
                        "are not available.</p>\n");
        return DK_OK;
    }
    static const char *const cols[] = {"input", "variant", "baseline top-5", "variant top-5", "margin", "cause",
                                       "blamed", "counterfactual set"};
    dk__html_table_begin(h, "sortable", cols, 8);
    char *line = NULL;
    size_t cap = 0;
    cJSON *inputs = NULL;
    int index = -1, rows = 0, thumbs = 0;
    dk_status st = DK_OK;
    while (getline(&line, &cap, f) > 0 && rows < MAX_ROWS) {
        /* most records hold no flip: they are skipped unparsed (a large run's
         * state file holds gigabytes of per-node metrics) */
        if (index >= 0 && !strstr(line, "\"flip\":")) {
            index++;
            continue;
        }
        cJSON *rec = cJSON_Parse(line);
        if (!rec) break; /* a line cut short by a killed run */
        if (index < 0) { /* the header: the input files */
            inputs = cJSON_DetachItemFromObjectCaseSensitive(rec, "inputs");
            cJSON_Delete(rec);
            index = 0;
            continue;
        }
        const cJSON *name = cJSON_GetArrayItem(inputs, index++), *var;
        char file[4096];
        if (cJSON_IsString(name)) input_path(file, sizeof file, name->valuestring, env);
        cJSON_ArrayForEach(var, cJSON_GetObjectItemCaseSensitive(rec, "variants")) {
            if (!cJSON_GetObjectItemCaseSensitive(var, "flip") || rows >= MAX_ROWS) continue;
            int thumb = thumbs < MAX_THUMBS && cJSON_IsString(name);
            row(h, rec, var, cJSON_IsString(name) ? file : NULL, thumb, prefix);
            thumbs += thumb;
            rows++;
        }
        cJSON_Delete(rec);
    }
    free(line);
    fclose(f);
    cJSON_Delete(inputs);
    dk__html_table_end(h);
    if (rows < n_flips)
        dk__html_printf(h, "<p class=\"note\">%d of %d flips shown; flips.csv lists all.</p>\n", rows, n_flips);
    if (thumbs < rows)
        dk__html_printf(h, "<p class=\"note\">Pictures for the first %d only.</p>\n", MAX_THUMBS);
    return st;
}
