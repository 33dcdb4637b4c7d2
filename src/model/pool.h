/* Pooling phi_P (docs/model.md section 3): Set Transformer PMA with one learned seed.
 *
 *   Qs = S Ws + bs;  Kz = Z Wk + bk;  Uz = Z Wv + bv
 *   O  = Qs + concat_h(softmax(Qs_h Kz_h^T / sqrt(dv/H)) Uz_h)
 *   O  = LN0(O);  O = LN1(O + ReLU(O Wr + br));  r = O Wp + bp      (dv -> P)
 */
#ifndef CTCIR_MODEL_POOL_H
#define CTCIR_MODEL_POOL_H

#include "core/params.h"
#include "core/plan.h"
#include "core/rng.h"

typedef struct {
    int H, dv, P;
    int seed, q_w, q_b, k_w, k_b, v_w, v_b, ln0_w, ln0_b, ln1_w, ln1_b, rff_w, rff_b, out_w, out_b;
} ct_pool;

typedef struct {
    float *qs;                 /* [dv] */
    float *qrep;               /* [B,dv] Qs repeated */
    float *kz, *uz;            /* [B,Nv,dv] */
    float *att;                /* [B,H,1,Nv] */
    float *ao;                 /* [B,dv] attention output */
    float *o;                  /* [B,dv] Qs + ao */
    float *o1, *mean0, *rstd0; /* LN0(o) */
    float *rr;                 /* [B,dv] o1 Wr + br (before ReLU) */
    float *rl;                 /* [B,dv] ReLU(rr) */
    float *o2in;               /* [B,dv] o1 + rl */
    float *o2, *mean1, *rstd1; /* LN1 */
    float *r;                  /* [B,P] output */
} ct_pool_acts;

typedef struct {
    float *do2, *do2in, *drr, *do1, *dox, *dq, *dqs, *dkz, *duz, *att_scratch;
} ct_pool_scratch;

ct_status ct_pool_register(ct_pool *pool, ct_params *p, int H, int dv, int P);
/* Seed and Wq, Wk, Wv, Wr, Wp xavier-uniform; biases 0; LayerNorms 1 / 0. */
void ct_pool_init(const ct_pool *pool, ct_params *p, ct_rng *rng);
void ct_pool_acts_plan(ct_pool_acts *a, const ct_pool *pool, ct_plan *plan, int B, int Nv);
void ct_pool_scratch_plan(ct_pool_scratch *s, const ct_pool *pool, ct_plan *plan, int B, int Nv);

/* z [B,Nv,dv] -> a->r [B,P] */
void ct_pool_forward(const ct_pool *pool, const ct_params *p, ct_pool_acts *a, const float *z, int B, int Nv);
/* dr [B,P]; accumulates dz [B,Nv,dv] (if not NULL) and parameter grads (if param_grads). */
void ct_pool_backward(const ct_pool *pool, ct_params *p, bool param_grads, ct_pool_acts *a, ct_pool_scratch *s,
                      float *dz, const float *dr, const float *z, int B, int Nv);

#endif
