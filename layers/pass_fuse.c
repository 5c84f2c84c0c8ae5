/* Passes of opt=2, fusing what follows a convolution into it (TVM's
 * FuseOps, oneDNN's post-ops):
 *   fuse_residual    Conv -> Add(conv, r)  becomes Conv with sum input r
 *   fuse_activation  Conv -> Relu | Clip   becomes Conv with that activation
 * run in this order, so Conv -> Add -> Relu (a ResNet block's end) becomes one
 * node. A fused node stands at the position of the last node it absorbs and
 * lists every ONNX node it covers; its output keeps the name of the last
 * one's output, so observers compare it at the group's boundary. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/passes_internal.h"
#include "runtime/error.h"

static int same_shape(const dk_tensor *a, const dk_tensor *b)
{
    if (a->ndim != b->ndim || a->dtype != b->dtype) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* Conv node producing v that only node `consumer` reads and that has no
 * post-op yet; -1 otherwise. */
static int plain_conv_feeding(const dk_graph *g, int v, int consumer)
{
    if (v < 0 || g->values[v].kind != DK_VALUE_ACTIVATION) return -1;
    int c = g->values[v].producer;
    if (c < 0 || g->nodes[c].op != DK_OP_CONV || g->nodes[c].post.has_sum ||
        g->nodes[c].post.act != DK_OP_NONE || g->nodes[c].outputs[0] != v)
        return -1;
    return dk__sole_consumer(g, v) == consumer ? c : -1;
}

/* Moves conv node c into the slot of add node a, with r as its sum input. */
static dk_status fuse_into_add(dk_graph *g, int c, int a, int r, int *dead)
{
    dk_node *add = &g->nodes[a];
    dk_node conv = g->nodes[c];
    int *in = realloc(conv.inputs, 4 * sizeof *in);
    if (!in) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int i = conv.n_inputs; i < 4; i++) in[i] = -1;
    in[3] = r;
    conv.inputs = in;
    conv.n_inputs = 4;
    conv.outputs[0] = add->outputs[0];
    conv.post.has_sum = 1;
    DK_TRY(dk__join_covers(&conv, add));
    /* the Add's slot takes the conv; the conv's old slot is an empty shell */
    dk_node shell = *add;
    g->nodes[a] = conv;
    memset(&g->nodes[c], 0, sizeof g->nodes[c]);
    g->nodes[c] = shell;
    dead[c] = 1;
    return DK_OK;
}

dk_status dk__pass_fuse_residual(dk_graph *g)
{
    int *dead = calloc((size_t)g->n_nodes + 1, sizeof *dead);
    if (!dead) return dk__error(DK_ERR_NOMEM, "out of memory");
    int fused = 0;
    dk_status s = DK_OK;
    for (int a = 0; a < g->n_nodes && s == DK_OK; a++) {
        const dk_node *add = &g->nodes[a];
        if (add->op != DK_OP_ADD || add->n_inputs != 2) continue;
        const dk_tensor *y = &g->values[add->outputs[0]].t;
        if (!same_shape(&g->values[add->inputs[0]].t, y) || !same_shape(&g->values[add->inputs[1]].t, y))
            continue; /* broadcasting: not a residual */
        /* of two candidate convolutions take the later one, so that the other
         * operand is computed before the fused node runs in either case */
        int best = -1, other = -1;
        for (int j = 0; j < 2; j++) {
            int c = plain_conv_feeding(g, add->inputs[j], a);
            if (c >= 0 && !dead[c] && c > best && add->inputs[0] != add->inputs[1]) {
                best = c;
                other = add->inputs[1 - j];
            }
        }
        if (best < 0) continue;
        s = fuse_into_add(g, best, a, other, dead);
        fused++;
    }
    return dk__pass_remove_dead(g, dead, fused, s);
}

/* Conv -> Relu, or Conv -> Clip with bounds known now (a bound fed at run
 * time stays a node of its own). */
dk_status dk__pass_fuse_activation(dk_graph *g)
{
    int *dead = calloc((size_t)g->n_nodes + 1, sizeof *dead);
    if (!dead) return dk__error(DK_ERR_NOMEM, "out of memory");
    int fused = 0;
    dk_status s = DK_OK;
    for (int c = 0; c < g->n_nodes && s == DK_OK; c++) {
        dk_node *conv = &g->nodes[c];
        if (conv->op != DK_OP_CONV || conv->post.act != DK_OP_NONE) continue;
        int r = dk__sole_consumer(g, conv->outputs[0]);
        if (r < 0 || dead[r]) continue;
        const dk_node *act = &g->nodes[r];
        if (act->inputs[0] != conv->outputs[0] || act->n_outputs != 1) continue;
        if (act->op == DK_OP_CLIP && (isnan(act->p.act.min) || isnan(act->p.act.max))) continue;
        if (act->op != DK_OP_RELU && act->op != DK_OP_CLIP) continue;
        conv->post.act = act->op;
        conv->post.min = act->op == DK_OP_CLIP ? act->p.act.min : 0.0f;
        conv->post.max = act->op == DK_OP_CLIP ? act->p.act.max : INFINITY;
        conv->outputs[0] = act->outputs[0];
        s = dk__join_covers(conv, act);
        dead[r] = 1;
        fused++;
    }
    return dk__pass_remove_dead(g, dead, fused, s);
}

/* opt=3 asks the backends for more than the graph can express: these passes
 * set the request, each backend honours it in its plans (and says so). */
dk_status dk__pass_propagate_layout(dk_graph *g)
{
    g->hints |= DK_HINT_PROPAGATE_LAYOUT;
    return DK_OK;
}

dk_status dk__pass_choose_algorithm(dk_graph *g)
{
    g->hints |= DK_HINT_FASTEST_ALGO;
    return DK_OK;
}
