/* deltakern — graph optimisation levels, as lists of named passes.
 *
 * opt=0 runs every ONNX node as it is (shape arithmetic is always folded at
 * load time, since static shapes need it); opt=1 adds fold_batchnorm; opt=2
 * adds fuse_residual and fuse_activation (post-ops of a Conv, see
 * dk_post_ops in graph.h); opt=3 adds propagate_layout and choose_algorithm,
 * requests to the backends (dk_graph.hints) that each honours in its plans. Each
 * pass records in dk_node.covers which ONNX nodes a rewritten node stands
 * for, so results map back to the original graph. */
#ifndef DELTAKERN_PASSES_H
#define DELTAKERN_PASSES_H

#include "deltakern/graph.h"
#include "deltakern/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DK_OPT_MAX 3

typedef struct dk_pass_info {
    const char *name;
    int level;           /* the lowest opt level that runs it */
    const char *summary;
} dk_pass_info;

int dk_pass_count(void);
const dk_pass_info *dk_pass_at(int i);

/* Runs, in table order, every pass whose level is <= opt, except those named
 * in `disabled` ('+'-separated, may be NULL or ""). An unknown name in
 * `disabled` is an error listing the passes. */
dk_status dk_graph_optimize(dk_graph *g, int opt, const char *disabled);

#ifdef __cplusplus
}
#endif
#endif
