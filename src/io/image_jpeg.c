/* JPEG through libjpeg-turbo, decoded the way Pillow decodes it: libjpeg's defaults (islow IDCT,
 * fancy upsampling), grey copied to R,G,B, and four-component files (CMYK or YCCK) read as
 * Adobe-inverted CMYK and converted with Pillow's integer formula. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "io/image_internal.h"

/* libjpeg reports fatal errors through error_exit, which must not return: we longjmp back
 * to the caller. A premature end of data is only a warning to libjpeg (it pads with an EOI
 * marker and decodes grey); Pillow calls such a file truncated, and so do we. */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr c) {
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr c, int level) {
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_err *e = (jpeg_err *)c->err;
        snprintf(e->msg, sizeof e->msg, "truncated file (premature end of JPEG data)");
        longjmp(e->jump, 1);
    }
    if (level < 0) c->err->num_warnings++;
}

static void jpeg_err_init(jpeg_err *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_on_error;
    e->pub.emit_message = jpeg_on_message;
    e->msg[0] = '\0';
}

/* Pillow's cmyk2rgb on inverted input: nk = 255 - k, out = nk - (c * nk) / 255 (rounded). */
static inline uint8_t cmyk_channel(int c, int nk) {
    int t = c * nk + 128;
    int v = nk - (((t >> 8) + t) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void jpeg_row_to_rgb(uint8_t *dst, const uint8_t *src, int w, int comps) {
    if (comps == 3) {
        memcpy(dst, src, (size_t)w * 3);
    } else if (comps == 1) {
        for (int x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
    } else {
        for (int x = 0; x < w; x++) {
            const uint8_t *p = src + 4 * x;
            /* "CMYK;I": the stored values are inverted. */
            int nk = p[3];
            dst[3 * x + 0] = cmyk_channel(255 - p[0], nk);
            dst[3 * x + 1] = cmyk_channel(255 - p[1], nk);
            dst[3 * x + 2] = cmyk_channel(255 - p[2], nk);
        }
    }
}

ct_status ct_img_decode_jpeg(ct_image *out, const uint8_t *buf, size_t len, const char *name) {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    ct_status st = CT_OK;
    jpeg_err_init(&err);
    cinfo.err = &err.pub;
    jpeg_create_decompress(&cinfo);
    if (setjmp(err.jump)) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: corrupt JPEG: %s", name, err.msg);
        goto fail;
    }
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    int comps = cinfo.num_components;
    if (comps == 1)
        cinfo.out_color_space = JCS_GRAYSCALE;
    else if (comps == 3)
        cinfo.out_color_space = JCS_RGB;
    else if (comps == 4)
        cinfo.out_color_space = JCS_CMYK;
    else {
        st = ct_fail(CT_ERR_UNSUPPORTED, "image: %s: JPEG with %d colour components", name, comps);
        goto fail;
    }
    /* The pixel cap is checked on the header's dimensions, before libjpeg allocates. */
    st = ct_img_alloc(out, (int)cinfo.image_width, (int)cinfo.image_height, "JPEG", name);
    if (st != CT_OK) goto fail;
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_width != out->w || (int)cinfo.output_height != out->h || cinfo.output_components != comps) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: JPEG output %u x %u x %d differs from its header", name,
                     cinfo.output_width, cinfo.output_height, cinfo.output_components);
        goto fail;
    }
    JSAMPARRAY row =
        (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, cinfo.output_width * (JDIMENSION)comps, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int)cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, row, 1) != 1) {
            st = ct_fail(CT_ERR_FORMAT, "image: %s: JPEG stopped at row %d of %d", name, y, out->h);
            goto fail;
        }
        jpeg_row_to_rgb(out->rgb + (size_t)y * (size_t)out->w * 3, row[0], out->w, comps);
    }
    /* Data after the last scanline (an EOI marker, trailing bytes) is not needed. */
    jpeg_destroy_decompress(&cinfo);
    return CT_OK;
fail:
    jpeg_destroy_decompress(&cinfo);
    ct_image_free(out);
    return st;
}

ct_status ct_image_save_jpeg(const ct_image *img, const char *path, int quality) {
    if (quality < 1 || quality > 100)
        return ct_fail(CT_ERR_ARG, "image: %s: JPEG quality %d is outside 1..100", path ? path : "(null)", quality);
    ct_atomic_file a;
    ct_status st = ct_img_open_temp(img, path, "JPEG", &a);
    if (st != CT_OK) return st;
    struct jpeg_compress_struct cinfo;
    jpeg_err err;
    jpeg_err_init(&err);
    cinfo.err = &err.pub;
    jpeg_create_compress(&cinfo);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        ct_atomic_abort(&a);
        return ct_fail(CT_ERR_IO, "image: %s: JPEG encoder failed: %s", path, err.msg);
    }
    jpeg_stdio_dest(&cinfo, a.fp);
    cinfo.image_width = (JDIMENSION)img->w;
    cinfo.image_height = (JDIMENSION)img->h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(img->rgb + (size_t)cinfo.next_scanline * (size_t)img->w * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return ct_atomic_commit(&a);
}
