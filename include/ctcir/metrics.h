/* Retrieval metrics of the CIR benchmarks, prediction files and test-server submissions.
 *
 * Everything is computed from RANKS: for each query, the 0-based rank of each of its
 * targets and subset members in the full-gallery ranking (reference removed where the
 * protocol removes it). Ranks come from a score matrix (ct_eval_rank_scores), from the
 * blockwise search (ct_topk_ranks in index.h: no Q x G matrix needed), or from ranked
 * name lists (ct_eval_rank_lists, e.g. a predictions file).
 *
 * Tie rule (everywhere in ctcir: metrics, top-k, submissions): a higher score ranks first;
 * equal scores rank by gallery order (lower gallery index first). So the rank of item t is
 * #{g != excluded : s[g] > s[t]} + #{g != excluded, g < t : s[g] == s[t]}.
 *
 * Protocols (docs/datasets.md):
 *   CIRR, CIRR_R   R@{1,5,10,50} with the reference removed; Rsubset@{1,2,3} = rank of
 *                  target_hard among img_set.members minus the reference, order taken from
 *                  the full ranking, over the queries that have members (a record without
 *                  img_set is left out of the subset metrics, with a warning at load);
 *                  avg = (R@5 + Rsubset@1) / 2.
 *   CIRCO          mAP@{5,10,25,50} (AP@K = sum_{i<=K} prec_i rel_i / min(K, #gt), the
 *                  server's evaluation.py) and R@{5,10,25,50} of target_img_id; reference
 *                  NOT removed.
 *   FASHIONIQ      R@10, R@50 of one category, reference NOT removed (ct_metrics_fiq_mean
 *                  averages the three categories).
 *   LASCO, HOTEL, MANIFEST
 *                  R@{1,5,10,50} of the target, with the reference REMOVED (our choice: the
 *                  LaSCo corpus holds the query images, and a reference equal to its
 *                  target never occurs, so the reference is a trivial near-duplicate hit
 *                  that would only measure the image tower, as in CIRR).
 * All values are percentages (0..100). Queries without targets (test splits) are not
 * evaluated: ct_eval_compute fails with CT_ERR_ARG when no query has a target. */
#ifndef CTCIR_METRICS_H
#define CTCIR_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctcir/dataset.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_METRICS_MAX 16

typedef struct {
    int n;
    char names[CT_METRICS_MAX][24]; /* "R@1", "Rsubset@1", "avg", "mAP@5", ... */
    double values[CT_METRICS_MAX];
    int n_queries; /* queries evaluated */
} ct_metric_set;

/* Value of a metric by name (NAN when absent). */
double ct_metric_get(const ct_metric_set *m, const char *name);
/* {"R@1": 12.34, ...} with 4 decimals, keys in metric order, one line. */
void ct_metric_print_json(FILE *f, const ct_metric_set *m);

/* Per-query positions in gallery-index space. probe[off[q] .. off[q+1]) holds first the
 * n_target[q] targets, then (CIRR) the subset members minus the reference. */
typedef struct {
    int Q, G;
    ct_dataset_kind kind;
    int *exclude;    /* [Q] gallery index removed from the ranking, or -1 */
    int *n_target;   /* [Q] */
    uint8_t *subset; /* [Q] 1 where the query has subset members (counted in Rsubset@K);
                        NULL in a hand-made plan: every query counts */
    int64_t *off;    /* [Q+1] */
    int *probe;      /* [off[Q]] gallery indices */
    int64_t *rank;   /* [off[Q]] 0-based ranks, filled by one of the ranking functions */
} ct_eval_plan;

/* Builds the plan of every query of `ds` (names looked up in its gallery). A target or
 * member missing from the gallery is an error naming the query. */
ct_status ct_eval_plan_build(ct_eval_plan *plan, const ct_dataset *ds);
void ct_eval_plan_free(ct_eval_plan *plan);

/* Ranks from scores [Q, G] (row q = query q of the plan, column g = gallery item g). */
ct_status ct_eval_rank_scores(ct_eval_plan *plan, const float *scores);

