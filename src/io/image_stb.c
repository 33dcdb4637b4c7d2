/* BMP, GIF (first frame), TGA and PSD through stb_image. The header is read
 * with stbi_info_from_memory first so that the pixel cap holds before stb allocates. Alpha is
 * dropped, grey copied to R,G,B (stb's conversion to 3 channels). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "io/image_internal.h"

ct_status ct_img_decode_stb(ct_image *out, const uint8_t *buf, size_t len, const char *name) {
    if (len > (size_t)INT_MAX)
        return ct_fail(CT_ERR_UNSUPPORTED, "image: %s: %zu bytes is too large for stb_image", name, len);
    /* Radiance HDR would be tone-mapped by stb; Pillow cannot open it at all. */
    if (len >= 2 && buf[0] == '#' && buf[1] == '?')
        return ct_fail(CT_ERR_UNSUPPORTED, "image: %s: Radiance HDR images are not supported", name);
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(buf, (int)len, &w, &h, &comp))
        return ct_fail(CT_ERR_FORMAT,
                       "image: %s: not a supported image (JPEG, PNG, BMP, GIF, TGA, PNM, PSD) or "
                       "corrupt header: %s",
                       name, stbi_failure_reason());
    ct_status st = ct_img_alloc(out, w, h, "image", name);
    if (st != CT_OK) return st;
    int w2 = 0, h2 = 0, c2 = 0;
    uint8_t *px = stbi_load_from_memory(buf, (int)len, &w2, &h2, &c2, 3);
    if (!px) {
        st = ct_fail(CT_ERR_FORMAT, "image: %s: corrupt image: %s", name, stbi_failure_reason());
        ct_image_free(out);
        return st;
    }
    if (w2 != w || h2 != h) {
        stbi_image_free(px);
        ct_image_free(out);
        return ct_fail(CT_ERR_FORMAT, "image: %s: decoded size %d x %d differs from header %d x %d", name, w2, h2, w,
                       h);
    }
    memcpy(out->rgb, px, (size_t)w * (size_t)h * 3);
    stbi_image_free(px);
    return CT_OK;
}
