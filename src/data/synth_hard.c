/* synth-shapes, hard variant (docs/synthetic.md): crowded scenes whose objects share shapes,
 * colours, sizes and fill patterns, so that a caption can only be followed by binding each
 * attribute to the right object; objects named by their attributes or by a relation to a
 * neighbour ("the square left of the red circle"); 2 to 4 edits; hard negatives that differ
 * from the target only in a binding. Every phrase records what it names in the reference. */
#include <stdio.h>
#include <string.h>

#include "data/synth_internal.h"

enum { A_COLOR = 1, A_SIZE = 2, A_TEX = 4 };
#define HARD_N_TEXTURES 3 /* plain, striped, checkered: the fills readable at 16 px a cell */
static const uint8_t hard_textures[HARD_N_TEXTURES] = {CT_TEX_PLAIN, CT_TEX_STRIPED, CT_TEX_CHECKERED};

static int below(ct_rng *r, int n) { return (int)ct_rng_below(r, (uint64_t)n); }

static int other_value(ct_rng *r, int n, int not ) {
    int v;
    do v = below(r, n);
    while (v == not );
    return v;
}

static int other_texture(ct_rng *r, int not ) {
    int v;
    do v = hard_textures[below(r, HARD_N_TEXTURES)];
    while (v == not );
    return v;
}

/* The cell that is `rel` of `cell` ("left of" cell: the one to its left), or -1. */
static int rel_cell(int cell, int rel) {
    int row = cell / CT_SYNTH_GRID, col = cell % CT_SYNTH_GRID;
    switch (rel) {
    case CT_REL_LEFT_OF: col--; break;
    case CT_REL_RIGHT_OF: col++; break;
    case CT_REL_ABOVE: row--; break;
    default: row++; break;
    }
    return row < 0 || col < 0 || row >= CT_SYNTH_GRID || col >= CT_SYNTH_GRID ? -1 : row * CT_SYNTH_GRID + col;
}

/* A reference scene: 4..7 objects whose shapes, colours and fills come from small per-scene
 * palettes (2-3 shapes, 2-3 colours, 2 fills), so attributes recur across objects. */
static void hard_scene(ct_synth_scene *s, ct_rng *r) {
    memset(s, 0, sizeof *s);
    s->bg_color = (uint8_t)below(r, CT_SYNTH_N_BG_COLORS);
    s->bg_texture = (uint8_t)(below(r, 2) ? CT_TEX_PLAIN : below(r, CT_SYNTH_N_TEXTURES));
    int shapes[3], colors[3], texs[2];
    int ns = 2 + below(r, 2), nc = 2 + below(r, 2);
    for (int i = 0; i < ns; i++) {
        int v, dup;
        do {
            v = below(r, CT_SYNTH_N_SHAPES);
            dup = 0;
            for (int j = 0; j < i; j++) dup |= shapes[j] == v;
        } while (dup);
        shapes[i] = v;
    }
    for (int i = 0; i < nc; i++) {
        int v, dup;
        do {
            v = below(r, CT_SYNTH_N_COLORS);
            dup = 0;
            for (int j = 0; j < i; j++) dup |= colors[j] == v;
        } while (dup);
        colors[i] = v;
    }
    texs[0] = hard_textures[below(r, HARD_N_TEXTURES)];
    texs[1] = other_texture(r, texs[0]);
    int n = 4 + below(r, 4);
    int cells[CT_SYNTH_CELLS];
    for (int i = 0; i < CT_SYNTH_CELLS; i++) cells[i] = i;
    for (int i = 0; i < n; i++) {
        int j = i + below(r, CT_SYNTH_CELLS - i);
        int x = cells[i];
        cells[i] = cells[j];
        cells[j] = x;
        ct_synth_object *o = &s->obj[i];
        o->cell = (uint8_t)cells[i];
        o->shape = (uint8_t)shapes[below(r, ns)];
        o->color = (uint8_t)colors[below(r, nc)];
        o->size = (uint8_t)below(r, CT_SYNTH_N_SIZES);
        o->texture = (uint8_t)texs[below(r, 2)];
        synth_jitter(o, r);
    }
    s->n = n;
    for (int i = 1; i < n; i++) /* canonical order: by cell */
        for (int j = i; j > 0 && s->obj[j - 1].cell > s->obj[j].cell; j--) {
            ct_synth_object x = s->obj[j];
            s->obj[j] = s->obj[j - 1];
            s->obj[j - 1] = x;
        }
}

