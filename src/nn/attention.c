/* Multi-head scaled dot-product attention. Every (batch, head) pair is independent, so the
 * whole batch runs as ONE OpenMP loop over B*NH; inside it each pair does its two small
 * products with ct_matmul, which is a single-threaded call inside an OpenMP region.
 *
 * With the causal and key-length masks every row's valid keys are a prefix [0, L) with
 * L = min(key_len[b], causal ? i + 1 : Tk), so masking is just "softmax the first L entries
 * and write zeros after them". */
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "nn/nn.h"

static inline int valid_keys(const int *key_len, bool causal, int b, int i, int Tk) {
    int L = key_len ? key_len[b] : Tk;
    if (L > Tk) L = Tk;
    if (causal && i + 1 < L) L = i + 1;
    return L;
}

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v, const int *key_len,
                       bool causal, float scale, int B, int Tq, int Tk, int C, int NH) {
    int HS = C / NH;
#pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const float *qh = q + (size_t)b * Tq * C + (size_t)h * HS;
        const float *kh = k + (size_t)b * Tk * C + (size_t)h * HS;
        const float *vh = v + (size_t)b * Tk * C + (size_t)h * HS;
        float *a = att + (size_t)bh * Tq * Tk;
        float *oh = out + (size_t)b * Tq * C + (size_t)h * HS;
        ct_matmul(false, true, Tq, Tk, HS, scale, qh, C, kh, C, 0.0f, a, Tk);
        for (int i = 0; i < Tq; i++) {
            float *row = a + (size_t)i * Tk;
            int L = valid_keys(key_len, causal, b, i, Tk);
            softmax_row(row, row, L);
            memset(row + L, 0, (size_t)(Tk - L) * sizeof(float));
        }
        ct_matmul(false, false, Tq, HS, Tk, 1.0f, a, Tk, vh, C, 0.0f, oh, C);
    }
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *datt_in, const float *att,
                        const float *q, const float *k, const float *v, float scale, int B, int Tq, int Tk, int C,
                        int NH, float *scratch) {
    int HS = C / NH;
#pragma omp parallel for schedule(dynamic, 1)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        size_t qoff = (size_t)b * Tq * C + (size_t)h * HS, koff = (size_t)b * Tk * C + (size_t)h * HS;
        const float *a = att + (size_t)bh * Tq * Tk;
        float *ds = scratch + (size_t)bh * Tq * Tk;
        /* datt = dout_h v_h^T (+ datt_in), then through the softmax in place */
        ct_matmul(false, true, Tq, Tk, HS, 1.0f, dout + qoff, C, v + koff, C, 0.0f, ds, Tk);
        if (datt_in) {
            const float *di = datt_in + (size_t)bh * Tq * Tk;
            for (size_t e = 0; e < (size_t)Tq * Tk; e++) ds[e] += di[e];
        }
        if (dv) ct_matmul(true, false, Tk, HS, Tq, 1.0f, a, Tk, dout + qoff, C, 1.0f, dv + koff, C);
        for (int i = 0; i < Tq; i++) softmax_row_backward_inplace(ds + (size_t)i * Tk, a + (size_t)i * Tk, Tk);
        if (dq) ct_matmul(false, false, Tq, HS, Tk, scale, ds, Tk, k + koff, C, 1.0f, dq + qoff, C);
        if (dk) ct_matmul(true, false, Tk, HS, Tq, scale, ds, Tk, q + qoff, C, 1.0f, dk + koff, C);
    }
}

/* Plain loops in double: the reference the tests compare the batched kernels with. */
void attention_forward_ref(float *out, float *att, const float *q, const float *k, const float *v, const int *key_len,
                           bool causal, float scale, int B, int Tq, int Tk, int C, int NH) {
    int HS = C / NH;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                float *a = att + (((size_t)b * NH + h) * Tq + i) * Tk;
                const float *qi = q + ((size_t)b * Tq + i) * C + h * HS;
                int L = valid_keys(key_len, causal, b, i, Tk);
                double mx = -INFINITY, sum = 0.0;
                double s[Tk];
                for (int j = 0; j < L; j++) {
                    const float *kj = k + ((size_t)b * Tk + j) * C + h * HS;
                    double d = 0.0;
                    for (int c = 0; c < HS; c++) d += (double)qi[c] * kj[c];
                    s[j] = d * scale;
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j < L; j++) sum += (s[j] = exp(s[j] - mx));
                for (int j = 0; j < Tk; j++) a[j] = j < L ? (float)(s[j] / sum) : 0.0f;
                for (int c = 0; c < HS; c++) {
                    double o = 0.0;
                    for (int j = 0; j < L; j++) o += s[j] / sum * v[((size_t)b * Tk + j) * C + h * HS + c];
                    out[((size_t)b * Tq + i) * C + h * HS + c] = (float)o;
                }
            }
}

void attention_backward_ref(float *dq, float *dk, float *dv, const float *dout, const float *datt_in, const float *att,
                            const float *q, const float *k, const float *v, float scale, int B, int Tq, int Tk, int C,
                            int NH, float *scratch) {
    int HS = C / NH;
    (void)scratch;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                size_t arow = (((size_t)b * NH + h) * Tq + i) * Tk;
                const float *a = att + arow;
                const float *go = dout + ((size_t)b * Tq + i) * C + h * HS;
                double da[Tk], dot = 0.0;
                for (int j = 0; j < Tk; j++) {
                    const float *vj = v + ((size_t)b * Tk + j) * C + h * HS;
                    double d = datt_in ? datt_in[arow + j] : 0.0;
                    for (int c = 0; c < HS; c++) d += (double)go[c] * vj[c];
                    da[j] = d;
                    dot += d * a[j];
                    if (dv)
                        for (int c = 0; c < HS; c++) dv[((size_t)b * Tk + j) * C + h * HS + c] += (float)(a[j] * go[c]);
                }
                for (int j = 0; j < Tk; j++) {
                    double ds = a[j] * (da[j] - dot) * scale;
                    for (int c = 0; c < HS; c++) {
                        if (dq)
                            dq[((size_t)b * Tq + i) * C + h * HS + c] +=
                                (float)(ds * k[((size_t)b * Tk + j) * C + h * HS + c]);
                        if (dk)
                            dk[((size_t)b * Tk + j) * C + h * HS + c] +=
                                (float)(ds * q[((size_t)b * Tq + i) * C + h * HS + c]);
                    }
                }
            }
}
