/* Exact cosine top-k and blockwise ranks.
 *
 * Two ways to score a block of gallery rows against the normalised queries:
 *  - the row kernel (few queries): every gallery row is read once, straight from the gallery
 *    (F32, or F16 converted in registers), and dotted with each query and with itself (its
 *    norm) in the same pass; scores go to a small per-thread buffer and through a threshold
 *    filter into a bounded heap, so the [Q, G] score matrix never exists and the search runs
 *    at the speed the memory delivers the gallery;
 *  - ct_sgemm (many queries), on gallery blocks converted to F32 where needed, with the row
 *    norms from the row kernel.
 * Either way a score is dot(q / |q|, row) times the row's inverse norm, 1 / sqrt(sum row^2),
 * with the sums in float; a row whose sum of squares is outside [1e-30, 1e30] (a zero row,
 * tiny or huge values, NaN, Inf) is scored in double instead (0 for a zero row, NaN for a
 * non-finite one). Threads take gallery blocks in order and keep their own heaps, merged at
 * the end: the result is the k best under (score descending, gallery index ascending), a NaN
 * score ranking below every number, whatever the split.
 *
 * The row kernel exists twice: AVX-512 (with F16C conversion), compiled with a target
 * attribute and chosen at run time when the CPU has it, and portable C. */
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "ctcir/index.h"
#include "retrieval/ret_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOPK_HAVE_AVX512 1
#endif

/* Software prefetch in the row kernel (measured with bench/bench_topk: -20% time for one
 * query on F32, -50% on F16): one row at a time reads this many bytes ahead; four rows at a
 * time read the next four rows. */
#define PREFETCH_BYTES      8192
#define KERN_BLOCK          256                 /* gallery rows per block for the row kernel */
#define GEMM_BLOCK          1024                /* gallery rows per block for ct_sgemm */
#define TOPK_QBLOCK         256                 /* queries per ct_sgemm block */
#define BLOCKS_PER_GRAB     8                   /* consecutive blocks a thread takes at a time */
#define RANK_ROW_BYTES      ((size_t)256 << 20) /* cap of the score rows held by ct_topk_ranks */
/* Up to this many queries the row kernel scores them, more go through ct_sgemm. At 64 queries
 * the AVX-512 kernel took half the CPU time of ct_sgemm (OpenBLAS 0.3.21 on a Zen 5, which it
 * runs with its Haswell kernel; bench/bench_topk); the portable one only wins for one or two. */
#define KERN_MAX_Q_AVX512   64
#define KERN_MAX_Q_PORTABLE 2

/* ---- scores of one row in double (rows the float sums cannot hold) ---- */

/* IEEE half -> float for all 65536 codes (ct_f16_to_f32 is exact; the table makes the
 * portable path cheap). */
static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;
static void f16_init(void) {
    for (uint32_t i = 0; i < 65536; i++) f16_table[i] = ct_f16_to_f32((uint16_t)i);
}

/* Element j of a gallery row (any alignment). */
static inline float row_at(const unsigned char *row, bool f16, size_t j) {
    if (f16) {
        uint16_t h;
        memcpy(&h, row + 2 * j, 2);
        return f16_table[h];
    }
    float x;
    memcpy(&x, row + 4 * j, 4);
    return x;
}

/* The inverse norm from a float sum of squares, or -1 when the row needs score_double. */
static inline float inv_norm_of(float ss) {
    return ss >= 1e-30f && ss <= 1e30f ? (float)(1.0 / sqrt((double)ss)) : -1.0f;
}

static float score_double(const float *q, const unsigned char *row, bool f16, int P) {
    double d = 0, ss = 0;
    for (int j = 0; j < P; j++) {
        double x = row_at(row, f16, j);
        d += (double)q[j] * x;
        ss += x * x;
    }
    if (!isfinite(ss)) return NAN;
    return ss > 0 ? (float)(d / sqrt(ss)) : 0.0f;
}

