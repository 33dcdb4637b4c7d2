/* Mutation test of the safetensors reader: valid seed files built here are damaged thousands
 * of times (bit flips, byte changes, size-field edits, truncations, insertions, deletions,
 * header edits with the size field kept consistent) and opened. The reader must never crash
 * or read out of bounds (run under ASan: each image sits in a buffer of exactly its size),
 * and must either succeed with every tensor's data inside the file or fail with a message
 * naming the file. Deterministic: a fixed seed. */
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/rng.h"
#include "ctcir/safetensors.h"
#include "test_util.h"

#define ITERATIONS 100000
#define MAX_IMAGE  8192

typedef struct {
    unsigned char *p;
    size_t n;
} image;

static image seeds[8];
static int n_seeds;
static char tmpdir[] = "/tmp/ctcir_stfuzz_XXXXXX";

/* Saves the writer to a file and keeps its bytes as a seed. */
static void add_seed(ct_st_writer *w) {
    char path[256];
    snprintf(path, sizeof path, "%s/seed%d.safetensors", tmpdir, n_seeds);
    char *data;
    size_t n;
    CHECK_MSG(ct_st_writer_save(w, path) == CT_OK, "%s", ct_error());
    CHECK(ct_read_file(path, &data, &n, MAX_IMAGE) == CT_OK);
    ct_st_writer_free(w);
    unlink(path);
    seeds[n_seeds].p = (unsigned char *)data;
    seeds[n_seeds].n = n;
    n_seeds++;
}

static void add_raw_seed(const char *header, size_t ndata) {
    size_t hl = strlen(header);
    unsigned char *p = calloc(1, 8 + hl + ndata);
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(p + 8, header, hl);
    for (size_t i = 0; i < ndata; i++) p[8 + hl + i] = (unsigned char)(i * 37 + 11);
    seeds[n_seeds].p = p;
    seeds[n_seeds].n = 8 + hl + ndata;
    n_seeds++;
}

