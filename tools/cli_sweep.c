/* deltakern sweep: every convolution of a model under every implementation
 * a backend offers (the options that change how it convolves), each timed
 * and judged in isolation against the reference on the same inputs.
 *
 * The reference runs the whole graph once on a seeded random input; every
 * convolution then becomes a graph of its own (tools/node_graph.c), planned
 * once per option combination, fed the reference's inputs for that node and
 * timed with the combinations interleaved run by run. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/backend.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/tolerance.h"
#include "deltakern/variant.h"
#include "runtime/fingerprint.h"
#include "runtime/topology.h"
#include "deltakern/file.h"
#include "tools/cli.h"
#include "tools/node_graph.h"

#define MAX_NODES 512
#define MAX_NAMED 64
#define MAX_COMBOS 256
#define MAX_KEYS 8
#define MAX_IN 8

/* The options of each backend that choose a convolution implementation; a
 * backend not listed sweeps whichever of these keys it declares. */
static const struct {
    const char *backend;
    const char *keys[MAX_KEYS];
} sweep_keys[] = {
    {"onednn", {"algo", "layout", "fpmath"}},
    {"openblas", {"conv"}},
    {"cudnn", {"algo", "math"}},
};
static const char *const generic_keys[] = {"algo", "conv", "layout", "fpmath", "math"};

typedef struct sweep_opts {
    const char *model;
    const char *backend;
    const char *output;
    const char *named[MAX_NAMED];
    int n_named;
    int reps, warmup, force;
    uint64_t seed;
} sweep_opts;

/* One option combination run on one node. */
typedef struct sweep_row {
    int ok;
    char error[320];
    double median, p10, p90; /* seconds */
    double gflops;
    dk_tol_result tol;
    const char *precision;
    int fastest, most_accurate;
} sweep_row;

typedef struct sweep_node {
    int k;                      /* node index */
    dk_tensor in[MAX_IN];       /* the reference's inputs of the node (activations) */
    dk_tensor ref;              /* the reference's output 0 */
    char shape[160];
} sweep_node;

typedef struct sweep_state {
    sweep_opts o;
    dk_variant base;
    char base_text[512];
    dk_graph *g;
    int opt;
    char combos[MAX_COMBOS][256];
    int n_combos;
    sweep_node nodes[MAX_NODES];
    int n_nodes;
    sweep_row *rows;            /* n_nodes x n_combos */
} sweep_state;

static void help(void)
{
    printf(
        "usage: deltakern sweep MODEL.onnx -b BACKEND [options]\n"
        "\n"
        "For every convolution of the model (after the variant's graph optimisation,\n"
        "opt=1 unless given, so BatchNorm is folded in), runs every implementation the\n"
        "backend offers: oneDNN algo x layout x fpmath, OpenBLAS conv lowering, cuDNN\n"
        "algo x math. Options fixed in BACKEND (onednn:fpmath=strict) are not swept.\n"
        "Each combination plans the node alone (a graph of that node only) and runs it\n"
        "on the reference's inputs for that node (a random input drawn with a printed\n"
        "seed, propagated by the reference backend); it is timed (median of --reps\n"
        "after --warmup runs, the combinations interleaved run by run so that drift of\n"
        "the host falls on all alike) and judged against the reference output with\n"
        "the tolerance table in its precision (worst ratio; <= 1 passes).\n"
        "The fastest and the most accurate combination of each node are marked, and a\n"
        "fastest one outside tolerance is flagged. A combination the backend refuses\n"
        "for a layer is listed with its error.\n"
        "\n"
        "options:\n"
        "  -b, --backend VARIANT  backend, possibly with fixed options (required)\n"
        "      --node NAME        only this node (its name or an ONNX node it covers);\n"
        "                         repeatable\n"
        "      --reps N           timed runs per combination and node (default 20)\n"
        "      --warmup N         untimed runs before them (default 3)\n"
        "      --seed N           seed of the random input (default: from the clock)\n"
        "  -o, --output FILE      write the results as JSON (atomically)\n"
        "      --force            overwrite an existing --output file\n");
}

