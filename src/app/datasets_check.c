/* `ctcir datasets check` as a library call (ctcir/datasets.h): read each split as the
 * readers do, decode every image it references in a few threads, find repeated names and
 * ids, compare the record counts with the published ones, and list the queries that an
 * unusable image makes impossible to evaluate. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/namemap.h"
#include "core/str.h"
#include "core/timer.h"
#include "ctcir/datasets.h"
#include "ctcir/image.h"
#include "ctcir/log.h"

#define CHECK_MAX_THREADS 64

void ct_check_opts_default(ct_check_opts *o) {
    memset(o, 0, sizeof *o);
    o->threads = 4;
}

/* ---- the distinct images of one split ---- */

typedef struct {
    char *name;
    char *path;  /* NULL: the name is in no gallery */
    int problem; /* 0, CT_IMG_MISSING, CT_IMG_CORRUPT */
    char *error;
    int n_queries;
} img_item;

typedef struct {
    img_item *v;
    int n, cap;
    ct_namemap *by_key; /* path, or "\n<name>" for images without a path */
} img_list;

static void img_list_free(img_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].name), free(l->v[i].path), free(l->v[i].error);
    free(l->v);
    ct_namemap_free(l->by_key);
    memset(l, 0, sizeof *l);
}

/* The index of (name, path) in the list, added if new; -1 when out of memory. */
static int img_add(img_list *l, const char *name, const char *path) {
    char *key = path ? ct_strdup(path) : ct_strprintf("\n%s", name);
    if (!key) return -1;
    int i = ct_namemap_put(l->by_key, key, l->n);
    free(key);
    if (i != l->n) return i < 0 ? -1 : i;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 1024;
        img_item *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv, l->cap = nc;
    }
    img_item *it = &l->v[l->n];
    memset(it, 0, sizeof *it);
    it->name = ct_strdup(name);
    it->path = path ? ct_strdup(path) : NULL;
    if (!it->name || (path && !it->path)) {
        free(it->name), free(it->path);
        return -1;
    }
    return l->n++;
}

/* The images a query uses, as (name, path) pairs: reference, targets, subset members.
 * A path the reader gave wins; otherwise the gallery's path of the name (NULL if none). */
typedef struct {
    const char *name, *path;
} img_ref;

static const char *gallery_path(const ct_dataset *ds, const char *name) {
    int g = ct_dataset_find(ds, name);
    return g >= 0 ? ds->gallery_paths[g] : NULL;
}

static int query_images(const ct_dataset *ds, const ct_query *q, img_ref *out, int cap) {
    int n = 0;
    if (n < cap)
        out[n++] = (img_ref){q->ref_name, q->ref_path && *q->ref_path ? q->ref_path : gallery_path(ds, q->ref_name)};
    for (int t = 0; t < q->n_targets && n < cap; t++) {
        const char *p = t == 0 && q->target_path && *q->target_path ? q->target_path : gallery_path(ds, q->targets[t]);
        out[n++] = (img_ref){q->targets[t], p};
    }
    for (int m = 0; m < q->n_members && n < cap; m++)
        out[n++] = (img_ref){q->members[m], gallery_path(ds, q->members[m])};
    return n;
}

#define QUERY_MAX_IMAGES 64 /* reference + up to 14 CIRCO targets or 6 CIRR members, with room */

/* ---- decoding in threads ---- */

typedef struct {
    img_list *l;
    atomic_int next, done;
    const char *label;
    bool progress;
    double t0;
} decode_ctx;

static void decode_progress(decode_ctx *c, int done, bool final) {
    static int last_pct = -1;
    static double last_t;
    const bool tty = ct_log_progress_is_tty();
    const int total = c->l->n, pct = total ? (int)(100LL * done / total) : 100;
    const double t = ct_now_s() - c->t0;
    if (!final && ((tty && t - last_t < 0.5) || (!tty && pct / 10 == last_pct / 10))) return;
    last_t = t, last_pct = final ? -1 : pct;
    const double rate = t > 0 ? done / t : 0;
    ct_log(CT_LOG_PROGRESS, "%scheck %s: %d/%d images (%d%%) | %.0f images/s | ETA %.0f s%s", tty ? "\r\033[K" : "",
           c->label, done, total, pct, rate, rate > 0 ? (total - done) / rate : 0, tty && !final ? "" : "\n");
}

static void decode_one(img_item *it) {
    struct stat st;
    if (!it->path || stat(it->path, &st) != 0) {
        it->problem = CT_IMG_MISSING;
        return;
    }
    ct_image im;
    memset(&im, 0, sizeof im);
    if (ct_image_load(&im, it->path) != CT_OK) {
        it->problem = CT_IMG_CORRUPT;
        it->error = ct_strdup(ct_error());
    }
    ct_image_free(&im);
}

