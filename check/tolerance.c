/* The tolerance table: the error a backend's output may have against the
 * reference, one row per op, one column per precision, with the derivation of
 * every number beside it.
 *
 * ---- The model -----------------------------------------------------------
 *
 * An output element y is a sum of terms (a dot product, a window sum, a
 * single addition, ...) followed by a few more operations. A candidate
 * computes it in a precision described by four unit roundoffs (the precision
 * table below):
 *   u_in   every input and weight is rounded once before use (bf16, tf32,
 *          fp16; 0 for fp32, whose inputs arrive as float32 already);
 *   u_acc  every arithmetic operation rounds with this unit roundoff;
 *   u_out  the result is rounded once more to the output format (fp16);
 * and the reference computes the same element in double (u = 2^-53) and
 * rounds it once to float32 (2^-24).
 *
 * Arithmetic. n roundings in sequence, each |delta| <= u, give a relative
 * error of at most gamma_n(u) = n u / (1 - n u) (Higham, Accuracy and
 * Stability of Numerical Algorithms, lemma 3.1). A sum of K products computed
 * in any order (recursive, blocked, pairwise, split over threads, with or
 * without FMA) has a computation tree of depth at most K - 1, so with the K
 * product roundings
 *     |fl(sum x_k w_k) - sum x_k w_k| <= gamma_K(u) sum |x_k w_k|
 * (Higham (3.4)-(3.5); pairwise and blocked summation only shorten the
 * chains, FMA removes the product roundings). Hence the magnitude
 *     S = the same computation on absolute values,
 * e.g. S = sum |w||x| + |b| for a convolution. Every further operation on the
 * sum (bias add, scaling, division by the window size) adds one to n. The
 * bound is a worst case over all summation orders, so the constant in front of
 * gamma_n is exactly 1: no factor is fitted to measurements. (Realistic
 * errors grow like sqrt(K) u |y| rather than K u S, which is why measured
 * ratios sit far below 1 for long reductions; the short elementwise rows are
 * where the bound is tight.)
 *
 * Input rounding. Rounding m factors of a product term perturbs it by at most
 * e_in = (1 + u_in)^m - 1 relative, so the sum moves by at most e_in S
 * (m = 2 for x*w products, 1 for sums of inputs). For nonlinear ops the first
 * order change is u_in C with C = sum_j |x_j dy/dx_j| (the condition of the
 * op); rows that need it compute C explicitly (Sigmoid, Softmax, LRN, Clip).
 *
 * Transcendental functions (exp, log, log1p, pow, erf, tanh) are allowed a relative
 * error of 4 ulps, counted as DK_TOL_TRANSCENDENTAL_U = 8 roundings (one ulp is
 * at most 2u relative). Square roots too: IEEE rounds sqrt correctly, but
 * vectorised code often takes rsqrt and a Newton step (a few ulps). glibc's
 * exp/expf/log/pow are within 1 ulp, its erf and tanh within a few (its
 * libm-test-ulps tables); vendor libraries evaluate them with short polynomials after range
 * reduction (oneDNN's JIT exp, vectorised libm), which are accurate to a few
 * ulps. 4 ulps is the assumption the table makes and the op suite checks.
 * On top of that, exp(a) computed by range reduction a = k ln2 + r rounds
 * k*ln2 (without FMA, e.g. oneDNN below AVX2: isa=avx, sse41): an absolute
 * error of u |a| in the argument, i.e. a relative error of u |a| in the result,
 * the same as rounding the argument once more. Rows with exp count it per
 * element (the A terms of Sigmoid, Softmax, LRN).
 *
 * Reference. The reference's own error is gamma_n(2^-53) S from its double
 * arithmetic plus 2^-24 |ref| from rounding to float32, added to the bound
 * (the rounding only for ops that compute anything: copies and comparisons
 * are exact in the reference).
 *
 * Underflow. Intermediate results below the smallest normal number may be
 * flushed to zero (FTZ/DAZ, vdpbf16ps): each operation then errs by at most
 * eta_acc absolutely and each rounded operand by eta_io (assuming operands of
 * magnitude <= 1 where they underflow), so floor = n eta_acc + (m K + 1)
 * eta_io. It is 0 for exact ops, about 1e-34 in fp32 and only matters for
 * fp16, whose normal range ends at 2^-14.
 *
 * Altogether, for output element i:
 *     tol_i = e_in S_i              (or u_in C_i where the row defines C)
 *           + gamma_n(u_acc) (1 + e_in) S_i
 *           + u_acc (1 + e_in) A_i  (Sigmoid, Softmax, LRN: errors in exp's argument)
 *           + gamma_n(2^-53) S_i + (u_out + 2^-24 [n > 0]) |ref_i|
 *           + floor
 * An op with n = 0 in fp32 (data movement, Relu, Clip, MaxPool) has tol = 0:
 * its output must match the reference bit for bit.
 *
 * Not covered: transform-based convolutions (Winograd, FFT). Their error is
 * amplified by the transform matrices, not bounded by gamma_K S. A plan that
 * declares one (cuDNN's FFT, FFT_TILING, WINOGRAD and WINOGRAD_NONFUSED, which
 * on an H200 erred up to 1.2x (FFT) and 7x (WINOGRAD_NONFUSED) this row's
 * bound) is held to dk_tolerance_transform_norm_limit instead. The Winograd
 * F(2x2, 3x3) of oneDNN (algo=winograd) and OpenBLAS (conv=winograd) is
 * judged against this row: its transforms' coefficients are 1 and 1/2, and
 * `deltakern sweep` on ResNet-50, InceptionV3 and GoogLeNet measured every
 * such layer within 0.02 of the bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/tolerance.h"
#include "layers/op_move.h"
#include "layers/op_table.h"
#include "kernels/backend_call.h"
#include "runtime/error.h"
#include "runtime/sanitize.h"

/* ---- precisions ------------------------------------------------------------ */

static const dk_precision_info precisions[DK_PREC_COUNT] = {
    /* float32 inputs, float32 arithmetic rounding to nearest: u = 2^-24. Subnormal
     * results may be flushed: 2^-126 absolute per operation. */
    {DK_PREC_FP32, "fp32", 0x1p-24, 0.0, 0x1p-24, 0.0, 0x1p-126, 0x1p-126,
     "float32 arithmetic, round to nearest (u = 2^-24)"},
    /* bfloat16 has 8 significand bits: round to nearest even (vcvtneps2bf16)
     * gives u = 2^-8. The products of two bf16 numbers are exact in float32
     * and accumulate in float32 (vdpbf16ps, oneDNN fpmath=bf16). Same exponent
     * range as float32. */
    {DK_PREC_BF16, "bf16", 0x1p-8, 0x1p-8, 0x1p-24, 0.0, 0x1p-126, 0x1p-126,
     "inputs and weights rounded to bfloat16 (u = 2^-8), float32 accumulation"},
    /* TensorFloat-32 keeps 11 significand bits (u = 2^-11 when rounded to
     * nearest), but tensor cores read float32 operands by dropping the low 13
     * bits (truncation), which doubles the input error to 2^-10; their float32
     * accumulation also truncates, so u_acc = 2^-23. GPU row, checked when the
     * GPU backend lands. */
    {DK_PREC_TF32, "tf32", 0x1p-11, 0x1p-10, 0x1p-23, 0.0, 0x1p-126, 0x1p-126,
     "inputs truncated to TensorFloat-32 (2^-10), float32 accumulation on tensor cores "
     "(truncating: 2^-23)"},
    /* float16: 11 significand bits, round to nearest (u = 2^-11) on the way in
     * and out; float32 accumulation on tensor cores (truncating: 2^-23). Normal
     * range ends at 2^-14; gradual underflow rounds to multiples of 2^-24,
     * i.e. errs by at most 2^-25. GPU row. */
    {DK_PREC_FP16, "fp16", 0x1p-11, 0x1p-11, 0x1p-23, 0x1p-11, 0x1p-126, 0x1p-25,
     "float16 inputs and output (u = 2^-11), float32 accumulation on tensor cores "
     "(truncating: 2^-23)"},
};

const dk_precision_info *dk_precision_get(dk_precision p)
{
    return p >= 0 && p < DK_PREC_COUNT ? &precisions[p] : NULL;
}

dk_status dk_precision_from_name(const char *name, dk_precision *out)
{
    for (int p = 0; p < DK_PREC_COUNT; p++)
        if (!strcmp(precisions[p].name, name)) {
            *out = (dk_precision)p;
            return DK_OK;
        }
    return dk__error(DK_ERR_INVALID, "precision '%s' is not one of fp32, bf16, tf32, fp16", name);
}

dk_precision dk_variant_precision(const dk_variant *v)
{
    /* the backend's option with the precision role (oneDNN fpmath, cuDNN math) */
    const char *name = v ? dk_variant_get_role(v, DK_ROLE_PRECISION) : NULL;
    dk_precision p = DK_PREC_FP32;
    if (name && dk_precision_from_name(name, &p) == DK_OK) return p;
    dk__error_clear();
    return DK_PREC_FP32;
}

double dk_tolerance_transform_norm_limit(dk_precision p)
{
    return 1.0 / sqrt(dk_precision_get(p)->u);
}

int dk_tolerance_transform_accepts(const dk_tol_result *r, dk_precision p)
{
    int over = r->verdict == DK_VERDICT_FAILED || !(r->worst_ratio <= 1.0);
    return over && r->max_norm <= dk_tolerance_transform_norm_limit(p);
}

double dk_gamma(double n, double u)
{
    double nu = n * u;
    return nu >= 1.0 ? INFINITY : nu / (1.0 - nu);
}

/* ---- the op table ------------------------------------------------------------ */

