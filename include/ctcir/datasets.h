/* The dataset doctor: checking a local copy of a CIR benchmark against what its annotation
 * files reference and against the published record counts, the exclusion list that lets an
 * evaluation run on an incomplete copy and say so, and building CIRR's image tree from an
 * NLVR2 download. `ctcir datasets check` and `ctcir datasets build-cirr` are these calls.
 *
 *     ct_check_opts o;  ct_check_opts_default(&o);
 *     o.dataset = "fashioniq"; o.root = "data/fashioniq"; o.split = "val";
 *     ct_check_report r;
 *     if (ct_datasets_check(&o, &r) == CT_OK) {
 *         if (!r.complete) ct_check_write_excluded(&r, "fiq-val.exclude.json");
 *         char *json = ct_check_report_json(&r);   // `datasets check --json`
 *         ...  free(json);
 *     }
 *     ct_check_report_free(&r);
 *
 * What is checked, per split (each FashionIQ category is its own split "<category>/<split>"):
 * the split is read as ct_dataset_load reads it (docs/datasets.md section 6); every image it
 * references (gallery entries, query references, targets and CIRR subset members) must exist
 * and decode with ct_image_load; gallery names and query ids must be unique; no record may
 * be skipped by the reader; and the record counts must equal the published ones
 * (ct_published_counts, docs/datasets.md section 8) where those are known. An image is
 * *unusable* when it is missing or does not decode; a query is *affected* when its
 * reference, a target or a subset member is unusable (it cannot be evaluated as published). */
#ifndef CTCIR_DATASETS_H
#define CTCIR_DATASETS_H

#include <stdbool.h>

#include "ctcir/dataset.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- published counts (docs/datasets.md section 8) ---- */

/* Records of the split's query file (*queries) and gallery file (*images) as published;
 * -1 where none is known. False when the table has no row for (kind, split, category). */
bool ct_published_counts(ct_dataset_kind kind, const char *split, const char *category, int *queries, int *images);
/* The splits of a kind, NULL-terminated: cirr/cirr_r train, val, test1; circo val, test;
 * lasco train, val; fashioniq, hotel and manifest train, val, test (hotel and manifest
 * copies need not have all three: the check takes the ones whose files exist). */
const char *const *ct_dataset_splits(ct_dataset_kind kind);

/* ---- check ---- */

typedef struct {
    const char *dataset;  /* kind name (ct_dataset_kind_parse) */
    const char *root;     /* dataset root (manifest: folder with <split>.jsonl and the images) */
    const char *split;    /* NULL: every split of the kind */
    const char *category; /* fashioniq: one category; NULL: all three */
    int threads;          /* decoding threads (default 4) */
    bool quiet;           /* no progress lines */
} ct_check_opts;

void ct_check_opts_default(ct_check_opts *o);

typedef enum { CT_IMG_MISSING = 1, CT_IMG_CORRUPT = 2 } ct_image_problem;

typedef struct {
    char *split; /* "val", "dress/val" */
    char *name;  /* the image's name as the dataset names it */
    char *path;  /* where it was looked for; NULL when the name is in no gallery */
    ct_image_problem problem;
    char *error;   /* why it does not decode (corrupt), else NULL */
    int n_queries; /* queries of the split that use it */
} ct_check_image;

typedef struct {
    char *split;                    /* "val", "dress/val" */
    char *error;                    /* the split could not be read (the message), else NULL */
    int records, published_records; /* query-file records; published -1: unknown */
    int images, published_images;   /* gallery-file records; published -1: unknown */
    int queries;                    /* queries loaded */
    int skipped;                    /* records the reader skipped (warnings on stderr) */
    int images_checked;             /* distinct images referenced */
    int unusable;                   /* of which missing or corrupt (listed in the report's `bad`) */
    int n_duplicates;               /* repeated gallery names */
    char **duplicates;
    int n_duplicate_ids; /* repeated query ids */
    char **duplicate_ids;
    int n_affected; /* affected queries: their ids */
    char **affected;
} ct_check_split;

typedef struct {
    char dataset[16];
    char *root;
    bool complete;
    int n_splits;
    ct_check_split *splits;
    int n_bad; /* unusable images, split by split */
    ct_check_image *bad;
    int queries_affected; /* sum over splits */
    int images_checked;
    double seconds;
} ct_check_report;

/* Fails only when the check itself cannot run (bad arguments, out of memory); a split that
 * cannot be read is recorded in its `error` and makes the copy incomplete. */
ct_status ct_datasets_check(const ct_check_opts *o, ct_check_report *r);
void ct_check_report_free(ct_check_report *r); /* NULL-safe, resets */

/* `datasets check --json`: {"dataset", "root", "complete", "missing": [names],
 * "corrupt": [names], "duplicates": [names], "duplicate_query_ids": [ids],
 * "queries_affected", "images_checked", "counts": {split: {"found", "published",
 * "images": {"found", "published"}, "queries", "skipped", "queries_affected"}},
 * "unusable": [{"split", "name", "path", "problem", "error", "queries"}], "errors": {split:
 * message}, "seconds"} (docs/formats.md section 13). malloc'd; NULL when out of memory. */
char *ct_check_report_json(const ct_check_report *r);

/* Writes the exclusion file (docs/formats.md section 13): per split the affected queries
 * and the unusable images. Atomic. */
ct_status ct_check_write_excluded(const ct_check_report *r, const char *path);

/* ---- exclusion (ct_eval_opts.exclude) ---- */

typedef struct ct_exclusion ct_exclusion;

/* Reads an exclusion file; errors name the file and the field. */
ct_status ct_exclusion_load(ct_exclusion **out, const char *path);
void ct_exclusion_free(ct_exclusion *ex); /* NULL-safe */

/* Drops from ds the queries the file lists for `split` and the images it lists (gallery
 * entries; then also every query whose reference, target or subset member was dropped).
 * Fails when the file was written for another dataset kind or does not cover the split.
 * *n_queries, *n_images: how many were dropped. */
ct_status ct_dataset_exclude(ct_dataset *ds, const ct_exclusion *ex, const char *split, int *n_queries, int *n_images);

/* ---- CIRR from NLVR2 ---- */

typedef struct {
    const char *nlvr2; /* an NLVR2 download: images are found by file name anywhere under it */
    const char *cirr;  /* the CIRR annotation folder holding image_splits/ (NULL: out) */
    const char *out;   /* the CIRR root to fill: <out>/<path of the split file> */
    bool copy;         /* copy the files (each atomically); default: symbolic links */
} ct_build_cirr_opts;

typedef struct {
    char split[16];
    int images;  /* entries of image_splits/split.rc2.<split>.json */
    int created; /* links or copies made now */
    int present; /* already in place */
    int missing; /* not found under nlvr2 */
} ct_build_cirr_split;

typedef struct {
    int n_splits;
    ct_build_cirr_split splits[8];
    int n_missing; /* names not found, all splits */
    char **missing;
    int annotations; /* annotation files linked or copied into out (cirr != out) */
    int nlvr2_files; /* files found under nlvr2 */
    int ambiguous;   /* file names found more than once there (the first in sorted order wins) */
    double seconds;
} ct_build_cirr_report;

ct_status ct_build_cirr(const ct_build_cirr_opts *o, ct_build_cirr_report *r);
void ct_build_cirr_report_free(ct_build_cirr_report *r); /* NULL-safe, resets */
/* The JSON summary `datasets build-cirr` prints (docs/formats.md section 13). */
char *ct_build_cirr_report_json(const ct_build_cirr_report *r, const ct_build_cirr_opts *o);

#ifdef __cplusplus
}
#endif
#endif
