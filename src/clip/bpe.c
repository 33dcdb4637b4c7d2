/* Byte-level BPE: the tables, the merge loop and a sharded word cache.
 *
 * Token strings are interned in `tokens`, found through an open-addressing table of ids.
 * Merges are a second table keyed by the pair of ids, giving the rank and the merged id, so
 * the merge loop never touches strings: a word starts as one id per byte (the last byte as
 * its `</w>` symbol) and repeatedly merges every occurrence, left to right, of its adjacent
 * pair of lowest rank, exactly like openai's simple_tokenizer.bpe. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clip/bpe.h"

struct bpe_cache_entry {
    uint64_t hash;
    uint32_t len, n_ids;
    int32_t *ids;  /* points into the same allocation */
    uint8_t key[]; /* len bytes */
};

enum { CACHE_MAX_WORD = 256, CACHE_SHARD_MAX = 1 << 16 };

static int byte_rank[256];
static uint32_t byte_sym[256];
static pthread_once_t bytes_once = PTHREAD_ONCE_INIT;

/* openai's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68
 * bytes become U+0100.. in byte order, and the order of the resulting table (printable
 * first) gives ids 0..255. */
static void init_bytes(void) {
    int rank = 0, extra = 0;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) {
            byte_rank[b] = rank++;
            byte_sym[b] = (uint32_t)b;
        }
    }
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (!printable) {
            byte_rank[b] = rank++;
            byte_sym[b] = (uint32_t)(256 + extra++);
        }
    }
}

uint32_t ct_bpe_byte_symbol(uint8_t b) {
    pthread_once(&bytes_once, init_bytes);
    return byte_sym[b];
}

int ct_bpe_byte_rank(uint8_t b) {
    pthread_once(&bytes_once, init_bytes);
    return byte_rank[b];
}

int ct_bpe_symbol_byte(uint32_t cp) {
    if (cp < 256) {
        bool printable = (cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE);
        return printable ? (int)cp : -1;
    }
    if (cp >= 256 + 68) return -1;
    pthread_once(&bytes_once, init_bytes);
    for (int b = 0; b < 256; b++)
        if (byte_sym[b] == cp) return b;
    return -1;
}

