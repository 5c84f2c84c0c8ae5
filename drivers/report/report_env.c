/* The environment fingerprint (runtime/fingerprint.h) and the hwloc
 * topology as one compact table; whatever a result lacks is left out. */
#include <stdio.h>
#include <string.h>

#include "drivers/report/report_internal.h"

static void kv_begin(dk_html *h, const char *key)
{
    dk__html_raw(h, "<tr><th>");
    dk__html_text(h, key);
    dk__html_raw(h, "</th><td>");
}

static void kv_text(dk_html *h, const char *key, const char *value)
{
    if (!value || !value[0]) return;
    kv_begin(h, key);
    dk__html_text(h, value);
    dk__html_raw(h, "</td></tr>\n");
}

/* An array of strings joined with spaces. */
static void kv_list(dk_html *h, const char *key, const cJSON *a)
{
    if (!cJSON_IsArray(a) || !cJSON_GetArraySize(a)) return;
    kv_begin(h, key);
    const cJSON *e;
    int first = 1;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e)) continue;
        if (!first) dk__html_raw(h, " ");
        dk__html_text(h, e->valuestring);
        first = 0;
    }
    dk__html_raw(h, "</td></tr>\n");
}

static void size_text(char *buf, size_t n, double bytes)
{
    if (bytes >= 1 << 30) snprintf(buf, n, "%.1f GiB", bytes / (1 << 30));
    else if (bytes >= 1 << 20) snprintf(buf, n, "%.0f MiB", bytes / (1 << 20));
    else snprintf(buf, n, "%.0f KiB", bytes / 1024);
}

static void environment(dk_html *h, const cJSON *env)
{
    char buf[256];
    kv_text(h, "CPU", dk__j_str(env, "cpu_model", NULL));
    kv_list(h, "ISA", cJSON_GetObjectItemCaseSensitive(env, "isa"));
    double threads = dk__j_num(env, "threads", -1);
    if (threads >= 0) {
        snprintf(buf, sizeof buf, "%.0f", threads);
        kv_text(h, "threads", buf);
    }
    kv_text(h, "compiler", dk__j_str(env, "compiler", NULL));
    kv_text(h, "kernel", dk__j_str(env, "kernel", NULL));
    const cJSON *libs = cJSON_GetObjectItemCaseSensitive(env, "libraries"), *e;
    if (cJSON_IsObject(libs) && cJSON_GetArraySize(libs)) {
        kv_begin(h, "libraries");
        int first = 1;
        cJSON_ArrayForEach(e, libs) {
            if (!cJSON_IsString(e)) continue;
            dk__html_raw(h, first ? "" : "; ");
            dk__html_text(h, e->string);
            dk__html_raw(h, " ");
            dk__html_text(h, e->valuestring);
            first = 0;
        }
        dk__html_raw(h, "</td></tr>\n");
    }
    const cJSON *backends = cJSON_GetObjectItemCaseSensitive(env, "backends");
    if (!cJSON_IsArray(backends)) backends = NULL;
    cJSON_ArrayForEach(e, backends) {
        snprintf(buf, sizeof buf, "backend %s", dk__j_str(e, "name", "?"));
        kv_begin(h, buf);
        const cJSON *avail = cJSON_GetObjectItemCaseSensitive(e, "available");
        dk__html_text(h, dk__j_str(e, "version", ""));
        if (cJSON_IsFalse(avail)) {
            dk__html_raw(h, " <span class=\"muted\">(unavailable: ");
            dk__html_text(h, dk__j_str(e, "reason", "no reason given"));
            dk__html_raw(h, ")</span>");
        }
        dk__html_raw(h, "</td></tr>\n");
    }
    kv_text(h, "variant", dk__j_str(env, "variant", NULL));
}

static void topology(dk_html *h, const cJSON *t)
{
    char buf[512], size[32];
    snprintf(buf, sizeof buf, "%.0f package(s), %.0f cores, %.0f PUs (%s)", dk__j_num(t, "packages", 0),
             dk__j_num(t, "cores", 0), dk__j_num(t, "pus", 0), dk__j_str(t, "source", "?"));
    kv_text(h, "topology", buf);
    const cJSON *caches = cJSON_GetObjectItemCaseSensitive(t, "caches"), *c;
    if (cJSON_IsArray(caches) && cJSON_GetArraySize(caches)) {
        kv_begin(h, "caches");
        int first = 1;
        cJSON_ArrayForEach(c, caches) {
            size_text(size, sizeof size, dk__j_num(c, "size_bytes", 0));
            snprintf(buf, sizeof buf, "%sL%.0f %s %s ×%.0f", first ? "" : ", ", dk__j_num(c, "level", 0),
                     dk__j_str(c, "kind", ""), size, dk__j_num(c, "count", 1));
            dk__html_text(h, buf);
            first = 0;
        }
        dk__html_raw(h, "</td></tr>\n");
    }
    const cJSON *numa = cJSON_GetObjectItemCaseSensitive(t, "numa_nodes");
    if (cJSON_IsArray(numa) && cJSON_GetArraySize(numa)) {
        kv_begin(h, "NUMA");
        int first = 1;
        cJSON_ArrayForEach(c, numa) {
            size_text(size, sizeof size, dk__j_num(c, "memory_bytes", 0));
            snprintf(buf, sizeof buf, "%snode %.0f: %s, PUs %s", first ? "" : "; ", dk__j_num(c, "node", 0), size,
                     dk__j_str(c, "pus", "?"));
            dk__html_text(h, buf);
            first = 0;
        }
        dk__html_raw(h, "</td></tr>\n");
    }
}

void dk__report_environment(dk_html *h, const cJSON *env, const cJSON *topo)
{
    if (!cJSON_IsObject(env) && !cJSON_IsObject(topo)) {
        dk__html_raw(h, "<p class=\"note\">The result records no environment.</p>\n");
        return;
    }
    dk__html_raw(h, "<h3>Environment</h3><div class=\"scroll\"><table class=\"kv\">\n");
    if (cJSON_IsObject(env)) environment(h, env);
    if (cJSON_IsObject(topo)) topology(h, topo);
    dk__html_raw(h, "</table></div>\n");
}
