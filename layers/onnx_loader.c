/* ONNX model loading: protobuf (protoc-c generated code) -> dk_graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "layers/infer_util.h"
#include "layers/onnx_internal.h"
#include "runtime/file.h"

#define DK_OPSET_MAX 17

typedef struct loader {
    dk_graph *g;
    const char *path;
    const dk_tensor *bound; /* graph inputs frozen to constants */
    int n_bound;
    const dk_onnx_options *opts;
} loader;

#define is_default_domain dk__onnx_default_domain

static dk_status read_opset(loader *L, const Onnx__ModelProto *m)
{
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (is_default_domain(o->domain)) L->g->opset = o->version;
    }
    if (L->g->opset <= 0 && m->n_opset_import > 0)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "%s: model imports only opset domain '%s'; deltakern supports the default ONNX domain",
                         L->path, m->opset_import[0]->domain ? m->opset_import[0]->domain : "");
    if (L->g->opset <= 0)
        return dk__error(DK_ERR_FORMAT, "%s: model imports no opset", L->path);
    if (L->g->opset > DK_OPSET_MAX)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: opset %lld is newer than the newest supported (%d)",
                         L->path, (long long)L->g->opset, DK_OPSET_MAX);
    return DK_OK;
}

static dk_status add_initializers(loader *L, const Onnx__GraphProto *gp)
{
    char ctx[512];
    if (gp->n_sparse_initializer)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: sparse initializers are not supported", L->path);
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i]; /* its raw data moves into the graph */
        const char *name = tp->name ? tp->name : "";
        snprintf(ctx, sizeof ctx, "%s: initializer '%s'", L->path, name);
        if (!name[0]) return dk__error(DK_ERR_FORMAT, "%s: initializer %zu has no name", L->path, i);
        if (dk_graph_find_value(L->g, name) >= 0)
            return dk__error(DK_ERR_FORMAT, "%s: initializer '%s' is defined twice", L->path, name);
        int v;
        DK_TRY(dk_graph_add_value(L->g, name, DK_VALUE_CONSTANT, &v));
        dk_tensor t;
        DK_TRY(dk__onnx_tensor_convert(tp, ctx, &t));
        free(t.name);
        t.name = L->g->values[v].t.name;
        L->g->values[v].t = t;
    }
    return DK_OK;
}

static const dk_tensor *find_bound(const loader *L, const char *name)
{
    for (int i = 0; i < L->n_bound; i++)
        if (L->bound[i].name && strcmp(L->bound[i].name, name) == 0) return &L->bound[i];
    return NULL;
}

/* Turns graph input v into a constant holding the bound tensor's data. */
static dk_status bind_input(loader *L, int v, const dk_tensor *b)
{
    dk_tensor *t = &L->g->values[v].t;
    int same = b->dtype == t->dtype && b->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = b->dims[d] == t->dims[d] || d == 0;
    if (!same) {
        char want[128], got[128];
        return dk__error(DK_ERR_SHAPE, "%s: bound input '%s' is %s %s but the model declares %s %s",
                         L->path, t->name, dk_dtype_name(b->dtype),
                         dk_shape_str(b->ndim, b->dims, got, sizeof got), dk_dtype_name(t->dtype),
                         dk_shape_str(t->ndim, t->dims, want, sizeof want));
    }
    char *name = t->name;
    t->name = NULL;
    dk_status s = dk_tensor_copy(t, b);
    free(t->name);
    t->name = name;
    L->g->values[v].kind = DK_VALUE_CONSTANT;
    return s;
}

static dk_status add_inputs(loader *L, const Onnx__GraphProto *gp)
{
    DK_TRY(dk__onnx_check_shape_names(L->path, gp, L->g, L->opts)); /* before any input's own error */
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !vi->name[0]) return dk__error(DK_ERR_FORMAT, "%s: graph input %zu has no name", L->path, i);
        if (dk_graph_find_value(L->g, vi->name) >= 0) continue; /* an initializer listed as input */
        int v;
        DK_TRY(dk_graph_add_value(L->g, vi->name, DK_VALUE_INPUT, &v));
        DK_TRY(dk__onnx_input_type(L->path, vi, L->opts, L->g->n_inputs == 0, &L->g->values[v].t));
        const dk_tensor *b = find_bound(L, vi->name);
        if (b) {
            DK_TRY(bind_input(L, v, b));
            continue;
        }
        int *p = realloc(L->g->inputs, sizeof(int) * (size_t)(L->g->n_inputs + 1));
        if (!p) return dk__error(DK_ERR_NOMEM, "out of memory");
        L->g->inputs = p;
        L->g->inputs[L->g->n_inputs++] = v;
    }
    return DK_OK;
}

