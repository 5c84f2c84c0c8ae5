/* Building and running the onednn backend's per-node plans: memories bound to
 * session tensors, the shared workspace and owned buffers; primitive steps;
 * the fallback to the reference kernels. See onednn_internal.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fallback.h"
#include "kernels/onednn/onednn_internal.h"
#include "runtime/big_alloc.h"
#include "runtime/cache.h"
#include "runtime/error.h"

/* ---- memories ------------------------------------------------------------ */

static dk_status add_mem(dk_onednn_plan *p, const dk_node *n, dnnl_memory_t mem,
                         dk_onednn_bind bind, int index, size_t offset, size_t bytes)
{
    if (p->n_mems == p->cap_mems) {
        int cap = p->cap_mems ? 2 * p->cap_mems : 8;
        dk_onednn_mem *m = realloc(p->mems, sizeof *m * (size_t)cap);
        if (!m) {
            dnnl_memory_destroy(mem);
            return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name,
                             dk_op_name(n->op));
        }
        p->mems = m;
        p->cap_mems = cap;
    }
    p->mems[p->n_mems++] = (dk_onednn_mem){mem, bind, index, offset, bytes, NULL, NULL};
    return DK_OK;
}

dk_status dk_onednn_mem_io(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                           const dk_dnnl_md *md, dk_onednn_bind bind, int index,
                           dnnl_memory_t *mem)
{
    dnnl_status_t s = dk_dnnl_memory(ctx->engine, md, DNNL_MEMORY_NONE, mem);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "creating a memory object");
    return add_mem(p, n, *mem, bind, index, 0, dk_dnnl_md_size(md));
}

/* Grows the shared workspace to at least `size` bytes. Plan time only; the
 * plans made before see the new buffer at their next execute (their handles
 * are compared with it every time). */
static dk_status grow_work(dk_onednn_ctx *ctx, const dk_node *n, size_t size)
{
    if (size <= ctx->work_size) return DK_OK;
    size_t rounded = (size + DK_ONEDNN_ALIGN - 1) / DK_ONEDNN_ALIGN * DK_ONEDNN_ALIGN;
    void *w = dk_big_alloc(DK_ONEDNN_ALIGN, rounded);
    if (!w)
        return dk__error(DK_ERR_NOMEM, "node '%s' (%s): cannot allocate a %zu byte workspace",
                         n->name, dk_op_name(n->op), rounded);
    free(ctx->work);
    ctx->work = w;
    ctx->work_size = rounded;
    return DK_OK;
}

dk_status dk_onednn_mem_work(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                             const dk_dnnl_md *md, dnnl_memory_t *mem)
{
    size_t offset = p->work_used;
    size_t size = dk_dnnl_md_size(md);
    p->work_used = offset + (size + DK_ONEDNN_ALIGN - 1) / DK_ONEDNN_ALIGN * DK_ONEDNN_ALIGN;
    DK_TRY(grow_work(ctx, n, p->work_used));
    dnnl_status_t s = dk_dnnl_memory(ctx->engine, md, DNNL_MEMORY_NONE, mem);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "creating a workspace memory object");
    return add_mem(p, n, *mem, DK_ONEDNN_BIND_WORK, -1, offset, size);
}

dk_status dk_onednn_mem_fixed(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                              const dk_dnnl_md *md, void *handle, dnnl_memory_t *mem)
{
    dnnl_status_t s = dk_dnnl_memory(ctx->engine, md, handle, mem);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "creating a memory object");
    DK_TRY(add_mem(p, n, *mem, DK_ONEDNN_BIND_OWNED, -1, 0, dk_dnnl_md_size(md)));
    p->mems[p->n_mems - 1].bound = handle;
    return DK_OK;
}

dk_status dk_onednn_mem_native(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                               const dk_dnnl_md *md, int v, dnnl_memory_t *mem)
{
    void *buf = ctx->native[v].buf;
    dnnl_status_t s = dk_dnnl_memory(ctx->engine, md, buf, mem);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "creating a memory object");
    DK_TRY(add_mem(p, n, *mem, DK_ONEDNN_BIND_NATIVE, v, 0, dk_dnnl_md_size(md)));
    p->mems[p->n_mems - 1].bound = buf;
    return DK_OK;
}

