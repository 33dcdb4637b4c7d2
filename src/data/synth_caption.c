/* synth-shapes captions: one clause per edit from varied templates, objects named by the
 * shortest description that picks them out (plus an occasional redundant attribute), and the
 * noun phrases of the caption in breadth-first order of their tree (a coordination or a
 * phrase with a position attached comes before the phrases inside it). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/synth_internal.h"

#define MAX_NODES 32
#define MAX_KIDS 4

typedef struct {
    char text[CT_SYNTH_PHRASE_LEN];
    int kids[MAX_KIDS], n_kids;
} np_node;

typedef struct {
    np_node node[MAX_NODES];
    int n;
    int roots[MAX_NODES], n_roots;
} np_tree;

enum { A_COLOR = 1, A_SIZE = 2, A_CELL = 4 };

static int new_node(np_tree *tr, const char *text) {
    if (tr->n >= MAX_NODES) return -1;
    np_node *nd = &tr->node[tr->n];
    snprintf(nd->text, sizeof nd->text, "%s", text);
    nd->n_kids = 0;
    return tr->n++;
}

static void add_kid(np_tree *tr, int parent, int kid) {
    if (parent >= 0 && kid >= 0 && tr->node[parent].n_kids < MAX_KIDS)
        tr->node[parent].kids[tr->node[parent].n_kids++] = kid;
}

static void add_root(np_tree *tr, int id) {
    if (id >= 0) tr->roots[tr->n_roots++] = id;
}

static const char *pick(ct_rng *r, const char *const *list, int n) {
    return list[ct_rng_below(r, (uint64_t)n)];
}

static const char *pick_word(ct_rng *r, ct_synth_attr attr, int value) {
    const char *w[4];
    int n = ct_synth_words(attr, value, w, 4);
    return n ? w[ct_rng_below(r, (uint64_t)n)] : "";
}

/* The preposition that places something at a cell phrase ("at the top", "on the left"). */
static const char *cell_prep(const char *np) {
    if (!strcmp(np, "the top") || !strcmp(np, "the bottom")) return "at";
    if (!strncmp(np, "the left", 8) || !strncmp(np, "the right", 9)) return "on";
    return "in";
}

