/* The two ConText-CIR losses (docs/model.md sections 5 and 6), each returning its value and
 * ACCUMULATING (+=) the gradients of its inputs, like every backward kernel (nn/nn.h): the
 * caller zeroes gradient buffers once. Computed in double. */
#ifndef CTCIR_MODEL_LOSS_H
#define CTCIR_MODEL_LOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/options.h"

/* Contrastive loss with query negatives.
 * q [B,P] query embeddings f(I_q, T); t [B,P] target embeddings; qn [B,P] query-negative
 * embeddings f(I_q, " ") (ignored, may be NULL, when mode is none).
 * Cosine similarities / tau; mean over the batch; with `symmetric` the mean of both
 * directions (the target-to-query direction has no query negatives).
 * dq, dt, dqn (same shapes, may be NULL) accumulate d loss / d input. */
double ct_contrastive_loss(float *dq, float *dt, float *dqn, const float *q, const float *t, const float *qn, int B,
                           int P, double tau, ct_query_negatives mode, bool symmetric);
/* The same with caller-provided scratch of ct_contrastive_work_size(B, P) doubles (the
 * training step's; the plain form allocates its own). */
size_t ct_contrastive_work_size(int B, int P);
double ct_contrastive_loss_ws(float *dq, float *dt, float *dqn, const float *q, const float *t, const float *qn, int B,
                              int P, double tau, ct_query_negatives mode, bool symmetric, double *work);

/* One matched noun phrase of the concept-consistency loss. */
typedef struct {
    int sample;     /* which caption (row of map_ctx) */
    int start, end; /* token span [start, end) in the caption's ids */
    int iso_len;    /* core tokens of the phrase alone: positions 1..iso_len of its own ids */
} ct_cc_phrase;

/* First exact match of ph[0..ph_len) inside cap[1..eot) (between the caption's start and end
 * tokens); returns the start position or -1. */
int ct_cc_find_span(const int32_t *cap, int eot, const int32_t *ph, int ph_len);

/* Concept-consistency loss over M phrases of this call, normalised by n_total (all matched
 * phrases of the whole batch, so micro-batches add up to the batch mean).
 * map_ctx [B,Nv,Tc]: Abar of the captions; map_iso [M,Nv,Ti]: Abar of each phrase's isolated
 * pass. Returns sum_m loss_m / n_total. grad_scale * d(returned value)/d map is ACCUMULATED
 * (+=) into dmap_ctx [B,Nv,Tc] and dmap_iso [M,Nv,Ti] (either may be NULL), like every
 * backward in ctcir, so groups of phrases can add up into the same caption maps. */
double ct_cc_loss(float *dmap_ctx, float *dmap_iso, const float *map_ctx, const float *map_iso, const ct_cc_phrase *ph,
                  int M, int B, int Nv, int Tc, int Ti, int n_total, const ct_cir_options *o, double grad_scale);
/* The same with caller-provided scratch of 4 (Nv - 1) doubles. */
double ct_cc_loss_ws(float *dmap_ctx, float *dmap_iso, const float *map_ctx, const float *map_iso,
                     const ct_cc_phrase *ph, int M, int B, int Nv, int Tc, int Ti, int n_total, const ct_cir_options *o,
                     double grad_scale, double *work);

#endif
