/* The common part of the dataset readers: JSON loading with positions, the name map,
 * record skipping, and the dataset object itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctcir/log.h"
#include "data/ds_internal.h"

/* ---- paths ---- */

bool ds_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

char *ds_find_first(const char *root, const char *const *cands, int n) {
    for (int i = 0; i < n; i++) {
        char *p = ct_path_join(root, cands[i]);
        if (p && ds_exists(p)) return p;
        free(p);
    }
    return NULL;
}

char *ds_strip_ext(const char *path) {
    char *s = ct_strdup(path);
    if (!s) return NULL;
    char *slash = strrchr(s, '/');
    char *dot = strrchr(slash ? slash + 1 : s, '.');
    if (dot && dot != (slash ? slash + 1 : s)) *dot = 0;
    return s;
}

ct_status ds_builder_init(ds_builder *b, ct_dataset_kind kind, const ct_dataset_opts *opts, const char *name) {
    memset(b, 0, sizeof *b);
    b->opts = opts;
    b->ds = calloc(1, sizeof *b->ds);
    if (!b->ds) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    b->ds->kind = kind;
    b->ds->name = ct_strdup(name);
    b->ds->map = ct_namemap_new();
    b->query_ids = ct_namemap_new();
    if (!b->ds->name || !b->ds->map || !b->query_ids) {
        ds_builder_abort(b);
        return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    }
    return CT_OK;
}

