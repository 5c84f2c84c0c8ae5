/* Differential harness: bundles — one image's observed values as .npy files
 * with a manifest.json, written on one machine and used as the baseline on
 * another (--save / --against); hashing; atomic text files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/backend.h"
#include "deltakern/input.h"
#include "deltakern/file.h"
#include "drivers/diff/diff_internal.h"
#include "input/npy.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/file.h"

#define BUNDLE_FORMAT "deltakern-bundle"
#define BUNDLE_VERSION 1
#define MANIFEST_MAX (256u << 20)

/* ---- hashing: FNV-1a 64 (identity, not security) ---- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * FNV_PRIME;
    return h;
}

static void hex64(uint64_t h, char hex[17]) { snprintf(hex, 17, "%016llx", (unsigned long long)h); }

void dk__diff_hash_bytes(const void *p, size_t n, char hex[17]) { hex64(fnv(FNV_OFFSET, p, n), hex); }

dk_status dk_diff_hash_file(const char *path, char hex[17])
{
    FILE *f = fopen(path, "rb");
    if (!f) return dk__error(DK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    uint64_t h = FNV_OFFSET;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) h = fnv(h, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad) return dk__error(DK_ERR_IO, "%s: read error", path);
    hex64(h, hex);
    return DK_OK;
}

void dk_diff_hash_tensor(const dk_tensor *t, char hex[17])
{
    uint64_t h = FNV_OFFSET;
    int32_t head[2] = {(int32_t)t->dtype, t->ndim};
    h = fnv(h, head, sizeof head);
    h = fnv(h, t->dims, sizeof(int64_t) * (size_t)t->ndim);
    if (t->data) h = fnv(h, t->data, dk_tensor_nbytes(t));
    hex64(h, hex);
}

/* ---- stores ---- */

static uint64_t str_hash(const char *s) { return fnv(FNV_OFFSET, s, strlen(s)); }

/* Open addressing over n keys: the free entry for key, or the one holding it
 * (match says whether entry e - 1 holds it). */
static int probe(const int *index, int cap, uint64_t h, const void *key, int (*match)(const void *, int, const void *),
                 const void *ctx)
{
    size_t mask = (size_t)cap - 1, at = (size_t)h & mask;
    while (index[at] && !match(ctx, index[at] - 1, key)) at = (at + 1) & mask;
    return (int)at;
}

/* Grows index to room for need keys at most half full, reinserting keys
 * 0..n-1. */
static dk_status reindex(int **index, int *cap, int need, int n, uint64_t (*hash_of)(const void *, int),
                         int (*match)(const void *, int, const void *), const void *ctx)
{
    int c = 16;
    while (c < 2 * need) c *= 2;
    if (c <= *cap) return DK_OK;
    int *ix = calloc((size_t)c, sizeof *ix);
    if (!ix) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) ix[probe(ix, c, hash_of(ctx, i), NULL, match, ctx)] = i + 1;
    free(*index);
    *index = ix;
    *cap = c;
    return DK_OK;
}

static uint64_t store_hash(const void *ctx, int i) { return str_hash(((const dk__diff_store *)ctx)->names[i]); }
static int store_match(const void *ctx, int i, const void *key)
{
    return key && !strcmp(((const dk__diff_store *)ctx)->names[i], key);
}

int dk__store_find(const dk__diff_store *s, const char *name)
{
    if (!s->index_cap) return -1;
    int at = probe(s->index, s->index_cap, str_hash(name), name, store_match, s);
    return s->index[at] - 1;
}

