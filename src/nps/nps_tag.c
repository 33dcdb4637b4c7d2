/* Part-of-speech tagger of the noun-phrase extractor: lexicon + morphology + suffix rules
 * give each word its possible classes; one left-to-right pass of context rules picks one.
 * Nothing is learnt: every rule is written here. */
#include <ctype.h>
#include <string.h>

#include "nps/nps_internal.h"

#define WORD_MAX 64

static bool ends_with(const char *w, int len, const char *suf) {
    int k = (int)strlen(suf);
    return len >= k && memcmp(w + len - k, suf, (size_t)k) == 0;
}

/* Lexicon mask of w[0..keep) + add (a stem with an ending restored), 0 if absent. */
static int stem_lookup(const char *w, int keep, const char *add) {
    char b[WORD_MAX + 4];
    if (keep < 1 || keep + (int)strlen(add) < 3 || keep + (int)strlen(add) >= (int)sizeof b) return 0;
    memcpy(b, w, (size_t)keep);
    strcpy(b + keep, add);
    return nps_lexicon_lookup(b);
}

/* Classes of an inflected form whose stem is in the lexicon: plurals and 3rd person
 * -s, -ed, -ing, comparatives/superlatives and -ly adverbs. 0 when no stem is found. */
static int inflected(const char *w, int len, int *flags) {
    int m;
    if (ends_with(w, len, "ies") && (m = stem_lookup(w, len - 3, "y")) & (LX_NOUN | LX_VERB))
        return m & (LX_NOUN | LX_VERB);
    if (ends_with(w, len, "s") && !ends_with(w, len, "ss") && !ends_with(w, len, "us")) {
        m = stem_lookup(w, len - 1, "");
        if (!(m & (LX_NOUN | LX_VERB)) && ends_with(w, len, "es")) m = stem_lookup(w, len - 2, "");
        if (m & (LX_NOUN | LX_VERB)) return m & (LX_NOUN | LX_VERB);
    }
    if (ends_with(w, len, "ing") && len > 4) {
        int k = len - 3;
        m = stem_lookup(w, k, "");
        if (!(m & LX_VERB)) m = stem_lookup(w, k, "e");
        if (!(m & LX_VERB) && k > 2 && w[k - 1] == w[k - 2]) m = stem_lookup(w, k - 1, "");
        if (!(m & LX_VERB) && ends_with(w, len, "ying")) m = stem_lookup(w, len - 4, "ie");
        if (m & LX_VERB) {
            *flags |= TF_ING;
            return LX_VERB | LX_ADJ;
        }
    }
    if (ends_with(w, len, "ed") && len > 3) {
        int k = len - 2;
        m = stem_lookup(w, k, "");
        if (!(m & (LX_VERB | LX_NOUN))) m = stem_lookup(w, k, "e");
        if (!(m & (LX_VERB | LX_NOUN)) && k > 2 && w[k - 1] == w[k - 2]) m = stem_lookup(w, k - 1, "");
        if (!(m & (LX_VERB | LX_NOUN)) && ends_with(w, len, "ied")) m = stem_lookup(w, len - 3, "y");
        if (m & LX_VERB) {
            *flags |= TF_ED;
            return LX_VERB | LX_ADJ;
        }
        if (m & LX_NOUN) { /* striped, hooded, colored, photographed */
            *flags |= TF_ED;
            return LX_ADJ | LX_VERB;
        }
    }
    const char *cmp[] = {"er", "est"};
    for (int c = 0; c < 2; c++) {
        if (!ends_with(w, len, cmp[c])) continue;
        int k = len - (int)strlen(cmp[c]);
        m = stem_lookup(w, k, "");
        if (!(m & LX_ADJ)) m = stem_lookup(w, k, "e");
        if (!(m & LX_ADJ) && k > 2 && w[k - 1] == w[k - 2]) m = stem_lookup(w, k - 1, "");
        if (!(m & LX_ADJ) && k > 1 && w[k - 1] == 'i') m = stem_lookup(w, k - 1, "y");
        if (m & LX_ADJ) return LX_ADJ;
    }
    if (ends_with(w, len, "ly")) {
        m = stem_lookup(w, len - 2, "");
        if (!(m & LX_ADJ) && ends_with(w, len, "ily")) m = stem_lookup(w, len - 3, "y");
        if (m & LX_ADJ) return LX_ADV;
    }
    return 0;
}

