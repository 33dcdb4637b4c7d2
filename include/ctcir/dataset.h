/* CIR dataset readers: one in-memory form for CIRR, CIRR_R (good4cir), Hotel-CIR, LaSCo,
 * FashionIQ, CIRCO and the generic JSONL manifest, plus the training sampler.
 *
 * A dataset is a gallery (names without extension + image paths resolved against the
 * root, in the order the dataset defines) and a list of queries (id, reference, caption,
 * targets, subset members, optional noun phrases). Names index the gallery through
 * ct_dataset_find. Layouts under `root` follow docs/datasets.md section 6:
 *
 *   CIRR      captions/cap.rc2.<split>.json + image_splits/split.rc2.<split>.json;
 *             gallery = keys of the split file in file order; paths "./dev/x.png".
 *   CIRR_R    the CIRR layout, captions from `file` if set, else
 *             captions/cap.rc2.<split>.json. ASSUMPTION (no public spec here): good4cir
 *             output is CIRR-format records that carry "difference_captions": [str, ...]
 *             instead of, or besides, "caption". Every caption becomes its own query: the
 *             plain "caption" keeps id "<pairid>", difference caption i gets id
 *             "<pairid>_<i>". The CIRR reader itself accepts such records too.
 *   HOTEL     ASSUMPTION (Hotel-CIR has no public spec here): `file` if set, else
 *             hotel_<split>.jsonl or hotel_<split>.json under root: the manifest format
 *             below (JSONL, or one JSON list of the same objects), image paths relative to
 *             root. A record may give "captions": [str, ...] instead of "caption"; each
 *             caption is then its own query "<id>_<i>".
 *   LASCO     lasco_<split>.json + lasco_<split>_corpus.json, at root or under downloads/.
 *             Query: {"qid", "query-image": [id, path], "query-text", "target-image":
 *             [id, path]}. Corpus: list of {"id", "path"} or dict {"<id>": path}. Names are
 *             the COCO ids in decimal; gallery = corpus in file order. A corpus path whose
 *             first component is "val/" or "train/" followed by "val2014/" or "train2014/"
 *             loses that prefix, so corpus and query paths agree (root = the COCO root).
 *   FASHIONIQ captions/cap.<category>.<split>.json + image_splits/split.<category>.<split>.json,
 *             one category per dataset (dress, shirt, toptee); images images/<name>.jpg;
 *             query id "<category>/<index in cap file>"; caption joined as CLIP4Cir
 *             validation does (ct_fiq_join_captions).
 *   CIRCO     annotations/<split>.json + COCO2017_unlabeled/annotations/
 *             image_info_unlabeled2017.json ("images" entries in file order = gallery);
 *             images COCO2017_unlabeled/unlabeled2017/<file_name>; names = ids in decimal;
 *             targets = target_img_id first, then the other gt_img_ids; caption from
 *             `circo_template` with {shared_concept} and {relative_caption} replaced.
 *   MANIFEST  `file` (default <root>/<split>.jsonl, and then gallery_file
 *             <root>/<split>_gallery.txt when it exists): JSONL, one object a line:
 *             {"reference": path, "target": path, "caption": str, "noun_phrases": [str]
 *             (optional), "id": str|int (optional)},
 *             paths relative to `root` (the image root). Query id = "id" or the 1-based
 *             line number. "difference_captions": [str, ...] (caption-pairs output) may
 *             replace "caption"; each caption is then its own query "<id>_<i>". Names =
 *             relative paths without their extension. Gallery = `gallery_file` (one relative
 *             path a line) if set, else every distinct reference and target in order of
 *             first appearance (reference before target).
 *
 * Bad records (a missing field, a wrong type, a missing image when check_images is on, a
 * target or reference not in the gallery) are skipped with one warning line on stderr
 * naming the file and the 0-based record index, and counted; the reader ends with
 * "<dataset>: skipped N of M records". With `strict` the first bad record is an error.
 * Malformed JSON is always an error naming the file, line and column. */
#ifndef CTCIR_DATASET_H
#define CTCIR_DATASET_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CT_DS_CIRR,
    CT_DS_CIRR_R,
    CT_DS_HOTEL,
    CT_DS_LASCO,
    CT_DS_FASHIONIQ,
    CT_DS_CIRCO,
    CT_DS_MANIFEST
} ct_dataset_kind;

typedef struct {
    const char *root;           /* dataset root (manifest: the image root); required */
    const char *split;          /* "train", "val", "test1", "test", ...; required except manifest */
    const char *category;       /* FashionIQ: dress | shirt | toptee */
    const char *file;           /* manifest path; CIRR_R / HOTEL caption file override */
    const char *gallery_file;   /* manifest: optional gallery list (one relative path a line) */
    const char *circo_template; /* NULL: "find {shared_concept} but {relative_caption}" */
    bool check_images;          /* stat every image path (never decodes) */
    bool strict;                /* a bad record is an error instead of a skip */
    bool quiet;                 /* no warnings / summary on stderr */
    bool list_duplicates;       /* a repeated gallery name is dropped and listed in
                                 * ct_dataset.duplicates instead of failing the load */
} ct_dataset_opts;

