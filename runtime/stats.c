/* Distribution-free statistics of benchmark samples (see stats.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/stats.h"
#include "runtime/error.h"

/* Above this many pairs the exact null distribution of U is replaced by the
 * normal approximation (which is then accurate to about 1e-3 in p). */
#define DK_MW_EXACT_MAX_PAIRS 400

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *x, int n)
{
    double *s = malloc(sizeof *s * (size_t)(n > 0 ? n : 1));
    if (!s) return NULL;
    memcpy(s, x, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return s;
}

double dk_stats_normal_upper(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

/* z with Q(z) = tail, for 0 < tail <= 1/2: bisection on [0, 40], accurate far
 * out in the tail, where Newton from a rough start overshoots. */
static double upper_tail_inverse(double tail)
{
    double lo = 0, hi = 40;
    for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (dk_stats_normal_upper(mid) > tail) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double dk_stats_normal_quantile(double p)
{
    if (!(p > 0 && p < 1)) return p <= 0 ? -INFINITY : INFINITY;
    /* 1 - p is exact for p >= 1/2; a small p is used as it is */
    return p < 0.5 ? -upper_tail_inverse(p) : upper_tail_inverse(1 - p);
}

double dk_stats_quantile_sorted(const double *x, int n, double q)
{
    if (n == 1) return x[0];
    double h = (n - 1) * q;
    int i = (int)floor(h);
    if (i >= n - 1) return x[n - 1];
    return x[i] + (h - i) * (x[i + 1] - x[i]);
}

/* log P(B = k) for B ~ binomial(n, 1/2) */
static double log_binom_half(int n, int k)
{
    return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * log(2.0);
}

void dk_stats_median_ci_ranks(int n, double conf, int *lo, int *hi, double *level)
{
    double tail_max = (1 - conf) / 2, cdf = 0; /* cdf = P(B <= r - 1) for candidate rank r */
    int r = 0;
    for (int k = 0; k < n; k++) {
        double next = cdf + exp(log_binom_half(n, k));
        if (next > tail_max * (1 + 1e-12)) break;
        cdf = next;
        r = k + 1; /* P(B <= r - 1) <= tail: rank r is a valid lower end */
    }
    if (r < 1 || r > n + 1 - r) {
        *lo = 1;
        *hi = n;
        *level = n >= 2 ? 1 - 2 * exp(log_binom_half(n, 0)) : 0;
        return;
    }
    *lo = r;
    *hi = n + 1 - r;
    *level = 1 - 2 * cdf;
}

dk_status dk_stats_describe(const double *x, int n, dk_stats *s)
{
    memset(s, 0, sizeof *s);
    if (n < 1) return dk__error(DK_ERR_INVALID, "statistics of an empty sample");
    double *v = sorted_copy(x, n);
    if (!v) return dk__error(DK_ERR_NOMEM, "out of memory");
    s->n = n;
    s->min = v[0];
    s->max = v[n - 1];
    s->median = dk_stats_quantile_sorted(v, n, 0.5);
    s->p10 = dk_stats_quantile_sorted(v, n, 0.1);
    s->p90 = dk_stats_quantile_sorted(v, n, 0.9);
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    s->mean = sum / n;
    for (int i = 0; i < n; i++) ss += (v[i] - s->mean) * (v[i] - s->mean);
    s->sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    s->cv = s->mean != 0 ? s->sd / fabs(s->mean) : 0;
    int lo, hi;
    dk_stats_median_ci_ranks(n, 0.95, &lo, &hi, &s->ci_level);
    s->ci_lo = v[lo - 1];
    s->ci_hi = v[hi - 1];
    free(v);
    return DK_OK;
}

/* Null distribution of U for sample sizes m, n without ties: the number of
 * arrangements with U = u is the coefficient of q^u in the Gaussian binomial
 * [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i). Returns the
 * probabilities P(U = u), u = 0..m*n, or NULL when out of memory. */
static double *mw_null_pmf(int m, int n)
{
    int top = m * n;
    double *c = calloc((size_t)top + 1, sizeof *c);
    if (!c) return NULL;
    c[0] = 1;
    for (int i = 1; i <= m; i++) {
        for (int u = top; u >= n + i; u--) c[u] -= c[u - n - i]; /* times (1 - q^(n+i)) */
        for (int u = i; u <= top; u++) c[u] += c[u - i];          /* divided by (1 - q^i) */
    }
    double total = 0;
    for (int u = 0; u <= top; u++) total += c[u];
    for (int u = 0; u <= top; u++) c[u] /= total;
    return c;
}

typedef struct mw_item {
    double v;
    int from_x;
} mw_item;

static int cmp_item(const void *a, const void *b)
{
    return cmp_double(&((const mw_item *)a)->v, &((const mw_item *)b)->v);
}

dk_status dk_stats_mann_whitney(const double *x, int n1, const double *y, int n2, dk_mw *out)
{
    memset(out, 0, sizeof *out);
    if (n1 < 1 || n2 < 1) return dk__error(DK_ERR_INVALID, "Mann-Whitney test of an empty sample");
    int n = n1 + n2;
    /* pool, sort, midranks; tie groups feed the variance correction */
    mw_item *all = malloc(sizeof *all * (size_t)n);
    if (!all) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n1; i++) all[i] = (mw_item){x[i], 1};
    for (int j = 0; j < n2; j++) all[n1 + j] = (mw_item){y[j], 0};
    qsort(all, (size_t)n, sizeof *all, cmp_item);
    double rank_sum_x = 0, tie_term = 0;
    int ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v) j++;
        double midrank = (i + j) / 2.0 + 1;
        for (int k = i; k <= j; k++)
            if (all[k].from_x) rank_sum_x += midrank;
        double t = j - i + 1;
        if (t > 1) {
            ties = 1;
            tie_term += t * t * t - t;
        }
        i = j + 1;
    }
    free(all);
    out->u = rank_sum_x - n1 * (n1 + 1) / 2.0;
    double mean = n1 * (double)n2 / 2;
    if (!ties && (long long)n1 * n2 <= DK_MW_EXACT_MAX_PAIRS) {
        double *pmf = mw_null_pmf(n1, n2);
        if (!pmf) return dk__error(DK_ERR_NOMEM, "out of memory");
        int u = (int)out->u;
        double lower = 0, upper = 0;
        for (int k = 0; k <= n1 * n2; k++) {
            if (k <= u) lower += pmf[k];
            if (k >= u) upper += pmf[k];
        }
        free(pmf);
        out->p = fmin(1, 2 * fmin(lower, upper));
        out->exact = 1;
        return DK_OK;
    }
    double var = n1 * (double)n2 / 12 * ((n + 1) - tie_term / ((double)n * (n - 1)));
    if (var <= 0) { /* every value equal: no evidence of a difference */
        out->p = 1;
        return DK_OK;
    }
    double d = out->u - mean;
    double cc = d > 0 ? 0.5 : d < 0 ? -0.5 : 0;
    out->z = (d - cc) / sqrt(var);
    out->p = fmin(1, 2 * dk_stats_normal_upper(fabs(out->z)));
    return DK_OK;
}

