/* The cudnn backend's own index arithmetic, checked on real data without a
 * GPU: for the ops whose device work is descriptor and offset bookkeeping of
 * ours (Add/Sub/Mul broadcasting, constant Pad, Softmax's axis folding,
 * Concat's strided copies, the shape-only ops and their NHWC transforms),
 * the planners run for real (descriptors are host objects), and what the
 * device calls would do with the planned descriptors is emulated on the host
 * from the descriptors read back out of cuDNN (cudnnGetTensorNdDescriptor):
 * cudnnOpTensor, cudnnTransformTensor, cudnnSetTensor, cudnnAddTensor,
 * clipped ReLU, cudnnSoftmaxForward (channel mode) and cudaMemcpy2D; also
 * the compositions for HardSigmoid, HardSwish and LeakyRelu. Nodes planned as host fallback run the
 * reference kernel, as the backend does.
 *
 * The data are the ONNX backend node tests (Debian's libonnx-testdata): each
 * case's inputs go through the emulated graph in both layouts (nchw, nhwc)
 * and the outputs must match the case's expected outputs (rtol 1e-5: the
 * emulated ops round at most a few times in float32; Softmax is computed
 * here in double).
 * The shapes of the exported models that those cases lack (4-D broadcasts,
 * channel Concat, NHWC operands) are one-node graphs on random data (printed
 * seed) against the reference kernel. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deltakern/onnx.h"
#include "kernels/cudnn/cudnn_internal.h"
#include "kernels/ref/ref_kernels.h"
#include "tests/unit/test_util.h"

#define ONNX_DATA "/usr/share/libonnx-testdata/data"
#define MAX_IO 16
#define RTOL 1e-5
#define ATOL 1e-7

/* ---- descriptors read back from cuDNN ------------------------------------------------------ */

typedef struct view {
    int nd;
    int dims[8];
    int strides[8];
} view;

static view read_view(cudnnTensorDescriptor_t d)
{
    view v;
    cudnnDataType_t dt;
    memset(&v, 0, sizeof v);
    assert_int_equal(cudnnGetTensorNdDescriptor(d, 8, &dt, &v.nd, v.dims, v.strides), CUDNN_STATUS_SUCCESS);
    assert_int_equal(dt, CUDNN_DATA_FLOAT);
    return v;
}

static int64_t view_count(const view *v)
{
    int64_t n = 1;
    for (int i = 0; i < v->nd; i++) n *= v->dims[i];
    return n;
}

/* Offset in v of the element with linear index `lin` of dims `dims` (the
 * destination's), broadcasting v's unit axes. */
static int64_t view_offset(const view *v, const int *dims, int64_t lin)
{
    int64_t off = 0;
    for (int i = v->nd - 1; i >= 0; i--) {
        int64_t idx = lin % dims[i];
        lin /= dims[i];
        if (v->dims[i] != 1) off += idx * v->strides[i];
    }
    return off;
}

/* ---- the emulated device: one host buffer per value, in its stored layout ---------------------- */

typedef struct device {
    dk_cudnn_ctx ctx;
    const dk_graph *g;
    unsigned char **mem;
} device;

static void *dmem(device *d, int v) { return d->mem[v]; }

static void store(device *d, int v, const dk_tensor *canon)
{
    const dk_tensor *t = &d->g->values[v].t;
    size_t n = dk_tensor_nbytes(t);
    assert_int_equal(dk_tensor_nbytes(canon), n);
    if (!d->mem[v]) d->mem[v] = calloc(1, n + 1);
    if (dk__cudnn_is_nhwc(&d->ctx.cfg, t)) dk__cudnn_nchw_to_nhwc(canon->data, (float *)d->mem[v], t->dims);
    else memcpy(d->mem[v], canon->data, n);
}

static void load(device *d, int v, dk_tensor *canon)
{
    const dk_tensor *t = &d->g->values[v].t;
    assert_non_null(d->mem[v]);
    if (dk__cudnn_is_nhwc(&d->ctx.cfg, t)) dk__cudnn_nhwc_to_nchw((const float *)d->mem[v], canon->data, t->dims);
    else memcpy(canon->data, d->mem[v], dk_tensor_nbytes(t));
}