/* ---- the row kernel ----
 * out [m, ldo]: out[i * ldo + r] = score of query i (qn [m, P], normalised) against row r of
 * rows [n, P] (byte stride rs); inv [n]: the rows' inverse norms (-1: scored in double),
 * computed here unless have_inv. m may be 0 (norms only). tmp [P]: scratch. */
typedef void (*kern_fn)(float *out, size_t ldo, float *inv, bool have_inv, const float *qn, int m,
                        const unsigned char *rows, size_t rs, bool f16, int n, int P, float *tmp);

/* Portable: per row, sums in 32 interleaved partial sums (GCC vector extensions: SSE, AVX or
 * whatever the build targets), added pairwise at the end. */
typedef float v8f __attribute__((vector_size(32)));
static float dot32(const float *a, const float *b, int P) {
    v8f s[4] = {{0}};
    int p = 0;
    for (; p + 32 <= P; p += 32)
        for (int u = 0; u < 4; u++) {
            v8f x, y;
            memcpy(&x, a + p + 8 * u, sizeof x);
            memcpy(&y, b + p + 8 * u, sizeof y);
            s[u] += x * y;
        }
    float t[32];
    memcpy(t, s, sizeof t);
    for (int l = 0; p < P; p++, l++) t[l] += a[p] * b[p];
    for (int w = 16; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) t[l] += t[l + w];
    return t[0];
}

static void kern_portable(float *out, size_t ldo, float *inv, bool have_inv, const float *qn, int m,
                          const unsigned char *rows, size_t rs, bool f16, int n, int P, float *tmp) {
    for (int r = 0; r < n; r++) {
        const unsigned char *row = rows + (size_t)r * rs;
        const float *x = (const float *)(const void *)row;
        if (f16 || (uintptr_t)row % sizeof(float)) { /* a float copy of the row */
            for (int j = 0; j < P; j++) tmp[j] = row_at(row, f16, j);
            x = tmp;
        }
        if (!have_inv) inv[r] = inv_norm_of(dot32(x, x, P));
        for (int i = 0; i < m; i++) {
            const float *q = qn + (size_t)i * P;
            out[(size_t)i * ldo + r] = inv[r] >= 0 ? dot32(q, x, P) * inv[r] : score_double(q, row, f16, P);
        }
    }
}

#ifdef TOPK_HAVE_AVX512
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,f16c,fma")))

/* 16 elements of a row from element p on (k: the ones present), as floats. */
AVX512_TARGET static inline __attribute__((always_inline)) __m512 load16(const unsigned char *row, const bool F16,
                                                                         int p, __mmask16 k) {
    if (F16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, row + 2 * (size_t)p));
    return _mm512_maskz_loadu_ps(k, row + 4 * (size_t)p);
}

/* The arithmetic of a score, the same in both kernels below so that a row's score does not
 * depend on which rows or queries share the call: per (row, query) one accumulator of 16
 * lanes, fused multiply-adds over the row in order (the last step masked), then the lanes'
 * sum; the same for the row's sum of squares. */
AVX512_TARGET static inline float finish(float d, float inv, const float *q, const unsigned char *row, bool f16,
                                         int P) {
    return inv >= 0 ? d * inv : score_double(q, row, f16, P);
}

/* NR (1 or 4) rows by MQ (0..4) queries, norms when NORM, F32 or F16 rows: all compile-time,
 * so that the accumulators live in registers. */
#define TILE_STEP(k)                                                                                                   \
    do {                                                                                                               \
        __m512 q[4];                                                                                                   \
        _Pragma("GCC unroll 4") for (int i = 0; i < MQ; i++) {                                                         \
            q[i] = _mm512_maskz_loadu_ps(k, qn + (size_t)i * P + p);                                                   \
            if (NR > 1) __asm__("" : "+v"(q[i])); /* in a register: loaded once per step */                            \
        }                                                                                                              \
        _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                                         \
            const unsigned char *row = rows + (size_t)r * rs;                                                          \
            /* a little ahead of the loads: the next rows of a tile, further on in a single row */                     \
            _mm_prefetch((const char *)row + (NR == 1 ? PREFETCH_BYTES : 4 * rs) + (F16 ? 2 : 4) * (size_t)p,          \
                         _MM_HINT_T0);                                                                                 \
            __m512 x = load16(row, F16, p, k);                                                                         \
            if (MQ > 1) __asm__("" : "+v"(x));                                                                         \
            _Pragma("GCC unroll 4") for (int i = 0; i < MQ; i++) acc[r][i] = _mm512_fmadd_ps(x, q[i], acc[r][i]);      \
            if (NORM) ss[r] = _mm512_fmadd_ps(x, x, ss[r]);                                                            \
        }                                                                                                              \
    } while (0)

