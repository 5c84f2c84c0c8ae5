/* The benchmark loop: every variant planned first, then repetitions round by
 * round (each round runs every variant once), every node timed alone and its
 * counters read around it, outside its timed region. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "drivers/bench/bench_internal.h"
#include "runtime/error.h"
#include "runtime/rng.h"
#include "runtime/timer.h"
#include "deltakern/topology.h"

#define DK_BENCH_MAX_REPS 100000
#define DK_BENCH_MAX_INPUTS 64
#define DK_BENCH_FLUSH_BYTES ((size_t)64 << 20) /* well above the last-level caches here */

/* Uniform floats in [-1, 1) from the seed for every graph input, one
 * stream continued from input to input. */
static dk_status random_inputs(const dk_graph *g, uint64_t seed, dk_tensor *t)
{
    uint64_t s = seed;
    for (int i = 0; i < g->n_inputs; i++) {
        const dk_tensor *want = &g->values[g->inputs[i]].t;
        if (want->dtype != DK_F32)
            return dk__error(DK_ERR_UNSUPPORTED, "%s: input '%s' is %s; a random input is float32 only (give -i FILE)",
                             g->source, want->name, dk_dtype_name(want->dtype));
        DK_TRY(dk_tensor_alloc(&t[i], want->dtype, want->ndim, want->dims));
        float *x = t[i].data;
        for (int64_t k = 0, numel = dk_tensor_numel(&t[i]); k < numel; k++)
            x[k] = (float)((double)(dk_rng_mix(&s) >> 40) * 0x1p-23 - 1.0);
    }
    return DK_OK;
}

static dk_status load_input(dk_bench *b, const dk_bench_options *o, const dk_graph *g, dk_tensor *t)
{
    if (g->n_inputs > DK_BENCH_MAX_INPUTS)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: the model has %d inputs; bench takes at most %d", o->model,
                         g->n_inputs, DK_BENCH_MAX_INPUTS);
    b->n_inputs = g->n_inputs;
    if (!o->input) {
        snprintf(b->input_kind, sizeof b->input_kind, "random");
        snprintf(b->input_desc, sizeof b->input_desc, "uniform [-1, 1), seed %llu",
                 (unsigned long long)o->seed);
        return random_inputs(g, o->seed, t);
    }
    if (g->n_inputs != 1)
        return dk__error(DK_ERR_UNSUPPORTED, "%s: the model has %d inputs; an input file feeds models with one input (leave out -i for random inputs)",
                         o->model, g->n_inputs);
    snprintf(b->input_kind, sizeof b->input_kind, "file");
    snprintf(b->input_desc, sizeof b->input_desc, "%s", o->input);
    dk_preprocess pre = o->pre;
    const dk_tensor *want = &g->values[g->inputs[0]].t;
    if (want->ndim == 4 && want->dims[1] == 3 && !pre.height) {
        pre.height = (int)want->dims[2];
        pre.width = (int)want->dims[3];
    }
    return dk_input_load(o->input, &pre, t);
}

/* Loads the model for one variant and optimises it at the variant's level. */
static dk_status load_graph(const dk_bench_options *o, const dk_variant *v, dk_graph **g)
{
    DK_TRY(dk_onnx_load_with(o->model, o->load, g));
    dk_status st = dk_graph_optimize(*g, (int)dk_variant_get_int(v, "opt", 0), dk_variant_get(v, "disable"));
    if (st != DK_OK) {
        dk_graph_destroy(*g);
        *g = NULL;
    }
    return st;
}

static int default_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* The session sets a variant's thread count only when given: set it every
 * time, so an interleaved variant with the default is not left with another
 * variant's count. */
static void set_threads(const dk_bench_variant *bv, int dflt)
{
#ifdef _OPENMP
    long t = dk_variant_get_int(&bv->variant, "threads", 0);
    omp_set_num_threads(t > 0 ? (int)t : dflt);
#else
    (void)bv;
    (void)dflt;
#endif
}

static dk_status grow(dk_bench *b)
{
    if (b->reps < b->cap) return DK_OK;
    int cap = b->cap ? b->cap * 2 : 16;
    if (cap > DK_BENCH_MAX_REPS) cap = DK_BENCH_MAX_REPS;
    for (int i = 0; i < b->n_variants; i++) {
        dk_bench_variant *bv = &b->v[i];
        size_t nn = (size_t)cap * (size_t)bv->n_nodes + 1; /* + 1: a graph may have no node */
        double *ns = realloc(bv->node_s, sizeof *ns * nn);
        if (ns) bv->node_s = ns;
        double *st = realloc(bv->node_start, sizeof *st * nn);
        if (st) bv->node_start = st;
        double *e = realloc(bv->e2e_s, sizeof *e * (size_t)cap);
        if (e) bv->e2e_s = e;
        double *p = realloc(bv->plain_s, sizeof *p * (size_t)cap);
        if (p) bv->plain_s = p;
        long long *c = bv->counts;
        if (b->n_counters) {
            c = realloc(bv->counts, sizeof *c * nn * (size_t)b->n_counters);
            if (c) bv->counts = c;
        }
        if (!ns || !st || !e || !p || (b->n_counters && !c))
            return dk__error(DK_ERR_NOMEM, "out of memory for %d repetitions of %d nodes", cap, bv->n_nodes);
    }
    b->cap = cap;
    return DK_OK;
}

