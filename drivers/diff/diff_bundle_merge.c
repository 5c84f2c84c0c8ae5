/* deltakern merge --bundle ... --save MERGED: the bundles of shard runs
 * (diff --shard K/N --save) into the bundle a single run with --save writes.
 * Image j of shard K's bundle is global input K + j*N; the merged folders are
 * numbered in the global order. Everything is read and checked before
 * anything is written (dk_diff_bundle_merge_check); the files are hard links
 * to the shards' (copies where linking fails) and the manifest comes last,
 * atomically, so that an interrupted merge leaves no manifest. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/diff.h"
#include "deltakern/file.h"
#include "drivers/diff/diff_internal.h"
#include "runtime/error.h"
#include "runtime/file.h"

#define MANIFEST_MAX (256u << 20)
#define MANIFEST "manifest.json"

typedef struct part {
    const char *dir;  /* the shard result */
    int index, count;
    cJSON *header;    /* its state header */
    int total;        /* inputs of the whole run (the header's) */
    int records;
    char **hashes;    /* input_hash of each record */
    const char *bdir; /* its bundle */
    cJSON *manifest;
    int bindex, bcount; /* the bundle's shard */
    dk__bundle b;
    int use;          /* images merged from it */
} part;

struct dk_diff_bundle_merge {
    char *out;
    int n;        /* shard results given */
    part *p;
    int nb;       /* bundles given */
    part **by_bundle; /* the part each bundle was matched to */
    int count, total;
    const part *ref; /* whose manifest the merged one copies */
};

/* ---- reading ---- */

static dk_status push_hash(part *p, const char *hash)
{
    char **h = realloc(p->hashes, sizeof *h * (size_t)(p->records + 1));
    if (!h) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    p->hashes = h;
    if (!(h[p->records] = strdup(hash))) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    p->records++;
    return DK_OK;
}

/* The shard result's header and the input hash of each record. */
static dk_status read_shard(part *p)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.jsonl", p->dir);
    FILE *f;
    dk_status st = dk__open_regular(path, 1, &f);
    if (st != DK_OK) return dk__error_prefix(st, "merge: %s is no diff result", p->dir);
    char *line = dk__diff_read_line(f);
    p->header = line ? cJSON_Parse(line) : NULL;
    free(line);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(p->header, "run");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(run, "shard");
    if (!cJSON_IsObject(run))
        st = dk__error(DK_ERR_FORMAT, "merge: %s: not a diff state file (no header line)", path);
    else if (!sh)
        st = dk__error(DK_ERR_INVALID, "merge: %s is a whole run, not a shard (diff --shard K/N makes shards)", p->dir);
    p->index = dk__json_int(sh, "index", -1);
    p->count = dk__json_int(sh, "count", 0);
    if (st == DK_OK && (p->count < 1 || p->index < 0 || p->index >= p->count))
        st = dk__error(DK_ERR_FORMAT, "merge: %s: shard %d/%d is not a valid shard", path, p->index, p->count);
    p->total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p->header, "inputs"));
    while (st == DK_OK && (line = dk__diff_read_line(f))) {
        cJSON *rec = cJSON_Parse(line);
        free(line);
        st = push_hash(p, dk__json_str(rec, "input_hash", ""));
        cJSON_Delete(rec);
    }
    fclose(f);
    return st;
}

/* A bundle's manifest as JSON and its shard; a whole run's is refused. */
static dk_status read_bundle_manifest(const char *dir, cJSON **manifest, int *index, int *count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/" MANIFEST, dir);
    unsigned char *data;
    size_t size;
    dk_status st = dk__read_regular(path, MANIFEST_MAX, 1, &data, &size);
    if (st != DK_OK) return dk__error_prefix(st, "merge: --bundle %s is not a bundle", dir);
    *manifest = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!*manifest) return dk__error(DK_ERR_FORMAT, "merge: --bundle %s: %s is not valid JSON", dir, path);
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(*manifest, "shard");
    if (!sh)
        return dk__error(DK_ERR_INVALID, "merge: --bundle %s is a whole run's bundle, not a shard's (diff --shard "
                         "K/N --save makes them)", dir);
    *index = dk__json_int(sh, "index", -1);
    *count = dk__json_int(sh, "count", 0);
    if (*count < 1 || *index < 0 || *index >= *count)
        return dk__error(DK_ERR_FORMAT, "merge: --bundle %s: shard %d/%d is not a valid shard", dir, *index, *count);
    return DK_OK;
}

