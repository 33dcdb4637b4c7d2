/* Exact cosine top-k through ct_sgemm over blocks of gallery rows, with a bounded heap per
 * query; and blockwise ranks for the metrics. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "ctcir/index.h"
#include "retrieval/ret_internal.h"

#define TOPK_GBLOCK 1024   /* gallery rows per block: small enough to stay in cache */
#define TOPK_QBLOCK 256    /* queries per block */
#define RANK_ROW_BYTES ((size_t)256 << 20) /* cap of the score rows held by ct_topk_ranks */

/* IEEE half -> float for all 65536 codes (ct_f16_to_f32 is exact; the table makes it cheap). */
static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;
static void f16_init(void) {
    for (uint32_t i = 0; i < 65536; i++) f16_table[i] = ct_f16_to_f32((uint16_t)i);
}

/* Rows [g0, g0 + n) of the gallery as floats [n, P] (the gallery itself when it is aligned
 * F32, else converted into buf) and their inverse L2 norms (0 for a zero row). Cosine
 * scores are then the sgemm of the normalised queries with these rows, times inv_norm. */
static const float *load_block(float *buf, float *inv_norm, const void *gallery, ct_dtype dt,
                               int64_t g0, int n, int P) {
    const float *rows = buf;
    if (dt == CT_DT_F32 && (uintptr_t)gallery % sizeof(float) == 0) rows = (const float *)gallery + (size_t)g0 * P;
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        float *d = buf + (size_t)i * P;
        const float *row = rows + (size_t)i * P;
        if (dt == CT_DT_F16) {
            const unsigned char *src = (const unsigned char *)gallery + ((size_t)(g0 + i) * P) * 2;
            if ((uintptr_t)src % 2 == 0) {
                const uint16_t *hs = (const uint16_t *)(const void *)src;
                for (int j = 0; j < P; j++) d[j] = f16_table[hs[j]];
            } else {
                for (int j = 0; j < P; j++) {
                    uint16_t h;
                    memcpy(&h, src + 2 * (size_t)j, 2);
                    d[j] = f16_table[h];
                }
            }
        } else if (rows == buf) {
            memcpy(d, (const unsigned char *)gallery + ((size_t)(g0 + i) * P) * 4, (size_t)P * 4);
        }
        double ss = 0;
        #pragma omp simd reduction(+ : ss)
        for (int j = 0; j < P; j++) ss += (double)row[j] * row[j];
        inv_norm[i] = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    }
    return rows;
}

/* sbuf [m, n] = normalised queries [m, P] x block rows [n, P]^T, scaled by the rows'
 * inverse norms: cosine similarities. */
static void score_block(float *sbuf, const float *qn, int m, const float *rows, const float *inv_norm, int n, int P) {
    ct_sgemm(false, true, m, n, P, 1.0f, qn, P, rows, P, 0.0f, sbuf, n);
    #pragma omp parallel for schedule(static) if (m > 1)
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) sbuf[(size_t)i * n + j] *= inv_norm[j];
}

static ct_status check_args(const void *gallery, ct_dtype dt, int64_t G, int P) {
    if (dt != CT_DT_F32 && dt != CT_DT_F16)
        return ct_fail(CT_ERR_UNSUPPORTED, "search: gallery dtype code %d (F32 or F16 supported)", (int)dt);
    if (P < 1 || G < 0 || G > INT32_MAX || (G && !gallery))
        return ct_fail(CT_ERR_ARG, "search: bad gallery shape [%lld, %d]", (long long)G, P);
    if (dt == CT_DT_F16) pthread_once(&f16_once, f16_init);
    return CT_OK;
}

/* Heap entries ordered so that the root is the WORST kept candidate. */
typedef struct { float s; int g; } cand;
static inline int worse(cand a, cand b) { return a.s < b.s || (a.s == b.s && a.g > b.g); }

