/* The training loop: data, steps, logging, checkpoints, resume. */
#ifndef CTCIR_TRAIN_TRAINER_H
#define CTCIR_TRAIN_TRAINER_H

#include "train/train_config.h"

typedef struct {
    const char *out_dir;          /* required */
    const char *resume;           /* a checkpoint folder, or an out folder holding some */
    const char *dump_first_grads; /* safetensors file for the first step's gradients */
    const char *const *model_sets;/* "key=value" model overrides (also applied to a ctcir init) */
    int n_model_sets;
} ct_train_run;

/* Runs training. Returns CT_ERR_INTERRUPTED after saving a checkpoint when SIGINT/SIGTERM
 * arrived, CT_ERR_NONFINITE (naming the step and tensor) on a NaN/inf, keeping the last
 * good checkpoint. */
ct_status ct_train(ct_train_config *cfg, const ct_train_run *run);

/* Installs the SIGINT/SIGTERM handler that asks the loop to stop after the current step. */
void ct_train_install_signal_handlers(void);

#endif
