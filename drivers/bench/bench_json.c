/* The benchmark result as JSON (schema "deltakern-bench/1", docs/bench.md):
 * statistics of every node and of the end to end, throughput and roofline
 * attainment, counters, topology, binding and the environment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deltakern/file.h"
#include "drivers/bench/bench_internal.h"
#include "runtime/stats.h"
#include "runtime/error.h"
#include "runtime/timer.h"
#include "deltakern/fingerprint.h"

dk_status dk__bench_hash_file(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return dk__error(DK_ERR_IO, "%s: %s", path, strerror(errno));
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < got; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
    int err = ferror(f);
    fclose(f);
    if (err) return dk__error(DK_ERR_IO, "%s: read error", path);
    snprintf(out, n, "fnv1a64:%016llx", (unsigned long long)h);
    return DK_OK;
}

dk_status dk__bench_write_text(const char *path, const char *text, int force)
{
    if (!force && access(path, F_OK) == 0)
        return dk__error(DK_ERR_INVALID, "%s exists (use --force to overwrite)", path);
    return dk_file_write_text(path, text);
}

static const dk_tensor *value_of(const dk_graph *g, const dk_node *n, int input)
{
    if (input >= n->n_inputs || n->inputs[input] < 0) return NULL;
    return &g->values[n->inputs[input]].t;
}

void dk__bench_node_desc(const dk_graph *g, const dk_node *n, char *buf, size_t size)
{
    const dk_tensor *x = value_of(g, n, 0), *w = value_of(g, n, 1);
    const dk_tensor *y = n->n_outputs > 0 && n->outputs[0] >= 0 ? &g->values[n->outputs[0]].t : NULL;
    const char *op = dk_op_name(n->op);
    if (n->op == DK_OP_CONV && x && w && w->ndim == 4 && x->ndim == 4) {
        const dk_conv_params *c = &n->p.conv;
        int len = snprintf(buf, size, "%s %lld×%lld %lld→%lld", op, (long long)w->dims[2], (long long)w->dims[3],
                           (long long)x->dims[1], (long long)w->dims[0]);
        if (len < 0 || (size_t)len >= size) return;
        if (c->win.stride[0] > 1) len += snprintf(buf + len, size - (size_t)len, " /%lld", (long long)c->win.stride[0]);
        if ((size_t)len >= size) return;
        if (c->group > 1 && c->group == x->dims[1]) snprintf(buf + len, size - (size_t)len, " depthwise");
        else if (c->group > 1) snprintf(buf + len, size - (size_t)len, " groups %lld", (long long)c->group);
    } else if ((n->op == DK_OP_GEMM) && x && y && x->ndim == 2 && y->ndim == 2) {
        snprintf(buf, size, "%s %lld→%lld", op, (long long)x->dims[1], (long long)y->dims[1]);
    } else if ((n->op == DK_OP_MAXPOOL || n->op == DK_OP_AVGPOOL) && n->p.pool.win.nspatial == 2) {
        const dk_window *wn = &n->p.pool.win;
        snprintf(buf, size, "%s %lld×%lld /%lld", op, (long long)wn->kernel[0], (long long)wn->kernel[1],
                 (long long)wn->stride[0]);
    } else {
        snprintf(buf, size, "%s", op);
    }
}

/* Column k of a [rep][n_nodes] array. */
static void column(const double *a, int reps, int n_nodes, int k, double *out)
{
    for (int r = 0; r < reps; r++) out[r] = a[(size_t)r * n_nodes + k];
}

static cJSON *stats_json(const double *x, int n)
{
    dk_stats s;
    if (dk_stats_describe(x, n, &s) != DK_OK) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", s.n);
    cJSON_AddNumberToObject(o, "median", s.median);
    cJSON_AddNumberToObject(o, "p10", s.p10);
    cJSON_AddNumberToObject(o, "p90", s.p90);
    cJSON_AddNumberToObject(o, "mean", s.mean);
    cJSON_AddNumberToObject(o, "sd", s.sd);
    cJSON_AddNumberToObject(o, "cv", s.cv);
    cJSON_AddNumberToObject(o, "min", s.min);
    cJSON_AddNumberToObject(o, "max", s.max);
    double ci[2] = {s.ci_lo, s.ci_hi};
    cJSON_AddItemToObject(o, "ci95", cJSON_CreateDoubleArray(ci, 2));
    cJSON_AddNumberToObject(o, "ci_level", s.ci_level);
    return o;
}

