/* Internals shared by the dataset readers: JSON loading with line/column errors, the
 * name -> index map, record skipping and dataset building. */
#ifndef CTCIR_DATA_DS_INTERNAL_H
#define CTCIR_DATA_DS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ctcir/dataset.h"

/* Name -> int map (open addressing, FNV-1a). Keys are copied. */
ct_namemap *ct_namemap_new(void);
void ct_namemap_free(ct_namemap *m);
/* Inserts name -> value; returns the existing value if the name was already there (and
 * leaves it), else `value`; -2 on allocation failure. */
int ct_namemap_put(ct_namemap *m, const char *name, int value);
int ct_namemap_get(const ct_namemap *m, const char *name);

/* Reads a whole file (capped at 4 GiB) into a NUL-terminated buffer. */
ct_status ds_read_file(const char *path, char **out, size_t *len);
/* Parses JSON text; on error names `path`, the 1-based line and column. */
ct_status ds_json_parse(const char *path, const char *text, size_t len, size_t line_base, cJSON **out);
ct_status ds_json_load(const char *path, cJSON **out);
/* ds_json_load, then the top level must be a list ("expected a JSON list of <what>"). */
ct_status ds_json_load_list(const char *path, cJSON **out, const char *what);

/* "a/b" joined; a leading "./" of `rel` is dropped. malloc'ed or NULL. */
char *ds_join(const char *root, const char *rel);
char *ds_strdup(const char *s);
char *ds_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool ds_exists(const char *path);
/* The first of the candidate relative paths that exists under root (joined), or NULL. */
char *ds_find_first(const char *root, const char *const *cands, int n);

/* Accumulates a dataset under construction. */
typedef struct {
    ct_dataset *ds;
    const ct_dataset_opts *opts;
    int cap_gallery, cap_queries;
} ds_builder;

ct_status ds_builder_init(ds_builder *b, ct_dataset_kind kind, const ct_dataset_opts *opts,
                          const char *name);
/* Takes ownership of name and path (both freed on failure). Duplicate names fail. */
ct_status ds_add_gallery(ds_builder *b, const char *file, int index, char *name, char *path);
/* Takes ownership of everything inside *q (freed on failure). */
ct_status ds_add_query(ds_builder *b, ct_query *q);
void ds_query_clear(ct_query *q);
/* A bad record: warns "<file>: record <index>: <why>; skipped" (or fails when strict). */
ct_status ds_skip(ds_builder *b, const char *file, int index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks that the query's names are in the gallery (not for train splits; the reference
 * only where the protocol removes it) and that its images exist (check_images); skips it
 * (CT_OK, or the strict error) when not, adds it otherwise. */
ct_status ds_finish_query(ds_builder *b, const char *file, int index, ct_query *q);
/* Prints the summary and hands the dataset over. */
ct_status ds_builder_done(ds_builder *b, ct_dataset **out);
void ds_builder_abort(ds_builder *b);

/* JSON field helpers: NULL when absent or of the wrong type. */
const char *ds_str(const cJSON *o, const char *key);
/* A string copied, or an int printed in decimal; NULL otherwise. */
char *ds_id_string(const cJSON *v);
/* A list of strings (or ints) copied; false when malformed. n_out = -1 if absent and
 * allow_absent. */
bool ds_str_list(const cJSON *o, const char *key, bool allow_absent, int *n_out, char ***out);
void ds_free_list(char **l, int n);

/* Path without its extension (the part after the last '.' of the last component). */
char *ds_strip_ext(const char *path);

/* The per-dataset readers. */
ct_status ds_load_cirr(ds_builder *b, bool cirr_r);
ct_status ds_load_circo(ds_builder *b);
ct_status ds_load_fashioniq(ds_builder *b);
ct_status ds_load_lasco(ds_builder *b);
ct_status ds_load_manifest(ds_builder *b, const char *file, bool hotel);

#endif