dk_status dk_onednn_mem_owned(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                              const dk_dnnl_md *md, dnnl_memory_t *mem)
{
    dnnl_status_t s = dk_dnnl_memory(ctx->engine, md, DNNL_MEMORY_ALLOCATE, mem);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "allocating a weights buffer");
    DK_TRY(add_mem(p, n, *mem, DK_ONEDNN_BIND_OWNED, -1, 0, dk_dnnl_md_size(md)));
    void *h = NULL;
    s = dnnl_memory_get_data_handle(*mem, &h);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "querying a weights buffer");
    p->mems[p->n_mems - 1].bound = h;
    return DK_OK;
}

/* ---- steps ------------------------------------------------------------------ */

dk_status dk_onednn_attr(dk_onednn_ctx *ctx, const dk_node *n, const dk_dnnl_postop *post,
                         int n_post, dnnl_primitive_attr_t *attr)
{
    dnnl_status_t s = dk_dnnl_attr(attr, ctx->bf16, post, n_post);
    return s == dnnl_success ? DK_OK : dk_dnnl_error(s, n, "setting primitive attributes");
}

/* Grows the plan's step array so that one more step fits. */
static dk_status room_for_a_step(dk_onednn_plan *p, const dk_node *n)
{
    if (p->n_steps < p->cap_steps) return DK_OK;
    int cap = p->cap_steps ? 2 * p->cap_steps : 4;
    dk_onednn_step *steps = realloc(p->steps, sizeof *steps * (size_t)cap);
    if (!steps) return dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name, dk_op_name(n->op));
    p->steps = steps;
    p->cap_steps = cap;
    return DK_OK;
}

dk_status dk_onednn_add_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                         dnnl_primitive_desc_t pd, const dk_onednn_arg *args, int nargs)
{
    dk_status st = DK_OK;
    dnnl_primitive_t prim = NULL;
    dnnl_exec_arg_t *a = calloc((size_t)nargs + 1, sizeof *a);
    dk_dnnl_md scratch = {0};
    dk_dnnl_pd_md(pd, dnnl_query_scratchpad_md, 0, &scratch);
    if (!a) st = dk__error(DK_ERR_NOMEM, "node '%s' (%s): out of memory", n->name, dk_op_name(n->op));
    for (int i = 0; st == DK_OK && i < nargs; i++) a[i] = (dnnl_exec_arg_t){args[i].arg, args[i].mem};
    int total = nargs;
    if (st == DK_OK && dk_dnnl_md_size(&scratch) > 0) {
        dnnl_memory_t sm;
        st = dk_onednn_mem_work(ctx, p, n, &scratch, &sm);
        if (st == DK_OK) a[total++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
    }
    if (st == DK_OK) {
        dnnl_status_t s = dnnl_primitive_create(&prim, pd);
        if (s != dnnl_success) st = dk_dnnl_error(s, n, "creating a primitive");
    }
    if (st == DK_OK) st = room_for_a_step(p, n);
    dk_dnnl_md_fini(&scratch);
    dnnl_primitive_desc_destroy(pd);
    if (st != DK_OK) {
        if (prim) dnnl_primitive_destroy(prim);
        free(a);
        return st;
    }
    p->steps[p->n_steps++] = (dk_onednn_step){prim, total, a, 0, NULL};
    return DK_OK;
}

dk_status dk_onednn_add_copy_step(dk_onednn_plan *p, const dk_node *n, dk_onednn_copy *copies,
                                  int n_copies)
{
    dk_status st = room_for_a_step(p, n);
    if (st != DK_OK) {
        free(copies);
        return st;
    }
    p->steps[p->n_steps++] = (dk_onednn_step){NULL, 0, NULL, n_copies, copies};
    return DK_OK;
}

dk_status dk_onednn_reorder_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                                 const dk_dnnl_md *src_md, dnnl_memory_t src,
                                 const dk_dnnl_md *dst_md, dnnl_memory_t dst)
{
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dk_dnnl_reorder_pd(&pd, ctx->engine, src_md, dst_md, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return dk_dnnl_error(s, n, "creating a reorder");
    dk_onednn_arg args[] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    return dk_onednn_add_step(ctx, p, n, pd, args, 2);
}

dk_status dk_onednn_reorder_now(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_node *n,
                                const dk_dnnl_md *src_md, const void *data,
                                const dk_dnnl_md *dst_md, dnnl_memory_t *dst)
{
    int ready;
    void *buf = dk_onednn_weights_acquire(data, src_md, dst_md, &ready);
    if (!buf)
        return dk__error(DK_ERR_NOMEM, "node '%s' (%s): cannot allocate a weights buffer", n->name, dk_op_name(n->op));
    dk_status st = dk_onednn_mem_fixed(ctx, p, n, dst_md, buf, dst);
    if (st != DK_OK) {
        dk_onednn_weights_release(buf);
        return st;
    }
    p->mems[p->n_mems - 1].shared = buf; /* released with the plan */
    if (ready) return DK_OK;             /* another plan reordered these weights already */
    dnnl_memory_t src = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    /* a plan-time reorder allocates its own scratchpad (library mode) */
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    const char *what = "creating a weights reorder";
    if (s == dnnl_success) s = dk_dnnl_reorder_pd(&pd, ctx->engine, src_md, dst_md, attr);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) s = dk_dnnl_memory(ctx->engine, src_md, (void *)data, &src);
    if (s == dnnl_success) {
        what = "reordering the weights";
        dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, *dst}};
        s = dnnl_primitive_execute(prim, ctx->stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(ctx->stream);
    }
    if (src) dnnl_memory_destroy(src);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? DK_OK : dk_dnnl_error(s, n, what);
}

