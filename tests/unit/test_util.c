/* Helpers shared by the unit tests; see test_util.h. */
#include "test_util.h"
#include "runtime/rng.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- random numbers ----------------------------------------------------------- */

static const char *test_name = "unit";
static dk_rng rng; /* the library's generator (runtime/rng.h), seeded per test */

void tu_init(const char *name)
{
    test_name = name;
    const char *env = getenv("DK_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("%s: seed %llu (set DK_TEST_SEED to repeat)\n", name, (unsigned long long)seed);
    dk_rng_seed(&rng, seed);
}

uint64_t tu_rng_next(void) { return dk_rng_next(&rng); }

double tu_rng_uniform(double lo, double hi) { return dk_rng_uniform(&rng, lo, hi); }

int64_t tu_rng_int(int64_t lo, int64_t hi) { return dk_rng_int(&rng, lo, hi); }

void tu_fill_uniform(dk_tensor *t, double lo, double hi)
{
    int is_float = dk_dtype_is_float(t->dtype);
    for (int64_t i = 0; i < dk_tensor_numel(t); i++)
        dk_tensor_set(t, i, is_float ? tu_rng_uniform(lo, hi) : floor(tu_rng_uniform(lo, hi + 1)));
}

/* ---- hand-built graphs -------------------------------------------------------- */

dk_graph *tu_new_graph(int64_t opset)
{
    dk_graph *g = NULL;
    assert_int_equal(dk_graph_create(&g), DK_OK);
    g->opset = opset;
    g->source = strdup("unit_test.onnx");
    assert_non_null(g->source);
    return g;
}

int tu_add_value(dk_graph *g, const char *name, dk_value_kind kind, dk_dtype dt, int ndim,
                 const int64_t *dims, double lo, double hi)
{
    int v;
    assert_int_equal(dk_graph_add_value(g, name, kind, &v), DK_OK);
    dk_tensor *t = &g->values[v].t;
    if (lo <= hi) {
        assert_int_equal(dk_tensor_alloc(t, dt, ndim, dims), DK_OK);
        tu_fill_uniform(t, lo, hi);
    } else {
        t->dtype = dt;
        t->ndim = ndim;
        for (int d = 0; d < ndim; d++) t->dims[d] = dims[d];
    }
    return v;
}

int tu_add_input(dk_graph *g, const char *name, dk_dtype dt, int ndim, const int64_t *dims,
                 double lo, double hi)
{
    return tu_add_value(g, name, DK_VALUE_INPUT, dt, ndim, dims, lo, hi);
}

int tu_add_node(dk_graph *g, dk_op op, const int *ins, int n_in, int n_out)
{
    int k;
    assert_int_equal(dk_graph_add_node(g, TU_NODE, op, n_in, n_out, &k), DK_OK);
    for (int i = 0; i < n_in; i++) g->nodes[k].inputs[i] = ins[i];
    for (int o = 0; o < n_out; o++) {
        int y;
        char name[16];
        snprintf(name, sizeof name, "y%d", o);
        assert_int_equal(dk_graph_add_value(g, name, DK_VALUE_ACTIVATION, &y), DK_OK);
        g->nodes[k].outputs[o] = y;
        g->values[y].producer = k;
        int *outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
        assert_non_null(outputs);
        g->outputs = outputs;
        g->outputs[g->n_outputs++] = y;
    }
    return k;
}

int tu_add_named_node(dk_graph *g, const char *name, dk_op op, const int *ins, int n_in, const char *out)
{
    int k, y;
    assert_int_equal(dk_graph_add_node(g, name, op, n_in, 1, &k), DK_OK);
    for (int i = 0; i < n_in; i++) g->nodes[k].inputs[i] = ins[i];
    assert_int_equal(dk_graph_add_value(g, out, DK_VALUE_ACTIVATION, &y), DK_OK);
    g->nodes[k].outputs[0] = y;
    g->values[y].producer = k;
    return k;
}

dk_attr *tu_add_attr(dk_graph *g, int k, const char *name, dk_attr_type type)
{
    dk_node *n = &g->nodes[k];
    dk_attr *attrs = realloc(n->attrs, sizeof(dk_attr) * (size_t)(n->n_attrs + 1));
    assert_non_null(attrs);
    n->attrs = attrs;
    dk_attr *a = &attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

void tu_attr_int(dk_graph *g, int k, const char *name, int64_t v)
{
    tu_add_attr(g, k, name, DK_ATTR_INT)->i = v;
}

void tu_attr_float(dk_graph *g, int k, const char *name, float v)
{
    tu_add_attr(g, k, name, DK_ATTR_FLOAT)->f = v;
}

void tu_attr_string(dk_graph *g, int k, const char *name, const char *s)
{
    tu_add_attr(g, k, name, DK_ATTR_STRING)->s = strdup(s);
}

void tu_attr_ints(dk_graph *g, int k, const char *name, int count, const int64_t *v)
{
    dk_attr *a = tu_add_attr(g, k, name, DK_ATTR_INTS);
    a->n = count;
    a->ints = malloc(sizeof(int64_t) * (size_t)(count > 0 ? count : 1));
    assert_non_null(a->ints);
    if (count > 0) memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

void tu_attr_floats(dk_graph *g, int k, const char *name, int count, const float *v)
{
    dk_attr *a = tu_add_attr(g, k, name, DK_ATTR_FLOATS);
    a->n = count;
    a->floats = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    assert_non_null(a->floats);
    if (count > 0) memcpy(a->floats, v, sizeof(float) * (size_t)count);
}

const dk_tensor *tu_output(const dk_graph *g, int k, int o)
{
    return &g->values[g->nodes[k].outputs[o]].t;
}

/* ---- running kernels and checking results ------------------------------------- */

void tu_alloc_poisoned(const dk_graph *g, int k, dk_tensor *ys, int n_out, dk_tensor **outs)
{
    for (int o = 0; o < n_out; o++) {
        const dk_tensor *t = tu_output(g, k, o);
        assert_int_equal(dk_tensor_alloc(&ys[o], t->dtype, t->ndim, t->dims), DK_OK);
        if (dk_dtype_is_float(t->dtype))
            for (int64_t i = 0; i < dk_tensor_numel(t); i++) dk_tensor_set(&ys[o], i, NAN);
        else
            memset(ys[o].data, 0xA5, dk_tensor_nbytes(&ys[o]));
        outs[o] = &ys[o];
    }
}

dk_status tu_run_kernel(dk_graph *g, int k, dk_eval_fn fn, dk_tensor *ys, int n_out)
{
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[8] = {0};
    dk_tensor *outs[4] = {0};
    assert_true(n->n_inputs <= 8 && n_out <= 4);
    for (int i = 0; i < n->n_inputs; i++)
        in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
    tu_alloc_poisoned(g, k, ys, n_out, outs);
    return fn(n, in, outs);
}

void tu_assert_shape(const dk_tensor *t, int ndim, const int64_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(t->dims[d], dims[d]);
}

void tu_assert_close(const char *what, int64_t i, double y, double ref, double scale)
{
    double tol = ldexp(fabs(ref), -23) + 1e-12 * scale;
    if (!(fabs(y - ref) <= tol))
        fail_msg("%s: element %lld is %.9g, expected %.9g (tolerance %.3g)", what, (long long)i, y,
                 ref, tol);
}

void tu_expect_finalize_error(dk_graph *g, dk_status want, const char *fragment)
{
    dk_status got = dk_graph_finalize(g);
    const char *msg = dk_last_error();
    if (got != want || !strstr(msg, TU_NODE) || (fragment && !strstr(msg, fragment)))
        fail_msg("expected %s naming " TU_NODE " and containing '%s', got %s: %s",
                 dk_status_name(want), fragment ? fragment : "", dk_status_name(got), msg);
}

void tu_assert_status(dk_status got, dk_status want, const char *needle)
{
    if (got != want)
        fail_msg("status %s, expected %s (message: %s)", dk_status_name(got),
                 dk_status_name(want), dk_last_error());
    if (needle && !strstr(dk_last_error(), needle))
        fail_msg("message '%s' lacks '%s'", dk_last_error(), needle);
}

/* ---- files -------------------------------------------------------------------- */

static char tmpdir[128];

int tu_tmpdir_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dk_%s_XXXXXX", test_name);
    return mkdtemp(tmpdir) ? 0 : -1;
}

int tu_tmpdir_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) remove(tu_tmp_path(e->d_name));
    closedir(d);
    rmdir(tmpdir);
    return 0;
}

const char *tu_tmpdir(void)
{
    return tmpdir;
}

const char *tu_tmp_path(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

unsigned char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return data;
}

int tu_python_has(const char *modules)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, TU_PYTHON " -c 'import %s' >/dev/null 2>&1", modules);
    return access(TU_PYTHON, X_OK) == 0 && system(cmd) == 0;
}
