/* deltakern diff over a list of inputs into an output directory
 * (dk_diff_run, include/deltakern/diff.h): the output directory's rules, the
 * state file that makes a run resumable, the loop over the inputs and the
 * summary files. Interruptible between inputs (o->stop). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/diff.h"
#include "deltakern/file.h"
#include "deltakern/input.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/timer.h"

#define STATE_FILE "state.jsonl"
#define STATE_FORMAT "deltakern-diff-state/1"
#define STATE_LINE_MAX (64u << 20)
#define SUMMARY_FILE "summary.json"

const char *const dk__diff_result_files[DK__DIFF_N_RESULT_FILES] = {
    STATE_FILE, "summary.json", "summary.csv", "layers.csv", "flips.csv", DK__DIFF_ENVIRONMENT_FILE};
#define result_files dk__diff_result_files
#define N_RESULT_FILES DK__DIFF_N_RESULT_FILES

/* OUTDIR: holding earlier results only with force (cleared) or resume
 * (kept). act = 0 only checks, before anything is opened; act = 1 acts, with
 * OUTDIR locked. *fresh: a --resume that finds no record starts afresh, when
 * the run it continues was killed before it wrote any (OUTDIR holds only the
 * lock file of a run). */
static dk_status prepare_out(const dk_diff_run_options *o, int act, int *fresh)
{
    int found = 0;
    char path[4096];
    if (act) DK_TRY(dk__dir_refuse_links(o->out, result_files, N_RESULT_FILES));
    for (int i = 0; i < N_RESULT_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", o->out, result_files[i]);
        if (access(path, F_OK) == 0) found = 1;
    }
    *fresh = 0;
    if (o->resume) {
        snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
        if (access(path, F_OK) == 0) return DK_OK;
        snprintf(path, sizeof path, "%s/" DK__DIR_LOCK, o->out);
        if (found || access(path, F_OK) != 0)
            return dk__error(DK_ERR_INVALID, "diff: --resume: %s holds no run to continue (no %s)", o->out, STATE_FILE);
        *fresh = 1;
        return DK_OK;
    }
    if (found && !o->force)
        return dk__error(DK_ERR_INVALID, "diff: %s holds results (use --force to overwrite or --resume to continue)",
                         o->out);
    for (int i = 0; act && found && i < N_RESULT_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", o->out, result_files[i]);
        unlink(path);
    }
    if (!act && o->cfg.save && !o->force) {
        snprintf(path, sizeof path, "%s/manifest.json", o->cfg.save);
        if (access(path, F_OK) == 0)
            return dk__error(DK_ERR_INVALID, "diff: --save %s holds a bundle (use --force to overwrite)", o->cfg.save);
    }
    return DK_OK;
}

/* The directories this run writes, locked, before anything is written there:
 * OUTDIR and a --save bundle (one lock when they are one directory). Files a
 * killed run left half-written under a temporary name are removed. */
static const char *const bundle_files[] = {"manifest.json"};

static dk_status lock_dirs(const dk_diff_run_options *o, int locks[2])
{
    DK_TRY(dk__dir_lock(o->out, &locks[0]));
    dk__remove_stale_tmp(o->out, result_files, N_RESULT_FILES);
    if (!o->cfg.save) return DK_OK;
    DK_TRY(dk_file_mkdirs(o->cfg.save));
    if (!dk__same_dir(o->cfg.save, o->out)) DK_TRY(dk__dir_lock(o->cfg.save, &locks[1]));
    DK_TRY(dk__dir_refuse_links(o->cfg.save, bundle_files, 1));
    dk__remove_stale_tmp(o->cfg.save, bundle_files, 1);
    return DK_OK;
}

/* The network's input size from its input when it is an image batch. */
static void preprocessing(const dk_tensor *in, dk_preprocess *p)
{
    dk_preprocess_default(p);
    if (in->ndim == 4 && in->dims[1] == 3) {
        p->height = (int)in->dims[2];
        p->width = (int)in->dims[3];
    }
}

/* ---- the inputs ---------------------------------------------------------------- */

typedef struct input_list {
    int n;
    char **names; /* files, or "bundle:I" for a bundle's own input I */
    int *labels;  /* with --labels: each input's true class, else NULL */
} input_list;

static void inputs_free(input_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    free(l->labels);
}

/* --shard K/N: the inputs whose index is K modulo N, in the global order
 * (labels alike); without sharding a copy of the whole list. */
