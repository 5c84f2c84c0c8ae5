/* Unit tests for the benchmark statistics (runtime/stats.c) against known
 * answers: R's documented examples, textbook tables and values enumerated
 * independently (all permutations, all pairwise differences) with plain
 * Python — never numbers produced by the code under test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/stats.h"
#include "test_util.h"

static void assert_near(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) fail_msg("%s: %.17g, expected %.17g (tol %g)", what, got, want, tol);
}

/* R: quantile(1:10, c(.1, .5, .9)) = 1.9, 5.5, 9.1 (type 7, R's default). */
static void test_quantiles(void **state)
{
    (void)state;
    double x[10];
    for (int i = 0; i < 10; i++) x[i] = i + 1;
    assert_near("p10", dk_stats_quantile_sorted(x, 10, 0.1), 1.9, 1e-12);
    assert_near("p50", dk_stats_quantile_sorted(x, 10, 0.5), 5.5, 1e-12);
    assert_near("p90", dk_stats_quantile_sorted(x, 10, 0.9), 9.1, 1e-12);
    assert_near("one sample", dk_stats_quantile_sorted(x, 1, 0.9), 1, 0);
}

/* The classic example 2,4,4,4,5,5,7,9: mean 5, population sd 2, sample sd
 * sqrt(32/7) = 2.1380899352993950, CV 0.42761798705987900. Given unsorted. */
static void test_describe(void **state)
{
    (void)state;
    const double x[] = {9, 4, 2, 5, 4, 7, 4, 5};
    dk_stats s;
    assert_int_equal(dk_stats_describe(x, 8, &s), DK_OK);
    assert_int_equal(s.n, 8);
    assert_near("mean", s.mean, 5, 1e-12);
    assert_near("sd", s.sd, 2.1380899352993950, 1e-12);
    assert_near("cv", s.cv, 0.42761798705987900, 1e-12);
    assert_near("median", s.median, 4.5, 0);
    assert_near("min", s.min, 2, 0);
    assert_near("max", s.max, 9, 0);
    /* n = 8: ranks 1 and 8 (P(B <= 0) = 1/256; P(B <= 1) = 9/256 > 0.025) */
    assert_near("ci lo", s.ci_lo, 2, 0);
    assert_near("ci hi", s.ci_hi, 9, 0);
    assert_near("ci level", s.ci_level, 1 - 2.0 / 256, 1e-12);
    assert_int_equal(dk_stats_describe(x, 0, &s), DK_ERR_INVALID);
}

/* Order-statistic CI of the median (Conover, Practical Nonparametric
 * Statistics, 3rd ed., section 3.2; Campbell & Gardner, BMJ 1988, table):
 * the lower rank r is the largest with P(B <= r-1) <= 0.025, B ~ Bin(n, 1/2).
 * Coverages 1 - 2 P(B <= r-1) from exact binomial sums (Python math.comb). */
static void test_median_ci_ranks(void **state)
{
    (void)state;
    static const struct { int n, lo, hi; double level; } cases[] = {
        {6, 1, 6, 0.96875},
        {10, 2, 9, 0.978515625},
        {20, 6, 15, 0.9586105346679688},
        {100, 40, 61, 0.9647997997822952},
        {1000, 469, 532, 0.9537088026395019},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int lo, hi;
        double level;
        dk_stats_median_ci_ranks(cases[i].n, 0.95, &lo, &hi, &level);
        char what[64];
        snprintf(what, sizeof what, "n=%d lower rank", cases[i].n);
        assert_near(what, lo, cases[i].lo, 0);
        snprintf(what, sizeof what, "n=%d upper rank", cases[i].n);
        assert_near(what, hi, cases[i].hi, 0);
        snprintf(what, sizeof what, "n=%d coverage", cases[i].n);
        assert_near(what, level, cases[i].level, 1e-9);
    }
    /* n = 5: no pair reaches 95%; [min, max] covers 1 - 2/32 */
    int lo, hi;
    double level;
    dk_stats_median_ci_ranks(5, 0.95, &lo, &hi, &level);
    assert_int_equal(lo, 1);
    assert_int_equal(hi, 5);
    assert_near("n=5 coverage", level, 0.9375, 1e-12);
}

