/* Embedding many images at once, the pipeline behind `ctcir index` and `ctcir eval`:
 *
 *   - a gallery: which images, from --images DIR, --list FILE (or "-" for stdin) or a
 *     dataset's split (ct_gallery_from_*);
 *   - ct_embed_run: the gallery (target mode) or (image, text) queries embedded batch by
 *     batch, with the next batch decoding in background threads while the model encodes the
 *     current one; results go to a sink callback.
 *
 *     ct_gallery g;  ct_gallery_from_dir(&g, "images/");
 *     ct_embed_job job = {(const char *const *)g.paths, NULL, NULL, g.n, 32, 1, "index"};
 *     ct_embed_run(model, &job, my_sink, my_ctx, NULL, NULL);
 *     ct_gallery_free(&g);
 */
#ifndef CTCIR_EMBED_H
#define CTCIR_EMBED_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/dataset.h"
#include "ctcir/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* rows [n]: which items of the job these embeddings [n,P] belong to. */
typedef ct_status (*ct_embed_sink)(void *ctx, const int64_t *rows, int n, const float *emb);

typedef struct {
    const char *const *paths; /* image per item */
    const char *const *texts; /* caption per item: query embeddings; NULL: target embeddings */
    const int64_t *rows;      /* the items to embed (NULL: 0 .. n_rows-1) */
    int64_t n_rows;
    int batch;         /* model batch (default 32) */
    int threads;       /* decoding threads (default 1) */
    const char *label; /* progress label ("index", "queries", ...); NULL: quiet */
} ct_embed_job;

typedef struct {
    double seconds, decode_seconds, wait_seconds;
    int64_t done;
} ct_embed_stats;

/* Runs the job; stops at the first unreadable image (its path is in the message), or when
 * `*stop` becomes true (checked between batches; may be NULL). */
ct_status ct_embed_run(const ct_model *m, const ct_embed_job *job, ct_embed_sink sink, void *ctx,
                       const volatile int *stop, ct_embed_stats *stats);

typedef struct {
    int64_t n;
    char **names; /* without extension */
    char **paths;
    ct_dataset *ds; /* set when the gallery came from a dataset (owns names/paths then) */
} ct_gallery;

/* Every image file below dir (recursive, sorted by relative path); names are the relative
 * paths without extension. */
ct_status ct_gallery_from_dir(ct_gallery *g, const char *dir);
/* One path per line; relative paths are resolved against the list file's folder (file "-":
 * read stdin, paths relative to the working folder); names are the paths as written,
 * without extension. */
ct_status ct_gallery_from_list(ct_gallery *g, const char *file);
/* A dataset's gallery (no image check). */
ct_status ct_gallery_from_dataset(ct_gallery *g, const char *kind, const char *root, const char *split,
                                  const char *category);
void ct_gallery_free(ct_gallery *g);

#ifdef __cplusplus
}
#endif
#endif
