/* CLIP preprocessing against the parity references: for both models, from Pillow's decode of
 * each image, the bicubic resize must match input.image.<i>.resized bit for bit and the
 * normalised crop must match input.pixel_values within 1e-6. Also the preprocessor config
 * reader (both spellings, defaults, refusals) and the resize's edge cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctcir/image.h"
#include "ctcir/safetensors.h"
#include "test_tmpdir.h"
#include "test_util.h"

static const char *parity_files[5] = {"img0_97x61.png", "img1_300x157.jpg", "img2_61x203_rgba.png",
                                      "img3_131x65_gray.jpg", "img4_640x427.jpg"};

static void test_model(const char *model, const ct_st_file *rgb, int expect_size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/parity/models/%s", test_shared_dir(), model);
    int size = 0, crop = 0;
    float mean[3], std[3];
    ct_status s = ct_clip_preprocessor_config_load(path, &size, &crop, mean, std);
    CHECK_MSG(s == CT_OK, "%s", ct_error());
    CHECK(size == expect_size && crop == expect_size);
    CHECK(mean[0] == 0.48145466f && mean[2] == 0.40821073f && std[1] == 0.26130258f);
    if (s != CT_OK) return;
    snprintf(path, sizeof path, "%s/parity/models/%s/reference.safetensors", test_shared_dir(), model);
    ct_st_file *ref = NULL;
    if (ct_st_open(&ref, path) != CT_OK) {
        CHECK_MSG(0, "%s", ct_error());
        return;
    }
    const ct_st_tensor *pt = ct_st_find(ref, "input.pixel_values");
    const int64_t *pd = pt ? pt->shape : NULL;
    float *pv = NULL;
    if (pt && pt->ndim == 4 && pd[1] == 3 && pd[2] == crop && pd[3] == crop) {
        pv = malloc(sizeof(float) * pt->numel);
        if (ct_st_read_f32(ref, pt, pv) != CT_OK) {
            free(pv);
            pv = NULL;
        }
    }
    CHECK_MSG(pv != NULL, "input.pixel_values missing or not [N,3,%d,%d]", crop, crop);
    float *out = malloc(sizeof(float) * 3 * (size_t)crop * crop);
    for (int i = 0; pv && i < pd[0] && i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "image.%d.rgb", i);
        const ct_st_tensor *ts = ct_st_find(rgb, name);
        snprintf(name, sizeof name, "input.image.%d.resized", i);
        const ct_st_tensor *tw = ct_st_find(ref, name);
        int good = ts && tw && ts->dtype == CT_DT_U8 && tw->dtype == CT_DT_U8 && ts->ndim == 3 && tw->ndim == 3 &&
                   ts->shape[2] == 3 && tw->shape[2] == 3;
        CHECK_MSG(good, "image %d missing or not U8 [H,W,3]", i);
        if (!good) continue;
        const uint8_t *src = ts->data, *want = tw->data;
        const int64_t *d = ts->shape, *rd = tw->shape;
        ct_image in = {(int)d[1], (int)d[0], (uint8_t *)src}, resized;
        s = ct_clip_preprocess_norm(out, &in, size, crop, mean, std, &resized);
        CHECK_MSG(s == CT_OK, "%s", ct_error());
        if (s != CT_OK) continue;
        int same_shape = resized.h == rd[0] && resized.w == rd[1];
        CHECK_MSG(same_shape, "%s: %s resized to %dx%d, want %lldx%lld", model, name, resized.w, resized.h,
                  (long long)rd[1], (long long)rd[0]);
        int mism = 0;
        if (same_shape)
            for (size_t k = 0; k < (size_t)resized.w * resized.h * 3; k++) mism += resized.rgb[k] != want[k];
        CHECK_MSG(same_shape && mism == 0, "%s: %s: %d bytes differ", model, name, mism);
        double md = 0;
        const float *ref_i = pv + (size_t)i * 3 * crop * crop;
        for (size_t k = 0; k < (size_t)3 * crop * crop; k++) {
            double e = fabs((double)out[k] - (double)ref_i[k]);
            if (e > md) md = e;
        }
        CHECK_MSG(md <= 1e-6, "%s: image %d pixel_values differ by %g", model, i, md);
        printf("%-10s image %d: resized %dx%d, %d bytes differ; max|pixel_values - ref| = %g\n", model, i, resized.w,
               resized.h, mism, md);
        if (strcmp(model, "tiny-vit-b") == 0) {
            /* The default-constant entry point gives the same result. */
            float *o2 = malloc(sizeof(float) * 3 * (size_t)crop * crop);
            CHECK(ct_clip_preprocess(o2, &in, size, crop, NULL) == CT_OK &&
                  memcmp(o2, out, sizeof(float) * 3 * (size_t)crop * crop) == 0);
            free(o2);
        }
        ct_image_free(&resized);
        /* End to end from the file itself (our decoder, then preprocessing). */
        snprintf(path, sizeof path, "%s/parity/images/%s", test_shared_dir(), parity_files[i]);
        ct_image file;
        s = ct_image_load(&file, path);
        CHECK_MSG(s == CT_OK, "%s", ct_error());
        if (s == CT_OK) {
            s = ct_clip_preprocess_norm(out, &file, size, crop, mean, std, NULL);
            double fd = 0;
            for (size_t k = 0; s == CT_OK && k < (size_t)3 * crop * crop; k++) {
                double e = fabs((double)out[k] - (double)ref_i[k]);
                if (e > fd) fd = e;
            }
            CHECK_MSG(s == CT_OK && fd <= 1e-6, "%s: %s end to end differs by %g", model, parity_files[i], fd);
        }
        ct_image_free(&file);
    }
    free(out);
    free(pv);
    ct_st_close(ref);
}

