/* Gemm and MatMul on oneDNN's matmul primitive.
 *
 * Transposed operands are described by strides, so nothing is copied. With
 * layout=blocked, constant weights (B) are reordered once into the layout
 * the primitive chooses; run-time weights and layout=plain use them as
 * they are. fpmath=bf16 makes both operands bfloat16 (A converted at every
 * run, constant weights once), accumulation and output float32.
 *
 * Gemm Y = alpha A'B' + beta C: C (broadcast from a scalar, [N], [1,N],
 * [M,1] or [M,N]) is the matmul's bias when alpha is 1; otherwise the
 * product is scaled by an eltwise post-op (linear, alpha) followed by a
 * binary post-op adding C, so that alpha never multiplies C. beta != 1
 * scales C first: once at plan time for a constant C, by an eltwise step
 * before the matmul for a run-time C.
 *
 * MatMul follows numpy: a 1-D A is a row [1,K], a 1-D B a column [K,1], the
 * batch dims are aligned from the right and broadcast (size-1 dims); the
 * output buffer, which lacks the dims a 1-D operand removed, has the same
 * elements in the same order as the full-rank result. */
#include <string.h>

#include "kernels/onednn/onednn_internal.h"

/* Creates the matmul descriptor. The weights (dims b_dims, strides
 * b_strides) are asked for in the primitive's chosen layout when they are
 * constant and the layout is blocked, else as they are; with fpmath=bf16
 * both operands are bfloat16 (the source is converted into the workspace by
 * the caller, see dk_onednn_input_as). a_op receives the source descriptor
 * asked for. */
static dnnl_status_t matmul_pd(dk_onednn_ctx *ctx, const dk_graph *g, const dk_node *n,
                               int nd, const int64_t *a_dims, const int64_t *a_strides,
                               const int64_t *b_dims, const int64_t *b_strides,
                               const dk_dnnl_md *bias, const dk_dnnl_md *y,
                               const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd)
{
    const dnnl_data_type_t dt = ctx->bf16 ? dnnl_bf16 : dnnl_f32;
    dk_dnnl_md a_op = {0}, b_op = {0};
    dnnl_status_t s = dk_dnnl_md_strided(&a_op, nd, a_dims, a_strides, dt);
    if (s == dnnl_success && !ctx->plain && dk_onednn_constant(g, n, 1)) {
        s = dk_dnnl_md_any(&b_op, nd, b_dims, dt);
        if (s == dnnl_success) s = dk_dnnl_matmul_pd(pd, ctx->engine, &a_op, &b_op, bias, y, attr);
        dk_dnnl_md_fini(&b_op);
        if (s == dnnl_success) goto done;
    }
    s = dk_dnnl_md_strided(&b_op, nd, b_dims, b_strides, dt);
    if (s == dnnl_success) s = dk_dnnl_matmul_pd(pd, ctx->engine, &a_op, &b_op, bias, y, attr);
    dk_dnnl_md_fini(&b_op);
done:
    dk_dnnl_md_fini(&a_op);
    return s;
}

/* Binds source and weights (converted or reordered as the primitive asks)
 * and the output, and adds the matmul step; extra arguments (bias, post-op
 * operands) follow. Takes ownership of pd. */
