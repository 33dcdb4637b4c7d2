/* Internals shared by the retrieval files. */
#ifndef CTCIR_RETRIEVAL_RET_INTERNAL_H
#define CTCIR_RETRIEVAL_RET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/half.h"
#include "ctcir/index.h"
#include "ctcir/metrics.h"

/* Ranks of the plan's probes for queries [q0, q0 + nq) from their full score rows
 * scores [nq, G]. */
void ct_eval_rank_rows(ct_eval_plan *p, int q0, int nq, const float *scores);

/* ct_topk computed plainly: every score in double (dot of the normalised query with the
 * row over the row's norm), candidates kept by insertion. For tests and benchmarks. */
ct_status ct_topk_ref(int *out_idx, float *out_score, const float *queries, int Q, const void *gallery, ct_dtype gdtype,
                      int64_t G, int P, int k);

/* The search kernel in use: "avx512" (AVX-512 + F16C, when the CPU has them) or "portable";
 * ct_topk_force_portable(true) selects the portable one (tests, benchmarks; not thread-safe). */
const char *ct_topk_kernel_name(void);
void ct_topk_force_portable(bool on);
/* Up to how many queries the row kernel scores them instead of ct_sgemm (-1: the default). */
void ct_topk_set_kernel_max_q(int q);

#endif
