/* Fusion blocks: forward and backward side by side. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fusion.h"
#include "model/init.h"
#include "nn/nn.h"

#define LN_EPS 1e-5f

ct_status ct_fusion_register(ct_fusion *f, ct_params *p, int L, int H, int dv, int dt) {
    memset(f, 0, sizeof *f);
    if (L < 1 || H < 1 || dv % H != 0)
        return ct_fail(CT_ERR_ARG, "fusion: %d layers, %d heads: width %d must be divisible by the heads", L, H, dv);
    f->blk = calloc((size_t)L, sizeof *f->blk);
    if (!f->blk) return ct_fail(CT_ERR_NOMEM, "fusion: out of memory");
    f->L = L, f->H = H, f->dv = dv, f->dt = dt;
    for (int l = 0; l < L; l++) {
        ct_fusion_block *b = &f->blk[l];
        struct {
            const char *suffix;
            int *index;
            int ndim;
            int64_t d0, d1;
        } spec[] = {
            {"ln_a.weight", &b->ln_a_w, 1, dv, 0},        {"ln_a.bias", &b->ln_a_b, 1, dv, 0},
            {"attn.q_proj.weight", &b->q_w, 2, dv, dv},   {"attn.q_proj.bias", &b->q_b, 1, dv, 0},
            {"attn.k_proj.weight", &b->k_w, 2, dv, dt},   {"attn.k_proj.bias", &b->k_b, 1, dv, 0},
            {"attn.v_proj.weight", &b->v_w, 2, dv, dt},   {"attn.v_proj.bias", &b->v_b, 1, dv, 0},
            {"attn.out_proj.weight", &b->o_w, 2, dv, dv}, {"attn.out_proj.bias", &b->o_b, 1, dv, 0},
            {"ln_f.weight", &b->ln_f_w, 1, dv, 0},        {"ln_f.bias", &b->ln_f_b, 1, dv, 0},
            {"mlp.fc1.weight", &b->fc1_w, 2, 4 * dv, dv}, {"mlp.fc1.bias", &b->fc1_b, 1, 4 * dv, 0},
            {"mlp.fc2.weight", &b->fc2_w, 2, dv, 4 * dv}, {"mlp.fc2.bias", &b->fc2_b, 1, dv, 0},
        };
        for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
            char name[CT_PARAM_NAME_MAX];
            snprintf(name, sizeof name, "fusion.blocks.%d.%s", l, spec[i].suffix);
            int64_t shape[2] = {spec[i].d0, spec[i].d1};
            ct_status s = ct_params_add(p, name, spec[i].ndim, shape, spec[i].index);
            if (s) return s;
        }
    }
    return CT_OK;
}

void ct_fusion_free(ct_fusion *f) {
    if (!f) return;
    free(f->blk);
    f->blk = NULL;
}

void ct_fusion_init(const ct_fusion *f, ct_params *p, ct_rng *rng) {
    for (int l = 0; l < f->L; l++) {
        const ct_fusion_block *b = &f->blk[l];
        ct_init_fill(p, b->ln_a_w, 1.0f);
        ct_init_fill(p, b->ln_f_w, 1.0f);
        ct_init_xavier(p, b->q_w, rng);
        ct_init_xavier(p, b->k_w, rng);
        ct_init_xavier(p, b->v_w, rng);
        ct_init_xavier(p, b->fc1_w, rng);
        /* biases, out_proj and fc2 stay zero: each block starts as the identity */
        int zero[] = {b->ln_a_b, b->ln_f_b, b->q_b, b->k_b, b->v_b, b->o_w, b->o_b, b->fc1_b, b->fc2_w, b->fc2_b};
        for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) ct_init_fill(p, zero[i], 0.0f);
    }
}

ct_status ct_fusion_acts_new(ct_fusion_acts *a, const ct_fusion *f) {
    memset(a, 0, sizeof *a);
    a->blk = calloc((size_t)f->L, sizeof *a->blk);
    return a->blk ? CT_OK : ct_fail(CT_ERR_NOMEM, "fusion: out of memory");
}

void ct_fusion_acts_free(ct_fusion_acts *a) {
    if (!a) return;
    free(a->blk);
    a->blk = NULL;
}

