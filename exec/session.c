/* The executor: plans every node once, then runs the graph node by node on one
 * backend, timing each node and handing its outputs to an observer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/session.h"
#include "exec/session_internal.h"
#include "kernels/backend_call.h"
#include "runtime/error.h"
#include "runtime/host.h"
#include "runtime/sanitize.h"
#include "runtime/timer.h"
#include "runtime/text.h"

#define DK_SESSION_MAX_IO 64

struct dk_session {
    const dk_graph *g;
    const dk_backend_iface *b;
    dk_variant variant;
    void *ctx;             /* the backend's context from open() */
    int threads;           /* 0: the OpenMP default */
    dk_tensor *values;     /* one host tensor per graph value; a constant's is a view of
                              the graph's data (shared by every session of the graph) */
    void **plans;
    char *host_stale;      /* per value: the backend's copy is newer than the host's */
    dk_node_observer observer;
    void *observer_user;
    dk_node_hook before, after;
    void *hook_user;
    double last_seconds;
    int released;          /* dk_session_release: the activations are freed */
};

/* Does the backend keep values in its own memory (see backend_iface.h)? */
static int native(const dk_session *s) { return dk__backend_native(s->b); }

static dk_status check_node(const dk_session *s, const dk_node *n)
{
    if (n->n_inputs > DK_SESSION_MAX_IO || n->n_outputs > DK_SESSION_MAX_IO)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s' has more than %d inputs or outputs",
                         s->g->source, n->name, DK_SESSION_MAX_IO);
    if (!dk__backend_supports(s->b, s->ctx, s->g, n))
        return dk__error(DK_ERR_UNSUPPORTED, "%s: node '%s' (%s) is not supported by backend '%s'",
                         s->g->source, n->name, dk_op_name(n->op), s->b->name);
    return DK_OK;
}

/* Values some node reads or writes, or the graph returns: others (left over
 * by graph passes, such as unfolded weights) need no memory. */
static char *used_values(const dk_graph *g)
{
    char *used = calloc((size_t)g->n_values + 1, 1);
    if (!used) return NULL;
    for (int k = 0; k < g->n_nodes; k++) {
        for (int i = 0; i < g->nodes[k].n_inputs; i++)
            if (g->nodes[k].inputs[i] >= 0) used[g->nodes[k].inputs[i]] = 1;
        for (int o = 0; o < g->nodes[k].n_outputs; o++)
            if (g->nodes[k].outputs[o] >= 0) used[g->nodes[k].outputs[o]] = 1;
    }
    for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]] = 1;
    for (int i = 0; i < g->n_inputs; i++) used[g->inputs[i]] = 1;
    return used;
}

static int is_constant(const dk_session *s, int v) { return s->g->values[v].kind == DK_VALUE_CONSTANT; }

/* NaN in every element of a float tensor: a read of an element that no node
 * wrote shows in the results instead of passing as zero. */
DK_RANGE_CHECKED
static void fill_nan_f32(float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) p[i] = NAN;
}

DK_RANGE_CHECKED
static void fill_nan_f64(double *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++) p[i] = NAN;
}

static void poison(dk_tensor *t)
{
    int64_t numel = dk_tensor_numel(t);
    if (t->dtype == DK_F32) {
        DK_CHECK_RANGE((float *)t->data, numel);
        fill_nan_f32(t->data, numel);
    } else if (t->dtype == DK_F64) {
        DK_CHECK_RANGE((double *)t->data, numel);
        fill_nan_f64(t->data, numel);
    }
}

/* Constants are views of the graph's data (backends never write their
 * inputs), so sessions of one graph share the weights; every other value gets
 * memory of its own, poisoned. */
static dk_status alloc_values(dk_session *s)
{
    const dk_graph *g = s->g;
    char *used = used_values(g);
    if (!used) return dk__error(DK_ERR_NOMEM, "out of memory");
    dk_status st = DK_OK;
    for (int v = 0; v < g->n_values && st == DK_OK; v++) {
        const dk_tensor *t = &g->values[v].t;
        if (!used[v] || t->dtype == DK_DTYPE_UNDEFINED) continue;
        if (is_constant(s, v)) {
            s->values[v] = *t; /* a view: not freed by the session */
            continue;
        }
        st = dk_tensor_alloc(&s->values[v], t->dtype, t->ndim, t->dims);
        if (st == DK_OK && !(s->values[v].name = strdup(t->name))) st = dk__error(DK_ERR_NOMEM, "out of memory");
        if (st == DK_OK) poison(&s->values[v]);
    }
    free(used);
    return st;
}

