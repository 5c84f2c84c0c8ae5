/* Unit tests of the cudnn backend (kernels/cudnn/) that need no GPU: option
 * parsing, forward-algorithm names both ways, translation of every CUDA,
 * cuDNN and cuBLAS status, and the cuDNN descriptors built from deltakern
 * shapes. cuDNN's descriptors are host objects, so cuDNN itself checks them
 * here: for every Conv and pooling node of the exported models
 * (DK_MODEL_DIR) and of the ONNX node/pytorch-converted test cases, the
 * output shape cuDNN computes (cudnnGetConvolutionNdForwardOutputDim,
 * cudnnGetPoolingNdForwardOutputDim) must equal deltakern's inferred shape,
 * or the descriptor set-up must decline with DK_ERR_UNSUPPORTED and the
 * reason (asymmetric padding, dilated pooling, MaxPool indices), in which
 * case the node runs on the host reference kernels.
 *
 * The probe is checked against cudaGetDeviceCount's own answer: on a machine
 * without a usable GPU the backend must be unavailable with that reason. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "deltakern/backend.h"
#include "deltakern/onnx.h"
#include "deltakern/session.h"
#include "deltakern/variant.h"
#include "kernels/cudnn/cudnn_internal.h"
#include "tests/unit/test_util.h"

#define ONNX_DATA "/usr/share/libonnx-testdata/data"

/* ---- options ------------------------------------------------------------------------- */

static void test_options_parse(void **state)
{
    (void)state;
    dk_variant v;
    dk_cudnn_config cfg;
    assert_int_equal(dk_variant_parse("cudnn:algo=WINOGRAD,math=tf32", &v), DK_OK);
    assert_int_equal(dk__cudnn_config_read(&v, &cfg), DK_OK);
    assert_int_equal(cfg.algo, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD);
    assert_int_equal(cfg.math, DK_CUDNN_MATH_TF32);
    assert_int_equal(cfg.nhwc, 0);
    assert_int_equal(cfg.device, 0);

    assert_int_equal(dk_variant_parse("cudnn", &v), DK_OK); /* defaults */
    assert_int_equal(dk__cudnn_config_read(&v, &cfg), DK_OK);
    assert_int_equal(cfg.algo, DK_CUDNN_ALGO_HEURISTIC);
    assert_int_equal(cfg.math, DK_CUDNN_MATH_FP32);
    assert_int_equal(cfg.fuse, 0);
    assert_int_equal(cfg.deterministic, 0);

    assert_int_equal(dk_variant_parse("cudnn:device=1,algo=find,math=fp16,layout=nhwc,fuse=on,deterministic=on", &v),
                     DK_OK);
    assert_int_equal(dk__cudnn_config_read(&v, &cfg), DK_OK);
    assert_int_equal(cfg.device, 1);
    assert_int_equal(cfg.algo, DK_CUDNN_ALGO_FIND);
    assert_int_equal(cfg.math, DK_CUDNN_MATH_FP16);
    assert_int_equal(cfg.nhwc, 1);
    assert_int_equal(cfg.fuse, 1);
    assert_int_equal(cfg.deterministic, 1);
}

static void expect_bad(const char *text, const char *needle1, const char *needle2)
{
    dk_variant v;
    assert_int_equal(dk_variant_parse(text, &v), DK_ERR_INVALID);
    printf("    %s -> %s\n", text, dk_last_error());
    assert_non_null(strstr(dk_last_error(), needle1));
    if (needle2) assert_non_null(strstr(dk_last_error(), needle2));
}

static void test_options_bad(void **state)
{
    (void)state;
    /* names are cuDNN's, upper case; the error lists the valid ones */
    expect_bad("cudnn:algo=winograd", "algo", "WINOGRAD_NONFUSED");
    expect_bad("cudnn:algo=", "algo", "IMPLICIT_PRECOMP_GEMM");
    expect_bad("cudnn:math=bf16", "math", "fp32|tf32|fp16");
    expect_bad("cudnn:layout=nchw16c", "layout", "nchw|nhwc");
    expect_bad("cudnn:fuse=yes", "fuse", "on|off");
    expect_bad("cudnn:deterministic=1", "deterministic", "on|off");
    expect_bad("cudnn:device=-1", "device", NULL);
    expect_bad("cudnn:device=gpu0", "device", NULL);
    expect_bad("cudnn:fpmath=tf32", "fpmath", "math");
}

