/* Internals shared by the retrieval files. */
#ifndef CTCIR_RETRIEVAL_RET_INTERNAL_H
#define CTCIR_RETRIEVAL_RET_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "core/half.h"
#include "ctcir/metrics.h"

/* Ranks of the plan's probes for queries [q0, q0 + nq) from their full score rows
 * scores [nq, G]. */
void ct_eval_rank_rows(ct_eval_plan *p, int q0, int nq, const float *scores);

#endif
