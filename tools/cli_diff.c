/* deltakern diff: a model on an image set, a baseline against variants,
 * every node compared propagated and isolated, label flips localised; the
 * dataset summary written to OUTDIR. Interruptible and resumable. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "deltakern/diff.h"
#include "deltakern/file.h"
#include "deltakern/input.h"
#include "deltakern/variant.h"
#include "tools/cli.h"
#include "tools/cli_options.h"

#define MAX_INPUTS 65536
#define MAX_PATTERNS 64
#define STATE_FILE "state.jsonl"
#define STATE_FORMAT "deltakern-diff-state/1"
#define STATE_LINE_MAX (64u << 20)
#define EXIT_INTERRUPTED 130

typedef struct diff_opts {
    const char *model, *out, *save, *against, *baseline, *matrix;
    const char *patterns[MAX_PATTERNS];
    int n_patterns;
    char **inputs;
    int n_inputs;
    int force, resume, quiet;
    double ms_per_input; /* this run's mean time per input */
    dk_diff_config cfg;
} diff_opts;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C stops at once */
}

static int has_ext(const char *name)
{
    static const char *exts[] = {".png", ".jpg", ".jpeg", ".npy", ".pb"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcasecmp(name + n - e, exts[i]) == 0) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_input(diff_opts *o, const char *path)
{
    if (o->n_inputs >= MAX_INPUTS) {
        dk_cli_error("diff: more than %d inputs", MAX_INPUTS);
        return DK_EXIT_USAGE;
    }
    if (!(o->inputs[o->n_inputs++] = strdup(path))) {
        dk_cli_error("diff: out of memory");
        return DK_EXIT_FAILURE;
    }
    return DK_EXIT_OK;
}

/* A directory's images and tensors in name order. */
static int add_dir(diff_opts *o, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        dk_cli_error("diff: %s: cannot open: %s", dir, strerror(errno));
        return DK_EXIT_USAGE;
    }
    int first = o->n_inputs, rc = DK_EXIT_OK;
    struct dirent *e;
    while ((e = readdir(d)) && rc == DK_EXIT_OK) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = add_input(o, path);
    }
    closedir(d);
    if (rc != DK_EXIT_OK) return rc;
    if (o->n_inputs == first) {
        dk_cli_error("diff: %s: no images or tensors in the directory (.png .jpg .jpeg .npy .pb)", dir);
        return DK_EXIT_USAGE;
    }
    qsort(o->inputs + first, (size_t)(o->n_inputs - first), sizeof *o->inputs, cmp_str);
    return DK_EXIT_OK;
}

static int add_path(diff_opts *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        dk_cli_error("diff: %s: %s", path, strerror(errno));
        return DK_EXIT_USAGE;
    }
    return S_ISDIR(st.st_mode) ? add_dir(o, path) : add_input(o, path);
}

