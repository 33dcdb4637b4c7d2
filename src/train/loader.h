/* Background batch loading for training: a thread draws the next batch's records from the
 * sampler, tokenizes captions and phrases, and decodes + preprocesses the images (with
 * `threads` workers) while the model computes the current batch. */
#ifndef CTCIR_TRAIN_LOADER_H
#define CTCIR_TRAIN_LOADER_H

#include "ctcir/dataset.h"
#include "train/train_step.h"

typedef struct ct_loader ct_loader;

/* One training record: what a batch row is built from. */
typedef struct {
    const char *ref_path, *tgt_path, *caption;
    const char *const *nps; /* NULL: use the noun-phrase extractor */
    int n_nps;
    const char *where; /* dataset name, for messages */
    int64_t index;     /* record index, for messages */
} ct_record;

typedef struct {
    double wait_s;   /* time the trainer waited for batches */
    double load_s;   /* time spent loading batches (in the background) */
    int64_t skipped; /* records skipped for unreadable images or unusable text */
} ct_loader_stats;

/* `sources[i]` holds counts[i] records. The sampler is owned by the loader from now on. */
ct_status ct_loader_new(ct_loader **out, const ct_model *m, ct_record **sources, const int64_t *counts,
                        ct_sampler *sampler, int batch_size, int threads, bool strict);
void ct_loader_free(ct_loader *l);
/* Starts loading the next batch in the background. */
void ct_loader_start(ct_loader *l);
/* Waits for the batch started last; *state is the sampler state after drawing it. */
ct_status ct_loader_wait(ct_loader *l, const ct_batch **batch, ct_sampler_state *state);
void ct_loader_get_stats(const ct_loader *l, ct_loader_stats *st);

#endif
