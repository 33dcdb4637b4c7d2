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
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/blas.h"
#include "ctcir/log.h"

/* Threads ct_sgemm may use; 0 = the OpenMP team size (omp_get_max_threads). */
static int gemm_threads;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* Below this many multiply-adds a product runs on one thread (a fork costs a few us). */
#define PAR_MIN_MACS (1L << 21)

static void sgemm1(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                   float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
}

static void blas_single(void) { openblas_set_num_threads(1); }

static void ensure_single(void) { pthread_once(&blas_once, blas_single); }

void ct_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc) {
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
    static bool described;
    if (!described && ct_log_enabled(CT_LOG_DEBUG)) {
        described = true;
        char blas[256], cpu[256];
        ct_blas_describe(blas, sizeof blas);
        ct_cpu_describe(cpu, sizeof cpu);
        ct_log(CT_LOG_DEBUG, "blas: %s\ncpu: %s\n", blas, cpu);
    }
}

/* ---- Kernel choice ---- */

void ct_cpu_detect(ct_cpu_features *f) {
    memset(f, 0, sizeof *f);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(f->vendor, &b, 4), memcpy(f->vendor + 4, &d, 4), memcpy(f->vendor + 8, &c, 4);
    f->amd = strcmp(f->vendor, "AuthenticAMD") == 0 || strcmp(f->vendor, "HygonGenuine") == 0;
    __get_cpuid(1, &a, &b, &c, &d);
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    f->family = (int)(base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family);
    f->model = (int)(base_family == 0x6 || base_family == 0xf ? base_model | ((a >> 12) & 0xf0) : base_model);
    f->fma = c & (1u << 12);
    f->avx = c & (1u << 28);
    if (c & (1u << 27)) { /* OSXSAVE: XCR0 says which register states the OS saves */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        f->os_ymm = (lo & 0x6) == 0x6;   /* SSE + AVX state */
        f->os_zmm = (lo & 0xe6) == 0xe6; /* + opmask, upper zmm0-15, zmm16-31 */
    }
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        unsigned sub_leaves = a;
        f->avx2 = b & (1u << 5);
        f->avx512f = b & (1u << 16);
        f->avx512dq = b & (1u << 17);
        f->avx512bw = b & (1u << 30);
        f->avx512vl = b & (1u << 31);
        if (sub_leaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            f->avx512_bf16 = a & (1u << 5);
        }
    }
#endif
}

void ct_cpu_features_str(const ct_cpu_features *f, char *buf, size_t size) {
    const struct {
        bool on;
        const char *name;
    } flags[] = {
        {f->avx && f->os_ymm, "avx"},           {f->fma && f->os_ymm, "fma"},
        {f->avx2 && f->os_ymm, "avx2"},         {f->avx512f && f->os_zmm, "avx512f"},
        {f->avx512dq && f->os_zmm, "avx512dq"}, {f->avx512bw && f->os_zmm, "avx512bw"},
        {f->avx512vl && f->os_zmm, "avx512vl"}, {f->avx512_bf16 && f->os_zmm, "avx512_bf16"},
    };
    size_t used = 0;
    if (size) buf[0] = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].on && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "", flags[i].name);
    if (size && !buf[0]) snprintf(buf, size, "none");
}

/* The instruction-set tier of each x86 kernel OpenBLAS 0.3.x can run (driver/others/dynamic.c):
 * 1 SSE-era, 2 AVX, 3 AVX2 + FMA, 4 AVX-512, 5 AVX-512 + BF16. Names not listed are unknown to
 * ctcir and never replaced. */
static int kernel_tier(const char *name) {
    static const struct {
        const char *name;
        int tier;
    } tiers[] = {
        {"Katmai", 1},    {"Coppermine", 1},  {"Northwood", 1},    {"Prescott", 1},   {"Banias", 1},
        {"Atom", 1},      {"Core2", 1},       {"Penryn", 1},       {"Dunnington", 1}, {"Nehalem", 1},
        {"Athlon", 1},    {"Opteron", 1},     {"Opteron_SSE3", 1}, {"Barcelona", 1},  {"Nano", 1},
        {"Bobcat", 1},    {"Sandybridge", 2}, {"Bulldozer", 2},    {"Piledriver", 2}, {"Steamroller", 2},
        {"Excavator", 2}, {"Haswell", 3},     {"Zen", 3},          {"SkylakeX", 4},   {"Cooperlake", 5},
    };
    for (size_t i = 0; name && i < sizeof tiers / sizeof tiers[0]; i++)
        if (strcasecmp(name, tiers[i].name) == 0) return tiers[i].tier;
    return 0;
}

