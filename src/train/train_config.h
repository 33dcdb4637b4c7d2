/* Training options (docs/model.md section 7) and where the data comes from. A training config is
 * one flat JSON object: these keys plus, optionally, the model options of cir/options.h
 * (which apply when training starts from a plain CLIP folder). `--set key=value` and the
 * command-line flags override both. */
#ifndef CTCIR_TRAIN_TRAIN_CONFIG_H
#define CTCIR_TRAIN_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/blas.h"
#include "model/options.h"
#include "train/optim.h"
#include "train/train_step.h"

#define CT_MAX_DATASETS 8

typedef struct {
    char *kind;        /* "manifest", "cirr", "cirr_r", "lasco", "hotel_cir", "fashioniq" */
    char *path;        /* manifest file, or the dataset root */
    char *image_root;  /* manifest: folder the image paths are relative to */
    char *split;       /* dataset split ("train") */
    double weight;     /* sampling weight in a mixture */
} ct_data_source;

typedef struct {
    ct_cir_options model;        /* model options for a plain CLIP start */
    bool model_keys_given;       /* the config file named some model option */
    char *init;                  /* a CLIP or ctcir folder */
    ct_data_source data[CT_MAX_DATASETS];
    int n_data;
    int batch_size;              /* 256 */
    int micro_batch;             /* 0 = batch_size (no GradCache split) */
    int64_t max_steps;           /* 35000 */
    ct_lr_schedule lr;           /* 2e-5 -> 2e-7, warm-up 500, cycle 2500 x2 */
    ct_adamw adamw;              /* betas (0.9, 0.98), eps 1e-8, wd 1e-2, clip 1.0 */
    bool shuffle;                /* true */
    bool freeze_vision, freeze_text;
    int64_t checkpoint_every;    /* 1000 */
    int keep_checkpoints;        /* 3 */
    int threads;                 /* 0 = all cores */
    int loader_threads;          /* 1 */
    ct_precision precision;      /* fp32; bf16: matrix products in bf16 (docs/perf-bf16.md) */
    bool strict;                 /* a bad record is an error rather than a skip */
    ct_recompute recompute;      /* auto: activation recomputation in the towers when they would not fit */
} ct_train_config;

void ct_train_config_default(ct_train_config *c);
void ct_train_config_free(ct_train_config *c);
void ct_train_config_free_data(ct_train_config *c);
/* Reads a JSON config file over the current values. */
ct_status ct_train_config_load(ct_train_config *c, const char *path);
/* key=value for a training key or a model key. */
ct_status ct_train_config_set(ct_train_config *c, const char *assignment);
/* The whole effective configuration as JSON text (caller frees). */
char *ct_train_config_to_json(const ct_train_config *c);

#endif
