/* Data movement on the device without kernels of our own: Concat as one
 * strided 2-D copy per input (cudaMemcpy2DAsync); the ops that only
 * reinterpret a shape (Flatten, Reshape, Squeeze, Unsqueeze, Identity,
 * Dropout at inference) as a device copy, through cudnnTransformTensor where
 * an NHWC-stored value meets a canonical one (any dtype); constant Pad as a
 * fill and a strided copy.
 *
 * Plan roles (reshape): t[0] the input as stored, t[1] the same elements in
 * canonical order, t[2] the output as stored, t[3] the output's canonical
 * view; with both t[0] and t[2], the elements pass through the canonical
 * order in the workspace. */
#include <stdio.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"

static const float one = 1.0f, zero = 0.0f;

/* ---- Concat -------------------------------------------------------------------------- */

/* Axis of the stored order for canonical axis a of a value stored NHWC. */
static int stored_axis(int nhwc, int a)
{
    static const int nhwc_pos[4] = {0, 3, 1, 2};
    return nhwc ? nhwc_pos[a] : a;
}

/* Stored dims of t (N, H, W, C when NHWC). */
static void stored_dims(int nhwc, const dk_tensor *t, int64_t *d)
{
    for (int i = 0; i < t->ndim; i++) d[stored_axis(nhwc, i)] = t->dims[i];
}

void dk__cudnn_concat_geometry(const dk_cudnn_config *cfg, const dk_graph *g, const dk_node *n,
                               dk_cudnn_copy2d *copies)
{
    const dk_tensor *y = dk__cudnn_out(g, n, 0);
    const int nhwc = dk__cudnn_is_nhwc(cfg, y);
    const int axis = stored_axis(nhwc, n->p.axis.axis);
    const size_t es = dk_dtype_size(y->dtype);
    int64_t yd[DK_MAX_DIMS];
    stored_dims(nhwc, y, yd);
    int64_t outer = 1, dst_row = (int64_t)es;
    for (int i = 0; i < y->ndim; i++) {
        if (i < axis) outer *= yd[i];
        else dst_row *= yd[i];
    }
    size_t offset = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        const dk_tensor *x = dk__cudnn_in(g, n, k);
        int64_t xd[DK_MAX_DIMS], row = (int64_t)es;
        if (x) {
            stored_dims(nhwc, x, xd);
            for (int i = axis; i < x->ndim; i++) row *= xd[i];
        } else {
            row = 0;
        }
        copies[k].dst_offset = offset;
        copies[k].dst_pitch = (size_t)dst_row;
        copies[k].width = (size_t)row;
        copies[k].height = (size_t)outer;
        offset += (size_t)row;
    }
}

static dk_status run_concat(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    dk_cudnn_copy2d copies[DK_CUDNN_MAX_CONCAT];
    dk__cudnn_concat_geometry(&ctx->cfg, g, n, copies);
    unsigned char *dst = dk__cudnn_dev(ctx, n->outputs[0]);
    for (int k = 0; k < n->n_inputs; k++) {
        const dk_cudnn_copy2d *c = &copies[k];
        if (c->width && c->height)
            DK_CUDA(cudaMemcpy2DAsync(dst + c->dst_offset, c->dst_pitch, dk__cudnn_dev(ctx, n->inputs[k]), c->width,
                                      c->width, c->height, cudaMemcpyDeviceToDevice, ctx->stream));
    }
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_concat)
{
    const dk_tensor *y = dk__cudnn_out(g, n, 0);
    const int nhwc = dk__cudnn_is_nhwc(&ctx->cfg, y);
    if (n->n_inputs > DK_CUDNN_MAX_CONCAT) return dk__cudnn_fallback(p, "more than %d inputs", DK_CUDNN_MAX_CONCAT);
    for (int k = 0; k < n->n_inputs; k++) {
        const dk_tensor *x = dk__cudnn_in(g, n, k);
        if (x && (x->dtype != y->dtype || dk__cudnn_is_nhwc(&ctx->cfg, x) != nhwc))
            return dk__cudnn_fallback(p, "Concat of differently stored inputs");
    }
    snprintf(p->info.note, sizeof p->info.note, "strided device copies (cudaMemcpy2DAsync)");
    p->run = run_concat;
    return DK_OK;
}

