/* deltakern — the machine's topology (hwloc) and where worker threads run.
 *
 * dk_topology_json(): packages, cores, processing units, caches (level, kind,
 * size, line) and NUMA nodes (memory) as a cJSON object, for every result.
 * dk_bind_threads("core") pins each OpenMP pool thread to a core of its own
 * (round robin when there are more threads than cores); "none" lets every
 * thread run anywhere the process may. dk_binding_json() records, for each
 * pool thread, the CPUs it may run on and the one it ran on last.
 *
 * Built without hwloc, the topology holds what sysconf knows and says why,
 * binding to cores fails with a message, and "none" works.
 *
 * Ownership: the cJSON objects returned belong to the caller (cJSON_Delete).
 * NULL only when out of memory. */
#ifndef DELTAKERN_TOPOLOGY_H
#define DELTAKERN_TOPOLOGY_H

#include <cjson/cJSON.h>

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

cJSON *dk_topology_json(void);
/* mode: "core" | "none"; anything else is DK_ERR_INVALID naming it. */
dk_status dk_bind_threads(const char *mode);
cJSON *dk_binding_json(void);

/* Counts from the topology (sysconf's PU count without hwloc). */
int dk_topology_cores(void);
int dk_topology_pus(void);

#ifdef __cplusplus
}
#endif
#endif
