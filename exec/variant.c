/* Parsing and validating variant strings "backend:key=value,...". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/passes.h"
#include "deltakern/variant.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"
#include "runtime/text.h"

/* A key's spec among the common options, the backend's own and, for a wrapper
 * (an option of type "backend", e.g. fault:base=onednn), the wrapped backend's. */
static const dk_option_spec *find_spec(const dk_backend_iface *b, const dk_backend_iface *inner,
                                       const char *key)
{
    for (const dk_option_spec *s = dk_common_options(); s->key; s++)
        if (!strcmp(s->key, key)) return s;
    for (int i = 0; dk_backend_option_at(b, i); i++)
        if (!strcmp(dk_backend_option_at(b, i)->key, key)) return dk_backend_option_at(b, i);
    for (int i = 0; inner && dk_backend_option_at(inner, i); i++)
        if (!strcmp(dk_backend_option_at(inner, i)->key, key)) return dk_backend_option_at(inner, i);
    return NULL;
}

static void list_keys(const dk_backend_iface *b, const dk_backend_iface *inner, char *buf, size_t n)
{
    buf[0] = '\0';
    for (const dk_option_spec *s = dk_common_options(); s->key; s++) dk_join(buf, n, ", ", s->key);
    for (int i = 0; dk_backend_option_at(b, i); i++) dk_join(buf, n, ", ", dk_backend_option_at(b, i)->key);
    for (int i = 0; inner && dk_backend_option_at(inner, i); i++)
        dk_join(buf, n, ", ", dk_backend_option_at(inner, i)->key);
}

/* The backend's option naming the backend it wraps (values "backend"), if any. */
static const dk_option_spec *wrapper_spec(const dk_backend_iface *b)
{
    for (int i = 0; dk_backend_option_at(b, i); i++)
        if (!strcmp(dk_backend_option_at(b, i)->values, "backend")) return dk_backend_option_at(b, i);
    return NULL;
}

/* Does value satisfy spec->values? */
static int value_ok(const dk_option_spec *spec, const char *value)
{
    /* checked by whoever uses it ("backend": by dk_variant_parse's first pass) */
    if (!strcmp(spec->values, "str") || !strcmp(spec->values, "name") || !strcmp(spec->values, "backend"))
        return 1;
    if (!strncmp(spec->values, "int:", 4)) {
        long lo, hi;
        char *end;
        if (sscanf(spec->values + 4, "%ld..%ld", &lo, &hi) != 2) return 0;
        long v = strtol(value, &end, 10);
        return end != value && !*end && v >= lo && v <= hi;
    }
    size_t len = strlen(value);
    for (const char *p = spec->values; *p;) {
        const char *bar = strchr(p, '|');
        size_t plen = bar ? (size_t)(bar - p) : strlen(p);
        if (plen == len && !strncmp(p, value, len)) return 1;
        p += plen + (bar ? 1 : 0);
    }
    return 0;
}

static dk_status set_option(dk_variant *v, const dk_option_spec *spec, const char *value, int is_default)
{
    const char *key = spec->key;
    for (int i = 0; i < v->n_options; i++)
        if (!strcmp(v->options[i].key, key)) {
            if (!is_default && !v->options[i].is_default)
                return dk__error(DK_ERR_INVALID, "variant: option '%s' is given twice", key);
            snprintf(v->options[i].value, sizeof v->options[i].value, "%s", value);
            v->options[i].is_default = is_default;
            return DK_OK;
        }
    if (v->n_options == DK_VARIANT_MAX_OPTIONS)
        return dk__error(DK_ERR_INVALID, "variant: more than %d options", DK_VARIANT_MAX_OPTIONS);
    int i = v->n_options++;
    snprintf(v->options[i].key, sizeof v->options[i].key, "%s", key);
    snprintf(v->options[i].value, sizeof v->options[i].value, "%s", value);
    v->options[i].is_default = is_default;
    v->options[i].role = spec->role;
    return DK_OK;
}

/* disable=a+b names graph passes: each must exist. */
static dk_status check_passes(const char *text, const char *list)
{
    char word[64], names[256];
    for (const char *p = list; *p;) {
        const char *plus = strchr(p, '+');
        size_t len = plus ? (size_t)(plus - p) : strlen(p);
        snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
        int known = 0;
        names[0] = '\0';
        for (int i = 0; i < dk_pass_count(); i++) {
            known |= !strcmp(dk_pass_at(i)->name, word);
            dk_join(names, sizeof names, ", ", dk_pass_at(i)->name);
        }
        if (!known)
            return dk__error(DK_ERR_INVALID, "variant '%s': disable=%s names no graph pass (passes: %s)",
                             text, word, names);
        p += len + (plus ? 1 : 0);
    }
    return DK_OK;
}