AVX512_TARGET static inline __attribute__((always_inline)) void
tile_avx512(float *out, size_t ldo, float *inv, const float *qn, const unsigned char *rows, size_t rs, int P,
            const bool F16, const int NR, const int MQ, const bool NORM) {
    __m512 acc[4][4], ss[4];
    _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++) {
        ss[r] = _mm512_setzero_ps();
        _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) acc[r][i] = _mm512_setzero_ps();
    }
    int p = 0;
    for (; p + 16 <= P; p += 16) TILE_STEP((__mmask16)0xffff);
    if (p < P) TILE_STEP((__mmask16)((1u << (P - p)) - 1));
    _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {
        if (NORM) inv[r] = inv_norm_of(_mm512_reduce_add_ps(ss[r]));
        _Pragma("GCC unroll 4") for (int i = 0; i < MQ; i++) out[(size_t)i * ldo + r] =
            finish(_mm512_reduce_add_ps(acc[r][i]), inv[r], qn + (size_t)i * P, rows + (size_t)r * rs, F16, P);
    }
}
#undef TILE_STEP

/* NR rows: the queries in groups of four, the first group also taking the norms. */
AVX512_TARGET static inline __attribute__((always_inline)) void rows_avx512(float *out, size_t ldo, float *inv,
                                                                            bool have_inv, const float *qn, int m,
                                                                            const unsigned char *rows, size_t rs, int P,
                                                                            const bool F16, const int NR) {
    int i = 0;
    do {
        int mq = m - i < 4 ? m - i : 4;
        float *o = out + (size_t)i * ldo;
        const float *q = qn + (size_t)i * P;
        if (i == 0 && !have_inv) {
            switch (mq) {
            case 0: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 0, true); break;
            case 1: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 1, true); break;
            case 2: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 2, true); break;
            case 3: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 3, true); break;
            default: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 4, true); break;
            }
        } else {
            switch (mq) {
            case 0: break;
            case 1: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 1, false); break;
            case 2: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 2, false); break;
            case 3: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 3, false); break;
            default: tile_avx512(o, ldo, inv, q, rows, rs, P, F16, NR, 4, false); break;
            }
        }
        i += 4;
    } while (i < m);
}

#define ROWS_FN(name, F16, NR)                                                                                         \
    AVX512_TARGET static void name(float *out, size_t ldo, float *inv, bool have_inv, const float *qn, int m,          \
                                   const unsigned char *rows, size_t rs, int P) {                                      \
        rows_avx512(out, ldo, inv, have_inv, qn, m, rows, rs, P, F16, NR);                                             \
    }
ROWS_FN(rows4_f32, false, 4)
ROWS_FN(rows4_f16, true, 4)
ROWS_FN(rows1_f32, false, 1)
ROWS_FN(rows1_f16, true, 1)
#undef ROWS_FN

AVX512_TARGET static void kern_avx512(float *out, size_t ldo, float *inv, bool have_inv, const float *qn, int m,
                                      const unsigned char *rows, size_t rs, bool f16, int n, int P, float *tmp) {
    (void)tmp;
    int r = 0;
    if (m > 1) /* one query: row after row, a single stream */
        for (; r + 4 <= n; r += 4) {
            if (f16)
                rows4_f16(out + r, ldo, inv + r, have_inv, qn, m, rows + (size_t)r * rs, rs, P);
            else
                rows4_f32(out + r, ldo, inv + r, have_inv, qn, m, rows + (size_t)r * rs, rs, P);
        }
    for (; r < n; r++) {
        if (f16)
            rows1_f16(out + r, ldo, inv + r, have_inv, qn, m, rows + (size_t)r * rs, rs, P);
        else
            rows1_f32(out + r, ldo, inv + r, have_inv, qn, m, rows + (size_t)r * rs, rs, P);
    }
}

