/* Graph finalisation: per-node validation and shape inference in topological
 * order, constant folding, removal of Identity/Dropout and of dead nodes. */
#include <stdlib.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/op_table.h"
#include "runtime/text.h"

static dk_status check_arity(const dk_graph *g, const dk_node *n, const dk_op_info *info)
{
    int last_in = n->n_inputs;
    while (last_in > 0 && n->inputs[last_in - 1] < 0) last_in--; /* trailing omitted inputs */
    int max_inputs = info->max_inputs + (n->post.has_sum ? 1 : 0); /* fused residual */
    if (n->n_inputs > max_inputs || last_in < info->min_inputs)
        return dk__node_error(g, n, DK_ERR_FORMAT, "has %d inputs, expected %d to %d", last_in,
                              info->min_inputs, max_inputs);
    for (int i = 0; i < info->min_inputs; i++)
        if (n->inputs[i] < 0)
            return dk__node_error(g, n, DK_ERR_FORMAT, "required input %d is missing", i);
    if (n->n_outputs < info->min_outputs || n->n_outputs > info->max_outputs)
        return dk__node_error(g, n, DK_ERR_FORMAT, "has %d outputs, expected %d to %d",
                              n->n_outputs, info->min_outputs, info->max_outputs);
    if (n->outputs[0] < 0) return dk__node_error(g, n, DK_ERR_FORMAT, "output 0 is missing");
    return DK_OK;
}

static dk_status check_attrs(const dk_graph *g, const dk_node *n, const dk_op_info *info)
{
    for (int a = 0; a < n->n_attrs; a++) {
        int known = 0;
        for (const char *const *name = info->attrs; *name && !known; name++)
            known = strcmp(*name, n->attrs[a].name) == 0;
        if (!known)
            return dk__node_error(g, n, DK_ERR_UNSUPPORTED, "attribute '%s' is not supported",
                                  n->attrs[a].name);
    }
    return DK_OK;
}

static dk_status check_inputs_known(const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->inputs[i] < 0) continue;
        const dk_value *v = &g->values[n->inputs[i]];
        if (v->t.dtype == DK_DTYPE_UNDEFINED)
            return dk__node_error(g, n, DK_ERR_FORMAT, "input %d ('%s') has no known type or shape",
                                  i, v->t.name);
    }
    return DK_OK;
}

/* Every tensor a node reads or writes stays within the size limits, so
 * shape inference and the kernels can add and multiply a few dims without
 * overflow: inputs are checked before inference (graph inputs and
 * initializers come from the file), outputs right after it. */
static dk_status check_limits(dk_graph *g, const dk_node *n, int outputs)
{
    int count = outputs ? n->n_outputs : n->n_inputs;
    for (int i = 0; i < count; i++) {
        const dk_tensor *t = outputs ? dk__out(g, n, i) : dk__in(g, n, i);
        if (t) DK_TRY(dk__check_limits(g, n, t, outputs, i));
    }
    return DK_OK;
}

static int all_inputs_constant(const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && g->values[n->inputs[i]].kind != DK_VALUE_CONSTANT) return 0;
    return 1;
}

/* Evaluates a node whose inputs are all constant and makes its outputs constants. */
static dk_status fold(dk_graph *g, dk_node *n, const dk_op_info *info)
{
    const dk_tensor *in[16] = {0};
    dk_tensor *out[8] = {0};
    if (n->n_inputs > 16 || n->n_outputs > 8) return DK_OK; /* not worth folding */
    for (int i = 0; i < n->n_inputs; i++) in[i] = dk__in(g, n, i);
    for (int i = 0; i < n->n_outputs; i++) {
        dk_tensor *t = dk__out(g, n, i);
        if (!t) continue;
        dk_status s = dk_tensor_alloc(t, t->dtype, t->ndim, t->dims);
        if (s != DK_OK) return dk__error_prefix(s, "%s: node '%s'", g->source, DK_ESC(n->name));
        out[i] = t;
    }
    dk_status s = info->eval(n, in, out);
    if (s != DK_OK) return dk__error_prefix(s, "%s: folding node '%s' (%s)", g->source, DK_ESC(n->name), info->name);
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] >= 0) g->values[n->outputs[i]].kind = DK_VALUE_CONSTANT;
    return DK_OK;
}

static void account(dk_graph *g, dk_node *n)
{
    n->bytes = 0;
    n->n_params = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_tensor *t = dk__in(g, n, i);
        if (!t) continue;
        n->bytes += (double)dk_tensor_nbytes(t);
        /* Weights: constant float inputs, except the bounds and fill values that
         * newer opsets pass as inputs instead of attributes. */
        if (g->values[n->inputs[i]].kind == DK_VALUE_CONSTANT && dk_dtype_is_float(t->dtype) &&
            n->op != DK_OP_CLIP && n->op != DK_OP_PAD)
            n->n_params += dk_tensor_numel(t);
    }
    for (int i = 0; i < n->n_outputs; i++) {
        const dk_tensor *t = dk__out(g, n, i);
        if (t) n->bytes += (double)dk_tensor_nbytes(t);
    }
}

static int is_graph_output(const dk_graph *g, int v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v) return 1;
    return 0;
}

static int used_after(const dk_graph *g, int node_index, int v)
{
    for (int k = node_index + 1; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] == v) return 1;
    return 0;
}