static void free_values(dk_session *s)
{
    for (int v = 0; s->values && v < s->g->n_values; v++)
        if (!is_constant(s, v)) dk_tensor_reset(&s->values[v]);
}

void dk_session_release(dk_session *s)
{
    if (!s || s->released) return;
    free_values(s);
    s->released = 1;
}

/* After dk_session_release: the activations again, poisoned. */
static dk_status ensure_values(dk_session *s)
{
    if (!s->released) return DK_OK;
    dk_status st = alloc_values(s);
    if (st != DK_OK) {
        free_values(s); /* what was allocated before the failure */
        return st;
    }
    memset(s->host_stale, 0, (size_t)s->g->n_values);
    s->released = 0;
    /* what a backend keeps of its own (a device, a blocked layout) is stale
     * now: poisoned too, so that a value read before it is written shows */
    st = dk__backend_poison(s->b, s->ctx, s->g);
    return st == DK_OK ? DK_OK : dk__error_prefix(st, "backend '%s'", s->b->name);
}

/* Refuses, before anything is allocated, a graph whose values need more
 * memory than the machine has: the activations (one buffer per value) must
 * fit in the memory available now, and with the weights in all of memory.
 * Shapes come from the model file; failing later, in malloc or by the
 * kernel's OOM killer halfway through a run, would tell the user nothing. */
static dk_status check_memory(const dk_session *s)
{
    const dk_graph *g = s->g;
    char *used = used_values(g);
    if (!used) return dk__error(DK_ERR_NOMEM, "out of memory");
    double act = 0, weights = 0, total, avail;
    for (int v = 0; v < g->n_values; v++) {
        const dk_tensor *t = &g->values[v].t;
        if (!used[v] || t->dtype == DK_DTYPE_UNDEFINED) continue;
        double bytes = (double)dk_tensor_numel(t) * (double)dk_dtype_size(t->dtype);
        if (is_constant(s, v)) weights += bytes;
        else act += bytes;
    }
    free(used);
    dk__host_memory(&total, &avail);
    if (total <= 0 || (act <= avail && act + weights <= total)) return DK_OK;
    const double gib = 1024.0 * 1024 * 1024;
    return dk__error(DK_ERR_UNSUPPORTED,
                     "%s: the model needs %.1f GiB for its values (%.0f bytes: %.1f GiB of activations, "
                     "%.1f GiB of weights), more than this machine's memory (%.1f GiB, %.1f GiB available)",
                     g->source ? g->source : "graph", (act + weights) / gib, act + weights, act / gib,
                     weights / gib, total / gib, avail / gib);
}

/* One OpenMP pool serves every backend: the thread count is set on it. A
 * session without `threads` gets the process's initial count (OMP_NUM_THREADS
 * or the cores), not whatever the previous session left. */
static void apply_threads(const dk_session *s)
{
#ifdef _OPENMP
    static int initial; /* first read before any session changed the pool */
    #pragma omp critical(dk_session_threads)
    if (!initial) initial = omp_get_max_threads();
    omp_set_num_threads(s->threads > 0 ? s->threads : initial);
#else
    (void)s;
#endif
}

dk_status dk_session_create(const dk_graph *g, const dk_variant *v, dk_session **out)
{
    *out = NULL;
    char reason[256];
    const dk_backend_iface *b = v->backend;
    DK_TRY(dk_backend_probe(b, reason, sizeof reason));
    dk_session *s = calloc(1, sizeof *s);
    if (!s) return dk__error(DK_ERR_NOMEM, "out of memory");
    s->g = g;
    s->b = b;
    s->variant = *v;
    s->threads = (int)dk_variant_get_int(v, "threads", 0);
    apply_threads(s);
    dk_status st = dk__backend_open(b, v, &s->ctx);
    if (st != DK_OK) {
        free(s);
        return dk__error_prefix(st, "backend '%s'", b->name);
    }
    s->values = calloc((size_t)g->n_values + 1, sizeof *s->values);
    s->plans = calloc((size_t)g->n_nodes + 1, sizeof *s->plans);
    s->host_stale = calloc((size_t)g->n_values + 1, 1);
    st = (!s->values || !s->plans || !s->host_stale) ? dk__error(DK_ERR_NOMEM, "out of memory") : DK_OK;
    for (int k = 0; k < g->n_nodes && st == DK_OK; k++) st = check_node(s, &g->nodes[k]);
    if (st == DK_OK) st = check_memory(s);
    if (st == DK_OK) st = alloc_values(s);
    if (st == DK_OK && (st = dk__backend_prepare(b, s->ctx, g)) != DK_OK)
        st = dk__error_prefix(st, "backend '%s'", b->name);
    for (int k = 0; k < g->n_nodes && st == DK_OK; k++) {
        st = dk__backend_plan(b, s->ctx, g, k, &s->plans[k]);
        if (st != DK_OK) st = dk__error_prefix(st, "%s: planning node '%s' on '%s'", g->source, DK_ESC(g->nodes[k].name), b->name);
    }
    if (st != DK_OK) {
        dk_session_destroy(s);
        return st;
    }
    *out = s;
    return DK_OK;
}