static double median_of(const double *x, int n)
{
    dk_stats s;
    return dk_stats_describe(x, n, &s) == DK_OK ? s.median : 0;
}

static cJSON *timing_json(const double *x, int n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "stats", stats_json(x, n));
    cJSON_AddItemToObject(o, "samples_s", cJSON_CreateDoubleArray(x, n));
    return o;
}

static void add_shape(cJSON *o, const char *key, const dk_tensor *t)
{
    char buf[128];
    if (t) cJSON_AddStringToObject(o, key, dk_shape_str(t->ndim, t->dims, buf, sizeof buf));
    else cJSON_AddNullToObject(o, key);
}

/* Attainment of the node's median against the roofline: the roof at the
 * node's arithmetic intensity is min(peak, bandwidth * FLOPs/byte). */
static void add_roofline(cJSON *o, const dk_bench_variant *bv, const dk_node *n, double gflops, double gbs)
{
    if (!bv->have_roof || n->bytes <= 0) {
        cJSON_AddNullToObject(o, "attainment");
        return;
    }
    const dk_roofline *rl = &bv->roof;
    double intensity = n->flops / n->bytes;
    double mem_roof = rl->bandwidth_gbs * intensity;
    double roof = mem_roof < rl->peak_gflops ? mem_roof : rl->peak_gflops;
    cJSON *a = cJSON_AddObjectToObject(o, "attainment");
    cJSON_AddNumberToObject(a, "intensity_flop_per_byte", intensity);
    cJSON_AddStringToObject(a, "bound", mem_roof < rl->peak_gflops ? "memory" : "compute");
    cJSON_AddNumberToObject(a, "roof_gflops", roof);
    cJSON_AddNumberToObject(a, "of_roof", roof > 0 ? gflops / roof : 0);
    cJSON_AddNumberToObject(a, "of_peak_flops", gflops / rl->peak_gflops);
    cJSON_AddNumberToObject(a, "of_bandwidth", gbs / rl->bandwidth_gbs);
}

static cJSON *counters_json(const dk_bench *b, const dk_bench_variant *bv, int k, double *scratch)
{
    cJSON *o = cJSON_CreateObject();
    for (int e = 0; e < b->n_counters; e++) {
        for (int r = 0; r < b->reps; r++)
            scratch[r] = (double)bv->counts[((size_t)r * bv->n_nodes + k) * b->n_counters + e];
        cJSON *c = cJSON_AddObjectToObject(o, dk_counters_name(b->counters, e));
        dk_stats s;
        if (dk_stats_describe(scratch, b->reps, &s) == DK_OK) {
            cJSON_AddNumberToObject(c, "median", s.median);
            cJSON_AddNumberToObject(c, "p10", s.p10);
            cJSON_AddNumberToObject(c, "p90", s.p90);
        }
        cJSON_AddItemToObject(c, "samples", cJSON_CreateDoubleArray(scratch, b->reps));
    }
    return o;
}

static cJSON *covers_json(const dk_node *n)
{
    cJSON *a = cJSON_CreateArray();
    if (!n->covers) {
        cJSON_AddItemToArray(a, cJSON_CreateString(n->name));
        return a;
    }
    const char *p = n->covers;
    while (*p) {
        size_t len = strcspn(p, ",");
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)(len < 255 ? len : 255), p);
        cJSON_AddItemToArray(a, cJSON_CreateString(part));
        p += len;
        if (*p == ',') p++;
    }
    return a;
}