/* For a wrapper backend: finds "KEY=" of its backend-typed option among the
 * items of opts (a copy of the text after ':') and resolves the wrapped backend.
 * *inner stays NULL when the key is not given (the required check reports it). */
static dk_status find_inner(const char *text, const dk_backend_iface *b, const char *opts,
                            const dk_backend_iface **inner)
{
    *inner = NULL;
    const dk_option_spec *ws = wrapper_spec(b);
    if (!ws || !opts) return DK_OK;
    size_t klen = strlen(ws->key);
    for (const char *p = opts; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > klen && !strncmp(p, ws->key, klen) && p[klen] == '=') {
            char name[DK_VARIANT_VALUE_MAX];
            snprintf(name, sizeof name, "%.*s", (int)(len - klen - 1 < sizeof name - 1 ? len - klen - 1 : sizeof name - 1),
                     p + klen + 1);
            *inner = dk_backend_find(name);
            if (!*inner) return dk__error_prefix(DK_ERR_INVALID, "variant '%s': %s=%s", text, ws->key, name);
            if (wrapper_spec(*inner)) {
                *inner = NULL;
                return dk__error(DK_ERR_INVALID, "variant '%s': %s=%s: a wrapper cannot wrap a wrapper; "
                                 "name a kernel library (e.g. ref, onednn)", text, ws->key, name);
            }
            return DK_OK;
        }
        p += len + (comma ? 1 : 0);
    }
    return DK_OK;
}

/* Options without a default (def NULL) must be given. */
static dk_status check_required(const char *text, const dk_variant *v)
{
    for (int i = 0; dk_backend_option_at(v->backend, i); i++) {
        const dk_option_spec *s = dk_backend_option_at(v->backend, i);
        if (s->def) continue;
        for (int k = 0; k < v->n_options; k++)
            if (!strcmp(v->options[k].key, s->key) && v->options[k].is_default)
                return dk__error(DK_ERR_INVALID, "variant '%s': backend '%s' needs option '%s' (%s)", text,
                                 v->backend->name, s->key, s->help);
    }
    return DK_OK;
}

/* The defaults of b's options; for a wrapped backend (wrapper set) none of the
 * keys the wrapper or every backend already has: those stay the wrapper's. */
static dk_status set_defaults(dk_variant *out, const dk_backend_iface *b, const dk_backend_iface *wrapper)
{
    for (int i = 0; dk_backend_option_at(b, i); i++) {
        const dk_option_spec *s = dk_backend_option_at(b, i);
        if (wrapper && find_spec(wrapper, NULL, s->key)) continue;
        DK_TRY(set_option(out, s, s->def ? s->def : "", 1)); /* "": required, see check_required */
    }
    return DK_OK;
}

dk_status dk_variant_parse(const char *text, dk_variant *out)
{
    memset(out, 0, sizeof *out);
    char buf[512];
    if (strlen(text) >= sizeof buf) return dk__error(DK_ERR_INVALID, "variant '%.40s...': too long", text);
    snprintf(buf, sizeof buf, "%s", text);
    char *colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    out->backend = dk_backend_find(buf);
    if (!out->backend) return dk__error_prefix(DK_ERR_INVALID, "variant '%s'", text);
    const dk_backend_iface *inner = NULL;
    DK_TRY(find_inner(text, out->backend, colon ? colon + 1 : NULL, &inner));
    /* defaults first, so that every key has a value */
    for (const dk_option_spec *s = dk_common_options(); s->key; s++) DK_TRY(set_option(out, s, s->def, 1));
    DK_TRY(set_defaults(out, out->backend, NULL));
    if (inner) DK_TRY(set_defaults(out, inner, out->backend));
    char *save = NULL;
    for (char *item = colon ? strtok_r(colon + 1, ",", &save) : NULL; item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item)
            return dk__error(DK_ERR_INVALID, "variant '%s': '%s' is not key=value", text, item);
        *eq = '\0';
        const dk_option_spec *spec = find_spec(out->backend, inner, item);
        if (!spec) {
            char keys[256];
            list_keys(out->backend, inner, keys, sizeof keys);
            return dk__error(DK_ERR_INVALID, "variant '%s': backend '%s'%s%s has no option '%s' (options: %s)",
                             text, out->backend->name, inner ? " over " : "", inner ? inner->name : "",
                             item, keys);
        }
        if (!value_ok(spec, eq + 1))
            return dk__error(DK_ERR_INVALID, "variant '%s': %s=%s is not valid (allowed: %s)", text, item,
                             eq + 1, !strncmp(spec->values, "int:", 4) ? spec->values + 4 : spec->values);
        if (strlen(eq + 1) >= DK_VARIANT_VALUE_MAX)
            return dk__error(DK_ERR_INVALID, "variant '%s': the value of %s is longer than %d characters",
                             text, item, DK_VARIANT_VALUE_MAX - 1);
        if (!strcmp(item, "disable")) DK_TRY(check_passes(text, eq + 1));
        DK_TRY(set_option(out, spec, eq + 1, 0));
    }
    return check_required(text, out);
}

