/* CLIP preprocessing computes only the resized pixels the centre crop keeps (issue 10 D7):
 * the window must be bit for bit the full resize's pixels, on many random sizes, and a thin
 * 1 x 100000 image must no longer cost a size x 4,800,000 resize. */
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "core/rng.h"
#include "ctcir/image.h"
#include "io/image_internal.h"
#include "test_util.h"

static ct_image random_image(ct_rng *r, int w, int h) {
    ct_image im = {0};
    im.w = w;
    im.h = h;
    im.rgb = malloc((size_t)w * h * 3);
    /* Smooth-ish content plus noise, so that the kernel's negative lobes clip sometimes. */
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        im.rgb[i] = (uint8_t)(ct_rng_below(r, 4) == 0 ? ct_rng_below(r, 256) : (i * 7 / 3) & 255);
    return im;
}

static long max_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int main(void) {
    ct_rng r;
    ct_rng_seed(&r, 2026);
    int same_pre = 1, same_win = 1, n_pre = 0;
    for (int t = 0; t < 400; t++) {
        int w = 1 + (int)ct_rng_below(&r, t % 4 == 0 ? 900 : 160);
        int h = 1 + (int)ct_rng_below(&r, t % 4 == 1 ? 900 : 160);
        if (t % 10 == 0) w = 1; /* thin images */
        if (t % 10 == 5) h = 2;
        int size = 4 + (int)ct_rng_below(&r, 60), crop = 2 + (int)ct_rng_below(&r, 80);
        ct_image im = random_image(&r, w, h);
        /* The preprocessing: window path (no `resized` wanted) against the full path. */
        float *a = malloc(sizeof(float) * 3 * crop * crop), *b = malloc(sizeof(float) * 3 * crop * crop);
        ct_image full;
        ct_status s1 = ct_clip_preprocess(a, &im, size, crop, NULL);
        ct_status s2 = ct_clip_preprocess(b, &im, size, crop, &full);
        if (s1 == CT_OK && s2 == CT_OK) {
            n_pre++;
            if (memcmp(a, b, sizeof(float) * 3 * crop * crop) != 0) {
                same_pre = 0;
                fprintf(stderr, "preprocess differs: %d x %d, size %d, crop %d\n", w, h, size, crop);
            }
            /* A random window of the resize against the same pixels of the full resize. */
            int x0 = (int)ct_rng_below(&r, (uint64_t)full.w), y0 = (int)ct_rng_below(&r, (uint64_t)full.h);
            int ww = 1 + (int)ct_rng_below(&r, (uint64_t)(full.w - x0)),
                wh = 1 + (int)ct_rng_below(&r, (uint64_t)(full.h - y0));
            ct_image win;
            if (ct_img_resize_window(&win, &im, full.w, full.h, x0, y0, ww, wh) != CT_OK)
                same_win = 0;
            else {
                for (int y = 0; y < wh; y++)
                    same_win &= memcmp(win.rgb + (size_t)y * ww * 3, full.rgb + ((size_t)(y0 + y) * full.w + x0) * 3,
                                       (size_t)ww * 3) == 0;
                ct_image_free(&win);
            }
            ct_image_free(&full);
        } else {
            CHECK_MSG(s1 == s2, "%d x %d: window %d, full %d", w, h, s1, s2);
        }
        free(a);
        free(b);
        ct_image_free(&im);
    }
    CHECK(n_pre > 300);
    CHECK(same_pre);
    CHECK(same_win);

    /* The review's thin image: 1 x 100000 at CLIP's 224 (before: 224 x 22,400,000 pixels,
     * refused as too large; at 48 px, 691 MB). Now the crop's pixels only. */
    ct_image thin = {0};
    thin.w = 1;
    thin.h = 100000;
    thin.rgb = malloc(3 * 100000);
    memset(thin.rgb, 0x80, 3 * 100000);
    float *o = malloc(sizeof(float) * 3 * 48 * 48);
    long before = max_rss_kb();
    CHECK_MSG(ct_clip_preprocess(o, &thin, 48, 48, NULL) == CT_OK, "%s", ct_error());
    long grew = max_rss_kb() - before;
    CHECK_MSG(grew < 50 * 1024, "peak RSS grew by %ld kB", grew);
    /* A uniform grey image stays uniform: every output equals the first. */
    int uniform = 1;
    for (int i = 0; i < 48 * 48; i++) uniform &= o[i] == o[0];
    CHECK(uniform);
    free(o);
    ct_image_free(&thin);

    /* Pillow's decompression-bomb limit: a header of more than 178,956,970 pixels. */
    char ppm[64];
    int n = snprintf(ppm, sizeof ppm, "P6 13380 13380 255\n");
    ct_image big;
    CHECK(ct_image_decode(&big, ppm, (size_t)n, "bomb.ppm") == CT_ERR_NOMEM &&
          strstr(ct_error(), "decompression bomb"));
    n = snprintf(ppm, sizeof ppm, "P6 13379 13376 255\n"); /* 178,957,504: just over */
    CHECK(ct_image_decode(&big, ppm, (size_t)n, "bomb.ppm") == CT_ERR_NOMEM && strstr(ct_error(), "178956970"));
    return test_finish();
}
