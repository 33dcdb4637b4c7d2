/* Decides the bf16 GEMM kernel (docs/perf-bf16.md): OpenBLAS SGEMM (ct_sgemm) against the
 * hand-written AVX512-BF16 kernel (ct_gemm_bf16), oneDNN's bf16 matmul and libxsmm's bf16 GEMM,
 * on the ViT-B/32 linear-layer shapes (batch 32 x 50 tokens = 1600 rows), forward (A B^T),
 * input gradient (A B) and weight gradient (A^T B), interleaved, 2 threads.
 * Not part of the build: scripts in docs/perf-bf16.md compile it against the library. */
#include <dnnl.h>
#include <libxsmm.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"

/* CPU=1 in the environment: time in CPU seconds of the process (all threads), which other
 * processes on a shared machine do not inflate; GFLOP/s are then per core. */
static double now(void) {
    struct timespec t;
    clock_gettime(getenv("CPU") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    const char *name;
    int ta, tb, M, N, K;
} shape;

/* ---- oneDNN: bf16 x bf16 -> f32 matmul; inputs converted by a reorder each call (what a
 * caller with fp32 activations pays), weights converted once (as ctcir would). */
typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_primitive_t mm, ra;
    dnnl_memory_t a32, a16, b16, c32;
} dnnl_case;

#define DN(x)                                                                                                          \
    do {                                                                                                               \
        dnnl_status_t s_ = (x);                                                                                        \
        if (s_ != dnnl_success) {                                                                                      \
            fprintf(stderr, "dnnl %d at %d\n", s_, __LINE__);                                                          \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)

static void dims_of(int t, int r, int c, dnnl_dims_t d, dnnl_dims_t s) {
    /* logical [r, c] of op(X); stored [r,c] row-major, or [c,r] when t */
    d[0] = r;
    d[1] = c;
    if (t) {
        s[0] = 1;
        s[1] = r;
    } else {
        s[0] = c;
        s[1] = 1;
    }
}

static void dnnl_setup(dnnl_case *dc, const shape *s, float *A, float *B, float *C) {
    DN(dnnl_engine_create(&dc->eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&dc->st, dc->eng, dnnl_stream_default_flags));
    dnnl_dims_t ad, as, bd, bs, cd = {s->M, s->N}, cs = {s->N, 1};
    dims_of(s->ta, s->M, s->K, ad, as);
    dims_of(s->tb, s->K, s->N, bd, bs);
    dnnl_memory_desc_t a32d, a16d, b32d, b16d, c32d;
    DN(dnnl_memory_desc_init_by_strides(&a32d, 2, ad, dnnl_f32, as));
    DN(dnnl_memory_desc_init_by_strides(&a16d, 2, ad, dnnl_bf16, as));
    DN(dnnl_memory_desc_init_by_strides(&b32d, 2, bd, dnnl_f32, bs));
    DN(dnnl_memory_desc_init_by_strides(&b16d, 2, bd, dnnl_bf16, bs));
    DN(dnnl_memory_desc_init_by_strides(&c32d, 2, cd, dnnl_f32, cs));
    dnnl_matmul_desc_t md;
    DN(dnnl_matmul_desc_init(&md, &a16d, &b16d, NULL, &c32d));
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &md, NULL, dc->eng, NULL));
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    fprintf(stderr, "  onednn impl for %s: %s\n", s->name, impl ? impl : "?");
    DN(dnnl_primitive_create(&dc->mm, pd));
    DN(dnnl_memory_create(&dc->a32, &a32d, dc->eng, A));
    DN(dnnl_memory_create(&dc->a16, &a16d, dc->eng, DNNL_MEMORY_ALLOCATE));
    DN(dnnl_memory_create(&dc->b16, &b16d, dc->eng, DNNL_MEMORY_ALLOCATE));
    DN(dnnl_memory_create(&dc->c32, &c32d, dc->eng, C));
    dnnl_memory_t b32;
    DN(dnnl_memory_create(&b32, &b32d, dc->eng, B));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t rb;
    DN(dnnl_reorder_primitive_desc_create(&rpd, &b32d, dc->eng, &b16d, dc->eng, NULL));
    DN(dnnl_primitive_create(&rb, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, b32}, {DNNL_ARG_TO, dc->b16}};
    DN(dnnl_primitive_execute(rb, dc->st, 2, rargs));
    DN(dnnl_stream_wait(dc->st));
    DN(dnnl_reorder_primitive_desc_create(&rpd, &a32d, dc->eng, &a16d, dc->eng, NULL));
    DN(dnnl_primitive_create(&dc->ra, rpd));
}

static void dnnl_run(dnnl_case *dc) {
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, dc->a32}, {DNNL_ARG_TO, dc->a16}};
    DN(dnnl_primitive_execute(dc->ra, dc->st, 2, rargs));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, dc->a16}, {DNNL_ARG_WEIGHTS, dc->b16}, {DNNL_ARG_DST, dc->c32}};
    DN(dnnl_primitive_execute(dc->mm, dc->st, 3, args));
    DN(dnnl_stream_wait(dc->st));
}

/* ---- libxsmm 1.17: bf16 GEMM through libxsmm_bsmm (column-major, so C^T = op(B)^T op(A)^T);
 * inputs converted to bf16 each call for A, once for B. */
