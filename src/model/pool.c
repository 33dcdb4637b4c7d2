/* PMA pooling: forward and backward side by side. */
#include <math.h>
#include <string.h>

#include "model/init.h"
#include "model/pool.h"
#include "nn/nn.h"

#define LN_EPS 1e-5f

ct_status ct_pool_register(ct_pool *pool, ct_params *p, int H, int dv, int P) {
    memset(pool, 0, sizeof *pool);
    if (H < 1 || dv % H) return ct_fail(CT_ERR_ARG, "pool: width %d not divisible by %d heads", dv, H);
    pool->H = H, pool->dv = dv, pool->P = P;
    struct {
        const char *name;
        int *index;
        int ndim;
        int64_t d0, d1;
    } spec[] = {
        {"pool.seed", &pool->seed, 2, 1, dv},          {"pool.q_proj.weight", &pool->q_w, 2, dv, dv},
        {"pool.q_proj.bias", &pool->q_b, 1, dv, 0},    {"pool.k_proj.weight", &pool->k_w, 2, dv, dv},
        {"pool.k_proj.bias", &pool->k_b, 1, dv, 0},    {"pool.v_proj.weight", &pool->v_w, 2, dv, dv},
        {"pool.v_proj.bias", &pool->v_b, 1, dv, 0},    {"pool.ln0.weight", &pool->ln0_w, 1, dv, 0},
        {"pool.ln0.bias", &pool->ln0_b, 1, dv, 0},     {"pool.ln1.weight", &pool->ln1_w, 1, dv, 0},
        {"pool.ln1.bias", &pool->ln1_b, 1, dv, 0},     {"pool.rff.weight", &pool->rff_w, 2, dv, dv},
        {"pool.rff.bias", &pool->rff_b, 1, dv, 0},     {"pool.out_proj.weight", &pool->out_w, 2, P, dv},
        {"pool.out_proj.bias", &pool->out_b, 1, P, 0},
    };
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        int64_t shape[2] = {spec[i].d0, spec[i].d1};
        ct_status s = ct_params_add(p, spec[i].name, spec[i].ndim, shape, spec[i].index);
        if (s) return s;
    }
    return CT_OK;
}

void ct_pool_init(const ct_pool *pool, ct_params *p, ct_rng *rng) {
    int xavier[] = {pool->seed, pool->q_w, pool->k_w, pool->v_w, pool->rff_w, pool->out_w};
    int zero[] = {pool->q_b, pool->k_b, pool->v_b, pool->ln0_b, pool->ln1_b, pool->rff_b, pool->out_b};
    for (size_t i = 0; i < sizeof xavier / sizeof xavier[0]; i++) ct_init_xavier(p, xavier[i], rng);
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) ct_init_fill(p, zero[i], 0.0f);
    ct_init_fill(p, pool->ln0_w, 1.0f);
    ct_init_fill(p, pool->ln1_w, 1.0f);
}

void ct_pool_acts_plan(ct_pool_acts *a, const ct_pool *pool, ct_plan *plan, int B, int Nv) {
    const size_t bd = (size_t)B * pool->dv;
    a->qs = ct_plan_take(plan, pool->dv);
    a->qrep = ct_plan_take(plan, bd);
    a->kz = ct_plan_take(plan, bd * Nv);
    a->uz = ct_plan_take(plan, bd * Nv);
    a->att = ct_plan_take(plan, (size_t)B * pool->H * Nv);
    a->ao = ct_plan_take(plan, bd);
    a->o = ct_plan_take(plan, bd);
    a->o1 = ct_plan_take(plan, bd);
    a->mean0 = ct_plan_take(plan, B);
    a->rstd0 = ct_plan_take(plan, B);
    a->rr = ct_plan_take(plan, bd);
    a->rl = ct_plan_take(plan, bd);
    a->o2in = ct_plan_take(plan, bd);
    a->o2 = ct_plan_take(plan, bd);
    a->mean1 = ct_plan_take(plan, B);
    a->rstd1 = ct_plan_take(plan, B);
    a->r = ct_plan_take(plan, (size_t)B * pool->P);
}

void ct_pool_scratch_plan(ct_pool_scratch *s, const ct_pool *pool, ct_plan *plan, int B, int Nv) {
    const size_t bd = (size_t)B * pool->dv;
    s->do2 = ct_plan_take(plan, bd);
    s->do2in = ct_plan_take(plan, bd);
    s->drr = ct_plan_take(plan, bd);
    s->do1 = ct_plan_take(plan, bd);
    s->dox = ct_plan_take(plan, bd);
    s->dq = ct_plan_take(plan, bd);
    s->dqs = ct_plan_take(plan, pool->dv);
    s->dkz = ct_plan_take(plan, bd * Nv);
    s->duz = ct_plan_take(plan, bd * Nv);
    s->att_scratch = ct_plan_take(plan, (size_t)B * pool->H * Nv);
}

