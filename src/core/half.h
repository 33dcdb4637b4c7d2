/* IEEE half (F16) and bfloat16 (BF16) <-> float, one value at a time. To float is exact
 * (subnormals, infinities and NaN payloads kept); from float rounds to nearest even. The two
 * "to float" functions are also public through ctcir/safetensors.h. */
#ifndef CTCIR_CORE_HALF_H
#define CTCIR_CORE_HALF_H

#include <stdint.h>

#ifdef __cplusplus /* two of them are declared again by ctcir/safetensors.h, with C linkage */
extern "C" {
#endif

float ct_f16_to_f32(uint16_t h);
float ct_bf16_to_f32(uint16_t h);
uint16_t ct_f32_to_f16(float f);
uint16_t ct_f32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif
