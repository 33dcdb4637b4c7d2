/* Tier 1: every backward in src/nn against central finite differences of its forward, and
 * every optimised kernel against its plain reference. The loss is sum(out * r) summed in
 * double; the numeric derivative uses the step actually taken in float. Criterion:
 * |analytic - numeric| <= 1e-4 + 1e-2 |numeric|. */
#include <math.h>
#include <string.h>

#include "nn/nn.h"
#include "test_util.h"

static unsigned long long seed = 12345;

static double urand(void) { /* splitmix64 -> [0,1) */
    unsigned long long z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static float *rnd(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * urand());
    return x;
}

static float *zeros(size_t n) { return calloc(n, sizeof(float)); }

static double dot(const float *a, const float *r, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * r[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Compares g (analytic) with central differences of f with respect to every element of x. */
static void gradcheck(const char *name, float *x, size_t n, const float *g, loss_fn f, void *ctx, float h) {
    int bad = 0;
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; i++) {
        float save = x[i];
        float xp = save + h, xm = save - h;
        x[i] = xp;
        double fp = f(ctx);
        x[i] = xm;
        double fm = f(ctx);
        x[i] = save;
        double num = (fp - fm) / ((double)xp - (double)xm);
        double err = fabs(g[i] - num), tol = 1e-4 + 1e-2 * fabs(num);
        if (err > tol) bad++;
        if (err - tol > worst || i == 0) {
            worst = err - tol;
            worst_i = i;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %zu elements off (worst at %zu: excess %.3g)", name, bad, n, worst_i, worst);
}

static void check_close(const char *name, const float *a, const float *b, size_t n, float tol) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    CHECK_MSG(m <= tol, "%s: max diff %.3g > %.3g", name, m, tol);
}

/* ---- linear ---- */
typedef struct {
    int N, C, OC;
    float *inp, *w, *b, *out, *r;
} lin_ctx;
static double lin_loss(void *p) {
    lin_ctx *c = p;
    linear_forward(c->out, c->inp, c->w, c->b, c->N, c->C, c->OC);
    return dot(c->out, c->r, (size_t)c->N * c->OC);
}
static void test_linear(void) {
    lin_ctx c = {5, 7, 4, 0, 0, 0, 0, 0};
    c.inp = rnd(35, -1, 1);
    c.w = rnd(28, -1, 1);
    c.b = rnd(4, -1, 1);
    c.out = zeros(20);
    c.r = rnd(20, -1, 1);
    float *ref = zeros(20), *di = zeros(35), *dw = zeros(28), *db = zeros(4);
    lin_loss(&c);
    linear_forward_ref(ref, c.inp, c.w, c.b, 5, 7, 4);
    check_close("linear_forward vs ref", c.out, ref, 20, 1e-5f);
    linear_backward(di, dw, db, c.r, c.inp, c.w, 5, 7, 4);
    gradcheck("linear dinp", c.inp, 35, di, lin_loss, &c, 1e-2f);
    gradcheck("linear dweight", c.w, 28, dw, lin_loss, &c, 1e-2f);
    gradcheck("linear dbias", c.b, 4, db, lin_loss, &c, 1e-2f);
    /* accumulation and NULL pointers */
    linear_backward(di, NULL, NULL, c.r, c.inp, c.w, 5, 7, 4);
    float *di1 = zeros(35);
    linear_backward(di1, NULL, NULL, c.r, c.inp, c.w, 5, 7, 4);
    int ok = 1;
    for (int i = 0; i < 35; i++) ok &= fabsf(di[i] - 2 * di1[i]) <= 1e-5f;
    CHECK_MSG(ok, "linear_backward accumulates");
    /* no bias */
    float *bias = c.b;
    c.b = NULL;
    memset(dw, 0, 28 * sizeof(float));
    lin_loss(&c);
    linear_backward(NULL, dw, NULL, c.r, c.inp, c.w, 5, 7, 4);
    gradcheck("linear dweight (no bias)", c.w, 28, dw, lin_loss, &c, 1e-2f);
    free(c.inp);
    free(c.w);
    free(bias);
    free(c.out);
    free(c.r);
    free(ref);
    free(di);
    free(di1);
    free(dw);
    free(db);
}

/* ---- layernorm ---- */
typedef struct {
    int N, C;
    float *inp, *w, *b, *out, *mean, *rstd, *r;
} ln_ctx;
static double ln_loss(void *p) {
    ln_ctx *c = p;
    layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b, c->N, c->C, 1e-5f);
    return dot(c->out, c->r, (size_t)c->N * c->C);
}
static void test_layernorm(void) {
    ln_ctx c = {4, 9, 0, 0, 0, 0, 0, 0, 0};
    size_t n = 36;
    c.inp = rnd(n, -2, 2);
    c.w = rnd(9, 0.5f, 1.5f);
    c.b = rnd(9, -1, 1);
    c.out = zeros(n);
    c.mean = zeros(4);
    c.rstd = zeros(4);
    c.r = rnd(n, -1, 1);
    float *di = zeros(n), *dw = zeros(9), *db = zeros(9);
    ln_loss(&c);
    /* forward against a double computation */
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        double m = 0, v = 0;
        for (int j = 0; j < 9; j++) m += c.inp[i * 9 + j];
        m /= 9;
        for (int j = 0; j < 9; j++) v += (c.inp[i * 9 + j] - m) * (c.inp[i * 9 + j] - m);
        v /= 9;
        for (int j = 0; j < 9; j++)
            ok &= fabs((c.inp[i * 9 + j] - m) / sqrt(v + 1e-5) * c.w[j] + c.b[j] - c.out[i * 9 + j]) < 1e-5;
    }
    CHECK_MSG(ok, "layernorm_forward vs double");
    layernorm_backward(di, dw, db, c.r, c.inp, c.w, c.mean, c.rstd, 4, 9);
    gradcheck("layernorm dinp", c.inp, n, di, ln_loss, &c, 1e-2f);
    gradcheck("layernorm dweight", c.w, 9, dw, ln_loss, &c, 1e-2f);
    gradcheck("layernorm dbias", c.b, 9, db, ln_loss, &c, 1e-2f);
    free(c.inp);
    free(c.w);
    free(c.b);
    free(c.out);
    free(c.mean);
    free(c.rstd);
    free(c.r);
    free(di);
    free(dw);
    free(db);
}

