/* deltakern run: a model on images or tensors, top-k labels per input. */
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
#include "tools/cli_options.h"
#include "tools/cli_shapes.h"

#define MAX_INPUTS 4096
#define MAX_PATTERNS 64
#define DK_CLI_TRY(expr)                  \
    do {                                  \
        dk_status dk_s_ = (expr);         \
        if (dk_s_ != DK_OK) return dk_s_; \
    } while (0)

typedef struct run_opts {
    const char *model;
    const char *inputs[MAX_INPUTS];
    int n_inputs;
    const char *patterns[MAX_PATTERNS]; /* -b values, each possibly a/b expansion */
    int n_patterns;
    const char *matrix;        /* --variants FILE */
    const char *label;         /* the variant being run, for output */
    const char *labels;
    const char *save_output;
    int force;
    int top;
    int softmax;
    dk_preprocess pre;
    dk_cli_shapes shapes;      /* --input-shape */
    const dk_onnx_options *load;
} run_opts;

/* Three numbers "R,G,B", each within +-DK_PIXEL_PARAM_MAX. */
#define DK_PIXEL_PARAM_MAX 1e6
static int parse_triplet(const char *s, float v[3])
{
    char *end;
    for (int i = 0; i < 3; i++) {
        v[i] = strtof(s, &end);
        if (end == s || (i < 2 && *end != ',') || (i == 2 && *end)) return 0;
        if (!(fabsf(v[i]) <= DK_PIXEL_PARAM_MAX)) return 0; /* NaN too */
        s = end + 1;
    }
    return 1;
}

/* --size N|HxW into the preprocessing's height and width. */
static int parse_size(const dk_cli_opt *opt, const char *s)
{
    dk_preprocess *p = opt->dest;
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s || a <= 0 || a > 16384) return DK_CLI_BAD;
    if (*end == 'x') {
        const char *q = end + 1;
        b = strtol(q, &end, 10);
        if (end == q || b <= 0 || b > 16384) return DK_CLI_BAD;
    }
    if (*end) return DK_CLI_BAD;
    p->height = (int)a;
    p->width = (int)b;
    return DK_EXIT_OK;
}

/* --mean R,G,B */
static int parse_mean(const dk_cli_opt *opt, const char *s)
{
    return parse_triplet(s, opt->dest) ? DK_EXIT_OK : DK_CLI_BAD;
}

/* --std R,G,B: a division, so positive */
static int parse_std(const dk_cli_opt *opt, const char *s)
{
    float v[3];
    if (!parse_triplet(s, v) || !(v[0] > 0 && v[1] > 0 && v[2] > 0)) return DK_CLI_BAD;
    memcpy(opt->dest, v, sizeof v);
    return DK_EXIT_OK;
}