static void emulate_transform(cudnnTensorDescriptor_t xd, const float *x, cudnnTensorDescriptor_t yd, float *y)
{
    view xv = read_view(xd), yv = read_view(yd);
    assert_int_equal(xv.nd, yv.nd);
    for (int i = 0; i < xv.nd; i++) assert_int_equal(xv.dims[i], yv.dims[i]);
    for (int64_t k = 0; k < view_count(&yv); k++) y[view_offset(&yv, yv.dims, k)] = x[view_offset(&xv, yv.dims, k)];
}

static void emulate_binary(device *d, dk_cudnn_plan *p, const dk_node *n)
{
    view a = read_view(p->t[0]), b = read_view(p->t[2]), c = read_view(p->t[1]);
    cudnnOpTensorOp_t op;
    cudnnDataType_t ct;
    cudnnNanPropagation_t nan;
    assert_int_equal(cudnnGetOpTensorDescriptor(p->op[0], &op, &ct, &nan), CUDNN_STATUS_SUCCESS);
    /* cuDNN's rules: A matches C, B matches C or is 1 on an axis */
    assert_int_equal(a.nd, c.nd);
    for (int i = 0; i < c.nd; i++) {
        assert_int_equal(a.dims[i], c.dims[i]);
        assert_true(b.dims[i] == c.dims[i] || b.dims[i] == 1);
    }
    const float *A = dmem(d, n->inputs[p->swap ? 1 : 0]), *B = dmem(d, n->inputs[p->swap ? 0 : 1]);
    float *C = dmem(d, n->outputs[0]);
    for (int64_t k = 0; k < view_count(&c); k++) {
        float x = p->alpha[0] * A[view_offset(&a, c.dims, k)], y = p->alpha[1] * B[view_offset(&b, c.dims, k)];
        C[view_offset(&c, c.dims, k)] = op == CUDNN_OP_TENSOR_MUL ? x * y : x + y;
    }
}

static void emulate_pad(device *d, dk_cudnn_plan *p, const dk_node *n)
{
    view all = read_view(p->t[2]);
    float *y = dmem(d, n->outputs[0]);
    for (int64_t k = 0; k < view_count(&all); k++) y[view_offset(&all, all.dims, k)] = p->alpha[0];
    if (!p->i[0])
        emulate_transform(p->t[0], (const float *)((unsigned char *)dmem(d, n->inputs[0]) + p->i[1]), p->t[1],
                          (float *)((unsigned char *)y + p->i[2]));
}

static void emulate_softmax(device *d, dk_cudnn_plan *p, const dk_node *n)
{
    view v = read_view(p->t[0]);
    assert_int_equal(v.nd, 4);
    const float *x = dmem(d, n->inputs[0]);
    float *y = dmem(d, n->outputs[0]);
    for (int a = 0; a < v.dims[0]; a++)
        for (int h = 0; h < v.dims[2]; h++)
            for (int w = 0; w < v.dims[3]; w++) {
                const int64_t base = (int64_t)a * v.strides[0] + (int64_t)h * v.strides[2] + (int64_t)w * v.strides[3];
                double mx = -INFINITY, sum = 0;
                for (int c = 0; c < v.dims[1]; c++) mx = fmax(mx, x[base + (int64_t)c * v.strides[1]]);
                for (int c = 0; c < v.dims[1]; c++) sum += exp(x[base + (int64_t)c * v.strides[1]] - mx);
                for (int c = 0; c < v.dims[1]; c++)
                    y[base + (int64_t)c * v.strides[1]] = (float)(exp(x[base + (int64_t)c * v.strides[1]] - mx) / sum);
            }
}

static void emulate_concat(device *d, const dk_node *n)
{
    dk_cudnn_copy2d copies[DK_CUDNN_MAX_CONCAT];
    dk__cudnn_concat_geometry(&d->ctx.cfg, d->g, n, copies);
    unsigned char *dst = dmem(d, n->outputs[0]);
    for (int k = 0; k < n->n_inputs; k++) {
        const dk_cudnn_copy2d *c = &copies[k];
        const unsigned char *src = dmem(d, n->inputs[k]);
        for (size_t r = 0; r < c->height; r++)
            memcpy(dst + c->dst_offset + r * c->dst_pitch, src + r * c->width, c->width);
    }
}

