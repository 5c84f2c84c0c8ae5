/* The roofline measurement and its cache (measure/roofline.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/cache.h"
#include "runtime/error.h"
#include "runtime/host.h"
#include "runtime/file.h"
#include "deltakern/fingerprint.h"
#include "deltakern/file.h"
#include "deltakern/roofline.h"

#define PEAK_TRIALS 20  /* 50 ms each: the peak is the best of them */
#define TRIAD_TRIALS 20
#define MIB (1024.0 * 1024.0)

static int current_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

dk_status dk_roofline_measure(dk_roofline *out)
{
    memset(out, 0, sizeof *out);
    const char *isa = "";
    int threads = current_threads();
    out->peak_gflops = dk_roofline_peak_gflops(threads, PEAK_TRIALS, &isa);
    size_t bytes = 4 * dk__cache_last_level_bytes(); /* each array 4x the last-level cache */
    if (bytes < (size_t)(64 * MIB)) bytes = (size_t)(64 * MIB);
    if (bytes > (size_t)(1024 * MIB)) bytes = (size_t)(1024 * MIB);
    out->bandwidth_gbs = dk_roofline_triad_gbs(bytes, TRIAD_TRIALS);
    if (out->bandwidth_gbs < 0)
        return dk__error(DK_ERR_NOMEM, "roofline: cannot allocate 3 x %.0f MiB for the triad",
                         (double)bytes / MIB);
    if (!(out->peak_gflops > 0) || !(out->bandwidth_gbs > 0))
        return dk__error(DK_ERR_INTERNAL, "roofline: measurement gave no time (peak %g, bandwidth %g)",
                         out->peak_gflops, out->bandwidth_gbs);
    time_t now = time(NULL);
    struct tm tm;
    char when[32] = "";
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(out->source, sizeof out->source,
             "measured %s: %s FMA loop on %d threads (best of %d), STREAM triad over 3 x %.0f MiB "
             "(best of %d)",
             when, isa, threads, PEAK_TRIALS, (double)bytes / MIB, TRIAD_TRIALS);
    return DK_OK;
}

dk_status dk_roofline_cache_path(char *buf, size_t n) { return dk__cache_path("roofline.json", buf, n); }

/* The cache file parsed (an empty one when the file is absent). */
static dk_status read_cache(const char *path, cJSON **out)
{
    *out = NULL;
    if (access(path, F_OK) != 0) {
        *out = cJSON_CreateObject();
        cJSON_AddArrayToObject(*out, "entries");
        return DK_OK;
    }
    unsigned char *data;
    size_t size;
    DK_TRY(dk__read_file(path, 1 << 20, &data, &size));
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!j || !cJSON_IsArray(cJSON_GetObjectItem(j, "entries"))) {
        cJSON_Delete(j);
        return dk__error(DK_ERR_FORMAT, "%s: not a roofline cache (expected {\"entries\": [...]}); "
                         "remove it or run `deltakern roofline --force`", path);
    }
    *out = j;
    return DK_OK;
}

/* out->source = "<what> (cached in <path>)", cut to fit. */
static void set_source(dk_roofline *out, const char *what, const char *path)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s (cached in %s)", what, path);
    size_t len = strlen(buf);
    if (len >= sizeof out->source) len = sizeof out->source - 1;
    memcpy(out->source, buf, len);
    out->source[len] = '\0';
}

static cJSON *find_entry(cJSON *cache, const char *model, int threads)
{
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(cache, "entries")) {
        cJSON *m = cJSON_GetObjectItem(e, "cpu_model"), *t = cJSON_GetObjectItem(e, "threads");
        if (cJSON_IsString(m) && cJSON_IsNumber(t) && strcmp(m->valuestring, model) == 0 &&
            t->valueint == threads)
            return e;
    }
    return NULL;
}

