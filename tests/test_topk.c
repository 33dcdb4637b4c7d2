/* Exact top-k and blockwise ranks against brute force (random data, exact ties, F16), and the
 * fast search (each kernel, each path) against ct_topk_ref. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ctcir/index.h"
#include "retrieval/ret_internal.h"
#include "test_util.h"

/* Brute force in double: normalised cosine, sorted by (score desc, index asc). */
static double *bf_scores(const float *q, int Q, const float *g, int G, int P) {
    double *s = malloc((size_t)Q * G * sizeof *s);
    for (int i = 0; i < Q; i++)
        for (int j = 0; j < G; j++) {
            double d = 0, nq = 0, ng = 0;
            for (int p = 0; p < P; p++) {
                d += (double)q[i * P + p] * g[(size_t)j * P + p];
                nq += (double)q[i * P + p] * q[i * P + p];
                ng += (double)g[(size_t)j * P + p] * g[(size_t)j * P + p];
            }
            s[(size_t)i * G + j] = nq > 0 && ng > 0 ? d / sqrt(nq * ng) : 0;
        }
    return s;
}

static const double *cmp_row;
static int cmp_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (cmp_row[x] != cmp_row[y]) return cmp_row[x] > cmp_row[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static int *bf_order(const double *s, int G) {
    int *o = malloc((size_t)G * sizeof *o);
    for (int j = 0; j < G; j++) o[j] = j;
    cmp_row = s;
    qsort(o, (size_t)G, sizeof *o, cmp_desc);
    return o;
}

static void test_random(ct_dtype dt) {
    int Q = 37, G = 9000, P = 24, k = 13; /* G > one 4096-row block */
    ct_rng r;
    ct_rng_seed(&r, dt == CT_DT_F16 ? 7 : 3);
    float *q = malloc((size_t)Q * P * sizeof *q), *g = malloc((size_t)G * P * sizeof *g);
    for (int i = 0; i < Q * P; i++) q[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < G * P; i++) g[i] = (float)ct_rng_normal(&r);
    uint16_t *h = NULL;
    const void *gal = g;
    if (dt == CT_DT_F16) { /* brute force sees the rounded values */
        h = malloc((size_t)G * P * sizeof *h);
        for (int i = 0; i < G * P; i++) {
            h[i] = ct_f32_to_f16(g[i]);
            g[i] = ct_f16_to_f32(h[i]);
        }
        gal = h;
    }
    int *idx = malloc((size_t)Q * k * sizeof *idx);
    float *sc = malloc((size_t)Q * k * sizeof *sc);
    CHECK(ct_topk(idx, sc, q, Q, gal, dt, G, P, k) == CT_OK);
    double *s = bf_scores(q, Q, g, G, P);
    int bad = 0;
    double maxerr = 0;
    for (int i = 0; i < Q; i++) {
        int *o = bf_order(s + (size_t)i * G, G);
        for (int j = 0; j < k; j++) {
            bad += idx[i * k + j] != o[j];
            double e = fabs(sc[i * k + j] - s[(size_t)i * G + o[j]]);
            if (e > maxerr) maxerr = e;
        }
        free(o);
    }
    CHECK_MSG(bad == 0 && maxerr < 1e-5, "dtype %d: %d mismatches, max score error %g", (int)dt, bad, maxerr);
    /* ct_scores_at agrees with the top-k scores. */
    float at[3];
    CHECK(ct_scores_at(at, q, gal, dt, G, P, idx, 3) == CT_OK);
    CHECK(fabsf(at[0] - sc[0]) < 1e-6f && fabsf(at[2] - sc[2]) < 1e-6f);
    int badidx = G;
    CHECK(ct_scores_at(at, q, gal, dt, G, P, &badidx, 1) == CT_ERR_ARG);
    /* Blockwise ranks = ranks from the brute-force orders (reference removed for half the
     * queries). */
    ct_eval_plan p = {.Q = Q, .G = G, .kind = CT_DS_MANIFEST};
    p.exclude = malloc((size_t)Q * sizeof(int));
    p.n_target = malloc((size_t)Q * sizeof(int));
    p.off = malloc(((size_t)Q + 1) * sizeof(int64_t));
    p.probe = malloc((size_t)Q * 2 * sizeof(int));
    p.rank = calloc((size_t)Q * 2, sizeof(int64_t));
    for (int i = 0; i < Q; i++) {
        p.off[i] = 2 * i;
        p.n_target[i] = 2;
        p.probe[2 * i] = (int)ct_rng_below(&r, (uint64_t)G);
        p.probe[2 * i + 1] = idx[i * k + 5];
        p.exclude[i] = i % 2 ? idx[i * k] : -1;
    }
    p.off[Q] = 2 * Q;
    CHECK(ct_topk_ranks(&p, q, gal, dt, G, P) == CT_OK);
    int rbad = 0;
    for (int i = 0; i < Q; i++) {
        int *o = bf_order(s + (size_t)i * G, G);
        for (int t = 0; t < 2; t++) {
            int64_t want = 0;
            for (int j = 0; j < G && o[j] != p.probe[2 * i + t]; j++) want += o[j] != p.exclude[i];
            rbad += p.rank[2 * i + t] != want;
        }
        free(o);
    }
    CHECK_MSG(rbad == 0, "%d rank mismatches", rbad);
    ct_eval_plan_free(&p);
    free(s);
    free(q);
    free(g);
    free(h);
    free(idx);
    free(sc);
}

/* Exact ties: unit vectors whose entries are 0 or +-0.5 (four non-zeros), so every score
 * is exact; duplicates tie and must come out in gallery order. */
static void test_ties(void) {
    int Q = 5, G = 5000, P = 16, k = 40;
    ct_rng r;
    ct_rng_seed(&r, 11);
    float *q = calloc((size_t)Q * P, sizeof *q), *g = calloc((size_t)G * P, sizeof *g);
    for (int i = 0; i < Q + G; i++) {
        float *v = i < Q ? q + i * P : g + (size_t)(i - Q) * P;
        for (int n = 0; n < 4;) {
            int j = (int)ct_rng_below(&r, P);
            if (v[j] != 0) continue;
            v[j] = ct_rng_below(&r, 2) ? 0.5f : -0.5f;
            n++;
        }
    }
    int *idx = malloc((size_t)Q * k * sizeof *idx);
    CHECK(ct_topk(idx, NULL, q, Q, g, CT_DT_F32, G, P, k) == CT_OK);
    double *s = bf_scores(q, Q, g, G, P);
    int bad = 0;
    for (int i = 0; i < Q; i++) {
        int *o = bf_order(s + (size_t)i * G, G);
        for (int j = 0; j < k; j++) bad += idx[i * k + j] != o[j];
        /* there are ties within the top k (only 5 distinct score levels above 0) */
        free(o);
    }
    CHECK_MSG(bad == 0, "%d mismatches with ties", bad);
    CHECK(s[idx[k - 1]] == s[idx[k - 2]]);
    /* k > G: the tail is -1. */
    int small[8];
    float ss[8];
    CHECK(ct_topk(small, ss, q, 1, g, CT_DT_F32, 5, P, 8) == CT_OK);
    CHECK(small[4] >= 0 && small[5] == -1 && small[7] == -1 && isinf(ss[7]));
    CHECK(ct_topk(small, ss, q, 1, g, CT_DT_BF16, 5, P, 8) == CT_ERR_UNSUPPORTED);
    free(s);
    free(q);
    free(g);
    free(idx);
}

static void test_half(void) {
    /* 1 + 2^-11 and 1 + 3 * 2^-11 are exact half-way cases: they round to the even neighbour. */
    static const float v[] = {0.0f,           -0.0f,          1.0f,           -2.5f,          65504.0f,
                              65520.0f,       6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 1.0009766f,
                              1.00048828125f, 1.00146484375f, 3.0e-8f};
    static const uint16_t h[] = {0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x7c00, 0x0400,
                                 0x0001, 0x0000, 0x3c01, 0x3c00, 0x3c02, 0x0001};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        CHECK_MSG(ct_f32_to_f16(v[i]) == h[i], "%g -> %04x (want %04x)", v[i], ct_f32_to_f16(v[i]), h[i]);
    int bad = 0;
    for (uint32_t x = 0; x < 0x7c00; x++) bad += ct_f32_to_f16(ct_f16_to_f32((uint16_t)x)) != x;
    CHECK(bad == 0);
    CHECK((ct_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (ct_f32_to_f16(NAN) & 0x3ff));
}

/* ---- the fast search against ct_topk_ref ---- */

/* Copies gallery rows [G, P] of dtype dt to a buffer at byte offset off (off 1: unaligned). */
static unsigned char *place(const void *g, size_t bytes, int off, unsigned char **base) {
    *base = malloc(bytes + 8);
    memcpy(*base + off, g, bytes);
    return *base + off;
}

/* ct_topk against ct_topk_ref: the same indices, scores within tol of the reference. Rows
 * whose reference scores lie within 1e-6 may come out swapped: the fast scores are float
 * sums. Equal fast scores must be in gallery order, and duplicate rows must score the same,
 * unless the search goes through ct_sgemm (whose rounding may depend on a row's position in
 * a block; the row kernel's does not). */
/* Cosine of query q with gallery row g in double (as ct_topk_ref scores it). */
static double cos_d(const float *q, const void *gal, ct_dtype dt, int g, int P) {
    double nq = 0, d = 0, ng = 0;
    for (int j = 0; j < P; j++) nq += (double)q[j] * q[j];
    float inv = nq > 0 ? (float)(1.0 / sqrt(nq)) : 1.0f;
    for (int j = 0; j < P; j++) {
        float x;
        if (dt == CT_DT_F16) {
            uint16_t h;
            memcpy(&h, (const unsigned char *)gal + ((size_t)g * P + j) * 2, 2);
            x = ct_f16_to_f32(h);
        } else
            memcpy(&x, (const unsigned char *)gal + ((size_t)g * P + j) * 4, 4);
        d += (double)(q[j] * inv) * x;
        ng += (double)x * x;
    }
    if (!isfinite(ng)) return NAN;
    return ng > 0 ? d / sqrt(ng) : 0;
}

static bool all_gemm; /* ct_topk_set_kernel_max_q(0) in force */

/* ct_topk against ct_topk_ref: the same indices, scores within tol of the reference. Rows
 * whose reference scores lie within 1e-6 may come out swapped: the fast scores are float
 * sums. Equal fast scores must be in gallery order, and duplicate rows must score the same,
 * unless the search goes through ct_sgemm (whose rounding may depend on a row's position in
 * a block; the row kernel's does not). */
static void agree(const float *q, int Q, const void *gal, ct_dtype dt, int G, int P, int k, float tol,
                  const char *what) {
    int *i1 = malloc((size_t)Q * k * sizeof *i1), *i2 = malloc((size_t)Q * k * sizeof *i2);
    float *s1 = malloc((size_t)Q * k * sizeof *s1), *s2 = malloc((size_t)Q * k * sizeof *s2);
    int bad = 0, swaps = 0, g1 = 0;
    bool gemm = all_gemm || Q > (strcmp(ct_topk_kernel_name(), "avx512") ? 2 : 64); /* the defaults in topk.c */
    CHECK(ct_topk(i1, s1, q, Q, gal, dt, G, P, k) == CT_OK);
    CHECK(ct_topk_ref(i2, s2, q, Q, gal, dt, G, P, k) == CT_OK);
    float maxerr = 0;
    for (int j = 0; j < Q * k; j++) {
        int f = i1[j], e = i2[j];
        if (isnan(s1[j]) != isnan(s2[j]) || isinf(s1[j]) != isinf(s2[j]))
            bad++;
        else if (isfinite(s1[j]) && fabsf(s1[j] - s2[j]) > maxerr)
            maxerr = fabsf(s1[j] - s2[j]);
        if (f == e) continue;
        if (f < 0 || e < 0) {
            bad++;
            continue;
        }
        const float *qi = q + (size_t)(j / k) * P;
        double sf = cos_d(qi, gal, dt, f, P), se = cos_d(qi, gal, dt, e, P);
        if (!(fabs(sf - se) <= 1e-6))
            bad++; /* not a rounding-level swap */
        else
            swaps++;
    }
    /* exact ties (duplicate rows) in gallery order within each result */
    for (int i = 0; i < Q && !gemm; i++)
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                int ga = i1[i * k + a], gb = i1[i * k + b];
                if (ga < 0 || gb < 0) continue;
                size_t rb = (size_t)P * (dt == CT_DT_F16 ? 2 : 4);
                bool same = !memcmp((const char *)gal + ga * rb, (const char *)gal + gb * rb, rb);
                g1 += (ga > gb && s1[i * k + a] == s1[i * k + b]) || (same && s1[i * k + a] != s1[i * k + b]);
            }
    CHECK_MSG(bad == 0 && g1 == 0 && maxerr <= tol,
              "%s (%s, dtype %d, Q %d, G %d, P %d, k %d): %d mismatches, %d exact ties out of order or split, max "
              "score error %g",
              what, ct_topk_kernel_name(), (int)dt, Q, G, P, k, bad, g1, maxerr);
    CHECK_MSG(swaps <= Q * k / 50, "%s: %d rounding-level swaps of %d", what, swaps, Q * k);
    free(i1);
    free(i2);
    free(s1);
    free(s2);
}

/* Random data over the shapes that take each path: P with and without a 16-lane remainder,
 * G not a multiple of 4 or of a block, one query to past the ct_sgemm threshold, k > G,
 * unaligned galleries; rows duplicated across tile positions (exact ties), a zero row and
 * rows whose squares leave float range (scored in double). Scaled copies of a row would tie
 * only in exact arithmetic, so the scaled rows are not copies. */
static void test_vs_ref(void) {
    ct_rng r;
    ct_rng_seed(&r, 21);
    static const int Ps[] = {5, 37, 64};
    static const int Gs[] = {7, 1027, 3001};
    static const int Qs[] = {1, 5, 64, 70};
    for (int pi = 0; pi < 3; pi++)
        for (int gi = 0; gi < 3; gi++) {
            int P = Ps[pi], G = Gs[gi];
            float *g = malloc((size_t)G * P * sizeof *g), *q = malloc((size_t)70 * P * sizeof *q);
            uint16_t *h = malloc((size_t)G * P * sizeof *h);
            for (int i = 0; i < 70 * P; i++) q[i] = (float)ct_rng_normal(&r);
            for (int i = 0; i < G * P; i++) g[i] = (float)ct_rng_normal(&r);
            for (int j = 0; j < G / 10; j++) { /* duplicates at random positions */
                int a = (int)ct_rng_below(&r, (uint64_t)G), b = (int)ct_rng_below(&r, (uint64_t)G);
                memcpy(g + (size_t)a * P, g + (size_t)b * P, (size_t)P * sizeof *g);
            }
            if (G > 100) {
                memset(g + (size_t)50 * P, 0, (size_t)P * sizeof *g);        /* zero row */
                for (int j = 0; j < P; j++) g[(size_t)61 * P + j] *= 1e-20f; /* tiny */
                for (int j = 0; j < P; j++) g[(size_t)63 * P + j] *= 1e20f;  /* huge */
            }
            for (int i = 0; i < G * P; i++) h[i] = ct_f32_to_f16(g[i]);
            for (int qi = 0; qi < 4; qi++)
                for (int t = 0; t < 2; t++) {
                    int Q = Qs[qi], k = qi % 2 ? 10 : G + 3 > 40 ? 40 : G + 3;
                    unsigned char *base;
                    const void *gal =
                        place(t ? (void *)h : (void *)g, (size_t)G * P * (t ? 2 : 4), (qi + gi) % 2, &base);
                    agree(q, Q, gal, t ? CT_DT_F16 : CT_DT_F32, G, P, k, 2e-6f, "random");
                    free(base);
                }
            free(g);
            free(q);
            free(h);
        }
}

/* The result does not depend on the number of threads, on which queries share a call (row
 * kernel), and ct_scores_at returns the very scores of a one-query search. */
static void test_consistent(void) {
    int Q = 6, G = 20000, P = 50, k = 25;
    ct_rng r;
    ct_rng_seed(&r, 5);
    float *q = malloc((size_t)Q * P * sizeof *q), *g = malloc((size_t)G * P * sizeof *g);
    for (int i = 0; i < Q * P; i++) q[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < G * P; i++) g[i] = (float)ct_rng_normal(&r);
    int idx[3][6 * 25];
    float sc[3][6 * 25];
    ct_topk_set_kernel_max_q(6); /* the row kernel for one query and for six */
    for (int nt = 1; nt <= 3; nt++) {
        omp_set_num_threads(nt);
        CHECK(ct_topk(idx[nt - 1], sc[nt - 1], q, Q, g, CT_DT_F32, G, P, k) == CT_OK);
    }
    omp_set_num_threads(2);
    CHECK(memcmp(idx[0], idx[1], sizeof idx[0]) == 0 && memcmp(idx[0], idx[2], sizeof idx[0]) == 0);
    CHECK(memcmp(sc[0], sc[1], sizeof sc[0]) == 0 && memcmp(sc[0], sc[2], sizeof sc[0]) == 0);
    int one[25];
    float s1[25], at[25];
    CHECK(ct_topk(one, s1, q + 4 * P, 1, g, CT_DT_F32, G, P, k) == CT_OK);
    CHECK(memcmp(one, idx[0] + 4 * k, sizeof one) == 0 && memcmp(s1, sc[0] + 4 * k, sizeof s1) == 0);
    CHECK(ct_scores_at(at, q + 4 * P, g, CT_DT_F32, G, P, one, k) == CT_OK);
    CHECK(memcmp(at, s1, sizeof at) == 0);
    ct_topk_set_kernel_max_q(-1);
    free(q);
    free(g);
}

/* NaN scores (a NaN row; a NaN query) rank below every number, ties among them by gallery
 * order; a zero row scores 0. */
static void test_nan(void) {
    int G = 600, P = 20, k = 8;
    ct_rng r;
    ct_rng_seed(&r, 9);
    float *g = malloc((size_t)G * P * sizeof *g), q[2 * 20];
    for (int i = 0; i < G * P; i++) g[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < 2 * P; i++) q[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < G; i += 3) g[(size_t)i * P + i % P] = NAN; /* a third of the rows */
    g[(size_t)301 * P + 2] = INFINITY;
    memset(g + 4 * P, 0, (size_t)P * sizeof *g);
    agree(q, 2, g, CT_DT_F32, G, P, k, 2e-6f, "NaN rows");
    agree(q, 1, g, CT_DT_F32, 5, P, k, 2e-6f, "NaN rows, k > G");
    q[P + 3] = NAN;
    int idx[2 * 8];
    float sc[2 * 8];
    CHECK(ct_topk(idx, sc, q, 2, g, CT_DT_F32, 7, P, k) == CT_OK);
    /* query 1 is NaN: the zero row (score 0) first, then the others in gallery order */
    CHECK(idx[k] == 4 && sc[k] == 0 && idx[k + 1] == 0 && isnan(sc[k + 1]) && idx[k + 6] == 6 && idx[k + 7] == -1);
    agree(q, 2, g, CT_DT_F32, G, P, k, 2e-6f, "a NaN query");
    free(g);
}

static void run_fast_tests(void) {
    test_random(CT_DT_F32);
    test_random(CT_DT_F16);
    test_ties();
    test_vs_ref();
    test_consistent();
    test_nan();
    /* the same searches through ct_sgemm for every query count */
    ct_topk_set_kernel_max_q(0);
    all_gemm = true;
    test_random(CT_DT_F32);
    test_random(CT_DT_F16);
    test_ties();
    test_vs_ref();
    test_nan();
    all_gemm = false;
    ct_topk_set_kernel_max_q(-1);
}

int main(void) {
    test_half();
    printf("kernel: %s\n", ct_topk_kernel_name());
    run_fast_tests();
    if (strcmp(ct_topk_kernel_name(), "portable")) {
        ct_topk_force_portable(true);
        printf("kernel: %s\n", ct_topk_kernel_name());
        run_fast_tests();
        ct_topk_force_portable(false);
    }
    return test_finish();
}
