/* Gallery index files: writer (create / put / checkpoint / finish / resume), mmap reader,
 * and the merge of shards. The layout is documented in include/ctcir/index.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "ctcir/index.h"
#include "ctcir/version.h"
#include "retrieval/ret_internal.h"

#define INDEX_FORMAT  "ctcir-index"
#define INDEX_VERSION "1"

void ct_index_shard_range(int64_t G, int k, int n, int64_t *begin, int64_t *end) {
    /* floor(G k / n) without forming G k, which overflows for hostile G: with G = q n + r,
     * G k / n = q k + floor(r k / n), and r k < n^2 stays small. */
    int64_t q = G / n, r = G % n;
    *begin = q * k + r * k / n;
    *end = q * (k + 1) + r * (k + 1) / n;
}

/* ---- writer ---- */

struct ct_index_writer {
    char *path, *model_id;
    int64_t G, begin, end; /* global rows [begin, end) */
    int P, shard_k, shard_n;
    ct_dtype dtype;
    float *emb; /* [end - begin, P] */
    uint8_t *done;
    int64_t *row_ids;
    char *blob;        /* names, NUL-terminated each */
    int64_t *name_off; /* [rows + 1] */
};

void ct_index_writer_free(ct_index_writer *w) {
    if (!w) return;
    free(w->path);
    free(w->model_id);
    free(w->emb);
    free(w->done);
    free(w->row_ids);
    free(w->blob);
    free(w->name_off);
    free(w);
}

ct_status ct_index_writer_new(ct_index_writer **out, const char *path, const char *model_id, int64_t G,
                              const char *const *names, int P, ct_dtype dtype, int shard_k, int shard_n) {
    *out = NULL;
    if (!path || !model_id || !names || G < 1 || G > CT_INDEX_MAX_ROWS || P < 1)
        return ct_fail(CT_ERR_ARG, "index: %s: need a path, a model id, names and a [%" PRId64 ", %d] shape",
                       path ? path : "(null)", G, P);
    if (dtype != CT_DT_F32 && dtype != CT_DT_F16)
        return ct_fail(CT_ERR_ARG, "index: %s: dtype %s (F32 or F16 supported)", path, ct_dtype_name(dtype));
    if (shard_n < 1 || shard_k < 0 || shard_k >= shard_n)
        return ct_fail(CT_ERR_ARG, "index: %s: shard %d/%d (need 0 <= k < N)", path, shard_k, shard_n);
    ct_index_writer *w = calloc(1, sizeof *w);
    if (!w) return ct_fail(CT_ERR_NOMEM, "index: out of memory");
    w->G = G;
    w->P = P;
    w->dtype = dtype;
    w->shard_k = shard_k;
    w->shard_n = shard_n;
    ct_index_shard_range(G, shard_k, shard_n, &w->begin, &w->end);
    int64_t rows = w->end - w->begin;
    if (rows < 1) {
        ct_index_writer_free(w);
        return ct_fail(CT_ERR_ARG, "index: %s: shard %d/%d of %" PRId64 " rows is empty", path, shard_k, shard_n, G);
    }
    size_t blob = 0;
    for (int64_t i = w->begin; i < w->end; i++) blob += strlen(names[i]) + 1;
    w->path = ct_strdup(path);
    w->model_id = ct_strdup(model_id);
    w->emb = calloc((size_t)rows * P, sizeof *w->emb);
    w->done = calloc((size_t)rows, 1);
    w->row_ids = malloc((size_t)rows * sizeof *w->row_ids);
    w->blob = malloc(blob);
    w->name_off = malloc(((size_t)rows + 1) * sizeof *w->name_off);
    if (!w->path || !w->model_id || !w->emb || !w->done || !w->row_ids || !w->blob || !w->name_off) {
        ct_index_writer_free(w);
        return ct_fail(CT_ERR_NOMEM, "index: %s: cannot allocate %" PRId64 " x %d rows", path, rows, P);
    }
    size_t o = 0;
    for (int64_t i = 0; i < rows; i++) {
        size_t n = strlen(names[w->begin + i]) + 1;
        w->row_ids[i] = w->begin + i;
        w->name_off[i] = (int64_t)o;
        memcpy(w->blob + o, names[w->begin + i], n);
        o += n;
    }
    w->name_off[rows] = (int64_t)o;
    *out = w;
    return CT_OK;
}