uint64_t ct_hash_bytes(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

uint64_t ct_hash_u64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

ct_status ct_bpe_init(ct_bpe *b, int32_t n_vocab_hint, size_t n_merges_hint) {
    memset(b, 0, sizeof *b);
    b->sot = b->eot = -1;
    pthread_once(&bytes_once, init_bytes);
    if (n_vocab_hint < 1) n_vocab_hint = 1;
    b->n_vocab = 0;
    b->str_cap = pow2_at_least((size_t)n_vocab_hint * 2);
    b->pair_cap = pow2_at_least(n_merges_hint * 2);
    b->str_tab = malloc(b->str_cap * sizeof *b->str_tab);
    b->pair_key = calloc(b->pair_cap, sizeof *b->pair_key);
    b->pair_rank = malloc(b->pair_cap * sizeof *b->pair_rank);
    b->pair_merged = malloc(b->pair_cap * sizeof *b->pair_merged);
    for (int i = 0; i < CT_BPE_CACHE_SHARDS; i++) pthread_mutex_init(&b->cache[i].lock, NULL);
    if (!b->str_tab || !b->pair_key || !b->pair_rank || !b->pair_merged)
        return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for %d tokens", (int)n_vocab_hint);
    memset(b->str_tab, 0xFF, b->str_cap * sizeof *b->str_tab);
    return CT_OK;
}

void ct_bpe_free(ct_bpe *b) {
    if (!b) return;
    for (int32_t i = 0; i < b->n_vocab && b->tokens; i++) free(b->tokens[i]);
    free(b->tokens);
    free(b->str_tab);
    free(b->pair_key);
    free(b->pair_rank);
    free(b->pair_merged);
    for (int i = 0; i < CT_BPE_CACHE_SHARDS; i++) {
        bpe_cache_shard *sh = &b->cache[i];
        for (size_t k = 0; k < sh->cap; k++) free(sh->slots[k]);
        free(sh->slots);
        pthread_mutex_destroy(&sh->lock);
    }
    memset(b, 0, sizeof *b);
}

int32_t ct_bpe_find(const ct_bpe *b, const char *s, size_t len) {
    size_t mask = b->str_cap - 1;
    for (size_t h = ct_hash_bytes(s, len) & mask;; h = (h + 1) & mask) {
        int32_t id = b->str_tab[h];
        if (id < 0) return -1;
        const char *t = b->tokens[id];
        if (strlen(t) == len && memcmp(t, s, len) == 0) return id;
    }
}

static ct_status grow_strings(ct_bpe *b) {
    size_t cap = b->str_cap * 2;
    int32_t *tab = malloc(cap * sizeof *tab);
    if (!tab) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for the token table");
    memset(tab, 0xFF, cap * sizeof *tab);
    for (size_t i = 0; i < b->str_cap; i++) {
        int32_t id = b->str_tab[i];
        if (id < 0) continue;
        size_t h = ct_hash_bytes(b->tokens[id], strlen(b->tokens[id])) & (cap - 1);
        while (tab[h] >= 0) h = (h + 1) & (cap - 1);
        tab[h] = id;
    }
    free(b->str_tab);
    b->str_tab = tab;
    b->str_cap = cap;
    return CT_OK;
}

ct_status ct_bpe_add_token(ct_bpe *b, const char *s, size_t len, int32_t id, const char *src) {
    if (id < 0 || id >= (1 << 24))
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: token id %d out of range [0, 16777216)", src, (int)id);
    if (len == 0 || memchr(s, 0, len))
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: token %d is empty or holds a NUL", src, (int)id);
    if (id >= b->tokens_cap) {
        int32_t cap = b->tokens_cap ? b->tokens_cap : 1024;
        while (cap <= id) cap *= 2;
        char **t = realloc(b->tokens, (size_t)cap * sizeof *t);
        if (!t) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for %d tokens", (int)cap);
        for (int32_t i = b->tokens_cap; i < cap; i++) t[i] = NULL;
        b->tokens = t;
        b->tokens_cap = cap;
    }
    if (id >= b->n_vocab) b->n_vocab = id + 1;
    if (b->tokens[id]) return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: id %d is given to two tokens", src, (int)id);
    if ((size_t)(b->n_vocab + 1) * 2 > b->str_cap) {
        ct_status st = grow_strings(b);
        if (st) return st;
    }
    /* a string given twice keeps its last id, as Python's dict(zip(vocab, range(...))) */
    size_t mask = b->str_cap - 1;
    size_t h = ct_hash_bytes(s, len) & mask;
    for (; b->str_tab[h] >= 0; h = (h + 1) & mask) {
        const char *t = b->tokens[b->str_tab[h]];
        if (strlen(t) == len && memcmp(t, s, len) == 0) break;
    }
    char *copy = malloc(len + 1);
    if (!copy) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    b->tokens[id] = copy;
    b->str_tab[h] = id;
    return CT_OK;
}

static bool find_pair(const ct_bpe *b, int32_t l, int32_t r, int32_t *rank, int32_t *merged) {
    uint64_t key = ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) + 1;
    size_t mask = b->pair_cap - 1;
    for (size_t h = ct_hash_u64(key) & mask;; h = (h + 1) & mask) {
        if (b->pair_key[h] == 0) return false;
        if (b->pair_key[h] == key) {
            *rank = b->pair_rank[h];
            *merged = b->pair_merged[h];
            return true;
        }
    }
}

static ct_status pair_insert(ct_bpe *b, uint64_t key, int32_t rank, int32_t merged) {
    size_t mask = b->pair_cap - 1;
    size_t h = ct_hash_u64(key) & mask;
    while (b->pair_key[h] != 0 && b->pair_key[h] != key) h = (h + 1) & mask;
    if (b->pair_key[h] == 0) b->n_merges++;
    b->pair_key[h] = key;
    b->pair_rank[h] = rank;
    b->pair_merged[h] = merged;
    return CT_OK;
}

