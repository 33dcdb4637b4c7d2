/* String helpers (core/str.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

char *ct_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *ct_strprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *ct_path_join(const char *root, const char *rel) {
    while (rel[0] == '.' && rel[1] == '/') rel += 2;
    if (!root || !*root || rel[0] == '/') return ct_strdup(rel);
    size_t n = strlen(root);
    return ct_strprintf("%s%s%s", root, root[n - 1] == '/' ? "" : "/", rel);
}

bool ct_split_kv(const char *assignment, char *key, size_t cap, const char **value) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= cap) return false;
    memcpy(key, assignment, (size_t)(eq - assignment));
    key[eq - assignment] = '\0';
    *value = eq + 1;
    return true;
}
