/* The topology and thread binding with hwloc (a sysconf-based stub without it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/error.h"
#include "deltakern/topology.h"

#define MAX_THREADS 256

static char bind_mode[16] = "none";

/* What every pool thread reports about itself. */
typedef struct thread_place {
    int tid;
    int cpu;             /* sched_getcpu() */
    char cpuset[128];    /* where it may run */
    int last_pu;         /* hwloc: os index of the PU it ran on last */
    int core;            /* logical index of that PU's core, -1 unknown */
    int rc;              /* binding: 0 or errno */
} thread_place;

static int pool_size(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < MAX_THREADS ? n : MAX_THREADS;
#else
    return 1;
#endif
}

#ifdef DK_HAVE_HWLOC

#include <errno.h>
#include <hwloc.h>

static hwloc_topology_t topo;
static int topo_state; /* 1 loaded, -1 failed */
static char topo_failure[128];
static pthread_once_t topo_once = PTHREAD_ONCE_INIT;

static void topo_load(void)
{
    if (hwloc_topology_init(&topo) != 0) {
        snprintf(topo_failure, sizeof topo_failure, "hwloc_topology_init failed");
        topo_state = -1;
        return;
    }
    if (hwloc_topology_load(topo) != 0) {
        snprintf(topo_failure, sizeof topo_failure, "hwloc_topology_load failed");
        hwloc_topology_destroy(topo);
        topo_state = -1;
        return;
    }
    topo_state = 1;
}

static int topo_ready(void)
{
    pthread_once(&topo_once, topo_load);
    return topo_state == 1;
}

int dk_topology_cores(void)
{
    if (!topo_ready()) return (int)sysconf(_SC_NPROCESSORS_ONLN);
    int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    return n > 0 ? n : dk_topology_pus();
}

int dk_topology_pus(void)
{
    if (!topo_ready()) return (int)sysconf(_SC_NPROCESSORS_ONLN);
    return hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
}

static const char *cache_kind(hwloc_obj_cache_type_t t)
{
    switch (t) {
    case HWLOC_OBJ_CACHE_DATA: return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION: return "instruction";
    default: return "unified";
    }
}

static void add_caches(cJSON *arr)
{
    /* one entry per distinct (level, kind, size, line) with how many there are */
    for (hwloc_obj_type_t type = HWLOC_OBJ_L1CACHE; type <= HWLOC_OBJ_L3ICACHE; type++) {
        if (!hwloc_obj_type_is_cache(type)) continue;
        int n = hwloc_get_nbobjs_by_type(topo, type);
        for (int i = 0; i < n; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, (unsigned)i);
            int found = 0;
            cJSON *e;
            cJSON_ArrayForEach(e, arr) {
                if (cJSON_GetObjectItem(e, "level")->valueint == (int)o->attr->cache.depth &&
                    strcmp(cJSON_GetObjectItem(e, "kind")->valuestring, cache_kind(o->attr->cache.type)) == 0 &&
                    cJSON_GetObjectItem(e, "size_bytes")->valuedouble == (double)o->attr->cache.size) {
                    cJSON *cnt = cJSON_GetObjectItem(e, "count");
                    cJSON_SetNumberValue(cnt, cnt->valuedouble + 1);
                    found = 1;
                    break;
                }
            }
            if (found) continue;
            e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "level", o->attr->cache.depth);
            cJSON_AddStringToObject(e, "kind", cache_kind(o->attr->cache.type));
            cJSON_AddNumberToObject(e, "size_bytes", (double)o->attr->cache.size);
            cJSON_AddNumberToObject(e, "line_bytes", o->attr->cache.linesize);
            cJSON_AddNumberToObject(e, "count", 1);
            cJSON_AddItemToArray(arr, e);
        }
    }
}

cJSON *dk_topology_json(void)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    if (!topo_ready()) {
        cJSON_AddStringToObject(j, "source", "sysconf");
        cJSON_AddStringToObject(j, "note", topo_failure);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cJSON_AddNumberToObject(j, "packages", 1);
        cJSON_AddNumberToObject(j, "cores", (double)n);
        cJSON_AddNumberToObject(j, "pus", (double)n);
        return j;
    }
    char src[64];
    unsigned v = hwloc_get_api_version();
    snprintf(src, sizeof src, "hwloc (API %u.%u.%u)", v >> 16, (v >> 8) & 0xff, v & 0xff);
    cJSON_AddStringToObject(j, "source", src);
    cJSON_AddNumberToObject(j, "packages", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE));
    cJSON_AddNumberToObject(j, "cores", dk_topology_cores());
    cJSON_AddNumberToObject(j, "pus", dk_topology_pus());
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (model) cJSON_AddStringToObject(j, "cpu_model", model);

    cJSON *cores = cJSON_AddArrayToObject(j, "core_list");
    int nc = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    for (int i = 0; i < nc; i++) {
        hwloc_obj_t c = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
        hwloc_obj_t p = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, c);
        char *pus = NULL;
        hwloc_bitmap_list_asprintf(&pus, c->cpuset);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "core", i);
        cJSON_AddNumberToObject(e, "package", p ? (double)p->logical_index : 0);
        cJSON_AddStringToObject(e, "pus", pus ? pus : "");
        free(pus);
        cJSON_AddItemToArray(cores, e);
    }
    add_caches(cJSON_AddArrayToObject(j, "caches"));
    cJSON *numa = cJSON_AddArrayToObject(j, "numa_nodes");
    int nn = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < nn; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
        char *pus = NULL;
        hwloc_bitmap_list_asprintf(&pus, o->cpuset);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "node", o->os_index);
        cJSON_AddNumberToObject(e, "memory_bytes", (double)o->attr->numanode.local_memory);
        cJSON_AddStringToObject(e, "pus", pus ? pus : "");
        free(pus);
        cJSON_AddItemToArray(numa, e);
    }
    return j;
}

