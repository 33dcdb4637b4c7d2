/* Internals shared by the retrieval files. */
#ifndef CTCIR_RETRIEVAL_RET_INTERNAL_H
#define CTCIR_RETRIEVAL_RET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ctcir/index.h"
#include "ctcir/metrics.h"

/* float -> IEEE half bits (round to nearest even; subnormals, infinities and NaN kept).
 * The other direction is ct_f16_to_f32 (safetensors.h). */
static inline uint16_t ct_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to >= 65520: inf */
    if (ax < 0x38800000u) { /* subnormal half or zero */
        if (ax < 0x33000000u) return (uint16_t)sign;
        uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 .. 24 */
        uint32_t hm = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (hm & 1))) hm++;
        return (uint16_t)(sign | hm);
    }
    uint32_t hm = ((ax >> 23) - 112) << 10 | ((ax >> 13) & 0x3ff);
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (hm & 1))) hm++;
    return (uint16_t)(sign | hm);
}

/* Ranks of the plan's probes for queries [q0, q0 + nq) from their full score rows
 * scores [nq, G]. */
void ct_eval_rank_rows(ct_eval_plan *p, int q0, int nq, const float *scores);

/* ct_topk computed plainly: every score in double (dot of the normalised query with the
 * row over the row's norm), a full sort. For tests and benchmarks. */
ct_status ct_topk_ref(int *out_idx, float *out_score, const float *queries, int Q,
                      const void *gallery, ct_dtype gdtype, int64_t G, int P, int k);

/* The search kernel in use: "avx512" (AVX-512 + F16C, when the CPU has them) or "portable";
 * ct_topk_force_portable(true) selects the portable one (tests, benchmarks; not thread-safe). */
const char *ct_topk_kernel_name(void);
void ct_topk_force_portable(bool on);
/* Up to how many queries the row kernel scores them instead of ct_sgemm (-1: the default). */
void ct_topk_set_kernel_max_q(int q);

#endif