dk_status dk_roofline_load(dk_roofline *out)
{
    memset(out, 0, sizeof *out);
    char path[1024], model[256];
    DK_TRY(dk_roofline_cache_path(path, sizeof path));
    cJSON *cache;
    DK_TRY(read_cache(path, &cache));
    dk_cpu_model(model, sizeof model);
    int threads = current_threads();
    cJSON *e = find_entry(cache, model, threads);
    if (!e) {
        cJSON_Delete(cache);
        return dk__error(DK_ERR_UNAVAILABLE,
                         "no roofline measured for CPU '%s' with %d threads (%s): run `deltakern roofline`",
                         model, threads, path);
    }
    cJSON *p = cJSON_GetObjectItem(e, "peak_gflops"), *b = cJSON_GetObjectItem(e, "bandwidth_gbs");
    cJSON *s = cJSON_GetObjectItem(e, "source");
    dk_status st = DK_OK;
    if (!cJSON_IsNumber(p) || !cJSON_IsNumber(b) || !(p->valuedouble > 0) || !(b->valuedouble > 0)) {
        st = dk__error(DK_ERR_FORMAT, "%s: entry for '%s' with %d threads lacks positive peak_gflops "
                       "and bandwidth_gbs; run `deltakern roofline --force`", path, model, threads);
    } else {
        out->peak_gflops = p->valuedouble;
        out->bandwidth_gbs = b->valuedouble;
        set_source(out, cJSON_IsString(s) ? s->valuestring : "measured", path);
    }
    cJSON_Delete(cache);
    return st;
}

/* mkdir -p of the directory part of path. */
static dk_status make_parent_dirs(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return dk__error(DK_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
        *p = '/';
    }
    return DK_OK;
}


/* A number written with 17 significant digits, so that reading the cache
 * gives back the very same double (cJSON prints 15 when those come close). */
static void add_exact(cJSON *obj, const char *key, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    cJSON_AddRawToObject(obj, key, buf);
}

dk_status dk_roofline_store(const dk_roofline *r)
{
    char path[1024], model[256];
    DK_TRY(dk_roofline_cache_path(path, sizeof path));
    cJSON *cache;
    dk_status st = read_cache(path, &cache);
    if (st == DK_ERR_FORMAT) { /* replacing a corrupt cache is what --force asks for */
        cache = cJSON_CreateObject();
        cJSON_AddArrayToObject(cache, "entries");
    } else if (st != DK_OK) {
        return st;
    }
    dk_cpu_model(model, sizeof model);
    int threads = current_threads();
    cJSON *entries = cJSON_GetObjectItem(cache, "entries");
    cJSON *old = find_entry(cache, model, threads);
    if (old) cJSON_Delete(cJSON_DetachItemViaPointer(entries, old));
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "cpu_model", model);
    cJSON_AddNumberToObject(e, "threads", threads);
    add_exact(e, "peak_gflops", r->peak_gflops);
    add_exact(e, "bandwidth_gbs", r->bandwidth_gbs);
    cJSON_AddStringToObject(e, "source", r->source);
    cJSON_AddItemToArray(entries, e);
    char *text = cJSON_Print(cache);
    cJSON_Delete(cache);
    if (!text) return dk__error(DK_ERR_NOMEM, "out of memory");
    st = make_parent_dirs(path);
    if (st == DK_OK) st = dk_file_write_text(path, text);
    cJSON_free(text);
    return st;
}

dk_status dk_roofline_get(int measure_if_missing, dk_roofline *out)
{
    dk_status st = dk_roofline_load(out);
    if (st != DK_ERR_UNAVAILABLE || !measure_if_missing) return st;
    DK_TRY(dk_roofline_measure(out));
    DK_TRY(dk_roofline_store(out));
    char path[1024], what[sizeof out->source];
    if (dk_roofline_cache_path(path, sizeof path) == DK_OK) {
        memcpy(what, out->source, sizeof what);
        set_source(out, what, path);
    }
    return DK_OK;
}
