/* The deterministic fixes of ftfy.fix_text (ftfy 6.x, default TextFixerConfig), in its order:
 * HTML entities (unless the line holds '<'), C1 controls as Windows-1252, Latin ligatures,
 * full-width characters, curly quotes, line breaks, terminal escapes, control characters,
 * NFC; repeated until nothing changes. Left out: mojibake repair (fix_encoding). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "clip/text.h"

typedef ct_status (*fix_fn)(ct_cps *out, const ct_cps *in);

static ct_status push_all(ct_cps *out, const utf8proc_int32_t *v, utf8proc_ssize_t n) {
    ct_status s = CT_OK;
    for (utf8proc_ssize_t i = 0; i < n && !s; i++) s = ct_cps_push(out, (uint32_t)v[i]);
    return s;
}

/* Compatibility decomposition of one character, recomposed (NFKC of a single character). */
static ct_status push_nfkc(ct_cps *out, uint32_t c) {
    uint8_t in[4];
    int n = ct_utf8_put(c, in);
    utf8proc_uint8_t *res = NULL;
    utf8proc_ssize_t len = utf8proc_map(in, n, &res, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    if (len < 0) return ct_fail(CT_ERR_NOMEM, "ftfy: NFKC of U+%04X failed: %s", (unsigned)c, utf8proc_errmsg(len));
    ct_status s = ct_utf8_decode(out, (const char *)res, (size_t)len, NULL);
    free(res);
    return s;
}

static ct_status fix_c1_controls(ct_cps *out, const ct_cps *in) {
    for (size_t i = 0; i < in->n; i++) out->v[out->n++] = ct_cp1252_c1(in->v[i]);
    return CT_OK;
}

static bool is_latin_ligature(uint32_t c) {
    return c == 0x132 || c == 0x133 || c == 0x149 || (c >= 0x1C4 && c <= 0x1CC) || (c >= 0x1F1 && c <= 0x1F3) ||
           (c >= 0xFB00 && c <= 0xFB06);
}

static ct_status fix_latin_ligatures(ct_cps *out, const ct_cps *in) {
    ct_status s = CT_OK;
    for (size_t i = 0; i < in->n && !s; i++) {
        uint32_t c = in->v[i];
        if (!is_latin_ligature(c))
            s = ct_cps_push(out, c);
        else if (c == 0xFB05) { /* ftfy keeps the long s: U+FB05 -> "ſt" */
            s = ct_cps_push(out, 0x17F);
            if (!s) s = ct_cps_push(out, 't');
        } else
            s = push_nfkc(out, c);
    }
    return s;
}

static ct_status fix_character_width(ct_cps *out, const ct_cps *in) {
    ct_status s = CT_OK;
    for (size_t i = 0; i < in->n && !s; i++) {
        uint32_t c = in->v[i];
        if (c == 0x3000)
            s = ct_cps_push(out, ' ');
        else if (c >= 0xFF01 && c <= 0xFFEF)
            s = push_nfkc(out, c);
        else
            s = ct_cps_push(out, c);
    }
    return s;
}

static ct_status uncurl_quotes(ct_cps *out, const ct_cps *in) {
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B))
            c = '\'';
        else if (c >= 0x201C && c <= 0x201F)
            c = '"';
        out->v[out->n++] = c;
    }
    return CT_OK;
}

static ct_status fix_line_breaks(ct_cps *out, const ct_cps *in) {
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        if (c == '\r' && i + 1 < in->n && in->v[i + 1] == '\n') continue;
        if (c == '\r' || c == 0x2028 || c == 0x2029 || c == 0x85) c = '\n';
        out->v[out->n++] = c;
    }
    return CT_OK;
}

static bool is_decimal(uint32_t c) {
    return c < 0x80 ? (c >= '0' && c <= '9') : utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

/* \033\[((?:\d|;)*)([a-zA-Z]) */
static ct_status remove_terminal_escapes(ct_cps *out, const ct_cps *in) {
    size_t i = 0;
    while (i < in->n) {
        if (in->v[i] == 0x1B && i + 1 < in->n && in->v[i + 1] == '[') {
            size_t k = i + 2;
            while (k < in->n && (is_decimal(in->v[k]) || in->v[k] == ';')) k++;
            if (k < in->n && ((in->v[k] | 0x20) >= 'a' && (in->v[k] | 0x20) <= 'z')) {
                i = k + 1;
                continue;
            }
        }
        out->v[out->n++] = in->v[i++];
    }
    return CT_OK;
}

static ct_status remove_control_chars(ct_cps *out, const ct_cps *in) {
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->v[i];
        bool drop = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
                    c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
        if (!drop) out->v[out->n++] = c;
    }
    return CT_OK;
}

