/* CLIP image and text towers exactly as Hugging Face's CLIPVisionModel / CLIPTextModel
 * compute them (the parity kit that tests/test_clip_parity.c reads), forward and hand-written backward.
 *
 * Life cycle:
 *   ct_clip_config cfg;  ct_clip_config_load(&cfg, "dir/config.json");
 *   ct_clip m;           ct_clip_register(&m, &cfg, params);   (adds HF-named tensors)
 *   ct_params_alloc(params); ct_clip_load_weights(&m, "dir/model.safetensors");
 * or ct_clip_load(&m, dir) which does all of it with a parameter table of its own.
 * The head (ConText-CIR) registers its own tensors in the same table after the towers.
 *
 * Activations are planned once per batch size: ct_clip_vision_acts_new(&a, &m, B, training)
 * makes ONE allocation laid out by a plan (offsets), logs its size, and forward/backward
 * never allocate. Any batch b <= B can then run. training = false shares one layer's
 * scratch between all layers (hidden states of every layer are still kept) and plans no
 * backward buffers. */
#ifndef CTCIR_CLIP_CLIP_H
#define CTCIR_CLIP_CLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/params.h"
#include "ctcir/status.h"

typedef enum { CT_ACT_QUICK_GELU, CT_ACT_GELU } ct_act;

typedef struct {
    int hidden_size, intermediate_size, num_layers, num_heads, projection_dim;
    ct_act act;
    float layer_norm_eps;
    int vocab_size, max_positions;            /* text only */
    int image_size, patch_size, num_channels; /* vision only */
} ct_clip_tower_config;

typedef struct {
    ct_clip_tower_config text, vision;
    int projection_dim; /* top-level: what visual_projection / text_projection map to */
} ct_clip_config;

/* Defaults of transformers' CLIPConfig / CLIPTextConfig / CLIPVisionConfig. */
void ct_clip_config_defaults(ct_clip_config *cfg);
/* Parses an HF config.json text (`what` names it in messages) with HF's precedence:
 * `text_config_dict` / `vision_config_dict`, when present and not null, replace
 * `text_config` / `vision_config` entirely (plus class defaults); missing keys take the
 * defaults; unknown keys are ignored. hidden_act must be quick_gelu or gelu. */
ct_status ct_clip_config_parse(ct_clip_config *cfg, const char *json, const char *what);
ct_status ct_clip_config_load(ct_clip_config *cfg, const char *path);
/* Number of learnable scalars of CLIPModel (logit_scale included; position_ids excluded). */
size_t ct_clip_param_count(const ct_clip_config *cfg);
/* Vision tokens: (image_size / patch_size)^2 + 1. */
int ct_clip_vision_tokens(const ct_clip_config *cfg);

/* Indices into the parameter table of one encoder layer. */
typedef struct {
    int ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} ct_clip_layer;

typedef struct {
    ct_clip_config cfg;
    ct_params *params; /* the table the indices refer to */
    bool owns_params;  /* ct_clip_load made the table (freed by ct_clip_free) */
    struct {
        int class_emb, patch_w, pos_emb, pre_w, pre_b, post_w, post_b, proj;
        ct_clip_layer *layers;
    } vis;
    struct {
        int tok_emb, pos_emb, final_w, final_b, proj;
        ct_clip_layer *layers;
    } txt;
    int logit_scale;
    bool freeze_vision, freeze_text; /* backward skips the tower's weight gradients */
} ct_clip;

/* Adds every CLIPModel tensor, with its HF name, to `params` (not yet allocated). */
ct_status ct_clip_register(ct_clip *m, const ct_clip_config *cfg, ct_params *params);
/* Loads model.safetensors into the registered tensors. Every missing tensor, unexpected
 * tensor, shape mismatch and tensor holding NaN or Inf is named in one error. Legacy I64 `*.position_ids` are
 * ignored; F16/BF16/F64 are converted to F32. */
ct_status ct_clip_load_weights(ct_clip *m, const char *path);
/* Refuses, before anything is allocated, a model.safetensors at path too small to hold the
 * parameters cfg describes (at least 2 bytes each): a hostile or mistaken config.json then
 * fails with both sizes named instead of allocating what it asks for. A file that cannot be
 * stat'ed passes (opening it reports the error). */