/* How the reduction length K is read from a node. */
typedef enum k_kind {
    K_NONE,     /* no reduction: K = 1 */
    K_CONV,     /* C_in/group * prod(kernel) = prod(W.dims[1:]) */
    K_GEMM,     /* A's inner dimension (transA aware) */
    K_MATMUL,   /* A's last dimension */
    K_WINDOW,   /* pool window: prod(kernel) */
    K_SPATIAL,  /* global pools: prod(X.dims[2:]) */
    K_SOFTMAX,  /* axis length (legacy: prod(dims[axis:])) */
    K_REDUCE,   /* product of the reduced dims */
    K_LRN,      /* window size */
    K_NORM,     /* LayerNormalization: prod(dims[axis:]), the normalised block */
    K_INPUTS,   /* Sum, Mean, Max, Min: the number of inputs */
    K_CONVT,    /* ConvTranspose: C_in/group * prod(kernel) = W.dims[0]/group * prod(W.dims[2:]) */
    K_RESIZE,   /* Resize, Upsample: 2^(resized axes) corners (linear), 1 (nearest) */
    K_EINSUM    /* Einsum: product of the summed labels' sizes */
} k_kind;

typedef enum mag_kind {
    MAG_ABS_REF, /* the reference kernel on transformed inputs (|x|, -|mean|) */
    MAG_ABS_Y,   /* |ref| */
    MAG_FN       /* an op-specific formula */
} mag_kind;

/* Fills S (magnitude), C (input sensitivity, rows with has_C) and A (extra
 * arithmetic term, rows with has_A) for every output element. */
typedef dk_status (*mag_fn)(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                            const dk_tensor *ref, double *S, double *C, double *A);

typedef struct tol_row {
    dk_op op;
    k_kind k;
    /* n = K + extra + opt_extra [input opt_input present] + transc * T
     * (K_LRN: ceil(max(1, |beta|) (K + 3)) instead of K; K_REDUCE with no
     * axes is an identity: n = 0; K_EINSUM: K + p - 2 for p inputs, and
     * m = p) */
    int k_counts;          /* 1: K enters n; 0: K is only reported */
    double extra;
    double opt_extra;
    int opt_input;
    int transc;
    int m;                 /* rounded operands per term */
    mag_kind mag;
    signed char transform[8];
    int abs_params;
    mag_fn fn;
    int has_C, has_A;
    dk__tol_row_text text;
} tol_row;

static dk_status mag_sigmoid(const dk_graph *, const dk_node *, const dk_tensor *const *,
                             const dk_tensor *, double *, double *, double *);
static dk_status mag_hardsigmoid(const dk_graph *, const dk_node *, const dk_tensor *const *,
                                 const dk_tensor *, double *, double *, double *);
static dk_status mag_hardswish(const dk_graph *, const dk_node *, const dk_tensor *const *,
                               const dk_tensor *, double *, double *, double *);
static dk_status mag_clip(const dk_graph *, const dk_node *, const dk_tensor *const *,
                          const dk_tensor *, double *, double *, double *);
static dk_status mag_softmax(const dk_graph *, const dk_node *, const dk_tensor *const *,
                             const dk_tensor *, double *, double *, double *);
static dk_status mag_lrn(const dk_graph *, const dk_node *, const dk_tensor *const *,
                         const dk_tensor *, double *, double *, double *);
static dk_status mag_gemm(const dk_graph *, const dk_node *, const dk_tensor *const *,
                          const dk_tensor *, double *, double *, double *);
static dk_status mag_pow(const dk_graph *, const dk_node *, const dk_tensor *const *,
                         const dk_tensor *, double *, double *, double *);
static dk_status mag_layernorm(const dk_graph *, const dk_node *, const dk_tensor *const *,
                               const dk_tensor *, double *, double *, double *);
static dk_status mag_exp(const dk_graph *, const dk_node *, const dk_tensor *const *,
                         const dk_tensor *, double *, double *, double *);
static dk_status mag_variadic(const dk_graph *, const dk_node *, const dk_tensor *const *,
                              const dk_tensor *, double *, double *, double *);
static dk_status mag_log(const dk_graph *, const dk_node *, const dk_tensor *const *,
                         const dk_tensor *, double *, double *, double *);
static dk_status mag_softplus(const dk_graph *, const dk_node *, const dk_tensor *const *,
                              const dk_tensor *, double *, double *, double *);
static dk_status mag_elu(const dk_graph *, const dk_node *, const dk_tensor *const *,
                         const dk_tensor *, double *, double *, double *);
static dk_status mag_instancenorm(const dk_graph *, const dk_node *, const dk_tensor *const *,
                                  const dk_tensor *, double *, double *, double *);

#define T_TEXT "T = 8 (4 ulps)"
#define COPY_ROW(OP)                                                                       \
    {OP, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,                        \
     {OP, "-", "0", 1, "|y|", "data movement: copies values, no arithmetic; exact"}}

