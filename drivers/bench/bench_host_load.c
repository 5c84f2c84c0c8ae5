/* What bench records of the host's load (runtime/host_load.c samples it):
 * the result's "host_load" object, the line after the table, and reading a
 * result's verdict back for compare. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/bench/bench_host_load.h"

static void add_num_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static void add_loadavg(cJSON *o, const char *key, int ok, const double *la)
{
    if (ok) cJSON_AddItemToObject(o, key, cJSON_CreateDoubleArray(la, 3));
    else cJSON_AddNullToObject(o, key);
}

cJSON *dk__host_load_json(const dk__host_load *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON *why = cJSON_CreateObject();
    double wall = dk__host_load_wall(h);
    dk__host_figures f;
    dk__host_load_figures(h, &f);
    cJSON_AddStringToObject(o, "window", "recorded rounds (after the warm-up)");
    cJSON_AddNumberToObject(o, "wall_s", wall);
    cJSON_AddNumberToObject(o, "runs", h->runs);
    add_num_or_null(o, "online_cpus", h->online_cpus > 0 ? (double)h->online_cpus : NAN);
    cJSON_AddNumberToObject(o, "samples", h->n_samples);
    if (h->n_samples > 0) {
        cJSON *r = cJSON_AddObjectToObject(o, "others_runnable");
        cJSON_AddNumberToObject(r, "mean", f.others_mean);
        cJSON_AddNumberToObject(r, "max", (double)h->others_max);
        cJSON_AddNumberToObject(r, "procs_running_mean", h->procs_sum / h->n_samples);
        cJSON_AddNumberToObject(r, "own_running_mean", h->own_sum / h->n_samples);
    } else {
        cJSON_AddNullToObject(o, "others_runnable");
        cJSON_AddStringToObject(why, "others_runnable", h->others_why[0] ? h->others_why : "no sample taken");
    }
    double all, steal, guest, busy;
    if (dk__host_load_ticks(h, &all, &steal, &guest, &busy) == 0 && all > 0) {
        add_num_or_null(o, "steal_share", steal / all);
        if (!isfinite(steal)) cJSON_AddStringToObject(why, "steal_share", "/proc/stat: no steal column");
        add_num_or_null(o, "guest_share", guest / all);
        if (!isfinite(guest)) cJSON_AddStringToObject(why, "guest_share", "/proc/stat: no guest column");
        double busy_cores = h->clk_tck > 0 && wall > 0 ? busy / (double)h->clk_tck / wall : NAN;
        add_num_or_null(o, "host_busy_cores", busy_cores);
        double others = h->ru_ok ? busy_cores - h->cpu_s / wall : NAN;
        add_num_or_null(o, "others_cpu_cores", isfinite(others) && others < 0 ? 0 : others);
    } else {
        const char *r = h->stat_ok ? "/proc/stat: no ticks elapsed" : h->stat_why[0] ? h->stat_why : "not read";
        static const char *const keys[] = {"steal_share", "guest_share", "host_busy_cores", "others_cpu_cores"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            cJSON_AddNullToObject(o, keys[k]);
            cJSON_AddStringToObject(why, keys[k], r);
        }
    }
    add_loadavg(o, "loadavg_start", h->la0_ok, h->la0);
    add_loadavg(o, "loadavg_end", h->la1_ok, h->la1);
    if (!h->la0_ok || !h->la1_ok) cJSON_AddStringToObject(why, "loadavg", h->la_why);
    if (h->ru_ok) {
        cJSON *c = cJSON_AddObjectToObject(o, "context_switches");
        cJSON_AddNumberToObject(c, "voluntary", (double)h->nvcsw);
        cJSON_AddNumberToObject(c, "involuntary", (double)h->nivcsw);
        add_num_or_null(c, "involuntary_per_s", f.invol_per_s);
        add_num_or_null(c, "involuntary_per_run", h->runs > 0 ? (double)h->nivcsw / h->runs : NAN);
        cJSON_AddNumberToObject(o, "cpu_s", h->cpu_s);
        add_num_or_null(o, "cpu_per_wall", wall > 0 ? h->cpu_s / wall : NAN);
    } else {
        cJSON_AddNullToObject(o, "context_switches");
        cJSON_AddNullToObject(o, "cpu_s");
        cJSON_AddNullToObject(o, "cpu_per_wall");
        cJSON_AddStringToObject(why, "context_switches", h->ru_why);
    }
    char reasons[512];
    int v = dk__host_verdict(&f, reasons, sizeof reasons);
    cJSON_AddStringToObject(o, "verdict", dk__host_load_verdict_name(v));
    if (v < 0) cJSON_AddNullToObject(o, "disturbed");
    else cJSON_AddBoolToObject(o, "disturbed", v);
    cJSON *ra = cJSON_AddArrayToObject(o, "reasons");
    for (const char *p = reasons; *p;) {
        size_t len = strcspn(p, ";");
        char one[256];
        snprintf(one, sizeof one, "%.*s", (int)(len < 255 ? len : 255), p);
        cJSON_AddItemToArray(ra, cJSON_CreateString(one));
        p += len;
        while (*p == ';' || *p == ' ') p++;
    }
    char rule[256];
    snprintf(rule, sizeof rule,
             "disturbed when other runnable tasks >= %.1f on average, or steal >= %.0f%%, or >= %.0f "
             "involuntary context switches/s (and at least %d)",
             DK_HOST_OTHERS_LIMIT, DK_HOST_STEAL_LIMIT * 100, DK_HOST_INVOL_LIMIT, DK_HOST_INVOL_MIN);
    cJSON_AddStringToObject(o, "rule", rule);
    cJSON_AddItemToObject(o, "unavailable", why);
    return o;
}

void dk__host_load_note(const dk__host_load *h, char *buf, size_t n)
{
    dk__host_figures f;
    char reasons[512];
    if (n) buf[0] = 0;
    if (!h->ended) return;
    dk__host_load_figures(h, &f);
    if (dk__host_verdict(&f, reasons, sizeof reasons) != 1) return;
    snprintf(buf, n, "host disturbed: %s; rerun on a quiet host, or with OMP_WAIT_POLICY=passive", reasons);
}

const char *dk__host_load_verdict_name(int verdict)
{
    switch (verdict) {
    case 1: return "disturbed";
    case 0: return "quiet";
    case -1: return "unknown";
    default: return "not recorded";
    }
}

int dk__host_load_read(const cJSON *root, char *why, size_t n)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "host_load");
    if (n) why[0] = 0;
    if (!cJSON_IsObject(h)) return -2;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(h, "disturbed"), *r;
    int v = cJSON_IsTrue(d) ? 1 : cJSON_IsFalse(d) ? 0 : -1;
    int len = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(h, "reasons")) {
        if (!cJSON_IsString(r) || len < 0 || (size_t)len >= n) continue;
        len += snprintf(why + len, n - (size_t)len, "%s%s", len ? ", " : "", r->valuestring);
    }
    return v;
}
