/* Dataset readers on the real annotation files (../shared/cir-annotations) and on small
 * malformed files written here; the caption joiner; the training sampler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cir_fixture.h"
#include "ctcir/dataset.h"
#include "test_util.h"

static ct_dataset *load(ct_dataset_kind kind, const char *root, const char *split, const char *cat) {
    ct_dataset_opts o = {.root = root, .split = split, .category = cat, .quiet = true};
    ct_dataset *ds = NULL;
    ct_status st = ct_dataset_load(&ds, kind, &o);
    CHECK_MSG(st == CT_OK, "%s %s %s: %s", ct_dataset_kind_name(kind), split, cat ? cat : "", ct_error());
    return ds;
}

static void test_cirr(const char *shared) {
    char root[1024];
    snprintf(root, sizeof root, "%s/cir-annotations/cirr", shared);
    ct_dataset *ds = load(CT_DS_CIRR, root, "val", NULL);
    if (!ds) return;
    CHECK(ds->n_queries == 4181 && ds->n_gallery == 2297 && ds->n_skipped == 0);
    const ct_query *q = &ds->queries[0];
    CHECK(strcmp(q->id, "12060") == 0 && strcmp(q->ref_name, "dev-244-0-img0") == 0);
    CHECK(strcmp(q->caption, "show three bottles of soft drink") == 0);
    CHECK(q->n_targets == 1 && strcmp(q->targets[0], "dev-1028-1-img1") == 0);
    CHECK(q->n_members == 6 && strcmp(q->members[5], "dev-1028-2-img0") == 0 && q->n_nps == -1);
    char want[1200];
    snprintf(want, sizeof want, "%s/dev/dev-244-0-img0.png", root);
    CHECK_MSG(strcmp(q->ref_path, want) == 0, "%s", q->ref_path);
    int g = ct_dataset_find(ds, "dev-244-0-img0");
    CHECK(g >= 0 && strcmp(ds->gallery_paths[g], want) == 0);
    CHECK(ct_dataset_find(ds, "nope") == -1);
    ct_dataset_free(ds);

    ds = load(CT_DS_CIRR, root, "test1", NULL);
    if (!ds) return;
    CHECK(ds->n_queries == 4148 && ds->n_gallery == 2315);
    CHECK(strcmp(ds->queries[0].id, "12063") == 0 && ds->queries[0].n_targets == 0);
    CHECK(strcmp(ds->queries[0].caption, "remove all but one dog and add a woman hugging it") == 0);
    CHECK(strcmp(ds->queries[4147].id, "39059") == 0);
    ct_dataset_free(ds);

    /* check_images: no images here, so every query and gallery entry is skipped. */
    ct_dataset_opts o = {.root = root, .split = "val", .check_images = true, .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_OK && ds->n_gallery == 0 && ds->n_queries == 0 &&
          ds->n_skipped == 2297 + 4181);
    ct_dataset_free(ds);
}

/* CIRCO with a stand-in COCO image list holding every id the annotations use. */
static void test_circo(void) {
    int seen = fx_make_circo();
    CHECK(seen > 0);
    ct_dataset *ds = load(CT_DS_CIRCO, fx_path("circo"), "val", NULL);
    if (!ds) return;
    CHECK(ds->n_queries == 220 && ds->n_gallery == seen && ds->n_skipped == 0);
    const ct_query *q = &ds->queries[0];
    CHECK(strcmp(q->id, "0") == 0 && strcmp(q->ref_name, "271520") == 0);
    CHECK_MSG(strcmp(q->caption, "find a girl with a traditional Chinese umbrella but shows two people "
                                 "and has a more colorful background") == 0,
              "%s", q->caption);
    CHECK(q->n_targets == 3 && strcmp(q->targets[0], "355099") == 0 && strcmp(q->targets[2], "534704") == 0);
    CHECK(ds->queries[95].n_targets == 14);
    char want[1100];
    snprintf(want, sizeof want, "%s/COCO2017_unlabeled/unlabeled2017/000000355099.jpg", fx_path("circo"));
    CHECK_MSG(strcmp(q->target_path, want) == 0, "%s", q->target_path);
    ct_dataset_free(ds);
    ds = load(CT_DS_CIRCO, fx_path("circo"), "test", NULL);
    if (!ds) return;
    CHECK(ds->n_queries == 800 && ds->queries[0].n_targets == 0 && strcmp(ds->queries[799].id, "799") == 0);
    ct_dataset_free(ds);
    /* A custom template. */
    ct_dataset_opts o = {.root = fx_path("circo"),
                         .split = "val",
                         .quiet = true,
                         .circo_template = "Find a picture that also {shared_concept}, but {relative_caption}."};
    CHECK(ct_dataset_load(&ds, CT_DS_CIRCO, &o) == CT_OK);
    if (ds)
        CHECK(strcmp(ds->queries[0].caption,
                     "Find a picture that also a girl with a traditional Chinese "
                     "umbrella, but shows two people and has a more colorful background.") == 0);
    ct_dataset_free(ds);
}

