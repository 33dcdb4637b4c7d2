/* Exclusion files (`datasets check --write-excluded`, docs/formats.md section 13) and
 * taking their queries and images out of a loaded dataset (`eval --exclude`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/datasets.h"
#include "data/ds_internal.h"

struct ct_exclusion {
    char *path;
    char dataset[16];
    cJSON *splits; /* {split: {"queries": [str], "images": [str]}} */
    cJSON *doc;
};

void ct_exclusion_free(ct_exclusion *ex) {
    if (!ex) return;
    cJSON_Delete(ex->doc);
    free(ex->path);
    free(ex);
}

static bool all_strings(const cJSON *a) {
    if (!cJSON_IsArray(a)) return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) if (!cJSON_IsString(e)) return false;
    return true;
}

ct_status ct_exclusion_load(ct_exclusion **out, const char *path) {
    *out = NULL;
    ct_exclusion *ex = calloc(1, sizeof *ex);
    if (!ex || !(ex->path = ct_strdup(path))) {
        ct_exclusion_free(ex);
        return ct_fail(CT_ERR_NOMEM, "exclude: out of memory");
    }
    ct_status s = ct_json_load(path, &ex->doc);
    if (s) goto fail;
    const char *format = ct_json_str(ex->doc, "format"), *dataset = ct_json_str(ex->doc, "dataset");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(ex->doc, "version");
    ct_dataset_kind kind;
    if (!format || strcmp(format, "ctcir-exclude")) {
        s = ct_fail(CT_ERR_FORMAT,
                    "exclude: %s: \"format\" is not \"ctcir-exclude\" (not written by `ctcir datasets check "
                    "--write-excluded`?)",
                    path);
        goto fail;
    }
    if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
        s = ct_fail(CT_ERR_FORMAT, "exclude: %s: \"version\" must be 1", path);
        goto fail;
    }
    if (!dataset || ct_dataset_kind_parse(dataset, &kind)) {
        s = ct_fail(CT_ERR_FORMAT, "exclude: %s: \"dataset\" missing or not a dataset kind", path);
        goto fail;
    }
    snprintf(ex->dataset, sizeof ex->dataset, "%s", dataset);
    ex->splits = cJSON_GetObjectItemCaseSensitive(ex->doc, "splits");
    if (!cJSON_IsObject(ex->splits)) {
        s = ct_fail(CT_ERR_FORMAT, "exclude: %s: \"splits\" missing or not an object", path);
        goto fail;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, ex->splits) {
        if (!cJSON_IsObject(e) || !all_strings(cJSON_GetObjectItemCaseSensitive(e, "queries")) ||
            !all_strings(cJSON_GetObjectItemCaseSensitive(e, "images"))) {
            s = ct_fail(CT_ERR_FORMAT, "exclude: %s: split '%s' needs \"queries\" and \"images\" lists of strings",
                        path, e->string);
            goto fail;
        }
    }
    *out = ex;
    return CT_OK;
fail:
    ct_exclusion_free(ex);
    return s;
}

static ct_namemap *name_set(const cJSON *list) {
    ct_namemap *m = ct_namemap_new();
    const cJSON *e;
    if (m) cJSON_ArrayForEach(e, list) if (ct_namemap_put(m, e->valuestring, 0) == -2) {
            ct_namemap_free(m);
            return NULL;
        }
    return m;
}

/* True when the query uses one of the images in `images`. */
static bool uses_any(const ct_query *q, const ct_namemap *images) {
    if (ct_namemap_get(images, q->ref_name) >= 0) return true;
    for (int t = 0; t < q->n_targets; t++)
        if (ct_namemap_get(images, q->targets[t]) >= 0) return true;
    for (int m = 0; m < q->n_members; m++)
        if (ct_namemap_get(images, q->members[m]) >= 0) return true;
    return false;
}

ct_status ct_dataset_exclude(ct_dataset *ds, const ct_exclusion *ex, const char *split, int *n_queries, int *n_images) {
    *n_queries = *n_images = 0;
    const char *kind = ct_dataset_kind_name(ds->kind);
    if (strcmp(ex->dataset, kind))
        return ct_fail(CT_ERR_ARG, "exclude: %s was written for dataset %s, not %s", ex->path, ex->dataset, kind);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ex->splits, split);
    if (!e)
        return ct_fail(CT_ERR_ARG, "exclude: %s does not cover split '%s' (run `ctcir datasets check` on it)", ex->path,
                       split);
    ct_namemap *queries = name_set(cJSON_GetObjectItemCaseSensitive(e, "queries"));
    ct_namemap *images = name_set(cJSON_GetObjectItemCaseSensitive(e, "images"));
    ct_namemap *map = ct_namemap_new();
    ct_status s = CT_OK;
    if (!queries || !images || !map) {
        s = ct_fail(CT_ERR_NOMEM, "exclude: out of memory");
        goto done;
    }
    /* the gallery without the listed images, and a fresh name map (built first, so that
     * running out of memory leaves the dataset as it was) */
    int kept = 0;
    for (int g = 0; g < ds->n_gallery; g++)
        if (ct_namemap_get(images, ds->gallery_names[g]) < 0 &&
            ct_namemap_put(map, ds->gallery_names[g], kept++) == -2) {
            s = ct_fail(CT_ERR_NOMEM, "exclude: out of memory");
            goto done;
        }
    kept = 0;
    for (int g = 0; g < ds->n_gallery; g++) {
        if (ct_namemap_get(images, ds->gallery_names[g]) >= 0) {
            free(ds->gallery_names[g]), free(ds->gallery_paths[g]);
            continue;
        }
        ds->gallery_names[kept] = ds->gallery_names[g], ds->gallery_paths[kept] = ds->gallery_paths[g];
        kept++;
    }
    *n_images = ds->n_gallery - kept;
    ds->n_gallery = kept;
    ct_namemap_free(ds->map);
    ds->map = map, map = NULL;
    /* the queries: listed ones, and any that use an excluded image */
    kept = 0;
    for (int q = 0; q < ds->n_queries; q++) {
        ct_query *qq = &ds->queries[q];
        if (ct_namemap_get(queries, qq->id) >= 0 || uses_any(qq, images)) {
            ds_query_clear(qq);
            continue;
        }
        if (kept != q) ds->queries[kept] = *qq;
        kept++;
    }
    *n_queries = ds->n_queries - kept;
    ds->n_queries = kept;
done:
    ct_namemap_free(queries), ct_namemap_free(images), ct_namemap_free(map);
    return s;
}
