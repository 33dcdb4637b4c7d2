/* Colour handling per format, with files built inside the test: PNG colour types and depths
 * (written with libpng: grey, grey+alpha, palette with tRNS, RGBA, 16-bit, low bit depths,
 * interlaced), CMYK JPEG (libjpeg's compressor), and BMP, TGA, PNM and GIF built byte by byte.
 * Expected pixels follow Pillow's Image.open(f).convert("RGB") rules, computed here from the
 * source values. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "ctcir/image.h"
#include "test_tmpdir.h"
#include "test_util.h"

#define W 7
#define H 5

/* Writes a PNG of colour type `ctype` and bit depth `depth` whose rows are `rows` (already
 * packed the libpng way); optional palette/tRNS. */
static int write_png(const char *path, int w, int h, int ctype, int depth, int interlace, uint8_t **rows,
                     const png_color *pal, int npal, const uint8_t *trns, int ntrns, const png_color_16 *trns_col) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return 0;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns || trns_col) png_set_tRNS(png, info, trns, ntrns, trns_col);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return 1;
}

static ct_image load_tmp(const char *name, const uint8_t *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    if (data) {
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
    ct_image img;
    ct_status s = ct_image_load(&img, path);
    CHECK_MSG(s == CT_OK, "%s: %s", name, ct_error());
    return img;
}

/* Compares img to expected RGB (w x h), within tol. */
static void expect_rgb(const char *what, const ct_image *img, const uint8_t *want, int w, int h, int tol) {
    if (!img->rgb || img->w != w || img->h != h) {
        CHECK_MSG(0, "%s: got %dx%d, want %dx%d", what, img->w, img->h, w, h);
        return;
    }
    int worst = 0;
    for (int i = 0; i < w * h * 3; i++) {
        int d = abs((int)img->rgb[i] - (int)want[i]);
        if (d > worst) worst = d;
    }
    CHECK_MSG(worst <= tol, "%s: max abs diff %d > %d", what, worst, tol);
}

/* Writes a W x H PNG (arguments as write_png after the size) named `name`, loads it and compares
 * with `want` exactly. */
static void png_case(const char *what, const char *name, const uint8_t *want, int ctype, int depth, int interlace,
                     uint8_t **rows, const png_color *pal, int npal, const uint8_t *trns, int ntrns,
                     const png_color_16 *trns_col) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    CHECK(write_png(path, W, H, ctype, depth, interlace, rows, pal, npal, trns, ntrns, trns_col));
    ct_image img = load_tmp(name, NULL, 0);
    expect_rgb(what, &img, want, W, H, 0);
    ct_image_free(&img);
}

static uint8_t val(int x, int y, int c) { return (uint8_t)(x * 31 + y * 17 + c * 71 + 5); }