DK_OP_TABLE_VISITED(78, "the tolerance table (check/tolerance.c)");
static const tol_row table[] = {
    /* Conv: y = sum_{c,k} w x + b over K = C_in/group * prod(kernel) products.
     * Direct, im2col+GEMM and blocked JIT kernels all sum the same K products in
     * some order: gamma_K; the bias is one more addition (or the first term).
     * A fused residual (opt=2, dk_node.post) is one addition more: n += 1 and
     * S += |sum|. A fused Relu or Clip is 1-Lipschitz (|f(a) - f(b)| <= |a - b|)
     * and rounds nothing, so the bound of its input holds for its output: S is
     * taken before the activation. */
    {DK_OP_CONV, K_CONV, 1, 0, 1, 2, 0, 2, MAG_ABS_REF, {1, 1, 1}, 0, NULL, 0, 0,
     {DK_OP_CONV, "C_in/group*prod(kernel)", "K + [bias]", 2, "conv(|x|,|w|) + |b|",
      "dot product of K products (any order, FMA or not) plus the bias add"}},
    /* Gemm: y = alpha (A B) + beta C. The product is a K-term dot product; the
     * scaling by alpha is one rounding (also when alpha is folded into A); beta*C
     * and the final addition are two more. alpha and beta stay float32. */
    {DK_OP_GEMM, K_GEMM, 1, 1, 2, 2, 0, 2, MAG_FN, {0}, 0, mag_gemm, 0, 0,
     {DK_OP_GEMM, "inner dim of A", "K + 1 + 2[C]", 2, "|alpha| |A||B| + |beta||C|",
      "K-term dot product, alpha scaling, beta*C and its addition"}},
    /* ConvTranspose: each output is the bias plus the products x w of the
     * input positions and taps that land on it: at most K = C_in/group *
     * prod(kernel) of them (fewer with strides), summed in any order
     * (scattered, gathered or as a GEMM plus col2im): gamma_K plus the bias
     * add, relative to S = convtranspose(|x|, |w|) + |b|. */
    {DK_OP_CONVTRANSPOSE, K_CONVT, 1, 0, 1, 2, 0, 2, MAG_ABS_REF, {1, 1, 1}, 0, NULL, 0, 0,
     {DK_OP_CONVTRANSPOSE, "C_in/group*prod(kernel)", "K + [bias]", 2,
      "convtranspose(|x|,|w|) + |b|", "at most K products per output (any order) plus the bias"}},
    /* Resize, Upsample: nearest copies one element: exact (n = 0). Linear
     * sums K = 2^d corners x_c w_c, w_c the product of d per-axis weights
     * (1 - r or r): K products and K - 1 additions, and w_c's own d - 1
     * products and d roundings of its factors: n = K + 2d - 1 relative to
     * S = resize(|x|) (weights in [0, 1]). This assumes the per-axis
     * coordinates computed as the reference computes them (in double): a
     * backend computing coordinates in float errs by u |coordinate| in r,
     * which this row does not cover -- no backend computes linear Resize
     * natively (oneDNN falls back). */
    {DK_OP_RESIZE, K_RESIZE, 1, 0, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_RESIZE, "2^d corners (linear), 1 (nearest)", "0 (nearest), K + 2d - 1 (linear)", 1,
      "resize(|x|)", "nearest: a copy, exact; linear: K-corner weighted sum"}},
    {DK_OP_UPSAMPLE, K_RESIZE, 1, 0, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_UPSAMPLE, "2^d corners (linear), 1 (nearest)", "0 (nearest), K + 2d - 1 (linear)", 1,
      "resize(|x|)", "nearest: a copy, exact; linear: K-corner weighted sum"}},
    /* MatMul: a K-term dot product per output, batch dims broadcast. */
    {DK_OP_MATMUL, K_MATMUL, 1, 0, 0, -1, 0, 2, MAG_ABS_REF, {1, 1}, 0, NULL, 0, 0,
     {DK_OP_MATMUL, "last dim of A", "K", 2, "|A||B|", "K-term dot product"}},
    /* Einsum: each output element sums K terms (K = the product of the
     * summed labels' sizes), each term the product of one element of each
     * of the p inputs: p - 1 multiplications, then K - 1 additions in any
     * order. Contracting pairwise instead (as a chain of matrix products:
     * sum over K1 labels, multiply, sum over K2, ...) rounds each term at
     * most p - 1 + sum (K_j - 1) <= p - 2 + K times (K_j >= 1 with
     * prod K_j = K). So n = K + p - 2 (MatMul's K for two inputs; 0 for a
     * transpose or diagonal of one input, which copies: exact) relative to
     * S = einsum(|x_1|, ..., |x_p|), every one of the p factors rounded
     * once in reduced precision (m = p). */
    {DK_OP_EINSUM, K_EINSUM, 1, 0, 0, -1, 0, 2, MAG_ABS_REF, {1, 1, 1, 1, 1, 1, 1, 1}, 0, NULL,
     0, 0,
     {DK_OP_EINSUM, "prod(summed dims)", "K + p - 2 (p inputs)", 2, "einsum(|x_1|,...,|x_p|)",
      "K terms of p-factor products (any order or pairwise contraction)"}},
    /* AveragePool: K - 1 additions over the window (K = kernel size, padded taps
     * included: fewer real taps only shorten the sum), then one division, or a
     * multiplication by a rounded 1/count (two roundings): n = K + 1. */
    {DK_OP_AVGPOOL, K_WINDOW, 1, 1, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_AVGPOOL, "prod(kernel)", "K + 1", 1, "avgpool(|x|)",
      "K-1 additions, then *fl(1/count) (2 roundings)"}},
    {DK_OP_GLOBALAVGPOOL, K_SPATIAL, 1, 1, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_GLOBALAVGPOOL, "prod(spatial dims)", "K + 1", 1, "mean(|x|)",
      "K-1 additions, then *fl(1/count) (2 roundings)"}},
    /* ReduceMean: as the average pools, over the reduced dims. */
    {DK_OP_REDUCEMEAN, K_REDUCE, 1, 1, 0, -1, 0, 1, MAG_ABS_REF, {1, 0}, 0, NULL, 0, 0,
     {DK_OP_REDUCEMEAN, "prod(reduced dims)", "K + 1", 1, "reducemean(|x|)",
      "K-1 additions, then *fl(1/count) (2 roundings)"}},
    /* ReduceSum: K - 1 additions in any order over the reduced dims.
     * ReduceMax: comparisons only, exact (K reported, not counted). */
    {DK_OP_REDUCESUM, K_REDUCE, 1, -1, 0, -1, 0, 1, MAG_ABS_REF, {1, 0}, 0, NULL, 0, 0,
     {DK_OP_REDUCESUM, "prod(reduced dims)", "K - 1", 1, "reducesum(|x|)",
      "K-1 additions (any order)"}},
    {DK_OP_REDUCEMAX, K_REDUCE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_REDUCEMAX, "prod(reduced dims)", "0", 1, "|y|", "comparisons only: exact"}},
    /* ReduceL2: y = sqrt(s), s = sum x_k^2 over K terms, all non-negative: K
     * squares and K - 1 additions leave s within gamma_K(u) s, and the square
     * root halves a relative error, so y errs by gamma_K/2 |y| plus the
     * root's own (T, as in Sqrt's row): n = K + T relative to S = |y|
     * (conservative). A rounded input moves x_k^2 by 2 u_in, y by u_in: m = 1. */
    {DK_OP_REDUCEL2, K_REDUCE, 1, 0, 0, -1, 1, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_REDUCEL2, "prod(reduced dims)", "K + T", 1, "|y|",
      "K squares and K-1 additions of non-negative terms, sqrt (" T_TEXT ")"}},
    /* ArgMax: comparisons only, an int64 index: exact. */
    {DK_OP_ARGMAX, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_ARGMAX, "-", "0", 1, "|y|", "comparisons only, an index: exact"}},
    /* Equal, Less, Greater, Not: a bool from comparisons: exact. */
    {DK_OP_EQUAL, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_EQUAL, "-", "0", 1, "|y|", "comparison, a bool: exact"}},
    {DK_OP_LESS, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_LESS, "-", "0", 1, "|y|", "comparison, a bool: exact"}},
    {DK_OP_GREATER, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_GREATER, "-", "0", 1, "|y|", "comparison, a bool: exact"}},
    {DK_OP_NOT, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_NOT, "-", "0", 1, "|y|", "logical negation of a bool: exact"}},
    /* Mod: fmod is exact in IEEE arithmetic (the remainder is representable),
     * integers are exact; fmod=0's sign fix r + b on floats rounds once, in
     * the reference's double then to float32, and no backend has a kernel of
     * its own (all run the reference's): exact. */
    {DK_OP_MOD, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_MOD, "-", "0", 1, "|y|", "remainder: fmod exact, integers exact"}},
    /* Max pools: comparisons only, exact. K is reported, not counted. */
    {DK_OP_MAXPOOL, K_WINDOW, 0, 0, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_MAXPOOL, "prod(kernel)", "0", 1, "maxpool(|x|)", "comparisons only: exact"}},
    {DK_OP_GLOBALMAXPOOL, K_SPATIAL, 0, 0, 0, -1, 0, 1, MAG_ABS_REF, {1}, 0, NULL, 0, 0,
     {DK_OP_GLOBALMAXPOOL, "prod(spatial dims)", "0", 1, "max(|x|)", "comparisons only: exact"}},
    /* BatchNormalization (inference): y = (x - mean) a + B, a = scale/sqrt(var+eps).
     * a: var+eps, sqrt (half the relative error of its argument plus one
     * rounding) and the division: 3 roundings relative to |a|. Then either
     * (x - mean) a + B (3 operations) or a x + (B - mean a) (4 operations,
     * the folded form oneDNN and the reference use): n = 3 + 4 = 7, relative
     * to S = |a| (|x| + |mean|) + |B|. Input rounding: x, mean, scale, B each
     * once, var through sqrt by half: 2.5 u_in S <= e_in(3) S. */
    {DK_OP_BATCHNORM, K_NONE, 0, 7, 0, -1, 0, 3, MAG_ABS_REF, {1, 1, 1, -1, 0}, 0, NULL, 0, 0,
     {DK_OP_BATCHNORM, "-", "7", 3, "|a|(|x| + |mean|) + |B|",
      "a = scale/sqrt(var+eps) (3), then a x + (B - mean a) (4)"}},
    /* LayerNormalization: y_i = d_i r s_i + b_i, d_i = x_i - mean, r = 1/sqrt(var +
     * eps), over the K elements of a normalised block; a_i = |s_i| r. The mean
     * (K - 1 additions and a scaling) errs by gamma_{K+1} mean|x|, which
     * enters each d_i. The variance, in two passes or as E[x^2] - mean^2,
     * errs by at most gamma_{K+3} (E[x^2] + mean^2) (the one-pass form
     * cancels); relative to var + eps that is gamma_{K+3} Q with Q = (E[x^2] +
     * mean^2) / (var + eps), and r inherits half of it, plus the inverse
     * square root (T: rsqrt in vector code) and eps's addition. Then d_i, the
     * two products and + b_i: 4. Altogether n = K + 4 + T relative to
     * S_i = a_i (mean|x| + |d_i| (1 + Q)) + |b_i|. Rounded inputs: x moves
     * d_i, the mean and r by at most u_in a_i (2 mean|x| + |d_i| (1 + Q)),
     * Scale and B by u_in (a_i |d_i| + |b_i|): within 2 u_in S (m = 2). */
    {DK_OP_LAYERNORM, K_NORM, 1, 4, 0, -1, 1, 2, MAG_FN, {0}, 0, mag_layernorm, 0, 0,
     {DK_OP_LAYERNORM, "prod(dims[axis:])", "K + 4 + T", 2,
      "|s|r (mean|x| + |x-mean|(1+Q)) + |b|",
      "mean and variance over K (any order, one or two passes), rsqrt (" T_TEXT "), affine"}},
    /* InstanceNormalization: LayerNormalization's derivation over the K
     * spatial elements of each (n, c), with a_i = |scale_c| r and b_i = |B_c|
     * (one scale and shift per block): n = K + 4 + T, m = 2. */
    {DK_OP_INSTANCENORM, K_SPATIAL, 1, 4, 0, -1, 1, 2, MAG_FN, {0}, 0, mag_instancenorm, 0, 0,
     {DK_OP_INSTANCENORM, "prod(spatial dims)", "K + 4 + T", 2,
      "|s|r (mean|x| + |x-mean|(1+Q)) + |b|",
      "mean and variance over K (any order, one or two passes), rsqrt (" T_TEXT "), affine"}},
    /* LRN: y = x / t^beta, t = bias + alpha/size * sum of `size` squares. The
     * squares are positive: t has relative error gamma_{K+3} (K products and
     * additions, alpha/size, the scaling, + bias); t^beta turns it into beta
     * times as much, bounded by gamma_{ceil(max(1,|beta|)(K+3))}; pow itself T,
     * the division 1. pow evaluated as exp(beta log t) errs in its argument:
     * log's T relative, the product's rounding and the range reduction of exp
     * (see above): (2 + T) u |beta ln t| relative (the A term). S = |y|; input
     * sensitivity C = |y| (1 + 2|beta|). */
    {DK_OP_LRN, K_LRN, 1, 1, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_lrn, 1, 1,
     {DK_OP_LRN, "size", "ceil(max(1,|beta|)(K+3)) + 1 + T", 1, "|y|",
      "positive sum of K squares; pow (" T_TEXT "), division; A = (2+T)|beta ln t| |y|"}},
    /* Softmax: y_i = e_i / sum_j e_j, e_j = exp(d_j), d_j = x_j - max. d_j
     * rounds once (u |d_j|) and exp's range reduction adds as much (see above):
     * e_j errs by (T + 2|d_j|) u relative. The sum of K positive terms:
     * gamma_{K-1} plus the largest relative error of its terms, (T + 2R) u with
     * R = max_j |d_j|. The division, or a reciprocal and a multiplication: 2.
     * Relative to y_i: n = K - 1 + 2 + 2T, plus A_i = 2 (|d_i| + R) y_i. Input
     * sensitivity C_i = y_i (|x_i| + sum_j y_j |x_j|). */
    {DK_OP_SOFTMAX, K_SOFTMAX, 1, 1, 0, -1, 2, 1, MAG_FN, {0}, 0, mag_softmax, 1, 1,
     {DK_OP_SOFTMAX, "axis length", "K + 1 + 2T", 1, "y",
      "two exp (" T_TEXT "), K-1 additions, division by reciprocal; A = 2 (|d_i| + max|d|) y"}},
    /* Add, Sub: one rounding of a + b, relative to |a| + |b| (broadcast). */
    {DK_OP_ADD, K_NONE, 0, 1, 0, -1, 0, 1, MAG_ABS_REF, {1, 1}, 1, NULL, 0, 0,
     {DK_OP_ADD, "-", "1", 1, "|a| + |b|", "one rounding"}},
    {DK_OP_SUB, K_NONE, 0, 1, 0, -1, 0, 1, MAG_ABS_REF, {1, 1}, 1, NULL, 0, 0,
     {DK_OP_SUB, "-", "1", 1, "|a| + |b|", "one rounding"}},
    /* Mul: one rounding of a*b; both operands rounded in bf16 (m = 2). */
    {DK_OP_MUL, K_NONE, 0, 1, 0, -1, 0, 2, MAG_ABS_REF, {1, 1}, 0, NULL, 0, 0,
     {DK_OP_MUL, "-", "1", 2, "|a b|", "one rounding"}},
    /* Div: a/b, or a * fl(1/b) as vectorised code often does: 2 roundings. */
    {DK_OP_DIV, K_NONE, 0, 2, 0, -1, 0, 2, MAG_ABS_REF, {1, 1}, 0, NULL, 0, 0,
     {DK_OP_DIV, "-", "2", 2, "|a / b|", "reciprocal and multiplication"}},
    /* Pow: y = x^e, one libm function (T; x*x for e = 2 rounds once). Evaluated
     * as exp(e log x) it errs in the argument as LRN's pow does: log's T
     * relative, the product's rounding and exp's range reduction, (2 + T) u
     * |e ln x| relative to y, where |e ln x| = |ln y| (the A term). Input
     * sensitivity: a rounded base moves y by |e| u_in relative, a rounded
     * exponent by |e ln x| u_in: C = (|e| + |ln y|) |y|. y = 0 or +-inf:
     * exact (A = C = 0). */
    {DK_OP_POW, K_NONE, 0, 0, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_pow, 1, 1,
     {DK_OP_POW, "-", "T", 1, "|y|",
      "pow (" T_TEXT "); A = (2+T)|ln y| |y| (exp(e log x)), C = (|e| + |ln y|) |y|"}},
    /* PRelu: slope * x for negative x, one rounding; x and the slope rounded
     * in bf16 (m = 2). */
    {DK_OP_PRELU, K_NONE, 0, 1, 0, -1, 0, 2, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_PRELU, "-", "1", 2, "|y|", "one multiplication"}},
    /* Relu, Clip: selects only, exact. Clip's input sensitivity: a rounded x
     * beyond a bound moves y by at most u_in |x| (C = max(|x|, |y|), which also
     * covers rounded bounds). */
    {DK_OP_RELU, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_RELU, "-", "0", 1, "|y|", "select: exact"}},
    {DK_OP_CLIP, K_NONE, 0, 0, 0, -1, 0, 1, MAG_FN, {0}, 0, mag_clip, 1, 0,
     {DK_OP_CLIP, "-", "0", 1, "|y|", "two selects: exact"}},
    /* Neg: a sign flip, exact; a rounded input moves y by u_in |y| (m = 1). */
    {DK_OP_NEG, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_NEG, "-", "0", 1, "|y|", "sign flip: exact"}},
    /* LeakyRelu: alpha x for negative x, one rounding (alpha stays float32). */
    {DK_OP_LEAKYRELU, K_NONE, 0, 1, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_LEAKYRELU, "-", "1", 1, "|y|", "one multiplication"}},
    /* HardSigmoid: clamp(alpha x + beta): two roundings (one with FMA), the
     * clamp is 1-Lipschitz. */
    {DK_OP_HARDSIGMOID, K_NONE, 0, 2, 0, -1, 0, 1, MAG_FN, {0}, 0, mag_hardsigmoid, 0, 0,
     {DK_OP_HARDSIGMOID, "-", "2", 1, "|alpha x| + |beta|", "multiply and add, then clamp"}},
    /* HardSwish: x * clamp(x * fl(1/6) + 1/2): t errs by gamma_3 (|x|/6 + 1/2)
     * (1/6 rounded, the product, the sum), the final product adds one:
     * n = 4 relative to S = |x| (|x|/6 + 1/2). Input sensitivity
     * |x f'(x)| <= |x| (|x|/3 + 1/2) <= 2 S, hence m = 2. */
    {DK_OP_HARDSWISH, K_NONE, 0, 4, 0, -1, 0, 2, MAG_FN, {0}, 0, mag_hardswish, 0, 0,
     {DK_OP_HARDSWISH, "-", "4", 2, "|x| (|x|/6 + 1/2)", "fl(1/6), multiply, add, multiply"}},
    /* Sigmoid: 1 / (1 + exp(-x)) (or exp(x) / (1 + exp(x)) for x < 0): exp T,
     * the addition and the division 1 each; d(y)/y <= d(e)/e, so the relative
     * error of exp passes through undamped, including its range reduction
     * (see above): A = |x| y. Input sensitivity C = |x| y (1-y).
     * (A tanh-based sigmoid errs by u/2 absolute for large -x and fails this
     * row: that is a real accuracy loss for tiny outputs.) */
    {DK_OP_SIGMOID, K_NONE, 0, 2, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_sigmoid, 1, 1,
     {DK_OP_SIGMOID, "-", "2 + T", 1, "y",
      "exp (" T_TEXT "), addition, division; A = |x| y (exp's range reduction)"}},
    /* Sqrt, Erf, Tanh: one libm function each (T). Input sensitivity
     * |x f'(x)| <= |f(x)| for all three (sqrt: y/2; tanh: |x| sech^2 x <=
     * |tanh x| as sinh 2x >= 2x; erf: its integrand decreases), so a rounded
     * input moves y by at most u_in |y|: m = 1, S = |y|. (A tanh from
     * exp(2x) - 1 loses relative accuracy near 0 and fails this row, as a
     * tanh-based sigmoid fails Sigmoid's: a real accuracy loss.) */
    {DK_OP_SQRT, K_NONE, 0, 0, 0, -1, 1, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_SQRT, "-", "T", 1, "|y|", "sqrt (" T_TEXT ": rsqrt + Newton in vector code)"}},
    {DK_OP_ERF, K_NONE, 0, 0, 0, -1, 1, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_ERF, "-", "T", 1, "|y|", "erf (" T_TEXT ")"}},
    {DK_OP_TANH, K_NONE, 0, 0, 0, -1, 1, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_TANH, "-", "T", 1, "|y|", "tanh (" T_TEXT ")"}},
    /* Abs, Floor, Ceil: exact in any float format (a sign clear; an integer
     * part, representable whenever x is). m = 1 as for Neg; Floor and Ceil
     * of a rounded input may jump by 1, but no backend rounds their input (all
     * run the reference kernel). */
    {DK_OP_ABS, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_ABS, "-", "0", 1, "|y|", "sign clear: exact"}},
    {DK_OP_FLOOR, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_FLOOR, "-", "0", 1, "|y|", "integer part: exact"}},
    {DK_OP_CEIL, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_CEIL, "-", "0", 1, "|y|", "integer part: exact"}},
    /* Reciprocal: one division (|x f'(x)| = |y|: m = 1). */
    {DK_OP_RECIPROCAL, K_NONE, 0, 1, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_RECIPROCAL, "-", "1", 1, "|y|", "one division"}},
    /* Exp: T, and the range reduction's rounding of k ln2 (see above):
     * A = |x| y. Input sensitivity |x f'(x)| = |x| y: C = |x| y. */
    {DK_OP_EXP, K_NONE, 0, 0, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_exp, 1, 1,
     {DK_OP_EXP, "-", "T", 1, "y", "exp (" T_TEXT "); A = C = |x| y (range reduction)"}},
    /* Log: T relative to |y|. Vector code returns k ln2 + p(f) with |p(f)| <
     * 1/2: rounding k ln2 and the sum errs by u (|y| + 1/2) absolute, so
     * A = 1 (absolute u_acc). Input sensitivity |x f'(x)| = 1: C = 1. */
    {DK_OP_LOG, K_NONE, 0, 0, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_log, 1, 1,
     {DK_OP_LOG, "-", "T", 1, "|y|", "log (" T_TEXT "); A = C = 1 (absolute: k ln2 + p(f))"}},
    /* Softplus: log1p(exp(x)) (x + log1p(exp(-x)) for x > 0): exp and log1p T
     * each, one addition. e^x/(1 + e^x) <= log(1 + e^x), so exp's relative
     * error passes into y at most undamped; its range reduction errs by u|x|
     * relative in exp, at most u |x| min(y, 1) in y (A). Input sensitivity
     * C = |x| sigma(x). A naive log(1 + exp(x)) loses all accuracy below
     * x ~ -17 and fails this row: a real accuracy loss. */
    {DK_OP_SOFTPLUS, K_NONE, 0, 1, 0, -1, 2, 1, MAG_FN, {0}, 0, mag_softplus, 1, 1,
     {DK_OP_SOFTPLUS, "-", "1 + 2T", 1, "y",
      "exp, log1p (" T_TEXT "), addition; A = |x| min(y,1), C = |x| sigma(x)"}},
    /* Elu: alpha (e^x - 1) for x < 0, a copy otherwise. exp(x) - 1 errs by T
     * relative to e^x (not to the difference), then the subtraction and the
     * product by alpha: n = T + 2 relative to S = |alpha| (e^x + |e^x - 1|);
     * A = |alpha| |x| e^x (range reduction). Input sensitivity C = |alpha x| e^x
     * (x < 0), |x| (x >= 0). Non-negative x is copied: S = |y|. */
    {DK_OP_ELU, K_NONE, 0, 2, 0, -1, 1, 1, MAG_FN, {0}, 0, mag_elu, 1, 1,
     {DK_OP_ELU, "-", "2 + T", 1, "|alpha| (e^x + |e^x - 1|) (x < 0)",
      "exp (" T_TEXT "), subtraction, product by alpha; A = |alpha x| e^x"}},
    /* Sum: K inputs added in any order, K - 1 roundings relative to
     * S = sum |x_j| (each input broadcast). Mean: the same sum, then a
     * division by K or a product with fl(1/K): n = K + 1, S = sum |x_j| / K.
     * Max, Min: comparisons only, exact (K reported, not counted). */
    {DK_OP_SUM, K_INPUTS, 1, -1, 0, -1, 0, 1, MAG_FN, {0}, 0, mag_variadic, 0, 0,
     {DK_OP_SUM, "number of inputs", "K - 1", 1, "sum |x_j|", "K-1 additions (any order)"}},
    {DK_OP_MEAN, K_INPUTS, 1, 1, 0, -1, 0, 1, MAG_FN, {0}, 0, mag_variadic, 0, 0,
     {DK_OP_MEAN, "number of inputs", "K + 1", 1, "sum |x_j| / K",
      "K-1 additions, then *fl(1/K) (2 roundings)"}},
    {DK_OP_MAX, K_INPUTS, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_MAX, "number of inputs", "0", 1, "|y|", "comparisons only: exact"}},
    {DK_OP_MIN, K_INPUTS, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_MIN, "number of inputs", "0", 1, "|y|", "comparisons only: exact"}},
    COPY_ROW(DK_OP_FLATTEN),
    COPY_ROW(DK_OP_RESHAPE),
    COPY_ROW(DK_OP_TRANSPOSE),
    COPY_ROW(DK_OP_SQUEEZE),
    COPY_ROW(DK_OP_UNSQUEEZE),
    COPY_ROW(DK_OP_CONCAT),
    COPY_ROW(DK_OP_PAD),
    COPY_ROW(DK_OP_GATHER),
    COPY_ROW(DK_OP_SLICE),
    COPY_ROW(DK_OP_EXPAND),
    COPY_ROW(DK_OP_SPLIT),
    COPY_ROW(DK_OP_TILE),
    COPY_ROW(DK_OP_DEPTHTOSPACE),
    COPY_ROW(DK_OP_SPACETODEPTH),
    COPY_ROW(DK_OP_WHERE),
    COPY_ROW(DK_OP_SCATTERND),
    /* Cast: a conversion has one right answer (IEEE round to nearest, or
     * exact; integers truncated and wrapped as in layers/op_cast.c): exact. */
    {DK_OP_CAST, K_NONE, 0, 0, 0, -1, 0, 1, MAG_ABS_Y, {0}, 0, NULL, 0, 0,
     {DK_OP_CAST, "-", "0", 1, "|y|", "conversion, correctly rounded: exact"}},
    COPY_ROW(DK_OP_IDENTITY),
    COPY_ROW(DK_OP_DROPOUT),
};