/* AVX-512 kernels also need AVX2 + FMA (OpenBLAS's own test checks only VL and the zmm state).
 * OpenBLAS 0.3.21 does not find "Cooperlake" in its OPENBLAS_CORETYPE table (the lookup stops
 * one name short) and then picks from cpuid features, which on a CPU with AVX-512 BF16 gives
 * Cooperlake all the same; the name is the one 0.3.22+ match directly. */
const char *ct_blas_kernel_preferred(const ct_cpu_features *f, const char *current) {
    const char *best = NULL;
    bool avx512 = f->os_zmm && f->avx512f && f->avx512dq && f->avx512bw && f->avx512vl && f->avx2 && f->fma;
    if (avx512)
        best = f->avx512_bf16 ? "Cooperlake" : "SkylakeX";
    else if (f->os_ymm && f->avx && f->avx2 && f->fma)
        best = f->amd ? "Zen" : "Haswell";
    int now = kernel_tier(current);
    if (!best || now == 0 || now >= kernel_tier(best)) return NULL;
    return best;
}

const char *ct_blas_name(void) {
    static char name[64];
    if (!name[0]) { /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21" */
        const char *cfg = openblas_get_config();
        const char *sp = strchr(cfg, ' ');
        sp = sp ? strchr(sp + 1, ' ') : NULL;
        size_t n = sp ? (size_t)(sp - cfg) : strlen(cfg);
        snprintf(name, sizeof name, "%.*s", (int)n, cfg);
    }
    return name;
}

const char *ct_blas_kernel(void) { return openblas_get_corename(); }

const char *ct_blas_kernel_restart(void) {
    if (getenv(CT_BLAS_RESTART_ENV)) return NULL;
    if (getenv("OPENBLAS_CORETYPE") && !getenv("CTCIR_TEST_BLAS_FALLBACK")) return NULL;
    if (!strstr(openblas_get_config(), "DYNAMIC_ARCH")) return NULL;
    ct_cpu_features f;
    ct_cpu_detect(&f);
    return ct_blas_kernel_preferred(&f, ct_blas_kernel());
}

void ct_blas_describe(char *buf, size_t size) {
    ct_cpu_features f;
    ct_cpu_detect(&f);
    const char *kernel = ct_blas_kernel(), *env = getenv("OPENBLAS_CORETYPE");
    const char *fallback = getenv(CT_BLAS_RESTART_ENV);
    const char *better = ct_blas_kernel_preferred(&f, kernel);
    char why[160];
    if (fallback && env)
        snprintf(why, sizeof why, "OpenBLAS chose %s on this CPU; ctcir restarted with OPENBLAS_CORETYPE=%s", fallback,
                 env);
    else
        snprintf(why, sizeof why, "%s%s%s%s", env ? "OPENBLAS_CORETYPE=" : "chosen by OpenBLAS", env ? env : "",
                 better ? "; this CPU could run " : "", better ? better : "");
    snprintf(buf, size, "%s, kernel %s (%s)", ct_blas_name(), kernel, why);
}

void ct_cpu_describe(char *buf, size_t size) {
    ct_cpu_features f;
    ct_cpu_detect(&f);
    char feats[160];
    ct_cpu_features_str(&f, feats, sizeof feats);
    snprintf(buf, size, "%s family %d model %d, %s", f.vendor[0] ? f.vendor : "unknown", f.family, f.model, feats);
}

static ct_precision matmul_precision = CT_PRECISION_FP32;

ct_status ct_precision_parse(const char *s, const char *where, ct_precision *out) {
    if (s && strcmp(s, "fp32") == 0)
        *out = CT_PRECISION_FP32;
    else if (s && strcmp(s, "bf16") == 0)
        *out = CT_PRECISION_BF16;
    else
        return ct_fail(CT_ERR_ARG, "%s: precision must be \"fp32\" or \"bf16\", got \"%s\"", where, s ? s : "");
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

void ct_matmul(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
               int ldb, float beta, float *C, int ldc) {
    if (M > 0 && N > 0 && K > 0)
        atomic_fetch_add_explicit(&matmul_flops, 2ull * (unsigned)M * (unsigned)N * (unsigned)K, memory_order_relaxed);
    if (matmul_precision == CT_PRECISION_BF16)
        ct_gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ct_blas_get_threads());
    else
        ct_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
