/* Layout propagation (opt=3): values a convolution wrote in the layout it
 * chose stay in that layout, in buffers of the context, so that the next
 * convolution reads them without a reorder to NCHW and back. Consumers that
 * read NCHW (pools, concat, Gemm, ...) get a reorder step into their host
 * input first; the session gets NCHW through to_canonical, outside timing. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/onednn/onednn_internal.h"
#include "runtime/big_alloc.h"

dk_status dk_onednn_native_begin(dk_onednn_ctx *ctx, const dk_graph *g)
{
    ctx->propagate = (g->hints & DK_HINT_PROPAGATE_LAYOUT) && !ctx->plain;
    if (!ctx->propagate || ctx->n_native >= g->n_values) return DK_OK;
    dk_onednn_native *t = realloc(ctx->native, sizeof *t * (size_t)g->n_values);
    if (!t) return dk__error(DK_ERR_NOMEM, "onednn: out of memory");
    memset(t + ctx->n_native, 0, sizeof *t * (size_t)(g->n_values - ctx->n_native));
    ctx->native = t;
    ctx->n_native = g->n_values;
    return DK_OK;
}

const dk_onednn_native *dk_onednn_native_of(const dk_onednn_ctx *ctx, int v)
{
    if (!ctx->propagate || v < 0 || v >= ctx->n_native || !ctx->native[v].buf) return NULL;
    return &ctx->native[v];
}

/* NaN in every element of a native buffer (float32 data; padding too). */
static void poison_buffer(void *buf, size_t bytes)
{
    float *f = buf;
    for (size_t i = 0; i < bytes / sizeof(float); i++) f[i] = NAN;
}

dk_status dk_onednn_native_poison(void *vctx, const dk_graph *g)
{
    dk_onednn_ctx *ctx = vctx;
    (void)g;
    for (int v = 0; ctx && v < ctx->n_native; v++)
        if (ctx->native[v].buf) poison_buffer(ctx->native[v].buf, dk_dnnl_md_size(&ctx->native[v].md));
    return DK_OK;
}

/* Does native value `part` lie in its own part of `size` bytes at `base`
 * (a Concat's input built in place)? */
static int lies_in(const dk_onednn_native *part, const void *base, size_t size)
{
    const uintptr_t at = (uintptr_t)part->buf, lo = (uintptr_t)base;
    return !part->own && part->buf && base && at >= lo && at < lo + size;
}

/* Native values lying in v's buffer (the parts of a Concat built in place)
 * get buffers of their own before v's goes: a Concat planned again must not
 * leave its inputs' producers writing into freed memory. What they held
 * does not matter (plan time: every run writes them anew). */
static dk_status rehome_parts(dk_onednn_ctx *ctx, int v)
{
    const dk_onednn_native *nat = &ctx->native[v];
    for (int w = 0; w < ctx->n_native; w++) {
        dk_onednn_native *part = &ctx->native[w];
        if (w == v || !lies_in(part, nat->own, dk_dnnl_md_size(&nat->md))) continue;
        const size_t size = dk_dnnl_md_size(&part->md);
        part->own = dk_big_alloc(DK_ONEDNN_ALIGN, size);
        if (!part->own) return dk__error(DK_ERR_NOMEM, "onednn: cannot allocate %zu bytes", size);
        part->buf = part->own;
        poison_buffer(part->buf, size);
    }
    return DK_OK;
}

dk_status dk_onednn_native_drop(dk_onednn_ctx *ctx, int v)
{
    if (v < 0 || v >= ctx->n_native) return DK_OK;
    DK_TRY(rehome_parts(ctx, v));
    free(ctx->native[v].own);
    ctx->native[v].buf = ctx->native[v].own = NULL;
    return DK_OK;
}

