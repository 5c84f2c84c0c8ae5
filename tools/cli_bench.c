/* deltakern bench: per-node and end-to-end timings of one or more variants,
 * interleaved round by round, into a JSON result (and a Chrome trace). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deltakern/bench.h"
#include "deltakern/variant.h"
#include "tools/cli.h"

#define MAX_PATTERNS 64
#define MAX_VARIANTS 64

typedef struct bench_cli {
    const char *patterns[MAX_PATTERNS];
    int n_patterns;
    const char *out, *trace;
    int force, seed_given;
    dk_bench_options o;
} bench_cli;

static void help(void)
{
    printf(
        "usage: deltakern bench MODEL.onnx -v VARIANT [-v VARIANT]... -o RUN.json [options]\n"
        "\n"
        "Times every node and the whole network on each variant after a warm-up,\n"
        "repeatedly, the variants interleaved round by round, and writes medians,\n"
        "p10/p90, CV, 95%% confidence intervals of the medians, GFLOP/s, GB/s,\n"
        "roofline attainment, counters, topology and environment as JSON.\n"
        "Plan creation and host copies stay outside the timed regions.\n"
        "\n"
        "options:\n"
        "  -v, --variant VARIANT  backend and options (as for run: onednn:fpmath=bf16);\n"
        "                         a/b values expand; repeatable (-b is the same)\n"
        "  -o, --output FILE      the result JSON (required; see docs/bench.md)\n"
        "  -i, --input FILE       image, .npy or .pb input (default: random, seeded)\n"
        "      --seed N           seed of the random input (default: from the clock, printed)\n"
        "  -n, --reps N           repetitions per variant (default 10)\n"
        "      --min-time S       repeat until each variant ran S seconds (at least --reps)\n"
        "      --warmup N         unrecorded repetitions of every session first (default 2)\n"
        "      --sessions K       sessions per variant, taken in turn, each with its own\n"
        "                         memory: repetitions then sample memory placements as\n"
        "                         separate runs would (default 3; 1 saves memory)\n"
        "      --cold             flush the caches before every repetition\n"
        "      --counters LIST    counters read around every node: PAPI presets or native\n"
        "                         names, comma-separated, or 'default'\n"
        "      --bind core|none   bind the worker threads to cores (default none)\n"
        "      --trace FILE       Chrome trace-event JSON, one slice per node (Perfetto)\n"
        "      --measure-roofline measure peak FLOP/s and bandwidth if none are cached\n"
        "      --overhead         also time uninstrumented whole runs (interleaved)\n"
        "      --force            overwrite existing output files\n");
}

static int bad_value(const char *opt, const char *val, const char *want)
{
    dk_cli_error("bench: %s '%s': expected %s", opt, val, want);
    return DK_EXIT_USAGE;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

enum { OPT_SEED = 256, OPT_MIN_TIME, OPT_WARMUP, OPT_COLD, OPT_COUNTERS, OPT_BIND, OPT_TRACE, OPT_FORCE,
       OPT_ROOFLINE, OPT_OVERHEAD, OPT_SESSIONS };

static int parse(int argc, char **argv, bench_cli *c)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},           {"variant", required_argument, NULL, 'v'},
        {"backend", required_argument, NULL, 'b'},  {"output", required_argument, NULL, 'o'},
        {"input", required_argument, NULL, 'i'},    {"reps", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, OPT_SEED}, {"min-time", required_argument, NULL, OPT_MIN_TIME},
        {"warmup", required_argument, NULL, OPT_WARMUP}, {"cold", no_argument, NULL, OPT_COLD},
        {"counters", required_argument, NULL, OPT_COUNTERS}, {"bind", required_argument, NULL, OPT_BIND},
        {"trace", required_argument, NULL, OPT_TRACE}, {"force", no_argument, NULL, OPT_FORCE},
        {"measure-roofline", no_argument, NULL, OPT_ROOFLINE},
        {"overhead", no_argument, NULL, OPT_OVERHEAD},
        {"sessions", required_argument, NULL, OPT_SESSIONS},
        {0, 0, 0, 0}};
    dk_bench_options *o = &c->o;
    o->reps = 10;
    o->warmup = 2;
    o->sessions = 3;
    dk_preprocess_default(&o->pre);
    opterr = 0;
    optind = 1;
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "hv:b:o:i:n:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': help(); return DK_EXIT_OK;
        case 'v':
        case 'b':
            if (c->n_patterns == MAX_PATTERNS) return bad_value("--variant", optarg, "at most 64 -v options");
            c->patterns[c->n_patterns++] = optarg;
            break;
        case 'o': c->out = optarg; break;
        case 'i': o->input = optarg; break;
        case 'n': if (!parse_int(optarg, 1, 100000, &o->reps)) return bad_value("--reps", optarg, "1 to 100000"); break;
        case OPT_SEED:
            o->seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-') return bad_value("--seed", optarg, "a non-negative integer");
            c->seed_given = 1;
            break;
        case OPT_MIN_TIME:
            o->min_time = strtod(optarg, &end);
            if (end == optarg || *end || !(o->min_time > 0) || o->min_time > 1e6)
                return bad_value("--min-time", optarg, "seconds, a positive number");
            break;
        case OPT_WARMUP: if (!parse_int(optarg, 0, 100000, &o->warmup)) return bad_value("--warmup", optarg, "0 to 100000"); break;
        case OPT_COLD: o->cold = 1; break;
        case OPT_SESSIONS: if (!parse_int(optarg, 1, 64, &o->sessions)) return bad_value("--sessions", optarg, "1 to 64"); break;
        case OPT_COUNTERS:
            if (!optarg[0]) return bad_value("--counters", optarg, "event names, comma-separated");
            o->counters = optarg;
            break;
        case OPT_BIND:
            if (strcmp(optarg, "core") && strcmp(optarg, "none")) return bad_value("--bind", optarg, "core or none");
            o->bind = optarg;
            break;
        case OPT_TRACE: c->trace = optarg; break;
        case OPT_FORCE: c->force = 1; break;
        case OPT_ROOFLINE: o->measure_roofline = 1; break;
        case OPT_OVERHEAD: o->overhead = 1; break;
        default: return dk_cli_bad_option("bench", argc, argv);
        }
    }
    if (optind != argc - 1) {
        dk_cli_error(optind >= argc ? "bench: missing MODEL argument (see deltakern bench --help)"
                                    : "bench: unexpected argument '%s'", argv[argc - 1]);
        return DK_EXIT_USAGE;
    }
    o->model = argv[optind];
    if (c->n_patterns == 0) {
        dk_cli_error("bench: no variant given (use -v VARIANT, e.g. -v onednn)");
        return DK_EXIT_USAGE;
    }
    if (!c->out) {
        dk_cli_error("bench: no output file given (use -o RUN.json)");
        return DK_EXIT_USAGE;
    }
    return -1;
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

static void print_summary(const dk_bench *b, const char *model)
{
    printf("%s: %d variant%s, interleaved\n", model, dk_bench_variant_count(b), dk_bench_variant_count(b) > 1 ? "s" : "");
    for (int i = 0; i < dk_bench_variant_count(b); i++) {
        dk_bench_summary s;
        if (dk_bench_summary_get(b, i, &s) != DK_OK) continue;
        printf("  %-32s %5d reps  end to end %9.3f ms  95%% CI [%.3f, %.3f]  CV %5.1f%%  node medians %9.3f ms",
               s.variant, s.reps, s.median * 1e3, s.ci_lo * 1e3, s.ci_hi * 1e3, s.cv * 100, s.node_sum * 1e3);
        if (s.plain_median > 0)
            printf("  uninstrumented %9.3f ms (overhead %+.2f%%)", s.plain_median * 1e3,
                   (s.node_sum / s.plain_median - 1) * 100);
        printf("\n");
    }
}

int dk_cmd_bench(int argc, char **argv)
{
    static bench_cli c;
    static dk_variant variants[MAX_VARIANTS];
    memset(&c, 0, sizeof c);
    int rc = parse(argc, argv, &c);
    if (rc >= 0) return rc;
    if ((rc = check_output(c.out, c.force)) != DK_EXIT_OK || (rc = check_output(c.trace, c.force)) != DK_EXIT_OK)
        return rc;
    if (c.trace && !strcmp(c.trace, c.out)) {
        dk_cli_error("bench: --trace and -o name the same file %s", c.out);
        return DK_EXIT_USAGE;
    }
    int n = 0;
    for (int i = 0; i < c.n_patterns; i++) {
        int got;
        dk_status st = dk_variant_expand(c.patterns[i], variants + n, MAX_VARIANTS - n, &got);
        if (st != DK_OK) return dk_cli_fail(st);
        n += got;
    }
    c.o.variants = variants;
    c.o.n_variants = n;
    if (!c.o.input) {
        if (!c.seed_given) c.o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
        printf("input: random, uniform in [-1, 1), seed %llu (--seed %llu repeats it)\n",
               (unsigned long long)c.o.seed, (unsigned long long)c.o.seed);
    }
    fflush(stdout);
    dk_bench *b;
    dk_status st = dk_bench_run(&c.o, &b);
    if (st != DK_OK) return dk_cli_fail(st);
    if (dk_bench_counters_note(b)[0]) printf("note: %s\n", dk_bench_counters_note(b));
    if (dk_bench_roofline_note(b)[0]) printf("note: %s\n", dk_bench_roofline_note(b));
    print_summary(b, c.o.model);
    st = dk_bench_write_json(b, c.out, c.force);
    if (st == DK_OK) printf("wrote %s\n", c.out);
    if (st == DK_OK && c.trace && (st = dk_bench_write_trace(b, c.trace, c.force)) == DK_OK)
        printf("wrote %s (open in https://ui.perfetto.dev)\n", c.trace);
    dk_bench_destroy(b);
    return st == DK_OK ? DK_EXIT_OK : dk_cli_fail(st);
}