static ct_status grow_pairs(ct_bpe *b) {
    ct_bpe old = *b;
    b->pair_cap *= 2;
    b->n_merges = 0;
    b->pair_key = calloc(b->pair_cap, sizeof *b->pair_key);
    b->pair_rank = malloc(b->pair_cap * sizeof *b->pair_rank);
    b->pair_merged = malloc(b->pair_cap * sizeof *b->pair_merged);
    ct_status s = CT_OK;
    if (!b->pair_key || !b->pair_rank || !b->pair_merged) {
        free(b->pair_key);
        free(b->pair_rank);
        free(b->pair_merged);
        *b = old;
        return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for the merge table");
    }
    for (size_t i = 0; i < old.pair_cap && !s; i++)
        if (old.pair_key[i]) s = pair_insert(b, old.pair_key[i], old.pair_rank[i], old.pair_merged[i]);
    free(old.pair_key);
    free(old.pair_rank);
    free(old.pair_merged);
    return s;
}

ct_status ct_bpe_add_merge(ct_bpe *b, const char *left, const char *right, size_t rank, const char *src, size_t line) {
    size_t ll = strlen(left), lr = strlen(right);
    int32_t l = ct_bpe_find(b, left, ll), r = ct_bpe_find(b, right, lr);
    if (l < 0 || r < 0)
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: line %zu: merge '%s %s': '%s' is not in the vocabulary", src,
                       line, left, right, l < 0 ? left : right);
    char buf[512];
    if (ll + lr >= sizeof buf) return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: line %zu: merge too long", src, line);
    memcpy(buf, left, ll);
    memcpy(buf + ll, right, lr + 1);
    int32_t m = ct_bpe_find(b, buf, ll + lr);
    if (m < 0)
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: line %zu: merged token '%s' is not in the vocabulary", src, line,
                       buf);
    if (rank > INT32_MAX) return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: too many merges", src);
    if ((b->n_merges + 1) * 2 > b->pair_cap) {
        ct_status s = grow_pairs(b);
        if (s) return s;
    }
    /* a pair given twice keeps its last rank, as Python's dict(zip(merges, range(...))) */
    return pair_insert(b, ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) + 1, (int32_t)rank, m);
}

ct_status ct_bpe_finish(ct_bpe *b, const char *src) {
    for (int c = 0; c < 256; c++) {
        uint8_t sym[8];
        uint32_t cp = byte_sym[c];
        int n = cp < 0x80 ? (sym[0] = (uint8_t)cp, 1)
                          : (sym[0] = (uint8_t)(0xC0 | (cp >> 6)), sym[1] = (uint8_t)(0x80 | (cp & 0x3F)), 2);
        memcpy(sym + n, "</w>", 4);
        b->byte_id[c] = ct_bpe_find(b, (const char *)sym, (size_t)n);
        b->byte_end_id[c] = ct_bpe_find(b, (const char *)sym, (size_t)n + 4);
        if (b->byte_id[c] < 0 || b->byte_end_id[c] < 0)
            return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: the symbol for byte 0x%02X%s is not in the vocabulary", src,
                           c, b->byte_id[c] < 0 ? "" : " + '</w>'");
    }
    b->sot = ct_bpe_find(b, "<|startoftext|>", 15);
    b->eot = ct_bpe_find(b, "<|endoftext|>", 13);
    if (b->sot < 0 || b->eot < 0)
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: '%s' is not in the vocabulary", src,
                       b->sot < 0 ? "<|startoftext|>" : "<|endoftext|>");
    return CT_OK;
}

