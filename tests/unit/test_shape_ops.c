/* Unit tests of the data-movement ops (layers/op_shape.c, op_permute.c,
 * op_pad.c, op_gather.c): shape inference, error paths and the dtype-generic
 * evals, against naive element-by-element computations written from the ONNX
 * spec. Inputs are random (seed printed); outputs are poisoned with 0xFF bytes
 * (NaN for floats) before every eval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltakern/graph.h"
#include "layers/op_table.h"
#include "test_util.h"

/* ---- random data and graph construction --------------------------------- */

/* Random values of the tensor's dtype: floats in [-1, 1), integers over their
 * whole range (int64 values above 2^53 catch any conversion through double). */
static void fill_random(dk_tensor *t)
{
    int64_t n = dk_tensor_numel(t);
    if (t->dtype == DK_F32) {
        for (int64_t i = 0; i < n; i++) ((float *)t->data)[i] = (float)tu_rng_uniform(-1, 1);
    } else if (t->dtype == DK_BOOL) {
        for (int64_t i = 0; i < n; i++) ((uint8_t *)t->data)[i] = tu_rng_next() & 1;
    } else {
        unsigned char *b = t->data;
        for (size_t i = 0; i < dk_tensor_nbytes(t); i++) b[i] = (unsigned char)tu_rng_next();
    }
}

/* A value of dtype and shape; inputs and constants get random data (fill_random). */
static int add_value(dk_graph *g, const char *name, dk_value_kind kind, dk_dtype dt, int ndim,
                     const int64_t *dims)
{
    int v = tu_add_value(g, name, kind, dt, ndim, dims, 1, 0); /* shape only */
    if (kind != DK_VALUE_ACTIVATION) {
        assert_int_equal(dk_tensor_alloc(&g->values[v].t, dt, ndim, dims), DK_OK);
        fill_random(&g->values[v].t);
    }
    return v;
}

/* A graph input (not constant) with random data for the evals. */
static int add_input(dk_graph *g, const char *name, dk_dtype dt, int ndim, const int64_t *dims)
{
    return add_value(g, name, DK_VALUE_INPUT, dt, ndim, dims);
}

static int add_const(dk_graph *g, const char *name, dk_dtype dt, int ndim, const int64_t *dims)
{
    return add_value(g, name, DK_VALUE_CONSTANT, dt, ndim, dims);
}

/* A 1-D integer constant (shape, axes, pads, indices). */
static int add_const_ints(dk_graph *g, const char *name, dk_dtype dt, int count,
                          const int64_t *vals)
{
    int64_t len = count;
    int v = add_const(g, name, dt, 1, &len);
    for (int i = 0; i < count; i++) dk_tensor_set(&g->values[v].t, i, (double)vals[i]);
    if (dt == DK_I64) memcpy(g->values[v].t.data, vals, (size_t)count * sizeof *vals);
    return v;
}

static int add_const_scalar(dk_graph *g, const char *name, dk_dtype dt, double value)
{
    int v = add_const(g, name, dt, 0, NULL);
    dk_tensor_set(&g->values[v].t, 0, value);
    return v;
}

/* Adds the node under test, named "node_<Op>", with fresh output values. */
static int add_node(dk_graph *g, dk_op op, int64_t opset, int nin, const int *inputs, int nout)
{
    char name[64];
    int k;
    snprintf(name, sizeof name, "node_%s", dk_op_name(op));
    assert_int_equal(dk_graph_add_node(g, name, op, nin, nout, &k), DK_OK);
    for (int o = 0; o < nout; o++) {
        char vname[80];
        snprintf(vname, sizeof vname, "%s_out%d", name, o);
        int v = add_value(g, vname, DK_VALUE_ACTIVATION, DK_DTYPE_UNDEFINED, 0, NULL);
        g->nodes[k].outputs[o] = v;
        g->values[v].producer = k;
    }
    dk_node *n = &g->nodes[k];
    n->opset = opset;
    for (int i = 0; i < nin; i++) n->inputs[i] = inputs[i];
    return k;
}

/* ---- running the node under test ---------------------------------------- */

static dk_status infer(dk_graph *g, int k)
{
    dk_node *n = &g->nodes[k];
    n->flops = -1;
    dk_status s = dk__op_info(n->op)->infer(g, n);
    if (s == DK_OK) assert_true(n->flops == 0); /* data movement: no arithmetic */
    return s;
}

static void expect_error(dk_graph *g, int k, dk_status want, const char *fragment)
{
    dk_status s = infer(g, k);
    const char *msg = dk_last_error();
    if (s != want || !strstr(msg, g->nodes[k].name) || (fragment && !strstr(msg, fragment)))
        fail_msg("got %s (\"%s\"), wanted %s mentioning \"%s\"", dk_status_name(s), msg,
                 dk_status_name(want), fragment ? fragment : "");
}

static void expect_shape(dk_graph *g, int k, int o, dk_dtype dt, int ndim, const int64_t *dims)
{
    const dk_tensor *t = tu_output(g, k, o);
    char got[128], want[128];
    dk_shape_str(t->ndim, t->dims, got, sizeof got);
    dk_shape_str(ndim, dims, want, sizeof want);
    if (t->dtype != dt || t->ndim != ndim || strcmp(got, want) != 0)
        fail_msg("output %d is %s %s, expected %s %s", o, dk_dtype_name(t->dtype), got,
                 dk_dtype_name(dt), want);
}

/* Evaluates node k into outs[] (allocated with the inferred shapes and
 * poisoned). The caller resets outs[]. */
static dk_status eval(dk_graph *g, int k, dk_tensor *outs)
{
    const dk_node *n = &g->nodes[k];
    const dk_tensor *in[16] = {0};
    dk_tensor *out[4] = {0};
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0) in[i] = &g->values[n->inputs[i]].t;
    for (int o = 0; o < n->n_outputs; o++) {
        if (n->outputs[o] < 0) continue;
        const dk_tensor *v = &g->values[n->outputs[o]].t;
        assert_int_equal(dk_tensor_alloc(&outs[o], v->dtype, v->ndim, v->dims), DK_OK);
        memset(outs[o].data, 0xFF, dk_tensor_nbytes(&outs[o]));
        out[o] = &outs[o];
    }
    return dk__op_info(n->op)->eval(n, in, out);
}

static void reset_all(dk_tensor *t, int n)
{
    for (int i = 0; i < n; i++) dk_tensor_reset(&t[i]);
}

/* ---- naive index arithmetic ------------------------------------------------ */

