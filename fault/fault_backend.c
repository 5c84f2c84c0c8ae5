/* The fault-injection wrapper, backend "fault": runs every node on a base
 * backend and corrupts, or slows down, the output of one named node, so that
 * tolerances, diffs and regression comparisons can be shown to catch it:
 *
 *   fault:base=onednn,fpmath=bf16,node=/layer1/layer1.0/conv1/Conv,kind=bias,scale=10
 *
 * Keys other than the wrapper's own go to the base backend. Corruption sizes
 * are multiples of the node's tolerance bound (fault_corrupt.c); kind=slow
 * busy-waits (factor - 1) x the base's time inside the node's timed region.
 *
 * Timing: the wrapper reports each node's time itself (node_seconds): the
 * base's execute and sync (or the base's own device timer), plus the busy-wait
 * for kind=slow. Corrupting comes after that and is not counted, though it
 * does fall between the session's before/after hooks of the faulty node.
 * Availability: the table's probe cannot know the base; dk_variant_probe
 * checks both, and opening an unavailable base fails with DK_ERR_UNAVAILABLE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/tolerance.h"
#include "fault/fault_backend.h"
#include "fault/fault_internal.h"
#include "kernels/backend_call.h"
#include "runtime/error.h"
#include "runtime/timer.h"

static const dk_option_spec fault_options[] = {
    {"base", "backend", NULL, "the backend that runs every node; its options are accepted too", DK_ROLE_NONE},
    {"node", "name", NULL,
     "the node to corrupt or slow down: its name, or an ONNX node it covers after graph passes", DK_ROLE_NONE},
    {"kind", "noise|bias|zero|swap-channels|slow|flaky|nan", "noise",
     "noise: +-scale x bound per element (random sign); bias: +scale x bound; zero: all 0; "
     "swap-channels: channels 0 and 1 of output 0 swapped; slow: the node takes factor x as long; "
     "flaky: noise with new signs every run (a nondeterministic kernel); nan: one element NaN", DK_ROLE_NONE},
    {"scale", "str", "10", "noise/bias size in multiples of each element's tolerance bound (-1e6 to 1e6)",
     DK_ROLE_NONE},
    {"factor", "str", "2", "slow: the node's time is multiplied by this (1 to 1000)", DK_ROLE_NONE},
    {"seed", "int:0..2147483647", "1", "noise: seed of the random signs (the same every run)", DK_ROLE_NONE},
    {"declare", "none|transform|may-differ", "none",
     "what the corrupted node's plan declares, as a cuDNN plan does: transform (a Winograd or FFT "
     "convolution, held to the looser transform bound), may-differ (other bits from run to run allowed)",
     DK_ROLE_NONE},
    {0},
};

static const char *const kind_names[FAULT_KIND_COUNT] = {"noise", "bias", "zero", "swap-channels", "slow",
                                                          "flaky", "nan"};

static _Thread_local dk__fault_event last_event = {.node = -1};

void dk__fault_last_event(dk__fault_event *out) { *out = last_event; }

double dk__fault_busy_wait(double seconds)
{
    double t0 = dk__now(), t = t0;
    while (t - t0 < seconds) t = dk__now();
    return t - t0;
}

static int is_own_key(const char *key)
{
    for (const dk_option_spec *s = fault_options; s->key; s++)
        if (!strcmp(s->key, key)) return 1;
    return 0;
}

/* A number from lo to hi. */
static dk_status parse_number(const dk_variant *v, const char *key, double lo, double hi, double *out)
{
    const char *text = dk_variant_get(v, key);
    char *end;
    *out = text ? strtod(text, &end) : NAN;
    if (!text || end == text || *end || !(*out >= lo && *out <= hi)) /* NaN too */
        return dk__error(DK_ERR_INVALID, "fault: option %s=%s: expected a number from %g to %g", key,
                         text ? text : "", lo, hi);
    return DK_OK;
}