static void cat(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *dst, size_t cap, const char *fmt, ...) {
    size_t len = strlen(dst);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

static int obj_matches(const ct_synth_object *o, const ct_synth_object *d, int mask) {
    return o->shape == d->shape && (!(mask & A_COLOR) || o->color == d->color) &&
           (!(mask & A_SIZE) || o->size == d->size) && (!(mask & A_CELL) || o->cell == d->cell);
}

/* Where does the reference object at `cell` end up in the target (-1: removed)? */
static int result_cell(const ct_synth_triplet *t, int cell) {
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
    int own = result_cell(t, d->cell);
    for (int i = 0; i < t->tgt.n; i++)
        if (t->tgt.obj[i].cell != own && obj_matches(&t->tgt.obj[i], d, mask)) return 0;
    return 1;
}

/* Builds "the [size] [colour] shape [prep position]" for reference object d, as a node (with
 * the plain phrase and the position as children when a position is attached). `allowed`
 * limits the attributes (resizing an object does not name its old size). */
static int describe_ref(np_tree *tr, const ct_synth_triplet *t, const ct_synth_object *d,
                        int allowed, ct_rng *r) {
    static const int by_count[] = {0, A_COLOR, A_SIZE, A_CELL, A_COLOR | A_SIZE,
                                   A_COLOR | A_CELL, A_SIZE | A_CELL, A_COLOR | A_SIZE | A_CELL};
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
    if (mask & A_SIZE) cat(base, sizeof base, " %s", pick_word(r, CT_ATTR_SIZE, d->size));
    if (mask & A_COLOR) cat(base, sizeof base, " %s", pick_word(r, CT_ATTR_COLOR, d->color));
    cat(base, sizeof base, " %s", pick_word(r, CT_ATTR_SHAPE, d->shape));
    if (!(mask & A_CELL)) return new_node(tr, base);
    const char *pos = pick_word(r, CT_ATTR_CELL, d->cell);
    char full[CT_SYNTH_PHRASE_LEN];
    snprintf(full, sizeof full, "%s %s %s", base, cell_prep(pos), pos);
    int id = new_node(tr, full);
    add_kid(tr, id, new_node(tr, base));
    add_kid(tr, id, new_node(tr, pos));
    return id;
}

/* "a [size] [colour] shape" with the attributes in `mask`. */
static int describe_new(np_tree *tr, const ct_synth_object *o, int mask, ct_rng *r) {
    char words[40] = "";
    if (mask & A_SIZE) cat(words, sizeof words, "%s ", pick_word(r, CT_ATTR_SIZE, o->size));
    if (mask & A_COLOR) cat(words, sizeof words, "%s ", pick_word(r, CT_ATTR_COLOR, o->color));
    cat(words, sizeof words, "%s", pick_word(r, CT_ATTR_SHAPE, o->shape));
    char np[CT_SYNTH_PHRASE_LEN];
    snprintf(np, sizeof np, "%s %s", strchr("aeiou", words[0]) ? "an" : "a", words);
    return new_node(tr, np);
}

static const ct_synth_object *ref_object(const ct_synth_triplet *t, int cell) {
    int i = synth_find_cell(&t->ref, cell);
    return i >= 0 ? &t->ref.obj[i] : NULL;
}

static const char *T(const np_tree *tr, int id) { return id >= 0 ? tr->node[id].text : ""; }

/* Writes e->clause and adds e's phrases to the tree. */
static void write_clause(ct_synth_edit *e, const ct_synth_triplet *t, np_tree *tr, ct_rng *r) {
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
        const char *pos = pick_word(r, CT_ATTR_CELL, e->cell);
        if (ct_rng_uniform(r) < 0.15)
            cat(c, cap, "there should be %s %s %s", T(tr, nn), cell_prep(pos), pos);
        else cat(c, cap, "%s %s %s %s", pick(r, v, 5), T(tr, nn), cell_prep(pos), pos);
        add_root(tr, nn);
        add_root(tr, new_node(tr, pos));
        break;
    }
    case CT_EDIT_REMOVE: {
        static const char *const v[] = {"remove", "get rid of", "take away", "delete",
                                        "take out", "erase"};
        cat(c, cap, "%s %s", pick(r, v, 6), T(tr, dn));
        add_root(tr, dn);
        break;
    }
    case CT_EDIT_REPLACE: {
        int mask = (e->obj.color != d->color || ct_rng_uniform(r) < 0.3 ? A_COLOR : 0) |
                   (e->obj.size != d->size || ct_rng_uniform(r) < 0.3 ? A_SIZE : 0);
        int nn = describe_new(tr, &e->obj, mask, r);
        static const char *const f[] = {"replace %s with %s", "swap %s for %s",
                                        "turn %s into %s", "change %s into %s",
                                        "exchange %s for %s"};
        if (ct_rng_uniform(r) < 0.1) {
            cat(c, cap, "substitute %s for %s", T(tr, nn), T(tr, dn));
            add_root(tr, nn);
            add_root(tr, dn);
        } else {
            cat(c, cap, pick(r, f, 5), T(tr, dn), T(tr, nn));
            add_root(tr, dn);
            add_root(tr, nn);
        }
        break;
    }
    case CT_EDIT_RECOLOR: {
        const char *col = pick_word(r, CT_ATTR_COLOR, e->obj.color);
        static const char *const v[] = {"make", "turn", "paint", "color", "colour"};
        if (ct_rng_uniform(r) < 0.2) {
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "the %s of %s", ct_rng_uniform(r) < 0.5 ? "color" : "colour",
                     T(tr, dn));
            int id = new_node(tr, np);
            add_kid(tr, id, dn);
            cat(c, cap, "change %s to %s", T(tr, id), col);
            add_root(tr, id);
        } else {
            cat(c, cap, "%s %s %s", pick(r, v, 5), T(tr, dn), col);
            add_root(tr, dn);
        }
        break;
    }
    case CT_EDIT_RESIZE: {
        int big = e->obj.size == CT_SIZE_LARGE;
        static const char *const up[] = {"make %s bigger", "make %s larger", "enlarge %s",
                                         "scale up %s"};
        static const char *const down[] = {"make %s smaller", "shrink %s", "scale down %s",
                                           "make %s smaller"};
        if (ct_rng_uniform(r) < 0.2) {
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "the size of %s", T(tr, dn));
            int id = new_node(tr, np);
            add_kid(tr, id, dn);
            cat(c, cap, "%s %s", big ? "increase" : "reduce", T(tr, id));
            add_root(tr, id);
        } else {
            cat(c, cap, pick(r, big ? up : down, 4), T(tr, dn));
            add_root(tr, dn);
        }
        break;
    }
    case CT_EDIT_MOVE: {
        static const char *const v[] = {"move", "shift", "drag", "relocate", "slide"};
        const char *pos = pick_word(r, CT_ATTR_CELL, e->obj.cell);
        cat(c, cap, "%s %s to %s", pick(r, v, 5), T(tr, dn), pos);
        add_root(tr, dn);
        add_root(tr, new_node(tr, pos));
        break;
    }
    case CT_EDIT_BACKGROUND: {
        const char *col = e->bg_color >= 0 ? pick_word(r, CT_ATTR_BG_COLOR, e->bg_color) : NULL;
        const char *tex = e->bg_texture >= 0 ? pick_word(r, CT_ATTR_TEXTURE, e->bg_texture) : NULL;
        static const char *const tex_noun[CT_SYNTH_N_TEXTURES] = {
            NULL, "stripes", "polka dots", "a checkerboard pattern"};
        double u = ct_rng_uniform(r);
        char np[CT_SYNTH_PHRASE_LEN];
        if (u < 0.2) { /* "use a striped black background" */
            snprintf(np, sizeof np, "a %s%s%s background", tex ? tex : "", tex && col ? " " : "",
                     col ? col : "");
            cat(c, cap, "use %s", np);
            add_root(tr, new_node(tr, np));
            break;
        }
        int bg = new_node(tr, "the background");
        if (col && tex) cat(c, cap, "make %s %s and %s", T(tr, bg), col, tex);
        else if (col) {
            static const char *const f[] = {"make %s %s", "change %s to %s", "turn %s %s",
                                            "paint %s %s"};
            cat(c, cap, pick(r, f, 4), T(tr, bg), col);
        } else if (e->bg_texture == CT_TEX_PLAIN && u < 0.5) {
            int pat = new_node(tr, "the pattern");
            cat(c, cap, "remove %s from %s", T(tr, pat), T(tr, bg));
            add_root(tr, pat);
        } else if (e->bg_texture != CT_TEX_PLAIN && u < 0.5) {
            int tn = new_node(tr, tex_noun[e->bg_texture]);
            cat(c, cap, "give %s %s", T(tr, bg), T(tr, tn));
            add_root(tr, bg);
            add_root(tr, tn);
            break;
        } else cat(c, cap, "make %s %s", T(tr, bg), tex);
        add_root(tr, bg);
        break;
    }
    default: break;
    }
}

