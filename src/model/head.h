/* The ConText-CIR head, written once for inference and training:
 *
 *     f(I, T) = pool(fusion(V0(I), Tx(T)))          r [B,P]          (docs/model.md 2-3)
 *
 * A ct_head_path holds the activations of one such path (the query path, the empty-text
 * target path, ...); ct_head_scratch is what its backward needs. Both are planned with
 * ct_plan (measure, allocate once, bind). The empty text's token states (start and end
 * token; docs/model.md section 4) come from ct_head_empty_text. */
#ifndef CTCIR_MODEL_HEAD_H
#define CTCIR_MODEL_HEAD_H

#include "model/model.h"

typedef struct {
    ct_fusion_acts fa; /* fusion block activations (attention maps included) */
    ct_pool_acts pa;   /* pooling activations; pa.r [B,P] is the embedding */
} ct_head_path;

typedef struct {
    ct_fusion_scratch fs;
    ct_pool_scratch ps;
    float *dz; /* [B,Nv,dv] gradient of the fused tokens */
} ct_head_scratch;

ct_status ct_head_path_new(ct_head_path *h, const ct_model *m);
void ct_head_path_free(ct_head_path *h);
/* Capacity for B rows of T text positions; `maps`: the fusion keeps its attention maps (for
 * ct_fusion_mean_map and a map gradient in backward), else it runs fused attention
 * (model/fusion.h). The scratch needs `maps` when some backward gets a map gradient. */
void ct_head_path_plan(ct_head_path *h, const ct_model *m, ct_plan *plan, int B, int T, bool maps);
void ct_head_scratch_plan(ct_head_scratch *s, const ct_model *m, ct_plan *plan, int B, int T, bool maps);

/* v0 [B,Nv,dv] image tokens, tx [B,T,dt] text tokens, key_len [B] -> r [B,P] (returned,
 * inside h). */
const float *ct_head_forward(const ct_model *m, ct_head_path *h, const float *v0, const float *tx, const int *key_len,
                             int B, int T);
/* The fused tokens Z [B,Nv,dv] of the last forward (the pooling's input). */
const float *ct_head_tokens(const ct_model *m, const ct_head_path *h);
/* dr [B,P] and dmap [B,Nv,T] (gradient of the mean attention map, or NULL; only on a path
 * planned with maps) -> accumulates into
 * dv0 [B,Nv,dv], dtx [B,T,dt] and the head's parameter gradients. */
void ct_head_backward(ct_model *m, ct_head_path *h, ct_head_scratch *s, const float *dr, const float *dmap, float *dv0,
                      float *dtx, const float *v0, const float *tx, const int *key_len, int B, int T);

/* The empty text's token states [2,dt] (<|startoftext|><|endoftext|>) through the text tower
 * `ta` (planned for >= 1 row of >= 2 positions), copied into out [n,2,dt]; len [n] = 2. */
ct_status ct_head_empty_text(const ct_model *m, ct_clip_text_acts *ta, float *out, int *len, int n);

#endif
