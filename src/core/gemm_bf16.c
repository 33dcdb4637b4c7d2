/* bf16 GEMM for CPUs with AVX512_BF16: C = alpha op(A) op(B) + beta C, row-major, fp32 in and
 * out; both operands are rounded to bf16 (round to nearest even, as VCVTNEPS2BF16 does) while
 * they are packed, and the products are summed in fp32 by VDPBF16PS (two bf16 products added
 * into each fp32 lane). Why a hand-written kernel rather than oneDNN or libxsmm: see
 * docs/perf-bf16.md.
 *
 * Structure (the usual Goto/BLIS loops):
 *   for each block of NC columns, for each block of KC k:    pack op(B) -> Bp   (shared, once)
 *     for each block of MC rows (threads take blocks):        pack op(A) -> Ap   (per thread)
 *       for each NR-wide column panel, each MR-high row panel: micro-kernel MR x NR
 * Packed layout, both operands: "k pairs", the order VDPBF16PS reads: for micro-panel width W
 * (MR for A, NR for B) and k pair p, W 32-bit words, word i = (x[i][2p], x[i][2p+1]) as bf16.
 * An odd K and partial panels are padded with zeros, so the micro-kernel always runs full size
 * and only the store to C is masked.
 *
 * Every function that uses AVX-512 carries a target attribute, so this file compiles and the
 * library runs on any x86-64; ct_bf16_supported() tells callers whether they may come here.
 * Inputs that are fp32 denormals become zero in bf16 (VCVTNEPS2BF16 treats them as zero; the
 * reference below does the same). */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define CT_HAVE_BF16_KERNEL 1
#include <immintrin.h>
#endif

/* ---- reference: bf16-rounded inputs, products summed in double ---- */

float ct_bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0 && (u & 0x007fffffu) != 0) u &= 0x80000000u; /* denormal -> 0 */
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        u |= 0x00400000u; /* quiet NaN */
    } else {
        u += 0x7fffu + ((u >> 16) & 1u);
    }
    u &= 0xffff0000u;
    float r;
    memcpy(&r, &u, sizeof r);
    return r;
}

void ct_gemm_bf16_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k];
                float b = tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n];
                s += (double)ct_bf16_round(a) * ct_bf16_round(b);
            }
            float *c = C + (size_t)m * ldc + n;
            *c = beta == 0.0f ? (float)(alpha * s) : (float)(alpha * s + (double)beta * *c);
        }
}

#ifdef CT_HAVE_BF16_KERNEL

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

bool ct_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}

#ifndef KC_
#define KC_ 512
#define NC_ 768
#define MC_ 96
#endif
enum { MR = 8, NR = 48, NV = NR / 16, KC = KC_, MC = MC_, NC = NC_ };

/* Transposes an 8 x 8 block of 32-bit words held in 8 rows. */
BF16_TARGET
static void transpose8(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
        v[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
    }
}

/* Packs rows [i0, i0+ni) x k [k0, k0+nk) of x into micro-panels of width W (a multiple of 8),
 * x[i][k] at src[i*ld + k] (k contiguous). dst: ceil(ni/W) panels of ceil(nk/2)*W words.
 * Eight rows x 16 k at a time: each row's 16 floats become 8 words, and an 8 x 8 transpose puts
 * the eight rows' words of one k pair side by side. Masked loads supply the zero padding. */
BF16_TARGET __attribute__((noinline)) /* own symbol in profiles */
static void
pack_krows(uint32_t *dst, const float *src, int ld, int i0, int ni, int k0, int nk, int W) {
    int np = (nk + 1) / 2;
    for (int ib = 0; ib < ni; ib += W) {
        uint32_t *panel = dst + (size_t)(ib / W) * np * W;
        for (int r0 = 0; r0 < W; r0 += 8) {
            for (int k = 0; k < nk; k += 16) {
                int left = nk - k;
                __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
                __m256i v[8];
                for (int i = 0; i < 8; i++) {
                    int row = ib + r0 + i;
                    v[i] = row < ni ? (__m256i)_mm512_cvtneps_pbh(
                                          _mm512_maskz_loadu_ps(m, src + (size_t)(i0 + row) * ld + k0 + k))
                                    : _mm256_setzero_si256();
                }
                transpose8(v);
                int pe = (left + 1) / 2 < 8 ? (left + 1) / 2 : 8;
                for (int p = 0; p < pe; p++)
                    _mm256_storeu_si256((__m256i *)(panel + (size_t)(k / 2 + p) * W + r0), v[p]);
            }
        }
    }
}

