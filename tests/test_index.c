/* Gallery index files: write / checkpoint / resume / finish, open with identity checks,
 * shards and merge, F16, and refusal of bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/index.h"
#include "test_tmpdir.h"
#include "test_util.h"

#define G 23
#define P 5

static char names_buf[G][16];
static const char *names[G];

static char *path(const char *name) {
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

static float val(int64_t row, int j) { return (float)(row * 10 + j) * 0.25f; }

static void fill(float *e, int64_t r0, int n) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < P; j++) e[i * P + j] = val(r0 + i, j);
}

static void test_roundtrip(ct_dtype dt) {
    ct_index_writer *w = NULL;
    const char *f = path(dt == CT_DT_F16 ? "h.idx" : "f.idx");
    CHECK(ct_index_writer_new(&w, f, "model-A", G, names, P, dt, 0, 1) == CT_OK);
    if (!w) return;
    float e[G * P];
    fill(e, 0, 10);
    CHECK(ct_index_writer_put(w, 0, 10, e) == CT_OK);
    CHECK(ct_index_writer_finish(w) == CT_ERR_ARG && strstr(ct_error(), "row 10"));
    CHECK(ct_index_writer_checkpoint(w) == CT_OK);
    ct_index_writer_free(w);
    /* A partial file: refused by a plain open, accepted with allow_partial. */
    ct_index *ix = NULL;
    CHECK(ct_index_open(&ix, f, "model-A", false) == CT_ERR_ARG && strstr(ct_error(), "incomplete"));
    CHECK(ct_index_open(&ix, f, "model-A", true) == CT_OK);
    if (ix) CHECK(!ct_index_complete(ix) && ct_index_row_done(ix, 9) && !ct_index_row_done(ix, 10));
    ct_index_close(ix);
    /* Resume: rows 0..9 are there; add the rest; finish. */
    CHECK(ct_index_writer_resume(&w, f, "model-B", G, names, P, dt, 0, 1) == CT_ERR_ARG &&
          strstr(ct_error(), "another model"));
    CHECK(ct_index_writer_resume(&w, f, "model-A", G, names, P + 1, dt, 0, 1) == CT_ERR_ARG);
    CHECK(ct_index_writer_resume(&w, f, "model-A", G, names, P, dt, 0, 1) == CT_OK);
    if (!w) return;
    CHECK(ct_index_writer_count_done(w) == 10 && ct_index_writer_done(w, 9) && !ct_index_writer_done(w, 10));
    fill(e, 10, G - 10);
    CHECK(ct_index_writer_put(w, 10, G - 10, e) == CT_OK);
    CHECK(ct_index_writer_put(w, G - 1, 2, e) == CT_ERR_ARG);
    CHECK(ct_index_writer_finish(w) == CT_OK);
    ct_index_writer_free(w);
    CHECK(ct_index_open(&ix, f, "model-A", false) == CT_OK);
    if (!ix) return;
    CHECK(ct_index_complete(ix) && ct_index_rows(ix) == G && ct_index_gallery_size(ix) == G && ct_index_dim(ix) == P);
    CHECK(ct_index_dtype(ix) == dt && strcmp(ct_index_model_id(ix), "model-A") == 0);
    CHECK(strcmp(ct_index_name(ix, 0), "img-0") == 0 && strcmp(ct_index_name(ix, G - 1), "img-22") == 0);
    /* Values survive (exactly: they are multiples of 0.25 below 2048, exact in F16). */
    float back[G * P];
    const unsigned char *d = ct_index_data(ix);
    int bad = 0;
    for (int i = 0; i < G * P; i++) {
        if (dt == CT_DT_F32)
            memcpy(&back[i], d + 4 * (size_t)i, 4);
        else {
            uint16_t h;
            memcpy(&h, d + 2 * (size_t)i, 2);
            back[i] = ct_f16_to_f32(h);
        }
        bad += back[i] != val(i / P, i % P);
    }
    CHECK(bad == 0);
    /* Search straight on the mapping: the query equal to row 7's direction finds row 7 first. */
    float qv[P];
    fill(qv, 7, 1);
    int top[3];
    CHECK(ct_topk(top, NULL, qv, 1, ct_index_data(ix), ct_index_dtype(ix), ct_index_rows(ix), P, 3) == CT_OK);
    CHECK(top[0] == 7);
    ct_index_close(ix);
    CHECK(ct_index_open(&ix, f, "model-B", false) == CT_ERR_ARG && strstr(ct_error(), "model_id 'model-A'"));
    CHECK(ct_index_open(&ix, f, NULL, false) == CT_OK);
    ct_index_close(ix);
}

