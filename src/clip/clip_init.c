/* Random CLIP weights for training from scratch, and saving the CLIP tensors.
 *
 * The scheme is openai/CLIP's `initialize_parameters` (model.py), applied to BOTH towers
 * (openai applies it to the text transformer; its vision blocks keep PyTorch defaults, whose
 * scale is close). For a tower of width D, L layers and MLP width F:
 *
 *     token embedding            N(0, 0.02)
 *     text position embedding    N(0, 0.01)
 *     class embedding, vision position embedding   N(0, D^-1/2)    (openai's `scale`)
 *     patch embedding            N(0, (3 p^2)^-1/2)                (fan-in scaled)
 *     q, k, v weights            N(0, attn_std = D^-1/2)
 *     out_proj, fc2 weights      N(0, proj_std = D^-1/2 (2L)^-1/2) (residual branches)
 *     fc1 weights                N(0, fc_std = (2D)^-1/2)
 *     projections [P, D]         N(0, D^-1/2)
 *     LayerNorm                  weight 1, bias 0;  every bias 0
 *     logit_scale                ln(1 / 0.07)
 *
 * One xoshiro stream seeded by `seed` fills the tensors in table order, so the same seed and
 * config give the same bits on every machine. */
#include <math.h>
#include <string.h>

#include "clip/clip.h"
#include "core/rng.h"
#include "ctcir/safetensors.h"

static void fill_normal(ct_params *p, int idx, double std, ct_rng *rng) {
    float *w = ct_param(p, idx);
    for (size_t i = 0; i < p->entries[idx].numel; i++) w[i] = (float)(std * ct_rng_normal(rng));
}

static void fill_const(ct_params *p, int idx, float v) {
    float *w = ct_param(p, idx);
    for (size_t i = 0; i < p->entries[idx].numel; i++) w[i] = v;
}

static void init_layers(ct_params *p, const ct_clip_layer *layers, const ct_clip_tower_config *t, ct_rng *rng) {
    const double D = t->hidden_size, L = t->num_layers;
    const double attn_std = 1.0 / sqrt(D), proj_std = attn_std / sqrt(2.0 * L), fc_std = 1.0 / sqrt(2.0 * D);
    for (int l = 0; l < t->num_layers; l++) {
        const ct_clip_layer *y = &layers[l];
        fill_const(p, y->ln1_w, 1.0f), fill_const(p, y->ln1_b, 0.0f);
        fill_normal(p, y->q_w, attn_std, rng), fill_const(p, y->q_b, 0.0f);
        fill_normal(p, y->k_w, attn_std, rng), fill_const(p, y->k_b, 0.0f);
        fill_normal(p, y->v_w, attn_std, rng), fill_const(p, y->v_b, 0.0f);
        fill_normal(p, y->o_w, proj_std, rng), fill_const(p, y->o_b, 0.0f);
        fill_const(p, y->ln2_w, 1.0f), fill_const(p, y->ln2_b, 0.0f);
        fill_normal(p, y->fc1_w, fc_std, rng), fill_const(p, y->fc1_b, 0.0f);
        fill_normal(p, y->fc2_w, proj_std, rng), fill_const(p, y->fc2_b, 0.0f);
    }
}

ct_status ct_clip_init_random(ct_clip *m, uint64_t seed) {
    ct_params *p = m->params;
    if (!p || !p->param) return ct_fail(CT_ERR_ARG, "clip init: parameters not allocated");
    const ct_clip_tower_config *t = &m->cfg.text, *v = &m->cfg.vision;
    ct_rng rng;
    ct_rng_seed(&rng, seed);
    const double dt = t->hidden_size, dv = v->hidden_size;
    fill_normal(p, m->txt.tok_emb, 0.02, &rng);
    fill_normal(p, m->txt.pos_emb, 0.01, &rng);
    init_layers(p, m->txt.layers, t, &rng);
    fill_const(p, m->txt.final_w, 1.0f), fill_const(p, m->txt.final_b, 0.0f);
    fill_normal(p, m->vis.class_emb, 1.0 / sqrt(dv), &rng);
    fill_normal(p, m->vis.patch_w, 1.0 / sqrt((double)v->num_channels * v->patch_size * v->patch_size), &rng);
    fill_normal(p, m->vis.pos_emb, 1.0 / sqrt(dv), &rng);
    fill_const(p, m->vis.pre_w, 1.0f), fill_const(p, m->vis.pre_b, 0.0f);
    init_layers(p, m->vis.layers, v, &rng);
    fill_const(p, m->vis.post_w, 1.0f), fill_const(p, m->vis.post_b, 0.0f);
    fill_normal(p, m->vis.proj, 1.0 / sqrt(dv), &rng);
    fill_normal(p, m->txt.proj, 1.0 / sqrt(dt), &rng);
    fill_const(p, m->logit_scale, (float)log(1.0 / 0.07));
    return CT_OK;
}

ct_status ct_clip_save_weights(const ct_clip *m, const char *path) {
    const ct_params *p = m->params;
    if (!p || !p->param) return ct_fail(CT_ERR_ARG, "clip: %s: parameters not allocated", path);
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s) return s;
    if ((s = ct_st_writer_meta(w, "format", "pt"))) goto done;
    /* The CLIP tensors are registered contiguously, token embedding first, logit_scale last;
     * a head sharing the table comes after them and is not written. */
    for (int i = m->txt.tok_emb; i <= m->logit_scale && !s; i++) {
        const ct_param_entry *e = &p->entries[i];
        s = ct_st_writer_add(w, e->name, CT_DT_F32, e->ndim, e->shape, ct_param(p, i));
    }
    if (!s) s = ct_st_writer_save(w, path);
done:
    ct_st_writer_free(w);
    return s;
}
