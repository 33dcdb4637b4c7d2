/* The generic JSONL manifest (and Hotel-CIR, which uses the same record format):
 *   {"reference": path, "target": path, "caption": str, "noun_phrases": [str], "id": ...}
 * one object a line (a file starting with '[' is read as one JSON list instead). Instead of
 * "caption", a record may carry "difference_captions": [str, ...] (what `ctcir caption-pairs`
 * writes); each is then its own query "<id>_<i>". */
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "data/ds_internal.h"

/* Parses the records of a JSONL (or JSON list) file into a JSON array. */
static ct_status read_records(const char *path, cJSON **out, int **lines) {
    char *text;
    size_t len;
    *out = NULL;
    *lines = NULL;
    ct_status st = ct_read_file(path, &text, &len, (size_t)4 << 30);
    if (st) return st;
    size_t p = 0;
    while (p < len && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r' || text[p] == '\n')) p++;
    cJSON *arr = NULL;
    if (p < len && text[p] == '[') {
        st = ct_json_parse(path, text, len, 0, &arr);
        if (!st && !cJSON_IsArray(arr)) st = ct_fail(CT_ERR_FORMAT, "dataset: %s: expected a JSON list", path);
        free(text);
        if (st) {
            cJSON_Delete(arr);
            return st;
        }
        *out = arr;
        return CT_OK;
    }
    arr = cJSON_CreateArray();
    int cap = 1024, n = 0;
    int *ln = malloc((size_t)cap * sizeof *ln);
    if (!arr || !ln) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    size_t line = 0;
    for (size_t s = 0; s < len;) {
        size_t e = s;
        while (e < len && text[e] != '\n') e++;
        size_t k = s;
        while (k < e && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
        if (k < e) {
            cJSON *rec;
            if ((st = ct_json_parse(path, text + s, e - s, line, &rec))) goto fail;
            if (n == cap) {
                int *nl = realloc(ln, (size_t)cap * 2 * sizeof *nl);
                if (!nl) {
                    cJSON_Delete(rec);
                    st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
                    goto fail;
                }
                ln = nl;
                cap *= 2;
            }
            ln[n++] = (int)line + 1;
            cJSON_AddItemToArray(arr, rec);
        }
        line++;
        s = e + 1;
    }
    free(text);
    *out = arr;
    *lines = ln;
    return CT_OK;
fail:
    free(text);
    free(ln);
    cJSON_Delete(arr);
    return st;
}

/* Adds relative path `rel` to the gallery unless its name is there already; *ok = false
 * when the name is there with a different path (two extensions of one name). */
static ct_status union_add(ds_builder *b, const char *file, int rec, const char *rel, bool *ok) {
    char *name = ds_strip_ext(rel), *path = ct_path_join(b->opts->root, rel);
    if (!name || !path) {
        free(name);
        free(path);
        return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    }
    int g = ct_dataset_find(b->ds, name);
    if (g >= 0) {
        *ok = strcmp(b->ds->gallery_paths[g], path) == 0;
        free(name);
        free(path);
        return CT_OK;
    }
    return ds_add_gallery(b, file, rec, name, path);
}

static ct_status gallery_list(ds_builder *b, const char *file) {
    char *text;
    size_t len;
    ct_status st = ct_read_file(file, &text, &len, (size_t)4 << 30);
    if (st) return st;
    int i = 0;
    for (char *s = text; *s;) {
        char *e = strchr(s, '\n');
        char *next = e ? e + 1 : s + strlen(s);
        if (e) *e = 0;
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
        if (n) {
            char *path = ct_path_join(b->opts->root, s);
            if (b->opts->check_images && path && !ds_exists(path)) {
                st = ds_skip_gallery(b, file, i, "image %s does not exist", path);
                free(path);
            } else {
                st = ds_add_gallery(b, file, i, ds_strip_ext(s), path);
            }
            if (st) break;
            i++;
        }
        s = next;
    }
    free(text);
    return st;
}

static ct_status manifest_load(ds_builder *b, bool hotel) {
    const ct_dataset_opts *o = b->opts;
    const char *file = o->file;
    const char *gallery_file = o->gallery_file;
    char *path = NULL, *gal_default = NULL;
    if (file) {
        path = ct_strdup(file);
    } else if (!hotel && o->split) {
        /* <root>/<split>.jsonl, with <root>/<split>_gallery.txt as the gallery if present. */
        char *rel = ct_strprintf("%s.jsonl", o->split), *grel = ct_strprintf("%s_gallery.txt", o->split);
        path = rel ? ct_path_join(o->root, rel) : NULL;
        gal_default = grel ? ct_path_join(o->root, grel) : NULL;
        free(rel);
        free(grel);
        if (!gal_default) {
            free(path);
            return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        }
        if (!gallery_file && ds_exists(gal_default)) gallery_file = gal_default;
    } else if (hotel) {
        char *a = ct_strprintf("hotel_%s.jsonl", o->split), *c = ct_strprintf("hotel_%s.json", o->split);
        const char *cands[2] = {a, c};
        if (a && c) path = ds_find_first(o->root, cands, 2);
        if (!path && a && c) {
            ct_status st = ct_fail(CT_ERR_IO, "dataset: hotel: neither %s nor %s under %s", a, c, o->root);
            free(a);
            free(c);
            return st;
        }
        free(a);
        free(c);
    } else {
        return ct_fail(CT_ERR_ARG, "dataset: manifest: no manifest file (or split) given");
    }
    if (!path) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    cJSON *recs = NULL;
    int *lines = NULL;
    ct_query q = {.n_nps = -1};
    ct_status st = read_records(path, &recs, &lines);
    if (st) goto fail;
    if (gallery_file && (st = gallery_list(b, gallery_file))) goto fail;
    int idx = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, recs) {
        int rec = idx++;
        b->ds->n_records++;
        const char *ref = ct_json_str(r, "reference"), *tgt = ct_json_str(r, "target"),
                   *cap = ct_json_str(r, "caption");
        /* a list of captions: good4cir's "difference_captions" (caption-pairs output), or
         * Hotel-CIR's "captions" */
        const char *caps_key = "difference_captions";
        const cJSON *caps = cJSON_GetObjectItemCaseSensitive(r, caps_key);
        if (!caps && hotel) caps = cJSON_GetObjectItemCaseSensitive(r, caps_key = "captions");
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(r, "id");
        char *id = idv ? ct_json_id_string(idv) : ct_strprintf("%d", lines ? lines[rec] : rec + 1);
        const char *why = NULL;
        int n_caps = cap ? 1 : 0;
        if (!cJSON_IsObject(r))
            why = "not a JSON object";
        else if (!ref)
            why = "field 'reference' missing or not a string";
        else if (cJSON_GetObjectItemCaseSensitive(r, "target") && !tgt)
            why = "field 'target' is not a string";
        else if (!cap && !cJSON_IsArray(caps))
            why = "field 'caption' missing or not a string";
        else if (!id)
            why = "field 'id' is not a string or an integer";
        if (!why && !cap) {
            const cJSON *c;
            cJSON_ArrayForEach(c, caps) if (!cJSON_IsString(c)) why =
                strcmp(caps_key, "captions") == 0 ? "field 'captions' holds a non-string"
                                                  : "field 'difference_captions' holds a non-string";
            n_caps = cJSON_GetArraySize(caps);
        }
        int n_nps = -1;
        char **nps = NULL;
        if (!why && !ct_json_str_list(r, "noun_phrases", true, &n_nps, &nps))
            why = "field 'noun_phrases' is not a list of strings";
        bool ok = true;
        if (!why && !gallery_file) {
            if ((st = union_add(b, path, rec, ref, &ok))) goto loop_fail;
            if (ok && tgt && (st = union_add(b, path, rec, tgt, &ok))) goto loop_fail;
            if (!ok) why = "two image paths share one name (the path without its extension)";
        }
        if (why) {
            st = ds_skip(b, path, rec, "%s", why);
            goto loop_fail;
        }
        for (int c = 0; c < n_caps && !st; c++) {
            q.id = cap ? ct_strdup(id) : ct_strprintf("%s_%d", id, c);
            q.caption = ct_strdup(cap ? cap : cJSON_GetArrayItem(caps, c)->valuestring);
            q.ref_name = ds_strip_ext(ref);
            q.ref_path = ct_path_join(o->root, ref);
            bool okq = q.id && q.caption && q.ref_name && q.ref_path;
            if (tgt) {
                q.targets = calloc(1, sizeof *q.targets);
                if (q.targets) {
                    q.n_targets = 1;
                    q.targets[0] = ds_strip_ext(tgt);
                }
                q.target_path = ct_path_join(o->root, tgt);
                okq = okq && q.targets && q.targets[0] && q.target_path;
            }
            if (nps) {
                q.nps = calloc((size_t)n_nps + 1, sizeof *q.nps);
                if (q.nps) {
                    q.n_nps = n_nps;
                    for (int k = 0; k < n_nps; k++) okq = okq && (q.nps[k] = ct_strdup(nps[k]));
                } else
                    okq = false;
            }
            st = okq ? ds_finish_query(b, path, rec, &q) : ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        }
    loop_fail:
        free(id);
        ct_str_list_free(nps, n_nps > 0 ? n_nps : 0);
        if (st) goto fail;
    }
fail:
    ds_query_clear(&q);
    cJSON_Delete(recs);
    free(lines);
    free(path);
    free(gal_default);
    return st;
}

ct_status ds_load_manifest(ds_builder *b) { return manifest_load(b, false); }
ct_status ds_load_hotel(ds_builder *b) { return manifest_load(b, true); }
