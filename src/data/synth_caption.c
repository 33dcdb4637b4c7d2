/* synth-shapes captions: one clause per edit from varied templates, objects named by the
 * shortest description that picks them out (plus an occasional redundant attribute), and the
 * noun phrases of the caption in breadth-first order of their tree (a coordination or a
 * phrase with a position attached comes before the phrases inside it). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/synth_internal.h"

enum { A_COLOR = 1, A_SIZE = 2, A_CELL = 4 };

/* The phrase tree shared by the caption writers of both variants. */
int synth_np_new(synth_np_tree *tr, const char *text) {
    if (tr->n >= SYNTH_MAX_NODES) return -1;
    synth_np_node *nd = &tr->node[tr->n];
    snprintf(nd->text, sizeof nd->text, "%s", text);
    nd->n_kids = 0;
    nd->type = CT_PHRASE_OBJECT;
    nd->cells = 0;
    return tr->n++;
}

void synth_np_kid(synth_np_tree *tr, int parent, int kid) {
    if (parent >= 0 && kid >= 0 && tr->node[parent].n_kids < SYNTH_MAX_KIDS)
        tr->node[parent].kids[tr->node[parent].n_kids++] = kid;
}

void synth_np_root(synth_np_tree *tr, int id) {
    if (id >= 0) tr->roots[tr->n_roots++] = id;
}

const char *synth_pick(ct_rng *r, const char *const *list, int n) { return list[ct_rng_below(r, (uint64_t)n)]; }

const char *synth_pick_word(ct_rng *r, ct_synth_attr attr, int value) {
    const char *w[4];
    int n = ct_synth_words(attr, value, w, 4);
    return n ? w[ct_rng_below(r, (uint64_t)n)] : "";
}