static void emulate_reshape(device *d, dk_cudnn_plan *p, const dk_node *n)
{
    const float *x = dmem(d, n->inputs[0]);
    float *y = dmem(d, n->outputs[0]);
    const size_t bytes = dk_tensor_nbytes(&d->g->values[n->outputs[0]].t);
    if (p->t[0] && p->t[2]) {
        float *tmp = malloc(bytes + 1);
        emulate_transform(p->t[0], x, p->t[1], tmp);
        emulate_transform(p->t[3], tmp, p->t[2], y);
        free(tmp);
    } else if (p->t[0]) {
        emulate_transform(p->t[0], x, p->t[1], y);
    } else if (p->t[2]) {
        emulate_transform(p->t[3], x, p->t[2], y);
    } else {
        memcpy(y, x, bytes);
    }
}

/* Element-wise op-tensor on same-shaped flat views: C = op(a1 A, a2 B). */
static void emulate_op_tensor(cudnnOpTensorDescriptor_t od, float a1, const float *A, float a2, const float *B,
                              float *C, int64_t count)
{
    cudnnOpTensorOp_t op;
    cudnnDataType_t ct;
    cudnnNanPropagation_t nan;
    assert_int_equal(cudnnGetOpTensorDescriptor(od, &op, &ct, &nan), CUDNN_STATUS_SUCCESS);
    for (int64_t k = 0; k < count; k++) {
        float a = a1 * A[k], b = a2 * B[k];
        C[k] = op == CUDNN_OP_TENSOR_MUL ? a * b : op == CUDNN_OP_TENSOR_MAX ? fmaxf(a, b)
               : op == CUDNN_OP_TENSOR_MIN ? fminf(a, b) : a + b;
    }
}

/* run_composed's calls: HardSigmoid, HardSwish, LeakyRelu. */
static void emulate_composed(device *d, dk_cudnn_plan *p, const dk_node *n)
{
    view xv = read_view(p->t[0]), yv = read_view(p->t[1]);
    const int64_t count = view_count(&yv);
    assert_int_equal(view_count(&xv), count);
    const float *x = dmem(d, n->inputs[0]);
    float *y = dmem(d, n->outputs[0]);
    if (n->op == DK_OP_LEAKYRELU) {
        emulate_op_tensor(p->op[0], 1.0f, x, p->alpha[0], x, y, count);
        return;
    }
    cudnnActivationMode_t mode;
    cudnnNanPropagation_t nan;
    double coef;
    assert_int_equal(cudnnGetActivationDescriptor(p->act, &mode, &nan, &coef), CUDNN_STATUS_SUCCESS);
    assert_int_equal(mode, CUDNN_ACTIVATION_CLIPPED_RELU);
    for (int64_t k = 0; k < count; k++) {
        float v = p->alpha[0] * x[k] + p->alpha[1];           /* set, then add-tensor */
        y[k] = v < 0.0f ? 0.0f : v > (float)coef ? (float)coef : v; /* clipped ReLU */
    }
    if (n->op == DK_OP_HARDSWISH) emulate_op_tensor(p->op[0], 1.0f, y, 1.0f, x, y, count);
}

/* The reference kernel on canonical copies, as the backend's host fallback. */
static void run_host(device *d, const dk_node *n)
{
    dk_tensor ins[MAX_IO], outs[MAX_IO];
    const dk_tensor *in[MAX_IO];
    dk_tensor *out[MAX_IO];
    memset(ins, 0, sizeof ins);
    memset(outs, 0, sizeof outs);
    for (int i = 0; i < n->n_inputs; i++) {
        in[i] = NULL;
        if (n->inputs[i] < 0) continue;
        const dk_tensor *t = &d->g->values[n->inputs[i]].t;
        assert_int_equal(dk_tensor_alloc(&ins[i], t->dtype, t->ndim, t->dims), DK_OK);
        load(d, n->inputs[i], &ins[i]);
        in[i] = &ins[i];
    }
    for (int o = 0; o < n->n_outputs; o++) {
        out[o] = NULL;
        if (n->outputs[o] < 0) continue;
        const dk_tensor *t = &d->g->values[n->outputs[o]].t;
        assert_int_equal(dk_tensor_alloc(&outs[o], t->dtype, t->ndim, t->dims), DK_OK);
        out[o] = &outs[o];
    }
    assert_int_equal(dk_ref_kernel_for(n->op)(n, in, out), DK_OK);
    for (int o = 0; o < n->n_outputs; o++)
        if (out[o]) store(d, n->outputs[o], out[o]);
    for (int i = 0; i < MAX_IO; i++) dk_tensor_reset(&ins[i]), dk_tensor_reset(&outs[i]);
}

