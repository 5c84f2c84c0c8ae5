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

char *dk_escape(const char *s, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0, kept = 0;
    if (n < 8) {
        if (n) buf[0] = '\0';
        return buf;
    }
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char item[5];
        size_t len = 1;
        if (*p == '\\') {
            memcpy(item, "\\\\", 2);
            len = 2;
        } else if (*p < 0x20 || *p >= 0x7f) {
            item[0] = '\\';
            item[1] = 'x';
            item[2] = hex[*p >> 4];
            item[3] = hex[*p & 15];
            len = 4;
        } else {
            item[0] = (char)*p;
        }
        /* room for this item, and for "..." after it should the name go on */
        if (kept == DK_ESC_KEEP || w + len + 4 > n) {
            size_t at = w + 4 <= n ? w : n - 4;
            memcpy(buf + at, "...", 4);
            return buf;
        }
        memcpy(buf + w, item, len);
        w += len;
        kept++;
    }
    buf[w] = '\0';
    return buf;
}
