/* synth-shapes: scenes stay valid, captions say what the edits do, noun phrases come from the
 * caption, hard negatives differ from the target, the renderer puts objects where the scene
 * says, and datasets are byte-identical for a seed whatever the thread count. */
#include <ctype.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctcir/dataset.h"
#include "ctcir/synth.h"
#include "data/synth_internal.h"
#include "synth_words.h"
#include "test_util.h"

/* The cell a text's position words name, or -1 when it names none. */
static int find_cell(const char *t) {
    int top = has_word(t, "top") || has_word(t, "upper"), bot = has_word(t, "bottom") || has_word(t, "lower");
    int left = has_word(t, "left"), right = has_word(t, "right");
    int mid = has_word(t, "center") || has_word(t, "middle");
    if (!top && !bot && !left && !right && !mid) return -1;
    int row = top ? 0 : bot ? 2 : 1, col = left ? 0 : right ? 2 : 1;
    return row * 3 + col;
}

/* Which reference objects does a description ("the small red circle at the top") match? */
static int resolve(const ct_synth_scene *s, const char *phrase, int *cell) {
    int shape = find_attr(phrase, CT_ATTR_SHAPE, CT_SYNTH_N_SHAPES);
    int color = find_attr(phrase, CT_ATTR_COLOR, CT_SYNTH_N_COLORS);
    int size = find_attr(phrase, CT_ATTR_SIZE, CT_SYNTH_N_SIZES);
    int pos = find_cell(phrase);
    if (shape < 0 || color == -2 || size == -2) return 0;
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        const ct_synth_object *o = &s->obj[i];
        if (o->shape == shape && (color < 0 || o->color == color) && (size < 0 || o->size == size) &&
            (pos < 0 || o->cell == pos)) {
            n++;
            *cell = o->cell;
        }
    }
    return n;
}

/* clause with the first occurrence of `phrase` blanked out */
static void without(char *out, size_t cap, const char *clause, const char *phrase) {
    snprintf(out, cap, "%s", clause);
    char *p = phrase[0] ? strstr(out, phrase) : NULL;
    if (p) memset(p, ' ', strlen(phrase));
}

static int check_edit(const ct_synth_triplet *t, const ct_synth_edit *e) {
    int ok = 1;
    char rest[CT_SYNTH_CAPTION_LEN];
    ok &= strstr(t->caption, e->clause) != NULL;
    if (e->kind != CT_EDIT_ADD && e->kind != CT_EDIT_BACKGROUND) {
        int cell = -1;
        ok &= e->ref_phrase[0] && strstr(e->clause, e->ref_phrase) != NULL;
        ok &= resolve(&t->ref, e->ref_phrase, &cell) == 1 && cell == e->cell;
    }
    without(rest, sizeof rest, e->clause, e->ref_phrase);
    const ct_synth_object *old = NULL;
    for (int i = 0; i < t->ref.n; i++)
        if (t->ref.obj[i].cell == e->cell) old = &t->ref.obj[i];
    switch (e->kind) {
    case CT_EDIT_ADD:
        ok &= find_attr(rest, CT_ATTR_SHAPE, CT_SYNTH_N_SHAPES) == e->obj.shape;
        ok &= find_attr(rest, CT_ATTR_COLOR, CT_SYNTH_N_COLORS) == e->obj.color;
        ok &= find_attr(rest, CT_ATTR_SIZE, CT_SYNTH_N_SIZES) == e->obj.size;
        ok &= find_cell(rest) == e->cell;
        break;
    case CT_EDIT_REMOVE:
        ok &= has_word(rest, "remove") || has_word(rest, "get rid of") || has_word(rest, "take away") ||
              has_word(rest, "delete") || has_word(rest, "take out") || has_word(rest, "erase");
        break;
    case CT_EDIT_REPLACE:
        ok &= old && old->shape != e->obj.shape;
        ok &= find_attr(rest, CT_ATTR_SHAPE, CT_SYNTH_N_SHAPES) == e->obj.shape;
        if (old && old->color != e->obj.color) ok &= find_attr(rest, CT_ATTR_COLOR, CT_SYNTH_N_COLORS) == e->obj.color;
        if (old && old->size != e->obj.size) ok &= find_attr(rest, CT_ATTR_SIZE, CT_SYNTH_N_SIZES) == e->obj.size;
        break;
    case CT_EDIT_RECOLOR:
        ok &= old && old->color != e->obj.color;
        ok &= find_attr(rest, CT_ATTR_COLOR, CT_SYNTH_N_COLORS) == e->obj.color;
        break;
    case CT_EDIT_RESIZE:
        ok &= old && old->size != e->obj.size;
        if (e->obj.size == CT_SIZE_LARGE)
            ok &= has_word(rest, "bigger") || has_word(rest, "larger") || has_word(rest, "enlarge") ||
                  has_word(rest, "increase") || has_word(rest, "scale up");
        else
            ok &= has_word(rest, "smaller") || has_word(rest, "shrink") || has_word(rest, "reduce") ||
                  has_word(rest, "scale down");
        break;
    case CT_EDIT_MOVE: ok &= find_cell(rest) == e->obj.cell && e->obj.cell != e->cell; break;
    case CT_EDIT_BACKGROUND:
        ok &= e->bg_color >= 0 || e->bg_texture >= 0;
        if (e->bg_color >= 0) {
            ok &= e->bg_color != t->ref.bg_color;
            ok &= find_attr(rest, CT_ATTR_BG_COLOR, CT_SYNTH_N_BG_COLORS) == e->bg_color;
        }
        if (e->bg_texture >= 0) {
            static const char *stems[CT_SYNTH_N_TEXTURES][3] = {
                {"plain", "pattern", NULL}, {"strip", NULL}, {"dot", "spot", NULL}, {"check", "chequer", NULL}};
            int any = 0;
            for (int i = 0; i < 3 && stems[e->bg_texture][i]; i++) any |= strstr(rest, stems[e->bg_texture][i]) != NULL;
            ok &= any && e->bg_texture != t->ref.bg_texture;
        }
        break;
    default: ok = 0;
    }
    return ok;
}

