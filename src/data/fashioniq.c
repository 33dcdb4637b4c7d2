/* FashionIQ: captions/cap.<cat>.<split>.json (list of {"candidate", "target", "captions"})
 * and image_splits/split.<cat>.<split>.json (list of names; the category's gallery). */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "data/ds_internal.h"

static bool strip_char(char c) { return c == '.' || c == '?' || c == ',' || c == ' '; }

/* Python's s.strip('.?, ') then, if cap, s.capitalize() (first code point to title case,
 * every other code point to lower case; simple one-to-one case mappings of utf8proc).
 * Invalid UTF-8 bytes are copied unchanged. */
static char *py_strip_cap(const char *s, bool cap) {
    size_t n = strlen(s);
    size_t a = 0, z = n;
    while (a < z && strip_char(s[a])) a++;
    while (z > a && strip_char(s[z - 1])) z--;
    char *out = malloc((z - a) * 4 + 1); /* a case change never needs more than 4 bytes */
    if (!out) return NULL;
    size_t o = 0;
    bool first = true;
    for (size_t i = a; i < z;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(z - i), &cp);
        if (len <= 0) {
            out[o++] = s[i++];
            first = false;
            continue;
        }
        if (cap) cp = first ? utf8proc_totitle(cp) : utf8proc_tolower(cp);
        o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + o);
        i += (size_t)len;
        first = false;
    }
    out[o] = 0;
    return out;
}

char *ct_fiq_join_captions(const char *c0, const char *c1) {
    char *a = py_strip_cap(c0, true), *b = py_strip_cap(c1, false);
    char *r = a && b ? ct_strprintf("%s and %s", a, b) : NULL;
    free(a);
    free(b);
    return r;
}

ct_status ds_load_fashioniq(ds_builder *b) {
    const ct_dataset_opts *o = b->opts;
    const char *cat = o->category;
    if (!cat || (strcmp(cat, "dress") && strcmp(cat, "shirt") && strcmp(cat, "toptee")))
        return ct_fail(CT_ERR_ARG, "dataset: fashioniq: category '%s' is not dress, shirt or toptee",
                       cat ? cat : "(none)");
    char *srel = ct_strprintf("image_splits/split.%s.%s.json", cat, o->split);
    char *crel = ct_strprintf("captions/cap.%s.%s.json", cat, o->split);
    char *spath = srel ? ct_path_join(o->root, srel) : NULL;
    char *cpath = crel ? ct_path_join(o->root, crel) : NULL;
    cJSON *sj = NULL, *cj = NULL;
    ct_query q = {.n_nps = -1};
    ct_status st = CT_OK;
    free(srel);
    free(crel);
    if (!spath || !cpath) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    if ((st = ct_json_load_list(spath, &sj, "image names"))) goto fail;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, sj) {
        if (!cJSON_IsString(e)) {
            st = ds_skip_gallery(b, spath, i, "gallery entry is not a string");
        } else {
            char *rel = ct_strprintf("images/%s.jpg", e->valuestring);
            char *ipath = rel ? ct_path_join(o->root, rel) : NULL;
            free(rel);
            if (o->check_images && ipath && !ds_exists(ipath)) {
                st = ds_skip_gallery(b, spath, i, "image %s does not exist", ipath);
                free(ipath);
            } else {
                st = ds_add_gallery(b, spath, i, ct_strdup(e->valuestring), ipath);
            }
        }
        if (st) goto fail;
        i++;
    }
    if ((st = ct_json_load_list(cpath, &cj, "records"))) goto fail;
    int idx = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cj) {
        int rec = idx++;
        b->ds->n_records++;
        const char *cand = ct_json_str(r, "candidate");
        const cJSON *tgt = cJSON_GetObjectItemCaseSensitive(r, "target");
        const cJSON *caps = cJSON_GetObjectItemCaseSensitive(r, "captions");
        const char *why = NULL;
        if (!cand)
            why = "field 'candidate' missing or not a string";
        else if (tgt && !cJSON_IsString(tgt))
            why = "field 'target' is not a string";
        else if (!cJSON_IsArray(caps) || cJSON_GetArraySize(caps) != 2 ||
                 !cJSON_IsString(cJSON_GetArrayItem(caps, 0)) || !cJSON_IsString(cJSON_GetArrayItem(caps, 1)))
            why = "field 'captions' is not a list of 2 strings";
        else if (!ct_json_str_list(r, "noun_phrases", true, &q.n_nps, &q.nps))
            why = "field 'noun_phrases' is not a list of strings";
        if (why) {
            st = ds_skip(b, cpath, rec, "%s", why);
            ds_query_clear(&q);
            if (st) goto fail;
            continue;
        }
        q.id = ct_strprintf("%s/%d", cat, rec);
        q.ref_name = ct_strdup(cand);
        char *rrel = ct_strprintf("images/%s.jpg", cand);
        q.ref_path = rrel ? ct_path_join(o->root, rrel) : NULL;
        free(rrel);
        q.caption =
            ct_fiq_join_captions(cJSON_GetArrayItem(caps, 0)->valuestring, cJSON_GetArrayItem(caps, 1)->valuestring);
        bool ok = q.id && q.ref_name && q.ref_path && q.caption;
        if (ok && tgt) {
            q.targets = calloc(1, sizeof *q.targets);
            char *trel = ct_strprintf("images/%s.jpg", tgt->valuestring);
            q.target_path = trel ? ct_path_join(o->root, trel) : NULL;
            free(trel);
            if (q.targets) {
                q.n_targets = 1;
                q.targets[0] = ct_strdup(tgt->valuestring);
            }
            ok = q.targets && q.targets[0] && q.target_path;
        }
        if (!ok) {
            st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            goto fail;
        }
        if ((st = ds_finish_query(b, cpath, rec, &q))) goto fail;
    }
fail:
    ds_query_clear(&q);
    cJSON_Delete(sj);
    cJSON_Delete(cj);
    free(spath);
    free(cpath);
    return st;
}