static dk_status inputs_shard(const dk_diff_run_options *o, const input_list *all, input_list *sel)
{
    int k = o->shard_count > 0 ? o->shard_index : 0, n = o->shard_count > 0 ? o->shard_count : 1;
    memset(sel, 0, sizeof *sel);
    if (!(sel->names = calloc((size_t)all->n / (size_t)n + 2, sizeof *sel->names)) ||
        (all->labels && !(sel->labels = calloc((size_t)all->n / (size_t)n + 2, sizeof *sel->labels))))
        return dk__error(DK_ERR_NOMEM, "diff: out of memory");
    for (int i = k; i < all->n; i += n) {
        if (!(sel->names[sel->n] = strdup(all->names[i]))) return dk__error(DK_ERR_NOMEM, "diff: out of memory");
        if (all->labels) sel->labels[sel->n] = all->labels[i];
        sel->n++;
    }
    if (sel->n == 0)
        return dk__error(DK_ERR_INVALID, "diff: --shard %d/%d: no input falls to this shard (%d inputs)", k, n,
                         all->n);
    return DK_OK;
}

/* --labels: every input's class, checked against the inputs before anything
 * is written. A bundle's own inputs are named by their source files. */
static dk_status read_labels(const dk_diff_run_options *o, dk_diff *d, input_list *l)
{
    if (!o->labels) return DK_OK;
    const char **names = calloc((size_t)l->n + 1, sizeof *names);
    if (!names || !(l->labels = calloc((size_t)l->n + 1, sizeof *l->labels))) {
        free(names);
        return dk__error(DK_ERR_NOMEM, "diff: out of memory");
    }
    dk_status st = DK_OK;
    for (int i = 0; i < l->n && st == DK_OK; i++) {
        names[i] = l->names[i];
        if (!strncmp(l->names[i], "bundle:", 7)) {
            const dk_tensor *t;
            st = dk_diff_bundle_input(d, i, &names[i], &t);
            if (st == DK_OK && !(names[i] = strdup(names[i]))) st = dk__error(DK_ERR_NOMEM, "diff: out of memory");
        }
    }
    if (st == DK_OK) st = dk__diff_read_labels(o->labels, names, l->n, dk_diff_classes(d), l->labels);
    for (int i = 0; i < l->n; i++)
        if (names[i] != l->names[i]) free((void *)names[i]);
    free(names);
    return st;
}

/* The files given, or with a bundle and none given, the bundle's own inputs. */
static dk_status inputs_collect(const dk_diff_run_options *o, dk_diff *d, input_list *l)
{
    int n = o->n_inputs ? o->n_inputs : dk_diff_bundle_inputs(d);
    l->n = 0;
    if (!(l->names = calloc((size_t)n + 1, sizeof *l->names))) return dk__error(DK_ERR_NOMEM, "diff: out of memory");
    for (int i = 0; i < n; i++) {
        char bundle[32];
        snprintf(bundle, sizeof bundle, "bundle:%d", i);
        if (!(l->names[l->n] = strdup(o->n_inputs ? o->inputs[i] : bundle)))
            return dk__error(DK_ERR_NOMEM, "diff: out of memory");
        l->n++;
    }
    if (l->n == 0) return dk__error(DK_ERR_INVALID, "diff: no input given (use -i DIR or -i IMAGE)");
    return DK_OK;
}

/* Loads input i: a file, or the bundle's own input. */
static dk_status load_input(const input_list *l, dk_diff *d, const dk_preprocess *pre, int i, dk_tensor *owned,
                            const dk_tensor **t, const char **name)
{
    if (strncmp(l->names[i], "bundle:", 7) != 0) {
        *name = l->names[i];
        dk_status st = dk_input_load(l->names[i], pre, owned);
        *t = owned;
        return st;
    }
    return dk_diff_bundle_input(d, atoi(l->names[i] + 7), name, t);
}

/* With a bundle and inputs given: every input must be in the bundle before
 * anything is written. */
static dk_status check_bundle_inputs(const dk_diff_run_options *o, dk_diff *d, const input_list *l)
{
    if (!o->cfg.against) return DK_OK;
    dk_preprocess pre;
    preprocessing(dk_diff_input_shape(d), &pre);
    for (int i = 0; i < l->n; i++) {
        if (!strncmp(l->names[i], "bundle:", 7)) continue;
        dk_tensor t = {0};
        dk_status st = dk_input_load(l->names[i], &pre, &t);
        if (st == DK_OK) st = dk_diff_bundle_check(d, l->names[i], &t);
        dk_tensor_reset(&t);
        DK_TRY(st);
    }
    return DK_OK;
}

/* ---- the state file: a header line (the run's identity and inputs) and one
 * record line per finished input ------------------------------------------------ */

