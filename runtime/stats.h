/* Internal: distribution-free statistics of benchmark samples.
 *
 * Repetition times are skewed (a floor plus a tail of interruptions), so
 * everything here is rank-based: medians and quantiles, the order-statistic
 * confidence interval of the median, the Mann–Whitney U test and the
 * Hodges–Lehmann estimate of a shift with its confidence interval (the
 * inversion of that test). Ratios are shifts of log times.
 *
 * No function keeps the caller's arrays; those that need sorted data copy. */
#ifndef DK_RUNTIME_STATS_H
#define DK_RUNTIME_STATS_H

#include <stddef.h>
#include "deltakern/status.h"

/* Summary of one sample. ci_lo/ci_hi bracket the median with the coverage
 * ci_level (>= 0.95 when n >= 6; below 6 samples no pair of order statistics
 * reaches 95%, and [min, max] is returned with its true, lower, coverage). */
typedef struct dk_stats {
    int n;
    double median, p10, p90, mean, sd, cv, min, max;
    double ci_lo, ci_hi, ci_level;
} dk_stats;

/* q-quantile of sorted x[0..n-1] (n >= 1), linear interpolation between
 * order statistics (Hyndman & Fan type 7, R's default). */
double dk_stats_quantile_sorted(const double *x, int n, double q);

/* Order-statistic confidence interval of the median at level >= conf:
 * 1-based ranks *lo, *hi = n + 1 - *lo of the largest symmetric pair whose
 * binomial(n, 1/2) coverage is >= conf, and that coverage in *level. When no
 * pair reaches conf (small n), *lo = 1, *hi = n. */
void dk_stats_median_ci_ranks(int n, double conf, int *lo, int *hi, double *level);

/* Fills s from x[0..n-1] (n >= 1). DK_ERR_NOMEM or DK_ERR_INVALID (n < 1). */
dk_status dk_stats_describe(const double *x, int n, dk_stats *s);

/* Mann–Whitney U test of x (n1) against y (n2).
 * u: U of x = #{(i,j): x_i > y_j} + #{ties}/2. p: two-sided p-value: exact
 * (permutation distribution) when there are no ties and n1 * n2 <= 400,
 * otherwise the normal approximation with tie correction and continuity
 * correction (as R's wilcox.test). z: the standardised statistic (0 when
 * exact). exact: 1 when p is exact. */
typedef struct dk_mw {
    double u, z, p;
    int exact;
} dk_mw;
dk_status dk_stats_mann_whitney(const double *x, int n1, const double *y, int n2, dk_mw *out);

/* Hodges–Lehmann estimate of the shift y - x (median of the n1*n2 pairwise
 * differences y_j - x_i) and its confidence interval at level conf:
 * (D_(k), D_(n1 n2 + 1 - k)) with k from the Mann–Whitney null distribution
 * (exact for small samples, normal approximation otherwise; Hollander &
 * Wolfe, Nonparametric Statistical Methods, section 4.3). */
typedef struct dk_shift {
    double estimate, lo, hi;
} dk_shift;
dk_status dk_stats_hodges_lehmann(const double *x, int n1, const double *y, int n2, double conf,
                                  dk_shift *out);

/* Ratio y/x of two positive samples: Hodges–Lehmann on log values,
 * exponentiated. */
dk_status dk_stats_ratio(const double *x, int n1, const double *y, int n2, double conf,
                         dk_shift *out);

/* Holm's step-down adjustment of m p-values (in place): family-wise error
 * control under any dependence between the tests. */
dk_status dk_stats_holm(double *p, int m);

/* Share of each part in the total change: share[i] = delta[i] / sum |delta|,
 * so the shares' magnitudes add up to 1 and a part that went the other way
 * has a negative share. Dividing by the net sum instead breaks down exactly
 * when it matters: one real change among many small ones of either sign
 * (noise, memory placement) whose net is near zero would get a share of
 * several hundred percent, of either sign. When all are zero, every share is 0. */
void dk_stats_shares(const double *delta, int n, double *share);

/* Standard normal: upper tail Q(z) = P(Z > z) and its inverse. */
double dk_stats_normal_upper(double z);
double dk_stats_normal_quantile(double p);

#endif