static cJSON *node_json(const dk_bench *b, const dk_bench_variant *bv, int k, double *scratch)
{
    const dk_node *n = &bv->g->nodes[k];
    cJSON *o = cJSON_CreateObject();
    char desc[160];
    dk__bench_node_desc(bv->g, n, desc, sizeof desc);
    cJSON_AddStringToObject(o, "name", n->name);
    cJSON_AddStringToObject(o, "op", dk_op_name(n->op));
    cJSON_AddStringToObject(o, "desc", desc);
    cJSON_AddItemToObject(o, "covers", covers_json(n));
    add_shape(o, "input_shape", value_of(bv->g, n, 0));
    add_shape(o, "shape", n->n_outputs > 0 && n->outputs[0] >= 0 ? &bv->g->values[n->outputs[0]].t : NULL);
    cJSON_AddNumberToObject(o, "flops", n->flops);
    cJSON_AddNumberToObject(o, "bytes", n->bytes);
    column(bv->node_s, b->reps, bv->n_nodes, k, scratch);
    cJSON_AddItemToObject(o, "time", timing_json(scratch, b->reps));
    double med = median_of(scratch, b->reps);
    double gflops = med > 0 ? n->flops / med * 1e-9 : 0, gbs = med > 0 ? n->bytes / med * 1e-9 : 0;
    cJSON_AddNumberToObject(o, "gflops", gflops);
    cJSON_AddNumberToObject(o, "gbs", gbs);
    add_roofline(o, bv, n, gflops, gbs);
    if (b->n_counters) cJSON_AddItemToObject(o, "counters", counters_json(b, bv, k, scratch));
    return o;
}

static cJSON *variant_json(const dk_bench *b, const dk_bench_variant *bv, double *scratch)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", bv->name);
    cJSON_AddStringToObject(o, "variant", bv->full);
    cJSON *env = dk_environment_json(&bv->variant);
    cJSON_AddItemToObject(o, "environment", env ? env : cJSON_CreateNull());
    if (bv->have_roof) {
        cJSON *r = cJSON_AddObjectToObject(o, "roofline");
        cJSON_AddNumberToObject(r, "peak_gflops", bv->roof.peak_gflops);
        cJSON_AddNumberToObject(r, "bandwidth_gbs", bv->roof.bandwidth_gbs);
        cJSON_AddStringToObject(r, "source", bv->roof.source);
    } else {
        cJSON_AddNullToObject(o, "roofline");
    }
    cJSON_AddItemToObject(o, "end_to_end", timing_json(bv->e2e_s, b->reps));
    double node_sum = 0;
    for (int k = 0; k < bv->n_nodes; k++) {
        column(bv->node_s, b->reps, bv->n_nodes, k, scratch);
        node_sum += median_of(scratch, b->reps);
    }
    cJSON_AddNumberToObject(o, "node_median_sum_s", node_sum);
    if (b->overhead) {
        cJSON_AddItemToObject(o, "uninstrumented", timing_json(bv->plain_s, b->reps));
        double plain = median_of(bv->plain_s, b->reps);
        cJSON_AddNumberToObject(o, "instrumentation_overhead", plain > 0 ? node_sum / plain - 1 : 0);
    }
    cJSON_AddNumberToObject(o, "flops", dk_graph_total_flops(bv->g));
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    for (int k = 0; k < bv->n_nodes; k++) cJSON_AddItemToArray(nodes, node_json(b, bv, k, scratch));
    return o;
}

static cJSON *settings_json(const dk_bench *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "reps", b->reps);
    cJSON_AddNumberToObject(o, "reps_requested", b->reps_requested);
    cJSON_AddNumberToObject(o, "min_time_s", b->min_time);
    cJSON_AddNumberToObject(o, "warmup", b->warmup);
    cJSON_AddNumberToObject(o, "sessions", b->n_sessions);
    cJSON_AddBoolToObject(o, "cold", b->cold);
    cJSON_AddStringToObject(o, "bind", b->bind);
    cJSON_AddBoolToObject(o, "interleaved", 1);
    cJSON *ev = cJSON_AddArrayToObject(o, "counters");
    for (int e = 0; e < b->n_counters; e++)
        cJSON_AddItemToArray(ev, cJSON_CreateString(dk_counters_name(b->counters, e)));
    cJSON_AddStringToObject(o, "counters_note", b->counters_note);
    return o;
}

