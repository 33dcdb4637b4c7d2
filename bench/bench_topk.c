/* Latency of exact cosine top-10 for one query against galleries of random embeddings
 * (P = 768), F32 and F16, and the throughput of a batch of queries.
 * usage: bench_topk [max_gallery (default 1000000)] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"
#include "ctcir/index.h"
#include "retrieval/ret_internal.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    long maxg = argc > 1 ? atol(argv[1]) : 1000000;
    const int P = 768, k = 10, QB = 64;
    ct_rng r;
    ct_rng_seed(&r, 1);
    float *q = malloc((size_t)QB * P * sizeof *q);
    for (int i = 0; i < QB * P; i++) q[i] = (float)ct_rng_uniform(&r) - 0.5f;
    float *g = malloc((size_t)maxg * P * sizeof *g);
    uint16_t *h = malloc((size_t)maxg * P * sizeof *h);
    if (!g || !h) { fprintf(stderr, "cannot allocate %ld x %d\n", maxg, P); return 1; }
    for (size_t i = 0; i < (size_t)maxg * P; i++) {
        g[i] = (float)ct_rng_uniform(&r) - 0.5f;
        h[i] = ct_f32_to_f16(g[i]);
    }
    int idx[QB * 10];
    float sc[QB * 10];
    printf("%-9s %-4s %14s %18s\n", "gallery", "type", "1 query (ms)", "64 queries (ms/q)");
    for (long G = 10000; G <= maxg; G *= 10) {
        for (int t = 0; t < 2; t++) {
            ct_dtype dt = t ? CT_DT_F16 : CT_DT_F32;
            const void *gal = t ? (const void *)h : (const void *)g;
            int reps = G <= 100000 ? 5 : 2;
            double best1 = 1e30, bestb = 1e30;
            for (int rep = 0; rep < reps; rep++) {
                double t0 = now();
                if (ct_topk(idx, sc, q, 1, gal, dt, G, P, k)) { fprintf(stderr, "%s\n", ct_error()); return 1; }
                double t1 = now();
                if (ct_topk(idx, sc, q, QB, gal, dt, G, P, k)) { fprintf(stderr, "%s\n", ct_error()); return 1; }
                double t2 = now();
                if (t1 - t0 < best1) best1 = t1 - t0;
                if (t2 - t1 < bestb) bestb = t2 - t1;
            }
            printf("%-9ld %-4s %14.2f %18.3f\n", G, t ? "F16" : "F32", 1e3 * best1, 1e3 * bestb / QB);
            fflush(stdout);
        }
    }
    free(q);
    free(g);
    free(h);
    return 0;
}
