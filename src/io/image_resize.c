/* Pillow's Image.resize(..., BICUBIC) for 8-bit RGB, reproduced bit for bit: coefficients in
 * double (cubic kernel a = -0.5, support widened by the downscale factor), normalised to sum 1,
 * converted to 22-bit fixed point (rounded half away from zero); each separable pass
 * accumulates (1 << 21) + sum(pixel * coeff) in int32 and stores clip(acc >> 22, 0, 255).
 * The horizontal pass runs first into an 8-bit intermediate; passes that do not change a
 * dimension are skipped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/image_internal.h"

#define RESAMPLE_BITS 22

static double cubic_kernel(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Taps of one pass, mapping `in_size` samples to `out_size`, for the outputs [i0, i0 + n):
 * output i0 + j reads `count[j]` inputs from `first[j]` with weights coeff[j * ksize ..].
 * An output's taps depend only on its index and the two sizes, so a window of the outputs
 * is exactly the same as those outputs of the whole pass. */
typedef struct {
    int ksize;
    int *first, *count;
    int32_t *coeff;
    double *w; /* scratch, ksize doubles */
} taps;

static void taps_free(taps *t) {
    free(t->first);
    free(t->count);
    free(t->coeff);
    free(t->w);
    memset(t, 0, sizeof *t);
}

static ct_status taps_init(taps *t, int in_size, int out_size, int i0, int n_out) {
    memset(t, 0, sizeof *t);
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    t->ksize = (int)ceil(support) * 2 + 1;
    t->first = malloc(sizeof(int) * (size_t)n_out);
    t->count = malloc(sizeof(int) * (size_t)n_out);
    t->coeff = malloc(sizeof(int32_t) * (size_t)n_out * (size_t)t->ksize);
    t->w = malloc(sizeof(double) * (size_t)t->ksize);
    if (!t->first || !t->count || !t->coeff || !t->w) {
        taps_free(t);
        return ct_fail(CT_ERR_NOMEM, "image: resize: cannot allocate %d x %d coefficients", n_out, t->ksize);
    }
    double inv = 1.0 / filterscale;
    for (int i = i0; i < i0 + n_out; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        if (lo < 0) lo = 0;
        int hi = (int)(center + support + 0.5);
        if (hi > in_size) hi = in_size;
        int n = hi - lo;
        double sum = 0.0;
        for (int k = 0; k < n; k++) {
            double wk = cubic_kernel((k + lo - center + 0.5) * inv);
            t->w[k] = wk;
            sum += wk;
        }
        int32_t *c = t->coeff + (size_t)(i - i0) * (size_t)t->ksize;
        for (int k = 0; k < t->ksize; k++) {
            double wk = k < n ? (sum != 0.0 ? t->w[k] / sum : t->w[k]) : 0.0;
            double f = wk * (double)(1 << RESAMPLE_BITS);
            c[k] = (int32_t)(wk < 0.0 ? f - 0.5 : f + 0.5);
        }
        t->first[i - i0] = lo;
        t->count[i - i0] = n;
    }
    return CT_OK;
}

static inline uint8_t clip_acc(int32_t acc) {
    int32_t v = acc >> RESAMPLE_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* dst [h, out_w, 3] from src [h, in_w, 3] (out_w: the outputs the taps cover). */
static void pass_horizontal(uint8_t *dst, const uint8_t *src, int h, int in_w, int out_w, const taps *t) {
#pragma omp parallel for schedule(static) if ((long)h * out_w > 65536)
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * (size_t)in_w * 3;
        uint8_t *o = dst + (size_t)y * (size_t)out_w * 3;
        for (int x = 0; x < out_w; x++) {
            const int32_t *c = t->coeff + (size_t)x * (size_t)t->ksize;
            const uint8_t *p = row + (size_t)t->first[x] * 3;
            int32_t a0 = 1 << (RESAMPLE_BITS - 1), a1 = a0, a2 = a0;
            for (int k = 0; k < t->count[x]; k++) {
                a0 += p[3 * k] * c[k];
                a1 += p[3 * k + 1] * c[k];
                a2 += p[3 * k + 2] * c[k];
            }
            o[3 * x] = clip_acc(a0);
            o[3 * x + 1] = clip_acc(a1);
            o[3 * x + 2] = clip_acc(a2);
        }
    }
}

/* dst [out_h, w, 3] from src [in_h, w, 3]. */
static void pass_vertical(uint8_t *dst, const uint8_t *src, int w, int out_h, const taps *t) {
    size_t stride = (size_t)w * 3;
#pragma omp parallel for schedule(static) if ((long)out_h * w > 65536)
    for (int y = 0; y < out_h; y++) {
        const int32_t *c = t->coeff + (size_t)y * (size_t)t->ksize;
        const uint8_t *base = src + (size_t)t->first[y] * stride;
        uint8_t *o = dst + (size_t)y * stride;
        for (size_t x = 0; x < stride; x++) {
            int32_t a = 1 << (RESAMPLE_BITS - 1);
            for (int k = 0; k < t->count[y]; k++) a += base[(size_t)k * stride + x] * c[k];
            o[x] = clip_acc(a);
        }
    }
}

