/* Internal: what the fault-injection wrapper (backend "fault",
 * fault/fault_backend.c) did last, for its tests: the amounts it applied
 * are checked against these rather than against wall-clock thresholds. */
#ifndef DK_FAULT_FAULT_BACKEND_H
#define DK_FAULT_FAULT_BACKEND_H

#include <stdint.h>

typedef struct dk__fault_event {
    int node;               /* index of the node corrupted or slowed down; -1: none yet */
    const char *kind;       /* "noise", "bias", "zero", "swap-channels" or "slow" */
    /* corruption */
    int64_t count;          /* elements of output 0 */
    int64_t fallback;       /* elements whose bound came from 1e-3 |y| + 1e-6 (op without a
                               tolerance row, or an exact op whose bound is 0) */
    double base_seconds;    /* the base backend's time for the node */
    /* kind=slow */
    double wait_seconds;    /* the busy-wait asked for: (factor - 1) x base_seconds */
    double waited_seconds;  /* the busy-wait measured */
} dk__fault_event;

/* The last corruption or slow-down any fault session of this thread applied
 * (node -1 when there was none). */
void dk__fault_last_event(dk__fault_event *out);

/* Spins (no sleep: the time stays on the CPU, as a slower kernel's would)
 * for `seconds`; returns the seconds measured. */
double dk__fault_busy_wait(double seconds);

#endif
