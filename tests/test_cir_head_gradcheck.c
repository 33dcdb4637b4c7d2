/* Finite-difference checks of the ConText-CIR head: fusion blocks (with a loss on their mean
 * attention map) followed by PMA pooling, with respect to the image tokens, the text tokens
 * and a sample of elements of every head parameter. Then the same head planned without maps
 * (fused attention): its outputs and gradients against the mapped head's on a loss without
 * the map term, and its own finite-difference check. */
#include <string.h>

#include "core/rng.h"
#include "model/fusion.h"
#include "model/pool.h"
#include "test_util.h"

enum { L = 2, H = 2, DV = 8, DT = 6, P = 5, B = 2, NV = 4, T = 5 };

typedef struct {
    ct_params params;
    ct_fusion fusion;
    ct_pool pool;
    ct_fusion_acts fa;
    ct_fusion_scratch fs;
    bool maps;
    ct_pool_acts pa;
    ct_pool_scratch ps;
    float *mem_f, *mem_p;
    float v0[B * NV * DV], tx[B * T * DT], r_out[B * P], r_map[B * NV * T], map[B * NV * T];
    int key_len[B];
} head;

static double loss(head *h) {
    ct_fusion_forward(&h->fusion, &h->params, &h->fa, h->v0, h->tx, h->key_len, B, NV, T);
    const float *z = h->fa.blk[L - 1].v2;
    ct_pool_forward(&h->pool, &h->params, &h->pa, z, B, NV);
    double s = 0;
    for (int i = 0; i < B * P; i++) s += (double)h->pa.r[i] * h->r_out[i];
    if (!h->maps) return s;
    ct_fusion_mean_map(h->map, &h->fusion, &h->fa, B, NV, T);
    for (int i = 0; i < B * NV * T; i++) s += (double)h->map[i] * h->r_map[i];
    return s;
}

static int close_enough(double a, double n) { return fabs(a - n) <= 1e-4 + 1e-2 * fabs(n); }

static double numeric(head *h, float *x, float step) {
    float keep = *x, xp = keep + step, xm = keep - step;
    *x = xp;
    double lp = loss(h);
    *x = xm;
    double lm = loss(h);
    *x = keep;
    return (lp - lm) / ((double)xp - (double)xm);
}

/* Plans the head's buffers with or without maps (frees the previous plan). */
static void plan(head *h, bool maps) {
    free(h->mem_f), free(h->mem_p);
    h->maps = maps;
    ct_plan pf = {0}, pp = {0};
    for (int pass = 0; pass < 2; pass++) {
        ct_fusion_acts_plan(&h->fa, &h->fusion, &pf, B, NV, T, maps);
        ct_fusion_scratch_plan(&h->fs, &h->fusion, &pf, B, NV, T, maps);
        ct_pool_acts_plan(&h->pa, &h->pool, &pp, B, NV);
        ct_pool_scratch_plan(&h->ps, &h->pool, &pp, B, NV);
        if (pass == 0) h->mem_f = ct_plan_alloc(&pf), h->mem_p = ct_plan_alloc(&pp);
    }
}

/* Forward + backward: parameter gradients in h->params, input gradients in dv0 and dtx. */
static double analytic(head *h, float *dv0, float *dtx) {
    static float dz[B * NV * DV];
    double l = loss(h);
    memset(dz, 0, sizeof dz), memset(dv0, 0, sizeof(float) * B * NV * DV), memset(dtx, 0, sizeof(float) * B * T * DT);
    ct_params_zero_grad(&h->params);
    ct_pool_backward(&h->pool, &h->params, true, &h->pa, &h->ps, dz, h->r_out, h->fa.blk[L - 1].v2, B, NV);
    ct_fusion_backward(&h->fusion, &h->params, true, &h->fa, &h->fs, dv0, dtx, dz, h->maps ? h->r_map : NULL, h->v0,
                       h->tx, h->key_len, B, NV, T);
    return l;
}

/* Finite differences against the analytic gradients of the current plan; returns the count off. */
static int fd_check(head *h, const float *dv0, const float *dtx) {
    int bad = 0, checked = 0;
    for (int i = 0; i < B * NV * DV; i++, checked++)
        if (!close_enough(dv0[i], numeric(h, &h->v0[i], 1e-2f)) && bad++ < 5) fprintf(stderr, "dv0[%d]\n", i);
    for (int i = 0; i < B * T * DT; i++, checked++) {
        double n = numeric(h, &h->tx[i], 1e-2f);
        if (!close_enough(dtx[i], n) && bad++ < 5) fprintf(stderr, "dtx[%d] %g vs %g\n", i, dtx[i], n);
    }
    /* padded keys of sample 0 get exactly no gradient */
    int pad_zero = 1;
    for (int t = 3; t < T; t++)
        for (int c = 0; c < DT; c++) pad_zero &= dtx[t * DT + c] == 0.0f;
    CHECK(pad_zero);
    for (int e = 0; e < h->params.count; e++) {
        const ct_param_entry *pe = &h->params.entries[e];
        size_t n = pe->numel, stride = n > 6 ? n / 6 : 1;
        for (size_t k = 0; k < n; k += stride, checked++) {
            double num = numeric(h, ct_param(&h->params, e) + k, 1e-2f);
            double ana = ct_grad(&h->params, e)[k];
            if (!close_enough(ana, num) && bad++ < 10) fprintf(stderr, "%s[%zu]: %g vs %g\n", pe->name, k, ana, num);
        }
    }
    printf("%s: checked %d gradient elements, %d off\n", h->maps ? "maps" : "fused", checked, bad);
    return bad;
}

