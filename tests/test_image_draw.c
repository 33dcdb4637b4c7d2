/* Drawing helpers: canvas, clipping, the bitmap font, grid layout and frames, heat maps. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ctcir/image_draw.h"
#include "test_util.h"

static const uint8_t *px(const ct_image *im, int x, int y) { return im->rgb + ((size_t)y * im->w + x) * 3; }
static int is(const uint8_t *p, int r, int g, int b) { return p[0] == r && p[1] == g && p[2] == b; }

static int count_color(const ct_image *im, int x0, int y0, int x1, int y1, const uint8_t c[3]) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) n += memcmp(px(im, x, y), c, 3) == 0;
    return n;
}

static void test_basics(void) {
    static const uint8_t red[3] = {255, 0, 0}, black[3] = {0, 0, 0};
    ct_image a;
    CHECK(ct_draw_canvas(&a, 0, 5, NULL) == CT_ERR_ARG && a.rgb == NULL);
    CHECK(ct_draw_canvas(&a, 20, 10, NULL) == CT_OK && a.w == 20 && a.h == 10);
    CHECK(is(px(&a, 19, 9), 255, 255, 255));
    ct_draw_rect(&a, -5, -5, 8, 7, red); /* clipped to [0,3) x [0,2) */
    CHECK(count_color(&a, 0, 0, 20, 10, red) == 6 && is(px(&a, 2, 1), 255, 0, 0) && is(px(&a, 3, 1), 255, 255, 255));
    ct_draw_rect(&a, 18, 8, 100, 100, red);
    CHECK(count_color(&a, 0, 0, 20, 10, red) == 10);
    ct_draw_frame(&a, 5, 2, 10, 6, 1, black); /* perimeter of a 10 x 6 box: 28 pixels */
    CHECK(count_color(&a, 0, 0, 20, 10, black) == 28 && is(px(&a, 6, 3), 255, 255, 255));
    ct_image b;
    CHECK(ct_draw_canvas(&b, 4, 4, black) == CT_OK);
    ct_draw_blit(&a, &b, 17, -2); /* 3 columns x 2 rows land */
    CHECK(count_color(&a, 17, 0, 20, 2, black) == 6);
    ct_image_free(&a);
    ct_image_free(&b);
}

static void test_text(void) {
    static const uint8_t ink[3] = {0, 0, 0};
    ct_image a, b;
    CHECK(ct_draw_canvas(&a, 100, 20, NULL) == CT_OK && ct_draw_canvas(&b, 100, 20, NULL) == CT_OK);
    CHECK(ct_draw_text_width(3, 2) == (3 * CT_FONT_W - 1) * 2);
    CHECK(ct_draw_text(&a, 0, 0, "   ", 1, ink) == ct_draw_text_width(3, 1));
    CHECK(count_color(&a, 0, 0, 100, 20, ink) == 0); /* spaces draw nothing */
    ct_draw_text(&a, 1, 1, "Hello, 42%", 1, ink);
    ct_draw_text(&b, 1, 1, "HELLO, 42%", 1, ink);
    CHECK(memcmp(a.rgb, b.rgb, (size_t)100 * 20 * 3) == 0); /* lower case = upper case glyphs */
    int on = count_color(&a, 0, 0, 100, 20, ink);
    CHECK(on > 30 && count_color(&a, 0, 8, 100, 20, ink) == 0); /* all within the 7 glyph rows */
    /* 'I' is symmetric, '.' sits on the baseline only */
    ct_image c;
    CHECK(ct_draw_canvas(&c, 12, 10, NULL) == CT_OK);
    ct_draw_text(&c, 0, 0, "I.", 1, ink);
    for (int y = 0; y < 7; y++) CHECK(is(px(&c, 2, y), 0, 0, 0)); /* centre column of I */
    CHECK(count_color(&c, 6, 0, 12, 5, ink) == 0 && count_color(&c, 6, 5, 12, 7, ink) > 0);
    /* scale 2: four times the pixels */
    ct_image d;
    CHECK(ct_draw_canvas(&d, 200, 40, NULL) == CT_OK);
    ct_draw_text(&d, 0, 0, "HELLO, 42%", 2, ink);
    CHECK(count_color(&d, 0, 0, 200, 40, ink) == 4 * on);
    /* wrapping: 3 short lines, the last one with "..." when text remains */
    ct_image w;
    CHECK(ct_draw_canvas(&w, 80, 40, NULL) == CT_OK);
    CHECK(ct_draw_text_wrapped(&w, 0, 0, "one two three four five six seven", 9, 3, 1, ink) == 3);
    CHECK(ct_draw_text_wrapped(&w, 0, 0, "short", 9, 3, 1, ink) == 1);
    CHECK(ct_draw_text_wrapped(&w, 0, 0, "", 9, 3, 1, ink) == 0);
    CHECK(ct_draw_text_wrapped(&w, 0, 0, "averyveryverylongword", 5, 10, 1, ink) == 5);
    ct_draw_text(&a, 95, 15, "clipped text runs off the edge", 3, ink); /* no crash */
    ct_image_free(&a);
    ct_image_free(&b);
    ct_image_free(&c);
    ct_image_free(&d);
    ct_image_free(&w);
}

