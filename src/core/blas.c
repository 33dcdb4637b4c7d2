/* OpenBLAS wrapper: the one file that includes cblas.h.
 *
 * Threading. Debian's OpenBLAS is the pthreads build: with more than one OpenBLAS thread its
 * own workers spin (sched_yield) after every product while OpenMP's workers spin after every
 * elementwise loop, and on a small machine the two pools steal each other's cores (measured on
 * 2 cores: ~25% of the CPU time in libgomp spinning and the scheduler). So OpenBLAS always runs
 * single-threaded, and ct_sgemm itself splits a large product into row (or column) panels of C
 * over the OpenMP team: one pool of threads does everything. Inside an OpenMP region ct_sgemm is
 * one serial call, so kernels may call it from their own parallel loops. */
#include <cblas.h>
#include <omp.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"

/* Threads ct_sgemm may use; 0 = the OpenMP team size (omp_get_max_threads). */
static int gemm_threads;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* Below this many multiply-adds a product runs on one thread (a fork costs a few us). */
#define PAR_MIN_MACS (1L << 21)

static void sgemm1(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

static void blas_single(void) { openblas_set_num_threads(1); }

static void ensure_single(void) { pthread_once(&blas_once, blas_single); }

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    ensure_single();
    if (omp_in_parallel()) { /* already on a worker: one serial product */
        sgemm1(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int nt = gemm_threads > 0 ? gemm_threads : omp_get_max_threads();
    if (nt <= 1 || (long)M * N * K < PAR_MIN_MACS) {
        sgemm1(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Panels of C, multiples of 32 wide (the kernels' register blocks divide 32), cut along the
     * longer side, about four per thread and handed out dynamically: when another process takes
     * a core for a while, the other thread picks up the remaining panels instead of waiting at
     * the barrier. A panel of >= 128 rows keeps the packing cost of the other operand small. */
    bool by_rows = M >= N;
    int len = by_rows ? M : N;
    int units = (len + 31) / 32;
    int panels = nt * 4;
    if (panels > units / 4) panels = units / 4;
    if (panels < nt) panels = units < nt ? units : nt;
    if (nt > panels) nt = panels;
    #pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int pi = 0; pi < panels; pi++) {
        int i0 = (int)((long)units * pi / panels) * 32, i1 = (int)((long)units * (pi + 1) / panels) * 32;
        if (i1 > len) i1 = len;
        if (by_rows) {
            const float *a = trans_a ? A + i0 : A + (size_t)i0 * lda;
            sgemm1(trans_a, trans_b, i1 - i0, N, K, alpha, a, lda, B, ldb, beta, C + (size_t)i0 * ldc, ldc);
        } else {
            const float *b = trans_b ? B + (size_t)i0 * ldb : B + i0;
            sgemm1(trans_a, trans_b, M, i1 - i0, K, alpha, A, lda, b, ldb, beta, C + i0, ldc);
        }
    }
}

void ct_blas_set_threads(int n) { gemm_threads = n > 0 ? n : 0; }

int ct_blas_get_threads(void) { return gemm_threads > 0 ? gemm_threads : omp_get_max_threads(); }

void ct_set_threads(int n) {
    if (n <= 0) { /* OMP_NUM_THREADS when set, else every core */
        const char *env = getenv("OMP_NUM_THREADS");
        long c = env && atoi(env) > 0 ? atoi(env) : sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    ensure_single();
    gemm_threads = 0;
    omp_set_num_threads(n);
}

static ct_precision matmul_precision = CT_PRECISION_FP32;

ct_status ct_precision_parse(const char *s, const char *where, ct_precision *out) {
    if (s && strcmp(s, "fp32") == 0) *out = CT_PRECISION_FP32;
    else if (s && strcmp(s, "bf16") == 0) *out = CT_PRECISION_BF16;
    else return ct_fail(CT_ERR_ARG, "%s: precision must be \"fp32\" or \"bf16\", got \"%s\"", where, s ? s : "");
    return CT_OK;
}

const char *ct_precision_name(ct_precision p) { return p == CT_PRECISION_BF16 ? "bf16" : "fp32"; }

ct_status ct_set_matmul_precision(ct_precision p) {
    if (p == CT_PRECISION_BF16 && !ct_bf16_supported())
        return ct_fail(CT_ERR_UNSUPPORTED, "precision bf16 needs a CPU with AVX512_BF16 (vdpbf16ps), which this "
                                           "one lacks; use --precision fp32");
    matmul_precision = p;
    return CT_OK;
}

ct_precision ct_get_matmul_precision(void) { return matmul_precision; }

static _Atomic unsigned long long matmul_flops;

double ct_matmul_flops(void) { return (double)atomic_load_explicit(&matmul_flops, memory_order_relaxed); }

void ct_matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc) {
    if (M > 0 && N > 0 && K > 0)
        atomic_fetch_add_explicit(&matmul_flops, 2ull * (unsigned)M * (unsigned)N * (unsigned)K, memory_order_relaxed);
    if (matmul_precision == CT_PRECISION_BF16)
        ct_gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ct_blas_get_threads());
    else
        ct_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
