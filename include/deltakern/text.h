/* deltakern — names from files, made safe to print.
 *
 * Node, op, tensor, domain and input names come from model and input files
 * and may hold any bytes. Every message and table prints them through
 * dk_escape: control and non-ASCII bytes become \xNN, a backslash becomes
 * \\, and a name longer than DK_ESC_KEEP bytes is cut and ends in "...". */
#ifndef DELTAKERN_TEXT_H
#define DELTAKERN_TEXT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DK_ESC_KEEP 96                    /* name bytes printed at most */
#define DK_ESC_SIZE (DK_ESC_KEEP * 4 + 8) /* a buffer that always suffices */

/* Writes the printable form of s (NULL prints as "") into buf of capacity n
 * (n >= 8; the result is cut to fit) and returns buf. */
char *dk_escape(const char *s, char *buf, size_t n);

/* The printable form of s in a buffer that lives until the end of the
 * enclosing block: dk__error(..., "node '%s'", DK_ESC(name)). */
#define DK_ESC(s) dk_escape((s), (char[DK_ESC_SIZE]){0}, DK_ESC_SIZE)

#ifdef __cplusplus
}
#endif
#endif