/* -i DIR|FILE: a file, or a directory's files in name order. */
static int parse_input(const dk_cli_opt *opt, const char *path) { return add_path(opt->dest, path); }

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, diff_opts *o)
{
    o->cfg.counterfactual = 1;
    const dk_cli_opt opts[] = {
        {"input", 'i', DK_CLI_CUSTOM, o, "DIR|FILE", .parse = parse_input, .flags = DK_CLI_REQUIRED | DK_CLI_REPEATS,
         .help = "images (.png .jpg .jpeg) or tensors (.npy .pb); a\n"
                 "directory gives its files in name order; repeatable"},
        {"baseline", 0, DK_CLI_STRING, &o->baseline, "VARIANT", .help = "the baseline (default ref)"},
        {"variant", 'v', DK_CLI_LIST, o->patterns, "VARIANT", .count = &o->n_patterns, .max = MAX_PATTERNS,
         .flags = DK_CLI_USAGE, .help = "a variant to compare (a/b values expand); repeatable"},
        {"variants", 0, DK_CLI_STRING, &o->matrix, "FILE", .help = "variants from a matrix file, one pattern per line"},
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
        {"quiet", 'q', DK_CLI_FLAG, &o->quiet, .help = "no progress line"},
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
                 "summary.json, summary.csv, layers.csv and flips.csv into OUTDIR (schema in\n"
                 "docs/diff.md) and prints the dataset table.",
        .epilog = "Ctrl-C finishes the current input, writes a partial result (complete: false)\n"
                  "and exits with 130; --resume continues it to the same final result."};
    int rc = dk_cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (o->n_inputs == 0 && !o->against) {
        dk_cli_error("diff: no input given (use -i DIR or -i IMAGE)");
        return DK_EXIT_USAGE;
    }
    if (o->n_patterns == 0 && !o->matrix) {
        dk_cli_error("diff: no variant to compare (use -v VARIANT, e.g. -v onednn)");
        return DK_EXIT_USAGE;
    }
    if (o->against && o->baseline) {
        dk_cli_error("diff: --against DIR is the baseline; --baseline cannot be given with it");
        return DK_EXIT_USAGE;
    }
    if (o->save && o->resume) {
        dk_cli_error("diff: --save cannot continue a bundle; run --resume without --save (or redo the run with --force)");
        return DK_EXIT_USAGE;
    }
    if (o->force && o->resume) {
        dk_cli_error("diff: --force and --resume contradict each other");
        return DK_EXIT_USAGE;
    }
    return -1;
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

/* OUTDIR: created; holding earlier results only with --force (cleared) or
 * --resume (kept). */
static int prepare_out(const diff_opts *o, int act)
{
    static const char *files[] = {STATE_FILE, "summary.json", "summary.csv", "layers.csv", "flips.csv"};
    dk_status made = act ? dk_file_mkdirs(o->out) : DK_OK;
    if (made != DK_OK) {
        dk_cli_error("diff: %s", dk_last_error());
        return DK_EXIT_USAGE;
    }
    int found = 0;
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", o->out, files[i]);
        if (access(path, F_OK) == 0) found = 1;
    }
    if (o->resume) {
        snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
        if (access(path, F_OK) != 0) {
            dk_cli_error("diff: --resume: %s holds no run to continue (no %s)", o->out, STATE_FILE);
            return DK_EXIT_USAGE;
        }
        return DK_EXIT_OK;
    }
    if (found && !o->force) {
        dk_cli_error("diff: %s holds results (use --force to overwrite or --resume to continue)", o->out);
        return DK_EXIT_USAGE;
    }
    for (size_t i = 0; act && found && i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", o->out, files[i]);
        unlink(path);
    }
    if (!act && o->save && !o->force) {
        snprintf(path, sizeof path, "%s/manifest.json", o->save);
        if (access(path, F_OK) == 0) {
            dk_cli_error("diff: --save %s holds a bundle (use --force to overwrite)", o->save);
            return DK_EXIT_USAGE;
        }
    }
    return DK_EXIT_OK;
}

/* The network's input size from its input when it is an image batch. */
static void preprocessing(const dk_tensor *in, dk_preprocess *p)
{
    dk_preprocess_default(p);
    if (in->ndim == 4 && in->dims[1] == 3) {
        p->height = (int)in->dims[2];
        p->width = (int)in->dims[3];
    }
}

/* The state file: a header line (the run's identity and inputs) and one
 * record line per finished input. */
static cJSON *state_header(cJSON *identity, const diff_opts *o)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", STATE_FORMAT);
    cJSON_AddItemToObject(h, "run", cJSON_Duplicate(identity, 1));
    cJSON *in = cJSON_AddArrayToObject(h, "inputs");
    for (int i = 0; i < o->n_inputs; i++) cJSON_AddItemToArray(in, cJSON_CreateString(o->inputs[i]));
    return h;
}

static char *read_line(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) {
            if (cap >= STATE_LINE_MAX) break;
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
        }
        s[n++] = (char)c;
    }
    if (c == EOF && n == 0) {
        free(s);
        return NULL;
    }
    if (c != '\n') { /* a line cut short by a crash: not a record */
        free(s);
        return NULL;
    }
    s[n] = 0;
    return s;
}

/* Replays the records of an interrupted run; *done receives their count. */
static int resume_state(const diff_opts *o, const cJSON *header, dk_diff_summary *sum, int *done, long *good_end)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
    FILE *f = fopen(path, "rb");
    if (!f) {
        dk_cli_error("diff: --resume: %s: %s", path, strerror(errno));
        return DK_EXIT_USAGE;
    }
    char *line = read_line(f);
    cJSON *h = line ? cJSON_Parse(line) : NULL;
    free(line);
    int rc = DK_EXIT_OK;
    if (!h || !cJSON_Compare(h, header, 1)) {
        dk_cli_error("diff: --resume: %s was made by another run (model, baseline, variants, options or inputs differ)", path);
        rc = DK_EXIT_USAGE;
    }
    cJSON_Delete(h);
    *done = 0;
    *good_end = ftell(f);
    while (rc == DK_EXIT_OK && (line = read_line(f))) {
        cJSON *rec = cJSON_Parse(line);
        free(line);
        if (!rec || *done >= o->n_inputs) {
            cJSON_Delete(rec);
            break;
        }
        dk_status st = dk_diff_summary_add(sum, rec);
        cJSON_Delete(rec);
        if (st != DK_OK) {
            rc = dk_cli_fail(st);
            break;
        }
        (*done)++;
        *good_end = ftell(f);
    }
    fclose(f);
    return rc;
}