static ct_status load_json(const char *text, int *size, int *crop, float *mean, float *std) {
    char path[512];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", tmpdir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return ct_clip_preprocessor_config_load(tmpdir, size, crop, mean, std);
}

static void test_config(void) {
    int size = 0, crop = 0;
    float mean[3], std[3];
    CHECK(load_json("{}", &size, &crop, mean, std) == CT_OK && size == 224 && crop == 224 && std[0] == 0.26862954f);
    CHECK(load_json("{\"size\": {\"shortest_edge\": 336}, \"crop_size\": {\"height\": 320, "
                    "\"width\": 320}, \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.5, 0.5, "
                    "0.5], \"resample\": 3, \"extra\": {\"a\": [1, null]}}",
                    &size, &crop, mean, std) == CT_OK &&
          size == 336 && crop == 320 && mean[1] == 0.5f && std[2] == 0.5f);
    CHECK(load_json("{\"size\": {\"height\": 224, \"width\": 224}}", &size, &crop, mean, std) == CT_ERR_UNSUPPORTED);
    CHECK(load_json("{\"crop_size\": {\"height\": 224, \"width\": 200}}", &size, &crop, mean, std) ==
          CT_ERR_UNSUPPORTED);
    CHECK(load_json("{\"resample\": 2}", &size, &crop, mean, std) == CT_ERR_UNSUPPORTED);
    CHECK(load_json("{\"do_center_crop\": false}", &size, &crop, mean, std) == CT_ERR_UNSUPPORTED);
    CHECK(load_json("{\"size\": -3}", &size, &crop, mean, std) == CT_ERR_FORMAT);
    CHECK(load_json("{\"size\": 22.5}", &size, &crop, mean, std) == CT_ERR_FORMAT);
    CHECK(load_json("{\"image_std\": [0.5, 0, 0.5]}", &size, &crop, mean, std) == CT_ERR_FORMAT);
    CHECK(load_json("{\"image_mean\": [0.5, 0.5]}", &size, &crop, mean, std) == CT_ERR_FORMAT);
    CHECK(load_json("{\"size\": 224", &size, &crop, mean, std) == CT_ERR_FORMAT);
    CHECK(strstr(ct_error(), "preprocessor_config.json") != NULL);
    CHECK(ct_clip_preprocessor_config_load("/nonexistent/dir", &size, &crop, mean, std) == CT_ERR_IO);
}

static void test_resize_edges(void) {
    uint8_t px[4 * 3 * 3];
    for (int i = 0; i < 36; i++) px[i] = (uint8_t)(i * 7);
    ct_image in = {4, 3, px}, out;
    /* Same size: a copy. */
    CHECK(ct_image_resize_bicubic(&out, &in, 4, 3) == CT_OK && memcmp(out.rgb, px, 36) == 0);
    ct_image_free(&out);
    /* A constant image stays constant whatever the scale (weights sum to 1 in fixed point). */
    uint8_t flat[5 * 7 * 3];
    memset(flat, 200, sizeof flat);
    ct_image f = {5, 7, flat};
    int sizes[][2] = {{1, 1}, {13, 2}, {3, 29}, {64, 64}};
    for (int k = 0; k < 4; k++) {
        CHECK(ct_image_resize_bicubic(&out, &f, sizes[k][0], sizes[k][1]) == CT_OK);
        int ok = out.rgb != NULL;
        for (int i = 0; ok && i < out.w * out.h * 3; i++) ok = out.rgb[i] == 200;
        CHECK_MSG(ok, "flat image resized to %dx%d is not flat", sizes[k][0], sizes[k][1]);
        ct_image_free(&out);
    }
    CHECK(ct_image_resize_bicubic(&out, &in, 0, 3) == CT_ERR_ARG && out.rgb == NULL);
    CHECK(ct_image_resize_bicubic(&out, &in, 1 << 20, 1 << 20) == CT_ERR_NOMEM);
    /* A crop larger than the resized image is zero-padded as torchvision does: the 4x3 image
     * with size 2 becomes 2x2 (short side 3 -> 2, long side int(2 * 4 / 3) = 2), then padded by
     * one on each side to 4x4. */
    float o[3 * 4 * 4];
    ct_image r;
    CHECK(ct_clip_preprocess(o, &in, 2, 4, &r) == CT_OK && r.w == 2 && r.h == 2);
    /* Padding: rows/cols 0 and 3 are outside, their value is (0 - mean) / std. */
    CHECK(o[0] == (0.0f / 255.0f - 0.48145466f) / 0.26862954f);
    CHECK(o[1 * 4 + 1] == ((float)r.rgb[0] / 255.0f - 0.48145466f) / 0.26862954f);
    ct_image_free(&r);
    CHECK(ct_clip_preprocess(o, &in, 0, 4, NULL) == CT_ERR_ARG);
}

int main(void) {
    if (!tmpdir_make("clip_pre")) return 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/parity/images/decoded_rgb.safetensors", test_shared_dir());
    ct_st_file *rgb = NULL;
    if (ct_st_open(&rgb, path) == CT_OK) {
        test_model("tiny-vit-b", rgb, 96);
        test_model("tiny-gelu", rgb, 80);
        ct_st_close(rgb);
    } else {
        CHECK_MSG(0, "%s", ct_error());
    }
    test_config();
    test_resize_edges();
    tmpdir_remove();
    return test_finish();
}
