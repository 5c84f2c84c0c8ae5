/* Status names and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/error.h"

#define DK_ERROR_CAP 1024

static _Thread_local char last_error[DK_ERROR_CAP];

const char *dk_status_name(dk_status s)
{
    switch (s) {
    case DK_OK: return "ok";
    case DK_ERR_INVALID: return "invalid argument";
    case DK_ERR_IO: return "i/o error";
    case DK_ERR_FORMAT: return "bad format";
    case DK_ERR_UNSUPPORTED: return "unsupported";
    case DK_ERR_SHAPE: return "shape mismatch";
    case DK_ERR_NOMEM: return "out of memory";
    case DK_ERR_UNAVAILABLE: return "unavailable";
    case DK_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

int dk_status_is_user_error(dk_status s)
{
    return s == DK_ERR_INVALID || s == DK_ERR_IO || s == DK_ERR_FORMAT ||
           s == DK_ERR_UNSUPPORTED || s == DK_ERR_SHAPE || s == DK_ERR_UNAVAILABLE;
}

const char *dk_last_error(void) { return last_error; }

void dk__error_clear(void) { last_error[0] = '\0'; }

/* Newlines would break the one-line error contract of the CLI, and other
 * control or non-ASCII bytes (a name from a file that no caller passed
 * through dk_escape) would reach the terminal raw: newlines become spaces,
 * the others \xNN. */
static void make_printable(char *s)
{
    static const char hex[] = "0123456789abcdef";
    char out[DK_ERROR_CAP];
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && w + 5 < sizeof out; p++) {
        if (*p == '\n' || *p == '\r') {
            out[w++] = ' ';
        } else if (*p < 0x20 || *p >= 0x7f) {
            out[w++] = '\\';
            out[w++] = 'x';
            out[w++] = hex[*p >> 4];
            out[w++] = hex[*p & 15];
        } else {
            out[w++] = (char)*p;
        }
    }
    out[w] = '\0';
    memcpy(s, out, w + 1);
}

dk_status dk__error(dk_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    make_printable(last_error);
    return s;
}

dk_status dk__error_prefix(dk_status s, const char *fmt, ...)
{
    char prefix[DK_ERROR_CAP], old[DK_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* Built piecewise: truncation of an over-long message is intended. */
    size_t np = strlen(prefix), no = strlen(old);
    if (np > DK_ERROR_CAP - 3) np = DK_ERROR_CAP - 3;
    if (no > DK_ERROR_CAP - 3 - np) no = DK_ERROR_CAP - 3 - np;
    memcpy(last_error, prefix, np);
    memcpy(last_error + np, ": ", 2);
    memcpy(last_error + np + 2, old, no);
    last_error[np + 2 + no] = '\0';
    make_printable(last_error);
    return s;
}
