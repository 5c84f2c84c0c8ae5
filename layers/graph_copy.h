/* Internal: copying a graph's parts (layers/graph_copy.c). */
#ifndef DK_LAYERS_GRAPH_COPY_H
#define DK_LAYERS_GRAPH_COPY_H

#include "deltakern/graph.h"

/* Deep copy of an attribute (name, strings, arrays, tensor). */
dk_status dk__attr_copy(dk_attr *dst, const dk_attr *src);

#endif
