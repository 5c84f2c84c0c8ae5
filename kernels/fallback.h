/* Internal: the one way a backend runs an op it has no kernel of its own
 * for: on the reference kernels (kernels/ref/), on host tensors. A backend
 * that keeps values elsewhere (a device, a blocked layout) brings the node's
 * inputs to the host before and its outputs back after; the kernel call and
 * the supported set are these, the same for every backend. */
#ifndef DK_KERNELS_FALLBACK_H
#define DK_KERNELS_FALLBACK_H

#include "deltakern/graph.h"

/* 1 when the reference can run n, i.e. any backend can fall back for it. */
int dk__fallback_supports(const dk_node *n);
/* Runs n on the reference kernel; errors name the backend that fell back. */
dk_status dk__fallback_run(const char *backend, const dk_node *n, const dk_tensor *const *in,
                           dk_tensor *const *out);

#endif