ct_status ct_clip_check_weights_size(const ct_clip_config *cfg, const char *path);
/* config.json + model.safetensors of an HF folder, into a table owned by m. */
ct_status ct_clip_load(ct_clip *m, const char *dir);
void ct_clip_free(ct_clip *m); /* NULL-safe; frees the table only if m owns it */

/* Random weights for training from scratch: openai CLIP's initialize_parameters applied to
 * both towers (the scheme is spelled out in clip_init.c), one seeded stream in table order.
 * The table must be allocated. logit_scale = ln(1/0.07). */
ct_status ct_clip_init_random(ct_clip *m, uint64_t seed);
/* Writes the CLIP tensors (HF names, F32, no head tensors) to a .safetensors file. */
ct_status ct_clip_save_weights(const ct_clip *m, const char *path);
/* An HF config.json text (CLIPConfig with text_config / vision_config) that
 * ct_clip_config_parse reads back to the same config; malloc'd, NULL when out of memory.
 * bos/eos_token_id are written as vocab_size - 2 / - 1 (CLIP's convention). */
char *ct_clip_config_to_json(const ct_clip_config *cfg);

typedef struct {
    const char *config_path; /* HF-style config; text vocab_size may be "auto"; optional "vocab" */
    const char *vocab_dir;   /* vocab.json + merges.txt; NULL: the config's "vocab" */
    const char *out_dir;     /* created (replaced only with force) */
    uint64_t seed;
    bool force;
} ct_clip_init_args;

/* Writes a randomly initialised CLIP folder (config.json, model.safetensors, vocab.json,
 * merges.txt, preprocessor_config.json) atomically. "auto" vocab_size becomes the
 * vocabulary's size (max id + 1). cfg_out (optional) receives the config used. */
ct_status ct_clip_init_folder(const ct_clip_init_args *a, ct_clip_config *cfg_out);

/* Saved activations of one encoder layer (x_in is the previous layer's out). */
typedef struct {
    float *ln1, *ln1_mean, *ln1_rstd; /* [BT,D], [BT], [BT] */
    float *q, *k, *v;                 /* [BT,D] */
    float *att_stats;                 /* [B,NH,T,2] softmax row max and exp-sum (fused attention) */
    float *att_scratch;               /* fused attention's per-thread scratch, shared by all layers */
    int att_slots;                    /* its slots: threads the attention kernels may use */
    float *attn;                      /* [BT,D] attention output before out_proj */
    float *res1;                      /* [BT,D] x_in + out_proj(attn) */
    float *ln2, *ln2_mean, *ln2_rstd;
    float *fc1, *act; /* [BT,F] pre- and post-activation */
    float *out;       /* [BT,D] layer output = hidden_states[l+1] */
} ct_clip_layer_acts;

/* Backward scratch of the encoder (shared by both towers' code). */
typedef struct {
    float *dx, *dt, *dq, *dk, *dv, *df1, *df2;
} ct_clip_encoder_grads;

typedef struct {
    int B_cap, B, T, D, P; /* planned batch, current batch, tokens, width, projection */
    bool training;
    bool recompute; /* training plan keeps only each layer's output (see ct_clip_acts_opts) */
    size_t bytes;
    float *mem;
    const float *pixels;                  /* [B,3,S,S] input of the last forward (caller's memory) */
    float *cols;                          /* im2col [B*(T-1), 3*p*p] */
    float *patches;                       /* [B,T-1,D] */
    float *embeddings;                    /* [B,T,D] vision.embeddings */
    float *hidden0, *pre_mean, *pre_rstd; /* after pre_layrnorm = hidden_states.0 */
    ct_clip_layer_acts *layers;
    float *last_hidden;                          /* [B,T,D] = layers[L-1].out (before post_layernorm) */
    float *cls, *pooled, *post_mean, *post_rstd; /* [B,D] CLS rows, post_layernorm(cls) */
    float *embeds;                               /* [B,P] image_embeds */
    /* training only */
    ct_clip_encoder_grads g;
    float *dpooled, *dpatches, *dcols;
    float *dpixels; /* [B,3,S,S]: d loss / d pixel_values after backward (if asked) */
} ct_clip_vision_acts;