static int parse_count(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        dk_cli_error("sweep: %s '%s': expected an integer in %d..%d", opt, s, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* Returns -1 to go on, or an exit code. */
static int parse(int argc, char **argv, sweep_opts *o)
{
    enum { OPT_NODE = 256, OPT_REPS, OPT_WARMUP, OPT_SEED, OPT_FORCE };
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},           {"backend", required_argument, NULL, 'b'},
        {"output", required_argument, NULL, 'o'},   {"node", required_argument, NULL, OPT_NODE},
        {"reps", required_argument, NULL, OPT_REPS}, {"warmup", required_argument, NULL, OPT_WARMUP},
        {"seed", required_argument, NULL, OPT_SEED}, {"force", no_argument, NULL, OPT_FORCE},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->reps = 20;
    o->warmup = 3;
    o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hb:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return DK_EXIT_OK;
        case 'b':
            if (o->backend) {
                dk_cli_error("sweep: -b given twice ('%s' and '%s'): one backend per sweep", o->backend, optarg);
                return DK_EXIT_USAGE;
            }
            o->backend = optarg;
            break;
        case 'o': o->output = optarg; break;
        case OPT_NODE:
            if (o->n_named == MAX_NAMED) {
                dk_cli_error("sweep: more than %d --node options", MAX_NAMED);
                return DK_EXIT_USAGE;
            }
            o->named[o->n_named++] = optarg;
            break;
        case OPT_REPS:
            if (!parse_count("--reps", optarg, 1, 100000, &o->reps)) return DK_EXIT_USAGE;
            break;
        case OPT_WARMUP:
            if (!parse_count("--warmup", optarg, 0, 100000, &o->warmup)) return DK_EXIT_USAGE;
            break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-') {
                dk_cli_error("sweep: --seed '%s': expected a non-negative integer", optarg);
                return DK_EXIT_USAGE;
            }
            o->seed = v;
            break;
        }
        case OPT_FORCE: o->force = 1; break;
        default: return dk_cli_bad_option("sweep", argc, argv);
        }
    }
    if (optind >= argc) {
        dk_cli_error("sweep: no model given (usage: deltakern sweep MODEL.onnx -b BACKEND)");
        return DK_EXIT_USAGE;
    }
    o->model = argv[optind++];
    if (optind < argc) {
        dk_cli_error("sweep: unexpected argument '%s' (one model per sweep)", argv[optind]);
        return DK_EXIT_USAGE;
    }
    if (!o->backend) {
        dk_cli_error("sweep: no backend given (-b BACKEND, e.g. -b onednn; see deltakern backends)");
        return DK_EXIT_USAGE;
    }
    if (o->output && !o->force && access(o->output, F_OK) == 0) {
        dk_cli_error("sweep: %s exists (use --force to overwrite it)", o->output);
        return DK_EXIT_USAGE;
    }
    return -1;
}

/* ---- the variants to sweep ------------------------------------------------ */

static int key_swept(const dk_backend_iface *b, const char *key)
{
    const char *name = dk_backend_name(b);
    for (size_t i = 0; i < sizeof sweep_keys / sizeof sweep_keys[0]; i++)
        if (strcmp(sweep_keys[i].backend, name) == 0) {
            for (int j = 0; j < MAX_KEYS && sweep_keys[i].keys[j]; j++)
                if (strcmp(sweep_keys[i].keys[j], key) == 0) return 1;
            return 0;
        }
    for (size_t j = 0; j < sizeof generic_keys / sizeof generic_keys[0]; j++)
        if (strcmp(generic_keys[j], key) == 0) return 1;
    return 0;
}

static int given_explicitly(const dk_variant *v, const char *key)
{
    for (int i = 0; i < v->n_options; i++)
        if (strcmp(v->options[i].key, key) == 0) return !v->options[i].is_default;
    return 0;
}

/* The product of the swept keys' values as "k=v,k=v" strings, last key
 * fastest. Returns -1, or an exit code. */
