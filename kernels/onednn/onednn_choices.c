/* opt=3's choices, remembered: the candidate choose_algorithm picked for a
 * convolution is picked again for the same convolution, in this process
 * (every session of a variant plans alike, so two runs give the same bits)
 * and across processes through a file, $XDG_CACHE_HOME/deltakern/
 * onednn-choices.json, one table per CPU model, oneDNN version and thread
 * count (timing on a busy host would otherwise pick another kernel on the
 * next run, and the results would differ in the last bits).
 * DK_ONEDNN_CHOICES=FILE keeps them in another file, =off in this process
 * only, =fresh nowhere (every plan times its candidates again: for tests of
 * the choosing itself). A choice is the candidate's name, or, when another
 * process was runnable while it was timed, {"choice": name, "busy": why}:
 * kept all the same (every later run computes the same bits), and every plan
 * that takes it says so, so that the user knows which choices to time again
 * (delete them, or the file, on a quiet host). Processes planning at once
 * (concurrent tests, MPI ranks) share the file: each store merges under a
 * lock, and a layer not in this process's table is looked for in the file
 * again before it is timed; the last writer used to overwrite the others'
 * choices, whose next run then timed again and could compute other bits
 * (models.efficientnet_b0 and models.regnet_y_400mf, run side by side). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/file.h"
#include "deltakern/fingerprint.h"
#include "kernels/onednn/onednn_internal.h"
#include "runtime/file.h"
#include "runtime/host.h"

#define CHOICES_FORMAT "deltakern-onednn-choices/1"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cJSON *file_doc;     /* the file as read, with this process's additions */
static cJSON *table;        /* this machine's table in file_doc ("choices" object) */
static int loaded;
static char path[4096];     /* "" when choices stay in this process */
static int fresh;           /* DK_ONEDNN_CHOICES=fresh: nothing remembered */

/* The convolution as the choice depends on it: shapes, window, groups,
 * post-ops, precision and which candidates were open. */
void dk_onednn_choice_key(const dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n, const char *cands,
                          char *key, size_t len)
{
    char x[96], w[96];
    const dk_tensor *xt = &g->values[n->inputs[0]].t, *wt = &g->values[n->inputs[1]].t;
    const dk_window *win = &n->p.conv.win;
    int used = snprintf(key, len, "x=%s w=%s g=%lld", dk_shape_str(xt->ndim, xt->dims, x, sizeof x),
                        dk_shape_str(wt->ndim, wt->dims, w, sizeof w), (long long)n->p.conv.group);
    for (int i = 0; i < win->nspatial && used > 0 && (size_t)used < len; i++)
        used += snprintf(key + used, len - (size_t)used, " s%lld d%lld p%lld,%lld", (long long)win->stride[i],
                         (long long)win->dilation[i], (long long)win->pad_begin[i], (long long)win->pad_end[i]);
    if (used > 0 && (size_t)used < len)
        snprintf(key + used, len - (size_t)used, " b%d sum%d act%d %s [%s]", n->p.conv.has_bias, n->post.has_sum,
                 (int)n->post.act, ctx->bf16 ? "bf16" : "f32", cands);
}

static int threads_now(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* This machine's table in the document, made when missing. */
static cJSON *machine_table(cJSON *doc)
{
    char cpu[256], lib[96];
    dk_cpu_model(cpu, sizeof cpu);
    dk_dnnl_library_version(lib, sizeof lib);
    int threads = threads_now();
    cJSON *tables = cJSON_GetObjectItem(doc, "tables");
    if (!cJSON_IsArray(tables)) {
        cJSON_DeleteItemFromObject(doc, "tables");
        tables = cJSON_AddArrayToObject(doc, "tables");
    }
    cJSON *t;
    cJSON_ArrayForEach(t, tables)
    {
        cJSON *c = cJSON_GetObjectItem(t, "cpu"), *o = cJSON_GetObjectItem(t, "onednn"),
              *th = cJSON_GetObjectItem(t, "threads"), *ch = cJSON_GetObjectItem(t, "choices");
        if (cJSON_IsString(c) && !strcmp(c->valuestring, cpu) && cJSON_IsString(o) && !strcmp(o->valuestring, lib) &&
            cJSON_IsNumber(th) && th->valueint == threads && cJSON_IsObject(ch))
            return ch;
    }
    t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "cpu", cpu);
    cJSON_AddStringToObject(t, "onednn", lib);
    cJSON_AddNumberToObject(t, "threads", threads);
    cJSON *ch = cJSON_AddObjectToObject(t, "choices");
    cJSON_AddItemToArray(tables, t);
    return ch;
}

/* The file's document, or NULL when it is missing, unreadable or of another
 * format. */
static cJSON *read_doc(void)
{
    unsigned char *data = NULL;
    size_t size = 0;
    cJSON *doc = NULL;
    if (path[0] && access(path, R_OK) == 0 && dk__read_file(path, 16u << 20, &data, &size) == DK_OK)
        doc = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    cJSON *fmt = doc ? cJSON_GetObjectItem(doc, "format") : NULL;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, CHOICES_FORMAT)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* Copies into `to` every entry of `from` whose key it lacks. */