static void make_seeds(void) {
    static float f32[6] = {1, -2, 3.5f, 0, 1e-30f, 7};
    static uint16_t h[4] = {0x3c00, 0x0001, 0x7c00, 0xfe01};
    static int64_t i64[3] = {0, 1, -1};
    static uint8_t u8[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static double f64[2] = {0.1, -1e300};
    ct_st_writer *w;
    ct_st_writer_new(&w);
    ct_st_writer_meta(w, "format", "pt");
    ct_st_writer_meta(w, "texts", "[\"a \\\"b\\\"\"]");
    ct_st_writer_add(w, "logit_scale", CT_DT_F32, 0, NULL, f32);
    ct_st_writer_add(w, "w", CT_DT_F32, 2, (int64_t[]){2, 3}, f32);
    ct_st_writer_add(w, "half", CT_DT_F16, 1, (int64_t[]){4}, h);
    ct_st_writer_add(w, "bf", CT_DT_BF16, 2, (int64_t[]){2, 2}, h);
    ct_st_writer_add(w, "ids", CT_DT_I64, 2, (int64_t[]){1, 3}, i64);
    ct_st_writer_add(w, "img", CT_DT_U8, 3, (int64_t[]){2, 2, 3}, u8);
    ct_st_writer_add(w, "d", CT_DT_F64, 1, (int64_t[]){2}, f64);
    ct_st_writer_add(w, "flags", CT_DT_BOOL, 1, (int64_t[]){3}, u8);
    ct_st_writer_add(w, "empty", CT_DT_F32, 2, (int64_t[]){0, 4}, NULL);
    add_seed(w);
    ct_st_writer_new(&w);
    ct_st_writer_add(w, "x", CT_DT_I32, 1, (int64_t[]){1}, f32);
    add_seed(w);
    ct_st_writer_new(&w);
    add_seed(w); /* no tensors */
    ct_st_writer_new(&w);
    ct_st_writer_add(w, "u", CT_DT_U16, 1, (int64_t[]){3}, h);
    ct_st_writer_add(w, "i", CT_DT_I8, 2, (int64_t[]){2, 2}, u8);
    ct_st_writer_add(w, "q", CT_DT_U64, 1, (int64_t[]){1}, i64);
    ct_st_writer_meta(w, "k", "");
    add_seed(w);
    /* out-of-order offsets and whitespace in the header */
    add_raw_seed("{ \"b\" : {\"dtype\":\"F32\", \"shape\":[2], \"data_offsets\":[8, 16]},\n"
                 "  \"a\" : {\"dtype\":\"I16\", \"shape\":[2,2], \"data_offsets\":[0, 8]} }   ",
                 16);
}

static const char *tokens[] = {"{",
                               "}",
                               "[",
                               "]",
                               ",",
                               ":",
                               "\"",
                               "-",
                               "0",
                               "1",
                               "9",
                               "e9",
                               "1e400",
                               "-1",
                               "null",
                               "true",
                               "\"dtype\"",
                               "\"shape\"",
                               "\"data_offsets\"",
                               "\"F16\"",
                               "\"U8\"",
                               "\"BOOL\"",
                               "\"__metadata__\"",
                               "\\u0000",
                               "18446744073709551616",
                               "[0,0]",
                               "[]",
                               ",\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}"};

/* Byte positions of the header, as seen by the image's current size field. */
static size_t header_len(const image *im) {
    if (im->n < 8) return 0;
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = h << 8 | im->p[i];
    return h > im->n - 8 ? im->n - 8 : (size_t)h;
}

static void set_header_len(image *im, uint64_t h) {
    for (int i = 0; i < 8 && i < (int)im->n; i++) im->p[i] = (unsigned char)(h >> (8 * i));
}

/* Replaces [at, at + del) by ins[0..nins) (the image buffer has room for MAX_IMAGE). */
static void splice(image *im, size_t at, size_t del, const void *ins, size_t nins) {
    if (at > im->n) at = im->n;
    if (del > im->n - at) del = im->n - at;
    if (im->n - del + nins > MAX_IMAGE) return;
    memmove(im->p + at + nins, im->p + at + del, im->n - at - del);
    if (nins) memcpy(im->p + at, ins, nins);
    im->n = im->n - del + nins;
}

static void mutate(image *im, ct_rng *r) {
    int op = (int)ct_rng_below(r, 12);
    size_t hl = header_len(im);
    size_t pos = im->n ? (size_t)ct_rng_below(r, im->n) : 0;
    /* positions inside the header are where the interesting parsing happens */
    size_t hpos = hl ? 8 + (size_t)ct_rng_below(r, hl) : pos;
    switch (op) {
    case 0: /* bit flip anywhere */
        if (im->n) im->p[pos] ^= (unsigned char)(1u << ct_rng_below(r, 8));
        break;
    case 1: /* random byte in the header */
        if (im->n) im->p[hpos] = (unsigned char)ct_rng_below(r, 256);
        break;
    case 2: { /* size field: random, off by a little, or huge */
        uint64_t v = hl;
        int k = (int)ct_rng_below(r, 3);
        if (k == 0)
            v = ct_rng_next(r) >> ct_rng_below(r, 64);
        else if (k == 1)
            v += (uint64_t)((int64_t)ct_rng_below(r, 17) - 8);
        else
            v = (uint64_t)1 << ct_rng_below(r, 64);
        set_header_len(im, v);
        break;
    }
    case 3: /* truncation */ im->n = im->n ? (size_t)ct_rng_below(r, im->n + 1) : 0; break;
    case 4: { /* insert random bytes */
        unsigned char junk[8];
        size_t k = 1 + (size_t)ct_rng_below(r, 8);
        for (size_t i = 0; i < k; i++) junk[i] = (unsigned char)ct_rng_below(r, 256);
        splice(im, pos, 0, junk, k);
        break;
    }
    case 5: /* delete a short range */ splice(im, pos, 1 + (size_t)ct_rng_below(r, 8), NULL, 0); break;
    case 10:
    case 11: { /* change a digit of the header (offsets, shapes): overlaps, gaps, size mismatches */
        if (hl == 0) break;
        for (size_t i = hpos; i < 8 + hl; i++)
            if (im->p[i] >= '0' && im->p[i] <= '9') {
                im->p[i] = (unsigned char)('0' + ct_rng_below(r, 10));
                break;
            }
        break;
    }
    default: { /* header edit with a JSON token, size field kept consistent */
        const char *t = tokens[ct_rng_below(r, sizeof tokens / sizeof tokens[0])];
        size_t del = op == 6 ? 0 : (size_t)ct_rng_below(r, 6);
        if (hl == 0 || hpos + del > 8 + hl) break;
        size_t before = im->n;
        splice(im, hpos, del, t, strlen(t));
        set_header_len(im, hl + im->n - before);
        break;
    }
    }
}

static long n_ok, n_failed;

/* Opens one image from an exactly-sized copy and checks the outcome. */
static void try_image(const image *im, int iter) {
    unsigned char *buf = malloc(im->n ? im->n : 1);
    memcpy(buf, im->p, im->n);
    char name[64];
    snprintf(name, sizeof name, "mutant-%d", iter);
    ct_st_file *f = NULL;
    ct_error_clear();
    ct_status s = ct_st_open_memory(&f, buf, im->n, name);
    if (s != CT_OK) {
        n_failed++;
        CHECK_MSG(f == NULL && strstr(ct_error(), name), "iteration %d: status %d, message '%s'", iter, s, ct_error());
        free(buf);
        return;
    }
    n_ok++;
    size_t hl = header_len(im);
    int bad = 0;
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        const unsigned char *d = t->data;
        if (d < buf + 8 + hl || t->nbytes > im->n || d > buf + im->n - t->nbytes) bad++;
        if (t->nbytes != t->numel * ct_dtype_size(t->dtype)) bad++;
        if (ct_st_find(f, t->name) != t) bad++;
        /* read every byte through the converters */
        void *out = malloc(t->numel * 8 + 8);
        if (t->dtype <= CT_DT_BF16)
            bad += ct_st_read_f32(f, t, out) != CT_OK;
        else if (ct_st_read_i64(f, t, out) != CT_OK && t->dtype != CT_DT_U64)
            bad++;
        free(out);
    }
    for (int i = 0; i < ct_st_metadata_count(f); i++) {
        const char *k, *v;
        ct_st_metadata_at(f, i, &k, &v);
        if (!k || !v || ct_st_metadata(f, k) == NULL) bad++;
    }
    CHECK_MSG(bad == 0, "iteration %d: %d inconsistencies in an accepted file", iter, bad);
    ct_st_close(f);
    free(buf);
}

