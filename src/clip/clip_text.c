/* CLIP text tower (HF CLIPTextModel + text_projection), forward and backward. Inputs are
 * clip.tokenize-style ids (0-padded, T = max_positions); pooling at argmax(ids), the first
 * end-of-text token. */
#include <stdlib.h>
#include <string.h>

#include "clip/clip_internal.h"
#include "nn/nn.h"

static void plan_text(ct_plan *p, void *acts, const ct_clip_config *cfg, int B, bool training) {
    ct_clip_text_acts *a = acts;
    const ct_clip_tower_config *t = &cfg->text;
    size_t T = (size_t)a->T, D = (size_t)t->hidden_size, BT = (size_t)B * T;
    a->ids = (int *)ct_plan_take(p, BT);
    a->eot = (int *)ct_plan_take(p, (size_t)B);
    a->hidden0 = ct_plan_take(p, BT * D);
    clip_plan_encoder(p, a->layers, &a->g, t, B, (int)T, training, a->recompute);
    a->last_hidden = ct_plan_take(p, BT * D);
    a->final_mean = ct_plan_take(p, BT);
    a->final_rstd = ct_plan_take(p, BT);
    a->pooled = ct_plan_take(p, (size_t)B * D);
    a->embeds = ct_plan_take(p, (size_t)B * cfg->projection_dim);
    a->dpooled = a->d_inputs_embeds = NULL;
    if (training) a->dpooled = ct_plan_take(p, (size_t)B * D);
}

ct_status ct_clip_text_acts_new(ct_clip_text_acts *a, const ct_clip *m, int B, bool training) {
    return ct_clip_text_acts_new_len(a, m, B, training, m->cfg.text.max_positions);
}

ct_status ct_clip_text_acts_new_len(ct_clip_text_acts *a, const ct_clip *m, int B, bool training, int T_cap) {
    return ct_clip_text_acts_new_opts(a, m, B, training, T_cap, NULL);
}

static void text_init(ct_clip_text_acts *a, const ct_clip *m, int B, bool training, int T_cap,
                      const ct_clip_acts_opts *o) {
    memset(a, 0, sizeof *a);
    a->B_cap = B;
    a->T = a->T_cap = T_cap;
    a->D = m->cfg.text.hidden_size;
    a->P = m->cfg.projection_dim;
    a->training = training;
    a->recompute = training && o && o->recompute;
}

ct_status ct_clip_text_acts_new_opts(ct_clip_text_acts *a, const ct_clip *m, int B, bool training, int T_cap,
                                     const ct_clip_acts_opts *o) {
    memset(a, 0, sizeof *a);
    if (B < 1) return ct_fail(CT_ERR_ARG, "clip: text batch %d (must be >= 1)", B);
    const ct_clip_config *cfg = &m->cfg;
    if (T_cap < 1 || T_cap > cfg->text.max_positions)
        return ct_fail(CT_ERR_ARG, "clip: text plan for %d positions outside 1..%d", T_cap, cfg->text.max_positions);
    text_init(a, m, B, training, T_cap, o);
    return clip_plan_build(plan_text, a, cfg, B, training, "text", &a->layers, cfg->text.num_layers, &a->mem,
                           &a->bytes);
}

size_t ct_clip_text_acts_bytes(const ct_clip *m, int B, bool training, int T_cap, const ct_clip_acts_opts *o) {
    ct_clip_text_acts a;
    int T = T_cap < 1 ? 1 : T_cap > m->cfg.text.max_positions ? m->cfg.text.max_positions : T_cap;
    text_init(&a, m, B < 1 ? 1 : B, training, T, o);
    return clip_plan_measure(plan_text, &a, &m->cfg, a.B_cap, training, &a.layers, m->cfg.text.num_layers);
}