/* ---- activations ---- */
typedef void (*act_fwd)(float *, const float *, size_t);
typedef void (*act_bwd)(float *, const float *, const float *, size_t);
typedef struct {
    size_t n;
    float *inp, *out, *r;
    act_fwd f;
} act_ctx;
static double act_loss(void *p) {
    act_ctx *c = p;
    c->f(c->out, c->inp, c->n);
    return dot(c->out, c->r, c->n);
}
static void test_activation(const char *name, act_fwd f, act_bwd b, double (*ref)(double)) {
    act_ctx c = {64, 0, 0, 0, f};
    c.inp = rnd(64, -4, 4);
    c.out = zeros(64);
    c.r = rnd(64, -1, 1);
    for (int i = 0; i < 64; i++) /* stay away from the ReLU kink */
        if (fabsf(c.inp[i]) < 0.1f) c.inp[i] = c.inp[i] < 0 ? -0.1f - c.inp[i] : 0.1f + c.inp[i];
    act_loss(&c);
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= fabs(c.out[i] - ref(c.inp[i])) <= 1e-6 * (1 + fabs(ref(c.inp[i])));
    CHECK_MSG(ok, "%s forward vs double formula", name);
    float *di = zeros(64);
    b(di, c.r, c.inp, 64);
    char buf[64];
    snprintf(buf, sizeof buf, "%s dinp", name);
    gradcheck(buf, c.inp, 64, di, act_loss, &c, 1e-2f);
    free(c.inp);
    free(c.out);
    free(c.r);
    free(di);
}
static double qg_ref(double x) { return x / (1 + exp(-1.702 * x)); }
static double gelu_ref(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double relu_ref(double x) { return x > 0 ? x : 0; }

/* ---- softmax ---- */
typedef struct {
    int N, C;
    float *inp, *out, *r;
} sm_ctx;
static double sm_loss(void *p) {
    sm_ctx *c = p;
    softmax_forward(c->out, c->inp, c->N, c->C);
    return dot(c->out, c->r, (size_t)c->N * c->C);
}
static void test_softmax(void) {
    sm_ctx c = {3, 6, 0, 0, 0};
    c.inp = rnd(18, -3, 3);
    c.out = zeros(18);
    c.r = rnd(18, -1, 1);
    sm_loss(&c);
    double s = 0;
    for (int j = 0; j < 6; j++) s += c.out[j];
    CHECK_MSG(fabs(s - 1) < 1e-6, "softmax rows sum to 1");
    float *di = zeros(18);
    softmax_backward(di, c.r, c.out, 3, 6);
    gradcheck("softmax dinp", c.inp, 18, di, sm_loss, &c, 1e-2f);
    free(c.inp);
    free(c.out);
    free(c.r);
    free(di);
}

/* ---- attention ---- */
typedef struct {
    int B, Tq, Tk, C, NH;
    const int *key_len;
    bool causal;
    float scale;
    float *q, *k, *v, *out, *att, *r, *ratt;
} at_ctx;
static double at_loss(void *p) {
    at_ctx *c = p;
    attention_forward(c->out, c->att, c->q, c->k, c->v, c->key_len, c->causal, c->scale, c->B, c->Tq, c->Tk, c->C,
                      c->NH);
    double l = dot(c->out, c->r, (size_t)c->B * c->Tq * c->C);
    if (c->ratt) l += dot(c->att, c->ratt, (size_t)c->B * c->NH * c->Tq * c->Tk);
    return l;
}
static void test_attention(const char *name, int B, int Tq, int Tk, int C, int NH, const int *key_len, bool causal,
                           bool with_datt) {
    at_ctx c = {B, Tq, Tk, C, NH, key_len, causal, 1.0f / sqrtf((float)(C / NH)), 0, 0, 0, 0, 0, 0, 0};
    size_t nq = (size_t)B * Tq * C, nk = (size_t)B * Tk * C, na = (size_t)B * NH * Tq * Tk;
    c.q = rnd(nq, -1.5f, 1.5f);
    c.k = rnd(nk, -1.5f, 1.5f);
    c.v = rnd(nk, -1, 1);
    c.out = zeros(nq);
    c.att = zeros(na);
    c.r = rnd(nq, -1, 1);
    c.ratt = with_datt ? rnd(na, -1, 1) : NULL;
    float *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk), *scratch = zeros(na);
    float *out_ref = zeros(nq), *att_ref = zeros(na);
    float *dq2 = zeros(nq), *dk2 = zeros(nk), *dv2 = zeros(nk);
    at_loss(&c);
    attention_forward_ref(out_ref, att_ref, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C, NH);
    char buf[128];
    snprintf(buf, sizeof buf, "%s: forward vs ref", name);
    check_close(buf, c.out, out_ref, nq, 1e-5f);
    snprintf(buf, sizeof buf, "%s: att vs ref", name);
    check_close(buf, c.att, att_ref, na, 1e-6f);
    /* masked weights are exactly zero */
    int ok = 1;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int i = 0; i < Tq; i++)
                for (int j = 0; j < Tk; j++) {
                    bool masked = (causal && j > i) || (key_len && j >= key_len[b]);
                    if (masked) ok &= c.att[(((size_t)b * NH + h) * Tq + i) * Tk + j] == 0.0f;
                }
    CHECK_MSG(ok, "%s: masked weights are 0", name);
    attention_backward(dq, dk, dv, c.r, c.ratt, c.att, c.q, c.k, c.v, c.scale, B, Tq, Tk, C, NH, scratch);
    attention_backward_ref(dq2, dk2, dv2, c.r, c.ratt, c.att, c.q, c.k, c.v, c.scale, B, Tq, Tk, C, NH, NULL);
    snprintf(buf, sizeof buf, "%s: backward vs ref", name);
    check_close(buf, dq, dq2, nq, 1e-5f);
    check_close(buf, dk, dk2, nk, 1e-5f);
    check_close(buf, dv, dv2, nk, 1e-5f);
    snprintf(buf, sizeof buf, "%s dq", name);
    gradcheck(buf, c.q, nq, dq, at_loss, &c, 1e-2f);
    snprintf(buf, sizeof buf, "%s dk", name);
    gradcheck(buf, c.k, nk, dk, at_loss, &c, 1e-2f);
    snprintf(buf, sizeof buf, "%s dv", name);
    gradcheck(buf, c.v, nk, dv, at_loss, &c, 1e-2f);
    /* NULL gradients are allowed */
    attention_backward(NULL, dk, NULL, c.r, c.ratt, c.att, c.q, c.k, c.v, c.scale, B, Tq, Tk, C, NH, scratch);
    free(c.q);
    free(c.k);
    free(c.v);
    free(c.out);
    free(c.att);
    free(c.r);
    free(c.ratt);
    free(dq);
    free(dk);
    free(dv);
    free(scratch);
    free(out_ref);
    free(att_ref);
    free(dq2);
    free(dk2);
    free(dv2);
}