static void test_fashioniq(const char *shared) {
    char root[1024];
    snprintf(root, sizeof root, "%s/cir-annotations/fashioniq", shared);
    static const char *cats[3] = {"dress", "shirt", "toptee"}, *splits[3] = {"train", "val", "test"};
    static const int nq[3][3] = {{5985, 2017, 2024}, {5988, 2038, 2038}, {6027, 1961, 2056}};
    static const int ng[3][3] = {{11452, 3817, 3818}, {19036, 6346, 6346}, {16121, 5373, 5374}};
    for (int c = 0; c < 3; c++)
        for (int s = 0; s < 3; s++) {
            ct_dataset *ds = load(CT_DS_FASHIONIQ, root, splits[s], cats[c]);
            if (!ds) continue;
            CHECK_MSG(ds->n_queries == nq[c][s] && ds->n_gallery == ng[c][s] && ds->n_skipped == 0,
                      "%s %s: %d queries, %d gallery, %d skipped", cats[c], splits[s], ds->n_queries, ds->n_gallery,
                      ds->n_skipped);
            if (c == 0 && s == 1) {
                const ct_query *q = &ds->queries[0];
                CHECK(strcmp(q->id, "dress/0") == 0 && strcmp(q->ref_name, "B005X4PL1G") == 0);
                CHECK(q->n_targets == 1 && strcmp(q->targets[0], "B0084Y8XIU") == 0);
                CHECK_MSG(strcmp(q->caption, "Is shiny and silver with shorter sleeves and fit and flare") == 0, "%s",
                          q->caption);
                char want[1200];
                snprintf(want, sizeof want, "%s/images/B005X4PL1G.jpg", root);
                CHECK(strcmp(q->ref_path, want) == 0);
            }
            if (c == 0 && s == 2) {
                CHECK(ds->queries[0].n_targets == 0);
                CHECK_MSG(strcmp(ds->queries[0].caption, "Yello and more flowing and short and black") == 0, "%s",
                          ds->queries[0].caption);
            }
            ct_dataset_free(ds);
        }
}

