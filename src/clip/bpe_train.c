/* Learning a CLIP-format byte-level BPE vocabulary (`ctcir bpe-train`).
 *
 * Texts are cleaned and pre-tokenised exactly as the tokenizer does; each distinct word is
 * kept once with its count, as a sequence of symbol ids (ids 0..255 are the byte symbols in
 * bytes_to_unicode order, 256..511 the same with "</w>", used for a word's last byte).
 * Every pair of adjacent symbols has a record with its weighted count and the words it
 * occurs in; a max-heap of (count, pair) with lazy deletion picks the next merge. A merge
 * rewrites only the words that hold the pair: their pair counts are taken out, the pair is
 * merged left to right (as the tokenizer applies it) and the counts are put back.
 *
 * Ties: among pairs of equal count the one whose left token string is bytewise smallest
 * wins, then the smallest right string. A pair whose concatenation is already a token
 * (reachable by another split) is never merged, so merge k always creates id 512 + k. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "clip/bpe.h"
#include "clip/text.h"
#include "ctcir/tokenizer.h"

typedef struct {
    int32_t *sym;
    int n;
    int64_t count;
    int stamp;
} tr_word;

typedef struct {
    int32_t a, b;
    int64_t count;
    int32_t *words;
    int n_words, cap_words;
    bool blocked;
} tr_pair;

typedef struct {
    int64_t count;
    int32_t pair;
} heap_item;

typedef struct {
    tr_word *words;
    size_t n_words, cap_words;
    uint64_t *word_hash; /* open addressing over words: (index + 1), 0 empty */
    char **word_keys;    /* the UTF-8 bytes of each word, NUL-terminated */
    size_t word_tab_cap;
    tr_pair *pairs;
    size_t n_pairs, cap_pairs;
    int32_t *pair_tab; /* open addressing: pair index, -1 empty */
    size_t pair_tab_cap;
    heap_item *heap;
    size_t n_heap, cap_heap;
    char **tok; /* id -> token string */
    int32_t n_tok;
    int32_t *tok_tab; /* open addressing over tok: id, -1 empty */
    size_t tok_tab_cap;
    int32_t (*merges)[2]; /* merge k made token 512 + k from these two ids */
    int n_merges;
} trainer;

static ct_status oom(void) { return ct_fail(CT_ERR_NOMEM, "bpe-train: out of memory"); }

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* ---- words ---- */

static ct_status word_table_rehash(trainer *t) {
    size_t cap = t->word_tab_cap ? t->word_tab_cap * 2 : 1024;
    uint64_t *tab = calloc(cap, sizeof *tab);
    if (!tab) return oom();
    for (size_t i = 0; i < t->word_tab_cap; i++) {
        if (!t->word_hash[i]) continue;
        size_t w = (size_t)t->word_hash[i] - 1;
        const char *k = t->word_keys[w];
        size_t h = ct_hash_bytes((const uint8_t *)k, strlen(k)) & (cap - 1);
        while (tab[h]) h = (h + 1) & (cap - 1);
        tab[h] = t->word_hash[i];
    }
    free(t->word_hash);
    t->word_hash = tab;
    t->word_tab_cap = cap;
    return CT_OK;
}

static ct_status add_word(trainer *t, const uint8_t *w, size_t len) {
    if ((t->n_words + 1) * 2 > t->word_tab_cap) {
        ct_status s = word_table_rehash(t);
        if (s) return s;
    }
    size_t mask = t->word_tab_cap - 1, h = ct_hash_bytes(w, len) & mask;
    for (; t->word_hash[h]; h = (h + 1) & mask) {
        size_t i = (size_t)t->word_hash[h] - 1;
        if (strlen(t->word_keys[i]) == len && memcmp(t->word_keys[i], w, len) == 0) {
            t->words[i].count++;
            return CT_OK;
        }
    }
    size_t key_cap = t->cap_words;
    if (!grow((void **)&t->words, &t->cap_words, t->n_words + 1, sizeof *t->words) ||
        !grow((void **)&t->word_keys, &key_cap, t->n_words + 1, sizeof *t->word_keys))
        return oom();
    tr_word *nw = &t->words[t->n_words];
    nw->sym = malloc(len * sizeof *nw->sym);
    char *key = malloc(len + 1);
    if (!nw->sym || !key) {
        free(nw->sym);
        free(key);
        return oom();
    }
    memcpy(key, w, len);
    key[len] = '\0';
    for (size_t i = 0; i < len; i++) nw->sym[i] = ct_bpe_byte_rank(w[i]) + (i + 1 == len ? 256 : 0);
    nw->n = (int)len;
    nw->count = 1;
    nw->stamp = -1;
    t->word_keys[t->n_words] = key;
    t->word_hash[h] = ++t->n_words;
    return CT_OK;
}

