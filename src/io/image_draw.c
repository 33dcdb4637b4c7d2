/* Drawing on ct_image: canvas, rectangles, a 5x7 bitmap font, image grids with label strips,
 * heat map overlays. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/image_draw.h"

/* Glyphs for ' ' .. 'Z' plus a few symbols: 7 rows of 5 bits, bit 4 the leftmost column. */
typedef struct {
    char c;
    uint8_t rows[7];
} glyph;

static const glyph font[] = {
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {' ', {0, 0, 0, 0, 0, 0, 0}},
    {'.', {0, 0, 0, 0, 0, 0x0C, 0x0C}},
    {',', {0, 0, 0, 0, 0x0C, 0x04, 0x08}},
    {':', {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0}},
    {';', {0, 0x0C, 0x0C, 0, 0x0C, 0x04, 0x08}},
    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04}},
    {'-', {0, 0, 0, 0x1F, 0, 0, 0}},
    {'+', {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}},
    {'=', {0, 0, 0x1F, 0, 0x1F, 0, 0}},
    {'/', {0, 0x01, 0x02, 0x04, 0x08, 0x10, 0}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'[', {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E}},
    {']', {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E}},
    {'\'', {0x04, 0x04, 0x08, 0, 0, 0, 0}},
    {'"', {0x0A, 0x0A, 0, 0, 0, 0, 0}},
    {'#', {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'_', {0, 0, 0, 0, 0, 0, 0x1F}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {'*', {0, 0x04, 0x15, 0x0E, 0x15, 0x04, 0}},
    {'@', {0x0E, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0F}},
    {'&', {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D}},
};
static const uint8_t unknown_glyph[7] = {0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F};

static const uint8_t *glyph_rows(char c) {
    c = (char)toupper((unsigned char)c);
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c) return font[i].rows;
    return unknown_glyph;
}

ct_status ct_draw_canvas(ct_image *out, int w, int h, const uint8_t rgb[3]) {
    if (!out) return ct_fail(CT_ERR_ARG, "draw: no output image");
    out->w = out->h = 0;
    out->rgb = NULL;
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        return ct_fail(CT_ERR_ARG, "draw: canvas %d x %d outside 1..16384", w, h);
    size_t n = (size_t)w * (size_t)h;
    uint8_t *p = malloc(n * 3);
    if (!p) return ct_fail(CT_ERR_NOMEM, "draw: canvas %d x %d", w, h);
    static const uint8_t white[3] = {255, 255, 255};
    if (!rgb) rgb = white;
    for (size_t i = 0; i < n; i++) memcpy(p + i * 3, rgb, 3);
    out->w = w;
    out->h = h;
    out->rgb = p;
    return CT_OK;
}

void ct_draw_rect(ct_image *img, int x, int y, int w, int h, const uint8_t rgb[3]) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > img->w ? img->w : x + w, y1 = y + h > img->h ? img->h : y + h;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) memcpy(img->rgb + ((size_t)yy * img->w + xx) * 3, rgb, 3);
}

void ct_draw_frame(ct_image *img, int x, int y, int w, int h, int t, const uint8_t rgb[3]) {
    if (t * 2 >= w || t * 2 >= h) {
        ct_draw_rect(img, x, y, w, h, rgb);
        return;
    }
    ct_draw_rect(img, x, y, w, t, rgb);
    ct_draw_rect(img, x, y + h - t, w, t, rgb);
    ct_draw_rect(img, x, y + t, t, h - 2 * t, rgb);
    ct_draw_rect(img, x + w - t, y + t, t, h - 2 * t, rgb);
}

void ct_draw_blit(ct_image *dst, const ct_image *src, int x, int y) {
    for (int sy = 0; sy < src->h; sy++) {
        int dy = y + sy;
        if (dy < 0 || dy >= dst->h) continue;
        int sx0 = x < 0 ? -x : 0, sx1 = x + src->w > dst->w ? dst->w - x : src->w;
        if (sx1 <= sx0) return;
        memcpy(dst->rgb + ((size_t)dy * dst->w + x + sx0) * 3, src->rgb + ((size_t)sy * src->w + sx0) * 3,
               (size_t)(sx1 - sx0) * 3);
    }
}

