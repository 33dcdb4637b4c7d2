/* The whole ConText-CIR training loss of a tiny model (the parity kit's tiny-vit-b towers plus
 * a one-block head): finite differences for a sample of elements of every tensor, under two
 * option sets; GradCache micro-batching equals the one-shot batch; save/load round trip. */
#include <string.h>
#include <unistd.h>

#include "core/dirio.h"
#include "core/rng.h"
#include "test_util.h"
#include "train/optim.h"
#include "train/train_step.h"

#define B 3

static char model_dir[1024];

static ct_model *load(const char *const *sets, int n) {
    ct_model *m = NULL;
    ct_status s = ct_model_load(&m, model_dir, NULL, sets, n);
    CHECK_MSG(s == CT_OK, "load: %s", ct_error());
    return m;
}

/* Random pixels and three captions with phrases that occur in them. */
static void make_batch(ct_batch *b, const ct_model *m, uint64_t seed) {
    static const char *caps[B] = {"remove the two pillows and add a green lamp", "make the small red circle blue",
                                  "a photo of a cat on a wooden table"};
    static const char *ph0[] = {"the two pillows", "a green lamp"};
    static const char *ph1[] = {"the small red circle", "circle", "a dog"}; /* "a dog" does not match */
    static const char *ph2[] = {"a cat", "a wooden table"};
    const char *const *phs[B] = {ph0, ph1, ph2};
    int nph[B] = {2, 3, 2};
    ct_rng r;
    ct_rng_seed(&r, seed);
    const size_t img = (size_t)3 * m->S * m->S;
    ct_batch_clear(b);
    for (int i = 0; i < B; i++) {
        for (size_t k = 0; k < img; k++) {
            b->ref_pixels[i * img + k] = (float)ct_rng_normal(&r);
            b->tgt_pixels[i * img + k] = (float)ct_rng_normal(&r);
        }
        CHECK(ct_batch_add_text(b, m, caps[i], phs[i], nph[i]) == CT_OK);
        b->n++;
    }
    CHECK_MSG(b->n_phrases == 6 && b->unmatched == 1, "matched %d, unmatched %d", b->n_phrases, b->unmatched);
}

static double loss_of(ct_train_step *st, const ct_batch *b) {
    ct_step_losses L;
    ct_status s = ct_train_step_run(st, b, &L);
    if (s) fprintf(stderr, "step: %s\n", ct_error());
    return L.total;
}

static void randomize_head(ct_model *m, uint64_t seed) {
    ct_rng r;
    ct_rng_seed(&r, seed);
    for (int i = m->first_head_param; i < m->params.count; i++) {
        const ct_param_entry *e = &m->params.entries[i];
        float *w = ct_param(&m->params, i);
        int is_ln_w = strstr(e->name, "ln") && strstr(e->name, "weight");
        for (size_t k = 0; k < e->numel; k++) w[k] = (float)(ct_rng_normal(&r) * 0.2 + is_ln_w);
    }
}

