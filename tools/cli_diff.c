/* deltakern diff: the command line over dk_diff_run (drivers/diff/): a
 * model on an image set, a baseline against variants, every node compared
 * propagated and isolated, label flips localised; the dataset summary
 * written to OUTDIR. Ctrl-C finishes the current input and writes a partial
 * result that --resume continues. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/diff.h"
#include "deltakern/input.h"
#include "deltakern/variant.h"
#include "tools/cli.h"
#include "tools/cli_mpi.h"
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"

#define MAX_INPUTS 65536
#define MAX_PATTERNS 64
#define EXIT_INTERRUPTED 130

typedef struct diff_opts {
    const char *model, *out, *save, *against, *baseline, *matrix, *labels, *report;
    const char *patterns[MAX_PATTERNS];
    int n_patterns;
    const char *rank_variants[MAX_PATTERNS]; /* RANKS=VARIANT, under mpirun */
    int n_rank_variants;
    char **inputs;
    int n_inputs;
    int force, resume, quiet;
    int shard_index, shard_count;
    dk_diff_config cfg;
    dk_cli_shapes shapes;
} diff_opts;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C stops at once */
}

/* -i DIR|FILE: a file, or a directory's files in name order. */
static int parse_input(const dk_cli_opt *opt, const char *path)
{
    diff_opts *o = opt->dest;
    dk_status st = dk_input_list_add(path, &o->inputs, &o->n_inputs, MAX_INPUTS);
    if (st != DK_OK) {
        dk_cli_error("diff: %s", dk_last_error());
        return dk_status_is_user_error(st) ? DK_EXIT_USAGE : DK_EXIT_FAILURE;
    }
    return DK_EXIT_OK;
}