/* Packs like pack_krows, but x[i][k] at src[k*ld + i] (i contiguous): two k rows are rounded
 * and interleaved 16 words at a time. */
BF16_TARGET __attribute__((noinline)) static void pack_kcols(uint32_t *dst, const float *src, int ld, int i0, int ni,
                                                             int k0, int nk, int W) {
    int np = (nk + 1) / 2;
    for (int ib = 0; ib < ni; ib += W) {
        uint32_t *panel = dst + (size_t)(ib / W) * np * W;
        for (int p = 0; p < np; p++) {
            const float *s0 = src + (size_t)(k0 + 2 * p) * ld + i0 + ib;
            const float *s1 = 2 * p + 1 < nk ? s0 + ld : NULL;
            for (int r = 0; r < W; r += 16) {
                int left = ni - ib - r;
                __mmask16 m = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
                __m512 a = _mm512_maskz_loadu_ps(m, s0 + r);
                __m512 b = s1 ? _mm512_maskz_loadu_ps(m, s1 + r) : _mm512_setzero_ps();
                __m256i ah = (__m256i)_mm512_cvtneps_pbh(a), bh = (__m256i)_mm512_cvtneps_pbh(b);
                __m512i w =
                    _mm512_or_si512(_mm512_cvtepu16_epi32(ah), _mm512_slli_epi32(_mm512_cvtepu16_epi32(bh), 16));
                if (W - r >= 16)
                    _mm512_storeu_si512(panel + (size_t)p * W + r, w);
                else
                    _mm512_mask_storeu_epi32(panel + (size_t)p * W + r, (__mmask16)((1u << (W - r)) - 1), w);
            }
        }
    }
}

static void pack_op(uint32_t *dst, bool trans, const float *X, int ld, int i0, int ni, int k0, int nk, int W,
                    bool k_contiguous_when_not_trans) {
    /* For A (op(A)[m][k]): not transposed -> k contiguous. For B (op(B)[k][n]) as [n][k]:
     * transposed -> k contiguous. */
    bool kc = trans ? !k_contiguous_when_not_trans : k_contiguous_when_not_trans;
    if (kc)
        pack_krows(dst, X, ld, i0, ni, k0, nk, W);
    else
        pack_kcols(dst, X, ld, i0, ni, k0, nk, W);
}

/* MR x NR block: acc = sum over np k pairs of Ap x Bp; C = alpha acc + beta C on rows < mr,
 * columns < nr. */
BF16_TARGET
static void micro_kernel(int np, const uint32_t *Ap, const uint32_t *Bp, float *C, int ldc, int mr, int nr, float alpha,
                         float beta) {
    /* C's tile is usually not in cache: fetch it now so the misses overlap the products. */
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NV; j++) _mm_prefetch((const char *)(C + (size_t)i * ldc + 16 * j), _MM_HINT_T0);
    __m512 c[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) c[i][j] = _mm512_setzero_ps();
    for (int p = 0; p < np; p++) {
        __m512bh b[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) b[j] = (__m512bh)_mm512_loadu_si512(Bp + (size_t)p * NR + 16 * j);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)Ap[(size_t)p * MR + i]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; j++) c[i][j] = _mm512_dpbf16_ps(c[i][j], a, b[j]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
        float *row = C + (size_t)i * ldc;
        for (int j = 0; j < NV; j++) {
            int left = nr - 16 * j;
            if (left <= 0) break;
            __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            __m512 r = _mm512_mul_ps(va, c[i][j]);
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, row + 16 * j), r);
            _mm512_mask_storeu_ps(row + 16 * j, m, r);
        }
    }
}

