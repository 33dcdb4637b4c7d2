/* The model's insides, shared by the encoder, the training step and the CLI. */
#ifndef CTCIR_MODEL_MODEL_H
#define CTCIR_MODEL_MODEL_H

#include "clip/clip.h"
#include "ctcir/model.h"
#include "ctcir/tokenizer.h"
#include "model/fusion.h"
#include "model/options.h"
#include "model/pool.h"

struct ct_model {
    ct_cir_options opt;
    ct_params params; /* CLIP tensors first, then the head */
    ct_clip clip;
    ct_fusion fusion;
    ct_pool pool;
    int first_head_param; /* entries [first_head_param, count) are the head */
    ct_tokenizer *tok;
    int Nv, dv, dt, P, S, T;
    int64_t empty_ids[CT_CONTEXT_LENGTH]; /* <|startoftext|><|endoftext|> 0 ... */
    char *config_json;                    /* the HF config.json text the model came with */
    char *vocab, *merges;                 /* the tokenizer files' bytes, read at load: every save copies them
                             * from memory, so the folder loaded from may go away (pruning) */
    size_t vocab_len, merges_len;
    char *preprocessor_json; /* preprocessor_config.json as loaded (NULL: none; one is written) */
    int pre_size;            /* image preprocessing: resize short side to pre_size, crop S */
    float pre_mean[3], pre_std[3];
    char identity[96];
};

/* Marks which tensors have a path to the training loss under the current options
 * (text_projection and logit_scale never do; post_layernorm and visual_projection only
 * under target_mode clip) and applies freezing. */
void ct_model_mark_used(ct_model *m, bool freeze_vision, bool freeze_text);

/* Position of the first end-of-text token (argmax of the ids, as CLIP pools). */
int ct_eot_index(const int64_t *ids, int T);

/* A model with random weights for a CLIP config file (CLIP's own initialisation, seeded; the
 * head as in ct_model_load) and no files besides that config: no vocabulary (m->tok NULL,
 * ct_model_tokenize fails; texts are given as ids), for benchmarks. options NULL: defaults. */
ct_status ct_model_synthetic(ct_model **out, const char *clip_config_path, const ct_cir_options *options,
                             uint64_t seed);

/* Writes config.json, model.safetensors, vocab.json, merges.txt, preprocessor_config.json
 * into an existing folder. */
ct_status ct_model_write_files(const ct_model *m, const char *dir);
ct_status ct_model_save_weights(const ct_model *m, const char *path);
/* Adds every tensor of the table to a safetensors writer, read from `block` (the params,
 * gradients or a moment; referenced, not copied), named prefix + HF name. */
typedef struct ct_st_writer ct_st_writer;
ct_status ct_params_add_block(ct_st_writer *w, const ct_params *p, const float *block, const char *prefix);

/* Text passes run over the shortest context that holds every end-of-text token of the batch
 * (the causal tower makes earlier positions independent of later ones, and keys after the
 * end-of-text token are masked in the fusion). Copies the first Tn = max(eot+1) ids of each of
 * n rows of 77 into dst [n,Tn], sets key_len[b] = eot_b + 1 (when not NULL), returns Tn. */
int ct_pack_ids(int64_t *dst, int *key_len, const int64_t *src, int n);

/* Recomputes the identity string from the current weights. */
void ct_model_update_identity(ct_model *m);

#endif
