/* Gemm and MatMul on cuBLAS (cublasGemmStridedBatchedEx, float32 storage).
 * cuBLAS is column-major: a row-major matrix is its transpose there, so
 * Y = op(A) op(B) runs as Y^T = op(B)^T op(A)^T with the operands exchanged.
 * The compute type follows math: CUBLAS_COMPUTE_32F (fp32),
 * CUBLAS_COMPUTE_32F_FAST_TF32 (tf32) or CUBLAS_COMPUTE_32F_FAST_16F (fp16).
 *
 * Plan roles: i[0..2] = M, N, K; i[3] transa of the cuBLAS call (B's), i[4]
 * transb (A's), i[5] batch count, i[6] A's batch stride, i[7] B's batch
 * stride; alpha[0], alpha[1] = alpha, beta; owned[0] Gemm's C broadcast to
 * M x N (NULL: no C). */
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cudnn/cudnn_internal.h"
#include "kernels/ref/ref_kernels.h"

static cublasComputeType_t compute_type(dk_cudnn_math m)
{
    return m == DK_CUDNN_MATH_TF32   ? CUBLAS_COMPUTE_32F_FAST_TF32
           : m == DK_CUDNN_MATH_FP16 ? CUBLAS_COMPUTE_32F_FAST_16F
                                     : CUBLAS_COMPUTE_32F;
}

static int fits(int64_t x) { return x >= 0 && x <= INT_MAX; }

static dk_status run_dense(dk_cudnn_ctx *ctx, dk_cudnn_plan *p, const dk_graph *g, const dk_node *n)
{
    const int M = (int)p->i[0], N = (int)p->i[1], K = (int)p->i[2];
    const void *a = dk__cudnn_dev(ctx, n->inputs[0]), *b = dk__cudnn_dev(ctx, n->inputs[1]);
    void *y = dk__cudnn_dev(ctx, n->outputs[0]);
    float beta = 0.0f;
    if (p->owned[0]) {
        DK_CUDA(cudaMemcpyAsync(y, p->owned[0], (size_t)M * (size_t)N * sizeof(float), cudaMemcpyDeviceToDevice,
                                ctx->stream));
        beta = p->alpha[1];
    }
    const cublasOperation_t ta = p->i[3] ? CUBLAS_OP_T : CUBLAS_OP_N, tb = p->i[4] ? CUBLAS_OP_T : CUBLAS_OP_N;
    /* leading dimensions of the row-major operands as stored */
    const int ldb = p->i[3] ? K : N, lda = p->i[4] ? M : K;
    DK_CUBLAS(cublasGemmStridedBatchedEx(ctx->cublas, ta, tb, N, M, K, &p->alpha[0], b, CUDA_R_32F, ldb, p->i[7], a,
                                         CUDA_R_32F, lda, p->i[6], &beta, y, CUDA_R_32F, N,
                                         (long long)M * N, (int)p->i[5], compute_type(ctx->cfg.math),
                                         CUBLAS_GEMM_DEFAULT));
    return DK_OK;
}

static void note(dk_cudnn_ctx *ctx, dk_cudnn_plan *p)
{
    snprintf(p->info.note, sizeof p->info.note, "cuBLAS GemmStridedBatchedEx, math=%s",
             dk__cudnn_math_name(ctx->cfg.math));
}

