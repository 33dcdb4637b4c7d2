/* JSON files and fields (core/json.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"

#define CT_JSON_MAX_FILE ((size_t)4 << 30)

ct_status ct_json_parse(const char *path, const char *text, size_t len, size_t line_base, cJSON **out) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (j) {
        /* Only whitespace may follow the value. */
        const char *p = end;
        while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p == text + len) { *out = j; return CT_OK; }
        cJSON_Delete(j);
        end = p;
    } else if (!end || end < text || end > text + len) {
        end = cJSON_GetErrorPtr();
        if (!end || end < text || end > text + len) end = text;
    }
    size_t line = 1, col = 1;
    for (const char *p = text; p < end; p++) {
        if (*p == '\n') { line++; col = 1; }
        else col++;
    }
    return ct_fail(CT_ERR_FORMAT, "%s: malformed JSON at line %zu, column %zu", path, line + line_base, col);
}

ct_status ct_json_load(const char *path, cJSON **out) {
    char *text;
    size_t len;
    ct_status st = ct_read_file(path, &text, &len, CT_JSON_MAX_FILE);
    if (st) return st;
    st = ct_json_parse(path, text, len, 0, out);
    free(text);
    return st;
}

ct_status ct_json_load_list(const char *path, cJSON **out, const char *what) {
    ct_status st = ct_json_load(path, out);
    if (st) return st;
    if (cJSON_IsArray(*out)) return CT_OK;
    cJSON_Delete(*out);
    *out = NULL;
    return ct_fail(CT_ERR_FORMAT, "%s: expected a JSON list of %s", path, what);
}

const char *ct_json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *ct_json_id_string(const cJSON *v) {
    if (cJSON_IsString(v)) return ct_strdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d < -9e15 || d > 9e15 || d != (double)(int64_t)d) return NULL;
        return ct_strprintf("%lld", (long long)(int64_t)d);
    }
    return NULL;
}

void ct_str_list_free(char **l, int n) {
    if (!l) return;
    for (int i = 0; i < n; i++) free(l[i]);
    free(l);
}

bool ct_json_str_list(const cJSON *o, const char *key, bool allow_absent, int *n_out, char ***out) {
    *out = NULL;
    *n_out = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a) {
        if (allow_absent) { *n_out = -1; return true; }
        return false;
    }
    if (!cJSON_IsArray(a)) return false;
    int n = cJSON_GetArraySize(a);
    char **l = calloc(n > 0 ? (size_t)n : 1, sizeof *l);
    if (!l) return false;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        l[i] = ct_json_id_string(e);
        if (!l[i]) { ct_str_list_free(l, i); return false; }
        i++;
    }
    *out = l;
    *n_out = n;
    return true;
}

/* Re-indents cJSON's compact text: a newline and `depth` x 2 spaces after '{', '[' and ',',
 * before '}' and ']'; ": " after keys; empty objects and lists stay "{}" / "[]". Strings are
 * copied untouched (escapes included). */
char *ct_json_print(const cJSON *j) {
    char *flat = cJSON_PrintUnformatted(j);
    if (!flat) return NULL;
    size_t n = strlen(flat), depth = 0, cap = n * 2 + 64, len = 0;
    char *out = malloc(cap);
    if (!out) { free(flat); return NULL; }
    bool in_str = false;
#define PUT(c)                                                                                 \
    do {                                                                                       \
        if (len + 1 >= cap) {                                                                  \
            char *grown = realloc(out, cap *= 2);                                              \
            if (!grown) { free(out), free(flat); return NULL; }                                \
            out = grown;                                                                       \
        }                                                                                      \
        out[len++] = (c);                                                                      \
    } while (0)
#define NEWLINE()                                                                              \
    do {                                                                                       \
        PUT('\n');                                                                             \
        for (size_t k_ = 0; k_ < depth * 2; k_++) PUT(' ');                                    \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        const char c = flat[i];
        if (in_str) {
            PUT(c);
            if (c == '\\' && i + 1 < n) PUT(flat[++i]);
            else if (c == '"') in_str = false;
            continue;
        }
        switch (c) {
        case '"': in_str = true; PUT(c); break;
        case '{': case '[':
            PUT(c);
            if (i + 1 < n && (flat[i + 1] == '}' || flat[i + 1] == ']')) { PUT(flat[++i]); break; }
            depth++;
            NEWLINE();
            break;
        case '}': case ']':
            depth--;
            NEWLINE();
            PUT(c);
            break;
        case ',': PUT(c); NEWLINE(); break;
        case ':': PUT(c); PUT(' '); break;
        default: PUT(c);
        }
    }
    PUT('\n');
    out[len] = '\0';
#undef NEWLINE
#undef PUT
    free(flat);
    return out;
}
