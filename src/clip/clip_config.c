/* HF config.json for CLIPModel, with transformers' precedence and defaults. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "core/fileio.h"

#define CONFIG_MAX_BYTES (16u << 20)
/* 4G scalars (16 GB as F32, twice ViT-bigG); beyond this a config is refused, not allocated. */
#define CLIP_MAX_PARAMS  ((size_t)1 << 32)

void ct_clip_config_defaults(ct_clip_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    ct_clip_tower_config *t = &cfg->text, *v = &cfg->vision;
    t->vocab_size = 49408;
    t->hidden_size = 512;
    t->intermediate_size = 2048;
    t->num_layers = 12;
    t->num_heads = 8;
    t->max_positions = 77;
    t->act = CT_ACT_QUICK_GELU;
    t->layer_norm_eps = 1e-5f;
    t->projection_dim = 512;
    v->hidden_size = 768;
    v->intermediate_size = 3072;
    v->num_layers = 12;
    v->num_heads = 12;
    v->num_channels = 3;
    v->image_size = 224;
    v->patch_size = 32;
    v->act = CT_ACT_QUICK_GELU;
    v->layer_norm_eps = 1e-5f;
    v->projection_dim = 512;
    cfg->projection_dim = 512;
}

/* A positive integer key; absent keeps the default. */
static ct_status get_int(const cJSON *obj, const char *key, int *dst, const char *what, const char *sect) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return CT_OK;
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble || it->valuedouble < 1 ||
        it->valuedouble > 1e7)
        return ct_fail(CT_ERR_FORMAT, "clip config: %s: %s%s: expected a positive integer", what, sect, key);
    *dst = (int)it->valuedouble;
    return CT_OK;
}

static ct_status read_tower(ct_clip_tower_config *t, const cJSON *obj, bool text, const char *what, const char *sect) {
    ct_status s;
#define INT_KEY(k, f)                                                                                                  \
    if ((s = get_int(obj, k, &t->f, what, sect)) != CT_OK) return s
    INT_KEY("hidden_size", hidden_size);
    INT_KEY("intermediate_size", intermediate_size);
    INT_KEY("num_hidden_layers", num_layers);
    INT_KEY("num_attention_heads", num_heads);
    INT_KEY("projection_dim", projection_dim);
    if (text) {
        INT_KEY("vocab_size", vocab_size);
        INT_KEY("max_position_embeddings", max_positions);
    } else {
        INT_KEY("image_size", image_size);
        INT_KEY("patch_size", patch_size);
        INT_KEY("num_channels", num_channels);
    }
#undef INT_KEY
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(obj, "layer_norm_eps");
    if (eps) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0 && eps->valuedouble < 1))
            return ct_fail(CT_ERR_FORMAT, "clip config: %s: %slayer_norm_eps: expected a number in (0,1)", what, sect);
        t->layer_norm_eps = (float)eps->valuedouble;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(obj, "hidden_act");
    if (act) {
        if (!cJSON_IsString(act))
            return ct_fail(CT_ERR_FORMAT, "clip config: %s: %shidden_act: expected a string", what, sect);
        if (strcmp(act->valuestring, "quick_gelu") == 0)
            t->act = CT_ACT_QUICK_GELU;
        else if (strcmp(act->valuestring, "gelu") == 0)
            t->act = CT_ACT_GELU;
        else
            return ct_fail(CT_ERR_UNSUPPORTED,
                           "clip config: %s: %shidden_act \"%s\" is not supported (use \"quick_gelu\" or \"gelu\")",
                           what, sect, act->valuestring);
    }
    if (t->hidden_size % t->num_heads)
        return ct_fail(CT_ERR_FORMAT, "clip config: %s: %shidden_size %d is not a multiple of num_attention_heads %d",
                       what, sect, t->hidden_size, t->num_heads);
    if (!text && t->patch_size > t->image_size)
        return ct_fail(CT_ERR_FORMAT, "clip config: %s: %spatch_size %d exceeds image_size %d", what, sect,
                       t->patch_size, t->image_size);
    /* Bounds far above any released CLIP (ViT-bigG: width 1664, MLP 8192, 48 layers) that keep
     * every size product below overflow; the total is bounded in ct_clip_config_parse. */
    static const struct {
        const char *key;
        int max;
        size_t off;
        bool vision_only;
    } lim[] = {
        {"hidden_size", 16384, offsetof(ct_clip_tower_config, hidden_size), false},
        {"intermediate_size", 65536, offsetof(ct_clip_tower_config, intermediate_size), false},
        {"num_hidden_layers", 1024, offsetof(ct_clip_tower_config, num_layers), false},
        {"projection_dim", 16384, offsetof(ct_clip_tower_config, projection_dim), false},
        {"image_size", 8192, offsetof(ct_clip_tower_config, image_size), true},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (lim[i].vision_only && text) continue;
        const int v = *(const int *)((const char *)t + lim[i].off);
        if (v > lim[i].max)
            return ct_fail(CT_ERR_FORMAT, "clip config: %s: %s%s %d exceeds the limit %d", what, sect, lim[i].key, v,
                           lim[i].max);
    }
    if (!text && t->num_channels != 3)
        return ct_fail(CT_ERR_UNSUPPORTED, "clip config: %s: %snum_channels %d (only 3 is supported)", what, sect,
                       t->num_channels);
    return CT_OK;
}

