/* The only door to BLAS: every matrix product in ctcir goes through ct_sgemm.
 * Row-major. C[M,N] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T. */
#ifndef CTCIR_CORE_BLAS_H
#define CTCIR_CORE_BLAS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctcir/runtime.h" /* ct_set_threads */
#include "ctcir/status.h"

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc);

/* Threads ct_sgemm splits one product over when called outside an OpenMP region (OpenBLAS
 * itself always runs single-threaded; see blas.c). n <= 0: the OpenMP team size. */
void ct_blas_set_threads(int n);
int ct_blas_get_threads(void);

/* ct_precision, ct_precision_parse/name and ct_set/get_matmul_precision are public:
 * ctcir/runtime.h. */

/* A model's matrix product: ct_sgemm at fp32, ct_gemm_bf16 at bf16. Same arguments as ct_sgemm. */
void ct_matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
               int ldb, float beta, float *C, int ldc);

/* Floating-point operations (2 M N K per product) ct_matmul has run since the start, all threads:
 * what `ctcir bench` divides by time for its GFLOP/s. */
double ct_matmul_flops(void);

/* bf16 products (docs/perf-bf16.md): op(A) and op(B) rounded to bf16, products summed in fp32,
 * same arguments as ct_sgemm. Only on CPUs with AVX512_BF16 (ct_bf16_supported); the product
 * uses up to nthreads OpenMP threads outside an OpenMP region, one inside. */
bool ct_bf16_supported(void);
void ct_gemm_bf16(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                  int ldb, float beta, float *C, int ldc, int nthreads);
/* The weight cache: matrices W [N, K] (row-major, K contiguous) that products use as op(B) = W^T
 * (linear and patch-embedding forward) are converted to bf16 and packed once; ct_gemm_bf16 then
 * finds them by address instead of packing W in every product. The cache holds the address, not
 * the values: after the weights change (an optimizer step) ct_bf16_cache_refresh must run before
 * the next product, or products use the old weights. Not thread-safe against products running. */
ct_status ct_bf16_cache_add(const float *w, int N, int K);
void ct_bf16_cache_refresh(void);
void ct_bf16_cache_clear(void);
size_t ct_bf16_cache_bytes(void);
/* Reference: inputs rounded by ct_bf16_round, products summed in double. */
void ct_gemm_bf16_ref(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);
/* x rounded to the nearest bf16 (ties to even; denormals to zero, as VCVTNEPS2BF16). */
float ct_bf16_round(float x);
/* Which OpenBLAS kernel runs, and which one this CPU should run.
 *
 * OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernel set from cpuid when the shared
 * library loads, or takes it from $OPENBLAS_CORETYPE. On a CPU its table does not know it can
 * fall back to a generic kernel: 0.3.21 runs "Prescott" (SSE3) on Intel family 6 model 207, an
 * AVX-512 + BF16 Xeon, about 4x slower. ct_blas_kernel_preferred names the better kernel, and
 * the CLI restarts itself once with OPENBLAS_CORETYPE set to it (src/cli/main.c); the variable
 * can only take effect at load time. */
typedef struct {
    char vendor[13];   /* cpuid vendor string, "" when unknown */
    bool amd;          /* AuthenticAMD or HygonGenuine: OpenBLAS's AVX2 kernel for them is "Zen" */
    int family, model; /* display family and model (family + extended family, etc.) */
    bool avx, fma, avx2;
    bool avx512f, avx512dq, avx512bw, avx512vl, avx512_bf16;
    bool os_ymm, os_zmm; /* the OS saves the AVX (ymm) / AVX-512 (zmm, opmask) state (XCR0) */
} ct_cpu_features;

/* This CPU's features (all false on a non-x86 machine). */
void ct_cpu_detect(ct_cpu_features *f);

/* The features ctcir's kernel choice uses, as text: "avx2 fma avx512f ...", or "none". */
void ct_cpu_features_str(const ct_cpu_features *f, char *buf, size_t size);

/* Pure. The OpenBLAS kernel to run on a CPU with features f when OpenBLAS picked `current`,
 * or NULL to keep `current`: when it is at least as good as the best kernel for f, when ctcir
 * does not know the name (a newer OpenBLAS), or when f supports nothing better than SSE/AVX.
 * The candidates are only those the test suite passes under (README, Build options):
 * Cooperlake (AVX-512 F/DQ/BW/VL + BF16), SkylakeX (AVX-512 F/DQ/BW/VL), Zen (AMD) or
 * Haswell (AVX2 + FMA), each also needing the OS to save the registers. */
const char *ct_blas_kernel_preferred(const ct_cpu_features *f, const char *current);

/* ct_blas_name, ct_blas_kernel, CT_BLAS_RESTART_ENV, ct_blas_kernel_restart, ct_blas_describe
 * and ct_cpu_describe are public: ctcir/runtime.h. */

#endif