/* R's ?wilcox.test example (Hollander & Wolfe 1973, p. 69): permeability
 * constants. wilcox.test(x, y, alternative = "greater") gives W = 35,
 * p = 0.1272; the exact two-sided p is twice that (0.2544122544122544 by
 * enumerating all C(15,5) = 3003 rank sets). */
static const double hw_x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
static const double hw_y[] = {1.15, 0.88, 0.90, 0.74, 1.21};

static void test_mann_whitney_exact(void **state)
{
    (void)state;
    dk_mw mw;
    assert_int_equal(dk_stats_mann_whitney(hw_x, 10, hw_y, 5, &mw), DK_OK);
    assert_near("U", mw.u, 35, 0);
    assert_true(mw.exact);
    assert_near("p", mw.p, 0.2544122544122544, 1e-12);
    /* symmetric: y against x gives U' = n1 n2 - U and the same p */
    assert_int_equal(dk_stats_mann_whitney(hw_y, 5, hw_x, 10, &mw), DK_OK);
    assert_near("U'", mw.u, 15, 0);
    assert_near("p'", mw.p, 0.2544122544122544, 1e-12);
}

/* With ties: the normal approximation with continuity correction and the tie-
 * corrected variance. The variance 334.88 is the exact permutation variance
 * of the x rank sum over midranks (finite-population formula n1 (1 - n1/N) S^2),
 * computed independently in Python; z = (30.5 - 78 + 0.5) / sqrt(334.88). */
static void test_mann_whitney_ties(void **state)
{
    (void)state;
    const double x[] = {1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 7, 8};
    const double y[] = {3, 4, 4, 5, 6, 6, 8, 9, 9, 10, 11, 12, 12};
    dk_mw mw;
    assert_int_equal(dk_stats_mann_whitney(x, 12, y, 13, &mw), DK_OK);
    assert_false(mw.exact);
    assert_near("U", mw.u, 30.5, 0);
    assert_near("z", mw.z, -2.568344357304348, 1e-12);
    assert_near("p", mw.p, 0.010218558899158693, 1e-12);
    /* all values equal: no evidence at all */
    const double same[] = {1, 1, 1};
    assert_int_equal(dk_stats_mann_whitney(same, 3, same, 3, &mw), DK_OK);
    assert_near("p equal", mw.p, 1, 0);
}

/* Large samples without ties (625 pairs > the exact limit): x = 1..25,
 * y = x + 3.5. U = 231 by counting pairs; z = (231 - 312.5 + 0.5) /
 * sqrt(25*25*51/12) = -1.5716308502354377, two-sided p = 0.11603618751300346. */
static void test_mann_whitney_normal(void **state)
{
    (void)state;
    double x[25], y[25];
    for (int i = 0; i < 25; i++) {
        x[i] = i + 1;
        y[i] = i + 1 + 3.5;
    }
    dk_mw mw;
    assert_int_equal(dk_stats_mann_whitney(x, 25, y, 25, &mw), DK_OK);
    assert_false(mw.exact);
    assert_near("U", mw.u, 231, 0);
    assert_near("z", mw.z, -1.5716308502354377, 1e-12);
    assert_near("p", mw.p, 0.11603618751300346, 1e-12);
}

/* Hodges–Lehmann shift y - x and its 95% interval on the R example: the 50
 * pairwise differences sorted; k = qwilcox(0.025, 10, 5) = 9 from the
 * enumerated null distribution; interval (D_(9), D_(42)) = (-0.76, 0.15),
 * estimate -0.305 (R reports the x - y shift: 0.305, (-0.15, 0.76)). */
