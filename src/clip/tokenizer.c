/* ct_tokenizer: loading the vocabulary files and running clean -> pre-tokenize -> BPE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "clip/bpe.h"
#include "clip/text.h"
#include "core/fileio.h"
#include "core/json.h"
#include "ctcir/tokenizer.h"

struct ct_tokenizer {
    ct_bpe bpe;
};

enum { MAX_VOCAB_FILE = 256 << 20, OPENAI_MERGES = 49152 - 256 - 2 };

/* Reads a whole file, gzip-compressed or not (zlib reads plain files transparently). */
static ct_status read_all(const char *path, char **data, size_t *len) {
    *data = NULL;
    int fd;
    if (ct_open_regular(path, &fd, NULL)) return ct_fail(CT_ERR_IO, "tokenizer: %s", ct_error());
    gzFile g = gzdopen(fd, "rb");
    if (!g) {
        close(fd);
        return ct_fail(CT_ERR_IO, "tokenizer: cannot open %s", path);
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    ct_status s = CT_OK;
    while (buf && !s) {
        if (n == cap) {
            if (cap >= MAX_VOCAB_FILE) {
                s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s inflates to more than %d MiB", path, MAX_VOCAB_FILE >> 20);
                break;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        int k = gzread(g, buf + n, (unsigned)(cap - n));
        if (k < 0) {
            int err;
            s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: gzip error: %s", path, gzerror(g, &err));
        } else if (k == 0)
            break;
        else
            n += (size_t)k;
    }
    gzclose(g);
    if (!buf) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory reading %s", path);
    if (s) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return CT_OK;
}

/* Splits a merges line "left right" in place; false unless exactly two non-empty parts. */
static bool split_merge(char *line, char **left, char **right) {
    char *sp = strchr(line, ' ');
    if (!sp || sp == line || !sp[1] || strchr(sp + 1, ' ')) return false;
    *sp = '\0';
    *left = line;
    *right = sp + 1;
    return true;
}

/* Walks the lines of `text` (modified in place). max_lines < 0: all. */
typedef ct_status (*line_fn)(void *ctx, char *line, size_t lineno);

static ct_status for_lines(char *text, size_t len, line_fn fn, void *ctx) {
    size_t lineno = 0;
    char *p = text, *end = text + len;
    ct_status s = CT_OK;
    while (p < end && !s) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e[-1] = '\0';
        *e = '\0';
        s = fn(ctx, p, ++lineno);
        p = e + 1;
    }
    return s;
}

typedef struct {
    ct_bpe *bpe;
    const char *src;
    size_t rank, max_merges;
    int32_t next_id; /* gz: ids for the merged tokens are assigned in order */
    bool add_tokens;
} merge_ctx;

static ct_status merge_line(void *vctx, char *line, size_t lineno) {
    merge_ctx *c = vctx;
    if (lineno == 1 && strncmp(line, "#version", 8) == 0) return CT_OK;
    if (!line[0] || c->rank >= c->max_merges) return CT_OK;
    char *l, *r;
    if (!split_merge(line, &l, &r))
        return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: line %zu: expected 'left right', got '%.60s'", c->src, lineno,
                       line);
    if (c->add_tokens) {
        size_t ll = strlen(l), lr = strlen(r);
        char buf[512];
        if (ll + lr >= sizeof buf)
            return ct_fail(CT_ERR_FORMAT, "tokenizer: %s: line %zu: merge too long", c->src, lineno);
        memcpy(buf, l, ll);
        memcpy(buf + ll, r, lr);
        ct_status s = ct_bpe_add_token(c->bpe, buf, ll + lr, c->next_id++, c->src);
        if (s) return s;
    }
    return ct_bpe_add_merge(c->bpe, l, r, c->rank++, c->src, lineno);
}

static ct_status new_tokenizer(ct_tokenizer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    return CT_OK;
}

ct_status ct_tokenizer_load_files(ct_tokenizer **out, const char *vocab_json, const char *merges_txt) {
    *out = NULL;
    char *vtext = NULL, *mtext = NULL;
    size_t vlen, mlen;
    cJSON *root = NULL;
    ct_tokenizer *t = NULL;
    ct_status s = read_all(vocab_json, &vtext, &vlen);
    if (!s) s = read_all(merges_txt, &mtext, &mlen);
    if (s) goto fail;
    if ((s = ct_json_parse(vocab_json, vtext, vlen, 0, &root))) {
        s = ct_fail(s, "tokenizer: %s", ct_error());
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: not a JSON object of token -> id", vocab_json);
        goto fail;
    }
    s = new_tokenizer(&t);
    if (!s) s = ct_bpe_init(&t->bpe, cJSON_GetArraySize(root), mlen / 8 + 16);
    for (cJSON *e = root->child; e && !s; e = e->next) {
        int64_t id;
        if (!ct_json_int_in(e, INT32_MIN, INT32_MAX, &id)) {
            s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: token '%.60s': id is not an integer", vocab_json, e->string);
            break;
        }
        if (ct_json_has_nul(e->string)) {
            s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: token '%.60s' holds a NUL character (\\u0000)", vocab_json,
                        e->string);
            break;
        }
        s = ct_bpe_add_token(&t->bpe, e->string, strlen(e->string), (int32_t)id, vocab_json);
    }
    if (s) goto fail;
    merge_ctx mc = {.bpe = &t->bpe, .src = merges_txt, .max_merges = (size_t)-1};
    s = for_lines(mtext, mlen, merge_line, &mc);
    if (!s) s = ct_bpe_finish(&t->bpe, vocab_json);
    if (s) goto fail;
    cJSON_Delete(root);
    free(vtext);
    free(mtext);
    *out = t;
    return CT_OK;
fail:
    cJSON_Delete(root);
    free(vtext);
    free(mtext);
    ct_tokenizer_free(t);
    return s;
}