static int start_state(const diff_opts *o, const cJSON *header)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
    char *text = cJSON_PrintUnformatted(header);
    if (!text) return DK_EXIT_FAILURE;
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (!line) {
        free(text);
        return DK_EXIT_FAILURE;
    }
    memcpy(line, text, n);
    memcpy(line + n, "\n", 2);
    free(text);
    dk_status st = dk_file_write_atomic(path, line, strlen(line));
    free(line);
    return st == DK_OK ? DK_EXIT_OK : dk_cli_fail(st);
}

static int append_record(FILE *state, const cJSON *rec)
{
    char *text = cJSON_PrintUnformatted(rec);
    if (!text) return DK_EXIT_FAILURE;
    int ok = fputs(text, state) >= 0 && fputc('\n', state) != EOF && fflush(state) == 0 && fsync(fileno(state)) == 0;
    free(text);
    if (!ok) {
        dk_cli_error("diff: writing the state file: %s", strerror(errno));
        return DK_EXIT_FAILURE;
    }
    return DK_EXIT_OK;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void progress(int done, int total, int this_run, double elapsed)
{
    double rate = elapsed > 0 ? this_run / elapsed : 0;
    double left = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\rdiff: %d/%d inputs, %.2f inputs/s, %d:%02d left   ", done, total, rate, (int)(left / 60),
            (int)left % 60);
    fflush(stderr);
}

/* Loads input i: a file, or the bundle's own input. */
static dk_status load_input(diff_opts *o, dk_diff *d, const dk_preprocess *pre, int i, dk_tensor *owned,
                            const dk_tensor **t, const char **name)
{
    if (strncmp(o->inputs[i], "bundle:", 7) != 0) {
        *name = o->inputs[i];
        dk_status st = dk_input_load(o->inputs[i], pre, owned);
        *t = owned;
        return st;
    }
    return dk_diff_bundle_input(d, atoi(o->inputs[i] + 7), name, t);
}

static int run_images(diff_opts *o, dk_diff *d, dk_diff_summary *sum, FILE *state, int done)
{
    dk_preprocess pre;
    preprocessing(dk_diff_input_shape(d), &pre);
    int tty = isatty(2) && !o->quiet, this_run = 0;
    double t0 = now(), busy = 0;
    for (int i = done; i < o->n_inputs && !interrupted; i++) {
        dk_tensor owned = {0};
        const dk_tensor *t = NULL;
        const char *name = NULL;
        double t1 = now();
        dk_status st = load_input(o, d, &pre, i, &owned, &t, &name);
        cJSON *rec = NULL;
        if (st == DK_OK) st = dk_diff_image(d, name, t, &rec);
        dk_tensor_reset(&owned);
        if (st != DK_OK) {
            if (tty) fputc('\n', stderr);
            return dk_cli_fail(st);
        }
        int rc = append_record(state, rec);
        if (rc == DK_EXIT_OK && dk_diff_summary_add(sum, rec) != DK_OK) rc = dk_cli_fail(DK_ERR_INTERNAL);
        cJSON_Delete(rec);
        if (rc != DK_EXIT_OK) return rc;
        busy += now() - t1;
        this_run++;
        if (tty) progress(i + 1, o->n_inputs, this_run, now() - t0);
    }
    if (tty && this_run) fputc('\n', stderr);
    o->ms_per_input = this_run ? 1e3 * busy / this_run : 0;
    return DK_EXIT_OK;
}

/* With --against and no -i: the bundle's own inputs, named "bundle:I". */
static int bundle_inputs(diff_opts *o, dk_diff *d)
{
    if (o->n_inputs) return DK_EXIT_OK;
    for (int i = 0; i < dk_diff_bundle_inputs(d); i++) {
        char name[32];
        snprintf(name, sizeof name, "bundle:%d", i);
        int rc = add_input(o, name);
        if (rc != DK_EXIT_OK) return rc;
    }
    return DK_EXIT_OK;
}

