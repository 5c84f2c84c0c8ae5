/* opt=3 (pass choose_algorithm): the fastest algorithm and layout for each
 * convolution, by timing at plan time (never inside a timed run).
 *
 * Candidates: oneDNN's own choice (algo=auto, layout=blocked), Winograd
 * where the layer allows it (3x3, stride 1, undilated, ungrouped, float32),
 * and channels blocked by 16 (layout=nchw16c); for a Concat's input, whose
 * output must arrive blocked, oneDNN's own choice with its output reordered
 * into that layout instead of the first; an option the variant sets
 * explicitly is kept, not searched. With fpmath=bf16 also the same layouts
 * in float32, and float32 Winograd where the layer allows it: fpmath=bf16
 * allows rounding to bfloat16, as oneDNN's fpmath mode does, and does not
 * demand it. A small convolution can take longer in
 * bfloat16 than in float32 (the source's conversion at every run, the AMX
 * kernels' set-up), and the bf16 variant would then be slower than the
 * float32 one on small networks; such a layer keeps float32, and its plan
 * note says so ("float32 operands (fpmath=bf16 not used)").
 *
 * Each candidate is planned, run once to warm up, then timed CHOOSE_RUNS
 * times as it is ("hot") and CHOOSE_RUNS times each after its output, weights
 * and workspace were evicted from the caches ("cold": dk_onednn_plan_evict;
 * its inputs, just written by their producers, stay), on inputs filled with
 * small values. Inside a whole network the rest of the pass has run since a
 * node's last run, and has evicted some share of its memory: the candidate's
 * expected time is hot + share x (cold - hot), the share from the bytes a
 * pass touches against the bytes the caches hold (cold_share). The host's
 * load is sampled between the
 * runs (runtime/host_load.c, bench's rule); when another process was
 * runnable meanwhile, every candidate is timed CHOOSE_RUNS_BUSY runs more and
 * keeps its minima over both (a run the scheduler left alone is likelier
 * among more), and the note says so: a choice is kept for good, so one made
 * on a loaded host must not rest on three preempted runs (it is stored with
 * the reasons, and every later plan that takes it says so). The fastest by
 * its expected time is planned again for real (a candidate's plan
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
#include "runtime/cache.h"
#include "runtime/host_load.h"
#include "runtime/text.h"
#include "runtime/timer.h"

#define CHOOSE_RUNS 3
#define CHOOSE_RUNS_BUSY 12 /* each, again, when the host was busy */
#define MAX_CANDIDATES 6

typedef struct candidate {
    dk_onednn_algo algo;
    int nchw16c;
    int f32;         /* float32 although fpmath=bf16 */
    const char *name;
    int dst16;       /* the destination reordered into channels blocked by 16 */
    double seconds;  /* the candidate's plan, expected in the network: hot + share x (cold - hot) */
    double hot;      /* its fastest run with its memory where the runs before left it */
    double cold;     /* its fastest run after its output, weights and workspace left the caches */
    double way_back; /* and the reorder its output layout costs the next layers */
    int no_evict;    /* this build cannot evict: cold runs are hot ones */
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
            for (int64_t k = 0, numel = dk_tensor_numel(t); k < numel; k++) d[k] = (float)((k % 17) - 8) * 0.0625f;
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

/* The way back: when the input came in channels blocked by 16 and this
 * candidate leaves its output in another layout (NHWC, NCHW), the layers
 * after it pay a reorder back (or run in that layout on all their inputs):
 * timed alone, ResNet-50's strided 3x3 convolutions win in NHWC by less than
 * the reorders they cause downstream cost. That reorder of the output, timed
 * here as the candidates are, is added to the candidate's time; 0 when the
 * output stays blocked or the input was not. */
static double way_back_seconds(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n)
{
    const dk_onednn_native *x_nat = dk_onednn_native_of(ctx, n->inputs[0]);
    const dk_tensor *x = &g->values[n->inputs[0]].t, *y = &g->values[n->outputs[0]].t;
    if (!x_nat || dk_onednn_channel_block(&x_nat->md, x->ndim, x->dims) != 16) return 0;
    const dk_onednn_native *y_nat = dk_onednn_native_of(ctx, n->outputs[0]);
    if (y_nat && dk_onednn_channel_block(&y_nat->md, y->ndim, y->dims) == 16) return 0;
    dk_dnnl_md from = {0}, to = {0};
    dnnl_status_t s = y_nat ? (from = y_nat->md, dnnl_success) : dk_dnnl_md_plain(&from, y->ndim, y->dims);
    if (s == dnnl_success) s = dk_dnnl_md_blocked16(&to, y->ndim, y->dims, dnnl_f32);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t a = NULL, b = NULL;
    void *abuf = NULL, *bbuf = NULL;
    const size_t asize = dk_dnnl_md_size(&from), bsize = dk_dnnl_md_size(&to);
    double best = 0;
    if (s == dnnl_success) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dk_dnnl_reorder_pd(&pd, ctx->engine, &from, &to, attr);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success && (abuf = calloc(1, asize ? asize : 1)) && (bbuf = calloc(1, bsize ? bsize : 1))) {
        s = dk_dnnl_memory(ctx->engine, &from, abuf, &a);
        if (s == dnnl_success) s = dk_dnnl_memory(ctx->engine, &to, bbuf, &b);
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        best = DBL_MAX;
        for (int r = 0; r <= CHOOSE_RUNS && s == dnnl_success; r++) {
            double t0 = dk__now();
            s = dnnl_primitive_execute(prim, ctx->stream, 2, args);
            if (s == dnnl_success) s = dnnl_stream_wait(ctx->stream);
            double dt = dk__now() - t0;
            if (r > 0 && dt < best) best = dt; /* run 0 warms up */
        }
        if (s != dnnl_success) best = 0;
    }
    if (a) dnnl_memory_destroy(a);
    if (b) dnnl_memory_destroy(b);
    free(abuf);
    free(bbuf);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    dk_dnnl_md_fini(&from);
    dk_dnnl_md_fini(&to);
    return best;
}