void ct_index_writer_range(const ct_index_writer *w, int64_t *begin, int64_t *end) {
    *begin = w->begin;
    *end = w->end;
}

bool ct_index_writer_done(const ct_index_writer *w, int64_t row) {
    return row >= w->begin && row < w->end && w->done[row - w->begin];
}

int64_t ct_index_writer_count_done(const ct_index_writer *w) {
    int64_t n = 0;
    for (int64_t i = 0; i < w->end - w->begin; i++) n += w->done[i];
    return n;
}

ct_status ct_index_writer_put(ct_index_writer *w, int64_t row, int count, const float *emb) {
    if (count < 0 || row < w->begin || row + count > w->end)
        return ct_fail(CT_ERR_ARG,
                       "index: %s: rows [%" PRId64 ", %" PRId64 ") outside the shard's [%" PRId64 ", %" PRId64 ")",
                       w->path, row, row + count, w->begin, w->end);
    memcpy(w->emb + (size_t)(row - w->begin) * w->P, emb, (size_t)count * w->P * sizeof *emb);
    memset(w->done + (row - w->begin), 1, (size_t)count);
    return CT_OK;
}

static ct_status writer_save(ct_index_writer *w, bool complete) {
    int64_t rows = w->end - w->begin;
    ct_st_writer *sw = NULL;
    uint16_t *half = NULL;
    ct_status st = ct_st_writer_new(&sw);
    if (st) return st;
    const void *emb = w->emb;
    if (w->dtype == CT_DT_F16) {
        half = malloc((size_t)rows * w->P * sizeof *half);
        if (!half) {
            st = ct_fail(CT_ERR_NOMEM, "index: %s: out of memory", w->path);
            goto fail;
        }
        for (size_t i = 0; i < (size_t)rows * w->P; i++) half[i] = ct_f32_to_f16(w->emb[i]);
        emb = half;
    }
    char buf[3][64];
    snprintf(buf[0], sizeof buf[0], "%" PRId64, w->G);
    snprintf(buf[1], sizeof buf[1], "%d", w->P);
    snprintf(buf[2], sizeof buf[2], "%d/%d", w->shard_k, w->shard_n);
    int64_t shape_e[2] = {rows, w->P}, shape_r[1] = {rows}, shape_b[1] = {w->name_off[rows]}, shape_o[1] = {rows + 1};
    if ((st = ct_st_writer_add(sw, "embeddings", w->dtype, 2, shape_e, emb)) ||
        (st = ct_st_writer_add(sw, "row_ids", CT_DT_I64, 1, shape_r, w->row_ids)) ||
        (st = ct_st_writer_add(sw, "done", CT_DT_U8, 1, shape_r, w->done)) ||
        (st = ct_st_writer_add(sw, "names", CT_DT_U8, 1, shape_b, w->blob)) ||
        (st = ct_st_writer_add(sw, "name_offsets", CT_DT_I64, 1, shape_o, w->name_off)) ||
        (st = ct_st_writer_meta(sw, "format", INDEX_FORMAT)) ||
        (st = ct_st_writer_meta(sw, "format_version", INDEX_VERSION)) ||
        (st = ct_st_writer_meta(sw, "model_id", w->model_id)) || (st = ct_st_writer_meta(sw, "gallery_size", buf[0])) ||
        (st = ct_st_writer_meta(sw, "dim", buf[1])) || (st = ct_st_writer_meta(sw, "shard", buf[2])) ||
        (st = ct_st_writer_meta(sw, "complete", complete ? "1" : "0")) ||
        (st = ct_st_writer_meta(sw, "ctcir_version", ctcir_version())) ||
        (st = ct_st_writer_meta(sw, "ctcir_commit", ctcir_commit())))
        goto fail;
    st = ct_st_writer_save(sw, w->path);
fail:
    ct_st_writer_free(sw);
    free(half);
    return st;
}