static void test_triplets(void) {
    int n_edits_seen[CT_SYNTH_MAX_EDITS + 1] = {0}, kinds[CT_SYNTH_N_EDITS] = {0};
    int objs_seen[CT_SYNTH_MAX_OBJECTS + 1] = {0};
    int bad_scene = 0, bad_edit = 0, bad_phrase = 0, bad_neg = 0, bad_apply = 0, bad_det = 0;
    ct_synth_triplet *t = malloc(sizeof *t), *u = malloc(sizeof *u);
    for (uint64_t seed = 0; seed < 3000; seed++) {
        int nneg = (int)(seed % 5);
        if (ct_synth_make_triplet(t, seed * 7919 + 1, nneg) != CT_OK) {
            CHECK_MSG(0, "seed %llu: %s", (unsigned long long)seed, ct_error());
            continue;
        }
        /* determinism of the in-memory generator */
        ct_synth_make_triplet(u, seed * 7919 + 1, nneg);
        int same = !strcmp(t->caption, u->caption) && t->n_phrases == u->n_phrases &&
                   ct_synth_scene_equal(&t->ref, &u->ref) && ct_synth_scene_equal(&t->tgt, &u->tgt) &&
                   t->n_negatives == u->n_negatives;
        for (int i = 0; same && i < t->n_negatives; i++) same = ct_synth_scene_equal(&t->neg[i], &u->neg[i]);
        bad_det += !same;
        /* every scene is valid: 2..5 objects, distinct cells */
        int ok = ct_synth_scene_check(&t->ref) == CT_OK && ct_synth_scene_check(&t->tgt) == CT_OK;
        for (int i = 0; i < t->n_negatives; i++) ok &= ct_synth_scene_check(&t->neg[i]) == CT_OK;
        if (!ok) CHECK_MSG(0, "seed %llu: invalid scene: %s", (unsigned long long)seed, ct_error());
        bad_scene += !ok;
        objs_seen[t->ref.n]++;
        objs_seen[t->tgt.n]++;
        n_edits_seen[t->n_edits]++;
        /* the edits, applied again independently, give the target */
        ct_synth_scene s = t->ref;
        int applied = 1;
        for (int k = 0; k < t->n_edits; k++) {
            applied &= ct_synth_apply(&s, &t->edits[k]) == CT_OK;
            kinds[t->edits[k].kind]++;
            if (!check_edit(t, &t->edits[k])) {
                if (bad_edit < 5)
                    fprintf(stderr, "seed %llu: edit %s does not match caption '%s' (phrase '%s')\n",
                            (unsigned long long)seed, ct_synth_edit_name(t->edits[k].kind), t->caption,
                            t->edits[k].ref_phrase);
                bad_edit++;
            }
        }
        bad_apply += !applied || !ct_synth_scene_equal(&s, &t->tgt) || ct_synth_scene_equal(&t->ref, &t->tgt);
        /* noun phrases: present, whole words of the caption, no repeats */
        int pok = t->n_phrases >= 1 && t->n_phrases <= CT_SYNTH_MAX_PHRASES;
        for (int i = 0; i < t->n_phrases; i++) {
            pok &= t->phrases[i][0] && has_word(t->caption, t->phrases[i]);
            for (int j = 0; j < i; j++) pok &= strcmp(t->phrases[i], t->phrases[j]) != 0;
            /* an attachment or coordination comes before at least one of its parts */
            const char *and = strstr(t->phrases[i], " and ");
            if (and) {
                char head[CT_SYNTH_PHRASE_LEN];
                snprintf(head, sizeof head, "%.*s", (int)(and-t->phrases[i]), t->phrases[i]);
                int later = 0;
                for (int j = i + 1; j < t->n_phrases; j++) later |= !strcmp(t->phrases[j], head);
                pok &= later;
            }
        }
        if (!pok && bad_phrase < 5)
            fprintf(stderr, "seed %llu: bad phrases for '%s'\n", (unsigned long long)seed, t->caption);
        bad_phrase += !pok;
        /* hard negatives: as many as asked, distinct from target, reference and each other */
        int nok = t->n_negatives == nneg;
        for (int i = 0; i < t->n_negatives; i++) {
            nok &= !ct_synth_scene_equal(&t->neg[i], &t->tgt) && !ct_synth_scene_equal(&t->neg[i], &t->ref);
            for (int j = 0; j < i; j++) nok &= !ct_synth_scene_equal(&t->neg[i], &t->neg[j]);
        }
        bad_neg += !nok;
    }
    CHECK_MSG(bad_det == 0, "%d triplets differ between two runs with the same seed", bad_det);
    CHECK_MSG(bad_scene == 0, "%d triplets with invalid scenes", bad_scene);
    CHECK_MSG(bad_edit == 0, "%d edits not described by their caption", bad_edit);
    CHECK_MSG(bad_apply == 0, "%d targets differ from the edits applied to the reference", bad_apply);
    CHECK_MSG(bad_phrase == 0, "%d triplets with bad noun phrases", bad_phrase);
    CHECK_MSG(bad_neg == 0, "%d triplets with bad hard negatives", bad_neg);
    for (int k = 1; k <= CT_SYNTH_MAX_EDITS; k++) CHECK_MSG(n_edits_seen[k] > 300, "%d edits: %d", k, n_edits_seen[k]);
    for (int k = 0; k < CT_SYNTH_N_EDITS; k++)
        CHECK_MSG(kinds[k] > 300, "edit %s: %d", ct_synth_edit_name(k), kinds[k]);
    for (int n = CT_SYNTH_MIN_OBJECTS; n <= CT_SYNTH_MAX_OBJECTS; n++)
        CHECK_MSG(objs_seen[n] > 300, "%d objects: %d", n, objs_seen[n]);
    CHECK(objs_seen[0] == 0 && objs_seen[1] == 0);
    free(t);
    free(u);
}

