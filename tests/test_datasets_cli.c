/* `ctcir datasets check`, `--write-excluded` + `ctcir eval --exclude`, and
 * `ctcir datasets build-cirr`, through the binary ($CTCIR), on the real annotation files of
 * ../shared/cir-annotations (CIRR, CIRCO, FashionIQ) with small generated images, some
 * removed or corrupted on purpose. Every expected value (affected queries, names, counts) is
 * computed here from the annotation files themselves; the published counts come from
 * docs/datasets.md section 8. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctcir/image.h"
#include "test_tmpdir.h"
#include "test_util.h"

static char ann[512]; /* ../shared/cir-annotations */

/* ---- small helpers ---- */

static char *fmt(const char *f, ...) {
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

static int sh(const char *cmd) {
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs `ctcir <args>` with stdout to <tmp>/<out> and stderr to <tmp>/<out>.err; exit code. */
static int ctcir(const char *out, const char *args) {
    const char *bin = getenv("CTCIR");
    return sh(fmt("OMP_WAIT_POLICY=PASSIVE %s %s >'%s/%s' 2>'%s/%s.err'", bin && *bin ? bin : "build/ctcir", args,
                  tmpdir, out, tmpdir, out));
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) len = 0;
    if (b) b[len] = 0;
    fclose(f);
    if (n) *n = (size_t)len;
    return b;
}

static cJSON *load_json(const char *path) {
    char *t = slurp(path, NULL);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

static void mkdirs_for(const char *file) {
    char b[4096];
    snprintf(b, sizeof b, "%s", file);
    for (char *p = b + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(b, 0755);
            *p = '/';
        }
}

static void put(const char *path, const void *data, size_t n) {
    mkdirs_for(path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

static void put_json(const char *path, const cJSON *j) {
    char *t = cJSON_Print(j);
    put(path, t, strlen(t));
    free(t);
}

/* Eight small images (8x8, different colours) as file bytes: PNG and JPEG. */
static char *png[8], *jpg[8];
static size_t png_n[8], jpg_n[8];

static void make_images(void) {
    for (int k = 0; k < 8; k++) {
        ct_image im = {8, 8, malloc(8 * 8 * 3)};
        for (int i = 0; i < 64; i++) {
            im.rgb[3 * i] = (uint8_t)(30 * k), im.rgb[3 * i + 1] = (uint8_t)(i * 4),
                       im.rgb[3 * i + 2] = (uint8_t)(255 - 30 * k);
        }
        char *p = fmt("%s/img%d.png", tmpdir, k), *q = fmt("%s/img%d.jpg", tmpdir, k);
        if (ct_image_save_png(&im, p) || ct_image_save_jpeg(&im, q, 90)) {
            fprintf(stderr, "cannot write test images\n");
            exit(1);
        }
        png[k] = slurp(p, &png_n[k]);
        jpg[k] = slurp(q, &jpg_n[k]);
        free(im.rgb);
    }
}

static void image_at(const char *path, int k, bool jpeg) {
    if (jpeg)
        put(path, jpg[k % 8], jpg_n[k % 8]);
    else
        put(path, png[k % 8], png_n[k % 8]);
}

/* ---- sets of strings (small; linear) ---- */

typedef struct {
    char **v;
    int n;
} strset;

static bool set_has(const strset *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x)) return true;
    return false;
}

static void set_add(strset *s, const char *x) {
    if (set_has(s, x)) return;
    s->v = realloc(s->v, (size_t)(s->n + 1) * sizeof *s->v);
    s->v[s->n++] = strdup(x);
}

static void set_free(strset *s) {
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* The JSON list of strings equals the set (same members, no repeats). */
static bool list_is_set(const cJSON *list, const strset *s) {
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) != s->n) return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) if (!cJSON_IsString(e) || !set_has(s, e->valuestring)) return false;
    return true;
}

static int num(const cJSON *o, const char *path) {
    /* "a.b.c" lookup of an integer; -999 when absent */
    char b[256];
    snprintf(b, sizeof b, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(b, "."); tok && cur; tok = strtok(NULL, "."))
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    return cJSON_IsNumber(cur) ? cur->valueint : -999;
}

static const char *id_str(const cJSON *v) {
    static char b[8][64];
    static int k;
    char *o = b[k++ % 8];
    if (cJSON_IsString(v))
        snprintf(o, 64, "%s", v->valuestring);
    else
        snprintf(o, 64, "%.0f", v->valuedouble);
    return o;
}

/* ---- CIRR ---- */

