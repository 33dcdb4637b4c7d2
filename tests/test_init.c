/* ctcir init's library side: HF config writing (round trip through the parser), random
 * initialisation (statistics per tensor kind, determinism per seed), and the folder it
 * writes (loads as CLIP and as a ConText-CIR model). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clip/clip.h"
#include "core/fileio.h"
#include "ctcir/image.h"
#include "ctcir/model.h"
#include "ctcir/tokenizer.h"
#include "model/model.h"
#include "test_tmpdir.h"
#include "test_util.h"

static bool same_tower(const ct_clip_tower_config *a, const ct_clip_tower_config *b, bool text) {
    bool same = a->hidden_size == b->hidden_size && a->intermediate_size == b->intermediate_size &&
                a->num_layers == b->num_layers && a->num_heads == b->num_heads &&
                a->projection_dim == b->projection_dim && a->act == b->act && a->layer_norm_eps == b->layer_norm_eps;
    if (text) return same && a->vocab_size == b->vocab_size && a->max_positions == b->max_positions;
    return same && a->image_size == b->image_size && a->patch_size == b->patch_size &&
           a->num_channels == b->num_channels;
}

static bool same_config(const ct_clip_config *a, const ct_clip_config *b) {
    return a->projection_dim == b->projection_dim && same_tower(&a->text, &b->text, true) &&
           same_tower(&a->vision, &b->vision, false);
}

static void check_round_trip(const ct_clip_config *cfg, const char *what) {
    char *json = ct_clip_config_to_json(cfg);
    CHECK_MSG(json != NULL, "%s: to_json", what);
    if (!json) return;
    ct_clip_config back;
    ct_status s = ct_clip_config_parse(&back, json, what);
    CHECK_MSG(s == CT_OK, "%s: parse: %s", what, ct_error());
    CHECK_MSG(s == CT_OK && same_config(cfg, &back), "%s: round trip differs", what);
    /* and a second trip gives the same text */
    char *again = s == CT_OK ? ct_clip_config_to_json(&back) : NULL;
    CHECK_MSG(again && strcmp(again, json) == 0, "%s: second round trip text differs", what);
    free(again);
    free(json);
}

static void test_config_round_trip(void) {
    ct_clip_config c;
    ct_clip_config_defaults(&c);
    check_round_trip(&c, "defaults");
    c.text.vocab_size = 777, c.text.hidden_size = 48, c.text.num_heads = 6, c.text.num_layers = 3;
    c.text.intermediate_size = 100, c.text.act = CT_ACT_GELU, c.text.layer_norm_eps = 1e-6f;
    c.text.projection_dim = 40, c.projection_dim = 40;
    c.vision.image_size = 40, c.vision.patch_size = 5, c.vision.hidden_size = 24, c.vision.num_heads = 2;
    c.vision.layer_norm_eps = 3.3e-7f, c.vision.projection_dim = 41; /* tower value kept apart */
    check_round_trip(&c, "custom");
    /* defaults differ from the custom one: the comparison can fail */
    ct_clip_config d;
    ct_clip_config_defaults(&d);
    CHECK(!same_config(&c, &d));
}

/* Captions for a small learned vocabulary. */
static const char *const captions[] = {
    "change the red circle into a blue square",
    "add a small green triangle in the top left corner",
    "remove the yellow star",
    "make the big square purple",
    "move the circle to the bottom right",
    "replace the orange diamond with a little cyan circle",
    "turn the background into stripes",
};

static bool write_text(const char *path, const char *text) {
    return ct_write_file_atomic(path, text, strlen(text)) == CT_OK;
}

static const char *config_fmt =
    "{\"_comment\": \"tiny\", %s \"projection_dim\": 24,\n"
    " \"text_config\": {\"vocab_size\": %s, \"hidden_size\": 32, \"intermediate_size\": 64,\n"
    "   \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"max_position_embeddings\": 77},\n"
    " \"vision_config\": {\"image_size\": 32, \"patch_size\": 8, \"hidden_size\": 48,\n"
    "   \"intermediate_size\": 96, \"num_hidden_layers\": 3, \"num_attention_heads\": 4}}\n";

static void write_config(const char *path, const char *vocab_key, const char *vocab_size) {
    char text[2048];
    snprintf(text, sizeof text, config_fmt, vocab_key, vocab_size);
    CHECK(write_text(path, text));
}

/* Mean and standard deviation of a tensor, in double. */
static void stats(const float *w, size_t n, double *mean, double *std) {
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) s += w[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) ss += (w[i] - *mean) * (w[i] - *mean);
    *std = sqrt(ss / (double)n);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The std openai's scheme asks for, from the tensor's name alone (0: a constant tensor). */