/* ---- pairs ---- */

static int32_t find_pair(trainer *t, int32_t a, int32_t b, bool create) {
    if (create && (t->n_pairs + 1) * 2 > t->pair_tab_cap) {
        size_t cap = t->pair_tab_cap ? t->pair_tab_cap * 2 : 4096;
        int32_t *tab = malloc(cap * sizeof *tab);
        if (!tab) return -2;
        memset(tab, 0xFF, cap * sizeof *tab);
        for (size_t i = 0; i < t->n_pairs; i++) {
            size_t h = ct_hash_u64((uint64_t)(uint32_t)t->pairs[i].a << 32 | (uint32_t)t->pairs[i].b) & (cap - 1);
            while (tab[h] >= 0) h = (h + 1) & (cap - 1);
            tab[h] = (int32_t)i;
        }
        free(t->pair_tab);
        t->pair_tab = tab;
        t->pair_tab_cap = cap;
    }
    if (!t->pair_tab_cap) return -1;
    size_t mask = t->pair_tab_cap - 1;
    size_t h = ct_hash_u64((uint64_t)(uint32_t)a << 32 | (uint32_t)b) & mask;
    for (; t->pair_tab[h] >= 0; h = (h + 1) & mask) {
        tr_pair *p = &t->pairs[t->pair_tab[h]];
        if (p->a == a && p->b == b) return t->pair_tab[h];
    }
    if (!create) return -1;
    if (!grow((void **)&t->pairs, &t->cap_pairs, t->n_pairs + 1, sizeof *t->pairs)) return -2;
    tr_pair *p = &t->pairs[t->n_pairs];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    t->pair_tab[h] = (int32_t)t->n_pairs;
    return (int32_t)t->n_pairs++;
}

/* heap order: larger count first, then smaller left string, then smaller right string */
static bool before(const trainer *t, heap_item x, heap_item y) {
    if (x.count != y.count) return x.count > y.count;
    const tr_pair *p = &t->pairs[x.pair], *q = &t->pairs[y.pair];
    int c = strcmp(t->tok[p->a], t->tok[q->a]);
    if (c) return c < 0;
    return strcmp(t->tok[p->b], t->tok[q->b]) < 0;
}

