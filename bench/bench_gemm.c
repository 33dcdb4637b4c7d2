/* SGEMM GFLOP/s of the running OpenBLAS kernel at the ViT-B/32 linear-layer shapes (tokens
 * B*50, D=768, F=3072), forward (A W^T) and weight gradient (dY^T X), best of reps. The kernel
 * is fixed when OpenBLAS loads, so compare kernels by running this once per kernel, e.g.
 *     for k in Haswell SkylakeX Cooperlake; do OPENBLAS_CORETYPE=$k build/bench/bench_gemm; done
 * Usage: bench_gemm [threads=1] [batch=8] [reps=5] */
#include <stdio.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/rng.h"
#include "core/timer.h"

static float *buf(size_t n, ct_rng *rng) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; x && i < n; i++) x[i] = (float)(ct_rng_uniform(rng) - 0.5);
    return x;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, B = argc > 2 ? atoi(argv[2]) : 8, reps = argc > 3 ? atoi(argv[3]) : 5;
    if (threads < 1 || B < 1 || reps < 1) {
        fprintf(stderr, "usage: bench_gemm [threads=1] [batch=8] [reps=5]\n");
        return 2;
    }
    ct_set_threads(threads);
    const int T = B * 50, D = 768, F = 3072;
    size_t rows = (size_t)(T > F ? T : F); /* C is [T,F] or [F,768]; B of dW is [T,768] */
    ct_rng rng;
    ct_rng_seed(&rng, 7);
    float *x = buf((size_t)T * F, &rng), *w = buf(rows * F, &rng), *y = buf(rows * F, &rng);
    if (!x || !w || !y) return 1;
    /* name, trans_a, trans_b, M, N, K */
    const struct {
        const char *name;
        bool ta, tb;
        int M, N, K;
    } cases[] = {
        {"qkv fwd  [T,768]x[768,768]^T", false, true, T, D, D},
        {"fc1 fwd  [T,768]x[3072,768]^T", false, true, T, F, D},
        {"fc2 fwd  [T,3072]x[768,3072]^T", false, true, T, D, F},
        {"fc1 dW   [T,3072]^T x [T,768]", true, false, F, D, T},
    };
    char blas[256];
    ct_blas_describe(blas, sizeof blas);
    printf("%s, %d thread(s), T=%d\n", blas, threads, T);
    double total_flop = 0, total_s = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int M = cases[c].M, N = cases[c].N, K = cases[c].K;
        int lda = cases[c].ta ? M : K, ldb = cases[c].tb ? K : N;
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = ct_now_s();
            ct_sgemm(cases[c].ta, cases[c].tb, M, N, K, 1.0f, x, lda, w, ldb, 0.0f, y, N);
            double dt = ct_now_s() - t0;
            if (dt < best) best = dt;
        }
        double flop = 2.0 * M * N * K;
        total_flop += flop, total_s += best;
        printf("  %-34s %7.1f GFLOP/s\n", cases[c].name, flop / best * 1e-9);
    }
    printf("  %-34s %7.1f GFLOP/s\n", "all four", total_flop / total_s * 1e-9);
    free(x), free(w), free(y);
    return 0;
}
