/* Internals shared by the dataset readers: JSON loading with line/column errors, the
 * name -> index map, record skipping and dataset building. */
#ifndef CTCIR_DATA_DS_INTERNAL_H
#define CTCIR_DATA_DS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include "core/namemap.h"
#include "core/str.h"
#include "ctcir/dataset.h"

bool ds_exists(const char *path);
/* The first of the candidate relative paths that exists under root (joined), or NULL. */
char *ds_find_first(const char *root, const char *const *cands, int n);

/* Accumulates a dataset under construction. */
typedef struct {
    ct_dataset *ds;
    const ct_dataset_opts *opts;
    int cap_gallery, cap_queries;
    ct_namemap *query_ids; /* id -> query index, to refuse repeated ids */
} ds_builder;

ct_status ds_builder_init(ds_builder *b, ct_dataset_kind kind, const ct_dataset_opts *opts, const char *name);
/* Takes ownership of name and path (both freed on failure). Duplicate names fail. */
ct_status ds_add_gallery(ds_builder *b, const char *file, int index, char *name, char *path);
/* Takes ownership of everything inside *q (freed on failure). */
ct_status ds_add_query(ds_builder *b, ct_query *q);
void ds_query_clear(ct_query *q);
/* A bad record: warns "<file>: record <index>: <why>; skipped" (or fails when strict). */
ct_status ds_skip(ds_builder *b, const char *file, int index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A bad gallery entry: the same warning, counted apart from the records. */
ct_status ds_skip_gallery(ds_builder *b, const char *file, int index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A warning about a record that is kept: "<file>: record <index>: <why>" (quiet: none). */
void ds_warn(ds_builder *b, const char *file, int index, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Checks that the query's names are in the gallery (not for train splits; the reference
 * only where the protocol removes it) and that its images exist (check_images); skips it
 * (CT_OK, or the strict error) when not, adds it otherwise. Also skipped: a reference
 * without an image path, a target equal to a reference the protocol removes, a query id
 * seen before (evaluation splits), and text holding a NUL (\u0000). */
ct_status ds_finish_query(ds_builder *b, const char *file, int index, ct_query *q);
/* Prints the summary and hands the dataset over. */
ct_status ds_builder_done(ds_builder *b, ct_dataset **out);
void ds_builder_abort(ds_builder *b);

/* Path without its extension (the part after the last '.' of the last component). */
char *ds_strip_ext(const char *path);

/* The per-dataset readers, one file each, listed in the table of protocol.c. */
typedef ct_status (*ds_load_fn)(ds_builder *b);
typedef struct {
    ct_ds_protocol proto;
    ds_load_fn load;
} ds_reader;
const ds_reader *ds_reader_of(ct_dataset_kind kind);

ct_status ds_load_cirr(ds_builder *b);
ct_status ds_load_cirr_r(ds_builder *b);
ct_status ds_load_circo(ds_builder *b);
ct_status ds_load_fashioniq(ds_builder *b);
ct_status ds_load_lasco(ds_builder *b);
ct_status ds_load_manifest(ds_builder *b);
ct_status ds_load_hotel(ds_builder *b);

#endif
