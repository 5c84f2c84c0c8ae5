/* Copies of graphs and their parts: dk_graph_clone (deltakern/graph.h) and
 * the attribute copy that one-node graphs use too. */
#include <stdlib.h>
#include <string.h>

#include "layers/graph_copy.h"
#include "runtime/error.h"

dk_status dk__attr_copy(dk_attr *dst, const dk_attr *src)
{
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->i = src->i;
    dst->f = src->f;
    dst->n = src->n;
    if (!(dst->name = strdup(src->name))) return DK_ERR_NOMEM;
    if (src->s && !(dst->s = strdup(src->s))) return DK_ERR_NOMEM;
    size_t count = (size_t)(src->n > 0 ? src->n : 1);
    if (src->ints) {
        if (!(dst->ints = malloc(sizeof *dst->ints * count))) return DK_ERR_NOMEM;
        memcpy(dst->ints, src->ints, sizeof *dst->ints * (size_t)(src->n > 0 ? src->n : 0));
    }
    if (src->floats) {
        if (!(dst->floats = malloc(sizeof *dst->floats * count))) return DK_ERR_NOMEM;
        memcpy(dst->floats, src->floats, sizeof *dst->floats * (size_t)(src->n > 0 ? src->n : 0));
    }
    if (src->t) {
        if (!(dst->t = calloc(1, sizeof *dst->t))) return DK_ERR_NOMEM;
        return dk_tensor_copy(dst->t, src->t);
    }
    return DK_OK;
}

static dk_status copy_node(dk_node *dst, const dk_node *src)
{
    *dst = *src; /* the decoded params and counts; the pointers below are replaced */
    dst->name = strdup(src->name);
    dst->covers = src->covers ? strdup(src->covers) : NULL;
    dst->inputs = malloc(sizeof(int) * (size_t)(src->n_inputs > 0 ? src->n_inputs : 1));
    dst->outputs = malloc(sizeof(int) * (size_t)(src->n_outputs > 0 ? src->n_outputs : 1));
    dst->attrs = src->n_attrs ? calloc((size_t)src->n_attrs, sizeof *dst->attrs) : NULL;
    dst->n_attrs = 0;
    if (!dst->name || (src->covers && !dst->covers) || !dst->inputs || !dst->outputs || (src->n_attrs && !dst->attrs))
        return dk__error(DK_ERR_NOMEM, "out of memory");
    memcpy(dst->inputs, src->inputs, sizeof(int) * (size_t)src->n_inputs);
    memcpy(dst->outputs, src->outputs, sizeof(int) * (size_t)src->n_outputs);
    for (int a = 0; a < src->n_attrs; a++) {
        dst->n_attrs = a + 1; /* so that destroy frees what was copied */
        if (dk__attr_copy(&dst->attrs[a], &src->attrs[a]) != DK_OK) return dk__error(DK_ERR_NOMEM, "out of memory");
    }
    return DK_OK;
}

static dk_status copy_ints(int **dst, const int *src, int n)
{
    if (!(*dst = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)))) return dk__error(DK_ERR_NOMEM, "out of memory");
    memcpy(*dst, src, sizeof(int) * (size_t)n);
    return DK_OK;
}

dk_status dk_graph_clone(const dk_graph *g, dk_graph **out)
{
    *out = NULL;
    dk_graph *c;
    DK_TRY(dk_graph_create(&c));
    dk_status st = DK_OK;
    c->opset = g->opset;
    c->hints = g->hints;
    if ((g->source && !(c->source = strdup(g->source))) || (g->name && !(c->name = strdup(g->name))))
        st = dk__error(DK_ERR_NOMEM, "out of memory");
    if (st == DK_OK && !(c->values = calloc((size_t)g->n_values + 1, sizeof *c->values)))
        st = dk__error(DK_ERR_NOMEM, "out of memory");
    for (int v = 0; st == DK_OK && v < g->n_values; v++) {
        c->values[v] = g->values[v]; /* kind, producer, dtype, shape, and the data pointer */
        c->values[v].t.name = NULL;
        c->n_values = c->cap_values = v + 1;
        if (g->values[v].t.name && !(c->values[v].t.name = strdup(g->values[v].t.name)))
            st = dk__error(DK_ERR_NOMEM, "out of memory");
        /* constant data stays g's: read-only by every user of a graph */
        c->values[v].shared = g->values[v].t.data != NULL;
    }
    if (st == DK_OK && !(c->nodes = calloc((size_t)g->n_nodes + 1, sizeof *c->nodes)))
        st = dk__error(DK_ERR_NOMEM, "out of memory");
    for (int k = 0; st == DK_OK && k < g->n_nodes; k++) {
        c->n_nodes = c->cap_nodes = k + 1;
        st = copy_node(&c->nodes[k], &g->nodes[k]);
    }
    if (st == DK_OK) st = copy_ints(&c->inputs, g->inputs, g->n_inputs);
    if (st == DK_OK) c->n_inputs = g->n_inputs, st = copy_ints(&c->outputs, g->outputs, g->n_outputs);
    if (st == DK_OK) c->n_outputs = g->n_outputs;
    if (st != DK_OK) {
        dk_graph_destroy(c);
        return st;
    }
    *out = c;
    return DK_OK;
}