dk_status dk_onednn_input_as(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                             const dk_node *n, int index, const dk_dnnl_md *plain,
                             const dk_dnnl_md *want, dnnl_memory_t *mem)
{
    if (dk_dnnl_md_equal(plain, want))
        return dk_onednn_mem_io(ctx, p, n, want, DK_ONEDNN_BIND_INPUT, index, mem);
    const dk_tensor *c = dk_onednn_constant(g, n, index);
    if (c) return dk_onednn_reorder_now(ctx, p, n, plain, c->data, want, mem);
    dnnl_memory_t in;
    DK_TRY(dk_onednn_mem_io(ctx, p, n, plain, DK_ONEDNN_BIND_INPUT, index, &in));
    DK_TRY(dk_onednn_mem_work(ctx, p, n, want, mem));
    return dk_onednn_reorder_step(ctx, p, n, plain, in, want, *mem);
}

/* ---- fallback ------------------------------------------------------------------ */

dk_status dk_onednn_fallback(dk_onednn_plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->info.note, sizeof p->info.note, fmt, ap);
    va_end(ap);
    p->info.fallback = 1;
    return DK_OK;
}

dk_status dk_onednn_pd_failed(dk_onednn_plan *p, const dk_node *n, dnnl_status_t s,
                              const char *what)
{
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments)
        return dk_onednn_fallback(p, "reference kernel: oneDNN %s for this %s",
                                  dk_dnnl_status_str(s), what);
    return dk_dnnl_error(s, n, what);
}

int dk_onednn_all_f32(const dk_graph *g, const dk_node *n)
{
    for (int i = 0; i < n->n_inputs; i++) {
        const dk_tensor *t = dk_onednn_input(g, n, i);
        if (t && t->dtype != DK_F32) return 0;
    }
    for (int o = 0; o < n->n_outputs; o++) {
        const dk_tensor *t = dk_onednn_output(g, n, o);
        if (t && t->dtype != DK_F32) return 0;
    }
    return 1;
}

/* ---- running ------------------------------------------------------------------------ */

