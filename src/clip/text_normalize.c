/* openai's basic_clean / whitespace_clean / lower on code points, with Python's definitions:
 * str.strip() and str.isspace() (which include U+001C..U+001F), the `regex` module's \s (the
 * White_Space property, without them) and str.lower() (full mappings and the final sigma). */
#include <utf8proc.h>

#include "clip/text.h"

bool ct_is_regex_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool ct_is_py_space(uint32_t c) { return ct_is_regex_space(c) || (c >= 0x1C && c <= 0x1F); }

static void strip(ct_cps *t) {
    size_t a = 0, b = t->n;
    while (a < b && ct_is_py_space(t->v[a])) a++;
    while (b > a && ct_is_py_space(t->v[b - 1])) b--;
    for (size_t i = a; i < b; i++) t->v[i - a] = t->v[i];
    t->n = b - a;
}

/* `regex`.sub(r'\s+', ' ', t), in place. */
static void collapse_spaces(ct_cps *t) {
    size_t o = 0;
    bool in_space = false;
    for (size_t i = 0; i < t->n; i++) {
        bool sp = ct_is_regex_space(t->v[i]);
        if (!sp)
            t->v[o++] = t->v[i];
        else if (!in_space)
            t->v[o++] = ' ';
        in_space = sp;
    }
    t->n = o;
}

/* Python's _PyUnicode_IsCaseIgnorable: Mn, Me, Cf, Lm, Sk and the Word_Break classes
 * MidLetter, MidNumLet and Single_Quote. */
static bool case_ignorable(uint32_t c) {
    switch (c) {
    case 0x27:
    case 0x2E:
    case 0x3A:
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A: return true;
    default: break;
    }
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF ||
           cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

/* The Cased property: letters with case, and other characters that have a case mapping
 * (Roman numerals, circled letters) or are Other_Lowercase (ª, º). */
static bool cased(uint32_t c) {
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
    if (c == 0xAA || c == 0xBA) return true;
    return utf8proc_tolower((utf8proc_int32_t)c) != (utf8proc_int32_t)c ||
           utf8proc_toupper((utf8proc_int32_t)c) != (utf8proc_int32_t)c;
}

/* CPython's handle_capital_sigma: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}) */
static bool final_sigma(const uint32_t *v, size_t n, size_t i) {
    size_t j = i;
    while (j > 0 && case_ignorable(v[j - 1])) j--;
    if (j == 0 || !cased(v[j - 1])) return false;
    j = i + 1;
    while (j < n && case_ignorable(v[j])) j++;
    return j == n || !cased(v[j]);
}

ct_status ct_py_lower(ct_cps *out, const ct_cps *in) {
    out->n = 0;
    ct_status s = ct_cps_reserve(out, in->n + 8);
    for (size_t i = 0; i < in->n && !s; i++) {
        uint32_t c = in->v[i];
        if (c < 0x80) {
            if (out->n == out->cap) s = ct_cps_reserve(out, out->n + 1);
            if (!s) out->v[out->n++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        } else if (c == 0x130) { /* the one unconditional multi-character lowercase mapping */
            s = ct_cps_push(out, 'i');
            if (!s) s = ct_cps_push(out, 0x307);
        } else if (c == 0x3A3)
            s = ct_cps_push(out, final_sigma(in->v, in->n, i) ? 0x3C2 : 0x3C3);
        else
            s = ct_cps_push(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)c));
    }
    return s;
}

ct_status ct_clip_clean(ct_cps *text, ct_cps *scratch, bool ftfy) {
    ct_status s = CT_OK;
    if (ftfy) s = ct_ftfy_fix(text, scratch);
    for (int k = 0; k < 2 && !s; k++) {
        bool amp = false;
        for (size_t i = 0; i < text->n && !amp; i++) amp = text->v[i] == '&';
        if (!amp) break;
        s = ct_html_unescape(scratch, text);
        if (!s) ct_cps_swap(text, scratch);
    }
    if (s) return s;
    strip(text);
    collapse_spaces(text);
    strip(text);
    s = ct_py_lower(scratch, text);
    if (!s) ct_cps_swap(text, scratch);
    return s;
}