/* ---- algorithm names ------------------------------------------------------------------- */

static void test_algo_names(void **state)
{
    (void)state;
    /* every forward algorithm cuDNN 9 declares has a name that maps back to it */
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; a++) {
        const char *name = dk__cudnn_algo_name(a);
        printf("    algorithm %d = %s\n", a, name);
        assert_string_not_equal(name, "?");
        assert_int_equal(dk__cudnn_algo_from_name(name), a);
        /* and the option accepts it */
        char text[96];
        dk_variant v;
        dk_cudnn_config cfg;
        snprintf(text, sizeof text, "cudnn:algo=%s", name);
        assert_int_equal(dk_variant_parse(text, &v), DK_OK);
        assert_int_equal(dk__cudnn_config_read(&v, &cfg), DK_OK);
        assert_int_equal(cfg.algo, a);
    }
    assert_string_equal(dk__cudnn_algo_name(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM), "IMPLICIT_GEMM");
    assert_string_equal(dk__cudnn_algo_name(CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING), "FFT_TILING");
    assert_string_equal(dk__cudnn_algo_name(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED), "WINOGRAD_NONFUSED");
    assert_int_equal(dk__cudnn_algo_from_name("heuristic"), DK_CUDNN_ALGO_HEURISTIC);
    assert_int_equal(dk__cudnn_algo_from_name("find"), DK_CUDNN_ALGO_FIND);
    assert_string_equal(dk__cudnn_algo_name(DK_CUDNN_ALGO_HEURISTIC), "heuristic");
    assert_string_equal(dk__cudnn_algo_name(DK_CUDNN_ALGO_FIND), "find");
    assert_int_equal(dk__cudnn_algo_from_name("winograd"), DK_CUDNN_ALGO_UNKNOWN);
    assert_int_equal(dk__cudnn_algo_from_name(NULL), DK_CUDNN_ALGO_UNKNOWN);
    assert_string_equal(dk__cudnn_algo_name(CUDNN_CONVOLUTION_FWD_ALGO_COUNT), "?");
}

/* ---- error translation ------------------------------------------------------------------ */

static void expect_message(dk_status got, dk_status want, const char *call, const char *text)
{
    printf("    -> %s: %s\n", dk_status_name(got), dk_last_error());
    assert_int_equal(got, want);
    assert_non_null(strstr(dk_last_error(), call));
    assert_non_null(strstr(dk_last_error(), text));
}

