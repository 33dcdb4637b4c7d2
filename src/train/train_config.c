/* Training configuration: defaults, JSON file, key=value overrides, JSON out. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train_config.h"
#include "core/fileio.h"
#include "core/str.h"

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

void ct_train_config_free(ct_train_config *c) {
    free(c->init);
    c->init = NULL;
    ct_train_config_free_data(c);
}

static ct_status number(const char *key, const char *text, double *out) {
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(*out)) return ct_fail(CT_ERR_ARG, "config: %s: '%s' is not a number", key, text);
    return CT_OK;
}

static ct_status boolean(const char *key, const char *text, bool *out) {
    if (!strcmp(text, "true") || !strcmp(text, "1")) *out = true;
    else if (!strcmp(text, "false") || !strcmp(text, "0")) *out = false;
    else return ct_fail(CT_ERR_ARG, "config: %s: expected true or false, got '%s'", key, text);
    return CT_OK;
}

/* One training key from text; CT_ERR_UNSUPPORTED when it is not a training key. */
static ct_status set_training(ct_train_config *c, const char *key, const char *v) {
    double d = 0;
    ct_status s;
    struct { const char *name; double *dst; double lo; } reals[] = {
        {"lr", &c->lr.lr_max, 0}, {"lr_min", &c->lr.lr_min, 0}, {"cycle_mult", &c->lr.cycle_mult, 1},
        {"beta1", &c->adamw.beta1, 0}, {"beta2", &c->adamw.beta2, 0}, {"adam_eps", &c->adamw.eps, 0},
        {"weight_decay", &c->adamw.weight_decay, 0}, {"max_grad_norm", &c->adamw.max_grad_norm, 0},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (!strcmp(key, reals[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d < reals[i].lo) return ct_fail(CT_ERR_ARG, "config: %s must be >= %g", key, reals[i].lo);
            *reals[i].dst = d;
            return CT_OK;
        }
    struct { const char *name; int64_t *dst; int64_t lo; } ints[] = {
        {"max_steps", &c->max_steps, 0}, {"warmup", &c->lr.warmup, 0}, {"cycle_steps", &c->lr.cycle, 1},
        {"checkpoint_every", &c->checkpoint_every, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!strcmp(key, ints[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d != floor(d) || d < (double)ints[i].lo) return ct_fail(CT_ERR_ARG, "config: %s: expected an integer >= %lld", key, (long long)ints[i].lo);
            *ints[i].dst = (int64_t)d;
            return CT_OK;
        }
    struct { const char *name; int *dst; int lo; } small[] = {
        {"batch_size", &c->batch_size, 1}, {"micro_batch", &c->micro_batch, 0},
        {"keep_checkpoints", &c->keep_checkpoints, 1}, {"threads", &c->threads, 0}, {"loader_threads", &c->loader_threads, 1},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (!strcmp(key, small[i].name)) {
            if ((s = number(key, v, &d))) return s;
            if (d != floor(d) || d < small[i].lo || d > 1e7) return ct_fail(CT_ERR_ARG, "config: %s: expected an integer >= %d", key, small[i].lo);
            *small[i].dst = (int)d;
            return CT_OK;
        }
    struct { const char *name; bool *dst; } flags[] = {
        {"shuffle", &c->shuffle}, {"freeze_vision", &c->freeze_vision}, {"freeze_text", &c->freeze_text}, {"strict", &c->strict},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(key, flags[i].name)) return boolean(key, v, flags[i].dst);
    if (!strcmp(key, "precision")) return ct_precision_parse(v, "config: precision", &c->precision);
    if (!strcmp(key, "init")) {
        free(c->init);
        c->init = ct_strdup(v);
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
    return s;
}

static ct_status load_sources(ct_train_config *c, const cJSON *data, const char *path) {
    const cJSON *one = data;
    int n = cJSON_IsArray(data) ? cJSON_GetArraySize(data) : 1;
    if (n > CT_MAX_DATASETS) return ct_fail(CT_ERR_FORMAT, "%s: \"data\": at most %d datasets", path, CT_MAX_DATASETS);
    ct_train_config_free_data(c);
    for (int i = 0; i < n; i++) {
        if (cJSON_IsArray(data)) one = cJSON_GetArrayItem(data, i);
        ct_data_source *d = &c->data[c->n_data];
        if (cJSON_IsString(one)) { /* a manifest path */
            d->kind = ct_strdup("manifest");
            d->path = ct_strdup(one->valuestring);
        } else if (cJSON_IsObject(one)) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(one, "dataset");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(one, "path");
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(one, "image_root");
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(one, "split");
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(one, "weight");
            if (!cJSON_IsString(p)) return ct_fail(CT_ERR_FORMAT, "%s: \"data\"[%d]: \"path\" must be a string", path, i);
            d->kind = ct_strdup(cJSON_IsString(k) ? k->valuestring : "manifest");
            d->path = ct_strdup(p->valuestring);
            d->image_root = cJSON_IsString(r) ? ct_strdup(r->valuestring) : NULL;
            d->split = ct_strdup(cJSON_IsString(sp) ? sp->valuestring : "train");
            d->weight = cJSON_IsNumber(w) ? w->valuedouble : 1.0;
            if (!(d->weight > 0)) return ct_fail(CT_ERR_FORMAT, "%s: \"data\"[%d]: weight must be > 0", path, i);
        } else return ct_fail(CT_ERR_FORMAT, "%s: \"data\"[%d]: expected a path or an object", path, i);
        if (!d->weight) d->weight = 1.0;
        if (!d->split) d->split = ct_strdup("train");
        c->n_data++;
    }
    return CT_OK;
}

ct_status ct_train_config_load(ct_train_config *c, const char *path) {
    char *text;
    size_t n;
    ct_status s = ct_read_file(path, &text, &n, 16u << 20);
    if (s) return s;
    cJSON *j = cJSON_Parse(text);
    if (!j || !cJSON_IsObject(j)) {
        const char *err = cJSON_GetErrorPtr();
        size_t off = err && err >= text && err <= text + n ? (size_t)(err - text) : 0;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) text[i] == '\n' ? (line++, col = 1) : col++;
        free(text);
        cJSON_Delete(j);
        return ct_fail(CT_ERR_FORMAT, "%s: line %d, column %d: not a valid JSON object", path, line, col);
    }
    free(text);
    for (const cJSON *it = j->child; it && !s; it = it->next) {
        if (!strcmp(it->string, "data")) { s = load_sources(c, it, path); continue; }
        if (it->string[0] == '_' || !strcmp(it->string, "comment")) continue; /* comments */
        char buf[64];
        const char *v = buf;
        if (cJSON_IsString(it)) v = it->valuestring;
        else if (cJSON_IsBool(it)) v = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it)) snprintf(buf, sizeof buf, "%.17g", it->valuedouble);
        else { s = ct_fail(CT_ERR_FORMAT, "%s: key \"%s\": unexpected value type", path, it->string); break; }
        s = set_training(c, it->string, v);
        if (s == CT_ERR_UNSUPPORTED) {
            s = ct_cir_options_set(&c->model, it->string, v);
            if (s == CT_ERR_UNSUPPORTED) s = ct_fail(CT_ERR_FORMAT, "%s: unknown key \"%s\"", path, it->string);
            else if (s == CT_OK) c->model_keys_given = true;
        }
        if (s && s != CT_ERR_FORMAT) s = ct_fail(s, "%s: %s", path, ct_error());
    }
    cJSON_Delete(j);
    return s;
}

char *ct_train_config_to_json(const ct_train_config *c) {
    cJSON *j = ct_cir_options_to_json(&c->model);
    if (!j) return NULL;
    if (c->init) cJSON_AddStringToObject(j, "init", c->init);
    cJSON *data = cJSON_AddArrayToObject(j, "data");
    for (int i = 0; i < c->n_data; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "dataset", c->data[i].kind);
        cJSON_AddStringToObject(d, "path", c->data[i].path);
        if (c->data[i].image_root) cJSON_AddStringToObject(d, "image_root", c->data[i].image_root);
        cJSON_AddStringToObject(d, "split", c->data[i].split);
        cJSON_AddNumberToObject(d, "weight", c->data[i].weight);
        cJSON_AddItemToArray(data, d);
    }
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
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    return text;
}
