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
 * seed) against the reference kernel.
 *
 * ConvTranspose's device work is one cuDNN call (cudnnConvolutionBackwardData)
 * whose meaning rests on our mapping of the node to a forward convolution's
 * descriptors: its planner's host half runs for real and the call is
 * emulated from the descriptors read back (see "ConvTranspose" below), on
 * the ONNX cases and one-node graphs (groups, output_padding, 3-D, NHWC). */
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

/* ---- ConvTranspose: cudnnConvolutionBackwardData's descriptors ------------------------------------
 *
 * The planner's host half (dk__cudnn_convt_descs) runs for real: its
 * descriptors are read back (cudnnGetFilterNdDescriptor,
 * cudnnGetConvolutionNdDescriptor, cudnnGetConvolutionGroupCount,
 * cudnnGetTensorNdDescriptor) and checked against the node, and what
 * cudnnConvolutionBackwardData and cudnnAddTensor compute with them is
 * emulated on the host from what was read back, by cuDNN's definition of the
 * data gradient: dx[n, g Cg + c, h] = sum over the K/group filters k of group
 * g and the taps t of dy[n, k, o] w[k, c, t] where h = o stride + t dilation
 * - pad; then dx += bias. The result must match the ONNX case's expected
 * output (the reference kernel's on the one-node graphs). The cases that
 * run on the host must say why (plan->info.note). */

#define CT_RTOL 1e-5
#define CT_ATOL 1e-6

typedef struct convt_descs {
    int nd;               /* tensor rank (4 or 5) */
    int wdims[5];         /* filter dims, K C R S order */
    cudnnTensorFormat_t wfmt;
    int pad[3], stride[3], dil[3];
    int group;
} convt_descs;

static convt_descs read_convt_descs(dk_cudnn_plan *p)
{
    convt_descs d;
    memset(&d, 0, sizeof d);
    cudnnDataType_t dt, ct;
    cudnnConvolutionMode_t mode;
    int len = 0;
    assert_int_equal(cudnnGetFilterNdDescriptor(p->filter, 5, &dt, &d.wfmt, &d.nd, d.wdims), CUDNN_STATUS_SUCCESS);
    assert_int_equal(dt, CUDNN_DATA_FLOAT);
    assert_int_equal(cudnnGetConvolutionNdDescriptor(p->conv, 3, &len, d.pad, d.stride, d.dil, &mode, &ct),
                     CUDNN_STATUS_SUCCESS);
    assert_int_equal(len, d.nd - 2);
    assert_int_equal(mode, CUDNN_CROSS_CORRELATION);
    assert_int_equal(ct, CUDNN_DATA_FLOAT);
    assert_int_equal(cudnnGetConvolutionGroupCount(p->conv, &d.group), CUDNN_STATUS_SUCCESS);
    return d;
}

/* The descriptors say what the node says: the filter is W's dims, the pads
 * pad_begin, and the strides, dilations and group the node's (a 1-D node
 * lifted to height 1); dy is X, dx is Y, in their stored layouts. */
static void check_convt_descs(const dk_graph *g, const dk_node *n, dk_cudnn_plan *p, const convt_descs *d,
                              int nhwc)
{
    const dk_convtranspose_params *cp = &n->p.convt;
    const dk_tensor *x = &g->values[n->inputs[0]].t, *w = &g->values[n->inputs[1]].t;
    const dk_tensor *y = &g->values[n->outputs[0]].t;
    const int ns = cp->win.nspatial, lift = ns == 1;
    assert_int_equal(d->nd, ns + lift + 2);
    assert_int_equal(d->wfmt, nhwc && x->ndim == 4 ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW);
    assert_int_equal(d->group, (int)cp->group);
    assert_int_equal(d->wdims[0], (int)w->dims[0]);
    assert_int_equal(d->wdims[1], (int)w->dims[1]);
    if (lift) {
        assert_int_equal(d->wdims[2], 1);
        assert_int_equal(d->pad[0], 0);
        assert_int_equal(d->stride[0], 1);
        assert_int_equal(d->dil[0], 1);
    }
    for (int s = 0; s < ns; s++) {
        assert_int_equal(d->wdims[2 + lift + s], (int)w->dims[2 + s]);
        assert_int_equal(d->pad[lift + s], (int)cp->win.pad_begin[s]);
        assert_int_equal(d->stride[lift + s], (int)cp->win.stride[s]);
        assert_int_equal(d->dil[lift + s], (int)cp->win.dilation[s]);
    }
    view dy = read_view(p->t[0]), dx = read_view(p->t[1]);
    assert_int_equal(dy.nd, d->nd);
    assert_int_equal(dx.nd, d->nd);
    for (int a = 0; a < 2; a++) {
        assert_int_equal(dy.dims[a], (int)x->dims[a]);
        assert_int_equal(dx.dims[a], (int)y->dims[a]);
    }
    for (int s = 0; s < ns; s++) {
        assert_int_equal(dy.dims[2 + lift + s], (int)x->dims[2 + s]);
        assert_int_equal(dx.dims[2 + lift + s], (int)y->dims[2 + s]);
    }
    /* cuDNN's own consistency rule: the forward convolution of dx has dy's shape */
    int out[5];
    assert_int_equal(cudnnGetConvolutionNdForwardOutputDim(p->conv, p->t[1], p->filter, d->nd, out),
                     CUDNN_STATUS_SUCCESS);
    for (int a = 0; a < d->nd; a++) assert_int_equal(out[a], dy.dims[a]);
    if (cp->has_bias) {
        view b = read_view(p->t[2]);
        assert_int_equal(b.nd, d->nd);
        for (int a = 0; a < d->nd; a++) assert_int_equal(b.dims[a], a == 1 ? (int)y->dims[1] : 1);
    }
}

