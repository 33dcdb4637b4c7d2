/* Growable code-point buffers and UTF-8 conversion with Python's replacement rules. */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

ct_status ct_cps_reserve(ct_cps *b, size_t n) {
    if (n <= b->cap) return CT_OK;
    if (n > ((size_t)1 << 40) / sizeof(uint32_t)) return ct_fail(CT_ERR_NOMEM, "text: %zu code points is too long", n);
    size_t cap = b->cap ? b->cap : 64;
    while (cap < n) cap *= 2;
    uint32_t *v = realloc(b->v, cap * sizeof *v);
    if (!v) return ct_fail(CT_ERR_NOMEM, "text: out of memory for %zu code points", cap);
    b->v = v;
    b->cap = cap;
    return CT_OK;
}

ct_status ct_cps_reset(ct_cps *b, size_t n) {
    b->n = 0;
    return ct_cps_reserve(b, n);
}

ct_status ct_cps_push(ct_cps *b, uint32_t c) {
    if (b->n == b->cap) {
        ct_status s = ct_cps_reserve(b, b->n + 1);
        if (s) return s;
    }
    b->v[b->n++] = c;
    return CT_OK;
}

ct_status ct_cps_append(ct_cps *b, const uint32_t *v, size_t n) {
    ct_status s = ct_cps_reserve(b, b->n + n);
    if (s) return s;
    memcpy(b->v + b->n, v, n * sizeof *v);
    b->n += n;
    return CT_OK;
}

void ct_cps_swap(ct_cps *a, ct_cps *b) {
    ct_cps t = *a;
    *a = *b;
    *b = t;
}

void ct_cps_free(ct_cps *b) {
    if (!b) return;
    free(b->v);
    b->v = NULL;
    b->n = b->cap = 0;
}

/* Length of the well-formed prefix of a sequence starting with lead byte s[0] (1..4), or the
 * length of its maximal ill-formed subpart as a negative number. */
static int utf8_seq(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return -1;
    uint32_t v = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return -i;
        uint8_t b = s[i];
        if (b < lo || b > hi) return -i;
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return len;
}

ct_status ct_utf8_decode(ct_cps *out, const char *str, size_t n, size_t *n_bad) {
    const uint8_t *s = (const uint8_t *)str;
    size_t bad = 0;
    ct_status st = ct_cps_reserve(out, out->n + n);
    if (st) return st;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int k = utf8_seq(s + i, n - i, &cp);
        if (k < 0) {
            cp = 0xFFFD;
            k = -k;
            bad++;
        }
        out->v[out->n++] = cp;
        i += (size_t)k;
    }
    if (n_bad) *n_bad = bad;
    return CT_OK;
}

int ct_utf8_put(uint32_t c, uint8_t out[4]) {
    if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = 0xFFFD;
    if (c < 0x80) {
        out[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (uint8_t)(0xC0 | (c >> 6));
        out[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (c >> 12));
        out[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (c >> 18));
    out[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}