ct_status ct_tokenizer_load_dir(ct_tokenizer **out, const char *model_dir) {
    size_t n = strlen(model_dir) + 32;
    char *v = malloc(n), *m = malloc(n);
    ct_status s;
    if (!v || !m)
        s = ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    else {
        snprintf(v, n, "%s/vocab.json", model_dir);
        snprintf(m, n, "%s/merges.txt", model_dir);
        s = ct_tokenizer_load_files(out, v, m);
    }
    free(v);
    free(m);
    return s;
}

/* bpe_simple_vocab_16e6.txt.gz as simple_tokenizer.py reads it: merges = lines[1:48895];
 * vocab = byte symbols, the same + "</w>", the merged pairs in order, the two specials. */
ct_status ct_tokenizer_load_gz(ct_tokenizer **out, const char *path) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    ct_tokenizer *t = NULL;
    ct_status s = read_all(path, &text, &len);
    if (!s) s = new_tokenizer(&t);
    if (!s) s = ct_bpe_init(&t->bpe, 49408, OPENAI_MERGES);
    if (s) goto fail;
    char sym[256][8];
    for (int b = 0; b < 256; b++) {
        uint8_t u[4];
        int k = ct_utf8_put(ct_bpe_byte_symbol((uint8_t)b), u);
        memcpy(sym[ct_bpe_byte_rank((uint8_t)b)], u, (size_t)k);
        sym[ct_bpe_byte_rank((uint8_t)b)][k] = '\0';
    }
    for (int i = 0; i < 512 && !s; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%s%s", sym[i % 256], i < 256 ? "" : "</w>");
        s = ct_bpe_add_token(&t->bpe, buf, strlen(buf), i, path);
    }
    /* line 1 is the version header; simple_tokenizer skips line 1 whatever it holds */
    char *body = memchr(text, '\n', len);
    if (!s && !body) s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: no merges after the header line", path);
    if (s) goto fail;
    merge_ctx mc = {.bpe = &t->bpe, .src = path, .max_merges = OPENAI_MERGES, .next_id = 512, .add_tokens = true};
    s = for_lines(body + 1, len - (size_t)(body + 1 - text), merge_line, &mc);
    if (!s && mc.rank != OPENAI_MERGES)
        s = ct_fail(CT_ERR_FORMAT, "tokenizer: %s: %zu merges, expected at least %d", path, mc.rank, OPENAI_MERGES);
    if (!s) s = ct_bpe_add_token(&t->bpe, "<|startoftext|>", 15, mc.next_id, path);
    if (!s) s = ct_bpe_add_token(&t->bpe, "<|endoftext|>", 13, mc.next_id + 1, path);
    if (!s) s = ct_bpe_finish(&t->bpe, path);
    if (s) goto fail;
    free(text);
    *out = t;
    return CT_OK;
