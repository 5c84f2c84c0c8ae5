/* String-to-int map (runtime/strmap.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "runtime/strmap.h"

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static size_t slot(const dk_strmap *m, const char *key)
{
    size_t i = hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

static dk_status grow(dk_strmap *m)
{
    dk_strmap b = {.cap = m->cap ? m->cap * 2 : 64};
    b.keys = calloc(b.cap, sizeof *b.keys);
    b.vals = malloc(b.cap * sizeof *b.vals);
    if (!b.keys || !b.vals) {
        free(b.keys);
        free(b.vals);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot(&b, m->keys[i]);
        b.keys[j] = m->keys[i];
        b.vals[j] = m->vals[i];
        b.n++;
    }
    dk_strmap_free(m);
    *m = b;
    return DK_OK;
}

dk_status dk_strmap_put(dk_strmap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) DK_TRY(grow(m));
    size_t i = slot(m, key);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
    return DK_OK;
}

int dk_strmap_get(const dk_strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = slot(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

void dk_strmap_free(dk_strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
