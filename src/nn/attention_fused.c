/* Fused multi-head attention for callers that do not need the attention map (the CLIP
 * towers). attention_forward materialises att [B,NH,Tq,Tk] for the whole batch and keeps it
 * for backward; here each (batch, head) pair walks its query rows in blocks of
 * CT_ATT_ROW_BLOCK, and a block's scores [QB,Tk] live only in a per-thread scratch slot.
 * Forward keeps two numbers per query row, the row's max score and the sum of its
 * exponentials (stats [B,NH,Tq,2]); backward recomputes the block's scores from q and k and
 * rebuilds the softmax weights from those statistics, so nothing of size Tq*Tk outlives a
 * block.
 *
 * A block holds whole key rows (Tk is at most a few hundred tokens in CLIP), so the softmax
 * of a row is computed in one pass over its keys rather than by the online rescaling that
 * flash attention needs when keys are streamed too; the weights are then bit-identical to
 * attention_forward's (same products, same softmax arithmetic), which the tests check.
 *
 * Scratch: attention_fused_scratch_floats(Tq, Tk, nslots) floats, split into nslots slots;
 * the kernels run at most nslots OpenMP threads and each thread uses its own slot. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/blas.h"
#include "nn/nn.h"
#include "nn/vecmath.h"

static inline int valid_keys(const int *key_len, bool causal, int b, int i, int Tk) {
    int L = key_len ? key_len[b] : Tk;
    if (L > Tk) L = Tk;
    if (causal && i + 1 < L) L = i + 1;
    return L;
}

static inline int row_block(int Tq) { return Tq < CT_ATT_ROW_BLOCK ? Tq : CT_ATT_ROW_BLOCK; }

size_t attention_fused_scratch_floats(int Tq, int Tk, int nslots) {
    return (size_t)(nslots < 1 ? 1 : nslots) * 2 * row_block(Tq) * Tk;
}

/* The softmax weights of one row rebuilt from its scores and saved statistics: the same
 * arithmetic as softmax_row_stats, so the same floats. Masked entries (j >= L) become 0. */
static inline void softmax_row_rebuild(float *y, int L, int Tk, float mx, float s) {
#pragma omp simd
    for (int c = 0; c < L; c++) y[c] = ct_expf(y[c] - mx);
    float inv = 1.0f / s;
    for (int c = 0; c < L; c++) y[c] *= inv;
    memset(y + L, 0, (size_t)(Tk - L) * sizeof(float));
}

void attention_fused_forward(float *out, float *stats, const float *q, const float *k, const float *v,
                             const int *key_len, bool causal, float scale, int B, int Tq, int Tk, int C, int NH,
                             float *scratch, int nslots) {
    int HS = C / NH, QB = row_block(Tq);
    size_t slot = 2 * (size_t)QB * Tk;
    if (nslots < 1) nslots = 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nslots)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        float *s = scratch + (size_t)omp_get_thread_num() * slot;
        const float *kh = k + (size_t)b * Tk * C + (size_t)h * HS;
        const float *vh = v + (size_t)b * Tk * C + (size_t)h * HS;
        for (int i0 = 0; i0 < Tq; i0 += QB) {
            int nb = Tq - i0 < QB ? Tq - i0 : QB;
            const float *qh = q + ((size_t)b * Tq + i0) * C + (size_t)h * HS;
            float *oh = out + ((size_t)b * Tq + i0) * C + (size_t)h * HS;
            float *st = stats + ((size_t)bh * Tq + i0) * 2;
            ct_matmul(false, true, nb, Tk, HS, scale, qh, C, kh, C, 0.0f, s, Tk);
            for (int i = 0; i < nb; i++) {
                float *row = s + (size_t)i * Tk;
                int L = valid_keys(key_len, causal, b, i0 + i, Tk);
                softmax_row_stats(row, row, L, &st[2 * i], &st[2 * i + 1]);
                memset(row + L, 0, (size_t)(Tk - L) * sizeof(float));
            }
            ct_matmul(false, false, nb, HS, Tk, 1.0f, s, Tk, vh, C, 0.0f, oh, C);
        }
    }
}