/* One MC block of rows (packed in Ap) against the packed B block. */
static void block_kernels(const uint32_t *Bp, const uint32_t *Ap, int m0, int mb, int kb, int nb, float alpha,
                          float beta, float *C, int ldc) {
    int np = (kb + 1) / 2;
    for (int jr = 0; jr < nb; jr += NR)
        for (int ir = 0; ir < mb; ir += MR)
            micro_kernel(np, Ap + (size_t)(ir / MR) * np * MR, Bp + (size_t)(jr / NR) * np * NR,
                         C + (size_t)(m0 + ir) * ldc + jr, ldc, mb - ir < MR ? mb - ir : MR,
                         nb - jr < NR ? nb - jr : NR, alpha, beta);
}

/* Words of op(B) [K, N] packed whole, block after block in the order rows_product visits them. */
static size_t packed_words(int N, int K) {
    size_t w = 0;
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nb = N - j0 < NC ? N - j0 : NC;
        w += (size_t)(nb + NR - 1) / NR * NR * (size_t)((K + 1) / 2 + (K / KC + 1)); /* + odd tails */
    }
    return w;
}

/* Words of op(A) rows [0, rows) x the whole K packed in MR panels, one KC block after another. */
static size_t a_words(int rows, int K) {
    return (size_t)(rows + MR - 1) / MR * MR * (size_t)((K + 1) / 2 + (K / KC + 1)); /* + odd tails */
}

/* Grows a thread's buffer to `words` (kept between calls, so a training step does not
 * allocate); NULL past max_bytes or without memory (callers then pack block by block). */
static uint32_t *grow_buffer(uint32_t **buf, size_t *cap, size_t words, size_t max_bytes) {
    if (words * 4 > max_bytes) return NULL;
    if (words > *cap) {
        size_t bytes = (words * 4 + 63) / 64 * 64;
        uint32_t *b = aligned_alloc(64, bytes);
        if (!b) return NULL;
        free(*buf);
        *buf = b, *cap = bytes / 4;
    }
    return *buf;
}

/* This thread's buffer for its chunk's op(A) packed whole (at most 32 MB). */
static uint32_t *chunk_a_buffer(size_t words) {
    static _Thread_local uint32_t *buf;
    static _Thread_local size_t cap;
    return grow_buffer(&buf, &cap, words, (size_t)32 << 20);
}

/* Rows [m0, m1) of C, the whole N and K. B comes packed whole in Bpre (the weight cache or the
 * team's shared buffer) or is packed here block by block into this thread's scratch. When N
 * spans several NC blocks, the chunk's A is packed once for all of them (else once per block).
 * False when the scratch cannot be allocated. */
static bool rows_product(bool ta, bool tb, int m0, int m1, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, const uint32_t *Bpre, float beta, float *C, int ldc) {
    /* Fixed maximum size, allocated once per thread (a training step never allocates). */
    static _Thread_local uint32_t *scratch;
    enum { BWORDS = (NC + NR - 1) / NR * NR * (KC / 2), AWORDS = MC * (KC / 2) };
    if (!scratch) scratch = aligned_alloc(64, (size_t)(BWORDS + AWORDS) * 4);
    if (!scratch) return false;
    uint32_t *Ap = scratch + BWORDS;
    const int rows = m1 - m0, rpanels = (rows + MR - 1) / MR;
    uint32_t *Aall = N > NC ? chunk_a_buffer(a_words(rows, K)) : NULL;
    if (Aall) {
        uint32_t *d = Aall;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kb = K - k0 < KC ? K - k0 : KC;
            pack_op(d, ta, A, lda, m0, rows, k0, kb, MR, true);
            d += (size_t)rpanels * MR * ((kb + 1) / 2);
        }
    }
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nb = N - j0 < NC ? N - j0 : NC;
        const float *Bj = tb ? B + (size_t)j0 * ldb : B + j0;
        size_t aoff = 0; /* this k block's place in Aall */
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kb = K - k0 < KC ? K - k0 : KC, np = (kb + 1) / 2;
            const uint32_t *Bp = Bpre;
            if (Bpre)
                Bpre += (size_t)(nb + NR - 1) / NR * NR * np;
            else
                pack_op(scratch, tb, Bj, ldb, 0, nb, k0, kb, NR, false), Bp = scratch;
            for (int mb0 = m0; mb0 < m1; mb0 += MC) {
                int mb = m1 - mb0 < MC ? m1 - mb0 : MC;
                const uint32_t *Ablk = Ap;
                if (Aall)
                    Ablk = Aall + aoff + (size_t)((mb0 - m0) / MR) * np * MR;
                else
                    pack_op(Ap, ta, A, lda, mb0, mb, k0, kb, MR, true);
                block_kernels(Bp, Ablk, mb0, mb, kb, nb, alpha, k0 == 0 ? beta : 1.0f, C + j0, ldc);
            }
            aoff += (size_t)rpanels * MR * np;
        }
    }
    return true;
}

