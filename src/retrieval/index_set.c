/* Several complete index shards searched as one gallery (ctcir/index.h, "several shards"). */
#include <stdlib.h>
#include <string.h>

#include "core/half.h"
#include "ctcir/index.h"

struct ct_index_set {
    int n;
    ct_index **ix;  /* [n], sorted by first global row */
    int64_t *first; /* [n] global row of each shard's local row 0 */
    int64_t rows;
    int P;
};

void ct_index_set_close(ct_index_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) ct_index_close(s->ix[i]);
    free(s->ix), free(s->first), free(s);
}

ct_status ct_index_set_open(ct_index_set **out, const char *const *paths, int n, const char *model_id) {
    *out = NULL;
    if (n < 1 || n > 64) return ct_fail(CT_ERR_ARG, "index: %d index files (1..64)", n);
    ct_index_set *s = calloc(1, sizeof *s);
    if (!s) return ct_fail(CT_ERR_NOMEM, "index: out of memory");
    s->ix = calloc((size_t)n, sizeof *s->ix);
    s->first = calloc((size_t)n, sizeof *s->first);
    ct_status st = CT_OK;
    if (!s->ix || !s->first) {
        st = ct_fail(CT_ERR_NOMEM, "index: out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++, s->n++) {
        if ((st = ct_index_open(&s->ix[i], paths[i], model_id, false))) goto fail;
        const ct_index *a = s->ix[i], *b = s->ix[0];
        if (ct_index_dim(a) != ct_index_dim(b) || ct_index_gallery_size(a) != ct_index_gallery_size(b)) {
            st = ct_fail(CT_ERR_FORMAT,
                         "index: %s (gallery %lld, dim %d) does not belong with %s (gallery %lld, dim %d)", paths[i],
                         (long long)ct_index_gallery_size(a), ct_index_dim(a), paths[0],
                         (long long)ct_index_gallery_size(b), ct_index_dim(b));
            goto fail;
        }
        s->first[i] = ct_index_rows(a) ? ct_index_row_id(a, 0) : 0;
    }
    /* sort by first row (insertion sort: a handful of shards), then check they tile [0, G) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s->first[j] < s->first[j - 1]; j--) {
            int64_t f = s->first[j];
            s->first[j] = s->first[j - 1], s->first[j - 1] = f;
            ct_index *x = s->ix[j];
            s->ix[j] = s->ix[j - 1], s->ix[j - 1] = x;
        }
    int64_t next = 0;
    for (int i = 0; i < n; i++) {
        const ct_index *a = s->ix[i];
        const int64_t r = ct_index_rows(a);
        for (int64_t k = 0; k < r; k++)
            if (ct_index_row_id(a, k) != next + k) {
                st = ct_fail(CT_ERR_FORMAT,
                             "index: the shards do not cover the gallery row by row once: row %lld is missing or "
                             "repeated (shards must be complete and disjoint)",
                             (long long)(next + k));
                goto fail;
            }
        next += r;
    }
    if (next != ct_index_gallery_size(s->ix[0])) {
        st = ct_fail(CT_ERR_FORMAT, "index: the %d shard(s) hold %lld of the gallery's %lld rows", n, (long long)next,
                     (long long)ct_index_gallery_size(s->ix[0]));
        goto fail;
    }
    s->rows = next;
    s->P = ct_index_dim(s->ix[0]);
    *out = s;
    return CT_OK;
fail:
    ct_index_set_close(s);
    return st;
}

int64_t ct_index_set_rows(const ct_index_set *s) { return s->rows; }
int ct_index_set_dim(const ct_index_set *s) { return s->P; }

static int shard_of(const ct_index_set *s, int64_t row) {
    int i = 0;
    while (i + 1 < s->n && s->first[i + 1] <= row) i++;
    return i;
}

const char *ct_index_set_name(const ct_index_set *s, int64_t row) {
    if (row < 0 || row >= s->rows) return NULL;
    int i = shard_of(s, row);
    return ct_index_name(s->ix[i], row - s->first[i]);
}

/* a before b: score descending (NaN last), then global row ascending */
static int better(float sa, int64_t ra, float sb, int64_t rb) {
    if (sa != sa) return 0;
    if (sb != sb) return 1;
    return sa > sb || (sa == sb && ra < rb);
}

ct_status ct_index_set_topk(const ct_index_set *s, int *out_idx, float *out_score, const float *queries, int Q, int k) {
    if (k < 1 || Q < 1) return ct_fail(CT_ERR_ARG, "index: search with k = %d, Q = %d", k, Q);
    int *idx = malloc((size_t)s->n * Q * k * sizeof *idx);
    float *sc = malloc((size_t)s->n * Q * k * sizeof *sc);
    ct_status st = CT_OK;
    if (!idx || !sc) {
        st = ct_fail(CT_ERR_NOMEM, "index: out of memory");
        goto done;
    }
    for (int i = 0; i < s->n; i++) {
        const ct_index *a = s->ix[i];
        if ((st = ct_topk(idx + (size_t)i * Q * k, sc + (size_t)i * Q * k, queries, Q, ct_index_data(a),
                          ct_index_dtype(a), ct_index_rows(a), s->P, k)))
            goto done;
    }
    for (int q = 0; q < Q; q++) {
        int pos[64] = {0}; /* merge cursor per shard (n <= 64 checked below) */
        for (int j = 0; j < k; j++) {
            int best = -1;
            float bs = 0;
            int64_t br = 0;
            for (int i = 0; i < s->n && i < 64; i++) {
                if (pos[i] >= k) continue;
                const size_t at = ((size_t)i * Q + q) * k + pos[i];
                if (idx[at] < 0) continue;
                const int64_t r = s->first[i] + idx[at];
                if (best < 0 || better(sc[at], r, bs, br)) best = i, bs = sc[at], br = r;
            }
            out_idx[(size_t)q * k + j] = best < 0 ? -1 : (int)br;
            if (out_score) out_score[(size_t)q * k + j] = best < 0 ? 0.0f : bs;
            if (best >= 0) pos[best]++;
        }
    }
done:
    free(idx), free(sc);
    return st;
}

ct_status ct_index_set_gather(const ct_index_set *s, float **out) {
    float *g = malloc((size_t)(s->rows ? s->rows : 1) * s->P * sizeof *g);
    if (!g) return ct_fail(CT_ERR_NOMEM, "index: cannot hold %lld rows of dim %d", (long long)s->rows, s->P);
    for (int i = 0; i < s->n; i++) {
        const ct_index *a = s->ix[i];
        const size_t n = (size_t)ct_index_rows(a) * s->P;
        float *dst = g + (size_t)s->first[i] * s->P;
        if (ct_index_dtype(a) == CT_DT_F32) {
            memcpy(dst, ct_index_data(a), n * sizeof *dst);
        } else {
            const uint8_t *src = ct_index_data(a); /* possibly unaligned */
            for (size_t j = 0; j < n; j++) {
                uint16_t h;
                memcpy(&h, src + 2 * j, 2);
                dst[j] = ct_f16_to_f32(h);
            }
        }
    }
    *out = g;
    return CT_OK;
}