static dk_status matmul_step(dk_onednn_ctx *ctx, dk_onednn_plan *p, const dk_graph *g,
                             const dk_node *n, dnnl_primitive_desc_t pd, const dk_dnnl_md *a_md,
                             const dk_dnnl_md *b_md, const dk_dnnl_md *y_md,
                             const dk_onednn_arg *extra, int n_extra)
{
    dk_dnnl_md a_got = {0}, b_got = {0};
    dk_dnnl_pd_md(pd, dnnl_query_src_md, 0, &a_got);
    dk_dnnl_pd_md(pd, dnnl_query_weights_md, 0, &b_got);
    dk_onednn_arg args[5] = {{DNNL_ARG_SRC, NULL}, {DNNL_ARG_WEIGHTS, NULL}, {DNNL_ARG_DST, NULL}};
    dk_status st = dk_onednn_input_as(ctx, p, g, n, 0, a_md, &a_got, &args[0].mem);
    if (st == DK_OK) st = dk_onednn_input_as(ctx, p, g, n, 1, b_md, &b_got, &args[1].mem);
    if (st == DK_OK) st = dk_onednn_mem_io(ctx, p, n, y_md, DK_ONEDNN_BIND_OUTPUT, 0, &args[2].mem);
    for (int i = 0; i < n_extra; i++) args[3 + i] = extra[i];
    dk_dnnl_md_fini(&a_got);
    dk_dnnl_md_fini(&b_got);
    if (st != DK_OK) {
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    snprintf(p->info.note, sizeof p->info.note, "%s", dk_dnnl_impl_str(pd));
    return dk_onednn_add_step(ctx, p, n, pd, args, 3 + n_extra);
}

DK_ONEDNN_PLANNER(dk_onednn_plan_gemm)
{
    const dk_tensor *a = dk_onednn_input(g, n, 0);
    const dk_tensor *c = n->p.gemm.has_c ? dk_onednn_input(g, n, 2) : NULL;
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    const dk_gemm_params gp = n->p.gemm;
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    const int64_t m = y->dims[0], nn = y->dims[1], k = a->dims[gp.trans_a ? 0 : 1];
    if (k == 0 || (c && c->ndim > 2)) return dk_onednn_fallback(p, "reference kernel: empty product");

    const int64_t a_dims[2] = {m, k}, b_dims[2] = {k, nn};
    const int64_t a_str[2] = {gp.trans_a ? 1 : k, gp.trans_a ? m : 1};
    const int64_t b_str[2] = {gp.trans_b ? 1 : nn, gp.trans_b ? k : 1};
    int64_t c_dims[2] = {1, 1};
    if (c && c->ndim == 1) c_dims[1] = c->dims[0];
    if (c && c->ndim == 2) memcpy(c_dims, c->dims, sizeof c_dims);

    dk_dnnl_md a_md = {0}, b_md = {0}, c_md = {0}, y_md = {0};
    dnnl_status_t s = dk_dnnl_md_strided(&a_md, 2, a_dims, a_str, dnnl_f32);
    if (s == dnnl_success) s = dk_dnnl_md_strided(&b_md, 2, b_dims, b_str, dnnl_f32);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&c_md, 2, c_dims);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, 2, y->dims);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "Gemm's matrices");

    const int scaled = gp.alpha != 1.0f;
    dk_dnnl_postop post[2];
    int n_post = 0;
    if (scaled) post[n_post++] = (dk_dnnl_postop){.kind = DK_DNNL_POST_ELTWISE,
                                                  .act = DK_DNNL_LINEAR, .alpha = gp.alpha};
    if (c && scaled) post[n_post++] = (dk_dnnl_postop){.kind = DK_DNNL_POST_BINARY,
                                                       .binary = dnnl_binary_add, .src1 = &c_md};
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, post, n_post, &attr));
    dnnl_primitive_desc_t pd = NULL;
    s = matmul_pd(ctx, g, n, 2, a_dims, a_str, b_dims, b_str, c && !scaled ? &c_md : NULL, &y_md,
                  attr, &pd);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "Gemm");

    dk_status st = DK_OK;
    dnnl_memory_t cm = NULL;
    /* C scaled by beta: now for a constant, by a step for a run-time C */
    const dk_tensor *cc = dk_onednn_constant(g, n, 2);
    if (c && gp.beta == 1.0f) {
        st = dk_onednn_mem_io(ctx, p, n, &c_md, DK_ONEDNN_BIND_INPUT, 2, &cm);
    } else if (c && cc) {
        st = dk_onednn_mem_owned(ctx, p, n, &c_md, &cm);
        float *dst = NULL;
        if (st == DK_OK && (s = dnnl_memory_get_data_handle(cm, (void **)&dst)) != dnnl_success)
            st = dk_dnnl_error(s, n, "reading a buffer address");
        for (int64_t i = 0; st == DK_OK && i < dk_tensor_numel(cc); i++)
            dst[i] = (float)((double)gp.beta * ((const float *)cc->data)[i]);
    } else if (c) {
        dnnl_memory_t cin;
        dnnl_primitive_attr_t eattr;
        dnnl_primitive_desc_t epd = NULL;
        st = dk_onednn_mem_io(ctx, p, n, &c_md, DK_ONEDNN_BIND_INPUT, 2, &cin);
        if (st == DK_OK) st = dk_onednn_mem_work(ctx, p, n, &c_md, &cm);
        if (st == DK_OK) st = dk_onednn_attr(ctx, n, NULL, 0, &eattr);
        if (st == DK_OK) {
            s = dk_dnnl_eltwise_pd(&epd, ctx->engine, DK_DNNL_LINEAR, gp.beta, 0.0f, &c_md, eattr);
            dnnl_primitive_attr_destroy(eattr);
            if (s != dnnl_success) st = dk_dnnl_error(s, n, "creating Gemm's scaling of C");
        }
        dk_onednn_arg eargs[] = {{DNNL_ARG_SRC, cin}, {DNNL_ARG_DST, cm}};
        if (st == DK_OK) st = dk_onednn_add_step(ctx, p, n, epd, eargs, 2);
    }
    dk_onednn_arg extra = {scaled ? (DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1)
                                  : DNNL_ARG_BIAS, cm};
    if (st == DK_OK)
        st = matmul_step(ctx, p, g, n, pd, &a_md, &b_md, &y_md, &extra, c ? 1 : 0);
    else
        dnnl_primitive_desc_destroy(pd);
    dk_dnnl_md *mds[] = {&a_md, &b_md, &c_md, &y_md};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++) dk_dnnl_md_fini(mds[i]);
    return st;
}

