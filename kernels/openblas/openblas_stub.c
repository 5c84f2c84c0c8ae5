/* The openblas backend when OpenBLAS was not found or was disabled at build time:
 * listed, never available, and says why. */
#include <stdio.h>

#include "deltakern/backend.h"
#include "kernels/backend_iface.h"
#include "runtime/error.h"

static dk_status stub_probe(char *reason, size_t n)
{
    snprintf(reason, n, "built without OpenBLAS (DK_WITH_OPENBLAS=OFF or OpenBLAS not found at configure time)");
    return DK_ERR_UNAVAILABLE;
}

static dk_status stub_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                              const dk_tensor *const *in, dk_tensor *const *out)
{
    return dk__error(DK_ERR_UNAVAILABLE, "openblas: built without OpenBLAS");
}

const char *dk_openblas_better_core(const char *wanted)
{
    (void)wanted;
    return NULL;
}

const dk_backend_iface dk_backend_openblas = {
    .name = "openblas",
    .description = "OpenBLAS (not built)",
    .probe = stub_probe,
    .execute = stub_execute,
};
