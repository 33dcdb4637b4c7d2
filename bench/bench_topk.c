/* Exact cosine top-10 over galleries of random embeddings (P = 768), F32 and F16: latency of
 * one query and time per query of a batch of 64, for the kernel the CPU gets (avx512 or
 * portable), the portable one when asked (-p), and ct_topk_ref for one query on galleries up
 * to 100k rows. Wall time is the best of the repetitions; "cpu" is the process CPU time of
 * that same fastest repetition (all threads), steadier than wall time on a busy machine.
 * Compare with scripts/bench_topk_numpy.py by alternating the two programs.
 * usage: bench_topk [max_gallery (default 1000000)] [-r reps (default 5, 2 at >= 1M)]
 *                   [-m min_gallery (default 10000)] [-p] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rng.h"
#include "ctcir/index.h"
#include "retrieval/ret_internal.h"

static double clock_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
    double wall, cpu;
} timing;

typedef ct_status (*topk_fn)(int *, float *, const float *, int, const void *, ct_dtype, int64_t, int, int);

/* Best wall time of reps calls (and that call's CPU time). */
static int run(timing *best, topk_fn f, int reps, int *idx, float *sc, const float *q, int Q, const void *gal,
               ct_dtype dt, long G, int P, int k) {
    best->wall = best->cpu = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (f(idx, sc, q, Q, gal, dt, G, P, k)) {
            fprintf(stderr, "%s\n", ct_error());
            return 1;
        }
        double w = clock_s(CLOCK_MONOTONIC) - w0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (w < best->wall) *best = (timing){w, c};
    }
    return 0;
}

int main(int argc, char **argv) {
    long maxg = 1000000, ming = 10000;
    int reps = 0, portable = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            ming = atol(argv[++i]);
        else if (!strcmp(argv[i], "-p"))
            portable = 1;
        else if (argv[i][0] != '-' && atol(argv[i]) > 0)
            maxg = atol(argv[i]);
        else {
            fprintf(stderr, "usage: bench_topk [max_gallery] [-r reps] [-m min_gallery] [-p]\n");
            return 2;
        }
    }
    const int P = 768, k = 10, QB = 64;
    ct_rng r;
    ct_rng_seed(&r, 1);
    float *q = malloc((size_t)QB * P * sizeof *q);
    for (int i = 0; i < QB * P; i++) q[i] = (float)ct_rng_uniform(&r) - 0.5f;
    float *g = malloc((size_t)maxg * P * sizeof *g);
    uint16_t *h = malloc((size_t)maxg * P * sizeof *h);
    if (!g || !h) {
        fprintf(stderr, "cannot allocate %ld x %d\n", maxg, P);
        return 1;
    }
    for (size_t i = 0; i < (size_t)maxg * P; i++) {
        g[i] = (float)ct_rng_uniform(&r) - 0.5f;
        h[i] = ct_f32_to_f16(g[i]);
    }
    int idx[QB * 10];
    float sc[QB * 10];
    const char *fast = ct_topk_kernel_name();
    printf("%-9s %-4s %-8s %14s %10s %18s %10s\n", "gallery", "type", "kernel", "1 query (ms)", "cpu (ms)",
           "64 queries (ms/q)", "cpu (ms/q)");
    for (long G = ming; G <= maxg; G *= 10) {
        int n = reps > 0 ? reps : G >= 1000000 ? 2 : 5;
        for (int t = 0; t < 2; t++) {
            ct_dtype dt = t ? CT_DT_F16 : CT_DT_F32;
            const void *gal = t ? (const void *)h : (const void *)g;
            for (int v = 0; v < 2 + (G <= 100000); v++) {
                timing one, batch = {0, 0};
                const char *name = v == 0 ? fast : v == 1 ? "portable" : "ref";
                if (v == 1 && (!portable || !strcmp(fast, "portable"))) continue;
                ct_topk_force_portable(v == 1);
                if (run(&one, v == 2 ? ct_topk_ref : ct_topk, v == 2 ? 1 : n, idx, sc, q, 1, gal, dt, G, P, k))
                    return 1;
                if (v < 2 && run(&batch, ct_topk, n, idx, sc, q, QB, gal, dt, G, P, k)) return 1;
                printf("%-9ld %-4s %-8s %14.2f %10.2f", G, t ? "F16" : "F32", name, 1e3 * one.wall, 1e3 * one.cpu);
                if (v < 2) printf(" %18.3f %10.3f", 1e3 * batch.wall / QB, 1e3 * batch.cpu / QB);
                printf("\n");
                fflush(stdout);
            }
            ct_topk_force_portable(false);
        }
    }
    free(q);
    free(g);
    free(h);
    return 0;
}
