/* The layout table and its four blocks. */
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
    memset(p, 0, sizeof *p);
}

ct_status ct_params_add(ct_params *p, const char *name, int ndim, const int64_t *shape, int *index) {
    if (ndim < 0 || ndim > CT_PARAM_MAX_DIMS)
        return ct_fail(CT_ERR_ARG, "params: %s: %d dimensions (at most %d)", name, ndim, CT_PARAM_MAX_DIMS);
    if (strlen(name) >= CT_PARAM_NAME_MAX)
        return ct_fail(CT_ERR_ARG, "params: name too long: %s", name);
    if (p->param) return ct_fail(CT_ERR_ARG, "params: %s added after allocation", name);
    if (ct_params_find(p, name) >= 0) return ct_fail(CT_ERR_ARG, "params: duplicate name %s", name);
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
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->entries[i].name, name) == 0) return i;
    return -1;
}

void ct_params_zero_grad(ct_params *p) {
    if (p->grad) memset(p->grad, 0, p->total * sizeof(float));
}
