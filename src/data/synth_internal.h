/* Shared internals of the synth-shapes generator (scene, captions, renderer, writer). */
#ifndef CTCIR_DATA_SYNTH_INTERNAL_H
#define CTCIR_DATA_SYNTH_INTERNAL_H

#include <stdint.h>

#include "core/rng.h"
#include "ctcir/synth.h"

/* Object radius and jitter range as fractions of a cell's width. */
#define SYNTH_RADIUS_SMALL 0.25f
#define SYNTH_RADIUS_LARGE 0.38f
#define SYNTH_JITTER 0.05f

/* A seed for item `index` of stream `stream` derived from the user's seed (splitmix-style
 * mixing, so neighbouring indices give unrelated streams). */
uint64_t synth_mix_seed(uint64_t seed, uint64_t stream, uint64_t index);

/* A fresh random jitter for an object. */
void synth_jitter(ct_synth_object *o, ct_rng *r);

/* Index of the object at `cell`, or -1. */
int synth_find_cell(const ct_synth_scene *s, int cell);

/* The RGB triple of an object colour / background colour. */
void synth_object_rgb(int color, uint8_t rgb[3]);
void synth_bg_rgb(int color, uint8_t rgb[3]);

/* Writes the caption, edit clauses and noun phrases of t (edits, ref and tgt already set). */
void synth_write_caption(ct_synth_triplet *t, ct_rng *r);

#endif