static void gradcheck(const char *const *sets, int n_sets, const char *label) {
    ct_model *m = load(sets, n_sets);
    if (!m) return;
    randomize_head(m, 11);
    ct_batch b;
    CHECK(ct_batch_new(&b, m, B) == CT_OK);
    make_batch(&b, m, 3);
    ct_train_step *st = NULL;
    CHECK(ct_train_step_new(&st, m, B, B, ct_batch_max_text(&b)) == CT_OK);
    double base = loss_of(st, &b);
    float *grad = malloc(m->params.total * sizeof(float));
    memcpy(grad, m->params.grad, m->params.total * sizeof(float));
    int bad = 0, checked = 0, tensors = 0;
    double worst = 0;
    for (int i = 0; i < m->params.count; i++) {
        const ct_param_entry *e = &m->params.entries[i];
        float *w = ct_param(&m->params, i);
        float gmax = 0;
        for (size_t k = 0; k < e->numel; k++) gmax = fmaxf(gmax, fabsf(grad[e->offset + k]));
        /* two elements per tensor: the largest-gradient one and a strided one */
        size_t picks[2] = {0, e->numel / 2};
        for (size_t k = 0; k < e->numel; k++)
            if (fabsf(grad[e->offset + k]) == gmax) {
                picks[0] = k;
                break;
            }
        tensors++;
        for (int p = 0; p < 2; p++) {
            size_t k = picks[p];
            float keep = w[k], h = 3e-3f;
            w[k] = keep + h;
            double lp = loss_of(st, &b);
            w[k] = keep - h;
            double lm = loss_of(st, &b);
            w[k] = keep;
            double num = (lp - lm) / (2.0 * h), ana = grad[e->offset + k];
            /* float32 through ~10 layers: absolute floor scaled by the loss */
            double err = fabs(ana - num), tol = 2e-3 * fabs(base) + 2e-2 * fabs(num);
            worst = fmax(worst, err / (tol > 0 ? tol : 1));
            checked++;
            if (err > tol && bad++ < 8)
                fprintf(stderr, "%s: %s[%zu]: analytic %.6g numeric %.6g\n", label, e->name, k, ana, num);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %d sampled gradients off", label, bad, checked);
    printf("%s: loss %.6f, %d elements in %d tensors checked, worst error/tolerance %.3f\n", label, base, checked,
           tensors, worst);
    free(grad);
    ct_train_step_free(st);
    ct_batch_free(&b);
    ct_model_free(m);
}

static void gradcache_equal(void) {
    const char *sets[] = {"fusion_layers=1", "fusion_heads=4", "lambda_cc=0.5", "cc_detach_isolated=false",
                          "query_negatives=all"};
    ct_model *m = load(sets, 5);
    if (!m) return;
    randomize_head(m, 5);
    ct_batch b;
    CHECK(ct_batch_new(&b, m, B) == CT_OK);
    make_batch(&b, m, 9);
    ct_train_step *one = NULL, *micro = NULL;
    CHECK(ct_train_step_new(&one, m, B, B, ct_batch_max_text(&b)) == CT_OK);
    CHECK(ct_train_step_new(&micro, m, 1, B, ct_batch_max_text(&b)) == CT_OK);
    ct_step_losses a, c;
    CHECK(ct_train_step_run(one, &b, &a) == CT_OK);
    float *g1 = malloc(m->params.total * sizeof(float));
    memcpy(g1, m->params.grad, m->params.total * sizeof(float));
    CHECK(ct_train_step_run(micro, &b, &c) == CT_OK);
    double gmax = 0, dmax = 0;
    for (size_t i = 0; i < m->params.total; i++) {
        gmax = fmax(gmax, fabs(g1[i]));
        dmax = fmax(dmax, fabs(g1[i] - m->params.grad[i]));
    }
    CHECK_MSG(fabs(a.total - c.total) < 1e-5 * fabs(a.total), "losses %.9g vs %.9g", a.total, c.total);
    CHECK_MSG(dmax <= 1e-4 * gmax, "gradcache: max |diff| %.3g vs max |grad| %.3g", dmax, gmax);
    printf("gradcache (micro-batch 1 of %d): loss %.9g vs %.9g, max grad diff %.3g (max grad %.3g)\n", B, a.total,
           c.total, dmax, gmax);
    /* save + load gives the same loss exactly */
    char dir[] = "/tmp/ctcir_model_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/ckpt", dir);
    ct_model_update_identity(m);
    CHECK(ct_model_save(m, ck) == CT_OK);
    ct_model *m2 = NULL;
    CHECK_MSG(ct_model_load(&m2, ck, NULL, NULL, 0) == CT_OK, "reload: %s", ct_error());
    if (m2) {
        CHECK(m2->opt.fusion_layers == 1 && m2->opt.query_negatives == CT_QNEG_ALL && m2->opt.lambda_cc == 0.5);
        CHECK(memcmp(m2->params.param, m->params.param, m->params.total * sizeof(float)) == 0);
        CHECK(strcmp(ct_model_identity(m2), ct_model_identity(m)) == 0);
        ct_model_free(m2);
    }
    ct_remove_dir(ck);
    rmdir(dir);
    free(g1);
    ct_train_step_free(one);
    ct_train_step_free(micro);
    ct_batch_free(&b);
    ct_model_free(m);
}

/* The short-context text pass equals the full 77-position pass on every position it keeps. */
static void short_context_equal(void) {
    ct_model *m = load(NULL, 0);
    if (!m) return;
    int64_t ids[2 * CT_CONTEXT_LENGTH], packed[2 * CT_CONTEXT_LENGTH];
    CHECK(ct_model_tokenize(m, "remove the two pillows and add a green lamp", ids) == CT_OK);
    CHECK(ct_model_tokenize(m, "a cat", ids + CT_CONTEXT_LENGTH) == CT_OK);
    int key_len[2];
    const int Tn = ct_pack_ids(packed, key_len, ids, 2);
    CHECK(Tn == key_len[0] && key_len[1] == 4 && Tn < CT_CONTEXT_LENGTH);
    ct_clip_text_acts full, part;
    CHECK(ct_clip_text_acts_new(&full, &m->clip, 2, false) == CT_OK);
    CHECK(ct_clip_text_acts_new(&part, &m->clip, 2, false) == CT_OK);
    CHECK(ct_clip_text_forward(&m->clip, &full, ids, 2) == CT_OK);
    CHECK(ct_clip_text_forward_len(&m->clip, &part, packed, 2, Tn) == CT_OK);
    double worst = 0, ref = 0;
    const int D = m->dt;
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < key_len[b]; t++)
            for (int d = 0; d < D; d++) {
                double a = full.last_hidden[((size_t)b * CT_CONTEXT_LENGTH + t) * D + d];
                double c = part.last_hidden[((size_t)b * Tn + t) * D + d];
                worst = fmax(worst, fabs(a - c));
                ref = fmax(ref, fabs(a));
            }
    CHECK_MSG(worst <= 1e-6 * ref, "short context: max diff %g (max %g)", worst, ref);
    for (int b = 0; b < 2; b++)
        CHECK(memcmp(full.embeds + b * m->P, part.embeds + b * m->P, (size_t)m->P * sizeof(float)) == 0 ||
              fabs(full.embeds[b * m->P] - part.embeds[b * m->P]) < 1e-5);
    ct_clip_text_acts_free(&full);
    ct_clip_text_acts_free(&part);
    ct_model_free(m);
}

