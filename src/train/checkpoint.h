/* Training checkpoints (docs/formats.md section 1): the model folder plus trainer_state.json
 * and optimizer.safetensors, written atomically, in run folders guarded by a lock. */
#ifndef CTCIR_TRAIN_CHECKPOINT_H
#define CTCIR_TRAIN_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/dataset.h"
#include "model/model.h"

#define CT_RUN_ID_MAX 40

typedef struct {
    int64_t step;               /* steps completed */
    ct_sampler_state sampler;   /* the data stream right after the last step's batch */
    char run_id[CT_RUN_ID_MAX]; /* which run wrote it ("" in checkpoints older than run ids) */
    bool has_best;              /* a validation has chosen a best checkpoint */
    int64_t best_step;
    double best_value;
    char best_metric[64];
} ct_trainer_state;

/* The largest step a checkpoint may claim (exactly representable in a JSON number). */
#define CT_MAX_STEP ((int64_t)1 << 53)

ct_status ct_checkpoint_save(const ct_model *m, const ct_trainer_state *st, const char *config_json, const char *dir);
/* Reads trainer_state.json only (every number range-checked). */
ct_status ct_checkpoint_read_state(ct_trainer_state *st, const char *dir);
/* Reads trainer_state.json and the moments (m->params.m/v must be allocated). The weights
 * come with ct_model_load of the same folder. */
ct_status ct_checkpoint_load_state(ct_model *m, ct_trainer_state *st, const char *dir);
/* `dir` itself if it is a checkpoint; else the checkpoint dir/last points at, when it holds a
 * trainer_state.json; else dir's checkpoint-* folder with the highest step. */
ct_status ct_checkpoint_find_latest(const char *dir, char *out, size_t cap);
/* The folder name of step's checkpoint: "checkpoint-<step>" (as Hugging Face names them). */
void ct_checkpoint_name(char *buf, size_t cap, int64_t step);
/* The step of a checkpoint folder name ("checkpoint-12", or the older "checkpoint-00000012");
 * false for anything else (temporaries included). */
bool ct_checkpoint_parse_name(const char *name, int64_t *step);
/* Keeps the newest `keep` checkpoint-* folders of `dir` that run `run_id` wrote (with
 * include_legacy, also those without a run id); never removes `protect` (a folder name, or
 * NULL). Checkpoints of other runs are left alone. */
ct_status ct_checkpoint_prune(const char *dir, int keep, const char *run_id, bool include_legacy, const char *protect);
/* Points dir/<link> ("last", "best") at dir/name (a relative symlink, replaced atomically). */
ct_status ct_checkpoint_link(const char *dir, const char *link, const char *name);
/* True when dir holds (part of) a training run: checkpoints, last/best, or logged steps. */
bool ct_checkpoint_dir_has_run(const char *dir);
/* For --force: removes the run that dir holds (its checkpoint-* folders, last, best,
 * metrics.jsonl, train_config.json), saying how many checkpoints went. */
ct_status ct_checkpoint_remove_run(const char *dir);
/* Removes "<name>.tmp-<pid>" leftovers in dir whose process is gone (a crash mid-save). */
void ct_checkpoint_clean_stale(const char *dir);
/* Takes an exclusive lock on dir/.lock (flock; released when *fd is closed). Fails naming
 * the pid holding it. */
ct_status ct_checkpoint_lock(const char *dir, int *fd);

#endif