static void unravel(int64_t lin, int ndim, const int64_t *dims, int64_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = lin % dims[d];
        lin /= dims[d];
    }
}

static int64_t ravel(int ndim, const int64_t *dims, const int64_t *idx)
{
    int64_t lin = 0;
    for (int d = 0; d < ndim; d++) lin = lin * dims[d] + idx[d];
    return lin;
}

static int same_elem(const dk_tensor *a, int64_t i, const dk_tensor *b, int64_t j)
{
    size_t es = dk_dtype_size(a->dtype);
    return memcmp((const char *)a->data + (size_t)i * es, (const char *)b->data + (size_t)j * es,
                  es) == 0;
}

static void expect_same_bytes(const dk_tensor *got, const dk_tensor *want)
{
    assert_int_equal(dk_tensor_nbytes(got), dk_tensor_nbytes(want));
    assert_memory_equal(got->data, want->data, dk_tensor_nbytes(want));
}

/* ---- Flatten ------------------------------------------------------------------ */

static void test_flatten(void **state)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    for (int64_t axis = -4; axis <= 4; axis++) {
        dk_graph *g = tu_new_graph(0);
        int x = add_input(g, "x", DK_F32, 4, dims);
        int k = add_node(g, DK_OP_FLATTEN, 13, 1, &x, 1);
        tu_attr_int(g, k, "axis", axis);
        assert_int_equal(infer(g, k), DK_OK);
        int a = (int)(axis < 0 ? axis + 4 : axis);
        int64_t want[2] = {1, 1};
        for (int d = 0; d < 4; d++) want[d < a ? 0 : 1] *= dims[d];
        expect_shape(g, k, 0, DK_F32, 2, want);
        dk_tensor out[1] = {0};
        assert_int_equal(eval(g, k, out), DK_OK);
        expect_same_bytes(&out[0], &g->values[x].t);
        reset_all(out, 1);
        dk_graph_destroy(g);
    }
    dk_graph *g = tu_new_graph(0);
    int x = add_input(g, "x", DK_I64, 4, dims);
    int k = add_node(g, DK_OP_FLATTEN, 9, 1, &x, 1);
    assert_int_equal(infer(g, k), DK_OK); /* default axis 1 */
    expect_shape(g, k, 0, DK_I64, 2, (int64_t[]){2, 60});
    tu_attr_int(g, k, "axis", 5);
    expect_error(g, k, DK_ERR_SHAPE, "axis 5");
    dk_graph_destroy(g);
}

/* ---- Reshape ------------------------------------------------------------------ */

typedef struct reshape_case {
    int64_t in[4];
    int in_ndim;
    int64_t req[5];
    int nreq;
    int allowzero;
    int64_t want[5];
    int want_ndim;
} reshape_case;

static void test_reshape(void **state)
{
    static const reshape_case cases[] = {
        {{2, 3, 4}, 3, {2, -1, 2}, 3, 0, {2, 6, 2}, 3},
        {{2, 3, 4}, 3, {2, 0, 1, -1}, 4, 0, {2, 3, 1, 4}, 4},
        {{2, 3, 4}, 3, {-1, 2, 3, 4}, 4, 0, {1, 2, 3, 4}, 4},
        {{2, 3, 4}, 3, {24}, 1, 0, {24}, 1},
        {{2, 3, 4}, 3, {2, 0, 4, 1}, 4, 0, {2, 3, 4, 1}, 4},
        {{2, 3, 4}, 3, {4, 2, 3}, 3, 0, {4, 2, 3}, 3},
        {{0, 3, 4}, 3, {3, 4, 0}, 3, 1, {3, 4, 0}, 3},
        {{1, 2048, 1, 1}, 4, {1, -1}, 2, 0, {1, 2048}, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const reshape_case *rc = &cases[c];
        for (int as_int32 = 0; as_int32 < 2; as_int32++) {
            dk_graph *g = tu_new_graph(0);
            int ins[2] = {add_input(g, "x", DK_F32, rc->in_ndim, rc->in),
                          add_const_ints(g, "shape_in", as_int32 ? DK_I32 : DK_I64, rc->nreq,
                                         rc->req)};
            int k = add_node(g, DK_OP_RESHAPE, 14, 2, ins, 1);
            if (rc->allowzero) tu_attr_int(g, k, "allowzero", 1);
            assert_int_equal(infer(g, k), DK_OK);
            expect_shape(g, k, 0, DK_F32, rc->want_ndim, rc->want);
            dk_tensor out[1] = {0};
            assert_int_equal(eval(g, k, out), DK_OK);
            expect_same_bytes(&out[0], &g->values[ins[0]].t);
            reset_all(out, 1);
            dk_graph_destroy(g);
        }
    }

    /* opset < 5: the target comes from the attribute. */
    dk_graph *g = tu_new_graph(0);
    int x = add_input(g, "x", DK_I64, 3, (int64_t[]){2, 3, 4});
    int k = add_node(g, DK_OP_RESHAPE, 4, 1, &x, 1);
    tu_attr_ints(g, k, "shape", 2, (int64_t[]){6, -1});
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_I64, 2, (int64_t[]){6, 4});
    dk_graph_destroy(g);

    /* errors */
    struct { int64_t req[4]; int n; dk_status s; const char *frag; } bad[] = {
        {{5, -1}, 2, DK_ERR_SHAPE, "cannot reshape input 2x3x4 (24 elements) to shape [5, -1]"},
        {{5, 5}, 2, DK_ERR_SHAPE, "[5, 5]"},
        {{-1, -1}, 2, DK_ERR_FORMAT, "more than one -1"},
        {{2, 3, 4, 0}, 4, DK_ERR_SHAPE, "rank 3"},
        {{2, -3, 4}, 3, DK_ERR_FORMAT, "-3"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        g = tu_new_graph(0);
        int ins[2] = {add_input(g, "x", DK_F32, 3, (int64_t[]){2, 3, 4}),
                      add_const_ints(g, "shape_in", DK_I64, bad[c].n, bad[c].req)};
        k = add_node(g, DK_OP_RESHAPE, 13, 2, ins, 1);
        expect_error(g, k, bad[c].s, bad[c].frag);
        dk_graph_destroy(g);
    }

    /* allowzero forbids 0 with -1; a shape computed at run time is unsupported */
    g = tu_new_graph(0);
    int ins[2] = {add_input(g, "x", DK_F32, 3, (int64_t[]){2, 3, 4}),
                  add_const_ints(g, "shape_in", DK_I64, 2, (int64_t[]){0, -1})};
    k = add_node(g, DK_OP_RESHAPE, 14, 2, ins, 1);
    tu_attr_int(g, k, "allowzero", 1);
    expect_error(g, k, DK_ERR_FORMAT, "allowzero");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x", DK_F32, 3, (int64_t[]){2, 3, 4});
    ins[1] = add_input(g, "runtime_shape", DK_I64, 1, (int64_t[]){2});
    k = add_node(g, DK_OP_RESHAPE, 13, 2, ins, 1);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "runtime_shape");
    dk_graph_destroy(g);
}

