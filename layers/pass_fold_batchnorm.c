/* Pass fold_batchnorm: Conv -> BatchNormalization becomes one Conv.
 *
 * Inference BN computes y = s * (x - m) / sqrt(v + eps) + beta per channel,
 * so with f = s / sqrt(v + eps) the Conv's weights become W * f (per output
 * channel) and its bias (b - m) * f + beta. Computed in double, rounded once
 * to float32 — exporters fold the same way, which is why a folded and an
 * unfolded graph differ only by that rounding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/infer_util.h"
#include "layers/passes_internal.h"

static int const_f32(const dk_graph *g, int v)
{
    return v >= 0 && g->values[v].kind == DK_VALUE_CONSTANT && g->values[v].t.dtype == DK_F32 &&
           g->values[v].t.data;
}

static dk_status add_constant(dk_graph *g, const char *base, const char *suffix, int ndim,
                              const int64_t *dims, int *index)
{
    char name[512];
    snprintf(name, sizeof name, "%s%s", base, suffix);
    DK_TRY(dk_graph_add_value(g, name, DK_VALUE_CONSTANT, index));
    dk_tensor *t = &g->values[*index].t;
    return dk_tensor_alloc(t, DK_F32, ndim, dims);
}

/* Folds bn (node index b) into conv (node index c). */
static dk_status fold(dk_graph *g, int c, int b)
{
    dk_node *conv = &g->nodes[c];
    const dk_node *bn = &g->nodes[b];
    const dk_tensor *w = &g->values[conv->inputs[1]].t;
    const dk_tensor *bias = conv->n_inputs > 2 && conv->inputs[2] >= 0 ? &g->values[conv->inputs[2]].t : NULL;
    const float *scale = g->values[bn->inputs[1]].t.data, *beta = g->values[bn->inputs[2]].t.data;
    const float *mean = g->values[bn->inputs[3]].t.data, *var = g->values[bn->inputs[4]].t.data;
    int64_t oc = w->dims[0], per = dk_tensor_numel(w) / (oc ? oc : 1);
    int wv, bv, ndim = w->ndim;
    int64_t dims[DK_MAX_DIMS];
    char wname[400];
    /* copies: adding a value may move g->values, and w's shape and name with it */
    memcpy(dims, w->dims, sizeof dims);
    snprintf(wname, sizeof wname, "%s", w->name ? w->name : "");
    DK_TRY(add_constant(g, wname, ".folded", ndim, dims, &wv));
    DK_TRY(add_constant(g, conv->name, ".bias.folded", 1, &oc, &bv));
    w = &g->values[conv->inputs[1]].t; /* add_value may have moved the values */
    if (bias) bias = &g->values[conv->inputs[2]].t;
    float *nw = g->values[wv].t.data, *nb = g->values[bv].t.data;
    for (int64_t o = 0; o < oc; o++) {
        double f = (double)scale[o] / sqrt((double)var[o] + (double)bn->p.bn.epsilon);
        for (int64_t i = 0; i < per; i++) nw[o * per + i] = (float)((double)((const float *)w->data)[o * per + i] * f);
        double b0 = bias ? ((const float *)bias->data)[o] : 0.0;
        nb[o] = (float)((b0 - mean[o]) * f + beta[o]);
    }
    if (conv->n_inputs < 3) {
        int *in = realloc(conv->inputs, 3 * sizeof *in);
        if (!in) return dk__error(DK_ERR_NOMEM, "out of memory");
        conv->inputs = in;
        conv->n_inputs = 3;
    }
    conv->inputs[1] = wv;
    conv->inputs[2] = bv;
    conv->outputs[0] = bn->outputs[0];
    return dk__join_covers(conv, bn);
}

dk_status dk__pass_fold_batchnorm(dk_graph *g)
{
    int *dead = calloc((size_t)g->n_nodes + 1, sizeof *dead);
    if (!dead) return dk__error(DK_ERR_NOMEM, "out of memory");
    int folded = 0;
    dk_status s = DK_OK;
    for (int c = 0; c < g->n_nodes && s == DK_OK; c++) {
        const dk_node *conv = &g->nodes[c];
        if (conv->op != DK_OP_CONV || !const_f32(g, conv->inputs[1])) continue;
        if (conv->n_inputs > 2 && conv->inputs[2] >= 0 && !const_f32(g, conv->inputs[2])) continue;
        int b = dk__sole_consumer(g, conv->outputs[0]);
        if (b < 0 || dead[b] || g->nodes[b].op != DK_OP_BATCHNORM || g->nodes[b].inputs[0] != conv->outputs[0])
            continue;
        int all_const = 1;
        for (int i = 1; i < 5; i++) all_const &= const_f32(g, g->nodes[b].inputs[i]);
        if (!all_const) continue;
        s = fold(g, c, b);
        dead[b] = 1;
        folded++;
    }
    return dk__pass_remove_dead(g, dead, folded, s);
}