int ct_draw_text_width(int n, int scale) { return n > 0 ? (n * CT_FONT_W - 1) * scale : 0; }

static int draw_chars(ct_image *img, int x, int y, const char *s, int n, int scale, const uint8_t rgb[3]) {
    if (scale < 1) scale = 1;
    for (int i = 0; i < n; i++) {
        const uint8_t *rows = glyph_rows(s[i]);
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 5; c++)
                if (rows[r] & (0x10 >> c))
                    ct_draw_rect(img, x + (i * CT_FONT_W + c) * scale, y + r * scale, scale, scale, rgb);
    }
    return ct_draw_text_width(n, scale);
}

int ct_draw_text(ct_image *img, int x, int y, const char *text, int scale, const uint8_t rgb[3]) {
    int n = 0;
    while (text[n] && text[n] != '\n') n++;
    return draw_chars(img, x, y, text, n, scale, rgb);
}

/* Splits text into at most max_lines lines of at most max_chars characters, breaking at
 * spaces where it can; starts[i], lens[i] describe line i. Returns the count and sets *more
 * when text remains. */
static int wrap(const char *text, int max_chars, int max_lines, int *starts, int *lens, int *more) {
    int n = 0, pos = 0, len = (int)strlen(text);
    *more = 0;
    if (max_chars < 1) return 0;
    while (pos < len) {
        while (pos < len && text[pos] == ' ') pos++;
        if (pos >= len) break;
        if (n == max_lines) {
            *more = 1;
            break;
        }
        int end = pos + max_chars < len ? pos + max_chars : len;
        if (end < len && text[end] != ' ') { /* break at the last space that fits */
            int b = end;
            while (b > pos && text[b] != ' ') b--;
            if (b > pos) end = b;
        }
        int nl = pos;
        while (nl < end && text[nl] != '\n') nl++;
        starts[n] = pos;
        lens[n] = nl - pos;
        n++;
        pos = nl < end ? nl + 1 : end;
    }
    return n;
}

int ct_draw_text_wrapped(ct_image *img, int x, int y, const char *text, int max_chars, int max_lines, int scale,
                         const uint8_t rgb[3]) {
    if (max_lines < 1 || max_chars < 1) return 0;
    int *starts = malloc(sizeof(int) * (size_t)max_lines * 2), more = 0;
    if (!starts) return 0;
    int *lens = starts + max_lines;
    int n = wrap(text, max_chars, max_lines, starts, lens, &more);
    if (scale < 1) scale = 1;
    for (int i = 0; i < n; i++) {
        int l = lens[i];
        int dots = i == n - 1 && more;
        if (dots && l > max_chars - 3) l = max_chars - 3 > 0 ? max_chars - 3 : 0;
        int w = draw_chars(img, x, y + i * CT_FONT_H * scale, text + starts[i], l, scale, rgb);
        if (dots) draw_chars(img, x + w + (l ? scale : 0), y + i * CT_FONT_H * scale, "...", 3, scale, rgb);
    }
    free(starts);
    return n;
}

typedef struct {
    int cols, cell, pad, border, label_lines, scale, title_lines, label_h, top;
} grid_layout;