static void test_join(void) {
    static const char *cases[][3] = {
        {"is shiny and silver", "fit and flare", "Is shiny and silver and fit and flare"},
        {" ..Is MORE Blue?, ", ", has NO sleeves. ", "Is more blue and has NO sleeves"},
        {"", "", " and "},
        {"?.,", "a", " and a"},
        {"éLAN Vital", "x", "Élan vital and x"},
        {"1st IS red", "y.", "1st is red and y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = ct_fiq_join_captions(cases[i][0], cases[i][1]);
        CHECK_MSG(s && strcmp(s, cases[i][2]) == 0, "'%s' + '%s' -> '%s'", cases[i][0], cases[i][1], s);
        free(s);
    }
}

static void test_lasco(const char *shared) {
    char src[1024];
    snprintf(src, sizeof src, "%s/cir-annotations/lasco/downloads/lasco_val_corpus.json", shared);
    fx_write(
        "lasco/downloads/lasco_val.json",
        "[{\"qid\": 42000, \"query-image\": [42, \"val2014/COCO_val2014_000000000042.jpg\"],\n"
        "  \"query-text\": \"The dog is brown\", \"target-image\": [73, \"val2014/COCO_val2014_000000000073.jpg\"]},\n"
        " {\"qid\": 73001, \"query-image\": [73, \"val2014/COCO_val2014_000000000073.jpg\"],\n"
        "  \"query-text\": 5, \"target-image\": [42, \"val2014/COCO_val2014_000000000042.jpg\"]},\n"
        " {\"qid\": 74002, \"query-image\": [74, \"val2014/COCO_val2014_000000000074.jpg\"],\n"
        "  \"query-text\": \"two cats\", \"target-image\": [42, \"val2014/COCO_val2014_000000000042.jpg\"],"
        "  \"noun_phrases\": [\"two cats\"]}]\n");
    CHECK(symlink(src, fx_path("lasco/downloads/lasco_val_corpus.json")) == 0);
    ct_dataset *ds = load(CT_DS_LASCO, fx_path("lasco"), "val", NULL);
    if (!ds) return;
    CHECK_MSG(ds->n_gallery == 39826, "%d", ds->n_gallery);
    CHECK(strcmp(ds->gallery_names[0], "42") == 0);
    char want[1200];
    snprintf(want, sizeof want, "%s/val2014/COCO_val2014_000000000042.jpg", fx_path("lasco"));
    CHECK_MSG(strcmp(ds->gallery_paths[0], want) == 0, "%s", ds->gallery_paths[0]);
    CHECK(ds->n_queries == 2 && ds->n_skipped == 1 && ds->n_records == 3);
    CHECK(strcmp(ds->queries[0].id, "42000") == 0 && strcmp(ds->queries[0].targets[0], "73") == 0);
    CHECK(strcmp(ds->queries[0].ref_path, want) == 0);
    CHECK(ds->queries[1].n_nps == 1 && strcmp(ds->queries[1].nps[0], "two cats") == 0);
    ct_dataset_free(ds);
    /* The dict form of a corpus. */
    fx_write("lasco2/lasco_val_corpus.json", "{\"42\": \"val/val2014/a.jpg\", \"73\": \"val2014/b.jpg\"}");
    fx_write("lasco2/lasco_val.json", "[{\"qid\": 1, \"query-image\": [42, \"val2014/a.jpg\"], \"query-text\": \"t\", "
                                      "\"target-image\": [73, \"val2014/b.jpg\"]}]");
    ds = load(CT_DS_LASCO, fx_path("lasco2"), "val", NULL);
    if (ds)
        CHECK(ds->n_gallery == 2 && ds->n_queries == 1 &&
              strcmp(ds->gallery_paths[0], fx_path("lasco2/val2014/a.jpg")) == 0);
    ct_dataset_free(ds);
}

static void test_malformed(void) {
    /* Bad JSON: line and column in the message. */
    fx_write("bad/captions/cap.rc2.val.json", "[\n  {\"pairid\": 1,\n   \"reference\": \"a\" \"caption\": \"x\"}\n]\n");
    fx_write("bad/image_splits/split.rc2.val.json",
             "{\"a\": \"./dev/a.png\", \"b\": \"./dev/b.png\", \"c\": \"./dev/c.png\"}");
    ct_dataset *ds = NULL;
    ct_dataset_opts o = {.root = fx_path("bad"), .split = "val", .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_ERR_FORMAT && !ds);
    CHECK_MSG(strstr(ct_error(), "line 3, column 21") && strstr(ct_error(), "cap.rc2.val.json"), "%s", ct_error());
    /* A missing field, a wrong type and an unknown target: skipped and counted. */
    fx_write("bad/captions/cap.rc2.val.json",
             "[{\"pairid\": 1, \"reference\": \"a\", \"target_hard\": \"b\", \"caption\": \"x\", \"img_set\": "
             "{\"members\": [\"a\", \"b\", \"c\"]}},\n"
             " {\"pairid\": 2, \"target_hard\": \"b\", \"caption\": \"x\"},\n"
             " {\"pairid\": 3, \"reference\": \"a\", \"target_hard\": \"b\", \"caption\": 7},\n"
             " {\"pairid\": 4, \"reference\": \"a\", \"target_hard\": \"zz\", \"caption\": \"y\"}]");
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_OK);
    if (ds) CHECK(ds->n_queries == 1 && ds->n_skipped == 3 && ds->n_records == 4);
    ct_dataset_free(ds);
    o.strict = true;
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_ERR_FORMAT && !ds);
    CHECK_MSG(strstr(ct_error(), "record 1") && strstr(ct_error(), "'reference'"), "%s", ct_error());
    o.strict = false;
    /* CIRR_R: difference captions, each its own query. */
    fx_write(
        "bad/good4cir.json",
        "[{\"pairid\": 9, \"reference\": \"a\", \"target_hard\": \"b\", \"difference_captions\": [\"d0\", \"d1\"]},\n"
        " {\"pairid\": 8, \"reference\": \"b\", \"target_hard\": \"c\", \"caption\": \"c0\", \"difference_captions\": "
        "[\"e0\"]}]");
    o.file = fx_path("bad/good4cir.json");
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR_R, &o) == CT_OK);
    if (ds) {
        CHECK(ds->n_queries == 4 && strcmp(ds->queries[0].id, "9_0") == 0 && strcmp(ds->queries[1].caption, "d1") == 0);
        CHECK(strcmp(ds->queries[2].id, "8") == 0 && strcmp(ds->queries[3].id, "8_0") == 0 &&
              strcmp(ds->queries[3].caption, "e0") == 0 && ds->kind == CT_DS_CIRR_R);
    }
    ct_dataset_free(ds);
    o.file = NULL;
    /* The wrong top-level type. */
    fx_write("bad/captions/cap.rc2.val.json", "{\"x\": 1}");
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_ERR_FORMAT && strstr(ct_error(), "list"));
    /* A missing file. */
    o.split = "nosuch";
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_ERR_IO && strstr(ct_error(), "split.rc2.nosuch.json"));
}