dk_status dk__store_add(dk__diff_store *s, const char *name, const dk_tensor *shape_of)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        char **names = realloc(s->names, sizeof *names * (size_t)cap);
        if (!names) return dk__error(DK_ERR_NOMEM, "out of memory");
        s->names = names;
        dk_tensor *t = realloc(s->t, sizeof *t * (size_t)cap);
        if (!t) return dk__error(DK_ERR_NOMEM, "out of memory");
        s->t = t;
        s->cap = cap;
    }
    DK_TRY(reindex(&s->index, &s->index_cap, s->n + 1, s->n, store_hash, store_match, s));
    if (!(s->names[s->n] = strdup(name))) return dk__error(DK_ERR_NOMEM, "out of memory");
    memset(&s->t[s->n], 0, sizeof s->t[s->n]);
    s->t[s->n].dtype = shape_of->dtype;
    s->t[s->n].ndim = shape_of->ndim;
    memcpy(s->t[s->n].dims, shape_of->dims, sizeof shape_of->dims);
    s->index[probe(s->index, s->index_cap, str_hash(name), name, store_match, s)] = s->n + 1;
    s->n++;
    return DK_OK;
}

void dk__store_free(dk__diff_store *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->names[i]);
        if (s->views) s->t[i].data = NULL;
        dk_tensor_reset(&s->t[i]);
    }
    free(s->names);
    free(s->t);
    free(s->index);
    memset(s, 0, sizeof *s);
}

/* ---- writing ---- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* "0003_layer1.0_conv1_output_0.npy": the index keeps names unique. */
static char *value_file(int i, const char *name)
{
    size_t n = strlen(name);
    char *f = malloc(n + 16);
    if (!f) return NULL;
    int at = snprintf(f, n + 16, "%04d_", i);
    for (size_t k = 0; k < n; k++) {
        char c = name[k];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '-' || c == '_';
        f[at++] = ok ? c : '_';
    }
    strcpy(f + at, ".npy");
    return f;
}

static cJSON *shape_json(const dk_tensor *t)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < t->ndim; d++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t->dims[d]));
    return a;
}

static dk_status write_manifest(const dk__bundle *b)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "format", BUNDLE_FORMAT);
    cJSON_AddNumberToObject(m, "version", BUNDLE_VERSION);
    cJSON *model = cJSON_AddObjectToObject(m, "model");
    cJSON_AddStringToObject(model, "file", b->model_file);
    cJSON_AddStringToObject(model, "hash", b->model_hash);
    cJSON_AddStringToObject(m, "hash_algorithm", "fnv1a64");
    cJSON_AddStringToObject(m, "variant", b->variant);
    if (b->shard_count > 0) { /* absent for a whole run: its manifest is as before */
        cJSON *shard = cJSON_AddObjectToObject(m, "shard");
        cJSON_AddNumberToObject(shard, "index", b->shard_index);
        cJSON_AddNumberToObject(shard, "count", b->shard_count);
    }
    cJSON_AddItemToObject(m, "environment", cJSON_Duplicate(b->environment, 1));
    cJSON_AddStringToObject(m, "input", b->input_name);
    cJSON_AddStringToObject(m, "output", b->output_name);
    cJSON *vals = cJSON_AddArrayToObject(m, "values");
    for (int i = 0; i < b->values.n; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", b->values.names[i]);
        cJSON_AddStringToObject(v, "file", b->files[i]);
        cJSON_AddStringToObject(v, "dtype", dk_dtype_name(b->values.t[i].dtype));
        cJSON_AddItemToObject(v, "shape", shape_json(&b->values.t[i]));
        cJSON_AddItemToArray(vals, v);
    }
    cJSON *imgs = cJSON_AddArrayToObject(m, "images");
    for (int i = 0; i < b->n_images; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", b->image_names[i]);
        cJSON_AddStringToObject(v, "input_hash", b->image_hashes[i]);
        cJSON_AddStringToObject(v, "dir", b->image_dirs[i]);
        cJSON_AddItemToArray(imgs, v);
    }
    char *text = cJSON_Print(m);
    cJSON_Delete(m);
    if (!text) return dk__error(DK_ERR_NOMEM, "out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", b->dir);
    dk_status st = dk_file_write_atomic(path, text, strlen(text));
    free(text);
    return st;
}

