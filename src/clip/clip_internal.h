/* Shared by the two towers: the activation plan and the pre-LN encoder stack. */
#ifndef CTCIR_CLIP_INTERNAL_H
#define CTCIR_CLIP_INTERNAL_H

#include "clip/clip.h"
#include "core/plan.h"

/* Plans the per-layer buffers (one layer's scratch shared by all when !training or
 * recompute; `out` is always per layer) and, when training, the encoder's backward scratch. */
void clip_plan_encoder(ct_plan *p, ct_clip_layer_acts *layers, ct_clip_encoder_grads *g, const ct_clip_tower_config *t,
                       int B, int T, bool training, bool recompute);
/* Plans a tower's activations twice over one block (see core/plan.h): measure, allocate
 * (logging the size), bind. `layout` is the tower's layout function, `acts` its struct. */
typedef void (*clip_layout_fn)(ct_plan *p, void *acts, const ct_clip_config *cfg, int B, bool training);
/* Allocates the tower's layer table (*layers, n_layers + 1 entries), then measures and binds
 * the layout in one block (*mem, *bytes). On failure nothing stays allocated. */
ct_status clip_plan_build(clip_layout_fn layout, void *acts, const ct_clip_config *cfg, int B, bool training,
                          const char *what, ct_clip_layer_acts **layers, int n_layers, float **mem, size_t *bytes);

/* The bytes clip_plan_build would allocate, measured with a temporary layer table. */
size_t clip_plan_measure(clip_layout_fn layout, void *acts, const ct_clip_config *cfg, int B, bool training,
                         ct_clip_layer_acts **layers, int n_layers);

void clip_encoder_forward(const ct_params *P, const ct_clip_layer *layers, const ct_clip_tower_config *t,
                          ct_clip_layer_acts *acts, const float *x0, int B, int T, bool causal);
/* g->dx holds d(last layer's out) on entry and d(x0) on exit. recompute: the layers share
 * one scratch (planned so) and each layer's forward runs again before its backward. */
void clip_encoder_backward(ct_params *P, const ct_clip_layer *layers, const ct_clip_tower_config *t,
                           ct_clip_layer_acts *acts, ct_clip_encoder_grads *g, const float *x0, int B, int T,
                           bool causal, bool weight_grads, bool recompute);

#endif