static cJSON *result_json(const dk_bench *b)
{
    int reps = b->reps > 0 ? b->reps : 1;
    double *scratch = malloc(sizeof *scratch * (size_t)reps);
    if (!scratch) return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "deltakern-bench/1");
    char when[32];
    dk__utc_stamp(when, sizeof when);
    cJSON_AddStringToObject(root, "created", when);
    cJSON_AddStringToObject(root, "deltakern_version", DK_VERSION);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "path", b->model_path);
    cJSON_AddStringToObject(model, "name", b->model_name ? b->model_name : "");
    cJSON_AddStringToObject(model, "hash", b->model_hash);
    cJSON *input = cJSON_AddObjectToObject(root, "input");
    cJSON_AddStringToObject(input, "kind", b->input_kind);
    cJSON_AddStringToObject(input, "description", b->input_desc);
    if (!strcmp(b->input_kind, "random")) cJSON_AddNumberToObject(input, "seed", (double)b->seed);
    cJSON_AddItemToObject(root, "settings", settings_json(b));
    cJSON_AddStringToObject(root, "roofline_note", b->roof_note);
    cJSON_AddItemToObject(root, "topology", b->topology ? cJSON_Duplicate(b->topology, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(root, "binding", b->binding ? cJSON_Duplicate(b->binding, 1) : cJSON_CreateNull());
    cJSON *load = dk__host_load_json(&b->host);
    cJSON_AddItemToObject(root, "host_load", load ? load : cJSON_CreateNull());
    cJSON *vs = cJSON_AddArrayToObject(root, "variants");
    for (int i = 0; i < b->n_variants; i++) cJSON_AddItemToArray(vs, variant_json(b, &b->v[i], scratch));
    free(scratch);
    return root;
}

dk_status dk_bench_json_text(const dk_bench *b, char **text)
{
    cJSON *root = result_json(b);
    *text = root ? cJSON_Print(root) : NULL; /* cJSON's default allocator: malloc */
    cJSON_Delete(root);
    return *text ? DK_OK : dk__error(DK_ERR_NOMEM, "out of memory formatting the bench result");
}

dk_status dk_bench_write_json(const dk_bench *b, const char *path, int force)
{
    char *text;
    if (dk_bench_json_text(b, &text) != DK_OK)
        return dk__error(DK_ERR_NOMEM, "%s: out of memory formatting the result", path);
    dk_status st = dk__bench_write_text(path, text, force);
    free(text);
    return st;
}

dk_status dk_bench_summary_get(const dk_bench *b, int i, dk_bench_summary *s)
{
    memset(s, 0, sizeof *s);
    if (i < 0 || i >= b->n_variants) return dk__error(DK_ERR_INVALID, "no variant %d", i);
    const dk_bench_variant *bv = &b->v[i];
    double *scratch = malloc(sizeof *scratch * (size_t)(b->reps > 0 ? b->reps : 1));
    if (!scratch) return dk__error(DK_ERR_NOMEM, "out of memory");
    s->variant = bv->name;
    s->reps = b->reps;
    s->nodes = bv->n_nodes;
    dk_stats st;
    if (b->reps > 0 && dk_stats_describe(bv->e2e_s, b->reps, &st) == DK_OK) {
        s->median = st.median;
        s->ci_lo = st.ci_lo;
        s->ci_hi = st.ci_hi;
        s->cv = st.cv;
    }
    for (int k = 0; k < bv->n_nodes && b->reps > 0; k++) {
        column(bv->node_s, b->reps, bv->n_nodes, k, scratch);
        s->node_sum += median_of(scratch, b->reps);
    }
    if (b->overhead && b->reps > 0) s->plain_median = median_of(bv->plain_s, b->reps);
    free(scratch);
    return DK_OK;
}
