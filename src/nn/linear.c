/* Linear layer: out = inp W^T + b, one SGEMM each way. */
#include <string.h>

#include "core/blas.h"
#include "nn/nn.h"

void linear_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC) {
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for if ((size_t)N * OC > 65536)
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, bias, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    ct_matmul(false, true, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
}

void linear_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double acc = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++) acc += (double)inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
            out[(size_t)n * OC + o] = (float)acc;
        }
}

void linear_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC) {
    if (dinp) ct_matmul(false, false, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
    if (dweight) ct_matmul(true, false, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias) linear_bias_backward(dbias, dout, N, OC);
}

/* dbias [OC] += sum_n dout [N,OC]: blocks of 64 columns, rows in order inside (the same sum
 * order as a column at a time, with contiguous reads). */
void linear_bias_backward(float *dbias, const float *dout, int N, int OC) {
    int nb = (OC + 63) / 64;
#pragma omp parallel for if ((size_t)N * OC > 65536)
    for (int ob = 0; ob < nb; ob++) {
        int o0 = ob * 64, w = OC - o0 < 64 ? OC - o0 : 64;
        float acc[64] = {0};
        for (int n = 0; n < N; n++) {
            const float *g = dout + (size_t)n * OC + o0;
            for (int o = 0; o < w; o++) acc[o] += g[o];
        }
        for (int o = 0; o < w; o++) dbias[o0 + o] += acc[o];
    }
}
