/* Internals shared by the retrieval files. */
#ifndef CTCIR_RETRIEVAL_RET_INTERNAL_H
#define CTCIR_RETRIEVAL_RET_INTERNAL_H

#include <stdint.h>
#include <string.h>

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

#endif
