/* OpenBLAS wrapper: the one file that includes cblas.h. */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/blas.h"

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void ct_blas_set_threads(int n) { openblas_set_num_threads(n); }

int ct_blas_get_threads(void) { return openblas_get_num_threads(); }

void ct_set_threads(int n) {
    if (n <= 0) { /* OMP_NUM_THREADS when set, else every core */
        const char *env = getenv("OMP_NUM_THREADS");
        long c = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
}
