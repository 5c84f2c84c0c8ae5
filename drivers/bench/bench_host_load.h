/* Internal: bench's record of the host's load (runtime/host_load.h samples
 * it and holds the rule). */
#ifndef DK_DRIVERS_BENCH_BENCH_HOST_LOAD_H
#define DK_DRIVERS_BENCH_BENCH_HOST_LOAD_H

#include <cjson/cJSON.h>

#include "runtime/host_load.h"

/* The "host_load" object of the result (docs/bench.md). */
cJSON *dk__host_load_json(const dk__host_load *h);
/* "" when not disturbed, else one line "host disturbed: ...; advice". */
void dk__host_load_note(const dk__host_load *h, char *buf, size_t n);

/* Reading a result back: the verdict of root's "host_load" (-2 not recorded,
 * -1 unknown, 0 quiet, 1 disturbed) and its reasons, ", "-separated, in why. */
int dk__host_load_read(const cJSON *root, char *why, size_t n);
/* "not recorded", "unknown", "quiet", "disturbed". */
const char *dk__host_load_verdict_name(int verdict);

#endif
