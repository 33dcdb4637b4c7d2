/* safetensors reader: maps the file, then validates the whole header before anything reads
 * tensor data. After ct_st_open succeeds every tensor's [data, data + nbytes) lies inside
 * the file, the tensors tile the data region exactly (no gaps, overlaps or trailing bytes),
 * names are unique and sizes match dtype x shape. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "core/fileio.h"
#include "core/half.h"
#include "ctcir/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader assumes a little-endian host"
#endif

/* Headers of real checkpoints are kilobytes to a few MB; the HF library caps them at 100 MB. */
#define ST_MAX_HEADER   ((uint64_t)100 * 1000 * 1000)
/* Offsets and shapes arrive as JSON numbers (doubles): beyond 2^53 they are not exact. */
#define ST_MAX_JSON_INT 9007199254740992.0

struct ct_st_file {
    char *path;
    const uint8_t *base; /* the whole file */
    size_t size;
    bool mapped; /* base is an mmap to unmap on close */
    int n;
    ct_st_tensor *tensors;        /* header order */
    const ct_st_tensor **by_name; /* sorted by name, for ct_st_find */
    int n_meta;
    const char **meta; /* key, value, key, value, ... in header order */
    char *strings;     /* one block holding every name, key and value */
};

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [CT_DT_F64] = {"F64", 8},   [CT_DT_F32] = {"F32", 4}, [CT_DT_F16] = {"F16", 2}, [CT_DT_BF16] = {"BF16", 2},
    [CT_DT_I64] = {"I64", 8},   [CT_DT_I32] = {"I32", 4}, [CT_DT_I16] = {"I16", 2}, [CT_DT_I8] = {"I8", 1},
    [CT_DT_U64] = {"U64", 8},   [CT_DT_U32] = {"U32", 4}, [CT_DT_U16] = {"U16", 2}, [CT_DT_U8] = {"U8", 1},
    [CT_DT_BOOL] = {"BOOL", 1},
};
#define N_DTYPES ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *ct_dtype_name(ct_dtype dt) { return (int)dt >= 0 && (int)dt < N_DTYPES ? dtype_info[dt].name : "?"; }

size_t ct_dtype_size(ct_dtype dt) { return (int)dt >= 0 && (int)dt < N_DTYPES ? dtype_info[dt].size : 0; }

static bool dtype_from_name(const char *s, ct_dtype *out) {
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(s, dtype_info[i].name) == 0) {
            *out = (ct_dtype)i;
            return true;
        }
    return false;
}

/* Names in messages are cut so that a hostile megabyte-long name cannot drown the rest. */
#define NAME_FMT "'%.120s'"

/* A JSON number that is a whole number in [0, 2^53]. */
static bool json_count(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return false;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= ST_MAX_JSON_INT) || v != floor(v)) return false;
    *out = (uint64_t)v;
    return true;
}

static const char *json_kind(const cJSON *item) {
    if (!item) return "missing";
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsObject(item)) return "an object";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    return "invalid";
}

/* Exactly one child named `key` (cJSON keeps duplicate keys; we refuse them). */
static const cJSON *unique_child(const cJSON *obj, const char *key, bool *dup) {
    const cJSON *found = NULL;
    *dup = false;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) {
            if (found) *dup = true;
            found = c;
        }
    return found;
}

/* A tensor's data range while validating, with its index for messages. */
typedef struct {
    uint64_t begin, end;
    int index;
} range;

static int cmp_name_ptr(const void *a, const void *b) {
    return strcmp((*(const ct_st_tensor *const *)a)->name, (*(const ct_st_tensor *const *)b)->name);
}

