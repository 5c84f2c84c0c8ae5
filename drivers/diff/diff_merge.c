/* deltakern merge: shard results of one diff run (diff --shard K/N) into the
 * result a single run writes. Each shard's state.jsonl holds the run's whole
 * header (every input) and the records of its inputs (index = K mod N) in
 * order; the merged state is that header without the shard, the records
 * taken in the global order, and the summary files computed from them, as a
 * single run computes them. Nothing is written before every shard is read
 * and found to belong to the same run. */
#include <errno.h>
#include <limits.h>
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
#include "runtime/text.h"

int dk__json_int(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= INT_MIN && v->valuedouble <= INT_MAX ? (int)v->valuedouble : dflt;
}

const char *dk__json_str(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

typedef struct shard {
    const char *dir;
    FILE *f;
    cJSON *header; /* without run.shard */
    int index, count;
    int records;   /* whole lines after the header */
    double ms_per_input;
} shard;

static dk_status open_shard(shard *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    char path[4096];
    snprintf(path, sizeof path, "%s/state.jsonl", dir);
    dk_status st = dk__open_regular(path, 1, &s->f);
    if (st != DK_OK) return dk__error_prefix(st, "merge: %s is no diff result", dir);
    char *line = dk__diff_read_line(s->f);
    s->header = line ? cJSON_Parse(line) : NULL;
    free(line);
    cJSON *run = cJSON_GetObjectItemCaseSensitive(s->header, "run");
    cJSON *sh = cJSON_DetachItemFromObjectCaseSensitive(run, "shard");
    if (!s->header || !cJSON_IsObject(run))
        st = dk__error(DK_ERR_FORMAT, "merge: %s: not a diff state file (no header line)", path);
    else if (!sh)
        st = dk__error(DK_ERR_INVALID, "merge: %s is a whole run, not a shard (diff --shard K/N makes shards)", dir);
    if (st == DK_OK) {
        s->index = dk__json_int(sh, "index", -1);
        s->count = dk__json_int(sh, "count", 0);
        if (s->count < 1 || s->index < 0 || s->index >= s->count)
            st = dk__error(DK_ERR_FORMAT, "merge: %s: shard %d/%d is not a valid shard", path, s->index, s->count);
    }
    cJSON_Delete(sh);
    long start = ftell(s->f);
    while (st == DK_OK && (line = dk__diff_read_line(s->f))) {
        s->records++;
        free(line);
    }
    if (st == DK_OK && fseek(s->f, start, SEEK_SET) != 0)
        st = dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
    /* its timing, for the merged summary's (the only part that differs) */
    if (st == DK_OK) s->ms_per_input = dk__diff_summary_ms_per_input(dir);
    return st;
}

static void close_shard(shard *s)
{
    if (s->f) fclose(s->f);
    cJSON_Delete(s->header);
}

/* Every shard of one run, each index once; *missing receives the indices
 * not given (malloc'ed, count in *n_missing). */
static dk_status check_shards(const dk_diff_merge_options *o, shard *s, int n, int **missing, int *n_missing)
{
    *missing = NULL;
    *n_missing = 0;
    const char *v0 = dk__json_str(s[0].header, "deltakern", "?");
    for (int i = 1; i < n; i++) {
        const char *v = dk__json_str(s[i].header, "deltakern", "?");
        if (strcmp(v, v0))
            return dk__error(DK_ERR_INVALID, "merge: %s was made by deltakern %s, %s by %s: shards of one run "
                             "come from one version", s[i].dir, v, s[0].dir, v0);
        if (s[i].count != s[0].count)
            return dk__error(DK_ERR_INVALID, "merge: %s is shard %d/%d, %s shard %d/%d: not the same split",
                             s[i].dir, s[i].index, s[i].count, s[0].dir, s[0].index, s[0].count);
        if (!cJSON_Compare(s[i].header, s[0].header, 1))
            return dk__error(DK_ERR_INVALID, "merge: %s and %s are shards of different runs (model, baseline, "
                             "variants, options, labels or inputs differ)", s[i].dir, s[0].dir);
        for (int j = 0; j < i; j++)
            if (s[j].index == s[i].index)
                return dk__error(DK_ERR_INVALID, "merge: shard %d/%d is given twice: %s and %s", s[i].index,
                                 s[i].count, s[j].dir, s[i].dir);
    }
    int count = s[0].count, total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s[0].header, "inputs"));
    char list[512] = "";
    int *miss = calloc((size_t)count + 1, sizeof *miss);
    if (!miss) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    for (int k = 0; k < count; k++) {
        int found = 0;
        for (int i = 0; i < n; i++) found |= s[i].index == k;
        if (found) continue;
        miss[(*n_missing)++] = k;
        dk_joinf(list, sizeof list, ", ", "%d/%d", k, count);
    }
    *missing = miss;
    if (*n_missing && !o->partial)
        return dk__error(DK_ERR_INVALID, "merge: shard%s %s missing (merge --partial merges the others)",
                         *n_missing > 1 ? "s" : "", list);
    for (int i = 0; i < n; i++) {
        int want = (total - s[i].index + count - 1) / count;
        if (s[i].records < want && !o->partial)
            return dk__error(DK_ERR_INVALID, "merge: %s: shard %d/%d holds %d of its %d inputs (unfinished: "
                             "run it again with --resume; merge --partial merges what is there)", s[i].dir,
                             s[i].index, count, s[i].records, want);
        if (s[i].records > want)
            return dk__error(DK_ERR_FORMAT, "merge: %s: shard %d/%d holds %d records for %d inputs", s[i].dir,
                             s[i].index, count, s[i].records, want);
    }
    return DK_OK;
}

