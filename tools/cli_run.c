/* deltakern run: a model on images or tensors, top-k labels per input. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltakern/backend.h"
#include "deltakern/input.h"
#include "deltakern/onnx.h"
#include "deltakern/passes.h"
#include "deltakern/session.h"
#include "deltakern/variant.h"
#include "tools/cli.h"

#define MAX_INPUTS 4096
#define DK_CLI_TRY(expr)                  \
    do {                                  \
        dk_status dk_s_ = (expr);         \
        if (dk_s_ != DK_OK) return dk_s_; \
    } while (0)

typedef struct run_opts {
    const char *model;
    const char *inputs[MAX_INPUTS];
    int n_inputs;
    const char *patterns[64];  /* -b values, each possibly a/b expansion */
    int n_patterns;
    const char *matrix;        /* --variants FILE */
    const char *label;         /* the variant being run, for output */
    const char *labels;
    const char *save_output;
    int force;
    int top;
    int softmax;
    dk_preprocess pre;
} run_opts;

static void help(void)
{
    printf(
        "usage: deltakern run MODEL.onnx -i INPUT [-i INPUT]... [options]\n"
        "\n"
        "Runs the model on each input and prints the top-k classes with softmax\n"
        "probabilities. INPUT is a PNG or JPEG image (preprocessed the ImageNet way),\n"
        "a NumPy .npy array or an ONNX TensorProto .pb file of the model's input shape.\n"
        "\n"
        "options:\n"
        "  -i, --input FILE       an input; repeat for more\n"
        "  -b, --backend VARIANT  backend and its options, e.g. ref or onednn:fpmath=bf16;\n"
        "                         a/b values expand (onednn:layout=blocked/plain is two\n"
        "                         variants); repeatable (default ref; see deltakern backends)\n"
        "      --variants FILE    variants from a matrix file, one pattern per line\n"
        "  -k, --top K            classes to print per input (default 5)\n"
        "      --labels FILE      class names, one per line (default: ImageNet, shipped)\n"
        "      --no-softmax       print the raw outputs instead of softmax probabilities\n"
        "      --save-output F    write the first output of the last input as .npy\n"
        "      --force            overwrite an existing --save-output file\n"
        "image preprocessing (defaults: torchvision's ImageNet evaluation transform):\n"
        "      --size N|HxW       network input size = centre-crop size (default: read from\n"
        "                         the model; --crop is the same option)\n"
        "      --resize N         shorter side before the centre crop (default size/0.875)\n"
        "      --resize-mode M    shorter (resize shorter side, centre crop; default) or\n"
        "                         exact (resize straight to the input size, no crop)\n"
        "      --mean R,G,B       per-channel mean (default 0.485,0.456,0.406)\n"
        "      --std R,G,B        per-channel std (default 0.229,0.224,0.225)\n"
        "      --scale X          pixel multiplier before mean/std (default 1/255)\n"
        "      --order rgb|bgr    channel order the model expects (default rgb)\n");
}

static int parse_triplet(const char *s, float v[3])
{
    char *end;
    for (int i = 0; i < 3; i++) {
        v[i] = strtof(s, &end);
        if (end == s || (i < 2 && *end != ',') || (i == 2 && *end)) return 0;
        s = end + 1;
    }
    return 1;
}

static int parse_size(const char *s, int *h, int *w)
{
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s || a <= 0 || a > 16384) return 0;
    if (*end == 'x') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p || b <= 0 || b > 16384) return 0;
    }
    if (*end) return 0;
    *h = (int)a;
    *w = (int)b;
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

enum { OPT_LABELS = 256, OPT_NO_SOFTMAX, OPT_SAVE, OPT_FORCE, OPT_SIZE, OPT_RESIZE, OPT_RESIZE_MODE,
       OPT_MEAN, OPT_STD, OPT_SCALE, OPT_ORDER, OPT_MATRIX };

