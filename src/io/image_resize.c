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

/* Taps of one pass, mapping `in_size` samples to `out_size`: output i reads `count[i]` inputs
 * from `first[i]` with weights coeff[i * ksize ..]. */
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

static ct_status taps_init(taps *t, int in_size, int out_size) {
    memset(t, 0, sizeof *t);
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    t->ksize = (int)ceil(support) * 2 + 1;
    t->first = malloc(sizeof(int) * (size_t)out_size);
    t->count = malloc(sizeof(int) * (size_t)out_size);
    t->coeff = malloc(sizeof(int32_t) * (size_t)out_size * (size_t)t->ksize);
    t->w = malloc(sizeof(double) * (size_t)t->ksize);
    if (!t->first || !t->count || !t->coeff || !t->w) {
        taps_free(t);
        return ct_fail(CT_ERR_NOMEM, "image: resize: cannot allocate %d x %d coefficients",
                       out_size, in_size);
    }
    double inv = 1.0 / filterscale;
    for (int i = 0; i < out_size; i++) {
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
        int32_t *c = t->coeff + (size_t)i * (size_t)t->ksize;
        for (int k = 0; k < t->ksize; k++) {
            double wk = k < n ? (sum != 0.0 ? t->w[k] / sum : t->w[k]) : 0.0;
            double f = wk * (double)(1 << RESAMPLE_BITS);
            c[k] = (int32_t)(wk < 0.0 ? f - 0.5 : f + 0.5);
        }
        t->first[i] = lo;
        t->count[i] = n;
    }
    return CT_OK;
}

static inline uint8_t clip_acc(int32_t acc) {
    int32_t v = acc >> RESAMPLE_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* dst [h, out_w, 3] from src [h, in_w, 3]. */
static void pass_horizontal(uint8_t *dst, const uint8_t *src, int h, int in_w, int out_w,
                            const taps *t) {
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

ct_status ct_image_resize_bicubic(ct_image *out, const ct_image *in, int out_w, int out_h) {
    if (!out || !in || !in->rgb || in->w <= 0 || in->h <= 0)
        return ct_fail(CT_ERR_ARG, "image: resize: empty input image");
    if (out == in) return ct_fail(CT_ERR_ARG, "image: resize: output must differ from input");
    memset(out, 0, sizeof *out);
    if (out_w <= 0 || out_h <= 0)
        return ct_fail(CT_ERR_ARG, "image: resize: target size %d x %d must be positive", out_w,
                       out_h);
    ct_status st = ct_img_alloc(out, out_w, out_h, "resize target", "resize");
    if (st != CT_OK) return st;
    int need_h = out_w != in->w, need_v = out_h != in->h;
    if (!need_h && !need_v) {
        memcpy(out->rgb, in->rgb, (size_t)in->w * (size_t)in->h * 3);
        return CT_OK;
    }
    taps th = {0}, tv = {0};
    uint8_t *mid = NULL;
    if (need_h && (st = taps_init(&th, in->w, out_w)) != CT_OK) goto fail;
    if (need_v && (st = taps_init(&tv, in->h, out_h)) != CT_OK) goto fail;
    if (need_h && need_v) {
        /* Only the input rows the vertical pass reads go through the horizontal pass. */
        int y0 = tv.first[0];
        int y1 = tv.first[out_h - 1] + tv.count[out_h - 1];
        mid = malloc((size_t)out_w * (size_t)(y1 - y0) * 3);
        if (!mid) {
            st = ct_fail(CT_ERR_NOMEM, "image: resize: cannot allocate %d x %d intermediate",
                         out_w, y1 - y0);
            goto fail;
        }
        pass_horizontal(mid, in->rgb + (size_t)y0 * (size_t)in->w * 3, y1 - y0, in->w, out_w, &th);
        for (int y = 0; y < out_h; y++) tv.first[y] -= y0;
        pass_vertical(out->rgb, mid, out_w, out_h, &tv);
    } else if (need_h) {
        pass_horizontal(out->rgb, in->rgb, in->h, in->w, out_w, &th);
    } else {
        pass_vertical(out->rgb, in->rgb, in->w, out_h, &tv);
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