/* ---- Squeeze / Unsqueeze ------------------------------------------------------- */

/* Squeeze or Unsqueeze of `in` with axes given as input (opset 13) or attribute
 * (opset 11); axes == NULL omits them. */
static dk_graph *squeeze_graph(dk_op op, int opset, int ndim, const int64_t *in, int naxes,
                               const int64_t *axes, int *k)
{
    dk_graph *g = tu_new_graph(0);
    int ins[2] = {add_input(g, "x", DK_F32, ndim, in), -1};
    if (axes && opset >= 13) ins[1] = add_const_ints(g, "axes", DK_I64, naxes, axes);
    *k = add_node(g, op, opset, ins[1] >= 0 ? 2 : 1, ins, 1);
    if (axes && opset < 13) tu_attr_ints(g, *k, "axes", naxes, axes);
    return g;
}

static void check_relabel(dk_op op, int opset, int ndim, const int64_t *in, int naxes,
                          const int64_t *axes, int want_ndim, const int64_t *want)
{
    int k;
    dk_graph *g = squeeze_graph(op, opset, ndim, in, naxes, axes, &k);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_F32, want_ndim, want);
    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    expect_same_bytes(&out[0], &g->values[g->nodes[k].inputs[0]].t);
    reset_all(out, 1);
    dk_graph_destroy(g);
}

static void check_relabel_error(dk_op op, int opset, int ndim, const int64_t *in, int naxes,
                                const int64_t *axes, dk_status s, const char *frag)
{
    int k;
    dk_graph *g = squeeze_graph(op, opset, ndim, in, naxes, axes, &k);
    expect_error(g, k, s, frag);
    dk_graph_destroy(g);
}

static void test_squeeze(void **state)
{
    const int64_t x[4] = {1, 3, 1, 5};
    check_relabel(DK_OP_SQUEEZE, 13, 4, x, 1, (int64_t[]){-2}, 3, (int64_t[]){1, 3, 5});
    check_relabel(DK_OP_SQUEEZE, 13, 4, x, 1, (int64_t[]){0}, 3, (int64_t[]){3, 1, 5});
    check_relabel(DK_OP_SQUEEZE, 11, 4, x, 2, (int64_t[]){2, 0}, 2, (int64_t[]){3, 5});
    check_relabel(DK_OP_SQUEEZE, 13, 4, x, 0, NULL, 2, (int64_t[]){3, 5});
    check_relabel(DK_OP_SQUEEZE, 1, 4, x, 0, NULL, 2, (int64_t[]){3, 5});
    check_relabel_error(DK_OP_SQUEEZE, 13, 4, x, 1, (int64_t[]){1}, DK_ERR_SHAPE,
                        "cannot squeeze axis 1 of size 3");
    check_relabel_error(DK_OP_SQUEEZE, 13, 4, x, 2, (int64_t[]){0, -4}, DK_ERR_FORMAT, "twice");
    check_relabel_error(DK_OP_SQUEEZE, 11, 4, x, 1, (int64_t[]){4}, DK_ERR_SHAPE, "axis 4");
}

static void test_unsqueeze(void **state)
{
    const int64_t x[3] = {3, 4, 5};
    check_relabel(DK_OP_UNSQUEEZE, 13, 3, x, 3, (int64_t[]){5, 4, 2}, 6,
                  (int64_t[]){3, 4, 1, 5, 1, 1});
    check_relabel(DK_OP_UNSQUEEZE, 13, 3, x, 2, (int64_t[]){1, 4}, 5,
                  (int64_t[]){3, 1, 4, 5, 1});
    check_relabel(DK_OP_UNSQUEEZE, 11, 3, x, 1, (int64_t[]){3}, 4, (int64_t[]){3, 4, 5, 1});
    check_relabel(DK_OP_UNSQUEEZE, 13, 4, (int64_t[]){1, 3, 1, 5}, 1, (int64_t[]){-2}, 5,
                  (int64_t[]){1, 3, 1, 1, 5});
    check_relabel(DK_OP_UNSQUEEZE, 13, 0, NULL, 1, (int64_t[]){0}, 1, (int64_t[]){1});
    check_relabel_error(DK_OP_UNSQUEEZE, 13, 3, x, 2, (int64_t[]){1, -4}, DK_ERR_FORMAT, "twice");
    check_relabel_error(DK_OP_UNSQUEEZE, 13, 3, x, 1, (int64_t[]){4}, DK_ERR_SHAPE, "axis 4");
    check_relabel_error(DK_OP_UNSQUEEZE, 11, 3, x, 0, NULL, DK_ERR_FORMAT, "axes");
    check_relabel_error(DK_OP_UNSQUEEZE, 13, 3, x, 6, (int64_t[]){0, 1, 2, 3, 4, 5},
                        DK_ERR_UNSUPPORTED, "rank 9");
}

/* ---- Identity / Dropout -------------------------------------------------------- */

static void test_identity(void **state)
{
    dk_graph *g = tu_new_graph(0);
    int x = add_input(g, "x", DK_I64, 2, (int64_t[]){3, 7});
    int k = add_node(g, DK_OP_IDENTITY, 16, 1, &x, 1);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_I64, 2, (int64_t[]){3, 7});
    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    expect_same_bytes(&out[0], &g->values[x].t);
    reset_all(out, 1);
    dk_graph_destroy(g);
}

/* Dropout with ratio/training_mode inputs (-1: omitted; < -1: not constant). */
static dk_graph *dropout_graph(int opset, double ratio, double training, int nout, int *k)
{
    dk_graph *g = tu_new_graph(0);
    const int64_t dims[3] = {3, 4, 5};
    int ins[3] = {add_input(g, "x", DK_F32, 3, dims), -1, -1};
    if (ratio >= 0) ins[1] = add_const_scalar(g, "ratio", DK_F32, ratio);
    if (training >= 0) ins[2] = add_const_scalar(g, "training", DK_BOOL, training);
    if (training < -1) ins[2] = add_input(g, "runtime_training", DK_BOOL, 0, NULL);
    *k = add_node(g, DK_OP_DROPOUT, opset, 3, ins, nout);
    return g;
}

