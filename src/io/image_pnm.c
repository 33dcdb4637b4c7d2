/* Netpbm images, all six kinds: P1/P4 bitmaps (1 = black), P2/P5 grey, P3/P6 colour, plain
 * (ASCII) or raw. Samples are scaled to 0..255 as round(v * 255 / maxval), which is the
 * identity for the usual maxval 255; 16-bit raw samples are big-endian. */
#include <string.h>

#include "io/image_internal.h"

typedef struct {
    const uint8_t *p;
    size_t len, pos;
} pnm_reader;

static int pnm_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

/* Skips whitespace and '#' comments. */
static void pnm_skip(pnm_reader *r) {
    while (r->pos < r->len) {
        int c = r->p[r->pos];
        if (c == '#') {
            while (r->pos < r->len && r->p[r->pos] != '\n' && r->p[r->pos] != '\r') r->pos++;
        } else if (pnm_space(c)) {
            r->pos++;
        } else {
            break;
        }
    }
}

/* A decimal number of at most 9 digits (so it fits an int); -1 if none. */
static int pnm_number(pnm_reader *r) {
    pnm_skip(r);
    int v = 0, digits = 0;
    while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
        if (++digits > 9) return -1;
        v = v * 10 + (r->p[r->pos++] - '0');
    }
    return digits ? v : -1;
}

ct_status ct_img_decode_pnm(ct_image *out, const uint8_t *buf, size_t len, const char *name) {
    pnm_reader r = {buf, len, 2};
    int kind = buf[1] - '0'; /* 1..6, checked by the caller */
    int bitmap = kind == 1 || kind == 4, colour = kind == 3 || kind == 6, plain = kind <= 3;
    int w = pnm_number(&r), h = pnm_number(&r);
    int maxval = bitmap ? 1 : pnm_number(&r);
    if (w < 0 || h < 0 || maxval < 0)
        return ct_fail(CT_ERR_FORMAT, "image: %s: PNM P%d header is truncated or malformed", name, kind);
    if (maxval < 1 || maxval > 65535)
        return ct_fail(CT_ERR_FORMAT, "image: %s: PNM maxval %d is outside 1..65535", name, maxval);
    ct_status st = ct_img_alloc(out, w, h, "PNM", name);
    if (st != CT_OK) return st;
    if (!plain) {
        /* Exactly one whitespace byte separates the header from raw data. */
        if (r.pos >= len || !pnm_space(r.p[r.pos])) goto truncated;
        r.pos++;
    }
    int chans = colour ? 3 : 1, bytes = maxval > 255 ? 2 : 1;
    size_t row_bytes = kind == 4 ? ((size_t)w + 7) / 8 : (size_t)w * (size_t)chans * (size_t)bytes;
    if (!plain && (len - r.pos) / row_bytes < (size_t)h) goto truncated;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = plain ? NULL : r.p + r.pos + (size_t)y * row_bytes;
        for (int x = 0; x < w; x++) {
            uint8_t *o = out->rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            for (int c = 0; c < chans; c++) {
                int v;
                if (kind == 4) {
                    v = (row[x / 8] >> (7 - x % 8)) & 1;
                } else if (kind == 1) {
                    pnm_skip(&r); /* P1 samples are single digits, separators optional */
                    if (r.pos >= len || (r.p[r.pos] != '0' && r.p[r.pos] != '1')) goto truncated;
                    v = r.p[r.pos++] - '0';
                } else if (plain) {
                    if ((v = pnm_number(&r)) < 0) goto truncated;
                } else {
                    const uint8_t *s = row + ((size_t)x * (size_t)chans + (size_t)c) * (size_t)bytes;
                    v = bytes == 2 ? (s[0] << 8) | s[1] : s[0];
                }
                if (v > maxval) {
                    ct_image_free(out);
                    return ct_fail(CT_ERR_FORMAT, "image: %s: PNM sample %d at (%d, %d) exceeds maxval %d", name, v, x,
                                   y, maxval);
                }
                /* Bitmaps: 1 is black. */
                uint8_t u = bitmap ? (uint8_t)(v ? 0 : 255) : (uint8_t)(((long)v * 255 * 2 + maxval) / (2L * maxval));
                if (colour)
                    o[c] = u;
                else
                    o[0] = o[1] = o[2] = u;
            }
        }
    }
    return CT_OK;
truncated:
    ct_image_free(out);
    return ct_fail(CT_ERR_FORMAT, "image: %s: PNM P%d data is truncated or malformed", name, kind);
}
