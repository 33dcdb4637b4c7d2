/* Row softmax, max-subtracted. */
#include <math.h>

#include "nn/nn.h"
#include "nn/vecmath.h"

/* The exponentials in a separate (vectorised, ct_expf) loop from the in-order sum. */
void softmax_row_stats(float *y, const float *x, int C, float *mx_out, float *sum_out) {
    float mx = -INFINITY;
    for (int c = 0; c < C; c++) mx = x[c] > mx ? x[c] : mx;
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = ct_expf(x[c] - mx);
    float s = 0.0f;
    for (int c = 0; c < C; c++) s += y[c];
    float inv = 1.0f / s;
    for (int c = 0; c < C; c++) y[c] *= inv;
    *mx_out = mx;
    *sum_out = s;
}

void softmax_row(float *y, const float *x, int C) {
    float mx, s;
    softmax_row_stats(y, x, C, &mx, &s);
}

/* libm's expf, one row at a time: the reference for softmax_forward. */
void softmax_forward_ref(float *out, const float *inp, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C, mx = -INFINITY, s = 0.0f;
        for (int c = 0; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        for (int c = 0; c < C; c++) s += (y[c] = expf(x[c] - mx));
        for (int c = 0; c < C; c++) y[c] /= s;
    }
}

void softmax_row_backward_inplace(float *g, const float *y, int C) {
    float dot = 0.0f;
    for (int c = 0; c < C; c++) dot += g[c] * y[c];
    for (int c = 0; c < C; c++) g[c] = y[c] * (g[c] - dot);
}

void softmax_row_backward(float *dx, const float *dy, const float *y, int C) {
    float dot = 0.0f;
    for (int c = 0; c < C; c++) dot += dy[c] * y[c];
    for (int c = 0; c < C; c++) dx[c] += y[c] * (dy[c] - dot);
}

void softmax_forward(float *out, const float *inp, int N, int C) {
#pragma omp parallel for if ((size_t)N * C > 32768)
    for (int n = 0; n < N; n++) softmax_row(out + (size_t)n * C, inp + (size_t)n * C, C);
}

void softmax_backward(float *dinp, const float *dout, const float *out, int N, int C) {
#pragma omp parallel for if ((size_t)N * C > 32768)
    for (int n = 0; n < N; n++)
        softmax_row_backward(dinp + (size_t)n * C, dout + (size_t)n * C, out + (size_t)n * C, C);
}