static void check_dropout_identity(dk_graph *g, int k, dk_dtype mask_type)
{
    const int64_t dims[3] = {3, 4, 5};
    int nout = g->nodes[k].n_outputs;
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_F32, 3, dims);
    if (nout > 1) expect_shape(g, k, 1, mask_type, 3, dims);
    dk_tensor out[2] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    expect_same_bytes(&out[0], &g->values[g->nodes[k].inputs[0]].t);
    for (int64_t i = 0; nout > 1 && i < dk_tensor_numel(&out[1]); i++)
        assert_true(dk_tensor_get(&out[1], i) == 1.0); /* every element kept */
    reset_all(out, 2);
}

static void test_dropout(void **state)
{
    int k;
    dk_graph *g = dropout_graph(13, -1, -1, 2, &k);
    check_dropout_identity(g, k, DK_BOOL);
    dk_graph_destroy(g);

    g = dropout_graph(13, 0.1, -1, 2, &k); /* ratio without training: identity */
    check_dropout_identity(g, k, DK_BOOL);
    dk_graph_destroy(g);

    g = dropout_graph(13, 0.0, 1, 2, &k); /* training with ratio 0 drops nothing */
    check_dropout_identity(g, k, DK_BOOL);
    dk_graph_destroy(g);

    g = dropout_graph(13, 0.5, 0, 1, &k); /* training_mode = false */
    check_dropout_identity(g, k, DK_BOOL);
    dk_graph_destroy(g);

    g = dropout_graph(10, -1, -1, 2, &k);
    tu_attr_float(g, k, "ratio", 0.2f);
    g->nodes[k].n_inputs = 1;
    check_dropout_identity(g, k, DK_BOOL);
    dk_graph_destroy(g);

    g = dropout_graph(6, -1, -1, 2, &k); /* opset < 10: the mask has the input's type */
    g->nodes[k].n_inputs = 1;
    tu_attr_int(g, k, "is_test", 1);
    check_dropout_identity(g, k, DK_F32);
    dk_graph_destroy(g);

    g = dropout_graph(13, 0.75, 1, 1, &k);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "training mode");
    dk_graph_destroy(g);

    g = dropout_graph(13, -1, 1, 1, &k); /* default ratio 0.5 */
    expect_error(g, k, DK_ERR_UNSUPPORTED, "training mode");
    dk_graph_destroy(g);

    g = dropout_graph(13, 0.5, -2, 1, &k);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "runtime_training");
    dk_graph_destroy(g);

    g = dropout_graph(6, -1, -1, 1, &k);
    g->nodes[k].n_inputs = 1;
    tu_attr_int(g, k, "is_test", 0);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "is_test=0");
    dk_graph_destroy(g);
}

/* ---- Transpose ------------------------------------------------------------------ */

static void check_transpose(dk_dtype dt, int ndim, const int64_t *dims, const int64_t *perm)
{
    dk_graph *g = tu_new_graph(0);
    int x = add_input(g, "x", dt, ndim, dims);
    int k = add_node(g, DK_OP_TRANSPOSE, 13, 1, &x, 1);
    int64_t p[DK_MAX_DIMS], want[DK_MAX_DIMS];
    for (int d = 0; d < ndim; d++) p[d] = perm ? perm[d] : ndim - 1 - d; /* default: reverse */
    if (perm) tu_attr_ints(g, k, "perm", ndim, perm);
    assert_int_equal(infer(g, k), DK_OK);
    for (int d = 0; d < ndim; d++) want[d] = dims[p[d]];
    expect_shape(g, k, 0, dt, ndim, want);

    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    const dk_tensor *in = &g->values[x].t;
    int64_t oi[DK_MAX_DIMS], ii[DK_MAX_DIMS];
    for (int64_t i = 0; i < dk_tensor_numel(&out[0]); i++) {
        unravel(i, ndim, want, oi);
        for (int d = 0; d < ndim; d++) ii[p[d]] = oi[d]; /* out[i0..] = in[i_perm^-1] */
        if (!same_elem(&out[0], i, in, ravel(ndim, dims, ii)))
            fail_msg("transpose mismatch at output element %lld", (long long)i);
    }
    reset_all(out, 1);
    dk_graph_destroy(g);
}

static void test_transpose(void **state)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    int64_t perm[4];
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++) {
                int d = 6 - a - b - c;
                if (a == b || a == c || b == c || d < 0 || d > 3 || d == a || d == b || d == c)
                    continue;
                perm[0] = a, perm[1] = b, perm[2] = c, perm[3] = d;
                check_transpose(DK_F32, 4, dims, perm);
            }
    check_transpose(DK_F32, 3, dims, NULL);
    check_transpose(DK_I64, 3, (int64_t[]){4, 7, 3}, (int64_t[]){1, 2, 0});
    check_transpose(DK_U8, 3, (int64_t[]){5, 2, 9}, (int64_t[]){2, 0, 1});
    check_transpose(DK_I16, 2, (int64_t[]){5, 9}, NULL);
    check_transpose(DK_F32, 4, (int64_t[]){1, 2048, 7, 7}, (int64_t[]){0, 2, 3, 1});
    check_transpose(DK_F32, 6, (int64_t[]){1, 1, 3, 4, 2, 3}, (int64_t[]){0, 1, 4, 2, 5, 3});
    check_transpose(DK_F32, 1, (int64_t[]){6}, NULL);
    check_transpose(DK_F32, 0, NULL, NULL);
    check_transpose(DK_F32, 3, (int64_t[]){2, 0, 3}, (int64_t[]){2, 0, 1});

    dk_graph *g = tu_new_graph(0);
    int x = add_input(g, "x", DK_F32, 3, dims);
    int k = add_node(g, DK_OP_TRANSPOSE, 13, 1, &x, 1);
    tu_attr_ints(g, k, "perm", 3, (int64_t[]){0, 2, 2});
    expect_error(g, k, DK_ERR_FORMAT, "[0, 2, 2]");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    x = add_input(g, "x", DK_F32, 3, dims);
    k = add_node(g, DK_OP_TRANSPOSE, 13, 1, &x, 1);
    tu_attr_ints(g, k, "perm", 2, (int64_t[]){1, 0});
    expect_error(g, k, DK_ERR_SHAPE, "rank 3");
    dk_graph_destroy(g);
}

/* ---- Concat ------------------------------------------------------------------------ */

