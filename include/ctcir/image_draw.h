/* Small drawing helpers on ct_image for the demo's pictures: a canvas, rectangles and
 * borders, a built-in 5x7 bitmap font (upper-case glyphs; lower case is drawn as upper
 * case), a grid of images with label strips and coloured borders (`ctcir query --grid`),
 * and a heat map overlay (`ctcir explain`). All drawing clips to the image. */
#ifndef CTCIR_IMAGE_DRAW_H
#define CTCIR_IMAGE_DRAW_H

#include <stdint.h>

#include "ctcir/image.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Glyph cell of the font at scale 1: 5x7 glyph + 1 pixel spacing each way. */
#define CT_FONT_W 6
#define CT_FONT_H 8

/* A w x h image filled with rgb (white when rgb is NULL). w, h in [1, 16384]. */
ct_status ct_draw_canvas(ct_image *out, int w, int h, const uint8_t rgb[3]);

void ct_draw_rect(ct_image *img, int x, int y, int w, int h, const uint8_t rgb[3]);
/* A frame of `thickness` pixels drawn inside the rectangle (x, y, w, h). */
void ct_draw_frame(ct_image *img, int x, int y, int w, int h, int thickness, const uint8_t rgb[3]);
/* Copies src with its top-left corner at (x, y). */
void ct_draw_blit(ct_image *dst, const ct_image *src, int x, int y);

/* Draws one line of text with its top-left corner at (x, y), each font pixel a
 * scale x scale square; stops at '\n'. Returns the width in pixels of what was drawn. */
int ct_draw_text(ct_image *img, int x, int y, const char *text, int scale, const uint8_t rgb[3]);
/* Width in pixels of `n` characters at `scale` (no trailing spacing). */
int ct_draw_text_width(int n, int scale);
/* Word-wraps text into lines of at most max_chars characters (long words are cut) and draws
 * at most max_lines of them from (x, y); the last drawn line ends in "..." when text remains.
 * Returns the number of lines drawn. */
int ct_draw_text_wrapped(ct_image *img, int x, int y, const char *text, int max_chars, int max_lines, int scale,
                         const uint8_t rgb[3]);

typedef enum {
    CT_MARK_NONE,
    CT_MARK_CORRECT /* green */,
    CT_MARK_WRONG /* red */,
    CT_MARK_QUERY /* blue */
} ct_draw_mark;

typedef struct {
    const ct_image *img; /* fitted into the cell (aspect kept, bicubic), centred */
    const char *label;   /* drawn under the image; NULL for none */
    ct_draw_mark mark;   /* a frame `border` pixels wide just outside the cell's image area */
} ct_grid_cell;

typedef struct {
    int cols;          /* cells per row; <= 0: all cells in one row */
    int cell;          /* cell side in pixels (default 128 when <= 0; <= 4096) */
    int pad;           /* gap around cells (default 8; raised to 2 * border + 2) */
    int border;        /* frame thickness of marked cells (default 3) */
    int label_lines;   /* text lines under each cell (default 2 when 0; < 0 for none; <= 16) */
    int font_scale;    /* 1 or 2 (default 1) */
    const char *title; /* optional wrapped title above the grid (at most 3 lines) */
} ct_grid_opts;

/* Lays out cells row by row on a white canvas. out is allocated (free with ct_image_free).
 * Each cell's image area starts at x = pad + c * (cell + pad), y = top + r * (cell +
 * label_h + pad), where top = pad + title height and label_h = label_lines * CT_FONT_H *
 * font_scale + 2. opts may be NULL (defaults). */
ct_status ct_draw_grid(ct_image *out, const ct_grid_cell *cells, int n, const ct_grid_opts *opts);
/* The resolved layout the grid uses (defaults applied): origin of cell i and canvas size. */
void ct_draw_grid_layout(const ct_grid_opts *opts, int n, int i, int *x, int *y, int *canvas_w, int *canvas_h);

/* The "jet" colour map: 0 dark blue, 0.5 green, 1 dark red; v clamped to [0, 1]. */
void ct_colormap_jet(float v, uint8_t rgb[3]);

/* out = (1 - alpha) * img + alpha * jet(m), with m the [mh, mw] row-major `map`, upsampled
 * bilinearly to img's size (half-pixel centres, edges clamped, like align_corners=False) and
 * normalised by (m - vmin) / (vmax - vmin); when vmin >= vmax the finite min and max of the
 * map are used. Non-finite map values count as vmin. out is allocated with img's size. */
ct_status ct_draw_heatmap(ct_image *out, const ct_image *img, const float *map, int mh, int mw, float alpha, float vmin,
                          float vmax);

#ifdef __cplusplus
}
#endif
#endif