/* Queries (pairid) of CIRR records that use an image of `bad` (reference, target, member). */
static void cirr_affected(const cJSON *caps, const strset *bad, strset *out) {
    const cJSON *r;
    cJSON_ArrayForEach(r, caps) {
        bool hit = set_has(bad, cJSON_GetObjectItem(r, "reference")->valuestring);
        const cJSON *t = cJSON_GetObjectItem(r, "target_hard");
        if (t) hit = hit || set_has(bad, t->valuestring);
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "img_set"), "members")) hit =
            hit || set_has(bad, m->valuestring);
        if (hit) set_add(out, id_str(cJSON_GetObjectItem(r, "pairid")));
    }
}

static int cirr_uses(const cJSON *caps, const char *name) {
    strset one = {0}, hit = {0};
    set_add(&one, name);
    cirr_affected(caps, &one, &hit);
    int n = hit.n;
    set_free(&one), set_free(&hit);
    return n;
}

static const cJSON *unusable_entry(const cJSON *rep, const char *name) {
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(rep, "unusable")) if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring,
                                                                            name)) return e;
    return NULL;
}

/* CIRR val as published: every image present -> complete; then two images removed and two
 * corrupted. */
static void test_cirr_full(void) {
    char root[600];
    snprintf(root, sizeof root, "%s/cirr", tmpdir);
    char *caps_t = slurp(fmt("%s/cirr/captions/cap.rc2.val.json", ann), NULL);
    char *split_t = slurp(fmt("%s/cirr/image_splits/split.rc2.val.json", ann), NULL);
    cJSON *caps = cJSON_Parse(caps_t), *split = cJSON_Parse(split_t);
    CHECK_MSG(caps && split, "CIRR val annotations unreadable");
    if (!caps || !split) return;
    put(fmt("%s/captions/cap.rc2.val.json", root), caps_t, strlen(caps_t));
    put(fmt("%s/image_splits/split.rc2.val.json", root), split_t, strlen(split_t));
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, split) image_at(fmt("%s/%s", root, e->valuestring), k++, false);
    const int n_caps = cJSON_GetArraySize(caps), n_imgs = cJSON_GetArraySize(split);

    /* complete */
    int rc = ctcir("c0.json", fmt("datasets check --dataset cirr --root %s --split val --json -t 2", root));
    cJSON *rep = load_json(fmt("%s/c0.json", tmpdir));
    CHECK_MSG(rc == 0, "complete CIRR val: exit %d", rc);
    CHECK(rep && cJSON_IsTrue(cJSON_GetObjectItem(rep, "complete")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(rep, "missing")) == 0 &&
          cJSON_GetArraySize(cJSON_GetObjectItem(rep, "corrupt")) == 0);
    CHECK(num(rep, "queries_affected") == 0);
    CHECK_MSG(num(rep, "counts.val.found") == n_caps && num(rep, "counts.val.published") == 4181, "counts.val %d / %d",
              num(rep, "counts.val.found"), num(rep, "counts.val.published"));
    CHECK(num(rep, "counts.val.images.found") == n_imgs && num(rep, "counts.val.images.published") == 2297);
    cJSON_Delete(rep);

    /* two removed (the first query's reference and the sixth one's target), two corrupted (a
     * member of the eleventh query that is neither, truncated; the 100th gallery image, junk) */
    strset missing = {0}, corrupt = {0}, bad = {0}, affected = {0};
    const cJSON *q0 = cJSON_GetArrayItem(caps, 0), *q5 = cJSON_GetArrayItem(caps, 5),
                *q10 = cJSON_GetArrayItem(caps, 10);
    set_add(&missing, cJSON_GetObjectItem(q0, "reference")->valuestring);
    set_add(&missing, cJSON_GetObjectItem(q5, "target_hard")->valuestring);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(q10, "img_set"), "members")) {
        if (strcmp(m->valuestring, cJSON_GetObjectItem(q10, "reference")->valuestring) &&
            strcmp(m->valuestring, cJSON_GetObjectItem(q10, "target_hard")->valuestring) &&
            !set_has(&missing, m->valuestring)) {
            set_add(&corrupt, m->valuestring);
            break;
        }
    }
    const cJSON *g100 = cJSON_GetArrayItem(split, 100);
    if (!set_has(&missing, g100->string)) set_add(&corrupt, g100->string);
    CHECK(missing.n == 2 && corrupt.n == 2);
    for (int i = 0; i < missing.n; i++) {
        unlink(fmt("%s/%s", root, cJSON_GetObjectItem(split, missing.v[i])->valuestring));
        set_add(&bad, missing.v[i]);
    }
    for (int i = 0; i < corrupt.n; i++) {
        const char *p = fmt("%s/%s", root, cJSON_GetObjectItem(split, corrupt.v[i])->valuestring);
        if (i == 0)
            put(p, png[0], png_n[0] / 2);
        else
            put(p, "not an image\n", 13);
        set_add(&bad, corrupt.v[i]);
    }
    cirr_affected(caps, &bad, &affected);
    CHECK(affected.n > 0);

    rc = ctcir("c1.json", fmt("datasets check --dataset cirr --root %s --split val --json --write-excluded %s/ex.json",
                              root, tmpdir));
    rep = load_json(fmt("%s/c1.json", tmpdir));
    CHECK_MSG(rc == 1, "broken CIRR val: exit %d", rc);
    CHECK(rep && cJSON_IsFalse(cJSON_GetObjectItem(rep, "complete")));
    CHECK_MSG(list_is_set(cJSON_GetObjectItem(rep, "missing"), &missing), "missing list");
    CHECK_MSG(list_is_set(cJSON_GetObjectItem(rep, "corrupt"), &corrupt), "corrupt list");
    CHECK_MSG(num(rep, "queries_affected") == affected.n, "queries_affected %d, expected %d",
              num(rep, "queries_affected"), affected.n);
    CHECK(num(rep, "counts.val.found") == n_caps && num(rep, "counts.val.queries_affected") == affected.n);
    for (int i = 0; i < bad.n; i++) {
        const cJSON *u = rep ? unusable_entry(rep, bad.v[i]) : NULL;
        CHECK_MSG(u && num(u, "queries") == cirr_uses(caps, bad.v[i]), "%s: queries affected by it", bad.v[i]);
        CHECK(u && !strcmp(cJSON_GetObjectItem(u, "problem")->valuestring,
                           set_has(&missing, bad.v[i]) ? "missing" : "corrupt"));
    }
    cJSON_Delete(rep);
    /* the text form names them too */
    rc = ctcir("c1.txt", fmt("datasets check --dataset cirr --root %s --split val -q", root));
    char *txt = slurp(fmt("%s/c1.txt", tmpdir), NULL);
    CHECK(rc == 1 && txt && strstr(txt, "INCOMPLETE") && strstr(txt, missing.v[0]) && strstr(txt, corrupt.v[1]));
    free(txt);

    /* the exclusion file */
    cJSON *ex = load_json(fmt("%s/ex.json", tmpdir));
    CHECK(ex && !strcmp(cJSON_GetObjectItem(ex, "format")->valuestring, "ctcir-exclude") && num(ex, "version") == 1);
    const cJSON *val = ex ? cJSON_GetObjectItem(cJSON_GetObjectItem(ex, "splits"), "val") : NULL;
    CHECK_MSG(val && list_is_set(cJSON_GetObjectItem(val, "queries"), &affected), "excluded queries");
    CHECK_MSG(val && list_is_set(cJSON_GetObjectItem(val, "images"), &bad), "excluded images");
    cJSON_Delete(ex);

    /* without --split every CIRR split is checked: train and test1 are not in this copy */
    rc = ctcir("c2.json", fmt("datasets check --dataset cirr --root %s --json -q", root));
    rep = load_json(fmt("%s/c2.json", tmpdir));
    const cJSON *errs = rep ? cJSON_GetObjectItem(rep, "errors") : NULL;
    CHECK(rc == 1 && errs && cJSON_GetObjectItem(errs, "train") && cJSON_GetObjectItem(errs, "test1") &&
          !cJSON_GetObjectItem(errs, "val"));
    CHECK(rep && num(rep, "counts.val.found") == n_caps);
    cJSON_Delete(rep);

    set_free(&missing), set_free(&corrupt), set_free(&bad), set_free(&affected);
    cJSON_Delete(caps), cJSON_Delete(split);
    free(caps_t), free(split_t);
}

