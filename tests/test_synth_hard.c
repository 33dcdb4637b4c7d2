/* synth-shapes, hard variant: scenes stay in range, 2-4 edits, every phrase is in the caption
 * and names (by its words) the reference objects in its recorded cells, relation phrases put
 * the head in the right cell next to their anchor, hard negatives differ from the target
 * only in a binding, and the same seed gives the same triplet. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ctcir/synth.h"
#include "data/synth_internal.h"
#include "synth_words.h"
#include "test_util.h"

/* Does an attribute phrase ("the small red striped square") describe object o? */
static int describes(const char *p, const ct_synth_object *o) {
    int shape = find_attr(p, CT_ATTR_SHAPE, CT_SYNTH_N_SHAPES);
    int color = find_attr(p, CT_ATTR_COLOR, CT_SYNTH_N_COLORS);
    int size = find_attr(p, CT_ATTR_SIZE, CT_SYNTH_N_SIZES);
    int tex = find_attr(p, CT_ATTR_TEXTURE, CT_SYNTH_N_TEXTURES);
    return shape == o->shape && (color == -1 || color == o->color) && (size == -1 || size == o->size) &&
           (tex == -1 || tex == o->texture);
}

static int count_matches(const ct_synth_scene *s, const char *p, int *cell) {
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (describes(p, &s->obj[i])) n++, *cell = s->obj[i].cell;
    return n;
}

/* Checks a relation phrase "HEAD REL ANCHOR": the anchor names one reference object and the
 * phrase's cell is the one REL of it, holding an object HEAD describes. */
static int relation_ok(const ct_synth_scene *ref, const char *p, int cell) {
    static const struct {
        const char *w;
        int dr, dc;
    } rels[] = {{" to the left of ", 0, -1}, {" to the right of ", 0, 1}, {" left of ", 0, -1}, {" right of ", 0, 1},
                {" above ", -1, 0},          {" over ", -1, 0},           {" below ", 1, 0},    {" under ", 1, 0}};
    for (size_t k = 0; k < sizeof rels / sizeof rels[0]; k++) {
        const char *at = strstr(p, rels[k].w);
        if (!at) continue;
        char head[CT_SYNTH_PHRASE_LEN];
        snprintf(head, sizeof head, "%.*s", (int)(at - p), p);
        int a = -1;
        if (count_matches(ref, at + strlen(rels[k].w), &a) != 1) return 0;
        int row = a / 3 + rels[k].dr, col = a % 3 + rels[k].dc;
        if (row < 0 || row > 2 || col < 0 || col > 2 || row * 3 + col != cell) return 0;
        int i = synth_find_cell(ref, cell);
        return i >= 0 && describes(head, &ref->obj[i]);
    }
    return 0;
}

static void attr_multiset(const ct_synth_scene *s, int out[4][CT_SYNTH_N_COLORS]) {
    memset(out, 0, sizeof(int) * 4 * CT_SYNTH_N_COLORS);
    for (int i = 0; i < s->n; i++) {
        out[0][s->obj[i].shape]++;
        out[1][s->obj[i].color]++;
        out[2][s->obj[i].size]++;
        out[3][s->obj[i].texture]++;
    }
}