/* Ranks from ranked lists: lists[q] holds n[q] gallery indices, best first. The excluded
 * reference is skipped; -1 entries (names not in the gallery) take a position but match
 * nothing. A probe absent from its list gets rank L (the list's length after skipping): a
 * miss at every K <= L. Subset ranks from lists are exact only when the lists hold all the
 * members (a top-3 subset list or a full ranking); with a top-50 list an absent target's
 * subset rank is a guess. */
ct_status ct_eval_rank_lists(ct_eval_plan *plan, const int *const *lists, const int *n);

/* Computes the protocol's metrics from the filled ranks. */
ct_status ct_eval_compute(const ct_eval_plan *plan, ct_metric_set *out);

/* Mean of R@10 and R@50 over FashionIQ categories, plus "avg" = (R@10 + R@50) / 2. */
void ct_metrics_fiq_mean(const ct_metric_set *per_cat, int n_cat, ct_metric_set *out);

/* ---- prediction files: {"<query id>": [names...]} ----
 * Values may be strings or integers (written as decimal names). A list that repeats a
 * name is rejected, as is a repeated query id. */
typedef struct {
    int n;
    char **ids;
    int *len;
    char ***names;
    char *version, *metric; /* CIRR server files: "version", "metric" entries (else NULL) */
} ct_predictions;

ct_status ct_predictions_load(ct_predictions *p, const char *path);
void ct_predictions_free(ct_predictions *p);
/* Ranks of the plan from predictions matched by query id (a query missing from the file
 * is an error). */
ct_status ct_eval_rank_predictions(ct_eval_plan *plan, const ct_dataset *ds, const ct_predictions *p);

/* ---- ranked lists and writers ----
 * topk_idx [Q, k] from ct_topk (gallery indices, best first, k >= 51 recommended so that
 * removing the reference still leaves 50). */

/* {"<id>": [top-n names], ..., "__ctcir__": {"commit": C, "version": V}} for every query,
 * the reference removed where the protocol removes it (CIRR, LaSCo, Hotel, manifest),
 * query ids sorted, json.dump style (", ", ": "). The "__ctcir__" entry, always last,
 * records which ctcir
 * wrote the file (ctcir/version.h); ct_predictions_load skips it. Names are written as
 * valid JSON whatever their bytes (invalid UTF-8 -> U+FFFD). Every writer in this header
 * writes atomically (a temporary file renamed over the target once every write has
 * succeeded), so a full disk leaves no truncated file. */
#define CT_PREDICTIONS_INFO_KEY "__ctcir__"
ct_status ct_write_predictions(const char *path, const ct_dataset *ds, const int *topk_idx, int k, int n);

/* The same file from several datasets (the FashionIQ categories: keys "<category>/<index>"):
 * new creates the temporary file at once (an unwritable path fails before any work), add
 * copies the rows of one dataset (a query id seen before is an error), commit writes
 * everything sorted and renames the file into place. commit and free release the writer. */
typedef struct ct_predictions_writer ct_predictions_writer;
ct_status ct_predictions_writer_new(ct_predictions_writer **out, const char *path);
ct_status ct_predictions_writer_add(ct_predictions_writer *w, const ct_dataset *ds, const int *topk_idx, int k, int n);
ct_status ct_predictions_writer_commit(ct_predictions_writer *w);
void ct_predictions_writer_free(ct_predictions_writer *w); /* NULL-safe; removes the temporary */

/* CIRR server files: "recall" (top-50 with the reference removed) and "recall_subset"
 * (members minus the reference ordered by the full ranking, top 3; needs the plan's
 * member ranks). Keys sorted as json.dump(sort_keys=True). Works for any split. */
ct_status ct_write_cirr_submission(const char *path_recall, const char *path_subset, const ct_dataset *ds,
                                   const ct_eval_plan *plan, const int *topk_idx, int k);

/* CIRCO server file: {"<id>": [50 ints]} (ids as JSON integers), reference not removed,
 * keys in numeric order. */
ct_status ct_write_circo_submission(const char *path, const ct_dataset *ds, const int *topk_idx, int k);

/* Validators. `ds` may be NULL (format checks only); with it: every query present, names
 * in the gallery, no reference (CIRR), subset lists within members minus the reference. */
ct_status ct_validate_cirr_submission(const char *path, const ct_dataset *ds);
ct_status ct_validate_circo_submission(const char *path, const ct_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
