/* The head f = pool(fusion(V0, Tx)), forward and backward (model/head.h). */
#include <string.h>

#include "model/head.h"

ct_status ct_head_path_new(ct_head_path *h, const ct_model *m) {
    memset(h, 0, sizeof *h);
    return ct_fusion_acts_new(&h->fa, &m->fusion);
}

void ct_head_path_free(ct_head_path *h) { ct_fusion_acts_free(&h->fa); }

void ct_head_path_plan(ct_head_path *h, const ct_model *m, ct_plan *plan, int B, int T, bool maps) {
    ct_fusion_acts_plan(&h->fa, &m->fusion, plan, B, m->Nv, T, maps);
    ct_pool_acts_plan(&h->pa, &m->pool, plan, B, m->Nv);
}

void ct_head_scratch_plan(ct_head_scratch *s, const ct_model *m, ct_plan *plan, int B, int T, bool maps) {
    ct_fusion_scratch_plan(&s->fs, &m->fusion, plan, B, m->Nv, T, maps);
    ct_pool_scratch_plan(&s->ps, &m->pool, plan, B, m->Nv);
    s->dz = ct_plan_take(plan, (size_t)B * m->Nv * m->dv);
}

const float *ct_head_tokens(const ct_model *m, const ct_head_path *h) { return h->fa.blk[m->fusion.L - 1].v2; }

const float *ct_head_forward(const ct_model *m, ct_head_path *h, const float *v0, const float *tx, const int *key_len,
                             int B, int T) {
    ct_fusion_forward(&m->fusion, &m->params, &h->fa, v0, tx, key_len, B, m->Nv, T);
    ct_pool_forward(&m->pool, &m->params, &h->pa, ct_head_tokens(m, h), B, m->Nv);
    return h->pa.r;
}

void ct_head_backward(ct_model *m, ct_head_path *h, ct_head_scratch *s, const float *dr, const float *dmap, float *dv0,
                      float *dtx, const float *v0, const float *tx, const int *key_len, int B, int T) {
    memset(s->dz, 0, (size_t)B * m->Nv * m->dv * sizeof(float));
    ct_pool_backward(&m->pool, &m->params, true, &h->pa, &s->ps, s->dz, dr, ct_head_tokens(m, h), B, m->Nv);
    ct_fusion_backward(&m->fusion, &m->params, true, &h->fa, &s->fs, dv0, dtx, s->dz, dmap, v0, tx, key_len, B, m->Nv,
                       T);
}

ct_status ct_head_empty_text(const ct_model *m, ct_clip_text_acts *ta, float *out, int *len, int n) {
    ct_status s = ct_clip_text_forward_len(&m->clip, ta, m->empty_ids, 1, 2);
    if (s) return s;
    const size_t row = (size_t)2 * m->dt;
    for (int b = 0; b < n; b++) {
        memcpy(out + b * row, ta->last_hidden, row * sizeof(float));
        if (len) len[b] = 2;
    }
    return CT_OK;
}
