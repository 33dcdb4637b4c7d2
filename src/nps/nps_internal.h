/* Internals of the noun-phrase extractor: tokens, tags, lexicon and the phrase tree.
 *
 * Pipeline: nps_tokenize (nps_tokenize.c) -> nps_tag (nps_tag.c, lexicon in nps_lexicon.c)
 * -> nps_parse (nps_parse.c) -> breadth-first ordering and de-duplication (nps.c). */
#ifndef CTCIR_NPS_NPS_INTERNAL_H
#define CTCIR_NPS_NPS_INTERNAL_H

#include <stdbool.h>

/* Parts of speech, a reduced Penn-like set. */
typedef enum {
    NPS_NOUN,    /* common noun */
    NPS_PROPN,   /* proper noun (capitalised, unknown) */
    NPS_PRON,    /* personal or demonstrative pronoun standing alone */
    NPS_DET,     /* a, the, this, some, every ... */
    NPS_PDET,    /* predeterminer: all, both, half (before a determiner) */
    NPS_POSSDET, /* my, his, her, its, their ... */
    NPS_NUM,     /* 3, 2.5, three */
    NPS_ADJ,     /* adjective, also ordinals and comparatives */
    NPS_VERB,    /* lexical verb */
    NPS_AUX,     /* be, have, do forms and 's/'re/'ve contractions used as verbs */
    NPS_MODAL,   /* can, should, will ... */
    NPS_ADV,     /* adverb */
    NPS_PREP,    /* preposition (also "to" before a noun phrase) */
    NPS_TO,      /* infinitival "to" */
    NPS_CONJ,    /* and, or, but, nor */
    NPS_POS,     /* possessive 's or ' */
    NPS_PUNCT,   /* punctuation */
    NPS_PART,    /* not, n't */
    NPS_WH,      /* that, which, who, where ... introducing a clause */
    NPS_SUB,     /* subordinating conjunction: because, while, if ... */
    NPS_EX,      /* existential there */
    NPS_OTHER
} nps_tag;

/* Lexicon classes, a bit mask per word (a word may be in several). */
enum {
    LX_NOUN = 1 << 0,
    LX_VERB = 1 << 1,
    LX_ADJ = 1 << 2,
    LX_ADV = 1 << 3,
    LX_PREP = 1 << 4,
    LX_DET = 1 << 5,
    LX_PRON = 1 << 6,
    LX_POSSDET = 1 << 7,
    LX_NUM = 1 << 8,
    LX_CONJ = 1 << 9,
    LX_AUX = 1 << 10,
    LX_MODAL = 1 << 11,
    LX_WH = 1 << 12,
    LX_SUB = 1 << 13,
    LX_PDET = 1 << 14,
    LX_PART = 1 << 15,
    LX_PAST = 1 << 16 /* an irregular past form (a verb, tagged with TF_ED) */
};

/* Token flags. */
enum {
    TF_CAP = 1 << 0,    /* first letter upper-case */
    TF_ING = 1 << 1,    /* a verb form ending in -ing */
    TF_ED = 1 << 2,     /* a verb form ending in -ed or an irregular past participle */
    TF_NUMERIC = 1 << 3 /* written with digits */
};

typedef struct {
    int start, end; /* byte offsets into the caption, [start, end) */
    int lex;        /* LX_* mask from the lexicon and morphology (0 = unknown word) */
    nps_tag tag;    /* resolved tag */
    int flags;      /* TF_* */
} nps_token;

/* Splits caption[0..len) into at most cap tokens; returns the count. Words keep internal
 * hyphens and apostrophes of contractions are split off ("don't" -> do n't, "man's" ->
 * man 's); numbers keep their decimal point and thousands commas. */
int nps_tokenize(const char *caption, int len, nps_token *tok, int cap);

/* Lower-cased copy of token text into buf (NUL-terminated, truncated to size-1). */
void nps_token_lower(const char *caption, const nps_token *t, char *buf, int size);

/* The lexicon's class mask for a lower-case word (0 when absent). */
int nps_lexicon_lookup(const char *word);

/* True when every lexicon list is sorted strictly ascending (checked by the tests, since
 * lookups are binary searches). Writes the first offending word to *bad when not. */
bool nps_lexicon_sorted(const char **bad);

/* Fills lex, flags and tag of every token. */
void nps_tag_tokens(const char *caption, nps_token *tok, int n);

/* One noun phrase of the tree. */
typedef struct {
    int first, last; /* token range, inclusive */
    int depth;       /* depth in the (approximate) constituency tree */
    int rel;         /* depth below the parent (1, or 2-3 through a PP or VP) */
    int parent;      /* index of the enclosing phrase, -1 at top level */
} nps_node;

/* Builds the phrase tree over tagged tokens: at most cap nodes are stored; returns the
 * count (nodes beyond cap are dropped). */
int nps_parse(const char *caption, const nps_token *tok, int n, nps_node *nodes, int cap);

#endif
