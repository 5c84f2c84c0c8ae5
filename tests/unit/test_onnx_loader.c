/* ONNX loader: models are built in memory with the protoc-c generated types,
 * packed to a file and loaded, so every case states exactly what the file
 * holds. Checks initializer encodings, topological sorting, constant folding
 * of shape arithmetic, Identity/Dropout removal and the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deltakern/onnx.h"
#include "deltakern/session.h"
#include "onnx/onnx.pb-c.h"

/* --- building models ---------------------------------------------------- */

typedef struct builder {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    Onnx__NodeProto *nodes[32];
    Onnx__TensorProto *inits[16];
    Onnx__ValueInfoProto *inputs[8], *outputs[8];
    void *allocs[512];
    int n_allocs;
} builder;

static void *keep(builder *b, void *p)
{
    b->allocs[b->n_allocs++] = p;
    return p;
}

static void builder_init(builder *b, int64_t opset)
{
    memset(b, 0, sizeof *b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.graph = &b->graph;
    b->graph.name = "test";
    b->graph.node = b->nodes;
    b->graph.initializer = b->inits;
    b->graph.input = b->inputs;
    b->graph.output = b->outputs;
}

static void builder_free(builder *b)
{
    for (int i = 0; i < b->n_allocs; i++) free(b->allocs[i]);
}

static Onnx__ValueInfoProto *value_info(builder *b, const char *name, int32_t elem, int ndim,
                                        const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = keep(b, calloc(1, sizeof *vi));
    Onnx__TypeProto *tp = keep(b, calloc(1, sizeof *tp));
    Onnx__TypeProto__Tensor *tt = keep(b, calloc(1, sizeof *tt));
    Onnx__TensorShapeProto *sh = keep(b, calloc(1, sizeof *sh));
    Onnx__TensorShapeProto__Dimension **dp = keep(b, calloc((size_t)ndim + 1, sizeof *dp));
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int d = 0; d < ndim; d++) {
        dp[d] = keep(b, calloc(1, sizeof **dp));
        onnx__tensor_shape_proto__dimension__init(dp[d]);
        if (dims[d] < 0) {
            dp[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dp[d]->dim_param = "batch";
        } else {
            dp[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dp[d]->dim_value = dims[d];
        }
    }
    sh->n_dim = (size_t)ndim;
    sh->dim = dp;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = (char *)name;
    vi->type = tp;
    return vi;
}

static void add_input(builder *b, const char *name, int ndim, const int64_t *dims)
{
    b->inputs[b->graph.n_input++] = value_info(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims);
}

static void add_output(builder *b, const char *name)
{
    b->outputs[b->graph.n_output++] = value_info(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL);
}

/* Float initializer stored either in raw_data or in float_data. */
static Onnx__TensorProto *add_float_init(builder *b, const char *name, int ndim, const int64_t *dims,
                                         const float *vals, int raw)
{
    Onnx__TensorProto *t = keep(b, calloc(1, sizeof *t));
    onnx__tensor_proto__init(t);
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= dims[d];
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)ndim;
    t->dims = keep(b, malloc(sizeof(int64_t) * (size_t)(ndim + 1)));
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)ndim);
    float *copy = keep(b, malloc(sizeof(float) * (size_t)n));
    memcpy(copy, vals, sizeof(float) * (size_t)n);
    if (raw) {
        t->has_raw_data = 1;
        t->raw_data.len = sizeof(float) * (size_t)n;
        t->raw_data.data = (uint8_t *)copy;
    } else {
        t->n_float_data = (size_t)n;
        t->float_data = copy;
    }
    b->inits[b->graph.n_initializer++] = t;
    return t;
}

static Onnx__TensorProto *add_int64_init(builder *b, const char *name, int n, const int64_t *vals)
{
    Onnx__TensorProto *t = keep(b, calloc(1, sizeof *t));
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_dims = 1;
    t->dims = keep(b, malloc(sizeof(int64_t)));
    t->dims[0] = n;
    t->n_int64_data = (size_t)n;
    t->int64_data = keep(b, malloc(sizeof(int64_t) * (size_t)(n + 1)));
    memcpy(t->int64_data, vals, sizeof(int64_t) * (size_t)n);
    b->inits[b->graph.n_initializer++] = t;
    return t;
}

