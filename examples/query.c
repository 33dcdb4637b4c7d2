/* A client of the public API only (include/ctcir/): load a model, open a gallery index made
 * by `ctcir index`, encode one (image, text) query and print the k nearest gallery entries.
 *
 *     query MODEL_DIR INDEX IMAGE TEXT [K]
 *
 * Build it against an installed ctcir:  cc query.c $(pkg-config --cflags --libs ctcir) */
#include <stdio.h>
#include <stdlib.h>

#include "ctcir/index.h"
#include "ctcir/model.h"
#include "ctcir/status.h"
#include "ctcir/tokenizer.h"

static int fail(ct_status s) {
    fprintf(stderr, "query: %s\n", ct_error());
    return s ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s MODEL_DIR INDEX IMAGE TEXT [K]\n", argv[0]);
        return 2;
    }
    int k = argc == 6 ? atoi(argv[5]) : 5;
    if (k < 1) k = 1;

    ct_model *model = NULL;
    ct_index *index = NULL;
    ct_encoder *enc = NULL;
    ct_status s = ct_model_load(&model, argv[1], NULL, NULL, 0);
    if (s) return fail(s);
    /* the index must come from this model: its identity is checked */
    if ((s = ct_index_open(&index, argv[2], ct_model_identity(model), false))) {
        ct_model_free(model);
        return fail(s);
    }
    const int P = ct_model_embed_dim(model), S = ct_model_image_size(model);
    const long long G = (long long)ct_index_rows(index);
    if (k > G) k = (int)G;
    float *pixels = malloc((size_t)3 * S * S * sizeof *pixels), *query = malloc((size_t)P * sizeof *query);
    float *score = malloc((size_t)k * sizeof *score);
    int *best = malloc((size_t)k * sizeof *best);
    int64_t ids[CT_CONTEXT_LENGTH];
    if (!pixels || !query || !score || !best) s = ct_fail(CT_ERR_NOMEM, "out of memory");
    /* f(image, text): the composed query embedding */
    if (!s) s = ct_model_load_image(model, argv[3], pixels);
    if (!s) s = ct_model_tokenize(model, argv[4], ids);
    if (!s) s = ct_encoder_new(&enc, model, 1);
    if (!s) s = ct_encode_query(enc, pixels, ids, 1, query);
    /* exact cosine top-k over the whole gallery */
    if (!s) s = ct_topk(best, score, query, 1, ct_index_data(index), ct_index_dtype(index), G, P, k);
    for (int i = 0; !s && i < k; i++) printf("%d\t%s\t%.6f\n", i + 1, ct_index_name(index, best[i]), score[i]);
    int rc = s ? fail(s) : 0;
    free(pixels), free(query), free(score), free(best);
    ct_encoder_free(enc);
    ct_index_close(index);
    ct_model_free(model);
    return rc;
}
