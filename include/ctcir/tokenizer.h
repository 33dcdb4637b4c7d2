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

#ifdef __cplusplus
}
#endif
#endif
