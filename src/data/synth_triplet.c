/* synth-shapes triplets: a reference scene, one to three edits on distinct objects and cells,
 * the target they produce, the caption, and hard negatives for evaluation. */
#include <string.h>

#include "data/synth_internal.h"

/* Is `cell` touched by an edit other than edits[skip] (edited object, destination, new)? */
static int cell_used(const ct_synth_triplet *t, int n_edits, int cell, int skip) {
    for (int k = 0; k < n_edits; k++) {
        const ct_synth_edit *e = &t->edits[k];
        if (k == skip || e->kind == CT_EDIT_BACKGROUND) continue;
        if (e->cell == cell || (e->kind == CT_EDIT_MOVE && e->obj.cell == cell)) return 1;
    }
    return 0;
}

/* A random free cell: empty in the reference and untouched by the other edits (-1: none). */
static int free_cell(const ct_synth_triplet *t, int n_edits, int skip, int avoid, ct_rng *r) {
    int cand[CT_SYNTH_CELLS], n = 0;
    for (int c = 0; c < CT_SYNTH_CELLS; c++)
        if (c != avoid && synth_find_cell(&t->ref, c) < 0 && !cell_used(t, n_edits, c, skip)) cand[n++] = c;
    return n ? cand[ct_rng_below(r, (uint64_t)n)] : -1;
}

/* A random reference object untouched by the other edits (-1: none). */
static int free_object(const ct_synth_triplet *t, int n_edits, int skip, int avoid, ct_rng *r) {
    int cand[CT_SYNTH_MAX_OBJECTS], n = 0;
    for (int i = 0; i < t->ref.n; i++) {
        int c = t->ref.obj[i].cell;
        if (c != avoid && !cell_used(t, n_edits, c, skip)) cand[n++] = i;
    }
    return n ? cand[ct_rng_below(r, (uint64_t)n)] : -1;
}

static int other_than(ct_rng *r, int n, int a, int b) {
    int v;
    do v = (int)ct_rng_below(r, (uint64_t)n);
    while (v == a || v == b);
    return v;
}

static int count_after(const ct_synth_triplet *t, int n_edits) {
    int n = t->ref.n;
    for (int k = 0; k < n_edits; k++)
        n += t->edits[k].kind == CT_EDIT_ADD ? 1 : t->edits[k].kind == CT_EDIT_REMOVE ? -1 : 0;
    return n;
}

/* Samples edits[k] given edits[0..k-1]; 0 when the drawn kind does not fit. */
static int sample_edit(ct_synth_triplet *t, int k, ct_rng *r) {
    static const double w[CT_SYNTH_N_EDITS] = {0.15, 0.14, 0.15, 0.16, 0.12, 0.14, 0.14};
    double u = ct_rng_uniform(r), acc = 0;
    int kind = CT_SYNTH_N_EDITS - 1;
    for (int i = 0; i < CT_SYNTH_N_EDITS; i++)
        if (u < (acc += w[i])) {
            kind = i;
            break;
        }
    ct_synth_edit *e = &t->edits[k];
    memset(e, 0, sizeof *e);
    e->kind = (ct_synth_edit_kind)kind;
    e->bg_color = e->bg_texture = -1;
    int count = count_after(t, k);
    if (kind == CT_EDIT_BACKGROUND) {
        for (int j = 0; j < k; j++)
            if (t->edits[j].kind == CT_EDIT_BACKGROUND) return 0;
        double v = ct_rng_uniform(r);
        if (v < 0.6) e->bg_color = other_than(r, CT_SYNTH_N_BG_COLORS, t->ref.bg_color, -1);
        if (v >= 0.4) e->bg_texture = other_than(r, CT_SYNTH_N_TEXTURES, t->ref.bg_texture, -1);
        return 1;
    }
    if (kind == CT_EDIT_ADD) {
        if (count >= CT_SYNTH_MAX_OBJECTS || (e->cell = free_cell(t, k, -1, -1, r)) < 0) return 0;
        e->obj.shape = (uint8_t)ct_rng_below(r, CT_SYNTH_N_SHAPES);
        e->obj.color = (uint8_t)ct_rng_below(r, CT_SYNTH_N_COLORS);
        e->obj.size = (uint8_t)ct_rng_below(r, CT_SYNTH_N_SIZES);
        e->obj.cell = (uint8_t)e->cell;
        synth_jitter(&e->obj, r);
        return 1;
    }
    if (kind == CT_EDIT_REMOVE && count <= CT_SYNTH_MIN_OBJECTS) return 0;
    int i = free_object(t, k, -1, -1, r);
    if (i < 0) return 0;
    const ct_synth_object *o = &t->ref.obj[i];
    e->cell = o->cell;
    e->obj = *o;
    switch (kind) {
    case CT_EDIT_REPLACE:
        e->obj.shape = (uint8_t)other_than(r, CT_SYNTH_N_SHAPES, o->shape, -1);
        if (ct_rng_uniform(r) < 0.4) e->obj.color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, o->color, -1);
        if (ct_rng_uniform(r) < 0.3) e->obj.size = (uint8_t)(1 - o->size);
        break;
    case CT_EDIT_RECOLOR: e->obj.color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, o->color, -1); break;
    case CT_EDIT_RESIZE: e->obj.size = (uint8_t)(1 - o->size); break;
    case CT_EDIT_MOVE: {
        int c = free_cell(t, k, -1, -1, r);
        if (c < 0) return 0;
        e->obj.cell = (uint8_t)c;
        synth_jitter(&e->obj, r);
        break;
    }
    default: break;
    }
    return 1;
}