/* The merged run's environment.json: the merge's own command and every
 * shard's environment (the host list), the first shard's as the run's. */
static dk_status write_environment(const dk_diff_merge_options *o, const shard *s, int n)
{
    cJSON *root = dk__diff_environment_begin(o->command);
    cJSON *hosts = cJSON_AddArrayToObject(root, "shards");
    for (int i = 0; i < n; i++) {
        cJSON *h = cJSON_CreateObject(), *env = dk__diff_environment_read(s[i].dir);
        cJSON_AddStringToObject(h, "dir", s[i].dir);
        cJSON_AddNumberToObject(h, "index", s[i].index);
        cJSON_AddNumberToObject(h, "count", s[i].count);
        if (env && i == 0) dk__diff_environment_adopt(root, env);
        cJSON_AddItemToObject(h, "run", env ? env : cJSON_CreateNull());
        cJSON_AddItemToArray(hosts, h);
    }
    return dk__diff_environment_finish(root, o->out);
}

/* With --partial: the header names only the inputs the shards hold, and its
 * notes say what is missing. */
static void restrict_header(cJSON *header, const char *covered, int total, int n_missing)
{
    cJSON *in = cJSON_GetObjectItemCaseSensitive(header, "inputs");
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(header, "labels");
    for (int i = total - 1; i >= 0; i--) {
        if (covered[i]) continue;
        cJSON_DeleteItemFromArray(in, i);
        if (cJSON_IsArray(labels)) cJSON_DeleteItemFromArray(labels, i);
    }
    char note[256];
    snprintf(note, sizeof note, "partial merge: %d of %d inputs (%d shard(s) missing or unfinished)",
             cJSON_GetArraySize(in), total, n_missing);
    cJSON *notes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(header, "run"), "notes");
    if (cJSON_IsArray(notes)) cJSON_AddItemToArray(notes, cJSON_CreateString(note));
}

/* The records in the global order into OUTDIR/state.jsonl (a temporary file,
 * renamed when whole) and into the summary. */
static dk_status write_state(const dk_diff_merge_options *o, shard *s, int n, cJSON *header, const char *covered,
                             int total, dk_diff_summary *sum)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/state.jsonl", o->out);
    snprintf(tmp, sizeof tmp, "%s" DK__TMP_INFIX "%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return dk__error(DK_ERR_IO, "merge: %s: %s", tmp, strerror(errno));
    char *text = cJSON_PrintUnformatted(header);
    int ok = text && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    dk_status st = ok ? DK_OK : dk__error(DK_ERR_IO, "merge: writing %s", tmp);
    int count = s[0].count;
    for (int i = 0; i < total && st == DK_OK; i++) {
        if (!covered[i]) continue;
        shard *sh = NULL;
        for (int j = 0; j < n; j++)
            if (s[j].index == i % count) sh = &s[j];
        char *line = dk__diff_read_line(sh->f);
        cJSON *rec = line ? cJSON_Parse(line) : NULL;
        if (!rec) {
            free(line);
            st = dk__error(DK_ERR_FORMAT, "merge: %s: a record of input %d is not JSON", sh->dir, i);
            break;
        }
        if (fputs(line, f) < 0 || fputc('\n', f) == EOF) st = dk__error(DK_ERR_IO, "merge: writing %s", tmp);
        if (st == DK_OK) st = dk_diff_summary_add(sum, rec);
        cJSON_Delete(rec);
        free(line);
    }
    if (st == DK_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && st == DK_OK) st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (st == DK_OK && rename(tmp, path) != 0) st = dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
    if (st != DK_OK) unlink(tmp);
    return st;
}