static void test_manifest(void) {
    fx_write("man/m.jsonl",
             "{\"reference\": \"imgs/r1.jpg\", \"target\": \"imgs/t1.png\", \"caption\": \"make it red\"}\n"
             "\n"
             "{\"reference\": \"imgs/t1.png\", \"target\": \"imgs/r2.jpg\", \"caption\": \"c2\", \"noun_phrases\": "
             "[\"a cat\", \"hat\"], \"id\": \"q7\"}\n"
             "{\"reference\": \"imgs/r1.jpg\", \"caption\": \"no target\"}\n"
             "{\"reference\": \"imgs/r1.jpg\", \"target\": 3, \"caption\": \"bad\"}\n"
             "{\"reference\": \"imgs/r1.png\", \"target\": \"imgs/t1.png\", \"caption\": \"name clash\"}\n");
    fx_write("man/imgs/r1.jpg", "x");
    fx_write("man/imgs/t1.png", "x");
    ct_dataset *ds = NULL;
    ct_dataset_opts o = {.root = fx_path("man"), .file = fx_path("man/m.jsonl"), .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK);
    if (ds) {
        CHECK_MSG(ds->n_queries == 3 && ds->n_skipped == 2 && ds->n_records == 5, "%d %d %d", ds->n_queries,
                  ds->n_skipped, ds->n_records);
        CHECK(ds->n_gallery == 3 && strcmp(ds->gallery_names[0], "imgs/r1") == 0 &&
              strcmp(ds->gallery_names[1], "imgs/t1") == 0 && strcmp(ds->gallery_names[2], "imgs/r2") == 0);
        CHECK(strcmp(ds->queries[0].id, "1") == 0 && strcmp(ds->queries[1].id, "q7") == 0 &&
              strcmp(ds->queries[2].id, "4") == 0);
        CHECK(ds->queries[1].n_nps == 2 && strcmp(ds->queries[1].nps[1], "hat") == 0 && ds->queries[0].n_nps == -1);
        CHECK(strcmp(ds->queries[0].target_path, fx_path("man/imgs/t1.png")) == 0 && ds->queries[2].n_targets == 0);
    }
    ct_dataset_free(ds);
    /* check_images: r2.jpg does not exist. */
    o.check_images = true;
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK);
    if (ds) CHECK(ds->n_queries == 2 && ds->n_skipped == 3);
    ct_dataset_free(ds);
    o.check_images = false;
    /* An explicit gallery list. */
    fx_write("man/gallery.txt", "imgs/r1.jpg\nimgs/t1.png\nimgs/x.jpg\n");
    o.gallery_file = fx_path("man/gallery.txt");
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK);
    /* q7's target imgs/r2 is not in the list: skipped with the malformed one. */
    if (ds)
        CHECK_MSG(ds->n_gallery == 3 && strcmp(ds->gallery_names[2], "imgs/x") == 0 && ds->n_queries == 3 &&
                      ds->n_skipped == 2,
                  "%d %d", ds->n_queries, ds->n_skipped);
    ct_dataset_free(ds);
    o.gallery_file = NULL;
    /* A malformed line: an error with its line and column. */
    fx_write(
        "man/bad.jsonl",
        "{\"reference\": \"a.jpg\", \"target\": \"b.jpg\", \"caption\": \"x\"}\n\n{\"reference\": \"a.jpg\",, }\n");
    o.file = fx_path("man/bad.jsonl");
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_ERR_FORMAT);
    /* The second comma is column 23; cJSON reports the position just after it. */
    CHECK_MSG(strstr(ct_error(), "line 3, column 23") || strstr(ct_error(), "line 3, column 24"), "%s", ct_error());
    /* Hotel-CIR: the manifest format with a "captions" list. */
    fx_write("hotel/hotel_val.jsonl",
             "{\"id\": 5, \"reference\": \"h/a.jpg\", \"target\": \"h/b.jpg\", \"captions\": [\"x\", \"y\"]}\n");
    ct_dataset_opts h = {.root = fx_path("hotel"), .split = "val", .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_HOTEL, &h) == CT_OK);
    if (ds)
        CHECK(ds->n_queries == 2 && strcmp(ds->queries[1].id, "5_1") == 0 && strcmp(ds->queries[1].caption, "y") == 0);
    ct_dataset_free(ds);
}

