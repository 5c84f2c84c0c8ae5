/* One-line lists for messages (runtime/text.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/text.h"

char *dk_joinf(char *buf, size_t n, const char *sep, const char *fmt, ...)
{
    if (n == 0) return buf;
    size_t used = strnlen(buf, n);
    if (used >= n - 1) return buf; /* full (and already marked) */
    char item[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    int w = snprintf(buf + used, n - used, "%s%s", used ? sep : "", item);
    if (w >= 0 && (size_t)w >= n - used && n > 4) memcpy(buf + n - 4, "...", 4); /* cut */
    return buf;
}

char *dk_join(char *buf, size_t n, const char *sep, const char *s) { return dk_joinf(buf, n, sep, "%s", s); }
