/* Merging rank groups (mpirun ... diff --rank-variant): groups that ran the
 * same inputs against the same baseline, each with its own variants, into
 * the result a single run of every variant writes. A record of the merged
 * run is group 0's record with the variants of every group, in the merged
 * order, and every pair: the baseline's with a variant and two variants of
 * one group as that group recorded them, two variants of different groups
 * compared from the logits their records carry (diff_logits.c), by the same
 * code a single run uses. The baselines must agree on every input, or the
 * pairs would mix baselines: groups that cannot share one bit for bit are
 * given one bundle (--against). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/diff.h"
#include "deltakern/file.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"

typedef struct group {
    const char *dir;
    FILE *f;
    cJSON *header;
    cJSON *rec;            /* the current input's record */
    double ms_per_input;
} group;

/* Where each merged variant comes from. */
typedef struct source {
    int group, index;      /* in the group's variants */
} source;

static dk_status open_group(group *g, const char *dir)
{
    memset(g, 0, sizeof *g);
    g->dir = dir;
    char path[4096];
    snprintf(path, sizeof path, "%s/state.jsonl", dir);
    DK_TRY(dk__open_regular(path, 1, &g->f));
    char *line = dk__diff_read_line(g->f);
    g->header = line ? cJSON_Parse(line) : NULL;
    free(line);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(g->header, "run")))
        return dk__error(DK_ERR_FORMAT, "merge: %s: not a diff state file (no header line)", path);
    g->ms_per_input = dk__diff_summary_ms_per_input(dir);
    return DK_OK;
}

static void close_group(group *g)
{
    if (g->f) fclose(g->f);
    cJSON_Delete(g->header);
    cJSON_Delete(g->rec);
}

/* A header without what differs between groups: their variants and notes. */
static cJSON *common_part(const cJSON *header)
{
    cJSON *h = cJSON_Duplicate(header, 1);
    cJSON *run = cJSON_GetObjectItemCaseSensitive(h, "run");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "variants");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "notes");
    return h;
}

static const cJSON *run_variants(const group *g)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(g->header, "run"), "variants");
}

/* Every group of one run; every merged variant in exactly one group. */
static dk_status check_groups(const dk_diff_merge_groups_options *o, const group *g, source *from)
{
    cJSON *c0 = common_part(g[0].header);
    dk_status st = DK_OK;
    for (int i = 1; i < o->n_groups && st == DK_OK; i++) {
        cJSON *c = common_part(g[i].header);
        if (!cJSON_Compare(c, c0, 1))
            st = dk__error(DK_ERR_INVALID, "merge: %s and %s are not rank groups of one run (model, baseline, "
                           "options, labels, inputs or deltakern version differ)", g[i].dir, g[0].dir);
        cJSON_Delete(c);
    }
    cJSON_Delete(c0);
    for (int v = 0; v < o->n_variants; v++) from[v].group = -1;
    for (int i = 0; i < o->n_groups && st == DK_OK; i++) {
        const cJSON *vs = run_variants(&g[i]);
        for (int k = 0; k < cJSON_GetArraySize(vs) && st == DK_OK; k++) {
            const cJSON *name = cJSON_GetArrayItem(vs, k);
            int v = 0;
            while (v < o->n_variants && !(cJSON_IsString(name) && !strcmp(name->valuestring, o->variants[v]))) v++;
            if (v == o->n_variants)
                st = dk__error(DK_ERR_INVALID, "merge: %s ran variant %s, which is not among the merged ones",
                               g[i].dir, cJSON_IsString(name) ? name->valuestring : "?");
            else if (from[v].group >= 0)
                st = dk__error(DK_ERR_INVALID, "merge: variant %s ran in two rank groups (%s and %s)",
                               o->variants[v], g[from[v].group].dir, g[i].dir);
            else
                from[v] = (source){i, k};
        }
    }
    for (int v = 0; v < o->n_variants && st == DK_OK; v++)
        if (from[v].group < 0) st = dk__error(DK_ERR_INVALID, "merge: no rank group ran variant %s", o->variants[v]);
    return st;
}

/* The merged header: group 0's with every variant, and every group's notes
 * once each. */
static cJSON *merged_header(const dk_diff_merge_groups_options *o, const group *g)
{
    cJSON *h = cJSON_Duplicate(g[0].header, 1);
    cJSON *run = cJSON_GetObjectItemCaseSensitive(h, "run");
    cJSON *vs = cJSON_CreateArray();
    for (int v = 0; v < o->n_variants; v++) cJSON_AddItemToArray(vs, cJSON_CreateString(o->variants[v]));
    cJSON_ReplaceItemInObjectCaseSensitive(run, "variants", vs);
    cJSON *notes = cJSON_GetObjectItemCaseSensitive(run, "notes");
    for (int i = 1; i < o->n_groups && cJSON_IsArray(notes); i++) {
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(g[i].header, "run"),
                                                               "notes")) {
            int seen = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, notes) seen |= cJSON_Compare(m, n, 1);
            if (!seen) cJSON_AddItemToArray(notes, cJSON_Duplicate(n, 1));
        }
    }
    return h;
}