int main(void) {
    static ct_synth_triplet t, u;
    int n_edits_seen[CT_SYNTH_HARD_MAX_EDITS + 1] = {0}, kinds[CT_SYNTH_N_EDIT_KINDS] = {0};
    int types[CT_SYNTH_N_PHRASE_TYPES] = {0}, bad_phrase = 0, bad_scene = 0, bad_neg = 0, swaps = 0, negs = 0;
    int bad_det = 0, n_ok = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        if (ct_synth_make_hard_triplet(&t, seed * 104729 + 3, 3) != CT_OK) {
            CHECK_MSG(0, "seed %llu: %s", (unsigned long long)seed, ct_error());
            continue;
        }
        n_ok++;
        ct_synth_make_hard_triplet(&u, seed * 104729 + 3, 3);
        bad_det += memcmp(&t, &u, sizeof t) != 0;
        bad_scene += t.ref.n < 4 || t.ref.n > 7 || t.n_edits < 2 || t.n_edits > CT_SYNTH_HARD_MAX_EDITS ||
                     synth_scene_check_range(&t.tgt, CT_SYNTH_HARD_MIN_OBJECTS, CT_SYNTH_HARD_MAX_OBJECTS) != CT_OK ||
                     ct_synth_scene_equal(&t.ref, &t.tgt);
        n_edits_seen[t.n_edits]++;
        for (int k = 0; k < t.n_edits; k++) kinds[t.edits[k].kind]++;
        for (int i = 0; i < t.n_phrases; i++) {
            const char *p = t.phrases[i];
            int type = t.phrase_type[i], ok = strstr(t.caption, p) != NULL;
            unsigned cells = t.phrase_cells[i];
            types[type]++;
            if (type == CT_PHRASE_BACKGROUND) {
                for (int c = 0; c < CT_SYNTH_CELLS; c++) /* exactly the empty cells */
                    ok &= ((cells >> c) & 1) == (synth_find_cell(&t.ref, c) < 0);
            } else if (type == CT_PHRASE_RELATION) {
                int c = cells ? __builtin_ctz(cells) : -1;
                ok &= cells && !(cells & (cells - 1)) && relation_ok(&t.ref, p, c);
            } else {
                /* names objects of the reference that fit its words; none: a new object */
                for (int c = 0; c < CT_SYNTH_CELLS; c++) {
                    if (!((cells >> c) & 1)) continue;
                    int j = synth_find_cell(&t.ref, c);
                    ok &= j >= 0 && describes(p, &t.ref.obj[j]);
                }
                ok &= (type == CT_PHRASE_OBJECT) == (find_attr(p, CT_ATTR_COLOR, CT_SYNTH_N_COLORS) == -1 &&
                                                     find_attr(p, CT_ATTR_SIZE, CT_SYNTH_N_SIZES) == -1 &&
                                                     find_attr(p, CT_ATTR_TEXTURE, CT_SYNTH_N_TEXTURES) == -1);
                ok &= cells != 0 || p[0] == 'a'; /* "a ..." : added or replacing object */
            }
            if (!ok && bad_phrase++ < 5)
                fprintf(stderr, "seed %llu: phrase '%s' (%s, cells 0x%x) of '%s'\n", (unsigned long long)seed, p,
                        ct_synth_phrase_type_name(type), cells, t.caption);
        }
        CHECK(t.n_negatives == 3);
        int tm[4][CT_SYNTH_N_COLORS], nm[4][CT_SYNTH_N_COLORS];
        attr_multiset(&t.tgt, tm);
        for (int i = 0; i < t.n_negatives; i++) {
            const ct_synth_scene *s = &t.neg[i];
            negs++;
            /* only a binding differs: same background and object count, not the target */
            bad_neg += ct_synth_scene_equal(s, &t.tgt) || ct_synth_scene_equal(s, &t.ref) ||
                       s->bg_color != t.tgt.bg_color || s->bg_texture != t.tgt.bg_texture || s->n != t.tgt.n ||
                       synth_scene_check_range(s, CT_SYNTH_HARD_MIN_OBJECTS, CT_SYNTH_HARD_MAX_OBJECTS) != CT_OK;
            attr_multiset(s, nm);
            swaps += !memcmp(tm, nm, sizeof tm);
        }
    }
    CHECK(n_ok == 2000);
    CHECK_MSG(bad_det == 0, "%d triplets differ between two runs with the same seed", bad_det);
    CHECK_MSG(bad_scene == 0, "%d triplets with scenes or edit counts out of range", bad_scene);
    CHECK_MSG(bad_phrase == 0, "%d phrases do not match their cells", bad_phrase);
    CHECK_MSG(bad_neg == 0, "%d negatives differ in more than a binding", bad_neg);
    /* swapped attributes (same attribute counts as the target) are a good share */
    CHECK_MSG(swaps > negs / 4 && swaps < negs, "%d of %d negatives keep the attribute counts", swaps, negs);
    for (int k = 2; k <= CT_SYNTH_HARD_MAX_EDITS; k++)
        CHECK_MSG(n_edits_seen[k] > 300, "%d edits: %d", k, n_edits_seen[k]);
    for (int k = 0; k < CT_SYNTH_N_EDIT_KINDS; k++)
        CHECK_MSG(kinds[k] > 200, "edit %s: %d", ct_synth_edit_name((ct_synth_edit_kind)k), kinds[k]);
    for (int k = 0; k < CT_SYNTH_N_PHRASE_TYPES; k++)
        CHECK_MSG(types[k] > 200, "phrase type %s: %d", ct_synth_phrase_type_name((ct_synth_phrase_type)k), types[k]);
    CHECK(ct_synth_make_hard_triplet(&t, 1, CT_SYNTH_MAX_NEGATIVES + 1) == CT_ERR_ARG);
    return test_finish();
}
