/* One ConText-CIR training step: forward, both losses, backward into the gradient block.
 *
 * Large contrastive batches on little memory, GradCache-style: with micro-batch m < n, the
 * query, target and query-negative embeddings of the whole batch are computed first (the
 * activations of each micro-batch are overwritten by the next), the contrastive loss and
 * its embedding gradients are computed over the whole batch, then each micro-batch is run
 * again and back-propagated with its slice of those gradients (plus its phrases' CC loss).
 * The result equals the one-shot batch up to float rounding. With n <= m it is one pass. */
#ifndef CTCIR_TRAIN_TRAIN_STEP_H
#define CTCIR_TRAIN_TRAIN_STEP_H

#include "ctcir/train.h"
#include "model/loss.h"
#include "model/model.h"

typedef struct {
    int n, cap;        /* triplets in the batch, capacity */
    float *ref_pixels; /* [cap,3,S,S] */
    float *tgt_pixels; /* [cap,3,S,S] */
    int64_t *cap_ids;  /* [cap,77] */
    int n_phrases, phrase_cap;
    ct_cc_phrase *phrases; /* matched phrases, sorted by sample */
    int64_t *phrase_ids;   /* [phrase_cap,77] each phrase alone, clip.tokenize'd */
    int unmatched;         /* phrases with no exact match in their caption */
} ct_batch;

ct_status ct_batch_new(ct_batch *b, const ct_model *m, int cap);
void ct_batch_free(ct_batch *b);
void ct_batch_clear(ct_batch *b);
/* Tokenizes `caption` into row `sample` (which must be b->n, the next free row), then
 * tokenizes, cuts to the first max_noun_phrases and matches its phrases (docs/model.md 6.2). */
ct_status ct_batch_add_text(ct_batch *b, const ct_model *m, const char *caption, const char *const *phrases,
                            int n_phrases);

/* The longest caption of the batch in tokens (start and end included). */
int ct_batch_max_text(const ct_batch *b);

typedef struct ct_train_step ct_train_step;

typedef struct {
    double total, cont, cc;
    int matched, unmatched;
} ct_step_losses;

/* Activation recomputation in the CLIP towers (clip.h, ct_clip_acts_opts): on, off, or auto:
 * on when the towers' training activations planned without it would not fit in the memory
 * the system reports available (MemAvailable in /proc/meminfo) less headroom (1 GiB or a
 * tenth of MemTotal, whichever is more) and less the gradients and AdamW moments, which may
 * not be resident yet. Results are bit-identical either way; on costs about a third more
 * tower work. ct_recompute and its parser are public in ctcir/train.h. */
/* MemAvailable and MemTotal in bytes from /proc/meminfo; false where it cannot be read. */
bool ct_mem_available(size_t *avail, size_t *total);

/* max_text: the longest caption in tokens (start and end included) the step will see, at most
 * 77; text activations are planned for it (ct_batch_max_text / the trainer's pre-scan). */
ct_status ct_train_step_new(ct_train_step **out, ct_model *m, int micro_batch, int max_batch, int max_text);
/* The same with recomputation chosen by `rc` (ct_train_step_new: auto). */
ct_status ct_train_step_new_opts(ct_train_step **out, ct_model *m, int micro_batch, int max_batch, int max_text,
                                 ct_recompute rc);
/* Whether the towers recompute their activations in backward (auto resolved). */
bool ct_train_step_recomputes(const ct_train_step *st);
void ct_train_step_free(ct_train_step *st);
/* Zeroes the gradients, then fills them with d(total)/d(param) for this batch. */
ct_status ct_train_step_run(ct_train_step *st, const ct_batch *b, ct_step_losses *out);
/* Bytes planned for activations (logged at start). */
size_t ct_train_step_bytes(const ct_train_step *st);

#endif