#define N_ROWS ((int)(sizeof table / sizeof table[0]))

const dk__tol_row_text *dk__tolerance_row(int i)
{
    return i >= 0 && i < N_ROWS ? &table[i].text : NULL;
}

static const tol_row *find_row(dk_op op)
{
    for (int i = 0; i < N_ROWS; i++)
        if (table[i].op == op) return &table[i];
    return NULL;
}

/* ---- coefficients ---------------------------------------------------------- */

static const dk_tensor *input(const dk_graph *g, const dk_node *n, int i)
{
    if (i < 0 || i >= n->n_inputs || n->inputs[i] < 0 || n->inputs[i] >= g->n_values) return NULL;
    return &g->values[n->inputs[i]].t;
}

static int64_t reduction_length(const dk_graph *g, const dk_node *n, k_kind k)
{
    const dk_tensor *x = input(g, n, 0), *w = input(g, n, 1);
    int64_t K = 1;
    switch (k) {
    case K_NONE: return 1;
    case K_CONV:
        if (!w || w->ndim < 2) return 1;
        return dk_shape_numel(w->ndim - 1, w->dims + 1);
    case K_GEMM:
        if (!x || x->ndim != 2) return 1;
        return n->p.gemm.trans_a ? x->dims[0] : x->dims[1];
    case K_MATMUL:
        return x && x->ndim >= 1 ? x->dims[x->ndim - 1] : 1;
    case K_WINDOW:
        for (int a = 0; a < n->p.pool.win.nspatial && a < DK_MAX_SPATIAL; a++)
            K *= n->p.pool.win.kernel[a];
        return K;
    case K_SPATIAL:
        return x && x->ndim > 2 ? dk_shape_numel(x->ndim - 2, x->dims + 2) : 1;
    case K_SOFTMAX: {
        if (!x || x->ndim < 1) return 1;
        int axis = n->p.softmax.axis;
        if (n->p.softmax.legacy) return dk_shape_numel(x->ndim - axis, x->dims + axis);
        return x->dims[axis];
    }
    case K_REDUCE:
        for (int i = 0; x && i < n->p.reduce.naxes; i++) K *= x->dims[n->p.reduce.axes[i]];
        return K;
    case K_LRN: return n->p.lrn.size;
    case K_INPUTS: return n->n_inputs;
    case K_CONVT:
        if (!w || w->ndim < 2 || n->p.convt.group < 1) return 1;
        return w->dims[0] / n->p.convt.group * dk_shape_numel(w->ndim - 2, w->dims + 2);
    case K_RESIZE: {
        const dk_tensor *y = n->n_outputs > 0 && n->outputs[0] >= 0 ? &g->values[n->outputs[0]].t
                                                                      : NULL;
        if (!x || !y || n->p.resize.mode != DK_RESIZE_LINEAR) return 1;
        for (int a = 0; a < x->ndim && a < y->ndim; a++)
            if (x->dims[a] != y->dims[a] || n->p.resize.scale[a] != 1.0) K *= 2;
        return K;
    }
    case K_EINSUM: {
        const dk_tensor *ins[DK_EINSUM_MAX_INPUTS];
        if (n->p.einsum.n_inputs < 1 || n->p.einsum.n_inputs > DK_EINSUM_MAX_INPUTS) return 1;
        for (int i = 0; i < n->p.einsum.n_inputs; i++)
            if (!(ins[i] = input(g, n, i))) return 1;
        return dk__einsum_terms(&n->p.einsum, ins);
    }
    case K_NORM:
        return x && n->p.layernorm.axis < x->ndim
                   ? dk_shape_numel(x->ndim - n->p.layernorm.axis, x->dims + n->p.layernorm.axis)
                   : 1;
    }
    return 1;
}