/* Is `cell` touched by edits[0..n-1] other than edits[skip]: edited, a destination, an anchor? */
static int cell_used(const ct_synth_triplet *t, int n, int cell, int skip) {
    for (int k = 0; k < n; k++) {
        const ct_synth_edit *e = &t->edits[k];
        if (k == skip || e->kind == CT_EDIT_BACKGROUND) continue;
        if (e->cell == cell || e->anchor == cell || (e->kind == CT_EDIT_MOVE && e->obj.cell == cell)) return 1;
    }
    return 0;
}

static const ct_synth_object *ref_at(const ct_synth_triplet *t, int cell) {
    int i = cell >= 0 ? synth_find_cell(&t->ref, cell) : -1;
    return i >= 0 ? &t->ref.obj[i] : NULL;
}

/* A destination next to an untouched reference object: a free, untouched cell `dest` and the
 * anchor's cell with dest = rel_cell(anchor, rel). `self` (a moving object) is no anchor. */
static int pick_destination(const ct_synth_triplet *t, int k, int self, int avoid, ct_rng *r, int *dest, int *anchor,
                            int *rel) {
    int cand[CT_SYNTH_CELLS * CT_SYNTH_N_RELATIONS][3], n = 0;
    for (int i = 0; i < t->ref.n; i++) {
        int a = t->ref.obj[i].cell;
        if (a == self || cell_used(t, k, a, -1)) continue;
        for (int rl = 0; rl < CT_SYNTH_N_RELATIONS; rl++) {
            int d = rel_cell(a, rl);
            if (d < 0 || d == avoid || ref_at(t, d) || cell_used(t, k, d, -1)) continue;
            cand[n][0] = d, cand[n][1] = a, cand[n][2] = rl, n++;
        }
    }
    if (!n) return 0;
    int c = below(r, n);
    *dest = cand[c][0], *anchor = cand[c][1], *rel = cand[c][2];
    return 1;
}

static int count_after(const ct_synth_triplet *t, int n) {
    int c = t->ref.n;
    for (int k = 0; k < n; k++) c += t->edits[k].kind == CT_EDIT_ADD ? 1 : t->edits[k].kind == CT_EDIT_REMOVE ? -1 : 0;
    return c;
}

/* A colour for a recoloured or new object: one the scene already has, most of the time. */
static int scene_color(const ct_synth_scene *s, ct_rng *r, int not ) {
    if (below(r, 10) < 7) {
        int cand[CT_SYNTH_OBJ_CAP], n = 0;
        for (int i = 0; i < s->n; i++)
            if (s->obj[i].color != not ) cand[n++] = s->obj[i].color;
        if (n) return cand[below(r, n)];
    }
    return other_value(r, CT_SYNTH_N_COLORS, not );
}

