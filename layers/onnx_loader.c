/* ONNX model loading: protobuf (protoc-c generated code) -> dk_graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/onnx.h"
#include "layers/infer_util.h"
#include "layers/onnx_internal.h"
#include "runtime/file.h"
#include "runtime/strmap.h"
#include "runtime/text.h"

#define DK_OPSET_MAX 17

typedef struct loader {
    dk_graph *g;
    const char *path;
    const dk_tensor *bound; /* graph inputs frozen to constants */
    int n_bound;
    const dk_onnx_options *opts;
    dk_strmap values; /* value name -> index in g->values, for O(1) lookups */
} loader;

static int find_value(const loader *L, const char *name) { return dk_strmap_get(&L->values, name); }

/* dk_graph_add_value, and the name into L->values (the graph's copy of the
 * name is the key: it lives as long as the graph). */
static dk_status add_value(loader *L, const char *name, dk_value_kind kind, int *v)
{
    DK_TRY(dk_graph_add_value(L->g, name, kind, v));
    return dk_strmap_put(&L->values, L->g->values[*v].t.name, *v);
}

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
                         L->path, DK_ESC(m->opset_import[0]->domain));
    if (L->g->opset <= 0)
        return dk__error(DK_ERR_FORMAT, "%s: model imports no opset", L->path);
    if (L->g->opset > DK_OPSET_MAX)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: opset %lld is newer than the newest supported (%d)",
                         L->path, (long long)L->g->opset, DK_OPSET_MAX);
    return DK_OK;
}

static dk_status add_initializers(loader *L, const Onnx__GraphProto *gp)
{
    char ctx[1024];
    if (gp->n_sparse_initializer)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: sparse initializers are not supported", L->path);
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i]; /* its raw data moves into the graph */
        const char *name = tp->name ? tp->name : "";
        snprintf(ctx, sizeof ctx, "%s: initializer '%s'", L->path, DK_ESC(name));
        if (!name[0]) return dk__error(DK_ERR_FORMAT, "%s: initializer %zu has no name", L->path, i);
        if (find_value(L, name) >= 0)
            return dk__error(DK_ERR_FORMAT, "%s: initializer '%s' is defined twice", L->path, DK_ESC(name));
        int v;
        DK_TRY(add_value(L, name, DK_VALUE_CONSTANT, &v));
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
                         L->path, DK_ESC(t->name), dk_dtype_name(b->dtype),
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
        if (find_value(L, vi->name) >= 0) continue; /* an initializer listed as input */
        int v;
        DK_TRY(add_value(L, vi->name, DK_VALUE_INPUT, &v));
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
    if (!ap->name) return dk__error(DK_ERR_FORMAT, "%s: node '%s': attribute without a name", L->path, DK_ESC(node));
    if (!(a->name = strdup(ap->name))) return dk__error(DK_ERR_NOMEM, "out of memory");
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return dk__error(DK_ERR_FORMAT, "%s: node '%s': attribute '%s' refers to a function attribute",
                         L->path, DK_ESC(node), DK_ESC(ap->name));
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
        char ctx[1024];
        snprintf(ctx, sizeof ctx, "%s: node '%s': attribute '%s'", L->path, DK_ESC(node), DK_ESC(ap->name));
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

/* The node's name for the graph and messages: its own, else "<op>_<index>". */
static void node_name(const Onnx__NodeProto *np, size_t index, char *buf, size_t n)
{
    if (np->name && np->name[0])
        snprintf(buf, n, "%s", np->name);
    else
        snprintf(buf, n, "%s_%zu", np->op_type ? np->op_type : "", index);
}