static void test_sampler(void) {
    int64_t sizes[3] = {5, 100, 7};
    double w[3] = {1, 2, 1};
    ct_sampler *a = NULL, *b = NULL;
    CHECK(ct_sampler_new(&a, 3, sizes, w, true, 42) == CT_OK);
    CHECK(ct_sampler_new(&b, 3, sizes, w, true, 42) == CT_OK);
    if (!a || !b) return;
    int counts[3] = {0};
    int seen0[5] = {0};
    ct_sampler_state mid;
    int src[2000];
    int64_t rec[2000];
    for (int i = 0; i < 2000; i++) {
        if (i == 777) ct_sampler_get_state(a, &mid);
        ct_sampler_next(a, &src[i], &rec[i]);
        counts[src[i]]++;
        CHECK(rec[i] >= 0 && rec[i] < sizes[src[i]]);
    }
    CHECK_MSG(counts[1] > 900 && counts[1] < 1100 && counts[0] > 400 && counts[2] > 400, "%d %d %d", counts[0],
              counts[1], counts[2]);
    /* The first 5 draws of source 0 are one epoch: a permutation. */
    int n0 = 0;
    for (int i = 0; i < 2000 && n0 < 5; i++)
        if (src[i] == 0) {
            seen0[rec[i]]++;
            n0++;
        }
    CHECK(seen0[0] == 1 && seen0[1] == 1 && seen0[2] == 1 && seen0[3] == 1 && seen0[4] == 1);
    /* Restore into another sampler: the same continuation. */
    CHECK(ct_sampler_set_state(b, &mid) == CT_OK);
    bool same = true;
    for (int i = 777; i < 2000; i++) {
        int s;
        int64_t r;
        ct_sampler_next(b, &s, &r);
        same &= s == src[i] && r == rec[i];
    }
    CHECK(same);
    ct_sampler_free(b);
    /* Without shuffle a single source walks 0, 1, 2, ... and wraps. */
    CHECK(ct_sampler_new(&b, 1, sizes, NULL, false, 1) == CT_OK);
    bool order = true;
    for (int i = 0; i < 12; i++) {
        int s;
        int64_t r;
        ct_sampler_next(b, &s, &r);
        order &= s == 0 && r == i % 5;
    }
    CHECK(order);
    ct_sampler_state st;
    ct_sampler_get_state(b, &st);
    CHECK(st.epoch[0] == 2 && st.pos[0] == 2);
    CHECK(ct_sampler_set_state(b, &mid) == CT_ERR_ARG);
    ct_sampler_free(a);
    ct_sampler_free(b);
    CHECK(ct_sampler_new(&a, 0, sizes, NULL, false, 1) == CT_ERR_ARG);
    double bad[1] = {0};
    CHECK(ct_sampler_new(&a, 1, sizes, bad, false, 1) == CT_ERR_ARG);
}

int main(void) {
    if (!fx_init("ds")) {
        perror("mkdtemp");
        return 1;
    }
    const char *shared = fx_shared;
    test_join();
    test_cirr(shared);
    test_circo();
    test_fashioniq(shared);
    test_lasco(shared);
    test_malformed();
    test_manifest();
    test_sampler();
    fx_done();
    return test_finish();
}