/* ---- checking ---- */

static int same_key(const cJSON *a, const cJSON *b, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key), *y = cJSON_GetObjectItemCaseSensitive(b, key);
    return (!x && !y) || (x && y && cJSON_Compare(x, y, 1));
}

/* Two bundles of one run: one model, one baseline, the same values saved. */
static dk_status check_like(const part *a, const part *r)
{
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(a->manifest, "model");
    const cJSON *mr = cJSON_GetObjectItemCaseSensitive(r->manifest, "model");
    if (!same_key(a->manifest, r->manifest, "model"))
        return dk__error(DK_ERR_INVALID, "merge: bundles %s and %s are of different models (hash %s, %s)", a->bdir,
                         r->bdir, dk__json_str(ma, "hash", "?"), dk__json_str(mr, "hash", "?"));
    if (!same_key(a->manifest, r->manifest, "variant"))
        return dk__error(DK_ERR_INVALID, "merge: bundles %s and %s hold different baselines (%s, %s)", a->bdir,
                         r->bdir, dk__json_str(a->manifest, "variant", "?"), dk__json_str(r->manifest, "variant", "?"));
    static const char *const keys[] = {"format", "version", "hash_algorithm", "input", "output", "values"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!same_key(a->manifest, r->manifest, keys[i]))
            return dk__error(DK_ERR_INVALID, "merge: bundles %s and %s hold different values (their manifests' "
                             "\"%s\" differ)", a->bdir, r->bdir, keys[i]);
    if (a->bcount != r->bcount)
        return dk__error(DK_ERR_INVALID, "merge: bundle %s is shard %d/%d, %s shard %d/%d: not the same split",
                         a->bdir, a->bindex, a->bcount, r->bdir, r->bindex, r->bcount);
    return DK_OK;
}

/* The bundle against its shard result: same model, baseline and split. */
static dk_status check_against_shard(const part *p)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(p->header, "run");
    const char *mh = dk__json_str(cJSON_GetObjectItemCaseSensitive(p->manifest, "model"), "hash", "?");
    const char *sh = dk__json_str(run, "model_hash", "?");
    if (strcmp(mh, sh))
        return dk__error(DK_ERR_INVALID, "merge: bundle %s is of model hash %s, shard %s of %s", p->bdir, mh, p->dir,
                         sh);
    const char *bv = dk__json_str(p->manifest, "variant", "?"), *sv = dk__json_str(run, "baseline", "?");
    if (strcmp(bv, sv))
        return dk__error(DK_ERR_INVALID, "merge: bundle %s holds baseline %s, shard %s's baseline is %s", p->bdir,
                         bv, p->dir, sv);
    if (p->bcount != p->count)
        return dk__error(DK_ERR_INVALID, "merge: bundle %s is shard %d/%d, %s shard %d/%d: not the same split",
                         p->bdir, p->bindex, p->bcount, p->dir, p->index, p->count);
    return DK_OK;
}

/* Image j's folder: a real directory whose value files are regular files and
 * whose input has the hash the manifest gives it (a swapped "dir" would
 * otherwise merge another input's values). */
