/* Internal: the rows of the tolerance table (check/tolerance.c), for
 * printing the table with its derivation and for the unit tests. The API that
 * applies the table is public: include/deltakern/tolerance.h. */
#ifndef DK_CHECK_TOLERANCE_H
#define DK_CHECK_TOLERANCE_H

#include "deltakern/tolerance.h"

/* Relative error allowed for one transcendental evaluation (exp, log, pow), in
 * units of the arithmetic's unit roundoff: 4 ulps, and one ulp is at most 2u
 * relative. See the derivation in check/tolerance.c. */
#define DK_TOL_TRANSCENDENTAL_U 8.0

/* The reference's own arithmetic: double, unit roundoff 2^-53. */
#define DK_TOL_U_DOUBLE 0x1p-53
/* The reference's one rounding of its double result to float32. */
#define DK_TOL_U_REF 0x1p-24

/* dk_tolerance_bounds with the caller's scratch: C and A hold numel(ref)
 * doubles each (their contents on return are of no use). A caller bounding
 * node after node reuses them, and so its memory is not faulted in again
 * for every node. */
dk_status dk__tolerance_bounds_into(const dk_graph *g, const dk_node *n, dk_precision p,
                                    const dk_tensor *const *in, const dk_tensor *ref, double *tol,
                                    double *S, double *C, double *A);

/* One row as text: op, how K is read from the node, n (roundings in
 * sequence), m (rounded operands per term), S (the magnitude) and why. */
typedef struct dk__tol_row_text {
    dk_op op;
    const char *k;
    const char *n;
    int m;
    const char *s;
    const char *why;
} dk__tol_row_text;

/* Row i of the table (i from 0), NULL past the end. */
const dk__tol_row_text *dk__tolerance_row(int i);

#endif
