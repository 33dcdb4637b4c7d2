/* The pre-LN transformer encoder both CLIP towers share:
 *   x = x + out_proj(attn(layer_norm1(x)));  x = x + fc2(act(fc1(layer_norm2(x)))) */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip_internal.h"
#include "ctcir/log.h"
#include "nn/nn.h"

void clip_plan_encoder(ct_plan *p, ct_clip_layer_acts *layers, ct_clip_encoder_grads *g, const ct_clip_tower_config *t,
                       int B, int T, bool training, bool recompute) {
    size_t BT = (size_t)B * T, D = (size_t)t->hidden_size, F = (size_t)t->intermediate_size;
    size_t nstats = (size_t)B * t->num_heads * T * 2;
    int slots = omp_get_max_threads();
    for (int l = 0; l < t->num_layers; l++) {
        ct_clip_layer_acts *a = &layers[l];
        if (l == 0 || (training && !recompute)) {
            a->ln1 = ct_plan_take(p, BT * D);
            a->ln1_mean = ct_plan_take(p, BT);
            a->ln1_rstd = ct_plan_take(p, BT);
            a->q = ct_plan_take(p, BT * D);
            a->k = ct_plan_take(p, BT * D);
            a->v = ct_plan_take(p, BT * D);
            a->att_stats = ct_plan_take(p, nstats);
            a->attn = ct_plan_take(p, BT * D);
            a->res1 = ct_plan_take(p, BT * D);
            a->ln2 = ct_plan_take(p, BT * D);
            a->ln2_mean = ct_plan_take(p, BT);
            a->ln2_rstd = ct_plan_take(p, BT);
            a->fc1 = ct_plan_take(p, BT * F);
            a->act = ct_plan_take(p, BT * F);
            if (l == 0) {
                a->att_slots = slots;
                a->att_scratch = ct_plan_take(p, attention_fused_scratch_floats(T, T, slots));
            } else {
                a->att_slots = layers[0].att_slots;
                a->att_scratch = layers[0].att_scratch;
            }
        } else {
            *a = layers[0];
        }
        a->out = ct_plan_take(p, BT * D);
    }
    memset(g, 0, sizeof *g);
    if (!training) return;
    g->dx = ct_plan_take(p, BT * D);
    g->dt = ct_plan_take(p, BT * D);
    g->dq = ct_plan_take(p, BT * D);
    g->dk = ct_plan_take(p, BT * D);
    g->dv = ct_plan_take(p, BT * D);
    g->df1 = ct_plan_take(p, BT * F);
    g->df2 = ct_plan_take(p, BT * F);
}

ct_status clip_plan_build(clip_layout_fn layout, void *acts, const ct_clip_config *cfg, int B, bool training,
                          const char *what, ct_clip_layer_acts **layers, int n_layers, float **mem, size_t *bytes) {
    *layers = calloc((size_t)n_layers + 1, sizeof **layers);
    if (!*layers) return ct_fail(CT_ERR_NOMEM, "clip: out of memory");
    ct_plan p = {NULL, 0};
    layout(&p, acts, cfg, B, training);
    *bytes = (p.used ? p.used : 16) * sizeof(float);
    *mem = ct_plan_alloc(&p);
    if (!*mem) {
        free(*layers);
        *layers = NULL;
        return ct_fail(CT_ERR_NOMEM, "clip: cannot allocate %.1f MB of %s activations for batch %d", *bytes / 1e6, what,
                       B);
    }
    ct_log(CT_LOG_DEBUG, "clip: %s activations for batch %d (%s): %.1f MB in one block\n", what, B,
           training ? "training" : "inference", *bytes / 1e6);
    layout(&p, acts, cfg, B, training);
    return CT_OK;
}

size_t clip_plan_measure(clip_layout_fn layout, void *acts, const ct_clip_config *cfg, int B, bool training,
                         ct_clip_layer_acts **layers, int n_layers) {
    ct_clip_layer_acts *tmp = calloc((size_t)n_layers + 1, sizeof *tmp);
    if (!tmp) return SIZE_MAX;
    *layers = tmp;
    ct_plan p = {NULL, 0};
    layout(&p, acts, cfg, B, training);
    free(tmp);
    *layers = NULL;
    return (p.used ? p.used : 16) * sizeof(float);
}

#define W(i) (P->param + P->entries[(i)].offset)
#define G(i) (weight_grads ? P->grad + P->entries[(i)].offset : NULL)