/* Copies columns [x0, x0 + ww) of rows [y0, y0 + h) of src (width w) to dst [h, ww, 3]. */
static void copy_block(uint8_t *dst, const uint8_t *src, int w, int x0, int y0, int ww, int h) {
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * (size_t)ww * 3, src + ((size_t)(y0 + y) * (size_t)w + (size_t)x0) * 3, (size_t)ww * 3);
}

ct_status ct_img_resize_window(ct_image *out, const ct_image *in, int out_w, int out_h, int x0, int y0, int ww,
                               int wh) {
    if (!out || !in || !in->rgb || in->w <= 0 || in->h <= 0)
        return ct_fail(CT_ERR_ARG, "image: resize: empty input image");
    if (out == in) return ct_fail(CT_ERR_ARG, "image: resize: output must differ from input");
    memset(out, 0, sizeof *out);
    if (out_w <= 0 || out_h <= 0)
        return ct_fail(CT_ERR_ARG, "image: resize: target size %d x %d must be positive", out_w, out_h);
    if (x0 < 0 || y0 < 0 || ww <= 0 || wh <= 0 || ww > out_w - x0 || wh > out_h - y0)
        return ct_fail(CT_ERR_ARG, "image: resize: window %d x %d at (%d, %d) outside %d x %d", ww, wh, x0, y0, out_w,
                       out_h);
    ct_status st = ct_img_alloc_work(out, ww, wh, "resize");
    if (st != CT_OK) return st;
    int need_h = out_w != in->w, need_v = out_h != in->h;
    taps th = {0}, tv = {0};
    uint8_t *mid = NULL;
    if (need_h && (st = taps_init(&th, in->w, out_w, x0, ww)) != CT_OK) goto fail;
    if (need_v && (st = taps_init(&tv, in->h, out_h, y0, wh)) != CT_OK) goto fail;
    /* Input rows [r0, r1) feed the window: the vertical taps' span, else the window rows. */
    int r0 = need_v ? tv.first[0] : y0;
    int r1 = need_v ? tv.first[wh - 1] + tv.count[wh - 1] : y0 + wh;
    const uint8_t *rows = in->rgb + (size_t)r0 * (size_t)in->w * 3;
    if (need_h && need_v) {
        /* Only the input rows the vertical pass reads go through the horizontal pass. */
        mid = malloc((size_t)ww * (size_t)(r1 - r0) * 3);
        if (!mid) {
            st = ct_fail(CT_ERR_NOMEM, "image: resize: cannot allocate %d x %d intermediate", ww, r1 - r0);
            goto fail;
        }
        pass_horizontal(mid, rows, r1 - r0, in->w, ww, &th);
        for (int y = 0; y < wh; y++) tv.first[y] -= r0;
        pass_vertical(out->rgb, mid, ww, wh, &tv);
    } else if (need_h) {
        pass_horizontal(out->rgb, rows, wh, in->w, ww, &th);
    } else if (need_v) {
        /* Only the window's columns: the vertical pass treats columns independently. */
        if (ww < in->w) {
            mid = malloc((size_t)ww * (size_t)(r1 - r0) * 3);
            if (!mid) {
                st = ct_fail(CT_ERR_NOMEM, "image: resize: cannot allocate %d x %d intermediate", ww, r1 - r0);
                goto fail;
            }
            copy_block(mid, in->rgb, in->w, x0, r0, ww, r1 - r0);
        }
        for (int y = 0; y < wh; y++) tv.first[y] -= r0;
        pass_vertical(out->rgb, mid ? mid : rows, ww, wh, &tv);
    } else {
        copy_block(out->rgb, in->rgb, in->w, x0, y0, ww, wh);
    }
    free(mid);
    taps_free(&th);
    taps_free(&tv);
    return CT_OK;
fail:
    free(mid);
    taps_free(&th);
    taps_free(&tv);
    ct_image_free(out);
    return st;
}

ct_status ct_image_resize_bicubic(ct_image *out, const ct_image *in, int out_w, int out_h) {
    if (out && out_w > 0 && out_h > 0 && (uint64_t)out_w * (uint64_t)out_h > (uint64_t)CT_IMAGE_MAX_PIXELS) {
        memset(out, 0, sizeof *out);
        return ct_fail(CT_ERR_NOMEM,
                       "image: resize target: %d x %d pixels exceeds the limit of %d "
                       "pixels (CT_IMAGE_MAX_PIXELS)",
                       out_w, out_h, CT_IMAGE_MAX_PIXELS);
    }
    return ct_img_resize_window(out, in, out_w, out_h, 0, 0, out_w, out_h);
}
