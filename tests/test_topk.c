/* Exact top-k and blockwise ranks against brute force (random data, exact ties, F16). */
#include <math.h>
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
        for (int i = 0; i < G * P; i++) { h[i] = ct_f32_to_f16(g[i]); g[i] = ct_f16_to_f32(h[i]); }
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
    static const float v[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 65520.0f, 6.1035156e-05f, 5.9604645e-08f,
                              2.9802322e-08f, 1.0009766f, 1.00048828125f, 1.00146484375f, 3.0e-8f};
    static const uint16_t h[] = {0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x7c00, 0x0400, 0x0001,
                                 0x0000, 0x3c01, 0x3c00, 0x3c02, 0x0001};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        CHECK_MSG(ct_f32_to_f16(v[i]) == h[i], "%g -> %04x (want %04x)", v[i], ct_f32_to_f16(v[i]), h[i]);
    int bad = 0;
    for (uint32_t x = 0; x < 0x7c00; x++) bad += ct_f32_to_f16(ct_f16_to_f32((uint16_t)x)) != x;
    CHECK(bad == 0);
    CHECK((ct_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (ct_f32_to_f16(NAN) & 0x3ff));
}

int main(void) {
    test_half();
    test_random(CT_DT_F32);
    test_random(CT_DT_F16);
    test_ties();
    return test_finish();
}