/* y (stored layout) = backward data of x (stored layout) with filter memory
 * wmem, then + bias, from the descriptors read back. */
static void emulate_convt(dk_cudnn_plan *p, const convt_descs *d, const float *x, const float *wmem,
                          const float *bias, float *y)
{
    view dy = read_view(p->t[0]), dx = read_view(p->t[1]);
    const int ns = d->nd - 2, K = d->wdims[0], Cg = d->wdims[1], Kg = K / d->group;
    assert_int_equal(dy.dims[1], K);
    assert_int_equal(dx.dims[1], Cg * d->group);
    int64_t taps = 1, opos = 1;
    for (int s = 0; s < ns; s++) taps *= d->wdims[2 + s], opos *= dy.dims[2 + s];
    const int64_t total = view_count(&dx);
    double *acc = calloc((size_t)total, sizeof *acc);
    assert_non_null(acc);
    for (int b = 0; b < dy.dims[0]; b++)
        for (int k = 0; k < K; k++)
            for (int64_t o = 0; o < opos; o++) {
                int oi[3];
                for (int64_t r = o, s = ns - 1; s >= 0; s--) oi[s] = (int)(r % dy.dims[2 + s]), r /= dy.dims[2 + s];
                int64_t yoff = (int64_t)b * dy.strides[0] + (int64_t)k * dy.strides[1];
                for (int s = 0; s < ns; s++) yoff += (int64_t)oi[s] * dy.strides[2 + s];
                const double v = x[yoff];
                for (int64_t t = 0; t < taps; t++) {
                    int ti[3], ok = 1;
                    int64_t xoff = (int64_t)b * dx.strides[0];
                    for (int64_t r = t, s = ns - 1; s >= 0; s--) ti[s] = (int)(r % d->wdims[2 + s]), r /= d->wdims[2 + s];
                    for (int s = 0; s < ns && ok; s++) {
                        int h = oi[s] * d->stride[s] + ti[s] * d->dil[s] - d->pad[s];
                        if (h < 0 || h >= dx.dims[2 + s]) ok = 0;
                        else xoff += (int64_t)h * dx.strides[2 + s];
                    }
                    if (!ok) continue;
                    for (int c = 0; c < Cg; c++) {
                        /* KCRS row-major, or KRSC (NHWC) */
                        int64_t woff = d->wfmt == CUDNN_TENSOR_NHWC ? ((int64_t)k * taps + t) * Cg + c
                                                                    : ((int64_t)k * Cg + c) * taps + t;
                        acc[xoff + (int64_t)((k / Kg) * Cg + c) * dx.strides[1]] += v * wmem[woff];
                    }
                }
            }
    for (int64_t e = 0; e < total; e++) y[e] = (float)acc[e]; /* beta = 0 */
    if (bias) {
        view bv = read_view(p->t[2]);
        for (int64_t e = 0; e < total; e++) y[view_offset(&dx, dx.dims, e)] += bias[view_offset(&bv, dx.dims, e)];
    }
    free(acc);
}

typedef struct convt_tally {
    int native, host;
    int native_nchw; /* of native: with layout=nchw */
} convt_tally;

/* Plans node n of g under cfg: with `reason` the node must run on the host
 * with a note containing it; otherwise its descriptors are checked and the
 * emulated device result must match want (canonical). */