/* F16 rows [n, P] (any alignment) -> floats dst [n, P]. */
AVX512_TARGET static void f16_rows_avx512(float *dst, const unsigned char *src, size_t count) {
    size_t j = 0;
    for (; j + 16 <= count; j += 16)
        _mm512_storeu_ps(dst + j, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(src + 2 * j))));
    if (j < count) {
        __mmask16 k = (__mmask16)((1u << (count - j)) - 1);
        _mm512_mask_storeu_ps(dst + j, k, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, src + 2 * j)));
    }
}
#endif

/* ---- which kernel ---- */
static int force_portable;

static bool have_avx512(void) {
#ifdef TOPK_HAVE_AVX512
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
    }
    return have && !force_portable;
#else
    return false;
#endif
}

void ct_topk_force_portable(bool on) { force_portable = on; }

const char *ct_topk_kernel_name(void) { return have_avx512() ? "avx512" : "portable"; }

/* How a search scores gallery blocks; fixed for one call so that every block of it is scored
 * the same way. */
typedef struct {
    kern_fn kern;
    bool gemm; /* ct_sgemm for the dots, the row kernel for the norms */
    int block; /* gallery rows per block */
} scorer;

static int kern_max_q = -1;
void ct_topk_set_kernel_max_q(int q) { kern_max_q = q; }

static scorer choose_scorer(int Q) {
    scorer s = {kern_portable, Q > (kern_max_q >= 0 ? kern_max_q : KERN_MAX_Q_PORTABLE), 0};
#ifdef TOPK_HAVE_AVX512
    if (have_avx512()) s = (scorer){kern_avx512, Q > (kern_max_q >= 0 ? kern_max_q : KERN_MAX_Q_AVX512), 0};
#endif
    s.block = s.gemm ? GEMM_BLOCK : KERN_BLOCK;
    return s;
}

/* Per-thread scratch of a scorer: rows converted to F32 (gemm only), inverse norms, a row. */
typedef struct {
    float *conv; /* [block, P] */
    float *inv;  /* [block] */
    float *row;  /* [P] */
} scratch;

static bool scratch_init(scratch *w, const scorer *s, int P) {
    w->conv = s->gemm ? malloc((size_t)s->block * P * sizeof(float)) : NULL;
    w->inv = malloc((size_t)s->block * sizeof(float));
    w->row = malloc((size_t)P * sizeof(float));
    return w->inv && w->row && (w->conv || !s->gemm);
}

static void scratch_free(scratch *w) {
    free(w->conv);
    free(w->inv);
    free(w->row);
}

/* out[i * ldo + r] = score of query i (qn [m, P]) against gallery row g0 + r, r < n. */
static void score_block(float *out, size_t ldo, const scorer *s, scratch *w, const float *qn, int m,
                        const void *gallery, ct_dtype dt, int64_t g0, int n, int P) {
    bool f16 = dt == CT_DT_F16;
    size_t rs = (size_t)P * (f16 ? 2 : 4);
    const unsigned char *rows = (const unsigned char *)gallery + (size_t)g0 * rs;
    if (!s->gemm) {
        s->kern(out, ldo, w->inv, false, qn, m, rows, rs, f16, n, P, w->row);
        return;
    }
    const float *x = (const float *)(const void *)rows;
    if (f16 || (uintptr_t)rows % sizeof(float)) {
        x = w->conv;
#ifdef TOPK_HAVE_AVX512
        if (f16 && s->kern == kern_avx512)
            f16_rows_avx512(w->conv, rows, (size_t)n * P);
        else
#endif
            if (f16)
            for (size_t j = 0; j < (size_t)n * P; j++) w->conv[j] = row_at(rows, true, j);
        else
            memcpy(w->conv, rows, (size_t)n * rs);
    }
    s->kern(NULL, 0, w->inv, false, NULL, 0, (const unsigned char *)x, (size_t)P * 4, false, n, P, w->row);
    ct_sgemm(false, true, m, n, P, 1.0f, qn, P, x, P, 0.0f, out, (int)ldo);
    for (int i = 0; i < m; i++) {
        float *o = out + (size_t)i * ldo;
        for (int r = 0; r < n; r++)
            o[r] = w->inv[r] >= 0 ? o[r] * w->inv[r] : score_double(qn + (size_t)i * P, rows + (size_t)r * rs, f16, P);
    }
}