static int cmp_string_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_range(const void *a, const void *b) {
    const range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Copies s into the string block at *pos. */
static const char *put_string(ct_st_file *f, size_t *pos, const char *s) {
    size_t len = strlen(s) + 1;
    char *dst = f->strings + *pos;
    memcpy(dst, s, len);
    *pos += len;
    return dst;
}

/* Reads one tensor entry `e` into t and r; data pointers are set later. */
static ct_status parse_tensor(const char *path, const cJSON *e, size_t data_len, ct_st_tensor *t, range *r) {
    const char *name = e->string;
    bool dup;
    if (!cJSON_IsObject(e))
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT " is %s, expected an object with dtype, shape, data_offsets",
                       path, name, json_kind(e));

    const cJSON *dt = unique_child(e, "dtype", &dup);
    if (dup) return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": duplicate key 'dtype'", path, name);
    if (!cJSON_IsString(dt))
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": 'dtype' is %s, expected a string", path,
                       name, json_kind(dt));
    if (!dtype_from_name(dt->valuestring, &t->dtype))
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT
                       ": unknown dtype '%.40s' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)",
                       path, name, dt->valuestring);

    const cJSON *shape = unique_child(e, "shape", &dup);
    if (dup) return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": duplicate key 'shape'", path, name);
    if (!cJSON_IsArray(shape))
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": 'shape' is %s, expected an array", path,
                       name, json_kind(shape));
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > CT_ST_MAX_DIMS)
        return ct_fail(CT_ERR_UNSUPPORTED, "safetensors: %s: tensor " NAME_FMT ": %d dimensions, at most %d supported",
                       path, name, ndim, CT_ST_MAX_DIMS);
    t->ndim = ndim;
    size_t esize = dtype_info[t->dtype].size;
    uint64_t numel = 1;
    bool overflow = false;
    int d = 0;
    for (const cJSON *c = shape->child; c; c = c->next, d++) {
        uint64_t v;
        if (!json_count(c, &v)) {
            if (cJSON_IsNumber(c))
                return ct_fail(CT_ERR_FORMAT,
                               "safetensors: %s: tensor " NAME_FMT ": shape[%d] = %g is not a non-negative integer",
                               path, name, d, c->valuedouble);
            return ct_fail(CT_ERR_FORMAT,
                           "safetensors: %s: tensor " NAME_FMT ": shape[%d] is %s, expected a non-negative integer",
                           path, name, d, json_kind(c));
        }
        t->shape[d] = (int64_t)v;
        /* numel * esize must fit in size_t; once it is over, only a zero dimension can save it. */
        if (v == 0)
            numel = 0, overflow = false;
        else if (numel && numel > SIZE_MAX / esize / v)
            overflow = true;
        else
            numel *= v;
    }
    if (overflow)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT ": shape's element count x %zu bytes overflows", path, name,
                       esize);
    t->numel = (size_t)numel;
    t->nbytes = (size_t)numel * esize;

    const cJSON *off = unique_child(e, "data_offsets", &dup);
    if (dup)
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": duplicate key 'data_offsets'", path, name);
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT ": 'data_offsets' is %s, expected [begin, end]", path, name,
                       cJSON_IsArray(off) ? "an array of the wrong length" : json_kind(off));
    if (!json_count(off->child, &r->begin) || !json_count(off->child->next, &r->end))
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT ": 'data_offsets' must be two non-negative integers", path,
                       name);
    if (r->begin > r->end)
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: tensor " NAME_FMT ": data_offsets [%llu, %llu) has begin > end",
                       path, name, (unsigned long long)r->begin, (unsigned long long)r->end);
    if (r->end > data_len)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT
                       ": data_offsets [%llu, %llu) exceed the data size %zu (file truncated?)",
                       path, name, (unsigned long long)r->begin, (unsigned long long)r->end, data_len);
    if (r->end - r->begin != t->nbytes)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT
                       ": data_offsets [%llu, %llu) hold %llu bytes but %s x %zu elements needs %zu",
                       path, name, (unsigned long long)r->begin, (unsigned long long)r->end,
                       (unsigned long long)(r->end - r->begin), dtype_info[t->dtype].name, t->numel, t->nbytes);
    return CT_OK;
}

static ct_status parse_metadata(const char *path, const cJSON *m) {
    if (!cJSON_IsObject(m))
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: '__metadata__' is %s, expected an object of strings", path,
                       json_kind(m));
    for (const cJSON *c = m->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return ct_fail(CT_ERR_FORMAT, "safetensors: %s: __metadata__ " NAME_FMT " is %s, expected a string", path,
                           c->string, json_kind(c));
    }
    return CT_OK;
}

/* Checks that tensor names and metadata keys are unique, and that the ranges (sorted here)
 * tile [0, data_len) exactly. */