void ct_pool_forward(const ct_pool *pool, const ct_params *p, ct_pool_acts *a, const float *z, int B, int Nv) {
    const int dv = pool->dv;
    const float scale = 1.0f / sqrtf((float)(dv / pool->H));
    linear_forward(a->qs, ct_param(p, pool->seed), ct_param(p, pool->q_w), ct_param(p, pool->q_b), 1, dv, dv);
    for (int b = 0; b < B; b++) memcpy(a->qrep + (size_t)b * dv, a->qs, (size_t)dv * sizeof(float));
    linear_forward(a->kz, z, ct_param(p, pool->k_w), ct_param(p, pool->k_b), B * Nv, dv, dv);
    linear_forward(a->uz, z, ct_param(p, pool->v_w), ct_param(p, pool->v_b), B * Nv, dv, dv);
    attention_forward(a->ao, a->att, a->qrep, a->kz, a->uz, NULL, false, scale, B, 1, Nv, dv, pool->H);
    for (size_t i = 0; i < (size_t)B * dv; i++) a->o[i] = a->qrep[i] + a->ao[i];
    layernorm_forward(a->o1, a->mean0, a->rstd0, a->o, ct_param(p, pool->ln0_w), ct_param(p, pool->ln0_b), B, dv,
                      LN_EPS);
    linear_forward(a->rr, a->o1, ct_param(p, pool->rff_w), ct_param(p, pool->rff_b), B, dv, dv);
    relu_forward(a->rl, a->rr, (size_t)B * dv);
    for (size_t i = 0; i < (size_t)B * dv; i++) a->o2in[i] = a->o1[i] + a->rl[i];
    layernorm_forward(a->o2, a->mean1, a->rstd1, a->o2in, ct_param(p, pool->ln1_w), ct_param(p, pool->ln1_b), B, dv,
                      LN_EPS);
    linear_forward(a->r, a->o2, ct_param(p, pool->out_w), ct_param(p, pool->out_b), B, dv, pool->P);
}

#define GRAD(i) (param_grads ? ct_grad(p, (i)) : NULL)

void ct_pool_backward(const ct_pool *pool, ct_params *p, bool param_grads, ct_pool_acts *a, ct_pool_scratch *s,
                      float *dz, const float *dr, const float *z, int B, int Nv) {
    const int dv = pool->dv;
    const size_t bd = (size_t)B * dv;
    const float scale = 1.0f / sqrtf((float)(dv / pool->H));
    memset(s->do2, 0, bd * sizeof(float));
    linear_backward(s->do2, GRAD(pool->out_w), GRAD(pool->out_b), dr, a->o2, ct_param(p, pool->out_w), B, dv, pool->P);
    memset(s->do2in, 0, bd * sizeof(float));
    layernorm_backward(s->do2in, GRAD(pool->ln1_w), GRAD(pool->ln1_b), s->do2, a->o2in, ct_param(p, pool->ln1_w),
                       a->mean1, a->rstd1, B, dv);
    /* o2in = o1 + relu(o1 Wr + br) */
    memcpy(s->do1, s->do2in, bd * sizeof(float));
    memset(s->drr, 0, bd * sizeof(float));
    relu_backward(s->drr, s->do2in, a->rr, bd);
    linear_backward(s->do1, GRAD(pool->rff_w), GRAD(pool->rff_b), s->drr, a->o1, ct_param(p, pool->rff_w), B, dv, dv);
    memset(s->dox, 0, bd * sizeof(float));
    layernorm_backward(s->dox, GRAD(pool->ln0_w), GRAD(pool->ln0_b), s->do1, a->o, ct_param(p, pool->ln0_w), a->mean0,
                       a->rstd0, B, dv);
    /* o = qrep + attention(qrep, kz, uz) */
    memcpy(s->dq, s->dox, bd * sizeof(float));
    memset(s->dkz, 0, bd * Nv * sizeof(float));
    memset(s->duz, 0, bd * Nv * sizeof(float));
    attention_backward(s->dq, s->dkz, s->duz, s->dox, NULL, a->att, a->qrep, a->kz, a->uz, scale, B, 1, Nv, dv, pool->H,
                       s->att_scratch);
    if (param_grads) {
        memset(s->dqs, 0, (size_t)dv * sizeof(float));
        for (int b = 0; b < B; b++)
            for (int i = 0; i < dv; i++) s->dqs[i] += s->dq[(size_t)b * dv + i];
        linear_backward(ct_grad(p, pool->seed), ct_grad(p, pool->q_w), ct_grad(p, pool->q_b), s->dqs,
                        ct_param(p, pool->seed), ct_param(p, pool->q_w), 1, dv, dv);
    }
    linear_backward(dz, GRAD(pool->k_w), GRAD(pool->k_b), s->dkz, z, ct_param(p, pool->k_w), B * Nv, dv, dv);
    linear_backward(dz, GRAD(pool->v_w), GRAD(pool->v_b), s->duz, z, ct_param(p, pool->v_w), B * Nv, dv, dv);
}