static int emulated_op(dk_op op)
{
    switch (op) {
    case DK_OP_ADD: case DK_OP_SUB: case DK_OP_MUL: case DK_OP_PAD: case DK_OP_SOFTMAX: case DK_OP_CONCAT:
    case DK_OP_FLATTEN: case DK_OP_RESHAPE: case DK_OP_SQUEEZE: case DK_OP_UNSQUEEZE: case DK_OP_IDENTITY:
    case DK_OP_HARDSIGMOID: case DK_OP_HARDSWISH: case DK_OP_LEAKYRELU:
        return 1;
    default:
        return 0;
    }
}

typedef struct tally {
    int cases, gpu_nodes, host_nodes;
    int per_op[DK_OP_COUNT]; /* nodes emulated as planned for the GPU */
} tally;

/* Runs graph g on the emulated device with layout nhwc; returns 0 when the
 * graph has an op outside the emulated set. */
static int run_graph(const dk_graph *g, int nhwc, dk_tensor *inputs, int n_inputs, dk_tensor *outputs,
                     int n_outputs, tally *t, const char *name)
{
    for (int k = 0; k < g->n_nodes; k++)
        if (!emulated_op(g->nodes[k].op)) return 0;
    device d;
    memset(&d, 0, sizeof d);
    d.ctx.cfg.nhwc = nhwc;
    d.g = g;
    d.mem = calloc((size_t)g->n_values + 1, sizeof *d.mem);
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].kind == DK_VALUE_CONSTANT && g->values[v].t.data) store(&d, v, &g->values[v].t);
    for (int i = 0; i < n_inputs; i++) {
        /* by name; the unnamed tensors of some cases by position */
        int v = inputs[i].name ? dk_graph_find_value(g, inputs[i].name) : i < g->n_inputs ? g->inputs[i] : -1;
        assert_true(v >= 0);
        store(&d, v, &inputs[i]);
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        for (int o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0 && !d.mem[n->outputs[o]])
                d.mem[n->outputs[o]] = calloc(1, dk_tensor_nbytes(&g->values[n->outputs[o]].t) + 1);
        dk_cudnn_plan *p = calloc(1, sizeof *p);
        dk_status st = dk__cudnn_plan_choose(&d.ctx, g, n, p);
        if (st != DK_OK) printf("    %s: %s\n", name, dk_last_error());
        assert_int_equal(st, DK_OK);
        assert_int_equal(p->info.host, p->run == NULL);
        assert_true(p->info.note[0] != '\0');
        if (p->info.host) {
            printf("    %s [%s] %s: %s\n", name, nhwc ? "nhwc" : "nchw", dk_op_name(n->op), p->info.note);
            run_host(&d, n);
            t->host_nodes++;
        } else {
            switch (n->op) {
            case DK_OP_ADD: case DK_OP_SUB: case DK_OP_MUL: emulate_binary(&d, p, n); break;
            case DK_OP_PAD: emulate_pad(&d, p, n); break;
            case DK_OP_SOFTMAX: emulate_softmax(&d, p, n); break;
            case DK_OP_CONCAT: emulate_concat(&d, n); break;
            case DK_OP_HARDSIGMOID: case DK_OP_HARDSWISH: case DK_OP_LEAKYRELU: emulate_composed(&d, p, n); break;
            default: emulate_reshape(&d, p, n); break;
            }
            t->gpu_nodes++;
            t->per_op[n->op]++;
        }
        dk__cudnn_plan_free(p);
    }
    for (int i = 0; i < n_outputs; i++) {
        int v = outputs[i].name ? dk_graph_find_value(g, outputs[i].name) : i < g->n_outputs ? g->outputs[i] : -1;
        assert_true(v >= 0);
        const dk_tensor *want = &outputs[i];
        dk_tensor got = {0};
        assert_int_equal(dk_tensor_alloc(&got, want->dtype, want->ndim, want->dims), DK_OK);
        load(&d, v, &got);
        for (int64_t e = 0; e < dk_tensor_numel(want); e++) {
            double w = dk_tensor_get(want, e), y = dk_tensor_get(&got, e);
            if (!(fabs(y - w) <= ATOL + RTOL * fabs(w)) && !(isnan(w) && isnan(y))) {
                printf("    %s [%s]: output '%s' element %lld is %.9g, expected %.9g\n", name,
                       nhwc ? "nhwc" : "nchw", want->name, (long long)e, y, w);
                fail();
            }
        }
        dk_tensor_reset(&got);
    }
    for (int v = 0; v < g->n_values; v++) free(d.mem[v]);
    free(d.mem);
    return 1;
}

