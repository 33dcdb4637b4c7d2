/* Name -> int map (open addressing, FNV-1a). Keys are copied. Used for gallery names,
 * query ids and duplicate checks. */
#ifndef CTCIR_CORE_NAMEMAP_H
#define CTCIR_CORE_NAMEMAP_H

typedef struct ct_namemap ct_namemap;

ct_namemap *ct_namemap_new(void);
void ct_namemap_free(ct_namemap *m);
/* Inserts name -> value; returns the existing value if the name was already there (and
 * leaves it), else `value`; -2 on allocation failure. */
int ct_namemap_put(ct_namemap *m, const char *name, int value);
/* The value of `name`, or -1. */
int ct_namemap_get(const ct_namemap *m, const char *name);

#endif