dk_status dk_onednn_native_make(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n, int v,
                                const dk_dnnl_md *md, dnnl_memory_t *mem)
{
    if (v < 0 || v >= ctx->n_native) return dk__error(DK_ERR_INTERNAL, "onednn: no native slot for a value");
    dk_onednn_native *nat = &ctx->native[v];
    size_t size = dk_dnnl_md_size(md);
    free(nat->own);
    nat->buf = nat->own = dk_big_alloc(DK_ONEDNN_ALIGN, size);
    if (!nat->buf)
        return dk__error(DK_ERR_NOMEM, "node '%s' (%s): cannot allocate %zu bytes", n->name,
                         dk_op_name(n->op), size);
    nat->md = *md;
    poison_buffer(nat->buf, dk_dnnl_md_size(md)); /* an unwritten read shows as NaN */
    return dk_onednn_mem_native(ctx, p, n, md, v, mem);
}

dk_status dk_onednn_native_mem(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n, int v,
                               dnnl_memory_t *mem)
{
    const dk_onednn_native *nat = dk_onednn_native_of(ctx, v);
    if (!nat) return dk__error(DK_ERR_INTERNAL, "onednn: value %d is not native", v);
    return dk_onednn_mem_native(ctx, p, n, &nat->md, v, mem);
}

dk_status dk_onednn_native_inputs_to_host(dk_onednn_ctx *ctx, dk_onednn_plan *p,
                                          const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_onednn_native *nat = dk_onednn_native_of(ctx, n->inputs[i]);
        if (!nat) continue;
        const dk_tensor *t = &g->values[n->inputs[i]].t;
        dk_dnnl_md plain;
        dnnl_status_t s = dk_dnnl_md_plain(&plain, t->ndim, t->dims);
        if (s != dnnl_success) return dk_dnnl_error(s, n, "describing an input");
        dnnl_memory_t from, to;
        DK_TRY(dk_onednn_native_mem(ctx, p, n, n->inputs[i], &from));
        DK_TRY(dk_onednn_mem_io(ctx, p, n, &plain, DK_ONEDNN_BIND_INPUT, i, &to));
        DK_TRY(dk_onednn_reorder_step(ctx, p, n, &nat->md, from, &plain, to));
    }
    p->n_pre = p->n_steps;
    return DK_OK;
}

/* One reorder between a native value and a host tensor, run now. */
static dk_status convert(dk_onednn_ctx *ctx, const dk_graph *g, int v, const void *src,
                         void *dst, int to_host)
{
    const dk_onednn_native *nat = dk_onednn_native_of(ctx, v);
    const dk_tensor *t = &g->values[v].t;
    dk_dnnl_md plain;
    dnnl_memory_t a = NULL, b = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t s = dk_dnnl_md_plain(&plain, t->ndim, t->dims);
    const dk_dnnl_md *from = to_host ? &nat->md : &plain, *to = to_host ? &plain : &nat->md;
    if (s == dnnl_success) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dk_dnnl_reorder_pd(&pd, ctx->engine, from, to, attr);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) s = dk_dnnl_memory(ctx->engine, from, (void *)src, &a);
    if (s == dnnl_success) s = dk_dnnl_memory(ctx->engine, to, dst, &b);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        s = dnnl_primitive_execute(prim, ctx->stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(ctx->stream);
    }
    if (a) dnnl_memory_destroy(a);
    if (b) dnnl_memory_destroy(b);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return dk__error(DK_ERR_INTERNAL, "onednn: converting value '%s' %s NCHW: %s", t->name,
                         to_host ? "to" : "from", dk_dnnl_status_str(s));
    return DK_OK;
}

dk_status dk_onednn_to_canonical(void *vctx, const dk_graph *g, int v, dk_tensor *dst)
{
    dk_onednn_ctx *ctx = vctx;
    const dk_onednn_native *nat = dk_onednn_native_of(ctx, v);
    return nat ? convert(ctx, g, v, nat->buf, dst->data, 1) : DK_OK;
}

dk_status dk_onednn_from_canonical(void *vctx, const dk_graph *g, int v, const dk_tensor *src)
{
    dk_onednn_ctx *ctx = vctx;
    const dk_onednn_native *nat = dk_onednn_native_of(ctx, v);
    return nat ? convert(ctx, g, v, src->data, nat->buf, 0) : DK_OK;
}

void dk_onednn_native_free(dk_onednn_ctx *ctx)
{
    for (int v = 0; v < ctx->n_native; v++) free(ctx->native[v].own);
    free(ctx->native);
    ctx->native = NULL;
    ctx->n_native = 0;
}