static void test_cuda_errors(void **state)
{
    (void)state;
    assert_int_equal(dk__cuda_check(cudaSuccess, "cudaMalloc(&p, 4)"), DK_OK);
    static const struct {
        cudaError_t e;
        dk_status want;
    } cases[] = {
        {cudaErrorMemoryAllocation, DK_ERR_NOMEM},   {cudaErrorInsufficientDriver, DK_ERR_UNAVAILABLE},
        {cudaErrorNoDevice, DK_ERR_UNAVAILABLE},     {cudaErrorInvalidDevice, DK_ERR_UNAVAILABLE},
        {cudaErrorInvalidValue, DK_ERR_INVALID},     {cudaErrorLaunchFailure, DK_ERR_INTERNAL},
        {cudaErrorIllegalAddress, DK_ERR_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_status st = dk__cuda_check(cases[i].e, "cudaMalloc(&ctx->work, bytes)");
        expect_message(st, cases[i].want, "cudaMalloc", cudaGetErrorString(cases[i].e));
        assert_non_null(strstr(dk_last_error(), cudaGetErrorName(cases[i].e)));
        /* only the function's name is kept, not its arguments */
        assert_null(strstr(dk_last_error(), "ctx->work"));
        assert_int_equal(dk__cuda_status(cases[i].e), cases[i].want);
    }
}

static void test_cudnn_errors(void **state)
{
    (void)state;
    assert_int_equal(dk__cudnn_check(CUDNN_STATUS_SUCCESS, "cudnnCreate(&h)"), DK_OK);
    static const struct {
        cudnnStatus_t s;
        dk_status want;
    } cases[] = {
        {CUDNN_STATUS_NOT_INITIALIZED, DK_ERR_UNAVAILABLE},
        {CUDNN_STATUS_ALLOC_FAILED, DK_ERR_NOMEM},
        {CUDNN_STATUS_BAD_PARAM, DK_ERR_INVALID},
        {CUDNN_STATUS_BAD_PARAM_NULL_POINTER, DK_ERR_INVALID},
        {CUDNN_STATUS_NOT_SUPPORTED, DK_ERR_UNSUPPORTED},
        {CUDNN_STATUS_NOT_SUPPORTED_SHAPE, DK_ERR_UNSUPPORTED},
        {CUDNN_STATUS_INTERNAL_ERROR, DK_ERR_INTERNAL},
        {CUDNN_STATUS_EXECUTION_FAILED, DK_ERR_INTERNAL},
        {CUDNN_STATUS_LICENSE_ERROR, DK_ERR_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_status st = dk__cudnn_check(cases[i].s, "cudnnConvolutionForward(ctx->cudnn, &one, x)");
        expect_message(st, cases[i].want, "cudnnConvolutionForward", cudnnGetErrorString(cases[i].s));
        assert_null(strstr(dk_last_error(), "ctx->cudnn"));
        assert_int_equal(dk__cudnn_status(cases[i].s), cases[i].want);
    }
    /* a real failure carries cuDNN's own detail: a rank it rejects */
    cudnnTensorDescriptor_t d;
    assert_int_equal(cudnnCreateTensorDescriptor(&d), CUDNN_STATUS_SUCCESS);
    int dims[2] = {0, 0}, strides[2] = {1, 1};
    dk_status st = dk__cudnn_check(cudnnSetTensorNdDescriptor(d, CUDNN_DATA_FLOAT, 2, dims, strides),
                                   "cudnnSetTensorNdDescriptor(d, ...)");
    printf("    -> %s: %s\n", dk_status_name(st), dk_last_error());
    assert_int_not_equal(st, DK_OK);
    assert_non_null(strstr(dk_last_error(), "cudnnSetTensorNdDescriptor: CUDNN_STATUS_BAD_PARAM"));
    cudnnDestroyTensorDescriptor(d);
}

static void test_cublas_errors(void **state)
{
    (void)state;
    assert_int_equal(dk__cublas_check(CUBLAS_STATUS_SUCCESS, "cublasCreate(&h)"), DK_OK);
    static const struct {
        cublasStatus_t s;
        dk_status want;
    } cases[] = {
        {CUBLAS_STATUS_NOT_INITIALIZED, DK_ERR_UNAVAILABLE}, {CUBLAS_STATUS_ALLOC_FAILED, DK_ERR_NOMEM},
        {CUBLAS_STATUS_INVALID_VALUE, DK_ERR_INVALID},       {CUBLAS_STATUS_ARCH_MISMATCH, DK_ERR_UNSUPPORTED},
        {CUBLAS_STATUS_NOT_SUPPORTED, DK_ERR_UNSUPPORTED},   {CUBLAS_STATUS_MAPPING_ERROR, DK_ERR_INTERNAL},
        {CUBLAS_STATUS_EXECUTION_FAILED, DK_ERR_INTERNAL},   {CUBLAS_STATUS_INTERNAL_ERROR, DK_ERR_INTERNAL},
        {CUBLAS_STATUS_LICENSE_ERROR, DK_ERR_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_status st = dk__cublas_check(cases[i].s, "cublasGemmStridedBatchedEx(ctx->cublas, ta)");
        expect_message(st, cases[i].want, "cublasGemmStridedBatchedEx", cublasGetStatusName(cases[i].s));
        assert_non_null(strstr(dk_last_error(), cublasGetStatusString(cases[i].s)));
        assert_int_equal(dk__cublas_status(cases[i].s), cases[i].want);
    }
}

/* ---- probe and describe -------------------------------------------------------------------- */

static void test_probe_and_describe(void **state)
{
    (void)state;
    const dk_backend_iface *b = dk_backend_find("cudnn");
    assert_non_null(b);
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    char reason[256], line[512];
    dk_status st = dk_backend_probe(b, reason, sizeof reason);
    assert_int_equal(dk_backend_describe(b, line, sizeof line), DK_OK);
    printf("    cudaGetDeviceCount: %s, %d device(s)\n    probe: %s %s\n    describe: %s\n",
           cudaGetErrorName(e), count, dk_status_name(st), reason, line);
    char cudnn_version[32];
    size_t v = cudnnGetVersion();
    snprintf(cudnn_version, sizeof cudnn_version, "cuDNN %zu.%zu.%zu", v / 10000, v / 100 % 100, v % 100);
    assert_non_null(strstr(line, cudnn_version));
    assert_non_null(strstr(line, "cuBLAS"));
    if (e != cudaSuccess || count == 0) {
        assert_int_equal(st, DK_ERR_UNAVAILABLE);
        if (e != cudaSuccess) {
            assert_non_null(strstr(reason, cudaGetErrorName(e)));
            assert_non_null(strstr(line, cudaGetErrorName(e)));
        }
        /* a session on it fails with the reason */
        dk_variant var;
        assert_int_equal(dk_variant_parse("cudnn:algo=FFT", &var), DK_OK);
        dk_graph *g = NULL;
        if (dk_onnx_load(ONNX_DATA "/node/test_relu/model.onnx", &g) == DK_OK) {
            dk_session *s = NULL;
            st = dk_session_create(g, &var, &s);
            printf("    session: %s\n", dk_last_error());
            assert_int_equal(st, DK_ERR_UNAVAILABLE);
            assert_null(s);
            assert_non_null(strstr(dk_last_error(), "cudnn"));
            if (e != cudaSuccess) assert_non_null(strstr(dk_last_error(), cudaGetErrorName(e)));
            dk_graph_destroy(g);
        }
    } else {
        assert_int_equal(st, DK_OK);
        struct cudaDeviceProp prop;
        assert_int_equal(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
        assert_non_null(strstr(line, prop.name));
    }
}

/* ---- descriptors ------------------------------------------------------------------------- */

static void test_tensor_layouts(void **state)
{
    (void)state;
    cudnnTensorDescriptor_t d;
    assert_int_equal(cudnnCreateTensorDescriptor(&d), CUDNN_STATUS_SUCCESS);
    const int64_t dims[4] = {2, 3, 5, 7};
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        assert_int_equal(dk__cudnn_tensor_desc(d, CUDNN_DATA_FLOAT, 4, dims, nhwc), DK_OK);
        cudnnDataType_t dt;
        int nd = 0, gd[8], gs[8];
        assert_int_equal(cudnnGetTensorNdDescriptor(d, 8, &dt, &nd, gd, gs), CUDNN_STATUS_SUCCESS);
        assert_int_equal(nd, 4);
        for (int i = 0; i < 4; i++) assert_int_equal(gd[i], dims[i]);
        /* element (n, c, h, w) lies at n*sN + c*sC + h*sH + w*sW in the stored order */
        const int64_t C = dims[1], H = dims[2], W = dims[3];
        for (int64_t n = 0; n < dims[0]; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++) {
                        int64_t want = nhwc ? ((n * H + h) * W + w) * C + c : ((n * C + c) * H + h) * W + w;
                        assert_int_equal(n * gs[0] + c * gs[1] + h * gs[2] + w * gs[3], want);
                    }
    }
    /* ranks below 4 are padded with trailing unit axes */
    const int64_t two[2] = {6, 11};
    assert_int_equal(dk__cudnn_tensor_desc(d, CUDNN_DATA_FLOAT, 2, two, 0), DK_OK);
    cudnnDataType_t dt;
    int nd = 0, gd[8], gs[8];
    assert_int_equal(cudnnGetTensorNdDescriptor(d, 8, &dt, &nd, gd, gs), CUDNN_STATUS_SUCCESS);
    assert_int_equal(nd, 4);
    assert_int_equal(gd[0], 6);
    assert_int_equal(gd[1], 11);
    assert_int_equal(gd[2] * gd[3], 1);
    assert_int_equal(gs[0], 11);
    assert_int_equal(gs[1], 1);
    /* a zero dimension or one beyond int is declined, not truncated */
    const int64_t huge[4] = {1, (int64_t)1 << 33, 1, 1};
    assert_int_equal(dk__cudnn_tensor_desc(d, CUDNN_DATA_FLOAT, 4, huge, 0), DK_ERR_UNSUPPORTED);
    cudnnDestroyTensorDescriptor(d);
}

typedef struct shape_counts {
    int conv_ok, conv_declined, pool_ok, pool_declined, lrn_ok, act_ok, act_declined;
} shape_counts;

/* Conv: cuDNN's output dims equal the inferred ones, or asymmetric padding declined. */
static void check_conv(const dk_graph *g, const dk_node *n, shape_counts *c)
{
    dk_cudnn_conv_geom geo;
    dk_status st = dk__cudnn_conv_geom(g, n, &geo);
    const dk_conv_params *cp = &n->p.conv;
    int symmetric = 1;
    for (int k = 0; k < cp->win.nspatial; k++) symmetric &= cp->win.pad_begin[k] == cp->win.pad_end[k];
    if (!symmetric) {
        assert_int_equal(st, DK_ERR_UNSUPPORTED);
        assert_non_null(strstr(dk_last_error(), "asymmetric"));
        assert_non_null(strstr(dk_last_error(), n->name));
        c->conv_declined++;
        return;
    }
    assert_int_equal(st, DK_OK);
    for (int nhwc = 0; nhwc < 2; nhwc++) {
        cudnnTensorDescriptor_t x;
        cudnnFilterDescriptor_t w;
        cudnnConvolutionDescriptor_t cd;
        assert_int_equal(cudnnCreateTensorDescriptor(&x), CUDNN_STATUS_SUCCESS);
        assert_int_equal(cudnnCreateFilterDescriptor(&w), CUDNN_STATUS_SUCCESS);
        assert_int_equal(cudnnCreateConvolutionDescriptor(&cd), CUDNN_STATUS_SUCCESS);
        int use_nhwc = nhwc && geo.nd == 4;
        st = dk__cudnn_set_conv(&geo, CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, use_nhwc, x, w, cd);
        if (st != DK_OK) printf("    %s: %s\n", n->name, dk_last_error());
        assert_int_equal(st, DK_OK);
        int out[5];
        assert_int_equal(dk__cudnn_conv_out_dims(cd, x, w, geo.nd, out), DK_OK);
        /* deltakern's inferred output, with the unit height of a lifted 1-D convolution */
        const dk_tensor *y = &g->values[n->outputs[0]].t;
        const int lift = geo.nd - y->ndim;
        for (int i = 0, j = 0; i < geo.nd; i++) {
            if (lift && i == 2) {
                assert_int_equal(out[i], 1);
                continue;
            }
            assert_int_equal(out[i], y->dims[j++]);
        }
        int groups = 0;
        assert_int_equal(cudnnGetConvolutionGroupCount(cd, &groups), CUDNN_STATUS_SUCCESS);
        assert_int_equal(groups, cp->group);
        cudnnDestroyTensorDescriptor(x);
        cudnnDestroyFilterDescriptor(w);
        cudnnDestroyConvolutionDescriptor(cd);
    }
    c->conv_ok++;
}

static void check_pool(const dk_graph *g, const dk_node *n, shape_counts *c)
{
    cudnnPoolingDescriptor_t pd;
    assert_int_equal(cudnnCreatePoolingDescriptor(&pd), CUDNN_STATUS_SUCCESS);
    dk_status st = dk__cudnn_pool_desc(pd, g, n, 0);
    const dk_tensor *x = &g->values[n->inputs[0]].t, *y = &g->values[n->outputs[0]].t;
    if (st != DK_OK) {
        printf("    %s declined: %s\n", n->name, dk_last_error());
        assert_int_equal(st, DK_ERR_UNSUPPORTED);
        const dk_pool_params *pp = &n->p.pool;
        int asym = 0, dilated = 0, ceil_counted = 0;
        for (int k = 0; k < pp->win.nspatial; k++) {
            asym |= pp->win.pad_begin[k] != pp->win.pad_end[k], dilated |= pp->win.dilation[k] != 1;
            ceil_counted |= n->op == DK_OP_AVGPOOL && pp->count_include_pad && pp->ceil_extra[k] > 0;
        }
        assert_true(asym || dilated || ceil_counted || (n->op == DK_OP_MAXPOOL && pp->has_indices));
        c->pool_declined++;
        cudnnDestroyPoolingDescriptor(pd);
        return;
    }
    cudnnTensorDescriptor_t xd;
    assert_int_equal(cudnnCreateTensorDescriptor(&xd), CUDNN_STATUS_SUCCESS);
    assert_int_equal(dk__cudnn_tensor_desc(xd, CUDNN_DATA_FLOAT, x->ndim, x->dims, 0), DK_OK);
    int nd = x->ndim < 4 ? 4 : x->ndim, out[5];
    assert_int_equal(cudnnGetPoolingNdForwardOutputDim(pd, xd, nd, out), CUDNN_STATUS_SUCCESS);
    for (int i = 0; i < nd; i++) assert_int_equal(out[i], i < y->ndim ? y->dims[i] : 1);
    cudnnDestroyTensorDescriptor(xd);
    cudnnDestroyPoolingDescriptor(pd);
    c->pool_ok++;
}

static void check_lrn(const dk_node *n, shape_counts *c)
{
    cudnnLRNDescriptor_t d;
    assert_int_equal(cudnnCreateLRNDescriptor(&d), CUDNN_STATUS_SUCCESS);
    assert_int_equal(dk__cudnn_lrn_desc(d, n), DK_OK);
    unsigned size = 0;
    double alpha, beta, k;
    assert_int_equal(cudnnGetLRNDescriptor(d, &size, &alpha, &beta, &k), CUDNN_STATUS_SUCCESS);
    assert_int_equal(size, n->p.lrn.size);
    assert_float_equal(alpha, n->p.lrn.alpha, 1e-7 * alpha);
    assert_float_equal(beta, n->p.lrn.beta, 1e-7 * beta);
    assert_float_equal(k, n->p.lrn.bias, 1e-7 * k);
    cudnnDestroyLRNDescriptor(d);
    c->lrn_ok++;
}

static void check_activation(const dk_node *n, shape_counts *c)
{
    cudnnActivationDescriptor_t d;
    assert_int_equal(cudnnCreateActivationDescriptor(&d), CUDNN_STATUS_SUCCESS);
    dk_status st = dk__cudnn_activation_desc(d, n);
    const dk_act_params *a = &n->p.act;
    if (n->op == DK_OP_CLIP && a->min != 0.0f) {
        assert_int_equal(st, DK_ERR_UNSUPPORTED); /* a general Clip runs as two op-tensor calls */
        c->act_declined++;
        cudnnDestroyActivationDescriptor(d);
        return;
    }
    assert_int_equal(st, DK_OK);
    cudnnActivationMode_t mode;
    cudnnNanPropagation_t nan;
    double coef;
    assert_int_equal(cudnnGetActivationDescriptor(d, &mode, &nan, &coef), CUDNN_STATUS_SUCCESS);
    if (n->op == DK_OP_SIGMOID) assert_int_equal(mode, CUDNN_ACTIVATION_SIGMOID);
    else if (n->op == DK_OP_RELU || isinf(a->max)) assert_int_equal(mode, CUDNN_ACTIVATION_RELU);
    else {
        assert_int_equal(mode, CUDNN_ACTIVATION_CLIPPED_RELU);
        assert_float_equal(coef, a->max, 0.0);
    }
    cudnnDestroyActivationDescriptor(d);
    c->act_ok++;
}

static void check_graph(const dk_graph *g, shape_counts *c)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const dk_node *n = &g->nodes[k];
        switch (n->op) {
        case DK_OP_CONV: check_conv(g, n, c); break;
        case DK_OP_MAXPOOL:
        case DK_OP_AVGPOOL:
        case DK_OP_GLOBALAVGPOOL:
        case DK_OP_GLOBALMAXPOOL: check_pool(g, n, c); break;
        case DK_OP_LRN: check_lrn(n, c); break;
        case DK_OP_RELU:
        case DK_OP_SIGMOID:
        case DK_OP_CLIP:
            if (!isnan(n->p.act.min) && !isnan(n->p.act.max)) check_activation(n, c);
            break;
        default: break;
        }
    }
}

static void print_counts(const char *what, const shape_counts *c)
{
    printf("    %s: conv %d agree, %d declined (asymmetric padding); pool %d agree, %d declined; "
           "LRN %d; activations %d, %d general Clip\n",
           what, c->conv_ok, c->conv_declined, c->pool_ok, c->pool_declined, c->lrn_ok, c->act_ok, c->act_declined);
}

static void test_model_shapes(void **state)
{
    (void)state;
    const char *dir = getenv("DK_MODEL_DIR");
    static const char *models[] = {"mobilenet_v2", "resnet50", "inception_v3"};
    int loaded = 0;
    for (int m = 0; m < 3; m++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.onnx", dir ? dir : ".", models[m]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            printf("    %s: not exported (run the e2e tests or tools/export_models.py)\n", path);
            continue;
        }
        fclose(f);
        dk_graph *g = NULL;
        assert_int_equal(dk_onnx_load(path, &g), DK_OK);
        shape_counts c = {0};
        check_graph(g, &c);
        print_counts(models[m], &c);
        assert_true(c.conv_ok > 0);
        dk_graph_destroy(g);
        loaded++;
    }
    if (!loaded) skip();
}

