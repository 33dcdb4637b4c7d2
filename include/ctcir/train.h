/* Training a ConText-CIR model as a library call (docs/model.md section 7, docs/formats.md
 * section 1). `ctcir train` is this plus flag parsing:
 *
 *     ct_train_config cfg;  ct_train_config_default(&cfg);
 *     ct_train_config_load(&cfg, "configs/synthetic-tiny.json");   // optional
 *     ct_train_config_set(&cfg, "batch_size=32");                  // flags, --set
 *     ct_train_run run = {.out_dir = "runs/x"};
 *     ct_trainer *t;
 *     if (ct_trainer_open(&t, &cfg, &run) == CT_OK) {
 *         bool done = false;
 *         while (!done && (s = ct_trainer_step(t, &done)) == CT_OK) {}
 *         s = ct_trainer_close(t, s);   // saves an emergency checkpoint after a failure
 *     }
 *
 * or simply ct_train(&cfg, &run), which does exactly that. */
#ifndef CTCIR_TRAIN_H
#define CTCIR_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/options.h"
#include "ctcir/runtime.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_MAX_DATASETS   8
#define CT_MAX_MODEL_KEYS 64

/* Activation recomputation in the CLIP towers (docs/memory.md): auto turns it on when the
 * planned activations would not fit in the available memory. */
typedef enum { CT_RECOMPUTE_AUTO = 0, CT_RECOMPUTE_ON, CT_RECOMPUTE_OFF } ct_recompute;
/* "auto", "on", "off" -> *out (a usage error naming `where` otherwise). */
ct_status ct_recompute_parse(const char *s, const char *where, ct_recompute *out);
const char *ct_recompute_name(ct_recompute r);

typedef struct {
    double lr_max, lr_min; /* 2e-5, 2e-7 */
    int64_t warmup;        /* 500 linear warm-up steps */
    int64_t cycle;         /* 2500: first cosine cycle */
    double cycle_mult;     /* 2: each next cycle this much longer */
} ct_lr_schedule;

typedef struct {
    double beta1, beta2, eps, weight_decay; /* 0.9, 0.98, 1e-8, 1e-2 */
    double max_grad_norm;                   /* 1.0; <= 0 disables clipping */
} ct_adamw;

typedef struct {
    char *kind;       /* "manifest", "cirr", "cirr_r", "circo", "lasco", "hotel_cir", "fashioniq" */
    char *path;       /* manifest file, or the dataset root */
    char *image_root; /* manifest: folder the image paths are relative to */
    char *split;      /* dataset split ("train"; "val" for validation sets) */
    double weight;    /* sampling weight in a mixture (unused for validation) */
} ct_data_source;

typedef struct {
    ct_cir_options model;                /* model options for a plain CLIP start */
    bool model_keys_given;               /* the config file or --set named some model option */
    char *model_keys[CT_MAX_MODEL_KEYS]; /* those assignments, "key=value", in order given;
                                  * they apply to a ctcir init or resume as well */
    int n_model_keys;
    char *init; /* a CLIP or ctcir folder */
    ct_data_source data[CT_MAX_DATASETS];
    int n_data;
    ct_data_source val[CT_MAX_DATASETS]; /* validation sets ("val"); only the first is used */
    int n_val;
    int64_t val_every; /* validate every N steps and after the last (0: only after the last) */
    char *val_metric;  /* the eval --json key judging "best" (NULL: the dataset's headline) */
    int batch_size;    /* 256 */
    int micro_batch;   /* 0 = batch_size (no GradCache split) */
    int64_t max_steps; /* 35000 */
    ct_lr_schedule lr; /* 2e-5 -> 2e-7, warm-up 500, cycle 2500 x2 */
    ct_adamw adamw;    /* betas (0.9, 0.98), eps 1e-8, wd 1e-2, clip 1.0 */
    bool shuffle;      /* true */
    bool freeze_vision, freeze_text;
    int64_t checkpoint_every; /* 1000 */
    int keep_checkpoints;     /* 3 */
    int threads;              /* 0 = all cores */
    int loader_threads;       /* 1 */
    ct_precision precision;   /* fp32; bf16: matrix products in bf16 (docs/perf-bf16.md) */
    ct_recompute recompute;   /* auto: activation recomputation in the towers when they would not fit */
    bool strict;              /* a bad record is an error rather than a skip */
} ct_train_config;