static ct_status normalize_nfc(ct_cps *out, const ct_cps *in) {
    bool simple = true; /* below U+0300 every character is NFC-stable */
    for (size_t i = 0; i < in->n && simple; i++) simple = in->v[i] < 0x300;
    if (simple) return ct_cps_append(out, in->v, in->n);
    utf8proc_int32_t *buf = NULL;
    size_t cap = in->n * 4 + 16;
    ct_status s = CT_OK;
    for (;;) {
        buf = malloc(cap * sizeof *buf);
        if (!buf) return ct_fail(CT_ERR_NOMEM, "ftfy: out of memory for NFC of %zu code points", in->n);
        /* decompose canonically (with reordering), then compose */
        utf8proc_ssize_t len = 0;
        for (size_t i = 0; i < in->n && len >= 0 && (size_t)len <= cap; i++) {
            int lbc = 0;
            utf8proc_ssize_t k = utf8proc_decompose_char((utf8proc_int32_t)in->v[i], buf + len,
                                                         (utf8proc_ssize_t)cap - len, UTF8PROC_DECOMPOSE, &lbc);
            len = k < 0 ? k : len + k;
        }
        if (len >= 0 && (size_t)len > cap) {
            free(buf);
            cap = (size_t)len * 2;
            continue;
        }
        if (len < 0) {
            s = ct_fail(CT_ERR_FORMAT, "ftfy: NFC failed: %s", utf8proc_errmsg(len));
            break;
        }
        /* canonical ordering: stable insertion sort of combining marks by class */
        for (utf8proc_ssize_t i = 1; i < len; i++) {
            int cc = utf8proc_get_property(buf[i])->combining_class;
            if (cc == 0) continue;
            utf8proc_ssize_t j = i;
            while (j > 0) {
                int pc = utf8proc_get_property(buf[j - 1])->combining_class;
                if (pc <= cc) break;
                utf8proc_int32_t t = buf[j];
                buf[j] = buf[j - 1];
                buf[j - 1] = t;
                j--;
            }
        }
        len = utf8proc_normalize_utf32(buf, len, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        if (len < 0)
            s = ct_fail(CT_ERR_FORMAT, "ftfy: NFC failed: %s", utf8proc_errmsg(len));
        else
            s = push_all(out, buf, len);
        break;
    }
    free(buf);
    return s;
}

/* One segment (up to and including a '\n'), fixed until stable. */
static ct_status fix_segment(ct_cps *seg, ct_cps *tmp, bool unescape) {
    static const fix_fn fixes[] = {fix_c1_controls, fix_latin_ligatures,     fix_character_width,  uncurl_quotes,
                                   fix_line_breaks, remove_terminal_escapes, remove_control_chars, normalize_nfc};
    ct_cps orig = {0};
    ct_status s = CT_OK;
    for (int iter = 0; iter < 32 && !s; iter++) {
        s = ct_cps_append(&orig, seg->v, seg->n);
        for (int f = -1; f < (int)(sizeof fixes / sizeof fixes[0]) && !s; f++) {
            if (f < 0 && !unescape) continue;
            tmp->n = 0;
            s = ct_cps_reserve(tmp, seg->n);
            if (!s) s = f < 0 ? ct_ftfy_unescape(tmp, seg) : fixes[f](tmp, seg);
            if (!s) ct_cps_swap(seg, tmp);
        }
        bool same = orig.n == seg->n && memcmp(orig.v, seg->v, seg->n * sizeof *seg->v) == 0;
        orig.n = 0;
        if (same) break;
    }
    ct_cps_free(&orig);
    return s;
}

ct_status ct_ftfy_fix(ct_cps *text, ct_cps *scratch) {
    /* printable ASCII without '&' (and tabs, newlines) is left as it is by every fix */
    bool plain = true;
    for (size_t i = 0; i < text->n && plain; i++) {
        uint32_t c = text->v[i];
        plain = (c >= 0x20 && c < 0x7F && c != '&') || c == '\t' || c == '\n';
    }
    if (plain) return CT_OK;
    ct_cps out = {0}, seg = {0};
    bool unescape = true;
    ct_status s = ct_cps_reserve(&out, text->n);
    size_t pos = 0;
    while (pos < text->n && !s) {
        size_t end = pos;
        while (end < text->n && text->v[end] != '\n') end++;
        if (end < text->n) end++;
        seg.n = 0;
        s = ct_cps_append(&seg, text->v + pos, end - pos);
        for (size_t i = pos; i < end && unescape; i++)
            if (text->v[i] == '<') unescape = false;
        if (!s) s = fix_segment(&seg, scratch, unescape);
        if (!s) s = ct_cps_append(&out, seg.v, seg.n);
        pos = end;
    }
    if (!s) ct_cps_swap(text, &out);
    ct_cps_free(&out);
    ct_cps_free(&seg);
    return s;
}