static grid_layout resolve(const ct_grid_opts *o, int n, int *w, int *h) {
    grid_layout g = {0};
    g.cols = o && o->cols > 0 ? o->cols : (n > 0 ? n : 1);
    if (g.cols > n && n > 0) g.cols = n;
    g.cell = o && o->cell > 0 ? o->cell : 128;
    g.border = o && o->border > 0 ? o->border : 3;
    if (g.border > 64) g.border = 64;
    g.pad = o && o->pad > 0 ? o->pad : 8;
    if (g.pad < 2 * g.border + 2) g.pad = 2 * g.border + 2; /* frames and labels fit the gaps */
    g.label_lines = !o || o->label_lines == 0 ? 2 : o->label_lines < 0 ? 0 : o->label_lines;
    if (g.label_lines > 16) g.label_lines = 16;
    g.scale = o && o->font_scale == 2 ? 2 : 1;
    g.label_h = g.label_lines ? g.label_lines * CT_FONT_H * g.scale + 2 : 0;
    int rows = n > 0 ? (n + g.cols - 1) / g.cols : 1;
    int width = g.pad + g.cols * (g.cell + g.pad);
    if (o && o->title && o->title[0]) {
        int starts[3], lens[3], more;
        g.title_lines = wrap(o->title, (width - 2 * g.pad + g.scale) / (CT_FONT_W * g.scale), 3, starts, lens, &more);
    }
    g.top = g.pad + (g.title_lines ? g.title_lines * CT_FONT_H * g.scale + g.pad / 2 : 0);
    if (w) *w = width;
    if (h) *h = g.top + rows * (g.cell + g.label_h + g.pad);
    return g;
}

void ct_draw_grid_layout(const ct_grid_opts *opts, int n, int i, int *x, int *y, int *cw, int *ch) {
    grid_layout g = resolve(opts, n, cw, ch);
    if (x) *x = g.pad + (i % g.cols) * (g.cell + g.pad);
    if (y) *y = g.top + (i / g.cols) * (g.cell + g.label_h + g.pad);
}

/* Fits img into a cell x cell square (aspect kept) and blits it centred at (x, y). */
static ct_status fit_into(ct_image *canvas, const ct_image *img, int x, int y, int cell) {
    if (img->w == cell && img->h == cell) {
        ct_draw_blit(canvas, img, x, y);
        return CT_OK;
    }
    int w = cell, h = cell;
    if (img->w >= img->h)
        h = (int)((long)cell * img->h / img->w);
    else
        w = (int)((long)cell * img->w / img->h);
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    ct_image r = {0};
    ct_status st = ct_image_resize_bicubic(&r, img, w, h);
    if (st != CT_OK) return st;
    ct_draw_blit(canvas, &r, x + (cell - w) / 2, y + (cell - h) / 2);
    ct_image_free(&r);
    return CT_OK;
}

ct_status ct_draw_grid(ct_image *out, const ct_grid_cell *cells, int n, const ct_grid_opts *opts) {
    if (!out) return ct_fail(CT_ERR_ARG, "draw: grid: no output image");
    out->w = out->h = 0;
    out->rgb = NULL;
    if (n < 1 || !cells) return ct_fail(CT_ERR_ARG, "draw: grid: %d cells", n);
    if (opts && (opts->cell > 4096 || opts->cols > 4096))
        return ct_fail(CT_ERR_ARG, "draw: grid: cell %d / cols %d too large", opts->cell, opts->cols);
    int W, H;
    grid_layout g = resolve(opts, n, &W, &H);
    ct_status st = ct_draw_canvas(out, W, H, NULL);
    if (st != CT_OK) return st;
    static const uint8_t ink[3] = {30, 30, 30}, empty[3] = {225, 225, 225};
    static const uint8_t marks[4][3] = {{0, 0, 0}, {0, 190, 40}, {220, 30, 30}, {40, 90, 230}};
    if (g.title_lines)
        ct_draw_text_wrapped(out, g.pad, g.pad, opts->title, (W - 2 * g.pad + g.scale) / (CT_FONT_W * g.scale), 3,
                             g.scale, ink);
    int label_chars = (g.cell + g.scale) / (CT_FONT_W * g.scale);
    for (int i = 0; i < n; i++) {
        int x, y;
        ct_draw_grid_layout(opts, n, i, &x, &y, NULL, NULL);
        const ct_grid_cell *c = &cells[i];
        if (c->img && c->img->rgb && c->img->w > 0 && c->img->h > 0) {
            st = fit_into(out, c->img, x, y, g.cell);
            if (st != CT_OK) goto fail;
        } else
            ct_draw_rect(out, x, y, g.cell, g.cell, empty);
        if (c->mark > CT_MARK_NONE && c->mark <= CT_MARK_QUERY)
            ct_draw_frame(out, x - g.border, y - g.border, g.cell + 2 * g.border, g.cell + 2 * g.border, g.border,
                          marks[c->mark]);
        if (c->label && g.label_lines)
            ct_draw_text_wrapped(out, x, y + g.cell + g.border + 1, c->label, label_chars, g.label_lines, g.scale, ink);
    }
    return CT_OK;
fail:
    ct_image_free(out);
    return st;
}