/* Classes guessed from the ending of an unknown word. */
static int by_suffix(const char *w, int len, int *flags) {
    static const char *const adj[] = {"ous", "ful", "ive", "able", "ible", "ical",  "ic",   "less",
                                      "ish", "al",  "ary", "ent",  "ant",  "esque", "like", "y"};
    static const char *const noun[] = {"tion", "sion", "ment", "ness", "ity", "ance", "ence", "ship", "ism", "ist",
                                       "er",   "or",   "ure",  "age",  "ery", "dom",  "hood", "ee",   "ian", "ics"};
    if (ends_with(w, len, "ly") && len > 4) return LX_ADV;
    if (ends_with(w, len, "ing") && len > 5) {
        *flags |= TF_ING;
        return LX_VERB | LX_ADJ;
    }
    if (ends_with(w, len, "ed") && len > 4) {
        *flags |= TF_ED;
        return LX_VERB | LX_ADJ;
    }
    for (size_t i = 0; i < sizeof noun / sizeof noun[0]; i++)
        if (ends_with(w, len, noun[i]) && len > (int)strlen(noun[i]) + 2) return LX_NOUN;
    if (ends_with(w, len, "s") && !ends_with(w, len, "ss") && !ends_with(w, len, "ous")) return LX_NOUN;
    for (size_t i = 0; i < sizeof adj / sizeof adj[0]; i++)
        if (ends_with(w, len, adj[i]) && len > (int)strlen(adj[i]) + 3) return LX_ADJ;
    return LX_NOUN;
}

/* Classes of one word (lower-case), from the lexicon, then morphology, then suffixes. */
static int word_classes(const char *w, int *flags) {
    int len = (int)strlen(w);
    int m = nps_lexicon_lookup(w);
    if (m) {
        if (m & LX_PAST) *flags |= TF_ED;
        return m & ~LX_PAST;
    }
    if ((m = inflected(w, len, flags))) return m;
    const char *dash = strrchr(w, '-');
    if (dash && dash[1]) { /* long-sleeved, t-shirt, three-piece: the last part decides */
        int f = 0;
        m = word_classes(dash + 1, &f);
        if (f & (TF_ING | TF_ED)) return LX_ADJ;
        return (m & LX_NOUN) ? (LX_NOUN | LX_ADJ) : LX_ADJ;
    }
    return by_suffix(w, len, flags) | (1 << 30); /* high bit: guessed */
}
#define LX_GUESSED (1 << 30)

static bool is_digit_word(const char *w) {
    bool digit = false;
    for (const char *p = w; *p; p++) {
        if (isdigit((unsigned char)*p))
            digit = true;
        else if (*p != '.' && *p != ',' && *p != '-' && *p != '/' && *p != ':')
            return false;
    }
    return digit;
}