/* Applies edits (with edits[swap] replaced by *alt when alt != NULL; only the edits whose bit
 * is set in `subset`) to the reference. */
static ct_status apply_edits(const ct_synth_triplet *t, unsigned subset, int swap, const ct_synth_edit *alt,
                             ct_synth_scene *out) {
    *out = t->ref;
    for (int k = 0; k < t->n_edits; k++) {
        if (!(subset & (1u << k))) continue;
        ct_status st = ct_synth_apply(out, k == swap && alt ? alt : &t->edits[k]);
        if (st != CT_OK) return st;
    }
    return CT_OK;
}

/* One edit done wrong: the right kind of change with a wrong value or on the wrong object. */
static int wrong_edit(const ct_synth_triplet *t, int k, ct_synth_edit *alt, ct_rng *r) {
    const ct_synth_edit *e = &t->edits[k];
    *alt = *e;
    int n = t->n_edits;
    switch (e->kind) {
    case CT_EDIT_ADD:
        switch (ct_rng_below(r, 4)) {
        case 0: alt->obj.shape = (uint8_t)other_than(r, CT_SYNTH_N_SHAPES, e->obj.shape, -1); break;
        case 1: alt->obj.color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, e->obj.color, -1); break;
        case 2: alt->obj.size = (uint8_t)(1 - e->obj.size); break;
        default:
            if ((alt->cell = free_cell(t, n, k, e->cell, r)) < 0) return 0;
            alt->obj.cell = (uint8_t)alt->cell;
        }
        return 1;
    case CT_EDIT_REMOVE:
    case CT_EDIT_RESIZE: { /* the same change on another object */
        int i = free_object(t, n, k, e->cell, r);
        if (i < 0) return 0;
        alt->cell = t->ref.obj[i].cell;
        alt->obj.size = (uint8_t)(1 - t->ref.obj[i].size);
        return 1;
    }
    case CT_EDIT_REPLACE: {
        const ct_synth_object *o = &t->ref.obj[synth_find_cell(&t->ref, e->cell)];
        if (ct_rng_uniform(r) < 0.5)
            alt->obj.shape = (uint8_t)other_than(r, CT_SYNTH_N_SHAPES, o->shape, e->obj.shape);
        else
            alt->obj.color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, e->obj.color, -1);
        return 1;
    }
    case CT_EDIT_RECOLOR: {
        const ct_synth_object *o = &t->ref.obj[synth_find_cell(&t->ref, e->cell)];
        alt->obj.color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, o->color, e->obj.color);
        return 1;
    }
    case CT_EDIT_MOVE: {
        int c = free_cell(t, n, k, e->obj.cell, r);
        if (c < 0) return 0;
        alt->obj.cell = (uint8_t)c;
        return 1;
    }
    case CT_EDIT_BACKGROUND:
        if (e->bg_color >= 0 && (e->bg_texture < 0 || ct_rng_uniform(r) < 0.5))
            alt->bg_color = other_than(r, CT_SYNTH_N_BG_COLORS, t->ref.bg_color, e->bg_color);
        else
            alt->bg_texture = other_than(r, CT_SYNTH_N_TEXTURES, t->ref.bg_texture, e->bg_texture);
        return 1;
    default: return 0;
    }
}

/* The right edits, plus one change the caption does not ask for: an attribute of an object
 * that no edit set (an untouched object, or e.g. the colour of a resized one) or a property
 * of the background that no edit set. */