static void test_render(void) {
    ct_synth_triplet t;
    int bad_centre = 0, same_as_target = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        CHECK(ct_synth_make_triplet(&t, seed, 3) == CT_OK);
        ct_image a, b;
        int size = seed % 2 ? 64 : 96;
        CHECK(ct_synth_render(&t.tgt, size, &a) == CT_OK);
        CHECK(a.w == size && a.h == size && a.rgb);
        for (int i = 0; i < t.tgt.n; i++) { /* the object's centre has its fill colour */
            const ct_synth_object *o = &t.tgt.obj[i];
            float cell = (float)size / 3;
            int x = (int)(((float)(o->cell % 3) + 0.5f + o->jx) * cell);
            int y = (int)(((float)(o->cell / 3) + 0.5f + o->jy) * cell);
            uint8_t want[3];
            synth_object_rgb(o->color, want);
            bad_centre += memcmp(a.rgb + ((size_t)y * size + x) * 3, want, 3) != 0;
        }
        for (int k = 0; k < t.n_negatives; k++) {
            CHECK(ct_synth_render(&t.neg[k], size, &b) == CT_OK);
            same_as_target += memcmp(a.rgb, b.rgb, (size_t)size * size * 3) == 0;
            ct_image_free(&b);
        }
        ct_image_free(&a);
    }
    CHECK_MSG(bad_centre == 0, "%d object centres without the object's colour", bad_centre);
    CHECK_MSG(same_as_target == 0, "%d negatives render exactly like their target", same_as_target);
    ct_image img;
    CHECK(ct_synth_render(&t.ref, 8, &img) == CT_ERR_ARG && img.rgb == NULL);
    ct_synth_scene bad = t.ref;
    bad.n = 1;
    CHECK(ct_synth_render(&bad, 64, &img) != CT_OK && img.rgb == NULL);
}

