/* Backends by name: the kernel libraries (kernels/registry.c) and the
 * wrappers that run one of them with a change. Wrappers live above the
 * kernels (fault/), so this list lives above both. */
#include <stdio.h>
#include <string.h>

#include "deltakern/backend.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"
#include "runtime/text.h"

extern const dk_backend_iface dk_backend_fault;

static const dk_backend_iface *const wrappers[] = {
    &dk_backend_fault,
};
#define N_WRAPPERS ((int)(sizeof wrappers / sizeof wrappers[0]))

int dk_wrapper_count(void) { return N_WRAPPERS; }

const dk_backend_iface *dk_wrapper_at(int i) { return i >= 0 && i < N_WRAPPERS ? wrappers[i] : NULL; }

const dk_backend_iface *dk_backend_find(const char *name)
{
    char names[256] = "";
    int n_kernels = dk_backend_count();
    for (int i = 0; i < n_kernels + N_WRAPPERS; i++) {
        const dk_backend_iface *b = i < n_kernels ? dk_backend_at(i) : wrappers[i - n_kernels];
        if (strcmp(b->name, name) == 0) return b;
        dk_join(names, sizeof names, ", ", b->name);
    }
    dk__error(DK_ERR_INVALID, "unknown backend '%s' (available: %s)", name, names);
    return NULL;
}