void dk_session_destroy(dk_session *s)
{
    if (!s) return;
    for (int k = 0; s->plans && k < s->g->n_nodes; k++)
        dk__backend_plan_destroy(s->b, s->ctx, s->plans[k]);
    free_values(s);
    free(s->values);
    free(s->plans);
    free(s->host_stale);
    dk__backend_close(s->b, s->ctx);
    free(s);
}

void dk_session_set_observer(dk_session *s, dk_node_observer fn, void *user)
{
    s->observer = fn;
    s->observer_user = user;
}

static dk_status feed_inputs(dk_session *s, const dk_tensor *inputs, int n_inputs)
{
    const dk_graph *g = s->g;
    if (n_inputs != g->n_inputs)
        return dk__error(DK_ERR_INVALID, "%s: the model has %d inputs but %d were given", g->source,
                         g->n_inputs, n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        dk_tensor *dst = &s->values[g->inputs[i]];
        const dk_tensor *src = &inputs[i];
        int same = src->dtype == dst->dtype && src->ndim == dst->ndim && src->data;
        for (int d = 0; same && d < dst->ndim; d++) same = src->dims[d] == dst->dims[d];
        if (!same) {
            char want[128], got[128];
            return dk__error(DK_ERR_SHAPE, "%s: input '%s' must be %s %s, got %s %s", g->source,
                             dst->name, dk_dtype_name(dst->dtype),
                             dk_shape_str(dst->ndim, dst->dims, want, sizeof want),
                             dk_dtype_name(src->dtype), dk_shape_str(src->ndim, src->dims, got, sizeof got));
        }
        memcpy(dst->data, src->data, dk_tensor_nbytes(dst));
        DK_TRY(dk__backend_from_canonical(s->b, s->ctx, g, g->inputs[i], dst));
        s->host_stale[g->inputs[i]] = 0;
    }
    return DK_OK;
}

/* Brings the host copy of value v up to date (outside any timed region). */
static dk_status refresh_host(dk_session *s, int v)
{
    if (v < 0 || !s->host_stale[v]) return DK_OK;
    DK_TRY(dk__backend_to_canonical(s->b, s->ctx, s->g, v, &s->values[v]));
    s->host_stale[v] = 0;
    return DK_OK;
}

static dk_status exec_node(dk_session *s, int k, double *seconds)
{
    const dk_graph *g = s->g;
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[DK_SESSION_MAX_IO];
    dk_tensor *out[DK_SESSION_MAX_IO];
    for (int i = 0; i < n->n_inputs; i++) in[i] = n->inputs[i] >= 0 ? &s->values[n->inputs[i]] : NULL;
    for (int o = 0; o < n->n_outputs; o++) out[o] = n->outputs[o] >= 0 ? &s->values[n->outputs[o]] : NULL;
    if (s->before) s->before(s->hook_user, k);
    double t0 = dk__now();
    dk_status st = dk__backend_execute(s->b, s->ctx, s->plans[k], g, n, in, out);
    double dt = dk__now() - t0;
    if (s->after) s->after(s->hook_user, k);
    if (st != DK_OK)
        return dk__error_prefix(st, "%s: node '%s' (%s) on '%s'", g->source, DK_ESC(n->name),
                                dk_op_name(n->op), s->b->name);
    dt = dk__backend_node_seconds(s->b, s->ctx, s->plans[k], dt);
    *seconds = dt;
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0) s->host_stale[n->outputs[o]] = (char)native(s);
    if (s->observer) {
        for (int o = 0; o < n->n_outputs; o++) DK_TRY(refresh_host(s, n->outputs[o]));
        s->observer(s->observer_user, g, k, (const dk_tensor *const *)out, dt);
    }
    return DK_OK;
}