static ct_status check_layout(ct_st_file *f, range *r, size_t data_len) {
    int n = f->n;
    for (int i = 0; i < n; i++) f->by_name[i] = &f->tensors[i];
    qsort(f->by_name, (size_t)n, sizeof *f->by_name, cmp_name_ptr);
    for (int i = 1; i < n; i++)
        if (strcmp(f->by_name[i]->name, f->by_name[i - 1]->name) == 0)
            return ct_fail(CT_ERR_FORMAT, "safetensors: %s: duplicate tensor name " NAME_FMT, f->path,
                           f->by_name[i]->name);

    if (f->n_meta > 1) {
        const char **keys = malloc((size_t)f->n_meta * sizeof *keys);
        if (!keys) return ct_fail(CT_ERR_NOMEM, "safetensors: %s: out of memory", f->path);
        for (int i = 0; i < f->n_meta; i++) keys[i] = f->meta[2 * i];
        qsort(keys, (size_t)f->n_meta, sizeof *keys, cmp_string_ptr);
        const char *dup = NULL;
        for (int i = 1; i < f->n_meta && !dup; i++)
            if (strcmp(keys[i], keys[i - 1]) == 0) dup = keys[i];
        free(keys);
        if (dup) return ct_fail(CT_ERR_FORMAT, "safetensors: %s: duplicate __metadata__ key " NAME_FMT, f->path, dup);
    }

    qsort(r, (size_t)n, sizeof *r, cmp_range);
    uint64_t pos = 0;
    for (int i = 0; i < n; i++) {
        const char *name = f->tensors[r[i].index].name;
        if (r[i].begin < pos)
            return ct_fail(CT_ERR_FORMAT,
                           "safetensors: %s: tensor " NAME_FMT " data_offsets [%llu, %llu) overlap tensor " NAME_FMT,
                           f->path, name, (unsigned long long)r[i].begin, (unsigned long long)r[i].end,
                           f->tensors[r[i - 1].index].name);
        if (r[i].begin > pos)
            return ct_fail(CT_ERR_FORMAT,
                           "safetensors: %s: data bytes [%llu, %llu) before tensor " NAME_FMT
                           " belong to no tensor (gaps are not allowed)",
                           f->path, (unsigned long long)pos, (unsigned long long)r[i].begin, name);
        pos = r[i].end;
    }
    if (pos != data_len)
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: %llu trailing data bytes [%llu, %zu) belong to no tensor",
                       f->path, (unsigned long long)(data_len - pos), (unsigned long long)pos, data_len);
    return CT_OK;
}