static void check_concat(dk_dtype dt, int ndim, int nin, const int64_t (*shapes)[4], int64_t axis)
{
    dk_graph *g = tu_new_graph(0);
    int ins[4];
    for (int i = 0; i < nin; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        ins[i] = add_input(g, name, dt, ndim, shapes[i]);
    }
    int k = add_node(g, DK_OP_CONCAT, 13, nin, ins, 1);
    tu_attr_int(g, k, "axis", axis);
    assert_int_equal(infer(g, k), DK_OK);
    int a = (int)(axis < 0 ? axis + ndim : axis);
    int64_t want[4];
    for (int d = 0; d < ndim; d++) want[d] = shapes[0][d];
    for (int i = 1; i < nin; i++) want[a] += shapes[i][a];
    expect_shape(g, k, 0, dt, ndim, want);

    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    int64_t idx[4];
    for (int64_t e = 0; e < dk_tensor_numel(&out[0]); e++) {
        unravel(e, ndim, want, idx);
        int i = 0; /* find the input holding this coordinate along the axis */
        while (idx[a] >= shapes[i][a]) idx[a] -= shapes[i++][a];
        if (!same_elem(&out[0], e, &g->values[ins[i]].t, ravel(ndim, shapes[i], idx)))
            fail_msg("concat mismatch at output element %lld", (long long)e);
    }
    reset_all(out, 1);
    dk_graph_destroy(g);
}

static void test_concat(void **state)
{
    const int64_t s3[3][4] = {{2, 1, 4}, {2, 3, 4}, {2, 2, 4}};
    check_concat(DK_F32, 3, 3, s3, 1);
    check_concat(DK_F32, 3, 3, s3, -2);
    const int64_t s0[2][4] = {{1, 3, 2}, {4, 3, 2}};
    check_concat(DK_F32, 3, 2, s0, 0);
    const int64_t sl[3][4] = {{2, 3, 1}, {2, 3, 5}, {2, 3, 0}};
    check_concat(DK_F32, 3, 3, sl, -1);
    const int64_t s1[4][4] = {{1}, {1}, {2}, {1}}; /* shape arithmetic: int64 exact */
    check_concat(DK_I64, 1, 4, s1, 0);
    check_concat(DK_I32, 1, 2, s1, 0);

    dk_graph *g = tu_new_graph(0);
    int ins[3] = {add_input(g, "x0", DK_F32, 3, (int64_t[]){2, 3, 4}),
                  add_input(g, "x1", DK_F32, 3, (int64_t[]){2, 1, 4}),
                  add_input(g, "x2", DK_F32, 3, (int64_t[]){2, 1, 5})};
    int k = add_node(g, DK_OP_CONCAT, 13, 3, ins, 1);
    tu_attr_int(g, k, "axis", 1);
    expect_error(g, k, DK_ERR_SHAPE, "input 2 has shape 2x1x5 but input 0 has 2x3x4");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x0", DK_F32, 2, (int64_t[]){2, 3});
    ins[1] = add_input(g, "x1", DK_F32, 3, (int64_t[]){2, 3, 1});
    k = add_node(g, DK_OP_CONCAT, 13, 2, ins, 1);
    tu_attr_int(g, k, "axis", 0);
    expect_error(g, k, DK_ERR_SHAPE, "input 1 has shape 2x3x1");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x0", DK_F32, 1, (int64_t[]){2});
    ins[1] = add_input(g, "x1", DK_I64, 1, (int64_t[]){2});
    k = add_node(g, DK_OP_CONCAT, 13, 2, ins, 1);
    tu_attr_int(g, k, "axis", 0);
    expect_error(g, k, DK_ERR_FORMAT, "int64");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x0", DK_F32, 1, (int64_t[]){2});
    k = add_node(g, DK_OP_CONCAT, 13, 1, ins, 1);
    expect_error(g, k, DK_ERR_FORMAT, "axis");
    tu_attr_int(g, k, "axis", 1);
    expect_error(g, k, DK_ERR_SHAPE, "axis 1");
    dk_graph_destroy(g);
}

/* ---- Pad ----------------------------------------------------------------------------- */

/* numpy.pad semantics, applied iteratively as numpy documents them. */
static int64_t naive_source(int64_t i, int64_t n, dk_pad_mode mode)
{
    if (i >= 0 && i < n) return i;
    if (mode == DK_PAD_CONSTANT) return -1;
    if (mode == DK_PAD_EDGE) return i < 0 ? 0 : n - 1;
    if (n == 1) return 0;
    while (i < 0 || i >= n) { /* reflect about the first and last elements */
        if (i < 0) i = -i;
        if (i >= n) i = 2 * (n - 1) - i;
    }
    return i;
}

static const char *mode_name(dk_pad_mode m)
{
    return m == DK_PAD_CONSTANT ? "constant" : m == DK_PAD_REFLECT ? "reflect" : "edge";
}

/* Pads x (dims) with begin/end pads in the given opset's encoding and checks
 * the eval element by element. */
static void check_pad(int opset, dk_dtype dt, int ndim, const int64_t *dims, const int64_t *pads,
                      dk_pad_mode mode, double value)
{
    dk_graph *g = tu_new_graph(0);
    int ins[3] = {add_input(g, "x", dt, ndim, dims), -1, -1};
    int nin = 1;
    if (opset >= 11) {
        ins[1] = add_const_ints(g, "pads", DK_I64, 2 * ndim, pads);
        nin = 2;
        if (value != 0 || tu_rng_next() % 2) {
            ins[2] = add_const_scalar(g, "value", dt, value);
            nin = 3;
        }
    }
    int k = add_node(g, DK_OP_PAD, opset, nin, ins, 1);
    if (mode != DK_PAD_CONSTANT || tu_rng_next() % 2) tu_attr_string(g, k, "mode", mode_name(mode));
    if (opset < 11) {
        tu_attr_ints(g, k, opset < 2 ? "paddings" : "pads", 2 * ndim, pads);
        if (value != 0) tu_attr_float(g, k, "value", (float)value);
    }
    assert_int_equal(infer(g, k), DK_OK);
    int64_t want[DK_MAX_DIMS];
    for (int d = 0; d < ndim; d++) want[d] = dims[d] + pads[d] + pads[d + ndim];
    expect_shape(g, k, 0, dt, ndim, want);

    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    const dk_tensor *in = &g->values[ins[0]].t;
    int64_t oi[DK_MAX_DIMS], ii[DK_MAX_DIMS];
    for (int64_t e = 0; e < dk_tensor_numel(&out[0]); e++) {
        unravel(e, ndim, want, oi);
        int outside = 0;
        for (int d = 0; d < ndim; d++) {
            ii[d] = naive_source(oi[d] - pads[d], dims[d], mode);
            outside |= ii[d] < 0;
        }
        int ok = outside ? dk_tensor_get(&out[0], e) == value
                         : same_elem(&out[0], e, in, ravel(ndim, dims, ii));
        if (!ok)
            fail_msg("%s pad (opset %d, %s) mismatch at output element %lld", mode_name(mode),
                     opset, dk_dtype_name(dt), (long long)e);
    }
    reset_all(out, 1);
    dk_graph_destroy(g);
}