dk_status dk__bundle_begin(dk__bundle *b, const char *dir, const char *model_file,
                           const char *model_hash, const char *variant, cJSON *environment,
                           const char *input_name, const char *output_name,
                           const dk__diff_store *shapes, int shard_index, int shard_count)
{
    memset(b, 0, sizeof *b);
    b->environment = environment;
    b->shard_index = shard_index;
    b->shard_count = shard_count;
    dk_status made = dk_file_mkdirs(dir);
    if (made != DK_OK) return dk__error_prefix(made, "--save");
    b->dir = strdup(dir);
    const char *base = strrchr(model_file, '/');
    b->model_file = strdup(base ? base + 1 : model_file);
    b->model_hash = strdup(model_hash);
    b->variant = strdup(variant);
    b->input_name = dup_or_null(input_name);
    b->output_name = dup_or_null(output_name);
    b->files = calloc((size_t)shapes->n + 1, sizeof *b->files);
    if (!b->dir || !b->model_file || !b->model_hash || !b->variant || !b->files || !b->input_name ||
        !b->output_name)
        return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int i = 0; i < shapes->n; i++) {
        DK_TRY(dk__store_add(&b->values, shapes->names[i], &shapes->t[i]));
        if (!(b->files[i] = value_file(i, shapes->names[i]))) return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    return write_manifest(b);
}

static uint64_t image_hash(const void *ctx, int i) { return str_hash(((const dk__bundle *)ctx)->image_hashes[i]); }
static int image_match(const void *ctx, int i, const void *key)
{
    const dk__bundle *b = ctx;
    /* reinserting (key NULL): every image is its own key, duplicates too */
    return key ? !strcmp(b->image_hashes[i], key) : 0;
}

static dk_status push_image(dk__bundle *b, const char *name, const char *hash, const char *dir)
{
    if (b->n_images == b->cap_images) {
        int cap = b->cap_images ? 2 * b->cap_images : 16;
        char **n = realloc(b->image_names, sizeof *n * (size_t)cap);
        if (n) b->image_names = n;
        char **h = realloc(b->image_hashes, sizeof *h * (size_t)cap);
        if (h) b->image_hashes = h;
        char **d = realloc(b->image_dirs, sizeof *d * (size_t)cap);
        if (d) b->image_dirs = d;
        if (!n || !h || !d) return dk__error(DK_ERR_NOMEM, "out of memory");
        b->cap_images = cap;
    }
    b->image_names[b->n_images] = strdup(name);
    b->image_hashes[b->n_images] = strdup(hash);
    b->image_dirs[b->n_images] = strdup(dir);
    b->n_images++;
    if (!b->image_names[b->n_images - 1] || !b->image_hashes[b->n_images - 1] ||
        !b->image_dirs[b->n_images - 1])
        return dk__error(DK_ERR_NOMEM, "out of memory");
    DK_TRY(reindex(&b->hash_index, &b->hash_index_cap, b->n_images, b->n_images - 1, image_hash, image_match, b));
    int at = probe(b->hash_index, b->hash_index_cap, str_hash(hash), hash, image_match, b);
    if (!b->hash_index[at]) b->hash_index[at] = b->n_images; /* the first image with this hash */
    return DK_OK;
}