static ct_status check_args(const void *gallery, ct_dtype dt, int64_t G, int P) {
    if (dt != CT_DT_F32 && dt != CT_DT_F16)
        return ct_fail(CT_ERR_UNSUPPORTED, "search: gallery dtype code %d (F32 or F16 supported)", (int)dt);
    if (P < 1 || G < 0 || G > INT32_MAX || (G && !gallery))
        return ct_fail(CT_ERR_ARG, "search: bad gallery shape [%lld, %d]", (long long)G, P);
    if (dt == CT_DT_F16) pthread_once(&f16_once, f16_init);
    return CT_OK;
}

/* ---- bounded heaps ----
 * The order: a is worse than b when its score is lower (NaN lowest of all), or equal with a
 * later gallery index. The heap's root is the WORST kept candidate. */
typedef struct {
    float s;
    int g;
} cand;
static inline int worse(cand a, cand b) {
    int an = isnan(a.s), bn = isnan(b.s);
    if (an != bn) return an;
    if (!an && a.s != b.s) return a.s < b.s;
    return a.g > b.g;
}

static void heap_push(cand *h, int *n, int k, cand c) {
    if (*n < k) {
        int i = (*n)++;
        h[i] = c;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(h[i], h[p])) break;
            cand t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
        return;
    }
    if (!worse(h[0], c)) return; /* not better than the worst kept */
    h[0] = c;
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < k && worse(h[l], h[m])) m = l;
        if (r < k && worse(h[r], h[m])) m = r;
        if (m == i) break;
        cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int cmp_best(const void *a, const void *b) {
    cand x = *(const cand *)a, y = *(const cand *)b;
    return worse(y, x) ? -1 : worse(x, y) ? 1 : 0;
}

/* A heap and its filter: a score below thr cannot enter (thr is NaN, letting everything
 * through to heap_push, until the heap is full or while its worst is NaN). */
typedef struct {
    cand *h;
    int n;
    float thr;
} topheap;

static void push_scores(topheap *t, int k, const float *s, int n, int64_t g0) {
    float thr = t->thr;
    for (int j = 0; j < n; j++) {
        if (s[j] < thr) continue;
        heap_push(t->h, &t->n, k, (cand){s[j], (int)(g0 + j)});
        thr = t->n == k ? t->h[0].s : NAN;
    }
    t->thr = thr;
}

/* Sorts the candidates best first into out_idx/out_score [k] (-1 / -inf past n). */
static void emit(int *out_idx, float *out_score, cand *c, int n, int k) {
    qsort(c, (size_t)n, sizeof *c, cmp_best);
    for (int j = 0; j < k; j++) {
        out_idx[j] = j < n ? c[j].g : -1;
        if (out_score) out_score[j] = j < n ? c[j].s : -INFINITY;
    }
}

static float *normalised_queries(const float *queries, int Q, int P) {
    float *qn = malloc((size_t)Q * P * sizeof *qn + 1);
    if (!qn) return NULL;
    memcpy(qn, queries, (size_t)Q * P * sizeof *qn);
    for (int q = 0; q < Q; q++) {
        float *d = qn + (size_t)q * P;
        double ss = 0;
        for (int j = 0; j < P; j++) ss += (double)d[j] * d[j];
        if (ss > 0) {
            float inv = (float)(1.0 / sqrt(ss));
            for (int j = 0; j < P; j++) d[j] *= inv;
        }
    }
    return qn;
}

