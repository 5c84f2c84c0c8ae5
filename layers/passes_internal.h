/* Internal: the graph passes, one file each. A pass rewrites a finalized
 * graph in place and leaves it finalized (shapes, params, FLOPs, bytes). */
#ifndef DK_LAYERS_PASSES_INTERNAL_H
#define DK_LAYERS_PASSES_INTERNAL_H

#include "deltakern/graph.h"

dk_status dk__pass_fold_batchnorm(dk_graph *g);

#endif
