/* Private helpers shared by the image decoders and encoders (src/io/image_*.c). */
#ifndef CTCIR_IO_IMAGE_INTERNAL_H
#define CTCIR_IO_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/fileio.h"
#include "ctcir/image.h"

/* Allocates a decoded image: checks w x h against CT_IMAGE_BOMB_PIXELS (Pillow's
 * decompression-bomb limit) before anything is allocated, then out->rgb [h, w, 3]
 * (uninitialised). `fmt` ("PNG", "JPEG", ...) and `name` only go into the error message. */
ct_status ct_img_alloc(ct_image *out, int w, int h, const char *fmt, const char *name);
/* The same for images ctcir computes (resize results): capped at CT_IMAGE_MAX_PIXELS. */
ct_status ct_img_alloc_work(ct_image *out, int w, int h, const char *what);

/* Columns [x0, x0 + ww) and rows [y0, y0 + wh) of Image.resize((out_w, out_h), BICUBIC),
 * computed without the rest (bit for bit the same pixels): out becomes ww x wh. */
ct_status ct_img_resize_window(ct_image *out, const ct_image *in, int out_w, int out_h, int x0, int y0, int ww, int wh);

/* Format decoders: `out` is zeroed on entry and left empty on failure. */
ct_status ct_img_decode_jpeg(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_png(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_pnm(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_stb(ct_image *out, const uint8_t *buf, size_t len, const char *name);

/* Writers check that `img` is a non-empty image of a sane size, then write through the
 * atomic writer of core/fileio.h (temporary beside `path`, fsync, rename): ct_img_open_temp
 * does both; finish with ct_atomic_commit or ct_atomic_abort. */
ct_status ct_img_open_temp(const ct_image *img, const char *path, const char *fmt, ct_atomic_file *a);

#endif