static void test_png_types(void) {
    uint8_t buf[H][W * 8];
    uint8_t *rows[H];
    uint8_t want[W * H * 3];
    for (int y = 0; y < H; y++) rows[y] = buf[y];

    /* 8-bit grey: copied to R, G, B. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            buf[y][x] = val(x, y, 0);
            for (int c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = val(x, y, 0);
        }
    png_case("grey PNG", "grey.png", want, PNG_COLOR_TYPE_GRAY, 8, 0, rows, NULL, 0, NULL, 0, NULL);

    /* Grey with a tRNS colour: transparency ignored. */
    png_color_16 tc = {0, 0, 0, 0, val(1, 1, 0)};
    png_case("grey+tRNS PNG", "grey_trns.png", want, PNG_COLOR_TYPE_GRAY, 8, 0, rows, NULL, 0, NULL, 0, &tc);

    /* Grey + alpha: alpha dropped, not composited. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            buf[y][2 * x] = val(x, y, 0);
            buf[y][2 * x + 1] = (uint8_t)(x * 40);
        }
    png_case("grey+alpha PNG", "la.png", want, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, rows, NULL, 0, NULL, 0, NULL);

    /* 4-bit and 1-bit grey: scaled to full range (v * 17, v * 255). */
    for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof buf[y]);
        for (int x = 0; x < W; x++) {
            int v = (x + 3 * y) & 15;
            buf[y][x / 2] |= (uint8_t)(x % 2 ? v : v << 4);
            for (int c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = (uint8_t)(v * 17);
        }
    }
    png_case("4-bit grey PNG", "grey4.png", want, PNG_COLOR_TYPE_GRAY, 4, 0, rows, NULL, 0, NULL, 0, NULL);
    for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof buf[y]);
        for (int x = 0; x < W; x++) {
            int v = (x + y) & 1;
            buf[y][0] |= (uint8_t)(v << (7 - x));
            for (int c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = (uint8_t)(v * 255);
        }
    }
    png_case("1-bit grey PNG", "grey1.png", want, PNG_COLOR_TYPE_GRAY, 1, 0, rows, NULL, 0, NULL, 0, NULL);

    /* Palette (2-bit indices) with tRNS: palette colours, transparency ignored. */
    png_color pal[4] = {{10, 20, 30}, {200, 100, 50}, {0, 255, 128}, {77, 77, 254}};
    uint8_t trns[4] = {0, 128, 255, 3};
    for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof buf[y]);
        for (int x = 0; x < W; x++) {
            int idx = (x * 3 + y) & 3;
            buf[y][x / 4] |= (uint8_t)(idx << (6 - 2 * (x % 4)));
            want[(y * W + x) * 3 + 0] = pal[idx].red;
            want[(y * W + x) * 3 + 1] = pal[idx].green;
            want[(y * W + x) * 3 + 2] = pal[idx].blue;
        }
    }
    png_case("palette+tRNS PNG", "pal.png", want, PNG_COLOR_TYPE_PALETTE, 2, 0, rows, pal, 4, trns, 4, NULL);

    /* RGBA: alpha dropped. Interlaced RGB: same pixels. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 4; c++) {
                buf[y][4 * x + c] = c < 3 ? val(x, y, c) : (uint8_t)(y * 60);
                if (c < 3) want[(y * W + x) * 3 + c] = val(x, y, c);
            }
    png_case("RGBA PNG", "rgba.png", want, PNG_COLOR_TYPE_RGBA, 8, 0, rows, NULL, 0, NULL, 0, NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) buf[y][3 * x + c] = val(x, y, c);
    png_case("interlaced RGB PNG", "adam7.png", want, PNG_COLOR_TYPE_RGB, 8, 1, rows, NULL, 0, NULL, 0, NULL);

    /* 16-bit RGB (and interlaced 16-bit RGBA): Pillow keeps the high byte ("RGB;16B"). */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                buf[y][6 * x + 2 * c] = val(x, y, c);
                buf[y][6 * x + 2 * c + 1] = (uint8_t)(255 - c * 100); /* low byte, ignored */
            }
    png_case("16-bit RGB PNG", "rgb16.png", want, PNG_COLOR_TYPE_RGB, 16, 0, rows, NULL, 0, NULL, 0, NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 4; c++) {
                buf[y][8 * x + 2 * c] = c < 3 ? val(x, y, c) : 9;
                buf[y][8 * x + 2 * c + 1] = 200;
            }
    png_case("16-bit interlaced RGBA PNG", "rgba16i.png", want, PNG_COLOR_TYPE_RGBA, 16, 1, rows, NULL, 0, NULL, 0,
             NULL);

    /* 16-bit grey: Pillow opens it as mode "I" and convert("RGB") clips each value to 0..255. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = x == 0 ? 1000 * y : (x == 1 ? y * 50 : 256 * x + y);
            buf[y][2 * x] = (uint8_t)(v >> 8);
            buf[y][2 * x + 1] = (uint8_t)v;
            for (int c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
        }
    png_case("16-bit grey PNG", "grey16.png", want, PNG_COLOR_TYPE_GRAY, 16, 0, rows, NULL, 0, NULL, 0, NULL);
}

/* Writes `name` in tmpdir with libjpeg's compressor at quality 100; row y starts at
 * pix + y * stride (stride 0 repeats one row). */
static void write_jpeg(const char *name, int w, int h, int comps, J_COLOR_SPACE cs, const uint8_t *pix, int stride) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = comps;
    ci.in_color_space = cs;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    for (int y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)y * (size_t)stride);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
}

