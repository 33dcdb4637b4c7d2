/* PNG through libpng, converted the way Pillow's Image.open(f).convert("RGB") does: alpha
 * dropped (never composited), tRNS ignored, grey copied to R,G,B, palettes expanded, 16-bit
 * colour and grey+alpha reduced to their high byte (Pillow's "RGB;16B" / "LA;16B"), and 16-bit
 * grey (Pillow mode "I") clipped to 0..255 as Pillow's I -> RGB conversion does. No gamma. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "io/image_internal.h"

typedef struct {
    const uint8_t *data;
    size_t len, pos;
    char msg[256];
} png_src;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep dst, size_t n) {
    png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) png_error(png, "truncated file (unexpected end of PNG data)");
    memcpy(dst, s->data + s->pos, n);
    s->pos += n;
}

/* One decoded row (after palette and low-bit-depth expansion) to RGB. */
static void png_row_to_rgb(uint8_t *dst, const uint8_t *src, int w, int channels, int depth, int grey16_clip) {
    int bpc = depth == 16 ? 2 : 1;
    for (int x = 0; x < w; x++) {
        const uint8_t *p = src + (size_t)x * (size_t)(channels * bpc);
        uint8_t r, g, b;
        if (channels <= 2) {
            if (grey16_clip) {
                int v = (p[0] << 8) | p[1];
                r = (uint8_t)(v > 255 ? 255 : v);
            } else {
                r = p[0]; /* high byte when 16-bit (big-endian) */
            }
            g = b = r;
        } else {
            r = p[0];
            g = p[bpc];
            b = p[2 * bpc];
        }
        dst[3 * x] = r;
        dst[3 * x + 1] = g;
        dst[3 * x + 2] = b;
    }
}

ct_status ct_img_decode_png(ct_image *out, const uint8_t *buf, size_t len, const char *name) {
    png_src src = {buf, len, 0, ""};
    ct_status st = CT_OK;
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    png_infop info = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
    if (!png) return ct_fail(CT_ERR_NOMEM, "image: %s: cannot create a PNG reader", name);
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return ct_fail(CT_ERR_NOMEM, "image: %s: cannot create a PNG reader", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: corrupt PNG: %s", name, src.msg);
        goto fail;
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w32, h32;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w32, &h32, &depth, &ctype, &interlace, NULL, NULL);
    if (w32 > 0x7fffffffu || h32 > 0x7fffffffu) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: PNG dimensions %u x %u out of range", name, w32, h32);
        goto fail;
    }
    st = ct_img_alloc(out, (int)w32, (int)h32, "PNG", name);
    if (st != CT_OK) goto fail;
    int grey16_clip = (ctype == PNG_COLOR_TYPE_GRAY && depth == 16);
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    int odepth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (odepth != 8 && odepth != 16) ||
        rowbytes < (size_t)out->w * (size_t)channels * (size_t)(odepth / 8)) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: unexpected PNG row layout (%d channels, %d bits)", name, channels,
                     odepth);
        goto fail;
    }
    if (passes > 1) {
        /* Interlaced: libpng fills whole rows over 7 passes, so keep them all. */
        pixels = malloc(rowbytes * (size_t)out->h);
        rows = malloc(sizeof(png_bytep) * (size_t)out->h);
        if (!pixels || !rows) {
            st = ct_fail(CT_ERR_NOMEM, "image: %s: cannot allocate an interlaced PNG buffer", name);
            goto fail;
        }
        for (int y = 0; y < out->h; y++) rows[y] = pixels + rowbytes * (size_t)y;
        png_read_image(png, rows);
        for (int y = 0; y < out->h; y++)
            png_row_to_rgb(out->rgb + (size_t)y * (size_t)out->w * 3, rows[y], out->w, channels, odepth, grey16_clip);
    } else {
        pixels = malloc(rowbytes);
        if (!pixels) {
            st = ct_fail(CT_ERR_NOMEM, "image: %s: cannot allocate a PNG row", name);
            goto fail;
        }
        for (int y = 0; y < out->h; y++) {
            png_read_row(png, pixels, NULL);
            png_row_to_rgb(out->rgb + (size_t)y * (size_t)out->w * 3, pixels, out->w, channels, odepth, grey16_clip);
        }
    }
    /* Chunks after the image data (and the IEND marker) are not needed. */
    free(pixels);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return CT_OK;
fail:
    free(pixels);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    ct_image_free(out);
    return st;
}

ct_status ct_image_save_png(const ct_image *img, const char *path) {
    ct_atomic_file a;
    ct_status st = ct_img_open_temp(img, path, "PNG", &a);
    if (st != CT_OK) return st;
    png_src err = {NULL, 0, 0, ""};
    png_infop info = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_on_error, png_on_warning);
    if (png) info = png_create_info_struct(png);
    if (!png || !info) {
        st = ct_fail(CT_ERR_NOMEM, "image: %s: cannot create a PNG writer", path);
        goto fail;
    }
    if (setjmp(png_jmpbuf(png))) {
        st = ct_fail(CT_ERR_IO, "image: %s: PNG encoder failed: %s", path, err.msg);
        goto fail;
    }
    png_init_io(png, a.fp);
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img->h; y++) png_write_row(png, img->rgb + (size_t)y * (size_t)img->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return ct_atomic_commit(&a);
fail:
    png_destroy_write_struct(&png, &info);
    ct_atomic_abort(&a);
    return st;
}