/* Counters around each node, outside its timed region (session hooks). A
 * failure is kept and reported after the node. */
static void hook_before(void *user, int k)
{
    dk_bench *b = user;
    (void)k;
    if (b->hook_status == DK_OK) b->hook_status = dk_counters_start(b->counters);
}

static void hook_after(void *user, int k)
{
    dk_bench *b = user;
    long long scratch[DK_COUNTERS_MAX_EVENTS];
    long long *dst = scratch;
    if (b->recording) {
        dk_bench_variant *bv = &b->v[b->cur_variant];
        dst = bv->counts + ((size_t)b->cur_rep * (size_t)bv->n_nodes + (size_t)k) * (size_t)b->n_counters;
    }
    if (b->hook_status == DK_OK) b->hook_status = dk_counters_stop(b->counters, dst);
}

/* Writes and reads a buffer larger than the caches, outside timed regions. */
static void flush_caches(unsigned char *buf)
{
    volatile unsigned char *p = buf; /* volatile: the sweep must happen */
    for (size_t i = 0; i < DK_BENCH_FLUSH_BYTES; i += 64) p[i] = (unsigned char)(p[i] + 1);
}

/* One repetition of variant vi on its session si: recorded as rep (>= 0) or
 * a warm-up (-1). */
static dk_status run_rep(dk_bench *b, int vi, int si, int rep, unsigned char *flush, int dflt_threads)
{
    dk_bench_variant *bv = &b->v[vi];
    set_threads(bv, dflt_threads);
    if (flush) flush_caches(flush);
    b->cur_variant = vi;
    b->cur_rep = rep;
    b->recording = rep >= 0;
    b->hook_status = DK_OK;
    double t0 = dk__now();
    for (int k = 0; k < bv->n_nodes; k++) {
        double start = dk__now(), sec = 0;
        DK_TRY(dk_session_run_node(bv->s[si], k, &sec));
        if (b->hook_status != DK_OK)
            return dk__error_prefix(b->hook_status, "counters around node '%s'", bv->g->nodes[k].name);
        if (rep >= 0) {
            bv->node_s[(size_t)rep * bv->n_nodes + k] = sec;
            bv->node_start[(size_t)rep * bv->n_nodes + k] = start - b->origin;
        }
    }
    double e2e = dk__now() - t0;
    b->recording = 0;
    if (rep >= 0) bv->e2e_s[rep] = e2e;
    return DK_OK;
}

/* An uninstrumented whole run (no hooks, no per-node bookkeeping of ours). */
static dk_status run_plain(dk_bench *b, int vi, int si, int rep, const dk_tensor *input, unsigned char *flush,
                           int dflt_threads)
{
    dk_bench_variant *bv = &b->v[vi];
    set_threads(bv, dflt_threads);
    if (flush) flush_caches(flush);
    dk_session_set_hooks(bv->s[si], NULL, NULL, NULL);
    double t0 = dk__now();
    dk_status st = dk_session_run(bv->s[si], input, b->n_inputs);
    double dt = dk__now() - t0;
    if (b->counters) dk_session_set_hooks(bv->s[si], hook_before, hook_after, b);
    if (st == DK_OK && rep >= 0) bv->plain_s[rep] = dt;
    return st;
}

static double e2e_total(const dk_bench_variant *bv, int reps)
{
    double t = 0;
    for (int r = 0; r < reps; r++) t += bv->e2e_s[r];
    return t;
}

static int need_more(const dk_bench *b)
{
    if (b->reps >= DK_BENCH_MAX_REPS) return 0;
    if (b->reps < b->reps_requested) return 1;
    if (b->min_time <= 0) return 0;
    for (int i = 0; i < b->n_variants; i++)
        if (e2e_total(&b->v[i], b->reps) < b->min_time) return 1;
    return 0;
}

