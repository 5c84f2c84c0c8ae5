/* deltakern — the layer graph (IR).
 *
 * A dk_graph holds values (named tensors: graph inputs, constants/weights and
 * activations) and nodes in topological order. Nodes refer to values by index.
 * After dk_graph_finalize() every value has a known dtype and static shape and
 * every node has decoded parameters, FLOPs and bytes moved.
 *
 * Ownership: the graph owns all values, nodes, names and attribute storage.
 * dk_graph_destroy() frees everything. */
#ifndef DELTAKERN_GRAPH_H
#define DELTAKERN_GRAPH_H

#include <stdint.h>
#include "deltakern/ops.h"
#include "deltakern/status.h"
#include "deltakern/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dk_attr_type {
    DK_ATTR_INT = 1,
    DK_ATTR_FLOAT,
    DK_ATTR_STRING,
    DK_ATTR_INTS,
    DK_ATTR_FLOATS,
    DK_ATTR_TENSOR,
    DK_ATTR_OTHER        /* graphs, sparse tensors, ...: never accepted by an op */
} dk_attr_type;

typedef struct dk_attr {
    char *name;
    dk_attr_type type;
    int64_t i;
    float f;
    char *s;
    int n;               /* element count of ints / floats */
    int64_t *ints;
    float *floats;
    dk_tensor *t;
} dk_attr;

typedef enum dk_value_kind {
    DK_VALUE_ACTIVATION = 0, /* produced by a node */
    DK_VALUE_INPUT,          /* graph input fed by the user */
    DK_VALUE_CONSTANT        /* initializer, Constant output or folded value: t.data set */
} dk_value_kind;

typedef struct dk_value {
    dk_tensor t;         /* name, dtype, shape; data only for constants */
    dk_value_kind kind;
    int producer;        /* node index, -1 when none */
    int shared;          /* t.data belongs to the graph this one was cloned from */
} dk_value;

/* Operations a graph pass fused into a Conv (opt >= 2: passes fuse_residual
 * and fuse_activation): y = act(conv(x, w) + b + sum), where sum is input 3
 * of the node when has_sum, and act is DK_OP_NONE, DK_OP_RELU or DK_OP_CLIP
 * (constant bounds min, max). A backend runs them as post-ops of its
 * convolution primitive or as separate steps; the reference applies them to
 * the rounded convolution output exactly as the unfused nodes would. */
typedef struct dk_post_ops {
    int has_sum;
    dk_op act;
    float min, max;
} dk_post_ops;

typedef struct dk_node {
    char *name;          /* never NULL: ONNX name or "<op>_<index>" when unnamed */
    dk_op op;
    int n_inputs;
    int *inputs;         /* value indices; -1 for an omitted optional input */
    int n_outputs;
    int *outputs;        /* value indices; -1 for an omitted optional output */
    int n_attrs;
    dk_attr *attrs;      /* as loaded */
    dk_op_params p;      /* decoded by shape inference */
    int64_t opset;       /* opset version the node binds to */
    double flops;        /* floating point operations (multiply-add = 2) */
    double bytes;        /* bytes read and written (inputs, weights, outputs) */
    int64_t n_params;    /* elements of constant inputs (weights) */
    char *covers;        /* ONNX nodes this node stands for after graph passes,
                            comma-separated ("conv1,bn1"); NULL: itself only */
    dk_post_ops post;    /* fused post-ops (Conv only; zero: none) */
} dk_node;

/* Requests of the opt=3 passes to every backend (dk_graph.hints). */
enum {
    DK_HINT_PROPAGATE_LAYOUT = 1, /* keep each value in the layout its producer chose:
                                     no reorders to NCHW between layers */
    DK_HINT_FASTEST_ALGO = 2      /* time the algorithms a backend has for each
                                     convolution at plan time and keep the fastest */
};

typedef struct dk_graph {
    char *source;        /* file it was loaded from, for messages */
    char *name;
    int64_t opset;       /* default-domain opset version */
    int n_values, cap_values;
    dk_value *values;
    int n_nodes, cap_nodes;
    dk_node *nodes;
    int n_inputs;
    int *inputs;         /* value indices of user-fed graph inputs */
    int n_outputs;
    int *outputs;        /* value indices of graph outputs */
    unsigned hints;      /* DK_HINT_* set by graph passes */
} dk_graph;

dk_status dk_graph_create(dk_graph **out);
void dk_graph_destroy(dk_graph *g);

/* Adds a value; returns its index in *index. The name is copied. */
dk_status dk_graph_add_value(dk_graph *g, const char *name, dk_value_kind kind, int *index);
/* Index of the value with this name, or -1. */
int dk_graph_find_value(const dk_graph *g, const char *name);
/* Appends a node with the given op and input/output counts (indices set to -1);
 * the name is copied. *index receives its position. */
dk_status dk_graph_add_node(dk_graph *g, const char *name, dk_op op, int n_inputs,
                            int n_outputs, int *index);

/* Attribute lookup by name, NULL when absent. */
const dk_attr *dk_node_attr(const dk_node *n, const char *name);

/* Shape inference, constant folding, removal of Identity/Dropout and dead
 * nodes; computes params, FLOPs and bytes for every node. Called by the ONNX
 * loader; call it yourself after building a graph by hand. */
dk_status dk_graph_finalize(dk_graph *g);

/* Sum of FLOPs and of weight elements over all nodes. */
double dk_graph_total_flops(const dk_graph *g);
int64_t dk_graph_total_params(const dk_graph *g);

/* A copy of g whose constants share g's data (graph passes never write a
 * constant's data; they add new values): g must outlive the copy. For
 * several optimisation levels of one model with its weights held once. */
dk_status dk_graph_clone(const dk_graph *g, dk_graph **out);

/* A finalized graph whose only node is a copy of node k of g (attributes,
 * opset, fused post-ops, covered ONNX nodes, the graph's hints): its constant
 * inputs (weights) are copied with their data, its other inputs become graph
 * inputs in the node's input order (a value read twice once), its outputs
 * graph outputs. Values keep their names. For planning and running one node
 * alone under many variants (deltakern sweep). The caller destroys *out. */
dk_status dk_graph_extract_node(const dk_graph *g, int k, dk_graph **out);

#ifdef __cplusplus
}
#endif
#endif