/* `name_dict` when present and not null wins over `name`; either must be an object. */
static ct_status pick_section(const cJSON *root, const char *name, const cJSON **out, char *sect, size_t cap,
                              const char *what) {
    char key[64];
    snprintf(key, sizeof key, "%s_dict", name);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, key);
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsObject(d)) return ct_fail(CT_ERR_FORMAT, "clip config: %s: %s: expected an object", what, key);
        *out = d;
        snprintf(sect, cap, "%s.", key);
        return CT_OK;
    }
    d = cJSON_GetObjectItemCaseSensitive(root, name);
    if (d && !cJSON_IsNull(d) && !cJSON_IsObject(d))
        return ct_fail(CT_ERR_FORMAT, "clip config: %s: %s: expected an object", what, name);
    *out = d && cJSON_IsObject(d) ? d : NULL;
    snprintf(sect, cap, "%s.", name);
    return CT_OK;
}

ct_status ct_clip_config_parse(ct_clip_config *cfg, const char *json, const char *what) {
    ct_clip_config_defaults(cfg);
    cJSON *root = cJSON_Parse(json);
    if (!root) return ct_fail(CT_ERR_FORMAT, "clip config: %s: not valid JSON", what);
    ct_status s = CT_OK;
    if (!cJSON_IsObject(root)) {
        s = ct_fail(CT_ERR_FORMAT, "clip config: %s: expected a JSON object", what);
        goto fail;
    }
    if ((s = get_int(root, "projection_dim", &cfg->projection_dim, what, "")) != CT_OK) goto fail;
    const cJSON *sec;
    char sect[96];
    if ((s = pick_section(root, "text_config", &sec, sect, sizeof sect, what)) != CT_OK) goto fail;
    if (sec && (s = read_tower(&cfg->text, sec, true, what, sect)) != CT_OK) goto fail;
    if ((s = pick_section(root, "vision_config", &sec, sect, sizeof sect, what)) != CT_OK) goto fail;
    if (sec && (s = read_tower(&cfg->vision, sec, false, what, sect)) != CT_OK) goto fail;
    if (cfg->projection_dim > 16384) {
        s = ct_fail(CT_ERR_FORMAT, "clip config: %s: projection_dim %d exceeds the limit 16384", what,
                    cfg->projection_dim);
        goto fail;
    }
    const size_t count = ct_clip_param_count(cfg);
    if (count > CLIP_MAX_PARAMS) {
        s = ct_fail(CT_ERR_FORMAT, "clip config: %s: describes %.3g parameters (at most %.3g)", what, (double)count,
                    (double)CLIP_MAX_PARAMS);
        goto fail;
    }
fail:
    cJSON_Delete(root);
    return s;
}

ct_status ct_clip_config_load(ct_clip_config *cfg, const char *path) {
    FILE *f;
    if (ct_fopen_regular(path, &f)) return ct_fail(CT_ERR_IO, "clip config: %s", ct_error());
    char *buf = NULL;
    ct_status s = CT_OK;
    if (fseek(f, 0, SEEK_END) != 0) goto io;
    long n = ftell(f);
    if (n < 0) goto io;
    if ((unsigned long)n > CONFIG_MAX_BYTES) {
        s = ct_fail(CT_ERR_FORMAT, "clip config: %s: %ld bytes (at most %u)", path, n, CONFIG_MAX_BYTES);
        goto fail;
    }
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf) {
        s = ct_fail(CT_ERR_NOMEM, "clip config: %s: out of memory", path);
        goto fail;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) goto io;
    buf[n] = '\0';
    s = ct_clip_config_parse(cfg, buf, path);
    goto fail;
io:
    s = ct_fail(CT_ERR_IO, "clip config: %s: read error", path);
fail:
    free(buf);
    fclose(f);
    return s;
}

int ct_clip_vision_tokens(const ct_clip_config *cfg) {
    int g = cfg->vision.image_size / cfg->vision.patch_size;
    return g * g + 1;
}

static size_t encoder_params(const ct_clip_tower_config *t) {
    size_t D = (size_t)t->hidden_size, F = (size_t)t->intermediate_size;
    size_t layer = 4 * (D * D + D) + 2 * (2 * D) + (D * F + F) + (F * D + D);
    return (size_t)t->num_layers * layer;
}

size_t ct_clip_param_count(const ct_clip_config *cfg) {
    const ct_clip_tower_config *t = &cfg->text, *v = &cfg->vision;
    size_t P = (size_t)cfg->projection_dim;
    size_t text = (size_t)t->vocab_size * t->hidden_size + (size_t)t->max_positions * t->hidden_size +
                  encoder_params(t) + 2 * (size_t)t->hidden_size + P * t->hidden_size;
    size_t Dv = (size_t)v->hidden_size, p = (size_t)v->patch_size;
    size_t vision = Dv + Dv * v->num_channels * p * p + (size_t)ct_clip_vision_tokens(cfg) * Dv + 2 * 2 * Dv +
                    encoder_params(v) + P * Dv;
    return text + vision + 1;
}
