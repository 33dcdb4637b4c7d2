/* Loading, initialising and saving a ConText-CIR model folder (docs/model.md section 8). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/dirio.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/rng.h"
#include "core/str.h"
#include "ctcir/image.h"
#include "ctcir/log.h"
#include "ctcir/safetensors.h"
#include "model/model.h"

#define CONFIG_MAX_BYTES (16u << 20)

int ct_eot_index(const int64_t *ids, int T) {
    int best = 0;
    for (int t = 1; t < T; t++)
        if (ids[t] > ids[best]) best = t;
    return best;
}

int ct_pack_ids(int64_t *dst, int *key_len, const int64_t *src, int n) {
    int Tn = 1;
    for (int b = 0; b < n; b++) {
        int len = ct_eot_index(src + (size_t)b * CT_CONTEXT_LENGTH, CT_CONTEXT_LENGTH) + 1;
        if (key_len) key_len[b] = len;
        if (len > Tn) Tn = len;
    }
    for (int b = 0; b < n; b++)
        memmove(dst + (size_t)b * Tn, src + (size_t)b * CT_CONTEXT_LENGTH, (size_t)Tn * sizeof *dst);
    return Tn;
}

void ct_model_update_identity(ct_model *m) {
    uint64_t h = 1469598103934665603ULL;
    const uint32_t *w = (const uint32_t *)m->params.param;
    for (size_t i = 0; i < m->params.total; i++) {
        h ^= w[i];
        h *= 1099511628211ULL;
    }
    snprintf(m->identity, sizeof m->identity, "ctcir:%016llx:%s:P%d", (unsigned long long)h,
             ct_target_mode_name(m->opt.target_mode), m->P);
}

const char *ct_model_identity(const ct_model *m) { return m->identity; }
int ct_model_image_size(const ct_model *m) { return m->S; }
int ct_model_embed_dim(const ct_model *m) { return m->P; }

void ct_model_mark_used(ct_model *m, bool freeze_vision, bool freeze_text) {
    ct_params *p = &m->params;
    const bool clip_mode = m->opt.target_mode == CT_TARGET_CLIP;
    for (int i = 0; i < p->count; i++) {
        ct_param_entry *e = &p->entries[i];
        e->used = true;
        e->frozen = false;
        if (strncmp(e->name, "vision_model.", 13) == 0 || strcmp(e->name, "visual_projection.weight") == 0)
            e->frozen = freeze_vision;
        if (strncmp(e->name, "text_model.", 11) == 0) e->frozen = freeze_text;
    }
    p->entries[m->clip.txt.proj].used = false;
    p->entries[m->clip.logit_scale].used = false;
    p->entries[m->clip.vis.proj].used = clip_mode;
    p->entries[m->clip.vis.post_w].used = clip_mode;
    p->entries[m->clip.vis.post_b].used = clip_mode;
}

static ct_status check_head_present(const ct_model *m, const char *path) {
    ct_st_file *f = NULL;
    ct_status s = ct_st_open(&f, path);
    if (s) return s;
    char missing[600] = "";
    int n_missing = 0;
    for (int i = m->first_head_param; i < m->params.count; i++) {
        const char *name = m->params.entries[i].name;
        if (ct_st_find(f, name)) continue;
        if (n_missing++ < 6) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s'%s'", len ? ", " : "", name);
        }
    }
    ct_st_close(f);
    if (n_missing)
        return ct_fail(CT_ERR_SHAPE, "model: %s: a ctcir checkpoint but %d head tensor(s) missing: %s%s", path,
                       n_missing, missing, n_missing > 6 ? ", ..." : "");
    return CT_OK;
}

/* Sizes from cfg, the parameter table (CLIP, then fusion and pool under m->opt) and its
 * allocation. weights_path, when given, is checked to be large enough before allocating (for a
 * ctcir folder, `has_head`, the head too). */