void ct_train_config_default(ct_train_config *c);
void ct_train_config_free(ct_train_config *c);
void ct_train_config_free_data(ct_train_config *c);
void ct_train_config_free_val(ct_train_config *c);
/* Reads a JSON config file over the current values. */
ct_status ct_train_config_load(ct_train_config *c, const char *path);
/* key=value for a training key or a model key. */
ct_status ct_train_config_set(ct_train_config *c, const char *assignment);
/* One more data (or validation) source; kind NULL: "manifest"; split NULL: "train"/"val". */
ct_status ct_train_config_add_source(ct_train_config *c, bool validation, const char *kind, const char *path,
                                     const char *image_root, const char *split);
/* A validation set from the command line: "KIND:ROOT:SPLIT" (cirr:datasets/cirr:val) or a
 * manifest path (images under image_root). Replaces any "val" of the config file. */
ct_status ct_train_config_set_val(ct_train_config *c, const char *spec, const char *image_root);
/* Refuses values that cannot train: beta1/beta2 outside [0,1), adam_eps <= 0, lr_min > lr,
 * max_steps < 1, a model option out of its range. CT_ERR_ARG naming the key. */
ct_status ct_train_config_validate(const ct_train_config *c);
/* The whole effective configuration as JSON text, 2-space indented, final newline (caller frees). */
char *ct_train_config_to_json(const ct_train_config *c);
/* For --resume: replaces *c with the configuration saved in the checkpoint that `resume`
 * names (a checkpoint folder or a run folder), so keys not given again keep their saved
 * values. Flags and --config applied afterwards override it (and are then compared). */
ct_status ct_train_config_load_saved(ct_train_config *c, const char *resume);

typedef struct {
    const char *out_dir;          /* required */
    const char *resume;           /* a checkpoint folder, or an out folder holding some */
    const char *dump_first_grads; /* safetensors file for the first step's gradients */
    bool force;                   /* start a new run in an out folder that holds another (deleting it) */
    bool override;                /* resume although the configuration differs from the saved one */
} ct_train_run;

typedef struct ct_trainer ct_trainer;

/* Checks the configuration and the out folder (exclusive lock, no foreign run unless
 * force/resume), loads the model (and on resume its moments and data position), the data,
 * the metrics log. Nothing is created in out_dir before the checks pass. */
ct_status ct_trainer_open(ct_trainer **out, ct_train_config *cfg, const ct_train_run *run);
/* One optimiser step, with its log line, metrics record, periodic validation and
 * checkpoint. *done becomes true after the last step. A SIGINT/SIGTERM (ct_train_request_stop)
 * before the last step saves a checkpoint and returns CT_ERR_INTERRUPTED. */
ct_status ct_trainer_step(ct_trainer *t, bool *done);
/* The last completed step. */
int64_t ct_trainer_current_step(const ct_trainer *t);
/* Frees everything. `status` is how the loop ended: after a failure other than non-finite
 * weights, a checkpoint of the last completed step is saved first (when it has not been).
 * Returns `status` (or the checkpoint's error when status was OK). */
ct_status ct_trainer_close(ct_trainer *t, ct_status status);

/* open, step until done, close. Returns CT_ERR_INTERRUPTED after saving a checkpoint when
 * SIGINT/SIGTERM arrived, CT_ERR_NONFINITE (naming the step and tensor) on a NaN/inf,
 * keeping the last good checkpoint. */
ct_status ct_train(ct_train_config *cfg, const ct_train_run *run);

/* Installs the SIGINT/SIGTERM handler that asks the loop to stop after the current step. */
void ct_train_install_signal_handlers(void);
/* What the handler does: ask the loop to stop after the current step. */
void ct_train_request_stop(void);

#ifdef __cplusplus
}
#endif
#endif