/* With --against and -i: every input must be in the bundle before anything
 * is written. */
static int check_bundle_inputs(diff_opts *o, dk_diff *d)
{
    if (!o->against) return DK_EXIT_OK;
    dk_preprocess pre;
    preprocessing(dk_diff_input_shape(d), &pre);
    for (int i = 0; i < o->n_inputs; i++) {
        if (!strncmp(o->inputs[i], "bundle:", 7)) continue;
        dk_tensor t = {0};
        dk_status st = dk_input_load(o->inputs[i], &pre, &t);
        if (st == DK_OK) st = dk_diff_bundle_check(d, o->inputs[i], &t);
        dk_tensor_reset(&t);
        if (st != DK_OK) return dk_cli_fail(st);
    }
    return DK_EXIT_OK;
}

static int run_diff(diff_opts *o)
{
    int rc = prepare_out(o, 0);
    if (rc != DK_EXIT_OK) return rc;
    o->cfg.model = o->model;
    o->cfg.against = o->against;
    o->cfg.save = o->save;
    dk_diff *d = NULL;
    dk_status st = dk_diff_create(&o->cfg, &d);
    if (st != DK_OK) return dk_cli_fail(st);
    if ((rc = bundle_inputs(o, d)) != DK_EXIT_OK || (rc = check_bundle_inputs(o, d)) != DK_EXIT_OK ||
        (rc = prepare_out(o, 1)) != DK_EXIT_OK) {
        dk_diff_destroy(d);
        return rc;
    }
    cJSON *identity = dk_diff_identity(d);
    cJSON *header = state_header(identity, o);
    dk_diff_summary *sum = NULL;
    st = dk_diff_summary_create(identity, &sum);
    if (st != DK_OK) rc = dk_cli_fail(st);
    int done = 0;
    long good_end = 0;
    if (rc == DK_EXIT_OK) rc = o->resume ? resume_state(o, header, sum, &done, &good_end) : start_state(o, header);
    FILE *state = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out, STATE_FILE);
    if (rc == DK_EXIT_OK) {
        /* drop a record line cut short, then append */
        if (o->resume && truncate(path, good_end) != 0) {
            dk_cli_error("diff: %s: %s", path, strerror(errno));
            rc = DK_EXIT_FAILURE;
        } else if (!(state = fopen(path, "ab"))) {
            dk_cli_error("diff: %s: %s", path, strerror(errno));
            rc = DK_EXIT_FAILURE;
        }
    }
    signal(SIGINT, on_sigint);
    if (rc == DK_EXIT_OK) rc = run_images(o, d, sum, state, done);
    signal(SIGINT, SIG_DFL);
    if (state) fclose(state);
    if (rc == DK_EXIT_OK) {
        int complete = dk_diff_summary_images(sum) == o->n_inputs;
        cJSON *timing = cJSON_CreateObject();
        cJSON_AddNumberToObject(timing, "ms_per_input_this_run", o->ms_per_input);
        st = dk_diff_summary_write(sum, o->out, complete, timing);
        cJSON_Delete(timing);
        if (st != DK_OK) rc = dk_cli_fail(st);
        char *table = rc == DK_EXIT_OK ? dk_diff_summary_table(sum) : NULL;
        if (table) fputs(table, stdout);
        free(table);
        if (rc == DK_EXIT_OK && !complete) {
            fprintf(stderr, "deltakern: interrupted after %d of %d inputs; partial results in %s (continue with --resume)\n",
                    dk_diff_summary_images(sum), o->n_inputs, o->out);
            rc = EXIT_INTERRUPTED;
        }
    }
    dk_diff_summary_destroy(sum);
    cJSON_Delete(header);
    cJSON_Delete(identity);
    dk_diff_destroy(d);
    return rc;
}

int dk_cmd_diff(int argc, char **argv)
{
    static diff_opts o;
    memset(&o, 0, sizeof o);
    interrupted = 0;
    o.inputs = calloc(MAX_INPUTS, sizeof *o.inputs);
    if (!o.inputs) {
        dk_cli_error("diff: out of memory");
        return DK_EXIT_FAILURE;
    }
    int rc = parse(argc, argv, &o);
    if (rc < 0) rc = collect_variants(&o);
    if (rc == DK_EXIT_OK && o.model) rc = run_diff(&o);
    for (int i = 0; i < o.n_inputs; i++) free(o.inputs[i]);
    free(o.inputs);
    return rc;
}