static ct_status model_build(ct_model *m, const ct_clip_config *cfg, const char *config_path, const char *weights_path,
                             bool has_head) {
    ct_status s;
    m->dv = cfg->vision.hidden_size, m->dt = cfg->text.hidden_size, m->P = cfg->projection_dim;
    m->S = cfg->vision.image_size, m->Nv = ct_clip_vision_tokens(cfg), m->T = cfg->text.max_positions;
    if (m->T != CT_CONTEXT_LENGTH)
        return ct_fail(CT_ERR_UNSUPPORTED, "model: %s: max_position_embeddings %d (ctcir needs 77)", config_path, m->T);
    if (weights_path && (s = ct_clip_check_weights_size(cfg, weights_path))) return s;
    if (m->opt.fusion_layers > CT_MAX_FUSION_LAYERS || m->opt.fusion_heads > CT_MAX_FUSION_HEADS)
        return ct_fail(CT_ERR_ARG, "model: %s: fusion_layers %d / fusion_heads %d exceed %d / %d", config_path,
                       m->opt.fusion_layers, m->opt.fusion_heads, CT_MAX_FUSION_LAYERS, CT_MAX_FUSION_HEADS);
    if ((s = ct_clip_register(&m->clip, cfg, &m->params))) return s;
    m->first_head_param = m->params.count;
    const size_t clip_floats = m->params.total;
    if ((s = ct_fusion_register(&m->fusion, &m->params, m->opt.fusion_layers, m->opt.fusion_heads, m->dv, m->dt)))
        return s;
    if ((s = ct_pool_register(&m->pool, &m->params, m->opt.fusion_heads, m->dv, m->P))) return s;
    if (has_head && weights_path) { /* the head must be in the file: bound it by the file's size before allocating */
        struct stat wst;
        const double need = (double)(m->params.total - clip_floats) * 4.0 + (double)clip_floats * 2.0;
        if (stat(weights_path, &wst) == 0 && need > (double)wst.st_size)
            return ct_fail(CT_ERR_SHAPE,
                           "model: %s: fusion_layers %d x fusion_heads %d need %.0f bytes of head weights; %s "
                           "holds %lld bytes in all",
                           config_path, m->opt.fusion_layers, m->opt.fusion_heads,
                           (double)(m->params.total - clip_floats) * 4.0, weights_path, (long long)wst.st_size);
    }
    return ct_params_alloc(&m->params);
}

/* At bf16, every matrix the products use as weights goes into the packed bf16 cache once
 * (core/blas.h); embedding tables, which are gathered rather than multiplied, do not. */
static ct_status prepare_precision(ct_model *m) {
    ct_bf16_cache_clear();
    if (ct_get_matmul_precision() != CT_PRECISION_BF16) return CT_OK;
    for (int i = 0; i < m->params.count; i++) {
        const ct_param_entry *e = &m->params.entries[i];
        if (e->ndim < 2 || strstr(e->name, "token_embedding") || strstr(e->name, "position_embedding")) continue;
        int N = (int)e->shape[0];
        ct_status s = ct_bf16_cache_add(ct_param(&m->params, i), N, (int)(e->numel / (size_t)N));
        if (s) return s;
    }
    return CT_OK;
}

/* preprocessor_config.json, when the folder has one: its size, mean and std are used for
 * every image; its crop must be the model's image size. */
static ct_status load_preprocessor(ct_model *m, const char *path) {
    m->pre_size = m->S;
    struct stat st;
    if (stat(path, &st) != 0) return CT_OK;
    int crop = 0;
    size_t n;
    ct_status s = ct_clip_preprocessor_config_load(path, &m->pre_size, &crop, m->pre_mean, m->pre_std);
    if (s) return s;
    if (crop != m->S)
        return ct_fail(CT_ERR_FORMAT, "model: %s: crop size %d differs from the model's image_size %d", path, crop,
                       m->S);
    if (m->pre_size < m->S)
        return ct_fail(CT_ERR_FORMAT, "model: %s: resize to %d is smaller than the crop %d", path, m->pre_size, m->S);
    for (int c = 0; c < 3; c++)
        if (!isfinite(m->pre_mean[c]) || !isfinite(m->pre_std[c]) || !(m->pre_std[c] > 0))
            return ct_fail(CT_ERR_FORMAT, "model: %s: image_mean/image_std must be finite with std > 0", path);
    /* kept re-indented the way every JSON file of a checkpoint is written */
    char *text;
    if ((s = ct_read_file(path, &text, &n, (size_t)1 << 20))) return s;
    cJSON *j = cJSON_Parse(text);
    free(text);
    m->preprocessor_json = j ? ct_json_print_indented(j) : NULL;
    cJSON_Delete(j);
    return m->preprocessor_json ? CT_OK : ct_fail(CT_ERR_NOMEM, "model: %s: out of memory", path);
}

