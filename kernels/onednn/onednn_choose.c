/* opt=3 (pass choose_algorithm): the fastest algorithm and layout for each
 * convolution, by timing at plan time (never inside a timed run).
 *
 * Candidates: oneDNN's own choice (algo=auto, layout=blocked), Winograd
 * where the layer allows it (3x3, stride 1, undilated, ungrouped, float32),
 * and channels blocked by 16 (layout=nchw16c); an option the variant sets
 * explicitly is kept, not searched. Each candidate is planned, run once to
 * warm up and then CHOOSE_RUNS times on inputs filled with small values; the
 * fastest by its minimum time is planned again for real (a candidate's plan
 * owns buffers the next one replaces; each plan of the node first drops the
 * native copy of its output a previous candidate made, so a winner writing
 * NCHW leaves none behind) and the plan note says what was measured.
 * A convolution chosen for before (in this process, or in an earlier one on
 * this machine: onednn_choices.c) takes that choice without timing, so that
 * the same variant computes the same bits every run. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/onednn/onednn_internal.h"
#include "runtime/text.h"
#include "runtime/timer.h"

#define CHOOSE_RUNS 3
#define MAX_CANDIDATES 3

typedef struct candidate {
    dk_onednn_algo algo;
    int nchw16c;
    const char *name;
    double seconds;
} candidate;

static int winograd_possible(const dk_node *n)
{
    const dk_window *w = &n->p.conv.win;
    if (w->nspatial != 2 || n->p.conv.group != 1) return 0;
    for (int i = 0; i < 2; i++)
        if (w->kernel[i] != 3 || w->stride[i] != 1 || w->dilation[i] != 1) return 0;
    return 1;
}

/* Host tensors for the node's inputs and outputs: constants as they are,
 * activations allocated and filled with small values (no denormals, no NaN:
 * the timing must be the kernel's ordinary speed). */
static dk_status scratch_io(const dk_graph *g, const dk_node *n, dk_tensor *own,
                            const dk_tensor **in, dk_tensor **out)
{
    for (int i = 0; i < n->n_inputs && i < 8; i++) {
        in[i] = NULL;
        int v = n->inputs[i];
        if (v < 0) continue;
        if (g->values[v].kind == DK_VALUE_CONSTANT && g->values[v].t.data) {
            in[i] = &g->values[v].t;
            continue;
        }
        const dk_tensor *t = &g->values[v].t;
        DK_TRY(dk_tensor_alloc(&own[i], t->dtype, t->ndim, t->dims));
        if (t->dtype == DK_F32) {
            float *d = own[i].data;
            for (int64_t k = 0; k < dk_tensor_numel(t); k++) d[k] = (float)((k % 17) - 8) * 0.0625f;
        }
        in[i] = &own[i];
    }
    for (int o = 0; o < n->n_outputs && o < 8; o++) {
        out[o] = NULL;
        int v = n->outputs[o];
        if (v < 0) continue;
        const dk_tensor *t = &g->values[v].t;
        DK_TRY(dk_tensor_alloc(&own[8 + o], t->dtype, t->ndim, t->dims));
        out[o] = &own[8 + o];
    }
    return DK_OK;
}

/* Native inputs hold whatever memory held: small values instead. */
static void fill_native_inputs(dk_onednn_ctx *ctx, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_onednn_native *nat = dk_onednn_native_of(ctx, n->inputs[i]);
        if (!nat) continue;
        size_t count = dk_dnnl_md_size(&nat->md) / sizeof(float);
        float *d = nat->buf;
        for (size_t k = 0; k < count; k++) d[k] = (float)((int)(k % 17) - 8) * 0.0625f;
    }
}

static dk_status time_candidate(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out, candidate *c)
{
    ctx->algo = c->algo;
    ctx->nchw16c = c->nchw16c;
    dk_onednn_plan *p = NULL;
    DK_TRY(dk_onednn_plan_node(ctx, g, n, &p));
    dk_status st = DK_OK;
    c->seconds = DBL_MAX;
    for (int r = 0; r <= CHOOSE_RUNS && st == DK_OK; r++) {
        double t0 = dk__now();
        st = dk_onednn_plan_run(ctx, p, g, n, in, out);
        double dt = dk__now() - t0;
        if (r > 0 && dt < c->seconds) c->seconds = dt; /* run 0 warms up */
    }
    dk_onednn_plan_free(p);
    return st;
}