static int build_combos(sweep_state *s)
{
    static char next[MAX_COMBOS][256];
    const dk_backend_iface *b = s->base.backend;
    s->n_combos = 1;
    s->combos[0][0] = '\0';
    for (int i = 0; dk_backend_option_at(b, i); i++) {
        const dk_option_spec *spec = dk_backend_option_at(b, i);
        if (!key_swept(b, spec->key) || given_explicitly(&s->base, spec->key)) continue;
        if (!strchr(spec->values, '|')) continue; /* not an enumeration */
        char vals[32][DK_VARIANT_VALUE_MAX];
        int nv = 0;
        for (const char *p = spec->values; *p && nv < 32;) {
            size_t len = strcspn(p, "|");
            snprintf(vals[nv++], DK_VARIANT_VALUE_MAX, "%.*s", (int)len, p);
            p += len + (p[len] == '|');
        }
        if (s->n_combos * nv > MAX_COMBOS) {
            dk_cli_error("sweep: %s: more than %d option combinations; fix some options in -b "
                         "(e.g. -b %s:%s=%s)", s->o.backend, MAX_COMBOS, dk_backend_name(b), spec->key,
                         spec->def);
            return DK_EXIT_USAGE;
        }
        int n = 0;
        for (int c = 0; c < s->n_combos; c++)
            for (int v = 0; v < nv; v++) {
                int w = snprintf(next[n++], sizeof next[0], "%s%s%s=%s", s->combos[c],
                                 s->combos[c][0] ? "," : "", spec->key, vals[v]);
                if (w < 0 || (size_t)w >= sizeof next[0]) {
                    dk_cli_error("sweep: %s: option combination too long", s->o.backend);
                    return DK_EXIT_USAGE;
                }
            }
        memcpy(s->combos, next, sizeof next[0] * (size_t)n);
        s->n_combos = n;
    }
    return -1;
}

/* The base variant: -b as given, opt=1 unless it names a level. */
static int parse_base(sweep_state *s)
{
    dk_status st = dk_variant_parse(s->o.backend, &s->base);
    if (st != DK_OK) return dk_cli_fail(st);
    if (!given_explicitly(&s->base, "opt")) {
        char text[600];
        snprintf(text, sizeof text, "%s%sopt=1", s->o.backend, strchr(s->o.backend, ':') ? "," : ":");
        if ((st = dk_variant_parse(text, &s->base)) != DK_OK) return dk_cli_fail(st);
    }
    char reason[256];
    if ((st = dk_backend_probe(s->base.backend, reason, sizeof reason)) != DK_OK) return dk_cli_fail(st);
    dk_variant_canonical(&s->base, 0, s->base_text, sizeof s->base_text);
    s->opt = (int)dk_variant_get_int(&s->base, "opt", 1);
    return -1;
}

/* ---- the graph and its convolutions --------------------------------------- */

static int covers_name(const dk_node *n, const char *name)
{
    if (strcmp(n->name, name) == 0) return 1;
    if (!n->covers) return 0;
    size_t len = strlen(name);
    for (const char *p = n->covers; *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, name, len) == 0) return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

static void describe_shape(const dk_graph *g, const dk_node *n, char *buf, size_t len)
{
    char a[64], b[64];
    const dk_tensor *x = &g->values[n->inputs[0]].t, *y = &g->values[n->outputs[0]].t;
    const dk_window *w = &n->p.conv.win;
    char k[48] = "", st[48] = "";
    for (int i = 0; i < w->nspatial; i++) {
        size_t lk = strlen(k), ls = strlen(st);
        snprintf(k + lk, sizeof k - lk, "%s%lld", i ? "x" : "", (long long)w->kernel[i]);
        snprintf(st + ls, sizeof st - ls, "%s%lld", i ? "x" : "", (long long)w->stride[i]);
    }
    snprintf(buf, len, "%s -> %s k%s s%s g%lld", dk_shape_str(x->ndim, x->dims, a, sizeof a),
             dk_shape_str(y->ndim, y->dims, b, sizeof b), k, st, (long long)n->p.conv.group);
}

static int add_node(sweep_state *s, int k)
{
    for (int i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].k == k) return -1;
    if (s->n_nodes == MAX_NODES) {
        dk_cli_error("sweep: %s: more than %d convolutions; choose some with --node", s->o.model, MAX_NODES);
        return DK_EXIT_USAGE;
    }
    const dk_node *n = &s->g->nodes[k];
    if (n->n_inputs > MAX_IN) {
        dk_cli_error("sweep: node '%s' has %d inputs (at most %d)", n->name, n->n_inputs, MAX_IN);
        return DK_EXIT_USAGE;
    }
    sweep_node *sn = &s->nodes[s->n_nodes++];
    memset(sn, 0, sizeof *sn);
    sn->k = k;
    describe_shape(s->g, n, sn->shape, sizeof sn->shape);
    return -1;
}

