/* synth-shapes scenes: the vocabulary, random scenes, edits applied to scenes. */
#include <string.h>

#include "data/synth_internal.h"

#define MAX_SYN 4

typedef struct {
    const char *w[MAX_SYN];
} synonyms;

/* The first word of each list is the canonical one. */
static const synonyms shape_words[CT_SYNTH_N_SHAPES] = {
    {{"circle", "disc"}}, {{"square", "block"}},    {{"triangle"}},
    {{"star"}},           {{"cross", "plus sign"}}, {{"diamond", "rhombus"}},
};
static const synonyms color_words[CT_SYNTH_N_COLORS] = {
    {{"red"}},  {{"orange"}},           {{"yellow"}}, {{"green"}}, {{"cyan", "turquoise"}},
    {{"blue"}}, {{"purple", "violet"}}, {{"pink"}},
};
static const synonyms size_words[CT_SYNTH_N_SIZES] = {
    {{"small", "little", "tiny"}},
    {{"large", "big"}},
};
static const synonyms bg_color_words[CT_SYNTH_N_BG_COLORS] = {
    {{"white"}},
    {{"gray", "grey"}},
    {{"black"}},
    {{"brown"}},
};
static const synonyms texture_words[CT_SYNTH_N_TEXTURES] = {
    {{"plain"}},
    {{"striped"}},
    {{"dotted", "spotted", "polka-dot"}},
    {{"checkered", "checked", "chequered"}},
};
/* Noun phrases naming a grid cell (row-major, row 0 at the top). */
static const synonyms cell_words[CT_SYNTH_CELLS] = {
    {{"the top left corner", "the top left", "the upper left corner"}},
    {{"the top", "the top middle", "the top center"}},
    {{"the top right corner", "the top right", "the upper right corner"}},
    {{"the left", "the left side", "the middle left"}},
    {{"the center", "the middle"}},
    {{"the right", "the right side", "the middle right"}},
    {{"the bottom left corner", "the bottom left", "the lower left corner"}},
    {{"the bottom", "the bottom middle", "the bottom center"}},
    {{"the bottom right corner", "the bottom right", "the lower right corner"}},
};

static const synonyms *word_table(ct_synth_attr attr, int value) {
    switch (attr) {
    case CT_ATTR_SHAPE: return value >= 0 && value < CT_SYNTH_N_SHAPES ? &shape_words[value] : NULL;
    case CT_ATTR_COLOR: return value >= 0 && value < CT_SYNTH_N_COLORS ? &color_words[value] : NULL;
    case CT_ATTR_SIZE: return value >= 0 && value < CT_SYNTH_N_SIZES ? &size_words[value] : NULL;
    case CT_ATTR_BG_COLOR: return value >= 0 && value < CT_SYNTH_N_BG_COLORS ? &bg_color_words[value] : NULL;
    case CT_ATTR_TEXTURE: return value >= 0 && value < CT_SYNTH_N_TEXTURES ? &texture_words[value] : NULL;
    case CT_ATTR_CELL: return value >= 0 && value < CT_SYNTH_CELLS ? &cell_words[value] : NULL;
    }
    return NULL;
}

const char *ct_synth_word(ct_synth_attr attr, int value) {
    const synonyms *s = word_table(attr, value);
    return s ? s->w[0] : NULL;
}

int ct_synth_words(ct_synth_attr attr, int value, const char **out, int max) {
    const synonyms *s = word_table(attr, value);
    int n = 0;
    if (!s) return 0;
    for (int i = 0; i < MAX_SYN && s->w[i] && n < max; i++) out[n++] = s->w[i];
    return n;
}

const char *ct_synth_edit_name(ct_synth_edit_kind k) {
    static const char *names[CT_SYNTH_N_EDIT_KINDS] = {"add",    "remove", "replace",    "recolor",
                                                       "resize", "move",   "background", "retexture"};
    return (int)k >= 0 && k < CT_SYNTH_N_EDIT_KINDS ? names[k] : NULL;
}

const char *ct_synth_phrase_type_name(ct_synth_phrase_type t) {
    static const char *names[CT_SYNTH_N_PHRASE_TYPES] = {"object", "attribute+object", "relation", "background"};
    return (int)t >= 0 && t < CT_SYNTH_N_PHRASE_TYPES ? names[t] : NULL;
}