/* Does a Concat read the node's output? */
static int feeds_concat(const dk_graph *g, const dk_node *n)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k].op == DK_OP_CONCAT)
            for (int i = 0; i < g->nodes[k].n_inputs; i++)
                if (g->nodes[k].inputs[i] == n->outputs[0]) return 1;
    return 0;
}

dk_status dk_onednn_plan_fastest_conv(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                      dk_onednn_plan **out)
{
    candidate cands[MAX_CANDIDATES];
    int nc = 0;
    const dk_onednn_algo algo0 = ctx->algo;
    const int nchw16c0 = ctx->nchw16c;
    /* the branches meeting at a Concat all write channels blocked by 16, so
     * that the Concat joins them by copies in that layout: timed one by one,
     * oneDNN's own choice (brgconv's NHWC) is at times a little faster, but
     * one branch in another layout sends the Concat and its readers through
     * NCHW (InceptionV3: 1.3x ONNX Runtime's time, against ~1.0x so) */
    const int blocked_only = !ctx->layout_given && !ctx->plain && feeds_concat(g, n);
    if (!blocked_only) cands[nc++] = (candidate){algo0, nchw16c0, "as given", 0};
    if (!ctx->algo_given && winograd_possible(n) && !ctx->bf16)
        cands[nc++] = (candidate){DK_ONEDNN_ALGO_WINOGRAD, blocked_only || nchw16c0, "winograd", 0};
    if (!ctx->layout_given && !ctx->plain)
        cands[nc++] = (candidate){algo0, 1, "nchw16c", 0};
    if (nc == 1) {
        ctx->algo = cands[0].algo;
        ctx->nchw16c = cands[0].nchw16c;
        dk_status st = dk_onednn_plan_node(ctx, g, n, out);
        ctx->algo = algo0;
        ctx->nchw16c = nchw16c0;
        return st;
    }

    char names[64] = "", key[512], chosen[32];
    for (int i = 0; i < nc; i++) dk_join(names, sizeof names, ",", cands[i].name);
    dk_onednn_choice_key(ctx, g, n, names, key, sizeof key);
    for (int i = 0; i < nc && dk_onednn_choice_find(key, chosen, sizeof chosen); i++)
        if (!strcmp(chosen, cands[i].name)) {
            ctx->algo = cands[i].algo;
            ctx->nchw16c = cands[i].nchw16c;
            dk_status st = dk_onednn_plan_node(ctx, g, n, out);
            ctx->algo = algo0;
            ctx->nchw16c = nchw16c0;
            if (st != DK_OK) return st;
            size_t len = strlen((*out)->info.note);
            snprintf((*out)->info.note + len, sizeof (*out)->info.note - len, "; %s, chosen before", chosen);
            return DK_OK;
        }
    dk_tensor own[16];
    memset(own, 0, sizeof own);
    const dk_tensor *in[8] = {0};
    dk_tensor *outs[8] = {0};
    dk_status st = n->n_inputs <= 8 && n->n_outputs <= 8
                       ? scratch_io(g, n, own, in, outs)
                       : dk__error(DK_ERR_UNSUPPORTED, "node '%s': too many inputs", n->name);
    if (st == DK_OK) st = dk_onednn_native_begin(ctx, g);
    if (st == DK_OK) fill_native_inputs(ctx, n);
    int best = 0;
    for (int i = 0; i < nc && st == DK_OK; i++) {
        st = time_candidate(ctx, g, n, in, outs, &cands[i]);
        if (st == DK_OK && cands[i].seconds < cands[best].seconds) best = i;
    }
    for (int i = 0; i < 16; i++) dk_tensor_reset(&own[i]);
    if (st == DK_OK) {
        ctx->algo = cands[best].algo;
        ctx->nchw16c = cands[best].nchw16c;
        st = dk_onednn_plan_node(ctx, g, n, out);
    }
    if (st == DK_OK) dk_onednn_choice_store(key, cands[best].name);
    ctx->algo = algo0;
    ctx->nchw16c = nchw16c0;
    if (st != DK_OK) return st;
    /* the note: what was chosen, and the times behind the choice */
    char times[96] = "";
    for (int i = 0; i < nc; i++) dk_joinf(times, sizeof times, ", ", "%s %.3f ms", cands[i].name, cands[i].seconds * 1e3);
    size_t len = strlen((*out)->info.note);
    snprintf((*out)->info.note + len, sizeof (*out)->info.note - len, "; fastest of %s", times);
    return DK_OK;
}