static void test_pad_modes(void **state)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    const dk_dtype types[3] = {DK_F32, DK_I32, DK_I64};
    const double values[3] = {1.25, -7, 123456789012345.0};
    for (int mode = DK_PAD_CONSTANT; mode <= DK_PAD_EDGE; mode++) {
        for (int trial = 0; trial < 30; trial++) {
            int64_t pads[8];
            for (int d = 0; d < 4; d++) { /* crop up to half the axis, pad up to 6 */
                pads[d] = tu_rng_int(-(dims[d] - 1) / 2, 6);
                pads[d + 4] = tu_rng_int(-(dims[d] - 1) / 2, 6);
            }
            int t = (int)(tu_rng_next() % 3);
            int opset = trial % 3 == 0 ? 2 : trial % 3 == 1 ? 11 : 13;
            double value = mode == DK_PAD_CONSTANT && (t == 0 || opset >= 11) ? values[t] : 0;
            check_pad(opset, types[t], 4, dims, pads, (dk_pad_mode)mode, value);
        }
    }
    /* torch ReflectionPad2d / ReplicationPad2d / ConstantPad2d, opset 6 attributes */
    const int64_t torch_pads[8] = {0, 0, 3, 1, 0, 0, 4, 2};
    check_pad(6, DK_F32, 4, (int64_t[]){2, 3, 8, 8}, torch_pads, DK_PAD_REFLECT, 0);
    check_pad(6, DK_F32, 4, (int64_t[]){2, 3, 4, 4}, torch_pads, DK_PAD_EDGE, 0);
    check_pad(6, DK_F32, 4, (int64_t[]){2, 3, 4, 4}, torch_pads, DK_PAD_CONSTANT, 2);
    check_pad(1, DK_F32, 2, (int64_t[]){3, 4}, (int64_t[]){1, 0, 0, 2}, DK_PAD_CONSTANT, 0.5);
    /* reflect wider than the axis keeps reflecting; size-1 axes repeat */
    check_pad(13, DK_F32, 2, (int64_t[]){3, 1}, (int64_t[]){7, 2, 6, 3}, DK_PAD_REFLECT, 0);
    check_pad(13, DK_U8, 3, (int64_t[]){1, 2, 3}, (int64_t[]){0, 1, 1, 0, 1, 1}, DK_PAD_EDGE, 0);
    check_pad(13, DK_F32, 1, (int64_t[]){5}, (int64_t[]){-2, -3}, DK_PAD_CONSTANT, 0);
    check_pad(13, DK_F32, 2, (int64_t[]){0, 3}, (int64_t[]){1, 0, 1, 0}, DK_PAD_CONSTANT, 3);
}

static void test_pad_axes_and_errors(void **state)
{
    /* opset 18: pads only the listed axes */
    dk_graph *g = tu_new_graph(0);
    int ins[4] = {add_input(g, "x", DK_F32, 3, (int64_t[]){2, 3, 4}),
                  add_const_ints(g, "pads", DK_I64, 4, (int64_t[]){1, 2, 3, 4}), -1,
                  add_const_ints(g, "axes", DK_I64, 2, (int64_t[]){-1, 0})};
    int k = add_node(g, DK_OP_PAD, 18, 4, ins, 1);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_F32, 3, (int64_t[]){2 + 2 + 4, 3, 4 + 1 + 3});
    dk_graph_destroy(g);

    struct {
        int64_t dims[2];
        int64_t pads[4];
        int npads;
        const char *mode;
        dk_status s;
        const char *frag;
    } bad[] = {
        {{3, 4}, {1, 1, 1}, 3, "constant", DK_ERR_SHAPE, "4 values expected"},
        {{3, 4}, {1, 1, 1, 1}, 4, "wrap", DK_ERR_UNSUPPORTED, "wrap"},
        {{3, 4}, {1, 1, 1, 1}, 4, "mirror", DK_ERR_FORMAT, "mirror"},
        {{3, 4}, {-2, 0, -2, 0}, 4, "constant", DK_ERR_SHAPE, "crop"},
        {{0, 4}, {1, 0, 0, 0}, 4, "edge", DK_ERR_SHAPE, "empty input 0x4"},
    };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        g = tu_new_graph(0);
        ins[0] = add_input(g, "x", DK_F32, 2, bad[c].dims);
        ins[1] = add_const_ints(g, "pads", DK_I64, bad[c].npads, bad[c].pads);
        k = add_node(g, DK_OP_PAD, 13, 2, ins, 1);
        tu_attr_string(g, k, "mode", bad[c].mode);
        expect_error(g, k, bad[c].s, bad[c].frag);
        dk_graph_destroy(g);
    }

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x", DK_F32, 2, (int64_t[]){3, 4});
    ins[1] = add_input(g, "runtime_pads", DK_I64, 1, (int64_t[]){4});
    k = add_node(g, DK_OP_PAD, 13, 2, ins, 1);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "runtime_pads");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x", DK_F32, 2, (int64_t[]){3, 4});
    ins[1] = add_const_ints(g, "pads", DK_I64, 4, (int64_t[]){0, 0, 1, 1});
    ins[2] = add_input(g, "runtime_value", DK_F32, 0, NULL);
    k = add_node(g, DK_OP_PAD, 13, 3, ins, 1);
    expect_error(g, k, DK_ERR_UNSUPPORTED, "runtime_value");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "x", DK_F32, 2, (int64_t[]){3, 4});
    k = add_node(g, DK_OP_PAD, 2, 1, ins, 1);
    expect_error(g, k, DK_ERR_FORMAT, "'pads' is required");
    dk_graph_destroy(g);
}

/* ---- Constant ------------------------------------------------------------------------ */