/* ---- shape-only ops ----------------------------------------------------------------------- */

static dk_status run_reshape(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const void *x = dk__cudnn_dev(ctx, n->inputs[0]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    if (p->t[0] && p->t[2]) { /* NHWC -> canonical (workspace) -> NHWC */
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[0], x, &zero, p->t[1], ctx->work));
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[3], ctx->work, &zero, p->t[2], y));
    } else if (p->t[0]) { /* NHWC -> canonical */
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[0], x, &zero, p->t[1], y));
    } else if (p->t[2]) { /* canonical -> NHWC */
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[3], x, &zero, p->t[2], y));
    } else if (x != y) {
        DK_CUDA(cudaMemcpyAsync(y, x, dk_tensor_nbytes(dk__cudnn_out(g, n, 0)), cudaMemcpyDeviceToDevice,
                                ctx->stream));
    }
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_reshape)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *y = dk__cudnn_out(g, n, 0);
    for (int o = 1; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0) return dk__cudnn_fallback(p, "%s's second output requested", dk_op_name(n->op));
    if (!x || !y || x->dtype != y->dtype || dk_tensor_numel(x) != dk_tensor_numel(y))
        return dk__error(DK_ERR_SHAPE, "cudnn: %s '%s': input and output differ in size", dk_op_name(n->op), n->name);
    const int xn = dk__cudnn_is_nhwc(&ctx->cfg, x), yn = dk__cudnn_is_nhwc(&ctx->cfg, y);
    int same = xn == yn && x->ndim == y->ndim;
    for (int i = 0; same && i < x->ndim; i++) same = x->dims[i] == y->dims[i];
    if (xn && !same) {
        DK_TRY(dk__cudnn_plan_tensors(p, 2));
        DK_TRY(dk__cudnn_tensor_desc(p->t[0], CUDNN_DATA_FLOAT, 4, x->dims, 1));
        DK_TRY(dk__cudnn_tensor_desc(p->t[1], CUDNN_DATA_FLOAT, 4, x->dims, 0));
    }
    if (yn && !same) {
        DK_TRY(dk__cudnn_plan_tensors(p, 4));
        DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, 4, y->dims, 1));
        DK_TRY(dk__cudnn_tensor_desc(p->t[3], CUDNN_DATA_FLOAT, 4, y->dims, 0));
        if (!xn) { /* t[0]/t[1] were created by plan_tensors(4): unused here */
            cudnnDestroyTensorDescriptor(p->t[0]);
            cudnnDestroyTensorDescriptor(p->t[1]);
            p->t[0] = p->t[1] = NULL;
        }
    }
    if (xn && yn && !same) p->work_bytes = dk_tensor_nbytes(x);
    snprintf(p->info.note, sizeof p->info.note, "%s",
             xn != yn || (xn && !same) ? "cudnnTransformTensor" : "device copy");
    p->run = run_reshape;
    return DK_OK;
}

/* ---- Pad (constant mode) ------------------------------------------------------------------------ */

/* Element strides of t in canonical axis order, as t is stored. */
static void value_strides(dk_cudnn_ctx *ctx, const dk_tensor *t, int64_t *s)
{
    if (dk__cudnn_is_nhwc(&ctx->cfg, t)) {
        s[1] = 1, s[3] = t->dims[1], s[2] = t->dims[3] * t->dims[1], s[0] = t->dims[2] * s[2];
        return;
    }
    int64_t acc = 1;
    for (int i = t->ndim - 1; i >= 0; i--) s[i] = acc, acc *= t->dims[i];
}