/* Returns -1 to continue, or an exit code. */
static int parse(int argc, char **argv, run_opts *o)
{
    _Static_assert(sizeof o->pre.resize_mode == sizeof(int) && sizeof o->pre.order == sizeof(int),
                   "choices are stored as int");
    o->top = 5;
    o->softmax = 1;
    o->shapes.cmd = "run";
    dk_preprocess_default(&o->pre);
    const dk_cli_opt opts[] = {
        {"input", 'i', DK_CLI_LIST, o->inputs, "INPUT", .help = "an input; repeat for more",
         .count = &o->n_inputs, .max = MAX_INPUTS, .flags = DK_CLI_REQUIRED,
         .missing = "no input given (use -i IMAGE)"},
        {"backend", 'b', DK_CLI_LIST, o->patterns, "VARIANT",
         .help = "backend and its options, e.g. ref or onednn:fpmath=bf16;\n"
                 "a/b values expand (onednn:layout=blocked/plain is two\n"
                 "variants); repeatable (default ref; see deltakern backends)",
         .count = &o->n_patterns, .max = MAX_PATTERNS},
        {"variants", 0, DK_CLI_STRING, &o->matrix, "FILE", .help = "variants from a matrix file, one pattern per line"},
        {"top", 'k', DK_CLI_INT, &o->top, "K", .help = "classes to print per input (default 5)", .min = 1,
         .max = 100000},
        {"labels", 0, DK_CLI_STRING, &o->labels, "FILE",
         .help = "class names, one per line (default: ImageNet, shipped)"},
        {"no-softmax", 0, DK_CLI_FLAG, &o->softmax, .flags = DK_CLI_CLEAR,
         .help = "print the raw outputs instead of softmax probabilities"},
        {"save-output", 0, DK_CLI_STRING, &o->save_output, "F",
         .help = "write the first output of the last input as .npy"},
        {"force", 0, DK_CLI_FLAG, &o->force, .help = "overwrite an existing --save-output file"},
        DK_CLI_INPUT_SHAPE(&o->shapes),
        {.kind = DK_CLI_HEADING, .help = "image preprocessing (defaults: torchvision's ImageNet evaluation transform):"},
        {"size", 0, DK_CLI_CUSTOM, &o->pre, "N|HxW", .parse = parse_size, .expect = "N or HxW",
         .help = "network input size = centre-crop size (default: read from\n"
                 "the model; --crop is the same option)"},
        {"crop", .kind = DK_CLI_ALIAS},
        {"resize", 0, DK_CLI_INT, &o->pre.resize, "N", .min = 1, .max = 16384,
         .help = "shorter side before the centre crop (default size/0.875)"},
        {"resize-mode", 0, DK_CLI_CHOICE, &o->pre.resize_mode, "M", .choices = "shorter|exact", /* dk_resize_mode */
         .help = "shorter (resize shorter side, centre crop; default) or\n"
                 "exact (resize straight to the input size, no crop)"},
        {"mean", 0, DK_CLI_CUSTOM, o->pre.mean, "R,G,B", .parse = parse_mean,
         .expect = "three numbers R,G,B, each from -1e6 to 1e6",
         .help = "per-channel mean (default 0.485,0.456,0.406)"},
        {"std", 0, DK_CLI_CUSTOM, o->pre.std, "R,G,B", .parse = parse_std,
         .expect = "three positive numbers R,G,B, each at most 1e6",
         .help = "per-channel std (default 0.229,0.224,0.225)"},
        {"scale", 0, DK_CLI_FLOAT, &o->pre.scale, "X", .lo = 0, .hi = DK_PIXEL_PARAM_MAX, .flags = DK_CLI_OPEN_LO,
         .expect = "a positive number, at most 1e6", .help = "pixel multiplier before mean/std (default 1/255)"},
        {"order", 0, DK_CLI_CHOICE, &o->pre.order, .choices = "rgb|bgr", /* dk_channel_order */
         .help = "channel order the model expects (default rgb)"},
        {0}};
    const dk_cli_spec spec = {
        .cmd = "run", .opts = opts, .args = "MODEL.onnx", .arg_name = "MODEL", .min_args = 1, .max_args = 1,
        .argv_out = &o->model, .extra_hint = "inputs go after -i",
        .about = "Runs the model on each input and prints the top-k classes with softmax\n"
                 "probabilities. INPUT is a PNG or JPEG image (preprocessed the ImageNet way),\n"
                 "a NumPy .npy array or an ONNX TensorProto .pb file of the model's input shape."};
    return dk_cli_parse(&spec, argc, argv);
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
    dk_status st = dk_onnx_load_with(o->model, o->load, &g);
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
    /* a .npy or .pb first input fixes the model's symbolic dims; for an
     * image, --size does (an image batch 1x3xHxW) */
    o.load = dk_cli_load_options(&o.shapes, o.inputs[0]);
    if (!o.shapes.load.fill && o.pre.height) {
        o.shapes.fill = (dk_input_shape){.ndim = 4, .dims = {1, 3, o.pre.height, o.pre.width}};
        o.shapes.load.fill = &o.shapes.fill;
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
