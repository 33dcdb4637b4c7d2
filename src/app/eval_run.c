/* The evaluation pipeline (ctcir/eval.h): dataset, gallery embeddings (index or on the fly),
 * query embeddings, full-gallery ranks, metrics, prediction and server files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/dirio.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timer.h"
#include "ctcir/datasets.h"
#include "ctcir/dist.h"
#include "ctcir/embed.h"
#include "ctcir/eval.h"
#include "ctcir/index.h"
#include "ctcir/log.h"
#include "ctcir/version.h"

void ct_eval_opts_default(ct_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->loader_threads = 1;
}

typedef struct {
    float *emb;
    int P;
} collect_ctx;

static ct_status collect(void *ctx, const int64_t *rows, int n, const float *emb) {
    collect_ctx *c = ctx;
    for (int i = 0; i < n; i++) memcpy(c->emb + rows[i] * c->P, emb + (size_t)i * c->P, (size_t)c->P * sizeof(float));
    return CT_OK;
}

/* Embeds items [0, n) into out [n,P] (texts NULL: target embeddings). With several ranks
 * (ctcir/dist.h) rank r embeds the contiguous rows [r*n/N, (r+1)*n/N) and the rows of all
 * ranks are gathered, so every rank ends with all n embeddings. */
static ct_status embed_split(const ct_model *m, const ct_eval_opts *o, const char *const *paths,
                             const char *const *texts, int64_t n, const char *label, float *out) {
    const int P = ct_model_embed_dim(m), ranks = ct_dist_size(), rank = ct_dist_rank();
    const int64_t r0 = n * rank / ranks, r1 = n * (rank + 1) / ranks;
    int64_t *rows = malloc((size_t)(r1 > r0 ? r1 - r0 : 1) * sizeof *rows);
    size_t *counts = malloc((size_t)ranks * sizeof *counts);
    ct_status s = CT_OK;
    if (!rows || !counts) {
        s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    for (int64_t i = r0; i < r1; i++) rows[i - r0] = i;
    collect_ctx cc = {out, P};
    ct_embed_job job = {paths, texts, rows, r1 - r0, o->batch, o->loader_threads, o->quiet || rank ? NULL : label};
    if (r1 > r0 && (s = ct_embed_run(m, &job, collect, &cc, NULL, NULL))) goto done;
    if (ranks > 1) {
        for (int r = 0; r < ranks; r++) counts[r] = (size_t)(n * (r + 1) / ranks - n * r / ranks) * P;
        s = ct_dist_allgatherv_f32(out + r0 * P, counts, out);
    }
done:
    free(rows), free(counts);
    return s;
}

/* The gallery embeddings: rows of the index (checked name by name against the dataset's
 * gallery) or computed now into *own. */
static ct_status gallery_embeddings(const ct_model *m, const ct_eval_opts *o, const ct_dataset *ds, ct_index **ix,
                                    float **own, const void **gallery, ct_dtype *dtype) {
    const int P = ct_model_embed_dim(m);
    const int64_t G = ds->n_gallery;
    ct_status s;
    if (o->index && o->n_more_indexes > 0) { /* shards: one gallery, gathered in memory */
        const char **paths = malloc(((size_t)o->n_more_indexes + 1) * sizeof *paths);
        if (!paths) return ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        paths[0] = o->index;
        for (int i = 0; i < o->n_more_indexes; i++) paths[i + 1] = o->more_indexes[i];
        ct_index_set *set = NULL;
        s = ct_index_set_open(&set, paths, o->n_more_indexes + 1, ct_model_identity(m));
        free(paths);
        if (s) return s;
        if (ct_index_set_rows(set) != G || ct_index_set_dim(set) != P)
            s = ct_fail(CT_ERR_SHAPE,
                        "eval: the index shards hold %lld rows of dim %d; %s's gallery has %lld images (dim %d)",
                        (long long)ct_index_set_rows(set), ct_index_set_dim(set), ds->name, (long long)G, P);
        for (int64_t i = 0; i < G && !s; i++)
            if (strcmp(ct_index_set_name(set, i), ds->gallery_names[i]))
                s = ct_fail(CT_ERR_FORMAT,
                            "eval: index row %lld is '%s' but the gallery's is '%s' (shards of another gallery?)",
                            (long long)i, ct_index_set_name(set, i), ds->gallery_names[i]);
        if (!s) s = ct_index_set_gather(set, own);
        ct_index_set_close(set);
        *gallery = *own;
        *dtype = CT_DT_F32;
        return s;
    }
    if (o->index) {
        if ((s = ct_index_open(ix, o->index, ct_model_identity(m), false))) return s;
        if (ct_index_rows(*ix) != G || ct_index_dim(*ix) != P)
            return ct_fail(CT_ERR_SHAPE, "eval: %s holds %lld rows of dim %d; %s's gallery has %lld images (dim %d)",
                           o->index, (long long)ct_index_rows(*ix), ct_index_dim(*ix), ds->name, (long long)G, P);
        for (int64_t i = 0; i < G; i++)
            if (strcmp(ct_index_name(*ix, i), ds->gallery_names[i]))
                return ct_fail(
                    CT_ERR_FORMAT,
                    "eval: %s row %lld is '%s' but the gallery's is '%s' (index built from another gallery?)", o->index,
                    (long long)i, ct_index_name(*ix, i), ds->gallery_names[i]);
        *gallery = ct_index_data(*ix);
        *dtype = ct_index_dtype(*ix);
        return CT_OK;
    }
    *own = malloc((size_t)(G ? G : 1) * P * sizeof(float));
    if (!*own) return ct_fail(CT_ERR_NOMEM, "eval: out of memory for %lld gallery embeddings", (long long)G);
    if ((s = embed_split(m, o, (const char *const *)ds->gallery_paths, NULL, G, "gallery", *own))) return s;
    *gallery = *own;
    *dtype = CT_DT_F32;
    return CT_OK;
}

static ct_status query_embeddings(const ct_model *m, const ct_eval_opts *o, const ct_dataset *ds, float *out) {
    const int Q = ds->n_queries;
    const char **refs = malloc((size_t)(Q ? Q : 1) * sizeof *refs), **caps = malloc((size_t)(Q ? Q : 1) * sizeof *caps);
    if (!refs || !caps) {
        free(refs), free(caps);
        return ct_fail(CT_ERR_NOMEM, "eval: out of memory");
    }
    for (int q = 0; q < Q; q++) refs[q] = ds->queries[q].ref_path, caps[q] = ds->queries[q].caption;
    ct_status s = embed_split(m, o, refs, caps, Q, "queries", out);
    free(refs), free(caps);
    return s;
}

/* Prediction rows (into pw, one file for all FashionIQ categories) and server files from
 * the top-51 of every query. */
static ct_status write_files(const ct_eval_opts *o, ct_predictions_writer *pw, const ct_dataset *ds,
                             const ct_eval_plan *plan, const float *queries, const void *gallery, ct_dtype dtype,
                             int P) {
    const int64_t G = ds->n_gallery;
    const int Q = ds->n_queries, k = G < 51 ? (int)G : 51;
    int *topk = malloc((size_t)(Q ? Q : 1) * k * sizeof *topk);
    float *scores = malloc((size_t)(Q ? Q : 1) * k * sizeof *scores);
    ct_status s = CT_OK;
    char *a = NULL, *b = NULL;
    if (!topk || !scores) {
        s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    if ((s = ct_topk(topk, scores, queries, Q, gallery, dtype, G, P, k))) goto done;
    if (pw && (s = ct_predictions_writer_add(pw, ds, topk, k, 50))) goto done;
    if (o->submission_out) {
        if ((s = ct_mkdirs(o->submission_out))) goto done;
        ct_submission_kind sk = ct_dataset_protocol(ds->kind)->submission;
        if (sk == CT_SUBMISSION_CIRR) {
            a = ct_strprintf("%s/%s_recall.json", o->submission_out, o->split);
            b = ct_strprintf("%s/%s_recall_subset.json", o->submission_out, o->split);
            if (!a || !b) {
                s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
                goto done;
            }
            if ((s = ct_write_cirr_submission(a, b, ds, plan, topk, k))) goto done;
            ct_log(CT_LOG_INFO, "eval: CIRR server files %s and %s\n", a, b);
        } else if (sk == CT_SUBMISSION_CIRCO) {
            a = ct_strprintf("%s/circo_%s.json", o->submission_out, o->split);
            if (!a) {
                s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
                goto done;
            }
            if ((s = ct_write_circo_submission(a, ds, topk, k))) goto done;
            ct_log(CT_LOG_INFO, "eval: CIRCO server file %s\n", a);
        }
    }
done:
    free(a), free(b), free(topk), free(scores);
    return s;
}

static ct_status dataset_opts(const ct_eval_opts *o, const char *category, ct_dataset_kind kind, ct_dataset_opts *d,
                              char **file, char **gal) {
    memset(d, 0, sizeof *d);
    d->root = o->root, d->split = o->split, d->category = category, d->strict = o->strict;
    if (!ct_dataset_protocol(kind)->split_optional) return CT_OK; /* the manifest's file options */
    *file = o->file ? ct_strdup(o->file) : ct_strprintf("%s/%s.jsonl", o->root, o->split);
    if (!*file) return ct_fail(CT_ERR_NOMEM, "eval: out of memory");
    size_t n = strlen(*file);
    if (!o->file)
        *gal = ct_strprintf("%s/%s_gallery.txt", o->root, o->split);
    else if (n > 6 && !strcmp(*file + n - 6, ".jsonl"))
        *gal = ct_strprintf("%.*s_gallery.txt", (int)(n - 6), *file);
    struct stat st;
    d->file = *file;
    d->gallery_file = *gal && stat(*gal, &st) == 0 ? *gal : NULL;
    if (o->image_root) d->root = o->image_root;
    return CT_OK;
}

/* One dataset (one FashionIQ category): embeddings, ranks, metrics, files. */
static ct_status eval_one(const ct_model *m, const ct_eval_opts *o, const ct_exclusion *ex, const char *category,
                          ct_predictions_writer *pw, ct_metric_set *metrics, bool *has_metrics, int *n_queries, int *xq,
                          int *xi) {
    ct_dataset *ds = NULL;
    ct_index *ix = NULL;
    float *gallery_own = NULL, *queries = NULL;
    char *file = NULL, *gal = NULL;
    ct_eval_plan plan;
    memset(&plan, 0, sizeof plan);
    ct_dataset_kind kind;
    ct_dataset_opts dopt;
    ct_status s = ct_dataset_kind_parse(o->dataset, &kind);
    if (!s) s = dataset_opts(o, category, kind, &dopt, &file, &gal);
    if (!s) s = ct_dataset_load(&ds, kind, &dopt);
    if (!s && ex) s = ct_dataset_exclude(ds, ex, o->split, xq, xi);
    if (s) goto done;
    if (ex) {
        ct_log(CT_LOG_WARN,
               "eval: %s: %d queries and %d gallery images excluded (%s): the copy is incomplete, "
               "so the numbers are not comparable with published ones\n",
               ds->name, *xq, *xi, o->exclude);
        if (o->index && *xi) {
            s = ct_fail(CT_ERR_ARG,
                        "eval: %s removes %d images from the gallery; an index holds the whole gallery "
                        "(evaluate without --index)",
                        o->exclude, *xi);
            goto done;
        }
    }
    const int P = ct_model_embed_dim(m);
    const int Q = ds->n_queries;
    *n_queries = Q;
    /* Checked before any embedding work. */
    if (ds->n_gallery == 0) {
        s = ct_fail(CT_ERR_FORMAT, "eval: %s: the gallery is empty (no usable image entries)", ds->name);
        goto done;
    }
    if (Q == 0) {
        s = ct_fail(CT_ERR_FORMAT, "eval: %s: no usable queries (%d records read, %d skipped)", ds->name, ds->n_records,
                    ds->n_skipped - ds->n_gallery_skipped);
        goto done;
    }
    const void *gallery = NULL;
    ct_dtype gdtype = CT_DT_F32;
    double t0 = ct_now_s();
    if ((s = gallery_embeddings(m, o, ds, &ix, &gallery_own, &gallery, &gdtype))) {
        if (o->index) goto done; /* the index's own errors */
        goto image_fail;
    }
    double t1 = ct_now_s();
    queries = malloc((size_t)(Q ? Q : 1) * P * sizeof(float));
    if (!queries) {
        s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    if ((s = query_embeddings(m, o, ds, queries))) goto image_fail;
    double t2 = ct_now_s();
    if ((s = ct_eval_plan_build(&plan, ds))) goto done;
    if ((s = ct_topk_ranks(&plan, queries, gallery, gdtype, ds->n_gallery, P))) goto done;
    int with_targets = 0;
    for (int q = 0; q < Q; q++) with_targets += ds->queries[q].n_targets > 0;
    *has_metrics = with_targets > 0;
    if (*has_metrics && (s = ct_eval_compute(&plan, metrics))) goto done;
    if ((o->predictions_out || o->submission_out) && ct_dist_rank() == 0 &&
        (s = write_files(o, pw, ds, &plan, queries, gallery, gdtype, P)))
        goto done;
    ct_log(CT_LOG_INFO, "eval: %s: %d queries, gallery %d: gallery %.1f s%s, queries %.1f s, ranking %.2f s\n",
           ds->name, Q, ds->n_gallery, t1 - t0, o->index ? " (index)" : "", t2 - t1, ct_now_s() - t2);
    goto done;
image_fail:
    /* most often an image of an incomplete copy: say what to do about it */
    if (s == CT_ERR_IO || s == CT_ERR_FORMAT) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ct_error());
        s = ct_fail(
            s, "%s (`ctcir datasets check` lists every unusable image; `eval --exclude` evaluates without them)", msg);
    }
done:
    ct_eval_plan_free(&plan);
    free(gallery_own), free(queries), free(file), free(gal);
    ct_index_close(ix);
    ct_dataset_free(ds);
    return s;
}

ct_status ct_eval_run(const ct_model *m, const ct_eval_opts *o, ct_eval_result *r) {
    memset(r, 0, sizeof *r);
    if (!o->dataset || !o->root || !o->split) return ct_fail(CT_ERR_ARG, "eval: dataset, root and split are required");
    ct_dataset_kind kind;
    ct_status s = ct_dataset_kind_parse(o->dataset, &kind);
    if (s) return s;
    const ct_ds_protocol *proto = ct_dataset_protocol(kind);
    const char *const *cats = proto->categories;
    const bool fiq_all = cats && !o->category;
    if (fiq_all && o->index)
        return ct_fail(CT_ERR_ARG, "eval: an index needs one %s category (one gallery per category)",
                       proto->display_name);
    int n_cats = 0;
    while (cats && cats[n_cats]) n_cats++;
    if (fiq_all && n_cats > CT_EVAL_MAX_RUNS)
        return ct_fail(CT_ERR_ARG, "eval: %s has too many categories", proto->name);
    /* Output paths are checked before the work (hours on a real gallery). The predictions
     * file is created now and written once at the end: one file for every category. Rank 0
     * writes. */
    if (o->submission_out) {
        if (proto->submission == CT_SUBMISSION_NONE)
            return ct_fail(CT_ERR_ARG, "eval: --submission-out is for cirr and circo (got %s)", o->dataset);
        if (ct_dist_rank() == 0 && (s = ct_mkdirs(o->submission_out))) return s;
    }
    ct_exclusion *ex = NULL;
    if (o->exclude && (s = ct_exclusion_load(&ex, o->exclude))) return s;
    ct_predictions_writer *pw = NULL;
    if (o->predictions_out && ct_dist_rank() == 0 && (s = ct_predictions_writer_new(&pw, o->predictions_out))) {
        ct_exclusion_free(ex);
        return s;
    }
    double t0 = ct_now_s();
    r->n_runs = fiq_all ? n_cats : 1;
    for (int i = 0; i < r->n_runs && !s; i++) {
        const char *cat = fiq_all ? cats[i] : o->category;
        if (cats && cat) snprintf(r->run_name[i], sizeof r->run_name[i], "%s", cat);
        int xq = 0, xi = 0;
        s = eval_one(m, o, ex, cat, pw, &r->per[i], &r->has[i], &r->n_queries[i], &xq, &xi);
        r->excluded_queries += xq, r->excluded_images += xi;
    }
    ct_exclusion_free(ex);
    if (!s && pw) {
        s = ct_predictions_writer_commit(pw);
        pw = NULL;
        if (!s) ct_log(CT_LOG_INFO, "eval: predictions written to %s\n", o->predictions_out);
    }
    ct_predictions_writer_free(pw);
    if (s) return s;
    bool all = fiq_all;
    for (int i = 0; i < r->n_runs; i++) all = all && r->has[i];
    if (all) {
        ct_metrics_fiq_mean(r->per, r->n_runs, &r->mean);
        r->has_mean = true;
    }
    if (o->grounding) {
        if (kind != CT_DS_MANIFEST)
            return ct_fail(
                CT_ERR_ARG,
                "eval: grounding needs a manifest split with \"phrase_cells\" (synth-shapes --variant hard)");
        char *file = o->file ? ct_strdup(o->file) : ct_strprintf("%s/%s.jsonl", o->root, o->split);
        if (!file) return ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        double tg = ct_now_s();
        s = ct_grounding_eval(m, file, o->image_root ? o->image_root : o->root, o->grounding_queries,
                              o->grounding_isolated, &r->grounding);
        free(file);
        if (s) return s;
        r->has_grounding = true;
        r->grounding_isolated = o->grounding_isolated;
        ct_log(CT_LOG_INFO, "eval: grounding %.1f s\n", ct_now_s() - tg);
    }
    r->seconds = ct_now_s() - t0;
    snprintf(r->model_id, sizeof r->model_id, "%s", ct_model_identity(m));
    return CT_OK;
}

void ct_eval_result_free(ct_eval_result *r) { (void)r; /* nothing owned today; kept for the API */ }

/* "R@5" -> "recall@5", "Rsubset@1" -> "recall_subset@1"; "mAP@K" stays; prefixed "<p>/". */
static void metric_key(char *out, size_t cap, const char *prefix, const char *name) {
    const char *p = prefix && *prefix ? prefix : NULL;
    if (!strncmp(name, "Rsubset@", 8))
        snprintf(out, cap, "%s%srecall_subset@%s", p ? p : "", p ? "/" : "", name + 8);
    else if (!strncmp(name, "R@", 2))
        snprintf(out, cap, "%s%srecall@%s", p ? p : "", p ? "/" : "", name + 2);
    else
        snprintf(out, cap, "%s%s%s", p ? p : "", p ? "/" : "", name);
}

/* Calls fn(key, value) for every metric as `eval --json` names it; "avg" is top level. */
static void for_each_metric(const ct_eval_result *r, void (*fn)(void *ctx, const char *key, double v), void *ctx) {
    char key[64];
    for (int i = 0; i <= r->n_runs; i++) {
        const bool mean = i == r->n_runs;
        if (mean ? !r->has_mean : !r->has[i]) continue;
        const ct_metric_set *ms = mean ? &r->mean : &r->per[i];
        const char *prefix = mean ? "mean" : r->run_name[i];
        for (int j = 0; j < ms->n; j++) {
            if (!strcmp(ms->names[j], "avg")) {
                if (!*prefix || mean) fn(ctx, "avg", ms->values[j]);
                continue;
            }
            metric_key(key, sizeof key, prefix, ms->names[j]);
            fn(ctx, key, ms->values[j]);
        }
    }
    if (r->has_grounding) ct_grounding_for_each(&r->grounding, r->grounding_isolated, fn, ctx);
}

typedef struct {
    const char *key;
    double *value;
    bool found;
} find_ctx;

static void find_one(void *ctx, const char *key, double v) {
    find_ctx *f = ctx;
    if (!strcmp(f->key, key)) *f->value = v, f->found = true;
}

bool ct_eval_result_get(const ct_eval_result *r, const char *key, double *value) {
    find_ctx f = {key, value, false};
    for_each_metric(r, find_one, &f);
    return f.found;
}

const char *ct_eval_headline_metric(const char *dataset, const char *category) {
    ct_dataset_kind kind;
    if (ct_dataset_kind_parse(dataset, &kind)) return NULL;
    const ct_ds_protocol *p = ct_dataset_protocol(kind);
    if (p->categories && category) {
        /* One category has no mean: its first recall (FashionIQ "<cat>/recall@10"). */
        static const char *const fiq[] = {"dress/recall@10", "shirt/recall@10", "toptee/recall@10"};
        for (int i = 0; i < 3 && p->categories[i]; i++)
            if (!strcmp(category, p->categories[i])) return fiq[i];
        return fiq[2];
    }
    return p->headline;
}

typedef struct {
    cJSON *metrics, *root;
} json_ctx;

static void add_json(void *ctx, const char *key, double v) {
    json_ctx *j = ctx;
    if (!strcmp(key, "avg"))
        cJSON_AddNumberToObject(j->root, "avg", v);
    else
        cJSON_AddNumberToObject(j->metrics, key, v);
}

char *ct_eval_metrics_json(const ct_eval_result *r) {
    cJSON *metrics = cJSON_CreateObject();
    if (!metrics) return NULL;
    json_ctx j = {metrics, metrics};
    for_each_metric(r, add_json, &j);
    char *text = ct_json_print(metrics, false);
    cJSON_Delete(metrics);
    return text;
}

char *ct_eval_result_json(const ct_eval_result *r, const ct_eval_opts *o, const char *model_name) {
    cJSON *root = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
    if (!root || !metrics) {
        cJSON_Delete(root), cJSON_Delete(metrics);
        return NULL;
    }
    cJSON_AddStringToObject(root, "dataset", o->dataset);
    cJSON_AddStringToObject(root, "split", o->split);
    cJSON_AddStringToObject(root, "model", model_name ? model_name : "");
    char *resolved = model_name ? realpath(model_name, NULL) : NULL;
    cJSON_AddStringToObject(root, "model_path", resolved ? resolved : (model_name ? model_name : ""));
    free(resolved);
    cJSON_AddStringToObject(root, "model_id", r->model_id);
    int total = 0;
    for (int i = 0; i < r->n_runs; i++) total += r->n_queries[i];
    cJSON_AddNumberToObject(root, "n_queries", total);
    cJSON_AddNumberToObject(root, "excluded_queries", r->excluded_queries);
    cJSON_AddNumberToObject(root, "excluded_images", r->excluded_images);
    json_ctx j = {metrics, root};
    for_each_metric(r, add_json, &j);
    cJSON_AddItemToObject(root, "metrics", metrics);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    cJSON_AddStringToObject(root, "ctcir_version", ctcir_version());
    cJSON_AddStringToObject(root, "ctcir_commit", ctcir_commit());
    char *text = ct_json_print(root, false);
    cJSON_Delete(root);
    return text;
}
