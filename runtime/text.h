/* Internal: building one-line lists for messages ("available: ref, onednn").
 * The append never overflows: text that does not fit is cut, and a cut list
 * ends in "...". Names from files go into messages through dk_escape /
 * DK_ESC (deltakern/text.h). */
#ifndef DK_RUNTIME_TEXT_H
#define DK_RUNTIME_TEXT_H

#include <stddef.h>

#include "deltakern/text.h"
#include "runtime/error.h"

/* Appends sep (unless buf is empty) then the formatted text to the string in
 * buf, of capacity n. Returns buf. */
char *dk_joinf(char *buf, size_t n, const char *sep, const char *fmt, ...) DK_PRINTF(4, 5);
/* dk_joinf(buf, n, sep, "%s", s). */
char *dk_join(char *buf, size_t n, const char *sep, const char *s);

#endif
