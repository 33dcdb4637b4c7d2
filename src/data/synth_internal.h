/* Shared internals of the synth-shapes generator (scene, captions, renderer, writer). */
#ifndef CTCIR_DATA_SYNTH_INTERNAL_H
#define CTCIR_DATA_SYNTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "ctcir/synth.h"

/* Object radius and jitter range as fractions of a cell's width. */
#define SYNTH_RADIUS_SMALL 0.25f
#define SYNTH_RADIUS_LARGE 0.38f
#define SYNTH_JITTER       0.05f

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

/* ct_synth_scene_check / ct_synth_apply with the object-count limits of a variant. */
ct_status synth_scene_check_range(const ct_synth_scene *s, int min_objects, int max_objects);
ct_status synth_apply_range(ct_synth_scene *s, const ct_synth_edit *e, int min_objects, int max_objects);

/* A forest of noun phrases (a phrase's kids are the phrases inside it), written by the caption
 * writers and flattened into the triplet's phrase list. */
#define SYNTH_MAX_NODES 32
#define SYNTH_MAX_KIDS  4

typedef struct {
    char text[CT_SYNTH_PHRASE_LEN];
    int kids[SYNTH_MAX_KIDS], n_kids;
    ct_synth_phrase_type type; /* hard variant only */
    uint16_t cells;            /* hard variant only: reference cells it names */
} synth_np_node;

typedef struct {
    synth_np_node node[SYNTH_MAX_NODES];
    int n;
    int roots[SYNTH_MAX_NODES], n_roots;
} synth_np_tree;

/* A new node with `text` (type object, no cells); -1 when the tree is full. */
int synth_np_new(synth_np_tree *tr, const char *text);
void synth_np_kid(synth_np_tree *tr, int parent, int kid); /* ignores -1 */
void synth_np_root(synth_np_tree *tr, int id);             /* ignores -1 */
/* The phrases breadth-first (roots in caption order), each text once, into t->phrases,
 * t->phrase_type and t->phrase_cells. */
void synth_np_flatten(const synth_np_tree *tr, ct_synth_triplet *t);

const char *synth_pick(ct_rng *r, const char *const *list, int n);
/* A random synonym of the word for `value`. */
const char *synth_pick_word(ct_rng *r, ct_synth_attr attr, int value);
/* Appends printf-formatted text to the string dst of capacity cap (truncating). */
void synth_cat(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the caption, edit clauses and noun phrases of t (edits, ref and tgt already set). */
void synth_write_caption(ct_synth_triplet *t, ct_rng *r);

/* Where the reference object at `cell` is in the target after the triplet's edits (-1: removed). */
int synth_result_cell(const ct_synth_triplet *t, int cell);

#endif
