/* HTML character references, with the exact rules of Python's html.unescape and of ftfy's
 * stricter entity fixer. The name table (html_entities.inc) is the WHATWG list. */
#include <string.h>

#include "clip/text.h"

typedef struct {
    const char *name;
    uint32_t cp[3];
} html_entity;

#include "clip/html_entities.inc"

#define N_HTML5 (sizeof html5_entities / sizeof html5_entities[0])
#define N_UPPER (sizeof upper_entities / sizeof upper_entities[0])

static const html_entity *lookup(const html_entity *table, size_t n, const char *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(table[mid].name, name);
        if (c == 0) return &table[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static ct_status push_entity(ct_cps *out, const html_entity *e) {
    ct_status s = CT_OK;
    for (int k = 0; k < 3 && e->cp[k] && !s; k++) s = ct_cps_push(out, e->cp[k]);
    return s;
}

uint32_t ct_cp1252_c1(uint32_t c) {
    static const uint16_t c1[32] = {0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
                                    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
    return c >= 0x80 && c <= 0x9F ? c1[c - 0x80] : c;
}

/* Python's _replace_charref for a numeric reference; `big` when the digits exceed 0x10FFFF.
 * Writes 0 or 1 code points. */
static ct_status push_numeric(ct_cps *out, uint32_t num, bool big) {
    if (!big) {
        if (num == 0) return ct_cps_push(out, 0xFFFD);
        if (num == 0x0D) return ct_cps_push(out, 0x0D);
        if (num >= 0x80 && num <= 0x9F) return ct_cps_push(out, ct_cp1252_c1(num));
    }
    if (big || num > 0x10FFFF || (num >= 0xD800 && num <= 0xDFFF)) return ct_cps_push(out, 0xFFFD);
    bool invalid = (num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) ||
                   (num >= 0x7F && num <= 0x9F) || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE;
    return invalid ? CT_OK : ct_cps_push(out, num);
}

static int hexval(uint32_t c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

/* Parses `#[0-9]+;?` or `#[xX][0-9a-fA-F]+;?` at v[i] == '#'. Returns the length consumed
 * (0: no match). */
static size_t parse_numeric(const uint32_t *v, size_t n, size_t i, uint32_t *num, bool *big, bool *semi) {
    size_t k = i + 1;
    int base = 10;
    if (k < n && (v[k] == 'x' || v[k] == 'X')) {
        base = 16;
        k++;
    }
    size_t start = k;
    uint64_t val = 0;
    *big = false;
    for (; k < n; k++) {
        int d = base == 16 ? hexval(v[k]) : (v[k] >= '0' && v[k] <= '9' ? (int)(v[k] - '0') : -1);
        if (d < 0) break;
        val = val * (uint64_t)base + (uint64_t)d;
        if (val > 0x10FFFF) {
            *big = true;
            val = 0x110000;
        }
    }
    if (k == start) return 0;
    *num = (uint32_t)val;
    *semi = k < n && v[k] == ';';
    return k + (*semi ? 1 : 0) - i;
}

static bool name_char(uint32_t c) {
    return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

ct_status ct_html_unescape(ct_cps *out, const ct_cps *in) {
    ct_status s = ct_cps_reset(out, in->n);
    const uint32_t *v = in->v;
    size_t i = 0, n = in->n;
    while (i < n && !s) {
        if (v[i] != '&' || i + 1 >= n) {
            s = ct_cps_push(out, v[i++]);
            continue;
        }
        if (v[i + 1] == '#') {
            uint32_t num;
            bool big, semi;
            size_t len = parse_numeric(v, n, i + 1, &num, &big, &semi);
            if (len == 0)
                s = ct_cps_push(out, v[i++]); /* '#' is not a name character */
            else {
                s = push_numeric(out, num, big);
                i += 1 + len;
            }
            continue;
        }
        /* named: [^\t\n\f <&#;]{1,32};? */
        size_t j = i + 1, k = j;
        while (k < n && k - j < 32 && name_char(v[k])) k++;
        if (k == j) {
            s = ct_cps_push(out, v[i++]);
            continue;
        }
        size_t len = k - j + (k < n && v[k] == ';' ? 1 : 0);
        char name[34];
        for (size_t q = 0; q < len; q++) name[q] = v[j + q] < 0x80 ? (char)v[j + q] : '\x01';
        name[len] = '\0';
        const html_entity *e = lookup(html5_entities, N_HTML5, name);
        size_t used = len;
        for (size_t x = len - 1; !e && x >= 2; x--) {
            name[x] = '\0';
            e = lookup(html5_entities, N_HTML5, name);
            used = x;
        }
        if (e) {
            s = push_entity(out, e);
            if (!s) s = ct_cps_append(out, v + j + used, len - used);
        } else
            s = ct_cps_append(out, v + i, 1 + len);
        i = j + len;
    }
    return s;
}

static bool is_alnum_ascii(uint32_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

ct_status ct_ftfy_unescape(ct_cps *out, const ct_cps *in) {
    ct_status s = ct_cps_reset(out, in->n);
    const uint32_t *v = in->v;
    size_t i = 0, n = in->n;
    while (i < n && !s) {
        /* &#?[0-9A-Za-z]{1,24}; */
        size_t j = i + 1, k;
        bool hash = v[i] == '&' && j < n && v[j] == '#';
        if (hash) j++;
        for (k = j; k < n && k - j <= 24 && is_alnum_ascii(v[k]); k++) {}
        if (v[i] != '&' || k == j || k - j > 24 || k >= n || v[k] != ';') {
            s = ct_cps_push(out, v[i++]);
            continue;
        }
        size_t end = k + 1;
        if (!hash) {
            char name[26];
            for (size_t q = j; q <= k; q++) name[q - j] = (char)v[q];
            name[k + 1 - j] = '\0';
            const html_entity *e = lookup(html5_entities, N_HTML5, name);
            if (!e) e = lookup(upper_entities, N_UPPER, name);
            s = e ? push_entity(out, e) : ct_cps_append(out, v + i, end - i);
        } else {
            /* html.unescape of the whole match; kept as is unless the ';' was consumed */
            uint32_t num;
            bool big, semi;
            size_t len = parse_numeric(v, end, i + 1, &num, &big, &semi);
            if (len == end - i - 1 && (big || num != ';'))
                s = push_numeric(out, num, big);
            else
                s = ct_cps_append(out, v + i, end - i);
        }
        i = end;
    }
    return s;
}