static int sample_edit(ct_synth_triplet *t, int k, ct_rng *r) {
    /* percent per ct_synth_edit_kind: add, remove, replace, recolor, resize, move, background,
     * retexture (sums to 100) */
    static const int w[CT_SYNTH_N_EDIT_KINDS] = {14, 12, 12, 16, 12, 10, 10, 14};
    int u = below(r, 100), kind = 0;
    for (int acc = w[0]; u >= acc && kind < CT_SYNTH_N_EDIT_KINDS - 1; acc += w[++kind]) {}
    ct_synth_edit *e = &t->edits[k];
    memset(e, 0, sizeof *e);
    e->kind = (ct_synth_edit_kind)kind;
    e->bg_color = e->bg_texture = e->anchor = -1;
    int count = count_after(t, k);
    if (kind == CT_EDIT_BACKGROUND) {
        for (int j = 0; j < k; j++)
            if (t->edits[j].kind == CT_EDIT_BACKGROUND) return 0;
        e->cell = -1;
        if (below(r, 2))
            e->bg_color = other_value(r, CT_SYNTH_N_BG_COLORS, t->ref.bg_color);
        else
            e->bg_texture = other_value(r, CT_SYNTH_N_TEXTURES, t->ref.bg_texture);
        return 1;
    }
    if (kind == CT_EDIT_ADD) {
        if (count >= CT_SYNTH_HARD_MAX_OBJECTS ||
            !pick_destination(t, k, -1, -1, r, &e->cell, &e->anchor, &e->relation))
            return 0;
        e->obj.shape = (uint8_t)below(r, CT_SYNTH_N_SHAPES);
        e->obj.color = (uint8_t)scene_color(&t->ref, r, -1);
        e->obj.size = (uint8_t)below(r, CT_SYNTH_N_SIZES);
        e->obj.texture = hard_textures[below(r, HARD_N_TEXTURES)];
        e->obj.cell = (uint8_t)e->cell;
        synth_jitter(&e->obj, r);
        return 1;
    }
    if (kind == CT_EDIT_REMOVE && count <= CT_SYNTH_HARD_MIN_OBJECTS) return 0;
    int cand[CT_SYNTH_OBJ_CAP], n = 0;
    for (int i = 0; i < t->ref.n; i++)
        if (!cell_used(t, k, t->ref.obj[i].cell, -1)) cand[n++] = i;
    if (!n) return 0;
    const ct_synth_object *o = &t->ref.obj[cand[below(r, n)]];
    e->cell = o->cell;
    e->obj = *o;
    switch (kind) {
    case CT_EDIT_REPLACE:
        e->obj.shape = (uint8_t)other_value(r, CT_SYNTH_N_SHAPES, o->shape);
        if (below(r, 2)) e->obj.color = (uint8_t)scene_color(&t->ref, r, o->color);
        break;
    case CT_EDIT_RECOLOR: e->obj.color = (uint8_t)scene_color(&t->ref, r, o->color); break;
    case CT_EDIT_RESIZE: e->obj.size = (uint8_t)(1 - o->size); break;
    case CT_EDIT_RETEXTURE: e->obj.texture = (uint8_t)other_texture(r, o->texture); break;
    case CT_EDIT_MOVE: {
        int dest;
        if (!pick_destination(t, k, o->cell, -1, r, &dest, &e->anchor, &e->relation)) return 0;
        e->obj.cell = (uint8_t)dest;
        synth_jitter(&e->obj, r);
        break;
    }
    default: break;
    }
    return 1;
}

static ct_status apply_all(const ct_synth_triplet *t, int swap, const ct_synth_edit *alt, ct_synth_scene *out) {
    *out = t->ref;
    for (int k = 0; k < t->n_edits; k++) {
        ct_status st = synth_apply_range(out, k == swap && alt ? alt : &t->edits[k], CT_SYNTH_HARD_MIN_OBJECTS,
                                         CT_SYNTH_HARD_MAX_OBJECTS);
        if (st != CT_OK) return st;
    }
    return CT_OK;
}

/* ---- captions ---- */

static int matches(const ct_synth_object *o, const ct_synth_object *d, int mask) {
    return o->shape == d->shape && (!(mask & A_COLOR) || o->color == d->color) &&
           (!(mask & A_SIZE) || o->size == d->size) && (!(mask & A_TEX) || o->texture == d->texture);
}

/* Does "the <mask attributes> <shape>" pick out reference object d alone, in the reference
 * and among the target's objects other than d's own successor? */
static int unique_attr(const ct_synth_triplet *t, const ct_synth_object *d, int mask) {
    for (int i = 0; i < t->ref.n; i++)
        if (t->ref.obj[i].cell != d->cell && matches(&t->ref.obj[i], d, mask)) return 0;
    int own = synth_result_cell(t, d->cell);
    for (int i = 0; i < t->tgt.n; i++)
        if (t->tgt.obj[i].cell != own && matches(&t->tgt.obj[i], d, mask)) return 0;
    return 1;
}