static double expected_std(const char *name, const ct_clip_config *c, double *constant) {
    const bool text = strncmp(name, "text_model.", 11) == 0;
    const ct_clip_tower_config *t = text ? &c->text : &c->vision;
    const double D = t->hidden_size, L = t->num_layers;
    *constant = 0;
    if (strstr(name, "norm") || strstr(name, "layrnorm")) {
        *constant = ends_with(name, ".weight") ? 1.0 : 0.0;
        return 0;
    }
    if (ends_with(name, ".bias")) return 0;
    if (strcmp(name, "logit_scale") == 0) {
        *constant = log(1.0 / 0.07);
        return 0;
    }
    if (strstr(name, "token_embedding")) return 0.02;
    if (strcmp(name, "text_model.embeddings.position_embedding.weight") == 0) return 0.01;
    if (strcmp(name, "visual_projection.weight") == 0) return 1.0 / sqrt(c->vision.hidden_size);
    if (strcmp(name, "text_projection.weight") == 0) return 1.0 / sqrt(c->text.hidden_size);
    if (strstr(name, "patch_embedding")) return 1.0 / sqrt(3.0 * t->patch_size * t->patch_size);
    if (strstr(name, "class_embedding") || strstr(name, "position_embedding")) return 1.0 / sqrt(D);
    if (strstr(name, "q_proj") || strstr(name, "k_proj") || strstr(name, "v_proj")) return 1.0 / sqrt(D);
    if (strstr(name, "out_proj") || strstr(name, "fc2")) return 1.0 / sqrt(D) / sqrt(2 * L);
    if (strstr(name, "fc1")) return 1.0 / sqrt(2 * D);
    return -1; /* unknown tensor */
}

static void check_statistics(const ct_clip *m) {
    const ct_params *p = m->params;
    int checked = 0;
    for (int i = 0; i < p->count; i++) {
        const ct_param_entry *e = &p->entries[i];
        const float *w = ct_param(p, i);
        double constant, want = expected_std(e->name, &m->cfg, &constant), mean, std;
        CHECK_MSG(want >= 0, "unexpected tensor %s", e->name);
        if (want < 0) continue;
        if (want == 0) {
            size_t bad = 0;
            for (size_t k = 0; k < e->numel; k++) bad += fabs(w[k] - constant) > 1e-6 * (1 + fabs(constant));
            CHECK_MSG(bad == 0, "%s: %zu values differ from %g", e->name, bad, constant);
        } else {
            stats(w, e->numel, &mean, &std);
            const double n = (double)e->numel;
            /* 5 standard errors: a wrong scale (e.g. sqrt(2) off) fails for every tensor here */
            CHECK_MSG(fabs(std - want) <= 5 * want / sqrt(2 * n) + 1e-4 * want, "%s: std %g, expected %g (n %zu)",
                      e->name, std, want, e->numel);
            CHECK_MSG(fabs(mean) <= 5 * want / sqrt(n), "%s: mean %g, std %g", e->name, mean, want);
        }
        checked++;
    }
    CHECK(checked == p->count && checked > 40);
}

static bool same_bytes(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool same = ct_read_file(a, &x, &nx, 1u << 28) == CT_OK && ct_read_file(b, &y, &ny, 1u << 28) == CT_OK &&
                nx == ny && memcmp(x, y, nx) == 0;
    free(x), free(y);
    return same;
}

