/* Evaluation of a model on a CIR benchmark split as one library call: load the dataset,
 * embed (or read from an index) the gallery, embed the queries, rank the full gallery,
 * compute the dataset's metrics (docs/datasets.md), and write prediction and test-server
 * files when asked. `ctcir eval` is this call plus printing; training's periodic
 * validation uses it too.
 *
 *     ct_eval_opts o;  ct_eval_opts_default(&o);
 *     o.dataset = "cirr"; o.root = "datasets/cirr"; o.split = "val";
 *     ct_eval_result r;
 *     if (ct_eval_run(model, &o, &r) == CT_OK) {
 *         double avg;  ct_eval_result_get(&r, "avg", &avg);
 *         char *json = ct_eval_result_json(&r, &o, "runs/x/last");   // eval --json's object
 *         ...  free(json);
 *     }
 *     ct_eval_result_free(&r);
 */
#ifndef CTCIR_EVAL_H
#define CTCIR_EVAL_H

#include <stdbool.h>

#include "ctcir/grounding.h"
#include "ctcir/metrics.h"
#include "ctcir/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *dataset; /* kind: cirr, cirr_r, circo, fashioniq, lasco, hotel_cir, manifest */
    const char *root;    /* dataset root (manifest: folder with <split>.jsonl, images) */
    const char *split;
    const char *category;            /* fashioniq: one category; NULL: all three and their mean */
    const char *file;                /* manifest: the records file (NULL: <root>/<split>.jsonl; its
                                  * gallery list is the same path with _gallery.txt for .jsonl) */
    const char *image_root;          /* manifest: image root when it differs from root (NULL: root) */
    const char *index;               /* gallery embeddings from `ctcir index` (NULL: embed now) */
    const char *const *more_indexes; /* further complete shards of the same gallery, used with
                                      * `index` as one gallery without a merge step */
    int n_more_indexes;
    const char *predictions_out; /* {"<query id>": [top-50 names]} (NULL: none) */
    const char *submission_out;  /* folder for CIRR/CIRCO server files (NULL: none) */
    bool strict;                 /* malformed records are errors, not skipped */
    int batch;                   /* images per model call (32) */
    int loader_threads;          /* decoding threads (1) */
    const char *progress_label;  /* prefix of progress lines; NULL: "gallery"/"queries" */
    const char *exclude;         /* exclusion file of `ctcir datasets check --write-excluded`:
                                  * its queries and images (gallery included) are dropped
                                  * (ctcir/datasets.h); NULL: none */
    bool quiet;                  /* no progress lines */
    bool grounding;              /* manifest splits with "phrase_cells" (synth-shapes --variant hard):
                                  * grounding accuracy of the phrase attention maps (ctcir/grounding.h) */
    bool grounding_isolated;     /* also each phrase's isolated map (grounding/cc/...) */
    long grounding_queries;      /* score the first N records only (0: all) */
} ct_eval_opts;

void ct_eval_opts_default(ct_eval_opts *o);

#define CT_EVAL_MAX_RUNS 3

typedef struct {
    int n_runs;                          /* 1, or 3 for FashionIQ's three categories */
    char run_name[CT_EVAL_MAX_RUNS][32]; /* FashionIQ category, or "" */
    ct_metric_set per[CT_EVAL_MAX_RUNS]; /* metrics of each run */
    bool has[CT_EVAL_MAX_RUNS];          /* false for splits without ground truth */
    int n_queries[CT_EVAL_MAX_RUNS];
    bool has_mean; /* FashionIQ: mean over the categories */
    ct_metric_set mean;
    int excluded_queries; /* dropped by `exclude`, summed over runs */
    int excluded_images;  /* gallery images dropped by `exclude` */
    double seconds;
    char model_id[128]; /* ct_model_identity of the model evaluated */
    bool has_grounding; /* opts.grounding: the keys grounding/... */
    bool grounding_isolated;
    ct_grounding_stats grounding;
} ct_eval_result;

ct_status ct_eval_run(const ct_model *m, const ct_eval_opts *o, ct_eval_result *r);
void ct_eval_result_free(ct_eval_result *r);

/* A metric by its `eval --json` key ("recall@1", "recall_subset@2", "mAP@10",
 * "dress/recall@10", "mean/recall@50", "avg"); false when the result has no such value. */
bool ct_eval_result_get(const ct_eval_result *r, const char *key, double *value);
/* The key a dataset kind is judged by: cirr/cirr_r "avg", circo "mAP@10", fashioniq "avg"
 * (mean of R@10 and R@50 over categories; one category: "<cat>/recall@10"), others
 * "recall@1". NULL for an unknown kind. */
const char *ct_eval_headline_metric(const char *dataset, const char *category);

/* The `eval --json` object as text (malloc'd; NULL when out of memory): dataset, split,
 * model (model_name as given), model_path (resolved: symlinks such as `last` followed),
 * model_id, n_queries, excluded_queries, excluded_images, avg (where defined),
 * metrics {key: value}, seconds, ctcir_version, ctcir_commit. */
char *ct_eval_result_json(const ct_eval_result *r, const ct_eval_opts *o, const char *model_name);
/* Only the "metrics" object's members (plus "avg") as a JSON object text. */
char *ct_eval_metrics_json(const ct_eval_result *r);

#ifdef __cplusplus
}
#endif
#endif