static dk_status measure(dk_bench *b, const dk_tensor *input)
{
    int dflt = b->dflt_threads;
    unsigned char *flush = NULL;
    if (b->cold && !(flush = calloc(DK_BENCH_FLUSH_BYTES, 1)))
        return dk__error(DK_ERR_NOMEM, "out of memory for the cache flush buffer");
    dk_status st = DK_OK;
    /* every session warms up */
    for (int w = 0; w < b->warmup && st == DK_OK; w++)
        for (int si = 0; si < b->n_sessions && st == DK_OK; si++)
            for (int i = 0; i < b->n_variants && st == DK_OK; i++) {
                st = run_rep(b, i, si, -1, flush, dflt);
                if (st == DK_OK && b->overhead) st = run_plain(b, i, si, -1, input, flush, dflt);
            }
    /* the host's load over the recorded rounds: read before, between and
     * after the repetitions, outside every timed region */
    dk__host_load_begin(&b->host);
    b->origin = dk__now();
    while (st == DK_OK && need_more(b)) {
        if ((st = grow(b)) != DK_OK) break;
        int si = b->reps % b->n_sessions;
        for (int i = 0; i < b->n_variants && st == DK_OK; i++) {
            st = run_rep(b, i, si, b->reps, flush, dflt);
            if (st == DK_OK && b->overhead) st = run_plain(b, i, si, b->reps, input, flush, dflt);
            if (st == DK_OK) dk__host_load_sample(&b->host);
        }
        if (st == DK_OK) b->reps++;
    }
    dk__host_load_end(&b->host, b->reps * b->n_variants);
    dk__host_load_note(&b->host, b->host_note, sizeof b->host_note);
    free(flush);
    return st;
}

static dk_status open_variant(dk_bench *b, const dk_bench_options *o, int i, dk_tensor *input)
{
    dk_bench_variant *bv = &b->v[i];
    bv->variant = o->variants[i];
    dk_variant_canonical(&bv->variant, 0, bv->name, sizeof bv->name);
    dk_variant_canonical(&bv->variant, 1, bv->full, sizeof bv->full);
    dk_status st = load_graph(o, &bv->variant, &bv->g);
    if (st == DK_OK && i == 0) st = load_input(b, o, bv->g, input);
    if (st == DK_OK && bv->g->n_inputs != b->n_inputs)
        st = dk__error(DK_ERR_SHAPE, "%s: %d graph inputs after optimisation, %d before", o->model,
                       bv->g->n_inputs, b->n_inputs);
    /* several sessions: each allocates and prepares its own copies of the
     * weights and activations, so the repetitions sample memory placements
     * as separate processes would (a memory-bound node's median moved by
     * 15-20% between sessions of one process) */
    if (st == DK_OK && !(bv->s = calloc((size_t)b->n_sessions, sizeof *bv->s)))
        st = dk__error(DK_ERR_NOMEM, "out of memory");
    for (int si = 0; si < b->n_sessions && st == DK_OK; si++) {
        st = dk_session_create(bv->g, &bv->variant, &bv->s[si]);
        for (int k = 0; k < b->n_inputs && st == DK_OK; k++)
            st = dk_session_set_value(bv->s[si], bv->g->inputs[k], &input[k]);
    }
    if (st != DK_OK) return dk__error_prefix(st, "variant '%s'", bv->name);
    bv->n_nodes = bv->g->n_nodes;
    return DK_OK;
}

/* The counters count the threads of the pool as it is when they are
 * created: make it as large as the largest variant's. */
static dk_status open_counters(dk_bench *b, const char *events)
{
    if (!events) return DK_OK;
    int most = b->dflt_threads;
    for (int i = 0; i < b->n_variants; i++) {
        long t = dk_variant_get_int(&b->v[i].variant, "threads", 0);
        if (t > most) most = (int)t;
    }
#ifdef _OPENMP
    omp_set_num_threads(most);
#endif
    dk_status st = dk_counters_create(events, &b->counters);
    if (st != DK_OK) return dk__error_prefix(st, "--counters '%s'", events);
    b->n_counters = dk_counters_count(b->counters);
    snprintf(b->counters_note, sizeof b->counters_note, "%s", dk_counters_note(b->counters));
    for (int i = 0; i < b->n_variants; i++)
        for (int si = 0; si < b->n_sessions; si++) dk_session_set_hooks(b->v[i].s[si], hook_before, hook_after, b);
    return DK_OK;
}

/* The roofline is per thread count: each variant's, with its threads set. */
static void take_roofline(dk_bench *b, dk_bench_variant *bv, int dflt_threads)
{
    set_threads(bv, dflt_threads);
    dk__error_clear();
    if (dk_roofline_get(b->measure_roofline, &bv->roof) == DK_OK && bv->roof.peak_gflops > 0 &&
        bv->roof.bandwidth_gbs > 0) {
        bv->have_roof = 1;
        return;
    }
    if (!b->roof_note[0])
        snprintf(b->roof_note, sizeof b->roof_note, "roofline attainment omitted for %s%s: %s", bv->name,
                 b->n_variants > 1 ? " (and maybe others)" : "",
                 dk_last_error()[0] ? dk_last_error() : "no roofline cached (run `deltakern roofline`)");
}