dk_status dk__bundle_add_image(dk__bundle *b, const char *name, const char *hash,
                               const dk__diff_store *store)
{
    char sub[32], path[4096];
    snprintf(sub, sizeof sub, "%05d", b->n_images);
    snprintf(path, sizeof path, "%s/%s", b->dir, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return dk__error(DK_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    DK_TRY(dk__dir_real(path)); /* a folder left by an earlier bundle: never a link to elsewhere */
    dk__remove_stale_tmp(path, (const char *const *)b->files, b->values.n);
    for (int i = 0; i < b->values.n; i++) {
        int k = dk__store_find(store, b->values.names[i]);
        if (k < 0 || !store->t[k].data)
            return dk__error(DK_ERR_INTERNAL, "bundle: value '%s' missing", b->values.names[i]);
        snprintf(path, sizeof path, "%s/%s/%s", b->dir, sub, b->files[i]);
        DK_TRY(dk_npy_save(path, &store->t[k]));
    }
    DK_TRY(push_image(b, name, hash, sub));
    return write_manifest(b);
}

/* ---- reading ---- */

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static dk_status bad_manifest(const char *dir, const char *why)
{
    return dk__error(DK_ERR_FORMAT, "--against %s/manifest.json: %s", dir, why);
}

static dk_status read_values(dk__bundle *b, const cJSON *vals)
{
    int n = cJSON_GetArraySize(vals);
    b->files = calloc((size_t)n + 1, sizeof *b->files);
    if (!b->files) return dk__error(DK_ERR_NOMEM, "out of memory");
    int i = 0;
    const cJSON *v;
    /* walked once (cJSON_GetArrayItem(i) walks the list from its head) */
    cJSON_ArrayForEach(v, vals) {
        const char *name = get_str(v, "name"), *file = get_str(v, "file"), *dtype = get_str(v, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
        if (!name || !file || !dtype || !cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > DK_MAX_DIMS ||
            strchr(file, '/') || !strcmp(file, ".."))
            return bad_manifest(b->dir, "a value lacks name, file, dtype or shape");
        if (dk__store_find(&b->values, name) >= 0) {
            char why[512];
            snprintf(why, sizeof why, "value '%.400s' is listed twice", name);
            return bad_manifest(b->dir, why);
        }
        dk_tensor t = {0};
        t.dtype = strcmp(dtype, "float32") == 0 ? DK_F32 : DK_DTYPE_UNDEFINED;
        if (t.dtype != DK_F32) return bad_manifest(b->dir, "only float32 values are supported");
        t.ndim = cJSON_GetArraySize(shape);
        for (int d = 0; d < t.ndim; d++) {
            /* checked as a double first: converting 1e300 or NaN to int64 is undefined */
            double x = cJSON_GetArrayItem(shape, d)->valuedouble;
            if (!cJSON_IsNumber(cJSON_GetArrayItem(shape, d)) || !(x >= 0 && x <= (double)DK_MAX_DIM) ||
                x != (double)(int64_t)x)
                return bad_manifest(b->dir, "a value's shape holds something other than a dimension "
                                            "(an integer from 0 to " DK_MAX_LIMIT_STR ")");
            t.dims[d] = (int64_t)x;
        }
        DK_TRY(dk__store_add(&b->values, name, &t));
        if (!(b->files[i] = strdup(file))) return dk__error(DK_ERR_NOMEM, "out of memory");
        i++;
    }
    return DK_OK;
}

dk_status dk__bundle_open(const char *dir, dk__bundle *b)
{
    memset(b, 0, sizeof *b);
    if (!(b->dir = strdup(dir))) return dk__error(DK_ERR_NOMEM, "out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    unsigned char *data;
    size_t size;
    dk_status st = dk__read_regular(path, MANIFEST_MAX, 1, &data, &size);
    if (st != DK_OK) return dk__error_prefix(st, "--against %s: not a bundle", dir);
    cJSON *m = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!m) return bad_manifest(dir, "not valid JSON");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(m, "model");
    const char *fmt = get_str(m, "format");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(m, "values");
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(m, "images");
    if (!fmt || strcmp(fmt, BUNDLE_FORMAT) || !get_str(model, "hash") || !get_str(m, "variant") ||
        !get_str(m, "input") || !get_str(m, "output") || !cJSON_IsArray(vals) || !cJSON_IsArray(imgs)) {
        cJSON_Delete(m);
        return bad_manifest(dir, "not a deltakern bundle manifest (format, model, variant, input, output, "
                                 "values or images missing)");
    }
    b->model_hash = strdup(get_str(model, "hash"));
    b->model_file = strdup(get_str(model, "file") ? get_str(model, "file") : "?");
    b->variant = strdup(get_str(m, "variant"));
    b->input_name = strdup(get_str(m, "input"));
    b->output_name = strdup(get_str(m, "output"));
    b->environment = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "environment"), 1);
    st = read_values(b, vals);
    const cJSON *im;
    cJSON_ArrayForEach(im, imgs) {
        if (st != DK_OK) break;
        const char *name = get_str(im, "name"), *hash = get_str(im, "input_hash"), *sub = get_str(im, "dir");
        if (!name || !hash || !sub || strchr(sub, '/') || !strcmp(sub, ".."))
            st = bad_manifest(dir, "an image lacks name, input_hash or dir");
        else
            st = push_image(b, name, hash, sub);
    }
    cJSON_Delete(m);
    if (st == DK_OK && dk__store_find(&b->values, b->input_name) < 0)
        st = bad_manifest(dir, "the input value is not among the values");
    if (st == DK_OK && dk__store_find(&b->values, b->output_name) < 0)
        st = bad_manifest(dir, "the output value is not among the values");
    if (st == DK_OK && b->n_images == 0) st = bad_manifest(dir, "the bundle holds no image");
    return st;
}

int dk__bundle_find(const dk__bundle *b, const char *hash)
{
    if (!b->hash_index_cap) return -1;
    return b->hash_index[probe(b->hash_index, b->hash_index_cap, str_hash(hash), hash, image_match, b)] - 1;
}

dk_status dk__bundle_load_value(const dk__bundle *b, int i, int k, dk_tensor *t)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->image_dirs[i]);
    DK_TRY(dk__dir_real(path));
    snprintf(path, sizeof path, "%s/%s/%s", b->dir, b->image_dirs[i], b->files[k]);
    return dk__npy_load_file(path, 1, t);
}