/* ---- fused attention: the same function as attention_forward/backward without the map ---- */
static float *fa_scratch;
static int fa_slots = 2;
static double fa_loss(void *p) {
    at_ctx *c = p; /* c->att holds the statistics [B,NH,Tq,2] here */
    attention_fused_forward(c->out, c->att, c->q, c->k, c->v, c->key_len, c->causal, c->scale, c->B, c->Tq, c->Tk, c->C,
                            c->NH, fa_scratch, fa_slots);
    return dot(c->out, c->r, (size_t)c->B * c->Tq * c->C);
}
static void test_attention_fused(const char *name, int B, int Tq, int Tk, int C, int NH, const int *key_len,
                                 bool causal) {
    at_ctx c = {B, Tq, Tk, C, NH, key_len, causal, 1.0f / sqrtf((float)(C / NH)), 0, 0, 0, 0, 0, 0, 0};
    size_t nq = (size_t)B * Tq * C, nk = (size_t)B * Tk * C, na = (size_t)B * NH * Tq * Tk;
    size_t ns = (size_t)B * NH * Tq * 2;
    c.q = rnd(nq, -1.5f, 1.5f);
    c.k = rnd(nk, -1.5f, 1.5f);
    c.v = rnd(nk, -1, 1);
    c.out = zeros(nq);
    c.att = zeros(ns);
    c.r = rnd(nq, -1, 1);
    fa_scratch = zeros(attention_fused_scratch_floats(Tq, Tk, fa_slots));
    float *out_m = zeros(nq), *att_m = zeros(na), *scratch = zeros(na), *out_ref = zeros(nq), *st_ref = zeros(ns);
    float *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk);
    float *dq_m = zeros(nq), *dk_m = zeros(nk), *dv_m = zeros(nk);
    float *dq_r = zeros(nq), *dk_r = zeros(nk), *dv_r = zeros(nk);
    char buf[128];
    fa_loss(&c);
    /* against the kernel that keeps the map */
    attention_forward(out_m, att_m, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C, NH);
    snprintf(buf, sizeof buf, "%s: fused forward vs attention_forward", name);
    check_close(buf, c.out, out_m, nq, 1e-6f);
    attention_fused_forward_ref(out_ref, st_ref, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C, NH, scratch);
    snprintf(buf, sizeof buf, "%s: fused forward vs ref", name);
    check_close(buf, c.out, out_ref, nq, 1e-5f);
    snprintf(buf, sizeof buf, "%s: fused row statistics vs ref", name);
    check_close(buf, c.att, st_ref, ns, 1e-4f); /* sums of up to Tk terms near 1 */
    attention_fused_backward(dq, dk, dv, c.r, c.att, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C, NH,
                             fa_scratch, fa_slots);
    attention_backward(dq_m, dk_m, dv_m, c.r, NULL, att_m, c.q, c.k, c.v, c.scale, B, Tq, Tk, C, NH, scratch);
    snprintf(buf, sizeof buf, "%s: fused backward vs attention_backward", name);
    check_close(buf, dq, dq_m, nq, 1e-6f);
    check_close(buf, dk, dk_m, nk, 1e-6f);
    check_close(buf, dv, dv_m, nk, 1e-6f);
    attention_fused_backward_ref(dq_r, dk_r, dv_r, c.r, c.att, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C,
                                 NH, scratch);
    snprintf(buf, sizeof buf, "%s: fused backward vs ref", name);
    check_close(buf, dq, dq_r, nq, 1e-5f);
    check_close(buf, dk, dk_r, nk, 1e-5f);
    check_close(buf, dv, dv_r, nk, 1e-5f);
    snprintf(buf, sizeof buf, "%s fused dq", name);
    gradcheck(buf, c.q, nq, dq, fa_loss, &c, 1e-2f);
    snprintf(buf, sizeof buf, "%s fused dk", name);
    gradcheck(buf, c.k, nk, dk, fa_loss, &c, 1e-2f);
    snprintf(buf, sizeof buf, "%s fused dv", name);
    gradcheck(buf, c.v, nk, dv, fa_loss, &c, 1e-2f);
    /* accumulates, and NULL gradients are allowed */
    fa_loss(&c);
    attention_fused_backward(NULL, dk, NULL, c.r, c.att, c.q, c.k, c.v, key_len, causal, c.scale, B, Tq, Tk, C, NH,
                             fa_scratch, fa_slots);
    for (size_t i = 0; i < nk; i++) dk_m[i] *= 2.0f;
    snprintf(buf, sizeof buf, "%s: fused backward accumulates", name);
    check_close(buf, dk, dk_m, nk, 1e-5f);
    free(c.q);
    free(c.k);
    free(c.v);
    free(c.out);
    free(c.att);
    free(c.r);
    free(fa_scratch);
    free(out_m);
    free(att_m);
    free(scratch);
    free(out_ref);
    free(st_ref);
    free(dq);
    free(dk);
    free(dv);
    free(dq_m);
    free(dk_m);
    free(dv_m);
    free(dq_r);
    free(dk_r);
    free(dv_r);
}