/* n for a row, given K and the node's parameters (NULL node: typical ones). */
static double roundings(const tol_row *r, const dk_graph *g, const dk_node *node, int64_t K)
{
    if (r->k == K_REDUCE && node && node->p.reduce.naxes == 0) return 0; /* identity */
    if (r->k == K_RESIZE) { /* nearest: a copy; linear: K + 2d - 1 (d = log2 K) */
        if ((node && node->p.resize.mode != DK_RESIZE_LINEAR) || K <= 1) return 0;
        return (double)K + 2.0 * log2((double)K) - 1.0;
    }
    if (r->k == K_EINSUM) { /* K + p - 2, p = 2 typically */
        int p = node ? node->n_inputs : 2;
        return (double)K + p - 2 > 0 ? (double)K + p - 2 : 0;
    }
    double n = 0;
    if (r->k == K_LRN) {
        double beta = node ? fabs((double)node->p.lrn.beta) : 0.75;
        n = ceil((beta > 1 ? beta : 1) * (double)(K + 3));
    } else if (r->k_counts) {
        n = (double)K;
    }
    n += r->extra + r->transc * DK_TOL_TRANSCENDENTAL_U;
    if (r->opt_input >= 0 && (!node || input(g, node, r->opt_input))) n += r->opt_extra;
    if (node && node->op == DK_OP_CONV && node->post.has_sum) n += 1; /* fused residual */
    return n;
}

static void fill(const tol_row *r, dk_precision p, int64_t K, double n, int m, dk_tolerance *t)
{
    const dk_precision_info *pi = &precisions[p];
    memset(t, 0, sizeof *t);
    t->op = r->op;
    t->prec = p;
    t->K = K;
    t->n = n;
    t->m = m;
    t->rule = r->text.why;
    double e_in = r->has_C ? pi->u_in : pow(1.0 + pi->u_in, m) - 1.0;
    t->c = (r->has_C ? 0.0 : e_in) + dk_gamma(n, pi->u_acc) * (1.0 + e_in) +
           dk_gamma(n, DK_TOL_U_DOUBLE);
    t->c_in = r->has_C ? pi->u_in : 0.0;
    t->c_a = r->has_A ? pi->u_acc * (1.0 + e_in) : 0.0;
    t->c_out = pi->u_out + (n > 0 ? DK_TOL_U_REF : 0.0);
    t->exact = n == 0 && pi->u_in == 0 && pi->u_out == 0;
    t->floor = t->exact ? 0.0 : n * pi->eta_acc + ((double)m * (double)K + 1.0) * pi->eta_io;
}

dk_status dk_tolerance_for_node(const dk_graph *g, const dk_node *n, dk_precision p,
                                dk_tolerance *out)
{
    const tol_row *r = find_row(n->op);
    if (!r)
        return dk__error(DK_ERR_UNSUPPORTED, "tolerance: no row for node '%s' (%s)", n->name,
                         dk_op_name(n->op));
    if (p < 0 || p >= DK_PREC_COUNT) return dk__error(DK_ERR_INVALID, "tolerance: bad precision %d", (int)p);
    int64_t K = reduction_length(g, n, r->k);
    int m = r->k == K_EINSUM ? n->n_inputs : r->m; /* Einsum: one rounded factor per input */
    fill(r, p, K, roundings(r, g, n, K), m, out);
    return DK_OK;
}

dk_status dk_tolerance_typical(dk_op op, dk_precision p, int64_t K, dk_tolerance *out)
{
    const tol_row *r = find_row(op);
    if (!r) return dk__error(DK_ERR_UNSUPPORTED, "tolerance: no row for %s", dk_op_name(op));
    if (p < 0 || p >= DK_PREC_COUNT) return dk__error(DK_ERR_INVALID, "tolerance: bad precision %d", (int)p);
    fill(r, p, K, roundings(r, NULL, NULL, K), r->m, out);
    return DK_OK;
}

dk_status dk_tolerance_coefficient(dk_op op, dk_precision p, int64_t K, double *c)
{
    dk_tolerance t;
    DK_TRY(dk_tolerance_typical(op, p, K, &t));
    *c = t.c + t.c_in + t.c_out;
    return DK_OK;
}

/* ---- magnitudes ---------------------------------------------------------------- */

/* The element loops every bound runs through (checked per range under ASan,
 * runtime/sanitize.h): s[i] = |x[i]|, Clip's two terms, and the bound from
 * its four terms. */
DK_RANGE_CHECKED
static void abs_into(double *restrict s, const float *restrict x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) s[i] = fabs((double)x[i]);
}

static void abs_of(double *s, const float *x, int64_t n)
{
    DK_CHECK_RANGE(s, n);
    DK_CHECK_RANGE(x, n);
    abs_into(s, x, n);
}

/* x[i] = |x[i]| (positive) or -|x[i]|: the inputs of the magnitudes' run */
DK_RANGE_CHECKED
static void set_signs(float *x, int64_t n, int positive)
{
    if (positive)
        for (int64_t i = 0; i < n; i++) x[i] = fabsf(x[i]);
    else
        for (int64_t i = 0; i < n; i++) x[i] = -fabsf(x[i]);
}

