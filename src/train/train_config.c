/* Training configuration: defaults, JSON file, key=value overrides, JSON out. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"
#include "train/checkpoint.h"
#include "train/train_config.h"

void ct_train_config_default(ct_train_config *c) {
    memset(c, 0, sizeof *c);
    ct_cir_options_default(&c->model);
    c->batch_size = 256;
    c->micro_batch = 0;
    c->max_steps = 35000;
    c->lr = (ct_lr_schedule){.lr_max = 2e-5, .lr_min = 2e-7, .warmup = 500, .cycle = 2500, .cycle_mult = 2};
    c->adamw = (ct_adamw){.beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .weight_decay = 1e-2, .max_grad_norm = 1.0};
    c->shuffle = true;
    c->checkpoint_every = 1000;
    c->keep_checkpoints = 3;
    c->threads = 0;
    c->loader_threads = 1;
}

static void free_source(ct_data_source *d) {
    free(d->kind), free(d->path), free(d->image_root), free(d->split);
    memset(d, 0, sizeof *d);
}

void ct_train_config_free_data(ct_train_config *c) {
    for (int i = 0; i < c->n_data; i++) free_source(&c->data[i]);
    c->n_data = 0;
}

void ct_train_config_free_val(ct_train_config *c) {
    for (int i = 0; i < c->n_val; i++) free_source(&c->val[i]);
    c->n_val = 0;
}

static void free_model_keys(ct_train_config *c) {
    for (int i = 0; i < c->n_model_keys; i++) free(c->model_keys[i]);
    c->n_model_keys = 0;
}

void ct_train_config_free(ct_train_config *c) {
    free(c->init);
    c->init = NULL;
    free(c->val_metric);
    c->val_metric = NULL;
    ct_train_config_free_data(c);
    ct_train_config_free_val(c);
    free_model_keys(c);
}

/* Remembers a model assignment so that it also applies over a ctcir folder's own options. */
static ct_status remember_model_key(ct_train_config *c, const char *key, const char *value) {
    if (c->n_model_keys >= CT_MAX_MODEL_KEYS)
        return ct_fail(CT_ERR_ARG, "config: more than %d model assignments", CT_MAX_MODEL_KEYS);
    char *kv = ct_strprintf("%s=%s", key, value);
    if (!kv) return ct_fail(CT_ERR_NOMEM, "config: out of memory");
    c->model_keys[c->n_model_keys++] = kv;
    c->model_keys_given = true;
    return CT_OK;
}

static ct_status number(const char *key, const char *text, double *out) {
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(*out))
        return ct_fail(CT_ERR_ARG, "config: %s: '%s' is not a number", key, text);
    return CT_OK;
}

static ct_status boolean(const char *key, const char *text, bool *out) {
    if (!strcmp(text, "true") || !strcmp(text, "1"))
        *out = true;
    else if (!strcmp(text, "false") || !strcmp(text, "0"))
        *out = false;
    else
        return ct_fail(CT_ERR_ARG, "config: %s: expected true or false, got '%s'", key, text);
    return CT_OK;
}

