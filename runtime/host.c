/* The machine and the cache directory (runtime/host.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deltakern/fingerprint.h"
#include "runtime/error.h"
#include "runtime/host.h"

int dk__cpuinfo_field(const char *key, char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    size_t klen = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0 || (line[klen] != ' ' && line[klen] != '\t' && line[klen] != ':'))
            continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *val = colon + 1;
        while (*val == ' ') val++;
        val[strcspn(val, "\n")] = '\0';
        snprintf(buf, n, "%s", val);
        found = 1;
    }
    fclose(f);
    return found;
}

const char *dk_cpu_model(char *buf, size_t n)
{
    if (!dk__cpuinfo_field("model name", buf, n)) snprintf(buf, n, "unknown");
    return buf;
}

dk_status dk__cache_path(const char *name, char *buf, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int w;
    if (xdg && xdg[0] == '/') w = snprintf(buf, n, "%s/deltakern/%s", xdg, name);
    else if (home && home[0]) w = snprintf(buf, n, "%s/.cache/deltakern/%s", home, name);
    else return dk__error(DK_ERR_IO, "%s: neither XDG_CACHE_HOME nor HOME is set", name);
    if (w < 0 || (size_t)w >= n) return dk__error(DK_ERR_IO, "%s: cache path too long", name);
    return DK_OK;
}

/* A "Key:   N kB" line of /proc/meminfo in bytes; 0 when absent. */
static double meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double v = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') {
            v = strtod(line + n + 1, NULL) * 1024;
            break;
        }
    if (f) fclose(f);
    return v;
}

void dk__host_memory(double *total, double *available)
{
    *total = meminfo("MemTotal");
    if (*total <= 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        *total = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    }
    *available = meminfo("MemAvailable");
    if (*available <= 0) *available = *total;
}