DK_RANGE_CHECKED
static void clip_terms(double *restrict S, double *restrict C, const float *restrict x,
                       const float *restrict y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double ax = fabs((double)x[i]), ay = fabs((double)y[i]);
        S[i] = ay;
        C[i] = ax > ay ? ax : ay;
    }
}

DK_RANGE_CHECKED
static void combine_terms(double *restrict tol, const dk_tolerance *t, const double *S, const double *C,
                          const double *A, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        tol[i] = t->c * S[i] + t->c_in * C[i] + t->c_a * A[i] + t->c_out * fabs((double)y[i]) + t->floor;
}

static dk_status want_f32(const dk_node *n, const dk_tensor *t, const char *what)
{
    if (t && t->dtype == DK_F32 && t->data) return DK_OK;
    return dk__error(DK_ERR_UNSUPPORTED, "tolerance: node '%s' (%s): %s is not float32 data",
                     n->name, dk_op_name(n->op), what);
}

dk_status dk_tolerance_abs_reference(const dk_graph *g, const dk_node *n,
                                     const dk_tensor *const *in, const int *transform,
                                     int abs_params, dk_tensor *out)
{
    const dk_backend_iface *b = &dk_backend_ref;
    if (!b) return dk__error_prefix(DK_ERR_INTERNAL, "tolerance");
    if (n->n_inputs > 8 || n->n_outputs > 8 || n->n_outputs < 1 || n->outputs[0] < 0)
        return dk__error(DK_ERR_UNSUPPORTED, "tolerance: node '%s' has too many inputs or outputs",
                         n->name);
    dk_tensor copies[8];
    memset(copies, 0, sizeof copies);
    const dk_tensor *xin[8] = {0};
    dk_tensor extra_out[8];
    memset(extra_out, 0, sizeof extra_out);
    dk_tensor *outs[8] = {0};
    dk_status st = DK_OK;
    for (int i = 0; i < n->n_inputs && st == DK_OK; i++) {
        xin[i] = in[i];
        if (!in[i] || !transform || !transform[i] || in[i]->dtype != DK_F32) continue;
        if ((st = dk_tensor_copy(&copies[i], in[i])) != DK_OK) break;
        int64_t numel = dk_tensor_numel(&copies[i]);
        DK_CHECK_RANGE((float *)copies[i].data, numel);
        set_signs(copies[i].data, numel, transform[i] > 0);
        xin[i] = &copies[i];
    }
    const dk_tensor *shape = &g->values[n->outputs[0]].t;
    if (st == DK_OK) st = dk_tensor_alloc(out, shape->dtype, shape->ndim, shape->dims);
    outs[0] = out;
    for (int o = 1; o < n->n_outputs && st == DK_OK; o++) {
        if (n->outputs[o] < 0) continue;
        const dk_tensor *t = &g->values[n->outputs[o]].t;
        st = dk_tensor_alloc(&extra_out[o], t->dtype, t->ndim, t->dims);
        outs[o] = &extra_out[o];
    }
    dk_node node = *n;
    /* magnitudes of a fused Conv are taken before its activation (see the table) */
    if (transform) node.post.act = DK_OP_NONE;
    if (abs_params) {
        if (n->op == DK_OP_SUB) node.op = DK_OP_ADD;
        if (n->op == DK_OP_GEMM) {
            node.p.gemm.alpha = fabsf(node.p.gemm.alpha);
            node.p.gemm.beta = fabsf(node.p.gemm.beta);
        }
    }
    /* The reference backend: no options, no plans; its life cycle is followed
     * anyway (through the call layer) so that this stays correct if it ever
     * gains them. */
    dk_variant v;
    memset(&v, 0, sizeof v);
    v.backend = b;
    void *ctx = NULL;
    int opened = 0;
    if (st == DK_OK) opened = (st = dk__backend_open(b, &v, &ctx)) == DK_OK;
    if (st == DK_OK) st = dk__backend_run_node(b, ctx, g, (int)(n - g->nodes), &node, xin, outs, NULL, NULL);
    if (opened) dk__backend_close(b, ctx);
    for (int i = 0; i < 8; i++) {
        dk_tensor_reset(&copies[i]);
        dk_tensor_reset(&extra_out[i]);
    }
    if (st != DK_OK) {
        dk_tensor_reset(out);
        return dk__error_prefix(st, "tolerance: absolute reference run of node '%s'", n->name);
    }
    return DK_OK;
}

static dk_status mag_sigmoid(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                             const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data, *y = ref->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double yi = fabs((double)y[i]);
        S[i] = yi;
        C[i] = fabs((double)x[i]) * yi * fabs(1.0 - (double)y[i]);
        A[i] = fabs((double)x[i]) * yi;
    }
    return DK_OK;
}

static dk_status mag_hardsigmoid(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                                 const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data;
    double alpha = fabs((double)n->p.act.alpha), beta = fabs((double)n->p.act.beta);
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) S[i] = alpha * fabs((double)x[i]) + beta;
    return DK_OK;
}

static dk_status mag_hardswish(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                               const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double a = fabs((double)x[i]);
        S[i] = a * (a / 6.0 + 0.5);
    }
    return DK_OK;
}

/* Gemm's S = |alpha| |A||B| + |beta||C| in double, straight from the inputs:
 * the absolute copies the reference would need hold a classifier's whole
 * weight matrix a second time (411 MB for VGG-16's first one). */
static dk_status mag_gemm(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                          const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g, (void)C, (void)A;
    const dk_gemm_params *p = &n->p.gemm;
    DK_TRY(want_f32(n, in[0], "input A"));
    DK_TRY(want_f32(n, in[1], "input B"));
    const dk_tensor *c = n->n_inputs > 2 ? in[2] : NULL;
    if (c) DK_TRY(want_f32(n, c, "input C"));
    if (ref->ndim != 2 || in[0]->ndim != 2 || in[1]->ndim != 2 || (c && c->ndim > 2))
        return dk__error(DK_ERR_SHAPE, "tolerance: node '%s' (Gemm): not 2-D", n->name);
    const int64_t M = ref->dims[0], N = ref->dims[1], K = p->trans_a ? in[0]->dims[0] : in[0]->dims[1];
    const float *a = in[0]->data, *b = in[1]->data;
    const double alpha = fabs((double)p->alpha), beta = fabs((double)p->beta);
    /* C broadcast to [M, N] (unidirectionally, dims aligned right) */
    const int64_t cm = c && c->ndim == 2 ? c->dims[0] : 1, cn = c && c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
#pragma omp parallel for schedule(static) if (M * N * K > 1000000)
    for (int64_t j = 0; j < N; j++)
        for (int64_t i = 0; i < M; i++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) {
                double x = a[p->trans_a ? k * M + i : i * K + k], w = b[p->trans_b ? j * K + k : k * N + j];
                s += fabs(x) * fabs(w);
            }
            double cc = c ? fabs((double)((const float *)c->data)[(cm > 1 ? i : 0) * cn + (cn > 1 ? j : 0)]) : 0;
            S[i * N + j] = alpha * s + beta * cc;
        }
    return DK_OK;
}

static dk_status mag_pow(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                         const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g;
    const dk_tensor *e = in[1];
    if (!e || !e->data)
        return dk__error(DK_ERR_UNSUPPORTED, "tolerance: node '%s' (Pow): no exponent data",
                         n->name);
    const float *y = ref->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double yi = fabs((double)y[i]);
        S[i] = yi;
        if (yi == 0 || !isfinite(yi)) continue; /* exact, or NaN judged by itself */
        double ln = fabs(log(yi));
        double ei = fabs(dk_tensor_get(e, dk__broadcast_index(e, n->p.axis.axis, ref, i)));
        C[i] = (ei + ln) * yi;
        A[i] = (2.0 + DK_TOL_TRANSCENDENTAL_U) * ln * yi;
    }
    return DK_OK;
}

/* sum_j |x_j| of each output element, the inputs broadcast numpy-style
 * (aligned right); divided by K for Mean. */
static dk_status mag_variadic(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                              const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g, (void)C, (void)A;
    const int64_t count = dk_tensor_numel(ref);
    for (int64_t i = 0; i < count; i++) S[i] = 0;
    for (int j = 0; j < n->n_inputs; j++) {
        DK_TRY(want_f32(n, in[j], "an input"));
        const float *x = in[j]->data;
        for (int64_t i = 0; i < count; i++)
            S[i] += fabs((double)x[dk__broadcast_index(in[j], ref->ndim - in[j]->ndim, ref, i)]);
    }
    if (n->op == DK_OP_MEAN)
        for (int64_t i = 0; i < count; i++) S[i] /= n->n_inputs;
    return DK_OK;
}

static dk_status mag_exp(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                         const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g;
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data, *y = ref->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double yi = fabs((double)y[i]);
        S[i] = yi;
        C[i] = A[i] = isinf(yi) ? 0 : fabs((double)x[i]) * yi; /* overflow: judged by itself */
    }
    return DK_OK;
}

static dk_status mag_log(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                         const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g;
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *y = ref->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        S[i] = fabs((double)y[i]);
        C[i] = A[i] = isfinite(y[i]) ? 1.0 : 0.0; /* log 0, log of a negative: exact */
    }
    return DK_OK;
}

static dk_status mag_softplus(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                              const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g;
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data, *y = ref->data;
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double xi = x[i], yi = fabs((double)y[i]);
        S[i] = yi;
        C[i] = fabs(xi) / (1.0 + exp(-xi));
        A[i] = fabs(xi) * (yi < 1 ? yi : 1);
    }
    return DK_OK;
}

static dk_status mag_elu(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                         const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g;
    DK_TRY(want_f32(n, in[0], "input 0"));
    const float *x = in[0]->data, *y = ref->data;
    const double alpha = fabs((double)n->p.act.alpha);
    for (int64_t i = 0, numel = dk_tensor_numel(ref); i < numel; i++) {
        double xi = x[i];
        if (!(xi < 0)) { /* a copy (NaN included) */
            S[i] = C[i] = fabs((double)y[i]);
            A[i] = 0;
            continue;
        }
        double e = exp(xi);
        S[i] = alpha * (e + fabs(e - 1.0));
        C[i] = A[i] = alpha * fabs(xi) * e;
    }
    return DK_OK;
}

