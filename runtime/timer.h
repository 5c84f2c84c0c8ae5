/* Internal: monotonic wall-clock time. */
#ifndef DK_RUNTIME_TIMER_H
#define DK_RUNTIME_TIMER_H

/* Seconds from an arbitrary origin, CLOCK_MONOTONIC. */
double dk__now(void);

#endif
