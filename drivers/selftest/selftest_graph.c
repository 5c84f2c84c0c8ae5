/* The op suite's one-node graph builder; see drivers/selftest/selftest_graph.h. */
#include "drivers/selftest/selftest_graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* ---- building ------------------------------------------------------------------- */

void dk__op_case_begin(dk__op_case *c, uint64_t seed, int64_t opset)
{
    memset(c, 0, sizeof *c);
    c->node = -1;
    dk_rng_seed(&c->rng, seed);
    c->st = dk_graph_create(&c->g);
    if (c->st != DK_OK) return;
    c->g->opset = opset;
    c->g->source = strdup("ops_suite");
    if (!c->g->source) c->st = dk__error(DK_ERR_NOMEM, "out of memory");
}

void dk__op_case_end(dk__op_case *c)
{
    dk_graph_destroy(c->g);
    for (int i = 0; i < c->n_data; i++) dk_tensor_reset(&c->data[i]);
    memset(c, 0, sizeof *c);
}

static void fill_uniform(dk__op_case *c, dk_tensor *t, double lo, double hi)
{
    float *d = t->data;
    for (int64_t i = 0, numel = dk_tensor_numel(t); i < numel; i++) d[i] = (float)dk_rng_uniform(&c->rng, lo, hi);
}

static int add_value(dk__op_case *c, const char *name, dk_value_kind kind)
{
    int v = -1;
    if (c->st == DK_OK) c->st = dk_graph_add_value(c->g, name, kind, &v);
    return c->st == DK_OK ? v : -1;
}

static void set_shape(dk_tensor *t, dk_dtype dt, int ndim, const int64_t *dims)
{
    t->dtype = dt;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->dims[d] = dims[d];
}

static int add_graph_input(dk__op_case *c, int v)
{
    if (c->st != DK_OK) return -1;
    if (c->n_data == DK__OP_CASE_MAX_IN) {
        c->st =
            dk__error(DK_ERR_INTERNAL, "ops suite: more than %d graph inputs", DK__OP_CASE_MAX_IN);
        return -1;
    }
    int *inputs = realloc(c->g->inputs, sizeof(int) * (size_t)(c->g->n_inputs + 1));
    if (!inputs) {
        c->st = dk__error(DK_ERR_NOMEM, "out of memory");
        return -1;
    }
    c->g->inputs = inputs;
    c->g->inputs[c->g->n_inputs++] = v;
    c->data_value[c->n_data] = v;
    return c->n_data++;
}

int dk__op_case_input(dk__op_case *c, const char *name, int ndim, const int64_t *dims, double lo,
                      double hi)
{
    int v = add_value(c, name, DK_VALUE_INPUT);
    if (v < 0) return -1;
    set_shape(&c->g->values[v].t, DK_F32, ndim, dims);
    int k = add_graph_input(c, v);
    if (k < 0) return -1;
    c->st = dk_tensor_alloc(&c->data[k], DK_F32, ndim, dims);
    if (c->st != DK_OK) return -1;
    fill_uniform(c, &c->data[k], lo, hi);
    return v;
}

int dk__op_case_input_typed(dk__op_case *c, const char *name, dk_dtype dtype, int ndim,
                            const int64_t *dims)
{
    int v = add_value(c, name, DK_VALUE_INPUT);
    if (v < 0) return -1;
    set_shape(&c->g->values[v].t, dtype, ndim, dims);
    int k = add_graph_input(c, v);
    if (k < 0) return -1;
    c->st = dk_tensor_alloc(&c->data[k], dtype, ndim, dims);
    if (c->st != DK_OK) return -1;
    if (dk_tensor_nbytes(&c->data[k])) memset(c->data[k].data, 0, dk_tensor_nbytes(&c->data[k]));
    return v;
}

int dk__op_case_const(dk__op_case *c, const char *name, int ndim, const int64_t *dims, double lo,
                      double hi)
{
    int v = add_value(c, name, DK_VALUE_CONSTANT);
    if (v < 0) return -1;
    c->st = dk_tensor_alloc(&c->g->values[v].t, DK_F32, ndim, dims);
    if (c->st != DK_OK) return -1;
    fill_uniform(c, &c->g->values[v].t, lo, hi);
    return v;
}

int dk__op_case_const_ints(dk__op_case *c, const char *name, int ndim, int64_t count,
                           const int64_t *vals)
{
    int v = add_value(c, name, DK_VALUE_CONSTANT);
    if (v < 0) return -1;
    int64_t dims[1] = {count};
    c->st = dk_tensor_alloc(&c->g->values[v].t, DK_I64, ndim, dims);
    if (c->st != DK_OK) return -1;
    memcpy(c->g->values[v].t.data, vals, sizeof(int64_t) * (size_t)(ndim ? count : 1));
    return v;
}

int dk__op_case_scalar(dk__op_case *c, const char *name, float val, int as_input)
{
    if (as_input) {
        int v = dk__op_case_input(c, name, 0, NULL, 0, 0);
        if (v >= 0) ((float *)c->data[c->n_data - 1].data)[0] = val;
        return v;
    }
    int v = dk__op_case_const(c, name, 0, NULL, 0, 0);
    if (v >= 0) ((float *)c->g->values[v].t.data)[0] = val;
    return v;
}

