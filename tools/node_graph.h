/* The deltakern CLI: a graph holding one node of another graph, so that the
 * node can be planned and run alone under many variants (deltakern sweep). */
#ifndef DK_TOOLS_NODE_GRAPH_H
#define DK_TOOLS_NODE_GRAPH_H

#include "deltakern/graph.h"

/* A finalized graph whose only node is a copy of node k of g (attributes,
 * opset, fused post-ops, covered ONNX nodes, the graph's hints): its constant
 * inputs (weights) are copied with their data, its other inputs become graph
 * inputs in the node's input order (a value read twice once), its outputs
 * graph outputs. Values keep their names. The caller destroys *out. */
dk_status dk_cli_node_graph(const dk_graph *g, int k, dk_graph **out);

#endif
