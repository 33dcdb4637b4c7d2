/* synth-shapes: a synthetic compositional composed-image-retrieval benchmark.
 *
 * A scene is a background (colour + texture) and 2 to 5 objects, each a shape with a colour
 * and a size, standing in one cell of a 3x3 grid (at most one object per cell, so a position
 * always identifies an object). A triplet is a reference scene, one to three edits (add,
 * remove, replace, recolour, resize, move an object; change the background), the target scene
 * the edits produce, an English caption that describes the edits, the caption's noun phrases
 * (breadth-first: attachments and coordinations before the phrases inside them), and, for
 * evaluation splits, hard negatives: scenes that carry only some of the edits or an edit with
 * a wrong attribute, or the right edits with one untouched object changed.
 *
 * Everything is a pure function of a 64-bit seed: the same seed gives the same triplet,
 * caption and pixels, whatever the thread count. */
#ifndef CTCIR_SYNTH_H
#define CTCIR_SYNTH_H

#include <stdint.h>

#include "ctcir/image.h"
#include "ctcir/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_SYNTH_GRID             3
#define CT_SYNTH_CELLS            9
#define CT_SYNTH_MIN_OBJECTS      2
#define CT_SYNTH_MAX_OBJECTS      5
#define CT_SYNTH_MAX_EDITS        3
/* The hard variant (docs/synthetic.md): 4 to 7 objects in the reference (3 to 8 after the
 * edits), 2 to 4 edits; arrays are sized for it. */
#define CT_SYNTH_HARD_MIN_OBJECTS 3
#define CT_SYNTH_HARD_MAX_OBJECTS 8
#define CT_SYNTH_HARD_MAX_EDITS   4
#define CT_SYNTH_OBJ_CAP          CT_SYNTH_CELLS
#define CT_SYNTH_EDIT_CAP         CT_SYNTH_HARD_MAX_EDITS
#define CT_SYNTH_MAX_NEGATIVES    8
#define CT_SYNTH_MAX_PHRASES      16
#define CT_SYNTH_PHRASE_LEN       96
#define CT_SYNTH_CAPTION_LEN      512

typedef enum {
    CT_SHAPE_CIRCLE,
    CT_SHAPE_SQUARE,
    CT_SHAPE_TRIANGLE,
    CT_SHAPE_STAR,
    CT_SHAPE_CROSS,
    CT_SHAPE_DIAMOND,
    CT_SYNTH_N_SHAPES
} ct_synth_shape;

typedef enum {
    CT_COLOR_RED,
    CT_COLOR_ORANGE,
    CT_COLOR_YELLOW,
    CT_COLOR_GREEN,
    CT_COLOR_CYAN,
    CT_COLOR_BLUE,
    CT_COLOR_PURPLE,
    CT_COLOR_PINK,
    CT_SYNTH_N_COLORS
} ct_synth_color;

typedef enum { CT_SIZE_SMALL, CT_SIZE_LARGE, CT_SYNTH_N_SIZES } ct_synth_size;

typedef enum { CT_BG_WHITE, CT_BG_GRAY, CT_BG_BLACK, CT_BG_BROWN, CT_SYNTH_N_BG_COLORS } ct_synth_bg_color;

typedef enum { CT_TEX_PLAIN, CT_TEX_STRIPED, CT_TEX_DOTTED, CT_TEX_CHECKERED, CT_SYNTH_N_TEXTURES } ct_synth_texture;

/* What a word in a caption can name; used by ct_synth_words. */
typedef enum {
    CT_ATTR_SHAPE,
    CT_ATTR_COLOR,
    CT_ATTR_SIZE,
    CT_ATTR_BG_COLOR,
    CT_ATTR_TEXTURE,
    CT_ATTR_CELL
} ct_synth_attr;

typedef struct {
    uint8_t shape, color, size, cell; /* cell = row * 3 + col, row 0 at the top */
    uint8_t texture;                  /* fill pattern (ct_synth_texture); plain in the default variant */
    float jx, jy;                     /* offset from the cell centre, in cell widths */
} ct_synth_object;