static void test_constant(void **state)
{
    /* value: a tensor attribute, copied byte for byte */
    dk_graph *g = tu_new_graph(0);
    int k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    dk_attr *a = tu_add_attr(g, k, "value", DK_ATTR_TENSOR);
    a->t = calloc(1, sizeof *a->t);
    assert_int_equal(dk_tensor_alloc(a->t, DK_I64, 2, (int64_t[]){5, 5}), DK_OK);
    fill_random(a->t);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_I64, 2, (int64_t[]){5, 5});
    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    expect_same_bytes(&out[0], g->nodes[k].attrs[0].t);
    reset_all(out, 1);
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    tu_attr_float(g, k, "value_float", 2.5f);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_F32, 0, NULL);
    assert_int_equal(eval(g, k, out), DK_OK);
    assert_true(((float *)out[0].data)[0] == 2.5f);
    reset_all(out, 1);
    dk_graph_destroy(g);

    const float fv[3] = {1.5f, -2.0f, 3.25f};
    g = tu_new_graph(0);
    k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    tu_attr_floats(g, k, "value_floats", 3, fv);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_F32, 1, (int64_t[]){3});
    assert_int_equal(eval(g, k, out), DK_OK);
    assert_memory_equal(out[0].data, fv, sizeof fv);
    reset_all(out, 1);
    dk_graph_destroy(g);

    const int64_t iv[2] = {INT64_MAX - 1, -(INT64_C(1) << 60) - 1};
    g = tu_new_graph(0);
    k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    tu_attr_ints(g, k, "value_ints", 2, iv);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_I64, 1, (int64_t[]){2});
    assert_int_equal(eval(g, k, out), DK_OK);
    assert_memory_equal(out[0].data, iv, sizeof iv);
    reset_all(out, 1);
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    tu_attr_int(g, k, "value_int", iv[0]);
    assert_int_equal(infer(g, k), DK_OK);
    expect_shape(g, k, 0, DK_I64, 0, NULL);
    assert_int_equal(eval(g, k, out), DK_OK);
    assert_true(((int64_t *)out[0].data)[0] == iv[0]);
    reset_all(out, 1);
    tu_attr_float(g, k, "value_float", 1.0f); /* two values: malformed */
    expect_error(g, k, DK_ERR_FORMAT, "exactly one");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    k = add_node(g, DK_OP_CONSTANT, 13, 0, NULL, 1);
    expect_error(g, k, DK_ERR_FORMAT, "exactly one");
    dk_graph_destroy(g);
}

/* ---- Shape ------------------------------------------------------------------------------ */

static void test_shape(void **state)
{
    const int64_t dims[3] = {3, 4, 5};
    const int r = 3;
    for (int64_t start = -5; start <= 5; start++) {
        for (int64_t end = -5; end <= 6; end++) { /* end == 6: attribute absent */
            dk_graph *g = tu_new_graph(0);
            int x = add_input(g, "x", DK_F32, 3, dims);
            int k = add_node(g, DK_OP_SHAPE, 15, 1, &x, 1);
            if (start != 0) tu_attr_int(g, k, "start", start);
            if (end != 6) tu_attr_int(g, k, "end", end);
            assert_int_equal(infer(g, k), DK_OK);
            /* the spec: negative counts from the back, then clamp to [0, rank] */
            int64_t s = start < 0 ? start + r : start, e = end == 6 ? r : end < 0 ? end + r : end;
            s = s < 0 ? 0 : s > r ? r : s;
            e = e < 0 ? 0 : e > r ? r : e;
            int64_t len = e > s ? e - s : 0;
            expect_shape(g, k, 0, DK_I64, 1, &len);
            dk_tensor out[1] = {0};
            assert_int_equal(eval(g, k, out), DK_OK);
            for (int64_t i = 0; i < len; i++)
                assert_true(((int64_t *)out[0].data)[i] == dims[s + i]);
            reset_all(out, 1);
            dk_graph_destroy(g);
        }
    }
}

/* ---- Gather ------------------------------------------------------------------------------ */

static void check_gather(dk_dtype dt, int ndim, const int64_t *dims, dk_dtype it, int qdim,
                         const int64_t *qdims, int64_t axis, int constant_indices)
{
    dk_graph *g = tu_new_graph(0);
    int ins[2] = {add_input(g, "data", dt, ndim, dims), -1};
    ins[1] = constant_indices ? add_const(g, "indices", it, qdim, qdims)
                              : add_input(g, "indices", it, qdim, qdims);
    int a = (int)(axis < 0 ? axis + ndim : axis);
    dk_tensor *ind = &g->values[ins[1]].t;
    for (int64_t i = 0; i < dk_tensor_numel(ind); i++) /* negative indices count from the end */
        dk_tensor_set(ind, i, (double)tu_rng_int(-dims[a], dims[a] - 1));
    int k = add_node(g, DK_OP_GATHER, 13, 2, ins, 1);
    if (axis != 0) tu_attr_int(g, k, "axis", axis);
    assert_int_equal(infer(g, k), DK_OK);

    int64_t want[DK_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < a; d++) want[r++] = dims[d];
    for (int d = 0; d < qdim; d++) want[r++] = qdims[d];
    for (int d = a + 1; d < ndim; d++) want[r++] = dims[d];
    expect_shape(g, k, 0, dt, r, want);

    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_OK);
    int64_t oi[DK_MAX_DIMS], di[DK_MAX_DIMS];
    for (int64_t e = 0; e < dk_tensor_numel(&out[0]); e++) {
        unravel(e, r, want, oi);
        for (int d = 0; d < a; d++) di[d] = oi[d];
        int64_t v = (int64_t)dk_tensor_get(ind, ravel(qdim, qdims, oi + a));
        di[a] = v < 0 ? v + dims[a] : v;
        for (int d = a + 1; d < ndim; d++) di[d] = oi[d - 1 + qdim];
        if (!same_elem(&out[0], e, &g->values[ins[0]].t, ravel(ndim, dims, di)))
            fail_msg("gather mismatch at output element %lld", (long long)e);
    }
    reset_all(out, 1);
    dk_graph_destroy(g);
}

