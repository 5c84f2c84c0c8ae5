/* The random-number generator (runtime/rng.h). */
#include "runtime/rng.h"

uint64_t dk_rng_mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void dk_rng_seed(dk_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    r->s = dk_rng_mix(&x);
    if (!r->s) r->s = 1; /* xorshift's one fixed point */
}

uint64_t dk_rng_next(dk_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

double dk_rng_uniform(dk_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)(dk_rng_next(r) >> 11) * 0x1p-53;
}

int64_t dk_rng_int(dk_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo) return lo;
    return lo + (int64_t)(dk_rng_next(r) % (uint64_t)(hi - lo + 1));
}

int dk_rng_chance(dk_rng *r, double p) { return dk_rng_uniform(r, 0, 1) < p; }

void dk_rng_fill(dk_rng *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++) x[i] = (float)dk_rng_uniform(r, lo, hi);
}
