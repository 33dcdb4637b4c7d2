/* safetensors files: an mmap reader that validates everything before anyone reads a byte,
 * and an atomic writer.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON header (padded with
 * spaces), then the data. The header maps each tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end)} relative to the first byte after the
 * header; the optional "__metadata__" entry is a string-to-string map. */
#ifndef CTCIR_SAFETENSORS_H
#define CTCIR_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CT_DT_F64,
    CT_DT_F32,
    CT_DT_F16,
    CT_DT_BF16,
    CT_DT_I64,
    CT_DT_I32,
    CT_DT_I16,
    CT_DT_I8,
    CT_DT_U64,
    CT_DT_U32,
    CT_DT_U16,
    CT_DT_U8,
    CT_DT_BOOL
} ct_dtype;

#define CT_ST_MAX_DIMS 8

typedef struct {
    const char *name;
    ct_dtype dtype;
    int ndim; /* 0 for a scalar */
    int64_t shape[CT_ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const void *data; /* points into the mapping; may be unaligned */
} ct_st_tensor;

typedef struct ct_st_file ct_st_file;

/* Maps and validates `path`; on any problem returns CT_ERR_FORMAT/CT_ERR_IO with a message
 * naming the file and the offending tensor or field. */
ct_status ct_st_open(ct_st_file **out, const char *path);
void ct_st_close(ct_st_file *f); /* NULL-safe */
/* Validates a safetensors image already in memory (size bytes at data, which must outlive
 * the handle; nothing is copied). `name` stands for the path in messages. */
ct_status ct_st_open_memory(ct_st_file **out, const void *data, size_t size, const char *name);

const char *ct_st_path(const ct_st_file *f);
int ct_st_count(const ct_st_file *f);
const ct_st_tensor *ct_st_at(const ct_st_file *f, int i);              /* in header order */
const ct_st_tensor *ct_st_find(const ct_st_file *f, const char *name); /* NULL if absent */

int ct_st_metadata_count(const ct_st_file *f);
void ct_st_metadata_at(const ct_st_file *f, int i, const char **key, const char **value);
const char *ct_st_metadata(const ct_st_file *f, const char *key); /* NULL if absent */

const char *ct_dtype_name(ct_dtype dt); /* "F32", ... */
size_t ct_dtype_size(ct_dtype dt);

/* Exact conversions of one IEEE half / bfloat16 value (subnormals, infinities, NaNs kept). */
float ct_f16_to_f32(uint16_t h);
float ct_bf16_to_f32(uint16_t h);

/* Copies a floating-point tensor (F64/F32/F16/BF16) into dst as float32. */
ct_status ct_st_read_f32(const ct_st_file *f, const ct_st_tensor *t, float *dst);
/* Copies an integer tensor (I64/I32/I16/I8/U8/...) into dst as int64. */
ct_status ct_st_read_i64(const ct_st_file *f, const ct_st_tensor *t, int64_t *dst);

/* Writer. Tensors are referenced, not copied: `data` must stay valid until
 * ct_st_writer_save returns. ct_st_writer_add_copy copies. The file is written to a
 * temporary beside `path`, fsynced, then renamed over it (atomic). */
typedef struct ct_st_writer ct_st_writer;

ct_status ct_st_writer_new(ct_st_writer **out);
void ct_st_writer_free(ct_st_writer *w); /* NULL-safe */
ct_status ct_st_writer_add(ct_st_writer *w, const char *name, ct_dtype dtype, int ndim, const int64_t *shape,
                           const void *data);
ct_status ct_st_writer_add_copy(ct_st_writer *w, const char *name, ct_dtype dtype, int ndim, const int64_t *shape,
                                const void *data);
ct_status ct_st_writer_meta(ct_st_writer *w, const char *key, const char *value);
ct_status ct_st_writer_save(ct_st_writer *w, const char *path);

#ifdef __cplusplus
}
#endif
#endif
