/* Text as Unicode code points, and the steps of CLIP's text normalisation.
 *
 * The tokenizer works on arrays of code points (what a Python str is), so that rules written
 * for Python strings (entity names up to 32 characters, str.lower(), regex classes) carry over
 * one to one. Every step reads `in` and writes `out` (cleared first); both are growable
 * buffers owned by the caller and reused between calls. */
#ifndef CTCIR_CLIP_TEXT_H
#define CTCIR_CLIP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/utf8.h"
#include "ctcir/status.h"

/* Python's html.unescape (3.11): named references from the HTML5 table, also without ';'
 * where the table allows it and as the longest known prefix; numeric references with
 * Python's replacements for invalid code points. */
ct_status ct_html_unescape(ct_cps *out, const ct_cps *in);

/* The deterministic part of ftfy.fix_text (6.x default config); in place, using scratch. */
ct_status ct_ftfy_fix(ct_cps *text, ct_cps *scratch);

/* openai's basic_clean + whitespace_clean + lower: ftfy (if `ftfy`), html.unescape twice,
 * strip, collapse \s+ to ' ', strip, str.lower(). In place. */
ct_status ct_clip_clean(ct_cps *text, ct_cps *scratch, bool ftfy);

/* Character classes as Python and the `regex` module define them. */
bool ct_is_regex_space(uint32_t c); /* `regex` \s: the White_Space property */
bool ct_is_py_space(uint32_t c);    /* str.isspace / str.strip: also U+001C..U+001F */

/* Python str.lower() on the whole string (full mappings, final sigma). */
ct_status ct_py_lower(ct_cps *out, const ct_cps *in);

/* The CLIP pre-tokenizer regex
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * with IGNORECASE, as the `regex` module runs it: the next match at or after *pos. Returns
 * false when none is left; else sets [*start, *end) and moves *pos to *end. */
bool ct_clip_next_word(const uint32_t *v, size_t n, size_t *pos, size_t *start, size_t *end);

/* Python's html.unescape without the HTML5 prefix rule, as ftfy's entity fixer does it:
 * only `&name;` / `&#...;` with the ';' and at most 24 letters or digits, plus upper-cased
 * names ("&EACUTE;"). */
ct_status ct_ftfy_unescape(ct_cps *out, const ct_cps *in);

/* Windows-1252 for U+0080..U+009F (undefined bytes map to themselves); other c unchanged. */
uint32_t ct_cp1252_c1(uint32_t c);

#endif