/* Reads the wrapper's own options and builds the base's variant from the rest. */
static dk_status read_options(const dk_variant *v, fault_ctx *c)
{
    const char *base = dk_variant_get(v, "base");
    if (!base || !*base) return dk__error(DK_ERR_INVALID, "option base=BACKEND is required");
    /* a kernel library: dk_variant_parse has refused unknown names and wrappers */
    c->base = dk__kernel_backend_find(base);
    if (!c->base)
        return dk__error(DK_ERR_INVALID, "base=%s: not a kernel library (see deltakern backends)", base);
    const char *node = dk_variant_get(v, "node");
    if (!node || !*node) return dk__error(DK_ERR_INVALID, "option node=NAME is required");
    snprintf(c->node, sizeof c->node, "%s", node);
    const char *kind = dk_variant_get(v, "kind");
    c->kind = FAULT_KIND_COUNT;
    for (int k = 0; kind && k < FAULT_KIND_COUNT; k++)
        if (!strcmp(kind, kind_names[k])) c->kind = (fault_kind)k;
    if (c->kind == FAULT_KIND_COUNT)
        return dk__error(DK_ERR_INVALID, "kind=%s: expected noise, bias, zero, swap-channels, slow, flaky or nan",
                         kind ? kind : "");
    /* a bound times 1e6 already swamps any output; a node 1000x slower is
     * past any threshold (and a factor of 1e12 would never finish) */
    DK_TRY(parse_number(v, "scale", -1e6, 1e6, &c->scale));
    DK_TRY(parse_number(v, "factor", 1.0, 1000.0, &c->factor));
    c->seed = (uint64_t)dk_variant_get_int(v, "seed", 1);
    const char *declare = dk_variant_get(v, "declare");
    if (!declare || !strcmp(declare, "none")) c->declare = 0;
    else if (!strcmp(declare, "transform")) c->declare = DK_PLAN_TRANSFORM;
    else if (!strcmp(declare, "may-differ")) c->declare = DK_PLAN_MAY_DIFFER;
    else return dk__error(DK_ERR_INVALID, "declare=%s: expected none, transform or may-differ", declare);
    c->prec = dk_variant_precision(v);
    c->base_variant.backend = c->base;
    for (int i = 0; i < v->n_options; i++)
        if (!is_own_key(v->options[i].key))
            c->base_variant.options[c->base_variant.n_options++] = v->options[i];
    return DK_OK;
}

static dk_status fault_open(const dk_variant *v, void **out)
{
    *out = NULL;
    fault_ctx *c = calloc(1, sizeof *c);
    if (!c) return dk__error(DK_ERR_NOMEM, "fault: out of memory");
    c->target = -1;
    dk_status st = read_options(v, c);
    char reason[256];
    if (st == DK_OK) st = dk_backend_probe(c->base, reason, sizeof reason);
    if (st == DK_OK && (st = dk__backend_open(c->base, &c->base_variant, &c->base_ctx)) != DK_OK)
        st = dk__error_prefix(st, "base '%s'", c->base->name);
    if (st != DK_OK) {
        free(c);
        return st;
    }
    c->kind_name = kind_names[c->kind];
    *out = c;
    return DK_OK;
}

static void fault_close(void *ctx)
{
    fault_ctx *c = ctx;
    if (!c) return;
    dk__backend_close(c->base, c->base_ctx);
    free(c);
}

static int fault_supports(void *ctx, const dk_graph *g, const dk_node *n)
{
    fault_ctx *c = ctx;
    return dk__backend_supports(c->base, c->base_ctx, g, n);
}

/* The target node is looked up once per graph, before planning, so an
 * unknown name is reported as such rather than as a node's planning error. */
static dk_status fault_prepare(void *ctx, const dk_graph *g)
{
    fault_ctx *c = ctx;
    if (c->g != g) {
        DK_TRY(dk__fault_find_target(c, g));
        c->g = g;
    }
    return dk__backend_prepare(c->base, c->base_ctx, g);
}

/* Every plan of ours wraps the base's (which may be NULL: the reference plans
 * nothing) and says whether it is the target's, so that plan_traits can tell
 * the target's plans from the others however often a node is planned. */
typedef struct fault_plan_t {
    void *base;
    int target;
} fault_plan_t;

static dk_status fault_plan(void *ctx, const dk_graph *g, int node, void **plan)
{
    fault_ctx *c = ctx;
    *plan = NULL;
    if (c->g != g) { /* planned without prepare (a caller driving plans itself) */
        DK_TRY(dk__fault_find_target(c, g));
        c->g = g;
    }
    fault_plan_t *p = malloc(sizeof *p);
    if (!p) return dk__error(DK_ERR_NOMEM, "fault: out of memory");
    dk_status st = dk__backend_plan(c->base, c->base_ctx, g, node, &p->base);
    if (st != DK_OK) {
        free(p);
        return st;
    }
    p->target = node == c->target;
    *plan = p;
    return DK_OK;
}