fail:
    free(text);
    ct_tokenizer_free(t);
    return s;
}

void ct_tokenizer_free(ct_tokenizer *t) {
    if (!t) return;
    ct_bpe_free(&t->bpe);
    free(t);
}

int ct_tokenizer_vocab_size(const ct_tokenizer *t) { return t->bpe.n_vocab; }
int32_t ct_tokenizer_sot(const ct_tokenizer *t) { return t->bpe.sot; }
int32_t ct_tokenizer_eot(const ct_tokenizer *t) { return t->bpe.eot; }

const char *ct_tokenizer_token(const ct_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->bpe.n_vocab ? t->bpe.tokens[id] : NULL;
}

typedef struct {
    int32_t *v;
    size_t n, cap;
} id_vec;

static ct_status ids_reserve(id_vec *a, size_t extra) {
    if (a->n + extra <= a->cap) return CT_OK;
    size_t cap = a->cap ? a->cap : 64;
    while (cap < a->n + extra) cap *= 2;
    int32_t *v = realloc(a->v, cap * sizeof *v);
    if (!v) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for %zu ids", cap);
    a->v = v;
    a->cap = cap;
    return CT_OK;
}

/* SOT, the ids of the text, EOT. Stops adding text ids once `limit` of them are there. */
static ct_status encode(ct_tokenizer *t, const char *text, size_t len, size_t limit, id_vec *ids) {
    ct_cps cps = {0}, scratch = {0};
    uint8_t *word = NULL;
    size_t word_cap = 0;
    ct_status s = ct_utf8_decode(&cps, text, len, NULL);
    if (!s) s = ct_clip_clean(&cps, &scratch, true);
    if (!s) s = ids_reserve(ids, 2 + cps.n);
    if (s) goto done;
    ids->v[ids->n++] = t->bpe.sot;
    size_t pos = 0, a, b;
    while (!s && ids->n - 1 < limit && ct_clip_next_word(cps.v, cps.n, &pos, &a, &b)) {
        size_t need = (b - a) * 4;
        if (need > word_cap) {
            uint8_t *w = realloc(word, need);
            if (!w) {
                s = ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory for a word of %zu characters", b - a);
                break;
            }
            word = w;
            word_cap = need;
        }
        size_t wl = 0;
        for (size_t i = a; i < b; i++) wl += (size_t)ct_utf8_put(cps.v[i], word + wl);
        s = ids_reserve(ids, wl + 1);
        if (s) break;
        if (wl == 15 && memcmp(word, "<|startoftext|>", 15) == 0)
            ids->v[ids->n++] = t->bpe.sot;
        else if (wl == 13 && memcmp(word, "<|endoftext|>", 13) == 0)
            ids->v[ids->n++] = t->bpe.eot;
        else
            ids->n += (size_t)ct_bpe_word(&t->bpe, word, wl, ids->v + ids->n);
    }
    if (!s) s = ids_reserve(ids, 1);
    if (!s) ids->v[ids->n++] = t->bpe.eot;
done:
    ct_cps_free(&cps);
    ct_cps_free(&scratch);
    free(word);
    return s;
}

ct_status ct_tokenize_raw_len(ct_tokenizer *t, const char *text, size_t len, int32_t **out, int *n) {
    *out = NULL;
    *n = 0;
    id_vec ids = {0};
    ct_status s = encode(t, text, len, (size_t)-1, &ids);
    if (!s && ids.n > INT32_MAX) s = ct_fail(CT_ERR_ARG, "tokenizer: text gives %zu ids, too many", ids.n);
    if (s) {
        free(ids.v);
        return s;
    }
    *out = ids.v;
    *n = (int)ids.n;
    return CT_OK;
}

ct_status ct_tokenize_raw(ct_tokenizer *t, const char *text, int32_t **ids, int *n) {
    return ct_tokenize_raw_len(t, text, strlen(text), ids, n);
}