static void *decode_worker(void *arg) {
    decode_ctx *c = arg;
    for (;;) {
        int i = atomic_fetch_add(&c->next, 1);
        if (i >= c->l->n) break;
        decode_one(&c->l->v[i]);
        atomic_fetch_add(&c->done, 1);
    }
    return NULL;
}

/* Decodes every image of the list with `threads` threads; the calling thread reports
 * progress while it waits. */
static void decode_all(img_list *l, int threads, const char *label, bool progress) {
    decode_ctx c = {.l = l, .label = label, .progress = progress && l->n >= 2000, .t0 = ct_now_s()};
    atomic_init(&c.next, 0);
    atomic_init(&c.done, 0);
    if (threads < 1) threads = 1;
    if (threads > CHECK_MAX_THREADS) threads = CHECK_MAX_THREADS;
    pthread_t th[CHECK_MAX_THREADS];
    int started = 0;
    for (int k = 0; k < threads; k++)
        if (pthread_create(&th[started], NULL, decode_worker, &c) == 0) started++;
    if (!started) decode_worker(&c); /* no threads to be had: decode here */
    while (c.progress && atomic_load(&c.done) < l->n) {
        decode_progress(&c, atomic_load(&c.done), false);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    if (c.progress) decode_progress(&c, l->n, true);
}

/* ---- one split ---- */

static ct_check_split *add_split(ct_check_report *r, const char *name) {
    ct_check_split *ns = realloc(r->splits, (size_t)(r->n_splits + 1) * sizeof *ns);
    if (!ns) return NULL;
    r->splits = ns;
    ct_check_split *sp = &r->splits[r->n_splits];
    memset(sp, 0, sizeof *sp);
    sp->published_records = sp->published_images = -1;
    if (!(sp->split = ct_strdup(name))) return NULL;
    r->n_splits++;
    return sp;
}

static bool str_push(char ***list, int *n, const char *s) {
    char **nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
    if (!nl) return false;
    *list = nl;
    return (nl[*n] = ct_strdup(s)) ? (++*n, true) : false;
}

/* The reader's options for a split; manifest files as `ctcir eval` finds them. */
static ct_status split_opts(const ct_check_opts *o, ct_dataset_kind kind, const char *split, const char *category,
                            ct_dataset_opts *d, char **file, char **gal) {
    memset(d, 0, sizeof *d);
    d->root = o->root, d->split = split, d->category = category, d->list_duplicates = true;
    if (kind != CT_DS_MANIFEST) return CT_OK;
    *file = ct_strprintf("%s/%s.jsonl", o->root, split);
    *gal = ct_strprintf("%s/%s_gallery.txt", o->root, split);
    if (!*file || !*gal) return ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
    struct stat st;
    d->file = *file;
    d->gallery_file = stat(*gal, &st) == 0 ? *gal : NULL;
    return CT_OK;
}

/* Collects the split's images, decodes them, and records the unusable ones and the
 * queries they affect. */
static ct_status check_images(const ct_check_opts *o, const ct_dataset *ds, ct_check_report *r, ct_check_split *sp) {
    img_list l = {0};
    int *seen = NULL;
    ct_status s = CT_OK;
    if (!(l.by_key = ct_namemap_new())) return ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
    img_ref refs[QUERY_MAX_IMAGES];
    for (int g = 0; g < ds->n_gallery; g++)
        if (img_add(&l, ds->gallery_names[g], ds->gallery_paths[g]) < 0) goto nomem;
    for (int q = 0; q < ds->n_queries; q++) {
        int n = query_images(ds, &ds->queries[q], refs, QUERY_MAX_IMAGES);
        for (int k = 0; k < n; k++)
            if (img_add(&l, refs[k].name, refs[k].path) < 0) goto nomem;
    }
    sp->images_checked = l.n;
    decode_all(&l, o->threads, sp->split, !o->quiet);
    /* affected queries; each unusable image counted once per query */
    if (!(seen = malloc(QUERY_MAX_IMAGES * sizeof *seen))) goto nomem;
    for (int q = 0; q < ds->n_queries; q++) {
        const ct_query *qq = &ds->queries[q];
        int n = query_images(ds, qq, refs, QUERY_MAX_IMAGES), n_seen = 0;
        for (int k = 0; k < n; k++) {
            int i = img_add(&l, refs[k].name, refs[k].path);
            if (i < 0) goto nomem;
            if (!l.v[i].problem) continue;
            bool dup = false;
            for (int j = 0; j < n_seen; j++) dup = dup || seen[j] == i;
            if (dup) continue;
            seen[n_seen++] = i;
            l.v[i].n_queries++;
        }
        if (n_seen && !str_push(&sp->affected, &sp->n_affected, qq->id)) goto nomem;
    }
    for (int i = 0; i < l.n; i++) {
        img_item *it = &l.v[i];
        if (!it->problem) continue;
        ct_check_image *nb = realloc(r->bad, (size_t)(r->n_bad + 1) * sizeof *nb);
        if (!nb) goto nomem;
        r->bad = nb;
        ct_check_image *b = &r->bad[r->n_bad++];
        sp->unusable++;
        *b = (ct_check_image){ct_strdup(sp->split),          it->name,  it->path,
                              (ct_image_problem)it->problem, it->error, it->n_queries};
        it->name = it->path = it->error = NULL; /* moved */
        if (!b->split) goto nomem;
    }
    goto done;
nomem:
    s = ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
done:
    free(seen);
    img_list_free(&l);
    return s;
}

static ct_status check_split(const ct_check_opts *o, ct_dataset_kind kind, const char *split, const char *category,
                             ct_check_report *r) {
    char label[96];
    snprintf(label, sizeof label, "%s%s%s", category ? category : "", category ? "/" : "", split);
    ct_check_split *sp = add_split(r, label);
    if (!sp) return ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
    ct_published_counts(kind, split, category, &sp->published_records, &sp->published_images);
    ct_dataset_opts d;
    ct_dataset *ds = NULL;
    char *file = NULL, *gal = NULL;
    ct_namemap *ids = NULL;
    ct_status s = split_opts(o, kind, split, category, &d, &file, &gal);
    if (s) goto done;
    if (ct_dataset_load(&ds, kind, &d) != CT_OK) {
        /* the copy is broken here; the check goes on with the other splits */
        if (!(sp->error = ct_strdup(ct_error()))) s = ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
        goto done;
    }
    sp->records = ds->n_records;
    sp->images = ds->n_gallery + ds->n_duplicates + ds->n_gallery_skipped; /* records of the gallery file */
    sp->queries = ds->n_queries;
    sp->skipped = ds->n_skipped;
    for (int i = 0; i < ds->n_duplicates; i++)
        if (!str_push(&sp->duplicates, &sp->n_duplicates, ds->duplicates[i])) goto nomem;
    if (!(ids = ct_namemap_new())) goto nomem;
    for (int q = 0; q < ds->n_queries; q++) {
        int v = ct_namemap_put(ids, ds->queries[q].id, q);
        if (v == -2) goto nomem;
        if (v != q && !str_push(&sp->duplicate_ids, &sp->n_duplicate_ids, ds->queries[q].id)) goto nomem;
    }
    s = check_images(o, ds, r, sp);
    goto done;
nomem:
    s = ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
done:
    ct_namemap_free(ids);
    ct_dataset_free(ds);
    free(file), free(gal);
    return s;
}

/* Hotel-CIR and manifest copies hold the splits whose files exist. */
static bool split_present(const ct_check_opts *o, ct_dataset_kind kind, const char *split) {
    const char *const fmt[3] = {kind == CT_DS_HOTEL ? "%s/hotel_%s.jsonl" : "%s/%s.jsonl",
                                kind == CT_DS_HOTEL ? "%s/hotel_%s.json" : NULL, NULL};
    for (int i = 0; fmt[i]; i++) {
        char *p = ct_strprintf(fmt[i], o->root, split);
        struct stat st;
        bool yes = p && stat(p, &st) == 0;
        free(p);
        if (yes) return true;
    }
    return false;
}

static bool split_complete(const ct_check_split *sp) {
    return !sp->error && !sp->skipped && !sp->n_duplicates && !sp->n_duplicate_ids && !sp->unusable &&
           !sp->n_affected && (sp->published_records < 0 || sp->records == sp->published_records) &&
           (sp->published_images < 0 || sp->images == sp->published_images);
}

ct_status ct_datasets_check(const ct_check_opts *o, ct_check_report *r) {
    memset(r, 0, sizeof *r);
    if (!o->dataset || !o->root) return ct_fail(CT_ERR_ARG, "datasets check: dataset and root are required");
    ct_dataset_kind kind;
    ct_status s = ct_dataset_kind_parse(o->dataset, &kind);
    if (s) return s;
    struct stat st;
    if (stat(o->root, &st) != 0 || !S_ISDIR(st.st_mode))
        return ct_fail(CT_ERR_IO, "datasets check: %s is not a folder", o->root);
    const char *const *cats = ct_dataset_protocol(kind)->categories; /* FashionIQ's, else NULL */
    if (o->category) {
        bool known = false;
        for (int c = 0; cats && cats[c]; c++) known = known || !strcmp(cats[c], o->category);
        if (!known) return ct_fail(CT_ERR_ARG, "datasets check: %s has no category '%s'", o->dataset, o->category);
    }
    snprintf(r->dataset, sizeof r->dataset, "%s", ct_dataset_kind_name(kind));
    if (!(r->root = ct_strdup(o->root))) return ct_fail(CT_ERR_NOMEM, "datasets check: out of memory");
    const double t0 = ct_now_s();
    const char *const one[2] = {o->split, NULL};
    const char *const *splits = o->split ? one : ct_dataset_splits(kind);
    const bool optional = !o->split && (kind == CT_DS_HOTEL || kind == CT_DS_MANIFEST);
    for (int i = 0; splits[i] && !s; i++) {
        if (optional && !split_present(o, kind, splits[i])) continue;
        if (cats)
            for (int c = 0; cats[c] && !s; c++) {
                if (!o->category || !strcmp(o->category, cats[c])) s = check_split(o, kind, splits[i], cats[c], r);
            }
        else
            s = check_split(o, kind, splits[i], NULL, r);
    }
    if (!s && !r->n_splits) {
        ct_check_split *sp = add_split(r, "(none)");
        char *msg = ct_strprintf("no split files (train, val, test) under %s", o->root);
        if (!sp || !msg || !(sp->error = msg)) s = ct_fail(CT_ERR_NOMEM, "datasets check: out of memory"), free(msg);
    }
    if (s) {
        ct_check_report_free(r);
        return s;
    }
    r->complete = true;
    for (int i = 0; i < r->n_splits; i++) {
        r->complete = r->complete && split_complete(&r->splits[i]);
        r->queries_affected += r->splits[i].n_affected;
        r->images_checked += r->splits[i].images_checked;
    }
    r->seconds = ct_now_s() - t0;
    return CT_OK;
}

void ct_check_report_free(ct_check_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_splits; i++) {
        ct_check_split *sp = &r->splits[i];
        free(sp->split), free(sp->error);
        ct_str_list_free(sp->duplicates, sp->n_duplicates);
        ct_str_list_free(sp->duplicate_ids, sp->n_duplicate_ids);
        ct_str_list_free(sp->affected, sp->n_affected);
    }
    for (int i = 0; i < r->n_bad; i++)
        free(r->bad[i].split), free(r->bad[i].name), free(r->bad[i].path), free(r->bad[i].error);
    free(r->splits), free(r->bad), free(r->root);
    memset(r, 0, sizeof *r);
}

