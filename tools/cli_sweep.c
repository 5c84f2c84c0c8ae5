/* deltakern sweep: the command line over dk_sweep_run (drivers/sweep/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deltakern/sweep.h"
#include "tools/cli.h"
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"

#define MAX_NAMED 64

typedef struct sweep_opts {
    const char *model;
    const char *backend;
    const char *output;
    const char *named[MAX_NAMED];
    int n_named;
    int reps, warmup, force;
    uint64_t seed;
    dk_cli_shapes shapes;
} sweep_opts;

/* -b, once: one backend per sweep. */
static int parse_backend(const dk_cli_opt *opt, const char *arg)
{
    const char **backend = opt->dest;
    if (*backend) {
        dk_cli_error("sweep: -b given twice ('%s' and '%s'): one backend per sweep", *backend, arg);
        return DK_EXIT_USAGE;
    }
    *backend = arg;
    return DK_EXIT_OK;
}

/* Returns -1 to go on, or an exit code. */
static int parse(int argc, char **argv, sweep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reps = 20;
    o->warmup = 3;
    o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    o->shapes.cmd = "sweep";
    const dk_cli_opt opts[] = {
        {"backend", 'b', DK_CLI_CUSTOM, &o->backend, "BACKEND", .parse = parse_backend, .flags = DK_CLI_REQUIRED,
         .missing = "no backend given (-b BACKEND, e.g. -b onednn; see deltakern backends)",
         .help = "backend, possibly with fixed options (required)"},
        {"node", 0, DK_CLI_LIST, o->named, "NAME", .count = &o->n_named, .max = MAX_NAMED,
         .help = "only this node (its name or an ONNX node it covers);\n"
                 "repeatable"},
        {"reps", 0, DK_CLI_INT, &o->reps, "N", .min = 1, .max = 100000,
         .help = "timed runs per combination and node (default 20)"},
        {"warmup", 0, DK_CLI_INT, &o->warmup, "N", .min = 0, .max = 100000,
         .help = "untimed runs before them (default 3)"},
        {"seed", 0, DK_CLI_U64, &o->seed, "N", .help = "seed of the random input (default: from the clock)"},
        {"output", 'o', DK_CLI_STRING, &o->output, "FILE", .help = "write the results as JSON (atomically)"},
        {"force", 0, DK_CLI_FLAG, &o->force, .help = "overwrite an existing --output file"},
        DK_CLI_INPUT_SHAPE(&o->shapes),
        {0}};
    const dk_cli_spec spec = {
        .cmd = "sweep", .opts = opts, .args = "MODEL.onnx", .arg_name = "MODEL", .min_args = 1, .max_args = 1,
        .argv_out = &o->model, .extra_hint = "one model per sweep",
        .about = "For every convolution of the model (after the variant's graph optimisation,\n"
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
                 "for a layer is listed with its error."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (o->output && !o->force && access(o->output, F_OK) == 0) {
        dk_cli_error("sweep: %s exists (use --force to overwrite it)", o->output);
        return DK_EXIT_USAGE;
    }
    return -1;
}

int dk_cmd_sweep(int argc, char **argv)
{
    static sweep_opts o; /* large: the shapes */
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    dk_sweep_config cfg = {.model = o.model, .backend = o.backend, .nodes = o.named, .n_nodes = o.n_named,
                           .reps = o.reps, .warmup = o.warmup, .seed = o.seed,
                           .load = dk_cli_load_options(&o.shapes, NULL)};
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
