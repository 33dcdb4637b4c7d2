/* `ctcir init`: a model config file + a vocabulary folder -> a randomly initialised CLIP
 * folder in Hugging Face's layout (config.json, model.safetensors, vocab.json, merges.txt,
 * preprocessor_config.json), written atomically. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clip/clip.h"
#include "core/dirio.h"
#include "core/fileio.h"
#include "ctcir/tokenizer.h"

#define MODEL_CONFIG_MAX_BYTES (1u << 20)
#define VOCAB_MAX_BYTES        ((size_t)256 << 20)
/* 2^31 floats = 8 GiB of weights: far above anything worth training from scratch here. */
#define MAX_INIT_PARAMS        ((size_t)1 << 31)

/* The text tower's section as transformers picks it (text_config_dict wins when not null). */
static cJSON *text_section(cJSON *root) {
    cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "text_config_dict");
    if (d && cJSON_IsObject(d)) return d;
    d = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    return d && cJSON_IsObject(d) ? d : NULL;
}

/* Replaces text vocab_size "auto" by n; any other string is an error. */
static ct_status resolve_vocab_size(cJSON *root, int n, const char *path) {
    cJSON *sec = text_section(root);
    cJSON *vs = sec ? cJSON_GetObjectItemCaseSensitive(sec, "vocab_size") : NULL;
    if (!vs || !cJSON_IsString(vs)) return CT_OK;
    if (strcmp(vs->valuestring, "auto") != 0)
        return ct_fail(CT_ERR_FORMAT, "init: %s: text_config.vocab_size \"%s\": expected a number or \"auto\"", path,
                       vs->valuestring);
    cJSON *num = cJSON_CreateNumber(n);
    if (!num || !cJSON_ReplaceItemInObjectCaseSensitive(sec, "vocab_size", num)) {
        cJSON_Delete(num);
        return ct_fail(CT_ERR_NOMEM, "init: out of memory");
    }
    return CT_OK;
}

/* ct_clip_config_to_json with the vocabulary's own special ids. */
static char *config_text(const ct_clip_config *cfg, int sot, int eot) {
    char *base = ct_clip_config_to_json(cfg), *text = NULL;
    cJSON *root = base ? cJSON_Parse(base) : NULL;
    cJSON *sec = root ? text_section(root) : NULL;
    if (sec && cJSON_ReplaceItemInObjectCaseSensitive(sec, "bos_token_id", cJSON_CreateNumber(sot)) &&
        cJSON_ReplaceItemInObjectCaseSensitive(sec, "eos_token_id", cJSON_CreateNumber(eot)))
        text = cJSON_Print(root);
    cJSON_Delete(root);
    free(base);
    return text;
}

/* What transformers' CLIPImageProcessor needs to preprocess at the model's size (ctcir's own
 * preprocessing uses the same constants). */
static ct_status write_preprocessor(const char *path, int S) {
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "{\n  \"image_processor_type\": \"CLIPImageProcessor\",\n"
                     "  \"do_resize\": true,\n  \"size\": {\"shortest_edge\": %d},\n  \"resample\": 3,\n"
                     "  \"do_center_crop\": true,\n  \"crop_size\": {\"height\": %d, \"width\": %d},\n"
                     "  \"do_rescale\": true,\n  \"rescale_factor\": 0.00392156862745098,\n"
                     "  \"do_normalize\": true,\n  \"image_mean\": [0.48145466, 0.4578275, 0.40821073],\n"
                     "  \"image_std\": [0.26862954, 0.26130258, 0.27577711],\n  \"do_convert_rgb\": true\n}\n",
                     S, S, S);
    return ct_write_file_atomic(path, text, (size_t)n);
}

static ct_status copy_file(const char *from, const char *to) {
    char *data;
    size_t n;
    ct_status s = ct_read_file(from, &data, &n, VOCAB_MAX_BYTES);
    if (s) return s;
    s = ct_write_file_atomic(to, data, n);
    free(data);
    return s;
}

/* 0: missing, 1: an empty folder, 2: anything else. */
static int out_state(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode)) return 2;
    DIR *d = opendir(dir);
    if (!d) return 2;
    struct dirent *e;
    int state = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) state = 2;
    closedir(d);
    return state;
}

static ct_status write_folder(const ct_clip *m, const char *tmp, const char *config_json, const char *vocab_dir) {
    char path[4400], from[4400];
    ct_status s;
    snprintf(path, sizeof path, "%s/config.json", tmp);
    if ((s = ct_write_file_atomic(path, config_json, strlen(config_json)))) return s;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    if ((s = ct_clip_save_weights(m, path))) return s;
    snprintf(path, sizeof path, "%s/preprocessor_config.json", tmp);
    if ((s = write_preprocessor(path, m->cfg.vision.image_size))) return s;
    static const char *const files[] = {"vocab.json", "merges.txt"};
    for (int i = 0; i < 2; i++) {
        snprintf(from, sizeof from, "%s/%s", vocab_dir, files[i]);
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        if ((s = copy_file(from, path))) return s;
    }
    return CT_OK;
}

