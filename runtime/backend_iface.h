/* Internal: the backend interface, one static const table per backend
 * (after ggml-backend and PAPI's component vectors). Optional entries may be
 * NULL and get the defaults documented beside them.
 *
 * Life cycle, driven by the session: probe -> open(variant) -> plan every
 * node (all descriptor/primitive creation, weight packing, algorithm choice:
 * never timed) -> execute nodes (timed) -> plan_destroy -> close.
 * Tensors exchanged with execute are host float32 (or the node's dtype) in
 * canonical NCHW order, allocated by the session with the inferred shapes. */
#ifndef DK_RUNTIME_BACKEND_IFACE_H
#define DK_RUNTIME_BACKEND_IFACE_H

#include <stddef.h>
#include "deltakern/backend.h"
#include "deltakern/graph.h"
#include "deltakern/variant.h"

struct dk_backend_iface {
    const char *name;
    const char *description;
    const char *(*version)(void);                     /* optional: "unknown" */
    /* optional (NULL: always available): DK_OK, or DK_ERR_UNAVAILABLE with a
     * human reason written into reason[n] */
    dk_status (*probe)(char *reason, size_t n);
    /* optional: the backend's own option keys, terminated by a NULL key; the
     * common ones (dk_common_options) are accepted by every backend */
    const dk_option_spec *options;
    /* optional (NULL: ctx is NULL): reads the variant's options into a context */
    dk_status (*open)(const dk_variant *v, void **ctx);
    void (*close)(void *ctx);                         /* optional */
    /* optional (NULL: every op): 1 when the backend can run this node */
    int (*supports)(void *ctx, const dk_graph *g, const dk_node *n);
    /* optional (NULL: no plan): everything done once per node before timing */
    dk_status (*plan)(void *ctx, const dk_graph *g, int node, void **plan);
    void (*plan_destroy)(void *ctx, void *plan);      /* optional */
    /* runs one node; outputs are preallocated host tensors of the inferred shape */
    dk_status (*execute)(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                         const dk_tensor *const *in, dk_tensor *const *out);
};

#endif
