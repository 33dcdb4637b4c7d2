/* The layout table and its four blocks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/params.h"

#define ALIGN_FLOATS 16

void ct_params_init(ct_params *p) { memset(p, 0, sizeof *p); }

void ct_params_free(ct_params *p) {
    if (!p) return;
    free(p->entries);
    free(p->param);
    free(p->grad);
    free(p->m);
    free(p->v);
    free(p->slots);
    memset(p, 0, sizeof *p);
}

static uint32_t name_hash(const char *name) {
    uint32_t h = 2166136261u;
    for (; *name; name++) h = (h ^ (uint8_t)*name) * 16777619u;
    return h;
}

/* The slot holding `name`, or the empty slot where it would go. */
static int *find_slot(const ct_params *p, const char *name) {
    const uint32_t mask = (uint32_t)p->n_slots - 1;
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        int *slot = &p->slots[i];
        if (*slot == 0 || strcmp(p->entries[*slot - 1].name, name) == 0) return slot;
    }
}

static ct_status grow_slots(ct_params *p) {
    int n = p->n_slots ? p->n_slots * 2 : 512;
    int *slots = calloc((size_t)n, sizeof *slots);
    if (!slots) return ct_fail(CT_ERR_NOMEM, "params: out of memory growing the name table");
    free(p->slots);
    p->slots = slots;
    p->n_slots = n;
    for (int i = 0; i < p->count; i++) *find_slot(p, p->entries[i].name) = i + 1;
    return CT_OK;
}

ct_status ct_params_add(ct_params *p, const char *name, int ndim, const int64_t *shape, int *index) {
    if (ndim < 0 || ndim > CT_PARAM_MAX_DIMS)
        return ct_fail(CT_ERR_ARG, "params: %s: %d dimensions (at most %d)", name, ndim, CT_PARAM_MAX_DIMS);
    if (strlen(name) >= CT_PARAM_NAME_MAX) return ct_fail(CT_ERR_ARG, "params: name too long: %s", name);
    if (p->param) return ct_fail(CT_ERR_ARG, "params: %s added after allocation", name);
    if (2 * (p->count + 1) >= p->n_slots) {
        ct_status s = grow_slots(p);
        if (s) return s;
    }
    int *slot = find_slot(p, name);
    if (*slot) return ct_fail(CT_ERR_ARG, "params: duplicate name %s", name);
    if (p->count == p->cap) {
        int cap = p->cap ? 2 * p->cap : 256;
        ct_param_entry *e = realloc(p->entries, (size_t)cap * sizeof *e);
        if (!e) return ct_fail(CT_ERR_NOMEM, "params: out of memory growing the table");
        p->entries = e;
        p->cap = cap;
    }
    ct_param_entry *e = &p->entries[p->count];
    memset(e, 0, sizeof *e);
    strcpy(e->name, name);
    e->ndim = ndim;
    e->numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0) return ct_fail(CT_ERR_ARG, "params: %s: dimension %d is %lld", name, d, (long long)shape[d]);
        e->shape[d] = shape[d];
        e->numel *= (size_t)shape[d];
    }
    e->offset = p->total;
    e->used = true;
    p->total += (e->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    if (index) *index = p->count;
    p->count++;
    *slot = p->count;
    return CT_OK;
}

static float *alloc_block(size_t n) {
    size_t bytes = (n ? n : ALIGN_FLOATS) * sizeof(float);
    float *b = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (b) memset(b, 0, bytes);
    return b;
}

ct_status ct_params_alloc(ct_params *p) {
    p->param = alloc_block(p->total);
    p->grad = alloc_block(p->total);
    if (!p->param || !p->grad)
        return ct_fail(CT_ERR_NOMEM, "params: cannot allocate 2 x %.1f MB", p->total * 4.0 / 1e6);
    return CT_OK;
}

ct_status ct_params_alloc_moments(ct_params *p) {
    if (p->m) return CT_OK;
    p->m = alloc_block(p->total);
    p->v = alloc_block(p->total);
    if (!p->m || !p->v)
        return ct_fail(CT_ERR_NOMEM, "params: cannot allocate AdamW moments, 2 x %.1f MB", p->total * 4.0 / 1e6);
    return CT_OK;
}

int ct_params_find(const ct_params *p, const char *name) {
    if (!p->n_slots) return -1;
    const int slot = *find_slot(p, name);
    return slot - 1;
}

void ct_params_zero_grad(ct_params *p) {
    if (p->grad) memset(p->grad, 0, p->total * sizeof(float));
}
