/* Internal: a map from strings to ints (open addressing, linear probing), so
 * that name lookups in graphs and JSON documents stay O(1) however many
 * names a file holds. The map does not copy its keys: each must stay alive
 * and unchanged while the map is used. */
#ifndef DK_RUNTIME_STRMAP_H
#define DK_RUNTIME_STRMAP_H

#include <stddef.h>

#include "deltakern/status.h"

typedef struct dk_strmap {
    const char **keys; /* NULL: empty slot */
    int *vals;
    size_t cap, n; /* cap: a power of two, at least twice n */
} dk_strmap;

/* Sets key's value (replacing an old one). */
dk_status dk_strmap_put(dk_strmap *m, const char *key, int val);
/* key's value, or -1 when it has none. */
int dk_strmap_get(const dk_strmap *m, const char *key);
/* Frees the map's memory (not the keys) and empties it. */
void dk_strmap_free(dk_strmap *m);

#endif
