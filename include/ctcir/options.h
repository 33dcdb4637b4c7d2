/* The ConText-CIR model options (docs/model.md; section 8 lists them as the "ctcir" object of
 * a checkpoint's config.json). ct_cir_options_default gives the documented defaults. */
#ifndef CTCIR_OPTIONS_H
#define CTCIR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CT_TARGET_FUSED = 0, CT_TARGET_CLIP = 1 } ct_target_mode;
typedef enum { CT_QNEG_OWN = 0, CT_QNEG_ALL = 1, CT_QNEG_NONE = 2 } ct_query_negatives;
typedef enum { CT_CCNORM_NONE = 0, CT_CCNORM_PATCHES = 1 } ct_cc_normalize;

typedef struct {
    int fusion_layers;                  /* 4 */
    int fusion_heads;                   /* 8 */
    ct_target_mode target_mode;         /* fused */
    ct_query_negatives query_negatives; /* own */
    bool symmetric;                     /* false */
    double tau;                         /* 0.07 */
    double lambda_cc;                   /* 0.08 */
    double cc_eps;                      /* 0.0 */
    bool cc_abs;                        /* true */
    ct_cc_normalize cc_normalize;       /* none */
    bool cc_detach_isolated;            /* true */
    int max_noun_phrases;               /* 10 */
    uint64_t seed;                      /* 0 */
} ct_cir_options;

void ct_cir_options_default(ct_cir_options *o);

/* Upper bounds of the head's size (docs/model.md section 8.1): the paper uses 4 and 8. */
#define CT_MAX_FUSION_LAYERS 64
#define CT_MAX_FUSION_HEADS  1024

/* Applies one `key=value` override; returns CT_ERR_ARG (with a message) for an unknown model
 * key, and CT_ERR_UNSUPPORTED when `key` is not a model option (so callers can try
 * training options next). */
ct_status ct_cir_options_set(ct_cir_options *o, const char *key, const char *value);

const char *ct_target_mode_name(ct_target_mode m);
const char *ct_query_negatives_name(ct_query_negatives q);
const char *ct_cc_normalize_name(ct_cc_normalize c);

#ifdef __cplusplus
}
#endif
#endif