static dk_status check_folder(const part *p, int j)
{
    const dk__bundle *b = &p->b;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", b->dir, b->image_dirs[j]);
    dk_status st = dk__dir_real(path);
    if (st != DK_OK) return dk__error_prefix(st, "merge");
    for (int k = 0; k < b->values.n; k++) {
        snprintf(path, sizeof path, "%s/%s/%s", b->dir, b->image_dirs[j], b->files[k]);
        struct stat sb;
        if (lstat(path, &sb) != 0) return dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
        if (!S_ISREG(sb.st_mode))
            return dk__error(DK_ERR_INVALID, "merge: %s: not a regular file (a link or other, refused)", path);
    }
    dk_tensor t = {0};
    st = dk__bundle_load_value(b, j, dk__store_find(&b->values, b->input_name), &t);
    if (st != DK_OK) return dk__error_prefix(st, "merge");
    char hash[17];
    dk_diff_hash_tensor(&t, hash);
    dk_tensor_reset(&t);
    if (strcmp(hash, b->image_hashes[j]))
        return dk__error(DK_ERR_FORMAT, "merge: %s/%s: the input has hash %s, the manifest says %s (the folder holds "
                         "another input's values)", b->dir, b->image_dirs[j], hash, b->image_hashes[j]);
    return DK_OK;
}

/* Each image is its shard's input K + j*N (name from the header, hash from
 * the record); how many are merged (p->use). */
static dk_status check_images(part *p, int partial)
{
    const dk__bundle *b = &p->b;
    int want = (p->total - p->index + p->count - 1) / p->count;
    if (b->n_images > want)
        return dk__error(DK_ERR_FORMAT, "merge: bundle %s holds %d images for shard %d/%d's %d inputs", p->bdir,
                         b->n_images, p->index, p->count, want);
    /* the shard's inputs' names, walked once (cJSON_GetArrayItem walks the
     * list from its head) */
    const char **names = calloc((size_t)want + 1, sizeof *names);
    if (!names) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    const cJSON *in;
    int g = 0;
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(p->header, "inputs")) {
        if (g >= p->index && (g - p->index) % p->count == 0 && (g - p->index) / p->count < want)
            names[(g - p->index) / p->count] = cJSON_IsString(in) ? in->valuestring : "?";
        g++;
    }
    dk_status st = DK_OK;
    for (int j = 0; j < b->n_images && st == DK_OK; j++) {
        g = p->index + j * p->count;
        const char *name = names[j] ? names[j] : "?";
        if (strcmp(name, b->image_names[j]))
            st = dk__error(DK_ERR_INVALID, "merge: bundle %s: image %d is '%s', but input %d of shard %s is '%s' "
                           "(not this shard's bundle)", p->bdir, j, b->image_names[j], g, p->dir, name);
        else if (j < p->records && strcmp(p->hashes[j], b->image_hashes[j]))
            st = dk__error(DK_ERR_INVALID, "merge: bundle %s: image %d ('%s') has input hash %s, shard %s's "
                           "record %s", p->bdir, j, b->image_names[j], b->image_hashes[j], p->dir, p->hashes[j]);
    }
    free(names);
    DK_TRY(st);
    p->use = b->n_images < p->records ? b->n_images : p->records;
    if (p->use < want && !partial)
        return dk__error(DK_ERR_INVALID, "merge: bundle %s and shard %s hold %d and %d of shard %d/%d's %d inputs "
                         "(unfinished; merge --partial merges what both hold)", p->bdir, p->dir, b->n_images,
                         p->records, p->index, p->count, want);
    for (int j = 0; j < p->use; j++) DK_TRY(check_folder(p, j));
    return DK_OK;
}

