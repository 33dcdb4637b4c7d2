/* Decoder robustness: truncated and bit-flipped parity files, random bytes, empty and missing
 * files, headers claiming huge dimensions. Every case must return a status (never crash, never
 * allocate what the header claims); failures must name the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "ctcir/image.h"
#include "test_tmpdir.h"
#include "test_util.h"

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(b, 1, n, f);
    fclose(f);
}

/* A decode that succeeds must return a sane image; one that fails must leave none. */
static int decode_sane(const uint8_t *b, size_t n, const char *name, ct_status *st) {
    ct_image img;
    *st = ct_image_decode(&img, b, n, name);
    int ok = *st == CT_OK ? (img.rgb && img.w > 0 && img.h > 0)
                          : (!img.rgb && img.w == 0 && strstr(ct_error(), name) != NULL);
    ct_image_free(&img);
    return ok;
}

static void test_truncated(const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/parity/images/%s", test_shared_dir(), file);
    size_t len = 0;
    uint8_t *b = read_all(path, &len);
    CHECK_MSG(b != NULL, "cannot read %s", path);
    if (!b) return;
    /* Up to ~300 cut points; every cut before the last 5% must fail (the tail holds only the
     * end markers, which the decoders do not need). */
    size_t step = len / 300 + 1;
    int insane = 0, accepted = 0;
    for (size_t cut = 0; cut < len; cut += step) {
        ct_status st;
        if (!decode_sane(b, cut, file, &st)) insane++;
        if (st == CT_OK && cut < len - len / 20) accepted++;
    }
    CHECK_MSG(insane == 0, "%s: %d truncated decodes returned inconsistent results", file, insane);
    CHECK_MSG(accepted == 0, "%s: %d truncated copies decoded without error", file, accepted);
    /* Through the file loader too: the message names the path. */
    char cut_path[512];
    snprintf(cut_path, sizeof cut_path, "%s/cut_%s", tmpdir, file);
    write_all(cut_path, b, len / 2);
    ct_image img;
    CHECK(ct_image_load(&img, cut_path) == CT_ERR_FORMAT && img.rgb == NULL);
    CHECK_MSG(strstr(ct_error(), cut_path) != NULL, "message '%s' lacks the path", ct_error());
    printf("%s: %zu bytes, truncation error: %s\n", file, len, ct_error());
    free(b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static void test_mutated(const char *file, int rounds) {
    char path[1024];
    snprintf(path, sizeof path, "%s/parity/images/%s", test_shared_dir(), file);
    size_t len = 0;
    uint8_t *b = read_all(path, &len);
    if (!b) {
        CHECK_MSG(0, "cannot read %s", path);
        return;
    }
    uint8_t *m = malloc(len);
    int insane = 0, failed = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(m, b, len);
        int flips = 1 + (int)(rnd() % 8);
        for (int k = 0; k < flips; k++) {
            /* Bias towards the header, where the interesting fields are. */
            size_t at = (rnd() & 1) ? rnd() % (len < 300 ? len : 300) : rnd() % len;
            m[at] = (uint8_t)rnd();
        }
        ct_status st;
        if (!decode_sane(m, len, file, &st)) insane++;
        failed += st != CT_OK;
    }
    CHECK_MSG(insane == 0, "%s: %d mutated decodes returned inconsistent results", file, insane);
    printf("%s: %d mutated copies, %d refused, none crashed\n", file, rounds, failed);
    free(m);
    free(b);
}

static void test_random_bytes(void) {
    static const char *prefixes[] = {"", "\xff\xd8\xff", "\x89PNG\r\n\x1a\n", "BM", "GIF89a", "P6\n", "P5\n", "8BPS"};
    int insane = 0;
    uint8_t buf[2048];
    for (int p = 0; p < 8; p++) {
        size_t pl = strlen(prefixes[p]);
        for (int r = 0; r < 60; r++) {
            size_t n = pl + 1 + rnd() % (sizeof buf - pl - 1);
            memcpy(buf, prefixes[p], pl);
            for (size_t i = pl; i < n; i++) buf[i] = (uint8_t)rnd();
            ct_status st;
            if (!decode_sane(buf, n, "random.bin", &st)) insane++;
        }
    }
    CHECK_MSG(insane == 0, "%d random buffers gave inconsistent results", insane);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_huge_headers(void) {
    /* A valid PNG signature + IHDR (with a correct CRC) claiming 100000 x 100000 RGB. */
    uint8_t png[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put_be32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put_be32(png + 16, 100000);
    put_be32(png + 20, 100000);
    png[24] = 8; /* depth */
    png[25] = 2; /* RGB */
    put_be32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    /* An empty IDAT chunk after it. */
    put_be32(png + 33, 0);
    memcpy(png + 37, "IDAT", 4);
    put_be32(png + 41, (uint32_t)crc32(0, png + 37, 4));
    char path[512];
    snprintf(path, sizeof path, "%s/huge.png", tmpdir);
    write_all(path, png, sizeof png);
    ct_image img;
    ct_status st = ct_image_load(&img, path);
    CHECK_MSG(st == CT_ERR_NOMEM && img.rgb == NULL, "huge PNG: %s", ct_error());
    CHECK(strstr(ct_error(), "100000 x 100000") != NULL && strstr(ct_error(), path) != NULL);

    /* The parity JPEG with its frame header patched to 65000 x 65000. */
    snprintf(path, sizeof path, "%s/parity/images/img1_300x157.jpg", test_shared_dir());
    size_t len = 0;
    uint8_t *b = read_all(path, &len);
    int patched = 0;
    for (size_t i = 2; b && i + 9 < len; i++)
        if (b[i] == 0xff && (b[i + 1] == 0xc0 || b[i + 1] == 0xc1 || b[i + 1] == 0xc2)) {
            b[i + 5] = 0xfd;
            b[i + 6] = 0xe8; /* height 65000 */
            b[i + 7] = 0xfd;
            b[i + 8] = 0xe8; /* width 65000 */
            patched = 1;
            break;
        }
    CHECK(patched);
    if (patched) {
        st = ct_image_decode(&img, b, len, "huge.jpg");
        CHECK_MSG(st == CT_ERR_NOMEM && img.rgb == NULL, "huge JPEG: %s", ct_error());
    }
    free(b);

    static const char ppm[] = "P6 100000 100000 255\n\x01\x02\x03";
    st = ct_image_decode(&img, ppm, sizeof ppm - 1, "huge.ppm");
    CHECK_MSG(st == CT_ERR_NOMEM && img.rgb == NULL, "huge PPM: %s", ct_error());

    /* A BMP header claiming 60000 x 60000 (stb_image path). */
    uint8_t bmp[54] = {'B', 'M'};
    bmp[10] = 54;
    bmp[14] = 40;
    bmp[18] = 0x60;
    bmp[19] = 0xea; /* width 60000 */
    bmp[22] = 0x60;
    bmp[23] = 0xea; /* height 60000 */
    bmp[26] = 1;
    bmp[28] = 24;
    st = ct_image_decode(&img, bmp, sizeof bmp, "huge.bmp");
    CHECK_MSG(st != CT_OK && img.rgb == NULL, "huge BMP: %s", ct_error());
}

static void test_empty_and_missing(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/empty.png", tmpdir);
    write_all(path, "", 0);
    ct_image img;
    CHECK(ct_image_load(&img, path) == CT_ERR_FORMAT && img.rgb == NULL);
    CHECK(strstr(ct_error(), path) != NULL && strstr(ct_error(), "empty") != NULL);
    snprintf(path, sizeof path, "%s/does_not_exist.jpg", tmpdir);
    CHECK(ct_image_load(&img, path) == CT_ERR_IO && img.rgb == NULL);
    CHECK(strstr(ct_error(), path) != NULL);
    CHECK(ct_image_load(&img, tmpdir) == CT_ERR_IO); /* a directory */
    CHECK(ct_image_decode(&img, NULL, 0, "x") == CT_ERR_FORMAT);
    snprintf(path, sizeof path, "%s/text.jpg", tmpdir);
    write_all(path, "hello, this is not an image\n", 28);
    CHECK(ct_image_load(&img, path) == CT_ERR_FORMAT && strstr(ct_error(), path) != NULL);
    ct_image_free(NULL);
}

int main(void) {
    if (!tmpdir_make("image_robust")) return 1;
    static const char *files[] = {"img0_97x61.png", "img1_300x157.jpg", "img2_61x203_rgba.png", "img3_131x65_gray.jpg"};
    for (int i = 0; i < 4; i++) test_truncated(files[i]);
    for (int i = 0; i < 4; i++) test_mutated(files[i], 150);
    test_random_bytes();
    test_huge_headers();
    test_empty_and_missing();
    tmpdir_remove();
    return test_finish();
}