static void replace_uses(dk_graph *g, int from_node, int from, int to)
{
    for (int k = from_node; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] == from) g->nodes[k].inputs[i] = to;
}

/* Identity and inference-mode Dropout forward their input: the node
 * disappears. Consumers are rewired to its input; when its output is a graph
 * output, the input's producer writes that output directly instead, so graph
 * outputs keep their names. Kept when neither is possible (a graph input or
 * constant forwarded to a graph output) or a Dropout mask is used. */
static void bypass(dk_graph *g, int node_index, int *dead)
{
    dk_node *n = &g->nodes[node_index];
    for (int o = 1; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0 && (used_after(g, node_index, n->outputs[o]) || is_graph_output(g, n->outputs[o])))
            return;
    int out = n->outputs[0], in = n->inputs[0];
    if (!is_graph_output(g, out)) {
        replace_uses(g, node_index + 1, out, in);
        dead[node_index] = 1;
        return;
    }
    int p = g->values[in].producer;
    if (g->values[in].kind != DK_VALUE_ACTIVATION || p < 0 || p >= node_index || dead[p] ||
        is_graph_output(g, in))
        return;
    dk_node *prod = &g->nodes[p];
    for (int o = 0; o < prod->n_outputs; o++)
        if (prod->outputs[o] == in) prod->outputs[o] = out;
    replace_uses(g, p + 1, in, out);
    g->values[out].producer = p;
    g->values[in].producer = -1;
    dead[node_index] = 1;
}

/* Marks nodes none of whose outputs reach a graph output. */
static void mark_dead(const dk_graph *g, int *dead)
{
    char *live_value = calloc((size_t)g->n_values + 1, 1);
    if (!live_value) return; /* keeping dead nodes is harmless */
    for (int i = 0; i < g->n_outputs; i++) live_value[g->outputs[i]] = 1;
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        const dk_node *n = &g->nodes[k];
        if (dead[k]) continue;
        int live = 0;
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0 && live_value[n->outputs[o]]) live = 1;
        if (!live) {
            dead[k] = 1;
            continue;
        }
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] >= 0) live_value[n->inputs[i]] = 1;
    }
    free(live_value);
}

void dk__graph_remove_nodes(dk_graph *g, const int *dead)
{
    int w = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        dk_node *n = &g->nodes[k];
        if (dead[k]) {
            free(n->name);
            free(n->covers);
            free(n->inputs);
            free(n->outputs);
            for (int a = 0; a < n->n_attrs; a++) {
                dk_attr *at = &n->attrs[a];
                free(at->name);
                free(at->s);
                free(at->ints);
                free(at->floats);
                if (at->t) {
                    dk_tensor_reset(at->t);
                    free(at->t);
                }
            }
            free(n->attrs);
            continue;
        }
        g->nodes[w++] = *n;
    }
    g->n_nodes = w;
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int k = 0; k < g->n_nodes; k++)
        for (int o = 0; o < g->nodes[k].n_outputs; o++)
            if (g->nodes[k].outputs[o] >= 0 && g->values[g->nodes[k].outputs[o]].kind != DK_VALUE_CONSTANT)
                g->values[g->nodes[k].outputs[o]].producer = k;
}

dk_status dk_graph_finalize(dk_graph *g)
{
    int *dead = calloc((size_t)g->n_nodes + 1, sizeof *dead);
    if (!dead) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status s = DK_OK;
    for (int k = 0; k < g->n_nodes && s == DK_OK; k++) {
        dk_node *n = &g->nodes[k];
        const dk_op_info *info = dk__op_info(n->op);
        if (!info) {
            s = dk__node_error(g, n, DK_ERR_UNSUPPORTED, "op is not supported");
            break;
        }
        if ((s = check_arity(g, n, info)) != DK_OK) break;
        if ((s = check_attrs(g, n, info)) != DK_OK) break;
        if ((s = check_inputs_known(g, n)) != DK_OK) break;
        if ((s = check_limits(g, n, 0)) != DK_OK) break;
        n->flops = 0;
        memset(&n->p, 0, sizeof n->p);
        if ((s = info->infer(g, n)) != DK_OK) break;
        for (int o = 0; o < n->n_outputs; o++) {
            const dk_tensor *t = dk__out(g, n, o);
            if (t && t->dtype == DK_DTYPE_UNDEFINED)
                s = dk__node_error(g, n, DK_ERR_INTERNAL, "shape inference left output %d untyped", o);
        }
        if (s != DK_OK || (s = check_limits(g, n, 1)) != DK_OK) break;
        account(g, n);
        /* Shape depends only on the (static) input shape: it always folds, which
         * starts the folding of the Shape->Gather->Concat->Reshape chains. */
        if (info->eval && (all_inputs_constant(g, n) || n->op == DK_OP_SHAPE)) {
            if ((s = fold(g, n, info)) != DK_OK) break;
            dead[k] = 1;
        } else if (n->op == DK_OP_IDENTITY || n->op == DK_OP_DROPOUT) {
            bypass(g, k, dead);
        }
    }
    if (s == DK_OK) {
        mark_dead(g, dead);
        dk__graph_remove_nodes(g, dead);
    }
    free(dead);
    return s;
}