/* Each bundle to the shard result of its index; every shard result has one. */
static dk_status match_bundles(dk_diff_bundle_merge *m, const dk_diff_bundle_merge_options *o)
{
    for (int i = 0; i < o->n_bundles; i++) {
        part tmp = {0};
        tmp.bdir = o->bundles[i];
        dk_status st = read_bundle_manifest(tmp.bdir, &tmp.manifest, &tmp.bindex, &tmp.bcount);
        part *p = NULL;
        for (int k = 0; st == DK_OK && k < m->n && !p; k++)
            if (m->p[k].index == tmp.bindex) p = &m->p[k];
        if (st == DK_OK && !p)
            st = dk__error(DK_ERR_INVALID, "merge: bundle %s is shard %d/%d, but no shard result %d/%d is given",
                           tmp.bdir, tmp.bindex, tmp.bcount, tmp.bindex, tmp.bcount);
        if (st == DK_OK && p->bdir)
            st = dk__error(DK_ERR_INVALID, "merge: bundles %s and %s are both shard %d/%d", p->bdir, tmp.bdir,
                           tmp.bindex, tmp.bcount);
        if (st != DK_OK) {
            cJSON_Delete(tmp.manifest);
            return st;
        }
        p->bdir = tmp.bdir;
        p->manifest = tmp.manifest;
        p->bindex = tmp.bindex;
        p->bcount = tmp.bcount;
        m->by_bundle[i] = p;
    }
    for (int k = 0; k < m->n; k++)
        if (!m->p[k].bdir)
            return dk__error(DK_ERR_INVALID, "merge: shard %s (%d/%d) has no --bundle (give its --save directory)",
                             m->p[k].dir, m->p[k].index, m->p[k].count);
    return DK_OK;
}

/* --save MERGED: never one of the bundles or shard results, and a bundle
 * there is replaced only with force. */
static dk_status check_out(const dk_diff_bundle_merge *m, int force)
{
    for (int k = 0; k < m->n; k++) {
        if (dk__same_dir(m->out, m->p[k].bdir))
            return dk__error(DK_ERR_INVALID, "merge: --save %s is bundle %s itself", m->out, m->p[k].bdir);
        if (dk__same_dir(m->out, m->p[k].dir))
            return dk__error(DK_ERR_INVALID, "merge: --save %s is shard %s itself", m->out, m->p[k].dir);
    }
    static const char *const names[] = {MANIFEST};
    DK_TRY(dk__dir_refuse_links(m->out, names, 1));
    char path[4096];
    snprintf(path, sizeof path, "%s/" MANIFEST, m->out);
    if (!force && access(path, F_OK) == 0)
        return dk__error(DK_ERR_INVALID, "merge: --save %s holds a bundle (use --force to overwrite)", m->out);
    return DK_OK;
}

static dk_status check_all(dk_diff_bundle_merge *m, const dk_diff_bundle_merge_options *o)
{
    for (int k = 0; k < m->n; k++) {
        m->p[k].dir = o->shards[k];
        DK_TRY(read_shard(&m->p[k]));
        for (int i = 0; i < k; i++)
            if (m->p[i].index == m->p[k].index)
                return dk__error(DK_ERR_INVALID, "merge: shard %d/%d is given twice: %s and %s", m->p[k].index,
                                 m->p[k].count, m->p[i].dir, m->p[k].dir);
        if (m->p[k].count != m->p[0].count || m->p[k].total != m->p[0].total)
            return dk__error(DK_ERR_INVALID, "merge: %s and %s are shards of different runs or splits", m->p[k].dir,
                             m->p[0].dir);
    }
    DK_TRY(match_bundles(m, o));
    m->count = m->p[0].count;
    m->total = m->p[0].total;
    m->ref = m->by_bundle[0];
    for (int k = 0; k < m->n; k++)
        if (m->p[k].index == 0) m->ref = &m->p[k];
    for (int i = 0; i < m->nb; i++) DK_TRY(check_like(m->by_bundle[i], m->ref));
    for (int k = 0; k < m->n; k++) {
        part *p = &m->p[k];
        DK_TRY(check_against_shard(p));
        dk_status st = dk__bundle_open(p->bdir, &p->b);
        if (st != DK_OK) return dk__error_prefix(st, "merge: --bundle %s", p->bdir);
        DK_TRY(check_images(p, o->partial));
    }
    return check_out(m, o->force);
}