/* Threads for nb blocks: the team, but no more than there are grabs of blocks. */
static int team_for(int64_t nb) {
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    int64_t grabs = (nb + BLOCKS_PER_GRAB - 1) / BLOCKS_PER_GRAB;
    return grabs < nt ? (int)(grabs > 0 ? grabs : 1) : nt;
}

ct_status ct_topk(int *out_idx, float *out_score, const float *queries, int Q, const void *gallery, ct_dtype dt,
                  int64_t G, int P, int k) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    if (k < 1 || Q < 0) return ct_fail(CT_ERR_ARG, "search: k = %d, Q = %d", k, Q);
    if (Q == 0) return CT_OK;
    scorer sc = choose_scorer(Q);
    int64_t nb = (G + sc.block - 1) / sc.block;
    int nt = team_for(nb);
    int qb = sc.gemm && Q > TOPK_QBLOCK ? TOPK_QBLOCK : Q;
    float *qn = normalised_queries(queries, Q, P);
    cand *cands = malloc((size_t)nt * Q * k * sizeof *cands);
    topheap *heaps = malloc((size_t)nt * Q * sizeof *heaps);
    int *fail = calloc((size_t)nt, sizeof *fail);
    if (!qn || !cands || !heaps || !fail) goto nomem;
    for (size_t i = 0; i < (size_t)nt * Q; i++) heaps[i] = (topheap){cands + i * k, 0, NAN};
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        topheap *th = heaps + (size_t)t * Q;
        scratch w;
        bool ok = scratch_init(&w, &sc, P);
        float *sbuf = malloc((size_t)qb * sc.block * sizeof *sbuf);
        if (!ok || !sbuf) fail[t] = 1;
/* consecutive grabs in gallery order; blocks a failed thread skips are noticed below */
#pragma omp for schedule(dynamic, BLOCKS_PER_GRAB)
        for (int64_t b = 0; b < nb; b++) {
            if (fail[t]) continue;
            int64_t g0 = b * sc.block;
            int n = (int)(G - g0 < sc.block ? G - g0 : sc.block);
            for (int q0 = 0; q0 < Q; q0 += qb) {
                int m = Q - q0 < qb ? Q - q0 : qb;
                score_block(sbuf, (size_t)sc.block, &sc, &w, qn + (size_t)q0 * P, m, gallery, dt, g0, n, P);
                for (int i = 0; i < m; i++) push_scores(&th[q0 + i], k, sbuf + (size_t)i * sc.block, n, g0);
            }
        }
        scratch_free(&w);
        free(sbuf);
    }
    for (int t = 0; t < nt; t++)
        if (fail[t]) goto nomem;
    /* merge: the union of the threads' heaps of a query holds its k best */
    cand *merged = malloc((size_t)nt * k * sizeof *merged);
    if (!merged) goto nomem;
    for (int q = 0; q < Q; q++) {
        int n = 0;
        for (int t = 0; t < nt; t++) {
            topheap *h = &heaps[(size_t)t * Q + q];
            memcpy(merged + n, h->h, (size_t)h->n * sizeof *merged);
            n += h->n;
        }
        emit(out_idx + (size_t)q * k, out_score ? out_score + (size_t)q * k : NULL, merged, n, k);
    }
    free(merged);
    goto done;
nomem:
    st = ct_fail(CT_ERR_NOMEM, "search: out of memory (Q = %d, k = %d, P = %d)", Q, k, P);
done:
    free(qn);
    free(cands);
    free(heaps);
    free(fail);
    return st;
}