static int select_nodes(sweep_state *s)
{
    const dk_graph *g = s->g;
    int rc;
    if (s->o.n_named == 0) {
        for (int k = 0; k < g->n_nodes; k++)
            if (g->nodes[k].op == DK_OP_CONV && (rc = add_node(s, k)) >= 0) return rc;
        if (s->n_nodes == 0) {
            dk_cli_error("sweep: %s: the model has no convolution (after opt=%d)", s->o.model, s->opt);
            return DK_EXIT_USAGE;
        }
        return -1;
    }
    for (int i = 0; i < s->o.n_named; i++) {
        const char *name = s->o.named[i];
        int found = -1;
        for (int k = 0; k < g->n_nodes && found < 0; k++)
            if (covers_name(&g->nodes[k], name)) found = k;
        if (found < 0) {
            char some[400] = "";
            int shown = 0, total = 0;
            for (int k = 0; k < g->n_nodes; k++) {
                if (g->nodes[k].op != DK_OP_CONV) continue;
                total++;
                if (shown < 5) {
                    size_t used = strlen(some);
                    snprintf(some + used, sizeof some - used, "%s%s", shown ? ", " : "", g->nodes[k].name);
                    shown++;
                }
            }
            dk_cli_error("sweep: --node '%s': %s has no node of that name after opt=%d (its %d "
                         "convolutions include %s%s; see deltakern info --opt %d)",
                         name, s->o.model, s->opt, total, some, total > shown ? ", ..." : "", s->opt);
            return DK_EXIT_USAGE;
        }
        if (g->nodes[found].op != DK_OP_CONV) {
            dk_cli_error("sweep: --node '%s': node '%s' is a %s, not a convolution", name,
                         g->nodes[found].name, dk_op_name(g->nodes[found].op));
            return DK_EXIT_USAGE;
        }
        if ((rc = add_node(s, found)) >= 0) return rc;
    }
    return -1;
}

/* ---- the reference: every node's inputs and output ----------------------- */

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int reference_run(sweep_state *s)
{
    const dk_graph *g = s->g;
    dk_tensor inputs[16];
    memset(inputs, 0, sizeof inputs);
    if (g->n_inputs > 16) {
        dk_cli_error("sweep: %s: %d graph inputs (at most 16)", s->o.model, g->n_inputs);
        return DK_EXIT_USAGE;
    }
    uint64_t x = s->o.seed * 0x9E3779B97F4A7C15ull + 1;
    int rc = -1;
    dk_status st = DK_OK;
    for (int i = 0; i < g->n_inputs && st == DK_OK; i++) {
        const dk_tensor *t = &g->values[g->inputs[i]].t;
        if (t->dtype != DK_F32) {
            dk_cli_error("sweep: %s: input '%s' is %s; sweep feeds random float32 inputs", s->o.model,
                         t->name, dk_dtype_name(t->dtype));
            rc = DK_EXIT_USAGE;
            break;
        }
        st = dk_tensor_alloc(&inputs[i], DK_F32, t->ndim, t->dims);
        float *d = st == DK_OK ? inputs[i].data : NULL;
        for (int64_t e = 0; d && e < dk_tensor_numel(t); e++)
            d[e] = (float)((double)(rng_next(&x) >> 11) * 0x1p-53 * 4.0 - 2.0); /* uniform [-2, 2) */
    }
    dk_variant refv;
    dk_session *rs = NULL;
    char text[64];
    snprintf(text, sizeof text, "ref:opt=%d", s->opt);
    if (rc < 0 && st == DK_OK) st = dk_variant_parse(text, &refv);
    if (rc < 0 && st == DK_OK) st = dk_session_create(g, &refv, &rs);
    if (rc < 0 && st == DK_OK) st = dk_session_run(rs, inputs, g->n_inputs);
    for (int i = 0; rc < 0 && st == DK_OK && i < s->n_nodes; i++) {
        sweep_node *sn = &s->nodes[i];
        const dk_node *n = &g->nodes[sn->k];
        for (int j = 0; j < n->n_inputs && st == DK_OK; j++) {
            int v = n->inputs[j];
            if (v < 0 || g->values[v].kind == DK_VALUE_CONSTANT) continue;
            const dk_tensor *t = dk_session_value(rs, v);
            st = t ? dk_tensor_copy(&sn->in[j], t) : DK_ERR_INTERNAL;
        }
        const dk_tensor *y = st == DK_OK ? dk_session_value(rs, n->outputs[0]) : NULL;
        if (st == DK_OK) st = y ? dk_tensor_copy(&sn->ref, y) : DK_ERR_INTERNAL;
    }
    if (rc < 0 && st != DK_OK) rc = dk_cli_fail(st);
    dk_session_destroy(rs);
    for (int i = 0; i < g->n_inputs && i < 16; i++) dk_tensor_reset(&inputs[i]);
    return rc;
}