/* Freezing a tower: one AdamW step leaves its weights untouched and trains the rest; tensors
 * with no path to the loss (text_projection, logit_scale, post_layernorm under fused) stay
 * exactly as loaded too. */
static void freeze_tower(bool vision) {
    const char *sets[] = {"fusion_layers=1", "fusion_heads=4"};
    ct_model *m = load(sets, 2);
    if (!m) return;
    randomize_head(m, 8); /* the real init zeroes out_proj and fc2, leaving some paths without gradient */
    ct_model_mark_used(m, vision, !vision);
    m->clip.freeze_vision = vision;
    m->clip.freeze_text = !vision;
    CHECK(ct_params_alloc_moments(&m->params) == CT_OK);
    float *before = malloc(m->params.total * sizeof(float));
    memcpy(before, m->params.param, m->params.total * sizeof(float));
    ct_batch b;
    CHECK(ct_batch_new(&b, m, B) == CT_OK);
    make_batch(&b, m, 4);
    ct_train_step *st = NULL;
    CHECK(ct_train_step_new(&st, m, B, B, ct_batch_max_text(&b)) == CT_OK);
    ct_step_losses L;
    CHECK(ct_train_step_run(st, &b, &L) == CT_OK);
    ct_adamw opt = {0.9, 0.98, 1e-8, 0.01, 1.0};
    ct_adamw_step(&opt, &m->params, 1e-3, 1, ct_grad_norm(&m->params));
    int frozen_moved = 0, trained_still = 0, unused_moved = 0;
    for (int i = 0; i < m->params.count; i++) {
        const ct_param_entry *e = &m->params.entries[i];
        const bool same = memcmp(before + e->offset, ct_param(&m->params, i), e->numel * sizeof(float)) == 0;
        const bool in_frozen =
            vision ? (!strncmp(e->name, "vision_model.", 13) || !strcmp(e->name, "visual_projection.weight"))
                   : !strncmp(e->name, "text_model.", 11);
        if (!e->used)
            unused_moved += !same;
        else if (in_frozen)
            frozen_moved += !same;
        else if (!strstr(e->name, "k_proj.bias") && !strstr(e->name, "token_embedding") && same) {
            trained_still++;
            fprintf(stderr, "did not move: %s\n", e->name);
        }
    }
    CHECK_MSG(frozen_moved == 0, "freeze %s: %d frozen tensors changed", vision ? "vision" : "text", frozen_moved);
    CHECK_MSG(trained_still == 0, "freeze %s: %d trainable tensors did not move", vision ? "vision" : "text",
              trained_still);
    CHECK_MSG(unused_moved == 0, "%d tensors without a path to the loss changed", unused_moved);
    free(before);
    ct_train_step_free(st);
    ct_batch_free(&b);
    ct_model_free(m);
}