/* Validates the bytes [base, base + size) and fills f (whose path is set). */
static ct_status parse(ct_st_file *f) {
    const char *path = f->path;
    const uint8_t *base = f->base;
    size_t size = f->size;
    cJSON *root = NULL;
    range *ranges = NULL;
    ct_status s = CT_OK;

    if (size == 0) return ct_fail(CT_ERR_FORMAT, "safetensors: %s: empty file (0 bytes)", path);
    if (size < 8)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: truncated: %zu bytes, shorter than the 8-byte header size field", path, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | base[i];
    if (hlen > ST_MAX_HEADER)
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: header size %llu exceeds the %llu-byte limit (not a safetensors file?)", path,
                       (unsigned long long)hlen, (unsigned long long)ST_MAX_HEADER);
    if (hlen > size - 8)
        return ct_fail(
            CT_ERR_FORMAT,
            "safetensors: %s: header size %llu is larger than the %zu bytes after the size field (file truncated?)",
            path, (unsigned long long)hlen, size - 8);
    if (hlen < 2 || base[8] != '{')
        return ct_fail(CT_ERR_FORMAT, "safetensors: %s: header does not start with '{': not a JSON object", path);
    size_t data_len = size - 8 - (size_t)hlen;

    const char *hdr = (const char *)base + 8, *end = NULL;
    /* The header must be UTF-8 (Hugging Face's reader refuses it otherwise); tensor names
     * and metadata then print as valid JSON and text. */
    for (size_t i = 0; i < hlen;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)hdr + i, (utf8proc_ssize_t)(hlen - i), &cp);
        if (n < 1)
            return ct_fail(CT_ERR_FORMAT, "safetensors: %s: header is not valid UTF-8 (byte 0x%02x at header byte %zu)",
                           path, (unsigned)(uint8_t)hdr[i], i);
        i += (size_t)n;
    }
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root) {
        s = ct_fail(CT_ERR_FORMAT, "safetensors: %s: header is not valid JSON (error near header byte %td of %llu)",
                    path, end ? end - hdr : (ptrdiff_t)0, (unsigned long long)hlen);
        goto fail;
    }
    for (const char *p = end; p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            s = ct_fail(CT_ERR_FORMAT,
                        "safetensors: %s: header has junk after the JSON object (header byte %td of %llu)", path,
                        p - hdr, (unsigned long long)hlen);
            goto fail;
        }
    if (!cJSON_IsObject(root)) {
        s = ct_fail(CT_ERR_FORMAT, "safetensors: %s: header is %s, expected a JSON object", path, json_kind(root));
        goto fail;
    }

    /* First pass: count, validate, size the string block. */
    const cJSON *meta = NULL;
    int n = 0;
    size_t strbytes = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        strbytes += strlen(c->string) + 1;
        if (strcmp(c->string, "__metadata__") == 0) {
            if (meta) {
                s = ct_fail(CT_ERR_FORMAT, "safetensors: %s: duplicate '__metadata__' entry", path);
                goto fail;
            }
            if ((s = parse_metadata(path, c))) goto fail;
            meta = c;
            for (const cJSON *m = c->child; m; m = m->next) {
                f->n_meta++;
                strbytes += strlen(m->string) + strlen(m->valuestring) + 2;
            }
        } else {
            n++;
        }
    }
    f->n = n;
    f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    f->by_name = malloc((size_t)(n ? n : 1) * sizeof *f->by_name);
    ranges = malloc((size_t)(n ? n : 1) * sizeof *ranges);
    f->meta = malloc((size_t)(f->n_meta ? 2 * f->n_meta : 1) * sizeof *f->meta);
    f->strings = malloc(strbytes ? strbytes : 1);
    if (!f->tensors || !f->by_name || !ranges || !f->meta || !f->strings) {
        s = ct_fail(CT_ERR_NOMEM, "safetensors: %s: out of memory for %d tensors", path, n);
        goto fail;
    }

    size_t pos = 0;
    int i = 0;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (c == meta) continue;
        if ((s = parse_tensor(path, c, data_len, &f->tensors[i], &ranges[i]))) goto fail;
        ranges[i].index = i;
        f->tensors[i].name = put_string(f, &pos, c->string);
        i++;
    }
    if (meta) {
        int k = 0;
        for (const cJSON *m = meta->child; m; m = m->next, k++) {
            f->meta[2 * k] = put_string(f, &pos, m->string);
            f->meta[2 * k + 1] = put_string(f, &pos, m->valuestring);
        }
    }
    if ((s = check_layout(f, ranges, data_len))) goto fail;
    const uint8_t *data = base + 8 + hlen;
    for (i = 0; i < n; i++) f->tensors[ranges[i].index].data = data + ranges[i].begin;

fail:
    free(ranges);
    cJSON_Delete(root);
    return s;
}

static ct_status file_new(ct_st_file **out, const char *path) {
    *out = calloc(1, sizeof **out);
    if (*out) (*out)->path = strdup(path);
    if (!*out || !(*out)->path) {
        free(*out);
        *out = NULL;
        return ct_fail(CT_ERR_NOMEM, "safetensors: %s: out of memory", path);
    }
    return CT_OK;
}

ct_status ct_st_open_memory(ct_st_file **out, const void *data, size_t size, const char *name) {
    ct_st_file *f;
    ct_status s = file_new(&f, name ? name : "<memory>");
    *out = NULL;
    if (s) return s;
    f->base = data;
    f->size = size;
    if ((s = parse(f))) {
        ct_st_close(f);
        return s;
    }
    *out = f;
    return CT_OK;
}

ct_status ct_st_open(ct_st_file **out, const char *path) {
    ct_st_file *f;
    ct_status s = file_new(&f, path);
    *out = NULL;
    if (s) return s;
    int fd;
    struct stat st;
    if (ct_open_regular(path, &fd, &st)) {
        s = ct_fail(CT_ERR_IO, "safetensors: %s", ct_error());
        goto fail;
    }
    f->size = (size_t)st.st_size;
    if (f->size > 0) {
        void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            s = ct_fail(CT_ERR_IO, "safetensors: %s: mmap of %zu bytes failed: %s", path, f->size, strerror(e));
            goto fail;
        }
        f->base = p;
        f->mapped = true;
    }
    close(fd);
    if ((s = parse(f))) goto fail;
    *out = f;
    return CT_OK;