/* S of every element, recomputing each block's mean, variance and E[x^2] in
 * double (Scale and B broadcast onto the block as in the kernel). */
static dk_status mag_layernorm(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                               const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g, (void)C, (void)A;
    const dk_tensor *xt = in[0], *st = in[1], *bt = n->n_inputs > 2 ? in[2] : NULL;
    DK_TRY(want_f32(n, xt, "input 0"));
    DK_TRY(want_f32(n, st, "input 1 (Scale)"));
    if (bt) DK_TRY(want_f32(n, bt, "input 2 (B)"));
    const int axis = n->p.layernorm.axis;
    if (axis < 0 || axis >= xt->ndim || dk_tensor_numel(ref) != dk_tensor_numel(xt))
        return dk__error(DK_ERR_SHAPE, "tolerance: node '%s' (LayerNormalization): shapes do "
                         "not match", n->name);
    /* Scale and B as tensors over the block: out = the block's shape */
    dk_tensor block = {.dtype = DK_F32, .ndim = xt->ndim - axis};
    for (int d = 0; d < block.ndim; d++) block.dims[d] = xt->dims[axis + d];
    const int64_t K = dk_tensor_numel(&block), rows = K ? dk_tensor_numel(xt) / K : 0;
    const float *x = xt->data, *s = st->data, *b = bt ? bt->data : NULL;
    const double eps = n->p.layernorm.epsilon;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * K;
        double sum = 0, sum_abs = 0, sum_sq = 0, var = 0;
        for (int64_t j = 0; j < K; j++) {
            sum += xr[j];
            sum_abs += fabs((double)xr[j]);
            sum_sq += (double)xr[j] * xr[j];
        }
        const double mean = sum / (double)K, mean_abs = sum_abs / (double)K;
        for (int64_t j = 0; j < K; j++) var += (xr[j] - mean) * (xr[j] - mean);
        var /= (double)K;
        const double rinv = 1.0 / sqrt(var + eps);
        const double Q = (sum_sq / (double)K + mean * mean) / (var + eps);
        for (int64_t j = 0; j < K; j++) {
            int64_t si = dk__broadcast_index(st, block.ndim - st->ndim, &block, j);
            int64_t bi = bt ? dk__broadcast_index(bt, block.ndim - bt->ndim, &block, j) : 0;
            double a = fabs((double)s[si]) * rinv, bj = b ? fabs((double)b[bi]) : 0.0;
            S[r * K + j] = a * (mean_abs + fabs(xr[j] - mean) * (1.0 + Q)) + bj;
        }
    }
    return DK_OK;
}

/* LayerNormalization's magnitude per (n, c) block of spatial elements. */
static dk_status mag_instancenorm(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                                  const dk_tensor *ref, double *S, double *C, double *A)
{
    (void)g, (void)C, (void)A;
    const dk_tensor *xt = in[0], *st = in[1], *bt = in[2];
    DK_TRY(want_f32(n, xt, "input 0"));
    DK_TRY(want_f32(n, st, "input 1 (scale)"));
    DK_TRY(want_f32(n, bt, "input 2 (B)"));
    if (xt->ndim < 3 || dk_tensor_numel(ref) != dk_tensor_numel(xt) ||
        dk_tensor_numel(st) != xt->dims[1] || dk_tensor_numel(bt) != xt->dims[1])
        return dk__error(DK_ERR_SHAPE, "tolerance: node '%s' (InstanceNormalization): shapes do "
                         "not match", n->name);
    const int64_t K = dk_shape_numel(xt->ndim - 2, xt->dims + 2), channels = xt->dims[1];
    const int64_t rows = K ? dk_tensor_numel(xt) / K : 0;
    const float *x = xt->data, *s = st->data, *b = bt->data;
    const double eps = n->p.inorm.epsilon;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * K;
        double sum = 0, sum_abs = 0, sum_sq = 0, var = 0;
        for (int64_t j = 0; j < K; j++) {
            sum += xr[j];
            sum_abs += fabs((double)xr[j]);
            sum_sq += (double)xr[j] * xr[j];
        }
        const double mean = sum / (double)K, mean_abs = sum_abs / (double)K;
        for (int64_t j = 0; j < K; j++) var += (xr[j] - mean) * (xr[j] - mean);
        var /= (double)K;
        const double rinv = 1.0 / sqrt(var + eps);
        const double Q = (sum_sq / (double)K + mean * mean) / (var + eps);
        const double a = fabs((double)s[r % channels]) * rinv, bj = fabs((double)b[r % channels]);
        for (int64_t j = 0; j < K; j++)
            S[r * K + j] = a * (mean_abs + fabs(xr[j] - mean) * (1.0 + Q)) + bj;
    }
    return DK_OK;
}

static dk_status mag_clip(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                          const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    int64_t count = dk_tensor_numel(ref);
    DK_CHECK_RANGE(S, count);
    DK_CHECK_RANGE(C, count);
    DK_CHECK_RANGE((const float *)in[0]->data, count);
    DK_CHECK_RANGE((const float *)ref->data, count);
    clip_terms(S, C, in[0]->data, ref->data, count);
    return DK_OK;
}

static dk_status mag_softmax(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                             const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    const dk_tensor *xt = in[0];
    const float *x = xt->data, *y = ref->data;
    int axis = n->p.softmax.axis;
    int64_t outer = dk_shape_numel(axis, xt->dims), len, inner;
    if (n->p.softmax.legacy) {
        len = dk_shape_numel(xt->ndim - axis, xt->dims + axis);
        inner = 1;
    } else {
        len = xt->dims[axis];
        inner = dk_shape_numel(xt->ndim - axis - 1, xt->dims + axis + 1);
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            const int64_t base = o * len * inner + j;
            double mx = -INFINITY, mn = INFINITY, weighted = 0;
            for (int64_t k = 0; k < len; k++) {
                double v = x[base + k * inner];
                mx = v > mx ? v : mx;
                mn = v < mn ? v : mn;
                weighted += fabs((double)y[base + k * inner]) * fabs(v);
            }
            double range = mx - mn; /* R = max_j |x_j - max| */
            for (int64_t k = 0; k < len; k++) {
                int64_t i = base + k * inner;
                double yi = fabs((double)y[i]);
                S[i] = yi;
                C[i] = yi * (fabs((double)x[i]) + weighted);
                A[i] = 2.0 * yi * ((mx - x[i]) + range);
            }
        }
    return DK_OK;
}

static dk_status mag_lrn(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                         const dk_tensor *ref, double *S, double *C, double *A)
{
    DK_TRY(want_f32(n, in[0], "input 0"));
    const dk_tensor *xt = in[0];
    if (xt->ndim < 2) return dk__error(DK_ERR_SHAPE, "tolerance: LRN input of rank %d", xt->ndim);
    const float *x = xt->data, *y = ref->data;
    const dk_lrn_params *p = &n->p.lrn;
    int64_t batch = xt->dims[0], channels = xt->dims[1];
    int64_t size = dk_shape_numel(xt->ndim - 2, xt->dims + 2);
    int64_t before = (p->size - 1) / 2, after = p->size - 1 - before;
    double beta = fabs((double)p->beta), scale = (double)p->alpha / (double)p->size;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t c = 0; c < channels; c++) {
            int64_t lo = c - before < 0 ? 0 : c - before;
            int64_t hi = c + after > channels - 1 ? channels - 1 : c + after;
            for (int64_t s = 0; s < size; s++) {
                double sq = 0;
                for (int64_t k = lo; k <= hi; k++) {
                    double v = x[(b * channels + k) * size + s];
                    sq += v * v;
                }
                double t = (double)p->bias + scale * sq;
                int64_t i = (b * channels + c) * size + s;
                double yi = fabs((double)y[i]);
                S[i] = yi;
                C[i] = yi * (1.0 + 2.0 * beta);
                A[i] = t > 0 ? (2.0 + DK_TOL_TRANSCENDENTAL_U) * beta * fabs(log(t)) * yi : 0.0;
            }
        }
    return DK_OK;
}

/* S, C and A of every element of output 0 (C and A zero when the row has none). */
static dk_status magnitudes(const tol_row *r, const dk_graph *g, const dk_node *n,
                            const dk_tensor *const *in, const dk_tensor *ref, double *S,
                            double *C, double *A)
{
    int64_t count = dk_tensor_numel(ref);
    memset(C, 0, sizeof(double) * (size_t)count);
    memset(A, 0, sizeof(double) * (size_t)count);
    DK_TRY(want_f32(n, ref, "the reference output"));
    const float *y = ref->data;
    switch (r->mag) {
    case MAG_ABS_Y:
        abs_of(S, y, count);
        return DK_OK;
    case MAG_FN:
        return r->fn(g, n, in, ref, S, C, A);
    case MAG_ABS_REF: {
        int transform[8] = {0};
        for (int i = 0; i < n->n_inputs && i < 8; i++) transform[i] = r->transform[i];
        if (n->op == DK_OP_CONV && n->post.has_sum) transform[3] = 1; /* fused residual */
        dk_tensor abs_out;
        memset(&abs_out, 0, sizeof abs_out);
        DK_TRY(dk_tolerance_abs_reference(g, n, in, transform, r->abs_params, &abs_out));
        if (dk_tensor_numel(&abs_out) != count || abs_out.dtype != DK_F32) {
            dk_tensor_reset(&abs_out);
            return dk__error(DK_ERR_SHAPE, "tolerance: node '%s': output shapes differ", n->name);
        }
        abs_of(S, abs_out.data, count);
        dk_tensor_reset(&abs_out);
        return DK_OK;
    }
    }
    return DK_OK;
}

dk_status dk_tolerance_magnitude(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                                 const dk_tensor *ref, double *S)
{
    const tol_row *r = find_row(n->op);
    if (!r)
        return dk__error(DK_ERR_UNSUPPORTED, "tolerance: no row for node '%s' (%s)", n->name,
                         dk_op_name(n->op));
    int64_t count = dk_tensor_numel(ref);
    double *C = malloc(sizeof(double) * (size_t)(count + 1));
    double *A = malloc(sizeof(double) * (size_t)(count + 1));
    dk_status st = C && A ? magnitudes(r, g, n, in, ref, S, C, A) : dk__error(DK_ERR_NOMEM, "out of memory");
    free(C);
    free(A);
    return st;
}