/* What every group's record of one input must agree on: the input and the
 * baseline's result. */
static const char *const baseline_keys[] = {"image",    "input_hash",      "baseline_top5", "baseline_nonfinite",
                                            "margin",   "relative_margin", "label"};

static dk_status check_baselines(const group *g, int n, int input)
{
    for (int i = 1; i < n; i++)
        for (size_t k = 0; k < sizeof baseline_keys / sizeof *baseline_keys; k++) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(g[0].rec, baseline_keys[k]);
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(g[i].rec, baseline_keys[k]);
            if ((a || b) && !(a && b && cJSON_Compare(a, b, 1)))
                return dk__error(DK_ERR_INVALID, "merge: the rank groups of %s and %s disagree on input %d's %s (the "
                                 "baseline differs between their machines: give every rank one baseline with "
                                 "--against BUNDLE)", g[0].dir, g[i].dir, input, baseline_keys[k]);
        }
    return DK_OK;
}

static const cJSON *find_pair(const cJSON *rec, const char *a, const char *b)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(rec, "pairs")) {
        const cJSON *pa = cJSON_GetObjectItemCaseSensitive(p, "a"), *pb = cJSON_GetObjectItemCaseSensitive(p, "b");
        if (cJSON_IsString(pa) && cJSON_IsString(pb) && !strcmp(pa->valuestring, a) && !strcmp(pb->valuestring, b))
            return p;
    }
    return NULL;
}

/* One merged record from the groups' current ones (their logits taken). */
static dk_status merge_record(const dk_diff_merge_groups_options *o, group *g, const source *from,
                              const char *base, dk_tensor *logits, cJSON **out)
{
    *out = NULL;
    cJSON *vars = cJSON_CreateArray(), *pairs = cJSON_CreateArray();
    dk_status st = vars && pairs ? DK_OK : dk__error(DK_ERR_NOMEM, "merge: out of memory");
    for (int v = 0; v < o->n_variants && st == DK_OK; v++) {
        cJSON *entry = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g[from[v].group].rec, "variants"),
                                          from[v].index);
        dk_tensor_reset(&logits[v]);
        st = entry ? dk__diff_take_logits(entry, &logits[v])
                   : dk__error(DK_ERR_FORMAT, "merge: %s: a record lacks variant %s", g[from[v].group].dir,
                               o->variants[v]);
        if (st != DK_OK) st = dk__error_prefix(st, "merge: %s", g[from[v].group].dir);
        else cJSON_AddItemToArray(vars, cJSON_Duplicate(entry, 1));
    }
    for (int a = -1; a < o->n_variants && st == DK_OK; a++)
        for (int b = a + 1; b < o->n_variants && st == DK_OK; b++) {
            const char *na = a < 0 ? base : o->variants[a], *nb = o->variants[b];
            if (a >= 0 && from[a].group != from[b].group) {
                cJSON_AddItemToArray(pairs, dk__diff_pair_json(na, nb, &logits[a], &logits[b]));
                continue;
            }
            const cJSON *p = find_pair(g[from[b].group].rec, na, nb);
            if (!p) st = dk__error(DK_ERR_FORMAT, "merge: %s: a record lacks the pair %s, %s", g[from[b].group].dir, na, nb);
            else cJSON_AddItemToArray(pairs, cJSON_Duplicate(p, 1));
        }
    if (st == DK_OK) {
        *out = cJSON_Duplicate(g[0].rec, 1);
        if (!*out) st = dk__error(DK_ERR_NOMEM, "merge: out of memory");
    }
    if (st == DK_OK) {
        cJSON_ReplaceItemInObjectCaseSensitive(*out, "variants", vars);
        cJSON_ReplaceItemInObjectCaseSensitive(*out, "pairs", pairs);
        return DK_OK;
    }
    cJSON_Delete(vars);
    cJSON_Delete(pairs);
    return st;
}

/* Reads input `input`'s record of every group; 0 when every group's state
 * has ended (an error when only some have). */
static dk_status next_records(group *g, int n, int input, int *more)
{
    int got = 0;
    for (int i = 0; i < n; i++) {
        cJSON_Delete(g[i].rec);
        char *line = dk__diff_read_line(g[i].f);
        g[i].rec = line ? cJSON_Parse(line) : NULL;
        free(line);
        got += g[i].rec != NULL;
    }
    *more = got > 0;
    if (got && got < n)
        return dk__error(DK_ERR_FORMAT, "merge: the rank groups hold different numbers of records (input %d)", input);
    return DK_OK;
}

