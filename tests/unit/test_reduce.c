/* Unit tests for Softmax and ReduceMean: shape inference (layers/op_reduce.c)
 * and reference kernels (kernels/ref/ref_reduce.c) against naive loops.
 *
 * Tolerance: both sides work in double and round to float32 once, so they
 * differ by about one float rounding (relative 6e-8); 1e-6 relative leaves
 * room for exp() and summation order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltakern/graph.h"
#include "kernels/ref/ref_kernels.h"

/* ---- helpers: hand-built graphs, random data ------------------------------ */

static uint64_t rng_state;

static void seed_rng(void)
{
    const char *env = getenv("DK_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("test_reduce: seed %llu (set DK_TEST_SEED to repeat)\n", (unsigned long long)seed);
    rng_state = seed * 2654435761u + 1;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rng_uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next() >> 11) / 9007199254740992.0;
}

static dk_graph *new_graph(int64_t opset)
{
    dk_graph *g = NULL;
    assert_int_equal(dk_graph_create(&g), DK_OK);
    g->opset = opset;
    return g;
}

/* Adds a value with dtype and shape; with data (random in [lo, hi]) when
 * lo <= hi. */
static int add_value(dk_graph *g, const char *name, dk_value_kind kind, dk_dtype dt, int ndim,
                     const int64_t *dims, double lo, double hi)
{
    int v;
    assert_int_equal(dk_graph_add_value(g, name, kind, &v), DK_OK);
    dk_tensor *t = &g->values[v].t;
    if (lo <= hi) {
        assert_int_equal(dk_tensor_alloc(t, dt, ndim, dims), DK_OK);
        for (int64_t i = 0; i < dk_tensor_numel(t); i++)
            dk_tensor_set(t, i, dk_dtype_is_float(dt) ? rng_uniform(lo, hi)
                                                      : floor(rng_uniform(lo, hi + 1)));
    } else {
        t->dtype = dt;
        t->ndim = ndim;
        for (int d = 0; d < ndim; d++) t->dims[d] = dims[d];
    }
    return v;
}

static int add_input(dk_graph *g, const char *name, dk_dtype dt, int ndim, const int64_t *dims,
                     double lo, double hi)
{
    return add_value(g, name, DK_VALUE_INPUT, dt, ndim, dims, lo, hi);
}

/* Adds node "<op>_node" reading `ins` (-1 = omitted) with one output that is
 * a graph output; returns the node index. */
static int add_node(dk_graph *g, dk_op op, const int *ins, int n_in)
{
    int k, y;
    assert_int_equal(dk_graph_add_node(g, "test_node", op, n_in, 1, &k), DK_OK);
    for (int i = 0; i < n_in; i++) g->nodes[k].inputs[i] = ins[i];
    assert_int_equal(dk_graph_add_value(g, "y", DK_VALUE_ACTIVATION, &y), DK_OK);
    g->nodes[k].outputs[0] = y;
    g->values[y].producer = k;
    g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->n_outputs + 1));
    assert_non_null(g->outputs);
    g->outputs[g->n_outputs++] = y;
    return k;
}

