/* Differential harness: how far one node output lies from the baseline's. */
#include <math.h>
#include <stdlib.h>

#include "drivers/diff/diff_internal.h"
#include "runtime/sanitize.h"

/* The sums run over fixed chunks of elements, added in chunk order: the
 * chunks may run on any number of threads and the result keeps its bits. */
#define CHUNK 16384
#define STACK_CHUNKS 256

typedef struct part {
    double d2, r2, y2, ry, max_abs, ratio;
} part;

DK_RANGE_CHECKED
static void compare_chunk(const float *r, const float *c, const double *tol, double scale, int64_t lo, int64_t hi,
                          part *p)
{
    double d2 = 0, r2 = 0, y2 = 0, ry = 0, max_abs = 0, ratio = 0;
    for (int64_t i = lo; i < hi; i++) {
        double rv = r[i], cv = c[i], d;
        if (!isfinite(rv) || !isfinite(cv)) {
            /* the same NaN or infinity on both sides is no error */
            d = ((isnan(rv) && isnan(cv)) || rv == cv) ? 0.0 : INFINITY;
            if (d > max_abs) max_abs = d;
            if (d > 0) ratio = INFINITY;
            continue;
        }
        d = fabs(cv - rv);
        d2 += d * d;
        r2 += rv * rv;
        y2 += cv * cv;
        ry += rv * cv;
        if (d > max_abs) max_abs = d;
        if (tol && d > 0) {
            double t = scale * tol[i];
            /* the division only where it may raise the maximum: d / t
             * exceeds ratio by more than its rounding only if d > ratio t */
            if (!(t > 0)) ratio = INFINITY;
            else if (d >= ratio * t * (1 - 1e-9)) {
                double q = d / t;
                if (q > ratio) ratio = q;
            }
        }
    }
    *p = (part){d2, r2, y2, ry, max_abs, ratio};
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