static int max_ulp_diff(const float *a, const float *b, size_t n, double *maxabs) {
    int worst = 0;
    *maxabs = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > *maxabs) *maxabs = d;
        int32_t ia, ib;
        memcpy(&ia, &a[i], 4), memcpy(&ib, &b[i], 4);
        int u = abs(ia - ib);
        if (u > worst) worst = u;
    }
    return worst;
}

int main(void) {
    static head h;
    ct_params_init(&h.params);
    CHECK(ct_fusion_register(&h.fusion, &h.params, L, H, DV, DT) == CT_OK);
    CHECK(ct_pool_register(&h.pool, &h.params, H, DV, P) == CT_OK);
    CHECK(ct_params_alloc(&h.params) == CT_OK);
    ct_rng r;
    ct_rng_seed(&r, 5);
    /* random values everywhere (the real init zeroes out_proj and fc2, which would hide paths) */
    for (size_t i = 0; i < h.params.total; i++) h.params.param[i] = (float)(ct_rng_normal(&r) * 0.5);
    for (int i = 0; i < h.params.count; i++)
        if (strstr(h.params.entries[i].name, "ln") && strstr(h.params.entries[i].name, "weight"))
            for (size_t k = 0; k < h.params.entries[i].numel; k++) ct_param(&h.params, i)[k] += 1.0f;
    for (int i = 0; i < B * NV * DV; i++) h.v0[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < B * T * DT; i++) h.tx[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < B * P; i++) h.r_out[i] = (float)ct_rng_normal(&r);
    for (int i = 0; i < B * NV * T; i++) h.r_map[i] = (float)ct_rng_normal(&r);
    h.key_len[0] = 3, h.key_len[1] = T;
    CHECK(ct_fusion_acts_new(&h.fa, &h.fusion) == CT_OK);
    static float dv0[B * NV * DV], dtx[B * T * DT];

    /* with maps: the loss includes the mean map */
    plan(&h, true);
    analytic(&h, dv0, dtx);
    int bad = fd_check(&h, dv0, dtx);
    CHECK_MSG(bad == 0, "maps: %d head gradients off", bad);

    /* the mapped head without the map term, against the fused head: the same floats */
    static float ref_r[B * P], ref_dv0[B * NV * DV], ref_dtx[B * T * DT], fused_r[B * P];
    float *ref_grad = malloc(h.params.total * sizeof(float));
    CHECK(ref_grad != NULL);
    h.maps = false; /* loss() leaves the map term out; the plan still keeps maps */
    analytic(&h, ref_dv0, ref_dtx);
    memcpy(ref_r, h.pa.r, sizeof ref_r);
    memcpy(ref_grad, h.params.grad, h.params.total * sizeof(float));
    plan(&h, false);
    CHECK(h.fa.blk[0].att == NULL && h.fs.datt == NULL);
    analytic(&h, dv0, dtx);
    memcpy(fused_r, h.pa.r, sizeof fused_r);
    double d_r, d_v, d_t, d_g;
    int u_r = max_ulp_diff(fused_r, ref_r, B * P, &d_r), u_v = max_ulp_diff(dv0, ref_dv0, B * NV * DV, &d_v);
    int u_t = max_ulp_diff(dtx, ref_dtx, B * T * DT, &d_t);
    int u_g = max_ulp_diff(h.params.grad, ref_grad, h.params.total, &d_g);
    printf("fused vs maps: max |diff| r %g, dv0 %g, dtx %g, param grads %g (ulps %d %d %d %d)\n", d_r, d_v, d_t, d_g,
           u_r, u_v, u_t, u_g);
    CHECK_MSG(d_r <= 1e-5 && d_v <= 1e-5 && d_t <= 1e-5 && d_g <= 1e-4, "fused head differs from the mapped one");
    bad = fd_check(&h, dv0, dtx);
    CHECK_MSG(bad == 0, "fused: %d head gradients off", bad);

    free(ref_grad);
    ct_fusion_acts_free(&h.fa);
    ct_fusion_free(&h.fusion);
    free(h.mem_f), free(h.mem_p);
    ct_params_free(&h.params);
    return test_finish();
}
