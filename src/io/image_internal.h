/* Private helpers shared by the image decoders and encoders (src/io/image_*.c). */
#ifndef CTCIR_IO_IMAGE_INTERNAL_H
#define CTCIR_IO_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctcir/image.h"

/* Checks w x h against CT_IMAGE_MAX_PIXELS and allocates out->rgb [h, w, 3] (uninitialised).
 * `fmt` ("PNG", "JPEG", ...) and `name` only go into the error message. */
ct_status ct_img_alloc(ct_image *out, int w, int h, const char *fmt, const char *name);

/* Format decoders: `out` is zeroed on entry and left empty on failure. */
ct_status ct_img_decode_jpeg(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_png(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_pnm(ct_image *out, const uint8_t *buf, size_t len, const char *name);
ct_status ct_img_decode_stb(ct_image *out, const uint8_t *buf, size_t len, const char *name);

/* Writes go to "<path>.tmp.<pid>" first and are renamed onto `path` on success.
 * ct_img_open_temp checks that `img` is a non-empty image, then creates the temporary file:
 * *tmp (malloc'd name) and *f are set on success. ct_img_commit closes `f` and renames; on
 * failure it removes the temporary. Both commit and abort free *tmp. */
ct_status ct_img_open_temp(const ct_image *img, const char *path, const char *fmt, char **tmp,
                           FILE **f);
ct_status ct_img_commit(FILE *f, char *tmp, const char *path);
void ct_img_abort(FILE *f, char *tmp);

#endif
