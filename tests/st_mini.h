/* A tiny safetensors reader for the image tests only (U8 and F32, whole file in memory), so
 * that they do not depend on the library's own safetensors module. */
#ifndef CTCIR_TEST_ST_MINI_H
#define CTCIR_TEST_ST_MINI_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

typedef struct {
    uint8_t *buf;
    size_t len;
    cJSON *header;
    size_t data_start;
} st_mini;

static inline int st_mini_open(st_mini *s, const char *path) {
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s->buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!s->buf || fread(s->buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(s->buf);
        return 0;
    }
    fclose(f);
    s->len = (size_t)n;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | s->buf[i];
    if (s->len < 8 || hl > s->len - 8) return 0;
    s->header = cJSON_ParseWithLength((const char *)s->buf + 8, (size_t)hl);
    s->data_start = 8 + (size_t)hl;
    return s->header != NULL;
}

static inline void st_mini_close(st_mini *s) {
    cJSON_Delete(s->header);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* Returns the data of tensor `name` if its dtype matches; shape into dims[0..*ndim). */
static inline const void *st_mini_get(const st_mini *s, const char *name, const char *dtype,
                                      int64_t *dims, int *ndim) {
    cJSON *t = cJSON_GetObjectItemCaseSensitive(s->header, name);
    if (!t) return NULL;
    cJSON *dt = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
    cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    if (!cJSON_IsString(dt) || strcmp(dt->valuestring, dtype) != 0 || !cJSON_IsArray(sh) ||
        !cJSON_IsArray(off))
        return NULL;
    int n = 0;
    size_t numel = 1;
    cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        if (n < 8) dims[n] = (int64_t)d->valuedouble;
        numel *= (size_t)d->valuedouble;
        n++;
    }
    *ndim = n;
    size_t b = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    size_t e = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
    size_t esz = strcmp(dtype, "F32") == 0 ? 4 : 1;
    if (e < b || e - b != numel * esz || s->data_start + e > s->len) return NULL;
    return s->buf + s->data_start + b;
}

#endif