static dk_status convert_attr(loader *L, const char *node, const Onnx__AttributeProto *ap, dk_attr *a)
{
    if (!ap->name) return dk__error(DK_ERR_FORMAT, "%s: node '%s': attribute without a name", L->path, node);
    if (!(a->name = strdup(ap->name))) return dk__error(DK_ERR_NOMEM, "out of memory");
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return dk__error(DK_ERR_FORMAT, "%s: node '%s': attribute '%s' refers to a function attribute",
                         L->path, node, ap->name);
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        a->type = DK_ATTR_INT;
        a->i = ap->i;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        a->type = DK_ATTR_FLOAT;
        a->f = ap->f;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->type = DK_ATTR_STRING;
        if (!(a->s = calloc(ap->s.len + 1, 1))) return dk__error(DK_ERR_NOMEM, "out of memory");
        if (ap->s.len) memcpy(a->s, ap->s.data, ap->s.len);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->type = DK_ATTR_INTS;
        a->n = (int)ap->n_ints;
        if (!(a->ints = malloc(sizeof(int64_t) * (ap->n_ints + 1)))) return dk__error(DK_ERR_NOMEM, "out of memory");
        if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->type = DK_ATTR_FLOATS;
        a->n = (int)ap->n_floats;
        if (!(a->floats = malloc(sizeof(float) * (ap->n_floats + 1)))) return dk__error(DK_ERR_NOMEM, "out of memory");
        if (ap->n_floats) memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        char ctx[512];
        snprintf(ctx, sizeof ctx, "%s: node '%s': attribute '%s'", L->path, node, ap->name);
        if (!ap->t) return dk__error(DK_ERR_FORMAT, "%s: tensor missing", ctx);
        a->type = DK_ATTR_TENSOR;
        if (!(a->t = calloc(1, sizeof *a->t))) return dk__error(DK_ERR_NOMEM, "out of memory");
        DK_TRY(dk__onnx_tensor_convert(ap->t, ctx, a->t));
        break;
    }
    default:
        /* Old IR versions may omit `type`; infer it from the field that is set. */
        if (!ap->has_type && ap->has_i) {
            a->type = DK_ATTR_INT;
            a->i = ap->i;
        } else if (!ap->has_type && ap->has_f) {
            a->type = DK_ATTR_FLOAT;
            a->f = ap->f;
        } else {
            a->type = DK_ATTR_OTHER;
        }
    }
    return DK_OK;
}

static dk_status add_node(loader *L, const Onnx__NodeProto *np, int index)
{
    char name[256];
    const char *op_type = np->op_type ? np->op_type : "";
    if (np->name && np->name[0])
        snprintf(name, sizeof name, "%s", np->name);
    else
        snprintf(name, sizeof name, "%s_%d", op_type, index);
    if (!is_default_domain(np->domain))
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s': op '%s' of domain '%s' is not supported",
                         L->path, name, op_type, np->domain);
    dk_op op = dk_op_from_name(op_type);
    if (op == DK_OP_NONE)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s': op '%s' is not supported", L->path, name,
                         op_type);
    int k;
    DK_TRY(dk_graph_add_node(L->g, name, op, (int)np->n_input, (int)np->n_output, &k));
    dk_node *n = &L->g->nodes[k];
    for (size_t i = 0; i < np->n_input; i++) {
        if (!np->input[i][0]) continue; /* omitted optional input */
        n->inputs[i] = dk_graph_find_value(L->g, np->input[i]);
        if (n->inputs[i] < 0)
            return dk__error(DK_ERR_FORMAT, "%s: node '%s': input '%s' is not produced by any node (or the graph has a cycle)",
                             L->path, name, np->input[i]);
    }
    if (np->n_attribute && !(n->attrs = calloc(np->n_attribute, sizeof *n->attrs)))
        return dk__error(DK_ERR_NOMEM, "out of memory");
    for (size_t a = 0; a < np->n_attribute; a++) {
        n->n_attrs = (int)a + 1;
        DK_TRY(convert_attr(L, name, np->attribute[a], &n->attrs[a]));
    }
    for (size_t o = 0; o < np->n_output; o++) {
        if (!np->output[o][0]) continue; /* omitted optional output */
        if (dk_graph_find_value(L->g, np->output[o]) >= 0)
            return dk__error(DK_ERR_FORMAT, "%s: node '%s': output '%s' is already defined", L->path,
                             name, np->output[o]);
        int v;
        DK_TRY(dk_graph_add_value(L->g, np->output[o], DK_VALUE_ACTIVATION, &v));
        L->g->values[v].producer = k;
        L->g->nodes[k].outputs[o] = v; /* re-index: add_value may not move nodes, but be explicit */
    }
    return DK_OK;
}

/* ONNX requires topological order but not every exporter honours it: emit nodes
 * in an order where every input is defined first. */
static int inputs_ready(const loader *L, const Onnx__NodeProto *np)
{
    for (size_t i = 0; i < np->n_input; i++)
        if (np->input[i][0] && dk_graph_find_value(L->g, np->input[i]) < 0) return 0;
    return 1;
}