/* One training key from text; CT_ERR_UNSUPPORTED when it is not a training key. */
static ct_status set_training(ct_train_config *c, const char *key, const char *v) {
    double d = 0;
    ct_status s;
    struct {
        const char *name;
        double *dst;
        double lo;
    } reals[] = {
        {"lr", &c->lr.lr_max, 0},
        {"lr_min", &c->lr.lr_min, 0},
        {"cycle_mult", &c->lr.cycle_mult, 1},
        {"beta1", &c->adamw.beta1, 0},
        {"beta2", &c->adamw.beta2, 0},
        {"adam_eps", &c->adamw.eps, 0},
        {"weight_decay", &c->adamw.weight_decay, 0},
        {"max_grad_norm", &c->adamw.max_grad_norm, 0},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (!strcmp(key, reals[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d < reals[i].lo) return ct_fail(CT_ERR_ARG, "config: %s must be >= %g", key, reals[i].lo);
            *reals[i].dst = d;
            return CT_OK;
        }
    struct {
        const char *name;
        int64_t *dst;
        int64_t lo;
    } ints[] = {
        {"max_steps", &c->max_steps, 1},  {"warmup", &c->lr.warmup, 0},
        {"cycle_steps", &c->lr.cycle, 1}, {"checkpoint_every", &c->checkpoint_every, 0},
        {"val_every", &c->val_every, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!strcmp(key, ints[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d != floor(d) || d < (double)ints[i].lo || d > 1e15)
                return ct_fail(CT_ERR_ARG, "config: %s: expected an integer in %lld..1e15", key, (long long)ints[i].lo);
            *ints[i].dst = (int64_t)d;
            return CT_OK;
        }
    struct {
        const char *name;
        int *dst;
        int lo, hi;
    } small[] = {
        {"batch_size", &c->batch_size, 1, 4096},
        {"micro_batch", &c->micro_batch, 0, 4096},
        {"keep_checkpoints", &c->keep_checkpoints, 1, 1000000},
        {"threads", &c->threads, 0, 1024},
        {"loader_threads", &c->loader_threads, 1, 64},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (!strcmp(key, small[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d != floor(d) || d < small[i].lo || d > small[i].hi)
                return ct_fail(CT_ERR_ARG, "config: %s: expected an integer in %d..%d", key, small[i].lo, small[i].hi);
            *small[i].dst = (int)d;
            return CT_OK;
        }
    struct {
        const char *name;
        bool *dst;
    } flags[] = {
        {"shuffle", &c->shuffle},
        {"freeze_vision", &c->freeze_vision},
        {"freeze_text", &c->freeze_text},
        {"strict", &c->strict},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(key, flags[i].name)) return boolean(key, v, flags[i].dst);
    if (!strcmp(key, "precision")) return ct_precision_parse(v, "config: precision", &c->precision);
    if (!strcmp(key, "init") || !strcmp(key, "val_metric")) {
        char **dst = key[0] == 'i' ? &c->init : &c->val_metric;
        free(*dst);
        *dst = ct_strdup(v);
        return CT_OK;
    }
    if (!strcmp(key, "recompute")) return ct_recompute_parse(v, "config: recompute", &c->recompute);
    return CT_ERR_UNSUPPORTED;
}

ct_status ct_train_config_set(ct_train_config *c, const char *assignment) {
    char key[64];
    const char *value;
    if (!ct_split_kv(assignment, key, sizeof key, &value))
        return ct_fail(CT_ERR_ARG, "config: '%s' is not key=value", assignment);
    ct_status s = set_training(c, key, value);
    if (s != CT_ERR_UNSUPPORTED) return s;
    s = ct_cir_options_set(&c->model, key, value);
    if (s == CT_ERR_UNSUPPORTED) return ct_fail(CT_ERR_ARG, "config: unknown key '%s'", key);
    if (s == CT_OK) s = remember_model_key(c, key, value);
    return s;
}

ct_status ct_train_config_add_source(ct_train_config *c, bool validation, const char *kind, const char *path,
                                     const char *image_root, const char *split) {
    ct_data_source *list = validation ? c->val : c->data;
    int *n = validation ? &c->n_val : &c->n_data;
    if (*n >= CT_MAX_DATASETS) return ct_fail(CT_ERR_ARG, "config: at most %d datasets", CT_MAX_DATASETS);
    ct_data_source *d = &list[*n];
    d->kind = ct_strdup(kind ? kind : "manifest");
    d->path = ct_strdup(path);
    d->image_root = image_root ? ct_strdup(image_root) : NULL;
    d->split = ct_strdup(split ? split : validation ? "val" : "train");
    d->weight = 1.0;
    if (!d->kind || !d->path || !d->split || (image_root && !d->image_root)) {
        free_source(d);
        return ct_fail(CT_ERR_NOMEM, "config: out of memory");
    }
    ++*n;
    return CT_OK;
}

ct_status ct_train_config_set_val(ct_train_config *c, const char *spec, const char *image_root) {
    ct_train_config_free_val(c);
    const char *a = strchr(spec, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    ct_dataset_kind kind;
    if (a && b && !strchr(b + 1, ':')) {
        char k[32];
        if ((size_t)(a - spec) >= sizeof k) return ct_fail(CT_ERR_ARG, "--val %s: unknown dataset kind", spec);
        memcpy(k, spec, (size_t)(a - spec));
        k[a - spec] = '\0';
        if (ct_dataset_kind_parse(k, &kind) != CT_OK)
            return ct_fail(CT_ERR_ARG, "--val %s: unknown dataset kind '%s'", spec, k);
        char *root = ct_strdup(a + 1);
        if (!root) return ct_fail(CT_ERR_NOMEM, "config: out of memory");
        root[b - a - 1] = '\0';
        ct_status s = !root[0] || !b[1] ? ct_fail(CT_ERR_ARG, "--val %s: expected KIND:ROOT:SPLIT", spec)
                                        : ct_train_config_add_source(c, true, k, root, NULL, b + 1);
        free(root);
        return s;
    }
    return ct_train_config_add_source(c, true, "manifest", spec, image_root, "val");
}

/* "data" or "val": a manifest path, an object, or a list of those. */
static ct_status load_sources(ct_train_config *c, const cJSON *data, const char *path, bool validation) {
    const char *what = validation ? "val" : "data";
    const cJSON *one = data;
    int n = cJSON_IsArray(data) ? cJSON_GetArraySize(data) : 1;
    if (n > CT_MAX_DATASETS)
        return ct_fail(CT_ERR_FORMAT, "%s: \"%s\": at most %d datasets", path, what, CT_MAX_DATASETS);
    if (validation)
        ct_train_config_free_val(c);
    else
        ct_train_config_free_data(c);
    for (int i = 0; i < n; i++) {
        if (cJSON_IsArray(data)) one = cJSON_GetArrayItem(data, i);
        ct_status s;
        if (cJSON_IsString(one)) { /* a manifest path */
            s = ct_train_config_add_source(c, validation, "manifest", one->valuestring, NULL, NULL);
        } else if (cJSON_IsObject(one)) {
            const char *k = ct_json_str(one, "dataset"), *p = ct_json_str(one, "path");
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(one, "weight");
            if (!p) return ct_fail(CT_ERR_FORMAT, "%s: \"%s\"[%d]: \"path\" must be a string", path, what, i);
            const double weight = cJSON_IsNumber(w) ? w->valuedouble : 1.0;
            if (!(weight > 0) || !isfinite(weight))
                return ct_fail(CT_ERR_FORMAT, "%s: \"%s\"[%d]: weight must be > 0", path, what, i);
            s = ct_train_config_add_source(c, validation, k, p, ct_json_str(one, "image_root"),
                                           ct_json_str(one, "split"));
            if (!s) (validation ? c->val : c->data)[i].weight = weight;
        } else
            return ct_fail(CT_ERR_FORMAT, "%s: \"%s\"[%d]: expected a path or an object", path, what, i);
        if (s) return s;
    }
    return CT_OK;
}

/* A config object's text over the current values (`path` names it in messages). */
static ct_status load_text(ct_train_config *c, const char *text, size_t n, const char *path) {
    ct_status s = CT_OK;
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        const char *err = cJSON_GetErrorPtr();
        size_t off = err && err >= text && err <= text + n ? (size_t)(err - text) : 0;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) text[i] == '\n' ? (line++, col = 1) : col++;
        cJSON_Delete(j);
        return ct_fail(CT_ERR_FORMAT, "%s: line %d, column %d: not a valid JSON object", path, line, col);
    }
    for (const cJSON *it = j->child; it && !s; it = it->next) {
        if (!strcmp(it->string, "data") || !strcmp(it->string, "val")) {
            s = load_sources(c, it, path, it->string[0] == 'v');
            continue;
        }
        if (it->string[0] == '_' || !strcmp(it->string, "comment")) continue; /* comments */
        char buf[64];
        const char *v = buf;
        if (cJSON_IsString(it))
            v = it->valuestring;
        else if (cJSON_IsBool(it))
            v = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it)) { /* the shortest text that reads back as the same double */
            for (int digits = 15; digits <= 17; digits++) {
                snprintf(buf, sizeof buf, "%.*g", digits, it->valuedouble);
                if (strtod(buf, NULL) == it->valuedouble) break;
            }
        } else {
            s = ct_fail(CT_ERR_FORMAT, "%s: key \"%s\": unexpected value type", path, it->string);
            break;
        }
        s = set_training(c, it->string, v);
        if (s == CT_ERR_UNSUPPORTED) {
            s = ct_cir_options_set(&c->model, it->string, v);
            if (s == CT_ERR_UNSUPPORTED)
                s = ct_fail(CT_ERR_FORMAT, "%s: unknown key \"%s\"", path, it->string);
            else if (s == CT_OK)
                s = remember_model_key(c, it->string, v);
        }
        if (s && s != CT_ERR_FORMAT) s = ct_fail(s, "%s: %s", path, ct_error());
    }
    cJSON_Delete(j);
    return s;
}

ct_status ct_train_config_load(ct_train_config *c, const char *path) {
    char *text;
    size_t n;
    ct_status s = ct_read_file(path, &text, &n, 16u << 20);
    if (s) return s;
    s = load_text(c, text, n, path);
    free(text);
    return s;
}

static cJSON *sources_json(const ct_data_source *list, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "dataset", list[i].kind);
        cJSON_AddStringToObject(d, "path", list[i].path);
        if (list[i].image_root) cJSON_AddStringToObject(d, "image_root", list[i].image_root);
        cJSON_AddStringToObject(d, "split", list[i].split);
        cJSON_AddNumberToObject(d, "weight", list[i].weight);
        cJSON_AddItemToArray(a, d);
    }
    return a;
}

char *ct_train_config_to_json(const ct_train_config *c) {
    cJSON *j = ct_cir_options_to_json(&c->model);
    if (!j) return NULL;
    if (c->init) cJSON_AddStringToObject(j, "init", c->init);
    cJSON_AddItemToObject(j, "data", sources_json(c->data, c->n_data));
    if (c->n_val) cJSON_AddItemToObject(j, "val", sources_json(c->val, c->n_val));
    cJSON_AddNumberToObject(j, "val_every", (double)c->val_every);
    if (c->val_metric) cJSON_AddStringToObject(j, "val_metric", c->val_metric);
    cJSON_AddNumberToObject(j, "batch_size", c->batch_size);
    cJSON_AddNumberToObject(j, "micro_batch", c->micro_batch);
    cJSON_AddNumberToObject(j, "max_steps", (double)c->max_steps);
    cJSON_AddNumberToObject(j, "lr", c->lr.lr_max);
    cJSON_AddNumberToObject(j, "lr_min", c->lr.lr_min);
    cJSON_AddNumberToObject(j, "warmup", (double)c->lr.warmup);
    cJSON_AddNumberToObject(j, "cycle_steps", (double)c->lr.cycle);
    cJSON_AddNumberToObject(j, "cycle_mult", c->lr.cycle_mult);
    cJSON_AddNumberToObject(j, "beta1", c->adamw.beta1);
    cJSON_AddNumberToObject(j, "beta2", c->adamw.beta2);
    cJSON_AddNumberToObject(j, "adam_eps", c->adamw.eps);
    cJSON_AddNumberToObject(j, "weight_decay", c->adamw.weight_decay);
    cJSON_AddNumberToObject(j, "max_grad_norm", c->adamw.max_grad_norm);
    cJSON_AddBoolToObject(j, "shuffle", c->shuffle);
    cJSON_AddBoolToObject(j, "freeze_vision", c->freeze_vision);
    cJSON_AddBoolToObject(j, "freeze_text", c->freeze_text);
    cJSON_AddNumberToObject(j, "checkpoint_every", (double)c->checkpoint_every);
    cJSON_AddNumberToObject(j, "keep_checkpoints", c->keep_checkpoints);
    cJSON_AddNumberToObject(j, "threads", c->threads);
    cJSON_AddNumberToObject(j, "loader_threads", c->loader_threads);
    cJSON_AddStringToObject(j, "precision", ct_precision_name(c->precision));
    cJSON_AddBoolToObject(j, "strict", c->strict);
    cJSON_AddStringToObject(j, "recompute", ct_recompute_name(c->recompute));
    char *text = ct_json_print_indented(j);
    cJSON_Delete(j);
    return text;
}

ct_status ct_train_config_validate(const ct_train_config *c) {
    const ct_adamw *a = &c->adamw;
    if (!(a->beta1 >= 0 && a->beta1 < 1)) return ct_fail(CT_ERR_ARG, "config: beta1 = %g must lie in [0, 1)", a->beta1);
    if (!(a->beta2 >= 0 && a->beta2 < 1)) return ct_fail(CT_ERR_ARG, "config: beta2 = %g must lie in [0, 1)", a->beta2);
    if (!(a->eps > 0)) return ct_fail(CT_ERR_ARG, "config: adam_eps = %g must be > 0 (AdamW divides by it)", a->eps);
    if (!(c->lr.lr_min <= c->lr.lr_max))
        return ct_fail(CT_ERR_ARG, "config: lr_min = %g is larger than lr = %g", c->lr.lr_min, c->lr.lr_max);
    if (c->max_steps < 1)
        return ct_fail(CT_ERR_ARG, "config: max_steps = %lld: nothing to train", (long long)c->max_steps);
    const ct_cir_options *o = &c->model;
    if (!(o->lambda_cc >= 0)) return ct_fail(CT_ERR_ARG, "config: lambda_cc = %g must be >= 0", o->lambda_cc);
    if (!(o->tau >= 1e-4 && o->tau <= 1e4))
        return ct_fail(CT_ERR_ARG, "config: tau = %g is outside [1e-4, 1e4]", o->tau);
    if (!(o->cc_eps >= -1 && o->cc_eps <= 1))
        return ct_fail(CT_ERR_ARG, "config: cc_eps = %g is outside [-1, 1]", o->cc_eps);
    if (o->fusion_layers < 1 || o->fusion_layers > CT_MAX_FUSION_LAYERS)
        return ct_fail(CT_ERR_ARG, "config: fusion_layers = %d is outside 1..%d", o->fusion_layers,
                       CT_MAX_FUSION_LAYERS);
    if (c->val_every > 0 && c->n_val == 0)
        return ct_fail(CT_ERR_ARG, "config: val_every without a validation set (--val)");
    if (c->n_val > 1) return ct_fail(CT_ERR_ARG, "config: \"val\": one validation set at most (got %d)", c->n_val);
    if (c->val_metric && c->n_val == 0)
        return ct_fail(CT_ERR_ARG, "config: val_metric without a validation set (--val)");
    return CT_OK;
}

ct_status ct_train_config_load_saved(ct_train_config *c, const char *resume) {
    char dir[4096];
    ct_status s = ct_checkpoint_find_latest(resume, dir, sizeof dir);
    if (s) return s;
    char *path = ct_path_join(dir, "trainer_state.json");
    if (!path) return ct_fail(CT_ERR_NOMEM, "config: out of memory");
    cJSON *state = NULL;
    if ((s = ct_json_load(path, &state))) {
        free(path);
        return s;
    }
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(state, "config");
    char *text = cJSON_IsObject(saved) ? cJSON_PrintUnformatted(saved) : NULL;
    cJSON_Delete(state);
    if (!text) {
        s = ct_fail(CT_ERR_FORMAT, "%s: no saved \"config\" object", path);
        free(path);
        return s;
    }
    /* the saved object is a config file like any other */
    ct_train_config fresh;
    ct_train_config_default(&fresh);
    s = load_text(&fresh, text, strlen(text), path);
    free(text);
    free(path);
    if (s) {
        ct_train_config_free(&fresh);
        return s;
    }
    ct_train_config_free(c);
    *c = fresh;
    return CT_OK;
}
