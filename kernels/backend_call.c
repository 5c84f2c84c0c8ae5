/* The call layer (kernels/backend_call.h). */
#include "kernels/backend_call.h"
#include "runtime/error.h"

dk_status dk__backend_open(const dk_backend_iface *b, const dk_variant *v, void **ctx)
{
    *ctx = NULL;
    return b->open ? b->open(v, ctx) : DK_OK;
}

void dk__backend_close(const dk_backend_iface *b, void *ctx)
{
    if (b->close) b->close(ctx);
}

int dk__backend_supports(const dk_backend_iface *b, void *ctx, const dk_graph *g, const dk_node *n)
{
    return b->supports ? b->supports(ctx, g, n) : 1;
}

dk_status dk__backend_prepare(const dk_backend_iface *b, void *ctx, const dk_graph *g)
{
    return b->prepare ? b->prepare(ctx, g) : DK_OK;
}

dk_status dk__backend_plan(const dk_backend_iface *b, void *ctx, const dk_graph *g, int node, void **plan)
{
    *plan = NULL;
    return b->plan ? b->plan(ctx, g, node, plan) : DK_OK;
}

void dk__backend_plan_destroy(const dk_backend_iface *b, void *ctx, void *plan)
{
    if (plan && b->plan_destroy) b->plan_destroy(ctx, plan);
}

dk_status dk__backend_sync(const dk_backend_iface *b, void *ctx) { return b->sync ? b->sync(ctx) : DK_OK; }

dk_status dk__backend_execute(const dk_backend_iface *b, void *ctx, void *plan, const dk_graph *g,
                              const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out)
{
    DK_TRY(b->execute(ctx, plan, g, n, in, out));
    return dk__backend_sync(b, ctx);
}

double dk__backend_node_seconds(const dk_backend_iface *b, void *ctx, void *plan, double host_seconds)
{
    return b->node_seconds ? b->node_seconds(ctx, plan) : host_seconds;
}

unsigned dk__backend_plan_traits(const dk_backend_iface *b, void *ctx, void *plan)
{
    return b->plan_traits ? b->plan_traits(ctx, plan) : 0;
}

int dk__backend_native(const dk_backend_iface *b) { return b->to_canonical && b->from_canonical; }

dk_status dk__backend_from_canonical(const dk_backend_iface *b, void *ctx, const dk_graph *g, int v,
                                     const dk_tensor *src)
{
    return dk__backend_native(b) ? b->from_canonical(ctx, g, v, src) : DK_OK;
}

dk_status dk__backend_to_canonical(const dk_backend_iface *b, void *ctx, const dk_graph *g, int v,
                                   dk_tensor *dst)
{
    return dk__backend_native(b) ? b->to_canonical(ctx, g, v, dst) : DK_OK;
}

dk_status dk__backend_poison(const dk_backend_iface *b, void *ctx, const dk_graph *g)
{
    return b->poison ? b->poison(ctx, g) : DK_OK;
}

const char *dk__call_step_name(dk__call_step s)
{
    static const char *const names[] = {"supports", "plan", "from_canonical", "execute", "to_canonical"};
    return s >= DK_STEP_SUPPORTS && s <= DK_STEP_TO_CANONICAL ? names[s] : "?";
}

dk_status dk__backend_run_node(const dk_backend_iface *b, void *ctx, const dk_graph *g, int k,
                               const dk_node *n, const dk_tensor *const *in, dk_tensor *const *out,
                               dk__call_step *step, unsigned *traits)
{
    dk__call_step at = DK_STEP_SUPPORTS;
    if (!n) n = &g->nodes[k];
    dk_status st = DK_OK;
    void *plan = NULL;
    if (k < 0 || k >= g->n_nodes)
        st = dk__error(DK_ERR_INTERNAL, "%s: node %d is not in the graph", b->name, k);
    else if (!dk__backend_supports(b, ctx, g, &g->nodes[k]))
        st = dk__error(DK_ERR_UNSUPPORTED, "%s does not support node '%s' (%s)", b->name, n->name,
                       dk_op_name(n->op));
    if (st == DK_OK) at = DK_STEP_PLAN, st = dk__backend_plan(b, ctx, g, k, &plan);
    int native = dk__backend_native(b);
    for (int i = 0; native && st == DK_OK && i < n->n_inputs; i++) {
        int v = n->inputs[i];
        if (v >= 0 && in[i] && g->values[v].kind != DK_VALUE_CONSTANT)
            at = DK_STEP_FROM_CANONICAL, st = dk__backend_from_canonical(b, ctx, g, v, in[i]);
    }
    if (st == DK_OK) at = DK_STEP_EXECUTE, st = dk__backend_execute(b, ctx, plan, g, n, in, out);
    for (int o = 0; native && st == DK_OK && o < n->n_outputs; o++)
        if (n->outputs[o] >= 0 && out[o])
            at = DK_STEP_TO_CANONICAL, st = dk__backend_to_canonical(b, ctx, g, n->outputs[o], out[o]);
    if (traits) *traits = dk__backend_plan_traits(b, ctx, plan);
    dk__backend_plan_destroy(b, ctx, plan);
    if (step) *step = at;
    return st;
}