ct_status ct_topk_ref(int *out_idx, float *out_score, const float *queries, int Q, const void *gallery, ct_dtype dt,
                      int64_t G, int P, int k) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    if (k < 1 || Q < 0) return ct_fail(CT_ERR_ARG, "search: k = %d, Q = %d", k, Q);
    float *qn = normalised_queries(queries, Q, P);
    cand *best = malloc((size_t)k * sizeof *best);
    if (!qn || !best) {
        st = ct_fail(CT_ERR_NOMEM, "search: out of memory (k = %d, P = %d)", k, P);
        goto fail;
    }
    size_t rs = (size_t)P * (dt == CT_DT_F16 ? 2 : 4);
    for (int q = 0; q < Q; q++) {
        int n = 0; /* best [n]: sorted, best first; insertion of every row */
        for (int64_t g = 0; g < G; g++) {
            cand c = {
                score_double(qn + (size_t)q * P, (const unsigned char *)gallery + (size_t)g * rs, dt == CT_DT_F16, P),
                (int)g};
            if (n == k && !worse(best[k - 1], c)) continue;
            int i = n < k ? n++ : k - 1;
            for (; i > 0 && worse(best[i - 1], c); i--) best[i] = best[i - 1];
            best[i] = c;
        }
        for (int j = 0; j < k; j++) {
            out_idx[(size_t)q * k + j] = j < n ? best[j].g : -1;
            if (out_score) out_score[(size_t)q * k + j] = j < n ? best[j].s : -INFINITY;
        }
    }
fail:
    free(qn);
    free(best);
    return st;
}

ct_status ct_scores_at(float *out, const float *query, const void *gallery, ct_dtype dt, int64_t G, int P,
                       const int *idx, int n) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    scorer sc = choose_scorer(1);
    float *qn = normalised_queries(query, 1, P);
    scratch w;
    bool ok = scratch_init(&w, &sc, P);
    if (!qn || !ok) {
        st = ct_fail(CT_ERR_NOMEM, "search: out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= G) {
            st = ct_fail(CT_ERR_ARG, "search: gallery index %d outside [0, %lld)", idx[i], (long long)G);
            goto fail;
        }
        score_block(&out[i], 1, &sc, &w, qn, 1, gallery, dt, idx[i], 1, P);
    }
fail:
    free(qn);
    scratch_free(&w);
    return st;
}

ct_status ct_topk_ranks(ct_eval_plan *plan, const float *queries, const void *gallery, ct_dtype dt, int64_t G, int P) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    if (G != plan->G) return ct_fail(CT_ERR_SHAPE, "search: gallery has %lld rows, the plan %d", (long long)G, plan->G);
    int Q = plan->Q;
    size_t per = (size_t)(G ? G : 1) * sizeof(float);
    int qb = (int)(RANK_ROW_BYTES / per);
    if (qb < 1) qb = 1;
    if (qb > Q) qb = Q;
    scorer sc = choose_scorer(Q); /* as ct_topk with the same queries: the same scores */
    int64_t nb = (G + sc.block - 1) / sc.block;
    int nt = team_for(nb);
    int mb = sc.gemm && qb > TOPK_QBLOCK ? TOPK_QBLOCK : qb;
    float *qn = normalised_queries(queries, Q, P);
    float *rows = malloc((size_t)(qb ? qb : 1) * per);
    int *fail = calloc((size_t)nt, sizeof *fail);
    if (!qn || !rows || !fail) {
        st = ct_fail(CT_ERR_NOMEM, "search: out of memory");
        goto done;
    }
    for (int q0 = 0; q0 < Q; q0 += qb) {
        int m = Q - q0 < qb ? Q - q0 : qb;
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num();
            scratch w;
            if (!scratch_init(&w, &sc, P)) fail[t] = 1;
#pragma omp for schedule(dynamic, BLOCKS_PER_GRAB)
            for (int64_t b = 0; b < nb; b++) {
                if (fail[t]) continue;
                int64_t g0 = b * sc.block;
                int n = (int)(G - g0 < sc.block ? G - g0 : sc.block);
                for (int i0 = 0; i0 < m; i0 += mb) /* straight into the score rows */
                    score_block(rows + (size_t)i0 * G + g0, (size_t)G, &sc, &w, qn + (size_t)(q0 + i0) * P,
                                m - i0 < mb ? m - i0 : mb, gallery, dt, g0, n, P);
            }
            scratch_free(&w);
        }
        for (int t = 0; t < nt; t++)
            if (fail[t]) {
                st = ct_fail(CT_ERR_NOMEM, "search: out of memory");
                goto done;
            }
        ct_eval_rank_rows(plan, q0, m, rows);
    }
done:
    free(qn);
    free(rows);
    free(fail);
    return st;
}