static void convt_case(const char *label, const dk_graph *g, const dk_node *n, const dk_cudnn_config *cfg,
                       const dk_tensor *x, const dk_tensor *w, const dk_tensor *b, const dk_tensor *want,
                       const char *reason, convt_tally *t)
{
    dk_cudnn_plan *p = calloc(1, sizeof *p);
    dk_cudnn_conv_geom geo;
    dk_status st = dk__cudnn_convt_descs(cfg, g, n, p, &geo);
    const char *lay = cfg->nhwc ? "nhwc" : "nchw";
    if (reason) {
        if (st != DK_ERR_UNSUPPORTED) printf("    %s [%s]: planned for the GPU, expected the host (%s)\n", label, lay, reason);
        assert_int_equal(st, DK_ERR_UNSUPPORTED);
        assert_int_equal(dk__cudnn_fallback_last(p), DK_OK);
        printf("    %s [%s, math=%s] ConvTranspose: %s\n", label, lay, dk__cudnn_math_name(cfg->math), p->info.note);
        assert_non_null(strstr(p->info.note, "host (reference kernel): "));
        assert_non_null(strstr(p->info.note, reason));
        t->host++;
        dk__cudnn_plan_free(p);
        return;
    }
    if (st != DK_OK) printf("    %s [%s]: %s\n", label, lay, dk_last_error());
    assert_int_equal(st, DK_OK);
    convt_descs d = read_convt_descs(p);
    check_convt_descs(g, n, p, &d, cfg->nhwc);
    const dk_tensor *yt = &g->values[n->outputs[0]].t;
    const int x_nhwc = dk__cudnn_is_nhwc(cfg, x), y_nhwc = dk__cudnn_is_nhwc(cfg, yt);
    float *xs = malloc(dk_tensor_nbytes(x) + 1), *ws = malloc(dk_tensor_nbytes(w) + 1);
    float *ys = malloc(dk_tensor_nbytes(yt) + 1), *yc = malloc(dk_tensor_nbytes(yt) + 1);
    if (x_nhwc) dk__cudnn_nchw_to_nhwc(x->data, xs, x->dims);
    else memcpy(xs, x->data, dk_tensor_nbytes(x));
    /* the filter as the planner uploads it (dk__cudnn_upload_filter) */
    if (d.wfmt == CUDNN_TENSOR_NHWC) dk__cudnn_nchw_to_nhwc(w->data, ws, w->dims);
    else memcpy(ws, w->data, dk_tensor_nbytes(w));
    emulate_convt(p, &d, xs, ws, b ? (const float *)b->data : NULL, ys);
    if (y_nhwc) dk__cudnn_nhwc_to_nchw(ys, yc, yt->dims);
    else memcpy(yc, ys, dk_tensor_nbytes(yt));
    assert_int_equal(dk_tensor_numel(want), dk_tensor_numel(yt));
    double scale = 0;
    for (int64_t e = 0; e < dk_tensor_numel(want); e++) scale = fmax(scale, fabs(dk_tensor_get(want, e)));
    for (int64_t e = 0; e < dk_tensor_numel(want); e++) {
        double wv = dk_tensor_get(want, e), yv = yc[e];
        if (!(fabs(yv - wv) <= CT_ATOL * scale + CT_RTOL * fabs(wv))) {
            printf("    %s [%s]: element %lld is %.9g, expected %.9g\n", label, lay, (long long)e, yv, wv);
            fail();
        }
    }
    t->native++;
    if (!cfg->nhwc) t->native_nchw++;
    free(xs), free(ws), free(ys), free(yc);
    dk__cudnn_plan_free(p);
}

/* The ONNX cases that cuDNN's symmetric padding cannot express, and why. */
static const char *convt_onnx_reason(const char *name)
{
    static const struct {
        const char *name, *reason;
    } host[] = {
        /* SAME_UPPER, stride 2 on 3: 7 natural rows for 6, the extra pad at the end */
        {"test_convtranspose_autopad_same", "padding 0 before, 1 after"},
    };
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++)
        if (!strcmp(host[i].name, name)) return host[i].reason;
    return NULL;
}

