/* safetensors writer: collects tensor references and metadata, then streams the file to a
 * temporary beside the target and renames it into place (core/fileio.h). The header is
 * padded with spaces so that the data starts at an 8-byte-aligned file offset; tensors are
 * stored back to back in the order they were added. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "ctcir/safetensors.h"

typedef struct {
    char *name;
    ct_dtype dtype;
    int ndim;
    int64_t shape[CT_ST_MAX_DIMS];
    size_t nbytes;
    const void *data;
    void *owned; /* the copy made by ct_st_writer_add_copy, else NULL */
} st_entry;

struct ct_st_writer {
    st_entry *entries;
    int n, cap;
    char **meta; /* key, value, key, value, ... */
    int n_meta, cap_meta;
};

ct_status ct_st_writer_new(ct_st_writer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return ct_fail(CT_ERR_NOMEM, "safetensors writer: out of memory");
    return CT_OK;
}

void ct_st_writer_free(ct_st_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) {
        free(w->entries[i].name);
        free(w->entries[i].owned);
    }
    for (int i = 0; i < 2 * w->n_meta; i++) free(w->meta[i]);
    free(w->entries);
    free(w->meta);
    free(w);
}

/* Grows an array of `elem`-byte items so that one more fits. */
static bool grow(void **items, int *cap, int n, size_t elem) {
    if (n < *cap) return true;
    int ncap = *cap ? 2 * *cap : 16;
    void *p = realloc(*items, (size_t)ncap * elem);
    if (!p) return false;
    *items = p;
    *cap = ncap;
    return true;
}

static ct_status add(ct_st_writer *w, const char *name, ct_dtype dtype, int ndim, const int64_t *shape,
                     const void *data, bool copy) {
    if (!w || !name || !*name || strcmp(name, "__metadata__") == 0)
        return ct_fail(CT_ERR_ARG, "safetensors writer: invalid tensor name '%s'", name ? name : "(null)");
    size_t esize = ct_dtype_size(dtype);
    if (!esize) return ct_fail(CT_ERR_ARG, "safetensors writer: tensor '%s': invalid dtype %d", name, (int)dtype);
    if (ndim < 0 || ndim > CT_ST_MAX_DIMS || (ndim > 0 && !shape))
        return ct_fail(CT_ERR_ARG, "safetensors writer: tensor '%s': ndim %d outside [0, %d]", name, ndim,
                       CT_ST_MAX_DIMS);
    size_t numel = 1;
    bool overflow = false;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return ct_fail(CT_ERR_ARG, "safetensors writer: tensor '%s': shape[%d] = %lld is negative", name, d,
                           (long long)shape[d]);
        uint64_t v = (uint64_t)shape[d];
        if (v == 0)
            numel = 0, overflow = false;
        else if (numel && numel > SIZE_MAX / esize / v)
            overflow = true;
        else
            numel *= (size_t)v;
    }
    if (overflow) return ct_fail(CT_ERR_ARG, "safetensors writer: tensor '%s': size overflows", name);
    size_t nbytes = numel * esize;
    if (nbytes && !data) return ct_fail(CT_ERR_ARG, "safetensors writer: tensor '%s': data is NULL", name);
    if (!grow((void **)&w->entries, &w->cap, w->n, sizeof *w->entries))
        return ct_fail(CT_ERR_NOMEM, "safetensors writer: out of memory");

    st_entry e = {.dtype = dtype, .ndim = ndim, .nbytes = nbytes, .data = data};
    for (int d = 0; d < ndim; d++) e.shape[d] = shape[d];
    e.name = strdup(name);
    if (copy && nbytes) {
        e.owned = malloc(nbytes);
        if (e.owned) memcpy(e.owned, data, nbytes);
        e.data = e.owned;
    }
    if (!e.name || (copy && nbytes && !e.owned)) {
        free(e.name);
        free(e.owned);
        return ct_fail(CT_ERR_NOMEM, "safetensors writer: tensor '%s': out of memory for %zu bytes", name, nbytes);
    }
    w->entries[w->n++] = e;
    return CT_OK;
}

ct_status ct_st_writer_add(ct_st_writer *w, const char *name, ct_dtype dtype, int ndim, const int64_t *shape,
                           const void *data) {
    return add(w, name, dtype, ndim, shape, data, false);
}

ct_status ct_st_writer_add_copy(ct_st_writer *w, const char *name, ct_dtype dtype, int ndim, const int64_t *shape,
                                const void *data) {
    return add(w, name, dtype, ndim, shape, data, true);
}