/* ---- the weight cache: matrices packed once, looked up by address ---- */

typedef struct {
    const float *w; /* the fp32 matrix, used as op(B) = w^T: [N rows, K contiguous] */
    int N, K;
    uint32_t *packed;
} cache_entry;

static cache_entry *cache;
static int cache_n, cache_cap;

static void pack_whole(uint32_t *dst, const float *w, int N, int K) {
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nb = N - j0 < NC ? N - j0 : NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kb = K - k0 < KC ? K - k0 : KC;
            pack_krows(dst, w + (size_t)j0 * K, K, 0, nb, k0, kb, NR);
            dst += (size_t)(nb + NR - 1) / NR * NR * ((kb + 1) / 2);
        }
    }
}

ct_status ct_bf16_cache_add(const float *w, int N, int K) {
    if (!ct_bf16_supported()) return ct_fail(CT_ERR_UNSUPPORTED, "bf16 weight cache: no AVX512_BF16 on this CPU");
    for (int i = 0; i < cache_n; i++)
        if (cache[i].w == w && cache[i].N == N && cache[i].K == K) return CT_OK;
    if (cache_n == cache_cap) {
        int cap = cache_cap ? 2 * cache_cap : 64;
        cache_entry *c = realloc(cache, (size_t)cap * sizeof *c);
        if (!c) return ct_fail(CT_ERR_NOMEM, "bf16 weight cache: out of memory");
        cache = c, cache_cap = cap;
    }
    uint32_t *p = aligned_alloc(64, (packed_words(N, K) * 4 + 63) / 64 * 64);
    if (!p) return ct_fail(CT_ERR_NOMEM, "bf16 weight cache: out of memory for a %d x %d matrix", N, K);
    pack_whole(p, w, N, K);
    cache[cache_n++] = (cache_entry){w, N, K, p};
    return CT_OK;
}

void ct_bf16_cache_refresh(void) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < cache_n; i++) pack_whole(cache[i].packed, cache[i].w, cache[i].N, cache[i].K);
}

void ct_bf16_cache_clear(void) {
    for (int i = 0; i < cache_n; i++) free(cache[i].packed);
    free(cache);
    cache = NULL, cache_n = cache_cap = 0;
}

size_t ct_bf16_cache_bytes(void) {
    size_t b = 0;
    for (int i = 0; i < cache_n; i++) b += packed_words(cache[i].N, cache[i].K) * 4;
    return b;
}

/* The packed copy of op(B) when B is a cached matrix used transposed (B^T: weight rows). */
static const uint32_t *cache_find(bool tb, const float *B, int ldb, int N, int K) {
    if (!tb || ldb != K) return NULL;
    for (int i = 0; i < cache_n; i++)
        if (cache[i].w == B && cache[i].N == N && cache[i].K == K) return cache[i].packed;
    return NULL;
}

/* Part `part` of `parts` of op(B) [K, N] packed whole, in the layout of pack_whole: every
 * thread packs its share of the NR panels of each block. */