static void test_cmyk_jpeg(void) {
    /* Four flat 8x8-aligned quadrants, stored as raw CMYK samples by libjpeg (which writes an
     * Adobe marker and YCCK). Pillow reads 4-channel JPEGs as inverted ("CMYK;I") CMYK, so the
     * RGB it gives is stored_c * stored_k / 255 per channel. */
    enum { S = 32 };
    static const uint8_t q[4][4] = {{255, 255, 255, 255}, {200, 40, 120, 255}, {255, 0, 128, 128}, {10, 250, 90, 60}};
    uint8_t cmyk[S * S * 4], want[S * S * 3];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const uint8_t *v = q[(y >= S / 2) * 2 + (x >= S / 2)];
            memcpy(cmyk + (y * S + x) * 4, v, 4);
            for (int c = 0; c < 3; c++) want[(y * S + x) * 3 + c] = (uint8_t)((v[c] * v[3] + 127) / 255);
        }
    write_jpeg("cmyk.jpg", S, S, 4, JCS_CMYK, cmyk, S * 4);
    ct_image img = load_tmp("cmyk.jpg", NULL, 0);
    expect_rgb("CMYK JPEG", &img, want, S, S, 3);
    ct_image_free(&img);

    /* Grey JPEG: grey copied to R, G, B. */
    uint8_t grey[S];
    for (int x = 0; x < S; x++) grey[x] = (uint8_t)(x * 8);
    write_jpeg("grey.jpg", S, S, 1, JCS_GRAYSCALE, grey, 0);
    img = load_tmp("grey.jpg", NULL, 0);
    int same = img.rgb != NULL;
    for (int i = 0; same && i < S * S; i++)
        same = img.rgb[3 * i] == img.rgb[3 * i + 1] && img.rgb[3 * i] == img.rgb[3 * i + 2] &&
               abs(img.rgb[3 * i] - grey[i % S]) <= 8;
    CHECK_MSG(same, "grey JPEG is not grey copied to R, G, B");
    ct_image_free(&img);
}

