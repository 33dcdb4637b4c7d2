/* CLIP image tower (HF CLIPVisionModel + visual_projection), forward and backward. */
#include <stdlib.h>
#include <string.h>

#include "clip/clip_internal.h"
#include "nn/nn.h"

static void plan_vision(ct_plan *p, void *acts, const ct_clip_config *cfg, int B, bool training) {
    ct_clip_vision_acts *a = acts;
    const ct_clip_tower_config *v = &cfg->vision;
    size_t T = (size_t)a->T, D = (size_t)v->hidden_size, NP = (size_t)B * (T - 1);
    size_t K = (size_t)v->num_channels * v->patch_size * v->patch_size;
    size_t S = (size_t)v->image_size;
    a->cols = ct_plan_take(p, NP * K);
    a->patches = ct_plan_take(p, NP * D);
    a->embeddings = ct_plan_take(p, (size_t)B * T * D);
    a->hidden0 = ct_plan_take(p, (size_t)B * T * D);
    a->pre_mean = ct_plan_take(p, (size_t)B * T);
    a->pre_rstd = ct_plan_take(p, (size_t)B * T);
    clip_plan_encoder(p, a->layers, &a->g, v, B, (int)T, training, a->recompute);
    a->last_hidden = v->num_layers ? a->layers[v->num_layers - 1].out : a->hidden0;
    a->cls = ct_plan_take(p, (size_t)B * D);
    a->pooled = ct_plan_take(p, (size_t)B * D);
    a->post_mean = ct_plan_take(p, (size_t)B);
    a->post_rstd = ct_plan_take(p, (size_t)B);
    a->embeds = ct_plan_take(p, (size_t)B * cfg->projection_dim);
    a->dpooled = a->dpatches = a->dcols = a->dpixels = NULL;
    if (!training) return;
    a->dpooled = ct_plan_take(p, (size_t)B * D);
    a->dpatches = ct_plan_take(p, NP * D);
    a->dcols = ct_plan_take(p, NP * K);
    a->dpixels = ct_plan_take(p, (size_t)B * v->num_channels * S * S);
}

static void vision_init(ct_clip_vision_acts *a, const ct_clip *m, int B, bool training, const ct_clip_acts_opts *o) {
    memset(a, 0, sizeof *a);
    a->B_cap = B;
    a->T = ct_clip_vision_tokens(&m->cfg);
    a->D = m->cfg.vision.hidden_size;
    a->P = m->cfg.projection_dim;
    a->training = training;
    a->recompute = training && o && o->recompute;
}

ct_status ct_clip_vision_acts_new(ct_clip_vision_acts *a, const ct_clip *m, int B, bool training) {
    return ct_clip_vision_acts_new_opts(a, m, B, training, NULL);
}

ct_status ct_clip_vision_acts_new_opts(ct_clip_vision_acts *a, const ct_clip *m, int B, bool training,
                                       const ct_clip_acts_opts *o) {
    memset(a, 0, sizeof *a);
    if (B < 1) return ct_fail(CT_ERR_ARG, "clip: vision batch %d (must be >= 1)", B);
    vision_init(a, m, B, training, o);
    return clip_plan_build(plan_vision, a, &m->cfg, B, training, "vision", &a->layers, m->cfg.vision.num_layers,
                           &a->mem, &a->bytes);
}

size_t ct_clip_vision_acts_bytes(const ct_clip *m, int B, bool training, const ct_clip_acts_opts *o) {
    ct_clip_vision_acts a;
    vision_init(&a, m, B < 1 ? 1 : B, training, o);
    return clip_plan_measure(plan_vision, &a, &m->cfg, a.B_cap, training, &a.layers, m->cfg.vision.num_layers);
}