/* ---- one combination on every node ---------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile_sorted(const double *x, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)pos;
    double f = pos - lo;
    return lo + 1 < n ? x[lo] * (1 - f) + x[lo + 1] * f : x[lo];
}

static void row_error(sweep_row *r, const char *what)
{
    r->ok = 0;
    snprintf(r->error, sizeof r->error, "%s%s%s", what, what[0] ? ": " : "",
             dk_last_error()[0] ? dk_last_error() : "failed");
}

static void variant_text(const sweep_state *s, int c, char *buf, size_t n)
{
    if (!s->combos[c][0]) snprintf(buf, n, "%s", s->base_text);
    else snprintf(buf, n, "%s%s%s", s->base_text, strchr(s->base_text, ':') ? "," : ":", s->combos[c]);
}

/* Opens combination c on the node's own graph, gives it the reference's
 * inputs and warms it up; NULL (and the row's error) when it fails. */
static dk_session *open_combo(sweep_state *s, const dk_graph *sub, const sweep_node *sn, int c,
                              dk_variant *cv, sweep_row *r)
{
    char text[700];
    variant_text(s, c, text, sizeof text);
    dk_session *cs = NULL;
    if (dk_variant_parse(text, cv) != DK_OK) {
        row_error(r, "variant");
        return NULL;
    }
    if (dk_session_create(sub, cv, &cs) != DK_OK) {
        row_error(r, "plan");
        return NULL;
    }
    const dk_node *n = &sub->nodes[0];
    for (int j = 0; j < n->n_inputs; j++) {
        int w = n->inputs[j];
        if (w >= 0 && sub->values[w].kind != DK_VALUE_CONSTANT && dk_session_set_value(cs, w, &sn->in[j]) != DK_OK) {
            row_error(r, "setting the node's inputs");
            dk_session_destroy(cs);
            return NULL;
        }
    }
    for (int w = 0; w < s->o.warmup; w++)
        if (dk_session_run_node(cs, 0, NULL) != DK_OK) {
            row_error(r, "");
            dk_session_destroy(cs);
            return NULL;
        }
    return cs;
}

/* The output of a timed session judged against the reference, and its times summarised. */
static void judge(sweep_state *s, const dk_graph *sub, const sweep_node *sn, dk_session *cs,
                  const dk_variant *cv, double *times, sweep_row *r)
{
    const dk_node *n = &sub->nodes[0];
    const dk_tensor *in[MAX_IN];
    for (int j = 0; j < n->n_inputs; j++) {
        int w = n->inputs[j];
        in[j] = w < 0 ? NULL : sub->values[w].kind == DK_VALUE_CONSTANT ? &sub->values[w].t : &sn->in[j];
    }
    const dk_tensor *y = dk_session_value(cs, n->outputs[0]);
    if (!y) {
        row_error(r, "reading the output");
        return;
    }
    dk_precision prec = dk_variant_precision(cv);
    if (dk_tolerance_check(sub, n, prec, in, &sn->ref, y, &r->tol) != DK_OK) {
        row_error(r, "tolerance check");
        return;
    }
    qsort(times, (size_t)s->o.reps, sizeof *times, cmp_double);
    r->median = quantile_sorted(times, s->o.reps, 0.5);
    r->p10 = quantile_sorted(times, s->o.reps, 0.1);
    r->p90 = quantile_sorted(times, s->o.reps, 0.9);
    r->gflops = r->median > 0 ? n->flops / r->median * 1e-9 : 0;
    r->precision = dk_precision_get(prec)->name;
    r->ok = 1;
}

