/* Embeddings: CLIP's vision class token + position embedding, and the text token +
 * position embedding lookup. */
#include <string.h>

#include "nn/nn.h"

void class_pos_embed_forward(float *out, const float *patches, const float *cls, const float *pos, int B, int T,
                             int D) {
#pragma omp parallel for if ((size_t)B * T * D > 65536)
    for (int bt = 0; bt < B * T; bt++) {
        int b = bt / T, t = bt % T;
        const float *src = t == 0 ? cls : patches + ((size_t)b * (T - 1) + t - 1) * D;
        const float *pe = pos + (size_t)t * D;
        float *o = out + (size_t)bt * D;
        for (int d = 0; d < D; d++) o[d] = src[d] + pe[d];
    }
}

void class_pos_embed_backward(float *dpatches, float *dcls, float *dpos, const float *dout, int B, int T, int D) {
    if (dpatches) {
#pragma omp parallel for if ((size_t)B * T * D > 65536)
        for (int bt = 0; bt < B * T; bt++) {
            int b = bt / T, t = bt % T;
            if (t == 0) continue;
            float *dp = dpatches + ((size_t)b * (T - 1) + t - 1) * D;
            const float *g = dout + (size_t)bt * D;
            for (int d = 0; d < D; d++) dp[d] += g[d];
        }
    }
    if (dcls)
        for (int b = 0; b < B; b++)
            for (int d = 0; d < D; d++) dcls[d] += dout[(size_t)b * T * D + d];
    if (dpos) {
#pragma omp parallel for if ((size_t)B * T * D > 65536)
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
                for (int d = 0; d < D; d++) dpos[(size_t)t * D + d] += dout[((size_t)b * T + t) * D + d];
    }
}

void token_embed_forward(float *out, const int *ids, const float *wte, const float *wpe, int B, int T, int D) {
#pragma omp parallel for if ((size_t)B * T * D > 65536)
    for (int bt = 0; bt < B * T; bt++) {
        const float *e = wte + (size_t)ids[bt] * D;
        float *o = out + (size_t)bt * D;
        if (wpe) {
            const float *pe = wpe + (size_t)(bt % T) * D;
            for (int d = 0; d < D; d++) o[d] = e[d] + pe[d];
        } else {
            memcpy(o, e, (size_t)D * sizeof(float));
        }
    }
}

void token_embed_backward(float *dwte, float *dwpe, const float *dout, const int *ids, int B, int T, int D) {
    /* Serial over tokens: two tokens may share an id (rows are touched sparsely). */
    if (dwte)
        for (int bt = 0; bt < B * T; bt++) {
            float *g = dwte + (size_t)ids[bt] * D;
            const float *s = dout + (size_t)bt * D;
            for (int d = 0; d < D; d++) g[d] += s[d];
        }
    if (dwpe) {
#pragma omp parallel for if ((size_t)B * T * D > 65536)
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
                for (int d = 0; d < D; d++) dwpe[(size_t)t * D + d] += dout[((size_t)b * T + t) * D + d];
    }
}