/* Objects are kept sorted by cell (the canonical order, also the drawing order). */
typedef struct {
    int n;
    ct_synth_object obj[CT_SYNTH_OBJ_CAP];
    uint8_t bg_color, bg_texture;
} ct_synth_scene;

typedef enum {
    CT_EDIT_ADD,
    CT_EDIT_REMOVE,
    CT_EDIT_REPLACE,
    CT_EDIT_RECOLOR,
    CT_EDIT_RESIZE,
    CT_EDIT_MOVE,
    CT_EDIT_BACKGROUND,
    CT_SYNTH_N_EDITS,
    /* hard variant only: change an object's fill pattern (obj.texture) */
    CT_EDIT_RETEXTURE = CT_SYNTH_N_EDITS,
    CT_SYNTH_N_EDIT_KINDS
} ct_synth_edit_kind;

/* One edit of the reference scene. `cell` is the edited object's cell in the reference
 * (ADD: the new object's cell; BACKGROUND: unused). ADD and REPLACE put `obj` (its cell is
 * `cell`); RECOLOR sets obj.color; RESIZE sets obj.size; MOVE moves to obj.cell; BACKGROUND
 * sets bg_color/bg_texture where they are >= 0. */
typedef struct {
    ct_synth_edit_kind kind;
    int cell;
    ct_synth_object obj;
    int bg_color, bg_texture;
    /* Hard variant, ADD and MOVE: the untouched reference object the destination is placed
     * next to (its cell; -1: none) and the direction (ct_synth_relation). */
    int anchor, relation;
    /* Caption text of this edit: the clause and the phrase naming the edited reference object
     * ("" for ADD and BACKGROUND). */
    char clause[CT_SYNTH_CAPTION_LEN];
    char ref_phrase[CT_SYNTH_PHRASE_LEN];
} ct_synth_edit;

/* "X left of Y": X is in the cell directly left of Y's (same row), and so on. */
typedef enum { CT_REL_LEFT_OF, CT_REL_RIGHT_OF, CT_REL_ABOVE, CT_REL_BELOW, CT_SYNTH_N_RELATIONS } ct_synth_relation;

/* What a noun phrase of a hard-variant caption names (docs/synthetic.md). */
typedef enum {
    CT_PHRASE_OBJECT,      /* "the square", "a circle" */
    CT_PHRASE_ATTR_OBJECT, /* "the red square", "a small striped circle" */
    CT_PHRASE_RELATION,    /* "the square left of the red circle" */
    CT_PHRASE_BACKGROUND,  /* "the background" */
    CT_SYNTH_N_PHRASE_TYPES
} ct_synth_phrase_type;
const char *ct_synth_phrase_type_name(ct_synth_phrase_type t); /* "object", "attribute+object", ... */

typedef struct {
    ct_synth_scene ref, tgt;
    int n_edits;
    ct_synth_edit edits[CT_SYNTH_EDIT_CAP];
    char caption[CT_SYNTH_CAPTION_LEN];
    int n_phrases;
    char phrases[CT_SYNTH_MAX_PHRASES][CT_SYNTH_PHRASE_LEN];
    /* Hard variant: per phrase its type and the reference-grid cells of what it names (bit c =
     * cell c; 0: nothing in the reference, e.g. an object the caption adds). */
    uint8_t phrase_type[CT_SYNTH_MAX_PHRASES];
    uint16_t phrase_cells[CT_SYNTH_MAX_PHRASES];
    int n_negatives;
    ct_synth_scene neg[CT_SYNTH_MAX_NEGATIVES];
} ct_synth_triplet;

/* Canonical word and synonyms for a value of an attribute (NULL / 0 when out of range).
 * ct_synth_words fills at most `max` pointers to static strings and returns how many. */