ct_status ct_tokenize_len(ct_tokenizer *t, const char *text, size_t len, int32_t *out, int context, int *n_out) {
    if (context < 1) return ct_fail(CT_ERR_ARG, "tokenizer: context length %d < 1", context);
    id_vec ids = {0};
    /* context - 1 text ids already make the sequence too long: no need to look further */
    ct_status s = encode(t, text, len, (size_t)context - 1, &ids);
    if (s) {
        free(ids.v);
        return s;
    }
    size_t n = ids.n;
    if (n > (size_t)context) {
        n = (size_t)context;
        ids.v[n - 1] = t->bpe.eot;
    }
    memcpy(out, ids.v, n * sizeof *out);
    for (size_t i = n; i < (size_t)context; i++) out[i] = 0;
    if (n_out) *n_out = (int)n;
    free(ids.v);
    return CT_OK;
}

ct_status ct_tokenize(ct_tokenizer *t, const char *text, int32_t *ids, int context, int *n_out) {
    return ct_tokenize_len(t, text, strlen(text), ids, context, n_out);
}

ct_status ct_tokenizer_decode(const ct_tokenizer *t, const int32_t *ids, int n, char **text, size_t *len) {
    *text = NULL;
    ct_cps raw = {0}, cps = {0};
    char *bytes = NULL, *res = NULL;
    size_t nb = 0, cap = 64;
    ct_status s = CT_OK;
    bytes = malloc(cap);
    if (!bytes) return ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    for (int i = 0; i < n && !s; i++) {
        const char *tok = ct_tokenizer_token(t, ids[i]);
        if (!tok) {
            s = ct_fail(CT_ERR_ARG, "tokenizer: decode: id %d at position %d is not in the vocabulary", (int)ids[i], i);
            break;
        }
        raw.n = 0;
        s = ct_utf8_decode(&raw, tok, strlen(tok), NULL);
        for (size_t k = 0; k < raw.n && !s; k++) {
            int byte = ct_bpe_symbol_byte(raw.v[k]);
            if (byte < 0) {
                s = ct_fail(CT_ERR_FORMAT, "tokenizer: decode: token %d holds U+%04X, not a byte symbol", (int)ids[i],
                            (unsigned)raw.v[k]);
                break;
            }
            if (nb == cap) {
                char *nbuf = realloc(bytes, cap * 2);
                if (!nbuf) {
                    s = ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
                    break;
                }
                bytes = nbuf;
                cap *= 2;
            }
            bytes[nb++] = (char)byte;
        }
    }
    if (!s) s = ct_utf8_decode(&cps, bytes, nb, NULL);
    if (!s && !(res = malloc(cps.n * 4 + 1))) s = ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    if (!s) {
        size_t o = 0;
        for (size_t k = 0; k < cps.n; k++) {
            if (cps.v[k] == '<' && k + 3 < cps.n && cps.v[k + 1] == '/' && cps.v[k + 2] == 'w' && cps.v[k + 3] == '>') {
                res[o++] = ' ';
                k += 3;
            } else
                o += (size_t)ct_utf8_put(cps.v[k], (uint8_t *)res + o);
        }
        res[o] = '\0';
        *text = res;
        if (len) *len = o;
    }
    ct_cps_free(&raw);
    ct_cps_free(&cps);
    free(bytes);
    return s;
}

ct_status ct_tokenizer_clean(const char *text, size_t len, char **out, size_t *out_len) {
    *out = NULL;
    ct_cps cps = {0}, scratch = {0};
    ct_status s = ct_utf8_decode(&cps, text, len, NULL);
    if (!s) s = ct_clip_clean(&cps, &scratch, true);
    char *res = s ? NULL : malloc(cps.n * 4 + 1);
    if (!s && !res) s = ct_fail(CT_ERR_NOMEM, "tokenizer: out of memory");
    if (!s) {
        size_t o = 0;
        for (size_t k = 0; k < cps.n; k++) o += (size_t)ct_utf8_put(cps.v[k], (uint8_t *)res + o);
        res[o] = '\0';
        *out = res;
        if (out_len) *out_len = o;
    }
    ct_cps_free(&cps);
    ct_cps_free(&scratch);
    return s;
}
