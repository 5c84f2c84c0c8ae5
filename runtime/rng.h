/* Internal: the one random-number generator of deltakern. Every random input,
 * shape, fault sign and test datum comes from here, from a printed seed, so
 * that any run can be repeated exactly.
 *
 * dk_rng_mix is one splitmix64 step (also usable on its own as a stream:
 * successive calls on one state give well-mixed 64-bit values); dk_rng is
 * xorshift64* seeded through it. Plain structs, nothing to free. */
#ifndef DK_RUNTIME_RNG_H
#define DK_RUNTIME_RNG_H

#include <stdint.h>

typedef struct dk_rng { uint64_t s; } dk_rng;

/* splitmix64: advances *x and returns a well-distributed 64-bit value. */
uint64_t dk_rng_mix(uint64_t *x);
void dk_rng_seed(dk_rng *r, uint64_t seed);
uint64_t dk_rng_next(dk_rng *r);                       /* xorshift64* */
double dk_rng_uniform(dk_rng *r, double lo, double hi); /* [lo, hi) */
int64_t dk_rng_int(dk_rng *r, int64_t lo, int64_t hi);  /* [lo, hi], both inclusive */
int dk_rng_chance(dk_rng *r, double p);                 /* 1 with probability p */
/* Fills x[0..n-1] with uniform floats in [lo, hi). */
void dk_rng_fill(dk_rng *r, float *x, int64_t n, double lo, double hi);

#endif
