/* JSON files and fields (cJSON underneath): whole-file loading with errors that name the
 * file, line and column, and typed field accessors that return NULL/false instead of
 * guessing. Used by the dataset readers, the retrieval files and the configs. */
#ifndef CTCIR_CORE_JSON_H
#define CTCIR_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ctcir/status.h"

/* Parses JSON text (only whitespace may follow the value); on error names `path` and the
 * 1-based line (+ line_base) and column: "<path>: malformed JSON at line L, column C". */
ct_status ct_json_parse(const char *path, const char *text, size_t len, size_t line_base, cJSON **out);
/* Reads (at most 4 GiB) and parses a whole file. */
ct_status ct_json_load(const char *path, cJSON **out);
/* ct_json_load, then the top level must be a list ("expected a JSON list of <what>"). */
ct_status ct_json_load_list(const char *path, cJSON **out, const char *what);

/* The string at `key`; NULL when absent or not a string. */
const char *ct_json_str(const cJSON *o, const char *key);
/* A string copied, or an integral number printed in decimal; NULL otherwise. */
char *ct_json_id_string(const cJSON *v);
/* A list of strings (or integers) copied; false when malformed. *n_out = -1 when absent and
 * allow_absent. Free with ct_str_list_free. */
bool ct_json_str_list(const cJSON *o, const char *key, bool allow_absent, int *n_out, char ***out);
void ct_str_list_free(char **l, int n);

/* The value as text the way Hugging Face writes JSON files: 2-space indentation, ": "
 * after keys, a final newline (cJSON itself indents with tabs). malloc'ed; NULL when out of
 * memory. */
char *ct_json_print(const cJSON *j);

#endif
