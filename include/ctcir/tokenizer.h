/* The CLIP byte-level BPE tokenizer, exactly as openai's clip.tokenize.
 *
 * Loads HF `vocab.json` + `merges.txt`, or openai's `bpe_simple_vocab_16e6.txt.gz`.
 * Vocabularies trained by `ctcir bpe-train` use the same format, with the two special tokens
 * as the last two ids. Safe to call from several threads at once (the BPE cache is locked). */
#ifndef CTCIR_TOKENIZER_H
#define CTCIR_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_CONTEXT_LENGTH 77

typedef struct ct_tokenizer ct_tokenizer;

ct_status ct_tokenizer_load_dir(ct_tokenizer **out, const char *model_dir);
ct_status ct_tokenizer_load_files(ct_tokenizer **out, const char *vocab_json, const char *merges_txt);
ct_status ct_tokenizer_load_gz(ct_tokenizer **out, const char *bpe_simple_vocab_gz);
void ct_tokenizer_free(ct_tokenizer *t); /* NULL-safe */

int ct_tokenizer_vocab_size(const ct_tokenizer *t);
int32_t ct_tokenizer_sot(const ct_tokenizer *t); /* <|startoftext|> */
int32_t ct_tokenizer_eot(const ct_tokenizer *t); /* <|endoftext|> */

/* Untruncated ids with SOT first and EOT last. *ids is malloc'ed, caller frees. */
ct_status ct_tokenize_raw(ct_tokenizer *t, const char *text, int32_t **ids, int *n);

/* clip.tokenize(text, truncate=True): ids[context], SOT ... EOT, then 0-padding; longer
 * sequences are cut to `context` with the last id set to EOT. Optional *n_out = ids before
 * padding (after truncation). */
ct_status ct_tokenize(ct_tokenizer *t, const char *text, int32_t *ids, int context, int *n_out);

/* The same for a text of `len` bytes that may hold NUL bytes. Text is UTF-8; invalid bytes
 * never fail: each maximal ill-formed sequence becomes U+FFFD (as Python's
 * bytes.decode("utf-8", "replace") does) before normalisation. */
ct_status ct_tokenize_raw_len(ct_tokenizer *t, const char *text, size_t len, int32_t **ids, int *n);
ct_status ct_tokenize_len(ct_tokenizer *t, const char *text, size_t len, int32_t *ids, int context, int *n_out);

/* openai's decode: token strings concatenated, symbols mapped back to bytes, "</w>" -> " ".
 * *text is malloc'ed and NUL-terminated, *len (optional) its length without the NUL. */
ct_status ct_tokenizer_decode(const ct_tokenizer *t, const int32_t *ids, int n, char **text, size_t *len);

/* The token string of an id (byte symbols, "</w>" suffix), or NULL. */
const char *ct_tokenizer_token(const ct_tokenizer *t, int32_t id);

/* The text the pre-tokenizer sees (ftfy, html.unescape twice, whitespace, lower), UTF-8,
 * malloc'ed; for debugging and for the BPE learner. */
ct_status ct_tokenizer_clean(const char *text, size_t len, char **out, size_t *out_len);

/* Learns a CLIP-format byte-level BPE vocabulary of `vocab_size` ids (>= 514) from texts
 * (normalised and pre-tokenised like the tokenizer) and writes out_dir/vocab.json and
 * out_dir/merges.txt. Ties between pairs of equal count go to the pair whose token strings
 * compare smallest (bytewise: left, then right). Fewer merges are written when no pair is
 * left to merge; *n_merges (optional) gets the count. */
ct_status ct_bpe_train(const char *const *texts, const size_t *lens, size_t n_texts, int vocab_size,
                       const char *out_dir, int *n_merges);

#ifdef __cplusplus
}
#endif
#endif
