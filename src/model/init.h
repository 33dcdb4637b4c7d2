/* Seeded initialisation of new (head) weights; documented in the spirit of docs/model.md section 2:
 * xavier-uniform U(-a, a), a = sqrt(6 / (fan_in + fan_out)) for [out, in] weights. */
#ifndef CTCIR_MODEL_INIT_H
#define CTCIR_MODEL_INIT_H

#include "core/params.h"
#include "core/rng.h"

void ct_init_fill(ct_params *p, int index, float value);
void ct_init_xavier(ct_params *p, int index, ct_rng *rng);
/* U(-bound, bound) */
void ct_init_uniform(ct_params *p, int index, float bound, ct_rng *rng);

#endif