/* Every combination on node i: each planned on a graph of that node alone
 * (a refusal stays with the node), then timed round by round, one run of
 * every combination per round in a rotating order, so that the host's drift
 * falls on all alike. */
static int sweep_node_all(sweep_state *s, int i, dk_session **cs, dk_variant *cv, double *times)
{
    sweep_node *sn = &s->nodes[i];
    sweep_row *rows = &s->rows[(size_t)i * (size_t)s->n_combos];
    int nc = s->n_combos, reps = s->o.reps;
    fprintf(stderr, "sweep: [%d/%d] %s: %d combination%s\n", i + 1, s->n_nodes, s->g->nodes[sn->k].name, nc,
            nc == 1 ? "" : "s");
    dk_graph *sub = NULL;
    if (dk_cli_node_graph(s->g, sn->k, &sub) != DK_OK) {
        for (int c = 0; c < nc; c++) row_error(&rows[c], "the node as a graph of its own");
        return -1;
    }
    for (int c = 0; c < nc; c++) cs[c] = open_combo(s, sub, sn, c, &cv[c], &rows[c]);
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < nc; k++) {
            int c = (k + r) % nc;
            if (cs[c] && dk_session_run_node(cs[c], 0, &times[(size_t)c * (size_t)reps + (size_t)r]) != DK_OK) {
                row_error(&rows[c], "");
                dk_session_destroy(cs[c]);
                cs[c] = NULL;
            }
        }
    for (int c = 0; c < nc; c++) {
        if (cs[c]) judge(s, sub, sn, cs[c], &cv[c], &times[(size_t)c * (size_t)reps], &rows[c]);
        dk_session_destroy(cs[c]);
        cs[c] = NULL;
    }
    dk_graph_destroy(sub);
    return -1;
}

static int run_combos(sweep_state *s)
{
    double *times = malloc(sizeof(double) * (size_t)s->o.reps * (size_t)s->n_combos);
    dk_session **cs = calloc((size_t)s->n_combos, sizeof *cs);
    dk_variant *cv = calloc((size_t)s->n_combos, sizeof *cv);
    s->rows = calloc((size_t)s->n_nodes * (size_t)s->n_combos, sizeof *s->rows);
    int rc = -1;
    if (!times || !cs || !cv || !s->rows) {
        dk_cli_error("sweep: out of memory");
        rc = DK_EXIT_FAILURE;
    }
    for (int i = 0; rc < 0 && i < s->n_nodes; i++) rc = sweep_node_all(s, i, cs, cv, times);
    free(times);
    free(cs);
    free(cv);
    return rc;
}

/* ---- marks, table and JSON ------------------------------------------------ */

/* Marks the fastest and the most accurate row of node i; returns the fastest
 * row's index (-1 when no row ran). */
static int mark(sweep_state *s, int i)
{
    sweep_row *rows = &s->rows[(size_t)i * (size_t)s->n_combos];
    int fast = -1, acc = -1;
    for (int c = 0; c < s->n_combos; c++) {
        if (!rows[c].ok) continue;
        if (fast < 0 || rows[c].median < rows[fast].median) fast = c;
        if (acc < 0 || rows[c].tol.worst_ratio < rows[acc].tol.worst_ratio ||
            (rows[c].tol.worst_ratio == rows[acc].tol.worst_ratio && rows[c].median < rows[acc].median))
            acc = c;
    }
    if (fast >= 0) rows[fast].fastest = 1;
    if (acc >= 0) rows[acc].most_accurate = 1;
    return fast;
}

static int out_of_tolerance(const sweep_row *r)
{
    return r->tol.verdict == DK_VERDICT_FAILED || !(r->tol.worst_ratio <= 1.0);
}

static const char *combo_label(const sweep_state *s, int c) { return s->combos[c][0] ? s->combos[c] : "(defaults)"; }

