/* The environment fingerprint (measure/fingerprint.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/backend.h"
#include "measure/counters.h"
#include "runtime/host.h"
#include "deltakern/fingerprint.h"
#include "deltakern/topology.h"

#ifndef DK_VERSION
#define DK_VERSION "unknown"
#endif

/* ISA extensions that change which kernels the libraries pick, as
 * /proc/cpuinfo spells them. */
static const char *const isa_flags[] = {
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512cd", "avx512bw",
    "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
    "amx_bf16", "amx_int8", "asimd", "sve", "sve2",
};

static int has_flag(const char *flags, const char *flag)
{
    size_t len = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += len)
        if ((p == flags || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0')) return 1;
    return 0;
}

static void add_cpu(cJSON *j)
{
    char buf[8192];
    cJSON_AddStringToObject(j, "cpu_model", dk_cpu_model(buf, sizeof buf));
    if (dk__cpuinfo_field("vendor_id", buf, sizeof buf)) cJSON_AddStringToObject(j, "cpu_vendor", buf);
    if (dk__cpuinfo_field("cpu MHz", buf, sizeof buf)) cJSON_AddNumberToObject(j, "cpu_mhz", atof(buf));
    cJSON *isa = cJSON_AddArrayToObject(j, "isa");
    if (dk__cpuinfo_field("flags", buf, sizeof buf) || dk__cpuinfo_field("Features", buf, sizeof buf))
        for (size_t i = 0; i < sizeof isa_flags / sizeof isa_flags[0]; i++)
            if (has_flag(buf, isa_flags[i])) cJSON_AddItemToArray(isa, cJSON_CreateString(isa_flags[i]));
}

static void add_backends(cJSON *j)
{
    cJSON *arr = cJSON_AddArrayToObject(j, "backends");
    for (int i = 0; i < dk_backend_count(); i++) {
        const dk_backend_iface *b = dk_backend_at(i);
        char reason[256], desc[512];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", dk_backend_name(b));
        cJSON_AddStringToObject(e, "version", dk_backend_version(b));
        int ok = dk_backend_probe(b, reason, sizeof reason) == DK_OK;
        cJSON_AddBoolToObject(e, "available", ok);
        if (!ok) cJSON_AddStringToObject(e, "reason", reason);
        if (ok && dk_backend_describe(b, desc, sizeof desc) == DK_OK)
            cJSON_AddStringToObject(e, "describe", desc);
        cJSON_AddItemToArray(arr, e);
    }
}

static void add_variant(cJSON *j, const dk_variant *v)
{
    char buf[1024];
    cJSON_AddStringToObject(j, "variant", dk_variant_canonical(v, 1, buf, sizeof buf));
    cJSON *opts = cJSON_AddObjectToObject(j, "options");
    for (int i = 0; i < v->n_options; i++) cJSON_AddStringToObject(opts, v->options[i].key, v->options[i].value);
}

const char *dk_transparent_huge_pages(void)
{
    static const char *const modes[] = {"always", "madvise", "never"};
    char line[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return "unknown";
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
    /* the kernel brackets the mode in force: "always [madvise] never" */
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char want[16];
        snprintf(want, sizeof want, "[%s]", modes[i]);
        if (strstr(line, want)) return modes[i];
    }
    return "unknown";
}

/* Pages change what a memory-bound kernel costs (TLB reach) and what a
 * session's creation costs (page faults): the kernel's huge-page mode, and
 * whether malloc advises its large blocks as huge pages (glibc's tunable
 * glibc.malloc.hugetlb, which the deltakern command sets where the mode is
 * "madvise"; buffers of 2 MiB and more are advised by deltakern itself). */
static void add_memory(cJSON *j)
{
    cJSON *m = cJSON_AddObjectToObject(j, "memory");
    if (!m) return;
    cJSON_AddStringToObject(m, "transparent_huge_pages", dk_transparent_huge_pages());
    const char *tunables = getenv("GLIBC_TUNABLES"), *by = getenv("DK_MALLOC_HUGETLB_BY");
    const char *hugetlb = tunables ? strstr(tunables, "glibc.malloc.hugetlb=") : NULL;
    char buf[96] = "not set";
    if (hugetlb)
        snprintf(buf, sizeof buf, "%.*s %s", (int)strcspn(hugetlb, ":"), hugetlb,
                 by && !strcmp(by, "deltakern") ? "set by deltakern" : "from the environment");
    cJSON_AddStringToObject(m, "malloc_huge_pages", buf);
    if (tunables) cJSON_AddStringToObject(m, "glibc_tunables", tunables); /* all of malloc's settings */
}

cJSON *dk_environment_json(const dk_variant *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "deltakern", DK_VERSION);
#if defined(__GNUC__) && !defined(__clang__)
    cJSON_AddStringToObject(j, "compiler", "gcc " __VERSION__);
#elif defined(__VERSION__)
    cJSON_AddStringToObject(j, "compiler", __VERSION__);
#endif
    struct utsname u;
    if (uname(&u) == 0) {
        char k[512];
        snprintf(k, sizeof k, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(j, "kernel", k);
    }
    add_cpu(j);
    add_memory(j);
#ifdef _OPENMP
    cJSON_AddNumberToObject(j, "openmp", _OPENMP);
    cJSON_AddNumberToObject(j, "threads", omp_get_max_threads());
#else
    cJSON_AddNumberToObject(j, "threads", 1);
#endif
    cJSON *libs = cJSON_AddObjectToObject(j, "libraries");
    cJSON_AddStringToObject(libs, "cjson", cJSON_Version());
    cJSON_AddStringToObject(libs, "counters", dk_counters_library());
    cJSON *topo = dk_topology_json();
    cJSON *src = cJSON_GetObjectItem(topo, "source");
    cJSON_AddStringToObject(libs, "topology", cJSON_IsString(src) ? src->valuestring : "unknown");
    cJSON_Delete(topo);
    add_backends(j);
    if (v) add_variant(j, v);
    return j;
}