fail:
    ct_st_close(f);
    return s;
}

void ct_st_close(ct_st_file *f) {
    if (!f) return;
    if (f->mapped) munmap((void *)f->base, f->size);
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f->strings);
    free(f->path);
    free(f);
}

const char *ct_st_path(const ct_st_file *f) { return f->path; }
int ct_st_count(const ct_st_file *f) { return f->n; }

const ct_st_tensor *ct_st_at(const ct_st_file *f, int i) { return i >= 0 && i < f->n ? &f->tensors[i] : NULL; }

const ct_st_tensor *ct_st_find(const ct_st_file *f, const char *name) {
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const ct_st_tensor *t = f->by_name[mid];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int ct_st_metadata_count(const ct_st_file *f) { return f->n_meta; }

void ct_st_metadata_at(const ct_st_file *f, int i, const char **key, const char **value) {
    bool ok = i >= 0 && i < f->n_meta;
    if (key) *key = ok ? f->meta[2 * i] : NULL;
    if (value) *value = ok ? f->meta[2 * i + 1] : NULL;
}

const char *ct_st_metadata(const ct_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

ct_status ct_st_read_f32(const ct_st_file *f, const ct_st_tensor *t, float *dst) {
    const uint8_t *src = t->data;
    ptrdiff_t n = (ptrdiff_t)t->numel;
    switch (t->dtype) {
    case CT_DT_F32:
        if (t->nbytes) memcpy(dst, src, t->nbytes);
        return CT_OK;
    case CT_DT_F64:
#pragma omp parallel for if (n > (1 << 20))
        for (ptrdiff_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + 8 * i, 8);
            dst[i] = (float)v;
        }
        return CT_OK;
    case CT_DT_F16:
    case CT_DT_BF16: {
        bool half = t->dtype == CT_DT_F16;
#pragma omp parallel for if (n > (1 << 20))
        for (ptrdiff_t i = 0; i < n; i++) {
            uint16_t v = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            dst[i] = half ? ct_f16_to_f32(v) : ct_bf16_to_f32(v);
        }
        return CT_OK;
    }
    default:
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT " has dtype %s, expected a float dtype (F64/F32/F16/BF16)",
                       f ? f->path : "?", t->name, ct_dtype_name(t->dtype));
    }
}

ct_status ct_st_read_i64(const ct_st_file *f, const ct_st_tensor *t, int64_t *dst) {
    const uint8_t *src = t->data;
    size_t n = t->numel;
    switch (t->dtype) {
#define CONVERT(CTYPE)                                                                                                 \
    for (size_t i = 0; i < n; i++) {                                                                                   \
        CTYPE v;                                                                                                       \
        memcpy(&v, src + i * sizeof(CTYPE), sizeof(CTYPE));                                                            \
        dst[i] = (int64_t)v;                                                                                           \
    }                                                                                                                  \
    return CT_OK;
    case CT_DT_I64:
        if (t->nbytes) memcpy(dst, src, t->nbytes);
        return CT_OK;
    case CT_DT_I32: CONVERT(int32_t)
    case CT_DT_I16: CONVERT(int16_t)
    case CT_DT_I8: CONVERT(int8_t)
    case CT_DT_U32: CONVERT(uint32_t)
    case CT_DT_U16: CONVERT(uint16_t)
    case CT_DT_U8: CONVERT(uint8_t)
    case CT_DT_BOOL:
        for (size_t i = 0; i < n; i++) dst[i] = src[i] != 0;
        return CT_OK;
#undef CONVERT
    case CT_DT_U64:
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, src + 8 * i, 8);
            if (v > (uint64_t)INT64_MAX)
                return ct_fail(CT_ERR_FORMAT,
                               "safetensors: %s: tensor " NAME_FMT " element %zu = %llu does not fit in int64",
                               f ? f->path : "?", t->name, i, (unsigned long long)v);
            dst[i] = (int64_t)v;
        }
        return CT_OK;
    default:
        return ct_fail(CT_ERR_FORMAT,
                       "safetensors: %s: tensor " NAME_FMT " has dtype %s, expected an integer or BOOL dtype",
                       f ? f->path : "?", t->name, ct_dtype_name(t->dtype));
    }
}