/* ---- patch embedding ---- */
typedef struct {
    int B, Cin, S, p, D;
    float *pix, *w, *out, *cols, *r;
} pe_ctx;
static double pe_loss(void *p) {
    pe_ctx *c = p;
    patch_embed_forward(c->out, c->cols, c->pix, c->w, c->B, c->Cin, c->S, c->p, c->D);
    int G = c->S / c->p;
    return dot(c->out, c->r, (size_t)c->B * G * G * c->D);
}
static void test_patch_embed(void) {
    /* S = 9, p = 4: G = 2 and the last pixel row/column is outside every patch (grad 0). */
    pe_ctx c = {2, 3, 9, 4, 5, 0, 0, 0, 0, 0};
    size_t npix = 2 * 3 * 81, nw = 5 * 3 * 16, nout = 2 * 4 * 5, ncols = 2 * 4 * 48;
    c.pix = rnd(npix, -1, 1);
    c.w = rnd(nw, -0.3f, 0.3f);
    c.out = zeros(nout);
    c.cols = zeros(ncols);
    c.r = rnd(nout, -1, 1);
    float *ref = zeros(nout), *dpix = zeros(npix), *dw = zeros(nw), *scratch = zeros(ncols);
    pe_loss(&c);
    patch_embed_forward_ref(ref, c.pix, c.w, 2, 3, 9, 4, 5);
    check_close("patch_embed forward vs direct convolution", c.out, ref, nout, 1e-5f);
    patch_embed_backward(dpix, dw, c.r, c.cols, c.w, scratch, 2, 3, 9, 4, 5);
    gradcheck("patch_embed dpix", c.pix, npix, dpix, pe_loss, &c, 1e-2f);
    gradcheck("patch_embed dweight", c.w, nw, dw, pe_loss, &c, 1e-2f);
    free(c.pix);
    free(c.w);
    free(c.out);
    free(c.cols);
    free(c.r);
    free(ref);
    free(dpix);
    free(dw);
    free(scratch);
}