int dk_onednn_channel_block(const dk_dnnl_md *md, int ndim, const int64_t *dims)
{
    static const int blocks[] = {16, 8};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        dk_dnnl_md want = {0};
        int same = dk_dnnl_md_blocked(&want, ndim, dims, dnnl_f32, blocks[b]) == dnnl_success &&
                   dk_dnnl_md_equal(&want, md);
        dk_dnnl_md_fini(&want);
        if (same) return blocks[b];
    }
    dk_dnnl_md plain = {0};
    int same = dk_dnnl_md_plain(&plain, ndim, dims) == dnnl_success && dk_dnnl_md_equal(&plain, md);
    dk_dnnl_md_fini(&plain);
    return same;
}

/* Can the Concat's inputs live in its output buffer (in place)? One image
 * (so each input is one contiguous run of the output), and each input a
 * distinct value that only this Concat reads and no one observes as a graph
 * output. */
static int in_place_possible(const dk_graph *g, const dk_node *n)
{
    if (g->values[n->outputs[0]].t.dims[0] != 1) return 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const int v = n->inputs[i];
        for (int o = 0; o < g->n_outputs; o++)
            if (g->outputs[o] == v) return 0;
        for (int k = 0; k < g->n_nodes; k++)
            for (int j = 0; j < g->nodes[k].n_inputs; j++)
                if (g->nodes[k].inputs[j] == v && (&g->nodes[k] != n || j != i)) return 0;
    }
    return 1;
}

/* Native value v moves into the buffer of value `into` at byte `offset`:
 * its own buffer is freed, and so are the values that lay in it (the parts
 * of an inner Concat) moved along. Memory objects over them follow at the
 * next run (DK_ONEDNN_BIND_NATIVE). */
static void move_into(dk_onednn_ctx *ctx, int v, int into, size_t offset)
{
    dk_onednn_native *nat = &ctx->native[v];
    char *old = nat->own, *dst = (char *)ctx->native[into].buf + offset;
    for (int w = 0; w < ctx->n_native; w++) {
        dk_onednn_native *part = &ctx->native[w];
        if (w != v && lies_in(part, old, dk_dnnl_md_size(&nat->md)))
            part->buf = dst + ((char *)part->buf - old);
    }
    free(nat->own);
    nat->own = NULL;
    nat->buf = dst;
}

/* A channel Concat of native inputs that all share one channel block B (16,
 * 8, or 1 for plain) with every input's channel count a multiple of B: for
 * each image, every input is one contiguous run of the output (its channel
 * blocks, each H x W x B). With one image and inputs read by this Concat
 * alone, the inputs move into the output's buffer and their producers write
 * there (in place: nothing left to copy); otherwise the Concat is a list of
 * memcpy calls. oneDNN 2.6's own concat ("simple:any") took about ten times
 * as long as the copies on SqueezeNet's and InceptionV3's Concats.
 * *done = 0: not such a Concat. */