const char *ct_synth_word(ct_synth_attr attr, int value);
int ct_synth_words(ct_synth_attr attr, int value, const char **out, int max);
const char *ct_synth_edit_name(ct_synth_edit_kind k); /* "add", "remove", ... */

/* A random scene with n objects (2..5) drawn from `seed`. */
ct_status ct_synth_random_scene(ct_synth_scene *s, uint64_t seed, int n);
/* Same background and the same objects (shape, colour, size, cell); jitter ignored. */
int ct_synth_scene_equal(const ct_synth_scene *a, const ct_synth_scene *b);
/* Checks the invariants: 2..5 objects, distinct cells in increasing order, values in range. */
ct_status ct_synth_scene_check(const ct_synth_scene *s);
/* Applies one edit in place. Fails (CT_ERR_ARG, scene unchanged) when the edit does not fit
 * the scene: no object at `cell`, destination occupied, object count leaving 2..5. */
ct_status ct_synth_apply(ct_synth_scene *s, const ct_synth_edit *e);

/* The triplet drawn from `seed`, with n_negatives (0..CT_SYNTH_MAX_NEGATIVES) hard negatives
 * that differ from the target, the reference and each other. */
ct_status ct_synth_make_triplet(ct_synth_triplet *t, uint64_t seed, int n_negatives);

/* The hard variant's triplet drawn from `seed`: its n_negatives hard negatives differ from the
 * target only in a binding (an attribute on the wrong object, an edit done to the wrong
 * object or placed next to the wrong one). */
ct_status ct_synth_make_hard_triplet(ct_synth_triplet *t, uint64_t seed, int n_negatives);

/* Renders a scene into an RGB image of size x size (allocates out->rgb; free it with
 * ct_image_free). size in [16, 1024]. */
ct_status ct_synth_render(const ct_synth_scene *s, int size, ct_image *out);
/* The same into a caller buffer of size*size*3 bytes. */
ct_status ct_synth_render_into(const ct_synth_scene *s, int size, uint8_t *rgb);

/* The benchmark variants: the default one (above) and the hard one (docs/synthetic.md). */
typedef enum { CT_SYNTH_DEFAULT, CT_SYNTH_HARD } ct_synth_variant;

/* Writes a dataset under cfg->out_dir:
 *   images/<split>/<id>-ref.png, <id>-tgt.png, <id>-neg<k>.png (a fraction as .jpg)
 *   <split>.jsonl: {"reference", "target", "caption", "noun_phrases", "id", "edits"
 *                   [, "hard_negatives"]} with paths relative to out_dir
 *   <split>_gallery.txt: one relative path per line (val/test: reference, target and hard
 *                   negatives of every query; train: references and targets)
 *   synth.json: the generator's settings and counts. */
typedef struct {
    const char *out_dir;
    int n_train, n_val, n_test; /* triplets per split (0 skips the split) */
    int negatives;              /* hard negatives per val/test query */
    int size;                   /* image side in pixels */
    uint64_t seed;
    ct_synth_variant variant; /* CT_SYNTH_DEFAULT or CT_SYNTH_HARD (docs/synthetic.md) */
    int train_negatives;      /* hard variant: near-miss targets per training record */
    double jpeg_fraction;     /* share of images saved as JPEG, in [0, 1] */
    int jpeg_quality;
    /* Optional progress report, called from one thread after each chunk. */
    void (*progress)(void *ctx, const char *split, long done, long total);
    void *progress_ctx;
} ct_synth_config;

/* Defaults: 10000 / 200 / 200 triplets, 3 negatives (test gallery 200 x 5 = 1000 images),
 * 64 px, seed 0, 10 % JPEG at quality 90. */
void ct_synth_config_default(ct_synth_config *cfg);

typedef struct {
    long images, triplets;
    long jpeg_images;
    long gallery[3]; /* gallery sizes of train, val, test */
} ct_synth_stats;

ct_status ct_synth_write_dataset(const ct_synth_config *cfg, ct_synth_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
