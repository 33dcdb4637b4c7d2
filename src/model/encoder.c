/* Inference: query embeddings f(I, T) and target embeddings, with buffers planned once. */
#include <stdlib.h>
#include <string.h>

#include "model/head.h"

struct ct_encoder {
    const ct_model *m;
    int cap;
    ct_clip_vision_acts va;
    ct_clip_text_acts ta;
    ct_head_path hp;
    float *mem;
    float *empty_tx; /* [cap,2,dt] the empty text's tokens (start, end), repeated */
    float *map;      /* [cap,Nv,last_T], or NULL: made without maps */
    int64_t *ids;    /* [cap,77] packed ids */
    int *key_len;    /* [cap] */
    int *empty_len;  /* [cap] all 2 */
    int last_n, last_T;
};

static ct_status encoder_new(ct_encoder **out, const ct_model *m, int max_batch, bool maps) {
    *out = NULL;
    if (max_batch < 1) return ct_fail(CT_ERR_ARG, "encoder: batch %d", max_batch);
    ct_encoder *e = calloc(1, sizeof *e);
    if (!e) return ct_fail(CT_ERR_NOMEM, "encoder: out of memory");
    e->m = m;
    e->cap = max_batch;
    ct_status s;
    if ((s = ct_clip_vision_acts_new(&e->va, &m->clip, max_batch, false))) goto fail;
    if ((s = ct_clip_text_acts_new(&e->ta, &m->clip, max_batch, false))) goto fail;
    if ((s = ct_head_path_new(&e->hp, m))) goto fail;
    ct_plan plan = {0};
    for (int pass = 0; pass < 2; pass++) {
        ct_head_path_plan(&e->hp, m, &plan, max_batch, m->T, maps);
        e->empty_tx = ct_plan_take(&plan, (size_t)max_batch * 2 * m->dt);
        e->map = maps ? ct_plan_take(&plan, (size_t)max_batch * m->Nv * m->T) : NULL;
        if (pass == 0 && !(e->mem = ct_plan_alloc(&plan))) {
            s = ct_fail(CT_ERR_NOMEM, "encoder: out of memory");
            goto fail;
        }
    }
    e->key_len = calloc((size_t)max_batch, sizeof *e->key_len);
    e->empty_len = calloc((size_t)max_batch, sizeof *e->empty_len);
    e->ids = calloc((size_t)max_batch * CT_CONTEXT_LENGTH, sizeof *e->ids);
    if (!e->key_len || !e->empty_len || !e->ids) {
        s = ct_fail(CT_ERR_NOMEM, "encoder: out of memory");
        goto fail;
    }
    /* the empty text's tokens, once: <|startoftext|><|endoftext|> (the padding is masked) */
    if ((s = ct_head_empty_text(m, &e->ta, e->empty_tx, e->empty_len, max_batch))) goto fail;
    *out = e;
    return CT_OK;
fail:
    ct_encoder_free(e);
    return s;
}

ct_status ct_encoder_new(ct_encoder **out, const ct_model *m, int max_batch) {
    return encoder_new(out, m, max_batch, false);
}

ct_status ct_encoder_new_with_maps(ct_encoder **out, const ct_model *m, int max_batch) {
    return encoder_new(out, m, max_batch, true);
}

void ct_encoder_free(ct_encoder *e) {
    if (!e) return;
    ct_clip_vision_acts_free(&e->va);
    ct_clip_text_acts_free(&e->ta);
    ct_head_path_free(&e->hp);
    free(e->mem), free(e->key_len), free(e->empty_len), free(e->ids);
    free(e);
}

static ct_status check_n(const ct_encoder *e, int n) {
    if (n < 1 || n > e->cap) return ct_fail(CT_ERR_ARG, "encoder: batch %d outside 1..%d", n, e->cap);
    return CT_OK;
}

ct_status ct_encode_query(ct_encoder *e, const float *pixels, const int64_t *ids, int n, float *out) {
    const ct_model *m = e->m;
    ct_status s;
    if ((s = check_n(e, n))) return s;
    if ((s = ct_clip_vision_forward(&m->clip, &e->va, pixels, n))) return s;
    const int T = ct_pack_ids(e->ids, e->key_len, ids, n);
    if ((s = ct_clip_text_forward_len(&m->clip, &e->ta, e->ids, n, T))) return s;
    const float *r = ct_head_forward(m, &e->hp, e->va.last_hidden, e->ta.last_hidden, e->key_len, n, T);
    if (e->map) ct_fusion_mean_map(e->map, &m->fusion, &e->hp.fa, n, m->Nv, T);
    e->last_T = T;
    memcpy(out, r, (size_t)n * m->P * sizeof(float));
    e->last_n = n;
    return CT_OK;
}

ct_status ct_encode_target(ct_encoder *e, const float *pixels, int n, float *out) {
    const ct_model *m = e->m;
    ct_status s;
    if ((s = check_n(e, n))) return s;
    if ((s = ct_clip_vision_forward(&m->clip, &e->va, pixels, n))) return s;
    if (m->opt.target_mode == CT_TARGET_CLIP) {
        memcpy(out, e->va.embeds, (size_t)n * m->P * sizeof(float));
        return CT_OK;
    }
    const float *r = ct_head_forward(m, &e->hp, e->va.last_hidden, e->empty_tx, e->empty_len, n, 2);
    memcpy(out, r, (size_t)n * m->P * sizeof(float));
    return CT_OK;
}

const float *ct_encoder_last_map(const ct_encoder *e, int *Nv, int *T) {
    if (Nv) *Nv = e->m->Nv;
    if (T) *T = e->last_T;
    return e->map;
}