/* ---- output ---- */

/* Adds s to the JSON list unless `seen` has it already. */
static void add_unique(cJSON *list, ct_namemap *seen, const char *s) {
    if (ct_namemap_get(seen, s) >= 0) return;
    ct_namemap_put(seen, s, 0);
    cJSON_AddItemToArray(list, cJSON_CreateString(s));
}

static cJSON *count_pair(int found, int published) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "found", found);
    if (published >= 0)
        cJSON_AddNumberToObject(o, "published", published);
    else
        cJSON_AddNullToObject(o, "published");
    return o;
}

char *ct_check_report_json(const ct_check_report *r) {
    cJSON *root = cJSON_CreateObject();
    ct_namemap *m_missing = ct_namemap_new(), *m_corrupt = ct_namemap_new(), *m_dup = ct_namemap_new(),
               *m_ids = ct_namemap_new();
    char *text = NULL;
    if (!root || !m_missing || !m_corrupt || !m_dup || !m_ids) goto done;
    cJSON_AddStringToObject(root, "dataset", r->dataset);
    cJSON_AddStringToObject(root, "root", r->root ? r->root : "");
    cJSON_AddBoolToObject(root, "complete", r->complete);
    cJSON *missing = cJSON_AddArrayToObject(root, "missing"), *corrupt = cJSON_AddArrayToObject(root, "corrupt");
    cJSON *dups = cJSON_AddArrayToObject(root, "duplicates"),
          *dup_ids = cJSON_AddArrayToObject(root, "duplicate_query_ids");
    for (int i = 0; i < r->n_bad; i++)
        add_unique(r->bad[i].problem == CT_IMG_MISSING ? missing : corrupt,
                   r->bad[i].problem == CT_IMG_MISSING ? m_missing : m_corrupt, r->bad[i].name);
    cJSON_AddNumberToObject(root, "queries_affected", r->queries_affected);
    cJSON_AddNumberToObject(root, "images_checked", r->images_checked);
    cJSON *counts = cJSON_AddObjectToObject(root, "counts"), *errors = cJSON_AddObjectToObject(root, "errors");
    for (int i = 0; i < r->n_splits; i++) {
        const ct_check_split *sp = &r->splits[i];
        for (int k = 0; k < sp->n_duplicates; k++) add_unique(dups, m_dup, sp->duplicates[k]);
        for (int k = 0; k < sp->n_duplicate_ids; k++) add_unique(dup_ids, m_ids, sp->duplicate_ids[k]);
        if (sp->error) {
            cJSON_AddStringToObject(errors, sp->split, sp->error);
            continue;
        }
        cJSON *c = count_pair(sp->records, sp->published_records);
        cJSON_AddItemToObject(c, "images", count_pair(sp->images, sp->published_images));
        cJSON_AddNumberToObject(c, "queries", sp->queries);
        cJSON_AddNumberToObject(c, "skipped", sp->skipped);
        cJSON_AddNumberToObject(c, "unusable", sp->unusable);
        cJSON_AddNumberToObject(c, "queries_affected", sp->n_affected);
        cJSON_AddItemToObject(counts, sp->split, c);
    }
    cJSON *unusable = cJSON_AddArrayToObject(root, "unusable");
    for (int i = 0; i < r->n_bad; i++) {
        const ct_check_image *b = &r->bad[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "split", b->split);
        cJSON_AddStringToObject(o, "name", b->name);
        if (b->path)
            cJSON_AddStringToObject(o, "path", b->path);
        else
            cJSON_AddNullToObject(o, "path");
        cJSON_AddStringToObject(o, "problem", b->problem == CT_IMG_MISSING ? "missing" : "corrupt");
        if (b->error) cJSON_AddStringToObject(o, "error", b->error);
        cJSON_AddNumberToObject(o, "queries", b->n_queries);
        cJSON_AddItemToArray(unusable, o);
    }
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    text = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    ct_namemap_free(m_missing), ct_namemap_free(m_corrupt), ct_namemap_free(m_dup), ct_namemap_free(m_ids);
    return text;
}