/* Fill the output with the value (cudnnSetTensor), then copy the part of the
 * input that survives into the part of the output it lands on: two strided
 * views of the same extent (cudnnTransformTensor). Negative pads crop.
 * Plan roles: t[0] the input's surviving part, t[1] where it lands in the
 * output, t[2] the whole output; i[0] = 1 when nothing of the input
 * survives; i[1], i[2] the byte offsets of both views; alpha[0] the value. */
static dk_status run_pad(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    unsigned char *y = dk__cudnn_dev(ctx, n->outputs[0]);
    const unsigned char *x = dk__cudnn_dev(ctx, n->inputs[0]);
    DK_CUDNN(cudnnSetTensor(ctx->cudnn, p->t[2], y, &p->alpha[0]));
    if (!p->i[0])
        DK_CUDNN(cudnnTransformTensor(ctx->cudnn, &one, p->t[0], x + p->i[1], &zero, p->t[1], y + p->i[2]));
    return DK_OK;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_pad)
{
    const dk_tensor *x = dk__cudnn_in(g, n, 0), *y = dk__cudnn_out(g, n, 0);
    const dk_pad_params *pp = &n->p.pad;
    if (x->dtype != DK_F32 || y->dtype != DK_F32) return dk__cudnn_fallback(p, "Pad of non-float32 data");
    if (pp->mode != DK_PAD_CONSTANT) return dk__cudnn_fallback(p, "reflect and edge padding");
    if (x->ndim < 1 || x->ndim > 5) return dk__cudnn_fallback(p, "Pad of rank %d", x->ndim);
    int64_t xs[DK_MAX_DIMS], ys[DK_MAX_DIMS], ext[DK_MAX_DIMS], xv[DK_MAX_DIMS], yv[DK_MAX_DIMS];
    value_strides(ctx, x, xs);
    value_strides(ctx, y, ys);
    int64_t src = 0, dst = 0;
    int empty = dk_tensor_numel(y) == 0;
    for (int i = 0; i < x->ndim; i++) {
        const int64_t crop_b = pp->begin[i] < 0 ? -pp->begin[i] : 0, crop_e = pp->end[i] < 0 ? -pp->end[i] : 0;
        ext[i] = x->dims[i] - crop_b - crop_e;
        if (ext[i] <= 0) empty = 1;
        src += crop_b * xs[i];
        dst += (pp->begin[i] > 0 ? pp->begin[i] : 0) * ys[i];
    }
    if (empty && dk_tensor_numel(y) == 0) return dk__cudnn_fallback(p, "empty output");
    DK_TRY(dk__cudnn_plan_tensors(p, 3));
    const int nd = x->ndim < 4 ? 4 : x->ndim;
    for (int i = x->ndim; i < nd; i++) ext[i] = 1, xs[i] = ys[i] = 1;
    if (!empty) {
        memcpy(xv, ext, sizeof(int64_t) * (size_t)nd);
        memcpy(yv, ext, sizeof(int64_t) * (size_t)nd);
        DK_TRY(dk__cudnn_tensor_desc_strided(p->t[0], CUDNN_DATA_FLOAT, nd, xv, xs));
        DK_TRY(dk__cudnn_tensor_desc_strided(p->t[1], CUDNN_DATA_FLOAT, nd, yv, ys));
    }
    DK_TRY(dk__cudnn_tensor_desc(p->t[2], CUDNN_DATA_FLOAT, y->ndim, y->dims, dk__cudnn_is_nhwc(&ctx->cfg, y)));
    p->i[0] = empty;
    p->i[1] = src * (int64_t)sizeof(float);
    p->i[2] = dst * (int64_t)sizeof(float);
    p->alpha[0] = (float)pp->value;
    snprintf(p->info.note, sizeof p->info.note, "cudnnSetTensor + cudnnTransformTensor (strided views)");
    p->run = run_pad;
    return DK_OK;
}
