/* The contrastive and concept-consistency losses: values on hand-checkable cases and
 * finite-difference gradients for every option. */
#include <string.h>

#include "core/rng.h"
#include "model/loss.h"
#include "test_util.h"

static void fill(float *x, size_t n, ct_rng *r, double scale) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(ct_rng_normal(r) * scale);
}

static int close_enough(double analytic, double numeric) {
    return fabs(analytic - numeric) <= 1e-4 + 1e-2 * fabs(numeric);
}

/* Hand case: B = 1, P = 2, own negative: -log(e^{a}/(e^{a}+e^{b})) with a = cos(q,t)/tau. */
static void test_contrastive_value(void) {
    float q[2] = {1, 0}, t[2] = {0.6f, 0.8f}, qn[2] = {0, 3};
    double tau = 0.5, a = 0.6 / tau, b = 0.0 / tau;
    double want = -log(exp(a) / (exp(a) + exp(b)));
    double got = ct_contrastive_loss(NULL, NULL, NULL, q, t, qn, 1, 2, tau, CT_QNEG_OWN, false);
    CHECK_MSG(fabs(got - want) < 1e-6, "got %.12f want %.12f", got, want);
    got = ct_contrastive_loss(NULL, NULL, NULL, q, t, qn, 1, 2, tau, CT_QNEG_NONE, false);
    CHECK_MSG(fabs(got) < 1e-12, "single pair without negatives: %g", got);
    /* B = 2, 'all' vs 'own' differ by the other sample's reference in the denominator */
    float q2[4] = {1, 0, 0, 1}, t2[4] = {1, 0, 0, 1}, n2[4] = {0, 1, 1, 0};
    double s = 1 / tau;
    double own = -log(exp(s) / (exp(s) + exp(0) + exp(0)));
    double all = -log(exp(s) / (exp(s) + exp(0) + exp(0) + exp(s)));
    got = ct_contrastive_loss(NULL, NULL, NULL, q2, t2, n2, 2, 2, tau, CT_QNEG_OWN, false);
    CHECK_MSG(fabs(got - own) < 1e-9, "own: got %.12f want %.12f", got, own);
    got = ct_contrastive_loss(NULL, NULL, NULL, q2, t2, n2, 2, 2, tau, CT_QNEG_ALL, false);
    CHECK_MSG(fabs(got - all) < 1e-9, "all: got %.12f want %.12f", got, all);
    /* symmetric: mean of own-direction and the plain target->query CE */
    double back = -log(exp(s) / (exp(s) + exp(0)));
    got = ct_contrastive_loss(NULL, NULL, NULL, q2, t2, n2, 2, 2, tau, CT_QNEG_OWN, true);
    CHECK_MSG(fabs(got - 0.5 * (own + back)) < 1e-9, "symmetric: got %.12f want %.12f", got, 0.5 * (own + back));
}

static void test_contrastive_grad(ct_query_negatives mode, bool symmetric) {
    enum { B = 4, P = 5 };
    ct_rng r;
    ct_rng_seed(&r, 7 + mode * 2 + symmetric);
    float q[B * P], t[B * P], n[B * P], dq[B * P] = {0}, dt[B * P] = {0}, dn[B * P] = {0};
    fill(q, B * P, &r, 1), fill(t, B * P, &r, 1), fill(n, B * P, &r, 1);
    const double tau = 0.3;
    ct_contrastive_loss(dq, dt, dn, q, t, n, B, P, tau, mode, symmetric);
    float *xs[3] = {q, t, n}, *gs[3] = {dq, dt, dn};
    int bad = 0;
    for (int which = 0; which < 3; which++)
        for (int i = 0; i < B * P; i++) {
            float keep = xs[which][i], h = 1e-3f;
            xs[which][i] = keep + h;
            double lp = ct_contrastive_loss(NULL, NULL, NULL, q, t, n, B, P, tau, mode, symmetric);
            xs[which][i] = keep - h;
            double lm = ct_contrastive_loss(NULL, NULL, NULL, q, t, n, B, P, tau, mode, symmetric);
            xs[which][i] = keep;
            double num = (lp - lm) / (2.0 * h);
            if (!close_enough(gs[which][i], num)) {
                if (bad++ < 5)
                    fprintf(stderr, "contrastive mode %d sym %d input %d[%d]: %g vs %g\n", mode, symmetric, which, i,
                            gs[which][i], num);
            }
        }
    CHECK_MSG(bad == 0, "%d contrastive gradient mismatches (mode %d, symmetric %d)", bad, mode, symmetric);
}

static void test_span(void) {
    int32_t cap[] = {49406, 10, 11, 12, 11, 12, 49407, 0};
    int32_t ph[] = {11, 12}, ph2[] = {12, 49407}, ph3[] = {49406, 10};
    CHECK(ct_cc_find_span(cap, 6, ph, 2) == 2);
    CHECK(ct_cc_find_span(cap, 6, ph2, 2) == -1); /* must stay before the end token */
    CHECK(ct_cc_find_span(cap, 6, ph3, 2) == -1); /* must start after the start token */
    CHECK(ct_cc_find_span(cap, 6, ph, 0) == -1);
}

