/* The pairs to caption: a JSONL pairs file or the (reference, target) pairs of a dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caption/caption_internal.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"

bool ct_caption_next_line(const char *text, size_t len, size_t *pos, size_t *line_no, const char **line,
                          size_t *line_len) {
    for (size_t s = *pos; s < len;) {
        size_t e = s, k = s;
        while (e < len && text[e] != '\n') e++;
        while (k < e && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
        (*line_no)++;
        *pos = e < len ? e + 1 : len;
        if (k < e) {
            *line = text + s;
            *line_len = e - s;
            return true;
        }
        s = *pos;
    }
    *pos = len;
    return false;
}

static void pair_clear(ct_caption_pair *p) {
    free(p->reference);
    free(p->target);
    free(p->ref_file);
    free(p->tgt_file);
    free(p->id);
    memset(p, 0, sizeof *p);
}

void ct_caption_pairs_free(ct_caption_pairs *p) {
    for (int i = 0; i < p->n; i++) pair_clear(&p->items[i]);
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

static int cmp_pair(const void *a, const void *b) {
    const ct_caption_pair *x = *(ct_caption_pair *const *)a, *y = *(ct_caption_pair *const *)b;
    int c = strcmp(x->reference, y->reference);
    if (c) return c;
    c = strcmp(x->target, y->target);
    return c ? c : (x < y ? -1 : x > y);
}

/* Keeps the first of each repeated (reference, target), in input order. */
static ct_status dedupe(ct_caption_pairs *p) {
    if (p->n < 2) return CT_OK;
    ct_caption_pair **idx = malloc((size_t)p->n * sizeof *idx);
    char *drop = calloc((size_t)p->n, 1);
    if (!idx || !drop) {
        free(idx);
        free(drop);
        return ct_fail(CT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < p->n; i++) idx[i] = &p->items[i];
    qsort(idx, (size_t)p->n, sizeof *idx, cmp_pair); /* ties by address: the first stays first */
    for (int i = 1; i < p->n; i++)
        if (!strcmp(idx[i]->reference, idx[i - 1]->reference) && !strcmp(idx[i]->target, idx[i - 1]->target))
            drop[idx[i] - p->items] = 1;
    int o = 0;
    for (int i = 0; i < p->n; i++) {
        if (drop[i])
            pair_clear(&p->items[i]);
        else
            p->items[o++] = p->items[i];
    }
    p->n = o;
    free(idx);
    free(drop);
    return CT_OK;
}

static ct_status push(ct_caption_pairs *p, int *cap, ct_caption_pair *pair) {
    if (p->n == *cap) {
        int nc = *cap ? *cap * 2 : 256;
        ct_caption_pair *ni = realloc(p->items, (size_t)nc * sizeof *ni);
        if (!ni) return ct_fail(CT_ERR_NOMEM, "out of memory");
        p->items = ni;
        *cap = nc;
    }
    p->items[p->n++] = *pair;
    memset(pair, 0, sizeof *pair);
    return CT_OK;
}

ct_status ct_caption_pairs_read(ct_caption_pairs *out, const char *file, const char *image_root) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t len;
    ct_status st = ct_read_file(file, &text, &len, (size_t)1 << 32);
    if (st) return st;
    int cap = 0;
    ct_caption_pair pair = {0};
    size_t line = 0, pos = 0, n;
    const char *at;
    while (ct_caption_next_line(text, len, &pos, &line, &at, &n)) {
        cJSON *r = NULL;
        if ((st = ct_json_parse(file, at, n, line - 1, &r))) goto fail;
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r, "reference");
        const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(r, "target");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const char *why = NULL;
        if (!cJSON_IsObject(r))
            why = "not a JSON object";
        else if (!cJSON_IsString(ref) || !*ref->valuestring)
            why = "field 'reference' missing or not a path";
        else if (!cJSON_IsString(tgt) || !*tgt->valuestring)
            why = "field 'target' missing or not a path";
        else if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id))
            why = "field 'id' is not a string or a number";
        if (why) {
            cJSON_Delete(r);
            st = ct_fail(CT_ERR_FORMAT, "caption-pairs: %s: line %zu: %s", file, line, why);
            goto fail;
        }
        pair.reference = ct_strdup(ref->valuestring);
        pair.target = ct_strdup(tgt->valuestring);
        pair.ref_file = ct_path_join(image_root, ref->valuestring);
        pair.tgt_file = ct_path_join(image_root, tgt->valuestring);
        pair.id = id ? cJSON_PrintUnformatted(id) : NULL;
        cJSON_Delete(r);
        if (!pair.reference || !pair.target || !pair.ref_file || !pair.tgt_file || (id && !pair.id)) {
            st = ct_fail(CT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if ((st = push(out, &cap, &pair))) goto fail;
    }
    free(text);
    return dedupe(out);
fail:
    pair_clear(&pair);
    free(text);
    ct_caption_pairs_free(out);
    return st;
}

/* path relative to root when it lies under it ("root/x" -> "x"), else path itself. */
static char *relative_to(const char *path, const char *root) {
    size_t n = root ? strlen(root) : 0;
    while (n > 1 && root[n - 1] == '/') n--;
    if (n && strncmp(path, root, n) == 0 && path[n] == '/') {
        path += n + 1;
        while (path[0] == '.' && path[1] == '/') path += 2;
    }
    return ct_strdup(path);
}

ct_status ct_caption_pairs_from_dataset(ct_caption_pairs *out, const ct_dataset *ds, const char *root) {
    memset(out, 0, sizeof *out);
    int cap = 0;
    ct_caption_pair pair = {0};
    ct_status st = CT_OK;
    for (int i = 0; i < ds->n_queries; i++) {
        const ct_query *q = &ds->queries[i];
        if (q->n_targets < 1 || !q->target_path || !*q->target_path || !q->ref_path || !*q->ref_path) continue;
        pair.reference = relative_to(q->ref_path, root);
        pair.target = relative_to(q->target_path, root);
        pair.ref_file = ct_strdup(q->ref_path);
        pair.tgt_file = ct_strdup(q->target_path);
        cJSON *id = cJSON_CreateString(q->id ? q->id : "");
        pair.id = id ? cJSON_PrintUnformatted(id) : NULL;
        cJSON_Delete(id);
        if (!pair.reference || !pair.target || !pair.ref_file || !pair.tgt_file || !pair.id) {
            st = ct_fail(CT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if ((st = push(out, &cap, &pair))) goto fail;
    }
    if (out->n == 0) return ct_fail(CT_ERR_FORMAT, "caption-pairs: %s has no query with a target image", ds->name);
    return dedupe(out);
fail:
    pair_clear(&pair);
    ct_caption_pairs_free(out);
    return st;
}
