/* ct_gemm_bf16 (AVX512-BF16 kernel) against ct_gemm_bf16_ref (the same bf16-rounded inputs,
 * products summed in double) tightly, and against the fp32 product at bf16 tolerance; every
 * transpose, ragged sizes (partial micro-panels, odd K, more than one K/N/M block), padded
 * leading dimensions, alpha/beta, 1-2 threads and inside an OpenMP region. Also the rounding
 * itself and ct_matmul's dispatch. On a CPU without AVX512_BF16 it checks that bf16 is refused. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/blas.h"
#include "test_util.h"

static unsigned long long seed = 4242;

static float frand(void) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((seed >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

static void check_case(bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad, int threads,
                       bool in_parallel) {
    int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
    float *R = malloc(nc * sizeof *R), *C0 = malloc(nc * sizeof *C0);
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (size_t i = 0; i < nc; i++) C0[i] = R[i] = C[i] = frand();
    if (beta == 0.0f) /* C must not be read when beta is 0 */
        for (size_t i = 0; i < nc; i++) C[i] = NAN;
    ct_gemm_bf16_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    if (in_parallel) {
#pragma omp parallel num_threads(2)
        {
#pragma omp single
            ct_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
        }
    } else {
        ct_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads);
    }
    double worst_ref = 0.0, worst_fp32 = 0.0;
    bool pad_ok = true;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double exact = 0.0, mag = 0.0; /* fp32 inputs, double sums; mag = sum |a b| */
            for (int k = 0; k < K; k++) {
                double p = (double)(ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k]) *
                           (tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
                exact += p;
                mag += fabs(p);
            }
            double c0 = C0[(size_t)m * ldc + n];
            exact = alpha * exact + beta * c0;
            double scale = fabs(alpha) * mag + fabs(beta * c0) + 1e-30;
            double got = C[(size_t)m * ldc + n];
            double e1 = fabs(got - R[(size_t)m * ldc + n]) / scale, e2 = fabs(got - exact) / scale;
            if (!(e1 <= worst_ref)) worst_ref = isnan(e1) ? INFINITY : e1;
            if (!(e2 <= worst_fp32)) worst_fp32 = isnan(e2) ? INFINITY : e2;
        }
        for (int n = N; n < ldc; n++)
            pad_ok &= memcmp(&C[(size_t)m * ldc + n], &C0[(size_t)m * ldc + n], 4) == 0 ||
                      (beta == 0.0f && isnan(C[(size_t)m * ldc + n]));
    }
    /* Same rounded inputs: only the fp32 summation order differs (~K ulp of the magnitude at
     * worst, ~sqrt(K) typically). fp32 inputs: each product is off by up to 2 x 2^-9 relative. */
    CHECK_MSG(worst_ref < 1e-6 * (K + 8), "%c%c M=%d N=%d K=%d a=%g b=%g pad=%d t=%d%s: vs ref %.3g", ta ? 't' : 'n',
              tb ? 't' : 'n', M, N, K, alpha, beta, pad, threads, in_parallel ? " (in parallel)" : "", worst_ref);
    CHECK_MSG(worst_fp32 < 2.0 * 0x1p-8, "%c%c M=%d N=%d K=%d: vs fp32 %.3g", ta ? 't' : 'n', tb ? 't' : 'n', M, N, K,
              worst_fp32);
    CHECK_MSG(pad_ok, "padding columns of C were written");
    free(A);
    free(B);
    free(C);
    free(R);
    free(C0);
}

/* Two threads give the bytes one thread gives, B packed by the team (several NC and KC blocks,
 * partial panels) or by each chunk. */