/* ---- a tiny model for `eval` ---- */

static const char *tiny_model(void) {
    static char dir[600];
    char caps[600];
    snprintf(caps, sizeof caps, "%s/caps.txt", tmpdir);
    const char *text = "add a red dress with long sleeves\nmake it blue and shiny\nremove the dog from the picture\n"
                       "the same scene at night with two people\nchange the background to a beach\n";
    char buf[4096] = "";
    for (int i = 0; i < 8; i++) strcat(buf, text);
    put(caps, buf, strlen(buf));
    snprintf(dir, sizeof dir, "%s/tiny", tmpdir);
    int rc = ctcir("bpe.out", fmt("bpe-train --input %s --vocab-size 600 --out %s/vocab", caps, tmpdir));
    if (!rc)
        rc = ctcir("init.out", fmt("init --config configs/synthetic-tiny-model.json --vocab %s/vocab --out %s --seed 1",
                                   tmpdir, dir));
    CHECK_MSG(rc == 0, "tiny model (bpe-train + init): exit %d", rc);
    return dir;
}

/* A CIRR copy made of the first n val queries and the images they use; one target removed.
 * check -> exclusion file -> eval refuses the broken copy, eval --exclude says how many. */
static void test_cirr_eval(const char *model) {
    char root[600];
    snprintf(root, sizeof root, "%s/cirr_small", tmpdir);
    cJSON *caps = load_json(fmt("%s/cirr/captions/cap.rc2.val.json", ann));
    cJSON *split = load_json(fmt("%s/cirr/image_splits/split.rc2.val.json", ann));
    if (!caps || !split) {
        CHECK(caps && split);
        return;
    }
    const int n = 30;
    while (cJSON_GetArraySize(caps) > n) cJSON_DeleteItemFromArray(caps, n);
    strset used = {0};
    const cJSON *r, *m;
    cJSON_ArrayForEach(r, caps) {
        set_add(&used, cJSON_GetObjectItem(r, "reference")->valuestring);
        set_add(&used, cJSON_GetObjectItem(r, "target_hard")->valuestring);
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "img_set"), "members"))
            set_add(&used, m->valuestring);
    }
    cJSON *small = cJSON_CreateObject();
    int k = 0;
    cJSON_ArrayForEach(m, split) if (set_has(&used, m->string)) {
        cJSON_AddStringToObject(small, m->string, m->valuestring);
        image_at(fmt("%s/%s", root, m->valuestring), k++, false);
    }
    put_json(fmt("%s/captions/cap.rc2.val.json", root), caps);
    put_json(fmt("%s/image_splits/split.rc2.val.json", root), small);
    strset bad = {0}, affected = {0};
    const char *gone = cJSON_GetObjectItem(cJSON_GetArrayItem(caps, 2), "target_hard")->valuestring;
    set_add(&bad, gone);
    unlink(fmt("%s/%s", root, cJSON_GetObjectItem(small, gone)->valuestring));
    cirr_affected(caps, &bad, &affected);

    int rc =
        ctcir("s.json", fmt("datasets check --dataset cirr --root %s --split val --json --write-excluded %s/exs.json",
                            root, tmpdir));
    cJSON *rep = load_json(fmt("%s/s.json", tmpdir));
    CHECK(rc == 1 && rep);
    /* a truncated copy: the counts say so */
    CHECK_MSG(num(rep, "counts.val.found") == n && num(rep, "counts.val.published") == 4181, "truncated counts %d / %d",
              num(rep, "counts.val.found"), num(rep, "counts.val.published"));
    CHECK(num(rep, "counts.val.images.found") == used.n);
    CHECK(num(rep, "queries_affected") == affected.n);
    cJSON_Delete(rep);

    /* eval on the broken copy fails naming the image; with the exclusion it runs and says so */
    rc = ctcir("e0.json", fmt("eval --model %s --dataset cirr --root %s --split val --json -t 1", model, root));
    char *err = slurp(fmt("%s/e0.json.err", tmpdir), NULL);
    CHECK_MSG(rc == 1 && err && strstr(err, gone) && strstr(err, "datasets check"), "eval without --exclude: exit %d",
              rc);
    free(err);
    rc = ctcir("e1.json", fmt("eval --model %s --dataset cirr --root %s --split val --json -t 1 --exclude %s/exs.json",
                              model, root, tmpdir));
    cJSON *ev = load_json(fmt("%s/e1.json", tmpdir));
    CHECK_MSG(rc == 0 && ev, "eval --exclude: exit %d", rc);
    CHECK_MSG(num(ev, "excluded_queries") == affected.n && num(ev, "excluded_images") == 1,
              "eval excluded %d queries, %d images", num(ev, "excluded_queries"), num(ev, "excluded_images"));
    CHECK(num(ev, "n_queries") == n - affected.n);
    CHECK(ev && cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "metrics"), "recall@1"));
    cJSON_Delete(ev);
    /* an exclusion file for another dataset kind or another split is refused */
    rc = ctcir("e2.json", fmt("eval --model %s --dataset cirr_r --root %s --split val -t 1 --exclude %s/exs.json",
                              model, root, tmpdir));
    err = slurp(fmt("%s/e2.json.err", tmpdir), NULL);
    CHECK_MSG(rc == 1 && err && strstr(err, "written for dataset cirr"), "exclusion of another kind: exit %d", rc);
    free(err);
    sh(fmt("cp %s/captions/cap.rc2.val.json %s/captions/cap.rc2.test1.json && cp %s/image_splits/split.rc2.val.json "
           "%s/image_splits/split.rc2.test1.json",
           root, root, root, root));
    rc = ctcir("e3.json", fmt("eval --model %s --dataset cirr --root %s --split test1 -t 1 --exclude %s/exs.json",
                              model, root, tmpdir));
    err = slurp(fmt("%s/e3.json.err", tmpdir), NULL);
    CHECK_MSG(rc == 1 && err && strstr(err, "does not cover split 'test1'"), "exclusion of another split: exit %d", rc);
    free(err);
    set_free(&used), set_free(&bad), set_free(&affected);
    cJSON_Delete(caps), cJSON_Delete(split), cJSON_Delete(small);
}

