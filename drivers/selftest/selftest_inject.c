/* The teeth check of the self-test: one output element moved to a chosen
 * multiple of its bound, to show that the judgement catches what it must and
 * lets through what the table allows. */
#include <math.h>
#include <stdlib.h>

#include "drivers/selftest/selftest.h"
#include "runtime/error.h"

dk_status dk__st_inject(const dk_graph *g, const dk_node *n, dk_precision p,
                        const dk_tensor *const *in, const dk_tensor *ref, dk_tensor *y, double X,
                        dk_rng *rng, int64_t *where)
{
    int64_t count = dk_tensor_numel(ref);
    *where = -1;
    if (count == 0 || y->dtype != ref->dtype || dk_tensor_numel(y) != count) return DK_OK;
    if (ref->dtype != DK_F32) {
        /* other types (Cast's outputs) are judged bit for bit: for X >= 1 one
         * element gets its lowest bit flipped, below 1 nothing moves */
        if (X >= 1) {
            int64_t j = dk_rng_int(rng, 0, count - 1);
            ((unsigned char *)y->data)[j * (int64_t)dk_dtype_size(y->dtype)] ^= 1;
            *where = j;
        }
        return DK_OK;
    }
    double *tol = malloc(sizeof(double) * (size_t)count),
           *mag = malloc(sizeof(double) * (size_t)count);
    dk_status st = tol && mag ? dk_tolerance_bounds(g, n, p, in, ref, tol, mag)
                              : dk__error(DK_ERR_NOMEM, "out of memory");
    const float *r = ref->data;
    float *d = y->data;
    int64_t j = dk_rng_int(rng, 0, count - 1);
    for (int64_t k = 0; k < count && !isfinite(r[j]); k++) j = (j + 1) % count;
    if (st == DK_OK && isfinite(r[j])) {
        double t = tol[j];
        float dir = dk_rng_chance(rng, 0.5) ? INFINITY : -INFINITY;
        float v;
        if (t <= 0 || !isfinite(t)) {
            v = X >= 1 ? nextafterf(r[j], dir) : r[j];
        } else {
            double target = X * t;
            v = (float)((double)r[j] + (dir > 0 ? target : -target));
            if (X >= 1)
                while (fabs((double)v - r[j]) < target) v = nextafterf(v, dir);
            else
                while (fabs((double)v - r[j]) > target) v = nextafterf(v, -dir);
        }
        d[j] = v;
        *where = j;
    }
    free(tol);
    free(mag);
    return st;
}