void synth_cat(char *dst, size_t cap, const char *fmt, ...) {
    size_t len = strlen(dst);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

void synth_np_flatten(const synth_np_tree *tr, ct_synth_triplet *t) {
    /* breadth-first over the phrase forest, roots in caption order, no repeated text (a
     * repeated text naming other cells adds them to the first one's) */
    int queue[SYNTH_MAX_NODES], head = 0, tail = 0;
    for (int i = 0; i < tr->n_roots && tail < SYNTH_MAX_NODES; i++) queue[tail++] = tr->roots[i];
    t->n_phrases = 0;
    while (head < tail) {
        const synth_np_node *nd = &tr->node[queue[head++]];
        int seen = -1;
        for (int i = 0; i < t->n_phrases && seen < 0; i++)
            if (!strcmp(t->phrases[i], nd->text)) seen = i;
        if (seen >= 0)
            t->phrase_cells[seen] |= nd->cells;
        else if (t->n_phrases < CT_SYNTH_MAX_PHRASES) {
            snprintf(t->phrases[t->n_phrases], CT_SYNTH_PHRASE_LEN, "%s", nd->text);
            t->phrase_type[t->n_phrases] = (uint8_t)nd->type;
            t->phrase_cells[t->n_phrases++] = nd->cells;
        }
        for (int i = 0; i < nd->n_kids && tail < SYNTH_MAX_NODES; i++) queue[tail++] = nd->kids[i];
    }
}

/* The preposition that places something at a cell phrase ("at the top", "on the left"). */
static const char *cell_prep(const char *np) {
    if (!strcmp(np, "the top") || !strcmp(np, "the bottom")) return "at";
    if (!strncmp(np, "the left", 8) || !strncmp(np, "the right", 9)) return "on";
    return "in";
}

static int obj_matches(const ct_synth_object *o, const ct_synth_object *d, int mask) {
    return o->shape == d->shape && (!(mask & A_COLOR) || o->color == d->color) &&
           (!(mask & A_SIZE) || o->size == d->size) && (!(mask & A_CELL) || o->cell == d->cell);
}

/* Where does the reference object at `cell` end up in the target (-1: removed)? */
int synth_result_cell(const ct_synth_triplet *t, int cell) {
    for (int k = 0; k < t->n_edits; k++) {
        const ct_synth_edit *e = &t->edits[k];
        if (e->cell != cell || e->kind == CT_EDIT_ADD || e->kind == CT_EDIT_BACKGROUND) continue;
        if (e->kind == CT_EDIT_REMOVE) return -1;
        if (e->kind == CT_EDIT_MOVE) return e->obj.cell;
    }
    return cell;
}

/* A description of the reference object `d` is unique when no other reference object matches
 * it and no target object other than d's own successor matches it either. */
static int unique(const ct_synth_triplet *t, const ct_synth_object *d, int mask) {
    for (int i = 0; i < t->ref.n; i++)
        if (t->ref.obj[i].cell != d->cell && obj_matches(&t->ref.obj[i], d, mask)) return 0;
    int own = synth_result_cell(t, d->cell);
    for (int i = 0; i < t->tgt.n; i++)
        if (t->tgt.obj[i].cell != own && obj_matches(&t->tgt.obj[i], d, mask)) return 0;
    return 1;
}

/* Builds "the [size] [colour] shape [prep position]" for reference object d, as a node (with
 * the plain phrase and the position as children when a position is attached). `allowed`
 * limits the attributes (resizing an object does not name its old size). */
static int describe_ref(synth_np_tree *tr, const ct_synth_triplet *t, const ct_synth_object *d, int allowed,
                        ct_rng *r) {
    static const int by_count[] = {
        0, A_COLOR, A_SIZE, A_CELL, A_COLOR | A_SIZE, A_COLOR | A_CELL, A_SIZE | A_CELL, A_COLOR | A_SIZE | A_CELL};
    /* try masks by increasing count, ties in random order; always-unique fallback: all */
    int order[8];
    for (int i = 0; i < 8; i++) order[i] = by_count[i];
    for (int lo = 1, hi = 4; lo < 7; lo = hi, hi = hi == 4 ? 7 : 8) /* shuffle 1..3, 4..6 */
        for (int i = hi - 1; i > lo; i--) {
            int j = lo + (int)ct_rng_below(r, (uint64_t)(i - lo + 1));
            int x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    int mask = A_COLOR | A_SIZE | A_CELL;
    for (int i = 0; i < 8; i++)
        if ((order[i] & ~allowed) == 0 && unique(t, d, order[i])) {
            mask = order[i];
            break;
        }
    if (ct_rng_uniform(r) < 0.25) { /* an extra, redundant attribute now and then */
        int extra = (1 << ct_rng_below(r, 3)) & allowed;
        if (!(extra & A_CELL) || ct_rng_uniform(r) < 0.5) mask |= extra;
    }
    char base[40] = "the"; /* longest: "the little turquoise plus sign" */
    if (mask & A_SIZE) synth_cat(base, sizeof base, " %s", synth_pick_word(r, CT_ATTR_SIZE, d->size));
    if (mask & A_COLOR) synth_cat(base, sizeof base, " %s", synth_pick_word(r, CT_ATTR_COLOR, d->color));
    synth_cat(base, sizeof base, " %s", synth_pick_word(r, CT_ATTR_SHAPE, d->shape));
    if (!(mask & A_CELL)) return synth_np_new(tr, base);
    const char *pos = synth_pick_word(r, CT_ATTR_CELL, d->cell);
    char full[CT_SYNTH_PHRASE_LEN];
    snprintf(full, sizeof full, "%s %s %s", base, cell_prep(pos), pos);
    int id = synth_np_new(tr, full);
    synth_np_kid(tr, id, synth_np_new(tr, base));
    synth_np_kid(tr, id, synth_np_new(tr, pos));
    return id;
}

/* "a [size] [colour] shape" with the attributes in `mask`. */
static int describe_new(synth_np_tree *tr, const ct_synth_object *o, int mask, ct_rng *r) {
    char words[40] = "";
    if (mask & A_SIZE) synth_cat(words, sizeof words, "%s ", synth_pick_word(r, CT_ATTR_SIZE, o->size));
    if (mask & A_COLOR) synth_cat(words, sizeof words, "%s ", synth_pick_word(r, CT_ATTR_COLOR, o->color));
    synth_cat(words, sizeof words, "%s", synth_pick_word(r, CT_ATTR_SHAPE, o->shape));
    char np[CT_SYNTH_PHRASE_LEN];
    snprintf(np, sizeof np, "%s %s", strchr("aeiou", words[0]) ? "an" : "a", words);
    return synth_np_new(tr, np);
}

static const ct_synth_object *ref_object(const ct_synth_triplet *t, int cell) {
    int i = synth_find_cell(&t->ref, cell);
    return i >= 0 ? &t->ref.obj[i] : NULL;
}

static const char *T(const synth_np_tree *tr, int id) { return id >= 0 ? tr->node[id].text : ""; }

/* Writes e->clause and adds e's phrases to the tree. */
static void write_clause(ct_synth_edit *e, const ct_synth_triplet *t, synth_np_tree *tr, ct_rng *r) {
    char *c = e->clause;
    size_t cap = sizeof e->clause;
    const ct_synth_object *d = ref_object(t, e->cell);
    c[0] = 0;
    e->ref_phrase[0] = 0;
    int dn = -1;
    if (d) {
        dn = describe_ref(tr, t, d, e->kind == CT_EDIT_RESIZE ? A_COLOR | A_CELL : 7, r);
        snprintf(e->ref_phrase, sizeof e->ref_phrase, "%s", T(tr, dn));
    }
    switch (e->kind) {
    case CT_EDIT_ADD: {
        static const char *const v[] = {"add", "put", "place", "draw", "insert"};
        int nn = describe_new(tr, &e->obj, A_COLOR | A_SIZE, r);
        const char *pos = synth_pick_word(r, CT_ATTR_CELL, e->cell);
        if (ct_rng_uniform(r) < 0.15)
            synth_cat(c, cap, "there should be %s %s %s", T(tr, nn), cell_prep(pos), pos);
        else
            synth_cat(c, cap, "%s %s %s %s", synth_pick(r, v, 5), T(tr, nn), cell_prep(pos), pos);
        synth_np_root(tr, nn);
        synth_np_root(tr, synth_np_new(tr, pos));
        break;
    }
    case CT_EDIT_REMOVE: {
        static const char *const v[] = {"remove", "get rid of", "take away", "delete", "take out", "erase"};
        synth_cat(c, cap, "%s %s", synth_pick(r, v, 6), T(tr, dn));
        synth_np_root(tr, dn);
        break;
    }
    case CT_EDIT_REPLACE: {
        int mask = (e->obj.color != d->color || ct_rng_uniform(r) < 0.3 ? A_COLOR : 0) |
                   (e->obj.size != d->size || ct_rng_uniform(r) < 0.3 ? A_SIZE : 0);
        int nn = describe_new(tr, &e->obj, mask, r);
        static const char *const f[] = {"replace %s with %s", "swap %s for %s", "turn %s into %s", "change %s into %s",
                                        "exchange %s for %s"};
        if (ct_rng_uniform(r) < 0.1) {
            synth_cat(c, cap, "substitute %s for %s", T(tr, nn), T(tr, dn));
            synth_np_root(tr, nn);
            synth_np_root(tr, dn);
        } else {
            synth_cat(c, cap, synth_pick(r, f, 5), T(tr, dn), T(tr, nn));
            synth_np_root(tr, dn);
            synth_np_root(tr, nn);
        }
        break;
    }
    case CT_EDIT_RECOLOR: {
        const char *col = synth_pick_word(r, CT_ATTR_COLOR, e->obj.color);
        static const char *const v[] = {"make", "turn", "paint", "color", "colour"};
        if (ct_rng_uniform(r) < 0.2) {
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "the %s of %s", ct_rng_uniform(r) < 0.5 ? "color" : "colour", T(tr, dn));
            int id = synth_np_new(tr, np);
            synth_np_kid(tr, id, dn);
            synth_cat(c, cap, "change %s to %s", T(tr, id), col);
            synth_np_root(tr, id);
        } else {
            synth_cat(c, cap, "%s %s %s", synth_pick(r, v, 5), T(tr, dn), col);
            synth_np_root(tr, dn);
        }
        break;
    }
    case CT_EDIT_RESIZE: {
        int big = e->obj.size == CT_SIZE_LARGE;
        static const char *const up[] = {"make %s bigger", "make %s larger", "enlarge %s", "scale up %s"};
        static const char *const down[] = {"make %s smaller", "shrink %s", "scale down %s", "make %s smaller"};
        if (ct_rng_uniform(r) < 0.2) {
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "the size of %s", T(tr, dn));
            int id = synth_np_new(tr, np);
            synth_np_kid(tr, id, dn);
            synth_cat(c, cap, "%s %s", big ? "increase" : "reduce", T(tr, id));
            synth_np_root(tr, id);
        } else {
            synth_cat(c, cap, synth_pick(r, big ? up : down, 4), T(tr, dn));
            synth_np_root(tr, dn);
        }
        break;
    }
    case CT_EDIT_MOVE: {
        static const char *const v[] = {"move", "shift", "drag", "relocate", "slide"};
        const char *pos = synth_pick_word(r, CT_ATTR_CELL, e->obj.cell);
        synth_cat(c, cap, "%s %s to %s", synth_pick(r, v, 5), T(tr, dn), pos);
        synth_np_root(tr, dn);
        synth_np_root(tr, synth_np_new(tr, pos));
        break;
    }
    case CT_EDIT_BACKGROUND: {
        const char *col = e->bg_color >= 0 ? synth_pick_word(r, CT_ATTR_BG_COLOR, e->bg_color) : NULL;
        const char *tex = e->bg_texture >= 0 ? synth_pick_word(r, CT_ATTR_TEXTURE, e->bg_texture) : NULL;
        static const char *const tex_noun[CT_SYNTH_N_TEXTURES] = {NULL, "stripes", "polka dots",
                                                                  "a checkerboard pattern"};
        double u = ct_rng_uniform(r);
        char np[CT_SYNTH_PHRASE_LEN];
        if (u < 0.2) { /* "use a striped black background" */
            snprintf(np, sizeof np, "a %s%s%s background", tex ? tex : "", tex && col ? " " : "", col ? col : "");
            synth_cat(c, cap, "use %s", np);
            synth_np_root(tr, synth_np_new(tr, np));
            break;
        }
        int bg = synth_np_new(tr, "the background");
        if (col && tex)
            synth_cat(c, cap, "make %s %s and %s", T(tr, bg), col, tex);
        else if (col) {
            static const char *const f[] = {"make %s %s", "change %s to %s", "turn %s %s", "paint %s %s"};
            synth_cat(c, cap, synth_pick(r, f, 4), T(tr, bg), col);
        } else if (e->bg_texture == CT_TEX_PLAIN && u < 0.5) {
            int pat = synth_np_new(tr, "the pattern");
            synth_cat(c, cap, "remove %s from %s", T(tr, pat), T(tr, bg));
            synth_np_root(tr, pat);
        } else if (e->bg_texture != CT_TEX_PLAIN && u < 0.5) {
            int tn = synth_np_new(tr, tex_noun[e->bg_texture]);
            synth_cat(c, cap, "give %s %s", T(tr, bg), T(tr, tn));
            synth_np_root(tr, bg);
            synth_np_root(tr, tn);
            break;
        } else
            synth_cat(c, cap, "make %s %s", T(tr, bg), tex);
        synth_np_root(tr, bg);
        break;
    }
    default: break;
    }
}