static dk_status add_nodes(loader *L, const Onnx__GraphProto *gp)
{
    char *done = calloc(gp->n_node + 1, 1);
    if (!done) return dk__error(DK_ERR_NOMEM, "out of memory");
    size_t remaining = gp->n_node;
    dk_status s = DK_OK;
    while (remaining && s == DK_OK) {
        size_t before = remaining;
        for (size_t i = 0; i < gp->n_node && s == DK_OK; i++) {
            if (done[i] || !inputs_ready(L, gp->node[i])) continue;
            s = add_node(L, gp->node[i], (int)i);
            done[i] = 1;
            remaining--;
        }
        if (s == DK_OK && remaining == before) {
            /* Nothing could be placed: report the first blocked node's missing input. */
            for (size_t i = 0; i < gp->n_node; i++) {
                if (done[i]) continue;
                s = add_node(L, gp->node[i], (int)i);
                if (s == DK_OK)
                    s = dk__error(DK_ERR_FORMAT, "%s: the graph has a cycle", L->path);
                break;
            }
        }
    }
    free(done);
    return s;
}

static dk_status add_outputs(loader *L, const Onnx__GraphProto *gp)
{
    if (gp->n_output == 0) return dk__error(DK_ERR_FORMAT, "%s: graph has no outputs", L->path);
    if (!(L->g->outputs = calloc(gp->n_output, sizeof(int)))) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        int v = dk_graph_find_value(L->g, name);
        if (v < 0)
            return dk__error(DK_ERR_FORMAT, "%s: graph output '%s' is not produced by any node",
                             L->path, name);
        L->g->outputs[L->g->n_outputs++] = v;
    }
    return DK_OK;
}

static dk_status build(loader *L, const Onnx__ModelProto *m)
{
    if (!m->graph) return dk__error(DK_ERR_FORMAT, "%s: not an ONNX model (no graph)", L->path);
    DK_TRY(read_opset(L, m));
    const Onnx__GraphProto *gp = m->graph;
    if (gp->name && !(L->g->name = strdup(gp->name))) return dk__error(DK_ERR_NOMEM, "out of memory");
    DK_TRY(add_initializers(L, gp));
    DK_TRY(add_inputs(L, gp));
    dk_onnx_gap *gaps;
    int n_gaps;
    DK_TRY(dk__onnx_gaps(gp, &gaps, &n_gaps));
    dk_status s = n_gaps ? dk__onnx_gaps_error(L->path, gaps, n_gaps) : DK_OK;
    free(gaps);
    DK_TRY(s);
    DK_TRY(add_nodes(L, gp));
    DK_TRY(add_outputs(L, gp));
    return dk_graph_finalize(L->g);
}

dk_status dk_onnx_load(const char *path, dk_graph **out) { return dk_onnx_load_with(path, NULL, out); }

dk_status dk_onnx_load_bound(const char *path, const dk_tensor *bound, int n_bound, dk_graph **out)
{
    dk_onnx_options o = {.bound = bound, .n_bound = n_bound};
    return dk_onnx_load_with(path, &o, out);
}

dk_status dk_onnx_load_shaped(const char *path, const dk_input_shape *shapes, int n, dk_graph **out)
{
    dk_onnx_options o = {.shapes = shapes, .n_shapes = n};
    return dk_onnx_load_with(path, &o, out);
}

/* Reads and parses the model file at path. */
static dk_status read_model(const char *path, Onnx__ModelProto **m)
{
    unsigned char *buf;
    size_t len;
    DK_TRY(dk__read_file(path, DK_ONNX_MAX_FILE, &buf, &len));
    if (len == 0) {
        free(buf);
        return dk__error(DK_ERR_FORMAT, "%s: empty file", path);
    }
    *m = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    if (!*m)
        return dk__error(DK_ERR_FORMAT, "%s: not a valid ONNX model (protobuf parse failed: truncated or corrupt)",
                         path);
    return DK_OK;
}

dk_status dk_onnx_load_with(const char *path, const dk_onnx_options *opts, dk_graph **out)
{
    *out = NULL;
    Onnx__ModelProto *m;
    DK_TRY(read_model(path, &m));
    loader L = {0};
    L.path = path;
    L.bound = opts ? opts->bound : NULL;
    L.n_bound = opts ? opts->n_bound : 0;
    L.opts = opts;
    dk_status s = dk_graph_create(&L.g);
    if (s == DK_OK && !(L.g->source = strdup(path))) s = dk__error(DK_ERR_NOMEM, "out of memory");
    if (s == DK_OK) s = build(&L, m);
    onnx__model_proto__free_unpacked(m, NULL);
    if (s != DK_OK) {
        dk_graph_destroy(L.g);
        return s;
    }
    *out = L.g;
    return DK_OK;
}

dk_status dk_onnx_gaps(const char *path, dk_onnx_gap **gaps, int *n)
{
    *gaps = NULL;
    *n = 0;
    Onnx__ModelProto *m;
    DK_TRY(read_model(path, &m));
    dk_status s = m->graph ? dk__onnx_gaps(m->graph, gaps, n)
                           : dk__error(DK_ERR_FORMAT, "%s: not an ONNX model (no graph)", path);
    onnx__model_proto__free_unpacked(m, NULL);
    return s;
}