static int is_case(const char *name)
{
    static const char *prefixes[] = {"test_conv_",      "test_basic_conv_", "test_Conv",    "test_maxpool",
                                     "test_averagepool", "test_globala",     "test_globalm", "test_AvgPool",
                                     "test_MaxPool",     "test_lrn",         "test_relu",    "test_clip",
                                     "test_sigmoid",     "test_ReLU",        "test_Sigmoid"};
    if (strstr(name, "integer") || strstr(name, "Transpose") || strstr(name, "expanded")) return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return 1;
    return 0;
}

static void test_onnx_case_shapes(void **state)
{
    (void)state;
    static const char *suites[] = {"node", "pytorch-converted"};
    int cases = 0;
    shape_counts total = {0};
    for (int s = 0; s < 2; s++) {
        char root[512];
        snprintf(root, sizeof root, "%s/%s", ONNX_DATA, suites[s]);
        DIR *d = opendir(root);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!is_case(e->d_name)) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s/model.onnx", root, e->d_name);
            dk_graph *g = NULL;
            if (dk_onnx_load(path, &g) != DK_OK) {
                printf("    %s: not loaded (%s)\n", e->d_name, dk_last_error());
                continue;
            }
            check_graph(g, &total);
            dk_graph_destroy(g);
            cases++;
        }
        closedir(d);
    }
    printf("    %d ONNX test cases\n", cases);
    print_counts("ONNX cases", &total);
    if (!cases) skip();
    assert_true(total.conv_ok > 10);
    assert_true(total.pool_ok > 10);
    assert_true(total.lrn_ok >= 2);
}