dk_status dk__bundle_load_image(const dk__bundle *b, int i, dk__diff_store *store)
{
    char path[4096];
    int input = dk__store_find(&b->values, b->input_name);
    for (int k = 0; k < b->values.n; k++) {
        snprintf(path, sizeof path, "%s/%s/%s", b->dir, b->image_dirs[i], b->files[k]);
        dk_tensor t = {0};
        DK_TRY(dk__bundle_load_value(b, i, k, &t));
        const dk_tensor *want = &b->values.t[k];
        int same = t.dtype == want->dtype && t.ndim == want->ndim;
        for (int d = 0; same && d < t.ndim; d++) same = t.dims[d] == want->dims[d];
        if (!same) {
            char a[128], c[128];
            dk_shape_str(t.ndim, t.dims, a, sizeof a);
            dk_tensor_reset(&t);
            return dk__error(DK_ERR_FORMAT, "%s: holds %s, the manifest says %s", path, a,
                             dk_shape_str(want->ndim, want->dims, c, sizeof c));
        }
        /* the folder must hold this image's values: its input has the hash
         * the manifest gives the image (a dir naming another image's folder
         * would otherwise be the baseline without a word) */
        char hash[17];
        if (k == input && (dk_diff_hash_tensor(&t, hash), strcmp(hash, b->image_hashes[i]))) {
            dk_tensor_reset(&t);
            return dk__error(DK_ERR_FORMAT, "%s: the input of image '%s' has hash %s, the manifest says %s (the "
                             "folder holds another input's values)", path, b->image_names[i], hash,
                             b->image_hashes[i]);
        }
        dk_tensor_reset(&store->t[k]);
        store->t[k] = t;
    }
    return DK_OK;
}

void dk__bundle_free(dk__bundle *b)
{
    free(b->dir);
    free(b->model_hash);
    free(b->model_file);
    free(b->variant);
    free(b->input_name);
    free(b->output_name);
    for (int i = 0; i < b->values.n; i++) free(b->files ? b->files[i] : NULL);
    free(b->files);
    dk__store_free(&b->values);
    for (int i = 0; i < b->n_images; i++) {
        free(b->image_names[i]);
        free(b->image_hashes[i]);
        free(b->image_dirs[i]);
    }
    free(b->image_names);
    free(b->image_hashes);
    free(b->image_dirs);
    free(b->hash_index);
    cJSON_Delete(b->environment);
    memset(b, 0, sizeof *b);
}
