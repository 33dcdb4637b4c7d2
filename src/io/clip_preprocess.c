/* CLIP preprocessing as openai's clip._transform (torchvision on a PIL image) does it:
 * Resize(S, BICUBIC) with the long side truncated, CenterCrop with Python's round-half-even
 * offsets (zero padding when the crop is larger), then float32 normalisation. */
#include <stdlib.h>
#include <string.h>

#include "io/image_internal.h"

static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/* Python's round((n) / 2) for an integer n: halves go to the even neighbour. */
static int half_round_even(int n) {
    int q = n / 2, r = n % 2; /* C truncates toward zero */
    if (r == 0) return q;
    /* n / 2 = q + r/2 exactly half-way between two integers: pick the even one. */
    int lo = r > 0 ? q : q - 1, hi = lo + 1;
    return (lo % 2 == 0) ? lo : hi;
}

/* Top-left offset of a `crop`-long window centred in `len`, as torchvision's center_crop
 * computes it (after padding with zeros when crop > len, the offset is negative). */
static int crop_offset(int len, int crop) {
    if (crop > len) return -((crop - len) / 2);
    return half_round_even(len - crop);
}

ct_status ct_clip_preprocess_norm(float *out, const ct_image *in, int size, int crop, const float mean[3],
                                  const float std[3], ct_image *resized) {
    if (resized) memset(resized, 0, sizeof *resized);
    if (!out || !in || !in->rgb || in->w <= 0 || in->h <= 0)
        return ct_fail(CT_ERR_ARG, "image: clip preprocess: empty input image");
    if (size <= 0 || crop <= 0)
        return ct_fail(CT_ERR_ARG, "image: clip preprocess: size %d and crop %d must be positive", size, crop);
    int w = in->w, h = in->h;
    int short_side = w <= h ? w : h, long_side = w <= h ? h : w;
    /* torchvision: int(size * long / short), a true division then truncation. */
    double long_d = (double)size * (double)long_side / (double)short_side;
    if (long_d > (double)CT_IMAGE_MAX_PIXELS)
        return ct_fail(CT_ERR_ARG,
                       "image: clip preprocess: %d x %d resized to short side %d is too "
                       "large",
                       w, h, size);
    int new_long = (int)long_d;
    int rw = w <= h ? size : new_long, rh = w <= h ? new_long : size;
    int top = crop_offset(rh, crop), left = crop_offset(rw, crop);
    /* Only the resized pixels the crop keeps are computed (rows [y0, y1), columns [x0, x1)):
     * a 1 x 100000 image would otherwise resize to size x 100000 * size first. The window
     * is bit for bit the same as those pixels of the whole resize. When the caller wants the
     * resized image, all of it is made. */
    int y0 = top > 0 ? top : 0, y1 = top + crop < rh ? top + crop : rh;
    int x0 = left > 0 ? left : 0, x1 = left + crop < rw ? left + crop : rw;
    ct_image r;
    ct_status st = resized ? ct_image_resize_bicubic(&r, in, rw, rh)
                           : ct_img_resize_window(&r, in, rw, rh, x0, y0, x1 - x0, y1 - y0);
    if (st != CT_OK) return st;
    /* Origin of r in resized coordinates. */
    int ox = resized ? 0 : x0, oy = resized ? 0 : y0;
    for (int c = 0; c < 3; c++) {
        float *plane = out + (size_t)c * (size_t)crop * (size_t)crop;
        for (int y = 0; y < crop; y++) {
            int sy = y + top;
            for (int x = 0; x < crop; x++) {
                int sx = x + left;
                uint8_t u = 0;
                if (sy >= 0 && sy < rh && sx >= 0 && sx < rw)
                    u = r.rgb[((size_t)(sy - oy) * (size_t)r.w + (size_t)(sx - ox)) * 3 + c];
                plane[(size_t)y * crop + x] = ((float)u / 255.0f - mean[c]) / std[c];
            }
        }
    }
    if (resized)
        *resized = r;
    else
        ct_image_free(&r);
    return CT_OK;
}

ct_status ct_clip_preprocess(float *out, const ct_image *in, int size, int crop, ct_image *resized) {
    return ct_clip_preprocess_norm(out, in, size, crop, clip_mean, clip_std, resized);
}