#define result_files dk__diff_result_files
#define N_RESULT_FILES DK__DIFF_N_RESULT_FILES

/* OUTDIR holding results is refused without --force; a shard's own
 * directory is never the output. */
static dk_status prepare_out(const dk_diff_merge_options *o, const shard *s, int n)
{
    for (int i = 0; i < n; i++)
        if (dk__same_dir(o->out, s[i].dir))
            return dk__error(DK_ERR_INVALID, "merge: -o %s is shard %s itself", o->out, s[i].dir);
    DK_TRY(dk__dir_refuse_links(o->out, result_files, N_RESULT_FILES));
    char path[4096];
    for (int i = 0; i < N_RESULT_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", o->out, result_files[i]);
        if (access(path, F_OK) != 0) continue;
        if (!o->force) return dk__error(DK_ERR_INVALID, "merge: %s holds results (use --force to overwrite)", o->out);
        unlink(path);
    }
    return DK_OK;
}

dk_status dk_diff_merge(const dk_diff_merge_options *o, dk_diff_merge_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->n_shards < 1) return dk__error(DK_ERR_INVALID, "merge: no shard given");
    shard *s = calloc((size_t)o->n_shards, sizeof *s);
    if (!s) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    dk_status st = DK_OK;
    int n = 0, *missing = NULL, n_missing = 0, lock = -1;
    for (; n < o->n_shards && st == DK_OK; n++) st = open_shard(&s[n], o->shards[n]);
    if (st == DK_OK) st = check_shards(o, s, n, &missing, &n_missing);
    cJSON *header = st == DK_OK ? cJSON_Duplicate(s[0].header, 1) : NULL;
    int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(header, "inputs"));
    char *covered = st == DK_OK ? calloc((size_t)total + 1, 1) : NULL;
    if (st == DK_OK && (!header || !covered)) st = dk__error(DK_ERR_NOMEM, "merge: out of memory");
    int short_shards = 0;
    for (int i = 0; st == DK_OK && i < n; i++) {
        int count = s[i].count;
        for (int j = 0, in = s[i].index; in < total; j++, in += count) covered[in] = j < s[i].records;
        short_shards += s[i].records < (total - s[i].index + count - 1) / count;
    }
    for (int i = 0; st == DK_OK && i < total; i++) r->images += covered[i];
    r->total = total;
    r->missing_shards = n_missing;
    r->unfinished_shards = short_shards;
    if (st == DK_OK && r->images < total) restrict_header(header, covered, total, n_missing + short_shards);
    if (st == DK_OK) st = dk__dir_lock(o->out, &lock);
    if (st == DK_OK) st = prepare_out(o, s, n);
    dk_diff_summary *sum = NULL;
    if (st == DK_OK) st = dk_diff_summary_create(cJSON_GetObjectItemCaseSensitive(header, "run"), &sum);
    if (st == DK_OK) st = write_state(o, s, n, header, covered, total, sum);
    if (st == DK_OK) st = write_environment(o, s, n);
    if (st == DK_OK) {
        double ms = 0;
        for (int i = 0; i < n; i++) ms += s[i].ms_per_input * s[i].records;
        cJSON *timing = cJSON_CreateObject();
        cJSON_AddNumberToObject(timing, "ms_per_input_this_run", r->images ? ms / r->images : 0);
        st = dk_diff_summary_write(sum, o->out, 1, timing);
        cJSON_Delete(timing);
    }
    if (st == DK_OK) r->table = dk_diff_summary_table(sum);
    dk_diff_summary_destroy(sum);
    dk__dir_unlock(lock);
    free(covered);
    free(missing);
    cJSON_Delete(header);
    for (int i = 0; i < n; i++) close_shard(&s[i]);
    free(s);
    return st;
}