ct_status ct_model_load(ct_model **out, const char *dir, const ct_cir_options *plain_options, const char *const *sets,
                        int n_sets) {
    *out = NULL;
    ct_model *m = calloc(1, sizeof *m);
    if (!m) return ct_fail(CT_ERR_NOMEM, "model: out of memory");
    ct_params_init(&m->params);
    char *config_path = ct_path_join(dir, "config.json"), *weights_path = ct_path_join(dir, "model.safetensors");
    char *vocab_path = ct_path_join(dir, "vocab.json"), *merges_path = ct_path_join(dir, "merges.txt");
    char *pre_path = ct_path_join(dir, "preprocessor_config.json");
    cJSON *config = NULL;
    size_t len;
    ct_status s;
    if (!config_path || !weights_path || !vocab_path || !merges_path || !pre_path) {
        s = ct_fail(CT_ERR_NOMEM, "model: out of memory");
        goto fail;
    }
    if ((s = ct_read_file(config_path, &m->config_json, &len, CONFIG_MAX_BYTES))) goto fail;
    ct_clip_config cfg;
    if ((s = ct_clip_config_parse(&cfg, m->config_json, config_path))) goto fail;
    config = cJSON_Parse(m->config_json);
    if (!config) {
        s = ct_fail(CT_ERR_FORMAT, "model: %s: not valid JSON", config_path);
        goto fail;
    }
    const cJSON *ctcir = cJSON_GetObjectItemCaseSensitive(config, "ctcir");
    const bool is_ctcir = ctcir && !cJSON_IsNull(ctcir);
    ct_cir_options_default(&m->opt);
    if (is_ctcir) {
        if ((s = ct_cir_options_from_json(&m->opt, ctcir, config_path))) goto fail;
    } else if (plain_options) {
        m->opt = *plain_options;
    }
    for (int i = 0; i < n_sets; i++) {
        char key[64];
        const char *value;
        if (!ct_split_kv(sets[i], key, sizeof key, &value)) {
            s = ct_fail(CT_ERR_ARG, "model: override '%s' is not key=value", sets[i]);
            goto fail;
        }
        cJSON *before = is_ctcir ? ct_cir_options_to_json(&m->opt) : NULL;
        s = ct_cir_options_set(&m->opt, key, value);
        if (s == CT_OK && before) {
            cJSON *after = ct_cir_options_to_json(&m->opt);
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(before, key),
                        *now = cJSON_GetObjectItemCaseSensitive(after, key);
            if (old && now && !cJSON_Compare(old, now, true)) {
                char *was = cJSON_PrintUnformatted(old);
                ct_log(CT_LOG_INFO, "model: %s: %s=%s replaces the folder's %s\n", config_path, key, value,
                       was ? was : "value");
                free(was);
            }
            cJSON_Delete(after);
        }
        cJSON_Delete(before);
        if (s == CT_ERR_UNSUPPORTED) {
            s = ct_fail(CT_ERR_ARG, "model: unknown model option '%s'", key);
            goto fail;
        }
        if (s) goto fail;
    }
    if ((s = model_build(m, &cfg, config_path, weights_path, is_ctcir))) goto fail;
    if ((s = ct_clip_load_weights(&m->clip, weights_path))) goto fail;
    if (is_ctcir) {
        if ((s = check_head_present(m, weights_path))) goto fail;
    } else {
        ct_rng rng;
        ct_rng_seed(&rng, m->opt.seed);
        ct_fusion_init(&m->fusion, &m->params, &rng);
        ct_pool_init(&m->pool, &m->params, &rng);
    }
    if ((s = ct_read_file(vocab_path, &m->vocab, &m->vocab_len, (size_t)1 << 30)) ||
        (s = ct_read_file(merges_path, &m->merges, &m->merges_len, (size_t)1 << 30)))
        goto fail;
    if ((s = ct_tokenizer_load_files(&m->tok, vocab_path, merges_path))) goto fail;
    if ((s = load_preprocessor(m, pre_path))) goto fail;
    memset(m->empty_ids, 0, sizeof m->empty_ids);
    m->empty_ids[0] = ct_tokenizer_sot(m->tok);
    m->empty_ids[1] = ct_tokenizer_eot(m->tok);
    ct_model_mark_used(m, false, false);
    ct_model_update_identity(m);
    if ((s = prepare_precision(m))) goto fail;
    cJSON_Delete(config);
    free(config_path), free(weights_path), free(vocab_path), free(merges_path), free(pre_path);
    *out = m;
    return CT_OK;
fail:
    cJSON_Delete(config);
    free(config_path), free(weights_path), free(vocab_path), free(merges_path), free(pre_path);
    ct_model_free(m);
    return s;
}

