/* cuDNN descriptors from deltakern shapes and decoded node parameters. These
 * are host-side objects: everything here works without a GPU, which the unit
 * tests use to check them against deltakern's own shape inference. */
#include <stdio.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

int dk__cudnn_is_nhwc(const dk_cudnn_config *cfg, const dk_tensor *t)
{
    return cfg->nhwc && t->ndim == 4 && t->dtype == DK_F32;
}

static int fits_int(int64_t x) { return x >= 0 && x <= INT_MAX; }

dk_status dk__cudnn_tensor_desc_strided(cudnnTensorDescriptor_t d, cudnnDataType_t dt, int ndim,
                                        const int64_t *dims, const int64_t *strides)
{
    int di[DK_MAX_DIMS], si[DK_MAX_DIMS];
    if (ndim < 3 || ndim > DK_MAX_DIMS)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: tensors of rank %d are not supported", ndim);
    for (int i = 0; i < ndim; i++) {
        if (!fits_int(dims[i]) || !fits_int(strides[i]) || dims[i] == 0)
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: dimension %lld (stride %lld) out of cuDNN's range",
                             (long long)dims[i], (long long)strides[i]);
        di[i] = (int)dims[i];
        si[i] = (int)(strides[i] ? strides[i] : 1);
    }
    DK_CUDNN(cudnnSetTensorNdDescriptor(d, dt, ndim, di, si));
    return DK_OK;
}

dk_status dk__cudnn_tensor_desc(cudnnTensorDescriptor_t d, cudnnDataType_t dt, int ndim,
                                const int64_t *dims, int nhwc)
{
    int64_t pd[DK_MAX_DIMS], st[DK_MAX_DIMS];
    if (ndim > DK_MAX_DIMS)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: tensors of rank %d are not supported", ndim);
    int nd = ndim < 4 ? 4 : ndim;
    for (int i = 0; i < nd; i++) pd[i] = i < ndim ? dims[i] : 1;
    if (nhwc && nd == 4) {
        st[1] = 1;
        st[3] = pd[1];
        st[2] = pd[3] * pd[1];
        st[0] = pd[2] * st[2];
    } else {
        st[nd - 1] = 1;
        for (int i = nd - 2; i >= 0; i--) st[i] = st[i + 1] * pd[i + 1];
    }
    return dk__cudnn_tensor_desc_strided(d, dt, nd, pd, st);
}

/* ---- convolution ------------------------------------------------------------------ */

dk_status dk__cudnn_conv_geom(const dk_graph *g, const dk_node *n, dk_cudnn_conv_geom *geo)
{
    const dk_conv_params *cp = &n->p.conv;
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *w = dk__cudnn_in(g, n, 1), *y = dk__cudnn_out(g, n, 0);
    memset(geo, 0, sizeof *geo);
    if (!x || !w || !y || x->ndim != cp->win.nspatial + 2 || w->ndim != x->ndim)
        return dk__error(DK_ERR_SHAPE, "cudnn: conv '%s': inconsistent input and weight ranks", n->name);
    const int ns = cp->win.nspatial;
    const int lift = ns == 1; /* 1-D: a 2-D convolution of height 1 */
    const int nss = ns + lift;
    geo->nd = nss + 2;
    for (int i = 0; i < 2; i++) {
        if (!fits_int(x->dims[i]) || !fits_int(w->dims[i]) || !fits_int(y->dims[i]))
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: conv '%s': dimensions beyond int", n->name);
        geo->x[i] = (int)x->dims[i];
        geo->w[i] = (int)w->dims[i];
        geo->y[i] = (int)y->dims[i];
    }
    for (int k = 0; k < nss; k++) {
        int s = k - lift; /* deltakern's spatial axis, -1 for the added one */
        if (s < 0) {
            geo->x[2] = geo->w[2] = geo->y[2] = 1;
            geo->pad[0] = 0;
            geo->stride[0] = geo->dilation[0] = 1;
            continue;
        }
        if (cp->win.pad_begin[s] != cp->win.pad_end[s])
            return dk__error(DK_ERR_UNSUPPORTED,
                             "cudnn: conv '%s': asymmetric padding (%lld before, %lld after on spatial "
                             "axis %d) has no cuDNN descriptor",
                             n->name, (long long)cp->win.pad_begin[s], (long long)cp->win.pad_end[s], s);
        geo->x[2 + k] = (int)x->dims[2 + s];
        geo->w[2 + k] = (int)w->dims[2 + s];
        geo->y[2 + k] = (int)y->dims[2 + s];
        geo->pad[k] = (int)cp->win.pad_begin[s];
        geo->stride[k] = (int)cp->win.stride[s];
        geo->dilation[k] = (int)cp->win.dilation[s];
    }
    geo->group = (int)cp->group;
    return DK_OK;
}