void ct_fusion_acts_plan(ct_fusion_acts *a, const ct_fusion *f, ct_plan *plan, int B, int Nv, int T, bool maps) {
    size_t n = (size_t)B * Nv, nd = n * f->dv, td = (size_t)B * T * f->dv;
    a->B = B, a->Nv = Nv, a->T = T, a->maps = maps;
    a->att_slots = maps ? 0 : omp_get_max_threads();
    a->att_scratch = maps ? NULL : ct_plan_take(plan, attention_fused_scratch_floats(Nv, T, a->att_slots));
    for (int l = 0; l < f->L; l++) {
        ct_fusion_block_acts *b = &a->blk[l];
        b->xa = ct_plan_take(plan, nd);
        b->mean_a = ct_plan_take(plan, n);
        b->rstd_a = ct_plan_take(plan, n);
        b->q = ct_plan_take(plan, nd);
        b->k = ct_plan_take(plan, td);
        b->u = ct_plan_take(plan, td);
        b->att = maps ? ct_plan_take(plan, n * f->H * T) : NULL;
        b->att_stats = maps ? NULL : ct_plan_take(plan, n * f->H * 2);
        b->ao = ct_plan_take(plan, nd);
        b->v1 = ct_plan_take(plan, nd);
        b->xf = ct_plan_take(plan, nd);
        b->mean_f = ct_plan_take(plan, n);
        b->rstd_f = ct_plan_take(plan, n);
        b->h = ct_plan_take(plan, 4 * nd);
        b->g = ct_plan_take(plan, 4 * nd);
        b->v2 = ct_plan_take(plan, nd);
    }
}

void ct_fusion_scratch_plan(ct_fusion_scratch *s, const ct_fusion *f, ct_plan *plan, int B, int Nv, int T, bool maps) {
    size_t nd = (size_t)B * Nv * f->dv, td = (size_t)B * T * f->dv, at = (size_t)B * f->H * Nv * T;
    s->dcur = ct_plan_take(plan, nd);
    s->dv1 = ct_plan_take(plan, nd);
    s->dxf = ct_plan_take(plan, nd);
    s->dg = ct_plan_take(plan, 4 * nd);
    s->dh = ct_plan_take(plan, 4 * nd);
    s->dao = ct_plan_take(plan, nd);
    s->dq = ct_plan_take(plan, nd);
    s->dk = ct_plan_take(plan, td);
    s->du = ct_plan_take(plan, td);
    s->dxa = ct_plan_take(plan, nd);
    s->datt = maps ? ct_plan_take(plan, at) : NULL;
    s->att_scratch = maps ? ct_plan_take(plan, at) : NULL;
}

