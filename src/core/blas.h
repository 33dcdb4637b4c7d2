/* The only door to BLAS: every matrix product in ctcir goes through ct_sgemm.
 * Row-major. C[M,N] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T. */
#ifndef CTCIR_CORE_BLAS_H
#define CTCIR_CORE_BLAS_H

#include <stdbool.h>
#include <stddef.h>

#include "ctcir/status.h"

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Threads ct_sgemm splits one product over when called outside an OpenMP region (OpenBLAS
 * itself always runs single-threaded; see blas.c). n <= 0: the OpenMP team size. */
void ct_blas_set_threads(int n);
int ct_blas_get_threads(void);

/* Sets the OpenMP team size, which ct_sgemm then uses too; n <= 0 means all cores. */
void ct_set_threads(int n);

/* Precision of the model's matrix products. fp32: ct_sgemm. bf16: ct_gemm_bf16 (bf16 inputs, fp32
 * sums); everything outside the products stays fp32 (docs/perf-bf16.md). */
typedef enum { CT_PRECISION_FP32 = 0, CT_PRECISION_BF16 = 1 } ct_precision;

/* "fp32" or "bf16" -> *out; anything else fails, naming `where` (a flag or config file). */
ct_status ct_precision_parse(const char *s, const char *where, ct_precision *out);
const char *ct_precision_name(ct_precision p);

/* Sets the precision ct_matmul uses, process-wide (default fp32). bf16 fails with
 * CT_ERR_UNSUPPORTED on a CPU without AVX512_BF16 rather than running slowly or falling back
 * silently. Set it before running a model, not while one runs. */
ct_status ct_set_matmul_precision(ct_precision p);
ct_precision ct_get_matmul_precision(void);

/* A model's matrix product: ct_sgemm at fp32, ct_gemm_bf16 at bf16. Same arguments as ct_sgemm. */
void ct_matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);

/* Floating-point operations (2 M N K per product) ct_matmul has run since the start, all threads:
 * what `ctcir bench` divides by time for its GFLOP/s. */
double ct_matmul_flops(void);

/* bf16 products (docs/perf-bf16.md): op(A) and op(B) rounded to bf16, products summed in fp32,
 * same arguments as ct_sgemm. Only on CPUs with AVX512_BF16 (ct_bf16_supported); the product
 * uses up to nthreads OpenMP threads outside an OpenMP region, one inside. */
bool ct_bf16_supported(void);
void ct_gemm_bf16(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc, int nthreads);
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

#endif
