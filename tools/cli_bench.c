/* deltakern bench: per-node and end-to-end timings of one or more variants,
 * interleaved round by round, into a JSON result (and a Chrome trace). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deltakern/bench.h"
#include "deltakern/variant.h"
#include "tools/cli.h"
#include "tools/cli_bench.h"
#include "tools/cli_mpi.h"
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, dk_cli_bench *c)
{
    dk_bench_options *o = &c->o;
    o->reps = 10;
    o->warmup = 2;
    o->sessions = 3;
    o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16); /* printed; --seed repeats it */
    dk_preprocess_default(&o->pre);
    c->shapes.cmd = "bench";
    const dk_cli_opt opts[] = {
        {"variant", 'v', DK_CLI_LIST, c->patterns, "VARIANT", .count = &c->n_patterns, .max = DK_CLI_BENCH_MAX_PATTERNS,
         .flags = DK_CLI_REQUIRED, .missing = "no variant given (use -v VARIANT, e.g. -v onednn)",
         .help = "backend and options (as for run: onednn:fpmath=bf16);\n"
                 "a/b values expand; repeatable (-b is the same)"},
        {"backend", 'b', .kind = DK_CLI_ALIAS},
        {"output", 'o', DK_CLI_STRING, &c->out, "RUN.json", .flags = DK_CLI_REQUIRED,
         .missing = "no output file given (use -o RUN.json)", .help = "the result JSON (required; see docs/bench.md)"},
        {"input", 'i', DK_CLI_STRING, &o->input, "FILE",
         .help = "image, .npy or .pb input (default: random, seeded)"},
        {"seed", 0, DK_CLI_U64, &o->seed, "N", .help = "seed of the random input (default: from the clock, printed)"},
        {"reps", 'n', DK_CLI_INT, &o->reps, "N", .min = 1, .max = 100000,
         .help = "repetitions per variant (default 10)"},
        {"min-time", 0, DK_CLI_DOUBLE, &o->min_time, "S", .lo = 0, .hi = 1e6, .flags = DK_CLI_OPEN_LO,
         .expect = "seconds, a positive number", .help = "repeat until each variant ran S seconds (at least --reps)"},
        {"warmup", 0, DK_CLI_INT, &o->warmup, "N", .min = 0, .max = 100000,
         .help = "unrecorded repetitions of every session first (default 2)"},
        {"sessions", 0, DK_CLI_INT, &o->sessions, "K", .min = 1, .max = 64,
         .help = "sessions per variant, taken in turn, each with its own\n"
                 "memory: repetitions then sample memory placements as\n"
                 "separate runs would (default 3; 1 saves memory)"},
        {"cold", 0, DK_CLI_FLAG, &o->cold, .help = "flush the caches before every repetition"},
        {"counters", 0, DK_CLI_STRING, &o->counters, "LIST", .flags = DK_CLI_NONEMPTY,
         .expect = "event names, comma-separated",
         .help = "counters read around every node: PAPI presets or native\n"
                 "names, comma-separated, or 'default'"},
        {"bind", 0, DK_CLI_CHOICE_STR, &o->bind, .choices = "core|none",
         .help = "bind the worker threads to cores (default none)"},
        {"trace", 0, DK_CLI_STRING, &c->trace, "FILE",
         .help = "Chrome trace-event JSON, one slice per node (Perfetto)"},
        {"measure-roofline", 0, DK_CLI_FLAG, &o->measure_roofline,
         .help = "measure peak FLOP/s and bandwidth if none are cached"},
        {"overhead", 0, DK_CLI_FLAG, &o->overhead, .help = "also time uninstrumented whole runs (interleaved)"},
        {"report", 0, DK_CLI_STRING, &c->report, "FILE",
         .help = "also write the result as one HTML page (deltakern report)"},
        {"force", 0, DK_CLI_FLAG, &c->force, .help = "overwrite existing output files"},
        DK_CLI_INPUT_SHAPE(&c->shapes),
        {0}};
    const dk_cli_spec spec = {
        .cmd = "bench", .opts = opts, .args = "MODEL.onnx", .arg_name = "MODEL", .min_args = 1, .max_args = 1,
        .argv_out = &o->model,
        .about = "Times every node and the whole network on each variant after a warm-up,\n"
                 "repeatedly, the variants interleaved round by round, and writes medians,\n"
                 "p10/p90, CV, 95% confidence intervals of the medians, GFLOP/s, GB/s,\n"
                 "roofline attainment, counters, topology and environment as JSON.\n"
                 "Plan creation and host copies stay outside the timed regions.\n"
                 "Under mpirun every rank benchmarks on its own host (ranks sharing a host\n"
                 "take turns, so that they do not disturb each other) and rank 0 writes one\n"
                 "RUN.json: its own result plus \"nodes\", every rank's whole result with its\n"
                 "host; deltakern compare RUN.json#0 RUN.json#1 contrasts two of them.\n"
                 "--trace is rank 0's own; --report shows the file with every rank."};
    return dk_cli_parse(&spec, argc, argv);
}