static void to_bf16(libxsmm_bfloat16 *d, const float *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float r = ct_bf16_round(s[i]);
        unsigned u;
        memcpy(&u, &r, 4);
        d[i] = (libxsmm_bfloat16)(u >> 16);
    }
}

static double flops(const shape *s) { return 2.0 * s->M * s->N * s->K; }

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    int nt = 2;
    omp_set_num_threads(nt);
    if (!ct_bf16_supported()) {
        fprintf(stderr, "no AVX512_BF16\n");
        return 1;
    }
    libxsmm_init();
    shape shapes[] = {
        {"fwd qkv/o  1600x768 . (768x768)^T", 0, 1, 1600, 768, 768},
        {"fwd fc1    1600x768 . (3072x768)^T", 0, 1, 1600, 3072, 768},
        {"fwd fc2    1600x3072 . (768x3072)^T", 0, 1, 1600, 768, 3072},
        {"bwd dinp   1600x3072 . 3072x768", 0, 0, 1600, 768, 3072},
        {"bwd dinp   1600x768 . 768x3072", 0, 0, 1600, 3072, 768},
        {"bwd dW     (1600x3072)^T . 1600x768", 1, 0, 3072, 768, 1600},
        {"bwd dW     (1600x768)^T . 1600x768", 1, 0, 768, 768, 1600},
    };
    int ns = sizeof shapes / sizeof *shapes;
    printf("%-40s %9s %9s %9s %9s %9s  %s\n", "shape (GFLOP/s, 2 threads)", "sgemm", "ct_bf16", "onednn", "xsmm",
           "bf16/sg", "maxrel(ct vs ref)");
    int only = getenv("ONLY") ? atoi(getenv("ONLY")) : -1;
    for (int si = 0; si < ns; si++) {
        if (only >= 0 && si != only) continue;
        const shape *s = &shapes[si];
        int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * 4), *B = malloc(nb * 4), *C = malloc(nc * 4), *C2 = malloc(nc * 4);
        srand(1);
        for (size_t i = 0; i < na; i++) A[i] = rand() / (float)RAND_MAX - 0.5f;
        for (size_t i = 0; i < nb; i++) B[i] = rand() / (float)RAND_MAX - 0.5f;
        dnnl_case dc;
        dnnl_setup(&dc, s, A, B, C2);
        /* libxsmm: column-major view: C^T[N,M] = op(B)^T [N,K] op(A)^T [K,M]; row-major A with
         * lda is column-major A^T. transa for xsmm = tb, transb = ta. */
        libxsmm_bfloat16 *A16 = malloc(na * 2), *B16 = malloc(nb * 2);
        to_bf16(B16, B, nb);
        double best[4] = {1e9, 1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t;
            t = now();
            ct_sgemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
            t = now() - t;
            if (t < best[0]) best[0] = t;
            t = now();
            ct_gemm_bf16(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N, nt);
            t = now() - t;
            if (t < best[1]) best[1] = t;
            t = now();
            dnnl_run(&dc);
            t = now() - t;
            if (t < best[2]) best[2] = t;
            if (r > 0 || !getenv("XSMM")) continue; /* libxsmm: once, only when asked (slow) */
            t = now();
            to_bf16(A16, A, na);
            {
                char transa = s->tb ? 'T' : 'N', transb = s->ta ? 'T' : 'N';
/* libxsmm_bsgemm is serial: each of the nt threads takes a slice of C's rows */
#pragma omp parallel num_threads(nt)
                {
                    int ti = omp_get_thread_num(), r0 = s->M * ti / nt, r1 = s->M * (ti + 1) / nt;
                    libxsmm_blasint m = s->N, n = r1 - r0, k = s->K, ldA = ldb, ldB = lda, ldC = s->N;
                    float alpha = 1.0f, beta = 0.0f;
                    const libxsmm_bfloat16 *a = s->ta ? A16 + r0 : A16 + (size_t)r0 * lda;
                    libxsmm_bsgemm(&transa, &transb, &m, &n, &k, &alpha, B16, &ldA, a, &ldB, &beta,
                                   C2 + (size_t)r0 * s->N, &ldC);
                }
            }
            t = now() - t;
            if (t < best[3]) best[3] = t;
        }
        /* accuracy of ct_gemm_bf16 against the reference on a 64x64 corner */
        ct_gemm_bf16(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N, nt);
        double worst = 0;
        int Ms = 64, Nsub = 64;
        float *R = malloc((size_t)Ms * s->N * 4);
        ct_gemm_bf16_ref(s->ta, s->tb, Ms, Nsub, s->K, 1.0f, A, lda, B, ldb, 0.0f, R, s->N);
        for (int m = 0; m < Ms; m++)
            for (int n = 0; n < Nsub; n++) {
                double e =
                    fabs(C[(size_t)m * s->N + n] - R[(size_t)m * s->N + n]) / (1 + fabs(R[(size_t)m * s->N + n]));
                if (e > worst) worst = e;
            }
        printf("%-40s %9.1f %9.1f %9.1f %9.1f %9.2f  %.2g\n", s->name, flops(s) / best[0] * 1e-9,
               flops(s) / best[1] * 1e-9, flops(s) / best[2] * 1e-9, flops(s) / best[3] * 1e-9, best[0] / best[1],
               worst);
        fflush(stdout);
        free(A);
        free(B);
        free(C);
        free(C2);
        free(A16);
        free(B16);
        free(R);
    }
    return 0;
}
