/* Image decoding (JPEG through libjpeg-turbo, PNG through libpng, PNM natively, BMP/GIF/TGA/PSD
 * through stb_image; the format is detected from the bytes), conversion to 8-bit RGB like PIL's
 * convert("RGB"), writing PNG/JPEG, and CLIP preprocessing that matches Pillow + torchvision
 * bit for bit. */
#ifndef CTCIR_IMAGE_H
#define CTCIR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Images ctcir computes (resize results) larger than this many pixels are refused before
 * any pixel buffer is allocated. */
#define CT_IMAGE_MAX_PIXELS  (1 << 28)
/* Files whose header announces more pixels than this are refused before decoding, as
 * Pillow's DecompressionBombError does (2 x Image.MAX_IMAGE_PIXELS = 178,956,970). */
#define CT_IMAGE_BOMB_PIXELS 178956970

typedef struct {
    int w, h;
    uint8_t *rgb; /* [h, w, 3], owned */
} ct_image;

ct_status ct_image_load(ct_image *out, const char *path);
/* `name` is used only in error messages. */
ct_status ct_image_decode(ct_image *out, const void *buf, size_t len, const char *name);
void ct_image_free(ct_image *img); /* NULL-safe, resets the struct */
/* The format the first bytes of a file announce ("JPEG", "PNG", "PNM", "BMP", "GIF", "PSD"),
 * or NULL when none (TGA has no signature: NULL too). Reads nothing else. */
const char *ct_image_sniff(const void *head, size_t len);

ct_status ct_image_save_png(const ct_image *img, const char *path);
ct_status ct_image_save_jpeg(const ct_image *img, const char *path, int quality);

/* Pillow's Image.resize((out_w, out_h), BICUBIC), exactly (fixed point, horizontal pass first). */
ct_status ct_image_resize_bicubic(ct_image *out, const ct_image *in, int out_w, int out_h);

/* CLIP preprocessing: short side -> `size` (long side truncated), centre crop `crop` x `crop`
 * (Python round-half-even offsets), then ((u/255) - mean[c]) / std[c] channel-first.
 * out: [3, crop, crop]. Optionally returns the resized image (before crop) in *resized. */
ct_status ct_clip_preprocess(float *out, const ct_image *in, int size, int crop, ct_image *resized);

/* The same with explicit per-channel mean and std (float32, as a preprocessor config gives). */
ct_status ct_clip_preprocess_norm(float *out, const ct_image *in, int size, int crop, const float mean[3],
                                  const float std[3], ct_image *resized);

/* Reads a Hugging Face preprocessor_config.json (`path` is the file or the model directory
 * holding it). Both spellings are accepted: "size": 224 / {"shortest_edge": 224} and
 * "crop_size": 224 / {"height": 224, "width": 224}. Missing keys take CLIPImageProcessor's
 * defaults (224, 224, openai's mean and std). Settings this pipeline cannot reproduce
 * (resample other than bicubic, resize to a fixed height x width, non-square crop, disabled
 * resize/crop/normalise) fail with CT_ERR_UNSUPPORTED. */
ct_status ct_clip_preprocessor_config_load(const char *path, int *size, int *crop, float mean[3], float std[3]);

#ifdef __cplusplus
}
#endif
#endif
