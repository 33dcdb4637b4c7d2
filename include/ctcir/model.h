/* A ConText-CIR model: CLIP towers + fusion + PMA pooling (docs/model.md), loaded
 * from a plain Hugging Face CLIP folder (head initialised from the `seed` option) or from a
 * ctcir checkpoint folder (everything restored).
 *
 *     ct_model *m;   ct_model_load(&m, "ckpt", NULL, NULL, 0);
 *     ct_encoder *e; ct_encoder_new(&e, m, 32);
 *     ct_encode_query(e, pixels, ids, n, out);      // f(I, T)      [n, P]
 *     ct_encode_target(e, pixels, n, out);          // target mode  [n, P]
 */
#ifndef CTCIR_MODEL_H
#define CTCIR_MODEL_H

#include <stdint.h>

#include "ctcir/options.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_model ct_model;
typedef struct ct_encoder ct_encoder;

/* `plain_options` (NULL: the defaults of docs/model.md) applies only when `dir` is a plain CLIP
 * folder; a ctcir folder brings its own. `sets` are "key=value" overrides applied last. */
ct_status ct_model_load(ct_model **out, const char *dir, const ct_cir_options *plain_options, const char *const *sets,
                        int n_sets);
void ct_model_free(ct_model *m);
/* Writes a ctcir folder (config.json with the "ctcir" object, model.safetensors, vocab.json,
 * merges.txt) into `dir`, replacing it atomically (written beside it, then renamed). */
ct_status ct_model_save(const ct_model *m, const char *dir);

int ct_model_image_size(const ct_model *m); /* S of the [3,S,S] input */
int ct_model_embed_dim(const ct_model *m);  /* P */
/* A string that identifies the weights and the target mode (for index files). */
const char *ct_model_identity(const ct_model *m);

/* Tokenizes like clip.tokenize with the model's vocabulary: ids[77]. */
ct_status ct_model_tokenize(const ct_model *m, const char *text, int64_t *ids);
/* Decodes + preprocesses an image file into [3,S,S]. */
ct_status ct_model_load_image(const ct_model *m, const char *path, float *pixels);

/* An encoder for batches of up to max_batch. ct_encoder_new runs the fusion's attention fused
 * (no attention weights kept: the fast path for index, query and eval); an encoder made with
 * ct_encoder_new_with_maps keeps them, so that ct_encoder_last_map can average them. The
 * embeddings are the same floats either way. */
ct_status ct_encoder_new(ct_encoder **out, const ct_model *m, int max_batch);
ct_status ct_encoder_new_with_maps(ct_encoder **out, const ct_model *m, int max_batch);
void ct_encoder_free(ct_encoder *e);
/* pixels [n,3,S,S], ids [n,77] -> out [n,P] (not normalised). n <= max_batch. */
ct_status ct_encode_query(ct_encoder *e, const float *pixels, const int64_t *ids, int n, float *out);
/* The target/gallery embedding in the model's target mode. */
ct_status ct_encode_target(ct_encoder *e, const float *pixels, int n, float *out);
/* After ct_encode_query: the mean fusion attention map Abar [n, Nv, T] of the last call, where
 * T is the longest caption's length in tokens (start and end tokens included): column t is
 * token t of each caption. NULL for an encoder made without maps (ct_encoder_new). */
const float *ct_encoder_last_map(const ct_encoder *e, int *Nv, int *T);

#ifdef __cplusplus
}
#endif
#endif