static cJSON *state_header(cJSON *identity, const input_list *l)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", STATE_FORMAT);
    /* shards of different versions must not be merged, nor a run resumed by another */
    cJSON_AddStringToObject(h, "deltakern", DK_VERSION);
    cJSON_AddItemToObject(h, "run", cJSON_Duplicate(identity, 1));
    cJSON *in = cJSON_AddArrayToObject(h, "inputs");
    for (int i = 0; i < l->n; i++) cJSON_AddItemToArray(in, cJSON_CreateString(l->names[i]));
    if (l->labels) cJSON_AddItemToObject(h, "labels", cJSON_CreateIntArray(l->labels, l->n));
    return h;
}

char *dk__diff_read_line(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) {
            if (cap >= STATE_LINE_MAX) break;
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
        }
        s[n++] = (char)c;
    }
    if (c != '\n') {
        free(s);
        return NULL;
    }
    s[n] = 0;
    return s;
}

/* Replays the records of an interrupted run; *done receives their count and
 * *good_end the end of the last whole record. */
static dk_status resume_state(const char *path, const cJSON *header, int total, dk_diff_summary *sum, int *done,
                              long *good_end)
{
    FILE *f;
    dk_status opened = dk__open_regular(path, 1, &f);
    if (opened != DK_OK) return dk__error_prefix(opened, "diff: --resume");
    char *line = dk__diff_read_line(f);
    cJSON *h = line ? cJSON_Parse(line) : NULL;
    free(line);
    dk_status st = DK_OK;
    if (!h || !cJSON_Compare(h, header, 1))
        st = dk__error(DK_ERR_INVALID, "diff: --resume: %s was made by another run (model, baseline, variants, "
                       "options or inputs differ)", path);
    cJSON_Delete(h);
    *done = 0;
    *good_end = ftell(f);
    while (st == DK_OK && (line = dk__diff_read_line(f))) {
        cJSON *rec = cJSON_Parse(line);
        free(line);
        if (!rec || *done >= total) {
            cJSON_Delete(rec);
            break;
        }
        st = dk_diff_summary_add(sum, rec);
        cJSON_Delete(rec);
        if (st != DK_OK) break;
        (*done)++;
        *good_end = ftell(f);
    }
    fclose(f);
    return st;
}

static dk_status start_state(const char *path, const cJSON *header)
{
    char *text = cJSON_PrintUnformatted(header);
    if (!text) return dk__error(DK_ERR_NOMEM, "diff: out of memory");
    dk_status st = dk_file_write_text(path, text);
    free(text);
    return st;
}

static dk_status append_record(FILE *state, const char *path, const cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    if (!text) return dk__error(DK_ERR_NOMEM, "diff: out of memory");
    int ok = fputs(text, state) >= 0 && fputc('\n', state) != EOF && fflush(state) == 0 && fsync(fileno(state)) == 0;
    free(text);
    return ok ? DK_OK : dk__error(DK_ERR_IO, "diff: writing %s: %s", path, strerror(errno));
}

/* Opens the state file for appending: a new one, or an interrupted run's
 * with its records replayed into sum (a record cut short is dropped). */
static dk_status open_state(const dk_diff_run_options *o, int resume, const cJSON *header, int total,
                            dk_diff_summary *sum, int *done, FILE **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
    *done = 0;
    long good_end = 0;
    DK_TRY(resume ? resume_state(path, header, total, sum, done, &good_end) : start_state(path, header));
    if (resume && truncate(path, good_end) != 0) return dk__error(DK_ERR_IO, "diff: %s: %s", path, strerror(errno));
    if (!(*state = fopen(path, "ab"))) return dk__error(DK_ERR_IO, "diff: %s: %s", path, strerror(errno));
    /* summary.json is the mark of a whole result set, written last; while
     * records are added the set is not whole */
    snprintf(path, sizeof path, "%s/%s", o->out, SUMMARY_FILE);
    if (unlink(path) != 0 && errno != ENOENT) return dk__error(DK_ERR_IO, "diff: %s: %s", path, strerror(errno));
    return DK_OK;
}

/* ---- the loop ------------------------------------------------------------------ */

static void progress(int done, int total, int this_run, double elapsed)
{
    double rate = elapsed > 0 ? this_run / elapsed : 0;
    double left = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\rdiff: %d/%d inputs, %.2f inputs/s, %d:%02d left   ", done, total, rate, (int)(left / 60),
            (int)left % 60);
    fflush(stderr);
}

