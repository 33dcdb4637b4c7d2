/* The "ctcir" options object: defaults, JSON in and out, key=value overrides. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/options.h"

void ct_cir_options_default(ct_cir_options *o) {
    o->fusion_layers = 4;
    o->fusion_heads = 8;
    o->target_mode = CT_TARGET_FUSED;
    o->query_negatives = CT_QNEG_OWN;
    o->symmetric = false;
    o->tau = 0.07;
    o->lambda_cc = 0.08;
    o->cc_eps = 0.0;
    o->cc_abs = true;
    o->cc_normalize = CT_CCNORM_NONE;
    o->cc_detach_isolated = true;
    o->max_noun_phrases = 10;
    o->seed = 0;
}

const char *ct_target_mode_name(ct_target_mode m) { return m == CT_TARGET_CLIP ? "clip" : "fused"; }

const char *ct_query_negatives_name(ct_query_negatives q) {
    return q == CT_QNEG_ALL ? "all" : q == CT_QNEG_NONE ? "none" : "own";
}

const char *ct_cc_normalize_name(ct_cc_normalize c) { return c == CT_CCNORM_PATCHES ? "patches" : "none"; }

/* One option's value as text, whether it came from JSON or from --set. */
typedef struct {
    const char *text; /* for strings and --set */
    double number;
    int is_bool, boolean, is_number;
} option_value;

static ct_status parse_bool(const option_value *v, bool *out, const char *key) {
    if (v->is_bool) {
        *out = v->boolean;
        return CT_OK;
    }
    if (v->text && (strcmp(v->text, "true") == 0 || strcmp(v->text, "1") == 0)) {
        *out = true;
        return CT_OK;
    }
    if (v->text && (strcmp(v->text, "false") == 0 || strcmp(v->text, "0") == 0)) {
        *out = false;
        return CT_OK;
    }
    return ct_fail(CT_ERR_ARG, "option %s: expected true or false", key);
}

static ct_status parse_number(const option_value *v, double *out, const char *key) {
    if (v->is_number) {
        *out = v->number;
    } else if (v->text) {
        char *end;
        errno = 0;
        *out = strtod(v->text, &end);
        if (errno || end == v->text || *end)
            return ct_fail(CT_ERR_ARG, "option %s: '%s' is not a number", key, v->text);
    } else
        return ct_fail(CT_ERR_ARG, "option %s: expected a number", key);
    if (!isfinite(*out)) return ct_fail(CT_ERR_ARG, "option %s: not finite", key);
    return CT_OK;
}

static ct_status parse_int(const option_value *v, int *out, const char *key, int lo, int hi) {
    double d;
    ct_status s = parse_number(v, &d, key);
    if (s) return s;
    if (d != floor(d) || d < lo || d > hi)
        return ct_fail(CT_ERR_ARG, "option %s: expected an integer in %d..%d", key, lo, hi);
    *out = (int)d;
    return CT_OK;
}

/* A real in [lo, hi]; `why` says what the bounds protect. */
static ct_status parse_range(const option_value *v, double *out, const char *key, double lo, double hi,
                             const char *why) {
    double d = 0;
    ct_status s = parse_number(v, &d, key);
    if (s) return s;
    if (!(d >= lo && d <= hi))
        return ct_fail(CT_ERR_ARG, "option %s: %g is outside [%g, %g] (%s)", key, d, lo, hi, why);
    *out = d;
    return CT_OK;
}

static ct_status parse_enum(const option_value *v, int *out, const char *key, const char *const *names, int n) {
    if (v->text)
        for (int i = 0; i < n; i++)
            if (strcmp(v->text, names[i]) == 0) {
                *out = i;
                return CT_OK;
            }
    return ct_fail(CT_ERR_ARG, "option %s: expected one of %s%s%s%s%s", key, names[0], n > 1 ? ", " : "",
                   n > 1 ? names[1] : "", n > 2 ? ", " : "", n > 2 ? names[2] : "");
}

