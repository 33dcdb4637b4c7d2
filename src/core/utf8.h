/* UTF-8 text as Unicode code points: a growable code-point buffer (what a Python str is),
 * decoding with Python's replacement rules, and encoding one code point. */
#ifndef CTCIR_CORE_UTF8_H
#define CTCIR_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

typedef struct {
    uint32_t *v;
    size_t n, cap;
} ct_cps;

ct_status ct_cps_reserve(ct_cps *b, size_t n); /* capacity for n code points */
ct_status ct_cps_reset(ct_cps *b, size_t n);   /* empty, with capacity for n */
ct_status ct_cps_push(ct_cps *b, uint32_t c);
ct_status ct_cps_append(ct_cps *b, const uint32_t *v, size_t n);
void ct_cps_swap(ct_cps *a, ct_cps *b);
void ct_cps_free(ct_cps *b);

/* UTF-8 -> code points, appended to out. Invalid input never fails: every maximal ill-formed
 * subsequence (Unicode 3.9 / W3C practice, what Python's bytes.decode("utf-8", "replace")
 * does) becomes one U+FFFD. *n_bad (optional) counts them. */
ct_status ct_utf8_decode(ct_cps *out, const char *s, size_t n, size_t *n_bad);
/* One code point -> 1..4 UTF-8 bytes (surrogates and values > 0x10FFFF as U+FFFD). */
int ct_utf8_put(uint32_t c, uint8_t out[4]);

#endif