static dk_status check_options(const dk_bench_options *o)
{
    if (!o->model) return dk__error(DK_ERR_INVALID, "bench: no model given");
    if (o->n_variants < 1) return dk__error(DK_ERR_INVALID, "bench: no variant given");
    if (o->reps < 1 || o->reps > DK_BENCH_MAX_REPS)
        return dk__error(DK_ERR_INVALID, "bench: repetitions must be 1..%d, got %d", DK_BENCH_MAX_REPS, o->reps);
    if (o->warmup < 0) return dk__error(DK_ERR_INVALID, "bench: negative warm-up count %d", o->warmup);
    if (o->sessions < 0 || o->sessions > 64)
        return dk__error(DK_ERR_INVALID, "bench: sessions must be 1..64, got %d", o->sessions);
    if (!(o->min_time >= 0) || o->min_time > 1e6)
        return dk__error(DK_ERR_INVALID, "bench: minimum time %g s is out of range", o->min_time);
    return DK_OK;
}

dk_status dk_bench_run(const dk_bench_options *o, dk_bench **out)
{
    *out = NULL;
    DK_TRY(check_options(o));
    dk_bench *b = calloc(1, sizeof *b);
    if (!b) return dk__error(DK_ERR_NOMEM, "out of memory");
    b->model_path = strdup(o->model);
    b->v = calloc((size_t)o->n_variants, sizeof *b->v);
    dk_status st = (!b->model_path || !b->v) ? dk__error(DK_ERR_NOMEM, "out of memory") : DK_OK;
    b->n_variants = st == DK_OK ? o->n_variants : 0;
    b->reps_requested = o->reps;
    b->min_time = o->min_time;
    b->warmup = o->warmup;
    b->cold = o->cold;
    b->overhead = o->overhead;
    b->measure_roofline = o->measure_roofline;
    b->seed = o->seed;
    b->dflt_threads = default_threads();
    b->n_sessions = o->sessions > 0 ? o->sessions : 1;
    snprintf(b->bind, sizeof b->bind, "%s", o->bind ? o->bind : "none");
    if (st == DK_OK) st = dk__bench_hash_file(o->model, b->model_hash, sizeof b->model_hash);
    if (st == DK_OK) st = dk_bind_threads(b->bind);
    static const dk_tensor none;
    dk_tensor input[DK_BENCH_MAX_INPUTS];
    for (int k = 0; k < DK_BENCH_MAX_INPUTS; k++) input[k] = none;
    for (int i = 0; i < b->n_variants && st == DK_OK; i++) st = open_variant(b, o, i, input);
    if (st == DK_OK && b->v[0].g->name && !(b->model_name = strdup(b->v[0].g->name)))
        st = dk__error(DK_ERR_NOMEM, "out of memory");
    if (st == DK_OK) st = open_counters(b, o->counters);
    if (st == DK_OK) {
        for (int i = 0; i < b->n_variants; i++) take_roofline(b, &b->v[i], b->dflt_threads);
        b->topology = dk_topology_json();
        st = measure(b, input);
    }
    if (st == DK_OK) b->binding = dk_binding_json();
    for (int k = 0; k < DK_BENCH_MAX_INPUTS; k++) dk_tensor_reset(&input[k]);
    if (st != DK_OK) {
        dk_bench_destroy(b);
        return st;
    }
    *out = b;
    return DK_OK;
}

void dk_bench_destroy(dk_bench *b)
{
    if (!b) return;
    for (int i = 0; i < b->n_variants; i++) {
        dk_bench_variant *bv = &b->v[i];
        for (int si = 0; bv->s && si < b->n_sessions; si++) dk_session_destroy(bv->s[si]);
        free(bv->s);
        dk_graph_destroy(bv->g);
        free(bv->node_s);
        free(bv->node_start);
        free(bv->e2e_s);
        free(bv->plain_s);
        free(bv->counts);
    }
    dk_counters_destroy(b->counters);
    cJSON_Delete(b->topology);
    cJSON_Delete(b->binding);
    free(b->v);
    free(b->model_path);
    free(b->model_name);
    free(b);
}

const char *dk_bench_counters_note(const dk_bench *b) { return b->counters_note; }
const char *dk_bench_roofline_note(const dk_bench *b) { return b->roof_note; }
const char *dk_bench_host_note(const dk_bench *b) { return b->host_note; }
int dk_bench_variant_count(const dk_bench *b) { return b->n_variants; }