/* Hand case for the CC value: Nv = 3 (CLS + 2 patches), one phrase. */
static void test_cc_value(void) {
    enum { Nv = 3, T = 4 };
    float ctx[Nv * T] = {0}, iso[Nv * T] = {0};
    /* caption span [1,3): patch rows 1 and 2 */
    ctx[1 * T + 1] = 0.2f, ctx[1 * T + 2] = 0.4f; /* patch 0: mean 0.3 */
    ctx[2 * T + 1] = 0.1f, ctx[2 * T + 2] = 0.1f; /* patch 1: mean 0.1 */
    iso[1 * T + 1] = 0.5f;                        /* phrase alone, 1 core token: patch 0 0.5 */
    iso[2 * T + 1] = 0.05f;                       /* patch 1 0.05 */
    ct_cc_phrase ph = {0, 1, 3, 1};
    ct_cir_options o;
    ct_cir_options_default(&o);
    double got = ct_cc_loss(NULL, NULL, ctx, iso, &ph, 1, 1, Nv, T, T, 1, &o, 1.0);
    double want = (0.2 + 0.05) / 2; /* |0.3-0.5|, |0.1-0.05| */
    CHECK_MSG(fabs(got - want) < 1e-6, "abs: %g vs %g", got, want);
    o.cc_abs = false;
    got = ct_cc_loss(NULL, NULL, ctx, iso, &ph, 1, 1, Nv, T, T, 1, &o, 1.0);
    CHECK_MSG(fabs(got - 0.05 / 2) < 1e-6, "one-sided: %g", got);
    o.cc_eps = 0.1;
    o.cc_abs = true;
    got = ct_cc_loss(NULL, NULL, ctx, iso, &ph, 1, 1, Nv, T, T, 1, &o, 1.0);
    CHECK_MSG(fabs(got - 0.1 / 2) < 1e-6, "eps: %g", got);
    got = ct_cc_loss(NULL, NULL, ctx, iso, &ph, 0, 1, Nv, T, T, 0, &o, 1.0);
    CHECK(got == 0.0);
}

static void test_cc_grad(bool cc_abs, ct_cc_normalize norm, double eps) {
    enum { B = 2, Nv = 5, T = 7, TI = 5, M = 3 };
    ct_rng r;
    ct_rng_seed(&r, 99 + cc_abs + 2 * norm);
    float ctx[B * Nv * T], iso[M * Nv * TI], dctx[B * Nv * T], diso[M * Nv * TI];
    for (int i = 0; i < B * Nv * T; i++) ctx[i] = (float)ct_rng_uniform(&r);
    for (int i = 0; i < M * Nv * TI; i++) iso[i] = (float)ct_rng_uniform(&r);
    ct_cc_phrase ph[M] = {{0, 1, 3, 2}, {1, 2, 5, 3}, {0, 4, 5, 1}}; /* iso_len + 2 <= TI */
    ct_cir_options o;
    ct_cir_options_default(&o);
    o.cc_abs = cc_abs, o.cc_normalize = norm, o.cc_eps = eps;
    const int n_total = 5; /* pretend two more phrases live in another micro-batch */
    const double scale = 0.08;
    memset(dctx, 0, sizeof dctx);
    memset(diso, 0, sizeof diso);
    ct_cc_loss(dctx, diso, ctx, iso, ph, M, B, Nv, T, TI, n_total, &o, scale);
    float *xs[2] = {ctx, iso}, *gs[2] = {dctx, diso};
    int sizes[2] = {B * Nv * T, M * Nv * TI}, bad = 0;
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < sizes[w]; i++) {
            float keep = xs[w][i], h = 1e-4f;
            xs[w][i] = keep + h;
            double lp = ct_cc_loss(NULL, NULL, ctx, iso, ph, M, B, Nv, T, TI, n_total, &o, 1.0);
            xs[w][i] = keep - h;
            double lm = ct_cc_loss(NULL, NULL, ctx, iso, ph, M, B, Nv, T, TI, n_total, &o, 1.0);
            xs[w][i] = keep;
            double num = scale * (lp - lm) / (2.0 * h);
            if (!close_enough(gs[w][i], num) && bad++ < 5)
                fprintf(stderr, "cc abs %d norm %d input %d[%d]: %g vs %g\n", cc_abs, norm, w, i, gs[w][i], num);
        }
    CHECK_MSG(bad == 0, "%d cc gradient mismatches (abs %d, normalize %d, eps %g)", bad, cc_abs, norm, eps);
}

int main(void) {
    test_contrastive_value();
    for (int mode = 0; mode < 3; mode++)
        for (int sym = 0; sym < 2; sym++) test_contrastive_grad((ct_query_negatives)mode, sym);
    test_span();
    test_cc_value();
    test_cc_grad(true, CT_CCNORM_NONE, 0.0);
    test_cc_grad(false, CT_CCNORM_NONE, -0.3);
    test_cc_grad(true, CT_CCNORM_PATCHES, 0.01);
    test_cc_grad(false, CT_CCNORM_PATCHES, -0.05);
    return test_finish();
}