typedef struct {
    char *id; /* CIRR pairid, CIRCO id, "<category>/<index>", manifest id/line */
    char *ref_name;
    char *ref_path;
    char *caption;
    int n_targets;     /* 0 on test splits */
    char **targets;    /* targets[0] is the primary one (CIRR target_hard, CIRCO target_img_id) */
    char *target_path; /* image path of targets[0] (NULL when unknown) */
    int n_members;     /* CIRR img_set.members (reference included), else 0 */
    char **members;
    int n_nps; /* -1: no "noun_phrases" field (use the extractor) */
    char **nps;
} ct_query;

typedef struct ct_namemap ct_namemap;

typedef struct {
    ct_dataset_kind kind;
    char *name; /* "cirr/val", "fashioniq/dress/val", ... */
    int n_gallery;
    char **gallery_names;
    char **gallery_paths;
    int n_queries;
    ct_query *queries;
    int n_records;         /* records read from the query file */
    int n_skipped;         /* entries skipped: records, plus gallery entries */
    int n_gallery_skipped; /* of which gallery entries (n_skipped - this = records skipped) */
    ct_namemap *map;       /* gallery name -> index */
    int n_duplicates;      /* list_duplicates: gallery names seen again (one entry per repeat) */
    char **duplicates;
} ct_dataset;

/* ---- protocols ----
 * One row per dataset kind (src/data/protocol.c) says how its benchmark is evaluated;
 * readers, metrics, prediction/server files and the CLI read it instead of testing kinds. */
typedef enum { CT_SUBMISSION_NONE, CT_SUBMISSION_CIRR, CT_SUBMISSION_CIRCO } ct_submission_kind;

typedef struct {
    ct_dataset_kind kind;
    const char *name;         /* what --dataset takes: "cirr", "fashioniq", ... */
    const char *display_name; /* "CIRR", "FashionIQ", ... */
    bool removes_reference;   /* the query's reference is removed from its own ranking */
    bool has_subset;          /* Recall_subset@{1,2,3} over img_set members; avg = (R@5 + Rs@1)/2 */
    bool has_map;             /* mAP@K over all ground truths (CIRCO), at the K below */
    bool split_optional;      /* manifest: the file may be given instead of a split */
    int n_k;
    int k[4];                      /* the Recall@K list */
    const char *headline;          /* the key of `eval --json` that ranks checkpoints: "avg",
                                  "mAP@10", "recall@1" (FashionIQ "avg": mean over categories) */
    ct_submission_kind submission; /* test-server file format, if the benchmark has one */
    const char *const *categories; /* NULL-terminated (FashionIQ), else NULL: one gallery
                                       per category, metrics averaged over categories */
} ct_ds_protocol;

/* The protocol of a kind (NULL for an unknown value). */
const ct_ds_protocol *ct_dataset_protocol(ct_dataset_kind kind);
/* All rows, in table order: for (i = 0; i < ct_dataset_protocol_count(); i++) ... */
int ct_dataset_protocol_count(void);
const ct_ds_protocol *ct_dataset_protocol_at(int i);

/* Parses a protocol name: "cirr", "cirr_r", "hotel", "lasco", "fashioniq", "circo", "manifest". */
ct_status ct_dataset_kind_parse(const char *s, ct_dataset_kind *out);
const char *ct_dataset_kind_name(ct_dataset_kind k);

ct_status ct_dataset_load(ct_dataset **out, ct_dataset_kind kind, const ct_dataset_opts *opts);
void ct_dataset_free(ct_dataset *ds); /* NULL-safe */

/* Gallery index of a name, or -1. */
int ct_dataset_find(const ct_dataset *ds, const char *name);

/* FashionIQ caption joining of CLIP4Cir validation:
 * f"{c0.strip('.?, ').capitalize()} and {c1.strip('.?, ')}", with Python's strip(chars)
 * and str.capitalize() (first character upper-cased, the rest lower-cased; ASCII and
 * Latin-1 / basic multilingual letters through utf8proc). Returns a malloc'ed string. */
char *ct_fiq_join_captions(const char *c0, const char *c1);

/* ---- training sampler ----
 * Draws (source, record) pairs. Each source walks epochs: a permutation of its records
 * (identity when !shuffle; else a Fisher-Yates shuffle from an RNG seeded by
 * (seed, source, epoch)), so the position alone restores it. With several sources, each
 * draw first picks a source with probability weight / sum(weights) from the sampler RNG.
 * ct_sampler_state is all the state there is: save it, restore it, and the stream
 * continues identically. */
#define CT_SAMPLER_MAX_SOURCES 16

typedef struct {
    uint64_t rng[4]; /* source-choice RNG */
    uint64_t seed;
    int32_t n_sources;
    int32_t shuffle;
    uint64_t epoch[CT_SAMPLER_MAX_SOURCES]; /* current epoch of each source */
    uint64_t pos[CT_SAMPLER_MAX_SOURCES];   /* next position within it */
} ct_sampler_state;

typedef struct ct_sampler ct_sampler;

ct_status ct_sampler_new(ct_sampler **out, int n_sources, const int64_t *sizes, const double *weights, bool shuffle,
                         uint64_t seed);
void ct_sampler_free(ct_sampler *s); /* NULL-safe */
void ct_sampler_next(ct_sampler *s, int *source, int64_t *record);
void ct_sampler_get_state(const ct_sampler *s, ct_sampler_state *st);
/* Fails when the state does not fit this sampler (source count, shuffle, positions). */
ct_status ct_sampler_set_state(ct_sampler *s, const ct_sampler_state *st);

#ifdef __cplusplus
}
#endif
#endif