dk_status dk__tolerance_bounds_into(const dk_graph *g, const dk_node *n, dk_precision p,
                                    const dk_tensor *const *in, const dk_tensor *ref, double *tol,
                                    double *S, double *C, double *A)
{
    const tol_row *r = find_row(n->op);
    dk_tolerance t;
    DK_TRY(dk_tolerance_for_node(g, n, p, &t));
    DK_TRY(magnitudes(r, g, n, in, ref, S, C, A));
    int64_t count = dk_tensor_numel(ref);
    DK_CHECK_RANGE(tol, count);
    DK_CHECK_RANGE(S, count);
    DK_CHECK_RANGE(C, count);
    DK_CHECK_RANGE(A, count);
    DK_CHECK_RANGE((const float *)ref->data, count);
    combine_terms(tol, &t, S, C, A, ref->data, count);
    return DK_OK;
}

dk_status dk_tolerance_bounds(const dk_graph *g, const dk_node *n, dk_precision p,
                              const dk_tensor *const *in, const dk_tensor *ref, double *tol,
                              double *S)
{
    int64_t count = dk_tensor_numel(ref);
    double *C = malloc(sizeof(double) * (size_t)(count + 1));
    double *A = malloc(sizeof(double) * (size_t)(count + 1));
    dk_status st = C && A ? dk__tolerance_bounds_into(g, n, p, in, ref, tol, S, C, A)
                          : dk__error(DK_ERR_NOMEM, "out of memory");
    free(C);
    free(A);
    return st;
}

/* ---- the check ----------------------------------------------------------------- */

const char *dk_verdict_name(dk_verdict v)
{
    switch (v) {
    case DK_VERDICT_PASSED: return "PASSED";
    case DK_VERDICT_FAILED: return "FAILED";
    case DK_VERDICT_SKIPPED: return "SKIPPED";
    case DK_VERDICT_MISTRUSTED: return "MISTRUSTED";
    }
    return "?";
}

/* "[0,3,5,7]" for flat index i of a tensor of this shape. */
static void index_str(const dk_tensor *t, int64_t i, char *buf, size_t n)
{
    int64_t idx[DK_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = t->dims[d] ? i % t->dims[d] : 0;
        i = t->dims[d] ? i / t->dims[d] : 0;
    }
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < t->ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? "," : "", (long long)idx[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

/* An output of another type than float32 (Cast's): only an exact row can
 * judge it, element by element, bit for bit (NaN equals NaN). The row is the
 * float32 one in every precision: reduced precision (bf16, tf32, fp16) rounds
 * float32 operands, and no backend computes integer or float64 outputs in it. */
static dk_status check_exact_typed(const dk_graph *g, const dk_node *n, dk_precision p,
                                   const dk_tensor *ref, const dk_tensor *y, dk_tol_result *res)
{
    (void)p;
    DK_TRY(dk_tolerance_for_node(g, n, DK_PREC_FP32, &res->tol));
    if (!res->tol.exact || y->dtype != ref->dtype || dk_tensor_numel(ref) != dk_tensor_numel(y))
        return dk__error(DK_ERR_UNSUPPORTED, "tolerance: node '%s' (%s): a %s output can only be "
                         "compared exactly (%s candidate, %s)", n->name, dk_op_name(n->op),
                         dk_dtype_name(ref->dtype), dk_dtype_name(y->dtype),
                         res->tol.exact ? "same count" : "inexact row");
    const int64_t count = dk_tensor_numel(ref);
    const size_t es = dk_dtype_size(ref->dtype);
    res->count = count;
    for (int64_t i = 0; i < count; i++) {
        double rv = dk_tensor_get(ref, i), cv = dk_tensor_get(y, i);
        if (rv == 0) res->zeros++;
        if (!memcmp((const char *)ref->data + i * (int64_t)es, (const char *)y->data + i * (int64_t)es, es) ||
            (isnan(rv) && isnan(cv)))
            continue;
        if (res->violations++ == 0) {
            res->worst = i;
            res->worst_ratio = INFINITY;
            res->worst_y = cv;
            res->worst_ref = rv;
        }
    }
    char where[96] = "";
    if (res->worst >= 0) index_str(ref, res->worst, where, sizeof where);
    if (res->violations > 0) {
        res->verdict = DK_VERDICT_FAILED;
        snprintf(res->explain, sizeof res->explain, "%lld of %lld %s elements differ; first %s: "
                 "%.17g, reference %.17g (exact row)", (long long)res->violations,
                 (long long)count, dk_dtype_name(ref->dtype), where, res->worst_y, res->worst_ref);
    } else if (count == 0 || (double)res->zeros > DK_TOL_MISTRUST_ZERO_FRACTION * (double)count) {
        res->verdict = DK_VERDICT_MISTRUSTED;
        snprintf(res->explain, sizeof res->explain,
                 "identical, but %lld of %lld reference elements are zero: the comparison "
                 "proves little", (long long)res->zeros, (long long)count);
    } else {
        res->verdict = DK_VERDICT_PASSED;
        snprintf(res->explain, sizeof res->explain, "identical %s (exact row)",
                 dk_dtype_name(ref->dtype));
    }
    return DK_OK;
}

dk_status dk_tolerance_check(const dk_graph *g, const dk_node *n, dk_precision p,
                             const dk_tensor *const *in, const dk_tensor *ref,
                             const dk_tensor *y, dk_tol_result *res)
{
    memset(res, 0, sizeof *res);
    res->worst = -1;
    if (ref && y && ref->data && y->data && ref->dtype != DK_F32)
        return check_exact_typed(g, n, p, ref, y, res);
    DK_TRY(want_f32(n, ref, "the reference output"));
    DK_TRY(want_f32(n, y, "the candidate output"));
    if (dk_tensor_numel(ref) != dk_tensor_numel(y)) {
        char a[96], b[96];
        return dk__error(DK_ERR_SHAPE, "tolerance: node '%s': reference output %s, candidate %s",
                         n->name, dk_shape_str(ref->ndim, ref->dims, a, sizeof a),
                         dk_shape_str(y->ndim, y->dims, b, sizeof b));
    }
    DK_TRY(dk_tolerance_for_node(g, n, p, &res->tol));
    int64_t count = dk_tensor_numel(ref);
    double *tol = malloc(sizeof(double) * (size_t)(count + 1));
    double *S = malloc(sizeof(double) * (size_t)(count + 1));
    dk_status st = tol && S ? dk_tolerance_bounds(g, n, p, in, ref, tol, S)
                            : dk__error(DK_ERR_NOMEM, "out of memory");
    if (st != DK_OK) {
        free(tol);
        free(S);
        return st;
    }
    const double u = precisions[p].u;
    const float *r = ref->data, *c = y->data;
    double sum_d2 = 0, sum_r2 = 0;
    res->count = count;
    for (int64_t i = 0; i < count; i++) {
        double rv = r[i], cv = c[i], ratio, norm;
        if (rv == 0) res->zeros++;
        if (isnan(rv) || isnan(cv) || isinf(rv) || isinf(cv)) {
            int same = (isnan(rv) && isnan(cv)) || rv == cv;
            ratio = norm = same ? 0.0 : INFINITY;
        } else {
            double d = fabs(cv - rv);
            sum_d2 += d * d;
            sum_r2 += rv * rv;
            if (d > res->max_abs) res->max_abs = d;
            ratio = d == 0 ? 0.0 : tol[i] > 0 ? d / tol[i] : INFINITY;
            norm = d == 0 ? 0.0 : S[i] > 0 ? d / (u * S[i]) : INFINITY;
        }
        if (!(ratio <= 1.0)) res->violations++;
        if (norm > res->max_norm) res->max_norm = norm;
        if (res->worst < 0 || ratio > res->worst_ratio) {
            res->worst_ratio = ratio;
            res->worst = i;
        }
    }
    res->rel_l2 = sum_r2 > 0 ? sqrt(sum_d2 / sum_r2) : sqrt(sum_d2);
    char where[96] = "";
    if (res->worst >= 0) {
        res->worst_y = c[res->worst];
        res->worst_ref = r[res->worst];
        res->worst_tol = tol[res->worst];
        res->worst_scale = S[res->worst];
        index_str(ref, res->worst, where, sizeof where);
    }
    const char *pname = precisions[p].name;
    if (res->violations > 0) {
        res->verdict = DK_VERDICT_FAILED;
        int len = snprintf(res->explain, sizeof res->explain,
                           "%lld of %lld elements over the bound; worst %s: %.9g, reference %.9g, |error| "
                           "%.3g = %.3g x bound %.3g (%s, K %lld, n %g)",
                           (long long)res->violations, (long long)count, where, res->worst_y, res->worst_ref,
                           fabs(res->worst_y - res->worst_ref), res->worst_ratio, res->worst_tol, pname,
                           (long long)res->tol.K, res->tol.n);
        if (len >= (int)sizeof res->explain) /* a rank-8 index can overflow the line: say it was cut */
            memcpy(res->explain + sizeof res->explain - 4, "...", 4);
    } else if (count == 0 || (double)res->zeros > DK_TOL_MISTRUST_ZERO_FRACTION * (double)count) {
        res->verdict = DK_VERDICT_MISTRUSTED;
        snprintf(res->explain, sizeof res->explain,
                 "within the bound, but %lld of %lld reference elements are zero: the comparison "
                 "proves little", (long long)res->zeros, (long long)count);
    } else {
        res->verdict = DK_VERDICT_PASSED;
        snprintf(res->explain, sizeof res->explain,
                 "worst ratio %.3g at %s (|error| %.3g, bound %.3g); %.3g u*S; %s, K %lld, n %g",
                 res->worst_ratio, where, fabs(res->worst_y - res->worst_ref), res->worst_tol,
                 res->max_norm, pname, (long long)res->tol.K, res->tol.n);
    }
    free(tol);
    free(S);
    return DK_OK;
}