static void pack_part(uint32_t *dst, bool tb, const float *B, int ldb, int N, int K, int part, int parts) {
    for (int j0 = 0; j0 < N; j0 += NC) {
        int nb = N - j0 < NC ? N - j0 : NC, npan = (nb + NR - 1) / NR;
        const float *Bj = tb ? B + (size_t)j0 * ldb : B + j0;
        int p0 = (int)((long)npan * part / parts), p1 = (int)((long)npan * (part + 1) / parts);
        int i0 = p0 * NR, i1 = p1 * NR < nb ? p1 * NR : nb;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kb = K - k0 < KC ? K - k0 : KC, np = (kb + 1) / 2;
            if (i1 > i0) pack_op(dst + (size_t)p0 * np * NR, tb, Bj, ldb, i0, i1 - i0, k0, kb, NR, false);
            dst += (size_t)npan * NR * np;
        }
    }
}

/* The calling thread's buffer for an op(B) packed once and shared by the team: grows to the
 * largest B seen (at most SHARED_MAX bytes) and is kept. */
enum { SHARED_MAX = 64 << 20 };
static uint32_t *shared_buffer(size_t words) {
    static _Thread_local uint32_t *buf;
    static _Thread_local size_t cap;
    return grow_buffer(&buf, &cap, words, SHARED_MAX);
}

void ct_gemm_bf16(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc, int nthreads) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) { /* no products: C = beta C */
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float *c = C + (size_t)m * ldc + n;
                *c = beta == 0.0f ? 0.0f : beta * *c;
            }
        return;
    }
    /* Threads take chunks of rows, two per thread, dynamically, so a thread that loses its core
     * to another process for a while only delays its own chunk. op(B) is packed once: a cached
     * weight already is; any other B is packed by the whole team into a shared buffer first (one
     * barrier), or, when that buffer would pass SHARED_MAX, by every chunk for itself.
     * Products under 2^21 multiply-adds stay on one thread. */
    if (nthreads < 1 || omp_in_parallel() || (long)M * N * K < (1L << 21)) nthreads = 1;
    int units = (M + MR - 1) / MR, chunks = nthreads == 1 ? 1 : 2 * nthreads;
    if (chunks > units) chunks = units;
    if (nthreads > chunks) nthreads = chunks;
    const uint32_t *Bpre = cache_find(tb, B, ldb, N, K);
    uint32_t *Bshared = !Bpre && chunks > 1 ? shared_buffer(packed_words(N, K)) : NULL;
    bool ok = true;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        if (Bshared) {
            pack_part(Bshared, tb, B, ldb, N, K, omp_get_thread_num(), omp_get_num_threads());
#pragma omp barrier
        }
        const uint32_t *Bp = Bshared ? Bshared : Bpre;
#pragma omp for schedule(dynamic, 1) reduction(&& : ok)
        for (int c = 0; c < chunks; c++) {
            int m0 = (int)((long)units * c / chunks) * MR, m1 = (int)((long)units * (c + 1) / chunks) * MR;
            if (m1 > M) m1 = M;
            if (m1 > m0) ok = rows_product(ta, tb, m0, m1, N, K, alpha, A, lda, B, ldb, Bp, beta, C, ldc) && ok;
        }
    }
    if (!ok) /* a thread could not get its 1.6 MB of scratch: the reference still gives the answer */
        ct_gemm_bf16_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#else /* not x86-64 GCC/Clang: no kernel; callers check ct_bf16_supported() first */

bool ct_bf16_supported(void) { return false; }
ct_status ct_bf16_cache_add(const float *w, int N, int K) {
    (void)w, (void)N, (void)K;
    return ct_fail(CT_ERR_UNSUPPORTED, "bf16 weight cache: no AVX512_BF16 kernel in this build");
}
void ct_bf16_cache_refresh(void) {}
void ct_bf16_cache_clear(void) {}
size_t ct_bf16_cache_bytes(void) { return 0; }

void ct_gemm_bf16(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                  float beta, float *C, int ldc, int nthreads) {
    (void)nthreads;
    ct_gemm_bf16_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif
