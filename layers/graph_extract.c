/* One node of a graph as a graph of its own (deltakern/graph.h: dk_graph_extract_node). */
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "layers/graph_copy.h"

/* The copy of value v of g in s (added on first use). */
static dk_status value_in(dk_graph *s, const dk_graph *g, int v, int *out)
{
    const dk_value *src = &g->values[v];
    int w = dk_graph_find_value(s, src->t.name ? src->t.name : "");
    if (w >= 0) {
        *out = w;
        return DK_OK;
    }
    int constant = src->kind == DK_VALUE_CONSTANT;
    dk_status st = dk_graph_add_value(s, src->t.name, constant ? DK_VALUE_CONSTANT : DK_VALUE_INPUT, &w);
    if (st != DK_OK) return st;
    dk_tensor *t = &s->values[w].t;
    if (constant) {
        st = dk_tensor_copy(t, &src->t);
        if (st != DK_OK) return st;
    } else {
        t->dtype = src->t.dtype;
        t->ndim = src->t.ndim;
        memcpy(t->dims, src->t.dims, sizeof t->dims);
        s->inputs[s->n_inputs++] = w;
    }
    *out = w;
    return DK_OK;
}

static dk_status build(dk_graph *s, const dk_graph *g, int k)
{
    const dk_node *n = &g->nodes[k];
    s->opset = g->opset;
    s->hints = g->hints;
    s->source = strdup(g->source ? g->source : "");
    s->name = strdup(n->name);
    s->inputs = malloc(sizeof(int) * (size_t)(n->n_inputs + 1));
    s->outputs = malloc(sizeof(int) * (size_t)(n->n_outputs + 1));
    if (!s->source || !s->name || !s->inputs || !s->outputs) return DK_ERR_NOMEM;
    int idx;
    dk_status st = dk_graph_add_node(s, n->name, n->op, n->n_inputs, n->n_outputs, &idx);
    for (int j = 0; st == DK_OK && j < n->n_inputs; j++) {
        int w = -1;
        if (n->inputs[j] >= 0) st = value_in(s, g, n->inputs[j], &w);
        s->nodes[idx].inputs[j] = w;
    }
    for (int o = 0; st == DK_OK && o < n->n_outputs; o++) {
        int v = n->outputs[o], w = -1;
        if (v >= 0 && (st = dk_graph_add_value(s, g->values[v].t.name, DK_VALUE_ACTIVATION, &w)) == DK_OK) {
            s->values[w].producer = idx;
            s->outputs[s->n_outputs++] = w;
        }
        s->nodes[idx].outputs[o] = w;
    }
    if (st != DK_OK) return st;
    dk_node *m = &s->nodes[idx];
    m->opset = n->opset;
    m->post = n->post;
    if (n->covers && !(m->covers = strdup(n->covers))) return DK_ERR_NOMEM;
    if (n->n_attrs > 0) {
        if (!(m->attrs = calloc((size_t)n->n_attrs, sizeof *m->attrs))) return DK_ERR_NOMEM;
        for (int a = 0; a < n->n_attrs; a++) {
            m->n_attrs = a + 1; /* so that destroy frees what was copied */
            if ((st = dk__attr_copy(&m->attrs[a], &n->attrs[a])) != DK_OK) return st;
        }
    }
    return dk_graph_finalize(s);
}

dk_status dk_graph_extract_node(const dk_graph *g, int k, dk_graph **out)
{
    *out = NULL;
    dk_graph *s;
    dk_status st = dk_graph_create(&s);
    if (st != DK_OK) return st;
    st = build(s, g, k);
    if (st == DK_OK && (s->n_nodes != 1 || s->nodes[0].op != g->nodes[k].op)) st = DK_ERR_INTERNAL;
    if (st != DK_OK) {
        dk_graph_destroy(s);
        return st;
    }
    *out = s;
    return DK_OK;
}
