/* Internal: the PAPI part of the counters (measure/counters.h). Built from
 * counters_papi.c, which compiles to a stub saying "built without PAPI" when
 * DK_HAVE_PAPI is absent. */
#ifndef DK_MEASURE_COUNTERS_PAPI_H
#define DK_MEASURE_COUNTERS_PAPI_H

#include <stddef.h>
#include "deltakern/status.h"

/* 1 when PAPI can count hardware events here; otherwise 0 and why (one
 * phrase, e.g. "PAPI perf_event component disabled: ...; virtual machine"). */
int dk__papi_hardware_usable(char *why, size_t n);

typedef enum dk__papi_class {
    DK_PAPI_UNKNOWN = 0,   /* PAPI has no event of that name */
    DK_PAPI_COUNTABLE,     /* known and countable here */
    DK_PAPI_UNCOUNTABLE    /* known (a preset) but not countable here */
} dk__papi_class;

dk__papi_class dk__papi_classify(const char *name);

/* "PAPI 7.0.0.0" (the library's version), or "built without PAPI". */
const char *dk__papi_library(void);

/* Event sets of `n` events started in each of `threads` OpenMP threads. */
typedef struct dk__papi_set dk__papi_set;
dk_status dk__papi_set_create(const char *const *names, int n, int threads, dk__papi_set **out);
/* Current counts summed over the threads (the sets keep running). */
dk_status dk__papi_set_read(dk__papi_set *s, long long *sums);
void dk__papi_set_destroy(dk__papi_set *s);

#endif