/* ---- FashionIQ: three categories, first n val records each; one candidate and one target
 * missing in dress, one image corrupt in toptee ---- */

static void test_fashioniq(const char *model) {
    static const char *const cats[] = {"dress", "shirt", "toptee"};
    char root[600];
    snprintf(root, sizeof root, "%s/fiq", tmpdir);
    const int n = 12;
    strset bad = {0};
    int expect_affected = 0, expect_images = 0, k = 0;
    cJSON *capsets[3];
    for (int c = 0; c < 3; c++) {
        cJSON *caps = load_json(fmt("%s/fashioniq/captions/cap.%s.val.json", ann, cats[c]));
        cJSON *split = load_json(fmt("%s/fashioniq/image_splits/split.%s.val.json", ann, cats[c]));
        if (!caps || !split) {
            CHECK(caps && split);
            return;
        }
        while (cJSON_GetArraySize(caps) > n) cJSON_DeleteItemFromArray(caps, n);
        strset used = {0};
        const cJSON *r, *e;
        cJSON_ArrayForEach(r, caps) {
            set_add(&used, cJSON_GetObjectItem(r, "candidate")->valuestring);
            set_add(&used, cJSON_GetObjectItem(r, "target")->valuestring);
        }
        cJSON *small = cJSON_CreateArray();
        cJSON_ArrayForEach(e, split) if (set_has(&used, e->valuestring)) {
            cJSON_AddItemToArray(small, cJSON_CreateString(e->valuestring));
            image_at(fmt("%s/images/%s.jpg", root, e->valuestring), k++, true);
        }
        put_json(fmt("%s/captions/cap.%s.val.json", root, cats[c]), caps);
        put_json(fmt("%s/image_splits/split.%s.val.json", root, cats[c]), small);
        if (c == 0) {
            set_add(&bad, cJSON_GetObjectItem(cJSON_GetArrayItem(caps, 1), "candidate")->valuestring);
            set_add(&bad, cJSON_GetObjectItem(cJSON_GetArrayItem(caps, 4), "target")->valuestring);
            unlink(fmt("%s/images/%s.jpg", root, bad.v[0]));
            unlink(fmt("%s/images/%s.jpg", root, bad.v[1]));
        } else if (c == 2) {
            const char *name = cJSON_GetObjectItem(cJSON_GetArrayItem(caps, 0), "target")->valuestring;
            set_add(&bad, name);
            put(fmt("%s/images/%s.jpg", root, name), jpg[1], jpg_n[1] / 3);
        }
        cJSON_ArrayForEach(e, small) expect_images += set_has(&bad, e->valuestring);
        cJSON_ArrayForEach(r, caps) expect_affected +=
            set_has(&bad, cJSON_GetObjectItem(r, "candidate")->valuestring) ||
            set_has(&bad, cJSON_GetObjectItem(r, "target")->valuestring);
        capsets[c] = caps;
        set_free(&used);
        cJSON_Delete(split), cJSON_Delete(small);
    }
    int rc = ctcir("f.json",
                   fmt("datasets check --dataset fashioniq --root %s --split val --json --write-excluded %s/exf.json",
                       root, tmpdir));
    cJSON *rep = load_json(fmt("%s/f.json", tmpdir));
    CHECK_MSG(rc == 1 && rep, "fashioniq check: exit %d", rc);
    CHECK(num(rep, "counts.dress/val.found") == n && num(rep, "counts.dress/val.published") == 2017);
    CHECK(num(rep, "counts.shirt/val.published") == 2038 && num(rep, "counts.toptee/val.images.published") == 5373);
    CHECK_MSG(num(rep, "queries_affected") == expect_affected, "fashioniq affected %d, expected %d",
              num(rep, "queries_affected"), expect_affected);
    strset miss = {0}, corr = {0};
    set_add(&miss, bad.v[0]), set_add(&miss, bad.v[1]), set_add(&corr, bad.v[2]);
    CHECK(list_is_set(cJSON_GetObjectItem(rep, "missing"), &miss) &&
          list_is_set(cJSON_GetObjectItem(rep, "corrupt"), &corr));
    cJSON_Delete(rep);
    /* one category only */
    rc =
        ctcir("f1.json", fmt("datasets check --dataset fashioniq --root %s --split val --category shirt --json", root));
    rep = load_json(fmt("%s/f1.json", tmpdir));
    CHECK(rc == 1 && rep && num(rep, "queries_affected") == 0 && num(rep, "counts.shirt/val.found") == n &&
          !cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "counts"), "dress/val"));
    cJSON_Delete(rep);

    /* the evaluation must say that the copy misses images: it fails without the exclusion, and
     * reports what it dropped with it */
    rc = ctcir("fe0.json", fmt("eval --model %s --dataset fashioniq --root %s --split val --json -t 1", model, root));
    CHECK(rc == 1);
    rc = ctcir("fe1.json",
               fmt("eval --model %s --dataset fashioniq --root %s --split val --json -t 1 --exclude %s/exf.json", model,
                   root, tmpdir));
    cJSON *ev = load_json(fmt("%s/fe1.json", tmpdir));
    CHECK_MSG(rc == 0 && ev, "fashioniq eval --exclude: exit %d", rc);
    CHECK_MSG(num(ev, "excluded_queries") == expect_affected && num(ev, "excluded_images") == expect_images,
              "fashioniq eval excluded %d queries, %d images (expected %d, %d)", num(ev, "excluded_queries"),
              num(ev, "excluded_images"), expect_affected, expect_images);
    CHECK(num(ev, "n_queries") == 3 * n - expect_affected);
    cJSON_Delete(ev);
    set_free(&bad), set_free(&miss), set_free(&corr);
    for (int c = 0; c < 3; c++) cJSON_Delete(capsets[c]);
}