dk_status dk__cudnn_convt_geom(const dk_graph *g, const dk_node *n, dk_cudnn_conv_geom *geo)
{
    const dk_convtranspose_params *cp = &n->p.convt;
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *w = dk__cudnn_in(g, n, 1), *y = dk__cudnn_out(g, n, 0);
    memset(geo, 0, sizeof *geo);
    if (!x || !w || !y || x->ndim != cp->win.nspatial + 2 || w->ndim != x->ndim || y->ndim != x->ndim)
        return dk__error(DK_ERR_SHAPE, "cudnn: ConvTranspose '%s': inconsistent input and weight ranks", n->name);
    const int ns = cp->win.nspatial;
    const int lift = ns == 1; /* 1-D: a 2-D convolution of height 1, as for Conv */
    const int nss = ns + lift;
    geo->nd = nss + 2;
    /* the forward convolution whose data gradient this is: its input is our
     * output (M channels), its output our input (C channels), its filter the
     * ONNX weight [C, M/group, k...] as it is (K = C, C = M/group) */
    for (int i = 0; i < 2; i++) {
        if (!fits_int(x->dims[i]) || !fits_int(w->dims[i]) || !fits_int(y->dims[i]))
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: ConvTranspose '%s': dimensions beyond int", n->name);
        geo->x[i] = (int)y->dims[i];
        geo->w[i] = (int)w->dims[i];
        geo->y[i] = (int)x->dims[i];
    }
    for (int k = 0; k < nss; k++) {
        int s = k - lift; /* deltakern's spatial axis, -1 for the added one */
        if (s < 0) {
            geo->x[2] = geo->w[2] = geo->y[2] = 1;
            geo->pad[0] = 0;
            geo->stride[0] = geo->dilation[0] = 1;
            continue;
        }
        const int64_t pb = cp->win.pad_begin[s], pe = cp->win.pad_end[s], st = cp->win.stride[s];
        /* cuDNN pads both ends by pad_begin and accepts the output (its dx) only
         * when the forward convolution of it gives back our input:
         * floor((O + 2 pb - span) / stride) + 1 = D, i.e. 0 <= pb - pe < stride
         * (O = stride (D - 1) + span - pb - pe). The rows past the symmetric
         * output are then those output_padding (or a larger output_shape) adds
         * at the end, which only the bias reaches. */
        if (pb < 0)
            return dk__error(DK_ERR_UNSUPPORTED,
                             "cudnn: ConvTranspose '%s': negative padding at the beginning of spatial axis %d "
                             "(output_shape larger than the natural output) has no cuDNN descriptor",
                             n->name, s);
        if (pb - pe < 0 || pb - pe >= st)
            return dk__error(DK_ERR_UNSUPPORTED,
                             "cudnn: ConvTranspose '%s': padding %lld before, %lld after (output_padding "
                             "included) on spatial axis %d, stride %lld: cuDNN pads both ends alike",
                             n->name, (long long)pb, (long long)pe, s, (long long)st);
        if (!fits_int(x->dims[2 + s]) || !fits_int(w->dims[2 + s]) || !fits_int(y->dims[2 + s]) || !fits_int(pb) ||
            !fits_int(st) || !fits_int(cp->win.dilation[s]))
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: ConvTranspose '%s': dimensions beyond int", n->name);
        geo->x[2 + k] = (int)y->dims[2 + s];
        geo->w[2 + k] = (int)w->dims[2 + s];
        geo->y[2 + k] = (int)x->dims[2 + s];
        geo->pad[k] = (int)pb;
        geo->stride[k] = (int)st;
        geo->dilation[k] = (int)cp->win.dilation[s];
    }
    if (cp->group < 1 || cp->group > INT_MAX)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: ConvTranspose '%s': group %lld", n->name, (long long)cp->group);
    geo->group = (int)cp->group;
    return DK_OK;
}

