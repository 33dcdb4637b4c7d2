/* Activation planning: a bump allocator over one block, run twice. The first pass has no
 * base and only measures; the second hands out 64-byte-aligned pieces of the real block.
 *
 *     ct_plan p = {0};                 bind(&p, ...);   // measure: p.used floats
 *     float *mem = ct_plan_alloc(&p);  bind(&p, ...);   // bind pointers into mem
 */
#ifndef CTCIR_CORE_PLAN_H
#define CTCIR_CORE_PLAN_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *base; /* NULL while measuring */
    size_t used; /* floats handed out so far */
} ct_plan;

static inline float *ct_plan_take(ct_plan *p, size_t n) {
    float *r = p->base ? p->base + p->used : NULL;
    p->used += (n + 15) / 16 * 16;
    return r;
}

/* Allocates the measured block (zeroed) and rewinds the plan to hand it out. */
static inline float *ct_plan_alloc(ct_plan *p) {
    size_t bytes = (p->used ? p->used : 16) * sizeof(float);
    float *mem = (float *)aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (mem) memset(mem, 0, bytes);
    p->base = mem;
    p->used = 0;
    return mem;
}

#endif
