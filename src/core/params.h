/* Parameters, gradients and the two AdamW moments: four parallel flat float blocks that
 * share one layout table (name, shape, offset). Everything that walks all parameters
 * (optimizer, clipping, zeroing, checkpoint I/O, loading) is a loop over `entries`.
 *
 * Offsets are multiples of 16 floats, so every tensor starts 64-byte aligned in each block.
 * Build the table with ct_params_add, then ct_params_alloc once; pointers into the blocks
 * stay valid until ct_params_free. m and v are allocated only by ct_params_alloc_moments
 * (inference needs neither). */
#ifndef CTCIR_CORE_PARAMS_H
#define CTCIR_CORE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctcir/status.h"

#define CT_PARAM_NAME_MAX 128
#define CT_PARAM_MAX_DIMS 4

typedef struct {
    char name[CT_PARAM_NAME_MAX]; /* HF name, e.g. "vision_model.pre_layrnorm.weight" */
    int ndim;                     /* 0 for a scalar such as logit_scale */
    int64_t shape[CT_PARAM_MAX_DIMS];
    size_t numel;
    size_t offset; /* in floats, into each of the four blocks */
    bool frozen;   /* no update at all (freezing a tower) */
    bool used;     /* has a path to the loss in the current model (set by the model) */
} ct_param_entry;

typedef struct {
    ct_param_entry *entries;
    int count, cap;
    size_t total; /* floats per block, padding included */
    float *param, *grad, *m, *v;
    int *slots;  /* name hash -> entry index + 1 (0: empty), open addressing */
    int n_slots; /* a power of two, more than twice count */
} ct_params;

void ct_params_init(ct_params *p);
void ct_params_free(ct_params *p);

/* Adds a tensor to the table (before ct_params_alloc); returns its index in *index. */
ct_status ct_params_add(ct_params *p, const char *name, int ndim, const int64_t *shape, int *index);

/* Allocates param and grad (zeroed, 64-byte aligned). */
ct_status ct_params_alloc(ct_params *p);
/* Allocates the AdamW moments m and v (zeroed). */
ct_status ct_params_alloc_moments(ct_params *p);

/* Index of a tensor by name, or -1 (a hash lookup). */
int ct_params_find(const ct_params *p, const char *name);

static inline float *ct_param(const ct_params *p, int i) { return p->param + p->entries[i].offset; }
static inline float *ct_grad(const ct_params *p, int i) { return p->grad + p->entries[i].offset; }

void ct_params_zero_grad(ct_params *p);

#endif