dk_status dk_diff_bundle_merge_check(const dk_diff_bundle_merge_options *o, dk_diff_bundle_merge **plan)
{
    *plan = NULL;
    if (o->n_shards < 1 || o->n_bundles < 1) return dk__error(DK_ERR_INVALID, "merge: no shard or no bundle given");
    dk_diff_bundle_merge *m = calloc(1, sizeof *m);
    if (!m) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    m->n = o->n_shards;
    m->nb = o->n_bundles;
    m->p = calloc((size_t)m->n, sizeof *m->p);
    m->by_bundle = calloc((size_t)m->nb, sizeof *m->by_bundle);
    m->out = strdup(o->out);
    dk_status st = m->p && m->by_bundle && m->out ? check_all(m, o) : dk__error(DK_ERR_NOMEM, "merge: out of memory");
    if (st != DK_OK) {
        dk_diff_bundle_merge_free(m);
        return st;
    }
    *plan = m;
    return DK_OK;
}

/* ---- writing ---- */

/* A copy of the open file in under a temporary name, renamed to dst when
 * whole. */
static dk_status copy_file(FILE *in, const char *src, const char *dst)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s" DK__TMP_INFIX "%ld", dst, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return dk__error(DK_ERR_IO, "merge: %s: %s", tmp, strerror(errno));
    char buf[1 << 16];
    size_t got;
    dk_status st = DK_OK;
    while (st == DK_OK && (got = fread(buf, 1, sizeof buf, in)) > 0)
        for (size_t done = 0; st == DK_OK && done < got;) {
            ssize_t w = write(fd, buf + done, got - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
            else done += (size_t)w;
        }
    if (st == DK_OK && ferror(in)) st = dk__error(DK_ERR_IO, "merge: reading %s", src);
    if (st == DK_OK && fsync(fd) != 0) st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == DK_OK) st = dk__error(DK_ERR_IO, "merge: writing %s: %s", tmp, strerror(errno));
    if (st == DK_OK && rename(tmp, dst) != 0) st = dk__error(DK_ERR_IO, "merge: %s: %s", dst, strerror(errno));
    if (st != DK_OK) unlink(tmp);
    return st;
}

/* dst becomes src: a hard link, or a copy where linking fails (another file
 * system, a file system without links). src is opened first as a regular
 * file (no link followed), and the link must name the file opened. */
static dk_status place_file(const char *src, const char *dst)
{
    FILE *in;
    dk_status st = dk__open_regular(src, 1, &in);
    if (st != DK_OK) return dk__error_prefix(st, "merge");
    struct stat a, b;
    if (fstat(fileno(in), &a) != 0) st = dk__error(DK_ERR_IO, "merge: %s: %s", src, strerror(errno));
    if (st == DK_OK && unlink(dst) != 0 && errno != ENOENT)
        st = dk__error(DK_ERR_IO, "merge: %s: %s", dst, strerror(errno));
    if (st == DK_OK && link(src, dst) == 0) {
        /* src may have been swapped for a symbolic link since it was opened */
        if (lstat(dst, &b) != 0 || b.st_dev != a.st_dev || b.st_ino != a.st_ino) {
            unlink(dst);
            st = dk__error(DK_ERR_INVALID, "merge: %s changed while it was merged (refused)", src);
        }
    } else if (st == DK_OK) {
        st = copy_file(in, src, dst);
    }
    fclose(in);
    return st;
}

