/* Patch embedding: a stride-p convolution without bias (CLIP's conv1), as im2col + GEMM.
 * Patches are taken row-major (patch index = row * G + col, G = S / p); a patch's column
 * vector is ordered (channel, ky, kx), which is the flattening of the [D, Cin, p, p] weight. */
#include <string.h>

#include "core/blas.h"
#include "nn/nn.h"

/* cols [B*G*G, Cin*p*p] <- pix [B,Cin,S,S] */
static void im2col(float *cols, const float *pix, int B, int Cin, int S, int p) {
    int G = S / p, K = Cin * p * p;
#pragma omp parallel for if ((size_t)B * Cin * S * S > 65536)
    for (int bp = 0; bp < B * G * G; bp++) {
        int b = bp / (G * G), gy = (bp / G) % G, gx = bp % G;
        float *col = cols + (size_t)bp * K;
        for (int c = 0; c < Cin; c++)
            for (int ky = 0; ky < p; ky++)
                memcpy(col + ((size_t)c * p + ky) * p,
                       pix + (((size_t)b * Cin + c) * S + (size_t)gy * p + ky) * S + (size_t)gx * p,
                       (size_t)p * sizeof(float));
    }
}

void patch_embed_forward(float *out, float *cols, const float *pix, const float *weight, int B, int Cin, int S, int p,
                         int D) {
    int G = S / p;
    im2col(cols, pix, B, Cin, S, p);
    ct_matmul(false, true, B * G * G, D, Cin * p * p, 1.0f, cols, Cin * p * p, weight, Cin * p * p, 0.0f, out, D);
}

void patch_embed_backward(float *dpix, float *dweight, const float *dout, const float *cols, const float *weight,
                          float *scratch, int B, int Cin, int S, int p, int D) {
    int G = S / p, K = Cin * p * p, NP = B * G * G;
    if (dweight) ct_matmul(true, false, D, K, NP, 1.0f, dout, D, cols, K, 1.0f, dweight, K);
    if (!dpix) return;
    ct_matmul(false, false, NP, K, D, 1.0f, dout, D, weight, K, 0.0f, scratch, K);
/* col2im: patches do not overlap, so each pixel gets at most one contribution. */
#pragma omp parallel for if ((size_t)B * Cin * S * S > 65536)
    for (int bp = 0; bp < NP; bp++) {
        int b = bp / (G * G), gy = (bp / G) % G, gx = bp % G;
        const float *col = scratch + (size_t)bp * K;
        for (int c = 0; c < Cin; c++)
            for (int ky = 0; ky < p; ky++) {
                float *d = dpix + (((size_t)b * Cin + c) * S + (size_t)gy * p + ky) * S + (size_t)gx * p;
                const float *s = col + ((size_t)c * p + ky) * p;
                for (int kx = 0; kx < p; kx++) d[kx] += s[kx];
            }
    }
}

/* Direct convolution loops: the reference for the im2col + GEMM version. */
void patch_embed_forward_ref(float *out, const float *pix, const float *weight, int B, int Cin, int S, int p, int D) {
    int G = S / p;
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++)
                for (int d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int c = 0; c < Cin; c++)
                        for (int ky = 0; ky < p; ky++)
                            for (int kx = 0; kx < p; kx++)
                                acc += (double)weight[(((size_t)d * Cin + c) * p + ky) * p + kx] *
                                       pix[(((size_t)b * Cin + c) * S + gy * p + ky) * S + gx * p + kx];
                    out[(((size_t)b * G + gy) * G + gx) * D + d] = (float)acc;
                }
}