/* Plans the node as candidate c says, the context's options restored after. */
static dk_status plan_as(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n, const candidate *c,
                         dk_onednn_plan **out)
{
    const dk_onednn_algo algo0 = ctx->algo;
    const int nchw16c0 = ctx->nchw16c, bf16_0 = ctx->bf16;
    ctx->algo = c->algo;
    ctx->nchw16c = c->nchw16c;
    ctx->bf16 = bf16_0 && !c->f32;
    ctx->dst_blocked = c->dst16;
    dk_status st = dk_onednn_plan_node(ctx, g, n, out);
    ctx->algo = algo0;
    ctx->nchw16c = nchw16c0;
    ctx->bf16 = bf16_0;
    ctx->dst_blocked = 0;
    if (st == DK_OK && bf16_0 && c->f32) {
        size_t len = strlen((*out)->info.note);
        snprintf((*out)->info.note + len, sizeof (*out)->info.note - len,
                 ", float32 operands (fpmath=bf16 not used)");
    }
    return st;
}

/* One run of the plan; its wall time in *dt. */
static dk_status timed_run(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g, const dk_node *n,
                           const dk_tensor *const *in, dk_tensor *const *out, double *dt)
{
    double t0 = dk__now();
    dk_status st = dk_onednn_plan_run(ctx, p, g, n, in, out);
    *dt = dk__now() - t0;
    return st;
}

/* Plans candidate c and lowers c->hot to its fastest of `runs` runs (after
 * one to warm up) and c->cold to its fastest of `runs` runs each after
 * evicting what the node owns, the host's load sampled after each run. */
static dk_status time_candidate(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                const dk_tensor *const *in, dk_tensor *const *out, candidate *c, int runs,
                                dk__host_load *load)
{
    dk_onednn_plan *p = NULL;
    DK_TRY(plan_as(ctx, g, n, c, &p));
    dk_status st = DK_OK;
    double dt;
    for (int r = 0; r <= runs && st == DK_OK; r++) {
        st = timed_run(ctx, p, g, n, in, out, &dt);
        dk__host_load_sample(load);
        if (r > 0 && dt < c->hot) c->hot = dt; /* run 0 warms up */
    }
    for (int r = 0; r < runs && st == DK_OK; r++) {
        c->no_evict = !dk_onednn_plan_evict(ctx, p, n);
        st = timed_run(ctx, p, g, n, in, out, &dt);
        dk__host_load_sample(load);
        if (dt < c->cold) c->cold = dt;
    }
    double back = st == DK_OK ? way_back_seconds(ctx, g, n) : 0;
    if (back < c->way_back) c->way_back = back;
    dk_onednn_plan_free(p);
    return st;
}

/* Times every candidate `runs` times, watching the host; 1 when it was
 * disturbed meanwhile, with the reasons in why. */
