/* The registry of backends compiled into this build. Every backend is listed;
 * one whose library was not found at build time is a stub whose probe says
 * so (kernels/BACKEND/BACKEND_stub.c), so callers never depend on build options. */
#include <stdio.h>
#include <string.h>

#include "runtime/backend_iface.h"
#include "runtime/error.h"

extern const dk_backend_iface dk_backend_ref;
extern const dk_backend_iface dk_backend_openblas;
extern const dk_backend_iface dk_backend_onednn;
extern const dk_backend_iface dk_backend_cudnn;
extern const dk_backend_iface dk_backend_fault;

static const dk_backend_iface *const registry[] = {
    &dk_backend_ref,
    &dk_backend_openblas,
    &dk_backend_onednn,
    &dk_backend_cudnn,
};
#define N_BACKENDS ((int)(sizeof registry / sizeof registry[0]))

/* Wrappers run one of the above (harness/fault_backend.c). */
static const dk_backend_iface *const wrappers[] = {
    &dk_backend_fault,
};
#define N_WRAPPERS ((int)(sizeof wrappers / sizeof wrappers[0]))

int dk_backend_count(void) { return N_BACKENDS; }

const dk_backend_iface *dk_backend_at(int i) { return i >= 0 && i < N_BACKENDS ? registry[i] : NULL; }

int dk_wrapper_count(void) { return N_WRAPPERS; }

const dk_backend_iface *dk_wrapper_at(int i) { return i >= 0 && i < N_WRAPPERS ? wrappers[i] : NULL; }

const dk_backend_iface *dk_backend_find(const char *name)
{
    char names[256] = "";
    size_t used = 0;
    for (int i = 0; i < N_BACKENDS + N_WRAPPERS; i++) {
        const dk_backend_iface *b = i < N_BACKENDS ? registry[i] : wrappers[i - N_BACKENDS];
        if (strcmp(b->name, name) == 0) return b;
        used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0, "%s%s",
                                 i ? ", " : "", b->name);
    }
    dk__error(DK_ERR_INVALID, "unknown backend '%s' (available: %s)", name, names);
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
