/* Embedding many images (gallery, target mode) or many (image, text) queries with the
 * decoding of the next batch running in background threads while the model encodes the
 * current one. Results go to a sink callback, batch by batch. */
#ifndef CTCIR_APP_EMBED_H
#define CTCIR_APP_EMBED_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/model.h"

/* rows [n]: which items of the job these embeddings [n,P] belong to. */
typedef ct_status (*ct_embed_sink)(void *ctx, const int64_t *rows, int n, const float *emb);

typedef struct {
    const char *const *paths;  /* image per item */
    const char *const *texts;  /* caption per item: query embeddings; NULL: target embeddings */
    const int64_t *rows;       /* the items to embed (NULL: 0 .. n_rows-1) */
    int64_t n_rows;
    int batch;                 /* model batch (default 32) */
    int threads;               /* decoding threads (default 1) */
    const char *label;         /* progress label ("index", "queries", ...); NULL: quiet */
} ct_embed_job;

typedef struct {
    double seconds, decode_seconds, wait_seconds;
    int64_t done;
} ct_embed_stats;

/* Runs the job; stops at the first unreadable image (its path is in the message), or when
 * `*stop` becomes true (checked between batches; may be NULL). */
ct_status ct_embed_run(const ct_model *m, const ct_embed_job *job, ct_embed_sink sink, void *ctx,
                       const volatile int *stop, ct_embed_stats *stats);

#endif
