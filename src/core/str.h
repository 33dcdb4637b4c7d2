/* Small string helpers every module uses: a NULL-safe strdup, printf into a fresh buffer,
 * path joining, and the "key=value" split of `--set` overrides. */
#ifndef CTCIR_CORE_STR_H
#define CTCIR_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

/* A malloc'ed copy of s; NULL when s is NULL or memory runs out. */
char *ct_strdup(const char *s);
/* vsnprintf into a malloc'ed buffer of the right size; NULL on failure. */
char *ct_strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* root + "/" + rel (no doubled slash); a leading "./" of rel is dropped; an absolute rel or an
 * empty root gives rel alone. malloc'ed, NULL on failure. */
char *ct_path_join(const char *root, const char *rel);
/* Splits "key=value": copies the key (1 .. cap-1 bytes) into key and points *value after the
 * '='. False when there is no '=', the key is empty or it does not fit. */
bool ct_split_kv(const char *assignment, char *key, size_t cap, const char **value);

#endif