DK_ONEDNN_PLANNER(dk_onednn_plan_matmul)
{
    const dk_tensor *a = dk_onednn_input(g, n, 0), *b = dk_onednn_input(g, n, 1);
    const dk_tensor *y = dk_onednn_output(g, n, 0);
    if (!dk_onednn_all_f32(g, n)) return dk_onednn_fallback(p, "reference kernel: not float32");
    if (dk_tensor_numel(y) == 0) return DK_OK;
    if (a->ndim < 1 || b->ndim < 1 || dk_tensor_numel(a) == 0 || dk_tensor_numel(b) == 0)
        return dk_onednn_fallback(p, "reference kernel: empty or scalar operand");
    int r = a->ndim > b->ndim ? a->ndim : b->ndim;
    if (r < 2) r = 2;
    if (r > DNNL_MAX_NDIMS) return dk_onednn_fallback(p, "reference kernel: rank %d", r);
    /* full-rank dims: 1-D operands become a row / a column, batch dims padded with 1 */
    int64_t ad[DNNL_MAX_NDIMS], bd[DNNL_MAX_NDIMS], yd[DNNL_MAX_NDIMS];
    for (int d = 0; d < r; d++) ad[d] = bd[d] = 1;
    if (a->ndim == 1) ad[r - 1] = a->dims[0];
    else memcpy(ad + r - a->ndim, a->dims, sizeof(int64_t) * (size_t)a->ndim);
    if (b->ndim == 1) bd[r - 2] = b->dims[0];
    else memcpy(bd + r - b->ndim, b->dims, sizeof(int64_t) * (size_t)b->ndim);
    for (int d = 0; d < r - 2; d++) yd[d] = ad[d] > bd[d] ? ad[d] : bd[d];
    yd[r - 2] = ad[r - 2];
    yd[r - 1] = bd[r - 1];
    if (dk_shape_numel(r, yd) != dk_tensor_numel(y))
        return dk__error(DK_ERR_INTERNAL, "node '%s' (MatMul): output shape does not match the operands",
                         n->name);

    int64_t as[DNNL_MAX_NDIMS], bs[DNNL_MAX_NDIMS];
    as[r - 1] = bs[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--) {
        as[d] = as[d + 1] * ad[d + 1];
        bs[d] = bs[d + 1] * bd[d + 1];
    }
    dk_dnnl_md a_md = {0}, b_md = {0}, y_md = {0};
    dnnl_status_t s = dk_dnnl_md_plain(&a_md, r, ad);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&b_md, r, bd);
    if (s == dnnl_success) s = dk_dnnl_md_plain(&y_md, r, yd);
    if (s != dnnl_success) return dk_onednn_pd_failed(p, n, s, "MatMul's operands");
    dnnl_primitive_attr_t attr;
    DK_TRY(dk_onednn_attr(ctx, n, NULL, 0, &attr));
    dnnl_primitive_desc_t pd = NULL;
    s = matmul_pd(ctx, g, n, r, ad, as, bd, bs, NULL, &y_md, attr, &pd);
    dnnl_primitive_attr_destroy(attr);
    dk_status st = s == dnnl_success ? matmul_step(ctx, p, g, n, pd, &a_md, &b_md, &y_md, NULL, 0)
                                     : dk_onednn_pd_failed(p, n, s, "MatMul");
    dk_dnnl_md_fini(&a_md);
    dk_dnnl_md_fini(&b_md);
    dk_dnnl_md_fini(&y_md);
    return st;
}