dk_status dk_session_run(dk_session *s, const dk_tensor *inputs, int n_inputs)
{
    const dk_graph *g = s->g;
    DK_TRY(ensure_values(s));
    DK_TRY(feed_inputs(s, inputs, n_inputs));
    apply_threads(s);
    s->last_seconds = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        double dt = 0;
        DK_TRY(exec_node(s, k, &dt));
        s->last_seconds += dt;
    }
    for (int i = 0; i < g->n_outputs; i++) DK_TRY(refresh_host(s, g->outputs[i]));
    return DK_OK;
}

dk_status dk_session_run_node(dk_session *s, int k, double *seconds)
{
    if (k < 0 || k >= s->g->n_nodes)
        return dk__error(DK_ERR_INVALID, "%s: no node %d (the graph has %d)", s->g->source, k, s->g->n_nodes);
    DK_TRY(ensure_values(s));
    apply_threads(s);
    double dt = 0;
    DK_TRY(exec_node(s, k, &dt));
    if (seconds) *seconds = dt;
    return DK_OK;
}

unsigned dk__session_node_traits(const dk_session *s, int k)
{
    if (!s || k < 0 || k >= s->g->n_nodes) return 0;
    return dk__backend_plan_traits(s->b, s->ctx, s->plans[k]);
}

const dk_tensor *dk_session_value(dk_session *s, int v)
{
    if (ensure_values(s) != DK_OK) return NULL;
    if (v < 0 || v >= s->g->n_values || !s->values[v].data) {
        dk__error(DK_ERR_INVALID, "%s: value %d is not used by any node", s->g->source, v);
        return NULL;
    }
    if (refresh_host(s, v) != DK_OK) return NULL;
    return &s->values[v];
}

dk_status dk_session_set_value(dk_session *s, int v, const dk_tensor *t)
{
    const dk_graph *g = s->g;
    DK_TRY(ensure_values(s));
    if (v < 0 || v >= g->n_values || !s->values[v].data)
        return dk__error(DK_ERR_INVALID, "%s: value %d is not used by any node", g->source, v);
    dk_tensor *dst = &s->values[v];
    int same = t->dtype == dst->dtype && t->ndim == dst->ndim && t->data;
    for (int d = 0; same && d < dst->ndim; d++) same = t->dims[d] == dst->dims[d];
    if (!same) {
        char want[128], got[128];
        return dk__error(DK_ERR_SHAPE, "%s: value '%s' is %s %s, cannot set it to %s %s", g->source,
                         g->values[v].t.name, dk_dtype_name(dst->dtype),
                         dk_shape_str(dst->ndim, dst->dims, want, sizeof want), dk_dtype_name(t->dtype),
                         dk_shape_str(t->ndim, t->dims, got, sizeof got));
    }
    /* backends prepare weights at plan time (reordered, uploaded): a new
     * constant would silently not reach them */
    if (g->values[v].kind == DK_VALUE_CONSTANT) {
        if (memcmp(dst->data, t->data, dk_tensor_nbytes(dst)) == 0) return DK_OK;
        return dk__error(DK_ERR_INVALID, "%s: value '%s' is a constant (weights are prepared when "
                         "the session is planned); load a graph with other weights instead",
                         g->source, g->values[v].t.name);
    }
    memcpy(dst->data, t->data, dk_tensor_nbytes(dst));
    DK_TRY(dk__backend_from_canonical(s->b, s->ctx, g, v, dst));
    s->host_stale[v] = 0;
    return DK_OK;
}

dk_status dk_session_poison(dk_session *s)
{
    DK_TRY(ensure_values(s)); /* allocated poisoned; the backend's copies are poisoned below */
    for (int v = 0; v < s->g->n_values; v++)
        if (s->values[v].data && !is_constant(s, v)) {
            poison(&s->values[v]);
            s->host_stale[v] = 0;
        }
    dk_status st = dk__backend_poison(s->b, s->ctx, s->g);
    return st == DK_OK ? DK_OK : dk__error_prefix(st, "backend '%s'", s->b->name);
}

void dk_session_set_hooks(dk_session *s, dk_node_hook before, dk_node_hook after, void *user)
{
    s->before = before;
    s->after = after;
    s->hook_user = user;
}

const dk_graph *dk_session_graph(const dk_session *s) { return s->g; }
const dk_variant *dk_session_variant(const dk_session *s) { return &s->variant; }

const dk_tensor *dk_session_output(const dk_session *s, int i)
{
    if (i < 0 || i >= s->g->n_outputs) return NULL;
    return &s->values[s->g->outputs[i]];
}

double dk_session_last_seconds(const dk_session *s) { return s->last_seconds; }