dk_status dk__cudnn_set_conv(const dk_cudnn_conv_geom *geo, cudnnDataType_t data, cudnnDataType_t compute,
                             int nhwc, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                             cudnnConvolutionDescriptor_t c)
{
    const int nd = geo->nd, nss = nd - 2;
    int64_t xd[5];
    for (int i = 0; i < nd; i++) xd[i] = geo->x[i];
    DK_TRY(dk__cudnn_tensor_desc(x, data, nd, xd, nhwc && nd == 4));
    DK_CUDNN(cudnnSetFilterNdDescriptor(w, data, nhwc && nd == 4 ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                        nd, geo->w));
    DK_CUDNN(cudnnSetConvolutionNdDescriptor(c, nss, geo->pad, geo->stride, geo->dilation,
                                             CUDNN_CROSS_CORRELATION, compute));
    DK_CUDNN(cudnnSetConvolutionGroupCount(c, geo->group));
    return DK_OK;
}

dk_status dk__cudnn_conv_out_dims(cudnnConvolutionDescriptor_t c, cudnnTensorDescriptor_t x,
                                  cudnnFilterDescriptor_t w, int nd, int *out)
{
    DK_CUDNN(cudnnGetConvolutionNdForwardOutputDim(c, x, w, nd, out));
    return DK_OK;
}

/* ---- pooling, activation, LRN ----------------------------------------------------------- */

dk_status dk__cudnn_pool_desc(cudnnPoolingDescriptor_t d, const dk_graph *g, const dk_node *n,
                              int deterministic)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0);
    int win[3], pad[3], stride[3];
    int ns;
    int global = n->op == DK_OP_GLOBALAVGPOOL || n->op == DK_OP_GLOBALMAXPOOL;
    int is_max = n->op == DK_OP_MAXPOOL || n->op == DK_OP_GLOBALMAXPOOL;
    if (!x || x->ndim < 3 || x->ndim > 5)
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: %s '%s': input of rank %d", dk_op_name(n->op),
                         n->name, x ? x->ndim : 0);
    ns = x->ndim - 2;
    if (global) {
        for (int k = 0; k < ns; k++) {
            if (!fits_int(x->dims[2 + k]))
                return dk__error(DK_ERR_UNSUPPORTED, "cudnn: %s '%s': window beyond int", dk_op_name(n->op), n->name);
            win[k] = (int)x->dims[2 + k];
            pad[k] = 0;
            stride[k] = 1;
        }
    } else {
        const dk_pool_params *pp = &n->p.pool;
        if (n->op == DK_OP_MAXPOOL && pp->has_indices)
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: MaxPool '%s': cuDNN does not return indices", n->name);
        for (int k = 0; k < ns; k++) {
            if (pp->win.dilation[k] != 1)
                return dk__error(DK_ERR_UNSUPPORTED, "cudnn: %s '%s': cuDNN pooling has no dilation",
                                 dk_op_name(n->op), n->name);
            if (pp->win.pad_begin[k] != pp->win.pad_end[k])
                return dk__error(DK_ERR_UNSUPPORTED,
                                 "cudnn: %s '%s': asymmetric padding (%lld before, %lld after on spatial "
                                 "axis %d, ceil_mode included) has no cuDNN descriptor",
                                 dk_op_name(n->op), n->name, (long long)pp->win.pad_begin[k],
                                 (long long)pp->win.pad_end[k], k);
            /* ceil_mode's extra row is padding that count_include_pad must
             * not count; cuDNN's INCLUDE_PADDING would divide by the whole window */
            if (n->op == DK_OP_AVGPOOL && pp->count_include_pad && pp->ceil_extra[k] > 0)
                return dk__error(DK_ERR_UNSUPPORTED,
                                 "cudnn: AveragePool '%s': count_include_pad with ceil_mode's extra padding on "
                                 "spatial axis %d (cuDNN would count it in the divisor)",
                                 n->name, k);
            win[k] = (int)pp->win.kernel[k];
            pad[k] = (int)pp->win.pad_begin[k];
            stride[k] = (int)pp->win.stride[k];
        }
    }
    if (ns == 1) { /* 1-D: 2-D of width 1 (the tensor descriptor appends that axis) */
        win[1] = 1, pad[1] = 0, stride[1] = 1;
        ns = 2;
    }
    cudnnPoolingMode_t mode = is_max ? (deterministic ? CUDNN_POOLING_MAX_DETERMINISTIC : CUDNN_POOLING_MAX)
                              : (!global && n->p.pool.count_include_pad)
                                  ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                  : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    /* NaN propagates as in the reference (max(NaN, x) is NaN there) */
    DK_CUDNN(cudnnSetPoolingNdDescriptor(d, mode, CUDNN_PROPAGATE_NAN, ns, win, pad, stride));
    return DK_OK;
}

