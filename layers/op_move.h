/* Internal: helpers shared by the data-movement ops (op_shape.c, op_permute.c,
 * op_pad.c, op_gather.c, op_slice.c, op_expand.c, op_fold.c). These ops copy
 * bytes of any dtype and never convert through float, so int64 shape arithmetic survives exactly. */
#ifndef DK_LAYERS_OP_MOVE_H
#define DK_LAYERS_OP_MOVE_H

#include "layers/infer_util.h"
#include "layers/op_table.h"

/* Input i, which must be present and of a dtype with a known size. */
dk_status dk__move_input(const dk_graph *g, const dk_node *n, int i, const dk_tensor **out);

/* Error raised by an eval function (no graph there): names the node and op. */
dk_status dk__eval_error(const dk_node *n, dk_status s, const char *fmt, ...) DK_PRINTF(3, 4);

/* Flat index into operand t, whose dim 0 lines up with dim `first` of out
 * (t's dims of size 1 broadcast), of out's element i. */
int64_t dk__broadcast_index(const dk_tensor *t, int first, const dk_tensor *out, int64_t i);

/* numpy's broadcast of count shapes (aligned to the right, dims of 1
 * repeat) into *ndim and dims; 0 when they do not broadcast. */
int dk__broadcast_shapes(int count, const int *ndims, const int64_t *const *shapes, int *ndim,
                         int64_t *dims);

/* Formats a list of ints as "[2, -1, 5]" into buf. */
const char *dk__ints_str(const int64_t *v, int count, char *buf, size_t size);

#endif
