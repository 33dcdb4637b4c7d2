/* One JSON string per line (the input format of `ctcir tokenize` and `ctcir bpe-train`):
 * decoded exactly, so tabs, newlines and NUL characters survive. */
#ifndef CTCIR_JSON_LINE_H
#define CTCIR_JSON_LINE_H

#include <stddef.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes `line` (len bytes; surrounding spaces/tabs/CR allowed) holding one JSON string
 * literal into *out (malloc'ed, NUL-terminated, may hold NULs; *out_len bytes). \uXXXX
 * escapes become UTF-8, surrogate pairs are joined and lone surrogates become U+FFFD; raw
 * bytes are copied as they are. Errors (CT_ERR_FORMAT) say what and at which column. */
ct_status ct_json_string_line(const char *line, size_t len, char **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