ct_status ct_index_writer_checkpoint(ct_index_writer *w) { return writer_save(w, false); }

ct_status ct_index_writer_finish(ct_index_writer *w) {
    int64_t done = ct_index_writer_count_done(w), rows = w->end - w->begin;
    if (done != rows) {
        int64_t first = 0;
        while (w->done[first]) first++;
        return ct_fail(CT_ERR_ARG, "index: %s: %" PRId64 " of %" PRId64 " rows not done (first: row %" PRId64 ")",
                       w->path, rows - done, rows, w->begin + first);
    }
    return writer_save(w, true);
}

/* ---- reader ---- */

struct ct_index {
    ct_st_file *f;
    const ct_st_tensor *emb;
    const uint8_t *done;
    const char *blob;
    int64_t *row_ids, *name_off;
    int64_t rows, G;
    int P, shard_k, shard_n;
    bool complete;
};

void ct_index_close(ct_index *ix) {
    if (!ix) return;
    ct_st_close(ix->f);
    free(ix->row_ids);
    free(ix->name_off);
    free(ix);
}

static bool parse_i64(const char *s, int64_t *v) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno == ERANGE) return false;
    *v = x;
    return true;
}

static const ct_st_tensor *need(const ct_st_file *f, const char *name, ct_dtype dt, int ndim, ct_status *st) {
    const ct_st_tensor *t = ct_st_find(f, name);
    if (!t || t->dtype != dt || t->ndim != ndim) {
        *st = ct_fail(CT_ERR_FORMAT, "index: %s: tensor '%s' missing or not %s with %d dims", ct_st_path(f), name,
                      ct_dtype_name(dt), ndim);
        return NULL;
    }
    return t;
}

/* A done row of a hostile or damaged file may hold NaN/Inf, which every score would inherit. */
static bool row_finite(const ct_st_tensor *emb, int64_t i) {
    const size_t P = (size_t)emb->shape[1];
    const unsigned char *row = (const unsigned char *)emb->data + (size_t)i * P * ct_dtype_size(emb->dtype);
    for (size_t j = 0; j < P; j++) {
        if (emb->dtype == CT_DT_F16) {
            uint16_t h;
            memcpy(&h, row + 2 * j, 2);
            if ((h & 0x7c00u) == 0x7c00u) return false;
        } else {
            float x;
            memcpy(&x, row + 4 * j, 4);
            if (!isfinite(x)) return false;
        }
    }
    return true;
}

