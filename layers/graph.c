/* Graph construction and destruction. */
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "runtime/error.h"

dk_status dk_graph_create(dk_graph **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return dk__error(DK_ERR_NOMEM, "out of memory");
    return DK_OK;
}

static void attr_free(dk_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    if (a->t) {
        dk_tensor_reset(a->t);
        free(a->t);
    }
}

void dk_graph_destroy(dk_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        if (g->values[i].shared) g->values[i].t.data = NULL; /* another graph's */
        dk_tensor_reset(&g->values[i].t);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dk_node *n = &g->nodes[i];
        free(n->name);
        free(n->covers);
        free(n->inputs);
        free(n->outputs);
        for (int a = 0; a < n->n_attrs; a++) attr_free(&n->attrs[a]);
        free(n->attrs);
    }
    free(g->values);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->source);
    free(g->name);
    free(g);
}

static dk_status grow(void **ptr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return DK_OK;
    int ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*ptr, (size_t)ncap * elem);
    if (!p) return dk__error(DK_ERR_NOMEM, "out of memory");
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *ptr = p;
    *cap = ncap;
    return DK_OK;
}

dk_status dk_graph_add_value(dk_graph *g, const char *name, dk_value_kind kind, int *index)
{
    DK_TRY(grow((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values));
    dk_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    if (!(v->t.name = strdup(name ? name : ""))) return dk__error(DK_ERR_NOMEM, "out of memory");
    v->kind = kind;
    v->producer = -1;
    *index = g->n_values++;
    return DK_OK;
}

int dk_graph_find_value(const dk_graph *g, const char *name)
{
    /* Graphs have a few thousand values at most; a linear scan keeps this simple
     * and the loader builds its own hash map where it matters. */
    for (int i = g->n_values - 1; i >= 0; i--)
        if (g->values[i].t.name && strcmp(g->values[i].t.name, name) == 0) return i;
    return -1;
}

dk_status dk_graph_add_node(dk_graph *g, const char *name, dk_op op, int n_inputs,
                            int n_outputs, int *index)
{
    DK_TRY(grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes));
    dk_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->opset = g->opset;
    n->name = strdup(name ? name : "");
    n->inputs = malloc(sizeof(int) * (size_t)(n_inputs > 0 ? n_inputs : 1));
    n->outputs = malloc(sizeof(int) * (size_t)(n_outputs > 0 ? n_outputs : 1));
    if (!n->name || !n->inputs || !n->outputs) {
        free(n->name);
        free(n->covers);
        free(n->inputs);
        free(n->outputs);
        return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_inputs; i++) n->inputs[i] = -1;
    for (int i = 0; i < n_outputs; i++) n->outputs[i] = -1;
    n->n_inputs = n_inputs;
    n->n_outputs = n_outputs;
    *index = g->n_nodes++;
    return DK_OK;
}

const dk_attr *dk_node_attr(const dk_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

double dk_graph_total_flops(const dk_graph *g)
{
    double f = 0;
    for (int i = 0; i < g->n_nodes; i++) f += g->nodes[i].flops;
    return f;
}

int64_t dk_graph_total_params(const dk_graph *g)
{
    int64_t p = 0;
    for (int i = 0; i < g->n_nodes; i++) p += g->nodes[i].n_params;
    return p;
}
