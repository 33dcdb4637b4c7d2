/* synth-shapes renderer: textured background, then each object as a filled shape with a
 * darker one-pixel outline, 2x2 supersampled over its bounding box. Pure integer/float code,
 * no allocation in ct_synth_render_into. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/synth_internal.h"

typedef struct {
    float x, y;
} pt;

/* Polygons in unit coordinates (y down), centred on the object's centre. */
static const pt tri[] = {{0.f, -1.f}, {0.97f, 0.72f}, {-0.97f, 0.72f}};
static const pt dia[] = {{0.f, -1.f}, {0.78f, 0.f}, {0.f, 1.f}, {-0.78f, 0.f}};
static const pt star[] = {
    {0.f, -1.f}, {0.235114f, -0.323607f}, {0.951057f, -0.309017f}, {0.380423f, 0.123607f},   {0.587785f, 0.809017f},
    {0.f, 0.4f}, {-0.587785f, 0.809017f}, {-0.380423f, 0.123607f}, {-0.951057f, -0.309017f}, {-0.235114f, -0.323607f},
};

static int in_polygon(const pt *p, int n, float u, float v) {
    int inside = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        if ((p[i].y > v) != (p[j].y > v)) {
            float x = p[j].x + (v - p[j].y) * (p[i].x - p[j].x) / (p[i].y - p[j].y);
            if (u < x) inside = !inside;
        }
    }
    return inside;
}

/* Is (u, v), in units of the shape's radius, inside the shape? */
static int inside(int shape, float u, float v) {
    float au = fabsf(u), av = fabsf(v);
    switch (shape) {
    case CT_SHAPE_CIRCLE: return u * u + v * v <= 1.f;
    case CT_SHAPE_SQUARE: return au <= 0.82f && av <= 0.82f;
    case CT_SHAPE_TRIANGLE: return in_polygon(tri, 3, u, v - 0.12f);
    case CT_SHAPE_STAR: return in_polygon(star, 10, u, v + 0.08f);
    case CT_SHAPE_CROSS: return (au <= 0.32f && av <= 0.95f) || (av <= 0.32f && au <= 0.95f);
    case CT_SHAPE_DIAMOND: return in_polygon(dia, 4, u, v);
    default: return 0;
    }
}

static void draw_background(const ct_synth_scene *s, int size, uint8_t *rgb) {
    uint8_t base[3], alt[3];
    synth_bg_rgb(s->bg_color, base);
    /* the pattern colour: the base pushed towards white (dark backgrounds) or black */
    int lum = (base[0] * 3 + base[1] * 6 + base[2]) / 10;
    for (int c = 0; c < 3; c++) alt[c] = (uint8_t)(lum < 110 ? base[c] + (255 - base[c]) * 3 / 10 : base[c] * 7 / 10);
    int period = size / 8 < 4 ? 4 : size / 8;
    float dot_r2 = (float)period * (float)period * 0.07f;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            int pattern = 0;
            switch (s->bg_texture) {
            case CT_TEX_STRIPED: pattern = ((x + y) % period) < period / 2; break;
            case CT_TEX_DOTTED: {
                float dx = (float)(x % period) + 0.5f - period * 0.5f;
                float dy = (float)(y % period) + 0.5f - period * 0.5f;
                pattern = dx * dx + dy * dy <= dot_r2;
                break;
            }
            case CT_TEX_CHECKERED: pattern = ((x / period) + (y / period)) & 1; break;
            default: break;
            }
            memcpy(rgb + ((size_t)y * size + x) * 3, pattern ? alt : base, 3);
        }
    }
}