static int load_set(const char *dir, const char *kind, dk_tensor *ts, int max)
{
    int n = 0;
    for (; n < max; n++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/test_data_set_0/%s_%d.pb", dir, kind, n);
        FILE *f = fopen(path, "rb");
        if (!f) break;
        fclose(f);
        assert_int_equal(dk_onnx_load_tensor_file(path, &ts[n]), DK_OK);
    }
    return n;
}

static int selected(const char *name)
{
    static const char *prefixes[] = {"test_add",     "test_sub",      "test_mul",       "test_constant_pad",
                                     "test_ConstantPad", "test_ZeroPad", "test_softmax", "test_Softmax",
                                     "test_concat",  "test_flatten",  "test_reshape",   "test_squeeze",
                                     "test_unsqueeze", "test_Flatten", "test_hardsigmoid", "test_hardswish",
                                     "test_leakyrelu",   "test_LeakyReLU"};
    if (strstr(name, "expanded")) return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return 1;
    return 0;
}

static void run_case(const char *dir, const char *name, tally *t)
{
    dk_tensor ins[MAX_IO], outs[MAX_IO], bound[MAX_IO], fed[MAX_IO];
    memset(ins, 0, sizeof ins);
    memset(outs, 0, sizeof outs);
    int n_in = load_set(dir, "input", ins, MAX_IO), n_out = load_set(dir, "output", outs, MAX_IO);
    /* integer and scalar inputs (shapes, axes, pads, Pad's value) are frozen, so
     * that the graph has static shapes and Pad a known value */
    int n_bound = 0, n_fed = 0;
    for (int i = 0; i < n_in; i++) {
        if (ins[i].dtype == DK_F32 && ins[i].ndim > 0) fed[n_fed++] = ins[i];
        else bound[n_bound++] = ins[i];
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    dk_graph *g = NULL;
    if (dk_onnx_load_bound(path, bound, n_bound, &g) == DK_OK) {
        int ran = 0;
        for (int nhwc = 0; nhwc < 2; nhwc++) ran = run_graph(g, nhwc, fed, n_fed, outs, n_out, t, name);
        if (ran) t->cases++;
        dk_graph_destroy(g);
    } else {
        printf("    %s: not loaded (%s)\n", name, dk_last_error());
    }
    for (int i = 0; i < MAX_IO; i++) dk_tensor_reset(&ins[i]), dk_tensor_reset(&outs[i]);
}

static void test_emulated_onnx_cases(void **state)
{
    (void)state;
    static const char *suites[] = {"node", "pytorch-converted"};
    tally t = {0};
    for (int s = 0; s < 2; s++) {
        char root[512];
        snprintf(root, sizeof root, "%s/%s", ONNX_DATA, suites[s]);
        DIR *dir = opendir(root);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (!selected(e->d_name)) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", root, e->d_name);
            run_case(path, e->d_name, &t);
        }
        closedir(dir);
    }
    printf("    %d ONNX cases in both layouts: %d nodes emulated as planned for the GPU, %d on the host "
           "reference kernels\n",
           t.cases, t.gpu_nodes, t.host_nodes);
    for (int op = 0; op < DK_OP_COUNT; op++)
        if (t.per_op[op]) printf("      %-10s %d\n", dk_op_name((dk_op)op), t.per_op[op]);
    if (!t.cases) skip();
    /* every emulated family was exercised */
    static const dk_op families[] = {DK_OP_ADD,    DK_OP_SUB,     DK_OP_MUL,         DK_OP_PAD,
                                     DK_OP_SOFTMAX, DK_OP_CONCAT, DK_OP_FLATTEN,     DK_OP_HARDSIGMOID,
                                     DK_OP_HARDSWISH, DK_OP_LEAKYRELU};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) assert_true(t.per_op[families[i]] > 0);
    assert_true(t.gpu_nodes > 40);
}