void ct_clip_text_acts_free(ct_clip_text_acts *a) {
    if (!a) return;
    free(a->mem);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

#define W(i) (P->param + P->entries[(i)].offset)
#define G(i) (weight_grads ? P->grad + P->entries[(i)].offset : NULL)

ct_status ct_clip_text_forward(const ct_clip *m, ct_clip_text_acts *a, const int64_t *ids, int B) {
    return ct_clip_text_forward_len(m, a, ids, B, a->T_cap);
}

ct_status ct_clip_text_forward_len(const ct_clip *m, ct_clip_text_acts *a, const int64_t *ids, int B, int T_len) {
    if (T_len < 1 || T_len > a->T_cap)
        return ct_fail(CT_ERR_ARG, "clip: text length %d outside 1..%d", T_len, a->T_cap);
    a->T = T_len;
    if (B < 1 || B > a->B_cap) return ct_fail(CT_ERR_ARG, "clip: text batch %d outside the planned 1..%d", B, a->B_cap);
    const ct_params *P = m->params;
    const ct_clip_tower_config *t = &m->cfg.text;
    int T = a->T, D = a->D, BT = B * T;
    for (int b = 0; b < B; b++) {
        int best = 0;
        for (int i = 0; i < T; i++) {
            int64_t id = ids[(size_t)b * T + i];
            if (id < 0 || id >= t->vocab_size)
                return ct_fail(CT_ERR_ARG, "clip: text %d, position %d: token id %lld outside [0,%d)", b, i,
                               (long long)id, t->vocab_size);
            if (id > ids[(size_t)b * T + best]) best = i;
        }
        a->eot[b] = best;
    }
    for (int i = 0; i < BT; i++) a->ids[i] = (int)ids[i];
    a->B = B;
    token_embed_forward(a->hidden0, a->ids, W(m->txt.tok_emb), W(m->txt.pos_emb), B, T, D);
    clip_encoder_forward(P, m->txt.layers, t, a->layers, a->hidden0, B, T, true);
    const float *enc = t->num_layers ? a->layers[t->num_layers - 1].out : a->hidden0;
    layernorm_forward(a->last_hidden, a->final_mean, a->final_rstd, enc, W(m->txt.final_w), W(m->txt.final_b), BT, D,
                      t->layer_norm_eps);
    for (int b = 0; b < B; b++)
        memcpy(a->pooled + (size_t)b * D, a->last_hidden + ((size_t)b * T + a->eot[b]) * D, (size_t)D * sizeof(float));
    linear_forward(a->embeds, a->pooled, W(m->txt.proj), NULL, B, D, a->P);
    return CT_OK;
}

ct_status ct_clip_text_backward(const ct_clip *m, ct_clip_text_acts *a, const float *d_last_hidden,
                                const float *d_embeds) {
    if (!a->training) return ct_fail(CT_ERR_ARG, "clip: text backward on activations planned for inference");
    if (a->B < 1) return ct_fail(CT_ERR_ARG, "clip: text backward before forward");
    bool weight_grads = !m->freeze_text;
    ct_params *P = m->params;
    const ct_clip_tower_config *t = &m->cfg.text;
    int B = a->B, T = a->T, D = a->D, BT = B * T;
    size_t nd = (size_t)BT * D * sizeof(float);
    ct_clip_encoder_grads *g = &a->g;
    /* g->dt: d(last_hidden) */
    if (d_last_hidden)
        memcpy(g->dt, d_last_hidden, nd);
    else
        memset(g->dt, 0, nd);
    if (d_embeds) {
        memset(a->dpooled, 0, (size_t)B * D * sizeof(float));
        linear_backward(a->dpooled, G(m->txt.proj), NULL, d_embeds, a->pooled, W(m->txt.proj), B, D, a->P);
        for (int b = 0; b < B; b++) {
            float *row = g->dt + ((size_t)b * T + a->eot[b]) * D;
            residual_forward(row, row, a->dpooled + (size_t)b * D, (size_t)D);
        }
    }
    const float *enc = t->num_layers ? a->layers[t->num_layers - 1].out : a->hidden0;
    memset(g->dx, 0, nd);
    layernorm_backward(g->dx, G(m->txt.final_w), G(m->txt.final_b), g->dt, enc, W(m->txt.final_w), a->final_mean,
                       a->final_rstd, BT, D);
    clip_encoder_backward(P, m->txt.layers, t, a->layers, g, a->hidden0, B, T, true, weight_grads, a->recompute);
    if (weight_grads) token_embed_backward(G(m->txt.tok_emb), G(m->txt.pos_emb), g->dx, a->ids, B, T, D);
    a->d_inputs_embeds = g->dx;
    return CT_OK;
}
