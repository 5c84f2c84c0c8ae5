/* A variant's options as the backends read them: the options every backend
 * accepts, each backend's own option table, and the accessors backends call
 * from open(). Parsing variant strings lives in exec/variant.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/variant.h"
#include "kernels/backend_iface.h"

static const dk_option_spec common_options[] = {
    {"threads", "int:0..1024", "0", "worker threads; 0 = the OpenMP default (all cores)", DK_ROLE_NONE},
    {"opt", "int:0..3", "0", "graph optimisation level: 0 every ONNX node as it is, 1 + fold_batchnorm", DK_ROLE_NONE},
    {"disable", "str", "", "graph passes to skip, '+'-separated (e.g. fold_batchnorm)", DK_ROLE_NONE},
    {0},
};

const dk_option_spec *dk_common_options(void) { return common_options; }

const dk_option_spec *dk_backend_option_at(const dk_backend_iface *b, int i)
{
    if (!b->options || i < 0) return NULL;
    for (int k = 0; b->options[k].key; k++)
        if (k == i) return &b->options[k];
    return NULL;
}

const char *dk_variant_get(const dk_variant *v, const char *key)
{
    for (int i = 0; i < v->n_options; i++)
        if (!strcmp(v->options[i].key, key)) return v->options[i].value;
    return NULL;
}

const char *dk_variant_get_role(const dk_variant *v, dk_option_role role)
{
    for (int i = 0; i < v->n_options; i++)
        if (v->options[i].role == role) return v->options[i].value;
    return NULL;
}

long dk_variant_get_int(const dk_variant *v, const char *key, long def)
{
    const char *s = dk_variant_get(v, key);
    return s ? strtol(s, NULL, 10) : def;
}

const char *dk_variant_canonical(const dk_variant *v, int all, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "%s", v->backend ? v->backend->name : "?");
    int first = 1;
    for (int i = 0; i < v->n_options && used < n; i++) {
        if (!all && v->options[i].is_default) continue;
        used += (size_t)snprintf(buf + used, n - used, "%c%s=%s", first ? ':' : ',', v->options[i].key,
                                 v->options[i].value);
        first = 0;
    }
    return buf;
}
