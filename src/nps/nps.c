/* ct_noun_phrases: tokenise, tag, parse, then list the phrase tree breadth-first. */
#include <stdlib.h>
#include <string.h>

#include "ctcir/nps.h"
#include "nps/nps_internal.h"

typedef struct {
    int depth, start, index;
} order_key;

/* Breadth-first: by depth, then left to right; an enclosing node (created later) first. */
static int cmp_order(const void *a, const void *b) {
    const order_key *x = a, *y = b;
    if (x->depth != y->depth) return x->depth < y->depth ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return y->index - x->index;
}

/* A phrase that is one pronoun-like word alone: it, this, there, one, ones. */
static bool pronoun_alone(const char *caption, const nps_token *tok, const nps_node *nd) {
    if (nd->first != nd->last) return false;
    const nps_token *t = &tok[nd->first];
    if (t->tag == NPS_PRON || t->tag == NPS_EX) return true;
    char w[8];
    nps_token_lower(caption, t, w, sizeof w);
    return strcmp(w, "one") == 0 || strcmp(w, "ones") == 0;
}

void ct_noun_phrases_free(char **phrases, int n) {
    if (!phrases) return;
    for (int i = 0; i < n; i++) free(phrases[i]);
    free(phrases);
}

ct_status ct_noun_phrases(const char *caption, int max_phrases, char ***phrases, int *n) {
    if (!phrases || !n) return ct_fail(CT_ERR_ARG, "nps: phrases and n must not be NULL");
    *phrases = NULL;
    *n = 0;
    if (!caption) return ct_fail(CT_ERR_ARG, "nps: caption is NULL");
    if (max_phrases < 0) return ct_fail(CT_ERR_ARG, "nps: max_phrases is %d, expected >= 0", max_phrases);
    size_t len = strnlen(caption, CT_NPS_MAX_CAPTION + 1);
    if (len > CT_NPS_MAX_CAPTION) return ct_fail(CT_ERR_ARG, "nps: caption longer than %d bytes", CT_NPS_MAX_CAPTION);
    if (len == 0 || max_phrases == 0) return CT_OK;

    ct_status st = CT_OK;
    int cap_tok = (int)len + 1, cap_nodes = 2 * (int)len + 8, kept = 0;
    nps_token *tok = malloc(sizeof *tok * (size_t)cap_tok);
    nps_node *nodes = malloc(sizeof *nodes * (size_t)cap_nodes);
    order_key *keys = malloc(sizeof *keys * (size_t)cap_nodes);
    char **out = NULL;
    if (!tok || !nodes || !keys) {
        st = ct_fail(CT_ERR_NOMEM, "nps: out of memory for a caption of %zu bytes", len);
        goto fail;
    }
    int nt = nps_tokenize(caption, (int)len, tok, cap_tok);
    nps_tag_tokens(caption, tok, nt);
    int nn = nps_parse(caption, tok, nt, nodes, cap_nodes);
    for (int i = 0; i < nn; i++) keys[i] = (order_key){nodes[i].depth, tok[nodes[i].first].start, i};
    qsort(keys, (size_t)nn, sizeof *keys, cmp_order);

    int limit = max_phrases < nn ? max_phrases : nn;
    out = calloc((size_t)(limit > 0 ? limit : 1), sizeof *out);
    if (!out) {
        st = ct_fail(CT_ERR_NOMEM, "nps: out of memory");
        goto fail;
    }
    for (int k = 0; k < nn && kept < limit; k++) {
        const nps_node *nd = &nodes[keys[k].index];
        if (pronoun_alone(caption, tok, nd)) continue;
        int s = tok[nd->first].start, e = tok[nd->last].end;
        bool dup = false;
        for (int q = 0; q < kept && !dup; q++)
            dup = (int)strlen(out[q]) == e - s && memcmp(out[q], caption + s, (size_t)(e - s)) == 0;
        if (dup) continue;
        out[kept] = malloc((size_t)(e - s) + 1);
        if (!out[kept]) {
            st = ct_fail(CT_ERR_NOMEM, "nps: out of memory");
            goto fail;
        }
        memcpy(out[kept], caption + s, (size_t)(e - s));
        out[kept][e - s] = '\0';
        kept++;
    }
    free(tok);
    free(nodes);
    free(keys);
    if (kept == 0) {
        free(out);
        out = NULL;
    }
    *phrases = out;
    *n = kept;
    return CT_OK;
fail:
    ct_noun_phrases_free(out, kept);
    free(tok);
    free(nodes);
    free(keys);
    return st;
}