static void lexical(const char *caption, nps_token *t) {
    char w[WORD_MAX];
    nps_token_lower(caption, t, w, sizeof w);
    unsigned char c0 = (unsigned char)caption[t->start];
    t->flags = 0;
    if (isupper(c0)) t->flags |= TF_CAP;
    if (is_digit_word(w)) {
        t->flags |= TF_NUMERIC;
        t->lex = LX_NUM;
        return;
    }
    if (isdigit(c0)) { /* 3rd, 1990s, 4x4 */
        int len = (int)strlen(w);
        t->flags |= TF_NUMERIC;
        t->lex =
            (ends_with(w, len, "st") || ends_with(w, len, "nd") || ends_with(w, len, "rd") || ends_with(w, len, "th"))
                ? LX_ADJ
            : ends_with(w, len, "s") ? LX_NOUN
                                     : LX_NUM;
        return;
    }
    unsigned char c1 = (unsigned char)caption[t->start + (t->end - t->start > 1)];
    bool utf8_punct = (c0 == 0xE2 && (c1 == 0x80 || c1 == 0x81)) || (c0 == 0xC2 && c1 >= 0xA1 && c1 <= 0xBF) ||
                      (c0 == 0xC3 && (c1 == 0x97 || c1 == 0xB7));
    int tl = t->end - t->start;
    bool clitic =
        (c0 == '\'' && tl > 1) || (c0 == 0xE2 && c1 == 0x80 && tl > 3 && (unsigned char)caption[t->start + 2] == 0x99);
    if ((!isalnum(c0) && c0 < 0x80 && c0 != '&' && !clitic) || (utf8_punct && !clitic)) {
        t->lex = 0;
        t->tag = NPS_PUNCT;
        return;
    }
    t->lex = word_classes(w, &t->flags);
}

static bool text_is(const char *caption, const nps_token *t, const char *w) {
    char b[WORD_MAX];
    nps_token_lower(caption, t, b, sizeof b);
    /* accept the typographic apostrophe as ' */
    if ((unsigned char)b[0] == 0xE2 && (unsigned char)b[1] == 0x80 && (unsigned char)b[2] == 0x99) {
        memmove(b + 1, b + 3, strlen(b + 3) + 1);
        b[0] = '\'';
    }
    return strcmp(b, w) == 0;
}

static bool is_punct_char(const char *caption, const nps_token *t, const char *set) {
    return t->tag == NPS_PUNCT && t->end - t->start == 1 && strchr(set, caption[t->start]);
}

/* Could the word at next begin a noun phrase? */
static bool np_start_mask(int m, int flags) {
    return (m & (LX_DET | LX_POSSDET | LX_NUM | LX_PDET | LX_NOUN | LX_ADJ)) || (flags & TF_CAP) || (m & LX_PRON);
}

static nps_tag open_class_default(int m) {
    if (m & LX_NOUN) return NPS_NOUN;
    if (m & LX_ADJ) return NPS_ADJ;
    if (m & LX_VERB) return NPS_VERB;
    if (m & LX_ADV) return NPS_ADV;
    if (m & LX_PREP) return NPS_PREP;
    return NPS_NOUN;
}

/* Is a noun phrase open before token i: an article or possessive, then only adjectives,
 * numbers or adverbs ("a darker ...", "the two small ...")? */
static bool article_before(const char *caption, const nps_token *tok, int i) {
    int k = i - 1;
    while (k >= 0 && k > i - 16 && (tok[k].tag == NPS_ADJ || tok[k].tag == NPS_NUM || tok[k].tag == NPS_ADV)) k--;
    if (k < 0) return false;
    const nps_token *p = &tok[k];
    return p->tag == NPS_POSSDET || p->tag == NPS_POS || text_is(caption, p, "the") || text_is(caption, p, "a") ||
           text_is(caption, p, "an") || text_is(caption, p, "this") || text_is(caption, p, "that") ||
           text_is(caption, p, "these") || text_is(caption, p, "those");
}

