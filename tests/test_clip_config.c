/* config.json parsing with transformers' precedence and defaults, and the configs/clip/
 * entries' parameter counts against the published totals. */
#include <string.h>

#include "clip/clip.h"
#include "test_util.h"

static void expect_tower(const char *what, const ct_clip_tower_config *t, int D, int F, int L, int H, ct_act act) {
    CHECK_MSG(t->hidden_size == D && t->intermediate_size == F && t->num_layers == L && t->num_heads == H &&
                  t->act == act,
              "%s: got %d/%d/%d/%d act %d, expected %d/%d/%d/%d act %d", what, t->hidden_size, t->intermediate_size,
              t->num_layers, t->num_heads, (int)t->act, D, F, L, H, (int)act);
}

static void test_kit_configs(void) {
    char path[512];
    ct_clip_config c;
    /* values from the table in parity/README.md */
    snprintf(path, sizeof path, "%s/parity/models/tiny-vit-b/config.json", test_shared_dir());
    CHECK_MSG(ct_clip_config_load(&c, path) == CT_OK, "%s", ct_error());
    expect_tower("tiny-vit-b vision", &c.vision, 64, 256, 2, 4, CT_ACT_QUICK_GELU);
    expect_tower("tiny-vit-b text", &c.text, 32, 128, 2, 4, CT_ACT_QUICK_GELU);
    CHECK(c.vision.image_size == 96 && c.vision.patch_size == 32 && c.projection_dim == 32);
    CHECK(ct_clip_vision_tokens(&c) == 10 && c.text.vocab_size == 49408 && c.text.max_positions == 77);
    CHECK(c.text.layer_norm_eps == 1e-5f && c.vision.layer_norm_eps == 1e-5f);
    snprintf(path, sizeof path, "%s/parity/models/tiny-gelu/config.json", test_shared_dir());
    CHECK_MSG(ct_clip_config_load(&c, path) == CT_OK, "%s", ct_error());
    expect_tower("tiny-gelu vision", &c.vision, 80, 224, 3, 5, CT_ACT_GELU);
    expect_tower("tiny-gelu text", &c.text, 32, 96, 2, 2, CT_ACT_GELU);
    CHECK(c.vision.image_size == 80 && c.vision.patch_size == 16 && c.projection_dim == 24);
    CHECK(ct_clip_vision_tokens(&c) == 26);
}

static void test_precedence_and_defaults(void) {
    ct_clip_config c;
    CHECK(ct_clip_config_parse(&c, "{}", "empty") == CT_OK);
    /* transformers' class defaults (CLIPTextConfig / CLIPVisionConfig / CLIPConfig) */
    expect_tower("default text", &c.text, 512, 2048, 12, 8, CT_ACT_QUICK_GELU);
    expect_tower("default vision", &c.vision, 768, 3072, 12, 12, CT_ACT_QUICK_GELU);
    CHECK(c.text.vocab_size == 49408 && c.text.max_positions == 77 && c.vision.image_size == 224 &&
          c.vision.patch_size == 32 && c.vision.num_channels == 3 && c.projection_dim == 512 &&
          c.text.projection_dim == 512 && c.vision.projection_dim == 512 && c.text.layer_norm_eps == 1e-5f);

    /* *_config_dict replaces *_config entirely: keys only in text_config are NOT used */
    const char *j1 = "{\"projection_dim\": 16,"
                     " \"text_config\": {\"hidden_size\": 999, \"intermediate_size\": 7, \"num_hidden_layers\": 5},"
                     " \"text_config_dict\": {\"hidden_size\": 64, \"num_attention_heads\": 4},"
                     " \"vision_config\": {\"hidden_size\": 48, \"num_attention_heads\": 3, \"patch_size\": 8,"
                     "   \"image_size\": 32, \"hidden_act\": \"gelu\"},"
                     " \"vision_config_dict\": null}";
    CHECK_MSG(ct_clip_config_parse(&c, j1, "j1") == CT_OK, "%s", ct_error());
    expect_tower("dict text", &c.text, 64, 2048, 12, 4, CT_ACT_QUICK_GELU);
    expect_tower("null dict -> vision_config", &c.vision, 48, 3072, 12, 3, CT_ACT_GELU);
    CHECK(c.projection_dim == 16 && c.vision.patch_size == 8 && c.vision.image_size == 32);

    /* unknown keys, nested objects, arrays and nulls are skipped; exponents parse */
    const char *j2 = "{\"task_specific_params\": null, \"foo\": {\"a\": [1, {\"b\": null}, \"x\"]},"
                     " \"text_config\": {\"id2label\": {\"0\": \"LABEL_0\"}, \"bad_words_ids\": null,"
                     "   \"hidden_size\": 128, \"num_attention_heads\": 2, \"layer_norm_eps\": 1e-06,"
                     "   \"max_length\": 20, \"hidden_act\": \"gelu\"},"
                     " \"vision_config\": {\"pruned_heads\": {}, \"layer_norm_eps\": 2.5E-5}}";
    CHECK_MSG(ct_clip_config_parse(&c, j2, "j2") == CT_OK, "%s", ct_error());
    CHECK(c.text.hidden_size == 128 && c.text.num_heads == 2 && c.text.layer_norm_eps == 1e-6f &&
          c.text.act == CT_ACT_GELU && c.vision.layer_norm_eps == 2.5e-5f && c.vision.hidden_size == 768);
}