/* The split a report entry belongs to: "dress/val" -> "val". */
static const char *base_split(const char *s) {
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

ct_status ct_check_write_excluded(const ct_check_report *r, const char *path) {
    cJSON *root = cJSON_CreateObject();
    ct_namemap *seen = ct_namemap_new();
    char *text = NULL;
    ct_status s = CT_OK;
    if (!root || !seen) goto nomem;
    cJSON_AddStringToObject(root, "format", "ctcir-exclude");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "dataset", r->dataset);
    cJSON_AddStringToObject(root, "root", r->root ? r->root : "");
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    if (!splits) goto nomem;
    for (int i = 0; i < r->n_splits; i++) {
        const ct_check_split *sp = &r->splits[i];
        if (sp->error) continue; /* nothing is known about a split that cannot be read */
        const char *name = base_split(sp->split);
        cJSON *e = cJSON_GetObjectItemCaseSensitive(splits, name);
        if (!e) {
            e = cJSON_AddObjectToObject(splits, name);
            if (!e || !cJSON_AddArrayToObject(e, "queries") || !cJSON_AddArrayToObject(e, "images")) goto nomem;
        }
        cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "queries"), *im = cJSON_GetObjectItemCaseSensitive(e, "images");
        for (int k = 0; k < sp->n_affected; k++) cJSON_AddItemToArray(q, cJSON_CreateString(sp->affected[k]));
        for (int k = 0; k < r->n_bad; k++) {
            if (strcmp(r->bad[k].split, sp->split)) continue;
            /* FashionIQ's categories share a split entry: each name once */
            char *key = ct_strprintf("%s\n%s", name, r->bad[k].name);
            if (!key) goto nomem;
            if (ct_namemap_get(seen, key) < 0) {
                ct_namemap_put(seen, key, 0);
                cJSON_AddItemToArray(im, cJSON_CreateString(r->bad[k].name));
            }
            free(key);
        }
    }
    if (!(text = cJSON_Print(root))) goto nomem;
    size_t n = strlen(text);
    char *nl = realloc(text, n + 2);
    if (!nl) goto nomem;
    text = nl;
    text[n] = '\n', text[n + 1] = 0;
    s = ct_write_file_atomic(path, text, n + 1);
    goto done;
nomem:
    s = ct_fail(CT_ERR_NOMEM, "datasets check: out of memory writing %s", path);
done:
    free(text);
    cJSON_Delete(root);
    ct_namemap_free(seen);
    return s;
}
