/* CIRR (rc2) and CIRR_R / good4cir: captions/cap.rc2.<split>.json (a list of records) and
 * image_splits/split.rc2.<split>.json ({name: "./dev/name.png"}; the gallery, file order). */
#include <stdlib.h>
#include <string.h>

#include "data/ds_internal.h"

static ct_status cirr_gallery(ds_builder *b, const char *root, const char *split) {
    char *rel = ct_strprintf("image_splits/split.rc2.%s.json", split);
    char *path = rel ? ct_path_join(root, rel) : NULL;
    free(rel);
    if (!path) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    cJSON *j = NULL;
    ct_status st = ct_json_load(path, &j);
    if (st) goto fail;
    if (!cJSON_IsObject(j)) {
        st = ct_fail(CT_ERR_FORMAT, "dataset: %s: expected a JSON object {name: path}", path);
        goto fail;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        if (!cJSON_IsString(e)) {
            st = ds_skip_gallery(b, path, i, "gallery entry '%s' is not a path string", e->string);
        } else {
            char *ipath = ct_path_join(root, e->valuestring);
            if (b->opts->check_images && ipath && !ds_exists(ipath)) {
                st = ds_skip_gallery(b, path, i, "image %s does not exist", ipath);
                free(ipath);
            } else {
                st = ds_add_gallery(b, path, i, ct_strdup(e->string), ipath);
            }
        }
        if (st) goto fail;
        i++;
    }
fail:
    cJSON_Delete(j);
    free(path);
    return st;
}

static ct_status cirr_load(ds_builder *b, bool cirr_r) {
    const ct_dataset_opts *o = b->opts;
    ct_status st = cirr_gallery(b, o->root, o->split);
    if (st) return st;
    char *path = NULL;
    if (cirr_r && o->file) {
        path = ct_strdup(o->file);
    } else {
        char *rel = ct_strprintf("captions/cap.rc2.%s.json", o->split);
        path = rel ? ct_path_join(o->root, rel) : NULL;
        free(rel);
    }
    if (!path) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    cJSON *j = NULL;
    ct_query q = {.n_nps = -1};
    st = ct_json_load_list(path, &j, "records");
    if (st) goto fail;
    int idx = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, j) {
        b->ds->n_records++;
        int rec = idx++;
        char *pairid = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(r, "pairid"));
        const char *ref = ct_json_str(r, "reference");
        const char *cap = ct_json_str(r, "caption");
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(r, "target_hard");
        const cJSON *diffs = cJSON_GetObjectItemCaseSensitive(r, "difference_captions");
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(r, "img_set");
        const char *why = NULL;
        if (!cJSON_IsObject(r))
            why = "not a JSON object";
        else if (!pairid)
            why = "field 'pairid' missing or not an integer";
        else if (!ref)
            why = "field 'reference' missing or not a string";
        else if (!cap && !diffs)
            why = "neither 'caption' nor 'difference_captions' present";
        else if (cJSON_GetObjectItemCaseSensitive(r, "caption") && !cap)
            why = "field 'caption' is not a string";
        else if (diffs && !cJSON_IsArray(diffs))
            why = "field 'difference_captions' is not a list";
        else if (th && !cJSON_IsString(th))
            why = "field 'target_hard' is not a string";
        else if (set && !cJSON_IsObject(set))
            why = "field 'img_set' is not an object";
        if (!why && diffs) {
            const cJSON *d;
            cJSON_ArrayForEach(d, diffs) if (!cJSON_IsString(d)) why = "'difference_captions' holds a non-string";
        }
        int n_members = 0;
        char **members = NULL;
        if (!why && set && !ct_json_str_list(set, "members", true, &n_members, &members))
            why = "field 'img_set.members' is not a list of names";
        if (n_members < 0) n_members = 0;
        if (why) {
            free(pairid);
            ct_str_list_free(members, n_members);
            st = ds_skip(b, path, rec, "%s", why);
            if (st) goto fail;
            continue;
        }
        if (n_members == 0 && !(o->split && strcmp(o->split, "train") == 0))
            ds_warn(b, path, rec, "no 'img_set.members': not counted in the subset metrics");
        /* One query per caption: "caption" first, then the difference captions. */
        int n_caps = (cap ? 1 : 0) + (diffs ? cJSON_GetArraySize(diffs) : 0);
        for (int c = 0; c < n_caps; c++) {
            const char *text = cap && c == 0 ? cap : cJSON_GetArrayItem(diffs, c - (cap ? 1 : 0))->valuestring;
            q.id = cap && c == 0 ? ct_strdup(pairid) : ct_strprintf("%s_%d", pairid, c - (cap ? 1 : 0));
            q.ref_name = ct_strdup(ref);
            q.caption = ct_strdup(text);
            int ri = ct_dataset_find(b->ds, ref);
            q.ref_path = ct_strdup(ri >= 0 ? b->ds->gallery_paths[ri] : "");
            if (th) {
                q.n_targets = 1;
                q.targets = calloc(1, sizeof *q.targets);
                if (q.targets) q.targets[0] = ct_strdup(th->valuestring);
                int ti = ct_dataset_find(b->ds, th->valuestring);
                q.target_path = ct_strdup(ti >= 0 ? b->ds->gallery_paths[ti] : "");
            }
            q.members = calloc(n_members > 0 ? (size_t)n_members : 1, sizeof *q.members);
            if (q.members) {
                q.n_members = n_members;
                for (int m = 0; m < n_members; m++) q.members[m] = ct_strdup(members[m]);
            }
            bool ok = q.id && q.ref_name && q.caption && q.ref_path && q.members &&
                      (!th || (q.targets && q.targets[0] && q.target_path));
            for (int m = 0; ok && m < n_members; m++) ok = q.members[m] != NULL;
            if (!ok) {
                st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
                break;
            }
            if (!ct_json_str_list(r, "noun_phrases", true, &q.n_nps, &q.nps)) {
                st = ds_skip(b, path, rec, "field 'noun_phrases' is not a list of strings");
                ds_query_clear(&q);
                break;
            }
            st = ds_finish_query(b, path, rec, &q);
            if (st) break;
        }
        free(pairid);
        ct_str_list_free(members, n_members);
        if (st) goto fail;
    }
fail:
    ds_query_clear(&q);
    cJSON_Delete(j);
    free(path);
    return st;
}

ct_status ds_load_cirr(ds_builder *b) { return cirr_load(b, false); }
ct_status ds_load_cirr_r(ds_builder *b) { return cirr_load(b, true); }
