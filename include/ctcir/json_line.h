/* JSON text in and out: one JSON string per line (the input format of `ctcir tokenize` and
 * `ctcir bpe-train`), decoded exactly, so tabs, newlines and NUL characters survive; and JSON
 * written so that it always parses, whatever bytes the strings hold. */
#ifndef CTCIR_JSON_LINE_H
#define CTCIR_JSON_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes `line` (len bytes; surrounding spaces/tabs/CR allowed) holding one JSON string
 * literal into *out (malloc'ed, NUL-terminated, may hold NULs; *out_len bytes). \uXXXX
 * escapes become UTF-8, surrogate pairs are joined and lone surrogates become U+FFFD; raw
 * bytes are copied as they are. Errors (CT_ERR_FORMAT) say what and at which column. */
ct_status ct_json_string_line(const char *line, size_t len, char **out, size_t *out_len);

/* Writes s as a JSON string literal (quotes included) that is always valid JSON: '"', '\\'
 * and control characters escaped, invalid UTF-8 bytes replaced by U+FFFD (\ufffd), like
 * Python's errors="replace" one byte at a time. Returns false when the stream has an error. */
bool ct_json_put_string(FILE *f, const char *s);

/* cJSON_Print / cJSON_PrintUnformatted (of a cJSON tree, <cjson/cJSON.h>), then every
 * invalid UTF-8 byte (which cJSON copies into strings as it is) replaced by the escape
 * \ufffd, so the text is always valid JSON. malloc'ed; NULL when out of memory. */
struct cJSON;
char *ct_json_print(const struct cJSON *j, bool formatted);

#ifdef __cplusplus
}
#endif
#endif
