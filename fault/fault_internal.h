/* Internal: the fault wrapper's state, shared by its files
 * (fault_backend.c: the backend table; fault_target.c: finding the node;
 * fault_corrupt.c: the corruptions). */
#ifndef DK_FAULT_FAULT_INTERNAL_H
#define DK_FAULT_FAULT_INTERNAL_H

#include <stdint.h>

#include "deltakern/tolerance.h"
#include "fault/fault_backend.h"
#include "kernels/backend_call.h"

extern const dk_backend_iface dk_backend_fault;

typedef enum fault_kind {
    FAULT_NOISE, FAULT_BIAS, FAULT_ZERO, FAULT_SWAP, FAULT_SLOW, FAULT_FLAKY, FAULT_NAN, FAULT_KIND_COUNT
} fault_kind;

typedef struct fault_ctx {
    const dk_backend_iface *base;
    void *base_ctx;
    dk_variant base_variant;      /* base + the keys that are not the wrapper's */
    char node[DK_VARIANT_VALUE_MAX];
    fault_kind kind;
    const char *kind_name;
    double scale, factor;
    uint64_t seed;
    unsigned declare;             /* the corrupted node's plan traits (DK_PLAN_*, option declare) */
    dk_precision prec;            /* of the whole variant (fpmath goes to the base) */
    const dk_graph *g;            /* the graph the target was found in */
    int target;                   /* its node index, -1 before planning */
    double seconds;               /* the last node's time: the base's, plus the busy-wait */
} fault_ctx;

/* Finds c->node in g (a node's name, else a name in a node's covers list) and
 * checks that the kind applies to it; sets c->target. The error names the
 * model and the closest node names. */
dk_status dk__fault_find_target(fault_ctx *c, const dk_graph *g);

/* Applies c's corruption to output 0 of node n after the base ran it (in the
 * base's own memory through to/from_canonical when it keeps one); fills the
 * corruption fields of ev. */
dk_status dk__fault_corrupt(fault_ctx *c, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                            dk_tensor *const *out, dk__fault_event *ev);

#endif