static dk_attr *new_attr(dk_graph *g, int k, const char *name, dk_attr_type type)
{
    dk_node *n = &g->nodes[k];
    n->attrs = realloc(n->attrs, sizeof(dk_attr) * (size_t)(n->n_attrs + 1));
    assert_non_null(n->attrs);
    dk_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

static void attr_int(dk_graph *g, int k, const char *name, int64_t v)
{
    new_attr(g, k, name, DK_ATTR_INT)->i = v;
}

static const dk_tensor *out_of(const dk_graph *g, int k)
{
    return &g->values[g->nodes[k].outputs[0]].t;
}

/* Allocates y like node k's output, poisons it and runs the kernel. */
static dk_status run_kernel(dk_graph *g, int k, dk_eval_fn fn, dk_tensor *y)
{
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[4] = {0};
    for (int i = 0; i < n->n_inputs && i < 4; i++)
        in[i] = n->inputs[i] >= 0 ? &g->values[n->inputs[i]].t : NULL;
    const dk_tensor *o = out_of(g, k);
    assert_int_equal(dk_tensor_alloc(y, o->dtype, o->ndim, o->dims), DK_OK);
    for (int64_t i = 0; i < dk_tensor_numel(y); i++) dk_tensor_set(y, i, NAN);
    if (!dk_dtype_is_float(y->dtype)) memset(y->data, 0xA5, dk_tensor_nbytes(y));
    dk_tensor *outs[1] = {y};
    return fn(n, in, outs);
}

static void assert_shape(const dk_tensor *t, int ndim, const int64_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(t->dims[d], dims[d]);
}

static void assert_error_names_node(const char *fragment)
{
    const char *msg = dk_last_error();
    if (!strstr(msg, "test_node") || (fragment && !strstr(msg, fragment)))
        fail_msg("unexpected error message: %s", msg);
}

/* ---- Softmax --------------------------------------------------------------- */

/* Softmax over the elements that share every index outside [axis, axis_end):
 * axis_end = axis + 1 for opset >= 13, ndim for the legacy 2-D coercion. */
static void check_softmax(const dk_tensor *x, int axis, int axis_end, const dk_tensor *y)
{
    int64_t outer = dk_shape_numel(axis, x->dims);
    int64_t len = dk_shape_numel(axis_end - axis, x->dims + axis);
    int64_t inner = dk_shape_numel(x->ndim - axis_end, x->dims + axis_end);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t l = 0; l < len; l++)
                mx = fmax(mx, dk_tensor_get(x, (o * len + l) * inner + j));
            for (int64_t l = 0; l < len; l++)
                sum += exp(dk_tensor_get(x, (o * len + l) * inner + j) - mx);
            for (int64_t l = 0; l < len; l++) {
                int64_t i = (o * len + l) * inner + j;
                double want = exp(dk_tensor_get(x, i) - mx) / sum, got = dk_tensor_get(y, i);
                if (!(fabs(got - want) <= 1e-6 * want + 1e-12))
                    fail_msg("Softmax element %lld: got %.9g want %.9g", (long long)i, got, want);
            }
        }
}