static ct_status apply(ct_cir_options *o, const char *key, const option_value *v) {
    static const char *const target_names[] = {"fused", "clip"};
    static const char *const qneg_names[] = {"own", "all", "none"};
    static const char *const norm_names[] = {"none", "patches"};
    int e = 0;
    ct_status s;
    double d;
    if (strcmp(key, "fusion_layers") == 0) return parse_int(v, &o->fusion_layers, key, 1, CT_MAX_FUSION_LAYERS);
    if (strcmp(key, "fusion_heads") == 0) return parse_int(v, &o->fusion_heads, key, 1, CT_MAX_FUSION_HEADS);
    if (strcmp(key, "max_noun_phrases") == 0) return parse_int(v, &o->max_noun_phrases, key, 0, 1024);
    if (strcmp(key, "symmetric") == 0) return parse_bool(v, &o->symmetric, key);
    if (strcmp(key, "cc_abs") == 0) return parse_bool(v, &o->cc_abs, key);
    if (strcmp(key, "cc_detach_isolated") == 0) return parse_bool(v, &o->cc_detach_isolated, key);
    if (strcmp(key, "tau") == 0) {
        if ((s = parse_number(v, &d, key))) return s;
        if (!(d > 0)) return ct_fail(CT_ERR_ARG, "option tau: must be > 0");
        return parse_range(v, &o->tau, key, 1e-4, 1e4, "logits s/tau overflow or vanish outside it");
    }
    if (strcmp(key, "lambda_cc") == 0)
        return parse_range(v, &o->lambda_cc, key, 0, 1e4, "a negative weight rewards inconsistency");
    if (strcmp(key, "cc_eps") == 0)
        return parse_range(v, &o->cc_eps, key, -1, 1, "attention differences lie in [-1, 1]");
    if (strcmp(key, "seed") == 0) {
        if ((s = parse_number(v, &d, key))) return s;
        if (d < 0 || d != floor(d) || d > 9007199254740992.0)
            return ct_fail(CT_ERR_ARG, "option seed: expected an integer >= 0");
        o->seed = (uint64_t)d;
        return CT_OK;
    }
    if (strcmp(key, "target_mode") == 0) {
        if ((s = parse_enum(v, &e, key, target_names, 2))) return s;
        o->target_mode = (ct_target_mode)e;
        return CT_OK;
    }
    if (strcmp(key, "query_negatives") == 0) {
        if ((s = parse_enum(v, &e, key, qneg_names, 3))) return s;
        o->query_negatives = (ct_query_negatives)e;
        return CT_OK;
    }
    if (strcmp(key, "cc_normalize") == 0) {
        if ((s = parse_enum(v, &e, key, norm_names, 2))) return s;
        o->cc_normalize = (ct_cc_normalize)e;
        return CT_OK;
    }
    return CT_ERR_UNSUPPORTED;
}

ct_status ct_cir_options_from_json(ct_cir_options *o, const cJSON *obj, const char *where) {
    if (!cJSON_IsObject(obj)) return ct_fail(CT_ERR_FORMAT, "%s: \"ctcir\" must be an object", where);
    for (const cJSON *it = obj->child; it; it = it->next) {
        option_value v = {0};
        if (cJSON_IsString(it))
            v.text = it->valuestring;
        else if (cJSON_IsBool(it)) {
            v.is_bool = 1;
            v.boolean = cJSON_IsTrue(it);
        } else if (cJSON_IsNumber(it)) {
            v.is_number = 1;
            v.number = it->valuedouble;
        }
        ct_status s = apply(o, it->string, &v);
        if (s == CT_ERR_UNSUPPORTED)
            return ct_fail(CT_ERR_FORMAT, "%s: unknown model option \"%s\"", where, it->string);
        if (s) return ct_fail(s, "%s: %s", where, ct_error());
    }
    return CT_OK;
}

ct_status ct_cir_options_set(ct_cir_options *o, const char *key, const char *value) {
    option_value v = {.text = value};
    return apply(o, key, &v);
}

cJSON *ct_cir_options_to_json(const ct_cir_options *o) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddNumberToObject(j, "fusion_layers", o->fusion_layers);
    cJSON_AddNumberToObject(j, "fusion_heads", o->fusion_heads);
    cJSON_AddStringToObject(j, "target_mode", ct_target_mode_name(o->target_mode));
    cJSON_AddStringToObject(j, "query_negatives", ct_query_negatives_name(o->query_negatives));
    cJSON_AddBoolToObject(j, "symmetric", o->symmetric);
    cJSON_AddNumberToObject(j, "tau", o->tau);
    cJSON_AddNumberToObject(j, "lambda_cc", o->lambda_cc);
    cJSON_AddNumberToObject(j, "cc_eps", o->cc_eps);
    cJSON_AddBoolToObject(j, "cc_abs", o->cc_abs);
    cJSON_AddStringToObject(j, "cc_normalize", ct_cc_normalize_name(o->cc_normalize));
    cJSON_AddBoolToObject(j, "cc_detach_isolated", o->cc_detach_isolated);
    cJSON_AddNumberToObject(j, "max_noun_phrases", o->max_noun_phrases);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    return j;
}