static void add_into(float *y, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void ct_fusion_forward(const ct_fusion *f, const ct_params *p, ct_fusion_acts *a, const float *v0, const float *tx,
                       const int *key_len, int B, int Nv, int T) {
    const int dv = f->dv, dt = f->dt, N = B * Nv;
    const float scale = 1.0f / sqrtf((float)(dv / f->H));
    const float *vin = v0;
    for (int l = 0; l < f->L; l++) {
        const ct_fusion_block *w = &f->blk[l];
        ct_fusion_block_acts *b = &a->blk[l];
        layernorm_forward(b->xa, b->mean_a, b->rstd_a, vin, ct_param(p, w->ln_a_w), ct_param(p, w->ln_a_b), N, dv,
                          LN_EPS);
        linear_forward(b->q, b->xa, ct_param(p, w->q_w), ct_param(p, w->q_b), N, dv, dv);
        linear_forward(b->k, tx, ct_param(p, w->k_w), ct_param(p, w->k_b), B * T, dt, dv);
        linear_forward(b->u, tx, ct_param(p, w->v_w), ct_param(p, w->v_b), B * T, dt, dv);
        if (a->maps)
            attention_forward(b->ao, b->att, b->q, b->k, b->u, key_len, false, scale, B, Nv, T, dv, f->H);
        else
            attention_fused_forward(b->ao, b->att_stats, b->q, b->k, b->u, key_len, false, scale, B, Nv, T, dv, f->H,
                                    a->att_scratch, a->att_slots);
        linear_forward(b->v1, b->ao, ct_param(p, w->o_w), ct_param(p, w->o_b), N, dv, dv);
        add_into(b->v1, vin, (size_t)N * dv);
        layernorm_forward(b->xf, b->mean_f, b->rstd_f, b->v1, ct_param(p, w->ln_f_w), ct_param(p, w->ln_f_b), N, dv,
                          LN_EPS);
        linear_forward(b->h, b->xf, ct_param(p, w->fc1_w), ct_param(p, w->fc1_b), N, dv, 4 * dv);
        gelu_forward(b->g, b->h, (size_t)N * 4 * dv);
        linear_forward(b->v2, b->g, ct_param(p, w->fc2_w), ct_param(p, w->fc2_b), N, 4 * dv, dv);
        add_into(b->v2, b->v1, (size_t)N * dv);
        vin = b->v2;
    }
}

#define GRAD(i) (param_grads ? ct_grad(p, (i)) : NULL)

void ct_fusion_backward(const ct_fusion *f, ct_params *p, bool param_grads, ct_fusion_acts *a, ct_fusion_scratch *s,
                        float *dv0, float *dtx, const float *dout, const float *dmap, const float *v0, const float *tx,
                        const int *key_len, int B, int Nv, int T) {
    const int dv = f->dv, dt = f->dt, N = B * Nv, H = f->H;
    const size_t nd = (size_t)N * dv, td = (size_t)B * T * dv;
    const float scale = 1.0f / sqrtf((float)(dv / H));
    if (dout)
        memcpy(s->dcur, dout, nd * sizeof(float));
    else
        memset(s->dcur, 0, nd * sizeof(float));
    if (dmap) { /* every block and head receives dmap / (L H) */
        const float w = 1.0f / (float)(f->L * H);
        const size_t plane = (size_t)Nv * T;
        for (int bi = 0; bi < B; bi++)
            for (int h = 0; h < H; h++) {
                float *dst = s->datt + ((size_t)bi * H + h) * plane;
                const float *src = dmap + (size_t)bi * plane;
                for (size_t i = 0; i < plane; i++) dst[i] = src[i] * w;
            }
    }
    for (int l = f->L - 1; l >= 0; l--) {
        const ct_fusion_block *w = &f->blk[l];
        ct_fusion_block_acts *b = &a->blk[l];
        const float *vin = l == 0 ? v0 : a->blk[l - 1].v2;
        /* v2 = v1 + fc2(gelu(fc1(LN_f(v1)))) */
        memcpy(s->dv1, s->dcur, nd * sizeof(float));
        memset(s->dg, 0, 4 * nd * sizeof(float));
        linear_backward(s->dg, GRAD(w->fc2_w), GRAD(w->fc2_b), s->dcur, b->g, ct_param(p, w->fc2_w), N, 4 * dv, dv);
        memset(s->dh, 0, 4 * nd * sizeof(float));
        gelu_backward(s->dh, s->dg, b->h, 4 * nd);
        memset(s->dxf, 0, nd * sizeof(float));
        linear_backward(s->dxf, GRAD(w->fc1_w), GRAD(w->fc1_b), s->dh, b->xf, ct_param(p, w->fc1_w), N, dv, 4 * dv);
        layernorm_backward(s->dv1, GRAD(w->ln_f_w), GRAD(w->ln_f_b), s->dxf, b->v1, ct_param(p, w->ln_f_w), b->mean_f,
                           b->rstd_f, N, dv);
        /* v1 = vin + Wo attention(Q, K, U) */
        memcpy(s->dcur, s->dv1, nd * sizeof(float)); /* becomes d vin */
        memset(s->dao, 0, nd * sizeof(float));
        linear_backward(s->dao, GRAD(w->o_w), GRAD(w->o_b), s->dv1, b->ao, ct_param(p, w->o_w), N, dv, dv);
        memset(s->dq, 0, nd * sizeof(float));
        memset(s->dk, 0, td * sizeof(float));
        memset(s->du, 0, td * sizeof(float));
        if (a->maps)
            attention_backward(s->dq, s->dk, s->du, s->dao, dmap ? s->datt : NULL, b->att, b->q, b->k, b->u, scale, B,
                               Nv, T, dv, H, s->att_scratch);
        else
            attention_fused_backward(s->dq, s->dk, s->du, s->dao, b->att_stats, b->q, b->k, b->u, key_len, false, scale,
                                     B, Nv, T, dv, H, a->att_scratch, a->att_slots);
        memset(s->dxa, 0, nd * sizeof(float));
        linear_backward(s->dxa, GRAD(w->q_w), GRAD(w->q_b), s->dq, b->xa, ct_param(p, w->q_w), N, dv, dv);
        linear_backward(dtx, GRAD(w->k_w), GRAD(w->k_b), s->dk, tx, ct_param(p, w->k_w), B * T, dt, dv);
        linear_backward(dtx, GRAD(w->v_w), GRAD(w->v_b), s->du, tx, ct_param(p, w->v_w), B * T, dt, dv);
        layernorm_backward(s->dcur, GRAD(w->ln_a_w), GRAD(w->ln_a_b), s->dxa, vin, ct_param(p, w->ln_a_w), b->mean_a,
                           b->rstd_a, N, dv);
    }
    if (dv0) add_into(dv0, s->dcur, nd);
}

void ct_fusion_mean_map(float *map, const ct_fusion *f, const ct_fusion_acts *a, int B, int Nv, int T) {
    const int H = f->H;
    const size_t plane = (size_t)Nv * T;
    const float w = 1.0f / (float)(f->L * H);
    memset(map, 0, (size_t)B * plane * sizeof(float));
    if (!a->maps) return; /* planned without maps: nothing to average */
    for (int l = 0; l < f->L; l++)
        for (int bi = 0; bi < B; bi++)
            for (int h = 0; h < H; h++) {
                const float *src = a->blk[l].att + ((size_t)bi * H + h) * plane;
                float *dst = map + (size_t)bi * plane;
                for (size_t i = 0; i < plane; i++) dst[i] += src[i] * w;
            }
}
