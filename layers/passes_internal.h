/* Internal: the graph passes, one file each. A pass rewrites a finalized
 * graph in place and leaves it finalized (shapes, params, FLOPs, bytes). */
#ifndef DK_LAYERS_PASSES_INTERNAL_H
#define DK_LAYERS_PASSES_INTERNAL_H

#include "deltakern/graph.h"

dk_status dk__pass_fold_batchnorm(dk_graph *g);
dk_status dk__pass_fold_pad(dk_graph *g);
dk_status dk__pass_fuse_residual(dk_graph *g);
dk_status dk__pass_fuse_activation(dk_graph *g);
dk_status dk__pass_propagate_layout(dk_graph *g);
dk_status dk__pass_choose_algorithm(dk_graph *g);

/* Helpers the passes share (pass_util.c). */
/* The single node reading value v, or -1 (none, several, or a graph output). */
int dk__sole_consumer(const dk_graph *g, int v);
/* The end of a pass that marked nodes dead: when st is DK_OK and something
 * changed, removes them and finalizes the graph anew; frees dead either way. */
dk_status dk__pass_remove_dead(dk_graph *g, int *dead, int changed, dk_status st);
/* Appends the nodes `from` covers to those `into` covers. */
dk_status dk__join_covers(dk_node *into, const dk_node *from);

#endif