ct_status ct_model_synthetic(ct_model **out, const char *clip_config_path, const ct_cir_options *options,
                             uint64_t seed) {
    *out = NULL;
    ct_model *m = calloc(1, sizeof *m);
    if (!m) return ct_fail(CT_ERR_NOMEM, "model: out of memory");
    ct_params_init(&m->params);
    size_t len;
    ct_clip_config cfg;
    ct_status s;
    if (options)
        m->opt = *options;
    else
        ct_cir_options_default(&m->opt);
    if ((s = ct_read_file(clip_config_path, &m->config_json, &len, CONFIG_MAX_BYTES))) goto fail;
    if ((s = ct_clip_config_parse(&cfg, m->config_json, clip_config_path))) goto fail;
    if ((s = model_build(m, &cfg, clip_config_path, NULL, false))) goto fail;
    if ((s = ct_clip_init_random(&m->clip, seed))) goto fail;
    ct_rng rng;
    ct_rng_seed(&rng, seed + 1);
    ct_fusion_init(&m->fusion, &m->params, &rng);
    ct_pool_init(&m->pool, &m->params, &rng);
    /* no vocabulary: CLIP's special ids are the last two of the vocabulary */
    memset(m->empty_ids, 0, sizeof m->empty_ids);
    m->empty_ids[0] = cfg.text.vocab_size - 2;
    m->empty_ids[1] = cfg.text.vocab_size - 1;
    ct_model_mark_used(m, false, false);
    ct_model_update_identity(m);
    if ((s = prepare_precision(m))) goto fail;
    *out = m;
    return CT_OK;
fail:
    ct_model_free(m);
    return s;
}

void ct_model_free(ct_model *m) {
    if (!m) return;
    ct_bf16_cache_clear(); /* it may point into this model's parameters */
    ct_fusion_free(&m->fusion);
    ct_clip_free(&m->clip);
    ct_params_free(&m->params);
    ct_tokenizer_free(m->tok);
    free(m->config_json), free(m->vocab), free(m->merges), free(m->preprocessor_json);
    free(m);
}

ct_status ct_model_tokenize(const ct_model *m, const char *text, int64_t *ids) {
    int32_t tmp[CT_CONTEXT_LENGTH];
    if (!m->tok) return ct_fail(CT_ERR_ARG, "model: a synthetic model has no vocabulary; give token ids");
    ct_status s = ct_tokenize(m->tok, text, tmp, CT_CONTEXT_LENGTH, NULL);
    if (s) return s;
    for (int i = 0; i < CT_CONTEXT_LENGTH; i++) ids[i] = tmp[i];
    return CT_OK;
}

ct_status ct_model_load_image(const ct_model *m, const char *path, float *pixels) {
    ct_image img = {0};
    ct_status s = ct_image_load(&img, path);
    if (s) return s;
    s = m->preprocessor_json ? ct_clip_preprocess_norm(pixels, &img, m->pre_size, m->S, m->pre_mean, m->pre_std, NULL)
                             : ct_clip_preprocess(pixels, &img, m->S, m->S, NULL);
    ct_image_free(&img);
    return s;
}

