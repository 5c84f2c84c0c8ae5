/* Internal: facts about the machine and the user's cache directory, for the
 * floors that need them (the fingerprint, the roofline cache, oneDNN's cache
 * of opt=3 choices). dk_cpu_model itself is public (deltakern/fingerprint.h). */
#ifndef DK_RUNTIME_HOST_H
#define DK_RUNTIME_HOST_H

#include <stddef.h>

#include "deltakern/status.h"

/* The value of the first "key : value" line of /proc/cpuinfo into buf; 0 when
 * there is none. */
int dk__cpuinfo_field(const char *key, char *buf, size_t n);

/* $XDG_CACHE_HOME/deltakern/NAME, or ~/.cache/deltakern/NAME. */
dk_status dk__cache_path(const char *name, char *buf, size_t n);

/* The machine's memory in bytes: *total (MemTotal, else the physical pages)
 * and *available (MemAvailable, else *total). 0 when unknown. */
void dk__host_memory(double *total, double *available);

#endif
