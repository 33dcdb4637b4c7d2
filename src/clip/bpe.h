/* The byte-level BPE model behind ct_tokenizer: token strings <-> ids, merge ranks, the
 * byte <-> symbol mapping of openai's bytes_to_unicode, and a word -> ids cache. */
#ifndef CTCIR_CLIP_BPE_H
#define CTCIR_CLIP_BPE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#define CT_BPE_CACHE_SHARDS 64

#ifdef __cplusplus
#define CT_BPE_ALIGNAS(n) alignas(n)
#else
#define CT_BPE_ALIGNAS(n) _Alignas(n)
#endif

typedef struct bpe_cache_entry bpe_cache_entry;

typedef struct {
    CT_BPE_ALIGNAS(64) pthread_mutex_t lock; /* one cache line per shard: no false sharing */
    bpe_cache_entry **slots;
    size_t cap, count;
} bpe_cache_shard;

typedef struct {
    int32_t n_vocab; /* max id + 1 */
    char **tokens;   /* id -> token string (UTF-8, NUL-terminated); NULL for unused ids */
    int32_t tokens_cap;
    int32_t *str_tab; /* open addressing: string -> id (-1 empty) */
    size_t str_cap;
    uint64_t *pair_key; /* open addressing: (left << 32 | right) + 1 (0 empty) */
    int32_t *pair_rank, *pair_merged;
    size_t pair_cap, n_merges;
    int32_t byte_id[256], byte_end_id[256]; /* a byte as a symbol; as the last symbol (+</w>) */
    int32_t sot, eot;
    bpe_cache_shard cache[CT_BPE_CACHE_SHARDS];
} ct_bpe;

/* The symbol openai's bytes_to_unicode gives byte b, and the inverse (-1 for other code points). */
uint32_t ct_bpe_byte_symbol(uint8_t b);
int ct_bpe_symbol_byte(uint32_t cp);
/* Byte b's position in bytes_to_unicode's order (its id in a CLIP vocabulary). */
int ct_bpe_byte_rank(uint8_t b);

/* The hashes of the tables (FNV-1a with a final mix; a 64-bit finaliser). */
uint64_t ct_hash_bytes(const void *p, size_t n);
uint64_t ct_hash_u64(uint64_t x);

/* Builds from token strings and merges. `src` names the input in messages. */
ct_status ct_bpe_init(ct_bpe *b, int32_t n_vocab_hint, size_t n_merges_hint);
ct_status ct_bpe_add_token(ct_bpe *b, const char *s, size_t len, int32_t id, const char *src);
ct_status ct_bpe_add_merge(ct_bpe *b, const char *left, const char *right, size_t rank, const char *src, size_t line);
ct_status ct_bpe_finish(ct_bpe *b, const char *src); /* byte symbols and special ids */
void ct_bpe_free(ct_bpe *b);

int32_t ct_bpe_find(const ct_bpe *b, const char *s, size_t len); /* -1 if absent */

/* BPE of one pre-tokenized word (its UTF-8 bytes): ids appended to out (room for len ids
 * needed); returns the count. Uses and fills the cache. */
int ct_bpe_word(ct_bpe *b, const uint8_t *word, size_t len, int32_t *out);

#endif
