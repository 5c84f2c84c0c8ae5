/* deltakern — performance counters read around a region (a node, a run).
 *
 * Events are named as PAPI names them: presets ("PAPI_TOT_CYC") and native
 * events ("perf::TASK-CLOCK"), comma-separated. NULL or "default" picks
 * PAPI_TOT_CYC,PAPI_TOT_INS,PAPI_L1_DCM where the hardware counters can be
 * read, and otherwise the perf software events perf::TASK-CLOCK,
 * perf::PAGE-FAULTS,perf::CONTEXT-SWITCHES with a note saying why
 * (dk_counters_note, to be printed once).
 *
 * Where they are counted. Hardware and other PAPI events go through PAPI.
 * The Linux perf software events (perf::TASK-CLOCK, perf::PAGE-FAULTS, ...)
 * are opened directly with perf_event_open(2), the interface PAPI's own
 * perf_event component uses: PAPI 7 disables that whole component when
 * libpfm4 finds no core PMU (a virtual machine whose hypervisor hides the
 * PMU), which would leave nothing countable exactly where the software
 * events are the only ones there are.
 *
 * Threads. Nodes run on the one OpenMP pool, so counting the calling thread
 * only would miss most of the work. dk_counters_create() records the thread
 * ids of the pool (a parallel region of omp_get_max_threads() threads), and
 * a start finding another omp_get_max_threads() (a session set its thread
 * count) records them again; every one of them is counted and values are
 * sums over the threads. Software events are opened on each pool thread
 * by id from the calling thread, left running, and read at start and stop
 * (one read(2) per thread each), so start/stop needs no parallel region and
 * costs a few microseconds. PAPI events are started in an event set per pool
 * thread (PAPI_thread_init) and read the same way inside a parallel region.
 * PAPI_INHERIT is not used: it covers only threads created after the start,
 * and inherited counts are read only once those threads exit.
 *
 * Ownership: dk_counters_create() returns an object freed by
 * dk_counters_destroy(); names and the note belong to it. Use from one
 * thread (the one that runs the session). */
#ifndef DK_MEASURE_COUNTERS_H
#define DK_MEASURE_COUNTERS_H

#include <stddef.h>

#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DK_COUNTERS_MAX_EVENTS 16

typedef struct dk_counters dk_counters;

/* events: "A,B" or NULL/"default". An unknown name is an error naming it
 * (list the names with `papi_avail` / `papi_native_avail`); a hardware event
 * this machine cannot count is an error that says so and lists the software
 * events available. */
dk_status dk_counters_create(const char *events, dk_counters **out);
void dk_counters_destroy(dk_counters *c);

int dk_counters_count(const dk_counters *c);
const char *dk_counters_name(const dk_counters *c, int i);
/* "" or one line to print once, e.g. "hardware counters unavailable (...):
 * counting perf software events". */
const char *dk_counters_note(const dk_counters *c);

/* Counts from start to stop; values[dk_counters_count(c)] receives the
 * counts summed over the pool's threads. */
dk_status dk_counters_start(dk_counters *c);
dk_status dk_counters_stop(dk_counters *c, long long *values);

/* Number of threads counted (the OpenMP pool as last recorded). */
int dk_counters_threads(const dk_counters *c);

/* "PAPI 7.0.0.0", or why there is no PAPI ("built without PAPI"). */
const char *dk_counters_library(void);

/* The perf software events this machine can count, comma-separated, into
 * buf (empty when perf_event_open is refused). Returns buf. */
const char *dk_counters_software_available(char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
