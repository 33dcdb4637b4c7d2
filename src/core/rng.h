/* A small, fast, reproducible random number generator (xoshiro256** seeded by splitmix64).
 * Its whole state is four words, so training checkpoints save and restore it exactly. */
#ifndef CTCIR_CORE_RNG_H
#define CTCIR_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} ct_rng;

void ct_rng_seed(ct_rng *r, uint64_t seed);
uint64_t ct_rng_next(ct_rng *r);
/* Uniform in [0, 1). */
double ct_rng_uniform(ct_rng *r);
/* Uniform integer in [0, n). */
uint64_t ct_rng_below(ct_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value so the state alone determines it). */
double ct_rng_normal(ct_rng *r);

#endif
