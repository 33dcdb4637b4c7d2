/* Fusion phi_A (docs/model.md section 2): L pre-LN cross-attention blocks in which image tokens
 * attend to text tokens, each followed by a GELU MLP.
 *
 *   Q = LN_a(v) Wq + bq;  K = Tx Wk + bk;  U = Tx Wv + bv
 *   A = softmax(Q_h K_h^T / sqrt(dv/H) + pad_mask)          [B,H,Nv,T]
 *   v = v + concat_h(A_h U_h) Wo + bo
 *   v = v + W2 GELU(W1 LN_f(v) + b1) + b2
 *
 * Parameters live in the model's ct_params table under "fusion.blocks.{l}.*". */
#ifndef CTCIR_MODEL_FUSION_H
#define CTCIR_MODEL_FUSION_H

#include "core/params.h"
#include "core/plan.h"
#include "core/rng.h"

typedef struct {
    int ln_a_w, ln_a_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
    int ln_f_w, ln_f_b, fc1_w, fc1_b, fc2_w, fc2_b;
} ct_fusion_block;

typedef struct {
    int L, H, dv, dt;
    ct_fusion_block *blk; /* [L] parameter indices */
} ct_fusion;

/* Saved activations of one block for B samples, Nv image tokens, T text positions. */
typedef struct {
    float *xa, *mean_a, *rstd_a; /* LN_a(v) [B,Nv,dv], stats [B*Nv] */
    float *q;                    /* [B,Nv,dv] */
    float *k, *u;                /* [B,T,dv] */
    float *att;                  /* [B,H,Nv,T] softmax weights (maps kept) or NULL */
    float *att_stats;            /* [B,H,Nv,2] softmax row max and exp-sum (maps not kept) */
    float *ao;                   /* [B,Nv,dv] attention output before Wo */
    float *v1;                   /* [B,Nv,dv] after the attention residual */
    float *xf, *mean_f, *rstd_f; /* LN_f(v1) [B,Nv,dv], stats */
    float *h, *g;                /* fc1 output and GELU(h) [B,Nv,4dv] */
    float *v2;                   /* [B,Nv,dv] block output */
} ct_fusion_block_acts;

typedef struct {
    int B, Nv, T;              /* capacity */
    bool maps;                 /* attention maps kept (att), or fused attention (att_stats) */
    int att_slots;             /* fused attention: threads, one scratch slot each */
    float *att_scratch;        /* fused attention scratch, shared by the blocks */
    ct_fusion_block_acts *blk; /* [L] */
} ct_fusion_acts;

/* Backward scratch, shared by all blocks. */
typedef struct {
    float *dcur, *dv1, *dxf, *dg, *dh, *dao, *dq, *dk, *du, *dxa; /* see fusion.c */
    float *datt;        /* [B,H,Nv,T] per-head copy of the map gradient (planned with maps) */
    float *att_scratch; /* [B,H,Nv,T] attention_backward scratch (planned with maps) */
} ct_fusion_scratch;

ct_status ct_fusion_register(ct_fusion *f, ct_params *p, int L, int H, int dv, int dt);
void ct_fusion_free(ct_fusion *f);
/* Seeded initialisation: Wq, Wk, Wv, W1 xavier-uniform, their biases 0; Wo, bo, W2, b2 zero
 * (each block starts as the identity); LayerNorms weight 1, bias 0. */
void ct_fusion_init(const ct_fusion *f, ct_params *p, ct_rng *rng);

/* Planning (see core/plan.h): call with the same plan in the measuring and binding pass.
 * `blk` arrays are malloc'ed by ct_fusion_acts_new; ct_fusion_acts_free frees them.
 * With `maps` the blocks keep their attention weights [B,H,Nv,T] (what the mean map, the CC
 * loss and its gradient need); without, they run fused attention (src/nn/attention_fused.c):
 * no score matrix outlives a row block, two statistics per row are kept for backward, and
 * the outputs and gradients are the same floats. A scratch planned without maps serves only
 * backward passes without a map gradient. */
ct_status ct_fusion_acts_new(ct_fusion_acts *a, const ct_fusion *f);
void ct_fusion_acts_free(ct_fusion_acts *a);
void ct_fusion_acts_plan(ct_fusion_acts *a, const ct_fusion *f, ct_plan *plan, int B, int Nv, int T, bool maps);
void ct_fusion_scratch_plan(ct_fusion_scratch *s, const ct_fusion *f, ct_plan *plan, int B, int Nv, int T, bool maps);

/* v0 [B,Nv,dv], tx [B,T,dt], key_len [B] (keys j >= key_len[b] are padding).
 * Output: a->blk[L-1].v2. */
void ct_fusion_forward(const ct_fusion *f, const ct_params *p, ct_fusion_acts *a, const float *v0, const float *tx,
                       const int *key_len, int B, int Nv, int T);

/* Accumulates parameter gradients into p->grad (skipped when `param_grads` is false), and
 * d v0 into dv0 [B,Nv,dv] and d tx into dtx [B,T,dt] when those are not NULL.
 * dout [B,Nv,dv] or NULL (zero); dmap [B,Nv,T] or NULL: gradient of the loss w.r.t. the map
 * Abar = mean over blocks and heads of the attention weights (acts and scratch planned with
 * maps; must be NULL without). */
void ct_fusion_backward(const ct_fusion *f, ct_params *p, bool param_grads, ct_fusion_acts *a, ct_fusion_scratch *s,
                        float *dv0, float *dtx, const float *dout, const float *dmap, const float *v0, const float *tx,
                        const int *key_len, int B, int Nv, int T);

/* Abar [B,Nv,T] = mean over blocks and heads of the saved attention weights (acts planned
 * with maps). */
void ct_fusion_mean_map(float *map, const ct_fusion *f, const ct_fusion_acts *a, int B, int Nv, int T);

#endif