static void check_threads_exact(bool ta, bool tb, int M, int N, int K) {
    size_t na = (size_t)M * K, nb = (size_t)N * K, nc = (size_t)M * N;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C1 = malloc(nc * sizeof *C1),
          *C2 = malloc(nc * sizeof *C2);
    for (size_t i = 0; i < na; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    ct_gemm_bf16(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C1, N, 1);
    ct_gemm_bf16(ta, tb, M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C2, N, 2);
    CHECK_MSG(memcmp(C1, C2, nc * sizeof *C1) == 0, "%c%c M=%d N=%d K=%d: 2 threads differ from 1", ta ? 't' : 'n',
              tb ? 't' : 'n', M, N, K);
    free(A);
    free(B);
    free(C1);
    free(C2);
}

int main(void) {
    /* rounding: ties to even, NaN stays NaN, denormals to zero, exact values unchanged */
    CHECK(ct_bf16_round(1.0f) == 1.0f);
    CHECK(ct_bf16_round(1.0f + 0x1p-8f) == 1.0f);               /* tie, even is 1.0 */
    CHECK(ct_bf16_round(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f); /* tie, even is up */
    CHECK(ct_bf16_round(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
    CHECK(isnan(ct_bf16_round(NAN)));
    CHECK(ct_bf16_round(1e-39f) == 0.0f);
    CHECK(isinf(ct_bf16_round(INFINITY)));

    ct_precision p;
    CHECK(ct_precision_parse("bf16", "--precision", &p) == CT_OK && p == CT_PRECISION_BF16);
    CHECK(ct_precision_parse("fp32", "--precision", &p) == CT_OK && p == CT_PRECISION_FP32);
    CHECK(ct_precision_parse("fp16", "--precision", &p) == CT_ERR_ARG && strstr(ct_error(), "fp16"));

    if (!ct_bf16_supported()) {
        CHECK(ct_set_matmul_precision(CT_PRECISION_BF16) == CT_ERR_UNSUPPORTED && strstr(ct_error(), "AVX512_BF16"));
        CHECK(ct_get_matmul_precision() == CT_PRECISION_FP32);
        printf("no AVX512_BF16 on this CPU: only the refusal and the reference were tested\n");
        return test_finish();
    }
    /* sizes around the kernel's blocks: MR 8, NR 48, KC 512, NC 768, MC 96 */
    static const int shapes[][3] = {{200, 100, 110}, {7, 49, 1},     {20, 97, 513}, {9, 800, 40},
                                    {5, 7, 3},       {17, 47, 1030}, {1, 1, 2},     {41, 790, 1030}};
    for (int threads = 1; threads <= 2; threads++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int tr = 0; tr < 4; tr++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                check_case(tr & 1, tr & 2, M, N, K, 1.0f, 0.0f, 0, threads, false);
                check_case(tr & 1, tr & 2, M, N, K, 0.5f, 1.0f, 3, threads, false);
                if (threads == 2) check_case(tr & 1, tr & 2, M, N, K, -1.0f, 0.25f, 1, threads, true);
            }
    for (int tr = 0; tr < 4; tr++) {
        check_threads_exact(tr & 1, tr & 2, 300, 1700, 1100);
        check_threads_exact(tr & 1, tr & 2, 50, 97, 515);
    }

    /* the weight cache: a cached W used as B^T gives exactly the uncached product, before and
     * after W changes and is refreshed; sizes with several N and K blocks and ragged edges */
    {
        const int CM = 37, CN = 800, CK = 530;
        float *W = malloc((size_t)CN * CK * sizeof *W), *X = malloc((size_t)CM * CK * sizeof *X);
        float *Y1 = malloc((size_t)CM * CN * sizeof *Y1), *Y2 = malloc((size_t)CM * CN * sizeof *Y2);
        for (int i = 0; i < CN * CK; i++) W[i] = frand();
        for (int i = 0; i < CM * CK; i++) X[i] = frand();
        const size_t bytes = (size_t)CM * CN * sizeof *Y1;
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y1, CN, 2); /* not cached */
        CHECK(ct_bf16_cache_add(W, CN, CK) == CT_OK && ct_bf16_cache_bytes() >= (size_t)CN * CK * 2);
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y2, CN, 2);
        CHECK(memcmp(Y1, Y2, bytes) == 0);
        for (int i = 0; i < CN * CK; i++) W[i] = 0.5f * W[i] + 0.25f; /* the optimizer moved W */
        ct_bf16_cache_refresh();
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y2, CN, 2);
        ct_bf16_cache_clear();
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y1, CN, 2);
        CHECK(memcmp(Y1, Y2, bytes) == 0);
        /* without the refresh the old values are used: why training refreshes after every step */
        CHECK(ct_bf16_cache_add(W, CN, CK) == CT_OK);
        for (int i = 0; i < CN * CK; i++) W[i] = -W[i];
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y2, CN, 2);
        ct_bf16_cache_clear();
        ct_gemm_bf16(false, true, CM, CN, CK, 1.0f, X, CK, W, CK, 0.0f, Y1, CN, 2);
        CHECK(memcmp(Y1, Y2, bytes) != 0);
        CHECK(ct_bf16_cache_bytes() == 0);
        free(W), free(X), free(Y1), free(Y2);
    }

    /* ct_matmul follows the precision: bf16 equals ct_gemm_bf16, fp32 equals ct_sgemm */
    enum { M = 40, N = 50, K = 60 };
    static float A[M * K], B[K * N], C1[M * N], C2[M * N];
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < K * N; i++) B[i] = frand();
    CHECK(ct_set_matmul_precision(CT_PRECISION_BF16) == CT_OK);
    CHECK(ct_get_matmul_precision() == CT_PRECISION_BF16);
    ct_matmul(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    ct_gemm_bf16(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N, ct_blas_get_threads());
    CHECK(memcmp(C1, C2, sizeof C1) == 0);
    CHECK(ct_set_matmul_precision(CT_PRECISION_FP32) == CT_OK);
    ct_matmul(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    ct_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
    CHECK(memcmp(C1, C2, sizeof C1) == 0);
    return test_finish();
}