static void run_softmax(int64_t opset, int ndim, const int64_t *dims, int has_axis, int64_t axis,
                        int want_axis, int want_end, double lo, double hi)
{
    dk_graph *g = new_graph(opset);
    int x = add_input(g, "x", DK_F32, ndim, dims, lo, hi);
    int k = add_node(g, DK_OP_SOFTMAX, &x, 1);
    if (has_axis) attr_int(g, k, "axis", axis);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    assert_shape(out_of(g, k), ndim, dims);
    assert_int_equal(g->nodes[k].p.softmax.axis, want_axis);
    assert_int_equal(g->nodes[k].p.softmax.legacy, opset < 13);
    dk_tensor y = {0};
    assert_int_equal(run_kernel(g, k, dk_ref_softmax, &y), DK_OK);
    check_softmax(&g->values[x].t, want_axis, want_end, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_softmax(void **state)
{
    (void)state;
    const int64_t d3[3] = {3, 4, 5}, d2[2] = {2, 1000}, big[4] = {2, 21, 40, 40};
    run_softmax(13, 3, d3, 0, 0, 2, 3, -5, 5);    /* default: last axis */
    run_softmax(13, 3, d3, 1, 0, 0, 1, -5, 5);
    run_softmax(13, 3, d3, 1, 1, 1, 2, -5, 5);
    run_softmax(13, 3, d3, 1, -2, 1, 2, -5, 5);
    run_softmax(11, 3, d3, 0, 0, 1, 3, -5, 5);    /* legacy default axis 1: coerced 3x20 */
    run_softmax(11, 3, d3, 1, 0, 0, 3, -5, 5);    /* legacy: everything one row */
    run_softmax(1, 3, d3, 1, -1, 2, 3, -5, 5);
    run_softmax(13, 2, d2, 0, 0, 1, 2, 1e4, 1e4 + 30); /* large numbers need the max shift */
    run_softmax(13, 4, big, 1, 1, 1, 2, -5, 5);   /* channel axis, many tiles */
}

static void test_softmax_errors(void **state)
{
    (void)state;
    const int64_t d3[3] = {3, 4, 5};
    dk_graph *g = new_graph(13);
    int x = add_input(g, "x", DK_F32, 3, d3, 1, 0);
    int k = add_node(g, DK_OP_SOFTMAX, &x, 1);
    attr_int(g, k, "axis", 3);
    assert_int_equal(dk_graph_finalize(g), DK_ERR_SHAPE);
    assert_error_names_node("axis 3");
    dk_graph_destroy(g);

    g = new_graph(13);
    x = add_input(g, "x", DK_I32, 3, d3, 1, 0);
    add_node(g, DK_OP_SOFTMAX, &x, 1);
    assert_int_equal(dk_graph_finalize(g), DK_ERR_UNSUPPORTED);
    assert_error_names_node("int32");
    dk_graph_destroy(g);
}

/* ---- ReduceMean ------------------------------------------------------------- */

/* Mean over the axes flagged in `reduced`, one output element at a time. */
static void check_reducemean(const dk_tensor *x, const int *reduced, const dk_tensor *y)
{
    int64_t kept_dims[DK_MAX_DIMS], red_dims[DK_MAX_DIMS];
    int nk = 0, nr = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (reduced[d]) red_dims[nr++] = x->dims[d];
        else kept_dims[nk++] = x->dims[d];
    }
    int64_t n_out = dk_shape_numel(nk, kept_dims), n_red = dk_shape_numel(nr, red_dims);
    assert_int_equal(dk_tensor_numel(y), n_out);
    for (int64_t o = 0; o < n_out; o++) {
        double sum = 0;
        for (int64_t r = 0; r < n_red; r++) {
            /* rebuild the input index from the kept and reduced counters */
            int64_t ko = o, kr = r, idx[DK_MAX_DIMS];
            for (int d = x->ndim - 1; d >= 0; d--) {
                int64_t *counter = reduced[d] ? &kr : &ko;
                idx[d] = *counter % x->dims[d];
                *counter /= x->dims[d];
            }
            int64_t i = 0;
            for (int d = 0; d < x->ndim; d++) i = i * x->dims[d] + idx[d];
            sum += dk_tensor_get(x, i);
        }
        double want = sum / (double)n_red, got = dk_tensor_get(y, o);
        if (!(fabs(got - want) <= 1e-6 * fabs(want) + 1e-9))
            fail_msg("ReduceMean element %lld: got %.9g want %.9g", (long long)o, got, want);
    }
}

typedef struct reduce_case {
    int64_t opset;
    int naxes;             /* -1: no axes */
    int64_t axes[4];
    int as_input;          /* axes as constant input 1 (opset 18) */
    int keepdims;          /* -1: attribute absent (default 1) */
    int noop;              /* noop_with_empty_axes */
    int reduced[4];        /* expected reduced axes of the 2x3x4x5 input */
    int ny;
    int64_t y[4];
} reduce_case;

static void run_reduce_case(const reduce_case *rc)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    dk_graph *g = new_graph(rc->opset);
    int ins[2] = {add_input(g, "x", DK_F32, 4, dims, -3, 3), -1};
    if (rc->as_input) {
        const int64_t n_axes[1] = {rc->naxes};
        ins[1] = add_value(g, "axes", DK_VALUE_CONSTANT, DK_I64, 1, n_axes, 0, 0);
        for (int i = 0; i < rc->naxes; i++) dk_tensor_set(&g->values[ins[1]].t, i, (double)rc->axes[i]);
    }
    int k = add_node(g, DK_OP_REDUCEMEAN, ins, rc->as_input ? 2 : 1);
    if (!rc->as_input && rc->naxes >= 0) {
        dk_attr *a = new_attr(g, k, "axes", DK_ATTR_INTS);
        a->n = rc->naxes;
        a->ints = malloc(sizeof(int64_t) * 4);
        memcpy(a->ints, rc->axes, sizeof(int64_t) * 4);
    }
    if (rc->keepdims >= 0) attr_int(g, k, "keepdims", rc->keepdims);
    if (rc->noop) attr_int(g, k, "noop_with_empty_axes", 1);
    if (dk_graph_finalize(g) != DK_OK) fail_msg("%s", dk_last_error());
    assert_shape(out_of(g, k), rc->ny, rc->y);
    dk_tensor y = {0};
    assert_int_equal(run_kernel(g, k, dk_ref_reducemean, &y), DK_OK);
    check_reducemean(&g->values[ins[0]].t, rc->reduced, &y);
    dk_tensor_reset(&y);
    dk_graph_destroy(g);
}