static void draw_object(const ct_synth_object *o, int size, uint8_t *rgb) {
    float cell = (float)size / CT_SYNTH_GRID;
    float cx = ((float)(o->cell % CT_SYNTH_GRID) + 0.5f + o->jx) * cell;
    float cy = ((float)(o->cell / CT_SYNTH_GRID) + 0.5f + o->jy) * cell;
    float r = (o->size == CT_SIZE_LARGE ? SYNTH_RADIUS_LARGE : SYNTH_RADIUS_SMALL) * cell;
    float outline = size >= 128 ? (float)size / 128.f : 1.f;
    float ro = r + outline; /* the outline is the shape grown by `outline` pixels */
    uint8_t fill[3], edge[3], pat[3];
    synth_object_rgb(o->color, fill);
    for (int c = 0; c < 3; c++) {
        edge[c] = (uint8_t)(fill[c] * 45 / 100);
        pat[c] = (uint8_t)(fill[c] + (255 - fill[c]) * 6 / 10); /* the fill pattern: lighter */
    }
    float band = 0.5f * r; /* stripe height / check side of a patterned fill */
    int x0 = (int)floorf(cx - ro - 1), x1 = (int)ceilf(cx + ro + 1);
    int y0 = (int)floorf(cy - ro - 1), y1 = (int)ceilf(cy + ro + 1);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > size - 1) x1 = size - 1;
    if (y1 > size - 1) y1 = size - 1;
    for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
            int n_fill = 0, n_edge = 0, n_pat = 0;
            for (int sy = 0; sy < 2; sy++) {
                for (int sx = 0; sx < 2; sx++) {
                    float px = (float)x + 0.25f + 0.5f * sx - cx;
                    float py = (float)y + 0.25f + 0.5f * sy - cy;
                    if (inside(o->shape, px / r, py / r)) {
                        int by = (int)floorf(py / band), bx = (int)floorf(px / band);
                        int on = o->texture == CT_TEX_STRIPED     ? by & 1
                                 : o->texture == CT_TEX_CHECKERED ? (bx + by) & 1
                                 : o->texture == CT_TEX_DOTTED    ? (bx & 1) && (by & 1)
                                                                  : 0;
                        if (on)
                            n_pat++;
                        else
                            n_fill++;
                    } else if (inside(o->shape, px / ro, py / ro))
                        n_edge++;
                }
            }
            if (!n_fill && !n_edge && !n_pat) continue;
            uint8_t *p = rgb + ((size_t)y * size + x) * 3;
            int n_bg = 4 - n_fill - n_edge - n_pat;
            for (int c = 0; c < 3; c++)
                p[c] = (uint8_t)((n_fill * fill[c] + n_pat * pat[c] + n_edge * edge[c] + n_bg * p[c] + 2) / 4);
        }
    }
}

ct_status ct_synth_render_into(const ct_synth_scene *s, int size, uint8_t *rgb) {
    if (!s || !rgb || size < 16 || size > 1024)
        return ct_fail(CT_ERR_ARG, "synth: render size %d out of range [16, 1024]", size);
    ct_status st = synth_scene_check_range(s, CT_SYNTH_MIN_OBJECTS, CT_SYNTH_HARD_MAX_OBJECTS); /* any variant */
    if (st != CT_OK) return st;
    draw_background(s, size, rgb);
    for (int i = 0; i < s->n; i++) draw_object(&s->obj[i], size, rgb);
    return CT_OK;
}

ct_status ct_synth_render(const ct_synth_scene *s, int size, ct_image *out) {
    if (!out) return ct_fail(CT_ERR_ARG, "synth: render: no output image");
    out->w = out->h = 0;
    out->rgb = NULL;
    if (size < 16 || size > 1024) return ct_fail(CT_ERR_ARG, "synth: render size %d out of range [16, 1024]", size);
    uint8_t *rgb = malloc((size_t)size * size * 3);
    if (!rgb) return ct_fail(CT_ERR_NOMEM, "synth: render: %d x %d image", size, size);
    ct_status st = ct_synth_render_into(s, size, rgb);
    if (st != CT_OK) {
        free(rgb);
        return st;
    }
    out->w = out->h = size;
    out->rgb = rgb;
    return CT_OK;
}
