/* deltakern — the tolerance table: how far a backend's output may lie from
 * the reference's, per op and precision, and the check that applies it.
 *
 * The error metric. For every output element i the allowed error is
 *
 *     |y_i - ref_i| <= tol_i = c * S_i  (+ small terms, see check/tolerance.c)
 *
 * where S_i is the same computation on absolute values (for a convolution
 * S = sum |w||x| + |b|, computed by the reference backend, which accumulates in
 * double) and c comes from the op's reduction length K and the precision's
 * unit roundoffs: c = gamma_n(u) = n*u / (1 - n*u), n = K + the op's other
 * roundings. That is the classic worst-case bound of recursive summation; it
 * holds for every summation order, blocking and with or without FMA, so the
 * constant in front is 1 and no factor is fitted to measurements. The
 * derivation of every op's n and S is written beside the table in
 * check/tolerance.c.
 *
 * Reported per comparison: the worst normalised error max_i |y_i - ref_i| /
 * (u * S_i) (in units of the precision's unit roundoff u times the magnitude),
 * the worst ratio max_i |y_i - ref_i| / tol_i (pass: <= 1), the largest
 * absolute error and the relative L2 error ||y - ref|| / ||ref||.
 *
 * Ownership: plain structs and static strings, nothing to free. */
#ifndef DELTAKERN_TOLERANCE_H
#define DELTAKERN_TOLERANCE_H

#include <stddef.h>
#include <stdint.h>

#include "deltakern/graph.h"
#include "deltakern/status.h"
#include "deltakern/tensor.h"
#include "deltakern/variant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The arithmetic a variant computes in (its row of the table). */
typedef enum dk_precision {
    DK_PREC_FP32 = 0, /* float32 throughout */
    DK_PREC_BF16,     /* inputs and weights rounded to bfloat16, float32 accumulation
                         (oneDNN fpmath=bf16) */
    DK_PREC_TF32,     /* inputs rounded to TensorFloat-32, float32 accumulation (GPU) */
    DK_PREC_FP16,     /* float16 inputs and output, float32 accumulation (GPU) */
    DK_PREC_COUNT
} dk_precision;

/* A precision's unit roundoffs. u is the headline value that normalised
 * errors are expressed in; the bound uses the other three. */
typedef struct dk_precision_info {
    dk_precision prec;
    const char *name;    /* "fp32", "bf16", "tf32", "fp16" */
    double u;            /* unit roundoff of the format (2^-24, 2^-8, 2^-11, 2^-11) */
    double u_in;         /* relative error of rounding an input or weight (0: not rounded) */
    double u_acc;        /* unit roundoff of the arithmetic (accumulation) */
    double u_out;        /* relative error of rounding the output (0: stays float32) */
    double eta_acc;      /* absolute error of one operation in the underflow range */
    double eta_io;       /* absolute error of rounding one operand or the output in the
                            underflow range */
    const char *why;     /* one line: where these numbers come from */
} dk_precision_info;

const dk_precision_info *dk_precision_get(dk_precision p);
/* Precision by name ("fp32", "bf16", "tf32", "fp16"); DK_ERR_INVALID otherwise. */
dk_status dk_precision_from_name(const char *name, dk_precision *out);
/* The precision a variant computes in: the option fpmath (any backend) set to
 * bf16, tf32 or fp16 selects that row; everything else is fp32. */
dk_precision dk_variant_precision(const dk_variant *v);

/* The data-independent part of a node's bound. */
typedef struct dk_tolerance {
    dk_op op;
    dk_precision prec;
    int64_t K;           /* reduction length taken from the node (1 when none) */
    double n;            /* roundings in sequence: K plus the op's other operations */
    int m;               /* rounded operands per product term (input rounding) */
    double c;            /* coefficient of S: e_in + gamma_n(u_acc) (1 + e_in) + gamma_n(2^-53),
                            e_in = (1 + u_in)^m - 1 */
    double c_in;         /* first-order input-rounding coefficient (u_in) for ops whose
                            input sensitivity is not m*S (Sigmoid, Softmax, LRN, Clip) */
    double c_a;          /* coefficient of the op's extra arithmetic term A (Sigmoid,
                            Softmax, LRN: errors in exp's argument): u_acc (1 + e_in) */
    double c_out;        /* coefficient of |ref|: the output rounding plus the
                            reference's own rounding to float32 */
    double floor;        /* absolute allowance for underflow (0 for exact ops) */
    int exact;           /* 1: no rounding at all, outputs must match bit for bit */
    const char *rule;    /* one line: K, n and S of this op */
} dk_tolerance;

/* The bound's coefficients for node n of g in precision p. DK_ERR_UNSUPPORTED
 * for ops the table has no row for. */
dk_status dk_tolerance_for_node(const dk_graph *g, const dk_node *n, dk_precision p,
                                dk_tolerance *out);

/* The data-independent part of the bound for op with reduction length K in
 * precision p, without a node (for printing the table): optional inputs (bias,
 * C) present, other parameters typical (LRN beta 0.75). DK_ERR_UNSUPPORTED for
 * ops without a row. */
