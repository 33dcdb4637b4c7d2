/* Noun phrases of a caption, for the Text Concept-Consistency loss (docs/model.md section 6.1).
 *
 * ctcir's own rule-based extractor: it tokenises the caption, tags parts of speech from a
 * built-in lexicon with suffix and context rules, builds nested noun phrases (base chunks,
 * possessives, prepositional and participial attachments, coordinations) and returns them
 * in breadth-first order of that tree, so a branch phrase ("a wooden table with three
 * drawers") comes before the phrases inside it ("a wooden table", "three drawers").
 *
 * Every phrase is a substring of the caption (original case and spacing). Duplicates
 * (exact string) keep their first occurrence. A phrase that is one pronoun-like word alone
 * ("it", "them", "this", "one", "ones", existential "there") is not returned; a larger
 * phrase containing one ("one of the dogs") is. Pure function: no global mutable state,
 * safe to call from several threads at once. */
#ifndef CTCIR_NPS_H
#define CTCIR_NPS_H

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest caption accepted, in bytes (longer input is CT_ERR_ARG). */
#define CT_NPS_MAX_CAPTION 65536

/* Extracts at most max_phrases (>= 0) noun phrases of the NUL-terminated UTF-8 caption.
 * On success *phrases is a malloc'd array of *n malloc'd strings (NULL when *n == 0),
 * to be released with ct_noun_phrases_free. On failure *phrases = NULL and *n = 0. */
ct_status ct_noun_phrases(const char *caption, int max_phrases, char ***phrases, int *n);

/* Frees what ct_noun_phrases returned (NULL-safe). */
void ct_noun_phrases_free(char **phrases, int n);

#ifdef __cplusplus
}
#endif
#endif