ct_status ct_index_open(ct_index **out, const char *path, const char *model_id, bool allow_partial) {
    *out = NULL;
    ct_index *ix = calloc(1, sizeof *ix);
    if (!ix) return ct_fail(CT_ERR_NOMEM, "index: out of memory");
    ct_status st = ct_st_open(&ix->f, path);
    if (st) goto fail;
    const ct_st_file *f = ix->f;
    const char *fmt = ct_st_metadata(f, "format"), *ver = ct_st_metadata(f, "format_version");
    if (!fmt || strcmp(fmt, INDEX_FORMAT) != 0 || !ver || strcmp(ver, INDEX_VERSION) != 0) {
        st = ct_fail(CT_ERR_FORMAT,
                     "index: %s: not a ctcir index (metadata format '%s' version '%s', expected '%s' '%s')", path,
                     fmt ? fmt : "none", ver ? ver : "none", INDEX_FORMAT, INDEX_VERSION);
        goto fail;
    }
    const char *mid = ct_st_metadata(f, "model_id");
    if (!mid) {
        st = ct_fail(CT_ERR_FORMAT, "index: %s: no model_id in the metadata", path);
        goto fail;
    }
    if (model_id && strcmp(mid, model_id) != 0) {
        st = ct_fail(CT_ERR_ARG,
                     "index: %s: built by another model (index model_id '%s', this model '%s'); "
                     "rebuild the index with this checkpoint",
                     path, mid, model_id);
        goto fail;
    }
    int64_t P = 0, k = -1, n = 0;
    const char *shard = ct_st_metadata(f, "shard"), *comp = ct_st_metadata(f, "complete");
    char tail;
    long long kk, nn;
    if (!parse_i64(ct_st_metadata(f, "gallery_size"), &ix->G) || ix->G < 1 || ix->G > CT_INDEX_MAX_ROWS ||
        !parse_i64(ct_st_metadata(f, "dim"), &P) || P < 1 || P > (1 << 20) || !shard ||
        sscanf(shard, "%lld/%lld%c", &kk, &nn, &tail) != 2 || nn < 1 || kk < 0 || kk >= nn || nn > (1 << 20) || !comp ||
        (strcmp(comp, "0") && strcmp(comp, "1"))) {
        st = ct_fail(CT_ERR_FORMAT, "index: %s: bad metadata gallery_size/dim/shard/complete", path);
        goto fail;
    }
    k = kk;
    n = nn;
    ix->P = (int)P;
    ix->shard_k = (int)k;
    ix->shard_n = (int)n;
    ix->complete = comp[0] == '1';
    if (!ix->complete && !allow_partial) {
        st = ct_fail(CT_ERR_ARG, "index: %s: incomplete (a checkpoint of unfinished indexing); finish it first", path);
        goto fail;
    }
    const ct_st_tensor *e16 = ct_st_find(f, "embeddings");
    const ct_st_tensor *emb = need(f, "embeddings", e16 && e16->dtype == CT_DT_F16 ? CT_DT_F16 : CT_DT_F32, 2, &st);
    const ct_st_tensor *rid = need(f, "row_ids", CT_DT_I64, 1, &st), *done = need(f, "done", CT_DT_U8, 1, &st);
    const ct_st_tensor *blob = need(f, "names", CT_DT_U8, 1, &st), *off = need(f, "name_offsets", CT_DT_I64, 1, &st);
    if (!emb || !rid || !done || !blob || !off) goto fail;
    int64_t b, e;
    ct_index_shard_range(ix->G, ix->shard_k, ix->shard_n, &b, &e);
    int64_t rows = e - b;
    if (emb->shape[0] != rows || emb->shape[1] != P || rid->shape[0] != rows || done->shape[0] != rows ||
        off->shape[0] != rows + 1 || blob->shape[0] < 1) {
        st =
            ct_fail(CT_ERR_SHAPE,
                    "index: %s: shard %d/%d of %" PRId64 " rows needs embeddings [%" PRId64 ", %d], "
                    "row_ids/done [%" PRId64 "], name_offsets [%" PRId64 "]; got embeddings [%" PRId64 ", %" PRId64 "]",
                    path, ix->shard_k, ix->shard_n, ix->G, rows, ix->P, rows, rows + 1, emb->shape[0], emb->shape[1]);
        goto fail;
    }
    ix->rows = rows;
    ix->emb = emb;
    ix->done = done->data;
    ix->blob = blob->data;
    ix->row_ids = malloc((size_t)rows * sizeof *ix->row_ids);
    ix->name_off = malloc(((size_t)rows + 1) * sizeof *ix->name_off);
    if (!ix->row_ids || !ix->name_off) {
        st = ct_fail(CT_ERR_NOMEM, "index: %s: out of memory", path);
        goto fail;
    }
    if ((st = ct_st_read_i64(f, rid, ix->row_ids)) || (st = ct_st_read_i64(f, off, ix->name_off))) goto fail;
    int64_t nb = blob->shape[0];
    if (ix->name_off[0] != 0 || ix->name_off[rows] != nb) {
        st = ct_fail(CT_ERR_FORMAT, "index: %s: name_offsets must run from 0 to %" PRId64, path, nb);
        goto fail;
    }
    for (int64_t i = 0; i < rows; i++) {
        if (ix->row_ids[i] != b + i) {
            st = ct_fail(CT_ERR_FORMAT, "index: %s: row_ids[%" PRId64 "] = %" PRId64 " (expected %" PRId64 ")", path, i,
                         ix->row_ids[i], b + i);
            goto fail;
        }
        if (ix->name_off[i + 1] <= ix->name_off[i] || ix->name_off[i + 1] > nb ||
            ix->blob[ix->name_off[i + 1] - 1] != 0) {
            st = ct_fail(CT_ERR_FORMAT, "index: %s: name %" PRId64 " is not a NUL-terminated run of 'names'", path, i);
            goto fail;
        }
        if (ix->complete && !ix->done[i]) {
            st = ct_fail(CT_ERR_FORMAT, "index: %s: marked complete but row %" PRId64 " is not done", path, b + i);
            goto fail;
        }
        if (ix->done[i] && !row_finite(emb, i)) {
            st = ct_fail(CT_ERR_FORMAT, "index: %s: embeddings row %" PRId64 " ('%s') holds NaN or Inf", path, b + i,
                         ix->blob + ix->name_off[i]);
            goto fail;
        }
    }
    *out = ix;
    return CT_OK;
fail:
    ct_index_close(ix);
    return st;
}