/* Activation recomputation in the towers: three AdamW steps (GradCache micro-batch 2 of 3,
 * CC loss through the isolated phrase passes) give bit-identical weights with it on and off. */
static void recompute_equal(void) {
    const char *sets[] = {"fusion_layers=1", "fusion_heads=4", "lambda_cc=0.5", "cc_detach_isolated=false"};
    ct_model *ms[2] = {load(sets, 4), load(sets, 4)};
    if (!ms[0] || !ms[1]) return;
    ct_batch b;
    CHECK(ct_batch_new(&b, ms[0], B) == CT_OK);
    for (int k = 0; k < 2; k++) {
        ct_model *m = ms[k];
        randomize_head(m, 11);
        CHECK(ct_params_alloc_moments(&m->params) == CT_OK);
        ct_train_step *st = NULL;
        make_batch(&b, m, 3);
        CHECK(ct_train_step_new_opts(&st, m, 2, B, ct_batch_max_text(&b), k ? CT_RECOMPUTE_ON : CT_RECOMPUTE_OFF) ==
              CT_OK);
        if (!st) return;
        CHECK(ct_train_step_recomputes(st) == (k == 1));
        ct_adamw opt = {0.9, 0.98, 1e-8, 0.01, 1.0};
        for (int t = 1; t <= 3; t++) {
            make_batch(&b, m, 100 + (uint64_t)t);
            ct_step_losses L;
            CHECK(ct_train_step_run(st, &b, &L) == CT_OK);
            ct_adamw_step(&opt, &m->params, 1e-3, t, ct_grad_norm(&m->params));
        }
        ct_train_step_free(st);
    }
    size_t diff = 0;
    for (size_t i = 0; i < ms[0]->params.total; i++) diff += ms[0]->params.param[i] != ms[1]->params.param[i];
    CHECK_MSG(diff == 0, "recompute on/off: %zu of %zu weights differ after 3 steps", diff, ms[0]->params.total);
    size_t moved = 0, n0 = ms[0]->params.total;
    ct_model *fresh = load(sets, 4);
    if (fresh) {
        randomize_head(fresh, 11);
        for (size_t i = 0; i < n0; i++) moved += fresh->params.param[i] != ms[0]->params.param[i];
        CHECK_MSG(moved > n0 / 2, "recompute test: only %zu of %zu weights moved", moved, n0);
        ct_model_free(fresh);
    }
    printf("recompute on/off: %zu of %zu weights differ after 3 steps (%zu moved)\n", diff, n0, moved);
    ct_recompute r;
    CHECK(ct_recompute_parse("auto", "test", &r) == CT_OK && r == CT_RECOMPUTE_AUTO);
    CHECK(ct_recompute_parse("On", "test", &r) != CT_OK);
    ct_batch_free(&b);
    ct_model_free(ms[0]);
    ct_model_free(ms[1]);
}

int main(void) {
    snprintf(model_dir, sizeof model_dir, "%s/parity/models/tiny-vit-b", test_shared_dir());
    const char *a[] = {"fusion_layers=1",          "fusion_heads=4",       "lambda_cc=1",
                       "cc_detach_isolated=false", "cc_normalize=patches", "query_negatives=own"};
    gradcheck(a, 6, "fused/own/cc-patches");
    const char *c[] = {"fusion_layers=2",          "fusion_heads=2", "target_mode=clip",
                       "query_negatives=all",      "symmetric=true", "lambda_cc=0.5",
                       "cc_detach_isolated=false", "cc_abs=false",   "cc_eps=-0.01"};
    gradcheck(c, 9, "clip/all/symmetric");
    gradcache_equal();
    short_context_equal();
    freeze_tower(true);
    freeze_tower(false);
    recompute_equal();
    return test_finish();
}
