/* AdamW with decoupled weight decay, the learning-rate schedule and gradient clipping
 * (docs/model.md section 7). All are loops over the parameter table.
 *
 * Weight decay applies only to tensors with 2 or more dimensions (weights, the PMA seed,
 * embeddings); biases, LayerNorm parameters and the 0-d logit_scale are not decayed.
 * Frozen tensors and tensors with no path to the loss (`used` false) are not touched. */
#ifndef CTCIR_TRAIN_OPTIM_H
#define CTCIR_TRAIN_OPTIM_H

#include <stdint.h>

#include "core/params.h"
#include "ctcir/train.h" /* ct_lr_schedule, ct_adamw */

/* Learning rate for step t (t = 1 for the first step). Warm-up: lr_max * t / warmup for
 * t <= warmup; then cosine annealing with warm restarts from lr_max down to lr_min. */
double ct_lr_at(const ct_lr_schedule *s, int64_t t);

/* Total 2-norm of the gradients of the trainable tensors (in double). */
double ct_grad_norm(const ct_params *p);

/* Finds the first trainable tensor holding a non-finite gradient; -1 when none. */
int ct_grad_first_nonfinite(const ct_params *p);

/* One step t (from 1): clip by `norm` (the value of ct_grad_norm), decay, moments, update.
 * Returns false when an updated weight came out NaN or infinite (the caller stops). */
bool ct_adamw_step(const ct_adamw *o, ct_params *p, double lr, int64_t t, double norm);

#endif