dk_tensor *dk__op_case_tensor(dk__op_case *c, int v)
{
    if (c->st != DK_OK || v < 0) return NULL;
    for (int i = 0; i < c->n_data; i++)
        if (c->data_value[i] == v) return &c->data[i];
    return c->g->values[v].t.data ? &c->g->values[v].t : NULL;
}

void dk__op_case_away_from_zero(dk__op_case *c, int v, double lo, double hi, int random_sign)
{
    dk_tensor *t = dk__op_case_tensor(c, v);
    if (!t || t->dtype != DK_F32) return;
    float *d = t->data;
    for (int64_t i = 0, numel = dk_tensor_numel(t); i < numel; i++) {
        double mag = dk_rng_uniform(&c->rng, lo, hi);
        d[i] = (float)(random_sign && dk_rng_chance(&c->rng, 0.5) ? -mag : mag);
    }
}

void dk__op_case_node(dk__op_case *c, dk_op op, const int *ins, int n_in, int n_out)
{
    if (c->st != DK_OK) return;
    char name[64];
    snprintf(name, sizeof name, "%s_under_test", dk_op_name(op));
    int k;
    if ((c->st = dk_graph_add_node(c->g, name, op, n_in, n_out, &k)) != DK_OK) return;
    c->node = k;
    dk_node *n = &c->g->nodes[k];
    for (int i = 0; i < n_in; i++) n->inputs[i] = ins[i];
    for (int o = 0; o < n_out; o++) {
        char yname[16];
        snprintf(yname, sizeof yname, "y%d", o);
        int y = add_value(c, yname, DK_VALUE_ACTIVATION);
        if (y < 0) return;
        n = &c->g->nodes[k];
        n->outputs[o] = y;
        c->g->values[y].producer = k;
        int *outputs = realloc(c->g->outputs, sizeof(int) * (size_t)(c->g->n_outputs + 1));
        if (!outputs) {
            c->st = dk__error(DK_ERR_NOMEM, "out of memory");
            return;
        }
        c->g->outputs = outputs;
        c->g->outputs[c->g->n_outputs++] = y;
    }
}

static dk_attr *add_attr(dk__op_case *c, const char *name, dk_attr_type type)
{
    if (c->st != DK_OK || c->node < 0) return NULL;
    dk_node *n = &c->g->nodes[c->node];
    dk_attr *attrs = realloc(n->attrs, sizeof(dk_attr) * (size_t)(n->n_attrs + 1));
    if (!attrs) {
        c->st = dk__error(DK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->attrs = attrs;
    dk_attr *a = &attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    if (!(a->name = strdup(name))) {
        c->st = dk__error(DK_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->type = type;
    n->n_attrs++;
    return a;
}

void dk__op_case_attr_int(dk__op_case *c, const char *name, int64_t v)
{
    dk_attr *a = add_attr(c, name, DK_ATTR_INT);
    if (a) a->i = v;
}

void dk__op_case_attr_float(dk__op_case *c, const char *name, float v)
{
    dk_attr *a = add_attr(c, name, DK_ATTR_FLOAT);
    if (a) a->f = v;
}

void dk__op_case_attr_ints(dk__op_case *c, const char *name, int count, const int64_t *v)
{
    dk_attr *a = add_attr(c, name, DK_ATTR_INTS);
    if (!a) return;
    a->ints = malloc(sizeof(int64_t) * (size_t)(count > 0 ? count : 1));
    if (!a->ints) {
        c->st = dk__error(DK_ERR_NOMEM, "out of memory");
        return;
    }
    a->n = count;
    if (count > 0) memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

void dk__op_case_attr_string(dk__op_case *c, const char *name, const char *s)
{
    dk_attr *a = add_attr(c, name, DK_ATTR_STRING);
    if (a && !(a->s = strdup(s))) c->st = dk__error(DK_ERR_NOMEM, "out of memory");
}

void dk__op_case_desc(dk__op_case *c, const char *fmt, ...)
{
    size_t used = strlen(c->desc);
    if (used + 1 >= sizeof c->desc) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->desc + used, sizeof c->desc - used, fmt, ap);
    va_end(ap);
}

const char *dk__op_case_shape(int ndim, const int64_t *dims)
{
    static char buf[8][96];
    static int next;
    char *b = buf[next++ % 8];
    return dk_shape_str(ndim, dims, b, sizeof buf[0]);
}

dk_status dk__op_case_finish(dk__op_case *c)
{
    if (c->st != DK_OK) return c->st;
    if ((c->st = dk_graph_finalize(c->g)) != DK_OK) return c->st;
    if (c->g->n_nodes != 1)
        return c->st = dk__error(DK_ERR_INTERNAL, "ops suite: the graph has %d nodes after "
                                 "finalisation, expected 1 (folded or removed?)", c->g->n_nodes);
    c->node = 0;
    const dk_node *n = &c->g->nodes[0];
    if (n->n_inputs > DK__OP_CASE_MAX_IN)
        return c->st = dk__error(DK_ERR_INTERNAL, "ops suite: node has %d inputs", n->n_inputs);
    for (int i = 0; i < n->n_inputs; i++) {
        int v = n->inputs[i];
        c->in[i] = v < 0 ? NULL : dk__op_case_tensor(c, v);
        if (v >= 0 && !c->in[i])
            return c->st = dk__error(DK_ERR_INTERNAL, "ops suite: input %d has no data", i);
    }
    return DK_OK;
}