/* --shard K/N: 0 <= K < N <= 1000000. */
static int parse_shard(const dk_cli_opt *opt, const char *s)
{
    diff_opts *o = opt->dest;
    char *end;
    long k = strtol(s, &end, 10), n;
    if (end == s || *end != '/' || k < 0) return DK_CLI_BAD;
    const char *ns = end + 1;
    n = strtol(ns, &end, 10);
    if (end == ns || *end || n < 1 || n > 1000000 || k >= n) return DK_CLI_BAD;
    o->shard_index = (int)k;
    o->shard_count = (int)n;
    return DK_EXIT_OK;
}

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, diff_opts *o)
{
    o->cfg.counterfactual = 1;
    o->shapes.cmd = "diff";
    const dk_cli_opt opts[] = {
        {"input", 'i', DK_CLI_CUSTOM, o, "DIR|FILE", .parse = parse_input, .flags = DK_CLI_REQUIRED | DK_CLI_REPEATS,
         .help = "images (.png .jpg .jpeg) or tensors (.npy .pb); a\n"
                 "directory gives its files in name order; repeatable"},
        {"baseline", 0, DK_CLI_STRING, &o->baseline, "VARIANT", .help = "the baseline (default ref)"},
        {"variant", 'v', DK_CLI_LIST, o->patterns, "VARIANT", .count = &o->n_patterns, .max = MAX_PATTERNS,
         .flags = DK_CLI_USAGE, .help = "a variant to compare (a/b values expand); repeatable"},
        {"variants", 0, DK_CLI_STRING, &o->matrix, "FILE", .help = "variants from a matrix file, one pattern per line"},
        {"rank-variant", 0, DK_CLI_LIST, o->rank_variants, "RANKS=VARIANT", .count = &o->n_rank_variants,
         .max = MAX_PATTERNS,
         .help = "under mpirun, instead of -v: these ranks (K, K-L or a\n"
                 "list) run this variant; ranks running the same variants\n"
                 "share the inputs; one result of every variant; repeatable"},
        {"labels", 0, DK_CLI_STRING, &o->labels, "FILE",
         .help = "each input's true class, one line per input in input\n"
                 "order: LABEL or NAME LABEL ('#' comments); accuracy\n"
                 "per variant beside the label differences"},
        {"out", 'o', DK_CLI_STRING, &o->out, "OUTDIR", .flags = DK_CLI_REQUIRED,
         .missing = "no output directory (use -o OUTDIR)", .help = "where the results go"},
        {"force", 0, DK_CLI_FLAG, &o->force, .help = "overwrite the results in OUTDIR (and a --save bundle)"},
        {"resume", 0, DK_CLI_FLAG, &o->resume, .help = "continue an interrupted run in OUTDIR"},
        {"save", 0, DK_CLI_STRING, &o->save, "DIR",
         .help = "also write the baseline's node outputs as a bundle\n"
                 "(.npy files and manifest.json) for --against elsewhere"},
        {"against", 0, DK_CLI_STRING, &o->against, "DIR",
         .help = "use a bundle as the baseline (without -i: its inputs)"},
        {"no-counterfactual", 0, DK_CLI_FLAG, &o->cfg.counterfactual, .flags = DK_CLI_CLEAR,
         .help = "skip the mixed runs that localise label flips"},
        {"max-runs", 0, DK_CLI_INT, &o->cfg.max_mixed_runs, "N", .min = 2, .max = 100000,
         .help = "mixed runs per flip at most (default 64)"},
        {"report", 0, DK_CLI_STRING, &o->report, "FILE",
         .help = "also write the result as one HTML page (deltakern report)"},
        {"shard", 0, DK_CLI_CUSTOM, o, "K/N", .parse = parse_shard, .expect = "K/N with 0 <= K < N",
         .help = "only the inputs whose index is K modulo N (K = 0..N-1);\n"
                 "deltakern merge joins the N shard results into one"},
        {"quiet", 'q', DK_CLI_FLAG, &o->quiet, .help = "no progress line"},
        DK_CLI_INPUT_SHAPE(&o->shapes),
        {0}};
    const dk_cli_spec spec = {
        .cmd = "diff", .opts = opts, .args = "MODEL.onnx", .arg_name = "MODEL", .min_args = 1, .max_args = 1,
        .argv_out = &o->model, .extra_hint = "inputs go after -i",
        .about = "Runs the baseline once per input and every variant propagated (on its own\n"
                 "outputs) and isolated (each node on the baseline's inputs); compares every\n"
                 "node output (max abs, relative L2, cosine, ratio to the tolerance bound) and\n"
                 "the labels (top-1, top-5 overlap, Kendall's tau, the baseline's margin);\n"
                 "names the first faulty kernel, the amplifying nodes and, for every label\n"
                 "flip, a minimal set of nodes that reproduces it in mixed runs. Writes\n"
                 "summary.json, summary.csv, layers.csv, flips.csv and environment.json into\n"
                 "OUTDIR (schema in docs/diff.md) and prints the dataset table; --report adds\n"
                 "the HTML page of deltakern report.",
        .epilog = "Ctrl-C finishes the current input, writes a partial result (complete: false)\n"
                  "and exits with 130; --resume continues it to the same final result."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (o->n_inputs == 0 && !o->against) {
        dk_cli_error("diff: no input given (use -i DIR or -i IMAGE)");
        return DK_EXIT_USAGE;
    }
    if (o->n_rank_variants && (o->n_patterns || o->matrix)) {
        dk_cli_error("diff: --rank-variant gives every rank its variants; -v and --variants cannot be given with it");
        return DK_EXIT_USAGE;
    }
    if (o->n_rank_variants && dk_cli_mpi_world_size() < 2) {
        dk_cli_error("diff: --rank-variant is for ranks started by mpirun or srun (%s); without them use -v",
                     o->rank_variants[0]);
        return DK_EXIT_USAGE;
    }
    if (o->n_patterns == 0 && !o->matrix && !o->n_rank_variants) {
        dk_cli_error("diff: no variant to compare (use -v VARIANT, e.g. -v onednn)");
        return DK_EXIT_USAGE;
    }
    if (o->against && o->baseline) {
        dk_cli_error("diff: --against DIR is the baseline; --baseline cannot be given with it");
        return DK_EXIT_USAGE;
    }
    return dk_cli_report_check("diff", o->report, o->force) == DK_EXIT_OK ? -1 : DK_EXIT_USAGE;
}

static int collect_variants(diff_opts *o)
{
    dk_diff_config *c = &o->cfg;
    dk_status st = dk_variant_parse(o->baseline ? o->baseline : "ref", &c->baseline);
    if (st != DK_OK) return dk_cli_fail(st);
    c->n_variants = 0;
    for (int i = 0; i < o->n_patterns; i++) {
        int got;
        st = dk_variant_expand(o->patterns[i], c->variants + c->n_variants, DK_DIFF_MAX_VARIANTS - c->n_variants, &got);
        if (st != DK_OK) return dk_cli_fail(st);
        c->n_variants += got;
    }
    if (o->matrix) {
        int got;
        st = dk_variant_read_matrix(o->matrix, c->variants + c->n_variants, DK_DIFF_MAX_VARIANTS - c->n_variants, &got);
        if (st != DK_OK) return dk_cli_fail(st);
        c->n_variants += got;
    }
    return DK_EXIT_OK;
}

static int run_diff(diff_opts *o, int argc, char **argv)
{
    char *command = dk_cli_command_line(argc, argv);
    dk_diff_run_options ro = {.cfg = o->cfg, .out = o->out, .inputs = (const char *const *)o->inputs,
                              .n_inputs = o->n_inputs, .labels = o->labels, .force = o->force, .resume = o->resume,
                              .progress = !o->quiet, .stop = &interrupted, .command = command,
                              .shard_index = o->shard_index, .shard_count = o->shard_count};
    ro.cfg.model = o->model;
    ro.cfg.against = o->against;
    ro.cfg.save = o->save;
    ro.cfg.load = dk_cli_load_options(&o->shapes, o->n_inputs ? o->inputs[0] : NULL);
    if (dk_cli_mpi_world_size() > 1) { /* mpirun: one shard per rank, merged by rank 0 */
        signal(SIGINT, on_sigint);
        int rc = dk_cli_diff_mpi(&ro, o->rank_variants, o->n_rank_variants, o->report, argc, argv);
        signal(SIGINT, SIG_DFL);
        free(command);
        return rc;
    }
    dk_diff_run_result r;
    signal(SIGINT, on_sigint);
    dk_status st = dk_diff_run(&ro, &r);
    signal(SIGINT, SIG_DFL);
    free(command);
    if (st != DK_OK) return dk_cli_fail(st);
    if (r.table) fputs(r.table, stdout);
    free(r.table);
    if (!r.complete) {
        fprintf(stderr, "deltakern: interrupted after %d of %d inputs; partial results in %s (continue with --resume)\n",
                r.images, r.total, o->out);
        return EXIT_INTERRUPTED;
    }
    return o->report ? dk_cli_report_after(o->out, o->report, argc, argv) : DK_EXIT_OK;
}

typedef struct parse_call {
    int argc;
    char **argv;
    diff_opts *o;
} parse_call;

static int parse_called(void *arg)
{
    parse_call *p = arg;
    int rc = parse(p->argc, p->argv, p->o);
    return rc < 0 ? collect_variants(p->o) : rc;
}

int dk_cmd_diff(int argc, char **argv)
{
    static diff_opts o;
    memset(&o, 0, sizeof o);
    interrupted = 0;
    /* under mpirun every rank checks the same line, rank 0 alone says what is wrong */
    int rc = dk_cli_mpi_rank_0_says(parse_called, &(parse_call){argc, argv, &o});
    if (rc > 0 && dk_cli_mpi_world_size() > 1) rc = dk_cli_mpi_usage_exit(rc);
    if (rc == DK_EXIT_OK && o.model) rc = run_diff(&o, argc, argv);
    dk_input_list_free(o.inputs, o.n_inputs);
    return rc;
}