/* ---- CIRCO val with a generated COCO image list: one ground-truth image missing, one
 * gallery id listed twice ---- */

static void test_circo(void) {
    char root[600];
    snprintf(root, sizeof root, "%s/circo", tmpdir);
    char *t = slurp(fmt("%s/circo/annotations/val.json", ann), NULL);
    cJSON *caps = t ? cJSON_Parse(t) : NULL;
    if (!caps) {
        CHECK(caps);
        free(t);
        return;
    }
    put(fmt("%s/annotations/val.json", root), t, strlen(t));
    strset ids = {0};
    const cJSON *r, *g;
    cJSON_ArrayForEach(r, caps) {
        set_add(&ids, id_str(cJSON_GetObjectItem(r, "reference_img_id")));
        cJSON_ArrayForEach(g, cJSON_GetObjectItem(r, "gt_img_ids")) set_add(&ids, id_str(g));
    }
    cJSON *info = cJSON_CreateObject(), *imgs = cJSON_AddArrayToObject(info, "images");
    for (int i = 0; i <= ids.n; i++) {
        const char *id = ids.v[i < ids.n ? i : 0]; /* the first id again at the end */
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", atof(id));
        cJSON_AddStringToObject(e, "file_name", fmt("%012.0f.jpg", atof(id)));
        cJSON_AddItemToArray(imgs, e);
        if (i < ids.n) image_at(fmt("%s/COCO2017_unlabeled/unlabeled2017/%012.0f.jpg", root, atof(id)), i, true);
    }
    put_json(fmt("%s/COCO2017_unlabeled/annotations/image_info_unlabeled2017.json", root), info);
    /* the second ground-truth image of query 3 goes */
    const cJSON *gts = cJSON_GetObjectItem(cJSON_GetArrayItem(caps, 3), "gt_img_ids");
    char gone[64];
    snprintf(gone, sizeof gone, "%s", id_str(cJSON_GetArrayItem(gts, cJSON_GetArraySize(gts) > 1 ? 1 : 0)));
    unlink(fmt("%s/COCO2017_unlabeled/unlabeled2017/%012.0f.jpg", root, atof(gone)));
    int expect = 0;
    cJSON_ArrayForEach(r, caps) {
        bool hit = !strcmp(id_str(cJSON_GetObjectItem(r, "reference_img_id")), gone);
        cJSON_ArrayForEach(g, cJSON_GetObjectItem(r, "gt_img_ids")) hit = hit || !strcmp(id_str(g), gone);
        expect += hit;
    }
    int rc = ctcir("o.json", fmt("datasets check --dataset circo --root %s --split val --json", root));
    cJSON *rep = load_json(fmt("%s/o.json", tmpdir));
    CHECK_MSG(rc == 1 && rep, "circo check: exit %d", rc);
    CHECK(num(rep, "counts.val.found") == cJSON_GetArraySize(caps) && num(rep, "counts.val.published") == 220);
    CHECK(num(rep, "counts.val.images.found") == ids.n + 1);
    strset one = {0}, dup = {0};
    set_add(&one, gone), set_add(&dup, ids.v[0]);
    CHECK(list_is_set(cJSON_GetObjectItem(rep, "missing"), &one));
    CHECK_MSG(list_is_set(cJSON_GetObjectItem(rep, "duplicates"), &dup), "the repeated gallery id is reported");
    CHECK_MSG(num(rep, "queries_affected") == expect, "circo affected %d, expected %d", num(rep, "queries_affected"),
              expect);
    cJSON_Delete(rep);
    set_free(&ids), set_free(&one), set_free(&dup);
    cJSON_Delete(caps), cJSON_Delete(info);
    free(t);
}

