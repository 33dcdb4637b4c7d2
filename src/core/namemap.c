/* Name -> int map (core/namemap.h): open addressing, FNV-1a, power-of-two capacity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/namemap.h"
#include "core/str.h"

struct ct_namemap {
    char **keys;
    int *vals;
    size_t cap, count; /* cap is a power of two */
};

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

ct_namemap *ct_namemap_new(void) {
    ct_namemap *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 64;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    if (!m->keys || !m->vals) {
        ct_namemap_free(m);
        return NULL;
    }
    return m;
}

void ct_namemap_free(ct_namemap *m) {
    if (!m) return;
    if (m->keys)
        for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    free(m);
}

static bool namemap_grow(ct_namemap *m) {
    size_t ncap = m->cap * 2;
    char **nk = calloc(ncap, sizeof *nk);
    int *nv = calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = fnv1a(m->keys[i]) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return true;
}

int ct_namemap_put(ct_namemap *m, const char *name, int value) {
    if ((m->count + 1) * 2 > m->cap && !namemap_grow(m)) return -2;
    size_t j = fnv1a(name) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], name) == 0) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = ct_strdup(name);
    if (!m->keys[j]) return -2;
    m->vals[j] = value;
    m->count++;
    return value;
}

int ct_namemap_get(const ct_namemap *m, const char *name) {
    if (!m || !name) return -1;
    size_t j = fnv1a(name) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], name) == 0) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}