static dk_status plan_concat_copies(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                    dk_onednn_plan *p, int *done)
{
    *done = 0;
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    if (y->ndim < 3 || y->ndim > 5) return DK_OK;
    int block = -1;
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_tensor *x = &g->values[n->inputs[i]].t;
        const dk_onednn_native *nat = dk_onednn_native_of(ctx, n->inputs[i]);
        int b = nat && x->ndim == y->ndim ? dk_onednn_channel_block(&nat->md, x->ndim, x->dims) : 0;
        if (b == 0 || (block >= 0 && b != block) || x->dims[1] % b) return DK_OK;
        block = b;
    }
    const int64_t batch = y->dims[0], inner = dk_shape_numel(y->ndim - 2, y->dims + 2);
    if (batch * inner == 0) return DK_OK;
    dk_dnnl_md y_md = {0};
    dnnl_status_t s = block > 1 ? dk_dnnl_md_blocked(&y_md, y->ndim, y->dims, dnnl_f32, block)
                                : dk_dnnl_md_plain(&y_md, y->ndim, y->dims);
    if (s != dnnl_success) return DK_OK;
    dk_onednn_copy *copies = calloc((size_t)(batch * n->n_inputs), sizeof *copies);
    if (!copies) return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name, "Concat");
    dnnl_memory_t ym;
    dk_status st = dk_onednn_native_make(ctx, p, n, n->outputs[0], &y_md, &ym);
    const int in_place = st == DK_OK && in_place_possible(g, n);
    for (int64_t b = 0, c = 0; st == DK_OK && b < batch; b++) {
        int64_t offset = 0; /* channels before this input */
        for (int i = 0; i < n->n_inputs; i++, c++) {
            const int64_t ci = g->values[n->inputs[i]].t.dims[1];
            copies[c] = (dk_onednn_copy){n->outputs[0], n->inputs[i],
                                         (size_t)((b * y->dims[1] + offset) * inner) * sizeof(float),
                                         (size_t)(b * ci * inner) * sizeof(float),
                                         (size_t)(ci * inner) * sizeof(float)};
            if (in_place) move_into(ctx, n->inputs[i], n->outputs[0], copies[c].dst_offset);
            offset += ci;
        }
    }
    if (st == DK_OK) {
        char layout[32] = "NCHW";
        if (block > 1) snprintf(layout, sizeof layout, "channels blocked by %d", block);
        snprintf(p->info.note, sizeof p->info.note, "%s, in its inputs' layout (%s, kept)",
                 in_place ? "in place" : "memcpy", layout);
        /* in place, the copies find their source where it goes and skip it
         * (they still copy should a later plan move an input elsewhere) */
        st = dk_onednn_add_copy_step(p, n, copies, (int)(batch * n->n_inputs));
    } else {
        free(copies);
    }
    dk_dnnl_md_fini(&y_md);
    *done = st == DK_OK;
    return st;
}

/* opt=3: a Concat along channels of native values all in one layout runs on
 * that layout and its output stays native (InceptionV3's branches meet at
 * Concats, each read by several convolutions). *done = 0 leaves the node to
 * the NCHW planner. */
dk_status dk_onednn_plan_concat_native(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                                       dk_onednn_plan *p, int *done)
{
    *done = 0;
    if (!ctx->propagate || n->p.axis.axis != 1 || n->n_inputs < 1 || n->n_inputs > 64 ||
        !dk_onednn_all_f32(g, n))
        return DK_OK;
    dk_dnnl_md mds[64];
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_onednn_native *nat = dk_onednn_native_of(ctx, n->inputs[i]);
        if (!nat) return DK_OK;
        mds[i] = nat->md;
    }
    DK_TRY(plan_concat_copies(ctx, g, n, p, done));
    if (*done) return DK_OK;
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    dk_dnnl_md y_any, y_got;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dk_dnnl_md_any(&y_any, y->ndim, y->dims, dnnl_f32);
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    if (s == dnnl_success) s = dk_dnnl_concat_pd(&pd, ctx->engine, &y_any, n->n_inputs, 1, mds, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return DK_OK; /* no such concat: the NCHW way */
    if (!strncmp(dk_dnnl_impl_str(pd), "ref", 3)) { /* mixed layouts: reorders beat it */
        dnnl_primitive_desc_destroy(pd);
        return DK_OK;
    }
    dk_dnnl_pd_md(pd, dnnl_query_dst_md, 0, &y_got);
    dk_onednn_arg args[65];
    dk_status st = DK_OK;
    for (int i = 0; i < n->n_inputs && st == DK_OK; i++) {
        args[i].arg = DNNL_ARG_MULTIPLE_SRC + i;
        st = dk_onednn_native_mem(ctx, p, n, n->inputs[i], &args[i].mem);
    }
    if (st == DK_OK) {
        args[n->n_inputs].arg = DNNL_ARG_DST;
        st = dk_onednn_native_make(ctx, p, n, n->outputs[0], &y_got, &args[n->n_inputs].mem);
    }
    if (st == DK_OK) {
        snprintf(p->info.note, sizeof p->info.note, "%s, in its inputs' layout (kept)",
                 dk_dnnl_impl_str(pd));
        st = dk_onednn_add_step(ctx, p, n, pd, args, n->n_inputs + 1);
        pd = NULL;
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    *done = st == DK_OK;
    return st;
}
