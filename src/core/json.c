/* JSON files and fields (core/json.h). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"

#define CT_JSON_MAX_FILE ((size_t)4 << 30)

bool ct_json_has_nul(const char *s) { return s && strstr(s, CT_JSON_NUL_MARK) != NULL; }

/* Counts the \u0000 escapes inside JSON strings of text; with `out` (a copy of text), turns
 * each into \uffff there. One pass that follows string boundaries and escapes. */
static size_t nul_escapes(const char *text, size_t len, char *out) {
    bool in_str = false;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!in_str) {
            in_str = c == '"';
        } else if (c == '"') {
            in_str = false;
        } else if (c == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 6 <= len && memcmp(text + i + 2, "0000", 4) == 0) {
                n++;
                if (out) memcpy(out + i + 2, "ffff", 4);
            }
            i++; /* the escaped character */
        }
    }
    return n;
}

ct_status ct_json_parse(const char *path, const char *text, size_t len, size_t line_base, cJSON **out) {
    const char *end = NULL;
    char *copy = NULL;
    if (nul_escapes(text, len, NULL)) {
        /* Same length, so the error positions below stay right. */
        copy = malloc(len + 1);
        if (!copy) return ct_fail(CT_ERR_NOMEM, "%s: out of memory", path);
        memcpy(copy, text, len);
        copy[len] = 0;
        nul_escapes(text, len, copy);
        text = copy;
    }
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (j) {
        /* Only whitespace may follow the value. */
        const char *p = end;
        while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p == text + len) {
            *out = j;
            free(copy);
            return CT_OK;
        }
        cJSON_Delete(j);
        end = p;
    } else if (!end || end < text || end > text + len) {
        end = cJSON_GetErrorPtr();
        if (!end || end < text || end > text + len) end = text;
    }
    size_t line = 1, col = 1;
    for (const char *p = text; p < end; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else
            col++;
    }
    free(copy);
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

bool ct_double_to_i64(double d, int64_t lo, int64_t hi, int64_t *out) {
    /* Compare in double first: only then is the cast defined. +-2^63 are exact doubles. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) return false;
    int64_t v = (int64_t)d;
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool ct_json_int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out) {
    return cJSON_IsNumber(v) && ct_double_to_i64(v->valuedouble, lo, hi, out);
}

bool ct_json_put_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &c);
        if (n < 1) { /* an invalid byte: U+FFFD, then resynchronise on the next byte */
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", (char)c);
        else if (c == '\n')
            fputs("\\n", f); /* the short escapes json.dumps uses */
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\b')
            fputs("\\b", f);
        else if (c == '\f')
            fputs("\\f", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", (unsigned)c);
        else
            fwrite(p, 1, (size_t)n, f);
        p += n;
    }
    fputc('"', f);
    return !ferror(f);
}

char *ct_json_print(const cJSON *j, bool formatted) {
    char *text = formatted ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    if (!text) return NULL;
    size_t n = strlen(text), bad = 0;
    for (size_t i = 0; i < n;) {
        int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(n - i), &c);
        if (k < 1) {
            bad++;
            i++;
        } else
            i += (size_t)k;
    }
    if (!bad) return text;
    /* Outside strings cJSON writes ASCII only, so every bad byte sits inside a string. */
    char *out = malloc(n + bad * 5 + 1), *o = out;
    if (out)
        for (size_t i = 0; i < n;) {
            int32_t c;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(n - i), &c);
            if (k < 1) {
                memcpy(o, "\\ufffd", 6);
                o += 6;
                i++;
            } else {
                memcpy(o, text + i, (size_t)k);
                o += k;
                i += (size_t)k;
            }
        }
    if (out) *o = 0;
    cJSON_free(text);
    return out;
}

char *ct_json_id_string(const cJSON *v) {
    if (cJSON_IsString(v)) return ct_strdup(v->valuestring);
    int64_t i;
    if (ct_json_int_in(v, -(INT64_C(1) << 53), INT64_C(1) << 53, &i)) return ct_strprintf("%lld", (long long)i);
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
        if (allow_absent) {
            *n_out = -1;
            return true;
        }
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
        if (!l[i]) {
            ct_str_list_free(l, i);
            return false;
        }
        i++;
    }
    *out = l;
    *n_out = n;
    return true;
}

/* Re-indents cJSON's compact text: a newline and `depth` x 2 spaces after '{', '[' and ',',
 * before '}' and ']'; ": " after keys; empty objects and lists stay "{}" / "[]". Strings are
 * copied untouched (escapes included). */
char *ct_json_print_indented(const cJSON *j) {
    char *flat = ct_json_print(j, false);
    if (!flat) return NULL;
    size_t n = strlen(flat), depth = 0, cap = n * 2 + 64, len = 0;
    char *out = malloc(cap);
    if (!out) {
        free(flat);
        return NULL;
    }
    bool in_str = false;
#define PUT(c)                                                                                                         \
    do {                                                                                                               \
        if (len + 1 >= cap) {                                                                                          \
            char *grown = realloc(out, cap *= 2);                                                                      \
            if (!grown) {                                                                                              \
                free(out), free(flat);                                                                                 \
                return NULL;                                                                                           \
            }                                                                                                          \
            out = grown;                                                                                               \
        }                                                                                                              \
        out[len++] = (c);                                                                                              \
    } while (0)
#define NEWLINE()                                                                                                      \
    do {                                                                                                               \
        PUT('\n');                                                                                                     \
        for (size_t k_ = 0; k_ < depth * 2; k_++) PUT(' ');                                                            \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        const char c = flat[i];
        if (in_str) {
            PUT(c);
            if (c == '\\' && i + 1 < n)
                PUT(flat[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            PUT(c);
            break;
        case '{':
        case '[':
            PUT(c);
            if (i + 1 < n && (flat[i + 1] == '}' || flat[i + 1] == ']')) {
                PUT(flat[++i]);
                break;
            }
            depth++;
            NEWLINE();
            break;
        case '}':
        case ']':
            depth--;
            NEWLINE();
            PUT(c);
            break;
        case ',':
            PUT(c);
            NEWLINE();
            break;
        case ':':
            PUT(c);
            PUT(' ');
            break;
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