static int time_all(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                    dk_tensor *const *out, candidate *cands, int nc, int runs, dk_status *st, char *why,
                    size_t len)
{
    dk__host_load load;
    dk__host_load_begin(&load);
    for (int i = 0; i < nc && *st == DK_OK; i++) *st = time_candidate(ctx, g, n, in, out, &cands[i], runs, &load);
    dk__host_load_end(&load, 2 * nc * runs);
    dk__host_figures f;
    dk__host_load_figures(&load, &f);
    return dk__host_verdict(&f, why, len) == 1;
}

/* The share of a node's own memory (output, weights, workspace) that the
 * rest of a pass has evicted by the node's next run in the network: F bytes
 * of other traffic (every value the graph's nodes read or write once per
 * pass: weights and activations) through caches that hold C bytes in
 * practice (runtime/cache.h, measured; share 1, all evicted, when unknown).
 * An LRU cache keeps the memory while F < C and loses it beyond; real caches
 * are neither LRU nor of one size (C varies between measurements), so the
 * step is smoothed: share = F^2 / (F^2 + C^2), 0.5 at F = C. Random
 * replacement, 1 - exp(-F/C), evicts too much of a small network: SqueezeNet
 * 1.1 (F 23 MB, C 67 MB: 0.29) then took direct on two 3x3 layers that are
 * faster in Winograd inside it, and ran 2-3% slower. On this 2-core machine
 * (C 67-134 MB measured, 503 MB listed): InceptionV3's 3x3 80->192 layer
 * took 2.4 ms in Winograd against 3.0 ms direct timed hot, and 4.6 against
 * 3.2 ms inside the network; cold they take 4.2-4.8 and 3.1 ms, and with
 * F 153 MB (share 0.57-0.84) direct is chosen; SqueezeNet's share is 0.03-0.1.
 * Chosen hot, then so, interleaved (bench/choices_cold.sh): see
 * bench/RESULTS.md. */