static void test_reducemean(void **state)
{
    (void)state;
    const reduce_case cases[] = {
        {13, 1, {1}, 0, 1, 0, {0, 1, 0, 0}, 4, {2, 1, 4, 5}},
        {13, 1, {1}, 0, 0, 0, {0, 1, 0, 0}, 3, {2, 4, 5}},
        {13, 1, {-2}, 0, -1, 0, {0, 0, 1, 0}, 4, {2, 3, 1, 5}},
        {13, 2, {2, 3}, 0, 1, 0, {0, 0, 1, 1}, 4, {2, 3, 1, 1}},   /* global average pool */
        {13, 2, {3, 0}, 0, 0, 0, {1, 0, 0, 1}, 2, {3, 4}},
        {13, 3, {0, 1, 3}, 0, 0, 0, {1, 1, 0, 1}, 1, {4}},
        {13, -1, {0}, 0, -1, 0, {1, 1, 1, 1}, 4, {1, 1, 1, 1}},    /* all axes */
        {13, -1, {0}, 0, 0, 0, {1, 1, 1, 1}, 0, {0}},              /* all axes to a scalar */
        {6, 1, {2}, 0, 0, 0, {0, 0, 1, 0}, 3, {2, 3, 5}},
        {18, 2, {1, -1}, 1, 1, 0, {0, 1, 0, 1}, 4, {2, 1, 4, 1}},  /* axes as input */
        {18, 0, {0}, 1, 0, 0, {1, 1, 1, 1}, 0, {0}},               /* empty axes: all */
        {18, 0, {0}, 1, 1, 1, {0, 0, 0, 0}, 4, {2, 3, 4, 5}},      /* empty axes, noop */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_reduce_case(&cases[i]);
}

static void test_reducemean_errors(void **state)
{
    (void)state;
    const int64_t dims[3] = {2, 3, 4};
    const int64_t dup[2] = {1, -2}, out_of_range[1] = {3};
    dk_graph *g = new_graph(13);
    int x = add_input(g, "x", DK_F32, 3, dims, 1, 0);
    int k = add_node(g, DK_OP_REDUCEMEAN, &x, 1);
    dk_attr *a = new_attr(g, k, "axes", DK_ATTR_INTS);
    a->n = 2;
    a->ints = malloc(sizeof dup);
    memcpy(a->ints, dup, sizeof dup);
    assert_int_equal(dk_graph_finalize(g), DK_ERR_FORMAT);
    assert_error_names_node("twice");
    dk_graph_destroy(g);

    g = new_graph(13);
    x = add_input(g, "x", DK_F32, 3, dims, 1, 0);
    k = add_node(g, DK_OP_REDUCEMEAN, &x, 1);
    a = new_attr(g, k, "axes", DK_ATTR_INTS);
    a->n = 1;
    a->ints = malloc(sizeof out_of_range);
    memcpy(a->ints, out_of_range, sizeof out_of_range);
    assert_int_equal(dk_graph_finalize(g), DK_ERR_SHAPE);
    assert_error_names_node("axis 3");
    dk_graph_destroy(g);

    /* axes input that is not known at load time */
    const int64_t one[1] = {1};
    g = new_graph(18);
    int ins[2] = {add_input(g, "x", DK_F32, 3, dims, 1, 0), add_input(g, "axes", DK_I64, 1, one, 1, 0)};
    add_node(g, DK_OP_REDUCEMEAN, ins, 2);
    assert_int_equal(dk_graph_finalize(g), DK_ERR_UNSUPPORTED);
    assert_error_names_node("axes");
    dk_graph_destroy(g);
}

int main(void)
{
    seed_rng();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_errors),
        cmocka_unit_test(test_reducemean),
        cmocka_unit_test(test_reducemean_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