static void convt_onnx_case(const char *dir, const char *name, convt_tally *t)
{
    dk_tensor ins[MAX_IO], outs[MAX_IO];
    memset(ins, 0, sizeof ins);
    memset(outs, 0, sizeof outs);
    int n_in = load_set(dir, "input", ins, MAX_IO), n_out = load_set(dir, "output", outs, MAX_IO);
    assert_int_equal(n_out, 1);
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    dk_graph *g = NULL;
    if (dk_onnx_load_bound(path, NULL, 0, &g) != DK_OK) printf("    %s: %s\n", name, dk_last_error());
    assert_non_null(g);
    assert_int_equal(g->n_nodes, 1);
    const dk_node *n = &g->nodes[0];
    assert_int_equal(n->op, DK_OP_CONVTRANSPOSE);
    /* X, W and B: fed by the case (by name, else by position) or constants of the model */
    const dk_tensor *io[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3 && i < n->n_inputs; i++) {
        int v = n->inputs[i];
        if (v < 0) continue;
        if (g->values[v].kind == DK_VALUE_CONSTANT) io[i] = &g->values[v].t;
        for (int k = 0; k < n_in && !io[i]; k++)
            if ((ins[k].name && g->values[v].t.name && !strcmp(ins[k].name, g->values[v].t.name)) ||
                (!ins[k].name && k < g->n_inputs && g->inputs[k] == v))
                io[i] = &ins[k];
        assert_non_null(io[i]);
    }
    const int w_const = g->values[n->inputs[1]].kind == DK_VALUE_CONSTANT;
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        dk_cudnn_config cfg = {0};
        cfg.nhwc = nhwc;
        const char *reason = convt_onnx_reason(name);
        /* a weight the model feeds is read from its own device value: NCHW only */
        if (!reason && nhwc && !w_const && io[0]->ndim == 4) reason = "weights computed at run time need layout=nchw";
        convt_case(name, g, n, &cfg, io[0], io[1], io[2], &outs[0], reason, t);
    }
    /* math=fp16 has no backward-data path here */
    dk_cudnn_config half = {0};
    half.math = DK_CUDNN_MATH_FP16;
    convt_case(name, g, n, &half, io[0], io[1], io[2], &outs[0], "math=fp16", t);
    dk_graph_destroy(g);
    for (int i = 0; i < MAX_IO; i++) dk_tensor_reset(&ins[i]), dk_tensor_reset(&outs[i]);
}

static void test_convtranspose_onnx_cases(void **state)
{
    (void)state;
    static const char *suites[] = {"node", "pytorch-converted"};
    convt_tally t = {0};
    int cases = 0;
    for (int s = 0; s < 2; s++) {
        char root[512];
        snprintf(root, sizeof root, "%s/%s", ONNX_DATA, suites[s]);
        DIR *dir = opendir(root);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (strncmp(e->d_name, "test_convtranspose", 18) && strncmp(e->d_name, "test_ConvTranspose", 18))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", root, e->d_name);
            convt_onnx_case(path, e->d_name, &t);
            cases++;
        }
        closedir(dir);
    }
    printf("    %d ONNX ConvTranspose cases: %d plans emulated as cudnnConvolutionBackwardData, %d on the host\n",
           cases, t.native, t.host);
    if (!cases) skip();
    /* every case but autopad_same runs natively in NCHW; with layout=nhwc the
     * 1-D and 3-D ones (not stored NHWC) and those with constant weights too */
    assert_int_equal(t.native_nchw, cases - 1);
    assert_true(t.native > t.native_nchw);
}

/* One ConvTranspose over random X and constant W (and B) against the reference kernel. */
typedef struct convt_spec {
    int ns;
    int64_t N, C, M, group;
    int64_t sp[3], k[3], s[3], d[3];
    int64_t pads[6];          /* begin..., end... */
    int64_t out_pad[3];       /* output_padding (0: none) */
    int64_t out_shape[3];     /* output_shape (0: none; replaces pads) */
    int bias;
    const char *reason;       /* expected host fallback in NCHW (NULL: native) */
} convt_spec;