static void fault_plan_destroy(void *ctx, void *plan)
{
    fault_ctx *c = ctx;
    fault_plan_t *p = plan;
    dk__backend_plan_destroy(c->base, c->base_ctx, p->base);
    free(p);
}

static dk_status fault_execute(void *ctx, void *plan, const dk_graph *g, const dk_node *n,
                               const dk_tensor *const *in, dk_tensor *const *out)
{
    fault_ctx *c = ctx;
    const fault_plan_t *p = plan; /* every node is planned through fault_plan */
    int target = p && p->target;
    plan = p ? p->base : NULL;
    double t0 = dk__now();
    dk_status st = dk__backend_execute(c->base, c->base_ctx, plan, g, n, in, out);
    if (st != DK_OK) return st;
    /* the base's time for the node just executed (synchronised) */
    c->seconds = dk__backend_node_seconds(c->base, c->base_ctx, plan, dk__now() - t0);
    if (!target) return DK_OK;
    dk__fault_event ev = {.node = c->target, .kind = c->kind_name, .base_seconds = c->seconds};
    if (c->kind == FAULT_SLOW) {
        ev.wait_seconds = (c->factor - 1.0) * c->seconds;
        ev.waited_seconds = dk__fault_busy_wait(ev.wait_seconds);
        c->seconds += ev.waited_seconds;
    } else {
        /* outside the reported time: node_seconds returns c->seconds */
        st = dk__fault_corrupt(c, g, n, in, out, &ev);
        if (st != DK_OK) return dk__error_prefix(st, "corrupting the output of node '%s'", n->name);
    }
    last_event = ev;
    return DK_OK;
}

static double fault_node_seconds(void *ctx, void *plan)
{
    (void)plan;
    return ((fault_ctx *)ctx)->seconds;
}

/* The base's traits, except on the corrupted node: a planted fault declares
 * only what declare= says (nothing by default), so that the checks it exists
 * for see it (a flaky kernel on a base whose plan may differ still fails the
 * determinism check), or see how they treat a declared algorithm. */
static unsigned fault_plan_traits(void *ctx, void *plan)
{
    fault_ctx *c = ctx;
    const fault_plan_t *p = plan;
    if (!p) return 0;
    if (p->target && c->kind != FAULT_SLOW) return c->declare;
    return dk__backend_plan_traits(c->base, c->base_ctx, p->base);
}

static dk_status fault_sync(void *ctx)
{
    fault_ctx *c = ctx;
    return dk__backend_sync(c->base, c->base_ctx);
}

/* A base that keeps values on the host reads and writes the session's
 * tensors: nothing to convert. */
static dk_status fault_from_canonical(void *ctx, const dk_graph *g, int value, const dk_tensor *src)
{
    fault_ctx *c = ctx;
    return dk__backend_from_canonical(c->base, c->base_ctx, g, value, src);
}

static dk_status fault_to_canonical(void *ctx, const dk_graph *g, int value, dk_tensor *dst)
{
    fault_ctx *c = ctx;
    return dk__backend_to_canonical(c->base, c->base_ctx, g, value, dst);
}

static dk_status fault_poison(void *ctx, const dk_graph *g)
{
    fault_ctx *c = ctx;
    return dk__backend_poison(c->base, c->base_ctx, g);
}

static const char *fault_version(void) { return "deltakern " DK_VERSION; }

static dk_status fault_describe(char *buf, size_t n)
{
    snprintf(buf, n, "fault-injection wrapper (deltakern %s) over the backend named by base=", DK_VERSION);
    return DK_OK;
}

const dk_backend_iface dk_backend_fault = {
    .name = "fault",
    .description = "wrapper: runs base=BACKEND and corrupts or slows down node=NAME "
                   "(to check that tolerances, diffs and comparisons catch it)",
    .version = fault_version,
    .options = fault_options,
    .open = fault_open,
    .close = fault_close,
    .supports = fault_supports,
    .prepare = fault_prepare,
    .plan = fault_plan,
    .plan_destroy = fault_plan_destroy,
    .execute = fault_execute,
    .from_canonical = fault_from_canonical,
    .to_canonical = fault_to_canonical,
    .sync = fault_sync,
    .node_seconds = fault_node_seconds,
    .plan_traits = fault_plan_traits,
    .describe = fault_describe,
    .poison = fault_poison,
};