static dk_status run_inputs(const dk_diff_run_options *o, dk_diff *d, const input_list *l, dk_diff_summary *sum,
                            FILE *state, int done, double *ms_per_input)
{
    dk_preprocess pre;
    preprocessing(dk_diff_input_shape(d), &pre);
    int tty = o->progress && isatty(2), this_run = 0;
    double t0 = dk__now(), busy = 0;
    dk_status st = DK_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
    if (o->on_input) o->on_input(o->on_input_ctx, done, l->n);
    for (int i = done; i < l->n && !(o->stop && *o->stop) && st == DK_OK; i++) {
        dk_tensor owned = {0};
        const dk_tensor *t = NULL;
        const char *name = NULL;
        double t1 = dk__now();
        cJSON *rec = NULL;
        st = load_input(l, d, &pre, i, &owned, &t, &name);
        if (st == DK_OK) st = dk_diff_image(d, name, t, &rec);
        if (st == DK_OK && l->labels) cJSON_AddNumberToObject(rec, "label", l->labels[i]);
        if (st == DK_OK && o->record_logits) st = dk__diff_add_logits(d, rec);
        dk_tensor_reset(&owned);
        if (st == DK_OK) st = append_record(state, path, rec);
        if (st == DK_OK) st = dk_diff_summary_add(sum, rec);
        cJSON_Delete(rec);
        if (st != DK_OK) break;
        busy += dk__now() - t1;
        this_run++;
        if (tty) progress(i + 1, l->n, this_run, dk__now() - t0);
        if (o->on_input) o->on_input(o->on_input_ctx, i + 1, l->n);
    }
    if (tty && this_run) fputc('\n', stderr);
    *ms_per_input = this_run ? 1e3 * busy / this_run : 0;
    return st;
}

dk_status dk_diff_run(const dk_diff_run_options *o, dk_diff_run_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->force && o->resume) return dk__error(DK_ERR_INVALID, "diff: --force and --resume contradict each other");
    if (o->cfg.save && o->resume)
        return dk__error(DK_ERR_INVALID, "diff: --save cannot continue a bundle; run --resume without --save (or "
                         "redo the run with --force)");
    int fresh = 0, locks[2] = {-1, -1};
    DK_TRY(prepare_out(o, 0, &fresh));
    dk_status st = lock_dirs(o, locks);
    dk_diff *d = NULL;
    dk_diff_config cfg = o->cfg; /* a shard's bundle says which shard it is */
    cfg.save_shard_index = o->shard_count > 0 ? o->shard_index : 0;
    cfg.save_shard_count = o->shard_count > 0 ? o->shard_count : 0;
    if (st == DK_OK) st = dk_diff_create(&cfg, &d);
    input_list l = {0};
    if (st == DK_OK) st = inputs_collect(o, d, &l);
    if (st == DK_OK) st = check_bundle_inputs(o, d, &l);
    if (st == DK_OK) st = read_labels(o, d, &l);
    if (st == DK_OK) st = prepare_out(o, 1, &fresh);
    cJSON *identity = st == DK_OK ? dk_diff_identity(d) : NULL;
    if (identity && o->labels) cJSON_AddStringToObject(identity, "labels", o->labels);
    if (identity && o->shard_count > 0) {
        cJSON *shard = cJSON_AddObjectToObject(identity, "shard");
        cJSON_AddNumberToObject(shard, "index", o->shard_index);
        cJSON_AddNumberToObject(shard, "count", o->shard_count);
    }
    /* the header names every input, a shard's too: merge checks that its
     * shards cover one run */
    cJSON *header = identity ? state_header(identity, &l) : NULL;
    input_list sel = {0};
    if (st == DK_OK) st = inputs_shard(o, &l, &sel);
    dk_diff_summary *sum = NULL;
    if (st == DK_OK) st = dk_diff_summary_create(identity, &sum);
    int done = 0;
    FILE *state = NULL;
    if (st == DK_OK) st = open_state(o, o->resume && !fresh, header, sel.n, sum, &done, &state);
    if (st == DK_OK) st = dk__diff_write_environment(o, o->resume && !fresh);
    if (st == DK_OK) st = run_inputs(o, d, &sel, sum, state, done, &r->ms_per_input);
    if (state) fclose(state);
    if (st == DK_OK) {
        r->images = dk_diff_summary_images(sum);
        r->total = sel.n;
        r->complete = r->images == sel.n;
        cJSON *timing = cJSON_CreateObject();
        cJSON_AddNumberToObject(timing, "ms_per_input_this_run", r->ms_per_input);
        st = dk_diff_summary_write(sum, o->out, r->complete, timing);
        cJSON_Delete(timing);
        if (st == DK_OK) r->table = dk_diff_summary_table(sum);
    }
    dk_diff_summary_destroy(sum);
    cJSON_Delete(header);
    cJSON_Delete(identity);
    inputs_free(&sel);
    inputs_free(&l);
    dk_diff_destroy(d);
    dk__dir_unlock(locks[1]);
    dk__dir_unlock(locks[0]);
    return st;
}