void synth_write_caption(ct_synth_triplet *t, ct_rng *r) {
    synth_np_tree tr;
    tr.n = tr.n_roots = 0;
    /* caption order: a random permutation of the edits */
    int order[CT_SYNTH_MAX_EDITS];
    for (int i = 0; i < t->n_edits; i++) order[i] = i;
    for (int i = t->n_edits - 1; i > 0; i--) {
        int j = (int)ct_rng_below(r, (uint64_t)(i + 1));
        int x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    char clauses[CT_SYNTH_MAX_EDITS][CT_SYNTH_CAPTION_LEN];
    int n_clauses = 0;
    for (int k = 0; k < t->n_edits; k++) {
        ct_synth_edit *e = &t->edits[order[k]];
        ct_synth_edit *prev = k > 0 ? &t->edits[order[k - 1]] : NULL;
        int roots_before = tr.n_roots;
        write_clause(e, t, &tr, r);
        /* two removals in a row: "remove A and B" (one coordinated phrase) */
        if (prev && prev->kind == CT_EDIT_REMOVE && e->kind == CT_EDIT_REMOVE && n_clauses > 0 && roots_before > 0 &&
            tr.n_roots == roots_before + 1 && !strcmp(T(&tr, tr.roots[roots_before - 1]), prev->ref_phrase) &&
            ct_rng_uniform(r) < 0.7) {
            int a = tr.roots[roots_before - 1], b = tr.roots[roots_before];
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "%s and %s", T(&tr, a), T(&tr, b));
            if (strlen(np) + 1 < sizeof np) {
                int co = synth_np_new(&tr, np);
                if (co >= 0) {
                    synth_np_kid(&tr, co, a);
                    synth_np_kid(&tr, co, b);
                    tr.roots[roots_before - 1] = co;
                    tr.n_roots = roots_before;
                    synth_cat(clauses[n_clauses - 1], sizeof clauses[0], " and %s", T(&tr, b));
                    snprintf(e->clause, sizeof e->clause, "%s", clauses[n_clauses - 1]);
                    snprintf(prev->clause, sizeof prev->clause, "%s", clauses[n_clauses - 1]);
                    continue;
                }
            }
        }
        snprintf(clauses[n_clauses++], sizeof clauses[0], "%s", e->clause);
    }
    static const char *const join2[] = {" and ", ", and ", ", then ", " and then ", " and also "};
    static const char *const join_last[] = {" and ", ", and ", ", then "};
    t->caption[0] = 0;
    for (int k = 0; k < n_clauses; k++) {
        const char *sep = "";
        if (k > 0 && n_clauses == 2)
            sep = synth_pick(r, join2, 5);
        else if (k > 0 && k == n_clauses - 1)
            sep = synth_pick(r, join_last, 3);
        else if (k > 0)
            sep = ", ";
        synth_cat(t->caption, sizeof t->caption, "%s%s", sep, clauses[k]);
    }
    synth_np_flatten(&tr, t);
}