void synth_object_rgb(int color, uint8_t rgb[3]) {
    static const uint8_t pal[CT_SYNTH_N_COLORS][3] = {
        {220, 35, 35},  {245, 135, 20}, {240, 215, 25}, {40, 165, 55},
        {30, 200, 215}, {35, 75, 225},  {135, 55, 190}, {245, 125, 185},
    };
    memcpy(rgb, pal[color], 3);
}

void synth_bg_rgb(int color, uint8_t rgb[3]) {
    static const uint8_t pal[CT_SYNTH_N_BG_COLORS][3] = {
        {238, 238, 232},
        {125, 125, 125},
        {22, 22, 26},
        {105, 70, 42},
    };
    memcpy(rgb, pal[color], 3);
}

uint64_t synth_mix_seed(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t z = seed ^ (stream * 0xd1b54a32d192ed03ULL) ^ (index * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void synth_jitter(ct_synth_object *o, ct_rng *r) {
    o->jx = (float)((ct_rng_uniform(r) * 2.0 - 1.0) * SYNTH_JITTER);
    o->jy = (float)((ct_rng_uniform(r) * 2.0 - 1.0) * SYNTH_JITTER);
}

int synth_find_cell(const ct_synth_scene *s, int cell) {
    for (int i = 0; i < s->n; i++)
        if (s->obj[i].cell == cell) return i;
    return -1;
}

static void sort_by_cell(ct_synth_scene *s) {
    for (int i = 1; i < s->n; i++) {
        ct_synth_object o = s->obj[i];
        int j = i - 1;
        while (j >= 0 && s->obj[j].cell > o.cell) {
            s->obj[j + 1] = s->obj[j];
            j--;
        }
        s->obj[j + 1] = o;
    }
}

ct_status ct_synth_random_scene(ct_synth_scene *s, uint64_t seed, int n) {
    if (!s || n < CT_SYNTH_MIN_OBJECTS || n > CT_SYNTH_MAX_OBJECTS)
        return ct_fail(CT_ERR_ARG, "synth: scene with %d objects (expected %d..%d)", n, CT_SYNTH_MIN_OBJECTS,
                       CT_SYNTH_MAX_OBJECTS);
    ct_rng r;
    ct_rng_seed(&r, seed);
    memset(s, 0, sizeof *s);
    s->bg_color = (uint8_t)ct_rng_below(&r, CT_SYNTH_N_BG_COLORS);
    s->bg_texture = (uint8_t)ct_rng_below(&r, CT_SYNTH_N_TEXTURES);
    int cells[CT_SYNTH_CELLS];
    for (int i = 0; i < CT_SYNTH_CELLS; i++) cells[i] = i;
    for (int i = 0; i < n; i++) { /* partial Fisher-Yates: n distinct cells */
        int j = i + (int)ct_rng_below(&r, (uint64_t)(CT_SYNTH_CELLS - i));
        int t = cells[i];
        cells[i] = cells[j];
        cells[j] = t;
        ct_synth_object *o = &s->obj[i];
        o->cell = (uint8_t)cells[i];
        o->shape = (uint8_t)ct_rng_below(&r, CT_SYNTH_N_SHAPES);
        o->color = (uint8_t)ct_rng_below(&r, CT_SYNTH_N_COLORS);
        o->size = (uint8_t)ct_rng_below(&r, CT_SYNTH_N_SIZES);
        synth_jitter(o, &r);
    }
    s->n = n;
    sort_by_cell(s);
    return CT_OK;
}

int ct_synth_scene_equal(const ct_synth_scene *a, const ct_synth_scene *b) {
    if (a->n != b->n || a->bg_color != b->bg_color || a->bg_texture != b->bg_texture) return 0;
    for (int i = 0; i < a->n; i++) {
        const ct_synth_object *p = &a->obj[i], *q = &b->obj[i];
        if (p->cell != q->cell || p->shape != q->shape || p->color != q->color || p->size != q->size ||
            p->texture != q->texture)
            return 0;
    }
    return 1;
}

ct_status ct_synth_scene_check(const ct_synth_scene *s) {
    return synth_scene_check_range(s, CT_SYNTH_MIN_OBJECTS, CT_SYNTH_MAX_OBJECTS);
}

ct_status synth_scene_check_range(const ct_synth_scene *s, int min_objects, int max_objects) {
    if (s->n < min_objects || s->n > max_objects)
        return ct_fail(CT_ERR_FORMAT, "synth: scene has %d objects (expected %d..%d)", s->n, min_objects, max_objects);
    if (s->bg_color >= CT_SYNTH_N_BG_COLORS || s->bg_texture >= CT_SYNTH_N_TEXTURES)
        return ct_fail(CT_ERR_FORMAT, "synth: background colour %d / texture %d out of range", s->bg_color,
                       s->bg_texture);
    for (int i = 0; i < s->n; i++) {
        const ct_synth_object *o = &s->obj[i];
        if (o->cell >= CT_SYNTH_CELLS || (i > 0 && o->cell <= s->obj[i - 1].cell))
            return ct_fail(CT_ERR_FORMAT, "synth: object %d: cell %d not after cell %d", i, o->cell,
                           i > 0 ? s->obj[i - 1].cell : -1);
        if (o->shape >= CT_SYNTH_N_SHAPES || o->color >= CT_SYNTH_N_COLORS || o->size >= CT_SYNTH_N_SIZES ||
            o->texture >= CT_SYNTH_N_TEXTURES)
            return ct_fail(CT_ERR_FORMAT, "synth: object %d: shape %d colour %d size %d texture %d out of range", i,
                           o->shape, o->color, o->size, o->texture);
        if (!(o->jx >= -SYNTH_JITTER && o->jx <= SYNTH_JITTER && o->jy >= -SYNTH_JITTER && o->jy <= SYNTH_JITTER))
            return ct_fail(CT_ERR_FORMAT, "synth: object %d: jitter (%g, %g) out of range", i, (double)o->jx,
                           (double)o->jy);
    }
    return CT_OK;
}

ct_status ct_synth_apply(ct_synth_scene *s, const ct_synth_edit *e) {
    return synth_apply_range(s, e, CT_SYNTH_MIN_OBJECTS, CT_SYNTH_MAX_OBJECTS);
}

ct_status synth_apply_range(ct_synth_scene *s, const ct_synth_edit *e, int min_objects, int max_objects) {
    int i = e->kind == CT_EDIT_ADD || e->kind == CT_EDIT_BACKGROUND ? -1 : synth_find_cell(s, e->cell);
    if (e->kind != CT_EDIT_ADD && e->kind != CT_EDIT_BACKGROUND && i < 0)
        return ct_fail(CT_ERR_ARG, "synth: %s: no object in cell %d", ct_synth_edit_name(e->kind), e->cell);
    switch (e->kind) {
    case CT_EDIT_ADD:
        if (s->n >= max_objects || e->cell < 0 || e->cell >= CT_SYNTH_CELLS || synth_find_cell(s, e->cell) >= 0)
            return ct_fail(CT_ERR_ARG, "synth: add: cell %d taken or scene full (%d objects)", e->cell, s->n);
        s->obj[s->n] = e->obj;
        s->obj[s->n].cell = (uint8_t)e->cell;
        s->n++;
        break;
    case CT_EDIT_REMOVE:
        if (s->n <= min_objects) return ct_fail(CT_ERR_ARG, "synth: remove: scene has only %d objects", s->n);
        memmove(&s->obj[i], &s->obj[i + 1], (size_t)(s->n - i - 1) * sizeof s->obj[0]);
        s->n--;
        break;
    case CT_EDIT_REPLACE:
        s->obj[i].shape = e->obj.shape;
        s->obj[i].color = e->obj.color;
        s->obj[i].size = e->obj.size;
        s->obj[i].texture = e->obj.texture;
        break;
    case CT_EDIT_RECOLOR: s->obj[i].color = e->obj.color; break;
    case CT_EDIT_RESIZE: s->obj[i].size = e->obj.size; break;
    case CT_EDIT_RETEXTURE: s->obj[i].texture = e->obj.texture; break;
    case CT_EDIT_MOVE:
        if (e->obj.cell >= CT_SYNTH_CELLS || synth_find_cell(s, e->obj.cell) >= 0)
            return ct_fail(CT_ERR_ARG, "synth: move: destination cell %d taken", e->obj.cell);
        s->obj[i].cell = e->obj.cell;
        s->obj[i].jx = e->obj.jx;
        s->obj[i].jy = e->obj.jy;
        break;
    case CT_EDIT_BACKGROUND:
        if (e->bg_color >= 0) s->bg_color = (uint8_t)e->bg_color;
        if (e->bg_texture >= 0) s->bg_texture = (uint8_t)e->bg_texture;
        break;
    default: return ct_fail(CT_ERR_ARG, "synth: unknown edit kind %d", (int)e->kind);
    }
    sort_by_cell(s);
    return CT_OK;
}