static int merge_word(const ct_bpe *b, int32_t *sym, int n) {
    while (n > 1) {
        int32_t best = INT32_MAX, bl = -1, br = -1, bm = -1;
        for (int i = 0; i + 1 < n; i++) {
            int32_t rank, merged;
            if (find_pair(b, sym[i], sym[i + 1], &rank, &merged) && rank < best) {
                best = rank;
                bl = sym[i];
                br = sym[i + 1];
                bm = merged;
            }
        }
        if (bm < 0) break;
        int o = 0;
        for (int i = 0; i < n;) {
            if (i + 1 < n && sym[i] == bl && sym[i + 1] == br) {
                sym[o++] = bm;
                i += 2;
            } else
                sym[o++] = sym[i++];
        }
        n = o;
    }
    return n;
}

static bpe_cache_entry *cache_find(bpe_cache_shard *sh, uint64_t h, const uint8_t *w, size_t len) {
    if (!sh->cap) return NULL;
    size_t mask = sh->cap - 1;
    for (size_t i = (h >> 6) & mask;; i = (i + 1) & mask) {
        bpe_cache_entry *e = sh->slots[i];
        if (!e) return NULL;
        if (e->hash == h && e->len == len && memcmp(e->key, w, len) == 0) return e;
    }
}

static void cache_put(bpe_cache_shard *sh, bpe_cache_entry *e) {
    size_t mask = sh->cap - 1;
    size_t i = (e->hash >> 6) & mask;
    while (sh->slots[i]) i = (i + 1) & mask;
    sh->slots[i] = e;
}

/* Inserts under the shard lock; silently skips when full or out of memory (it is a cache). */
static void cache_insert(bpe_cache_shard *sh, uint64_t h, const uint8_t *w, size_t len, const int32_t *ids, int n) {
    if (sh->count >= CACHE_SHARD_MAX || cache_find(sh, h, w, len)) return;
    if ((sh->count + 1) * 2 > sh->cap) {
        size_t cap = sh->cap ? sh->cap * 2 : 256;
        bpe_cache_entry **slots = calloc(cap, sizeof *slots);
        if (!slots) return;
        bpe_cache_entry **old = sh->slots;
        size_t old_cap = sh->cap;
        sh->slots = slots;
        sh->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i]) cache_put(sh, old[i]);
        free(old);
    }
    size_t ids_off = (sizeof(bpe_cache_entry) + len + 3) & ~(size_t)3;
    bpe_cache_entry *e = malloc(ids_off + (size_t)n * sizeof(int32_t));
    if (!e) return;
    e->hash = h;
    e->len = (uint32_t)len;
    e->n_ids = (uint32_t)n;
    memcpy(e->key, w, len);
    e->ids = (int32_t *)((char *)e + ids_off);
    memcpy(e->ids, ids, (size_t)n * sizeof(int32_t));
    cache_put(sh, e);
    sh->count++;
}

int ct_bpe_word(ct_bpe *b, const uint8_t *w, size_t len, int32_t *out) {
    if (len == 0) return 0;
    bool cacheable = len <= CACHE_MAX_WORD;
    uint64_t h = 0;
    bpe_cache_shard *sh = NULL;
    if (cacheable) {
        h = ct_hash_bytes(w, len);
        sh = &b->cache[h % CT_BPE_CACHE_SHARDS];
        pthread_mutex_lock(&sh->lock);
        bpe_cache_entry *e = cache_find(sh, h, w, len);
        pthread_mutex_unlock(&sh->lock);
        /* entries are immutable and live as long as the tokenizer */
        if (e) {
            memcpy(out, e->ids, e->n_ids * sizeof(int32_t));
            return (int)e->n_ids;
        }
    }
    for (size_t i = 0; i + 1 < len; i++) out[i] = b->byte_id[w[i]];
    out[len - 1] = b->byte_end_id[w[len - 1]];
    int n = merge_word(b, out, (int)len);
    if (cacheable) {
        pthread_mutex_lock(&sh->lock);
        cache_insert(sh, h, w, len, out, n);
        pthread_mutex_unlock(&sh->lock);
    }
    return n;
}