static void test_init_folder(void) {
    char vocab[512], cfg_path[512], out[512], out2[512], out3[512], path[600], path2[600];
    snprintf(vocab, sizeof vocab, "%s/vocab", tmpdir);
    size_t lens[sizeof captions / sizeof captions[0]];
    const size_t n_cap = sizeof captions / sizeof captions[0];
    for (size_t i = 0; i < n_cap; i++) lens[i] = strlen(captions[i]);
    CHECK(ct_bpe_train(captions, lens, n_cap, 600, vocab, NULL) == CT_OK);
    ct_tokenizer *tok = NULL;
    CHECK(ct_tokenizer_load_dir(&tok, vocab) == CT_OK);
    const int n_vocab = tok ? ct_tokenizer_vocab_size(tok) : -1;
    CHECK(n_vocab > 514 && n_vocab <= 600);

    snprintf(cfg_path, sizeof cfg_path, "%s/model.json", tmpdir);
    write_config(cfg_path, "", "\"auto\"");
    snprintf(out, sizeof out, "%s/m1", tmpdir);
    ct_clip_init_args a = {cfg_path, vocab, out, 7, false};
    ct_clip_config used;
    ct_status s = ct_clip_init_folder(&a, &used);
    CHECK_MSG(s == CT_OK, "init: %s", ct_error());
    CHECK(used.text.vocab_size == n_vocab);
    CHECK(used.vision.hidden_size == 48 && used.vision.num_layers == 3 && used.projection_dim == 24);

    /* reload as CLIP: every tensor, same config */
    ct_clip m;
    s = ct_clip_load(&m, out);
    CHECK_MSG(s == CT_OK, "ct_clip_load: %s", ct_error());
    if (s == CT_OK) {
        CHECK(same_config(&m.cfg, &used));
        CHECK(m.params->count > 0);
        check_statistics(&m);
        ct_clip_free(&m);
    }
    /* the config.json it wrote carries the vocabulary's special ids */
    char *json = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", out);
    CHECK(ct_read_file(path, &json, &len, 1u << 20) == CT_OK);
    char want[64];
    snprintf(want, sizeof want, "\"eos_token_id\":\t%d", tok ? ct_tokenizer_eot(tok) : -1);
    CHECK_MSG(json && strstr(json, want), "config.json lacks %s", want);
    free(json);
    snprintf(path, sizeof path, "%s/vocab.json", out);
    snprintf(path2, sizeof path2, "%s/vocab.json", vocab);
    CHECK(same_bytes(path, path2));
    snprintf(path, sizeof path, "%s/preprocessor_config.json", out);
    int size = 0, crop = 0;
    float mean[3], std[3];
    CHECK(ct_clip_preprocessor_config_load(path, &size, &crop, mean, std) == CT_OK && size == 32 && crop == 32);

    /* a ConText-CIR model on top (plain CLIP folder: the head is seeded) */
    ct_cir_options opt;
    ct_cir_options_default(&opt);
    opt.fusion_heads = 4, opt.fusion_layers = 1;
    ct_model *cm = NULL;
    s = ct_model_load(&cm, out, &opt, NULL, 0);
    CHECK_MSG(s == CT_OK, "ct_model_load: %s", ct_error());
    if (cm) {
        CHECK(ct_model_embed_dim(cm) == 24 && ct_model_image_size(cm) == 32);
        ct_encoder *e = NULL;
        CHECK(ct_encoder_new(&e, cm, 1) == CT_OK);
        float pixels[3 * 32 * 32], q[24];
        for (int i = 0; i < 3 * 32 * 32; i++) pixels[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
        int64_t ids[CT_CONTEXT_LENGTH];
        CHECK(ct_model_tokenize(cm, "add a red circle", ids) == CT_OK);
        CHECK(e && ct_encode_query(e, pixels, ids, 1, q) == CT_OK);
        bool finite = true;
        for (int i = 0; i < 24; i++) finite = finite && isfinite(q[i]);
        CHECK(finite);
        ct_encoder_free(e);
        ct_model_free(cm);
    }

    /* determinism: same seed, same bytes; another seed, other bytes. The vocabulary comes
     * from the config's "vocab" key this time. */
    char key[700];
    snprintf(key, sizeof key, "\"vocab\": \"%s\",", vocab);
    write_config(cfg_path, key, "\"auto\"");
    snprintf(out2, sizeof out2, "%s/m2", tmpdir);
    ct_clip_init_args a2 = {cfg_path, NULL, out2, 7, false};
    CHECK_MSG(ct_clip_init_folder(&a2, NULL) == CT_OK, "init from the config's vocab: %s", ct_error());
    snprintf(out3, sizeof out3, "%s/m3", tmpdir);
    ct_clip_init_args a3 = {cfg_path, NULL, out3, 8, false};
    CHECK(ct_clip_init_folder(&a3, NULL) == CT_OK);
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    snprintf(path2, sizeof path2, "%s/model.safetensors", out2);
    CHECK(same_bytes(path, path2));
    snprintf(path2, sizeof path2, "%s/model.safetensors", out3);
    CHECK(!same_bytes(path, path2));

    /* errors */
    CHECK(ct_clip_init_folder(&a2, NULL) == CT_ERR_ARG); /* m2 exists */
    a2.force = true;
    CHECK(ct_clip_init_folder(&a2, NULL) == CT_OK);
    write_config(cfg_path, "", "\"auto\"");
    ct_clip_init_args bad = {cfg_path, NULL, out3, 1, true};
    CHECK(ct_clip_init_folder(&bad, NULL) == CT_ERR_ARG); /* no vocabulary */
    bad.vocab_dir = vocab;
    write_config(cfg_path, "", "520");
    CHECK(ct_clip_init_folder(&bad, NULL) == CT_ERR_FORMAT); /* smaller than the vocabulary */
    write_config(cfg_path, "", "\"big\"");
    CHECK(ct_clip_init_folder(&bad, NULL) == CT_ERR_FORMAT);
    write_config(cfg_path, "", "1000"); /* larger is fine */
    CHECK(ct_clip_init_folder(&bad, &used) == CT_OK && used.text.vocab_size == 1000);
    CHECK(write_text(cfg_path, "{\"text_config\": {}, \"vision_config\": {}}\n{\"more\": 1}\n"));
    CHECK(ct_clip_init_folder(&bad, NULL) == CT_ERR_FORMAT); /* two objects (a JSONL file) */
    CHECK(write_text(cfg_path, "{\"text_config\": {\"vocab_size\": \"auto\"}}"));
    CHECK(ct_clip_init_folder(&bad, NULL) == CT_ERR_FORMAT); /* no vision_config */
    write_config(cfg_path, "", "\"auto\"");
    bad.vocab_dir = tmpdir; /* no vocab.json there */
    CHECK(ct_clip_init_folder(&bad, NULL) != CT_OK);
    ct_tokenizer_free(tok);
}

int main(void) {
    if (!tmpdir_make("init")) return 1;
    test_config_round_trip();
    test_init_folder();
    tmpdir_remove();
    return test_finish();
}
