/* The only door to BLAS: every matrix product in ctcir goes through ct_sgemm.
 * Row-major. C[M,N] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T. */
#ifndef CTCIR_CORE_BLAS_H
#define CTCIR_CORE_BLAS_H

#include <stdbool.h>

#include "ctcir/runtime.h" /* ct_set_threads */

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Threads ct_sgemm splits one product over when called outside an OpenMP region (OpenBLAS
 * itself always runs single-threaded; see blas.c). n <= 0: the OpenMP team size. */
void ct_blas_set_threads(int n);
int ct_blas_get_threads(void);


#endif