/* add_node(b, "Relu", "name", "in1,in2", "out") — comma-separated value lists. */
static Onnx__NodeProto *add_node(builder *b, const char *op, const char *name, const char *ins,
                                 const char *outs)
{
    Onnx__NodeProto *n = keep(b, calloc(1, sizeof *n));
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    const char *lists[2] = {ins, outs};
    for (int l = 0; l < 2; l++) {
        char *copy = keep(b, strdup(lists[l]));
        char **arr = keep(b, calloc(16, sizeof(char *)));
        size_t count = 0;
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) arr[count++] = tok;
        if (l == 0) {
            n->n_input = count;
            n->input = arr;
        } else {
            n->n_output = count;
            n->output = arr;
        }
    }
    b->nodes[b->graph.n_node++] = n;
    return n;
}

static void add_int_attr(builder *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = keep(b, calloc(1, sizeof *a));
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    Onnx__AttributeProto **arr = keep(b, calloc(n->n_attribute + 2, sizeof *arr));
    for (size_t i = 0; i < n->n_attribute; i++) arr[i] = n->attribute[i];
    arr[n->n_attribute++] = a;
    n->attribute = arr;
}

static char model_path[256];

static const char *save(builder *b)
{
    size_t len = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(len + 1);
    onnx__model_proto__pack(&b->model, buf);
    snprintf(model_path, sizeof model_path, "/tmp/dk_test_loader_%d.onnx", (int)getpid());
    FILE *f = fopen(model_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    return model_path;
}

static dk_status load(builder *b, dk_graph **g)
{
    dk_status s = dk_onnx_load(save(b), g);
    if (s != DK_OK) printf("    loader: %s\n", dk_last_error());
    return s;
}

static int count_op(const dk_graph *g, dk_op op)
{
    int c = 0;
    for (int k = 0; k < g->n_nodes; k++) c += g->nodes[k].op == op;
    return c;
}

/* --- tests --------------------------------------------------------------- */

/* The same Gemm with its weights in raw_data and in float_data gives the same
 * output, which equals the product written out by hand. */
static void test_initializer_encodings(void **state)
{
    (void)state;
    const float w[6] = {1, 2, 3, -4, 0.5f, 6}; /* 2x3 */
    const float x[2] = {3, -1};
    float results[2][3];
    for (int raw = 0; raw < 2; raw++) {
        builder b;
        builder_init(&b, 13);
        add_input(&b, "x", 2, (int64_t[]){1, 2});
        add_float_init(&b, "w", 2, (int64_t[]){2, 3}, w, raw);
        add_node(&b, "Gemm", "fc", "x,w", "y");
        add_output(&b, "y");
        dk_graph *g;
        assert_int_equal(load(&b, &g), DK_OK);
        dk_session *s;
        dk_variant ref;
        assert_int_equal(dk_variant_parse("ref", &ref), DK_OK);
        assert_int_equal(dk_session_create(g, &ref, &s), DK_OK);
        dk_tensor in = {0};
        assert_int_equal(dk_tensor_alloc(&in, DK_F32, 2, (int64_t[]){1, 2}), DK_OK);
        memcpy(in.data, x, sizeof x);
        assert_int_equal(dk_session_run(s, &in, 1), DK_OK);
        const dk_tensor *y = dk_session_output(s, 0);
        assert_int_equal(y->ndim, 2);
        assert_int_equal(y->dims[1], 3);
        memcpy(results[raw], y->data, sizeof results[raw]);
        dk_tensor_reset(&in);
        dk_session_destroy(s);
        dk_graph_destroy(g);
        builder_free(&b);
    }
    for (int j = 0; j < 3; j++) {
        float want = x[0] * w[j] + x[1] * w[3 + j];
        assert_float_equal(results[0][j], want, 1e-6);
        assert_float_equal(results[1][j], want, 1e-6);
    }
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters emit before a
 * classifier, folds into one Reshape (Identity and Dropout vanish too). */
static void test_folds_shape_arithmetic(void **state)
{
    (void)state;
    builder b;
    builder_init(&b, 13);
    add_input(&b, "x", 4, (int64_t[]){1, 8, 2, 2});
    add_int64_init(&b, "zero", 1, (int64_t[]){0});
    add_int64_init(&b, "minus1", 1, (int64_t[]){-1});
    add_int64_init(&b, "idx", 1, (int64_t[]){0});
    add_node(&b, "Identity", "id", "x", "xi");
    add_node(&b, "Shape", "shape", "xi", "s");
    Onnx__NodeProto *gather = add_node(&b, "Gather", "gather", "s,idx", "n");
    add_int_attr(&b, gather, "axis", 0);
    Onnx__NodeProto *cat = add_node(&b, "Concat", "cat", "n,minus1", "shp");
    add_int_attr(&b, cat, "axis", 0);
    add_node(&b, "Reshape", "reshape", "xi,shp", "r");
    add_node(&b, "Dropout", "drop", "r", "y");
    add_output(&b, "y");
    dk_graph *g;
    assert_int_equal(load(&b, &g), DK_OK);
    assert_int_equal(g->n_nodes, 1);
    assert_int_equal(g->nodes[0].op, DK_OP_RESHAPE);
    assert_int_equal(count_op(g, DK_OP_SHAPE) + count_op(g, DK_OP_GATHER) + count_op(g, DK_OP_CONCAT), 0);
    const dk_tensor *y = &g->values[g->outputs[0]].t;
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->dims[0], 1);
    assert_int_equal(y->dims[1], 32);
    dk_graph_destroy(g);
    builder_free(&b);
}

/* Nodes listed out of order are placed after their producers. */
static void test_sorts_nodes(void **state)
{
    (void)state;
    builder b;
    builder_init(&b, 13);
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Sigmoid", "second", "a", "y");
    add_node(&b, "Relu", "first", "x", "a");
    add_output(&b, "y");
    dk_graph *g;
    assert_int_equal(load(&b, &g), DK_OK);
    assert_int_equal(g->n_nodes, 2);
    assert_string_equal(g->nodes[0].name, "first");
    assert_string_equal(g->nodes[1].name, "second");
    dk_graph_destroy(g);
    builder_free(&b);
}

static void test_symbolic_batch_becomes_one(void **state)
{
    (void)state;
    builder b;
    builder_init(&b, 13);
    add_input(&b, "x", 2, (int64_t[]){-1, 4});
    add_node(&b, "Relu", "relu", "x", "y");
    add_output(&b, "y");
    dk_graph *g;
    assert_int_equal(load(&b, &g), DK_OK);
    assert_int_equal(g->values[g->inputs[0]].t.dims[0], 1);
    dk_graph_destroy(g);
    builder_free(&b);
}

static void count_note(const char *line, void *ctx)
{
    /* add_input names every symbolic dimension 'batch' */
    assert_non_null(strstr(line, "graph input 'x': symbolic batch dimension 'batch' set to 1"));
    ++*(int *)ctx;
}

/* dk_onnx_load_with: given shapes, a fill shape and the batch note. */
static void test_input_shapes(void **state)
{
    (void)state;
    builder b;
    builder_init(&b, 13);
    add_input(&b, "x", 3, (int64_t[]){-1, 4, -1});
    add_node(&b, "Relu", "relu", "x", "y");
    add_output(&b, "y");
    const char *path = save(&b);
    dk_graph *g;
    dk_input_shape s = {"x", 3, {2, 4, 9}};
    assert_int_equal(dk_onnx_load_shaped(path, &s, 1, &g), DK_OK);
    const dk_tensor *t = &g->values[g->inputs[0]].t;
    assert_true(t->dims[0] == 2 && t->dims[1] == 4 && t->dims[2] == 9);
    t = &g->values[g->outputs[0]].t;
    assert_true(t->ndim == 3 && t->dims[0] == 2 && t->dims[2] == 9); /* inferred from it */
    dk_graph_destroy(g);

    /* a fill shape (name "": the first input) fixes the symbolic dims only,
     * not the static 4; with the batch fixed there is no note */
    int notes = 0;
    dk_input_shape fill3 = {"", 3, {5, 99, 6}};
    dk_onnx_options o = {.fill = &fill3, .note = count_note, .note_ctx = &notes};
    assert_int_equal(dk_onnx_load_with(path, &o, &g), DK_OK);
    t = &g->values[g->inputs[0]].t;
    assert_true(t->dims[0] == 5 && t->dims[1] == 4 && t->dims[2] == 6);
    assert_int_equal(notes, 0);
    dk_graph_destroy(g);
    dk_input_shape given = {"x", 3, {1, 4, 6}}; /* fill is ignored for an input given a shape */
    o.shapes = &given;
    o.n_shapes = 1;
    assert_int_equal(dk_onnx_load_with(path, &o, &g), DK_OK);
    assert_true(g->values[g->inputs[0]].t.dims[0] == 1);
    dk_graph_destroy(g);

    /* a fill of another rank is ignored: the open axis 2 is an error */
    dk_input_shape fill2 = {"", 2, {5, 6}};
    o = (dk_onnx_options){.fill = &fill2, .note = count_note, .note_ctx = &notes};
    g = (dk_graph *)0x1;
    assert_int_equal(dk_onnx_load_with(path, &o, &g), DK_ERR_UNSUPPORTED);
    assert_null(g);
    assert_non_null(strstr(dk_last_error(), "graph input 'x' has symbolic dimension 'batch' at axis 2: give "
                                            "it with --input-shape x=1x4xB"));
    assert_int_equal(notes, 0);

    /* a static dim that disagrees, a wrong rank, an unknown name */
    dk_input_shape bad = {"x", 3, {1, 5, 6}};
    assert_int_equal(dk_onnx_load_shaped(path, &bad, 1, &g), DK_ERR_SHAPE);
    assert_non_null(strstr(dk_last_error(), "axis 1 is 5 but the model fixes it to 4"));
    bad.ndim = 2;
    assert_int_equal(dk_onnx_load_shaped(path, &bad, 1, &g), DK_ERR_SHAPE);
    assert_non_null(strstr(dk_last_error(), "has 2 dimensions but graph input 'x' has rank 3"));
    dk_input_shape other = {"z", 1, {1}};
    assert_int_equal(dk_onnx_load_shaped(path, &other, 1, &g), DK_ERR_INVALID);
    assert_non_null(strstr(dk_last_error(), "'z', which is not a graph input (the graph inputs: 'x')"));
    builder_free(&b);

    /* only the batch open: 1, with one note */
    builder_init(&b, 13);
    add_input(&b, "x", 2, (int64_t[]){-1, 4});
    add_node(&b, "Relu", "relu", "x", "y");
    add_output(&b, "y");
    o = (dk_onnx_options){.note = count_note, .note_ctx = &notes};
    assert_int_equal(dk_onnx_load_with(save(&b), &o, &g), DK_OK);
    assert_true(g->values[g->inputs[0]].t.dims[0] == 1);
    assert_int_equal(notes, 1);
    dk_graph_destroy(g);
    builder_free(&b);
}

/* Each malformed model fails with the expected status and a message naming the culprit. */
static void expect_failure(builder *b, dk_status want, const char *needle)
{
    dk_graph *g = (dk_graph *)0x1;
    dk_status s = dk_onnx_load(save(b), &g);
    printf("    %s\n", dk_last_error());
    assert_int_equal(s, want);
    assert_null(g);
    assert_non_null(strstr(dk_last_error(), needle));
    assert_non_null(strstr(dk_last_error(), model_path));
    assert_null(strchr(dk_last_error(), '\n'));
    builder_free(b);
}

static void test_errors(void **state)
{
    (void)state;
    builder b;

    builder_init(&b, 13); /* unknown op */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Atanh", "atanh_node", "x", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED, "1 op type is not supported (1 node): Atanh x1 (first 'atanh_node')");

    builder_init(&b, 13); /* every unknown op named at once, in order of first use */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Atanh", "a1", "x", "a");
    add_node(&b, "Relu", "r", "a", "b");
    add_node(&b, "Sin", "m", "b", "c");
    add_node(&b, "Atanh", "a2", "c", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED,
                   "2 op types are not supported (3 nodes): Atanh x2 (first 'a1'), Sin x1 (first 'm')");

    builder_init(&b, 18); /* opset newer than supported */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Relu", "relu", "x", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED, "opset 18");

    builder_init(&b, 13); /* cycle */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Relu", "tail", "a", "t"); /* waits on the cycle, is not on it */
    add_node(&b, "Add", "add_a", "x,b", "a");
    add_node(&b, "Relu", "relu_b", "a", "b");
    add_output(&b, "t");
    dk_graph *g = NULL;
    assert_int_equal(dk_onnx_load(save(&b), &g), DK_ERR_FORMAT);
    printf("    %s\n", dk_last_error());
    assert_non_null(strstr(dk_last_error(), "the graph has a cycle through node '"));
    assert_true(strstr(dk_last_error(), "'add_a' (op 'Add')") || strstr(dk_last_error(), "'relu_b' (op 'Relu')"));
    builder_free(&b);

    builder_init(&b, 13); /* a node that needs itself */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Add", "self", "x,s", "s");
    add_output(&b, "s");
    expect_failure(&b, DK_ERR_FORMAT, "the graph has a cycle through node 'self' (op 'Add')");

    builder_init(&b, 13); /* an input nobody produces */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Add", "adder", "x,nowhere", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_FORMAT, "node 'adder': input 'nowhere' is not produced by any node");

    builder_init(&b, 13); /* names from the file reach the message escaped */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Add", "bad\x05name\n", "x,no\xffwhere", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_FORMAT, "node 'bad\\x05name\\x0a': input 'no\\xffwhere' is not produced");

    builder_init(&b, 13); /* value defined twice */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Relu", "r1", "x", "y");
    add_node(&b, "Relu", "r2", "x", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_FORMAT, "'y' is already defined");

    builder_init(&b, 13); /* graph output nobody produces */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    add_node(&b, "Relu", "r1", "x", "y");
    add_output(&b, "z");
    expect_failure(&b, DK_ERR_FORMAT, "'z'");

    builder_init(&b, 13); /* unknown attribute */
    add_input(&b, "x", 2, (int64_t[]){1, 4});
    Onnx__NodeProto *n = add_node(&b, "Relu", "relu_attr", "x", "y");
    add_int_attr(&b, n, "frobnicate", 1);
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED, "frobnicate");

    builder_init(&b, 13); /* raw data shorter than the shape */
    add_input(&b, "x", 2, (int64_t[]){1, 3});
    Onnx__TensorProto *w = add_float_init(&b, "w", 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6}, 1);
    w->raw_data.len -= 4;
    add_node(&b, "MatMul", "mm", "x,w", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_FORMAT, "initializer 'w'");

    builder_init(&b, 13); /* external data */
    add_input(&b, "x", 2, (int64_t[]){1, 3});
    w = add_float_init(&b, "w_ext", 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6}, 1);
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    add_node(&b, "MatMul", "mm", "x,w_ext", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED, "external");

    builder_init(&b, 13); /* symbolic non-batch dimension */
    add_input(&b, "x", 2, (int64_t[]){1, -1});
    add_node(&b, "Relu", "relu", "x", "y");
    add_output(&b, "y");
    expect_failure(&b, DK_ERR_UNSUPPORTED, "symbolic");
}

static void test_missing_and_empty_files(void **state)
{
    (void)state;
    dk_graph *g;
    assert_int_equal(dk_onnx_load("/nonexistent/model.onnx", &g), DK_ERR_IO);
    assert_non_null(strstr(dk_last_error(), "/nonexistent/model.onnx"));
    snprintf(model_path, sizeof model_path, "/tmp/dk_test_empty_%d.onnx", (int)getpid());
    FILE *f = fopen(model_path, "wb");
    fclose(f);
    assert_int_equal(dk_onnx_load(model_path, &g), DK_ERR_FORMAT);
    assert_non_null(strstr(dk_last_error(), "empty"));
    unlink(model_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initializer_encodings),
        cmocka_unit_test(test_folds_shape_arithmetic),
        cmocka_unit_test(test_sorts_nodes),
        cmocka_unit_test(test_symbolic_batch_becomes_one),
        cmocka_unit_test(test_input_shapes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_and_empty_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char path[256];
    snprintf(path, sizeof path, "/tmp/dk_test_loader_%d.onnx", (int)getpid());
    unlink(path);
    return rc;
}