static void test_hodges_lehmann(void **state)
{
    (void)state;
    dk_shift s;
    assert_int_equal(dk_stats_hodges_lehmann(hw_x, 10, hw_y, 5, 0.95, &s), DK_OK);
    assert_near("estimate", s.estimate, -0.305, 1e-12);
    assert_near("lo", s.lo, -0.76, 1e-12);
    assert_near("hi", s.hi, 0.15, 1e-12);
    /* large samples: k = floor(312.5 - 1.959963984540054 * sqrt(2656.25)) = 211
     * (Hollander & Wolfe's approximation); (D_(211), D_(415)) = (-0.5, 7.5) */
    double x[25], y[25];
    for (int i = 0; i < 25; i++) {
        x[i] = i + 1;
        y[i] = i + 1 + 3.5;
    }
    assert_int_equal(dk_stats_hodges_lehmann(x, 25, y, 25, 0.95, &s), DK_OK);
    assert_near("estimate 25", s.estimate, 3.5, 1e-12);
    assert_near("lo 25", s.lo, -0.5, 1e-12);
    assert_near("hi 25", s.hi, 7.5, 1e-12);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The estimate and interval are order statistics of all pairwise differences
 * (found without forming them): against those differences formed and sorted
 * here, on random samples with many ties and negative values, bit for bit. */
static void test_hodges_lehmann_random(void **state)
{
    (void)state;
    tu_init("hodges_lehmann_random");
    for (int trial = 0; trial < 40; trial++) {
        int n1 = (int)tu_rng_int(1, 60), n2 = (int)tu_rng_int(1, 60);
        double x[60], y[60], d[3600];
        int coarse = trial % 2; /* few distinct values: ties */
        for (int i = 0; i < n1; i++) x[i] = coarse ? (double)tu_rng_int(-3, 3) : tu_rng_uniform(-5, 5);
        for (int j = 0; j < n2; j++) y[j] = coarse ? (double)tu_rng_int(-2, 4) : tu_rng_uniform(-4, 6);
        int pairs = n1 * n2, m = 0;
        for (int i = 0; i < n1; i++)
            for (int j = 0; j < n2; j++) d[m++] = y[j] - x[i];
        qsort(d, (size_t)pairs, sizeof *d, cmp_d);
        double h = (pairs - 1) * 0.5;
        int mid = (int)floor(h);
        double want = mid >= pairs - 1 ? d[pairs - 1] : d[mid] + (h - mid) * (d[mid + 1] - d[mid]);
        dk_shift s;
        assert_int_equal(dk_stats_hodges_lehmann(x, n1, y, n2, 0.95, &s), DK_OK);
        if (s.estimate != want) fail_msg("trial %d (%dx%d): estimate %.17g, expected %.17g", trial, n1, n2, s.estimate, want);
        /* the interval is symmetric in rank: (D_(k), D_(pairs + 1 - k)) */
        int k = 0;
        while (k < pairs && d[k] != s.lo) k++;
        if (k == pairs) fail_msg("trial %d: lo %.17g is no pairwise difference", trial, s.lo);
        int k_last = k;
        while (k_last + 1 < pairs && d[k_last + 1] == s.lo) k_last++;
        int found = 0; /* some rank kk in lo's tie run has D_(pairs - kk) == hi */
        for (int kk = k; kk <= k_last; kk++) found |= d[pairs - 1 - kk] == s.hi;
        if (!found) fail_msg("trial %d: hi %.17g is not at the rank mirroring lo %.17g", trial, s.hi, s.lo);
    }
}

/* Many p-values (a result file with thousands of nodes), with ties: Holm's
 * adjustment against its definition, computed here pair by pair:
 * adj_i = max over j with p_j <= p_i (ties: j before i) of min(1, (m - rank_j) p_j). */
static void test_holm_many(void **state)
{
    (void)state;
    enum { M = 3000 };
    tu_init("holm_many");
    static double p[M], orig[M];
    for (int i = 0; i < M; i++) orig[i] = p[i] = (double)tu_rng_int(0, 500) / 100000;
    assert_int_equal(dk_stats_holm(p, M), DK_OK);
    static int rank[M]; /* 0-based position in the order by (p, index) */
    for (int i = 0; i < M; i++) {
        rank[i] = 0;
        for (int j = 0; j < M; j++)
            if (orig[j] < orig[i] || (orig[j] == orig[i] && j < i)) rank[i]++;
    }
    for (int i = 0; i < M; i++) {
        double want = 0;
        for (int j = 0; j < M; j++)
            if (rank[j] <= rank[i]) want = fmax(want, fmin(1, (M - rank[j]) * orig[j]));
        if (p[i] != want) fail_msg("p[%d] = %g adjusted to %.17g, expected %.17g", i, orig[i], p[i], want);
    }
}

/* The ratio is the shift of log values: on the R example, from the sorted
 * 50 log differences (Python): 0.7623304256784819, (0.5103448275862069,
 * 1.1634615384615383). */
static void test_ratio(void **state)
{
    (void)state;
    dk_shift r;
    assert_int_equal(dk_stats_ratio(hw_x, 10, hw_y, 5, 0.95, &r), DK_OK);
    assert_near("ratio", r.estimate, 0.7623304256784819, 1e-12);
    assert_near("ratio lo", r.lo, 0.5103448275862069, 1e-12);
    assert_near("ratio hi", r.hi, 1.1634615384615383, 1e-12);
    const double bad[] = {1, 0, 2};
    assert_int_equal(dk_stats_ratio(hw_x, 10, bad, 3, 0.95, &r), DK_ERR_INVALID);
}

/* Holm by hand (R: p.adjust(c(.01, .04, .03, .005), "holm") = .03 .06 .06 .02). */
static void test_holm(void **state)
{
    (void)state;
    double p[] = {0.01, 0.04, 0.03, 0.005};
    assert_int_equal(dk_stats_holm(p, 4), DK_OK);
    assert_near("p1", p[0], 0.03, 1e-15);
    assert_near("p2", p[1], 0.06, 1e-15);
    assert_near("p3", p[2], 0.06, 1e-15);
    assert_near("p4", p[3], 0.02, 1e-15);
}

/* Shares of a total change, by hand: (3, 1, -0.5, 0.5) of |.| total 5. */
static void test_shares(void **state)
{
    (void)state;
    const double d[] = {3, 1, -0.5, 0.5};
    double s[4];
    dk_stats_shares(d, 4, s);
    assert_near("s0", s[0], 0.6, 1e-15);
    assert_near("s1", s[1], 0.2, 1e-15);
    assert_near("s2", s[2], -0.1, 1e-15);
    assert_near("s3", s[3], 0.1, 1e-15);
    const double z[] = {1, -1}; /* net zero: still half each */
    dk_stats_shares(z, 2, s);
    assert_near("net zero", s[0], 0.5, 0);
    assert_near("net zero'", s[1], -0.5, 0);
    const double none[] = {0, 0};
    dk_stats_shares(none, 2, s);
    assert_near("no change", s[0], 0, 0);
}

/* R: qnorm(0.975) = 1.959963984540054, pnorm(1.96, lower = FALSE) =
 * 0.024997895148220435; far in the tail (a Bonferroni level over ~120
 * nodes) qnorm(1 - 0.0002) = 3.540083799206174 and qnorm(1e-10) =
 * -6.361340902404056 (Python statistics.NormalDist().inv_cdf). */
static void test_normal(void **state)
{
    (void)state;
    assert_near("qnorm", dk_stats_normal_quantile(0.975), 1.959963984540054, 1e-12);
    assert_near("qnorm tail", dk_stats_normal_quantile(1 - 0.0002), 3.540083799206174, 1e-9);
    assert_near("qnorm far", dk_stats_normal_quantile(1e-10), -6.361340902404056, 1e-9);
    assert_near("qnorm low", dk_stats_normal_quantile(0.025), -1.959963984540054, 1e-12);
    assert_near("upper tail", dk_stats_normal_upper(1.96), 0.024997895148220435, 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles),          cmocka_unit_test(test_describe),
        cmocka_unit_test(test_median_ci_ranks),    cmocka_unit_test(test_mann_whitney_exact),
        cmocka_unit_test(test_mann_whitney_ties),  cmocka_unit_test(test_mann_whitney_normal),
        cmocka_unit_test(test_hodges_lehmann),     cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_hodges_lehmann_random), cmocka_unit_test(test_holm_many),
        cmocka_unit_test(test_holm),               cmocka_unit_test(test_shares),
        cmocka_unit_test(test_normal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
