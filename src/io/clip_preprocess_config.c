/* preprocessor_config.json (Hugging Face CLIPImageProcessor / CLIPFeatureExtractor). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "ctcir/image.h"

#define PREPROC_MAX_BYTES (1 << 20)

static ct_status read_small_file(const char *path, char **out) {
    *out = NULL;
    FILE *f;
    if (ct_fopen_regular(path, &f)) return ct_fail(CT_ERR_IO, "preprocessor config: %s", ct_error());
    ct_status st = CT_OK;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        st = ct_fail(CT_ERR_IO, "preprocessor config: %s: cannot seek", path);
        goto fail;
    }
    long n = ftell(f);
    if (n < 0 || n > PREPROC_MAX_BYTES) {
        st =
            ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: size %ld outside 0..%d bytes", path, n, PREPROC_MAX_BYTES);
        goto fail;
    }
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf) {
        st = ct_fail(CT_ERR_NOMEM, "preprocessor config: %s: out of memory", path);
        goto fail;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        st = ct_fail(CT_ERR_IO, "preprocessor config: %s: short read", path);
        goto fail;
    }
    buf[n] = '\0';
    fclose(f);
    *out = buf;
    return CT_OK;
fail:
    free(buf);
    fclose(f);
    return st;
}

/* A positive integer given as a JSON number (n must be integral). */
static int as_pos_int(const cJSON *j, int *v) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 1 && d <= 1 << 20) || d != (double)(int)d) return 0;
    *v = (int)d;
    return 1;
}

/* `key` unset, or a JSON boolean that must be true. */
static int flag_ok(const cJSON *root, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    return !j || cJSON_IsNull(j) || !cJSON_IsFalse(j);
}

static ct_status read_triplet(const cJSON *root, const char *key, float dst[3], const char *path) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return CT_OK;
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 3)
        return ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: '%s' must be an array of 3 numbers", path, key);
    for (int c = 0; c < 3; c++) {
        const cJSON *e = cJSON_GetArrayItem(j, c);
        if (!cJSON_IsNumber(e))
            return ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: '%s'[%d] is not a number", path, key, c);
        dst[c] = (float)e->valuedouble;
    }
    return CT_OK;
}

static ct_status parse_config(const cJSON *root, const char *path, int *size, int *crop, float mean[3], float std[3]) {
    if (!cJSON_IsObject(root)) return ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: not a JSON object", path);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "size");
    if (s && !cJSON_IsNull(s)) {
        const cJSON *se = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, "shortest_edge") : s;
        if (cJSON_IsObject(s) && !se)
            return ct_fail(CT_ERR_UNSUPPORTED,
                           "preprocessor config: %s: 'size' without "
                           "'shortest_edge' (a fixed height x width resize) is not supported",
                           path);
        if (!as_pos_int(se, size))
            return ct_fail(CT_ERR_FORMAT,
                           "preprocessor config: %s: 'size' must be a positive "
                           "integer or {\"shortest_edge\": n}",
                           path);
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "crop_size");
    if (c && !cJSON_IsNull(c)) {
        if (cJSON_IsObject(c)) {
            int ch = 0, cw = 0;
            if (!as_pos_int(cJSON_GetObjectItemCaseSensitive(c, "height"), &ch) ||
                !as_pos_int(cJSON_GetObjectItemCaseSensitive(c, "width"), &cw))
                return ct_fail(CT_ERR_FORMAT,
                               "preprocessor config: %s: 'crop_size' needs positive "
                               "integer 'height' and 'width'",
                               path);
            if (ch != cw)
                return ct_fail(CT_ERR_UNSUPPORTED,
                               "preprocessor config: %s: non-square crop %d x %d "
                               "is not supported",
                               path, cw, ch);
            *crop = ch;
        } else if (!as_pos_int(c, crop)) {
            return ct_fail(CT_ERR_FORMAT,
                           "preprocessor config: %s: 'crop_size' must be a positive "
                           "integer or {\"height\": n, \"width\": n}",
                           path);
        }
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "resample");
    if (rs && !cJSON_IsNull(rs) && !(cJSON_IsNumber(rs) && rs->valuedouble == 3))
        return ct_fail(CT_ERR_UNSUPPORTED,
                       "preprocessor config: %s: only 'resample': 3 (bicubic) is "
                       "supported",
                       path);
    static const char *flags[] = {"do_resize", "do_center_crop", "do_normalize"};
    for (int i = 0; i < 3; i++)
        if (!flag_ok(root, flags[i]))
            return ct_fail(CT_ERR_UNSUPPORTED, "preprocessor config: %s: '%s': false is not supported", path, flags[i]);
    ct_status st = read_triplet(root, "image_mean", mean, path);
    if (st == CT_OK) st = read_triplet(root, "image_std", std, path);
    if (st != CT_OK) return st;
    for (int i = 0; i < 3; i++)
        if (!(std[i] > 0.0f))
            return ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: image_std[%d] = %g must be > 0", path, i,
                           (double)std[i]);
    return CT_OK;
}

ct_status ct_clip_preprocessor_config_load(const char *path, int *size, int *crop, float mean[3], float std[3]) {
    if (!path || !size || !crop || !mean || !std) return ct_fail(CT_ERR_ARG, "preprocessor config: NULL argument");
    char *file = NULL, *text = NULL;
    cJSON *root = NULL;
    ct_status st = CT_OK;
    struct stat sb;
    size_t n = strlen(path) + sizeof "/preprocessor_config.json";
    file = malloc(n);
    if (!file) return ct_fail(CT_ERR_NOMEM, "preprocessor config: out of memory");
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(file, n, "%s/preprocessor_config.json", path);
    else
        snprintf(file, n, "%s", path);
    if ((st = read_small_file(file, &text)) != CT_OK) goto fail;
    root = cJSON_Parse(text);
    if (!root) {
        st = ct_fail(CT_ERR_FORMAT, "preprocessor config: %s: invalid JSON", file);
        goto fail;
    }
    int sz = 224, cr = 224;
    float m[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    float sd[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    if ((st = parse_config(root, file, &sz, &cr, m, sd)) != CT_OK) goto fail;
    *size = sz;
    *crop = cr;
    memcpy(mean, m, sizeof m);
    memcpy(std, sd, sizeof sd);
fail:
    cJSON_Delete(root);
    free(text);
    free(file);
    return st;
}
