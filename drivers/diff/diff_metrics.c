/* Differential harness: how far one node output lies from the baseline's. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/diff/diff_internal.h"
#include "runtime/sanitize.h"
#include "runtime/vector.h"

/* The sums run over fixed chunks of elements, added in chunk order: the
 * chunks may run on any number of threads and the result keeps its bits.
 * Within a chunk, element i goes to lane i % LANES of every sum (from the
 * chunk's start), and the lanes are added in order at its end: the same bits
 * on every machine and vector width (runtime/vector.h), and a loop without
 * branches that vectorises (2x faster than one running sum per quantity). */
#define CHUNK 16384
#define STACK_CHUNKS 256
#define LANES 8

typedef struct part {
    double d2, r2, y2, ry, max_abs, ratio;
} part;

typedef struct lanes {
    double d2[LANES], r2[LANES], y2[LANES], ry[LANES], max_abs[LANES], ratio[LANES];
} lanes;

/* Element (r, c) into lane l; t, the element's bound, when has_tol. Branch
 * free: operations that may trap run on every element, so the compiler may
 * turn the selections into blends. A non-finite element adds nothing to the
 * sums; it counts as no error when both sides hold the same NaN or infinity,
 * and as an infinite one otherwise. */
DK_RANGE_CHECKED /* inlined into compare_chunk; only the lanes on its stack */
static inline void lane_add(lanes *a, int l, double rv, double cv, int has_tol, double t)
{
    int finite = (fabs(rv) <= DBL_MAX) & (fabs(cv) <= DBL_MAX);
    int same = ((rv != rv) & (cv != cv)) | (rv == cv);
    double rf = finite ? rv : 0.0, cf = finite ? cv : 0.0;
    double diff = fabs(cf - rf);
    double d = finite ? diff : same ? 0.0 : INFINITY;
    a->d2[l] += diff * diff;
    a->r2[l] += rf * rf;
    a->y2[l] += cf * cf;
    a->ry[l] += rf * cf;
    a->max_abs[l] = d > a->max_abs[l] ? d : a->max_abs[l];
    if (has_tol) {
        double q = d / t;
        q = t > 0 ? q : INFINITY; /* a zero or NaN bound: any error is infinitely over */
        q = d > 0 ? q : 0.0;
        a->ratio[l] = q > a->ratio[l] ? q : a->ratio[l];
    }
}

DK_VECTOR_CLONES DK_RANGE_CHECKED
static void compare_chunk(const float *r, const float *c, const double *tol, double scale, int64_t lo, int64_t hi,
                          part *p)
{
    lanes a;
    memset(&a, 0, sizeof a);
    int64_t b = lo;
    if (tol)
        for (; b + LANES <= hi; b += LANES)
            for (int l = 0; l < LANES; l++) lane_add(&a, l, r[b + l], c[b + l], 1, scale * tol[b + l]);
    else
        for (; b + LANES <= hi; b += LANES)
            for (int l = 0; l < LANES; l++) lane_add(&a, l, r[b + l], c[b + l], 0, 0.0);
    for (int l = 0; b + l < hi; l++) lane_add(&a, l, r[b + l], c[b + l], tol != NULL, tol ? scale * tol[b + l] : 0.0);
    part s = {0};
    for (int l = 0; l < LANES; l++) {
        s.d2 += a.d2[l], s.r2 += a.r2[l], s.y2 += a.y2[l], s.ry += a.ry[l];
        if (a.max_abs[l] > s.max_abs) s.max_abs = a.max_abs[l];
        if (a.ratio[l] > s.ratio) s.ratio = a.ratio[l];
    }
    *p = s;
}

/* sum += p, in the order of the calls */
static void add_part(part *sum, const part *p)
{
    sum->d2 += p->d2, sum->r2 += p->r2, sum->y2 += p->y2, sum->ry += p->ry;
    if (p->max_abs > sum->max_abs) sum->max_abs = p->max_abs;
    if (p->ratio > sum->ratio) sum->ratio = p->ratio;
}

void dk__diff_compare(const dk_tensor *ref, const dk_tensor *y, const double *tol, double scale,
                      dk__diff_err *e)
{
    const float *r = ref->data, *c = y->data;
    int64_t n = dk_tensor_numel(ref), chunks = (n + CHUNK - 1) / CHUNK;
    part stack[STACK_CHUNKS], *parts = chunks <= STACK_CHUNKS ? stack : malloc(sizeof *parts * (size_t)chunks);
    part sum = {0};
    DK_CHECK_RANGE(r, n);
    DK_CHECK_RANGE(c, n);
    if (tol) DK_CHECK_RANGE(tol, n);
    if (!parts) { /* out of memory: one chunk after another, the same bits */
        for (int64_t k = 0; k < chunks; k++) {
            part p;
            compare_chunk(r, c, tol, scale, k * CHUNK, k + 1 < chunks ? (k + 1) * CHUNK : n, &p);
            add_part(&sum, &p);
        }
    } else {
#pragma omp parallel for schedule(static) if (chunks > 4)
        for (int64_t k = 0; k < chunks; k++)
            compare_chunk(r, c, tol, scale, k * CHUNK, k + 1 < chunks ? (k + 1) * CHUNK : n, &parts[k]);
        for (int64_t k = 0; k < chunks; k++) add_part(&sum, &parts[k]);
        if (parts != stack) free(parts);
    }
    e->max_abs = sum.max_abs;
    e->rel_l2 = sum.r2 > 0 ? sqrt(sum.d2 / sum.r2) : sqrt(sum.d2);
    if (isinf(sum.max_abs)) e->rel_l2 = INFINITY;
    e->cosine = (sum.r2 > 0 && sum.y2 > 0) ? sum.ry / (sqrt(sum.r2) * sqrt(sum.y2)) : (sum.r2 == sum.y2 ? 1.0 : 0.0);
    e->ratio = tol ? sum.ratio : NAN;
}