static dk_status write_states(const dk_diff_merge_groups_options *o, group *g, const source *from, cJSON *header,
                              dk_diff_summary *sum, int *images)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/state.jsonl", o->out);
    snprintf(tmp, sizeof tmp, "%s" DK__TMP_INFIX "%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return dk__error(DK_ERR_IO, "merge: %s: %s", tmp, strerror(errno));
    char *text = cJSON_PrintUnformatted(header);
    dk_status st = text && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? DK_OK : dk__error(DK_ERR_IO, "merge: writing %s", tmp);
    free(text);
    const char *base = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(header, "run"),
                                                        "baseline")->valuestring;
    dk_tensor *logits = calloc((size_t)o->n_variants, sizeof *logits);
    if (!logits && st == DK_OK) st = dk__error(DK_ERR_NOMEM, "merge: out of memory");
    *images = 0;
    for (int more = 1; st == DK_OK;) {
        st = next_records(g, o->n_groups, *images, &more);
        if (st != DK_OK || !more) break;
        st = check_baselines(g, o->n_groups, *images);
        cJSON *rec = NULL;
        if (st == DK_OK) st = merge_record(o, g, from, base, logits, &rec);
        if (st == DK_OK) {
            text = cJSON_PrintUnformatted(rec);
            if (!text || fputs(text, f) < 0 || fputc('\n', f) == EOF) st = dk__error(DK_ERR_IO, "merge: writing %s", tmp);
            free(text);
        }
        if (st == DK_OK) st = dk_diff_summary_add(sum, rec);
        cJSON_Delete(rec);
        (*images)++;
    }
    for (int v = 0; logits && v < o->n_variants; v++) dk_tensor_reset(&logits[v]);
    free(logits);
    if (st == DK_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && st == DK_OK) st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (st == DK_OK && rename(tmp, path) != 0) st = dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
    if (st != DK_OK) unlink(tmp);
    return st;
}

/* environment.json: the merge's command, group 0's environment as the run's,
 * and every group's (with its ranks' hosts) under "groups". */
static dk_status write_environment(const dk_diff_merge_groups_options *o, const group *g)
{
    cJSON *root = dk__diff_environment_begin(o->command);
    cJSON *groups = cJSON_AddArrayToObject(root, "groups");
    for (int i = 0; i < o->n_groups; i++) {
        cJSON *entry = cJSON_CreateObject(), *env = dk__diff_environment_read(g[i].dir);
        if (env && i == 0) dk__diff_environment_adopt(root, env);
        cJSON_AddItemToObject(entry, "variants", cJSON_Duplicate(run_variants(&g[i]), 1));
        cJSON_AddItemToObject(entry, "run", env ? env : cJSON_CreateNull());
        cJSON_AddItemToArray(groups, entry);
    }
    return dk__diff_environment_finish(root, o->out);
}

dk_status dk_diff_merge_groups(const dk_diff_merge_groups_options *o, dk_diff_merge_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->n_groups < 1 || o->n_variants < 1) return dk__error(DK_ERR_INVALID, "merge: no rank group given");
    group *g = calloc((size_t)o->n_groups, sizeof *g);
    source *from = calloc((size_t)o->n_variants, sizeof *from);
    dk_status st = g && from ? DK_OK : dk__error(DK_ERR_NOMEM, "merge: out of memory");
    int n = 0, lock = -1;
    for (; st == DK_OK && n < o->n_groups; n++) st = open_group(&g[n], o->groups[n]);
    if (st == DK_OK) st = check_groups(o, g, from);
    cJSON *header = st == DK_OK ? merged_header(o, g) : NULL;
    if (st == DK_OK) st = dk__dir_lock(o->out, &lock);
    if (st == DK_OK) st = dk__dir_refuse_links(o->out, dk__diff_result_files, DK__DIFF_N_RESULT_FILES);
    for (int i = 0; st == DK_OK && i < DK__DIFF_N_RESULT_FILES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", o->out, dk__diff_result_files[i]);
        if (unlink(path) != 0 && errno != ENOENT) st = dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
    }
    dk_diff_summary *sum = NULL;
    if (st == DK_OK) st = dk_diff_summary_create(cJSON_GetObjectItemCaseSensitive(header, "run"), &sum);
    if (st == DK_OK) st = write_states(o, g, from, header, sum, &r->images);
    if (st == DK_OK) st = write_environment(o, g);
    if (st == DK_OK) {
        double ms = 0; /* an input's time is every group's */
        for (int i = 0; i < n; i++) ms += g[i].ms_per_input;
        cJSON *timing = cJSON_CreateObject();
        cJSON_AddNumberToObject(timing, "ms_per_input_this_run", ms);
        st = dk_diff_summary_write(sum, o->out, 1, timing);
        cJSON_Delete(timing);
    }
    r->total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(header, "inputs"));
    if (st == DK_OK) r->table = dk_diff_summary_table(sum);
    dk_diff_summary_destroy(sum);
    dk__dir_unlock(lock);
    cJSON_Delete(header);
    for (int i = 0; i < n; i++) close_group(&g[i]);
    free(g);
    free(from);
    return st;
}