ct_status ct_clip_init_folder(const ct_clip_init_args *a, ct_clip_config *cfg_out) {
    char *text = NULL, *resolved = NULL, *config_json = NULL, *vocab_dir = NULL, out[4096], tmp[4200];
    size_t len;
    cJSON *root = NULL;
    ct_tokenizer *tok = NULL;
    ct_params params;
    ct_clip m;
    bool registered = false, tmp_made = false;
    ct_params_init(&params);
    ct_status s;
    /* "dir/" would put the temporary folder inside dir */
    size_t n = strlen(a->out_dir);
    while (n > 1 && a->out_dir[n - 1] == '/') n--;
    if (n == 0 || n >= sizeof out) return ct_fail(CT_ERR_ARG, "init: bad output folder '%s'", a->out_dir);
    memcpy(out, a->out_dir, n);
    out[n] = '\0';
    int state = out_state(out);
    if (state == 2 && !a->force)
        return ct_fail(CT_ERR_ARG, "init: %s exists and is not an empty folder (use --force to replace it)", out);

    if ((s = ct_read_file(a->config_path, &text, &len, MODEL_CONFIG_MAX_BYTES))) goto fail;
    root = cJSON_ParseWithOpts(text, NULL, 1); /* nothing may follow the object */
    if (!root || !cJSON_IsObject(root)) {
        s = ct_fail(CT_ERR_FORMAT, "init: %s: not one JSON object", a->config_path);
        goto fail;
    }
    /* transformers would take defaults for a missing section (ViT-B/32 sizes); a model config
     * for `init` that describes neither tower is a mistake */
    if (!text_section(root) || !(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "vision_config")) ||
                                 cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "vision_config_dict")))) {
        s = ct_fail(CT_ERR_FORMAT, "init: %s: needs \"text_config\" and \"vision_config\" objects", a->config_path);
        goto fail;
    }
    const cJSON *vk = cJSON_GetObjectItemCaseSensitive(root, "vocab");
    if (vk && !cJSON_IsNull(vk) && !cJSON_IsString(vk)) {
        s = ct_fail(CT_ERR_FORMAT, "init: %s: \"vocab\": expected a folder name (string)", a->config_path);
        goto fail;
    }
    vocab_dir = strdup(a->vocab_dir ? a->vocab_dir : cJSON_IsString(vk) ? vk->valuestring : "");
    if (!vocab_dir) {
        s = ct_fail(CT_ERR_NOMEM, "init: out of memory");
        goto fail;
    }
    if (!*vocab_dir) {
        s = ct_fail(CT_ERR_ARG,
                    "init: no vocabulary: give --vocab DIR (made by `ctcir bpe-train`) or a \"vocab\" key in %s",
                    a->config_path);
        goto fail;
    }
    if ((s = ct_tokenizer_load_dir(&tok, vocab_dir))) goto fail;
    const int n_vocab = ct_tokenizer_vocab_size(tok);
    if ((s = resolve_vocab_size(root, n_vocab, a->config_path))) goto fail;
    if (!(resolved = cJSON_Print(root))) {
        s = ct_fail(CT_ERR_NOMEM, "init: out of memory");
        goto fail;
    }
    ct_clip_config cfg;
    if ((s = ct_clip_config_parse(&cfg, resolved, a->config_path))) goto fail;
    if (cfg.text.vocab_size < n_vocab) {
        s = ct_fail(CT_ERR_FORMAT,
                    "init: %s: text_config.vocab_size %d is smaller than the vocabulary in %s (%d ids); use \"auto\"",
                    a->config_path, cfg.text.vocab_size, vocab_dir, n_vocab);
        goto fail;
    }
    size_t count = ct_clip_param_count(&cfg);
    if (count > MAX_INIT_PARAMS) {
        s = ct_fail(CT_ERR_ARG, "init: %s: %zu parameters (at most %zu)", a->config_path, count, MAX_INIT_PARAMS);
        goto fail;
    }
    if ((s = ct_clip_register(&m, &cfg, &params))) goto fail;
    registered = true;
    if ((s = ct_params_alloc(&params))) goto fail;
    if ((s = ct_clip_init_random(&m, a->seed))) goto fail;
    config_json = config_text(&cfg, ct_tokenizer_sot(tok), ct_tokenizer_eot(tok));
    if (!config_json) {
        s = ct_fail(CT_ERR_NOMEM, "init: out of memory");
        goto fail;
    }
    if ((s = ct_dir_begin(out, tmp, sizeof tmp))) goto fail;
    tmp_made = true;
    if ((s = write_folder(&m, tmp, config_json, vocab_dir))) goto fail;
    if ((s = ct_dir_commit(tmp, out))) goto fail;
    tmp_made = false;
    if (cfg_out) *cfg_out = cfg;
fail:
    if (tmp_made) ct_remove_dir(tmp);
    if (registered) ct_clip_free(&m);
    ct_params_free(&params);
    ct_tokenizer_free(tok);
    cJSON_Delete(root);
    free(text), free(resolved), free(config_json), free(vocab_dir);
    return s;
}
