/* A randomly initialised CLIP folder in Hugging Face's layout, to train from scratch
 * (`ctcir init`): config.json, model.safetensors, vocab.json + merges.txt (copied from the
 * vocabulary folder) and preprocessor_config.json, written atomically.
 *
 *     ct_init_args a = {"configs/synthetic-tiny-model.json", "vocab/", "runs/tiny", 0, false};
 *     ct_init_info info;
 *     ct_init_folder(&a, &info);   // info.parameters, info.vocab_size
 */
#ifndef CTCIR_INIT_H
#define CTCIR_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *config_path; /* HF-style config; text vocab_size may be "auto"; optional "vocab" */
    const char *vocab_dir;   /* vocab.json + merges.txt; NULL: the config's "vocab" */
    const char *out_dir;     /* created; an existing non-empty folder is replaced only with force */
    uint64_t seed;
    bool force;
} ct_init_args;

typedef struct {
    int64_t parameters; /* weights written */
    int vocab_size;     /* the text tower's vocabulary ("auto" resolved) */
} ct_init_info;

/* info may be NULL. */
ct_status ct_init_folder(const ct_init_args *a, ct_init_info *info);

#ifdef __cplusplus
}
#endif
#endif