/* Setting a key again replaces its value. */
ct_status ct_st_writer_meta(ct_st_writer *w, const char *key, const char *value) {
    if (!w || !key || !value) return ct_fail(CT_ERR_ARG, "safetensors writer: NULL metadata key or value");
    char *v = strdup(value);
    if (!v) return ct_fail(CT_ERR_NOMEM, "safetensors writer: out of memory");
    for (int i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[2 * i], key) == 0) {
            free(w->meta[2 * i + 1]);
            w->meta[2 * i + 1] = v;
            return CT_OK;
        }
    char *k = strdup(key);
    if (!k || !grow((void **)&w->meta, &w->cap_meta, 2 * w->n_meta + 1, sizeof *w->meta)) {
        free(k);
        free(v);
        return ct_fail(CT_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->meta[2 * w->n_meta] = k;
    w->meta[2 * w->n_meta + 1] = v;
    w->n_meta++;
    return CT_OK;
}

/* A growing text buffer for the header. */
typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > ncap) ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)n); /* only short numeric fragments are printed this way */
}

/* A JSON string literal; UTF-8 passes through, control characters become \u00XX. */
static void sb_json_string(strbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            sb_put(b, esc, 2);
        } else if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

static int cmp_entry_name(const void *a, const void *b) {
    return strcmp((*(const st_entry *const *)a)->name, (*(const st_entry *const *)b)->name);
}

static ct_status check_unique(const ct_st_writer *w, const char *path) {
    if (w->n < 2) return CT_OK;
    const st_entry **sorted = malloc((size_t)w->n * sizeof *sorted);
    if (!sorted) return ct_fail(CT_ERR_NOMEM, "safetensors: %s: out of memory", path);
    for (int i = 0; i < w->n; i++) sorted[i] = &w->entries[i];
    qsort(sorted, (size_t)w->n, sizeof *sorted, cmp_entry_name);
    ct_status s = CT_OK;
    for (int i = 1; i < w->n && !s; i++)
        if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0)
            s = ct_fail(CT_ERR_ARG, "safetensors: %s: tensor '%s' was added twice", path, sorted[i]->name);
    free(sorted);
    return s;
}

/* The header JSON, padded with spaces so that 8 + its length is a multiple of 8. */
static ct_status build_header(const ct_st_writer *w, const char *path, strbuf *b) {
    sb_put(b, "{", 1);
    if (w->n_meta) {
        sb_put(b, "\"__metadata__\":{", 16);
        for (int i = 0; i < w->n_meta; i++) {
            if (i) sb_put(b, ",", 1);
            sb_json_string(b, w->meta[2 * i]);
            sb_put(b, ":", 1);
            sb_json_string(b, w->meta[2 * i + 1]);
        }
        sb_put(b, "}", 1);
    }
    size_t offset = 0;
    for (int i = 0; i < w->n; i++) {
        const st_entry *e = &w->entries[i];
        if (i || w->n_meta) sb_put(b, ",", 1);
        sb_json_string(b, e->name);
        sb_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", ct_dtype_name(e->dtype));
        for (int d = 0; d < e->ndim; d++) sb_printf(b, d ? ",%lld" : "%lld", (long long)e->shape[d]);
        sb_printf(b, "],\"data_offsets\":[%zu,%zu]}", offset, offset + e->nbytes);
        offset += e->nbytes;
    }
    sb_put(b, "}", 1);
    while ((8 + b->len) % 8) sb_put(b, " ", 1);
    if (b->oom) return ct_fail(CT_ERR_NOMEM, "safetensors: %s: out of memory for the header", path);
    return CT_OK;
}

ct_status ct_st_writer_save(ct_st_writer *w, const char *path) {
    strbuf hdr = {0};
    ct_status s;
    if (!w || !path) return ct_fail(CT_ERR_ARG, "safetensors writer: NULL writer or path");
    if ((s = check_unique(w, path))) return s;
    if ((s = build_header(w, path, &hdr))) goto done;

    ct_atomic_file a;
    if ((s = ct_atomic_begin(&a, path))) goto done;
    uint8_t size_field[8];
    for (int i = 0; i < 8; i++) size_field[i] = (uint8_t)((uint64_t)hdr.len >> (8 * i));
    s = ct_atomic_write(&a, size_field, 8);
    if (!s) s = ct_atomic_write(&a, hdr.p, hdr.len);
    for (int i = 0; i < w->n && !s; i++) s = ct_atomic_write(&a, w->entries[i].data, w->entries[i].nbytes);
    if (s)
        ct_atomic_abort(&a);
    else
        s = ct_atomic_commit(&a);
done:
    free(hdr.p);
    return s;
}
