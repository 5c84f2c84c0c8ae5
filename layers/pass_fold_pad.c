/* Pass fold_pad (opt=2): a constant zero Pad of the spatial axes whose only
 * reader is an AveragePool without padding of its own becomes that pool's
 * explicit padding, counted in the divisor (count_include_pad=1). PyTorch
 * exports avg_pool2d(padding=p, count_include_pad=True) as such a pair
 * (InceptionV3's branch pools); ONNX Runtime folds it too. The pool then
 * averages the same taps over the same count: in the reference bit for bit
 * (adding the padding's zeros to a sum changes nothing), and in oneDNN on the
 * pool's own layout instead of through an NCHW Pad. */
#include <stdlib.h>
#include <string.h>

#include "layers/passes_internal.h"
#include "runtime/error.h"

/* Sets node attribute `name` to `count` ints (count 0: one int, *v). */
static dk_status set_attr(dk_node *n, const char *name, dk_attr_type type, const int64_t *v, int count)
{
    dk_attr *a = NULL;
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) a = &n->attrs[i];
    if (!a) {
        dk_attr *grown = realloc(n->attrs, sizeof *grown * (size_t)(n->n_attrs + 1));
        if (!grown) return dk__error(DK_ERR_NOMEM, "out of memory");
        n->attrs = grown;
        a = memset(&n->attrs[n->n_attrs], 0, sizeof *a);
        if (!(a->name = strdup(name))) return dk__error(DK_ERR_NOMEM, "out of memory");
        n->n_attrs++;
    }
    int64_t *ints = NULL;
    if (type == DK_ATTR_INTS && !(ints = malloc(sizeof *ints * (size_t)(count ? count : 1))))
        return dk__error(DK_ERR_NOMEM, "out of memory");
    free(a->ints);
    a->ints = ints;
    a->type = type;
    if (ints) memcpy(ints, v, sizeof *ints * (size_t)count);
    a->n = type == DK_ATTR_INTS ? count : 0;
    a->i = type == DK_ATTR_INT ? *v : 0;
    return DK_OK;
}

/* The pool node k (AveragePool without padding, auto_pad NOTSET, dilation 1)
 * that pad node p feeds alone, with every padded window still holding a tap
 * of the unpadded input (pads below the window, else the reference pool
 * would give NaN where the Pad gave zeros); -1 otherwise. */
static int foldable(const dk_graph *g, int p)
{
    const dk_node *pad = &g->nodes[p];
    if (pad->op != DK_OP_PAD || pad->n_outputs != 1 || pad->p.pad.mode != DK_PAD_CONSTANT ||
        pad->p.pad.value != 0.0)
        return -1;
    const int k = dk__sole_consumer(g, pad->outputs[0]);
    if (k < 0) return -1;
    const dk_node *pool = &g->nodes[k];
    const dk_tensor *x = &g->values[pad->inputs[0]].t;
    if (pool->op != DK_OP_AVGPOOL || pool->inputs[0] != pad->outputs[0] || pool->n_outputs != 1 ||
        x->dtype != DK_F32 || x->ndim < 3 || x->ndim > 5 || pool->p.pool.win.nspatial != x->ndim - 2)
        return -1;
    const dk_attr *auto_pad = dk_node_attr(pool, "auto_pad");
    if (auto_pad && (auto_pad->type != DK_ATTR_STRING || strcmp(auto_pad->s, "NOTSET"))) return -1;
    for (int d = 0; d < 2; d++)
        if (pad->p.pad.begin[d] || pad->p.pad.end[d]) return -1;
    const dk_window *w = &pool->p.pool.win;
    for (int a = 0; a < w->nspatial; a++)
        if (w->pad_begin[a] || w->pad_end[a] || pool->p.pool.ceil_extra[a] || w->dilation[a] != 1 ||
            pad->p.pad.begin[2 + a] < 0 || pad->p.pad.end[2 + a] < 0 ||
            pad->p.pad.begin[2 + a] >= w->kernel[a] || pad->p.pad.end[2 + a] >= w->kernel[a])
            return -1;
    return k;
}

dk_status dk__pass_fold_pad(dk_graph *g)
{
    int *dead = calloc((size_t)g->n_nodes + 1, sizeof *dead);
    if (!dead) return dk__error(DK_ERR_NOMEM, "out of memory");
    int folded = 0;
    dk_status s = DK_OK;
    for (int p = 0; p < g->n_nodes && s == DK_OK; p++) {
        const int k = foldable(g, p);
        if (k < 0) continue;
        const dk_node *pad = &g->nodes[p];
        dk_node *pool = &g->nodes[k];
        const int ns = pool->p.pool.win.nspatial;
        int64_t pads[2 * DK_MAX_SPATIAL], one = 1;
        for (int a = 0; a < ns; a++) {
            pads[a] = pad->p.pad.begin[2 + a];
            pads[ns + a] = pad->p.pad.end[2 + a];
        }
        s = set_attr(pool, "pads", DK_ATTR_INTS, pads, 2 * ns);
        if (s == DK_OK) s = set_attr(pool, "count_include_pad", DK_ATTR_INT, &one, 0);
        if (s == DK_OK) s = dk__join_covers(pool, pad);
        pool->inputs[0] = pad->inputs[0];
        dead[p] = 1;
        folded++;
    }
    return dk__pass_remove_dead(g, dead, folded, s);
}