static ct_status heap_push(trainer *t, int32_t pair) {
    if (!grow((void **)&t->heap, &t->cap_heap, t->n_heap + 1, sizeof *t->heap)) return oom();
    heap_item it = {t->pairs[pair].count, pair};
    size_t i = t->n_heap++;
    while (i > 0 && before(t, it, t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = it;
    return CT_OK;
}

static heap_item heap_pop(trainer *t) {
    heap_item top = t->heap[0], last = t->heap[--t->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= t->n_heap) break;
        if (c + 1 < t->n_heap && before(t, t->heap[c + 1], t->heap[c])) c++;
        if (!before(t, t->heap[c], last)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (t->n_heap) t->heap[i] = last;
    return top;
}

/* Adds count * (occurrences) of every adjacent pair of word w (sign -1: removes). With
 * `register_id` >= 0, w is listed in the pairs that hold that id. */
static ct_status count_pairs(trainer *t, int32_t w, int64_t sign, int32_t register_id) {
    tr_word *word = &t->words[w];
    for (int i = 0; i + 1 < word->n; i++) {
        int32_t p = find_pair(t, word->sym[i], word->sym[i + 1], true);
        if (p < 0) return oom();
        tr_pair *pp = &t->pairs[p];
        pp->count += sign * word->count;
        bool reg = register_id < 0 || word->sym[i] == register_id || word->sym[i + 1] == register_id;
        if (reg && sign > 0 && (pp->n_words == 0 || pp->words[pp->n_words - 1] != w)) {
            size_t cap = (size_t)pp->cap_words;
            if (!grow((void **)&pp->words, &cap, (size_t)pp->n_words + 1, sizeof *pp->words)) return oom();
            pp->cap_words = (int)cap;
            pp->words[pp->n_words++] = w;
        }
    }
    return CT_OK;
}

/* The token string set; tok_tab is sized once for the whole vocabulary. */
static int32_t *tok_slot(trainer *t, const char *str) {
    size_t mask = t->tok_tab_cap - 1;
    size_t h = ct_hash_bytes((const uint8_t *)str, strlen(str)) & mask;
    while (t->tok_tab[h] >= 0 && strcmp(t->tok[t->tok_tab[h]], str) != 0) h = (h + 1) & mask;
    return &t->tok_tab[h];
}

static ct_status add_token(trainer *t, char *owned) {
    if (!owned) return oom();
    char **tok = realloc(t->tok, (size_t)(t->n_tok + 1) * sizeof *tok);
    if (!tok) {
        free(owned);
        return oom();
    }
    t->tok = tok;
    t->tok[t->n_tok] = owned;
    *tok_slot(t, owned) = t->n_tok++;
    return CT_OK;
}

static char *concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static ct_status merge(trainer *t, int32_t pair, int step) {
    int32_t a = t->pairs[pair].a, b = t->pairs[pair].b, m = t->n_tok - 1;
    size_t first_new = t->n_pairs;
    ct_status s = CT_OK;
    /* the word list may grow while we merge (it never holds pairs with the new id m) */
    for (int k = 0; k < t->pairs[pair].n_words && !s; k++) {
        int32_t w = t->pairs[pair].words[k];
        tr_word *word = &t->words[w];
        if (word->stamp == step) continue;
        word->stamp = step;
        bool has = false;
        for (int i = 0; i + 1 < word->n && !has; i++) has = word->sym[i] == a && word->sym[i + 1] == b;
        if (!has) continue;
        s = count_pairs(t, w, -1, -1);
        int o = 0;
        for (int i = 0; i < word->n;) {
            if (i + 1 < word->n && word->sym[i] == a && word->sym[i + 1] == b) {
                word->sym[o++] = m;
                i += 2;
            } else
                word->sym[o++] = word->sym[i++];
        }
        word->n = o;
        if (!s) s = count_pairs(t, w, +1, m);
    }
    /* the pairs that hold m are new; all others only lost counts (their heap entries are
     * stale-high and get re-pushed when popped) */
    for (size_t p = first_new; p < t->n_pairs && !s; p++)
        if (t->pairs[p].count > 0) s = heap_push(t, (int32_t)p);
    return s;
}

static void trainer_free(trainer *t) {
    for (size_t i = 0; i < t->n_words; i++) {
        free(t->words[i].sym);
        free(t->word_keys[i]);
    }
    for (size_t i = 0; i < t->n_pairs; i++) free(t->pairs[i].words);
    for (int32_t i = 0; i < t->n_tok; i++) free(t->tok[i]);
    free(t->tok_tab);
    free(t->merges);
    free(t->words);
    free(t->word_keys);
    free(t->word_hash);
    free(t->pairs);
    free(t->pair_tab);
    free(t->heap);
    free(t->tok);
}

static ct_status collect_words(trainer *t, const char *const *texts, const size_t *lens, size_t n_texts) {
    ct_cps cps = {0}, scratch = {0};
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    ct_status s = CT_OK;
    for (size_t k = 0; k < n_texts && !s; k++) {
        cps.n = 0;
        s = ct_utf8_decode(&cps, texts[k], lens ? lens[k] : strlen(texts[k]), NULL);
        if (!s) s = ct_clip_clean(&cps, &scratch, true);
        size_t pos = 0, a, b;
        while (!s && ct_clip_next_word(cps.v, cps.n, &pos, &a, &b)) {
            if (!grow((void **)&buf, &buf_cap, (b - a) * 4, 1)) {
                s = oom();
                break;
            }
            size_t len = 0;
            for (size_t i = a; i < b; i++) len += (size_t)ct_utf8_put(cps.v[i], buf + len);
            if ((len == 15 && memcmp(buf, "<|startoftext|>", 15) == 0) ||
                (len == 13 && memcmp(buf, "<|endoftext|>", 13) == 0))
                continue; /* the special tokens are never split */
            if (len > 1 << 20) {
                s = ct_fail(CT_ERR_ARG, "bpe-train: text %zu holds a word of %zu bytes (limit 1 MiB)", k + 1, len);
                break;
            }
            s = add_word(t, buf, len);
        }
    }
    ct_cps_free(&cps);
    ct_cps_free(&scratch);
    free(buf);
    return s;
}

static ct_status write_files(const trainer *t, const char *out_dir, int n_merges) {
    size_t n = strlen(out_dir) + 32;
    char *path = malloc(n);
    cJSON *root = cJSON_CreateObject();
    char *json = NULL;
    FILE *f = NULL;
    ct_status s = CT_OK;
    if (!path || !root) {
        s = oom();
        goto done;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        s = ct_fail(CT_ERR_IO, "bpe-train: cannot create %s: %s", out_dir, strerror(errno));
        goto done;
    }
    for (int32_t i = 0; i < t->n_tok && !s; i++)
        if (!cJSON_AddNumberToObject(root, t->tok[i], i)) s = oom();
    if (!s && !(json = cJSON_PrintUnformatted(root))) s = oom();
    if (s) goto done;
    snprintf(path, n, "%s/vocab.json", out_dir);
    if (!(f = fopen(path, "w")) || fputs(json, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0) {
        f = NULL;
        s = ct_fail(CT_ERR_IO, "bpe-train: cannot write %s", path);
        goto done;
    }
    snprintf(path, n, "%s/merges.txt", out_dir);
    if (!(f = fopen(path, "w"))) {
        s = ct_fail(CT_ERR_IO, "bpe-train: cannot write %s", path);
        goto done;
    }
    fputs("#version: 0.2\n", f);
    for (int k = 0; k < n_merges; k++) fprintf(f, "%s %s\n", t->tok[t->merges[k][0]], t->tok[t->merges[k][1]]);
    if (fclose(f) != 0) s = ct_fail(CT_ERR_IO, "bpe-train: cannot write %s", path);
    f = NULL;
done:
    free(path);
    free(json);
    cJSON_Delete(root);
    return s;
}

ct_status ct_bpe_train(const char *const *texts, const size_t *lens, size_t n_texts, int vocab_size,
                       const char *out_dir, int *n_merges) {
    if (vocab_size < 514 || vocab_size > (1 << 24))
        return ct_fail(CT_ERR_ARG,
                       "bpe-train: vocabulary size %d must be in [514, 16777216] (512 byte symbols + 2 specials)",
                       vocab_size);
    trainer t = {0};
    int target = vocab_size - 514;
    t.tok_tab_cap = 1024;
    while (t.tok_tab_cap < (size_t)vocab_size * 2) t.tok_tab_cap *= 2;
    t.tok_tab = malloc(t.tok_tab_cap * sizeof *t.tok_tab);
    t.merges = malloc((size_t)(target + 1) * sizeof *t.merges);
    ct_status s = t.tok_tab && t.merges ? CT_OK : oom();
    if (!s) memset(t.tok_tab, 0xFF, t.tok_tab_cap * sizeof *t.tok_tab);
    /* ids 0..511: byte symbols in bytes_to_unicode order, then the same + "</w>" */
    for (int i = 0; i < 512 && !s; i++) {
        int byte = 0;
        while (ct_bpe_byte_rank((uint8_t)byte) != i % 256) byte++;
        uint8_t u[4];
        char sym[16];
        int k = ct_utf8_put(ct_bpe_byte_symbol((uint8_t)byte), u);
        memcpy(sym, u, (size_t)k);
        strcpy(sym + k, i < 256 ? "" : "</w>");
        s = add_token(&t, strdup(sym));
    }
    if (!s) s = collect_words(&t, texts, lens, n_texts);
    for (size_t w = 0; w < t.n_words && !s; w++) s = count_pairs(&t, (int32_t)w, +1, -1);
    for (size_t p = 0; p < t.n_pairs && !s; p++)
        if (t.pairs[p].count > 0) s = heap_push(&t, (int32_t)p);
    while (!s && t.n_merges < target && t.n_heap > 0) {
        heap_item top = heap_pop(&t);
        tr_pair *p = &t.pairs[top.pair];
        if (p->blocked || p->count <= 0) continue;
        if (top.count != p->count) { /* stale: put it back with its current count */
            s = heap_push(&t, top.pair);
            continue;
        }
        char *joined = concat(t.tok[p->a], t.tok[p->b]);
        if (!joined) {
            s = oom();
            break;
        }
        if (*tok_slot(&t, joined) >= 0) { /* already a token by another split: never merged */
            free(joined);
            p->blocked = true;
            continue;
        }
        t.merges[t.n_merges][0] = p->a;
        t.merges[t.n_merges][1] = p->b;
        s = add_token(&t, joined);
        if (!s) s = merge(&t, top.pair, t.n_merges++);
    }
    if (!s) s = add_token(&t, strdup("<|startoftext|>"));
    if (!s) s = add_token(&t, strdup("<|endoftext|>"));
    if (!s) s = write_files(&t, out_dir, t.n_merges);
    if (!s && n_merges) *n_merges = t.n_merges;
    trainer_free(&t);
    return s;
}