static void test_gather(void **state)
{
    const int64_t dims[3] = {5, 4, 3};
    for (int64_t axis = -3; axis < 3; axis++) {
        check_gather(DK_F32, 3, dims, DK_I64, 2, (int64_t[]){2, 3}, axis, 0);
        check_gather(DK_I64, 3, dims, DK_I32, 1, (int64_t[]){4}, axis, 1);
        check_gather(DK_F32, 3, dims, DK_I64, 0, NULL, axis, 1); /* scalar index drops the axis */
    }
    check_gather(DK_I64, 1, (int64_t[]){4}, DK_I64, 0, NULL, 0, 1); /* Shape -> Gather */
    check_gather(DK_U8, 2, (int64_t[]){3, 3}, DK_I64, 2, (int64_t[]){1, 2}, 1, 0);

    /* out of range: at load time for constant indices, at eval otherwise */
    dk_graph *g = tu_new_graph(0);
    int ins[2] = {add_input(g, "data", DK_F32, 2, (int64_t[]){3, 4}),
                  add_const_ints(g, "indices", DK_I64, 2, (int64_t[]){1, -5})};
    int k = add_node(g, DK_OP_GATHER, 13, 2, ins, 1);
    tu_attr_int(g, k, "axis", 1);
    expect_error(g, k, DK_ERR_SHAPE, "index -5 out of range [-4, 4)");
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "data", DK_F32, 2, (int64_t[]){3, 4});
    ins[1] = add_input(g, "indices", DK_I32, 1, (int64_t[]){2});
    ((int32_t *)g->values[ins[1]].t.data)[0] = 0;
    ((int32_t *)g->values[ins[1]].t.data)[1] = 3;
    k = add_node(g, DK_OP_GATHER, 13, 2, ins, 1);
    assert_int_equal(infer(g, k), DK_OK);
    dk_tensor out[1] = {0};
    assert_int_equal(eval(g, k, out), DK_ERR_SHAPE);
    assert_non_null(strstr(dk_last_error(), "node_Gather"));
    assert_non_null(strstr(dk_last_error(), "index 3 out of range"));
    reset_all(out, 1);
    dk_graph_destroy(g);

    g = tu_new_graph(0);
    ins[0] = add_input(g, "data", DK_F32, 2, (int64_t[]){3, 4});
    ins[1] = add_input(g, "indices", DK_F32, 1, (int64_t[]){2});
    k = add_node(g, DK_OP_GATHER, 13, 2, ins, 1);
    expect_error(g, k, DK_ERR_FORMAT, "float32");
    tu_attr_int(g, k, "axis", 2);
    g->values[ins[1]].t.dtype = DK_I64;
    expect_error(g, k, DK_ERR_SHAPE, "axis 2");
    dk_graph_destroy(g);
}

/* ---- the shape chain exporters emit, through dk_graph_finalize --------------------- */

/* Constant x -> Shape -> Gather(0) -> Unsqueeze -> Concat([.., -1]) -> Reshape(x):
 * every node folds through the evals, leaving x's bytes as a [2, 48] constant. */
static void test_shape_chain_folds(void **state)
{
    dk_graph *g = tu_new_graph(0);
    g->opset = 13;
    int x = add_const(g, "x", DK_F32, 4, (int64_t[]){2, 3, 4, 4});
    int k = add_node(g, DK_OP_SHAPE, 13, 1, &x, 1);
    int shape = g->nodes[k].outputs[0];
    int i0 = add_const_scalar(g, "zero", DK_I64, 0);
    k = add_node(g, DK_OP_GATHER, 13, 2, (int[]){shape, i0}, 1);
    int batch = g->nodes[k].outputs[0];
    int axes = add_const_ints(g, "axes", DK_I64, 1, (int64_t[]){0});
    k = add_node(g, DK_OP_UNSQUEEZE, 13, 2, (int[]){batch, axes}, 1);
    int batch1 = g->nodes[k].outputs[0];
    int minus1 = add_const_ints(g, "minus_one", DK_I64, 1, (int64_t[]){-1});
    k = add_node(g, DK_OP_CONCAT, 13, 2, (int[]){batch1, minus1}, 1);
    tu_attr_int(g, k, "axis", 0);
    int target = g->nodes[k].outputs[0];
    k = add_node(g, DK_OP_RESHAPE, 13, 2, (int[]){x, target}, 1);
    int y = g->nodes[k].outputs[0];
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->n_outputs = 1;

    dk_status s = dk_graph_finalize(g);
    if (s != DK_OK) fail_msg("finalize: %s", dk_last_error());
    const dk_tensor *t = &g->values[y].t;
    assert_int_equal(g->values[y].kind, DK_VALUE_CONSTANT);
    assert_int_equal(t->ndim, 2);
    assert_true(t->dims[0] == 2 && t->dims[1] == 48);
    expect_same_bytes(t, &g->values[x].t);
    dk_graph_destroy(g);
}

/* ShuffleNetV2's channel split: x -> Shape -> Gather([1]) -> Div(2) -> Mul(1)
 * as the ends of Slice(x, axis 1). The int64 arithmetic folds at load
 * (layers/op_arith.c), leaving one Slice that keeps the first half. */
static void test_shape_arith_chain_folds(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(0);
    g->opset = 13;
    int x = add_input(g, "x", DK_F32, 4, (int64_t[]){1, 116, 7, 5});
    int k = add_node(g, DK_OP_SHAPE, 13, 1, &x, 1);
    int shape = g->nodes[k].outputs[0];
    int one = add_const_ints(g, "one", DK_I64, 1, (int64_t[]){1});
    k = add_node(g, DK_OP_GATHER, 13, 2, (int[]){shape, one}, 1);
    int channels = g->nodes[k].outputs[0];
    k = add_node(g, DK_OP_DIV, 13, 2, (int[]){channels, add_const_scalar(g, "two", DK_I64, 2)}, 1);
    int half = g->nodes[k].outputs[0];
    k = add_node(g, DK_OP_MUL, 13, 2, (int[]){half, add_const_scalar(g, "unit", DK_I64, 1)}, 1);
    int end = g->nodes[k].outputs[0];
    int ins[4] = {x, add_const_ints(g, "zero", DK_I64, 1, (int64_t[]){0}), end,
                  add_const_ints(g, "axes", DK_I64, 1, (int64_t[]){1})};
    k = add_node(g, DK_OP_SLICE, 13, 4, ins, 1);
    int y = g->nodes[k].outputs[0];
    g->outputs = malloc(sizeof *g->outputs);
    g->outputs[0] = y;
    g->n_outputs = 1;

    dk_status s = dk_graph_finalize(g);
    if (s != DK_OK) fail_msg("finalize: %s", dk_last_error());
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(g->nodes[0].op, DK_OP_SLICE);
    assert_int_equal(g->values[end].kind, DK_VALUE_CONSTANT);
    assert_true(((const int64_t *)g->values[end].t.data)[0] == 58);
    expect_shape(g, 0, 0, DK_F32, 4, (int64_t[]){1, 58, 7, 5});
    dk_graph_destroy(g);
}

int main(void)
{
    tu_init("test_shape_ops");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_squeeze),
        cmocka_unit_test(test_unsqueeze),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_pad_modes),
        cmocka_unit_test(test_pad_axes_and_errors),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_shape_chain_folds),
        cmocka_unit_test(test_shape_arith_chain_folds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
