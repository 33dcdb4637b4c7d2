/* LayerNorm over the last axis with the biased variance (torch.nn.LayerNorm). */
#include <math.h>

#include "nn/nn.h"

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight, const float *bias,
                       int N, int C, float eps) {
#pragma omp parallel for if ((size_t)N * C > 32768)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        float v = 0.0f;
        for (int c = 0; c < C; c++) {
            float d = x[c] - m;
            v += d * d;
        }
        v /= (float)C;
        float s = 1.0f / sqrtf(v + eps);
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
        if (mean) mean[n] = m;
        if (rstd) rstd[n] = s;
    }
}

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int C) {
    if (dinp) {
#pragma omp parallel for if ((size_t)N * C > 32768)
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            float m = mean[n], s = rstd[n];
            float sum_g = 0.0f, sum_gx = 0.0f; /* g = dy * w, xhat = (x - m) s */
            for (int c = 0; c < C; c++) {
                float g = dy[c] * weight[c];
                sum_g += g;
                sum_gx += g * (x[c] - m) * s;
            }
            sum_g /= (float)C;
            sum_gx /= (float)C;
            float *dx = dinp + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                float xhat = (x[c] - m) * s;
                dx[c] += s * (dy[c] * weight[c] - sum_g - xhat * sum_gx);
            }
        }
    }
    if (dweight || dbias) {
        /* Blocks of 64 columns, rows in order inside: each gradient is summed over n in the
         * same order as a column-at-a-time loop, but every row read is contiguous. */
        int nb = (C + 63) / 64;
#pragma omp parallel for if ((size_t)N * C > 32768)
        for (int cb = 0; cb < nb; cb++) {
            int c0 = cb * 64, w = C - c0 < 64 ? C - c0 : 64;
            float gw[64] = {0}, gb[64] = {0};
            for (int n = 0; n < N; n++) {
                const float *dy = dout + (size_t)n * C + c0, *x = inp + (size_t)n * C + c0;
                float m = mean[n], s = rstd[n];
                for (int c = 0; c < w; c++) {
                    gw[c] += dy[c] * (x[c] - m) * s;
                    gb[c] += dy[c];
                }
            }
            for (int c = 0; c < w; c++) {
                if (dweight) dweight[c0 + c] += gw[c];
                if (dbias) dbias[c0 + c] += gb[c];
            }
        }
    }
}

/* Column-at-a-time parameter gradients (strided reads): the reference for the blocked loop. */
void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C) {
    layernorm_backward(dinp, NULL, NULL, dout, inp, weight, mean, rstd, N, C);
    for (int c = 0; c < C; c++) {
        float gw = 0.0f, gb = 0.0f;
        for (int n = 0; n < N; n++) {
            float dy = dout[(size_t)n * C + c];
            gw += dy * (inp[(size_t)n * C + c] - mean[n]) * rstd[n];
            gb += dy;
        }
        if (dweight) dweight[c] += gw;
        if (dbias) dbias[c] += gb;
    }
}