static int bad_value(const char *opt, const char *val, const char *want)
{
    dk_cli_error("run: %s '%s': expected %s", opt, val, want);
    return DK_EXIT_USAGE;
}

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},         {"input", required_argument, NULL, 'i'},
        {"backend", required_argument, NULL, 'b'}, {"top", required_argument, NULL, 'k'},
        {"labels", required_argument, NULL, OPT_LABELS},
        {"variants", required_argument, NULL, OPT_MATRIX},
        {"no-softmax", no_argument, NULL, OPT_NO_SOFTMAX},
        {"save-output", required_argument, NULL, OPT_SAVE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"size", required_argument, NULL, OPT_SIZE},
        {"crop", required_argument, NULL, OPT_SIZE},
        {"resize", required_argument, NULL, OPT_RESIZE},
        {"resize-mode", required_argument, NULL, OPT_RESIZE_MODE},
        {"mean", required_argument, NULL, OPT_MEAN},
        {"std", required_argument, NULL, OPT_STD},
        {"scale", required_argument, NULL, OPT_SCALE},
        {"order", required_argument, NULL, OPT_ORDER},
        {0, 0, 0, 0}};
    o->n_patterns = 0;
    o->top = 5;
    o->softmax = 1;
    dk_preprocess_default(&o->pre);
    opterr = 0;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "hi:b:k:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return DK_EXIT_OK;
        case 'i':
            if (o->n_inputs == MAX_INPUTS) return bad_value("--input", optarg, "at most 4096 inputs");
            o->inputs[o->n_inputs++] = optarg;
            break;
        case 'b':
            if (o->n_patterns == 64) return bad_value("--backend", optarg, "at most 64 -b options");
            o->patterns[o->n_patterns++] = optarg;
            break;
        case OPT_MATRIX: o->matrix = optarg; break;
        case 'k': if (!parse_int(optarg, 1, 100000, &o->top)) return bad_value("--top", optarg, "a positive integer"); break;
        case OPT_LABELS: o->labels = optarg; break;
        case OPT_NO_SOFTMAX: o->softmax = 0; break;
        case OPT_SAVE: o->save_output = optarg; break;
        case OPT_FORCE: o->force = 1; break;
        case OPT_SIZE:
            if (!parse_size(optarg, &o->pre.height, &o->pre.width)) return bad_value("--size", optarg, "N or HxW");
            break;
        case OPT_RESIZE: if (!parse_int(optarg, 1, 16384, &o->pre.resize)) return bad_value("--resize", optarg, "a positive integer"); break;
        case OPT_RESIZE_MODE:
            if (!strcmp(optarg, "shorter")) o->pre.resize_mode = DK_RESIZE_SHORTER;
            else if (!strcmp(optarg, "exact")) o->pre.resize_mode = DK_RESIZE_EXACT;
            else return bad_value("--resize-mode", optarg, "shorter or exact");
            break;
        case OPT_MEAN: if (!parse_triplet(optarg, o->pre.mean)) return bad_value("--mean", optarg, "three numbers R,G,B"); break;
        case OPT_STD:
            if (!parse_triplet(optarg, o->pre.std) || o->pre.std[0] <= 0 || o->pre.std[1] <= 0 || o->pre.std[2] <= 0)
                return bad_value("--std", optarg, "three positive numbers R,G,B");
            break;
        case OPT_SCALE:
            o->pre.scale = strtof(optarg, &end);
            if (end == optarg || *end || !(o->pre.scale > 0)) return bad_value("--scale", optarg, "a positive number");
            break;
        case OPT_ORDER:
            if (!strcmp(optarg, "rgb")) o->pre.order = DK_CHANNELS_RGB;
            else if (!strcmp(optarg, "bgr")) o->pre.order = DK_CHANNELS_BGR;
            else return bad_value("--order", optarg, "rgb or bgr");
            break;
        default: return dk_cli_bad_option("run", argc, argv);
        }
    }
    if (optind != argc - 1) {
        dk_cli_error(optind >= argc ? "run: missing MODEL argument (see deltakern run --help)"
                                    : "run: unexpected argument '%s' (inputs go after -i)",
                     argv[argc - 1]);
        return DK_EXIT_USAGE;
    }
    o->model = argv[optind];
    if (o->n_inputs == 0) {
        dk_cli_error("run: no input given (use -i IMAGE)");
        return DK_EXIT_USAGE;
    }
    return -1;
}