static void bind_one(int t, int n_cores, int to_core, thread_place *pl)
{
    hwloc_bitmap_t set;
    if (to_core) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)(t % n_cores));
        set = hwloc_bitmap_dup(core->cpuset);
        hwloc_bitmap_singlify(set); /* one PU: no migration between its hyperthreads */
    } else {
        set = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo));
    }
    pl->rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) == 0 ? 0 : errno;
    hwloc_bitmap_free(set);
}

dk_status dk_bind_threads(const char *mode)
{
    int to_core;
    if (mode && strcmp(mode, "core") == 0) to_core = 1;
    else if (mode && strcmp(mode, "none") == 0) to_core = 0;
    else return dk__error(DK_ERR_INVALID, "--bind '%s': expected core or none", mode ? mode : "(null)");
    if (!topo_ready()) {
        if (!to_core) return DK_OK;
        return dk__error(DK_ERR_UNAVAILABLE, "cannot bind threads to cores: %s", topo_failure);
    }
    int n = pool_size(), n_cores = dk_topology_cores();
    thread_place pl[MAX_THREADS];
    memset(pl, 0, sizeof pl);
#ifdef _OPENMP
#pragma omp parallel num_threads(n)
    {
        int t = omp_get_thread_num();
        if (t < n) bind_one(t, n_cores, to_core, &pl[t]);
    }
#else
    bind_one(0, n_cores, to_core, &pl[0]);
#endif
    for (int t = 0; t < n; t++)
        if (pl[t].rc)
            return dk__error(DK_ERR_UNAVAILABLE, "binding thread %d %s: %s", t,
                             to_core ? "to a core" : "to every CPU", strerror(pl[t].rc));
    snprintf(bind_mode, sizeof bind_mode, "%s", mode);
    return DK_OK;
}

static void place_one(thread_place *pl)
{
    pl->tid = (int)syscall(SYS_gettid);
    pl->cpu = sched_getcpu();
    pl->last_pu = -1;
    pl->core = -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_THREAD) == 0)
        hwloc_bitmap_list_snprintf(pl->cpuset, sizeof pl->cpuset, set);
    if (hwloc_get_last_cpu_location(topo, set, HWLOC_CPUBIND_THREAD) == 0) {
        pl->last_pu = hwloc_bitmap_first(set);
        hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)pl->last_pu);
        hwloc_obj_t core = pu ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu) : NULL;
        if (core) pl->core = (int)core->logical_index;
    }
    hwloc_bitmap_free(set);
}

#else /* !DK_HAVE_HWLOC */

static const char no_hwloc[] = "deltakern was built without hwloc";

int dk_topology_pus(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }
int dk_topology_cores(void) { return dk_topology_pus(); }

cJSON *dk_topology_json(void)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON_AddStringToObject(j, "source", "sysconf");
    cJSON_AddStringToObject(j, "note", no_hwloc);
    cJSON_AddNumberToObject(j, "packages", 1);
    cJSON_AddNumberToObject(j, "cores", (double)n);
    cJSON_AddNumberToObject(j, "pus", (double)n);
    return j;
}

dk_status dk_bind_threads(const char *mode)
{
    if (mode && strcmp(mode, "none") == 0) return DK_OK;
    if (mode && strcmp(mode, "core") == 0)
        return dk__error(DK_ERR_UNAVAILABLE, "cannot bind threads to cores: %s", no_hwloc);
    return dk__error(DK_ERR_INVALID, "--bind '%s': expected core or none", mode ? mode : "(null)");
}

static int topo_ready(void) { return 0; }

static void place_one(thread_place *pl)
{
    pl->tid = (int)syscall(SYS_gettid);
    pl->cpu = sched_getcpu();
    pl->last_pu = pl->cpu;
    pl->core = -1;
}

#endif

cJSON *dk_binding_json(void)
{
    int n = pool_size();
    thread_place pl[MAX_THREADS];
    memset(pl, 0, sizeof pl);
    (void)topo_ready();
#ifdef _OPENMP
#pragma omp parallel num_threads(n)
    {
        int t = omp_get_thread_num();
        if (t < n) place_one(&pl[t]);
    }
#else
    place_one(&pl[0]);
#endif
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "mode", bind_mode);
    cJSON *arr = cJSON_AddArrayToObject(j, "threads");
    for (int t = 0; t < n; t++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "thread", t);
        cJSON_AddNumberToObject(e, "tid", pl[t].tid);
        if (pl[t].cpuset[0]) cJSON_AddStringToObject(e, "cpuset", pl[t].cpuset);
        cJSON_AddNumberToObject(e, "last_pu", pl[t].last_pu);
        cJSON_AddNumberToObject(e, "core", pl[t].core);
        cJSON_AddItemToArray(arr, e);
    }
    return j;
}
