/* deltakern report: each input recognised (a diff OUTDIR, a bench result, a
 * comparison), its section added to one page, the page written atomically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/file.h"
#include "deltakern/report.h"
#include "drivers/report/report_internal.h"
#include "runtime/file.h"

#define RESULT_MAX_BYTES (256u << 20)

typedef enum kind { KIND_DIFF, KIND_BENCH, KIND_COMPARE } kind;

typedef struct input {
    kind k;
    const char *path;
    char *dir;   /* KIND_DIFF: the OUTDIR */
    cJSON *root; /* bench and compare */
} input;

static dk_status classify_dir(const char *path, input *in)
{
    char f[4096];
    snprintf(f, sizeof f, "%s/summary.json", path);
    if (access(f, F_OK) != 0) {
        snprintf(f, sizeof f, "%s/state.jsonl", path);
        if (access(f, F_OK) == 0)
            return dk__error(DK_ERR_FORMAT, "report: %s: an unfinished diff (no summary.json: a run is going on, "
                             "or was killed; finish it with deltakern diff ... --resume)", path);
        return dk__error(DK_ERR_FORMAT, "report: %s: a directory that holds no diff result (no summary.json)", path);
    }
    in->k = KIND_DIFF;
    in->dir = strdup(path);
    return in->dir ? DK_OK : dk__error(DK_ERR_NOMEM, "report: out of memory");
}

static dk_status classify_file(const char *path, input *in)
{
    unsigned char *data;
    size_t size;
    DK_TRY(dk__read_regular(path, RESULT_MAX_BYTES, 0, &data, &size));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    size_t at = end ? (size_t)(end - (const char *)data) : 0;
    free(data);
    if (!root) return dk__error(DK_ERR_FORMAT, "report: %s: not JSON (error near byte %zu)", path, at);
    const char *schema = dk__j_str(root, "schema", NULL);
    dk_status st = DK_OK;
    if (!cJSON_IsObject(root) || !schema) {
        st = dk__error(DK_ERR_FORMAT, "report: %s: JSON that is no deltakern result (no \"schema\")", path);
    } else if (!strcmp(schema, "deltakern-bench/1")) {
        in->k = KIND_BENCH;
    } else if (!strcmp(schema, "deltakern-compare/1")) {
        in->k = KIND_COMPARE;
    } else if (!strcmp(schema, "deltakern-diff-summary/1")) {
        /* summary.json given for its directory */
        char *copy = strdup(path);
        if (!copy) st = dk__error(DK_ERR_NOMEM, "report: out of memory");
        else {
            char *slash = strrchr(copy, '/');
            if (slash) *slash = 0;
            else strcpy(copy, ".");
            st = classify_dir(copy, in);
            free(copy);
        }
        cJSON_Delete(root);
        return st;
    } else {
        st = dk__error(DK_ERR_FORMAT, "report: %s: schema \"%s\" is not one report reads (deltakern-bench/1, "
                       "deltakern-compare/1, or a diff OUTDIR)", path, schema);
    }
    if (st != DK_OK) {
        cJSON_Delete(root);
        return st;
    }
    in->root = root;
    return DK_OK;
}

static dk_status classify(const char *path, input *in)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    struct stat s;
    if (stat(path, &s) != 0) return dk__error(DK_ERR_IO, "report: %s: %s", path, strerror(errno));
    return S_ISDIR(s.st_mode) ? classify_dir(path, in) : classify_file(path, in);
}

static const char *kind_name(kind k)
{
    return k == KIND_DIFF ? "diff" : k == KIND_BENCH ? "bench" : "compare";
}

static void page_title(dk_html *h, const input *ins, int n)
{
    char title[512] = "deltakern report";
    size_t used = strlen(title);
    for (int i = 0; i < n && used < sizeof title - 1; i++) {
        used += (size_t)snprintf(title + used, sizeof title - used, "%s%s", i ? ", " : ": ", kind_name(ins[i].k));
        if (used > sizeof title - 1) used = sizeof title - 1;
    }
    dk__html_page_begin(h, title);
    dk__html_raw(h, "<h1>deltakern report</h1><nav>");
    for (int i = 0; i < n; i++) {
        dk__html_printf(h, "<a href=\"#result-%d\">%s: ", i, kind_name(ins[i].k));
        dk__html_text(h, ins[i].path);
        dk__html_raw(h, "</a>");
    }
    dk__html_raw(h, "</nav>\n");
}

dk_status dk_report_write(const dk_report_options *o)
{
    if (!o || !o->out || o->n_inputs < 1) return dk__error(DK_ERR_INVALID, "report: no result given");
    if (!o->force && access(o->out, F_OK) == 0)
        return dk__error(DK_ERR_INVALID, "report: %s exists (use --force to overwrite)", o->out);
    input *ins = calloc((size_t)o->n_inputs, sizeof *ins);
    if (!ins) return dk__error(DK_ERR_NOMEM, "report: out of memory");
    dk_status st = DK_OK;
    int n = 0;
    for (; n < o->n_inputs && st == DK_OK; n++) st = classify(o->inputs[n], &ins[n]);
    if (st != DK_OK) n--; /* the failed one holds nothing */
    dk_html h = {0};
    dk_report_ctx ctx = {.command = o->command};
    if (st == DK_OK) page_title(&h, ins, n);
    for (int i = 0; i < n && st == DK_OK; i++) {
        dk__html_printf(&h, "<section id=\"result-%d\">\n", i);
        if (ins[i].k == KIND_DIFF) st = dk__report_diff(&h, ins[i].dir, &ctx);
        else if (ins[i].k == KIND_BENCH) st = dk__report_bench(&h, ins[i].root, ins[i].path, &ctx);
        else st = dk__report_compare(&h, ins[i].root, ins[i].path, &ctx);
        dk__html_raw(&h, "</section>\n");
    }
    if (st == DK_OK) {
        dk__html_raw(&h, "<p class=\"note\">Written by deltakern " DK_VERSION
                         " report; everything shown is inside this file.</p>");
        dk__html_page_end(&h);
        st = dk__html_status(&h);
    }
    if (st == DK_OK) st = dk_file_write_atomic(o->out, h.buf, h.len);
    dk__html_free(&h);
    for (int i = 0; i < n; i++) {
        free(ins[i].dir);
        cJSON_Delete(ins[i].root);
    }
    free(ins);
    return st;
}
