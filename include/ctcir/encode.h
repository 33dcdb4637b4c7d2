/* CLIP image and text embeddings of a model folder written to one safetensors file
 * (`ctcir encode`): image_embeds [N,P] and text_embeds [T,P] (projected, not normalised);
 * for a ctcir checkpoint folder also query_embeds f(image i, text i) and target_embeds;
 * optionally every intermediate the parity kit stores and the gradient of a linear loss.
 *
 *     ct_encode_opts o;  ct_encode_opts_default(&o);
 *     const char *imgs[] = {"a.png"}, *texts[] = {"a red cube"};
 *     o.model = "runs/x/last"; o.out = "emb.safetensors";
 *     o.images = imgs; o.n_images = 1; o.texts = texts; o.n_texts = 1;
 *     ct_encode_summary sum;
 *     ct_encode_run(&o, &sum);
 */
#ifndef CTCIR_ENCODE_H
#define CTCIR_ENCODE_H

#include <stdbool.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *model;         /* HF CLIP folder, or a ctcir checkpoint folder */
    const char *out;           /* the safetensors file to write */
    const char *const *images; /* image files, CLIP-preprocessed at the model's size */
    int n_images;
    const char *const *texts; /* texts, tokenized like clip.tokenize */
    int n_texts;
    const char *texts_file;  /* a JSON array of strings, after `texts` (NULL: none) */
    const char *pixels_file; /* input.pixel_values [N,3,S,S] instead of images */
    const char *ids_file;    /* input.input_ids [T,77] instead of texts */
    const char *loss_file;   /* loss.r_image [N,P], loss.r_text [T,P]: also write
                                     * loss.value, grad.<param>, grad.input.pixel_values */
    int batch;               /* images/texts per forward pass (32) */
    bool all;                /* also the intermediates (input.*, vision.*, text.*) */
} ct_encode_opts;

void ct_encode_opts_default(ct_encode_opts *o);

typedef struct {
    int images, texts; /* N, T */
    bool is_ctcir;     /* the folder held a whole ctcir model (query/target embeddings) */
    bool has_loss;
    double loss; /* with loss_file: sum(image_embeds*r_image) + sum(text_embeds*r_text) */
} ct_encode_summary;

/* summary may be NULL. */
ct_status ct_encode_run(const ct_encode_opts *o, ct_encode_summary *summary);

#ifdef __cplusplus
}
#endif
#endif
