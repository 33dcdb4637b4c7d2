/* ct_sgemm (OpenMP panels over single-threaded OpenBLAS) against a plain double loop: every
 * transpose combination, odd sizes that leave partial panels, padded leading dimensions,
 * alpha/beta, split by rows and by columns, with 1, 2 and 3 threads and inside an OpenMP region. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/blas.h"
#include "test_util.h"

static unsigned long long seed = 777;

static float frand(void) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((seed >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

/* C = alpha op(A) op(B) + beta C in double, row-major, then compared with ct_sgemm's. */
static void check_case(bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad, bool in_parallel) {
    int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
    double *R = malloc(nc * sizeof *R);
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < nc; i++) R[i] = C[i] = frand();
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0.0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k]) *
                     (tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
            R[(size_t)m * ldc + n] = alpha * s + beta * R[(size_t)m * ldc + n];
        }
    if (in_parallel) {
#pragma omp parallel num_threads(2)
        {
#pragma omp single
            ct_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        }
    } else {
        ct_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    double worst = 0.0;
    bool pad_ok = true;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double e = fabs(C[(size_t)m * ldc + n] - R[(size_t)m * ldc + n]) / (1.0 + fabs(R[(size_t)m * ldc + n]));
            if (e > worst) worst = e;
        }
        for (int n = N; n < ldc; n++) pad_ok &= C[(size_t)m * ldc + n] == (float)R[(size_t)m * ldc + n];
    }
    CHECK_MSG(worst < 1e-5 * sqrt((double)K + 1), "%c%c M=%d N=%d K=%d alpha=%g beta=%g pad=%d threads=%d%s: err %.3g",
              ta ? 't' : 'n', tb ? 't' : 'n', M, N, K, alpha, beta, pad, ct_blas_get_threads(),
              in_parallel ? " (in parallel)" : "", worst);
    CHECK_MSG(pad_ok, "padding columns of C were written");
    free(A);
    free(B);
    free(C);
    free(R);
}

int main(void) {
    /* large enough to be split (M*N*K >= 2^21), with ragged panels */
    static const int shapes[][3] = {{200, 90, 130}, {70, 333, 101}, {257, 255, 64}, {33, 1000, 80}, {5, 7, 3}};
    for (int threads = 1; threads <= 3; threads++) {
        ct_set_threads(threads);
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int tr = 0; tr < 4; tr++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                check_case(tr & 1, tr & 2, M, N, K, 1.0f, 0.0f, 0, false);
                check_case(tr & 1, tr & 2, M, N, K, 0.5f, 1.0f, 3, false);
                if (threads == 2) check_case(tr & 1, tr & 2, M, N, K, -1.0f, 0.25f, 1, true);
            }
    }
    /* an explicit product thread count independent of the team size */
    ct_set_threads(1);
    ct_blas_set_threads(2);
    CHECK(ct_blas_get_threads() == 2);
    check_case(false, true, 300, 200, 100, 1.0f, 1.0f, 2, false);
    ct_blas_set_threads(0);
    CHECK(ct_blas_get_threads() == omp_get_max_threads());
    /* empty products leave C alone */
    float c = 3.0f;
    ct_sgemm(false, false, 0, 1, 1, 1.0f, &c, 1, &c, 1, 0.0f, &c, 1);
    CHECK(c == 3.0f);
    return test_finish();
}