int64_t ct_index_rows(const ct_index *ix) { return ix->rows; }
int64_t ct_index_gallery_size(const ct_index *ix) { return ix->G; }
int ct_index_dim(const ct_index *ix) { return ix->P; }
ct_dtype ct_index_dtype(const ct_index *ix) { return ix->emb->dtype; }
const void *ct_index_data(const ct_index *ix) { return ix->emb->data; }
int64_t ct_index_row_id(const ct_index *ix, int64_t i) { return ix->row_ids[i]; }
bool ct_index_row_done(const ct_index *ix, int64_t i) { return ix->done[i] != 0; }
const char *ct_index_name(const ct_index *ix, int64_t i) { return ix->blob + ix->name_off[i]; }
const char *ct_index_model_id(const ct_index *ix) { return ct_st_metadata(ix->f, "model_id"); }
bool ct_index_complete(const ct_index *ix) { return ix->complete; }
void ct_index_shard(const ct_index *ix, int *k, int *n) {
    *k = ix->shard_k;
    *n = ix->shard_n;
}

/* Copies rows [i0, i0 + n) of an open index into dst as floats. */
static void index_rows_f32(const ct_index *ix, int64_t i0, int64_t n, float *dst) {
    size_t cnt = (size_t)n * ix->P;
    const unsigned char *src = (const unsigned char *)ix->emb->data;
    if (ix->emb->dtype == CT_DT_F32) {
        memcpy(dst, src + (size_t)i0 * ix->P * 4, cnt * 4);
    } else {
        src += (size_t)i0 * ix->P * 2;
        for (size_t j = 0; j < cnt; j++) {
            uint16_t h;
            memcpy(&h, src + 2 * j, 2);
            dst[j] = ct_f16_to_f32(h);
        }
    }
}

ct_status ct_index_writer_resume(ct_index_writer **out, const char *path, const char *model_id, int64_t G,
                                 const char *const *names, int P, ct_dtype dtype, int shard_k, int shard_n) {
    *out = NULL;
    ct_index *ix;
    ct_status st = ct_index_open(&ix, path, model_id, true);
    if (st) return st;
    ct_index_writer *w = NULL;
    if (ix->G != G || ix->P != P || ct_index_dtype(ix) != dtype || ix->shard_k != shard_k || ix->shard_n != shard_n) {
        st = ct_fail(CT_ERR_ARG,
                     "index: %s: cannot resume: file has gallery %" PRId64 ", dim %d, %s, shard %d/%d; "
                     "asked for %" PRId64 ", %d, %s, %d/%d",
                     path, ix->G, ix->P, ct_dtype_name(ct_index_dtype(ix)), ix->shard_k, ix->shard_n, G, P,
                     ct_dtype_name(dtype), shard_k, shard_n);
        goto fail;
    }
    if ((st = ct_index_writer_new(&w, path, model_id ? model_id : ct_index_model_id(ix), G, names, P, dtype, shard_k,
                                  shard_n)))
        goto fail;
    for (int64_t i = 0; i < ix->rows; i++)
        if (strcmp(ct_index_name(ix, i), names[w->begin + i]) != 0) {
            st = ct_fail(CT_ERR_ARG,
                         "index: %s: cannot resume: row %" PRId64 " is '%s' in the file, '%s' in the gallery", path,
                         w->begin + i, ct_index_name(ix, i), names[w->begin + i]);
            goto fail;
        }
    index_rows_f32(ix, 0, ix->rows, w->emb);
    memcpy(w->done, ix->done, (size_t)ix->rows);
    ct_index_close(ix);
    *out = w;
    return CT_OK;
fail:
    ct_index_writer_free(w);
    ct_index_close(ix);
    return st;
}