dk_status dk_tolerance_typical(dk_op op, dk_precision p, int64_t K, dk_tolerance *out);

/* The coefficient of the whole bound relative to S for op with reduction
 * length K in precision p, assuming the worst case |y| = S, C = S and A = 0:
 * c + c_in + c_out (from dk_tolerance_typical). */
dk_status dk_tolerance_coefficient(dk_op op, dk_precision p, int64_t K, double *c);

/* gamma_n(u) = n u / (1 - n u): the worst-case relative error of n roundings
 * in sequence (Higham, Accuracy and Stability of Numerical Algorithms, 3.4);
 * +infinity when n u >= 1. */
double dk_gamma(double n, double u);

/* The state of one comparison (after benchdnn). */
typedef enum dk_verdict {
    DK_VERDICT_PASSED = 0,
    DK_VERDICT_FAILED,
    DK_VERDICT_SKIPPED,    /* backend unavailable or op unsupported: nothing compared */
    DK_VERDICT_MISTRUSTED  /* within the bound, but the reference is nearly all zero, so
                              the comparison proves little */
} dk_verdict;

const char *dk_verdict_name(dk_verdict v); /* "PASSED", "FAILED", ... */

/* Share of exactly-zero reference elements above which a pass is MISTRUSTED. */
#define DK_TOL_MISTRUST_ZERO_FRACTION 0.8

typedef struct dk_tol_result {
    dk_verdict verdict;
    dk_tolerance tol;
    int64_t count;        /* elements compared */
    int64_t violations;   /* elements over their bound (NaN mismatches included) */
    int64_t zeros;        /* exactly-zero reference elements */
    double max_abs;       /* max |y - ref| over finite pairs */
    double rel_l2;        /* ||y - ref||_2 / ||ref||_2 (0 when both are 0) */
    double max_norm;      /* max |y - ref| / (u * S) (u of the precision; inf where S = 0
                             and the error is not) */
    double worst_ratio;   /* max |y - ref| / tol (pass: <= 1; inf where tol = 0 and the
                             error is not) */
    int64_t worst;        /* element with the worst ratio (-1 when none) */
    double worst_y, worst_ref, worst_tol, worst_scale;
    char explain[256];    /* one line, e.g. "worst element 17: 0.125 vs 0.12500001, ..." */
} dk_tol_result;

/* Transform-based convolutions (Winograd, FFT) err by more than gamma_K S:
 * the transforms amplify rounding, by factors the library's hidden tile sizes
 * decide. A plan that declares one is held to a looser bound instead,
 * |y - ref| <= sqrt(u) S per element (half the precision's digits), which an
 * index or data error still breaks by orders of magnitude: a result's
 * max_norm must not exceed this limit, 1 / sqrt(u). */
double dk_tolerance_transform_norm_limit(dk_precision p);

/* Is r over the table's bound but within that looser one? What a plan that
 * declares a transform is accepted by (the op suite, sweep; diff applies the
 * same limit element by element). */
int dk_tolerance_transform_accepts(const dk_tol_result *r, dk_precision p);

/* Judges output 0 of node n: `in` are the node's input tensors as the backend
 * received them (NULL for omitted optional inputs), `ref` the reference
 * backend's output and `y` the candidate's (both float32 of the node's output
 * shape). The magnitudes S are computed by running the reference backend on
 * absolute values (see dk_tolerance_magnitude). Fills *res and returns DK_OK
 * whatever the verdict; an error status only when the check itself cannot run. */
dk_status dk_tolerance_check(const dk_graph *g, const dk_node *n, dk_precision p,
                             const dk_tensor *const *in, const dk_tensor *ref,
                             const dk_tensor *y, dk_tol_result *res);

/* The per-element bounds and magnitudes behind dk_tolerance_check: tol[i] and
 * S[i] for every element of output 0 (arrays of its element count), given the
 * node's inputs and the reference output. */
dk_status dk_tolerance_bounds(const dk_graph *g, const dk_node *n, dk_precision p,
                              const dk_tensor *const *in, const dk_tensor *ref, double *tol,
                              double *S);

/* The magnitude S of every element of output 0: the node computed on absolute
 * values by the reference backend (conv, gemm, matmul, pools, BatchNorm,
 * binaries, ReduceMean) or an op-specific formula (activations, Softmax, LRN,
 * data movement: |ref|). S has the output's element count. */
dk_status dk_tolerance_magnitude(const dk_graph *g, const dk_node *n, const dk_tensor *const *in,
                                 const dk_tensor *ref, double *S);

/* Runs the reference backend's kernel for node n on transformed inputs:
 * transform[i] is 0 (as is), 1 (|x|) or -1 (-|x|) for float32 input i
 * (transform NULL: every input as is, i.e. the plain reference run); with
 * abs_params the node's signed scalar parameters (Gemm alpha/beta) are made
 * absolute and Sub runs as Add. out is allocated like output 0. This is the
 * "absolute" reference run that S comes from. */
dk_status dk_tolerance_abs_reference(const dk_graph *g, const dk_node *n,
                                     const dk_tensor *const *in, const int *transform,
                                     int abs_params, dk_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