/* SAME_UPPER padding with an even kernel pads one more after than before:
 * cuDNN has no descriptor for that, the node must be declined (host). */
static void test_asymmetric_conv_declined(void **state)
{
    (void)state;
    dk_graph *g = tu_new_graph(14);
    const int64_t xd[4] = {1, 2, 6, 6}, wd[4] = {3, 2, 2, 2};
    int ins[2] = {tu_add_input(g, "x", DK_F32, 4, xd, -1, 1),
                  tu_add_value(g, "w", DK_VALUE_CONSTANT, DK_F32, 4, wd, -1, 1)};
    int k = tu_add_node(g, DK_OP_CONV, ins, 2, 1);
    tu_attr_string(g, k, "auto_pad", "SAME_UPPER");
    assert_int_equal(dk_graph_finalize(g), DK_OK);
    const dk_node *n = &g->nodes[k];
    assert_int_not_equal(n->p.conv.win.pad_begin[0], n->p.conv.win.pad_end[0]);
    shape_counts c = {0};
    check_conv(g, n, &c);
    assert_int_equal(c.conv_declined, 1);
    printf("    %s\n", dk_last_error());
    dk_graph_destroy(g);
}

/* AveragePool with ceil_mode and count_include_pad: the extra row ceil_mode
 * adds must not count in the divisor, which cuDNN's INCLUDE_PADDING would do
 * (wrong averages on the last row, seen on an H200): declined, runs on the
 * host. Without count_include_pad, or without an extra row, cuDNN takes it. */