/* The smallest attribute set (ties in random order) naming d alone; -1: none. */
static int unique_mask(const ct_synth_triplet *t, const ct_synth_object *d, ct_rng *r) {
    int order[8] = {0, A_COLOR, A_SIZE, A_TEX, A_COLOR | A_SIZE, A_COLOR | A_TEX, A_SIZE | A_TEX, 7};
    for (int lo = 1, hi = 4; lo < 7; lo = hi, hi = hi == 4 ? 7 : 8)
        for (int i = hi - 1; i > lo; i--) {
            int j = lo + below(r, i - lo + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    for (int i = 0; i < 8; i++)
        if (unique_attr(t, d, order[i])) return order[i];
    return -1;
}

/* "the small red striped square" (article given) as a node naming d's cell. */
static int attr_node(synth_np_tree *tr, const char *article, const ct_synth_object *d, int mask, int cells, ct_rng *r) {
    char np[CT_SYNTH_PHRASE_LEN];
    snprintf(np, sizeof np, "%s", article);
    if (mask & A_SIZE) synth_cat(np, sizeof np, " %s", synth_pick_word(r, CT_ATTR_SIZE, d->size));
    if (mask & A_COLOR) synth_cat(np, sizeof np, " %s", synth_pick_word(r, CT_ATTR_COLOR, d->color));
    if (mask & A_TEX) synth_cat(np, sizeof np, " %s", synth_pick_word(r, CT_ATTR_TEXTURE, d->texture));
    synth_cat(np, sizeof np, " %s", synth_pick_word(r, CT_ATTR_SHAPE, d->shape));
    int id = synth_np_new(tr, np);
    if (id >= 0) {
        tr->node[id].type = mask ? CT_PHRASE_ATTR_OBJECT : CT_PHRASE_OBJECT;
        tr->node[id].cells = (uint16_t)cells;
    }
    return id;
}

static const char *rel_words(int rel, ct_rng *r) {
    static const char *const w[CT_SYNTH_N_RELATIONS][2] = {
        {"left of", "to the left of"}, {"right of", "to the right of"}, {"above", "over"}, {"below", "under"}};
    return w[rel][below(r, 2)];
}

/* Is anchor a untouched by every edit (so the same object in reference and target)? */
static int untouched(const ct_synth_triplet *t, int cell) {
    for (int k = 0; k < t->n_edits; k++) {
        const ct_synth_edit *e = &t->edits[k];
        if (e->kind == CT_EDIT_BACKGROUND) continue;
        if (e->cell == cell || (e->kind == CT_EDIT_MOVE && e->obj.cell == cell)) return 0;
    }
    return 1;
}

/* An untouched object named by its attributes alone, as a node; -1: none such. */
static int anchor_node(synth_np_tree *tr, const ct_synth_triplet *t, int cell, ct_rng *r) {
    const ct_synth_object *a = ref_at(t, cell);
    int m = a && untouched(t, cell) ? unique_mask(t, a, r) : -1;
    return m < 0 ? -1 : attr_node(tr, "the", a, m, 1 << cell, r);
}

/* A phrase naming reference object d: by attributes, or (when they do not suffice, and now
 * and then anyway) by a relation to an untouched neighbour named by its attributes. -1: no
 * description picks d out. */
static int describe(synth_np_tree *tr, const ct_synth_triplet *t, const ct_synth_object *d, ct_rng *r) {
    int m = unique_mask(t, d, r);
    if (m < 0 || below(r, 100) < 40) {
        int cand[CT_SYNTH_N_RELATIONS][2], n = 0;
        for (int rl = 0; rl < CT_SYNTH_N_RELATIONS; rl++) {
            /* d is `rl` of the anchor: the anchor is in the cell on d's opposite side */
            int a = rel_cell(d->cell, rl ^ 1);
            const ct_synth_object *ao = ref_at(t, a);
            if (ao && untouched(t, a) && unique_mask(t, ao, r) >= 0) cand[n][0] = a, cand[n][1] = rl, n++;
        }
        if (n) {
            int c = below(r, n), a = cand[c][0], rl = cand[c][1];
            /* the head's attributes: none or one; the relation does the picking; the target
             * object next to the anchor (if not d's successor) must not match them */
            int hm = below(r, 2) ? 0 : 1 << below(r, 3);
            int nb = rel_cell(a, rl), own = synth_result_cell(t, d->cell);
            int j = synth_find_cell(&t->tgt, nb);
            if (j >= 0 && nb != own && matches(&t->tgt.obj[j], d, hm)) hm = 7;
            if (j >= 0 && nb != own && matches(&t->tgt.obj[j], d, hm))
                return m < 0 ? -1 : attr_node(tr, "the", d, m, 1 << d->cell, r);
            int head = attr_node(tr, "the", d, hm, 1 << d->cell, r);
            int an = anchor_node(tr, t, a, r);
            if (head < 0 || an < 0) return -1;
            char np[CT_SYNTH_PHRASE_LEN];
            int w = snprintf(np, sizeof np, "%s %s %s", tr->node[head].text, rel_words(rl, r), tr->node[an].text);
            if (w < 0 || (size_t)w >= sizeof np) return -1; /* a phrase too long to hold: not used */
            int id = synth_np_new(tr, np);
            if (id < 0) return -1;
            tr->node[id].type = CT_PHRASE_RELATION;
            tr->node[id].cells = (uint16_t)(1 << d->cell);
            synth_np_kid(tr, id, head);
            synth_np_kid(tr, id, an);
            return id;
        }
    }
    return m < 0 ? -1 : attr_node(tr, "the", d, m, 1 << d->cell, r);
}

/* "a small red striped circle" for a new object (texture named when not plain). */
static int new_node(synth_np_tree *tr, const ct_synth_object *o, int mask, ct_rng *r) {
    if (o->texture == CT_TEX_PLAIN) mask &= ~A_TEX;
    int id = attr_node(tr, "a", o, mask, 0, r);
    if (id >= 0) { /* "a" -> "an" before a vowel */
        char *s = tr->node[id].text;
        if (strchr("aeiou", s[2])) {
            char buf[CT_SYNTH_PHRASE_LEN];
            snprintf(buf, sizeof buf, "an%s", s + 1);
            snprintf(s, CT_SYNTH_PHRASE_LEN, "%s", buf);
        }
    }
    return id;
}

static const char *T(const synth_np_tree *tr, int id) { return tr->node[id].text; }

/* The clause of edit e into e->clause, its phrases into the tree; 0: no description fits. */
static int clause(ct_synth_edit *e, const ct_synth_triplet *t, synth_np_tree *tr, ct_rng *r) {
    char *c = e->clause;
    size_t cap = sizeof e->clause;
    c[0] = 0;
    e->ref_phrase[0] = 0;
    const ct_synth_object *d = e->kind == CT_EDIT_ADD || e->kind == CT_EDIT_BACKGROUND ? NULL : ref_at(t, e->cell);
    int dn = -1;
    if (d) {
        if ((dn = describe(tr, t, d, r)) < 0) return 0;
        snprintf(e->ref_phrase, sizeof e->ref_phrase, "%s", T(tr, dn));
    }
    switch (e->kind) {
    case CT_EDIT_ADD:
    case CT_EDIT_MOVE: {
        int an = anchor_node(tr, t, e->anchor, r);
        if (an < 0) return 0;
        if (e->kind == CT_EDIT_ADD) {
            static const char *const v[] = {"add", "put", "place", "draw"};
            int nn = new_node(tr, &e->obj, 7, r);
            if (nn < 0) return 0;
            synth_cat(c, cap, "%s %s %s %s", synth_pick(r, v, 4), T(tr, nn), rel_words(e->relation, r), T(tr, an));
            synth_np_root(tr, nn);
        } else {
            static const char *const v[] = {"move", "shift", "slide"};
            synth_cat(c, cap, "%s %s %s %s", synth_pick(r, v, 3), T(tr, dn), rel_words(e->relation, r), T(tr, an));
            synth_np_root(tr, dn);
        }
        synth_np_root(tr, an);
        return 1;
    }
    case CT_EDIT_REMOVE: {
        static const char *const v[] = {"remove", "delete", "take away", "erase"};
        synth_cat(c, cap, "%s %s", synth_pick(r, v, 4), T(tr, dn));
        synth_np_root(tr, dn);
        return 1;
    }
    case CT_EDIT_REPLACE: {
        int nn = new_node(tr, &e->obj, e->obj.color != d->color ? A_COLOR : 0, r);
        if (nn < 0) return 0;
        static const char *const f[] = {"replace %s with %s", "turn %s into %s", "swap %s for %s"};
        synth_cat(c, cap, synth_pick(r, f, 3), T(tr, dn), T(tr, nn));
        synth_np_root(tr, dn);
        synth_np_root(tr, nn);
        return 1;
    }
    case CT_EDIT_RECOLOR: {
        static const char *const v[] = {"make", "turn", "paint", "color"};
        synth_cat(c, cap, "%s %s %s", synth_pick(r, v, 4), T(tr, dn), synth_pick_word(r, CT_ATTR_COLOR, e->obj.color));
        synth_np_root(tr, dn);
        return 1;
    }
    case CT_EDIT_RESIZE:
        synth_cat(c, cap, e->obj.size == CT_SIZE_LARGE ? "make %s bigger" : "make %s smaller", T(tr, dn));
        synth_np_root(tr, dn);
        return 1;
    case CT_EDIT_RETEXTURE:
        synth_cat(c, cap, "make %s %s", T(tr, dn), synth_pick_word(r, CT_ATTR_TEXTURE, e->obj.texture));
        synth_np_root(tr, dn);
        return 1;
    case CT_EDIT_BACKGROUND: {
        int bg = synth_np_new(tr, "the background");
        if (bg < 0) return 0;
        uint16_t empty = 0; /* the background shows in the cells without an object */
        for (int cell = 0; cell < CT_SYNTH_CELLS; cell++)
            if (!ref_at(t, cell)) empty |= (uint16_t)(1 << cell);
        tr->node[bg].type = CT_PHRASE_BACKGROUND;
        tr->node[bg].cells = empty;
        if (e->bg_color >= 0)
            synth_cat(c, cap, "make %s %s", T(tr, bg), synth_pick_word(r, CT_ATTR_BG_COLOR, e->bg_color));
        else
            synth_cat(c, cap, "make %s %s", T(tr, bg), synth_pick_word(r, CT_ATTR_TEXTURE, e->bg_texture));
        synth_np_root(tr, bg);
        return 1;
    }
    default: return 0;
    }
}

static int write_caption(ct_synth_triplet *t, ct_rng *r) {
    synth_np_tree tr;
    tr.n = tr.n_roots = 0;
    int order[CT_SYNTH_EDIT_CAP];
    for (int i = 0; i < t->n_edits; i++) order[i] = i;
    for (int i = t->n_edits - 1; i > 0; i--) {
        int j = below(r, i + 1), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    t->caption[0] = 0;
    for (int k = 0; k < t->n_edits; k++) {
        ct_synth_edit *e = &t->edits[order[k]];
        if (!clause(e, t, &tr, r)) return 0;
        static const char *const last[] = {" and ", ", and ", ", then "};
        const char *sep = k == 0 ? "" : k == t->n_edits - 1 ? synth_pick(r, last, 3) : ", ";
        synth_cat(t->caption, sizeof t->caption, "%s%s", sep, e->clause);
    }
    if (strlen(t->caption) + 1 >= sizeof t->caption) return 0;
    synth_np_flatten(&tr, t);
    return 1;
}

/* ---- binding negatives ---- */

/* The target with one attribute swapped between two of its objects, one of them edited. */
static int swap_negative(const ct_synth_triplet *t, ct_synth_scene *s, ct_rng *r) {
    *s = t->tgt;
    int ei = below(r, t->n_edits);
    const ct_synth_edit *e = &t->edits[ei];
    if (e->kind == CT_EDIT_BACKGROUND || e->kind == CT_EDIT_REMOVE) return 0;
    int at = e->kind == CT_EDIT_MOVE ? e->obj.cell : e->cell;
    int i = synth_find_cell(s, at);
    if (i < 0) return 0;
    int j = below(r, s->n);
    if (j == i) return 0;
    ct_synth_object *a = &s->obj[i], *b = &s->obj[j];
    uint8_t x;
    switch (below(r, 4)) {
    case 0:
        if (a->color == b->color) return 0;
        x = a->color, a->color = b->color, b->color = x;
        break;
    case 1:
        if (a->size == b->size) return 0;
        x = a->size, a->size = b->size, b->size = x;
        break;
    case 2:
        if (a->texture == b->texture) return 0;
        x = a->texture, a->texture = b->texture, b->texture = x;
        break;
    default:
        if (a->shape == b->shape) return 0;
        x = a->shape, a->shape = b->shape, b->shape = x;
        break;
    }
    return 1;
}

/* One edit done to (or placed next to) the wrong object: the same change elsewhere. */
static int misplaced_negative(const ct_synth_triplet *t, ct_synth_scene *s, ct_rng *r) {
    int k = below(r, t->n_edits);
    ct_synth_edit alt = t->edits[k];
    const ct_synth_edit *e = &t->edits[k];
    if (e->kind == CT_EDIT_BACKGROUND) return 0;
    if (e->kind == CT_EDIT_ADD || e->kind == CT_EDIT_MOVE) {
        int dest, anchor, rel;
        if (!pick_destination(t, t->n_edits, e->kind == CT_EDIT_MOVE ? e->cell : -1,
                              e->kind == CT_EDIT_MOVE ? e->obj.cell : e->cell, r, &dest, &anchor, &rel))
            return 0;
        if (e->kind == CT_EDIT_ADD)
            alt.cell = dest, alt.obj.cell = (uint8_t)dest;
        else
            alt.obj.cell = (uint8_t)dest;
    } else {
        /* another untouched object, one sharing the shape when there is one */
        int cand[CT_SYNTH_OBJ_CAP], n = 0;
        const ct_synth_object *d = ref_at(t, e->cell);
        for (int pass = 0; pass < 2 && !n; pass++)
            for (int i = 0; i < t->ref.n; i++) {
                const ct_synth_object *o = &t->ref.obj[i];
                if (o->cell == e->cell || cell_used(t, t->n_edits, o->cell, -1)) continue;
                if (pass == 0 && o->shape != d->shape) continue;
                cand[n++] = i;
            }
        if (!n) return 0;
        const ct_synth_object *o = &t->ref.obj[cand[below(r, n)]];
        alt.cell = o->cell;
        ct_synth_object moved = *o;
        switch (e->kind) {
        case CT_EDIT_REPLACE: moved.shape = e->obj.shape, moved.color = e->obj.color; break;
        case CT_EDIT_RECOLOR: moved.color = e->obj.color; break;
        case CT_EDIT_RESIZE: moved.size = e->obj.size; break;
        case CT_EDIT_RETEXTURE: moved.texture = e->obj.texture; break;
        default: break;
        }
        alt.obj = moved;
    }
    return apply_all(t, k, &alt, s) == CT_OK;
}

ct_status ct_synth_make_hard_triplet(ct_synth_triplet *t, uint64_t seed, int n_negatives) {
    if (!t || n_negatives < 0 || n_negatives > CT_SYNTH_MAX_NEGATIVES)
        return ct_fail(CT_ERR_ARG, "synth: %d negatives requested (expected 0..%d)", n_negatives,
                       CT_SYNTH_MAX_NEGATIVES);
    ct_rng r;
    ct_rng_seed(&r, seed);
    for (int attempt = 0; attempt < 64; attempt++) {
        memset(t, 0, sizeof *t);
        hard_scene(&t->ref, &r);
        int want = 2 + below(&r, 3);
        for (int k = 0; k < want; k++) {
            int ok = 0;
            for (int tries = 0; tries < 32 && !ok; tries++) ok = sample_edit(t, k, &r);
            if (!ok) break;
            t->n_edits = k + 1;
        }
        if (t->n_edits < 2 || apply_all(t, -1, NULL, &t->tgt) != CT_OK || !write_caption(t, &r)) continue;
        int tries = 0;
        while (t->n_negatives < n_negatives && tries++ < 400) {
            ct_synth_scene *s = &t->neg[t->n_negatives];
            int ok = below(&r, 2) ? swap_negative(t, s, &r) : misplaced_negative(t, s, &r);
            if (!ok || synth_scene_check_range(s, CT_SYNTH_HARD_MIN_OBJECTS, CT_SYNTH_HARD_MAX_OBJECTS) != CT_OK)
                continue;
            int dup = ct_synth_scene_equal(s, &t->tgt) || ct_synth_scene_equal(s, &t->ref);
            for (int i = 0; i < t->n_negatives && !dup; i++) dup = ct_synth_scene_equal(s, &t->neg[i]);
            if (!dup) t->n_negatives++;
        }
        if (t->n_negatives < n_negatives) continue;
        ct_error_clear();
        return CT_OK;
    }
    return ct_fail(CT_ERR_UNSUPPORTED, "synth: hard variant, seed %llu: no triplet with %d negatives fits",
                   (unsigned long long)seed, n_negatives);
}
