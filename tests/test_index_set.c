/* Several index shards searched as one gallery (ct_index_set): the merged top-k and the
 * gathered rows equal those of the merged index, names map to global rows, and incomplete,
 * overlapping or foreign shard sets are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ctcir/index.h"
#include "test_tmpdir.h"
#include "test_util.h"

#define G   157
#define P   24
#define NSH 3

static char names_buf[G][16];
static const char *names[G];
static float emb[G * P];

static const char *path(const char *fmt, int k) {
    static char p[8][512];
    static int i;
    i = (i + 1) % 8;
    char name[64];
    snprintf(name, sizeof name, fmt, k);
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

static void write_shard(const char *file, int k, int n, ct_dtype dt, const char *model) {
    ct_index_writer *w = NULL;
    CHECK(ct_index_writer_new(&w, file, model, G, names, P, dt, k, n) == CT_OK);
    int64_t b, e;
    ct_index_shard_range(G, k, n, &b, &e);
    CHECK(ct_index_writer_put(w, b, (int)(e - b), emb + b * P) == CT_OK);
    CHECK(ct_index_writer_finish(w) == CT_OK);
    ct_index_writer_free(w);
}

static void test_equal_to_merged(ct_dtype dt) {
    const char *shards[NSH] = {path("s2-%d.idx", dt), path("s0-%d.idx", dt), path("s1-%d.idx", dt)};
    write_shard(shards[0], 2, NSH, dt, "m");
    write_shard(shards[1], 0, NSH, dt, "m");
    write_shard(shards[2], 1, NSH, dt, "m");
    const char *merged = path("merged-%d.idx", dt);
    CHECK(ct_index_merge(merged, shards, NSH) == CT_OK);
    ct_index *ix = NULL;
    ct_index_set *set = NULL;
    CHECK(ct_index_open(&ix, merged, "m", false) == CT_OK);
    CHECK(ct_index_set_open(&set, shards, NSH, "m") == CT_OK); /* any order */
    if (!ix || !set) return;
    CHECK(ct_index_set_rows(set) == G && ct_index_set_dim(set) == P);
    for (int64_t r = 0; r < G; r++) CHECK(strcmp(ct_index_set_name(set, r), names[r]) == 0);
    /* queries: rows of the gallery itself plus noise, and an exact duplicate for ties */
    enum { Q = 5, K = 20 };
    float q[Q * P];
    ct_rng rng;
    ct_rng_seed(&rng, 3);
    for (int i = 0; i < Q * P; i++) q[i] = emb[(i * 7) % (G * P)] + 0.1f * (ct_rng_uniform(&rng) - 0.5f);
    int a[Q * K], b[Q * K];
    float sa[Q * K], sb[Q * K];
    CHECK(ct_topk(a, sa, q, Q, ct_index_data(ix), ct_index_dtype(ix), G, P, K) == CT_OK);
    CHECK(ct_index_set_topk(set, b, sb, q, Q, K) == CT_OK);
    int diff = 0;
    for (int i = 0; i < Q * K; i++) diff += a[i] != b[i] || sa[i] != sb[i];
    CHECK_MSG(diff == 0, "dtype %d: %d of %d top-k entries differ from the merged index", dt, diff, Q * K);
    float *all = NULL;
    CHECK(ct_index_set_gather(set, &all) == CT_OK);
    int bad = 0;
    for (int64_t r = 0; all && r < G; r++)
        for (int j = 0; j < P; j++) {
            float want = emb[r * P + j];
            if (dt == CT_DT_F16) want = all[r * P + j]; /* exactness of F16 is test_index's job */
            bad +=
                all[r * P + j] != want || fabsf(all[r * P + j] - emb[r * P + j]) > 1e-2f * (1 + fabsf(emb[r * P + j]));
        }
    CHECK_MSG(bad == 0, "gather: %d values differ", bad);
    free(all);
    ct_index_set_close(set);
    ct_index_close(ix);
}

static void test_refused(void) {
    const char *s0 = path("r0.idx", 0), *s1 = path("r1.idx", 0), *other = path("r1o.idx", 0);
    write_shard(s0, 0, 2, CT_DT_F32, "m");
    write_shard(s1, 1, 2, CT_DT_F32, "m");
    write_shard(other, 1, 2, CT_DT_F32, "another-model");
    ct_index_set *set = NULL;
    const char *missing[1] = {s0};
    CHECK(ct_index_set_open(&set, missing, 1, "m") == CT_ERR_FORMAT && strstr(ct_error(), "of the gallery's"));
    const char *twice[3] = {s0, s1, s1};
    CHECK(ct_index_set_open(&set, twice, 3, "m") == CT_ERR_FORMAT && strstr(ct_error(), "once"));
    const char *foreign[2] = {s0, other};
    CHECK(ct_index_set_open(&set, foreign, 2, "m") != CT_OK);
    CHECK(set == NULL);
}

int main(void) {
    if (!tmpdir_make("index_set")) return 1;
    ct_rng rng;
    ct_rng_seed(&rng, 11);
    for (int i = 0; i < G; i++) {
        snprintf(names_buf[i], sizeof names_buf[i], "img-%d", i);
        names[i] = names_buf[i];
        for (int j = 0; j < P; j++) emb[i * P + j] = ct_rng_uniform(&rng) - 0.5f;
    }
    for (int j = 0; j < P; j++) emb[40 * P + j] = emb[120 * P + j]; /* a tie across shards */
    test_equal_to_merged(CT_DT_F32);
    test_equal_to_merged(CT_DT_F16);
    test_refused();
    tmpdir_remove();
    return test_finish();
}
