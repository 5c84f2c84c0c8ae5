/* Differential harness: how far one node output lies from the baseline's. */
#include <math.h>

#include "drivers/diff/diff_internal.h"

void dk__diff_compare(const dk_tensor *ref, const dk_tensor *y, const double *tol, double scale,
                      dk__diff_err *e)
{
    const float *r = ref->data, *c = y->data;
    int64_t n = dk_tensor_numel(ref);
    double d2 = 0, r2 = 0, y2 = 0, ry = 0, max_abs = 0, ratio = 0;
    for (int64_t i = 0; i < n; i++) {
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
            double q = t > 0 ? d / t : INFINITY;
            if (q > ratio) ratio = q;
        }
    }
    e->max_abs = max_abs;
    e->rel_l2 = r2 > 0 ? sqrt(d2 / r2) : sqrt(d2);
    if (isinf(max_abs)) e->rel_l2 = INFINITY;
    e->cosine = (r2 > 0 && y2 > 0) ? ry / (sqrt(r2) * sqrt(y2)) : (r2 == y2 ? 1.0 : 0.0);
    e->ratio = tol ? ratio : NAN;
}
