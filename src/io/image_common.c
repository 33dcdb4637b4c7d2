/* The image object: allocation under the pixel cap, format detection by magic bytes, file
 * loading. The format decoders live in image_jpeg.c, image_png.c and image_stb.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/image_internal.h"

/* Files larger than this are refused before they are read into memory. */
#define CT_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

static ct_status alloc_rgb(ct_image *out, int w, int h, const char *name) {
    out->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!out->rgb) return ct_fail(CT_ERR_NOMEM, "image: %s: cannot allocate %d x %d RGB pixels", name, w, h);
    out->w = w;
    out->h = h;
    return CT_OK;
}

ct_status ct_img_alloc(ct_image *out, int w, int h, const char *fmt, const char *name) {
    if (w <= 0 || h <= 0) return ct_fail(CT_ERR_FORMAT, "image: %s: %s has empty dimensions %d x %d", name, fmt, w, h);
    if ((uint64_t)w * (uint64_t)h > (uint64_t)CT_IMAGE_BOMB_PIXELS)
        return ct_fail(CT_ERR_NOMEM,
                       "image: %s: %s of %d x %d = %llu pixels is refused as a decompression bomb "
                       "(more than %d pixels, Pillow's limit)",
                       name, fmt, w, h, (unsigned long long)w * (unsigned long long)h, CT_IMAGE_BOMB_PIXELS);
    return alloc_rgb(out, w, h, name);
}

ct_status ct_img_alloc_work(ct_image *out, int w, int h, const char *what) {
    if (w <= 0 || h <= 0) return ct_fail(CT_ERR_ARG, "image: %s: empty size %d x %d", what, w, h);
    if ((uint64_t)w * (uint64_t)h > (uint64_t)CT_IMAGE_MAX_PIXELS)
        return ct_fail(CT_ERR_NOMEM,
                       "image: %s: %d x %d pixels exceeds the limit of %d pixels "
                       "(CT_IMAGE_MAX_PIXELS)",
                       what, w, h, CT_IMAGE_MAX_PIXELS);
    return alloc_rgb(out, w, h, what);
}

void ct_image_free(ct_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

const char *ct_image_sniff(const void *head, size_t len) {
    const uint8_t *p = head;
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "JPEG";
    if (len >= 8 && memcmp(p, png_magic, 8) == 0) return "PNG";
    if (len >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6' &&
        (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || p[2] == '\r' || p[2] == '#'))
        return "PNM";
    if (len >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
    if (len >= 4 && memcmp(p, "GIF8", 4) == 0) return "GIF";
    if (len >= 4 && memcmp(p, "8BPS", 4) == 0) return "PSD";
    return NULL;
}

ct_status ct_image_decode(ct_image *out, const void *buf, size_t len, const char *name) {
    if (!out) return ct_fail(CT_ERR_ARG, "image: decode: NULL output");
    memset(out, 0, sizeof *out);
    if (!name) name = "<memory>";
    if (!buf || len == 0) return ct_fail(CT_ERR_FORMAT, "image: %s: empty file", name);
    const uint8_t *p = buf;
    const char *fmt = ct_image_sniff(p, len);
    if (fmt && strcmp(fmt, "JPEG") == 0) return ct_img_decode_jpeg(out, p, len, name);
    if (fmt && strcmp(fmt, "PNG") == 0) return ct_img_decode_png(out, p, len, name);
    if (fmt && strcmp(fmt, "PNM") == 0) return ct_img_decode_pnm(out, p, len, name);
    /* BMP ("BM"), GIF ("GIF8"), PSD ("8BPS") and TGA (no magic: stb_image tests the header)
     * go to stb_image, which reports "unknown format" otherwise. */
    return ct_img_decode_stb(out, p, len, name);
}

ct_status ct_image_load(ct_image *out, const char *path) {
    if (!out || !path) return ct_fail(CT_ERR_ARG, "image: load: NULL argument");
    memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    ct_status st = ct_read_file(path, &buf, &len, CT_IMAGE_MAX_FILE_BYTES);
    if (st != CT_OK) return ct_fail(st, "image: %s", ct_error());
    if (len == 0)
        st = ct_fail(CT_ERR_FORMAT, "image: %s: empty file", path);
    else
        st = ct_image_decode(out, buf, len, path);
    free(buf);
    return st;
}

static ct_status check_writable(const ct_image *img, const char *path, const char *fmt) {
    if (!img || !path) return ct_fail(CT_ERR_ARG, "image: save %s: NULL argument", fmt);
    if (!img->rgb || img->w <= 0 || img->h <= 0)
        return ct_fail(CT_ERR_ARG, "image: %s: cannot save an empty %d x %d image as %s", path, img->w, img->h, fmt);
    if ((uint64_t)img->w * (uint64_t)img->h > (uint64_t)CT_IMAGE_MAX_PIXELS)
        return ct_fail(CT_ERR_ARG, "image: %s: %d x %d exceeds CT_IMAGE_MAX_PIXELS", path, img->w, img->h);
    return CT_OK;
}

ct_status ct_img_open_temp(const ct_image *img, const char *path, const char *fmt, ct_atomic_file *a) {
    ct_status st = check_writable(img, path, fmt);
    if (st != CT_OK) return st;
    return ct_atomic_begin(a, path);
}