static dk_status add_node(loader *L, const Onnx__NodeProto *np, size_t index)
{
    char name[256];
    const char *op_type = np->op_type ? np->op_type : "";
    node_name(np, index, name, sizeof name);
    if (!is_default_domain(np->domain))
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s': op '%s' of domain '%s' is not supported",
                         L->path, DK_ESC(name), DK_ESC(op_type), DK_ESC(np->domain));
    dk_op op = dk_op_from_name(op_type);
    if (op == DK_OP_NONE)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s': op '%s' is not supported", L->path,
                         DK_ESC(name), DK_ESC(op_type));
    int k;
    DK_TRY(dk_graph_add_node(L->g, name, op, (int)np->n_input, (int)np->n_output, &k));
    dk_node *n = &L->g->nodes[k];
    for (size_t i = 0; i < np->n_input; i++) {
        if (!np->input[i][0]) continue; /* omitted optional input */
        n->inputs[i] = find_value(L, np->input[i]);
        if (n->inputs[i] < 0) /* the sort places producers first: cannot happen */
            return dk__error(DK_ERR_INTERNAL, "%s: node '%s': input '%s' placed before its producer",
                             L->path, DK_ESC(name), DK_ESC(np->input[i]));
    }
    if (np->n_attribute && !(n->attrs = calloc(np->n_attribute, sizeof *n->attrs)))
        return dk__error(DK_ERR_NOMEM, "out of memory");
    for (size_t a = 0; a < np->n_attribute; a++) {
        n->n_attrs = (int)a + 1;
        DK_TRY(convert_attr(L, name, np->attribute[a], &n->attrs[a]));
    }
    for (size_t o = 0; o < np->n_output; o++) {
        if (!np->output[o][0]) continue; /* omitted optional output */
        if (find_value(L, np->output[o]) >= 0)
            return dk__error(DK_ERR_FORMAT, "%s: node '%s': output '%s' is already defined", L->path,
                             DK_ESC(name), DK_ESC(np->output[o]));
        int v;
        DK_TRY(add_value(L, np->output[o], DK_VALUE_ACTIVATION, &v));
        L->g->values[v].producer = k;
        L->g->nodes[k].outputs[o] = v; /* re-index: add_value may not move nodes, but be explicit */
    }
    return DK_OK;
}

/* The order in which to place the nodes. ONNX requires topological order but
 * not every exporter honours it, so the loader sorts (Kahn's algorithm, linear
 * in nodes + edges, no recursion): nodes already in order keep the file's
 * order, and a node whose inputs come later waits for them. */
typedef struct sorter {
    size_t n;
    int *producer; /* per (node, input) slot: the producing node, -1 a graph value */
    size_t *first; /* node i's inputs are slots first[i] .. first[i + 1] - 1 */
    int *waiting;  /* per node: inputs not yet produced */
    size_t *user_first; /* node i's consumers are users[user_first[i] ..] */
    int *users;
    int *stack;
    char *placed;
} sorter;

static void sorter_free(sorter *S)
{
    free(S->producer);
    free(S->first);
    free(S->waiting);
    free(S->user_first);
    free(S->users);
    free(S->stack);
    free(S->placed);
}

/* Fills S from the graph: each input's producer, and the consumers of each
 * node. An input that no node produces and that is no initializer or graph
 * input is an error, named here. */