typedef struct {
    int B_cap, B, T, D, P; /* T: positions of the last forward (<= T_cap) */
    int T_cap;             /* planned positions = max_position_embeddings */
    bool training;
    bool recompute; /* training plan keeps only each layer's output (see ct_clip_acts_opts) */
    size_t bytes;
    float *mem;
    int *ids;       /* [B,T] copy of the input ids */
    int *eot;       /* [B] argmax(ids) */
    float *hidden0; /* [B,T,D] token + position embedding = hidden_states.0 */
    ct_clip_layer_acts *layers;
    float *last_hidden, *final_mean, *final_rstd; /* final_layer_norm(layers[L-1].out) */
    float *pooled;                                /* [B,D] last_hidden[b, eot[b]] */
    float *embeds;                                /* [B,P] text_embeds */
    /* training only */
    ct_clip_encoder_grads g;
    float *dpooled;
    float *d_inputs_embeds; /* [B,T,D] after backward: d loss / d token_embedding[ids] */
} ct_clip_text_acts;

/* Activation recomputation (per-layer checkpointing) for training plans: with recompute,
 * forward keeps only every encoder layer's output (the next layer's input) and one layer's
 * worth of scratch shared by all layers, as at inference; backward runs each layer's forward
 * again from its input just before that layer's backward. Same kernels, same order: the
 * gradients are bit-identical to the plan without it, for about a third more tower work.
 * ct_clip_*_acts_new plan without it. */
typedef struct {
    bool recompute;
} ct_clip_acts_opts;

ct_status ct_clip_vision_acts_new(ct_clip_vision_acts *a, const ct_clip *m, int B, bool training);
ct_status ct_clip_vision_acts_new_opts(ct_clip_vision_acts *a, const ct_clip *m, int B, bool training,
                                       const ct_clip_acts_opts *o);
/* Bytes the plan would allocate, without allocating (text: T_cap positions). */
size_t ct_clip_vision_acts_bytes(const ct_clip *m, int B, bool training, const ct_clip_acts_opts *o);
size_t ct_clip_text_acts_bytes(const ct_clip *m, int B, bool training, int T_cap, const ct_clip_acts_opts *o);
void ct_clip_vision_acts_free(ct_clip_vision_acts *a);
ct_status ct_clip_text_acts_new(ct_clip_text_acts *a, const ct_clip *m, int B, bool training);
/* The same planned for at most T_cap <= max_positions positions (ct_clip_text_forward_len with
 * T <= T_cap): training on short captions needs a fraction of the 77-position plan. */
ct_status ct_clip_text_acts_new_len(ct_clip_text_acts *a, const ct_clip *m, int B, bool training, int T_cap);
ct_status ct_clip_text_acts_new_opts(ct_clip_text_acts *a, const ct_clip *m, int B, bool training, int T_cap,
                                     const ct_clip_acts_opts *o);
void ct_clip_text_acts_free(ct_clip_text_acts *a);

/* pixels [B,3,S,S] (kept by pointer until backward). Fills every activation above. */
ct_status ct_clip_vision_forward(const ct_clip *m, ct_clip_vision_acts *a, const float *pixels, int B);
/* d_last_hidden [B,T,D] and d_embeds [B,P] may each be NULL. Accumulates weight gradients
 * into the table (unless freeze_vision); want_dpixels fills a->dpixels. */
ct_status ct_clip_vision_backward(const ct_clip *m, ct_clip_vision_acts *a, const float *d_last_hidden,
                                  const float *d_embeds, bool want_dpixels);

/* ids [B,T] (T = max_positions, 0-padded like clip.tokenize); every id < vocab_size. */
ct_status ct_clip_text_forward(const ct_clip *m, ct_clip_text_acts *a, const int64_t *ids, int B);
/* The same over the first T <= max_positions positions only: ids [B,T] (rows of T ids).
 * With CLIP's causal mask, positions before T come out exactly as in the full pass, so a
 * batch whose end-of-text tokens all lie before T needs no more (captions are short). The
 * activations (last_hidden [B,T,D], ...) are then packed with row length T. */
ct_status ct_clip_text_forward_len(const ct_clip *m, ct_clip_text_acts *a, const int64_t *ids, int B, int T);
/* d_last_hidden [B,T,D] (after final LN) and d_embeds [B,P] may each be NULL. Fills
 * a->d_inputs_embeds; accumulates weight grads unless freeze_text. */
ct_status ct_clip_text_backward(const ct_clip *m, ct_clip_text_acts *a, const float *d_last_hidden,
                                const float *d_embeds);

#endif
