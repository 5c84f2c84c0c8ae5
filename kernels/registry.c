/* The registry of the kernel backends compiled into this build. Every backend
 * is listed; one whose library was not found at build time is a stub whose
 * probe says so (kernels/BACKEND/BACKEND_stub.c), so callers never depend on
 * build options. Wrappers (backends that run one of these with a change, such
 * as "fault") are listed one floor up, in exec/backends.c. */
#include <stdio.h>
#include <string.h>

#include "kernels/backend_iface.h"
#include "runtime/error.h"

extern const dk_backend_iface dk_backend_openblas;
extern const dk_backend_iface dk_backend_onednn;
extern const dk_backend_iface dk_backend_cudnn;

static const dk_backend_iface *const registry[] = {
    &dk_backend_ref,
    &dk_backend_openblas,
    &dk_backend_onednn,
    &dk_backend_cudnn,
};
#define N_BACKENDS ((int)(sizeof registry / sizeof registry[0]))

int dk_backend_count(void) { return N_BACKENDS; }

const dk_backend_iface *dk_backend_at(int i) { return i >= 0 && i < N_BACKENDS ? registry[i] : NULL; }

const dk_backend_iface *dk__kernel_backend_find(const char *name)
{
    for (int i = 0; i < N_BACKENDS; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const char *dk_backend_name(const dk_backend_iface *b) { return b->name; }
const char *dk_backend_description(const dk_backend_iface *b) { return b->description; }
const char *dk_backend_version(const dk_backend_iface *b) { return b->version ? b->version() : "unknown"; }

dk_status dk_backend_probe(const dk_backend_iface *b, char *reason, size_t n)
{
    if (n) reason[0] = '\0';
    if (!b->probe) return DK_OK;
    dk_status s = b->probe(reason, n);
    if (s != DK_OK) dk__error(s, "backend '%s' is unavailable: %s", b->name, reason);
    return s;
}

dk_status dk_backend_describe(const dk_backend_iface *b, char *buf, size_t n)
{
    if (b->describe) return b->describe(buf, n);
    snprintf(buf, n, "%s", dk_backend_version(b));
    return DK_OK;
}