static void test_errors(void) {
    ct_clip_config c;
    ct_status s = ct_clip_config_parse(&c, "{\"vision_config\": {\"hidden_act\": \"gelu_new\"}}", "cfg.json");
    CHECK(s == CT_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(ct_error(), "gelu_new") && strstr(ct_error(), "cfg.json") &&
                  strstr(ct_error(), "vision_config.hidden_act"),
              "message: %s", ct_error());
    s = ct_clip_config_parse(&c, "{\"text_config_dict\": {\"hidden_act\": \"relu\"}}", "x");
    CHECK(s == CT_ERR_UNSUPPORTED && strstr(ct_error(), "text_config_dict.hidden_act"));
    CHECK(ct_clip_config_parse(&c, "{\"text_config\": {\"hidden_size\": \"512\"}}", "x") == CT_ERR_FORMAT);
    CHECK_MSG(strstr(ct_error(), "text_config.hidden_size") != NULL, "%s", ct_error());
    CHECK(ct_clip_config_parse(&c, "{\"text_config\": {\"hidden_size\": 100, \"num_attention_heads\": 3}}", "x") ==
          CT_ERR_FORMAT);
    CHECK(ct_clip_config_parse(&c, "{\"vision_config\": {\"hidden_size\": -4}}", "x") == CT_ERR_FORMAT);
    CHECK(ct_clip_config_parse(&c, "{\"vision_config\": {\"patch_size\": 2.5}}", "x") == CT_ERR_FORMAT);
    CHECK(ct_clip_config_parse(&c, "{\"text_config\": 3}", "x") == CT_ERR_FORMAT);
    CHECK(ct_clip_config_parse(&c, "{\"text_config\": {", "x") == CT_ERR_FORMAT);
    CHECK(ct_clip_config_parse(&c, "[1]", "x") == CT_ERR_FORMAT);
    CHECK(ct_clip_config_load(&c, "/nonexistent/config.json") == CT_ERR_IO);
    /* sizes that would mean terabytes (or overflow) are refused by name, not allocated */
    static const char *const huge[][2] = {
        {"{\"vision_config\": {\"num_hidden_layers\": 10000000}}", "vision_config.num_hidden_layers"},
        {"{\"text_config\": {\"hidden_size\": 9999996}}", "text_config.hidden_size"},
        {"{\"text_config\": {\"intermediate_size\": 10000000}}", "text_config.intermediate_size"},
        {"{\"vision_config\": {\"image_size\": 9999872}}", "vision_config.image_size"},
        {"{\"projection_dim\": 10000000}", "projection_dim"},
        {"{\"vision_config\": {\"hidden_size\": 16384, \"num_attention_heads\": 16, \"intermediate_size\": 65536, "
         "\"num_hidden_layers\": 64}}",
         "parameters"},
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        s = ct_clip_config_parse(&c, huge[i][0], "big.json");
        CHECK_MSG(s == CT_ERR_FORMAT && strstr(ct_error(), huge[i][1]) && strstr(ct_error(), "big.json"),
                  "%s: status %d, message: %s", huge[i][0], s, ct_error());
    }
}

static void test_supported_configs(void) {
    /* Published totals of learnable parameters of the HF CLIPModel checkpoints (sum of
     * p.numel() over model.parameters(), logit_scale included, as shown for these repos by
     * transformers' model.num_parameters() and the model cards / open_clip's model table):
     * ViT-B/32 151,277,313; ViT-B/16 149,620,737; ViT-L/14 427,616,513; ViT-L/14-336
     * 427,944,193; laion ViT-H-14 986.11 M (open_clip's pretrained-model table, rounded). */
    struct {
        const char *file;
        double params, tol;
    } m[] = {
        {"configs/clip/clip-vit-base-patch32.json", 151277313, 0},
        {"configs/clip/clip-vit-base-patch16.json", 149620737, 0},
        {"configs/clip/clip-vit-large-patch14.json", 427616513, 0},
        {"configs/clip/clip-vit-large-patch14-336.json", 427944193, 0},
        {"configs/clip/CLIP-ViT-H-14-laion2B-s32B-b79K.json", 986.11e6, 0.005e6},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        ct_clip_config c;
        ct_status s = ct_clip_config_load(&c, m[i].file);
        CHECK_MSG(s == CT_OK, "%s: %s", m[i].file, ct_error());
        if (s != CT_OK) continue;
        double n = (double)ct_clip_param_count(&c);
        CHECK_MSG(fabs(n - m[i].params) <= m[i].tol, "%s: %.0f parameters, expected %.0f", m[i].file, n, m[i].params);
    }
    /* the count equals what registration allocates (both kit models) */
    char path[512];
    snprintf(path, sizeof path, "%s/parity/models/tiny-gelu/config.json", test_shared_dir());
    ct_clip_config c;
    if (ct_clip_config_load(&c, path) == CT_OK) {
        ct_params p;
        ct_params_init(&p);
        ct_clip m2;
        CHECK(ct_clip_register(&m2, &c, &p) == CT_OK);
        size_t sum = 0;
        for (int i = 0; i < p.count; i++) sum += p.entries[i].numel;
        CHECK_MSG(sum == ct_clip_param_count(&c), "registered %zu vs counted %zu", sum, ct_clip_param_count(&c));
        ct_clip_free(&m2);
        ct_params_free(&p);
    }
}

int main(void) {
    test_kit_configs();
    test_precedence_and_defaults();
    test_errors();
    test_supported_configs();
    return test_finish();
}