dk_status dk_onednn_plan_run(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                             const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    for (int i = 0; i < p->n_mems; i++) {
        dk_onednn_mem *m = &p->mems[i];
        void *h;
        switch (m->bind) {
        case DK_ONEDNN_BIND_INPUT: h = in[m->index]->data; break;
        case DK_ONEDNN_BIND_OUTPUT: h = out[m->index]->data; break;
        case DK_ONEDNN_BIND_WORK: h = ctx->work + m->offset; break;
        case DK_ONEDNN_BIND_NATIVE: h = ctx->native[m->index].buf; break;
        default: continue;
        }
        if (h == m->bound) continue;
        dnnl_status_t s = dnnl_memory_set_data_handle(m->mem, h);
        if (s != dnnl_success) return dk_dnnl_error(s, n, "binding a tensor");
        m->bound = h;
    }
    int steps = p->info.fallback ? p->n_pre : p->n_steps;
    for (int k = 0; k < steps; k++) {
        const dk_onednn_step *sp = &p->steps[k];
        if (!sp->prim) { /* copies read what earlier steps wrote: wait for them */
            dnnl_status_t s = k ? dnnl_stream_wait(ctx->stream) : dnnl_success;
            if (s != dnnl_success) return dk_dnnl_error(s, n, "waiting for the stream");
            for (int c = 0; c < sp->n_copies; c++) {
                const dk_onednn_copy *cp = &sp->copies[c];
                char *dst = (char *)ctx->native[cp->dst_value].buf + cp->dst_offset;
                const char *src = (const char *)ctx->native[cp->src_value].buf + cp->src_offset;
                if (dst != src) memcpy(dst, src, cp->bytes);
            }
            continue;
        }
        dnnl_status_t s = dnnl_primitive_execute(sp->prim, ctx->stream, sp->nargs, sp->args);
        if (s != dnnl_success) return dk_dnnl_error(s, n, "executing a primitive");
    }
    if (p->info.fallback) {
        if (steps) {
            dnnl_status_t s = dnnl_stream_wait(ctx->stream);
            if (s != dnnl_success) return dk_dnnl_error(s, n, "waiting for the stream");
        }
        return dk__fallback_run("onednn", n, in, out);
    }
    dnnl_status_t s = dnnl_stream_wait(ctx->stream);
    return s == dnnl_success ? DK_OK : dk_dnnl_error(s, n, "waiting for the stream");
}

static int reads_value(const dk_node *n, int v)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] == v) return 1;
    return 0;
}

/* What the plan touches apart from the node's inputs: memory i's address, or
 * NULL for an input (its producer has just written it). */
static const void *own_memory(const dk_onednn_ctx *ctx, const dk_onednn_plan *p, const dk_node *n, int i)
{
    const dk_onednn_mem *m = &p->mems[i];
    switch (m->bind) {
    case DK_ONEDNN_BIND_OUTPUT:
    case DK_ONEDNN_BIND_OWNED: return m->bound;
    case DK_ONEDNN_BIND_WORK: return ctx->work + m->offset;
    case DK_ONEDNN_BIND_NATIVE: return reads_value(n, m->index) ? NULL : ctx->native[m->index].buf;
    default: return NULL;
    }
}

size_t dk_onednn_plan_own_bytes(const dk_onednn_ctx *ctx, const dk_onednn_plan *p, const dk_node *n)
{
    size_t bytes = 0;
    for (int i = 0; i < p->n_mems; i++)
        if (own_memory(ctx, p, n, i)) bytes += p->mems[i].bytes;
    return bytes;
}

int dk_onednn_plan_evict(const dk_onednn_ctx *ctx, const dk_onednn_plan *p, const dk_node *n)
{
    int done = 1;
    for (int i = 0; i < p->n_mems; i++) {
        const void *h = own_memory(ctx, p, n, i);
        if (h && !dk__cache_evict(h, p->mems[i].bytes)) done = 0;
    }
    return done;
}

void dk_onednn_plan_free(dk_onednn_plan *p)
{
    if (!p) return;
    for (int k = 0; k < p->n_steps; k++) {
        if (p->steps[k].prim) dnnl_primitive_destroy(p->steps[k].prim);
        free(p->steps[k].args);
        free(p->steps[k].copies);
    }
    for (int i = 0; i < p->n_mems; i++) {
        dnnl_memory_destroy(p->mems[i].mem);
        dk_onednn_weights_release(p->mems[i].shared);
    }
    free(p->steps);
    free(p->mems);
    free(p);
}