/* One-node graph over random inputs of the given shapes; expected = reference kernel. */
static void synthetic(dk_op op, int axis, int n_in, const int *ndims, const int64_t dims[][4], tally *t)
{
    dk_graph *g = tu_new_graph(14);
    int ins[4];
    for (int i = 0; i < n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        ins[i] = tu_add_input(g, name, DK_F32, ndims[i], dims[i], -4, 4);
    }
    int k = tu_add_node(g, op, ins, n_in, 1);
    if (op == DK_OP_CONCAT) tu_attr_int(g, k, "axis", axis);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor want = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_kernel_for(op), &want, 1), DK_OK);
    want.name = strdup(g->values[g->nodes[k].outputs[0]].t.name);
    dk_tensor fed[4];
    for (int i = 0; i < n_in; i++) fed[i] = g->values[ins[i]].t;
    char label[64];
    snprintf(label, sizeof label, "synthetic %s", dk_op_name(op));
    for (int nhwc = 0; nhwc < 2; nhwc++) assert_true(run_graph(g, nhwc, fed, n_in, &want, 1, t, label));
    t->cases++;
    dk_tensor_reset(&want);
    dk_graph_destroy(g);
}

static void test_emulated_model_shapes(void **state)
{
    (void)state;
    tu_init("test_emulated_model_shapes");
    tally t = {0};
    const int four[3] = {4, 4, 4}, mixed[2] = {4, 3}, lead[2] = {4, 1};
    /* residual Add (ResNet, MobileNetV2), per-channel constants both ways round, Sub with A broadcast */
    const int64_t same[2][4] = {{2, 8, 5, 7}, {2, 8, 5, 7}};
    const int64_t chan[2][4] = {{2, 8, 5, 7}, {8, 1, 1}};
    const int64_t chan4[2][4] = {{1, 8, 1, 1}, {2, 8, 5, 7}};
    const int64_t row[2][4] = {{2, 8, 5, 7}, {7}};
    for (int op = 0; op < 3; op++) {
        dk_op o = op == 0 ? DK_OP_ADD : op == 1 ? DK_OP_SUB : DK_OP_MUL;
        synthetic(o, 0, 2, four, same, &t);
        synthetic(o, 0, 2, mixed, chan, &t);
        synthetic(o, 0, 2, four, chan4, &t);
        synthetic(o, 0, 2, lead, row, &t);
    }
    /* channel Concat (Inception), and along the spatial axes */
    const int64_t cat[3][4] = {{1, 3, 5, 6}, {1, 5, 5, 6}, {1, 2, 5, 6}};
    const int64_t cat2[3][4] = {{2, 3, 4, 6}, {2, 3, 1, 6}, {2, 3, 2, 6}};
    const int64_t cat3[3][4] = {{2, 3, 4, 1}, {2, 3, 4, 2}, {2, 3, 4, 5}};
    synthetic(DK_OP_CONCAT, 1, 3, four, cat, &t);
    synthetic(DK_OP_CONCAT, 2, 3, four, cat2, &t);
    synthetic(DK_OP_CONCAT, 3, 3, four, cat3, &t);
    printf("    %d one-node graphs in both layouts: %d nodes emulated as planned for the GPU, %d on the host\n",
           t.cases, t.gpu_nodes, t.host_nodes);
    assert_int_equal(t.host_nodes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_emulated_onnx_cases),
                                       cmocka_unit_test(test_emulated_model_shapes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