/* ---- build-cirr from a fake NLVR2 download ---- */

static bool is_link_to_file(const char *p) {
    struct stat ls, st;
    return lstat(p, &ls) == 0 && S_ISLNK(ls.st_mode) && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_plain_file(const char *p) {
    struct stat ls;
    return lstat(p, &ls) == 0 && S_ISREG(ls.st_mode);
}

static void test_build_cirr(void) {
    char a[600], nl[600], out[600], out2[600];
    snprintf(a, sizeof a, "%s/bc/cirr", tmpdir), snprintf(nl, sizeof nl, "%s/bc/nlvr2", tmpdir);
    snprintf(out, sizeof out, "%s/bc/out", tmpdir), snprintf(out2, sizeof out2, "%s/bc/out2", tmpdir);
    static const char *const splits[] = {"train", "val", "test1"};
    cJSON *small[3];
    strset held_back = {0};
    int total = 0, k = 0;
    for (int s = 0; s < 3; s++) {
        cJSON *sp = load_json(fmt("%s/cirr/image_splits/split.rc2.%s.json", ann, splits[s]));
        if (!sp) {
            CHECK(sp);
            return;
        }
        small[s] = cJSON_CreateObject();
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, sp) {
            if (i++ == 12) break;
            cJSON_AddStringToObject(small[s], e->string, e->valuestring);
            const char *base = strrchr(e->valuestring, '/') + 1;
            total++;
            if (i == 5 && s != 1) {
                set_add(&held_back, e->string);
                continue;
            } /* not in the download */
            /* NLVR2 files in some other nesting than CIRR's */
            image_at(fmt("%s/%s/%s/%s", nl, s == 0 ? "images/train" : splits[s], i % 2 ? "x" : "y/z", base), k++,
                     false);
        }
        put_json(fmt("%s/image_splits/split.rc2.%s.json", a, splits[s]), small[s]);
        cJSON_Delete(sp);
    }
    put(fmt("%s/captions/cap.rc2.val.json", a), "[]\n", 3);
    /* one file name twice in the download */
    const cJSON *v0 = cJSON_GetArrayItem(small[1], 0);
    image_at(fmt("%s/zz/%s", nl, strrchr(v0->valuestring, '/') + 1), 3, false);

    int rc = ctcir("b0.json", fmt("datasets build-cirr --nlvr2 %s --cirr %s --out %s", nl, a, out));
    cJSON *rep = load_json(fmt("%s/b0.json", tmpdir));
    CHECK_MSG(rc == 1 && rep, "build-cirr with images missing: exit %d", rc);
    CHECK(list_is_set(cJSON_GetObjectItem(rep, "missing"), &held_back));
    CHECK(num(rep, "splits.train.images") == 12 && num(rep, "splits.train.created") == 11 &&
          num(rep, "splits.train.missing") == 1);
    CHECK(num(rep, "splits.val.created") == 12 && num(rep, "splits.val.missing") == 0);
    CHECK(num(rep, "ambiguous") == 1 && num(rep, "annotations") == 4);
    cJSON_Delete(rep);
    int links = 0, expected_links = 0;
    for (int s = 0; s < 3; s++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, small[s]) {
            const char *p = fmt("%s/%s", out, e->valuestring);
            if (set_has(&held_back, e->string))
                CHECK(access(p, F_OK) != 0);
            else
                expected_links++, links += is_link_to_file(p);
        }
    }
    CHECK_MSG(links == expected_links, "%d of %d links in place", links, expected_links);
    CHECK(is_plain_file(fmt("%s/image_splits/split.rc2.val.json", out)) ||
          is_link_to_file(fmt("%s/image_splits/split.rc2.val.json", out)));

    /* the held-back files appear in the download: a re-run adds only them */
    for (int s = 0; s < 3; s++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, small[s]) if (set_has(&held_back, e->string))
            image_at(fmt("%s/late/%s", nl, strrchr(e->valuestring, '/') + 1), 0, false);
    }
    rc = ctcir("b1.json", fmt("datasets build-cirr --nlvr2 %s --cirr %s --out %s --link", nl, a, out));
    rep = load_json(fmt("%s/b1.json", tmpdir));
    CHECK_MSG(rc == 0 && rep, "build-cirr complete: exit %d", rc);
    CHECK(num(rep, "splits.train.created") == 1 && num(rep, "splits.train.present") == 11 &&
          num(rep, "splits.val.present") == 12);
    CHECK(rep && cJSON_IsTrue(cJSON_GetObjectItem(rep, "complete")));
    cJSON_Delete(rep);

    /* --copy: plain files with the source's bytes */
    rc = ctcir("b2.json", fmt("datasets build-cirr --nlvr2 %s --cirr %s --out %s --copy", nl, a, out2));
    CHECK_MSG(rc == 0, "build-cirr --copy: exit %d", rc);
    int plain = 0, same = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, small[0]) {
        const char *p = fmt("%s/%s", out2, e->valuestring), *q = fmt("%s/%s", out, e->valuestring);
        plain += is_plain_file(p);
        same += sh(fmt("cmp -s '%s' '%s'", p, q)) == 0;
    }
    CHECK_MSG(plain == 12 && same == 12, "--copy: %d plain files, %d identical", plain, same);

    /* usage and runtime errors */
    CHECK(ctcir("b3.json", fmt("datasets build-cirr --nlvr2 %s --out %s --copy --link", nl, out)) == 2);
    CHECK(ctcir("b4.json", fmt("datasets build-cirr --out %s", out)) == 2);
    CHECK(ctcir("b5.json", fmt("datasets build-cirr --nlvr2 %s/nowhere --cirr %s --out %s", tmpdir, a, out)) == 1);
    CHECK(ctcir("b6.json", fmt("datasets build-cirr --nlvr2 %s --out %s/empty", nl, tmpdir)) ==
          1); /* no image_splits */
    for (int s = 0; s < 3; s++) cJSON_Delete(small[s]);
    set_free(&held_back);
}

