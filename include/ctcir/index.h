/* Gallery index files and exact top-k search.
 *
 * An index file is a safetensors file (include/ctcir/safetensors.h) holding:
 *   "embeddings"    F32 or F16 [n, P]  the gallery embeddings as the model produced them
 *                                      (search normalises them; rows not done are zero)
 *   "row_ids"       I64 [n]            the global gallery index of each row, increasing
 *   "done"          U8  [n]            1 where the row has been computed
 *   "names"         U8  [bytes]        the image names of the rows, each ending in a NUL
 *   "name_offsets"  I64 [n + 1]        start of row i's name in "names" (last = bytes)
 * and the metadata (all strings):
 *   "format" = "ctcir-index", "format_version" = "1",
 *   "model_id"     the caller's model identity (e.g. a hash of the checkpoint weights plus
 *                  the target mode): opening with a different identity is refused,
 *   "gallery_size" G, the rows of the whole gallery; "dim" P,
 *   "shard"        "k/N": rows [k*G/N, (k+1)*G/N) (integer division; contiguous ranges,
 *                  so merging shards concatenates them); "0/1" for a whole gallery,
 *   "complete"     "1" when every row is done, else "0" (a checkpoint of partial work),
 *   "ctcir_version", "ctcir_commit"  the writer's ctcir_version() / ctcir_commit()
 *                  (informational; not checked on open).
 * A merged index is shard "0/1", complete, with row_ids 0..G-1. */
#ifndef CTCIR_INDEX_H
#define CTCIR_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "ctcir/metrics.h"
#include "ctcir/safetensors.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Galleries larger than this are refused (2^40 rows; hostile metadata cannot overflow). */
#define CT_INDEX_MAX_ROWS (INT64_C(1) << 40)

/* First and one-past-last global row of shard k of n over a gallery of G rows. */
void ct_index_shard_range(int64_t G, int k, int n, int64_t *begin, int64_t *end);

/* ---- writing (create, put rows, checkpoint, finish) ---- */
typedef struct ct_index_writer ct_index_writer;

/* A writer for shard k/n of a G-row gallery (names: all G names; the shard's are copied),
 * dimension P, stored as dtype F32 or F16. Nothing is written before a checkpoint. */
ct_status ct_index_writer_new(ct_index_writer **out, const char *path, const char *model_id, int64_t G,
                              const char *const *names, int P, ct_dtype dtype, int shard_k, int shard_n);
/* Reopens the partial (or complete) file at `path` to continue it: the identity, shape and
 * shard must match. */
ct_status ct_index_writer_resume(ct_index_writer **out, const char *path, const char *model_id, int64_t G,
                                 const char *const *names, int P, ct_dtype dtype, int shard_k, int shard_n);
void ct_index_writer_free(ct_index_writer *w); /* NULL-safe; does not write */
/* The writer's global row range [begin, end). */
void ct_index_writer_range(const ct_index_writer *w, int64_t *begin, int64_t *end);
/* Whether global row `row` is done. */
bool ct_index_writer_done(const ct_index_writer *w, int64_t row);
/* Number of rows done. */
int64_t ct_index_writer_count_done(const ct_index_writer *w);
/* Stores rows [row, row + count) (global indices, inside the shard) from emb [count, P]. */
ct_status ct_index_writer_put(ct_index_writer *w, int64_t row, int count, const float *emb);
/* Writes the file with "complete" = "0" (atomic: a crash leaves the previous checkpoint). */
ct_status ct_index_writer_checkpoint(ct_index_writer *w);
/* Writes the file with "complete" = "1"; fails when a row is not done. */
ct_status ct_index_writer_finish(ct_index_writer *w);

/* ---- reading (mmap) ---- */
typedef struct ct_index ct_index;

/* Opens and validates an index. model_id NULL: no identity check. A partial file is
 * refused unless allow_partial. */