/* ---- embeddings and residual ---- */
typedef struct {
    int B, T, D;
    float *patches, *cls, *pos, *out, *r;
} cp_ctx;
static double cp_loss(void *p) {
    cp_ctx *c = p;
    class_pos_embed_forward(c->out, c->patches, c->cls, c->pos, c->B, c->T, c->D);
    return dot(c->out, c->r, (size_t)c->B * c->T * c->D);
}
typedef struct {
    int B, T, D;
    const int *ids;
    float *wte, *wpe, *out, *r;
} te_ctx;
static double te_loss(void *p) {
    te_ctx *c = p;
    token_embed_forward(c->out, c->ids, c->wte, c->wpe, c->B, c->T, c->D);
    return dot(c->out, c->r, (size_t)c->B * c->T * c->D);
}
typedef struct {
    size_t n;
    float *a, *b, *out, *r;
} res_ctx;
static double res_loss(void *p) {
    res_ctx *c = p;
    residual_forward(c->out, c->a, c->b, c->n);
    return dot(c->out, c->r, c->n);
}
static void test_embeddings(void) {
    cp_ctx c = {2, 4, 3, 0, 0, 0, 0, 0};
    c.patches = rnd(18, -1, 1);
    c.cls = rnd(3, -1, 1);
    c.pos = rnd(12, -1, 1);
    c.out = zeros(24);
    c.r = rnd(24, -1, 1);
    float *dp = zeros(18), *dc = zeros(3), *dpos = zeros(12);
    cp_loss(&c);
    CHECK(c.out[0] == c.cls[0] + c.pos[0] && c.out[3 * 4 + 3] == c.patches[9] + c.pos[3]);
    class_pos_embed_backward(dp, dc, dpos, c.r, 2, 4, 3);
    gradcheck("class_pos_embed dpatches", c.patches, 18, dp, cp_loss, &c, 1e-2f);
    gradcheck("class_pos_embed dcls", c.cls, 3, dc, cp_loss, &c, 1e-2f);
    gradcheck("class_pos_embed dpos", c.pos, 12, dpos, cp_loss, &c, 1e-2f);
    free(c.patches);
    free(c.cls);
    free(c.pos);
    free(c.out);
    free(c.r);
    free(dp);
    free(dc);
    free(dpos);

    static const int ids[8] = {1, 4, 4, 0, 2, 4, 1, 1}; /* repeated ids; row 3 and 5 unused */
    te_ctx t = {2, 4, 3, ids, 0, 0, 0, 0};
    t.wte = rnd(18, -1, 1);
    t.wpe = rnd(12, -1, 1);
    t.out = zeros(24);
    t.r = rnd(24, -1, 1);
    float *dwte = zeros(18), *dwpe = zeros(12);
    te_loss(&t);
    token_embed_backward(dwte, dwpe, t.r, ids, 2, 4, 3);
    gradcheck("token_embed dwte", t.wte, 18, dwte, te_loss, &t, 1e-2f);
    gradcheck("token_embed dwpe", t.wpe, 12, dwpe, te_loss, &t, 1e-2f);
    CHECK(dwte[9] == 0.0f && dwte[10] == 0.0f && dwte[11] == 0.0f && dwte[15] == 0.0f);
    free(t.wte);
    free(t.wpe);
    free(t.out);
    free(t.r);
    free(dwte);
    free(dwpe);

    res_ctx r = {10, rnd(10, -1, 1), rnd(10, -1, 1), zeros(10), rnd(10, -1, 1)};
    float *da = zeros(10), *db = zeros(10);
    res_loss(&r);
    residual_backward(da, db, r.r, 10);
    gradcheck("residual da", r.a, 10, da, res_loss, &r, 1e-2f);
    gradcheck("residual db", r.b, 10, db, res_loss, &r, 1e-2f);
    free(r.a);
    free(r.b);
    free(r.out);
    free(r.r);
    free(da);
    free(db);
}