/* ---- a manifest copy (synth-shapes): a gallery image no query uses still makes it
 * incomplete; every split present is checked ---- */

static void test_manifest(void) {
    char root[600];
    snprintf(root, sizeof root, "%s/syn", tmpdir);
    int rc = ctcir("syn.out", fmt("synth-shapes --out %s --train 6 --val 5 --test 5 --seed 3 -q", root));
    CHECK(rc == 0);
    rc = ctcir("m0.json", fmt("datasets check --dataset manifest --root %s --json", root));
    cJSON *rep = load_json(fmt("%s/m0.json", tmpdir));
    CHECK_MSG(rc == 0 && rep && cJSON_IsTrue(cJSON_GetObjectItem(rep, "complete")), "complete manifest copy: exit %d",
              rc);
    CHECK(num(rep, "counts.train.found") == 6 && num(rep, "counts.val.found") == 5 &&
          num(rep, "counts.test.found") == 5);
    cJSON_Delete(rep);
    /* a hard negative of val: in the gallery, used by no query */
    char name[256] = "";
    FILE *f = fopen(fmt("%s/val_gallery.txt", root), "r");
    while (f && fgets(name, sizeof name, f) && !strstr(name, "-neg")) {}
    if (f) fclose(f);
    name[strcspn(name, "\n")] = 0;
    CHECK(strstr(name, "-neg") != NULL);
    unlink(fmt("%s/%s", root, name));
    rc = ctcir("m1.json", fmt("datasets check --dataset manifest --root %s --json", root));
    rep = load_json(fmt("%s/m1.json", tmpdir));
    CHECK_MSG(rc == 1 && rep && cJSON_IsFalse(cJSON_GetObjectItem(rep, "complete")), "unused image missing: exit %d",
              rc);
    *strrchr(name, '.') = 0; /* names have no extension */
    strset one = {0};
    set_add(&one, name);
    CHECK(list_is_set(cJSON_GetObjectItem(rep, "missing"), &one) && num(rep, "queries_affected") == 0);
    CHECK(num(rep, "counts.val.unusable") == 1 && num(rep, "counts.test.unusable") == 0);
    set_free(&one);
    cJSON_Delete(rep);
}