static void print_table(sweep_state *s, int *fastest)
{
    int width = 12;
    for (int c = 0; c < s->n_combos; c++)
        if ((int)strlen(combo_label(s, c)) > width) width = (int)strlen(combo_label(s, c));
    printf("sweep of %s on %s: %d convolution%s x %d combination%s, seed %llu, median of %d runs after %d warm-up\n",
           s->o.model, s->base_text, s->n_nodes, s->n_nodes == 1 ? "" : "s", s->n_combos,
           s->n_combos == 1 ? "" : "s", (unsigned long long)s->o.seed, s->o.reps, s->o.warmup);
    for (int i = 0; i < s->n_nodes; i++) {
        const dk_node *n = &s->g->nodes[s->nodes[i].k];
        printf("\n%s  %s  %.1f MFLOP%s%s\n", n->name, s->nodes[i].shape, n->flops * 1e-6,
               n->covers ? "  covers " : "", n->covers ? n->covers : "");
        printf("  %-*s  %10s  %17s  %8s  %11s  %-4s  %s\n", width, "options", "median ms", "p10..p90 ms",
               "GFLOP/s", "worst ratio", "prec", "marks");
        for (int c = 0; c < s->n_combos; c++) {
            const sweep_row *r = &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c];
            if (!r->ok) {
                printf("  %-*s  error: %s\n", width, combo_label(s, c), r->error);
                continue;
            }
            char range[40];
            snprintf(range, sizeof range, "%.4f..%.4f", r->p10 * 1e3, r->p90 * 1e3);
            printf("  %-*s  %10.4f  %17s  %8.1f  %11.3g  %-4s  %s%s%s%s\n", width, combo_label(s, c),
                   r->median * 1e3, range, r->gflops, r->tol.worst_ratio, r->precision,
                   r->fastest ? "FASTEST" : "", r->fastest && r->most_accurate ? " " : "",
                   r->most_accurate ? "MOST-ACCURATE" : "", out_of_tolerance(r) ? " OUT-OF-TOLERANCE" : "");
        }
        if (fastest[i] >= 0) {
            const sweep_row *r = &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)fastest[i]];
            if (out_of_tolerance(r))
                printf("  FASTEST OUT OF TOLERANCE: %s (worst ratio %.3g in %s; %s)\n", combo_label(s, fastest[i]),
                       r->tol.worst_ratio, r->precision, r->tol.explain);
        } else {
            printf("  no combination ran on this node\n");
        }
    }
}

static cJSON *row_json(const sweep_state *s, int c, const sweep_row *r)
{
    char text[700];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "options", combo_label(s, c));
    variant_text(s, c, text, sizeof text);
    cJSON_AddStringToObject(e, "variant", text);
    cJSON_AddBoolToObject(e, "ok", r->ok);
    if (!r->ok) {
        cJSON_AddStringToObject(e, "error", r->error);
        return e;
    }
    cJSON_AddNumberToObject(e, "median_ms", r->median * 1e3);
    cJSON_AddNumberToObject(e, "p10_ms", r->p10 * 1e3);
    cJSON_AddNumberToObject(e, "p90_ms", r->p90 * 1e3);
    cJSON_AddNumberToObject(e, "gflops", r->gflops);
    cJSON_AddStringToObject(e, "precision", r->precision);
    /* inf (tol = 0 with an error) is not JSON: written as a string */
    if (isfinite(r->tol.worst_ratio)) cJSON_AddNumberToObject(e, "worst_ratio", r->tol.worst_ratio);
    else cJSON_AddStringToObject(e, "worst_ratio", isnan(r->tol.worst_ratio) ? "nan" : "inf");
    if (isfinite(r->tol.max_norm)) cJSON_AddNumberToObject(e, "max_norm_error", r->tol.max_norm);
    cJSON_AddNumberToObject(e, "max_abs_error", r->tol.max_abs);
    cJSON_AddNumberToObject(e, "rel_l2_error", r->tol.rel_l2);
    cJSON_AddStringToObject(e, "verdict", dk_verdict_name(r->tol.verdict));
    cJSON_AddBoolToObject(e, "within_tolerance", !out_of_tolerance(r));
    cJSON_AddBoolToObject(e, "fastest", r->fastest);
    cJSON_AddBoolToObject(e, "most_accurate", r->most_accurate);
    return e;
}

