/* Internal: the backend interface, one static const table per backend
 * (after ggml-backend and PAPI's component vectors). Optional entries may be
 * NULL and get the defaults documented beside them.
 *
 * Life cycle, driven by the session: probe -> open(variant) -> plan every
 * node (all descriptor/primitive creation, weight packing, algorithm choice:
 * never timed) -> execute nodes (timed) -> plan_destroy -> close.
 * Tensors exchanged with execute are host float32 (or the node's dtype) in
 * canonical NCHW order, allocated by the session with the inferred shapes.
 *
 * A backend that keeps values in its own memory (a device, a blocked layout
 * propagated from layer to layer) provides to_canonical and from_canonical:
 * its execute then reads and writes its own copies and leaves the host
 * tensors alone, and the session converts only where a host copy is needed
 * (graph inputs and values set by the caller: from_canonical; observed values
 * and graph outputs: to_canonical), always outside timed regions. */
#ifndef DK_KERNELS_BACKEND_IFACE_H
#define DK_KERNELS_BACKEND_IFACE_H

#include <stddef.h>
#include "deltakern/backend.h"
#include "deltakern/graph.h"
#include "deltakern/variant.h"

/* Plan traits (plan_traits). The op suite, diff and sweep read them
 * (drivers/selftest, drivers/diff, drivers/sweep; docs/diff.md):
 *  DK_PLAN_MAY_DIFFER  another run may give other bits by the variant's own
 *                      choice (cuDNN: an algorithm it marks non-deterministic,
 *                      allowed by deterministic=off, or one chosen by timing,
 *                      which another plan may choose otherwise); a difference
 *                      between its two runs is a note, not a failure
 *  DK_PLAN_TRANSFORM   a transform-based convolution (Winograd, FFT) that the
 *                      tolerance table's direct-summation bound does not
 *                      cover; judged against a looser bound (check/tolerance.h) */
#define DK_PLAN_MAY_DIFFER 1u
#define DK_PLAN_TRANSFORM 2u

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
    /* optional: called once with the graph before any node is planned (checks
     * that concern the whole graph, e.g. a wrapper's target node exists) */
    dk_status (*prepare)(void *ctx, const dk_graph *g);
    /* optional (NULL: no plan): everything done once per node before timing */
    dk_status (*plan)(void *ctx, const dk_graph *g, int node, void **plan);
    void (*plan_destroy)(void *ctx, void *plan);      /* optional */
    /* runs one node; outputs are preallocated host tensors of the inferred shape */
    dk_status (*execute)(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                         const dk_tensor *const *in, dk_tensor *const *out);
    /* optional pair (see above): value v of g between the host canonical form
     * and the backend's own copy. Either may be a no-op for a value the
     * backend keeps on the host (it then reads and writes the host tensor). */
    dk_status (*from_canonical)(void *ctx, const dk_graph *g, int value, const dk_tensor *src);
    dk_status (*to_canonical)(void *ctx, const dk_graph *g, int value, dk_tensor *dst);
    /* optional: waits for queued work (a device stream); the session calls it
     * before it stops a node's clock */
    dk_status (*sync)(void *ctx);
    /* optional: the time of the node executed last as measured by the device
     * (CUDA events), in seconds; NULL: the session's host clock */
    double (*node_seconds)(void *ctx, void *plan);
    /* optional (NULL: none): what a plan declares about its kernel, DK_PLAN_*
     * flags below; plan may be NULL */
    unsigned (*plan_traits)(void *ctx, void *plan);
    /* optional: fills the memory the backend keeps for values (not weights)
     * with NaN, so that a read of something no node wrote this run shows;
     * NULL: the backend keeps no value memory of its own. The determinism
     * check poisons before its second run (dk_session_poison). */
    dk_status (*poison)(void *ctx, const dk_graph *g);
    /* optional: one line describing the device and libraries this backend
     * runs on (name, compute capability, driver/library versions, memory),
     * for the environment fingerprint of every result */
    dk_status (*describe)(char *buf, size_t n);
};

/* The reference backend: the oracle, and where every backend's ops without a
 * kernel of their own run (kernels/ref/). */
extern const dk_backend_iface dk_backend_ref;

/* A kernel library by name (kernels/registry.c), NULL when none has it. The
 * public dk_backend_find also knows the wrappers, one floor up. */
const dk_backend_iface *dk__kernel_backend_find(const char *name);

#endif