static void convt_synthetic(const convt_spec *c, convt_tally *t)
{
    dk_graph *g = tu_new_graph(14);
    int64_t xd[5] = {c->N, c->C}, wd[5] = {c->C, c->M / c->group};
    for (int i = 0; i < c->ns; i++) xd[2 + i] = c->sp[i], wd[2 + i] = c->k[i];
    int ins[3] = {tu_add_input(g, "x", DK_F32, c->ns + 2, xd, -2, 2),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, c->ns + 2, wd, -1, 1), -1};
    if (c->bias) ins[2] = tu_add_value(g, "b", DK_VALUE_CONSTANT, DK_F32, 1, &c->M, -1, 1);
    int k = tu_add_node(g, DK_OP_CONVTRANSPOSE, ins, c->bias ? 3 : 2, 1);
    tu_attr_ints(g, k, "kernel_shape", c->ns, c->k);
    tu_attr_ints(g, k, "strides", c->ns, c->s);
    tu_attr_ints(g, k, "dilations", c->ns, c->d);
    if (c->group != 1) tu_attr_int(g, k, "group", c->group);
    if (c->out_shape[0]) tu_attr_ints(g, k, "output_shape", c->ns, c->out_shape);
    else tu_attr_ints(g, k, "pads", 2 * c->ns, c->pads);
    if (c->out_pad[0] || c->out_pad[1] || c->out_pad[2]) tu_attr_ints(g, k, "output_padding", c->ns, c->out_pad);
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    dk_tensor want = {0};
    assert_int_equal(tu_run_kernel(g, k, dk_ref_kernel_for(DK_OP_CONVTRANSPOSE), &want, 1), DK_OK);
    const dk_node *n = &g->nodes[k];
    const dk_tensor *b = c->bias ? &g->values[ins[2]].t : NULL;
    char label[96];
    snprintf(label, sizeof label, "synthetic ConvTranspose %d-D group %lld", c->ns, (long long)c->group);
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        dk_cudnn_config cfg = {0};
        cfg.nhwc = nhwc;
        convt_case(label, g, n, &cfg, &g->values[ins[0]].t, &g->values[ins[1]].t, b, &want, c->reason, t);
    }
    dk_tensor_reset(&want);
    dk_graph_destroy(g);
}

static void test_convtranspose_model_shapes(void **state)
{
    (void)state;
    tu_init("test_convtranspose_model_shapes");
    convt_tally t = {0};
    static const convt_spec specs[] = {
        /* grouped 4x4 stride 2 pad 1 (GAN generators), bias */
        {2, 2, 4, 6, 2, {5, 4}, {4, 4}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, {0}, 1, NULL},
        /* depthwise-like: group = C = M */
        {2, 1, 3, 3, 3, {4, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, {0}, 0, NULL},
        /* 3x3 stride 2 pad 1 output_padding 1: exactly 2x, the extra row at the end */
        {2, 1, 5, 3, 1, {4, 3}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {1, 1}, {0}, 1, NULL},
        /* dilated, mixed strides, asymmetric kernel */
        {2, 2, 3, 4, 1, {3, 4}, {3, 2}, {3, 1}, {2, 3}, {2, 1, 2, 1}, {0}, {0}, 1, NULL},
        /* 3-D 2x2x2 stride 2 with bias */
        {3, 1, 2, 3, 1, {3, 2, 4}, {2, 2, 2}, {2, 2, 2}, {1, 1, 1}, {0}, {0}, {0}, 1, NULL},
        /* 1-D, output_shape one past the natural size: pad_end -1, a row only the bias reaches */
        {1, 2, 3, 2, 1, {5}, {3}, {3}, {1}, {0}, {0}, {16}, 1, NULL},
        /* asymmetric pads: the host */
        {2, 1, 2, 2, 1, {4, 4}, {3, 3}, {1, 1}, {1, 1}, {0, 1, 1, 1}, {0}, {0}, 1, "cuDNN pads both ends alike"},
        /* output_shape two past the natural size: a negative pad_begin */
        {1, 1, 2, 2, 1, {4}, {2}, {2}, {1}, {0}, {0}, {10}, 0, "negative padding at the beginning"},
        /* 2 before, 0 after on stride 2: pad_begin - pad_end = stride, a row fewer than cuDNN's output */
        {2, 1, 2, 2, 1, {4, 4}, {3, 3}, {2, 1}, {1, 1}, {2, 0, 0, 0}, {0}, {0}, 0,
         "cuDNN pads both ends alike"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) convt_synthetic(&specs[i], &t);
    printf("    %zu one-node ConvTranspose graphs in both layouts: %d emulated as cudnnConvolutionBackwardData, "
           "%d on the host\n",
           sizeof specs / sizeof specs[0], t.native, t.host);
    assert_int_equal(t.native, 12);
    assert_int_equal(t.host, 6);
}

int main(void)
{
    /* the backend calls cuDNN through pointers loaded on first use */
    char reason[512];
    if (dk__cuda_load(reason, sizeof reason) != DK_OK) {
        printf("SKIP: the CUDA libraries do not load: %s\n", reason);
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_emulated_onnx_cases),
                                       cmocka_unit_test(test_emulated_model_shapes),
                                       cmocka_unit_test(test_convtranspose_onnx_cases),
                                       cmocka_unit_test(test_convtranspose_model_shapes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