typedef struct parse_call {
    int argc;
    char **argv;
    dk_cli_bench *c;
} parse_call;

static int parse_called(void *arg)
{
    parse_call *p = arg;
    return parse(p->argc, p->argv, p->c);
}

/* Refuses to start a long run whose result could not be written. */
static int check_output(const char *path, int force)
{
    struct stat st;
    if (path && !force && stat(path, &st) == 0) {
        dk_cli_error("bench: %s exists (use --force to overwrite)", path);
        return DK_EXIT_USAGE;
    }
    return DK_EXIT_OK;
}

int dk_cli_bench_check_outputs(const dk_cli_bench *c)
{
    int rc;
    if ((rc = check_output(c->out, c->force)) != DK_EXIT_OK || (rc = check_output(c->trace, c->force)) != DK_EXIT_OK ||
        (rc = dk_cli_report_check("bench", c->report, c->force)) != DK_EXIT_OK)
        return rc;
    if (c->trace && !strcmp(c->trace, c->out)) {
        dk_cli_error("bench: --trace and -o name the same file %s", c->out);
        return DK_EXIT_USAGE;
    }
    return DK_EXIT_OK;
}

dk_status dk_cli_bench_prepare(dk_cli_bench *c)
{
    int n = 0;
    for (int i = 0; i < c->n_patterns; i++) {
        int got;
        dk_status st = dk_variant_expand(c->patterns[i], c->variants + n, DK_CLI_BENCH_MAX_VARIANTS - n, &got);
        if (st != DK_OK) return st;
        n += got;
    }
    c->o.variants = c->variants;
    c->o.n_variants = n;
    c->o.load = dk_cli_load_options(&c->shapes, c->o.input);
    return DK_OK;
}

void dk_cli_bench_print(FILE *f, const dk_bench *b, const char *model)
{
    if (dk_bench_counters_note(b)[0]) fprintf(f, "note: %s\n", dk_bench_counters_note(b));
    if (dk_bench_roofline_note(b)[0]) fprintf(f, "note: %s\n", dk_bench_roofline_note(b));
    fprintf(f, "%s: %d variant%s, interleaved\n", model, dk_bench_variant_count(b),
            dk_bench_variant_count(b) > 1 ? "s" : "");
    for (int i = 0; i < dk_bench_variant_count(b); i++) {
        dk_bench_summary s;
        if (dk_bench_summary_get(b, i, &s) != DK_OK) continue;
        fprintf(f, "  %-32s %5d reps  end to end %9.3f ms  95%% CI [%.3f, %.3f]  CV %5.1f%%  node medians %9.3f ms",
                s.variant, s.reps, s.median * 1e3, s.ci_lo * 1e3, s.ci_hi * 1e3, s.cv * 100, s.node_sum * 1e3);
        if (s.plain_median > 0)
            fprintf(f, "  uninstrumented %9.3f ms (overhead %+.2f%%)", s.plain_median * 1e3,
                    (s.node_sum / s.plain_median - 1) * 100);
        fprintf(f, "\n");
    }
    if (dk_bench_host_note(b)[0]) fprintf(f, "%s\n", dk_bench_host_note(b));
}

int dk_cmd_bench(int argc, char **argv)
{
    static dk_cli_bench c;
    memset(&c, 0, sizeof c);
    /* under mpirun every rank parses the same line, rank 0 alone says what is wrong */
    int rc = dk_cli_mpi_rank_0_says(parse_called, &(parse_call){argc, argv, &c});
    if (rc > 0 && dk_cli_mpi_world_size() > 1) return dk_cli_mpi_usage_exit(rc);
    if (rc >= 0) return rc;
    /* started by mpirun: every rank benchmarks, rank 0 writes them all */
    if (dk_cli_mpi_world_size() > 1) return dk_cli_bench_mpi(&c, argc, argv);
    if ((rc = dk_cli_bench_check_outputs(&c)) != DK_EXIT_OK) return rc;
    dk_status st = dk_cli_bench_prepare(&c);
    if (st != DK_OK) return dk_cli_fail(st);
    if (!c.o.input) {
        printf("input: random, uniform in [-1, 1), seed %llu (--seed %llu repeats it)\n",
               (unsigned long long)c.o.seed, (unsigned long long)c.o.seed);
    }
    fflush(stdout);
    dk_bench *b;
    st = dk_bench_run(&c.o, &b);
    if (st != DK_OK) return dk_cli_fail(st);
    dk_cli_bench_print(stdout, b, c.o.model);
    st = dk_bench_write_json(b, c.out, c.force);
    if (st == DK_OK) printf("wrote %s\n", c.out);
    if (st == DK_OK && c.trace && (st = dk_bench_write_trace(b, c.trace, c.force)) == DK_OK)
        printf("wrote %s (open in https://ui.perfetto.dev)\n", c.trace);
    dk_bench_destroy(b);
    if (st != DK_OK) return dk_cli_fail(st);
    return c.report ? dk_cli_report_after(c.out, c.report, argc, argv) : DK_EXIT_OK;
}
