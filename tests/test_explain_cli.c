/* `ctcir explain` through the real binary on a tiny model made here (bpe vocabulary + random
 * init): the PNG decodes and has one panel per matched phrase plus the query, the spans and
 * peak patches in the JSON agree with an independent computation from the encoder's map,
 * --alpha 0 panels show the query unchanged, and the exit codes. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "clip/clip.h"
#include "core/fileio.h"
#include "ctcir/image.h"
#include "ctcir/image_draw.h"
#include "ctcir/model.h"
#include "ctcir/tokenizer.h"
#include "model/model.h"
#include "test_tmpdir.h"
#include "test_util.h"

static const char *const captions[] = {
    "change the red circle into a blue square",
    "add a small green triangle in the top left corner",
    "remove the yellow star",
    "make the big square purple",
    "replace the blue square with a red star",
};
#define CAPTION "change the red circle into a blue square"

static char model_dir[600], image_path[600], out_png[600], out_json[600];

/* Runs `ctcir explain ARGS`, stdout to out_json; returns the exit status. */
static int run(const char *args) {
    const char *bin = getenv("CTCIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s explain %s -t 1 2>/dev/null >'%s'", bin && *bin ? bin : "build/ctcir", args,
             out_json);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static bool make_model(void) {
    char vocab[600], cfg[600];
    snprintf(vocab, sizeof vocab, "%s/vocab", tmpdir);
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(captions[i]);
    if (ct_bpe_train(captions, lens, 5, 600, vocab, NULL) != CT_OK) return false;
    snprintf(cfg, sizeof cfg, "%s/model.json", tmpdir);
    const char *text = "{\"projection_dim\": 16, \"text_config\": {\"vocab_size\": \"auto\", \"hidden_size\": 32,"
                       " \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4},"
                       " \"vision_config\": {\"image_size\": 32, \"patch_size\": 8, \"hidden_size\": 32,"
                       " \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4}}";
    if (ct_write_file_atomic(cfg, text, strlen(text)) != CT_OK) return false;
    snprintf(model_dir, sizeof model_dir, "%s/model", tmpdir);
    ct_clip_init_args a = {cfg, vocab, model_dir, 5, false};
    return ct_clip_init_folder(&a, NULL) == CT_OK;
}

static bool make_image(void) {
    ct_image img = {0};
    if (ct_draw_canvas(&img, 40, 32, NULL) != CT_OK) return false; /* not square: centre crop */
    static const uint8_t red[3] = {220, 30, 30}, blue[3] = {30, 30, 220};
    ct_draw_rect(&img, 4, 4, 12, 12, red);
    ct_draw_rect(&img, 22, 16, 10, 10, blue);
    snprintf(image_path, sizeof image_path, "%s/query.png", tmpdir);
    bool ok = ct_image_save_png(&img, image_path) == CT_OK;
    ct_image_free(&img);
    return ok;
}

/* Independent span search: the phrase's ids (no SOT/EOT) inside caption ids (1..eot). */
static int find_span(ct_tokenizer *tok, const char *phrase, int *len) {
    int32_t cap[77], ph[77];
    int nc = 0, np = 0;
    if (ct_tokenize(tok, CAPTION, cap, 77, &nc) || ct_tokenize(tok, phrase, ph, 77, &np)) return -2;
    *len = np - 2;
    for (int s = 1; s + *len <= nc - 1; s++)
        if (memcmp(cap + s, ph + 1, (size_t)*len * sizeof *ph) == 0) return s;
    return -1;
}

/* The hottest patch of the phrase [s, e) from the encoder's map, CLS row skipped. */
static int peak_patch(const float *abar, int Nv, int T, int s, int e) {
    int best = -1;
    double best_v = -1;
    for (int p = 1; p < Nv; p++) {
        double v = 0;
        for (int t = s; t < e; t++) v += abar[(size_t)p * T + t];
        if (v > best_v) best_v = v, best = p - 1;
    }
    return best;
}

static cJSON *read_json(void) {
    char *text = NULL;
    size_t n;
    if (ct_read_file(out_json, &text, &n, 1 << 20) != CT_OK) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* The PNG must be the grid ctcir explain documents: one row of panels of `panel` pixels. */
static void check_png(int panels, int panel, ct_image *img) {
    CHECK_MSG(ct_image_load(img, out_png) == CT_OK, "output does not decode: %s", ct_error());
    ct_grid_opts go = {.cols = 0, .cell = panel, .label_lines = 2, .title = CAPTION};
    int w = 0, h = 0;
    ct_draw_grid_layout(&go, panels, 0, NULL, NULL, &w, &h);
    CHECK_MSG(img->w == w && img->h == h, "png %dx%d, expected %dx%d (%d panels)", img->w, img->h, w, h, panels);
}

static void test_auto_phrases(void) {
    char args[3000];
    snprintf(args, sizeof args, "--model '%s' --image '%s' --text '" CAPTION "' --out '%s' --panel 64", model_dir,
             image_path, out_png);
    CHECK_MSG(run(args) == 0, "explain failed");
    cJSON *j = read_json();
    CHECK(j != NULL);
    if (!j) return;
    const cJSON *list = cJSON_GetObjectItem(j, "phrases"), *out = cJSON_GetObjectItem(j, "out");
    CHECK(cJSON_IsString(out) && strcmp(out->valuestring, out_png) == 0);
    CHECK(cJSON_GetObjectItem(j, "grid") && cJSON_GetObjectItem(j, "grid")->valueint == 4);
    int n = cJSON_GetArraySize(list);
    CHECK_MSG(n >= 2, "%d phrases matched", n); /* "the red circle", "a blue square" */

    /* spans and peaks, recomputed from the tokenizer and the encoder */
    ct_model *m = NULL;
    ct_encoder *e = NULL;
    CHECK(ct_model_load(&m, model_dir, NULL, NULL, 0) == CT_OK);
    float pixels[3 * 32 * 32], q[16];
    int64_t ids[77];
    const float *abar = NULL;
    int Nv = 0, T = 0;
    if (m && ct_encoder_new_with_maps(&e, m, 1) == CT_OK && ct_model_load_image(m, image_path, pixels) == CT_OK &&
        ct_model_tokenize(m, CAPTION, ids) == CT_OK && ct_encode_query(e, pixels, ids, 1, q) == CT_OK)
        abar = ct_encoder_last_map(e, &Nv, &T);
    CHECK(abar != NULL && Nv == 17 && T == ct_eot_index(ids, 77) + 1);
    /* an encoder without maps (fused attention): no map, the same embedding floats */
    ct_encoder *ef = NULL;
    float qf[16] = {0};
    CHECK(m && ct_encoder_new(&ef, m, 1) == CT_OK && ct_encode_query(ef, pixels, ids, 1, qf) == CT_OK);
    CHECK(ef && ct_encoder_last_map(ef, NULL, NULL) == NULL);
    CHECK_MSG(memcmp(q, qf, sizeof q) == 0, "fused-attention query embedding differs from the mapped one");
    ct_encoder_free(ef);
    bool saw_red = false;
    for (int i = 0; i < n && abar; i++) {
        const cJSON *p = cJSON_GetArrayItem(list, i);
        const char *phrase = cJSON_GetObjectItem(p, "phrase")->valuestring;
        const cJSON *span = cJSON_GetObjectItem(p, "span"), *peak = cJSON_GetObjectItem(p, "peak_patch");
        int len = 0, s = find_span(m->tok, phrase, &len);
        CHECK_MSG(s >= 1 && cJSON_GetArrayItem(span, 0)->valueint == s &&
                      cJSON_GetArrayItem(span, 1)->valueint == s + len,
                  "%s: span [%d,%d), expected start %d len %d", phrase, cJSON_GetArrayItem(span, 0)->valueint,
                  cJSON_GetArrayItem(span, 1)->valueint, s, len);
        int best = peak_patch(abar, Nv, T, s, s + len);
        CHECK_MSG(cJSON_GetArrayItem(peak, 0)->valueint == best / 4 &&
                      cJSON_GetArrayItem(peak, 1)->valueint == best % 4,
                  "%s: peak patch differs (expected %d)", phrase, best);
        saw_red |= strcmp(phrase, "the red circle") == 0;
    }
    CHECK(saw_red);
    ct_encoder_free(e);
    ct_model_free(m);
    ct_image img = {0};
    check_png(1 + n, 64, &img);
    ct_image_free(&img);
    cJSON_Delete(j);
}

static void test_given_phrases(void) {
    char args[3000];
    snprintf(args, sizeof args,
             "--model '%s' --image '%s' --text '" CAPTION "' --out '%s' --panel 48 --alpha 0"
             " --phrase 'red circle' --phrase 'green star' --phrase 'a blue square'",
             model_dir, image_path, out_png);
    CHECK(run(args) == 0);
    cJSON *j = read_json();
    CHECK(j != NULL);
    if (!j) return;
    const cJSON *list = cJSON_GetObjectItem(j, "phrases"), *miss = cJSON_GetObjectItem(j, "unmatched");
    CHECK(cJSON_GetArraySize(list) == 2 && cJSON_GetArraySize(miss) == 1);
    CHECK(cJSON_GetArraySize(miss) == 1 && strcmp(cJSON_GetArrayItem(miss, 0)->valuestring, "green star") == 0);
    ct_image img = {0};
    check_png(3, 48, &img);
    /* alpha 0: every phrase panel is the query panel, pixel for pixel */
    int x0, y0, x1, y1;
    ct_grid_opts go = {.cols = 0, .cell = 48, .label_lines = 2, .title = CAPTION};
    ct_draw_grid_layout(&go, 3, 0, &x0, &y0, NULL, NULL);
    size_t diff = 0;
    for (int k = 1; k < 3 && img.rgb; k++) {
        ct_draw_grid_layout(&go, 3, k, &x1, &y1, NULL, NULL);
        for (int y = 0; y < 48; y++)
            diff += memcmp(img.rgb + ((size_t)(y0 + y) * img.w + x0) * 3, img.rgb + ((size_t)(y1 + y) * img.w + x1) * 3,
                           48 * 3) != 0;
    }
    CHECK_MSG(diff == 0, "%zu rows differ between the query and alpha-0 panels", diff);
    /* and the query panel is not blank: the red square of the crop shows */
    bool red = false;
    for (int y = 0; y < 48 && img.rgb; y++)
        for (int x = 0; x < 48; x++) {
            const uint8_t *px = img.rgb + ((size_t)(y0 + y) * img.w + x0 + x) * 3;
            red |= px[0] > 180 && px[1] < 80 && px[2] < 80;
        }
    CHECK(red);
    ct_image_free(&img);
    cJSON_Delete(j);
}

static void test_errors(void) {
    char args[3000];
    snprintf(args, sizeof args, "--model '%s' --image '%s' --text 'x'", model_dir, image_path);
    CHECK(run(args) == 2); /* no --out */
    snprintf(args, sizeof args, "--model '%s' --image '%s' --text 'x' --out '%s' --max-phrases 0", model_dir,
             image_path, out_png);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "--model '%s' --image '%s' --text 'x' --out '%s' --alpha 2", model_dir, image_path,
             out_png);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "--model '%s' --image '%s/missing.png' --text 'x' --out '%s'", model_dir, tmpdir,
             out_png);
    CHECK(run(args) == 1);
    snprintf(args, sizeof args, "--model '%s/none' --image '%s' --text 'x' --out '%s'", tmpdir, image_path, out_png);
    CHECK(run(args) == 1);
    CHECK(run("--help") == 0);
}

int main(void) {
    if (!tmpdir_make("explain")) return 1;
    snprintf(out_png, sizeof out_png, "%s/explain.png", tmpdir);
    snprintf(out_json, sizeof out_json, "%s/explain.json", tmpdir);
    bool ready = make_model() && make_image();
    CHECK_MSG(ready, "setup: %s", ct_error());
    if (ready) {
        test_auto_phrases();
        test_given_phrases();
        test_errors();
    }
    tmpdir_remove();
    return test_finish();
}