static int distractor(const ct_synth_triplet *t, ct_synth_scene *s, ct_rng *r) {
    if (apply_edits(t, ~0u, -1, NULL, s) != CT_OK) return 0;
    enum { F_COLOR = 1, F_SIZE = 2, F_SHAPE = 4 };
    int free_attr[CT_SYNTH_MAX_OBJECTS + 1], n_opts = 0;
    for (int i = 0; i < s->n; i++) {
        int f = F_COLOR | F_SIZE | F_SHAPE;
        for (int k = 0; k < t->n_edits; k++) {
            const ct_synth_edit *e = &t->edits[k];
            int at = e->kind == CT_EDIT_MOVE ? e->obj.cell : e->cell;
            if (e->kind == CT_EDIT_BACKGROUND || at != s->obj[i].cell) continue;
            if (e->kind == CT_EDIT_ADD || e->kind == CT_EDIT_REPLACE)
                f = 0;
            else if (e->kind == CT_EDIT_RECOLOR)
                f &= ~F_COLOR;
            else if (e->kind == CT_EDIT_RESIZE)
                f &= ~F_SIZE;
        }
        free_attr[i] = f;
        n_opts += f != 0;
    }
    int bg_free = 3; /* bit 0: colour, bit 1: texture */
    for (int k = 0; k < t->n_edits; k++)
        if (t->edits[k].kind == CT_EDIT_BACKGROUND)
            bg_free &= (t->edits[k].bg_color >= 0 ? ~1 : ~0) & (t->edits[k].bg_texture >= 0 ? ~2 : ~0);
    n_opts += bg_free != 0;
    if (!n_opts) return 0;
    int pick = (int)ct_rng_below(r, (uint64_t)n_opts);
    for (int i = 0; i < s->n; i++) {
        if (!free_attr[i] || pick-- > 0) continue;
        ct_synth_object *o = &s->obj[i];
        int f;
        do f = 1 << ct_rng_below(r, 3);
        while (!(free_attr[i] & f));
        if (f == F_COLOR)
            o->color = (uint8_t)other_than(r, CT_SYNTH_N_COLORS, o->color, -1);
        else if (f == F_SIZE)
            o->size = (uint8_t)(1 - o->size);
        else
            o->shape = (uint8_t)other_than(r, CT_SYNTH_N_SHAPES, o->shape, -1);
        return 1;
    }
    if ((bg_free & 1) && (!(bg_free & 2) || ct_rng_uniform(r) < 0.5))
        s->bg_color = (uint8_t)other_than(r, CT_SYNTH_N_BG_COLORS, s->bg_color, -1);
    else
        s->bg_texture = (uint8_t)other_than(r, CT_SYNTH_N_TEXTURES, s->bg_texture, -1);
    return 1;
}

static int make_negative(const ct_synth_triplet *t, ct_synth_scene *s, ct_rng *r) {
    double u = ct_rng_uniform(r);
    unsigned all = (1u << t->n_edits) - 1;
    if (u < 0.35 && t->n_edits >= 2) { /* only some of the edits */
        unsigned subset = 1 + (unsigned)ct_rng_below(r, all - 1);
        return apply_edits(t, subset, -1, NULL, s) == CT_OK;
    }
    if (u < 0.8) {
        ct_synth_edit alt;
        int k = (int)ct_rng_below(r, (uint64_t)t->n_edits);
        return wrong_edit(t, k, &alt, r) && apply_edits(t, all, k, &alt, s) == CT_OK;
    }
    return distractor(t, s, r);
}

ct_status ct_synth_make_triplet(ct_synth_triplet *t, uint64_t seed, int n_negatives) {
    if (!t || n_negatives < 0 || n_negatives > CT_SYNTH_MAX_NEGATIVES)
        return ct_fail(CT_ERR_ARG, "synth: %d negatives requested (expected 0..%d)", n_negatives,
                       CT_SYNTH_MAX_NEGATIVES);
    ct_rng r;
    ct_rng_seed(&r, seed);
    memset(t, 0, sizeof *t);
    int n_obj = CT_SYNTH_MIN_OBJECTS + (int)ct_rng_below(&r, CT_SYNTH_MAX_OBJECTS - CT_SYNTH_MIN_OBJECTS + 1);
    ct_status st = ct_synth_random_scene(&t->ref, ct_rng_next(&r), n_obj);
    if (st != CT_OK) return st;
    double u = ct_rng_uniform(&r);
    int want = u < 0.4 ? 1 : u < 0.75 ? 2 : 3;
    for (int k = 0; k < want; k++) {
        int ok = 0;
        for (int tries = 0; tries < 32 && !ok; tries++) ok = sample_edit(t, k, &r);
        if (!ok) break;
        t->n_edits = k + 1;
    }
    if (t->n_edits == 0) return ct_fail(CT_ERR_UNSUPPORTED, "synth: seed %llu: no edit fits", (unsigned long long)seed);
    st = apply_edits(t, ~0u, -1, NULL, &t->tgt);
    if (st != CT_OK) return st;
    synth_write_caption(t, &r);
    for (int tries = 0; t->n_negatives < n_negatives; tries++) {
        if (tries > 1000)
            return ct_fail(CT_ERR_UNSUPPORTED, "synth: seed %llu: found only %d of %d negatives",
                           (unsigned long long)seed, t->n_negatives, n_negatives);
        ct_synth_scene *s = &t->neg[t->n_negatives];
        if (!make_negative(t, s, &r) || ct_synth_scene_check(s) != CT_OK) continue;
        int dup = ct_synth_scene_equal(s, &t->tgt) || ct_synth_scene_equal(s, &t->ref);
        for (int i = 0; i < t->n_negatives && !dup; i++) dup = ct_synth_scene_equal(s, &t->neg[i]);
        if (!dup) t->n_negatives++;
    }
    ct_error_clear();
    return CT_OK;
}