int main(void) {
    if (!mkdtemp(tmpdir)) return 1;
    make_seeds();
    /* the seeds themselves are valid */
    for (int i = 0; i < n_seeds; i++) {
        ct_st_file *f;
        CHECK_MSG(ct_st_open_memory(&f, seeds[i].p, seeds[i].n, "seed") == CT_OK, "seed %d: %s", i, ct_error());
        ct_st_close(f);
    }
    ct_rng r;
    ct_rng_seed(&r, 20240607);
    image im = {malloc(MAX_IMAGE), 0};
    char path[256];
    snprintf(path, sizeof path, "%s/mutant.safetensors", tmpdir);
    int via_file = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        const image *seed = &seeds[ct_rng_below(&r, (uint64_t)n_seeds)];
        memcpy(im.p, seed->p, seed->n);
        im.n = seed->n;
        int k = 1 + (int)ct_rng_below(&r, 4);
        for (int j = 0; j < k; j++) mutate(&im, &r);
        try_image(&im, it);
        if (it % 500 == 0) { /* the mmap path too */
            FILE *fp = fopen(path, "wb");
            if (im.n) fwrite(im.p, 1, im.n, fp);
            fclose(fp);
            ct_st_file *f = NULL;
            ct_status s = ct_st_open(&f, path);
            CHECK(s == CT_OK ? f != NULL : f == NULL && strstr(ct_error(), path) != NULL);
            ct_st_close(f);
            via_file++;
        }
    }
    unlink(path);
    rmdir(tmpdir);
    printf("%d mutants (%d also via files): %ld accepted, %ld rejected\n", ITERATIONS, via_file, n_ok, n_failed);
    /* Both outcomes must occur, or the mutations are not reaching the parser. */
    CHECK(n_ok > ITERATIONS / 200 && n_failed > ITERATIONS / 2);
    free(im.p);
    for (int i = 0; i < n_seeds; i++) free(seeds[i].p);
    return test_finish();
}
