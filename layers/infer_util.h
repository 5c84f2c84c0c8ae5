/* Internal: helpers shared by the shape inference functions. */
#ifndef DK_LAYERS_INFER_UTIL_H
#define DK_LAYERS_INFER_UTIL_H

#include "deltakern/graph.h"
#include "runtime/checked.h"
#include "runtime/error.h"

/* Input i of n, or NULL when omitted (or i >= n_inputs). */
const dk_tensor *dk__in(const dk_graph *g, const dk_node *n, int i);
/* Input i only if it is a constant with data, else NULL. */
const dk_tensor *dk__const_in(const dk_graph *g, const dk_node *n, int i);
/* Output i of n, or NULL when omitted. */
dk_tensor *dk__out(dk_graph *g, const dk_node *n, int i);
/* Sets dtype and shape of output i (no allocation). No-op for omitted outputs. */
void dk__set_out(dk_graph *g, const dk_node *n, int i, dk_dtype dtype, int ndim,
                 const int64_t *dims);

/* Error with node context: "<source>: node '<name>' (<Op>): <message>". */
dk_status dk__node_error(const dk_graph *g, const dk_node *n, dk_status s, const char *fmt, ...)
    DK_PRINTF(4, 5);

/* The size limits of runtime/checked.h for tensor t, input or output i of n
 * (is_output says which): every dim in [0, DK_MAX_DIM] and at most
 * DK_MAX_ELEMENTS elements; the error names the node and the tensor. */
dk_status dk__check_limits(const dk_graph *g, const dk_node *n, const dk_tensor *t, int is_output,
                           int i);

/* Reads an ints attribute holding `want` values, each in [min, DK_MAX_DIM],
 * into vals; every value is def when the attribute is absent. Errors name the
 * attribute and the offending value. */
dk_status dk__attr_dims(const dk_graph *g, const dk_node *n, const char *name, int want,
                        int64_t def, int64_t min, int64_t *vals);
/* Checks one value of attribute `name` against [min, DK_MAX_DIM]. */
dk_status dk__attr_in_range(const dk_graph *g, const dk_node *n, const char *name, int64_t v,
                            int64_t min);

/* Attribute getters with type checks (wrong type is an error naming the attribute).
 * When absent, the default is stored and DK_OK returned. */
dk_status dk__attr_int(const dk_graph *g, const dk_node *n, const char *name, int64_t def,
                       int64_t *out);
dk_status dk__attr_float(const dk_graph *g, const dk_node *n, const char *name, float def,
                         float *out);
dk_status dk__attr_string(const dk_graph *g, const dk_node *n, const char *name,
                          const char *def, const char **out);
/* *count = -1 when absent (ptr NULL). */
dk_status dk__attr_ints(const dk_graph *g, const dk_node *n, const char *name, int *count,
                        const int64_t **ptr);
dk_status dk__attr_floats(const dk_graph *g, const dk_node *n, const char *name, int *count,
                          const float **ptr);

/* Normalises a possibly negative axis into [0, rank); error if out of range. */
dk_status dk__norm_axis(const dk_graph *g, const dk_node *n, int64_t axis, int rank, int *out);

/* Reads a constant integer (int64/int32) tensor input i into vals (at most max);
 * error naming the input when it is not constant. *count = -1 when omitted. */
dk_status dk__const_ints(const dk_graph *g, const dk_node *n, int i, int64_t *vals, int max,
                         int *count);

/* Removes the nodes k with dead[k] != 0 (freeing them) and recomputes producers. */
void dk__graph_remove_nodes(dk_graph *g, const int *dead);

#endif