static double cold_share(const dk_graph *g, size_t *pass_bytes, size_t *cache_bytes)
{
    char *seen = calloc((size_t)g->n_values + 1, 1);
    size_t f = 0;
    for (int k = 0; seen && k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        for (int i = 0; i < n->n_inputs + n->n_outputs; i++) {
            int v = i < n->n_inputs ? n->inputs[i] : n->outputs[i - n->n_inputs];
            if (v < 0 || seen[v]) continue;
            seen[v] = 1;
            f += dk_tensor_nbytes(&g->values[v].t);
        }
    }
    free(seen);
    *pass_bytes = f;
    *cache_bytes = dk__cache_effective_bytes();
    if (!*cache_bytes) return 1;
    const double f2 = (double)f * (double)f, c2 = (double)*cache_bytes * (double)*cache_bytes;
    return f2 / (f2 + c2);
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
    const int layout_open = !ctx->layout_given && !ctx->plain;
    if (!blocked_only) cands[nc++] = (candidate){algo0, nchw16c0, 0, "as given", 0, 0, 0, 0, 0, 0};
    if (!ctx->algo_given && winograd_possible(n) && !ctx->bf16)
        cands[nc++] = (candidate){DK_ONEDNN_ALGO_WINOGRAD, blocked_only || nchw16c0, 0, "winograd", 0, 0, 0, 0, 0, 0};
    if (layout_open) cands[nc++] = (candidate){algo0, 1, 0, "nchw16c", 0, 0, 0, 0, 0, 0};
    /* oneDNN's own choice all the same, its output reordered into the
     * blocked layout: with fpmath=bf16 the AMX kernels, which want NHWC,
     * against the avx512 ones on nChw16c (InceptionV3's branches) */
    if (blocked_only) cands[nc++] = (candidate){algo0, 0, 0, "as given, dst nchw16c", 1, 0, 0, 0, 0, 0};
    if (ctx->bf16) {
        if (!blocked_only) cands[nc++] = (candidate){algo0, nchw16c0, 1, "float32", 0, 0, 0, 0, 0, 0};
        if (layout_open) cands[nc++] = (candidate){algo0, 1, 1, "float32 nchw16c", 0, 0, 0, 0, 0, 0};
        /* oneDNN 2.6 has no bfloat16 Winograd; its float32 one often beats
         * both bfloat16 direct kernels on GoogLeNet's and InceptionV3's 3x3
         * layers, whose AMX kernels want NHWC and a conversion per run */
        if (!ctx->algo_given && winograd_possible(n))
            cands[nc++] = (candidate){DK_ONEDNN_ALGO_WINOGRAD, blocked_only || nchw16c0, 1, "float32 winograd", 0, 0, 0, 0, 0, 0};
    }
    if (nc == 1) return plan_as(ctx, g, n, &cands[0], out);

    char names[128] = "", key[512], chosen[32];
    for (int i = 0; i < nc; i++) dk_join(names, sizeof names, ",", cands[i].name);
    /* the way back is priced by the input's layout: part of the key */
    const dk_onednn_native *x_nat = dk_onednn_native_of(ctx, n->inputs[0]);
    const dk_tensor *x = &g->values[n->inputs[0]].t;
    dk_joinf(names, sizeof names, "", "; src block %d, way back priced, hot and cold",
             x_nat ? dk_onednn_channel_block(&x_nat->md, x->ndim, x->dims) : -1);
    dk_onednn_choice_key(ctx, g, n, names, key, sizeof key);
    char then[256];
    const int found = dk_onednn_choice_find(key, chosen, sizeof chosen, then, sizeof then);
    for (int i = 0; found && i < nc; i++)
        if (!strcmp(chosen, cands[i].name)) {
            DK_TRY(plan_as(ctx, g, n, &cands[i], out));
            size_t len = strlen((*out)->info.note);
            snprintf((*out)->info.note + len, sizeof (*out)->info.note - len, "; %s, chosen before%s%s%s", chosen,
                     then[0] ? " on a busy host (" : "", then, then[0] ? ")" : "");
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
    for (int i = 0; i < nc; i++) cands[i].hot = cands[i].cold = cands[i].way_back = DBL_MAX;
    char busy[256] = "", still[256] = "";
    const int was_busy = st == DK_OK && time_all(ctx, g, n, in, outs, cands, nc, CHOOSE_RUNS, &st, busy, sizeof busy);
    const int still_busy =
        was_busy && st == DK_OK && time_all(ctx, g, n, in, outs, cands, nc, CHOOSE_RUNS_BUSY, &st, still, sizeof still);
    size_t pass_bytes, cache_bytes;
    const double share = cold_share(g, &pass_bytes, &cache_bytes);
    for (int i = 0; i < nc; i++) cands[i].seconds = cands[i].hot + share * (cands[i].cold - cands[i].hot);
    int best = 0;
    for (int i = 1; i < nc && st == DK_OK; i++)
        if (cands[i].seconds + cands[i].way_back < cands[best].seconds + cands[best].way_back) best = i;
    for (int i = 0; i < 16; i++) dk_tensor_reset(&own[i]);
    if (st == DK_OK) st = plan_as(ctx, g, n, &cands[best], out);
    if (st == DK_OK) dk_onednn_choice_store(key, cands[best].name, still_busy ? still : NULL, found);
    if (st != DK_OK) return st;
    /* the note: what was chosen, and the times behind the choice */
    char times[640] = ""; /* up to 6 candidates, each maybe with its way back */
    for (int i = 0; i < nc; i++) {
        dk_joinf(times, sizeof times, ", ", "%s %.3f ms (%.3f hot, %.3f cold)", cands[i].name,
                 cands[i].seconds * 1e3, cands[i].hot * 1e3, cands[i].cold * 1e3);
        if (cands[i].way_back > 0)
            dk_joinf(times, sizeof times, "", " + %.3f ms back to blocked", cands[i].way_back * 1e3);
    }
    size_t len = strlen((*out)->info.note);
    snprintf((*out)->info.note + len, sizeof (*out)->info.note - len, "; %s, fastest of %s", cands[best].name,
             times);
    len = strlen((*out)->info.note);
    if (cands[best].no_evict)
        snprintf((*out)->info.note + len, sizeof (*out)->info.note - len,
                 "; cold runs with hot caches (this build cannot evict)");
    else
        snprintf((*out)->info.note + len, sizeof (*out)->info.note - len,
                 "; cold share %.2f (a pass touches %.1f MB, the caches hold %.1f MB)", share,
                 (double)pass_bytes / 1e6, (double)cache_bytes / 1e6);
    len = strlen((*out)->info.note);
    if (found)
        snprintf((*out)->info.note + len, sizeof (*out)->info.note - len,
                 "; the remembered choice '%s' is no candidate: timed again", chosen);
    len = strlen((*out)->info.note);
    if (was_busy)
        snprintf((*out)->info.note + len, sizeof (*out)->info.note - len,
                 "; host busy while timing (%s): %d runs more each, %s", busy, CHOOSE_RUNS_BUSY,
                 still_busy ? "still busy" : "quiet then");
    return DK_OK;
}
