/* Training checkpoints (docs/model.md section 8): the model folder plus trainer_state.json and
 * optimizer.safetensors, written atomically. */
#ifndef CTCIR_TRAIN_CHECKPOINT_H
#define CTCIR_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "ctcir/dataset.h"

typedef struct {
    int64_t step;               /* steps completed */
    ct_sampler_state sampler;   /* the data stream right after the last step's batch */
} ct_trainer_state;

ct_status ct_checkpoint_save(const ct_model *m, const ct_trainer_state *st, const char *config_json,
                             const char *dir);
/* Reads trainer_state.json and the moments (m->params.m/v must be allocated). The weights
 * come with ct_model_load of the same folder. */
ct_status ct_checkpoint_load_state(ct_model *m, ct_trainer_state *st, const char *dir);
/* `dir` itself if it is a checkpoint, else its newest checkpoint-* folder. */
ct_status ct_checkpoint_find_latest(const char *dir, char *out, size_t cap);
/* Keeps the newest `keep` checkpoint-* folders of `dir`. */
ct_status ct_checkpoint_prune(const char *dir, int keep);
/* Points dir/last at dir/name (a relative symlink, replaced atomically). */
ct_status ct_checkpoint_link_last(const char *dir, const char *name);

#endif