/* One layer: x [BT,D] -> a->out, filling every saved activation of a. */
static void layer_forward(const ct_params *P, const ct_clip_layer *L, const ct_clip_tower_config *t,
                          ct_clip_layer_acts *a, const float *x, int B, int T, bool causal) {
    int BT = B * T, D = t->hidden_size, F = t->intermediate_size, NH = t->num_heads;
    float eps = t->layer_norm_eps, scale = 1.0f / sqrtf((float)(D / NH));
    layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, W(L->ln1_w), W(L->ln1_b), BT, D, eps);
    linear_forward(a->q, a->ln1, W(L->q_w), W(L->q_b), BT, D, D);
    linear_forward(a->k, a->ln1, W(L->k_w), W(L->k_b), BT, D, D);
    linear_forward(a->v, a->ln1, W(L->v_w), W(L->v_b), BT, D, D);
    attention_fused_forward(a->attn, a->att_stats, a->q, a->k, a->v, NULL, causal, scale, B, T, T, D, NH,
                            a->att_scratch, a->att_slots);
    linear_forward(a->res1, a->attn, W(L->o_w), W(L->o_b), BT, D, D);
    residual_forward(a->res1, a->res1, x, (size_t)BT * D);
    layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res1, W(L->ln2_w), W(L->ln2_b), BT, D, eps);
    linear_forward(a->fc1, a->ln2, W(L->fc1_w), W(L->fc1_b), BT, D, F);
    if (t->act == CT_ACT_GELU)
        gelu_forward(a->act, a->fc1, (size_t)BT * F);
    else
        quick_gelu_forward(a->act, a->fc1, (size_t)BT * F);
    linear_forward(a->out, a->act, W(L->fc2_w), W(L->fc2_b), BT, F, D);
    residual_forward(a->out, a->out, a->res1, (size_t)BT * D);
}

void clip_encoder_forward(const ct_params *P, const ct_clip_layer *layers, const ct_clip_tower_config *t,
                          ct_clip_layer_acts *acts, const float *x0, int B, int T, bool causal) {
    for (int l = 0; l < t->num_layers; l++)
        layer_forward(P, &layers[l], t, &acts[l], l ? acts[l - 1].out : x0, B, T, causal);
}

void clip_encoder_backward(ct_params *P, const ct_clip_layer *layers, const ct_clip_tower_config *t,
                           ct_clip_layer_acts *acts, ct_clip_encoder_grads *g, const float *x0, int B, int T,
                           bool causal, bool weight_grads, bool recompute) {
    int BT = B * T, D = t->hidden_size, F = t->intermediate_size, NH = t->num_heads;
    size_t nd = (size_t)BT * D * sizeof(float), nf = (size_t)BT * F * sizeof(float);
    float scale = 1.0f / sqrtf((float)(D / NH));
    for (int l = t->num_layers - 1; l >= 0; l--) {
        const ct_clip_layer *L = &layers[l];
        ct_clip_layer_acts *a = &acts[l];
        const float *x = l ? acts[l - 1].out : x0;
        /* The shared scratch still holds the last layer from forward; each layer below runs
         * again from its input (its output is rewritten with the same values). */
        if (recompute && l != t->num_layers - 1) layer_forward(P, L, t, a, x, B, T, causal);
        /* MLP branch; g->dx is d(out) and becomes d(res1) */
        memset(g->df1, 0, nf);
        linear_backward(g->df1, G(L->fc2_w), G(L->fc2_b), g->dx, a->act, W(L->fc2_w), BT, F, D);
        memset(g->df2, 0, nf);
        if (t->act == CT_ACT_GELU)
            gelu_backward(g->df2, g->df1, a->fc1, (size_t)BT * F);
        else
            quick_gelu_backward(g->df2, g->df1, a->fc1, (size_t)BT * F);
        memset(g->dt, 0, nd);
        linear_backward(g->dt, G(L->fc1_w), G(L->fc1_b), g->df2, a->ln2, W(L->fc1_w), BT, D, F);
        layernorm_backward(g->dx, G(L->ln2_w), G(L->ln2_b), g->dt, a->res1, W(L->ln2_w), a->ln2_mean, a->ln2_rstd, BT,
                           D);
        /* attention branch; g->dx becomes d(x) */
        memset(g->dt, 0, nd);
        linear_backward(g->dt, G(L->o_w), G(L->o_b), g->dx, a->attn, W(L->o_w), BT, D, D);
        memset(g->dq, 0, nd);
        memset(g->dk, 0, nd);
        memset(g->dv, 0, nd);
        attention_fused_backward(g->dq, g->dk, g->dv, g->dt, a->att_stats, a->q, a->k, a->v, NULL, causal, scale, B, T,
                                 T, D, NH, a->att_scratch, a->att_slots);
        memset(g->dt, 0, nd);
        linear_backward(g->dt, G(L->q_w), G(L->q_b), g->dq, a->ln1, W(L->q_w), BT, D, D);
        linear_backward(g->dt, G(L->k_w), G(L->k_b), g->dk, a->ln1, W(L->k_w), BT, D, D);
        linear_backward(g->dt, G(L->v_w), G(L->v_b), g->dv, a->ln1, W(L->v_w), BT, D, D);
        layernorm_backward(g->dx, G(L->ln1_w), G(L->ln1_b), g->dt, x, W(L->ln1_w), a->ln1_mean, a->ln1_rstd, BT, D);
    }
}