static void test_grid(void) {
    static const uint8_t blue[3] = {10, 20, 200};
    ct_image tile, wide;
    CHECK(ct_draw_canvas(&tile, 32, 32, blue) == CT_OK);
    tile.rgb[0] = 1; /* a marker pixel at the tile's top-left corner */
    CHECK(ct_draw_canvas(&wide, 64, 16, blue) == CT_OK);
    ct_grid_cell cells[5] = {{&tile, "query", CT_MARK_QUERY},
                             {&tile, "#1", CT_MARK_NONE},
                             {&tile, "#2 correct", CT_MARK_CORRECT},
                             {&wide, NULL, CT_MARK_WRONG},
                             {NULL, "missing", CT_MARK_NONE}};
    ct_grid_opts o = {.cols = 3, .cell = 32, .pad = 4, .border = 2, .label_lines = 1, .title = "a title"};
    ct_image g;
    CHECK(ct_draw_grid(&g, cells, 5, &o) == CT_OK);
    int W, H, x, y;
    ct_draw_grid_layout(&o, 5, 2, &x, &y, &W, &H);
    int pad = 2 * 2 + 2; /* raised to 2 * border + 2 */
    CHECK(g.w == W && g.h == H && W == pad + 3 * (32 + pad));
    CHECK(x == pad + 2 * (32 + pad) && y > pad); /* the title strip pushes cells down */
    CHECK(H == y + 2 * (32 + CT_FONT_H + 2 + pad));
    /* cell 2: the tile copied exactly, a green frame just outside it */
    CHECK(px(&g, x, y)[0] == 1 && is(px(&g, x + 5, y + 5), 10, 20, 200) && is(px(&g, x + 31, y + 31), 10, 20, 200));
    CHECK(is(px(&g, x - 1, y + 10), 0, 190, 40) && is(px(&g, x - 2, y + 10), 0, 190, 40) &&
          is(px(&g, x - 3, y + 10), 255, 255, 255));
    CHECK(is(px(&g, x + 10, y + 32), 0, 190, 40) && is(px(&g, x + 10, y - 2), 0, 190, 40));
    int x1, y1;
    ct_draw_grid_layout(&o, 5, 1, &x1, &y1, NULL, NULL); /* unmarked: no frame */
    CHECK(is(px(&g, x1 - 1, y1 + 10), 255, 255, 255));
    ct_draw_grid_layout(&o, 5, 0, &x1, &y1, NULL, NULL);
    CHECK(is(px(&g, x1 - 1, y1 + 10), 40, 90, 230));
    ct_draw_grid_layout(&o, 5, 3, &x1, &y1, NULL, NULL); /* wide image fitted: 32 x 8, centred */
    CHECK(is(px(&g, x1 + 16, y1 + 16), 10, 20, 200) && is(px(&g, x1 + 16, y1 + 2), 255, 255, 255));
    CHECK(is(px(&g, x1 - 1, y1 + 10), 220, 30, 30));
    ct_draw_grid_layout(&o, 5, 4, &x1, &y1, NULL, NULL); /* no image: a grey placeholder */
    CHECK(is(px(&g, x1 + 16, y1 + 16), 225, 225, 225));
    ct_image_free(&g);
    CHECK(ct_draw_grid(&g, cells, 0, &o) == CT_ERR_ARG && g.rgb == NULL);
    CHECK(ct_draw_grid(&g, cells, 2, NULL) == CT_OK && g.w == 8 + 2 * (128 + 8)); /* defaults */
    ct_image_free(&g);
    ct_image_free(&tile);
    ct_image_free(&wide);
}