DK_CUDNN_PLANNER(dk__cudnn_plan_gemm)
{
    const dk_gemm_params *gp = &n->p.gemm;
    const dk_tensor *a = dk__cudnn_in(g, n, 0), *b = dk__cudnn_in(g, n, 1), *y = dk__cudnn_out(g, n, 0);
    if (a->ndim != 2 || b->ndim != 2 || y->ndim != 2) return dk__cudnn_fallback(p, "Gemm operands not 2-D");
    const int64_t M = y->dims[0], N = y->dims[1], K = gp->trans_a ? a->dims[0] : a->dims[1];
    if (!fits(M) || !fits(N) || !fits(K) || !fits(M * N)) return dk__cudnn_fallback(p, "dimensions beyond int");
    p->i[0] = M, p->i[1] = N, p->i[2] = K;
    p->i[3] = gp->trans_b, p->i[4] = gp->trans_a;
    p->i[5] = 1, p->i[6] = M * K, p->i[7] = K * N;
    p->alpha[0] = gp->alpha;
    p->alpha[1] = gp->beta;
    const dk_tensor *c = dk__cudnn_in(g, n, 2);
    if (gp->has_c && c && gp->beta != 0.0f) {
        const dk_tensor *cc = dk__cudnn_const(g, n, 2);
        if (!cc) return dk__cudnn_fallback(p, "Gemm's C computed at run time");
        /* C broadcast to M x N once, on the host (numpy rules: trailing axes line up) */
        float *full = malloc((size_t)(M * N) * sizeof(float) + 1);
        if (!full) return dk__error(DK_ERR_NOMEM, "cudnn: out of memory");
        const int64_t rows = cc->ndim == 2 ? cc->dims[0] : 1, cols = cc->ndim >= 1 ? cc->dims[cc->ndim - 1] : 1;
        const float *cd = cc->data;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) full[i * N + j] = cd[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
        dk_status st = dk__cudnn_upload_new(ctx, full, (size_t)(M * N) * sizeof(float), &p->owned[0]);
        free(full);
        DK_TRY(st);
    }
    note(ctx, p);
    p->run = run_dense;
    return DK_OK;
}

/* Batch stride of t over the output's batch dims when one stride serves every
 * batch (0: broadcast); -1 otherwise. */
static int64_t uniform_stride(const dk_tensor *t, int nb, const int64_t *dims)
{
    int64_t s[DK_MAX_DIMS];
    dk_ref_batch_strides(t, nb, dims, s);
    const int64_t mat = t->dims[t->ndim - 2] * t->dims[t->ndim - 1];
    int all_zero = 1, contiguous = 1;
    int64_t want = mat;
    for (int d = nb - 1; d >= 0; d--) {
        all_zero &= s[d] == 0;
        contiguous &= s[d] == want;
        want *= dims[d];
    }
    return all_zero ? 0 : contiguous ? mat : -1;
}

DK_CUDNN_PLANNER(dk__cudnn_plan_matmul)
{
    const dk_tensor *a = dk__cudnn_in(g, n, 0), *b = dk__cudnn_in(g, n, 1), *y = dk__cudnn_out(g, n, 0);
    if (a->ndim < 2 || b->ndim < 2) return dk__cudnn_fallback(p, "MatMul of a vector");
    if (dk__cudnn_is_nhwc(&ctx->cfg, a) || dk__cudnn_is_nhwc(&ctx->cfg, b) || dk__cudnn_is_nhwc(&ctx->cfg, y))
        return dk__cudnn_fallback(p, "MatMul on NHWC-stored values");
    const int nb = y->ndim - 2;
    const int64_t M = y->dims[nb], N = y->dims[nb + 1], K = a->dims[a->ndim - 1];
    const int64_t batch = dk_shape_numel(nb, y->dims);
    const int64_t sa = uniform_stride(a, nb, y->dims), sb = uniform_stride(b, nb, y->dims);
    if (sa < 0 || sb < 0) return dk__cudnn_fallback(p, "MatMul batch broadcast beyond one stride per operand");
    if (!fits(M) || !fits(N) || !fits(K) || !fits(batch)) return dk__cudnn_fallback(p, "dimensions beyond int");
    p->i[0] = M, p->i[1] = N, p->i[2] = K;
    p->i[3] = 0, p->i[4] = 0;
    p->i[5] = batch, p->i[6] = sa, p->i[7] = sb;
    p->alpha[0] = 1.0f;
    p->alpha[1] = 0.0f;
    note(ctx, p);
    p->run = run_dense;
    return DK_OK;
}
