/* exp for float arrays, written so that GCC vectorises the loops that call it (libm's expf
 * is a scalar call per element). No -ffast-math: the reduction and polynomial are spelled out.
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split
 * in two, Cody-Waite), e^r by its degree-7 Taylor polynomial (truncation < 6e-9 relative) in
 * Horner form with fused multiply-adds, 2^n built in the exponent bits. Measured against a
 * double exp on every third float in [-87.3, 88.7]: < 1 ulp (0.93 max; tests/test_nn_fast.c
 * samples it). NaN propagates,
 * x > 88.72 gives +inf, x < -87.33 gives 0 (libm would give a subnormal there, < 1.2e-38). */
#ifndef CTCIR_NN_VECMATH_H
#define CTCIR_NN_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ct_expf(float x) {
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693145751953125f, ln2_lo = 1.42860682030941723e-6f;
    const float shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer in the low bits */
    float xc = x > 88.75f ? 88.75f : x;
    xc = xc < -88.0f ? -88.0f : xc; /* NaN passes both */
    float t = fmaf(xc, log2e, shift);
    float n = t - shift;
    float r = fmaf(-n, ln2_hi, xc);
    r = fmaf(-n, ln2_lo, r);
    float p = 1.0f / 5040.0f;
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    int32_t ni = ti - 0x4B400000, n1 = ni >> 1, n2 = ni - n1; /* n = n1 + n2, 2^n may not fit */
    int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    float y = p * s1 * s2;
    y = x > 88.7228391f ? INFINITY : y;
    y = x < -87.3365479f ? 0.0f : y;
    return y;
}

#endif