/* The network's input size from its first input when it is an NCHW RGB
 * image batch. Other models take tensors only; an image given to them gets
 * the input loader's error. Returns 0, or an exit code after an error. */
static int take_size_from_model(const dk_graph *g, dk_preprocess *p)
{
    const dk_tensor *t = &g->values[g->inputs[0]].t;
    if (t->ndim != 4 || t->dims[1] != 3) return 0;
    if (p->height && (p->height != t->dims[2] || p->width != t->dims[3])) {
        dk_cli_error("run: --size %dx%d does not match the model's input %lldx%lld", p->height,
                     p->width, (long long)t->dims[2], (long long)t->dims[3]);
        return DK_EXIT_USAGE;
    }
    p->height = (int)t->dims[2];
    p->width = (int)t->dims[3];
    return 0;
}

static void print_top(const dk_tensor *out, const dk_labels *labels, int top, int softmax)
{
    int64_t n = dk_tensor_numel(out);
    double *score = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    int *order = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!score || !order) {
        free(score);
        free(order);
        return;
    }
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        score[i] = dk_tensor_get(out, i);
        if (score[i] > mx) mx = score[i];
    }
    if (softmax) {
        for (int64_t i = 0; i < n; i++) sum += (score[i] = exp(score[i] - mx));
        for (int64_t i = 0; i < n; i++) score[i] /= sum;
    }
    if (top > n) top = (int)n;
    /* partial selection sort: top is small */
    for (int64_t i = 0; i < n; i++) order[i] = (int)i;
    for (int r = 0; r < top; r++) {
        int best = r;
        for (int64_t i = r + 1; i < n; i++)
            if (score[order[i]] > score[order[best]]) best = (int)i;
        int tmp = order[r];
        order[r] = order[best];
        order[best] = tmp;
        /* class names only when they describe this output */
        const char *name = labels->n == n ? dk_labels_name(labels, order[r]) : NULL;
        printf("  %d. %s %10.6f  %4d  %s\n", r + 1, softmax ? "p =" : "y =", score[order[r]],
               order[r], name ? name : "");
    }
    free(score);
    free(order);
}

/* An image needs a model whose input is an RGB image batch. */
static int check_image_model(const run_opts *o, const dk_graph *g, const char *path)
{
    dk_input_format fmt;
    if (o->pre.height || dk_input_detect(path, &fmt) != DK_OK) return DK_EXIT_OK;
    if (fmt != DK_INPUT_PNG && fmt != DK_INPUT_JPEG) return DK_EXIT_OK;
    const dk_tensor *t = &g->values[g->inputs[0]].t;
    char shape[128];
    dk_cli_error("run: %s: the model's input '%s' is %s %s, not an RGB image batch Nx3xHxW; give a .npy or .pb tensor",
                 path, t->name, dk_dtype_name(t->dtype), dk_shape_str(t->ndim, t->dims, shape, sizeof shape));
    return DK_EXIT_USAGE;
}

static int run_inputs(const run_opts *o, const dk_graph *g, dk_session *s, const dk_labels *labels)
{
    for (int i = 0; i < o->n_inputs; i++) {
        int rc = check_image_model(o, g, o->inputs[i]);
        if (rc != DK_EXIT_OK) return rc;
        dk_tensor in = {0};
        dk_status st = dk_input_load(o->inputs[i], &o->pre, &in);
        if (st == DK_OK) st = dk_session_run(s, &in, 1);
        dk_tensor_reset(&in);
        if (st != DK_OK) return dk_cli_fail(st);
        const dk_tensor *out = dk_session_output(s, 0);
        printf("%s  (%s, %.1f ms)\n", o->inputs[i], o->label, dk_session_last_seconds(s) * 1e3);
        print_top(out, labels, o->top, o->softmax);
        if (o->save_output && i == o->n_inputs - 1 && (st = dk_npy_save(o->save_output, out)) != DK_OK)
            return dk_cli_fail(st);
    }
    return DK_EXIT_OK;
}

#define MAX_VARIANTS 256

/* Every variant named by -b patterns and --variants, in order (default: ref). */
static dk_status collect_variants(const run_opts *o, dk_variant *v, int *n)
{
    *n = 0;
    if (o->n_patterns == 0 && !o->matrix) return dk_variant_expand("ref", v, MAX_VARIANTS, n);
    for (int i = 0; i < o->n_patterns; i++) {
        int got;
        DK_CLI_TRY(dk_variant_expand(o->patterns[i], v + *n, MAX_VARIANTS - *n, &got));
        *n += got;
    }
    if (o->matrix) {
        int got;
        DK_CLI_TRY(dk_variant_read_matrix(o->matrix, v + *n, MAX_VARIANTS - *n, &got));
        *n += got;
    }
    return DK_OK;
}

/* Loads, optimises at the variant's level, plans and runs every input. */
static int run_variant(run_opts *o, const dk_variant *variant, const dk_labels *labels)
{
    char name[256];
    o->label = dk_variant_canonical(variant, 0, name, sizeof name);
    dk_graph *g;
    dk_status st = dk_onnx_load(o->model, &g);
    if (st != DK_OK) return dk_cli_fail(st);
    int rc = DK_EXIT_OK;
    st = dk_graph_optimize(g, (int)dk_variant_get_int(variant, "opt", 0), dk_variant_get(variant, "disable"));
    if (st != DK_OK) {
        rc = dk_cli_fail(st);
    } else if (g->n_inputs != 1) {
        dk_cli_error("run: %s: the model has %d inputs; run takes models with one input", o->model, g->n_inputs);
        rc = DK_EXIT_USAGE;
    } else {
        rc = take_size_from_model(g, &o->pre);
    }
    dk_session *s = NULL;
    if (rc == DK_EXIT_OK && (st = dk_session_create(g, variant, &s)) != DK_OK) rc = dk_cli_fail(st);
    if (rc == DK_EXIT_OK) rc = run_inputs(o, g, s, labels);
    dk_session_destroy(s);
    dk_graph_destroy(g);
    return rc;
}

int dk_cmd_run(int argc, char **argv)
{
    static run_opts o;
    static dk_variant variants[MAX_VARIANTS];
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    struct stat st_out;
    if (o.save_output && !o.force && stat(o.save_output, &st_out) == 0) {
        dk_cli_error("run: %s exists (use --force to overwrite)", o.save_output);
        return DK_EXIT_USAGE;
    }
    int n_variants;
    dk_status st = collect_variants(&o, variants, &n_variants);
    if (st != DK_OK) return dk_cli_fail(st);
    if (o.save_output && n_variants > 1) {
        dk_cli_error("run: --save-output takes one variant, %d were given", n_variants);
        return DK_EXIT_USAGE;
    }
    dk_labels labels = {0};
    if ((st = dk_labels_load(o.labels, &labels)) != DK_OK && o.labels) {
        dk_cli_error("run: %s", dk_last_error());
        return DK_EXIT_USAGE;
    }
    for (int i = 0; i < n_variants && rc < 0; i++) {
        int r = run_variant(&o, &variants[i], &labels);
        if (r != DK_EXIT_OK) rc = r;
    }
    dk_labels_free(&labels);
    return rc < 0 ? DK_EXIT_OK : rc;
}