static void test_shards(void) {
    const char *in[3];
    char pbuf[3][512];
    float e[G * P];
    for (int k = 0; k < 3; k++) {
        snprintf(pbuf[k], sizeof pbuf[k], "%s/s%d.idx", tmpdir, k);
        in[k] = pbuf[k];
        ct_index_writer *w = NULL;
        CHECK(ct_index_writer_new(&w, in[k], "m", G, names, P, CT_DT_F32, k, 3) == CT_OK);
        if (!w) return;
        int64_t b, en;
        ct_index_writer_range(w, &b, &en);
        int64_t wb, we;
        ct_index_shard_range(G, k, 3, &wb, &we);
        CHECK(b == wb && en == we && b == G * k / 3);
        fill(e, b, (int)(en - b));
        CHECK(ct_index_writer_put(w, b, (int)(en - b), e) == CT_OK);
        CHECK(ct_index_writer_put(w, en, 1, e) == CT_ERR_ARG);
        CHECK(ct_index_writer_finish(w) == CT_OK);
        ct_index_writer_free(w);
    }
    /* Merge in any order. */
    const char *order[3] = {in[2], in[0], in[1]};
    CHECK_MSG(ct_index_merge(path("merged.idx"), order, 3) == CT_OK, "%s", ct_error());
    ct_index *ix = NULL;
    CHECK(ct_index_open(&ix, path("merged.idx"), "m", false) == CT_OK);
    if (ix) {
        int sk, sn;
        ct_index_shard(ix, &sk, &sn);
        CHECK(ct_index_rows(ix) == G && sk == 0 && sn == 1 && strcmp(ct_index_name(ix, 12), "img-12") == 0);
        float v;
        memcpy(&v, (const unsigned char *)ct_index_data(ix) + 4 * (size_t)(15 * P + 2), 4);
        CHECK(v == val(15, 2));
        ct_index_close(ix);
    }
    /* A shard missing, a shard twice, another model: refused. */
    CHECK(ct_index_merge(path("bad.idx"), in, 2) == CT_ERR_ARG && strstr(ct_error(), "do not cover"));
    const char *twice[4] = {in[0], in[1], in[2], in[1]};
    CHECK(ct_index_merge(path("bad.idx"), twice, 4) == CT_ERR_ARG && strstr(ct_error(), "more than one"));
    ct_index_writer *w = NULL;
    CHECK(ct_index_writer_new(&w, path("other.idx"), "other", G, names, P, CT_DT_F32, 1, 3) == CT_OK);
    int64_t b, en;
    ct_index_writer_range(w, &b, &en);
    fill(e, b, (int)(en - b));
    ct_index_writer_put(w, b, (int)(en - b), e);
    CHECK(ct_index_writer_finish(w) == CT_OK);
    ct_index_writer_free(w);
    const char *mixed[3] = {in[0], path("other.idx"), in[2]};
    CHECK(ct_index_merge(path("bad.idx"), mixed, 3) == CT_ERR_ARG && strstr(ct_error(), "another model"));
    /* Bad writer arguments. */
    CHECK(ct_index_writer_new(&w, path("x.idx"), "m", G, names, P, CT_DT_F32, 3, 3) == CT_ERR_ARG);
    CHECK(ct_index_writer_new(&w, path("x.idx"), "m", 2, names, P, CT_DT_F32, 0, 3) == CT_ERR_ARG &&
          strstr(ct_error(), "empty"));
    CHECK(ct_index_writer_new(&w, path("x.idx"), "m", G, names, P, CT_DT_I32, 0, 1) == CT_ERR_ARG);
    /* A safetensors file that is not an index. */
    ct_st_writer *sw;
    int64_t shape[1] = {2};
    float two[2] = {1, 2};
    ct_st_writer_new(&sw);
    ct_st_writer_add(sw, "x", CT_DT_F32, 1, shape, two);
    ct_st_writer_save(sw, path("plain.st"));
    ct_st_writer_free(sw);
    ct_index *ix2 = NULL;
    CHECK(ct_index_open(&ix2, path("plain.st"), NULL, false) == CT_ERR_FORMAT &&
          strstr(ct_error(), "not a ctcir index"));
}

/* Replaces the first occurrence of `find` in file f by `repl` (same length); 1 if found. */
static int patch_file(const char *f, const void *find, const void *repl, size_t len) {
    FILE *fp = fopen(f, "r+b");
    if (!fp) return 0;
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    int found = 0;
    for (size_t i = 0; i + len <= n && !found; i++)
        if (memcmp(buf + i, find, len) == 0) {
            fseek(fp, (long)i, SEEK_SET);
            fwrite(repl, 1, len, fp);
            found = 1;
        }
    fclose(fp);
    return found;
}

/* Damaged files: a name offset far past 'names' (was an out-of-bounds read) and a NaN
 * embedding (every score would be NaN) are refused by name. */
static void test_hostile(void) {
    const char *f = path("bad.idx");
    ct_index_writer *w = NULL;
    float e[G * P];
    fill(e, 0, G);
    int64_t offs[3] = {0, 6, 12}, bad_offs[3] = {0, 6, (int64_t)1 << 40}; /* "img-0\0" is 6 bytes */
    float row2[2] = {val(2, 0), val(2, 1)}, nan_row2[2] = {NAN, val(2, 1)};
    for (int mode = 0; mode < 2; mode++) {
        CHECK(ct_index_writer_new(&w, f, "model-A", G, names, P, CT_DT_F32, 0, 1) == CT_OK);
        if (!w) return;
        CHECK(ct_index_writer_put(w, 0, G, e) == CT_OK && ct_index_writer_finish(w) == CT_OK);
        ct_index_writer_free(w);
        CHECK(mode == 0 ? patch_file(f, offs, bad_offs, sizeof offs) : patch_file(f, row2, nan_row2, sizeof row2));
        ct_index *ix = NULL;
        ct_status s = ct_index_open(&ix, f, "model-A", false);
        CHECK_MSG(
            s == CT_ERR_FORMAT && strstr(ct_error(), "bad.idx") &&
                strstr(ct_error(), mode == 0 ? "name 1 is not a NUL-terminated run" : "row 2 ('img-2') holds NaN"),
            "mode %d: status %d, %s", mode, s, ct_error());
        ct_index_close(ix);
    }
}

int main(void) {
    if (!tmpdir_make("index")) return 1;
    for (int i = 0; i < G; i++) {
        snprintf(names_buf[i], sizeof names_buf[i], "img-%d", i);
        names[i] = names_buf[i];
    }
    test_roundtrip(CT_DT_F32);
    test_roundtrip(CT_DT_F16);
    test_shards();
    test_hostile();
    tmpdir_remove();
    return test_finish();
}
