/* Initialisers over the parameter table. */
#include <math.h>

#include "model/init.h"

void ct_init_fill(ct_params *p, int index, float value) {
    float *w = ct_param(p, index);
    for (size_t i = 0; i < p->entries[index].numel; i++) w[i] = value;
}

void ct_init_uniform(ct_params *p, int index, float bound, ct_rng *rng) {
    float *w = ct_param(p, index);
    for (size_t i = 0; i < p->entries[index].numel; i++) w[i] = (float)((2.0 * ct_rng_uniform(rng) - 1.0) * bound);
}

void ct_init_xavier(ct_params *p, int index, ct_rng *rng) {
    const ct_param_entry *e = &p->entries[index];
    double fan_out = e->ndim >= 1 ? (double)e->shape[0] : 1.0;
    double fan_in = e->ndim >= 2 ? (double)(e->numel / (size_t)e->shape[0]) : 1.0;
    ct_init_uniform(p, index, (float)sqrt(6.0 / (fan_in + fan_out)), rng);
}