static void test_ceil_mode_average_declined(void **state)
{
    (void)state;
    /* H 9, kernel 3, stride 2: pads 1 and 1 give (9 + 2 - 3) / 2 + 1 = 5 rows
     * exactly; pads 1 and 0 give ceil(7 / 2) + 1 = 5, the last window taking
     * one row of ceil_mode padding, which makes the padding symmetric (1, 1)
     * as cuDNN's descriptor needs */
    static const struct { int64_t pad_end, include, extra; } cases[] = {{1, 1, 0}, {0, 1, 1}, {0, 0, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dk_graph *g = tu_new_graph(19);
        const int64_t xd[4] = {1, 2, 9, 7};
        int x = tu_add_input(g, "x", DK_F32, 4, xd, -1, 1);
        int k = tu_add_node(g, DK_OP_AVGPOOL, &x, 1, 1);
        tu_attr_ints(g, k, "kernel_shape", 2, (int64_t[]){3, 3});
        tu_attr_ints(g, k, "strides", 2, (int64_t[]){2, 2});
        tu_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, cases[i].pad_end, 1});
        tu_attr_int(g, k, "ceil_mode", 1);
        tu_attr_int(g, k, "count_include_pad", cases[i].include);
        assert_int_equal(dk_graph_finalize(g), DK_OK);
        const dk_node *n = &g->nodes[k];
        assert_int_equal(n->p.pool.ceil_extra[0], cases[i].extra);
        cudnnPoolingDescriptor_t pd;
        assert_int_equal(cudnnCreatePoolingDescriptor(&pd), CUDNN_STATUS_SUCCESS);
        dk_status st = dk__cudnn_pool_desc(pd, g, n, 0);
        printf("    pads 1, %lld, count_include_pad %lld, ceil_extra %lld: %s\n", (long long)cases[i].pad_end,
               (long long)cases[i].include, (long long)n->p.pool.ceil_extra[0],
               st == DK_OK ? "cuDNN" : dk_last_error());
        assert_int_equal(st, cases[i].include && cases[i].extra ? DK_ERR_UNSUPPORTED : DK_OK);
        cudnnDestroyPoolingDescriptor(pd);
        dk_graph_destroy(g);
    }
}

int main(void)
{
    /* the backend calls cuDNN through pointers loaded on first use */
    char reason[512];
    if (dk__cuda_load(reason, sizeof reason) != DK_OK) {
        printf("SKIP: the CUDA libraries do not load: %s\n", reason);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_parse),   cmocka_unit_test(test_options_bad),
        cmocka_unit_test(test_algo_names),      cmocka_unit_test(test_cuda_errors),
        cmocka_unit_test(test_cudnn_errors),    cmocka_unit_test(test_cublas_errors),
        cmocka_unit_test(test_probe_and_describe), cmocka_unit_test(test_tensor_layouts),
        cmocka_unit_test(test_model_shapes),    cmocka_unit_test(test_onnx_case_shapes),
        cmocka_unit_test(test_asymmetric_conv_declined), cmocka_unit_test(test_ceil_mode_average_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
