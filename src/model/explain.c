/* Phrase attention maps of one query (see explain.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/explain.h"
#include "model/loss.h"
#include "model/model.h"

ct_status ct_phrase_span(const ct_model *m, const int64_t *caption_ids, const char *phrase, int *start, int *end) {
    *start = *end = -1;
    int32_t cap32[CT_CONTEXT_LENGTH], *raw = NULL;
    int n = 0;
    for (int t = 0; t < CT_CONTEXT_LENGTH; t++) cap32[t] = (int32_t)caption_ids[t];
    ct_status s = ct_tokenize_raw(m->tok, phrase, &raw, &n);
    if (s) return s;
    const int core = n - 2; /* without <|startoftext|> and <|endoftext|> */
    const int eot = ct_eot_index(caption_ids, CT_CONTEXT_LENGTH);
    const int at = core > 0 ? ct_cc_find_span(cap32, eot, raw + 1, core) : -1;
    free(raw);
    if (at >= 0) *start = at, *end = at + core;
    return CT_OK;
}

void ct_explain_result_free(ct_explain_result *r) {
    if (!r) return;
    free(r->start), free(r->end), free(r->maps);
    memset(r, 0, sizeof *r);
}

ct_status ct_explain(ct_explain_result *r, const ct_model *m, const float *pixels, const char *caption,
                     const char *const *phrases, int n) {
    memset(r, 0, sizeof *r);
    const int Nv = m->Nv;
    int g = (int)lround(sqrt((double)(Nv - 1)));
    if (g * g != Nv - 1) return ct_fail(CT_ERR_UNSUPPORTED, "explain: %d patches do not form a square grid", Nv - 1);
    if (n < 0) return ct_fail(CT_ERR_ARG, "explain: %d phrases", n);
    r->grid = g;
    r->start = malloc(((size_t)n + 1) * sizeof *r->start);
    r->end = malloc(((size_t)n + 1) * sizeof *r->end);
    r->maps = calloc(((size_t)n + 1) * g * g, sizeof *r->maps);
    ct_encoder *e = NULL;
    ct_status s;
    if (!r->start || !r->end || !r->maps) {
        s = ct_fail(CT_ERR_NOMEM, "explain: out of memory");
        goto fail;
    }
    int64_t ids[CT_CONTEXT_LENGTH];
    if ((s = ct_model_tokenize(m, caption, ids))) goto fail;
    for (int i = 0; i < n; i++)
        if ((s = ct_phrase_span(m, ids, phrases[i], &r->start[i], &r->end[i]))) goto fail;
    if ((s = ct_encoder_new_with_maps(&e, m, 1))) goto fail;
    float *q = malloc((size_t)m->P * sizeof *q);
    if (!q) {
        s = ct_fail(CT_ERR_NOMEM, "explain: out of memory");
        goto fail;
    }
    s = ct_encode_query(e, pixels, ids, 1, q);
    free(q);
    if (s) goto fail;
    int T = 0;
    const float *abar = ct_encoder_last_map(e, NULL, &T); /* [1, Nv, T]: T = the caption's tokens */
    for (int i = 0; i < n; i++) {
        if (r->start[i] < 0) continue;
        float *map = r->maps + (size_t)i * g * g;
        const double inv = 1.0 / (r->end[i] - r->start[i]);
        for (int p = 0; p < g * g; p++) {
            const float *row = abar + (size_t)(p + 1) * T; /* row 0 is CLS */
            double acc = 0;
            for (int t = r->start[i]; t < r->end[i]; t++) acc += row[t];
            map[p] = (float)(acc * inv);
        }
    }
    ct_encoder_free(e);
    return CT_OK;
fail:
    ct_encoder_free(e);
    ct_explain_result_free(r);
    return s;
}