static dk_status sorter_build(loader *L, const Onnx__GraphProto *gp, sorter *S)
{
    size_t n = gp->n_node, slots = 0;
    for (size_t i = 0; i < n; i++) slots += gp->node[i]->n_input;
    S->n = n;
    S->producer = malloc((slots + 1) * sizeof *S->producer);
    S->first = malloc((n + 1) * sizeof *S->first);
    S->waiting = calloc(n + 1, sizeof *S->waiting);
    S->user_first = calloc(n + 2, sizeof *S->user_first);
    S->users = malloc((slots + 1) * sizeof *S->users);
    S->stack = malloc((n + 1) * sizeof *S->stack);
    S->placed = calloc(n + 1, 1);
    if (!S->producer || !S->first || !S->waiting || !S->user_first || !S->users || !S->stack || !S->placed)
        return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_strmap made = {0}; /* output name -> its (first) producer */
    dk_status s = DK_OK;
    for (size_t i = 0; i < n && s == DK_OK; i++)
        for (size_t o = 0; o < gp->node[i]->n_output && s == DK_OK; o++) {
            const char *out = gp->node[i]->output[o];
            if (out[0] && dk_strmap_get(&made, out) < 0) s = dk_strmap_put(&made, out, (int)i);
        }
    size_t k = 0;
    for (size_t i = 0; i < n && s == DK_OK; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        S->first[i] = k;
        for (size_t j = 0; j < np->n_input; j++, k++) {
            const char *in = np->input[j];
            /* a graph value wins: an output that redefines one fails in add_node */
            int p = !in[0] || find_value(L, in) >= 0 ? -1 : dk_strmap_get(&made, in);
            S->producer[k] = p;
            if (p >= 0) {
                S->waiting[i]++;
                S->user_first[p + 1]++;
            } else if (in[0] && find_value(L, in) < 0) {
                char name[256];
                node_name(np, i, name, sizeof name);
                s = dk__error(DK_ERR_FORMAT, "%s: node '%s': input '%s' is not produced by any node",
                              L->path, DK_ESC(name), DK_ESC(in));
            }
        }
    }
    dk_strmap_free(&made);
    if (s != DK_OK) return s;
    S->first[n] = k;
    for (size_t i = 0; i < n; i++) S->user_first[i + 1] += S->user_first[i];
    size_t *fill = calloc(n + 1, sizeof *fill);
    if (!fill) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t j = S->first[i]; j < S->first[i + 1]; j++)
            if (S->producer[j] >= 0) {
                size_t p = (size_t)S->producer[j];
                S->users[S->user_first[p] + fill[p]++] = (int)i;
            }
    free(fill);
    return DK_OK;
}

/* After the sort left nodes unplaced, they all wait on a cycle: walk back
 * from one through unplaced producers until a node repeats, which is on the
 * cycle, and name it. */
static dk_status cycle_error(loader *L, const Onnx__GraphProto *gp, sorter *S)
{
    size_t at = 0;
    while (S->placed[at]) at++;
    memset(S->waiting, 0, S->n * sizeof *S->waiting); /* now: visited */
    while (!S->waiting[at]) {
        S->waiting[at] = 1;
        for (size_t j = S->first[at]; j < S->first[at + 1]; j++) {
            int p = S->producer[j];
            if (p >= 0 && !S->placed[p]) {
                at = (size_t)p;
                break;
            }
        }
    }
    char name[256];
    node_name(gp->node[at], at, name, sizeof name);
    return dk__error(DK_ERR_FORMAT, "%s: the graph has a cycle through node '%s' (op '%s'): it needs its own output",
                     L->path, DK_ESC(name), DK_ESC(gp->node[at]->op_type));
}

static dk_status add_nodes(loader *L, const Onnx__GraphProto *gp)
{
    sorter S = {0};
    dk_status s = sorter_build(L, gp, &S);
    size_t placed = 0;
    /* Scan in file order; a node placed makes its waiting consumers ready.
     * Those further on are placed when the scan reaches them, those already
     * passed go on the stack and are placed at once. */
    for (size_t i = 0; i < S.n && s == DK_OK; i++) {
        if (S.placed[i] || S.waiting[i]) continue;
        size_t top = 0;
        S.stack[top++] = (int)i;
        S.placed[i] = 1;
        while (top && s == DK_OK) {
            size_t k = (size_t)S.stack[--top];
            s = add_node(L, gp->node[k], k);
            placed++;
            for (size_t u = S.user_first[k]; u < S.user_first[k + 1]; u++) {
                size_t c = (size_t)S.users[u];
                if (--S.waiting[c] == 0 && c < i) {
                    S.placed[c] = 1;
                    S.stack[top++] = (int)c;
                }
            }
        }
    }
    if (s == DK_OK && placed < S.n) s = cycle_error(L, gp, &S);
    sorter_free(&S);
    return s;
}

static dk_status add_outputs(loader *L, const Onnx__GraphProto *gp)
{
    if (gp->n_output == 0) return dk__error(DK_ERR_FORMAT, "%s: graph has no outputs", L->path);
    if (!(L->g->outputs = calloc(gp->n_output, sizeof(int)))) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        int v = find_value(L, name);
        if (v < 0)
            return dk__error(DK_ERR_FORMAT, "%s: graph output '%s' is not produced by any node",
                             L->path, DK_ESC(name));
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
    dk_strmap_free(&L.values);
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
