/* Helpers shared by the graph passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/passes_internal.h"
#include "runtime/error.h"

int dk__sole_consumer(const dk_graph *g, int v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v) return -1;
    int found = -1;
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] == v) {
                if (found >= 0 && found != k) return -1;
                found = k;
            }
    return found;
}

dk_status dk__join_covers(dk_node *into, const dk_node *from)
{
    const char *a = into->covers ? into->covers : into->name;
    const char *b = from->covers ? from->covers : from->name;
    size_t len = strlen(a) + strlen(b) + 2;
    char *s = malloc(len);
    if (!s) return dk__error(DK_ERR_NOMEM, "out of memory");
    snprintf(s, len, "%s,%s", a, b);
    free(into->covers);
    into->covers = s;
    return DK_OK;
}

dk_status dk__pass_remove_dead(dk_graph *g, int *dead, int changed, dk_status st)
{
    if (st == DK_OK && changed) {
        dk__graph_remove_nodes(g, dead);
        st = dk_graph_finalize(g); /* producers, params, FLOPs and bytes anew */
    }
    free(dead);
    return st;
}
