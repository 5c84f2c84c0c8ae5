/* Internal: monotonic wall-clock time, and the UTC time stamps of result files. */
#ifndef DK_RUNTIME_TIMER_H
#define DK_RUNTIME_TIMER_H

/* Seconds from an arbitrary origin, CLOCK_MONOTONIC. */
double dk__now(void);

#include <stddef.h>
/* Now as "2026-12-02T14:09:47Z" (ISO 8601, UTC) in buf (32 bytes suffice). */
void dk__utc_stamp(char *buf, size_t n);

#endif