/* k of the shift interval: the smallest u with P(U <= u) >= alpha/2 under
 * the null (R's qwilcox), at least 1. */
static dk_status shift_rank(int n1, int n2, double conf, long long *k)
{
    double half = (1 - conf) / 2;
    long long pairs = (long long)n1 * n2;
    if (pairs <= DK_MW_EXACT_MAX_PAIRS) {
        double *pmf = mw_null_pmf(n1, n2);
        if (!pmf) return dk__error(DK_ERR_NOMEM, "out of memory");
        double cdf = 0;
        long long u = 0;
        for (; u <= pairs; u++) {
            cdf += pmf[u];
            if (cdf >= half * (1 - 1e-12)) break;
        }
        free(pmf);
        *k = u;
    } else {
        double z = dk_stats_normal_quantile(1 - half);
        *k = (long long)floor(pairs / 2.0 - z * sqrt(pairs * (n1 + n2 + 1.0) / 12));
    }
    if (*k < 1) *k = 1;
    if (*k > (pairs + 1) / 2) *k = (pairs + 1) / 2;
    return DK_OK;
}

/* Doubles as unsigned integers in the same order (for bisection over values). */
static uint64_t order_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u >> 63 ? ~u : u | ((uint64_t)1 << 63);
}

static double from_key(uint64_t k)
{
    uint64_t u = k >> 63 ? k & ~((uint64_t)1 << 63) : ~k;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* How many differences y[j] - x[i] are <= t (x, y sorted): for a larger x[i]
 * more of them are, so one pointer walks y once. */
static long long pairs_at_most(const double *x, int n1, const double *y, int n2, double t)
{
    long long count = 0;
    int j = 0;
    for (int i = 0; i < n1; i++) {
        while (j < n2 && y[j] - x[i] <= t) j++;
        count += j;
    }
    return count;
}

/* The k-th smallest (1-based) of the n1 n2 differences y[j] - x[i] (x, y
 * sorted), found without the differences themselves: the smallest value t
 * with at least k of them <= t, by bisection over the doubles between the
 * least and the greatest difference (at most 64 steps of n1 + n2). Exactly
 * the element a sort of all differences would put at k. */
static double pair_difference(const double *x, int n1, const double *y, int n2, long long k)
{
    uint64_t lo = order_key(y[0] - x[n1 - 1]), hi = order_key(y[n2 - 1] - x[0]);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (pairs_at_most(x, n1, y, n2, from_key(mid)) >= k) hi = mid;
        else lo = mid + 1;
    }
    return from_key(lo);
}