/* ---- merge ---- */

ct_status ct_index_merge(const char *out_path, const char *const *inputs, int n_inputs) {
    if (n_inputs < 1) return ct_fail(CT_ERR_ARG, "index merge: no input files");
    ct_index **ix = calloc((size_t)n_inputs, sizeof *ix);
    uint8_t *cover = NULL;
    const char **names = NULL;
    ct_index_writer *w = NULL;
    float *buf = NULL;
    ct_status st = CT_OK;
    if (!ix) return ct_fail(CT_ERR_NOMEM, "index merge: out of memory");
    for (int i = 0; i < n_inputs; i++) {
        if ((st = ct_index_open(&ix[i], inputs[i], i ? ct_index_model_id(ix[0]) : NULL, false))) goto fail;
        if (i && (ix[i]->G != ix[0]->G || ix[i]->P != ix[0]->P || ct_index_dtype(ix[i]) != ct_index_dtype(ix[0]))) {
            st = ct_fail(CT_ERR_ARG,
                         "index merge: %s has gallery %" PRId64 ", dim %d, %s but %s has %" PRId64 ", %d, %s",
                         inputs[i], ix[i]->G, ix[i]->P, ct_dtype_name(ct_index_dtype(ix[i])), inputs[0], ix[0]->G,
                         ix[0]->P, ct_dtype_name(ct_index_dtype(ix[0])));
            goto fail;
        }
    }
    int64_t G = ix[0]->G;
    int P = ix[0]->P;
    cover = calloc((size_t)G, 1);
    names = calloc((size_t)G, sizeof *names);
    if (!cover || !names) {
        st = ct_fail(CT_ERR_NOMEM, "index merge: out of memory");
        goto fail;
    }
    for (int i = 0; i < n_inputs; i++)
        for (int64_t r = 0; r < ix[i]->rows; r++) {
            int64_t g = ix[i]->row_ids[r];
            if (cover[g]) {
                st = ct_fail(CT_ERR_ARG, "index merge: row %" PRId64 " ('%s') is in more than one input (again in %s)",
                             g, ct_index_name(ix[i], r), inputs[i]);
                goto fail;
            }
            cover[g] = 1;
            names[g] = ct_index_name(ix[i], r);
        }
    for (int64_t g = 0; g < G; g++)
        if (!cover[g]) {
            st = ct_fail(CT_ERR_ARG,
                         "index merge: the inputs do not cover the gallery of %" PRId64 " rows "
                         "(row %" PRId64 " is missing: a shard is absent)",
                         G, g);
            goto fail;
        }
    if ((st = ct_index_writer_new(&w, out_path, ct_index_model_id(ix[0]), G, names, P, ct_index_dtype(ix[0]), 0, 1)))
        goto fail;
    for (int i = 0; i < n_inputs; i++) index_rows_f32(ix[i], 0, ix[i]->rows, w->emb + (size_t)ix[i]->row_ids[0] * P);
    memset(w->done, 1, (size_t)G);
    st = ct_index_writer_finish(w);
fail:
    ct_index_writer_free(w);
    for (int i = 0; i < n_inputs; i++) ct_index_close(ix[i]);
    free(ix);
    free(cover);
    free(names);
    free(buf);
    return st;
}