ct_status ds_add_gallery(ds_builder *b, const char *file, int index, char *name, char *path) {
    ct_dataset *ds = b->ds;
    ct_status st = CT_OK;
    if (!name || !path) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    if (ds->n_gallery == b->cap_gallery) {
        int nc = b->cap_gallery ? b->cap_gallery * 2 : 1024;
        char **nn = realloc(ds->gallery_names, (size_t)nc * sizeof *nn);
        if (nn) ds->gallery_names = nn;
        char **np = realloc(ds->gallery_paths, (size_t)nc * sizeof *np);
        if (np) ds->gallery_paths = np;
        if (!nn || !np) {
            st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            goto fail;
        }
        b->cap_gallery = nc;
    }
    int r = ct_namemap_put(ds->map, name, ds->n_gallery);
    if (r == -2) {
        st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    if (r != ds->n_gallery && b->opts->list_duplicates) {
        char **nd = realloc(ds->duplicates, (size_t)(ds->n_duplicates + 1) * sizeof *nd);
        if (!nd) {
            st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            goto fail;
        }
        ds->duplicates = nd;
        ds->duplicates[ds->n_duplicates++] = name;
        free(path);
        return CT_OK;
    }
    if (r != ds->n_gallery) {
        st = ct_fail(CT_ERR_FORMAT, "dataset: %s: gallery entry %d: duplicate image name '%s'", file, index, name);
        goto fail;
    }
    ds->gallery_names[ds->n_gallery] = name;
    ds->gallery_paths[ds->n_gallery] = path;
    ds->n_gallery++;
    return CT_OK;
fail:
    free(name);
    free(path);
    return st;
}

void ds_query_clear(ct_query *q) {
    free(q->id);
    free(q->ref_name);
    free(q->ref_path);
    free(q->caption);
    ct_str_list_free(q->targets, q->n_targets);
    free(q->target_path);
    ct_str_list_free(q->members, q->n_members);
    ct_str_list_free(q->nps, q->n_nps > 0 ? q->n_nps : 0);
    memset(q, 0, sizeof *q);
    q->n_nps = -1;
}

ct_status ds_add_query(ds_builder *b, ct_query *q) {
    ct_dataset *ds = b->ds;
    if (ds->n_queries == b->cap_queries) {
        int nc = b->cap_queries ? b->cap_queries * 2 : 1024;
        ct_query *nq = realloc(ds->queries, (size_t)nc * sizeof *nq);
        if (!nq) {
            ds_query_clear(q);
            return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
        }
        ds->queries = nq;
        b->cap_queries = nc;
    }
    ds->queries[ds->n_queries++] = *q;
    memset(q, 0, sizeof *q);
    q->n_nps = -1;
    return CT_OK;
}

static ct_status skip_v(ds_builder *b, bool gallery, const char *file, int index, const char *fmt, va_list ap) {
    char why[512];
    const char *what = gallery ? "gallery entry" : "record";
    vsnprintf(why, sizeof why, fmt, ap);
    if (b->opts->strict) return ct_fail(CT_ERR_FORMAT, "dataset: %s: %s %d: %s (strict)", file, what, index, why);
    b->ds->n_skipped++;
    b->ds->n_gallery_skipped += gallery;
    if (!b->opts->quiet) ct_log(CT_LOG_WARN, "warning: %s: %s %d: %s; skipped\n", file, what, index, why);
    return CT_OK;
}

ct_status ds_skip(ds_builder *b, const char *file, int index, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ct_status st = skip_v(b, false, file, index, fmt, ap);
    va_end(ap);
    return st;
}

ct_status ds_skip_gallery(ds_builder *b, const char *file, int index, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ct_status st = skip_v(b, true, file, index, fmt, ap);
    va_end(ap);
    return st;
}

void ds_warn(ds_builder *b, const char *file, int index, const char *fmt, ...) {
    if (b->opts->quiet) return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    ct_log(CT_LOG_WARN, "warning: %s: record %d: %s\n", file, index, why);
}

/* Whether any text of the query holds a NUL (cJSON would have cut it there). */
static bool query_has_nul(const ct_query *q) {
    bool nul = ct_json_has_nul(q->id) || ct_json_has_nul(q->ref_name) || ct_json_has_nul(q->caption);
    for (int i = 0; i < q->n_targets; i++) nul |= ct_json_has_nul(q->targets[i]);
    for (int i = 0; i < q->n_members; i++) nul |= ct_json_has_nul(q->members[i]);
    for (int i = 0; i < q->n_nps; i++) nul |= ct_json_has_nul(q->nps[i]);
    return nul;
}

ct_status ds_finish_query(ds_builder *b, const char *file, int index, ct_query *q) {
    const ct_dataset *ds = b->ds;
    ct_status st = CT_OK;
    /* Queries whose reference/targets are not gallery images are kept only for datasets
     * whose gallery is the union of the query images (nothing is missing there). */
    /* Gallery membership matters for evaluation only: train splits skip it. The reference
     * must be a gallery image where the protocol removes it from the ranking. */
    bool train = b->opts->split && strcmp(b->opts->split, "train") == 0;
    bool ref_needed = ct_dataset_protocol(ds->kind)->removes_reference;
    if (query_has_nul(q)) {
        st = ds_skip(b, file, index, "a string holds a NUL character (\\u0000)");
        goto drop;
    }
    if (!q->ref_path || !q->ref_path[0]) {
        st = ds_skip(b, file, index, "reference '%s' has no image (not in the image list)", q->ref_name);
        goto drop;
    }
    if (!train && ref_needed && ct_namemap_get(ds->map, q->ref_name) < 0) {
        st = ds_skip(b, file, index, "reference '%s' is not in the gallery", q->ref_name);
        goto drop;
    }
    for (int i = 0; i < q->n_targets && !train && ref_needed; i++)
        if (strcmp(q->targets[i], q->ref_name) == 0) {
            st = ds_skip(b, file, index, "target '%s' is the reference itself", q->ref_name);
            goto drop;
        }
    for (int i = 0; i < q->n_targets && !train; i++)
        if (ct_namemap_get(ds->map, q->targets[i]) < 0) {
            st = ds_skip(b, file, index, "target '%s' is not in the gallery", q->targets[i]);
            goto drop;
        }
    for (int i = 0; i < q->n_members && !train; i++)
        if (ct_namemap_get(ds->map, q->members[i]) < 0) {
            st = ds_skip(b, file, index, "subset member '%s' is not in the gallery", q->members[i]);
            goto drop;
        }
    if (b->opts->check_images) {
        if (!ds_exists(q->ref_path)) {
            st = ds_skip(b, file, index, "reference image %s does not exist", q->ref_path);
            goto drop;
        }
        if (q->target_path && !ds_exists(q->target_path)) {
            st = ds_skip(b, file, index, "target image %s does not exist", q->target_path);
            goto drop;
        }
    }
    if (!train) {
        int r = ct_namemap_put(b->query_ids, q->id, ds->n_queries);
        if (r == -2) {
            st = ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
            goto drop;
        }
        if (r != ds->n_queries) {
            st = ds_skip(b, file, index, "query id '%s' repeats an earlier query's", q->id);
            goto drop;
        }
    }
    return ds_add_query(b, q);
drop:
    ds_query_clear(q);
    return st;
}

ct_status ds_builder_done(ds_builder *b, ct_dataset **out) {
    ct_dataset *ds = b->ds;
    int recs = ds->n_skipped - ds->n_gallery_skipped;
    if (recs && !b->opts->quiet) ct_log(CT_LOG_WARN, "%s: skipped %d of %d records\n", ds->name, recs, ds->n_records);
    if (ds->n_gallery_skipped && !b->opts->quiet)
        ct_log(CT_LOG_WARN, "%s: skipped %d of %d gallery entries\n", ds->name, ds->n_gallery_skipped,
               ds->n_gallery + ds->n_gallery_skipped);
    ct_namemap_free(b->query_ids);
    b->query_ids = NULL;
    *out = ds;
    b->ds = NULL;
    return CT_OK;
}

void ds_builder_abort(ds_builder *b) {
    ct_dataset_free(b->ds);
    ct_namemap_free(b->query_ids);
    b->ds = NULL;
    b->query_ids = NULL;
}

/* ---- public ---- */

int ct_dataset_find(const ct_dataset *ds, const char *name) { return ct_namemap_get(ds->map, name); }

void ct_dataset_free(ct_dataset *ds) {
    if (!ds) return;
    for (int i = 0; i < ds->n_gallery; i++) {
        free(ds->gallery_names[i]);
        free(ds->gallery_paths[i]);
    }
    free(ds->gallery_names);
    free(ds->gallery_paths);
    for (int i = 0; i < ds->n_queries; i++) ds_query_clear(&ds->queries[i]);
    free(ds->queries);
    ct_str_list_free(ds->duplicates, ds->n_duplicates);
    ct_namemap_free(ds->map);
    free(ds->name);
    free(ds);
}

ct_status ct_dataset_load(ct_dataset **out, ct_dataset_kind kind, const ct_dataset_opts *opts) {
    *out = NULL;
    const ds_reader *rd = ds_reader_of(kind);
    if (!rd) return ct_fail(CT_ERR_ARG, "dataset: unknown kind %d", (int)kind);
    const ct_ds_protocol *p = &rd->proto;
    if (!opts || !opts->root) return ct_fail(CT_ERR_ARG, "dataset: %s: no root folder given", p->name);
    if (!opts->split && !(p->split_optional && opts->file))
        return ct_fail(CT_ERR_ARG, "dataset: %s: no split given", p->name);
    char *name;
    if (p->categories)
        name = ct_strprintf("%s/%s/%s", p->name, opts->category ? opts->category : "?", opts->split);
    else if (p->split_optional && opts->file)
        name = ct_strprintf("%s:%s", p->name, opts->file);
    else
        name = ct_strprintf("%s/%s", p->name, opts->split);
    if (!name) return ct_fail(CT_ERR_NOMEM, "dataset: out of memory");
    ds_builder b;
    ct_status st = ds_builder_init(&b, kind, opts, name);
    free(name);
    if (st) return st;
    if ((st = rd->load(&b))) {
        ds_builder_abort(&b);
        return st;
    }
    return ds_builder_done(&b, out);
}
