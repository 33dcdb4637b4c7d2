/* The CLIP pre-tokenizer: the regex of openai's simple_tokenizer.py, run as the `regex`
 * module runs it (leftmost match, alternatives in order, IGNORECASE), by hand. */
#include <utf8proc.h>

#include "clip/text.h"

/* Simple case folding as IGNORECASE compares: after str.lower() only U+017F (long s) still
 * folds onto an ASCII letter. */
static uint32_t fold(uint32_t c) { return c == 0x17F ? 's' : c; }

enum { CLS_SPACE, CLS_LETTER, CLS_NUMBER, CLS_OTHER, CLS_NONE };

static int char_class(uint32_t c) {
    if (c < 0x80) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return CLS_LETTER;
        if (c >= '0' && c <= '9') return CLS_NUMBER;
        return ct_is_regex_space(c) ? CLS_SPACE : CLS_OTHER;
    }
    if (ct_is_regex_space(c)) return CLS_SPACE;
    /* U+0345 folds to iota: with IGNORECASE it is neither in [\p{L}] nor in [^\s\p{L}\p{N}] */
    if (c == 0x345) return CLS_NONE;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: return CLS_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return CLS_NUMBER;
    default: return CLS_OTHER;
    }
}

/* Does the ASCII literal `lit` match at v[i] (with folding)? Returns its length or 0. */
static size_t literal(const uint32_t *v, size_t n, size_t i, const char *lit) {
    size_t k = 0;
    for (; lit[k]; k++)
        if (i + k >= n || fold(v[i + k]) != (uint32_t)(unsigned char)lit[k]) return 0;
    return k;
}

bool ct_clip_next_word(const uint32_t *v, size_t n, size_t *pos, size_t *start, size_t *end) {
    static const char *const lits[] = {"<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    for (size_t i = *pos; i < n; i++) {
        size_t len = 0;
        if (v[i] == '<' || v[i] == '\'')
            for (size_t k = 0; k < sizeof lits / sizeof lits[0] && !len; k++) len = literal(v, n, i, lits[k]);
        if (!len) {
            int cls = char_class(v[i]);
            if (cls == CLS_SPACE || cls == CLS_NONE) continue;
            len = 1;
            if (cls != CLS_NUMBER)
                while (i + len < n && char_class(v[i + len]) == cls) len++;
        }
        *start = i;
        *end = *pos = i + len;
        return true;
    }
    *pos = n;
    return false;
}
