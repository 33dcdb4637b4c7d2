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
    uint32_t ti;
    memcpy(&ti, &t, sizeof ti);
    /* n = n1 + n2 (2^n itself may not fit); unsigned arithmetic: NaN's garbage bits must not
     * overflow a signed shift */
    int32_t ni = (int32_t)(ti - 0x4B400000u), n1 = ni >> 1, n2 = ni - n1;
    uint32_t b1 = ((uint32_t)(n1 + 127) & 0xFFu) << 23, b2 = ((uint32_t)(n2 + 127) & 0xFFu) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    float y = p * s1 * s2;
    y = x > 88.7228391f ? INFINITY : y;
    y = x < -87.3365479f ? 0.0f : y;
    return y;
}

/* erf, vectorisable: both branches are computed and one is selected.
 *   |x| < 1:  the Taylor series erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)),
 *             12 terms (truncation < 1e-10) in Horner form in x^2; the terms fall at least
 *             threefold each, so the alternation costs little;
 *   |x| >= 1: erfc(x) = e^(-x^2) g(x), g(x) = erfc(x) e^(x^2) (smooth, 0.43 to 0.14 on [1, 4])
 *             from a degree-12 polynomial (below); erf = 1 - erfc, so erfc's own rounding
 *             shrinks by erfc/erf.
 * |x| is capped at 4 (erf = 1 in float beyond 3.92). e^(-x^2) uses x^2 as an exact sum
 * hi + lo. Measured against a double erf on [-6, 6]: < 2.8 ulp, the worst at |x| = 0.48 in
 * the series; <= 1.2 ulp for |x| >= 1 (tests/test_nn_fast.c). NaN propagates. */
static inline float ct_erff(float x) {
    float ax = fabsf(x);
    ax = ax > 4.0f ? 4.0f : ax;
    float hi = ax * ax, lo = fmaf(ax, ax, -hi);
    float e = ct_expf(-hi) * (1.0f - lo);
    static const float c[12] = {1.1283791670955126f,      -0.37612638903183754f,   0.11283791670955126f,
                                -0.026866170645131252f,   0.0052239776254421879f,  -0.00085483270234508522f,
                                0.00012055332981789664f,  -1.492565035840625e-05f, 1.6462114365889246e-06f,
                                -1.6365844691234924e-07f, 1.4807192815879218e-08f, -1.2290555301717926e-09f};
    float p = c[11];
#pragma GCC unroll 11 /* fully unrolled, so that the caller's loop vectorises */
    for (int k = 10; k >= 0; k--) p = fmaf(p, hi, c[k]);
    float small = ax * p;
    /* erfc(x) exp(x^2) on [1, 4]: degree-12 polynomial in u = (x - 2.5) / 1.5, a least-squares
     * Chebyshev fit made for this project (scripts/fit_erfc.py; relative error 2.4e-8 in double,
     * erf within 1.2 ulp on [1, 4] in float). Both branches run, so the caller's loop vectorises. */
    static const float d[13] = {2.108063642e-01f, -1.115210091e-01f, 5.611047802e-02f, -2.700562567e-02f,
                                1.248963309e-02f, -5.567953640e-03f, 2.402032410e-03f, -1.015560502e-03f,
                                4.138151543e-04f, -1.456397412e-04f, 5.561073008e-05f, -3.626657555e-05f,
                                1.358252975e-05f};
    float u = fmaf(ax, 2.0f / 3.0f, -5.0f / 3.0f), q = d[12];
#pragma GCC unroll 12
    for (int k = 11; k >= 0; k--) q = fmaf(q, u, d[k]);
    float large = 1.0f - e * q;
    float y = ax < 1.0f ? small : large;
    return x < 0.0f ? -y : y;
}

#endif