void synth_write_caption(ct_synth_triplet *t, ct_rng *r) {
    np_tree tr;
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
        if (prev && prev->kind == CT_EDIT_REMOVE && e->kind == CT_EDIT_REMOVE && n_clauses > 0 &&
            roots_before > 0 && tr.n_roots == roots_before + 1 &&
            !strcmp(T(&tr, tr.roots[roots_before - 1]), prev->ref_phrase) &&
            ct_rng_uniform(r) < 0.7) {
            int a = tr.roots[roots_before - 1], b = tr.roots[roots_before];
            char np[CT_SYNTH_PHRASE_LEN];
            snprintf(np, sizeof np, "%s and %s", T(&tr, a), T(&tr, b));
            if (strlen(np) + 1 < sizeof np) {
                int co = new_node(&tr, np);
                if (co >= 0) {
                    add_kid(&tr, co, a);
                    add_kid(&tr, co, b);
                    tr.roots[roots_before - 1] = co;
                    tr.n_roots = roots_before;
                    cat(clauses[n_clauses - 1], sizeof clauses[0], " and %s", T(&tr, b));
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
        if (k > 0 && n_clauses == 2) sep = pick(r, join2, 5);
        else if (k > 0 && k == n_clauses - 1) sep = pick(r, join_last, 3);
        else if (k > 0) sep = ", ";
        cat(t->caption, sizeof t->caption, "%s%s", sep, clauses[k]);
    }
    /* breadth-first over the phrase forest, roots in caption order, no repeats */
    int queue[MAX_NODES], head = 0, tail = 0;
    for (int i = 0; i < tr.n_roots && tail < MAX_NODES; i++) queue[tail++] = tr.roots[i];
    t->n_phrases = 0;
    while (head < tail) {
        const np_node *nd = &tr.node[queue[head++]];
        int seen = 0;
        for (int i = 0; i < t->n_phrases; i++) seen |= !strcmp(t->phrases[i], nd->text);
        if (!seen && t->n_phrases < CT_SYNTH_MAX_PHRASES)
            snprintf(t->phrases[t->n_phrases++], CT_SYNTH_PHRASE_LEN, "%s", nd->text);
        for (int i = 0; i < nd->n_kids && tail < MAX_NODES; i++) queue[tail++] = nd->kids[i];
    }
}