static void test_usage(void) {
    CHECK(ctcir("u0", "datasets --help") == 0);
    CHECK(ctcir("u1", "datasets check --dataset nosuch --root .") == 2);
    CHECK(ctcir("u2", "datasets check --root .") == 2);
    CHECK(ctcir("u3", "datasets frobnicate") == 2);
    CHECK(ctcir("u4", fmt("datasets check --dataset cirr --root %s/nowhere --split val", tmpdir)) == 1);
    CHECK(ctcir("u5", "datasets check --dataset cirr --root . --category dress") == 2);
}

int main(void) {
    snprintf(ann, sizeof ann, "%s/cir-annotations", test_shared_dir());
    struct stat st;
    if (stat(fmt("%s/cirr/captions/cap.rc2.val.json", ann), &st) != 0) {
        fprintf(stderr, "test_datasets_cli: the real annotations are needed at %s (set CTCIR_SHARED)\n", ann);
        return 1;
    }
    if (!tmpdir_make("datasets")) return 1;
    make_images();
    test_usage();
    test_cirr_full();
    test_circo();
    test_manifest();
    test_build_cirr();
    const char *model = tiny_model();
    test_cirr_eval(model);
    test_fashioniq(model);
    for (int k = 0; k < 8; k++) free(png[k]), free(jpg[k]);
    if (!getenv("KEEP"))
        tmpdir_remove();
    else
        fprintf(stderr, "kept %s\n", tmpdir);
    return test_finish();
}