/* Image j of part p as folder `at` of the merged bundle. */
static dk_status place_image(const dk_diff_bundle_merge *m, const part *p, int j, int at)
{
    char sub[32], path[4096], src[4096];
    snprintf(sub, sizeof sub, "%05d", at);
    snprintf(path, sizeof path, "%s/%s", m->out, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return dk__error(DK_ERR_IO, "merge: %s: cannot create: %s", path, strerror(errno));
    DK_TRY(dk__dir_real(path)); /* a folder left by an earlier bundle: never a link to elsewhere */
    const dk__bundle *b = &p->b;
    for (int k = 0; k < b->values.n; k++) {
        snprintf(src, sizeof src, "%s/%s/%s", b->dir, b->image_dirs[j], b->files[k]);
        snprintf(path, sizeof path, "%s/%s/%s", m->out, sub, b->files[k]);
        DK_TRY(place_file(src, path));
    }
    return DK_OK;
}

static cJSON *image_json(const part *p, int j, int at)
{
    char sub[32];
    snprintf(sub, sizeof sub, "%05d", at);
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", p->b.image_names[j]);
    cJSON_AddStringToObject(v, "input_hash", p->b.image_hashes[j]);
    cJSON_AddStringToObject(v, "dir", sub);
    return v;
}

/* The reference bundle's manifest without its shard and with the merged
 * images: what write_manifest (diff_bundle.c) writes for a single run. */
static dk_status write_merged_manifest(const dk_diff_bundle_merge *m, cJSON *images)
{
    cJSON *man = cJSON_Duplicate(m->ref->manifest, 1);
    if (!man) {
        cJSON_Delete(images);
        return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(man, "shard");
    cJSON_ReplaceItemInObjectCaseSensitive(man, "images", images);
    char *text = cJSON_Print(man);
    cJSON_Delete(man);
    if (!text) return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/" MANIFEST, m->out);
    dk_status st = dk_file_write_atomic(path, text, strlen(text));
    free(text);
    return st;
}

static dk_status write_all(const dk_diff_bundle_merge *m, int *images)
{
    static const char *const names[] = {MANIFEST};
    DK_TRY(dk__dir_refuse_links(m->out, names, 1));
    dk__remove_stale_tmp(m->out, names, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/" MANIFEST, m->out);
    /* an old bundle's manifest goes first: until the new one is whole, no
     * manifest names folders half replaced */
    if (unlink(path) != 0 && errno != ENOENT) return dk__error(DK_ERR_IO, "merge: %s: %s", path, strerror(errno));
    /* the part of each shard index (NULL: not given) */
    const part **of = calloc((size_t)m->count, sizeof *of);
    cJSON *list = cJSON_CreateArray();
    if (!of || !list) {
        free(of);
        cJSON_Delete(list);
        return dk__error(DK_ERR_NOMEM, "merge: out of memory");
    }
    for (int k = 0; k < m->n; k++) of[m->p[k].index] = &m->p[k];
    dk_status st = DK_OK;
    for (int g = 0; g < m->total && st == DK_OK; g++) {
        const part *p = of[g % m->count];
        int j = g / m->count;
        if (!p || j >= p->use) continue;
        st = place_image(m, p, j, *images);
        cJSON *v = st == DK_OK ? image_json(p, j, *images) : NULL;
        if (st == DK_OK && !v) st = dk__error(DK_ERR_NOMEM, "merge: out of memory");
        if (v) cJSON_AddItemToArray(list, v);
        (*images)++;
    }
    free(of);
    if (st != DK_OK) {
        cJSON_Delete(list);
        return st;
    }
    return write_merged_manifest(m, list);
}

dk_status dk_diff_bundle_merge_write(dk_diff_bundle_merge *m, int *images)
{
    *images = 0;
    int lock = -1;
    DK_TRY(dk__dir_lock(m->out, &lock));
    dk_status st = write_all(m, images);
    dk__dir_unlock(lock);
    return st;
}

void dk_diff_bundle_merge_free(dk_diff_bundle_merge *m)
{
    if (!m) return;
    for (int k = 0; m->p && k < m->n; k++) {
        part *p = &m->p[k];
        cJSON_Delete(p->header);
        cJSON_Delete(p->manifest);
        for (int j = 0; j < p->records; j++) free(p->hashes[j]);
        free(p->hashes);
        if (p->b.dir) dk__bundle_free(&p->b);
    }
    free(m->p);
    free(m->by_bundle);
    free(m->out);
    free(m);
}