static void test_errors(void) {
    ct_synth_triplet t;
    CHECK(ct_synth_make_triplet(&t, 1, CT_SYNTH_MAX_NEGATIVES + 1) == CT_ERR_ARG);
    CHECK(ct_synth_make_triplet(&t, 1, 0) == CT_OK);
    ct_synth_scene s = t.ref;
    ct_synth_edit e = {.kind = CT_EDIT_REMOVE, .bg_color = -1, .bg_texture = -1};
    int empty = 0;
    while (synth_find_cell(&s, empty) >= 0) empty++;
    e.cell = empty;
    CHECK(ct_synth_apply(&s, &e) == CT_ERR_ARG && ct_synth_scene_equal(&s, &t.ref));
    e.kind = CT_EDIT_MOVE; /* onto an occupied cell */
    e.cell = s.obj[0].cell;
    e.obj.cell = s.obj[1].cell;
    CHECK(ct_synth_apply(&s, &e) == CT_ERR_ARG && ct_synth_scene_equal(&s, &t.ref));
    CHECK(ct_synth_random_scene(&s, 1, 6) == CT_ERR_ARG);
    CHECK(ct_synth_random_scene(&s, 1, 1) == CT_ERR_ARG);
    ct_synth_config cfg;
    ct_synth_config_default(&cfg);
    CHECK(cfg.n_test * (2 + cfg.negatives) == 1000);         /* the documented 1,000-image test gallery */
    CHECK(ct_synth_write_dataset(&cfg, NULL) == CT_ERR_ARG); /* no out_dir */
    cfg.out_dir = "/tmp/never-written";
    cfg.size = 4;
    CHECK(ct_synth_write_dataset(&cfg, NULL) == CT_ERR_ARG);
    cfg.size = 64;
    cfg.jpeg_fraction = 1.5;
    CHECK(ct_synth_write_dataset(&cfg, NULL) == CT_ERR_ARG);
    CHECK(ct_synth_word(CT_ATTR_SHAPE, CT_SYNTH_N_SHAPES) == NULL);
    CHECK(ct_synth_word(CT_ATTR_COLOR, CT_COLOR_RED) && !strcmp(ct_synth_word(CT_ATTR_COLOR, CT_COLOR_RED), "red"));
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Writes a small dataset twice (1 and 2 threads), compares every file, checks manifests and
 * galleries. */
static void test_dataset(void) {
    char d1[] = "/tmp/ctcir_synth_XXXXXX", d2[] = "/tmp/ctcir_synth_XXXXXX";
    if (!mkdtemp(d1) || !mkdtemp(d2)) {
        CHECK_MSG(0, "cannot create temporary folders");
        return;
    }
    ct_synth_config cfg;
    ct_synth_config_default(&cfg);
    cfg.n_train = 40;
    cfg.n_val = 6;
    cfg.n_test = 12;
    cfg.negatives = 3;
    cfg.size = 48;
    cfg.seed = 12345;
    cfg.jpeg_fraction = 0.3;
    ct_synth_stats st1, st2;
    cfg.out_dir = d1;
    omp_set_num_threads(1);
    CHECK_MSG(ct_synth_write_dataset(&cfg, &st1) == CT_OK, "%s", ct_error());
    cfg.out_dir = d2;
    omp_set_num_threads(2);
    CHECK_MSG(ct_synth_write_dataset(&cfg, &st2) == CT_OK, "%s", ct_error());
    CHECK(st1.images == 40 * 2 + 6 * 5 + 12 * 5 && st1.images == st2.images);
    CHECK(st1.gallery[2] == 60 && st1.gallery[1] == 30 && st1.gallery[0] == 80);
    CHECK(st1.jpeg_images > 0 && st1.jpeg_images < st1.images);
    const char *names[] = {"train.jsonl",     "val.jsonl",        "test.jsonl", "train_gallery.txt",
                           "val_gallery.txt", "test_gallery.txt", "synth.json"};
    char p1[512], p2[512];
    for (int i = 0; i < 7; i++) {
        snprintf(p1, sizeof p1, "%s/%s", d1, names[i]);
        snprintf(p2, sizeof p2, "%s/%s", d2, names[i]);
        CHECK_MSG(same_file(p1, p2), "%s differs between two runs", names[i]);
    }
    /* every gallery image is identical in both runs; galleries have no duplicates */
    long images_compared = 0;
    for (int sp = 0; sp < 3; sp++) {
        static const char *gal[] = {"train_gallery.txt", "val_gallery.txt", "test_gallery.txt"};
        snprintf(p1, sizeof p1, "%s/%s", d1, gal[sp]);
        size_t len;
        char *text = slurp(p1, &len);
        CHECK(text != NULL);
        if (!text) continue;
        char *lines[256];
        int n = 0;
        for (char *tok = strtok(text, "\n"); tok && n < 256; tok = strtok(NULL, "\n")) lines[n++] = tok;
        CHECK(n == (int)st1.gallery[sp]);
        for (int i = 0; i < n; i++) {
            snprintf(p1, sizeof p1, "%s/%s", d1, lines[i]);
            snprintf(p2, sizeof p2, "%s/%s", d2, lines[i]);
            images_compared += same_file(p1, p2);
        }
        qsort(lines, (size_t)n, sizeof lines[0], cmp_str);
        int dups = 0;
        for (int i = 1; i < n; i++) dups += !strcmp(lines[i], lines[i - 1]);
        CHECK_MSG(dups == 0, "%s has %d duplicate paths", gal[sp], dups);
        free(text);
    }
    CHECK(images_compared == st1.images);
    /* manifests parse; fields as documented; phrases in captions; paths in the gallery */
    snprintf(p1, sizeof p1, "%s/test.jsonl", d1);
    size_t len;
    char *text = slurp(p1, &len);
    snprintf(p2, sizeof p2, "%s/test_gallery.txt", d1);
    size_t glen;
    char *gallery = slurp(p2, &glen);
    int lines = 0, bad = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        lines++;
        cJSON *o = cJSON_Parse(line);
        cJSON *ref = cJSON_GetObjectItem(o, "reference"), *tgt = cJSON_GetObjectItem(o, "target");
        cJSON *cap = cJSON_GetObjectItem(o, "caption"), *nps = cJSON_GetObjectItem(o, "noun_phrases");
        cJSON *id = cJSON_GetObjectItem(o, "id"), *negs = cJSON_GetObjectItem(o, "hard_negatives");
        int ok = o && cJSON_IsString(ref) && cJSON_IsString(tgt) && cJSON_IsString(cap) && cJSON_IsArray(nps) &&
                 cJSON_IsString(id) && cJSON_IsArray(negs) && cJSON_GetArraySize(negs) == 3 &&
                 cJSON_GetArraySize(nps) >= 1;
        if (ok) {
            cJSON *it;
            cJSON_ArrayForEach(it, nps) ok &= cJSON_IsString(it) && strstr(cap->valuestring, it->valuestring) != NULL;
            ok &= strstr(gallery, ref->valuestring) && strstr(gallery, tgt->valuestring);
            cJSON_ArrayForEach(it, negs) ok &= cJSON_IsString(it) && strstr(gallery, it->valuestring);
            ok &= strncmp(ref->valuestring, "images/test/", 12) == 0;
            char full[512];
            struct stat sb;
            snprintf(full, sizeof full, "%s/%s", d1, tgt->valuestring);
            ok &= stat(full, &sb) == 0 && sb.st_size > 0;
        }
        bad += !ok;
        cJSON_Delete(o);
    }
    CHECK(lines == 12);
    CHECK_MSG(bad == 0, "%d bad manifest lines", bad);
    free(text);
    free(gallery);
    /* the generic manifest reader takes every split as it is (strict: no record skipped) */
    static const char *splits[] = {"train", "val", "test"};
    static const int n_queries[] = {40, 6, 12}, n_gallery[] = {80, 30, 60};
    for (int sp = 0; sp < 3; sp++) {
        char file[512], gal[512];
        snprintf(file, sizeof file, "%s/%s.jsonl", d1, splits[sp]);
        snprintf(gal, sizeof gal, "%s/%s_gallery.txt", d1, splits[sp]);
        ct_dataset_opts opts = {
            .root = d1, .file = file, .gallery_file = gal, .check_images = true, .strict = true, .quiet = true};
        ct_dataset *ds = NULL;
        ct_status st = ct_dataset_load(&ds, CT_DS_MANIFEST, &opts);
        CHECK_MSG(st == CT_OK, "manifest reader on %s: %s", file, ct_error());
        if (st != CT_OK) continue;
        CHECK(ds->n_queries == n_queries[sp] && ds->n_gallery == n_gallery[sp] && ds->n_skipped == 0);
        CHECK(ds->queries[0].n_nps >= 1 && ds->queries[0].n_targets == 1);
        ct_dataset_free(ds);
    }
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", d1, d2);
    CHECK(system(cmd) == 0);
}

int main(void) {
    test_triplets();
    test_render();
    test_errors();
    test_dataset();
    return test_finish();
}
