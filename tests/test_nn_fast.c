/* The vectorised kernels against their plain references: ct_expf against a double exp (ulps,
 * special values), ct_erff against a double erf, GELU and QuickGELU forward/backward and softmax against their libm versions, the
 * blocked layernorm and bias gradients against column-at-a-time sums, at odd sizes that leave
 * partial vectors and partial 64-column blocks, with 1 and 2 threads. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "nn/nn.h"
#include "nn/vecmath.h"
#include "test_util.h"

static unsigned long long seed = 4242;

static float frand(float lo, float hi) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (float)((seed >> 40) * (1.0 / 16777216.0));
}

static float *rnd(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = frand(lo, hi);
    return x;
}

/* max |a-b| / (abs_tol + rel_tol |b|) over n: <= 1 passes */
static double excess(const float *a, const float *b, size_t n, double abs_tol, double rel_tol) {
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (abs_tol + rel_tol * fabs(b[i]));
        if (!(e <= w)) w = e; /* NaN counts as worst */
    }
    return w;
}

static void test_expf(void) {
    /* every 97th float in the finite range, through a vectorised loop */
    enum { CHUNK = 4096 };
    float x[CHUNK], y[CHUNK];
    double worst = 0.0;
    float at = 0.0f;
    float v = -87.3f;
    while (v < 88.72f) {
        int n = 0;
        for (; n < CHUNK && v < 88.72f; n++) {
            x[n] = v;
            uint32_t b;
            memcpy(&b, &v, sizeof b);
            b = v < 0 ? b - 97 : b + 97;
            if (v < 0 && b < 0x80000000u) b = 0; /* stepped across zero */
            memcpy(&v, &b, sizeof v);
        }
#pragma omp simd
        for (int i = 0; i < n; i++) y[i] = ct_expf(x[i]);
        for (int i = 0; i < n; i++) {
            double r = exp((double)x[i]);
            float rf = (float)r;
            double ulp = (double)nextafterf(rf, INFINITY) - rf;
            double e = fabs(y[i] - r) / ulp;
            if (e > worst) worst = e, at = x[i];
        }
    }
    CHECK_MSG(worst <= 1.0, "ct_expf: %.3f ulp at %.9g", worst, at);
    float sp[] = {NAN, INFINITY, -INFINITY, 88.73f, 1000.0f, -88.0f, -1000.0f, 0.0f, -0.0f, 88.72f, -87.33f};
    for (int i = 0; i < 11; i++) y[i] = ct_expf(sp[i]);
    CHECK(isnan(y[0]));
    CHECK(y[1] == INFINITY && y[3] == INFINITY && y[4] == INFINITY);
    CHECK(y[2] == 0.0f && y[5] == 0.0f && y[6] == 0.0f);
    CHECK(y[7] == 1.0f && y[8] == 1.0f);
    CHECK_MSG(fabs(y[9] / exp((double)88.72f) - 1) < 2e-7, "ct_expf(88.72) = %g", y[9]);
    CHECK_MSG(fabs(y[10] / exp((double)-87.33f) - 1) < 2e-7, "ct_expf(-87.33) = %g", y[10]);
}

static void test_erff(void) {
    /* a fine grid over [-5, 5] (both branches, the switch at |x| = 1, the tails); the polynomial
     * for |x| >= 1 is held to 1.5 ulp */
    enum { N = 200001 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) x[i] = -5.0f + 10.0f * (float)i / (N - 1);
#pragma omp simd
    for (int i = 0; i < N; i++) y[i] = ct_erff(x[i]);
    double worst = 0.0, worst_large = 0.0;
    float at = 0.0f, at_large = 0.0f;
    for (int i = 0; i < N; i++) {
        double r = erf((double)x[i]);
        float rf = (float)r;
        double ulp = (double)nextafterf(rf, INFINITY) - rf;
        double e = fabs(y[i] - r) / (2.5 * ulp), el = fabs(y[i] - r) / (1.5 * ulp);
        if (e > worst) worst = e, at = x[i];
        if (fabsf(x[i]) >= 1.0f && el > worst_large) worst_large = el, at_large = x[i];
    }
    CHECK_MSG(worst <= 1.0, "ct_erff: error %.3f x 2.5 ulp at %.9g", worst, at);
    CHECK_MSG(worst_large <= 1.0, "ct_erff: error %.3f x 1.5 ulp at %.9g", worst_large, at_large);
    float tiny[] = {1e-30f, -1e-20f, 1e-6f, 0.0f, -0.0f};
    for (int i = 0; i < 5; i++) {
        double r = erf((double)tiny[i]);
        CHECK_MSG(fabs(ct_erff(tiny[i]) - r) <= 1e-6 * fabs(r), "ct_erff(%g) = %g, want %g", tiny[i], ct_erff(tiny[i]),
                  r);
    }
    CHECK(isnan(ct_erff(NAN)));
    CHECK(ct_erff(INFINITY) == 1.0f && ct_erff(-INFINITY) == -1.0f && ct_erff(30.0f) == 1.0f);
    free(x);
    free(y);
}

typedef void (*act_fn)(float *out, const float *inp, size_t n);
typedef void (*act_bwd_fn)(float *dinp, const float *dout, const float *inp, size_t n);

