/* Internal: the one call layer through which everything above the kernels
 * drives a backend (after ggml-backend's wrappers). Every optional entry of
 * the interface gets its documented default here, in one place, so callers
 * never test an entry for NULL; and planning, running and releasing one node
 * on host tensors is one helper, used by the op suite, the tolerance checks
 * and the fault wrapper's corruption, while the session keeps its plans
 * across runs and calls the same wrappers. */
#ifndef DK_KERNELS_BACKEND_CALL_H
#define DK_KERNELS_BACKEND_CALL_H

#include "kernels/backend_iface.h"

/* NULL open: the context is NULL. */
dk_status dk__backend_open(const dk_backend_iface *b, const dk_variant *v, void **ctx);
void dk__backend_close(const dk_backend_iface *b, void *ctx);
/* NULL supports: every node. */
int dk__backend_supports(const dk_backend_iface *b, void *ctx, const dk_graph *g, const dk_node *n);
dk_status dk__backend_prepare(const dk_backend_iface *b, void *ctx, const dk_graph *g);
/* NULL plan: *plan is NULL. */
dk_status dk__backend_plan(const dk_backend_iface *b, void *ctx, const dk_graph *g, int node, void **plan);
void dk__backend_plan_destroy(const dk_backend_iface *b, void *ctx, void *plan);
/* Runs one node and waits for it (execute, then sync): its work is done
 * when this returns, so a clock around it times the node. */
dk_status dk__backend_execute(const dk_backend_iface *b, void *ctx, void *plan, const dk_graph *g,
                              const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out);
dk_status dk__backend_sync(const dk_backend_iface *b, void *ctx);
/* The node's time as the device measured it, or host_seconds (NULL node_seconds). */
double dk__backend_node_seconds(const dk_backend_iface *b, void *ctx, void *plan, double host_seconds);
/* NULL plan_traits: 0 (the same bits every run, bounded by the table). */
unsigned dk__backend_plan_traits(const dk_backend_iface *b, void *ctx, void *plan);
/* 1 when the backend keeps values in its own memory (both conversions given). */
int dk__backend_native(const dk_backend_iface *b);
/* Value v between the host canonical form and the backend's copy; no-ops
 * for a backend that works on the host tensors (not both conversions given). */
dk_status dk__backend_from_canonical(const dk_backend_iface *b, void *ctx, const dk_graph *g, int v,
                                     const dk_tensor *src);
dk_status dk__backend_to_canonical(const dk_backend_iface *b, void *ctx, const dk_graph *g, int v,
                                   dk_tensor *dst);

/* NULL poison: nothing of the backend's own to poison. */
dk_status dk__backend_poison(const dk_backend_iface *b, void *ctx, const dk_graph *g);

/* The steps of dk__backend_run_node, to say which one failed. */
typedef enum dk__call_step {
    DK_STEP_SUPPORTS = 0,
    DK_STEP_PLAN,
    DK_STEP_FROM_CANONICAL,
    DK_STEP_EXECUTE,
    DK_STEP_TO_CANONICAL,
} dk__call_step;
const char *dk__call_step_name(dk__call_step s);

/* Plans node k of g on an open backend, runs it once on host tensors and
 * releases the plan. `n` is the node executed (NULL: g->nodes[k]; a changed
 * copy for the tolerance checks' magnitudes). A backend that keeps values in
 * its own memory receives the node's non-constant inputs through
 * from_canonical and returns its outputs through to_canonical. A node the
 * backend does not support is DK_ERR_UNSUPPORTED at DK_STEP_SUPPORTS; *step
 * (may be NULL) names the step that failed; *traits (may be NULL) receives
 * the plan's traits (dk__backend_plan_traits). */
dk_status dk__backend_run_node(const dk_backend_iface *b, void *ctx, const dk_graph *g, int k,
                               const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out,
                               dk__call_step *step, unsigned *traits);

#endif
