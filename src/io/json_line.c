/* A strict decoder for a single JSON string literal per line. */
#include <stdint.h>
#include <stdlib.h>

#include "core/utf8.h"
#include "ctcir/json_line.h"

static int hex4(const char *s, size_t n, size_t i, uint32_t *v) {
    if (i + 4 > n) return 0;
    *v = 0;
    for (size_t k = i; k < i + 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return 0;
        *v = *v << 4 | (uint32_t)d;
    }
    return 1;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

ct_status ct_json_string_line(const char *s, size_t n, char **out, size_t *out_len) {
    *out = NULL;
    size_t i = 0;
    while (i < n && is_blank(s[i])) i++;
    if (i >= n || s[i] != '"') return ct_fail(CT_ERR_FORMAT, "expected a JSON string (\"...\") at column %zu", i + 1);
    char *o = malloc(n + 1); /* escapes never decode longer than they are written */
    if (!o) return ct_fail(CT_ERR_NOMEM, "out of memory for a line of %zu bytes", n);
    size_t k = 0;
    for (i++;; i++) {
        if (i >= n) {
            free(o);
            return ct_fail(CT_ERR_FORMAT, "unterminated JSON string");
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"') break;
        if (c < 0x20) {
            free(o);
            return ct_fail(CT_ERR_FORMAT, "raw control character 0x%02X in a JSON string at column %zu (escape it)", c,
                           i + 1);
        }
        if (c != '\\') {
            o[k++] = (char)c;
            continue;
        }
        if (++i >= n) {
            free(o);
            return ct_fail(CT_ERR_FORMAT, "unterminated JSON string");
        }
        uint32_t cp;
        switch (s[i]) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u':
            if (!hex4(s, n, i + 1, &cp)) {
                free(o);
                return ct_fail(CT_ERR_FORMAT, "bad \\u escape at column %zu", i);
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (i + 2 < n && s[i + 1] == '\\' && s[i + 2] == 'u' && hex4(s, n, i + 3, &lo) && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else
                    cp = 0xFFFD;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF)
                cp = 0xFFFD;
            k += (size_t)ct_utf8_put(cp, (uint8_t *)o + k);
            break;
        default: free(o); return ct_fail(CT_ERR_FORMAT, "bad escape '\\%c' at column %zu", s[i], i);
        }
    }
    for (i++; i < n && is_blank(s[i]); i++) {}
    if (i < n) {
        free(o);
        return ct_fail(CT_ERR_FORMAT, "unexpected text after the JSON string at column %zu", i + 1);
    }
    o[k] = '\0';
    *out = o;
    *out_len = k;
    return CT_OK;
}