static void put_le(uint8_t *p, uint32_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void test_stb_formats(void) {
    uint8_t want[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) want[(y * W + x) * 3 + c] = val(x, y, c);

    /* BMP: 24-bit BGR, bottom-up rows padded to 4 bytes. */
    int stride = (W * 3 + 3) & ~3;
    size_t bmp_len = 54 + (size_t)stride * H;
    uint8_t *bmp = calloc(1, bmp_len);
    bmp[0] = 'B';
    bmp[1] = 'M';
    put_le(bmp + 2, (uint32_t)bmp_len, 4);
    put_le(bmp + 10, 54, 4);
    put_le(bmp + 14, 40, 4);
    put_le(bmp + 18, W, 4);
    put_le(bmp + 22, H, 4);
    put_le(bmp + 26, 1, 2);
    put_le(bmp + 28, 24, 2);
    put_le(bmp + 34, (uint32_t)(stride * H), 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) bmp[54 + (H - 1 - y) * stride + x * 3 + c] = val(x, y, 2 - c);
    ct_image img = load_tmp("img.bmp", bmp, bmp_len);
    expect_rgb("BMP", &img, want, W, H, 0);
    ct_image_free(&img);
    free(bmp);

    /* TGA: type 2 (uncompressed true colour), 24-bit BGR, origin bottom-left. The .png name
     * shows that detection looks at the bytes, not the extension. */
    uint8_t tga[18 + W * H * 3] = {0};
    tga[2] = 2;
    put_le(tga + 12, W, 2);
    put_le(tga + 14, H, 2);
    tga[16] = 24;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) tga[18 + ((H - 1 - y) * W + x) * 3 + c] = val(x, y, 2 - c);
    img = load_tmp("tga_named.png", tga, sizeof tga);
    expect_rgb("TGA", &img, want, W, H, 0);
    ct_image_free(&img);

    /* PPM (P6) and PGM (P5), binary, with a comment in the header. */
    uint8_t pnm[64 + W * H * 3];
    int n = snprintf((char *)pnm, 64, "P6\n# made by hand\n%d %d\n255\n", W, H);
    memcpy(pnm + n, want, sizeof want);
    img = load_tmp("img.ppm", pnm, (size_t)n + sizeof want);
    expect_rgb("PPM", &img, want, W, H, 0);
    ct_image_free(&img);
    uint8_t gwant[W * H * 3];
    n = snprintf((char *)pnm, 64, "P5 %d %d 255\n", W, H);
    for (int i = 0; i < W * H; i++) {
        pnm[n + i] = (uint8_t)(i * 5);
        gwant[3 * i] = gwant[3 * i + 1] = gwant[3 * i + 2] = (uint8_t)(i * 5);
    }
    img = load_tmp("img.pgm", pnm, (size_t)n + W * H);
    expect_rgb("PGM", &img, gwant, W, H, 0);
    ct_image_free(&img);

    /* Plain formats, scaled maxval, bitmaps (1 = black), 16-bit raw. */
    static const char p3[] = "P3\n# plain\n2 1\n15\n15 0 7\n 8 15 1\n";
    static const uint8_t p3want[6] = {255, 0, 119, 136, 255, 17}; /* round(v * 255 / 15) */
    img = load_tmp("plain.ppm", (const uint8_t *)p3, sizeof p3 - 1);
    expect_rgb("P3 maxval 15", &img, p3want, 2, 1, 0);
    ct_image_free(&img);
    static const char p1[] = "P1 3 2 #c\n010\n1 1 0\n";
    static const uint8_t p1want[18] = {255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255};
    img = load_tmp("plain.pbm", (const uint8_t *)p1, sizeof p1 - 1);
    expect_rgb("P1", &img, p1want, 3, 2, 0);
    ct_image_free(&img);
    static const uint8_t p4[] = {'P', '4', '\n', '3', ' ', '2', '\n', 0x40, 0xc0};
    img = load_tmp("raw.pbm", p4, sizeof p4);
    expect_rgb("P4", &img, p1want, 3, 2, 0);
    ct_image_free(&img);
    static const uint8_t p6_16[] = {'P', '6', ' ',  '1',  ' ',  '1',  ' ',  '6',  '5', '5',
                                    '3', '5', '\n', 0xff, 0xff, 0x00, 0x00, 0x80, 0x00};
    static const uint8_t p6want[3] = {255, 0, 128}; /* round(32768 * 255 / 65535) */
    img = load_tmp("raw16.ppm", p6_16, sizeof p6_16);
    expect_rgb("P6 16-bit", &img, p6want, 1, 1, 0);
    ct_image_free(&img);
    static const char *bad[] = {"P2 2 1 10 3 11",         "P2 2 1 10 3",           "P5 2 2 255\n\x01\x02\x03",
                                "P6 1 1 0\n\x01\x02\x03", "P2 9999999999 1 255 0", "P1 2 1 0 2"};
    for (int i = 0; i < 6; i++) {
        ct_status s = ct_image_decode(&img, bad[i], strlen(bad[i]), "bad.pnm");
        CHECK_MSG(s == CT_ERR_FORMAT && img.rgb == NULL, "bad PNM %d accepted", i);
    }

    /* GIF89a, 4-colour global palette, LZW with minimum code size 2 (3-bit codes), written
     * without compression: a clear code before every pixel keeps the code width at 3 bits. */
    static const uint8_t gpal[4][3] = {{0, 0, 0}, {255, 0, 0}, {12, 200, 34}, {90, 91, 250}};
    uint8_t gif[512];
    size_t g = 0;
    memcpy(gif, "GIF89a", 6);
    g = 6;
    put_le(gif + g, W, 2);
    put_le(gif + g + 2, H, 2);
    gif[g + 4] = 0x81; /* global table, 2^(1+1) = 4 entries */
    gif[g + 5] = 0;
    gif[g + 6] = 0;
    g += 7;
    memcpy(gif + g, gpal, 12);
    g += 12;
    gif[g++] = 0x2c;
    put_le(gif + g, 0, 4);
    put_le(gif + g + 4, W, 2);
    put_le(gif + g + 6, H, 2);
    gif[g + 8] = 0;
    g += 9;
    gif[g++] = 2; /* LZW minimum code size */
    uint8_t data[256] = {0};
    int bits = 0;
    uint8_t pwant[W * H * 3];
    for (int i = 0; i <= W * H; i++) {
        int codes[2] = {4, i < W * H ? (i * 7 + i / W) & 3 : 5}; /* clear, pixel (or EOI) */
        for (int k = 0; k < (i < W * H ? 2 : 1); k++) {
            int code = i < W * H ? codes[k] : 5;
            for (int b = 0; b < 3; b++, bits++)
                if (code >> b & 1) data[bits / 8] |= (uint8_t)(1 << (bits % 8));
        }
        if (i < W * H) memcpy(pwant + 3 * i, gpal[codes[1]], 3);
    }
    int nbytes = (bits + 7) / 8;
    gif[g++] = (uint8_t)nbytes;
    memcpy(gif + g, data, (size_t)nbytes);
    g += (size_t)nbytes;
    gif[g++] = 0;    /* block terminator */
    gif[g++] = 0x3b; /* trailer */
    img = load_tmp("img.gif", gif, g);
    expect_rgb("GIF", &img, pwant, W, H, 0);
    ct_image_free(&img);
}

int main(void) {
    if (!tmpdir_make("image_formats")) return 1;
    test_png_types();
    test_cmyk_jpeg();
    test_stb_formats();
    tmpdir_remove();
    return test_finish();
}