/* fast vs ref activation, forward and backward, over [-12, 12] with a NaN */
static void check_activation(const char *name, act_fn f, act_fn f_ref, act_bwd_fn b, act_bwd_fn b_ref) {
    size_t n = 70001; /* > the parallel threshold, odd tail */
    float *x = rnd(n, -12.0f, 12.0f), *g = rnd(n, -1.0f, 1.0f);
    x[0] = NAN;
    x[1] = 60.0f;
    x[2] = -60.0f;
    x[3] = 0.0f;
    float *a = malloc(n * sizeof *a), *r = malloc(n * sizeof *r);
    f(a, x, n);
    f_ref(r, x, n);
    CHECK_MSG(isnan(a[0]), "%s(NaN)", name);
    CHECK_MSG(a[1] == 60.0f && a[3] == 0.0f && fabsf(a[2]) < 1e-30f, "%s at 60, -60, 0", name);
    double e = excess(a + 1, r + 1, n - 1, 1e-6, 4e-7); /* GELU: 1 + erf cancels for x < 0 */
    CHECK_MSG(e <= 1.0, "%s forward vs ref: excess %.3g", name, e);
    for (size_t i = 0; i < n; i++) a[i] = r[i] = 0.5f;
    b(a, g, x, n);
    b_ref(r, g, x, n);
    CHECK_MSG(isnan(a[0]), "%s backward at NaN", name);
    e = excess(a + 1, r + 1, n - 1, 1e-6, 4e-7); /* the two terms cancel near x = -1 */
    CHECK_MSG(e <= 1.0, "%s backward vs ref: excess %.3g", name, e);
    free(x);
    free(g);
    free(a);
    free(r);
}

static void test_softmax(void) {
    int N = 37, C = 53;
    size_t n = (size_t)N * C;
    float *x = rnd(n, -30.0f, 30.0f), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    x[5] = -INFINITY; /* a masked entry */
    softmax_forward(a, x, N, C);
    softmax_forward_ref(b, x, N, C);
    CHECK(a[5] == 0.0f);
    double e = excess(a, b, n, 1e-30, 4e-7);
    CHECK_MSG(e <= 1.0, "softmax_forward vs ref: excess %.3g", e);
    free(x);
    free(a);
    free(b);
}

static void test_layernorm_grads(void) {
    int N = 129, C = 200; /* 200 = 3 full blocks of 64 + 8 */
    size_t n = (size_t)N * C;
    float *x = rnd(n, -2.0f, 2.0f), *dy = rnd(n, -1.0f, 1.0f), *w = rnd(C, 0.5f, 1.5f), *bb = rnd(C, -1.0f, 1.0f);
    float *y = malloc(n * sizeof *y), *mean = malloc(N * sizeof *mean), *rstd = malloc(N * sizeof *rstd);
    layernorm_forward(y, mean, rstd, x, w, bb, N, C, 1e-5f);
    float *d1 = calloc(n, sizeof(float)), *d2 = calloc(n, sizeof(float));
    float *w1 = rnd(C, -1, 1), *b1 = rnd(C, -1, 1), *w2 = malloc(C * sizeof(float)), *b2 = malloc(C * sizeof(float));
    memcpy(w2, w1, C * sizeof(float));
    memcpy(b2, b1, C * sizeof(float));
    layernorm_backward(d1, w1, b1, dy, x, w, mean, rstd, N, C);
    layernorm_backward_ref(d2, w2, b2, dy, x, w, mean, rstd, N, C);
    CHECK_MSG(excess(d1, d2, n, 1e-6, 1e-6) <= 1.0, "layernorm dinp vs ref");
    CHECK_MSG(excess(w1, w2, C, 1e-5, 1e-5) <= 1.0, "layernorm dweight vs ref");
    CHECK_MSG(excess(b1, b2, C, 1e-5, 1e-5) <= 1.0, "layernorm dbias vs ref");
    /* bias gradient of a linear layer against a double column sum, accumulating */
    float *db = rnd(C, -1, 1);
    double ref[200];
    for (int c = 0; c < C; c++) {
        ref[c] = db[c];
        for (int r = 0; r < N; r++) ref[c] += dy[(size_t)r * C + c];
    }
    linear_bias_backward(db, dy, N, C);
    double worst = 0.0;
    for (int c = 0; c < C; c++) worst = fmax(worst, fabs(db[c] - ref[c]));
    CHECK_MSG(worst < 1e-4, "linear_bias_backward: %.3g off a double sum", worst);
    free(x);
    free(dy);
    free(w);
    free(bb);
    free(y);
    free(mean);
    free(rstd);
    free(d1);
    free(d2);
    free(w1);
    free(b1);
    free(w2);
    free(b2);
    free(db);
}

int main(void) {
    test_expf();
    test_erff();
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        check_activation("quick_gelu", quick_gelu_forward, quick_gelu_forward_ref, quick_gelu_backward,
                         quick_gelu_backward_ref);
        check_activation("gelu", gelu_forward, gelu_forward_ref, gelu_backward, gelu_backward_ref);
        test_softmax();
        test_layernorm_grads();
    }
    return test_finish();
}
