/* The model options (ctcir/options.h) as the "ctcir" object of a checkpoint's config.json
 * (docs/model.md section 8): reading and writing JSON. */
#ifndef CTCIR_MODEL_OPTIONS_H
#define CTCIR_MODEL_OPTIONS_H

#include "ctcir/options.h"

typedef struct cJSON cJSON;

/* Reads the keys present in `obj` (a "ctcir" object); unknown keys are an error naming them
 * (`where` names the file in messages). */
ct_status ct_cir_options_from_json(ct_cir_options *o, const cJSON *obj, const char *where);

/* A new cJSON object with every key (the caller owns it). */
cJSON *ct_cir_options_to_json(const ct_cir_options *o);

#endif
