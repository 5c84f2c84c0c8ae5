/* deltakern sweep: the command line over dk_sweep_run (drivers/sweep/). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deltakern/sweep.h"
#include "tools/cli.h"

#define MAX_NAMED 64

typedef struct sweep_opts {
    const char *model;
    const char *backend;
    const char *output;
    const char *named[MAX_NAMED];
    int n_named;
    int reps, warmup, force;
    uint64_t seed;
} sweep_opts;

static void help(void)
{
    printf(
        "usage: deltakern sweep MODEL.onnx -b BACKEND [options]\n"
        "\n"
        "For every convolution of the model (after the variant's graph optimisation,\n"
        "opt=1 unless given, so BatchNorm is folded in), runs every implementation the\n"
        "backend offers: oneDNN algo x layout x fpmath, OpenBLAS conv lowering, cuDNN\n"
        "algo x layout x math. Options fixed in BACKEND (onednn:fpmath=strict) are not swept.\n"
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

int dk_cmd_sweep(int argc, char **argv)
{
    sweep_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    dk_sweep_config cfg = {.model = o.model, .backend = o.backend, .nodes = o.named, .n_nodes = o.n_named,
                           .reps = o.reps, .warmup = o.warmup, .seed = o.seed};
    dk_sweep *s = NULL;
    dk_status st = dk_sweep_run(&cfg, &s);
    if (st != DK_OK) return dk_cli_fail(st);
    dk_sweep_print(s, stdout);
    if (o.output && (st = dk_sweep_write_json(s, o.output)) != DK_OK) rc = dk_cli_fail(st);
    if (rc < 0 && !dk_sweep_any_ran(s)) {
        dk_cli_error("sweep: no combination ran on any node (see the errors above)");
        rc = DK_EXIT_FAILURE;
    }
    dk_sweep_destroy(s);
    return rc < 0 ? DK_EXIT_OK : rc;
}
