/* Internal: the backend interface, one static const table per backend
 * (after ggml-backend and PAPI's component vectors). Optional entries may be
 * NULL and get the defaults documented beside them. */
#ifndef DK_RUNTIME_BACKEND_IFACE_H
#define DK_RUNTIME_BACKEND_IFACE_H

#include <stddef.h>
#include "deltakern/backend.h"
#include "deltakern/graph.h"

struct dk_backend_iface {
    const char *name;
    const char *description;
    const char *(*version)(void);                     /* optional: "unknown" */
    /* optional (NULL: always available): DK_OK, or DK_ERR_UNAVAILABLE with a
     * human reason written into reason[n] */
    dk_status (*probe)(char *reason, size_t n);
    /* optional (NULL: every op): 1 when the backend can run this node */
    int (*supports)(const dk_graph *g, const dk_node *n);
    /* optional (NULL: no plan): everything done once per node before timing */
    dk_status (*plan)(const dk_graph *g, int node, void **plan);
    void (*plan_destroy)(void *plan);                 /* optional */
    /* runs one node; outputs are preallocated host tensors of the inferred shape */
    dk_status (*execute)(void *plan, const dk_graph *g, const dk_node *n,
                         const dk_tensor *const *in, dk_tensor *const *out);
};

#endif