static void test_heatmap(void) {
    uint8_t c0[3], c5[3], c1[3];
    ct_colormap_jet(0.f, c0);
    ct_colormap_jet(0.5f, c5);
    ct_colormap_jet(1.f, c1);
    CHECK(c0[2] > 100 && c0[0] == 0 && c0[1] == 0);    /* dark blue */
    CHECK(c5[1] == 255 && c5[0] < 140 && c5[2] < 140); /* green */
    CHECK(c1[0] > 100 && c1[1] == 0 && c1[2] == 0);    /* dark red */
    ct_colormap_jet(NAN, c5);
    CHECK(memcmp(c5, c0, 3) == 0);
    ct_image img, out;
    static const uint8_t grey[3] = {100, 100, 100};
    CHECK(ct_draw_canvas(&img, 40, 20, grey) == CT_OK);
    /* a 1 x 2 ramp: the left quarter is pure vmin, the right quarter pure vmax, linear between */
    float ramp[2] = {3.f, 5.f};
    CHECK(ct_draw_heatmap(&out, &img, ramp, 1, 2, 1.f, 0.f, 0.f) == CT_OK && out.w == 40 && out.h == 20);
    CHECK(memcmp(px(&out, 0, 0), c0, 3) == 0 && memcmp(px(&out, 9, 19), c0, 3) == 0);
    CHECK(memcmp(px(&out, 39, 0), c1, 3) == 0 && memcmp(px(&out, 30, 10), c1, 3) == 0);
    /* pixel 20 sits at source x = (20.5 * 2 / 40) - 0.5 = 0.525 */
    uint8_t want[3];
    ct_colormap_jet(0.525f, want);
    CHECK(memcmp(px(&out, 20, 7), want, 3) == 0);
    ct_image_free(&out);
    /* explicit range, alpha blending */
    CHECK(ct_draw_heatmap(&out, &img, ramp, 1, 2, 0.5f, 3.f, 7.f) == CT_OK);
    ct_colormap_jet(0.5f, want); /* value 5 of [3, 7] */
    const uint8_t *p = px(&out, 39, 0);
    for (int c = 0; c < 3; c++) CHECK(abs((int)p[c] - (int)lrintf(0.5f * 100 + 0.5f * want[c])) <= 1);
    ct_image_free(&out);
    CHECK(ct_draw_heatmap(&out, &img, ramp, 1, 2, 0.f, 0.f, 0.f) == CT_OK);
    CHECK(memcmp(out.rgb, img.rgb, (size_t)40 * 20 * 3) == 0); /* alpha 0: the image */
    ct_image_free(&out);
    float bad[4] = {NAN, INFINITY, 1.f, 1.f}; /* constant finite part: no division by zero */
    CHECK(ct_draw_heatmap(&out, &img, bad, 2, 2, 1.f, 0.f, 0.f) == CT_OK);
    ct_image_free(&out);
    CHECK(ct_draw_heatmap(&out, &img, NULL, 2, 2, 1.f, 0.f, 0.f) == CT_ERR_ARG && out.rgb == NULL);
    CHECK(ct_draw_heatmap(&out, &img, ramp, 0, 2, 1.f, 0.f, 0.f) == CT_ERR_ARG);
    CHECK(ct_draw_heatmap(&out, &img, ramp, 1, 2, 2.f, 0.f, 0.f) == CT_ERR_ARG);
    ct_image_free(&img);
}

int main(void) {
    test_basics();
    test_text();
    test_grid();
    test_heatmap();
    return test_finish();
}
