/* Noun-phrase attention maps of a query (`ctcir explain`, the paper's Figures 5 and 6): for
 * each phrase, the fusion's mean attention map Abar of the caption's query forward, averaged
 * over the phrase's token span (located exactly as training locates it) with the CLS row
 * dropped, as a g x g patch grid. */
#ifndef CTCIR_EXPLAIN_H
#define CTCIR_EXPLAIN_H

#include <stdint.h>

#include "ctcir/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The span [*start, *end) of `phrase` inside the caption ids [77]: the phrase tokenized
 * alone, without its start/end tokens, first exact match between the caption's start and
 * end tokens (ct_cc_find_span). *start = *end = -1 when it does not match. */
ct_status ct_phrase_span(const ct_model *m, const int64_t *caption_ids, const char *phrase, int *start, int *end);

typedef struct {
    int grid;         /* g: the patch grid is g x g (Nv - 1 = g^2) */
    int *start, *end; /* [n] spans; -1 for unmatched phrases */
    float *maps;      /* [n, g*g] row-major patch maps (unmatched: all 0) */
} ct_explain_result;

/* pixels [3,S,S] preprocessed query image; one query forward with `caption`, then one map
 * per phrase. The result's arrays are malloc'd; free with ct_explain_result_free. */
ct_status ct_explain(ct_explain_result *r, const ct_model *m, const float *pixels, const char *caption,
                     const char *const *phrases, int n);
void ct_explain_result_free(ct_explain_result *r);

#ifdef __cplusplus
}
#endif
#endif
