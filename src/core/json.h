/* JSON files and fields (cJSON underneath): whole-file loading with errors that name the
 * file, line and column, and typed field accessors that return NULL/false instead of
 * guessing. Used by the dataset readers, the retrieval files and the configs. */
#ifndef CTCIR_CORE_JSON_H
#define CTCIR_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "ctcir/status.h"

/* Parses JSON text (only whitespace may follow the value); on error names `path` and the
 * 1-based line (+ line_base) and column: "<path>: malformed JSON at line L, column C". */
ct_status ct_json_parse(const char *path, const char *text, size_t len, size_t line_base, cJSON **out);
/* cJSON ends a string at a decoded NUL, so "a\u0000b" would silently read as "a". Before
 * parsing, ct_json_parse turns every \u0000 escape into \uffff (a Unicode noncharacter),
 * which survives as the 3 bytes of CT_JSON_NUL_MARK; readers refuse or skip strings for
 * which ct_json_has_nul is true (input U+FFFF is treated the same way). */
#define CT_JSON_NUL_MARK "\xEF\xBF\xBF"
bool ct_json_has_nul(const char *s);
/* Reads (at most 4 GiB) and parses a whole file. */
ct_status ct_json_load(const char *path, cJSON **out);
/* ct_json_load, then the top level must be a list ("expected a JSON list of <what>"). */
ct_status ct_json_load_list(const char *path, cJSON **out, const char *what);

/* Checked conversions: true, with *out set, only when d (or the JSON number v) is a whole
 * number in [lo, hi]. Never casts an out-of-range or non-finite double (undefined
 * behaviour in C). */
bool ct_double_to_i64(double d, int64_t lo, int64_t hi, int64_t *out);
bool ct_json_int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out);

/* Writes s as a JSON string literal (quotes included) that is always valid JSON: '"', '\\'
 * and control characters escaped, invalid UTF-8 bytes replaced by U+FFFD (\ufffd), like
 * Python's errors="replace" one byte at a time. Returns false when the stream has an error. */
bool ct_json_put_string(FILE *f, const char *s);

/* cJSON_Print / cJSON_PrintUnformatted, then every invalid UTF-8 byte (which cJSON copies
 * into strings as it is) replaced by the escape \ufffd, so the text is always valid JSON.
 * malloc'ed; NULL when out of memory. */
char *ct_json_print(const cJSON *j, bool formatted);

/* The string at `key`; NULL when absent or not a string. */
const char *ct_json_str(const cJSON *o, const char *key);
/* A string copied, or an integral number printed in decimal; NULL otherwise. */
char *ct_json_id_string(const cJSON *v);
/* A list of strings (or integers) copied; false when malformed. *n_out = -1 when absent and
 * allow_absent. Free with ct_str_list_free. */
bool ct_json_str_list(const cJSON *o, const char *key, bool allow_absent, int *n_out, char ***out);
void ct_str_list_free(char **l, int n);

#endif