void attention_fused_backward(float *dq, float *dk, float *dv, const float *dout, const float *stats, const float *q,
                              const float *k, const float *v, const int *key_len, bool causal, float scale, int B,
                              int Tq, int Tk, int C, int NH, float *scratch, int nslots) {
    int HS = C / NH, QB = row_block(Tq);
    size_t slot = 2 * (size_t)QB * Tk;
    if (nslots < 1) nslots = 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nslots)
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        float *a = scratch + (size_t)omp_get_thread_num() * slot, *ds = a + (size_t)QB * Tk;
        size_t koff = (size_t)b * Tk * C + (size_t)h * HS;
        for (int i0 = 0; i0 < Tq; i0 += QB) {
            int nb = Tq - i0 < QB ? Tq - i0 : QB;
            size_t qoff = ((size_t)b * Tq + i0) * C + (size_t)h * HS;
            const float *st = stats + ((size_t)bh * Tq + i0) * 2;
            /* the block's weights, recomputed */
            ct_matmul(false, true, nb, Tk, HS, scale, q + qoff, C, k + koff, C, 0.0f, a, Tk);
            for (int i = 0; i < nb; i++)
                softmax_row_rebuild(a + (size_t)i * Tk, valid_keys(key_len, causal, b, i0 + i, Tk), Tk, st[2 * i],
                                    st[2 * i + 1]);
            /* then as attention_backward, one block of rows at a time */
            ct_matmul(false, true, nb, Tk, HS, 1.0f, dout + qoff, C, v + koff, C, 0.0f, ds, Tk);
            if (dv) ct_matmul(true, false, Tk, HS, nb, 1.0f, a, Tk, dout + qoff, C, 1.0f, dv + koff, C);
            for (int i = 0; i < nb; i++) softmax_row_backward_inplace(ds + (size_t)i * Tk, a + (size_t)i * Tk, Tk);
            if (dq) ct_matmul(false, false, nb, HS, Tk, scale, ds, Tk, k + koff, C, 1.0f, dq + qoff, C);
            if (dk) ct_matmul(true, false, Tk, HS, nb, scale, ds, Tk, q + qoff, C, 1.0f, dk + koff, C);
        }
    }
}

/* Reference: attention_forward_ref (double sums) for the output, the statistics from the
 * double scores. `att_scratch` holds B*NH*Tq*Tk floats: the reference may materialise. */
void attention_fused_forward_ref(float *out, float *stats, const float *q, const float *k, const float *v,
                                 const int *key_len, bool causal, float scale, int B, int Tq, int Tk, int C, int NH,
                                 float *att_scratch) {
    int HS = C / NH;
    attention_forward_ref(out, att_scratch, q, k, v, key_len, causal, scale, B, Tq, Tk, C, NH);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                const float *qi = q + ((size_t)b * Tq + i) * C + h * HS;
                int L = valid_keys(key_len, causal, b, i, Tk);
                double mx = -INFINITY, sum = 0.0, s[Tk];
                for (int j = 0; j < L; j++) {
                    const float *kj = k + ((size_t)b * Tk + j) * C + h * HS;
                    double d = 0.0;
                    for (int c = 0; c < HS; c++) d += (double)qi[c] * kj[c];
                    s[j] = d * scale;
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j < L; j++) sum += exp(s[j] - mx);
                float *st = stats + (((size_t)b * NH + h) * Tq + i) * 2;
                st[0] = (float)mx;
                st[1] = (float)sum;
            }
}

/* Reference backward: rebuilds the weights in double from q, k and the statistics alone (it
 * does not trust a forward's map), then attention_backward_ref. */
void attention_fused_backward_ref(float *dq, float *dk, float *dv, const float *dout, const float *stats,
                                  const float *q, const float *k, const float *v, const int *key_len, bool causal,
                                  float scale, int B, int Tq, int Tk, int C, int NH, float *att_scratch) {
    int HS = C / NH;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++) {
                const float *qi = q + ((size_t)b * Tq + i) * C + h * HS;
                const float *st = stats + (((size_t)b * NH + h) * Tq + i) * 2;
                float *a = att_scratch + (((size_t)b * NH + h) * Tq + i) * Tk;
                int L = valid_keys(key_len, causal, b, i, Tk);
                for (int j = 0; j < Tk; j++) {
                    if (j >= L) {
                        a[j] = 0.0f;
                        continue;
                    }
                    const float *kj = k + ((size_t)b * Tk + j) * C + h * HS;
                    double d = 0.0;
                    for (int c = 0; c < HS; c++) d += (double)qi[c] * kj[c];
                    a[j] = (float)(exp(d * scale - st[0]) / st[1]);
                }
            }
    attention_backward_ref(dq, dk, dv, dout, NULL, att_scratch, q, k, v, scale, B, Tq, Tk, C, NH, NULL);
}
