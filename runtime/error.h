/* Internal: setting the thread-local error message that dk_last_error() returns. */
#ifndef DK_RUNTIME_ERROR_H
#define DK_RUNTIME_ERROR_H

#include "deltakern/status.h"

#if defined(__GNUC__)
#define DK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DK_PRINTF(a, b)
#endif

/* Formats the message, stores it as the thread's last error and returns s.
 * Usage: return dk__error(DK_ERR_IO, "%s: cannot open: %s", path, strerror(errno)); */
dk_status dk__error(dk_status s, const char *fmt, ...) DK_PRINTF(2, 3);

/* Prepends "<prefix>: " to the current message (adds context on the way up). */
dk_status dk__error_prefix(dk_status s, const char *fmt, ...) DK_PRINTF(2, 3);

void dk__error_clear(void);

#define DK_TRY(expr)                        \
    do {                                    \
        dk_status dk__s_ = (expr);          \
        if (dk__s_ != DK_OK) return dk__s_; \
    } while (0)

#endif