static void heap_push(cand *h, int *n, int k, cand c) {
    if (*n < k) {
        int i = (*n)++;
        h[i] = c;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(h[i], h[p])) break;
            cand t = h[i]; h[i] = h[p]; h[p] = t;
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
        cand t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static int cmp_best(const void *a, const void *b) {
    cand x = *(const cand *)a, y = *(const cand *)b;
    return worse(y, x) ? -1 : worse(x, y) ? 1 : 0;
}

static float *normalised_queries(const float *queries, int Q, int P) {
    float *qn = malloc((size_t)Q * P * sizeof *qn + 1);
    if (!qn) return NULL;
    memcpy(qn, queries, (size_t)Q * P * sizeof *qn);
    #pragma omp parallel for schedule(static)
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

ct_status ct_topk(int *out_idx, float *out_score, const float *queries, int Q,
                  const void *gallery, ct_dtype dt, int64_t G, int P, int k) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    if (k < 1 || Q < 0) return ct_fail(CT_ERR_ARG, "search: k = %d, Q = %d", k, Q);
    float *qn = normalised_queries(queries, Q, P);
    int gb = G < TOPK_GBLOCK ? (int)G : TOPK_GBLOCK;
    int qb = Q < TOPK_QBLOCK ? Q : TOPK_QBLOCK;
    float *gbuf = malloc((size_t)(gb ? gb : 1) * P * sizeof *gbuf);
    float *inv = malloc((size_t)(gb ? gb : 1) * sizeof *inv);
    float *sbuf = malloc((size_t)(qb ? qb : 1) * (gb ? gb : 1) * sizeof *sbuf);
    cand *heaps = malloc((size_t)(Q ? Q : 1) * k * sizeof *heaps);
    int *hn = calloc((size_t)Q + 1, sizeof *hn);
    if (!qn || !gbuf || !inv || !sbuf || !heaps || !hn) {
        st = ct_fail(CT_ERR_NOMEM, "search: out of memory (Q = %d, k = %d, P = %d)", Q, k, P);
        goto fail;
    }
    for (int64_t g0 = 0; g0 < G; g0 += gb) {
        int n = (int)(G - g0 < gb ? G - g0 : gb);
        const float *rows = load_block(gbuf, inv, gallery, dt, g0, n, P);
        for (int q0 = 0; q0 < Q; q0 += qb) {
            int m = Q - q0 < qb ? Q - q0 : qb;
            score_block(sbuf, qn + (size_t)q0 * P, m, rows, inv, n, P);
            #pragma omp parallel for schedule(static)
            for (int i = 0; i < m; i++) {
                cand *h = heaps + (size_t)(q0 + i) * k;
                const float *s = sbuf + (size_t)i * n;
                for (int j = 0; j < n; j++) heap_push(h, &hn[q0 + i], k, (cand){s[j], (int)(g0 + j)});
            }
        }
    }
    #pragma omp parallel for schedule(static)
    for (int q = 0; q < Q; q++) {
        cand *h = heaps + (size_t)q * k;
        qsort(h, (size_t)hn[q], sizeof *h, cmp_best);
        for (int j = 0; j < k; j++) {
            out_idx[(size_t)q * k + j] = j < hn[q] ? h[j].g : -1;
            if (out_score) out_score[(size_t)q * k + j] = j < hn[q] ? h[j].s : -INFINITY;
        }
    }
fail:
    free(qn);
    free(gbuf);
    free(inv);
    free(sbuf);
    free(heaps);
    free(hn);
    return st;
}

ct_status ct_scores_at(float *out, const float *query, const void *gallery, ct_dtype dt,
                       int64_t G, int P, const int *idx, int n) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    float *qn = normalised_queries(query, 1, P);
    float *row = malloc((size_t)P * sizeof *row);
    float inv;
    if (!qn || !row) { st = ct_fail(CT_ERR_NOMEM, "search: out of memory"); goto fail; }
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= G) {
            st = ct_fail(CT_ERR_ARG, "search: gallery index %d outside [0, %lld)", idx[i], (long long)G);
            goto fail;
        }
        const float *r = load_block(row, &inv, gallery, dt, idx[i], 1, P);
        score_block(&out[i], qn, 1, r, &inv, 1, P);
    }
fail:
    free(qn);
    free(row);
    return st;
}

ct_status ct_topk_ranks(ct_eval_plan *plan, const float *queries, const void *gallery,
                        ct_dtype dt, int64_t G, int P) {
    ct_status st = check_args(gallery, dt, G, P);
    if (st) return st;
    if (G != plan->G) return ct_fail(CT_ERR_SHAPE, "search: gallery has %lld rows, the plan %d", (long long)G, plan->G);
    int Q = plan->Q;
    size_t per = (size_t)(G ? G : 1) * sizeof(float);
    int qb = (int)(RANK_ROW_BYTES / per);
    if (qb < 1) qb = 1;
    if (qb > Q) qb = Q;
    int gb = G < TOPK_GBLOCK ? (int)G : TOPK_GBLOCK;
    float *qn = normalised_queries(queries, Q, P);
    float *gbuf = malloc((size_t)(gb ? gb : 1) * P * sizeof *gbuf);
    float *inv = malloc((size_t)(gb ? gb : 1) * sizeof *inv);
    float *rows = malloc((size_t)(qb ? qb : 1) * per);
    float *sbuf = malloc((size_t)(qb ? qb : 1) * (gb ? gb : 1) * sizeof *sbuf);
    if (!qn || !gbuf || !inv || !rows || !sbuf) { st = ct_fail(CT_ERR_NOMEM, "search: out of memory"); goto fail; }
    for (int q0 = 0; q0 < Q; q0 += qb) {
        int m = Q - q0 < qb ? Q - q0 : qb;
        for (int64_t g0 = 0; g0 < G; g0 += gb) {
            int n = (int)(G - g0 < gb ? G - g0 : gb);
            const float *grows = load_block(gbuf, inv, gallery, dt, g0, n, P);
            score_block(sbuf, qn + (size_t)q0 * P, m, grows, inv, n, P);
            for (int i = 0; i < m; i++) memcpy(rows + (size_t)i * G + g0, sbuf + (size_t)i * n, (size_t)n * sizeof *rows);
        }
        ct_eval_rank_rows(plan, q0, m, rows);
    }
fail:
    free(qn);
    free(gbuf);
    free(inv);
    free(rows);
    free(sbuf);
    return st;
}