static int write_json(sweep_state *s, const int *fastest)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", "deltakern-sweep");
    cJSON_AddStringToObject(j, "model", s->o.model);
    cJSON_AddStringToObject(j, "backend", s->base_text);
    cJSON_AddNumberToObject(j, "opt", s->opt);
    cJSON_AddNumberToObject(j, "seed", (double)s->o.seed);
    cJSON_AddNumberToObject(j, "reps", s->o.reps);
    cJSON_AddNumberToObject(j, "warmup", s->o.warmup);
    cJSON *combos = cJSON_AddArrayToObject(j, "combinations");
    for (int c = 0; c < s->n_combos; c++) cJSON_AddItemToArray(combos, cJSON_CreateString(combo_label(s, c)));
    cJSON *nodes = cJSON_AddArrayToObject(j, "nodes");
    for (int i = 0; i < s->n_nodes; i++) {
        const dk_node *n = &s->g->nodes[s->nodes[i].k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", n->name);
        if (n->covers) cJSON_AddStringToObject(e, "covers", n->covers);
        cJSON_AddStringToObject(e, "shape", s->nodes[i].shape);
        cJSON_AddNumberToObject(e, "flops", n->flops);
        cJSON *rows = cJSON_AddArrayToObject(e, "rows");
        for (int c = 0; c < s->n_combos; c++)
            cJSON_AddItemToArray(rows, row_json(s, c, &s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c]));
        int f = fastest[i];
        if (f >= 0) {
            cJSON_AddStringToObject(e, "fastest", combo_label(s, f));
            for (int c = 0; c < s->n_combos; c++)
                if (s->rows[(size_t)i * (size_t)s->n_combos + (size_t)c].most_accurate)
                    cJSON_AddStringToObject(e, "most_accurate", combo_label(s, c));
            cJSON_AddBoolToObject(e, "fastest_out_of_tolerance",
                                  out_of_tolerance(&s->rows[(size_t)i * (size_t)s->n_combos + (size_t)f]));
        }
        cJSON_AddItemToArray(nodes, e);
    }
    cJSON_AddItemToObject(j, "environment", dk_environment_json(&s->base));
    cJSON_AddItemToObject(j, "topology", dk_topology_json());
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        dk_cli_error("sweep: out of memory");
        return DK_EXIT_FAILURE;
    }
    dk_status st = dk_file_write_text(s->o.output, text);
    cJSON_free(text);
    if (st != DK_OK) return dk_cli_fail(st);
    return -1;
}

static void cleanup(sweep_state *s)
{
    for (int i = 0; i < s->n_nodes; i++) {
        for (int j = 0; j < MAX_IN; j++) dk_tensor_reset(&s->nodes[i].in[j]);
        dk_tensor_reset(&s->nodes[i].ref);
    }
    free(s->rows);
    dk_graph_destroy(s->g);
}

int dk_cmd_sweep(int argc, char **argv)
{
    static sweep_state s;
    memset(&s, 0, sizeof s);
    int rc = parse(argc, argv, &s.o);
    if (rc >= 0) return rc;
    if ((rc = parse_base(&s)) >= 0) return rc;
    if ((rc = build_combos(&s)) >= 0) return rc;
    dk_status st = dk_onnx_load(s.o.model, &s.g);
    if (st != DK_OK) return dk_cli_fail(st);
    st = dk_graph_optimize(s.g, s.opt, dk_variant_get(&s.base, "disable"));
    if (st != DK_OK) rc = dk_cli_fail(st);
    if (rc < 0) rc = select_nodes(&s);
    if (rc < 0) {
        fprintf(stderr, "sweep: seed %llu; reference run\n", (unsigned long long)s.o.seed);
        rc = reference_run(&s);
    }
    if (rc < 0) rc = run_combos(&s);
    if (rc < 0) {
        int *fastest = calloc(s.n_nodes > 0 ? (size_t)s.n_nodes : 1, sizeof *fastest);
        int any = 0;
        for (int i = 0; fastest && i < s.n_nodes; i++) any |= (fastest[i] = mark(&s, i)) >= 0;
        if (!fastest) {
            dk_cli_error("sweep: out of memory");
            rc = DK_EXIT_FAILURE;
        } else {
            print_table(&s, fastest);
            if (s.o.output) rc = write_json(&s, fastest);
            if (rc < 0 && !any) {
                dk_cli_error("sweep: no combination ran on any node (see the errors above)");
                rc = DK_EXIT_FAILURE;
            }
        }
        free(fastest);
    }
    cleanup(&s);
    return rc < 0 ? DK_EXIT_OK : rc;
}
