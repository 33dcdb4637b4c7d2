/* CIRCO: annotations/<split>.json (a list; id = position) and the COCO 2017 unlabeled
 * image list COCO2017_unlabeled/annotations/image_info_unlabeled2017.json (the gallery). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/ds_internal.h"

#define CIRCO_DEFAULT_TEMPLATE "find {shared_concept} but {relative_caption}"

/* Replaces every {shared_concept} and {relative_caption} in the template. */
static char *circo_fill(const char *tpl, const char *concept, const char *rel) {
    size_t cap = strlen(tpl) + 1;
    for (const char *p = tpl; (p = strchr(p, '{')); p++) cap += strlen(concept) + strlen(rel);
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    while (*tpl) {
        if (strncmp(tpl, "{shared_concept}", 16) == 0) {
            o += sprintf(o, "%s", concept);
            tpl += 16;
        } else if (strncmp(tpl, "{relative_caption}", 18) == 0) {
            o += sprintf(o, "%s", rel);
            tpl += 18;
        } else {
            *o++ = *tpl++;
        }
    }
    *o = 0;
    return out;
}

static ct_status circo_gallery(ds_builder *b) {
    const char *root = b->opts->root;
    char *path = ct_path_join(root, "COCO2017_unlabeled/annotations/image_info_unlabeled2017.json");
    char *imgdir = ct_path_join(root, "COCO2017_unlabeled/unlabeled2017");
    cJSON *j = NULL;
    ct_status st = CT_OK;
    if (!path || !imgdir) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    st = ct_json_load(path, &j);
    if (st) goto fail;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(j, "images");
    if (!cJSON_IsArray(imgs)) {
        st = ct_fail(CT_ERR_FORMAT, "dataset: %s: field 'images' missing or not a list", path);
        goto fail;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, imgs) {
        char *id = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(e, "id"));
        const char *fn = ct_json_str(e, "file_name");
        if (!id || !fn) {
            free(id);
            st = ds_skip_gallery(b, path, i, "image entry without integer 'id' and string 'file_name'");
        } else {
            char *ipath = ct_path_join(imgdir, fn);
            if (b->opts->check_images && ipath && !ds_exists(ipath)) {
                st = ds_skip_gallery(b, path, i, "image %s does not exist", ipath);
                free(ipath);
                free(id);
            } else {
                st = ds_add_gallery(b, path, i, id, ipath);
            }
        }
        if (st) goto fail;
        i++;
    }
fail:
    cJSON_Delete(j);
    free(path);
    free(imgdir);
    return st;
}

ct_status ds_load_circo(ds_builder *b) {
    const ct_dataset_opts *o = b->opts;
    const char *tpl = o->circo_template ? o->circo_template : CIRCO_DEFAULT_TEMPLATE;
    ct_status st = circo_gallery(b);
    if (st) return st;
    char *rel = ct_strprintf("annotations/%s.json", o->split);
    char *path = rel ? ct_path_join(o->root, rel) : NULL;
    free(rel);
    if (!path) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    cJSON *j = NULL;
    ct_query q = {.n_nps = -1};
    st = ct_json_load_list(path, &j, "records");
    if (st) goto fail;
    int idx = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, j) {
        int rec = idx++;
        b->ds->n_records++;
        const char *why = NULL;
        q.id = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(r, "id"));
        q.ref_name = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(r, "reference_img_id"));
        const char *relcap = ct_json_str(r, "relative_caption");
        const char *concept = ct_json_str(r, "shared_concept");
        char *target = ct_json_id_string(cJSON_GetObjectItemCaseSensitive(r, "target_img_id"));
        int ngt = 0;
        char **gt = NULL;
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "id")) || !q.id)
            why = "field 'id' missing or not an integer";
        else if (!q.ref_name)
            why = "field 'reference_img_id' missing or not an integer";
        else if (!relcap)
            why = "field 'relative_caption' missing or not a string";
        else if (!concept)
            why = "field 'shared_concept' missing or not a string";
        else if (!ct_json_str_list(r, "gt_img_ids", true, &ngt, &gt))
            why = "field 'gt_img_ids' is not a list of ids";
        else if (cJSON_GetObjectItemCaseSensitive(r, "target_img_id") && !target)
            why = "field 'target_img_id' is not an integer";
        else if (!ct_json_str_list(r, "noun_phrases", true, &q.n_nps, &q.nps))
            why = "field 'noun_phrases' is not a list of strings";
        if (ngt < 0) ngt = 0;
        if (!why) {
            /* targets = target_img_id, then the other gts (no duplicates). */
            q.targets = calloc((size_t)ngt + 1, sizeof *q.targets);
            if (!q.targets) {
                st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
                goto loop_fail;
            }
            if (target) {
                q.targets[q.n_targets++] = target;
                target = NULL;
            }
            for (int g = 0; g < ngt && !why; g++)
                for (int h = 0; h < g; h++)
                    if (strcmp(gt[g], gt[h]) == 0) why = "field 'gt_img_ids' repeats an id";
            for (int g = 0; g < ngt && !why; g++)
                if (!q.n_targets || strcmp(q.targets[0], gt[g]) != 0) {
                    q.targets[q.n_targets++] = gt[g];
                    gt[g] = NULL;
                }
        }
        if (why) {
            st = ds_skip(b, path, rec, "%s", why);
            ds_query_clear(&q);
        } else {
            q.caption = circo_fill(tpl, concept, relcap);
            int ri = ct_dataset_find(b->ds, q.ref_name);
            q.ref_path = ct_strdup(ri >= 0 ? b->ds->gallery_paths[ri] : "");
            if (q.n_targets) {
                int ti = ct_dataset_find(b->ds, q.targets[0]);
                q.target_path = ct_strdup(ti >= 0 ? b->ds->gallery_paths[ti] : "");
            }
            if (!q.caption || !q.ref_path || (q.n_targets && !q.target_path))
                st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            else
                st = ds_finish_query(b, path, rec, &q);
        }
    loop_fail:
        free(target);
        ct_str_list_free(gt, ngt);
        if (st) goto fail;
    }
fail:
    ds_query_clear(&q);
    cJSON_Delete(j);
    free(path);
    return st;
}