/* Linear in the sample sizes (after sorting), never their product: a result
 * file with 30,000 samples a side would otherwise need 7 GB of differences. */
dk_status dk_stats_hodges_lehmann(const double *x, int n1, const double *y, int n2, double conf,
                                  dk_shift *out)
{
    memset(out, 0, sizeof *out);
    if (n1 < 1 || n2 < 1) return dk__error(DK_ERR_INVALID, "shift estimate of an empty sample");
    double *xs = sorted_copy(x, n1), *ys = sorted_copy(y, n2);
    dk_status st = !xs || !ys ? dk__error(DK_ERR_NOMEM, "out of memory") : DK_OK;
    for (int i = 0; st == DK_OK && i < n1; i++)
        if (!isfinite(xs[i])) st = dk__error(DK_ERR_INVALID, "shift estimate of a sample that is not finite");
    for (int j = 0; st == DK_OK && j < n2; j++)
        if (!isfinite(ys[j])) st = dk__error(DK_ERR_INVALID, "shift estimate of a sample that is not finite");
    long long pairs = (long long)n1 * n2, k = 0;
    if (st == DK_OK) {
        /* the median as dk_stats_quantile_sorted takes it: the middle one, or
         * halfway between the two middle ones */
        long long mid = (pairs - 1) / 2; /* 0-based */
        double a = pair_difference(xs, n1, ys, n2, mid + 1);
        out->estimate = pairs % 2 ? a : a + 0.5 * (pair_difference(xs, n1, ys, n2, mid + 2) - a);
        st = shift_rank(n1, n2, conf, &k);
    }
    if (st == DK_OK) {
        out->lo = pair_difference(xs, n1, ys, n2, k);
        out->hi = pair_difference(xs, n1, ys, n2, pairs + 1 - k);
    }
    free(xs);
    free(ys);
    return st;
}

dk_status dk_stats_ratio(const double *x, int n1, const double *y, int n2, double conf, dk_shift *out)
{
    memset(out, 0, sizeof *out);
    double *lx = malloc(sizeof *lx * (size_t)(n1 > 0 ? n1 : 1));
    double *ly = malloc(sizeof *ly * (size_t)(n2 > 0 ? n2 : 1));
    dk_status st = (!lx || !ly) ? dk__error(DK_ERR_NOMEM, "out of memory") : DK_OK;
    for (int i = 0; st == DK_OK && i < n1; i++) {
        if (!(x[i] > 0)) st = dk__error(DK_ERR_INVALID, "ratio of samples that are not all positive");
        else lx[i] = log(x[i]);
    }
    for (int j = 0; st == DK_OK && j < n2; j++) {
        if (!(y[j] > 0)) st = dk__error(DK_ERR_INVALID, "ratio of samples that are not all positive");
        else ly[j] = log(y[j]);
    }
    dk_shift s;
    if (st == DK_OK) st = dk_stats_hodges_lehmann(lx, n1, ly, n2, conf, &s);
    if (st == DK_OK) {
        out->estimate = exp(s.estimate);
        out->lo = exp(s.lo);
        out->hi = exp(s.hi);
    }
    free(lx);
    free(ly);
    return st;
}

static _Thread_local const double *holm_p; /* qsort has no context argument */

static int by_p(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    return holm_p[i] < holm_p[j] ? -1 : holm_p[i] > holm_p[j] ? 1 : (i > j) - (i < j);
}

dk_status dk_stats_holm(double *p, int m)
{
    if (m <= 0) return DK_OK;
    int *order = malloc(sizeof *order * (size_t)m);
    if (!order) return dk__error(DK_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m; i++) order[i] = i;
    /* by p, ties in input order (a result file may hold thousands of nodes:
     * no quadratic sort) */
    holm_p = p;
    qsort(order, (size_t)m, sizeof *order, by_p);
    double running = 0;
    for (int r = 0; r < m; r++) {
        double adj = fmin(1, (m - r) * p[order[r]]);
        if (adj > running) running = adj;
        p[order[r]] = running;
    }
    free(order);
    return DK_OK;
}

void dk_stats_shares(const double *delta, int n, double *share)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += fabs(delta[i]);
    for (int i = 0; i < n; i++) share[i] = sum != 0 ? delta[i] / sum : 0;
}
