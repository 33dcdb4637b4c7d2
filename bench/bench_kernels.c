/* Every kernel of one CLIP encoder layer at ViT-B/32 vision shapes (D=768, F=3072, NH=12,
 * T=50), timed alone (best of reps, the estimate least hurt by other processes), and the
 * layer's time split by kernel. Usage: bench_kernels [threads=2] [batch=32] [reps=5] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "nn/nn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *buf(size_t n) {
    float *x = malloc(n * sizeof *x);
    unsigned s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) * (1.0 / 16777216.0) - 0.5);
    }
    return x;
}

enum { K_LN, K_QKV, K_ATT, K_O, K_RES, K_FC1, K_ACT, K_FC2, K_N };
static const char *kname[K_N] = {"layernorm", "q/k/v linear", "attention",  "out linear",
                                 "residual",  "fc1 linear",   "quick_gelu", "fc2 linear"};
/* how many times each appears per layer */
static const int kcount[K_N] = {2, 3, 1, 1, 2, 1, 1, 1};

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, B = argc > 2 ? atoi(argv[2]) : 32, reps = argc > 3 ? atoi(argv[3]) : 5;
    if (threads < 1 || B < 1 || reps < 1) {
        fprintf(stderr, "usage: bench_kernels [threads=2] [batch=32] [reps=5]\n");
        return 2;
    }
    ct_set_threads(threads);
    int T = 50, D = 768, F = 3072, NH = 12, N = B * T;
    size_t nd = (size_t)N * D, nf = (size_t)N * F, natt = (size_t)B * NH * T * T;
    float *x = buf(nd), *y = buf(nd), *q = buf(nd), *k = buf(nd), *v = buf(nd), *o = buf(nd);
    float *h = buf(nf), *a = buf(nf), *att = buf(natt), *scr = buf(natt);
    float *dx = buf(nd), *dy = buf(nd), *dq = buf(nd), *dk = buf(nd), *dv = buf(nd), *dh = buf(nf), *da = buf(nf);
    float *w = buf((size_t)F * D), *dw = buf((size_t)F * D), *bias = buf(F), *dbias = buf(F);
    float *lw = buf(D), *lb = buf(D), *mean = buf(N), *rstd = buf(N);
    for (int i = 0; i < D; i++) lw[i] += 1.0f;
    float scale = 1.0f / sqrtf((float)(D / NH));
    double fwd[K_N], bwd[K_N];
    for (int kk = 0; kk < K_N; kk++) {
        for (int dir = 0; dir < 2; dir++) {
            double best = INFINITY;
            for (int r = 0; r <= reps; r++) { /* r = 0 warms up */
                double t0 = now();
                switch (kk * 2 + dir) {
                case K_LN * 2: layernorm_forward(y, mean, rstd, x, lw, lb, N, D, 1e-5f); break;
                case K_LN * 2 + 1: layernorm_backward(dx, dw, dbias, dy, x, lw, mean, rstd, N, D); break;
                case K_QKV * 2: linear_forward(q, x, w, bias, N, D, D); break;
                case K_QKV * 2 + 1: linear_backward(dx, dw, dbias, dq, x, w, N, D, D); break;
                case K_ATT * 2: attention_forward(o, att, q, k, v, NULL, false, scale, B, T, T, D, NH); break;
                case K_ATT * 2 + 1:
                    attention_backward(dq, dk, dv, dy, NULL, att, q, k, v, scale, B, T, T, D, NH, scr);
                    break;
                case K_O * 2: linear_forward(y, o, w, bias, N, D, D); break;
                case K_O * 2 + 1: linear_backward(dx, dw, dbias, dy, o, w, N, D, D); break;
                case K_RES * 2: residual_forward(y, y, x, nd); break;
                case K_RES * 2 + 1: residual_backward(dx, dq, dy, nd); break;
                case K_FC1 * 2: linear_forward(h, y, w, bias, N, D, F); break;
                case K_FC1 * 2 + 1: linear_backward(dx, dw, dbias, dh, y, w, N, D, F); break;
                case K_ACT * 2: quick_gelu_forward(a, h, nf); break;
                case K_ACT * 2 + 1: quick_gelu_backward(dh, da, h, nf); break;
                case K_FC2 * 2: linear_forward(y, a, w, bias, N, F, D); break;
                case K_FC2 * 2 + 1: linear_backward(da, dw, dbias, dy, a, w, N, F, D); break;
                }
                double t = now() - t0;
                if (r && t < best) best = t;
            }
            (dir ? bwd : fwd)[kk] = best * kcount[kk];
        }
    }
    double tf = 0, tb = 0;
    for (int kk = 0; kk < K_N; kk++) tf += fwd[kk], tb += bwd[kk];
    printf("one ViT-B/32 layer, batch %d, %d thread(s), best of %d: forward %.2f ms, backward %.2f ms\n", B, threads,
           reps, tf * 1e3, tb * 1e3);
    printf("%-14s %6s %10s %6s %10s %6s\n", "kernel", "count", "fwd ms", "fwd %", "bwd ms", "bwd %");
    for (int kk = 0; kk < K_N; kk++)
        printf("%-14s %6d %10.2f %5.1f%% %10.2f %5.1f%%\n", kname[kk], kcount[kk], fwd[kk] * 1e3, 100 * fwd[kk] / tf,
               bwd[kk] * 1e3, 100 * bwd[kk] / tb);
    double gf = 2.0 * N * ((double)D * D * 4 + 2.0 * D * F);
    printf("linear GFLOP/s: forward %.0f, backward %.0f\n",
           gf / ((fwd[K_QKV] + fwd[K_O] + fwd[K_FC1] + fwd[K_FC2]) * 1e9),
           2 * gf / ((bwd[K_QKV] + bwd[K_O] + bwd[K_FC1] + bwd[K_FC2]) * 1e9));
    free(x);
    free(y);
    free(q);
    free(k);
    free(v);
    free(o);
    free(h);
    free(a);
    free(att);
    free(scr);
    free(dx);
    free(dy);
    free(dq);
    free(dk);
    free(dv);
    free(dh);
    free(da);
    free(w);
    free(dw);
    free(bias);
    free(dbias);
    free(lw);
    free(lb);
    free(mean);
    free(rstd);
    return 0;
}
