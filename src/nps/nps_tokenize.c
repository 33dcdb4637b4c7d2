/* Tokeniser of the noun-phrase extractor: words, numbers, clitics and punctuation, as byte
 * ranges of the caption (so a phrase is always a substring of it). */
#include <ctype.h>
#include <string.h>

#include "nps/nps_internal.h"

static bool is_alpha_byte(unsigned char c) { return isalpha(c) || c >= 0x80; }
static bool is_alnum_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* Length of an apostrophe at s (ASCII ' or U+2019 ’), 0 if none. */
static int apostrophe_len(const unsigned char *s, const unsigned char *end) {
    if (s < end && *s == '\'') return 1;
    if (end - s >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0x99) return 3;
    return 0;
}

/* Length of a general-punctuation character (U+2000..U+206F: dashes, curly quotes,
 * ellipsis) or of a Latin-1 punctuation sign (U+00A1..U+00BF, U+00D7, U+00F7). */
static int utf8_punct_len(const unsigned char *s, const unsigned char *end) {
    if (end - s >= 3 && s[0] == 0xE2 && (s[1] == 0x80 || s[1] == 0x81)) return 3;
    if (end - s >= 2 && s[0] == 0xC2 && s[1] >= 0xA1 && s[1] <= 0xBF) return 2;
    if (end - s >= 2 && s[0] == 0xC3 && (s[1] == 0x97 || s[1] == 0xB7)) return 2;
    return 0;
}

static bool is_space_at(const unsigned char *s, const unsigned char *end, int *len) {
    if (s < end && isspace(*s)) {
        *len = 1;
        return true;
    }
    if (end - s >= 2 && s[0] == 0xC2 && s[1] == 0xA0) {
        *len = 2;
        return true;
    }
    return false;
}

/* Clitic after an apostrophe at s: 's 're 've 'll 'd 'm (case-insensitive), not followed
 * by a letter. Returns its length including the apostrophe, 0 if none. */
static int clitic_len(const unsigned char *s, const unsigned char *end) {
    int a = apostrophe_len(s, end);
    if (!a) return 0;
    static const char *const cl[] = {"s", "re", "ve", "ll", "d", "m"};
    const unsigned char *p = s + a;
    for (int i = 0; i < 6; i++) {
        int k = (int)strlen(cl[i]);
        if (end - p < k) continue;
        int j = 0;
        while (j < k && tolower(p[j]) == cl[i][j]) j++;
        if (j == k && (p + k == end || !is_alnum_byte(p[k]))) return a + k;
    }
    return 0;
}

/* "n't" at s (n, apostrophe, t, then no letter): its length, else 0. */
static int nt_len(const unsigned char *s, const unsigned char *end) {
    if (s >= end || tolower(*s) != 'n') return 0;
    int a = apostrophe_len(s + 1, end);
    if (!a) return 0;
    const unsigned char *t = s + 1 + a;
    if (t < end && tolower(*t) == 't' && (t + 1 == end || !is_alnum_byte(t[1]))) return 2 + a;
    return 0;
}

/* Abbreviations that keep their final period. */
static bool is_abbrev(const unsigned char *s, int len) {
    static const char *const ab[] = {"mr",   "mrs", "ms",     "dr",   "st",   "jr",  "sr",  "prof", "inc",
                                     "corp", "co",  "ltd",    "vs",   "etc",  "jan", "feb", "mar",  "apr",
                                     "jun",  "jul", "aug",    "sep",  "sept", "oct", "nov", "dec",  "no",
                                     "mt",   "ft",  "approx", "dept", "gov",  "gen", "rep", "sen",  "bros"};
    if (len > 6) return false;
    char w[8];
    for (int i = 0; i < len; i++) w[i] = (char)tolower(s[i]);
    w[len] = '\0';
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++)
        if (strcmp(w, ab[i]) == 0) return true;
    return false;
}

/* End of the word starting at s (a letter or digit). */
static const unsigned char *scan_word(const unsigned char *s, const unsigned char *end) {
    const unsigned char *p = s;
    while (p < end) {
        if (is_alnum_byte(*p) && !utf8_punct_len(p, end)) {
            if (nt_len(p, end) && p > s) return p; /* "do|n't" */
            p++;
            continue;
        }
        /* hyphen or slash joining two alphanumerics: long-sleeved, 3-inch, and/or */
        if ((*p == '-' || *p == '/') && p + 1 < end && is_alnum_byte(p[1]) && p > s) {
            p++;
            continue;
        }
        /* decimal point or thousands comma between digits: 2.5, 1,000 */
        if ((*p == '.' || *p == ',') && p > s && isdigit(p[-1]) && p + 1 < end && isdigit(p[1])) {
            p++;
            continue;
        }
        int a = apostrophe_len(p, end);
        if (a && p + a < end && is_alpha_byte(p[a]) && !clitic_len(p, end) && !nt_len(p - 1, end)) {
            p += a; /* o'clock, rock'n'roll */
            continue;
        }
        break;
    }
    /* U.S. / e.g.: single letters separated by periods */
    if (p < end && *p == '.' && p - s == 1 && p + 2 < end && isalpha(p[1]) && p[2] == '.') {
        while (p + 2 < end && *p == '.' && isalpha(p[1]) && p[2] == '.') p += 2;
        return p + 1;
    }
    if (p < end && *p == '.' && is_abbrev(s, (int)(p - s))) return p + 1;
    return p;
}

int nps_tokenize(const char *caption, int len, nps_token *tok, int cap) {
    const unsigned char *base = (const unsigned char *)caption, *end = base + len, *s = base;
    int n = 0;
    while (s < end && n < cap) {
        int sl;
        if (is_space_at(s, end, &sl)) {
            s += sl;
            continue;
        }
        const unsigned char *e;
        int k;
        bool after_word = n > 0 && tok[n - 1].end == (int)(s - base);
        if (after_word && (k = clitic_len(s, end)) > 0)
            e = s + k;
        else if (after_word && (k = nt_len(s, end)) > 0)
            e = s + k;
        else if ((k = utf8_punct_len(s, end)) > 0)
            e = s + k;
        else if (is_alnum_byte(*s))
            e = scan_word(s, end);
        else
            e = s + 1;
        tok[n].start = (int)(s - base);
        tok[n].end = (int)(e - base);
        tok[n].lex = 0;
        tok[n].tag = NPS_OTHER;
        tok[n].flags = 0;
        n++;
        s = e;
    }
    return n;
}

void nps_token_lower(const char *caption, const nps_token *t, char *buf, int size) {
    int k = 0;
    for (int i = t->start; i < t->end && k < size - 1; i++) {
        unsigned char c = (unsigned char)caption[i];
        buf[k++] = (char)tolower(c);
    }
    buf[k] = '\0';
}