int main(void) {
    test_linear();
    test_layernorm();
    test_activation("quick_gelu", quick_gelu_forward, quick_gelu_backward, qg_ref);
    test_activation("gelu", gelu_forward, gelu_backward, gelu_ref);
    test_activation("relu", relu_forward, relu_backward, relu_ref);
    test_softmax();
    test_attention("self-attention", 2, 5, 5, 8, 2, NULL, false, false);
    test_attention("causal self-attention", 2, 6, 6, 8, 2, NULL, true, false);
    static const int key_len[3] = {3, 5, 1};
    test_attention("key_len mask", 3, 5, 5, 12, 3, key_len, false, false);
    test_attention("attention with datt_in", 2, 5, 5, 8, 2, NULL, true, true);
    static const int key_len2[2] = {4, 7};
    test_attention("cross-attention Tq != Tk", 2, 3, 7, 8, 2, key_len2, false, true);
    test_attention_fused("fused self-attention", 2, 5, 5, 8, 2, NULL, false);
    test_attention_fused("fused causal, several row blocks", 2, CT_ATT_ROW_BLOCK + 9, CT_ATT_ROW_BLOCK + 9, 4, 2, NULL,
                         true);
    test_attention_fused("fused key_len mask", 3, 5, 5, 12, 3, key_len, false);
    test_attention_fused("fused cross-attention Tq != Tk", 2, 3, 7, 8, 2, key_len2, false);
    test_patch_embed();
    test_embeddings();
    return test_finish();
}
