/* LaSCo: lasco_<split>.json (queries) and lasco_<split>_corpus.json (gallery), at the root
 * or under downloads/. Image paths are relative to the COCO root (= --root). */
#include <stdlib.h>
#include <string.h>

#include "data/ds_internal.h"

/* "val/val2014/x.jpg" -> "val2014/x.jpg" (the corpus' extra prefix, docs/datasets.md 3). */
static const char *lasco_unprefix(const char *p) {
    static const char *const pre[] = {"val/", "train/"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(pre[i]);
        const char *rest = p + n;
        if (strncmp(p, pre[i], n) == 0 && (strncmp(rest, "val2014/", 8) == 0 || strncmp(rest, "train2014/", 10) == 0))
            return rest;
    }
    return p;
}

static ct_status lasco_add(ds_builder *b, const char *path, int i, char *id, const char *rel) {
    if (!id || !rel) {
        free(id);
        return ds_skip_gallery(b, path, i, "corpus entry without an integer id and a string path");
    }
    char *ipath = ct_path_join(b->opts->root, lasco_unprefix(rel));
    if (b->opts->check_images && ipath && !ds_exists(ipath)) {
        ct_status st = ds_skip_gallery(b, path, i, "image %s does not exist", ipath);
        free(ipath);
        free(id);
        return st;
    }
    return ds_add_gallery(b, path, i, id, ipath);
}

static char *lasco_file(const char *root, const char *split, bool corpus) {
    char *a = ct_strprintf("lasco_%s%s.json", split, corpus ? "_corpus" : "");
    char *d = a ? ct_strprintf("downloads/%s", a) : NULL;
    char *found = NULL;
    if (a && d) {
        const char *c[2] = {a, d};
        found = ds_find_first(root, c, 2);
        if (!found) found = ct_path_join(root, d); /* for the error message */
    }
    free(a);
    free(d);
    return found;
}

/* [id, path] pair of a query record. */
static bool lasco_pair(const cJSON *r, const char *key, char **id, const char **path) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2) return false;
    *id = ct_json_id_string(cJSON_GetArrayItem(a, 0));
    const cJSON *p = cJSON_GetArrayItem(a, 1);
    *path = cJSON_IsString(p) ? p->valuestring : NULL;
    if (*id && *path && cJSON_IsNumber(cJSON_GetArrayItem(a, 0))) return true;
    free(*id);
    *id = NULL;
    return false;
}

ct_status ds_load_lasco(ds_builder *b) {
    const ct_dataset_opts *o = b->opts;
    char *cpath = lasco_file(o->root, o->split, true);
    char *qpath = lasco_file(o->root, o->split, false);
    cJSON *cj = NULL, *qj = NULL;
    ct_query q = {.n_nps = -1};
    ct_status st = CT_OK;
    if (!cpath || !qpath) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    if ((st = ct_json_load(cpath, &cj))) goto fail;
    int i = 0;
    const cJSON *e;
    if (cJSON_IsArray(cj)) {
        cJSON_ArrayForEach(e, cj) {
            const cJSON *idv = cJSON_GetObjectItemCaseSensitive(e, "id");
            st = lasco_add(b, cpath, i++, cJSON_IsNumber(idv) ? ct_json_id_string(idv) : NULL, ct_json_str(e, "path"));
            if (st) goto fail;
        }
    } else if (cJSON_IsObject(cj)) {
        cJSON_ArrayForEach(e, cj) {
            st = lasco_add(b, cpath, i++, ct_strdup(e->string), cJSON_IsString(e) ? e->valuestring : NULL);
            if (st) goto fail;
        }
    } else {
        st = ct_fail(CT_ERR_FORMAT, "dataset: %s: expected a list of {id, path} or a dict {id: path}", cpath);
        goto fail;
    }
    if ((st = ct_json_load_list(qpath, &qj, "records"))) goto fail;
    int idx = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, qj) {
        int rec = idx++;
        b->ds->n_records++;
        const char *rpath = NULL, *tpath = NULL, *text = ct_json_str(r, "query-text");
        char *tid = NULL;
        const char *why = NULL;
        q.id = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(r, "qid"));
        if (!q.id)
            why = "field 'qid' missing or not an integer";
        else if (!lasco_pair(r, "query-image", &q.ref_name, &rpath))
            why = "field 'query-image' is not [id, path]";
        else if (!text)
            why = "field 'query-text' missing or not a string";
        else if (cJSON_GetObjectItemCaseSensitive(r, "target-image") && !lasco_pair(r, "target-image", &tid, &tpath))
            why = "field 'target-image' is not [id, path]";
        else if (!ct_json_str_list(r, "noun_phrases", true, &q.n_nps, &q.nps))
            why = "field 'noun_phrases' is not a list of strings";
        if (why) {
            free(tid);
            st = ds_skip(b, qpath, rec, "%s", why);
            ds_query_clear(&q);
            if (st) goto fail;
            continue;
        }
        q.caption = ct_strdup(text);
        q.ref_path = ct_path_join(o->root, lasco_unprefix(rpath));
        bool ok = q.caption && q.ref_path;
        if (tid) {
            q.targets = calloc(1, sizeof *q.targets);
            if (q.targets) {
                q.targets[0] = tid;
                q.n_targets = 1;
            } else
                free(tid);
            q.target_path = ct_path_join(o->root, lasco_unprefix(tpath));
            ok = ok && q.targets && q.target_path;
        }
        if (!ok) {
            st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            goto fail;
        }
        if ((st = ds_finish_query(b, qpath, rec, &q))) goto fail;
    }
fail:
    ds_query_clear(&q);
    cJSON_Delete(cj);
    cJSON_Delete(qj);
    free(cpath);
    free(qpath);
    return st;
}