dk_status dk_variant_probe(const dk_variant *v, char *reason, size_t n)
{
    DK_TRY(dk_backend_probe(v->backend, reason, n));
    const dk_option_spec *ws = wrapper_spec(v->backend);
    const char *inner = ws ? dk_variant_get(v, ws->key) : NULL;
    if (!inner || !*inner) return DK_OK;
    const dk_backend_iface *b = dk_backend_find(inner);
    if (!b) return dk__error_prefix(DK_ERR_INVALID, "%s=%s", ws->key, inner);
    return dk_backend_probe(b, reason, n);
}


/* Is the value that holds position `at` of pattern one of an option of type
 * "name" (a node name such as "/conv1/Conv": '/' is part of it, not a/b)? */
static int literal_value(const char *pattern, const char *colon, const char *at)
{
    const char *eq = at, *start;
    while (eq > colon && *eq != '=') eq--;
    for (start = eq; start > colon + 1 && start[-1] != ','; start--) continue;
    if (*eq != '=' || eq == start) return 0;
    char bname[64], key[DK_VARIANT_KEY_MAX];
    snprintf(bname, sizeof bname, "%.*s", (int)(colon - pattern < 63 ? colon - pattern : 63), pattern);
    snprintf(key, sizeof key, "%.*s", (int)(eq - start < DK_VARIANT_KEY_MAX - 1 ? eq - start : DK_VARIANT_KEY_MAX - 1), start);
    const dk_backend_iface *b = dk_backend_find(bname);
    if (!b) return 0; /* dk_variant_parse reports it */
    for (int i = 0; dk_backend_option_at(b, i); i++)
        if (!strcmp(dk_backend_option_at(b, i)->key, key)) return !strcmp(dk_backend_option_at(b, i)->values, "name");
    return 0;
}

/* Expands the first a/b/c value of `pattern` recursively. */
static dk_status expand_from(const char *pattern, dk_variant *out, int max, int *n)
{
    const char *colon = strchr(pattern, ':');
    const char *slash = colon ? strchr(colon, '/') : NULL;
    while (slash && literal_value(pattern, colon, slash)) {
        const char *comma = strchr(slash, ',');
        slash = comma ? strchr(comma, '/') : NULL;
    }
    if (!slash) {
        if (*n == max) return dk__error(DK_ERR_INVALID, "variant pattern expands to more than %d variants", max);
        DK_TRY(dk_variant_parse(pattern, &out[*n]));
        (*n)++;
        return DK_OK;
    }
    /* the value holding the slash spans from after '=' to the next ',' */
    const char *start = slash;
    while (start > pattern && start[-1] != '=') start--;
    const char *end = slash;
    while (*end && *end != ',') end++;
    char buf[512];
    for (const char *alt = start; alt < end;) {
        const char *next = memchr(alt, '/', (size_t)(end - alt));
        size_t len = next ? (size_t)(next - alt) : (size_t)(end - alt);
        if ((size_t)(start - pattern) + len + strlen(end) >= sizeof buf)
            return dk__error(DK_ERR_INVALID, "variant pattern too long");
        snprintf(buf, sizeof buf, "%.*s%.*s%s", (int)(start - pattern), pattern, (int)len, alt, end);
        DK_TRY(expand_from(buf, out, max, n));
        alt += len + (next ? 1 : 0);
    }
    return DK_OK;
}

dk_status dk_variant_expand(const char *pattern, dk_variant *out, int max, int *n)
{
    *n = 0;
    return expand_from(pattern, out, max, n);
}

dk_status dk_variant_read_matrix(const char *path, dk_variant *out, int max, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    char line[512];
    int lineno = 0;
    dk_status s = DK_OK;
    while (s == DK_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *p = line, *e = line + strlen(line);
        while (*p == ' ' || *p == '\t') p++;
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*p) continue;
        int got = 0;
        s = expand_from(p, out + *n, max - *n, &got);
        *n += got;
        if (s != DK_OK) s = dk__error_prefix(s, "%s:%d", path, lineno);
    }
    fclose(f);
    if (s == DK_OK && *n == 0) s = dk__error(DK_ERR_INVALID, "%s: no variants in the file", path);
    return s;
}