static nps_tag resolve(const char *caption, nps_token *tok, int n, int i) {
    nps_token *t = &tok[i];
    int m = t->lex & ~LX_GUESSED;
    nps_tag pt = i > 0 ? tok[i - 1].tag : NPS_PUNCT;
    const nps_token *nx = i + 1 < n ? &tok[i + 1] : NULL;
    int nm = nx ? nx->lex & ~LX_GUESSED : 0;
    bool next_np = nx && nx->tag != NPS_PUNCT && np_start_mask(nm, nx->flags);
    bool next_nominal = nx && nx->tag != NPS_PUNCT && ((nm & (LX_NOUN | LX_ADJ | LX_NUM)) || (nx->flags & TF_CAP));
    bool det_ctx =
        pt == NPS_DET || pt == NPS_POSSDET || pt == NPS_ADJ || pt == NPS_NUM || pt == NPS_POS || pt == NPS_PDET;
    bool sent_start =
        i == 0 || is_punct_char(caption, &tok[i - 1], ".;:!?\"(") || (i == 1 && is_punct_char(caption, &tok[0], "\"'"));

    if (text_is(caption, t, "'")) {
        bool after_s = i > 0 && tok[i - 1].end == t->start && tolower((unsigned char)caption[t->start - 1]) == 's';
        return after_s && next_nominal && (pt == NPS_NOUN || pt == NPS_PROPN) ? NPS_POS : NPS_PUNCT;
    }
    if (t->tag == NPS_PUNCT) return NPS_PUNCT;
    if (t->flags & TF_NUMERIC) return m & LX_ADJ ? NPS_ADJ : m & LX_NOUN ? NPS_NOUN : NPS_NUM;
    /* a currency sign before a number belongs to it: "$ 295 million" */
    if (t->end - t->start == 1 && strchr("$#", caption[t->start]) && nx && (nx->flags & TF_NUMERIC)) return NPS_NUM;
    /* a possessor is nominal whatever its usual class: "today 's", "yesterday 's" */
    if (nx && (text_is(caption, nx, "'s") || text_is(caption, nx, "'")) && nx->start == t->end &&
        !(m & (LX_PRON | LX_WH | LX_DET | LX_POSSDET)) && t->tag != NPS_PUNCT && !(m & LX_NUM) &&
        !text_is(caption, t, "there") && !text_is(caption, t, "here") && !text_is(caption, t, "let"))
        return (t->flags & TF_CAP) && i > 0 ? NPS_PROPN : NPS_NOUN;

    /* function words with their own rules */
    if (text_is(caption, t, "the") || text_is(caption, t, "a") || text_is(caption, t, "an") ||
        text_is(caption, t, "every"))
        return NPS_DET;
    if (text_is(caption, t, "to")) {
        if (nx && (nm & LX_VERB) && !(nm & (LX_DET | LX_POSSDET | LX_NUM | LX_PRON | LX_PDET)) &&
            !(nx->flags & TF_CAP) && !(pt == NPS_NUM))
            return (nm & (LX_NOUN | LX_ADJ)) && !(nm & LX_VERB) ? NPS_PREP : NPS_TO;
        return NPS_PREP;
    }
    if (text_is(caption, t, "that") || text_is(caption, t, "this") || text_is(caption, t, "these") ||
        text_is(caption, t, "those")) {
        if (next_nominal && !(nm & (LX_AUX | LX_MODAL | LX_PREP | LX_DET)) && !(nx->flags & TF_ED && !(nm & LX_NOUN)))
            return NPS_DET;
        if (text_is(caption, t, "that") && i > 0 && pt != NPS_PREP) return NPS_WH;
        return NPS_PRON;
    }
    if (text_is(caption, t, "her")) return next_nominal && !(nm & (LX_PREP | LX_DET)) ? NPS_POSSDET : NPS_PRON;
    if (text_is(caption, t, "there")) return nx && (nm & (LX_AUX | LX_MODAL)) ? NPS_EX : NPS_ADV;
    if (text_is(caption, t, "'s")) {
        if (pt == NPS_PRON || pt == NPS_WH || pt == NPS_EX || pt == NPS_ADV) return NPS_AUX;
        return NPS_POS;
    }
    if (text_is(caption, t, "one") || text_is(caption, t, "ones")) {
        if (det_ctx && pt != NPS_NUM) return NPS_NOUN;
        return text_is(caption, t, "one") ? NPS_NUM : NPS_PRON;
    }
    if (text_is(caption, t, "like"))
        return pt == NPS_PRON || pt == NPS_MODAL || pt == NPS_TO || pt == NPS_PART ? NPS_VERB : NPS_PREP;
    if (text_is(caption, t, "next") && nx && text_is(caption, nx, "to")) return NPS_ADV;

    /* capitalised open-class or unknown words inside a sentence: proper nouns */
    bool open = !(m & ~(LX_NOUN | LX_VERB | LX_ADJ | LX_ADV));
    if ((t->flags & TF_CAP) && open) {
        if (!sent_start) return NPS_PROPN;
        if ((t->lex & LX_GUESSED) && nx && (nx->flags & TF_CAP)) return NPS_PROPN;
    }

    if (!m) return NPS_NOUN;
    /* a single closed class */
    if ((m & LX_PDET) && nx && (nm & (LX_DET | LX_POSSDET)) && !(nm & LX_NOUN)) return NPS_PDET;
    if ((m & LX_DET) && (m & LX_ADJ) && det_ctx) return NPS_ADJ; /* "two more squares" */
    if ((m & LX_DET) && next_nominal && !(nm & (LX_AUX | LX_MODAL))) return NPS_DET;
    if ((m & LX_POSSDET)) return NPS_POSSDET;
    if (m & LX_NUM) return NPS_NUM;
    if (m & LX_CONJ) return NPS_CONJ;
    if (m & LX_PART) return NPS_PART;
    if (m & LX_MODAL) return det_ctx ? NPS_NOUN : NPS_MODAL;
    if (m & LX_AUX) return NPS_AUX;
    if ((m & LX_PREP) && (!(m & ~LX_PREP) || ((next_np || !nx) && !det_ctx) ||
                          (next_np && !(m & (LX_NOUN | LX_ADJ)) && !article_before(caption, tok, i))))
        return NPS_PREP;
    if (m & LX_WH) return NPS_WH;
    if (m & LX_SUB) return (m & LX_ADV) && (nm & (LX_ADJ | LX_ADV)) ? NPS_ADV : NPS_SUB;
    if (m & LX_PRON) return NPS_PRON;
    if ((m & LX_DET)) return NPS_PRON; /* "some", "more", "all" standing alone */

    /* open classes: nouns, verbs, adjectives, adverbs */
    bool ing_ed = t->flags & (TF_ING | TF_ED);
    if (det_ctx) {
        if ((m & LX_ADJ) && next_nominal && !(nm & (LX_AUX | LX_MODAL)) && !(nx->lex & LX_GUESSED && !(nm & LX_NOUN)))
            return NPS_ADJ;
        if ((m & LX_ADJ) && (m & LX_NOUN) && next_nominal) return NPS_ADJ;
        if (m & LX_NOUN) return NPS_NOUN;
        if (ing_ed && next_nominal) return NPS_ADJ;
        bool article = article_before(caption, tok, i);
        if ((t->flags & TF_ING) && article) return NPS_NOUN;
        if (m & LX_ADJ) return NPS_ADJ;
        if ((m & LX_ADV) && nx && (nm & (LX_ADJ | LX_ADV))) return NPS_ADV;
        if (article) return NPS_NOUN; /* "the inside", "a stack" */
        return open_class_default(m & ~LX_NOUN);
    }
    if ((pt == NPS_MODAL || pt == NPS_TO || pt == NPS_PART) && (m & LX_VERB)) return NPS_VERB;
    /* after a modal (and adverbs) comes a verb: "can capture", "can vary" */
    if ((pt == NPS_MODAL || (pt == NPS_ADV && i > 1 && tok[i - 2].tag == NPS_MODAL)) && (m & (LX_NOUN | LX_VERB)) &&
        !(m & LX_AUX))
        return NPS_VERB;
    if (pt == NPS_PRON && i > 0 && (m & LX_VERB) && !(m & LX_ADJ && !(m & LX_NOUN) && !ing_ed)) {
        const nps_token *p = &tok[i - 1];
        static const char *const subj[] = {"i",    "you", "he", "she", "it",    "we", "they",
                                           "them", "him", "me", "us",  "which", "who"};
        for (size_t k = 0; k < sizeof subj / sizeof subj[0]; k++)
            if (text_is(caption, p, subj[k])) return NPS_VERB;
    }
    if (pt == NPS_WH && (m & LX_VERB)) return NPS_VERB;
    if (pt == NPS_ADV && i > 1 && tok[i - 2].tag == NPS_AUX && (m & LX_VERB) && ing_ed) return NPS_VERB;
    if (pt == NPS_AUX) {
        if ((m & LX_VERB) && ing_ed) return NPS_VERB;
        if ((m & LX_ADV) && (nm & (LX_ADJ | LX_ADV)) && !(nm & LX_NOUN)) return NPS_ADV;
        if ((m & LX_ADJ) && !((m & LX_NOUN) && next_nominal)) return NPS_ADJ;
        if (m & LX_NOUN) return NPS_NOUN;
        return open_class_default(m);
    }
    bool clause_start = sent_start || pt == NPS_CONJ || pt == NPS_SUB ||
                        (i > 0 && is_punct_char(caption, &tok[i - 1], ",")) ||
                        (i > 0 && (text_is(caption, &tok[i - 1], "then") || text_is(caption, &tok[i - 1], "please")));
    if (clause_start && (m & LX_VERB) && !(t->flags & TF_ING && !sent_start)) {
        bool next_verbal = nx && (nm & (LX_AUX | LX_MODAL)) && !(nm & LX_NOUN);
        bool next_obj = nx && (nm & (LX_DET | LX_POSSDET | LX_NUM | LX_PRON | LX_PDET));
        if (sent_start && !next_verbal && !(nx && text_is(caption, nx, "'s"))) return NPS_VERB;
        if (!sent_start && next_obj) return NPS_VERB;
        if (!sent_start && !(m & (LX_NOUN | LX_ADJ))) return NPS_VERB;
    }
    if (pt == NPS_NOUN || pt == NPS_PROPN) {
        if ((m & LX_VERB) && ing_ed) return NPS_VERB;
        if ((m & LX_VERB) && nx && (nm & (LX_DET | LX_POSSDET | LX_PRON | LX_PDET))) return NPS_VERB;
        if ((m & LX_VERB) && !(m & (LX_NOUN | LX_ADJ))) return NPS_VERB;
        if ((m & LX_VERB) && (t->lex & LX_GUESSED) && nx && (nm & (LX_PREP | LX_ADV)) && !(nm & LX_NOUN))
            return NPS_VERB;
        if (m & LX_NOUN) return NPS_NOUN;
        if ((m & LX_ADV) && !next_nominal) return NPS_ADV;
        return open_class_default(m);
    }
    if (pt == NPS_VERB) {
        if ((m & LX_ADJ) && next_nominal && ((nm & LX_NOUN) || ing_ed)) return NPS_ADJ;
        if ((m & LX_ADV) && !next_nominal && !((m & LX_NOUN) && (!nx || nx->tag == NPS_PUNCT || (nm & LX_PREP))))
            return NPS_ADV;
        if ((m & LX_ADV) && !(m & LX_NOUN)) return NPS_ADV;
        if (m & LX_NOUN) return NPS_NOUN;
        if ((m & LX_VERB) && ing_ed) return NPS_VERB;
        return open_class_default(m);
    }
    if (pt == NPS_PREP) {
        if ((m & LX_ADJ) && next_nominal && (nm & LX_NOUN)) return NPS_ADJ;
        if (m & LX_NOUN) return NPS_NOUN;
        if (m & LX_ADJ) return NPS_ADJ;
        if (t->flags & TF_ING) return NPS_VERB;
        return open_class_default(m);
    }
    if (pt == NPS_ADV) {
        if ((m & LX_ADJ) && !(next_nominal && (m & LX_NOUN) && !(m & LX_VERB))) return NPS_ADJ;
    }
    if ((m & LX_ADJ) && next_nominal && (nm & LX_NOUN)) return NPS_ADJ;
    if ((m & LX_VERB) && ing_ed && !(m & LX_NOUN)) return NPS_VERB;
    return open_class_default(m);
}

void nps_tag_tokens(const char *caption, nps_token *tok, int n) {
    for (int i = 0; i < n; i++) {
        tok[i].tag = NPS_OTHER;
        lexical(caption, &tok[i]);
    }
    for (int i = 0; i < n; i++) tok[i].tag = resolve(caption, tok, n, i);
}