dk_status dk__cudnn_activation_desc(cudnnActivationDescriptor_t d, const dk_node *n)
{
    switch (n->op) {
    case DK_OP_RELU:
        DK_CUDNN(cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
        return DK_OK;
    case DK_OP_SIGMOID:
        DK_CUDNN(cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_SIGMOID, CUDNN_PROPAGATE_NAN, 0.0));
        return DK_OK;
    case DK_OP_CLIP: {
        const dk_act_params *a = &n->p.act;
        if (isnan(a->min) || isnan(a->max))
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: Clip '%s': bounds known only at run time", n->name);
        if (a->min != 0.0f)
            return dk__error(DK_ERR_UNSUPPORTED, "cudnn: Clip '%s': min %g is not 0 (no clipped ReLU)", n->name,
                             (double)a->min);
        if (isinf(a->max))
            DK_CUDNN(cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0));
        else
            DK_CUDNN(cudnnSetActivationDescriptor(d, CUDNN_ACTIVATION_CLIPPED_RELU, CUDNN_PROPAGATE_NAN,
                                                  (double)a->max));
        return DK_OK;
    }
    default:
        return dk__error(DK_ERR_UNSUPPORTED, "cudnn: no cuDNN activation for %s '%s'", dk_op_name(n->op), n->name);
    }
}

dk_status dk__cudnn_lrn_desc(cudnnLRNDescriptor_t d, const dk_node *n)
{
    const dk_lrn_params *l = &n->p.lrn;
    /* cuDNN's window is [c - floor((N-1)/2), c + ceil((N-1)/2)], its formula
     * x / (K + alpha/N * sum x^2)^beta: ONNX's, with N = size, K = bias */
    if (l->size < CUDNN_LRN_MIN_N || l->size > CUDNN_LRN_MAX_N || l->bias < CUDNN_LRN_MIN_K ||
        l->beta < CUDNN_LRN_MIN_BETA)
        return dk__error(DK_ERR_UNSUPPORTED,
                         "cudnn: LRN '%s': size %lld, bias %g, beta %g outside cuDNN's limits (size %d..%d, "
                         "bias >= %g, beta >= %g)",
                         n->name, (long long)l->size, (double)l->bias, (double)l->beta, CUDNN_LRN_MIN_N,
                         CUDNN_LRN_MAX_N, CUDNN_LRN_MIN_K, CUDNN_LRN_MIN_BETA);
    DK_CUDNN(cudnnSetLRNDescriptor(d, (unsigned)l->size, (double)l->alpha, (double)l->beta, (double)l->bias));
    return DK_OK;
}