void ct_colormap_jet(float v, uint8_t rgb[3]) {
    if (!(v >= 0.f)) v = 0.f; /* NaN too */
    if (v > 1.f) v = 1.f;
    float c[3] = {1.5f - fabsf(4.f * v - 3.f), 1.5f - fabsf(4.f * v - 2.f), 1.5f - fabsf(4.f * v - 1.f)};
    for (int i = 0; i < 3; i++) {
        float x = c[i] < 0.f ? 0.f : c[i] > 1.f ? 1.f : c[i];
        rgb[i] = (uint8_t)lrintf(x * 255.f);
    }
}

ct_status ct_draw_heatmap(ct_image *out, const ct_image *img, const float *map, int mh, int mw, float alpha, float vmin,
                          float vmax) {
    if (!out) return ct_fail(CT_ERR_ARG, "draw: heatmap: no output image");
    out->w = out->h = 0;
    out->rgb = NULL;
    if (!img || !img->rgb || !map || mh < 1 || mw < 1 || mh > 4096 || mw > 4096)
        return ct_fail(CT_ERR_ARG, "draw: heatmap: map %d x %d (expected 1..4096 each) or no image", mh, mw);
    if (!(alpha >= 0.f && alpha <= 1.f))
        return ct_fail(CT_ERR_ARG, "draw: heatmap: alpha %g outside [0, 1]", (double)alpha);
    if (!(vmin < vmax)) { /* finite min / max of the map */
        vmin = INFINITY;
        vmax = -INFINITY;
        for (size_t i = 0; i < (size_t)mh * mw; i++)
            if (isfinite(map[i])) {
                if (map[i] < vmin) vmin = map[i];
                if (map[i] > vmax) vmax = map[i];
            }
        if (!(vmin < vmax)) vmax = (vmin = isfinite(vmin) ? vmin : 0.f) + 1.f;
    }
    ct_status st = ct_draw_canvas(out, img->w, img->h, NULL);
    if (st != CT_OK) return st;
    float scale = 1.f / (vmax - vmin);
    for (int y = 0; y < img->h; y++) {
        float sy = ((float)y + 0.5f) * (float)mh / (float)img->h - 0.5f;
        if (sy < 0.f) sy = 0.f;
        int y0 = (int)sy, y1 = y0 + 1 < mh ? y0 + 1 : mh - 1;
        float fy = sy - (float)y0;
        for (int x = 0; x < img->w; x++) {
            float sx = ((float)x + 0.5f) * (float)mw / (float)img->w - 0.5f;
            if (sx < 0.f) sx = 0.f;
            int x0 = (int)sx, x1 = x0 + 1 < mw ? x0 + 1 : mw - 1;
            float fx = sx - (float)x0;
            float v[4] = {map[(size_t)y0 * mw + x0], map[(size_t)y0 * mw + x1], map[(size_t)y1 * mw + x0],
                          map[(size_t)y1 * mw + x1]};
            for (int k = 0; k < 4; k++) v[k] = isfinite(v[k]) ? (v[k] - vmin) * scale : 0.f;
            float m = (1.f - fy) * ((1.f - fx) * v[0] + fx * v[1]) + fy * ((1.f - fx) * v[2] + fx * v[3]);
            uint8_t col[3];
            ct_colormap_jet(m, col);
            const uint8_t *p = img->rgb + ((size_t)y * img->w + x) * 3;
            uint8_t *q = out->rgb + ((size_t)y * img->w + x) * 3;
            for (int c = 0; c < 3; c++) q[c] = (uint8_t)lrintf((1.f - alpha) * (float)p[c] + alpha * (float)col[c]);
        }
    }
    return CT_OK;
}