/* What transformers' CLIPImageProcessor needs to preprocess as ctcir does, for folders that
 * came without a preprocessor_config.json. */
static ct_status write_preprocessor(const ct_model *m, const char *path) {
    if (m->preprocessor_json) return ct_write_file_atomic(path, m->preprocessor_json, strlen(m->preprocessor_json));
    char text[1024];
    int n = snprintf(
        text, sizeof text,
        "{\n  \"image_processor_type\": \"CLIPImageProcessor\",\n"
        "  \"do_resize\": true,\n  \"size\": {\n    \"shortest_edge\": %d\n  },\n  \"resample\": 3,\n"
        "  \"do_center_crop\": true,\n  \"crop_size\": {\n    \"height\": %d,\n    \"width\": %d\n  },\n"
        "  \"do_rescale\": true,\n  \"rescale_factor\": 0.00392156862745098,\n"
        "  \"do_normalize\": true,\n  \"image_mean\": [\n    0.48145466,\n    0.4578275,\n    0.40821073\n  ],\n"
        "  \"image_std\": [\n    0.26862954,\n    0.26130258,\n    0.27577711\n  ],\n  \"do_convert_rgb\": true\n}\n",
        m->S, m->S, m->S);
    return ct_write_file_atomic(path, text, (size_t)n);
}

static ct_status write_config(const ct_model *m, const char *path) {
    cJSON *config = cJSON_Parse(m->config_json);
    if (!config) return ct_fail(CT_ERR_FORMAT, "model: the original config.json no longer parses");
    cJSON_DeleteItemFromObjectCaseSensitive(config, "ctcir");
    cJSON *opts = ct_cir_options_to_json(&m->opt);
    if (!opts) {
        cJSON_Delete(config);
        return ct_fail(CT_ERR_NOMEM, "model: out of memory");
    }
    cJSON_AddItemToObject(config, "ctcir", opts);
    char *text = ct_json_print_indented(config);
    cJSON_Delete(config);
    if (!text) return ct_fail(CT_ERR_NOMEM, "model: out of memory");
    ct_status s = ct_write_file_atomic(path, text, strlen(text));
    free(text);
    return s;
}

ct_status ct_params_add_block(ct_st_writer *w, const ct_params *p, const float *block, const char *prefix) {
    char name[CT_PARAM_NAME_MAX + 16];
    ct_status s = CT_OK;
    for (int i = 0; i < p->count && !s; i++) {
        const ct_param_entry *e = &p->entries[i];
        snprintf(name, sizeof name, "%s%s", prefix, e->name);
        s = ct_st_writer_add(w, name, CT_DT_F32, e->ndim, e->shape, block + e->offset);
    }
    return s;
}

ct_status ct_model_save_weights(const ct_model *m, const char *path) {
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s) return s;
    if (!(s = ct_st_writer_meta(w, "format", "pt")) && !(s = ct_params_add_block(w, &m->params, m->params.param, "")))
        s = ct_st_writer_save(w, path);
    ct_st_writer_free(w);
    return s;
}

ct_status ct_model_write_files(const ct_model *m, const char *dir) {
    char path[4200];
    ct_status s;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((s = write_config(m, path))) return s;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if ((s = ct_model_save_weights(m, path))) return s;
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    if ((s = ct_write_file_atomic(path, m->vocab, m->vocab_len))) return s;
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    if ((s = ct_write_file_atomic(path, m->merges, m->merges_len))) return s;
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    return write_preprocessor(m, path);
}

ct_status ct_model_save(const ct_model *m, const char *dir) {
    char tmp[4096];
    ct_status s = ct_dir_begin(dir, tmp, sizeof tmp);
    if (s) return s;
    if ((s = ct_model_write_files(m, tmp))) {
        ct_remove_dir(tmp);
        return s;
    }
    return ct_dir_commit(tmp, dir);
}