static void add_missing(cJSON *to, const cJSON *from)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, from)
    {
        if (!cJSON_GetObjectItemCaseSensitive(to, e->string))
            cJSON_AddItemToObject(to, e->string, cJSON_Duplicate(e, 1));
    }
}

/* Other processes' choices made since this one read the file (concurrent
 * tests, MPI ranks, a diff's shards): taken into this process's table. */
static void adopt_from_file(void)
{
    cJSON *doc = read_doc();
    if (doc) add_missing(table, machine_table(doc));
    cJSON_Delete(doc);
}

/* Reads the file once (a missing or unreadable one is an empty table: the
 * cache only saves time, it never decides correctness). */
static void load(void)
{
    if (loaded) return;
    loaded = 1;
    const char *env = getenv("DK_ONEDNN_CHOICES");
    path[0] = '\0';
    fresh = env && !strcmp(env, "fresh");
    if (env && (!strcmp(env, "off") || fresh)) {
    } else if (env && env[0]) {
        snprintf(path, sizeof path, "%s", env);
    } else if (dk__cache_path("onednn-choices.json", path, sizeof path) != DK_OK) {
        path[0] = '\0';
    }
    file_doc = read_doc();
    if (!file_doc) {
        file_doc = cJSON_CreateObject();
        cJSON_AddStringToObject(file_doc, "format", CHOICES_FORMAT);
    }
    table = machine_table(file_doc);
}

/* An entry's candidate name: the string itself, or an object's "choice";
 * NULL for anything else (a file edited by hand). */
static const char *entry_choice(const cJSON *c)
{
    const cJSON *choice = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "choice") : c;
    return cJSON_IsString(choice) ? choice->valuestring : NULL;
}

int dk_onednn_choice_find(const char *key, char *name, size_t len, char *busy, size_t busy_len)
{
    pthread_mutex_lock(&lock);
    load();
    cJSON *c = table && !fresh ? cJSON_GetObjectItemCaseSensitive(table, key) : NULL;
    if (!c && table && !fresh) {
        adopt_from_file();
        c = cJSON_GetObjectItemCaseSensitive(table, key);
    }
    const char *choice = entry_choice(c);
    cJSON *why = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "busy") : NULL;
    if (choice) snprintf(name, len, "%s", choice);
    if (busy_len) snprintf(busy, busy_len, "%s", choice && cJSON_IsString(why) ? why->valuestring : "");
    pthread_mutex_unlock(&lock);
    return choice != NULL;
}

/* Writes this process's choices into the file without losing those other
 * processes wrote since it was read: under a lock (FILE.lock), the file is
 * read again, this table's entries it lacks are added (key replaced when
 * `replace`, or when the file's entry is no choice) and it is written back; what it
 * holds besides comes into this table. A key another process stored first
 * stays as it stored it. */
static void write_merged(const char *key, int replace)
{
    char dir[4096], lock_path[4096 + 8];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    /* a cache that cannot be written is only a cache: this process remembers */
    if (slash && dk_file_mkdirs(dir) != DK_OK) {
        dk__error_clear();
        return;
    }
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) flock(fd, LOCK_EX);
    cJSON *doc = read_doc();
    if (!doc) doc = cJSON_Duplicate(file_doc, 1);
    cJSON *t = doc ? machine_table(doc) : NULL;
    if (t) {
        const cJSON *theirs = cJSON_GetObjectItemCaseSensitive(t, key);
        if (theirs && (replace || !entry_choice(theirs))) cJSON_DeleteItemFromObjectCaseSensitive(t, key);
        add_missing(t, table);
        char *text = cJSON_Print(doc);
        if (text) dk_file_write_text(path, text);
        free(text);
        add_missing(table, t);
    }
    cJSON_Delete(doc);
    dk__error_clear();
    if (fd >= 0) close(fd); /* and the lock with it */
}

void dk_onednn_choice_store(const char *key, const char *name, const char *busy, int replace)
{
    pthread_mutex_lock(&lock);
    load();
    /* the first choice stays (sessions planning at once in this process),
     * unless it is no choice at all or not one of the candidates */
    cJSON *old = table && !fresh ? cJSON_GetObjectItemCaseSensitive(table, key) : NULL;
    if (old && (replace || !entry_choice(old))) {
        cJSON_DeleteItemFromObjectCaseSensitive(table, key);
        old = NULL;
    }
    if (table && !fresh && !old) {
        if (busy && busy[0]) {
            cJSON *c = cJSON_AddObjectToObject(table, key);
            cJSON_AddStringToObject(c, "choice", name);
            cJSON_AddStringToObject(c, "busy", busy);
        } else {
            cJSON_AddStringToObject(table, key, name);
        }
        if (path[0]) write_merged(key, replace);
    }
    pthread_mutex_unlock(&lock);
}