void ct_clip_vision_acts_free(ct_clip_vision_acts *a) {
    if (!a) return;
    free(a->mem);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

#define W(i) (P->param + P->entries[(i)].offset)
#define G(i) (weight_grads ? P->grad + P->entries[(i)].offset : NULL)

ct_status ct_clip_vision_forward(const ct_clip *m, ct_clip_vision_acts *a, const float *pixels, int B) {
    if (B < 1 || B > a->B_cap)
        return ct_fail(CT_ERR_ARG, "clip: vision batch %d outside the planned 1..%d", B, a->B_cap);
    const ct_params *P = m->params;
    const ct_clip_tower_config *v = &m->cfg.vision;
    int T = a->T, D = a->D, BT = B * T;
    a->B = B;
    a->pixels = pixels;
    patch_embed_forward(a->patches, a->cols, pixels, W(m->vis.patch_w), B, v->num_channels, v->image_size,
                        v->patch_size, D);
    class_pos_embed_forward(a->embeddings, a->patches, W(m->vis.class_emb), W(m->vis.pos_emb), B, T, D);
    layernorm_forward(a->hidden0, a->pre_mean, a->pre_rstd, a->embeddings, W(m->vis.pre_w), W(m->vis.pre_b), BT, D,
                      v->layer_norm_eps);
    clip_encoder_forward(P, m->vis.layers, v, a->layers, a->hidden0, B, T, false);
    for (int b = 0; b < B; b++)
        memcpy(a->cls + (size_t)b * D, a->last_hidden + (size_t)b * T * D, (size_t)D * sizeof(float));
    layernorm_forward(a->pooled, a->post_mean, a->post_rstd, a->cls, W(m->vis.post_w), W(m->vis.post_b), B, D,
                      v->layer_norm_eps);
    linear_forward(a->embeds, a->pooled, W(m->vis.proj), NULL, B, D, a->P);
    return CT_OK;
}

ct_status ct_clip_vision_backward(const ct_clip *m, ct_clip_vision_acts *a, const float *d_last_hidden,
                                  const float *d_embeds, bool want_dpixels) {
    if (!a->training) return ct_fail(CT_ERR_ARG, "clip: vision backward on activations planned for inference");
    if (a->B < 1) return ct_fail(CT_ERR_ARG, "clip: vision backward before forward");
    bool weight_grads = !m->freeze_vision;
    if (!weight_grads && !want_dpixels) return CT_OK;
    ct_params *P = m->params;
    const ct_clip_tower_config *v = &m->cfg.vision;
    int B = a->B, T = a->T, D = a->D, BT = B * T;
    size_t nd = (size_t)BT * D * sizeof(float);
    ct_clip_encoder_grads *g = &a->g;
    if (d_last_hidden)
        memcpy(g->dx, d_last_hidden, nd);
    else
        memset(g->dx, 0, nd);
    if (d_embeds) {
        memset(a->dpooled, 0, (size_t)B * D * sizeof(float));
        linear_backward(a->dpooled, G(m->vis.proj), NULL, d_embeds, a->pooled, W(m->vis.proj), B, D, a->P);
        memset(g->dt, 0, (size_t)B * D * sizeof(float));
        layernorm_backward(g->dt, G(m->vis.post_w), G(m->vis.post_b), a->dpooled, a->cls, W(m->vis.post_w),
                           a->post_mean, a->post_rstd, B, D);
        for (int b = 0; b < B; b++)
            residual_forward(g->dx + (size_t)b * T * D, g->dx + (size_t)b * T * D, g->dt + (size_t)b * D, (size_t)D);
    }
    clip_encoder_backward(P, m->vis.layers, v, a->layers, g, a->hidden0, B, T, false, weight_grads, a->recompute);
    memset(g->dt, 0, nd);
    layernorm_backward(g->dt, G(m->vis.pre_w), G(m->vis.pre_b), g->dx, a->embeddings, W(m->vis.pre_w), a->pre_mean,
                       a->pre_rstd, BT, D);
    memset(a->dpatches, 0, (size_t)B * (T - 1) * D * sizeof(float));
    class_pos_embed_backward(a->dpatches, G(m->vis.class_emb), G(m->vis.pos_emb), g->dt, B, T, D);
    float *dpix = NULL;
    if (want_dpixels) {
        dpix = a->dpixels;
        memset(dpix, 0, (size_t)B * v->num_channels * v->image_size * v->image_size * sizeof(float));
    }
    patch_embed_backward(dpix, G(m->vis.patch_w), a->dpatches, a->cols, W(m->vis.patch_w), a->dcols, B, v->num_channels,
                         v->image_size, v->patch_size, D);
    return CT_OK;
}