ct_status ct_index_open(ct_index **out, const char *path, const char *model_id, bool allow_partial);
void ct_index_close(ct_index *ix); /* NULL-safe */
int64_t ct_index_rows(const ct_index *ix);
int64_t ct_index_gallery_size(const ct_index *ix);
int ct_index_dim(const ct_index *ix);
ct_dtype ct_index_dtype(const ct_index *ix);
const void *ct_index_data(const ct_index *ix); /* [rows, P]; may be unaligned */
int64_t ct_index_row_id(const ct_index *ix, int64_t i);
bool ct_index_row_done(const ct_index *ix, int64_t i);
const char *ct_index_name(const ct_index *ix, int64_t i);
const char *ct_index_model_id(const ct_index *ix);
bool ct_index_complete(const ct_index *ix);
void ct_index_shard(const ct_index *ix, int *k, int *n);

/* Merges complete shards (any order) into one complete index at out_path: same model_id,
 * dim, dtype and gallery size, no overlapping rows, together covering the gallery. */
ct_status ct_index_merge(const char *out_path, const char *const *inputs, int n_inputs);

/* ---- several shards used as one gallery, without a merge step ----
 * Complete shards of one gallery (`ctcir index --shard k/N`, or `mpirun ... ctcir index`
 * shards), opened together: same model, dim and gallery size, together covering every row
 * once, any order. Row i of the set is global gallery row i. */
typedef struct ct_index_set ct_index_set;

ct_status ct_index_set_open(ct_index_set **out, const char *const *paths, int n, const char *model_id);
void ct_index_set_close(ct_index_set *s); /* NULL-safe */
int64_t ct_index_set_rows(const ct_index_set *s);
int ct_index_set_dim(const ct_index_set *s);
const char *ct_index_set_name(const ct_index_set *s, int64_t row);
/* ct_topk over every shard, merged: identical to ct_topk over the merged index for up to 64
 * queries (scores are per row); out_idx are global rows. */
ct_status ct_index_set_topk(const ct_index_set *s, int *out_idx, float *out_score, const float *queries, int Q, int k);
/* All rows as one F32 block [rows, P] (malloc'd; F16 rows converted exactly), for callers that
 * need the whole gallery at once (full-gallery ranks of an evaluation). */
ct_status ct_index_set_gather(const ct_index_set *s, float **out);

/* ---- exact search ----
 * Cosine similarity: queries [Q, P] (float) are L2-normalised; a score is the dot product
 * with a gallery row times the row's inverse L2 norm (float sums; a zero row scores 0, a row
 * holding NaN or Inf scores NaN). Gallery rows [G, P] are F32 or F16, possibly unaligned
 * (e.g. mmapped), and are read in place. Up to 64 queries (2 without AVX-512) a row kernel
 * reads each row once (F16 converted in registers), computes its norm and its dot products
 * in the same pass and keeps only candidates that beat the k-th best so far; more queries go
 * through ct_sgemm on blocks of 1024 rows. No Q x G matrix is ever held. Threads take
 * gallery blocks; the result does not depend on their number.
 * Order: score descending, ties by gallery order (see metrics.h); a NaN score ranks below
 * every number. Results are exact under that order for the scores as computed. */

/* The k best gallery rows of every query: out_idx [Q, k] (best first; -1 when G < k) and
 * out_score [Q, k] (may be NULL). */
ct_status ct_topk(int *out_idx, float *out_score, const float *queries, int Q, const void *gallery, ct_dtype gdtype,
                  int64_t G, int P, int k);

/* Scores of one query against chosen gallery rows: out[i] = cos(query, gallery[idx[i]]),
 * computed the way ct_topk computes them for few queries (bit for bit the scores of a
 * one-query ct_topk); they agree with a many-query search up to the BLAS kernel's rounding. */
ct_status ct_scores_at(float *out, const float *query, const void *gallery, ct_dtype gdtype, int64_t G, int P,
                       const int *idx, int n);

/* Fills plan->rank from the full-gallery scores of queries [plan->Q, P] (row q = query q of
 * the plan), a block of queries at a time, without a Q x G matrix, scored the way ct_topk
 * scores the same Q queries (row kernel or ct_sgemm). */
ct_status ct_topk_ranks(ct_eval_plan *plan, const float *queries, const void *gallery, ct_dtype gdtype, int64_t G,
                        int P);

#ifdef __cplusplus
}
#endif
#endif
