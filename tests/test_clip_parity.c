/* Tier 2: both parity models (../shared/parity/models) against reference.safetensors made by
 * openai/CLIP (cross-checked with transformers): every forward output within 2e-5 x max|ref|,
 * every gradient within 1e-4 x max|ref|. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clip/clip.h"
#include "ctcir/safetensors.h"
#include "test_util.h"

static ct_st_file *ref;
static double worst; /* largest max|c - r| / max|r| seen (relative checks) */

/* max|c - r| <= tol * max|r| (or <= abs_tol when abs_tol > 0) */
static void compare(const char *model, const char *name, const float *c, size_t n, double tol, double abs_tol) {
    const ct_st_tensor *t = ct_st_find(ref, name);
    CHECK_MSG(t != NULL, "%s: reference has no %s", model, name);
    if (!t) return;
    CHECK_MSG(t->numel == n, "%s: %s: %zu elements, reference %zu", model, name, n, t->numel);
    if (t->numel != n) return;
    float *r = malloc(n * sizeof *r);
    ct_st_read_f32(ref, t, r);
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        md = fmax(md, fabs((double)c[i] - r[i]));
        mr = fmax(mr, fabs((double)r[i]));
    }
    double lim = abs_tol > 0 ? abs_tol : tol * mr;
    if (abs_tol <= 0 && mr > 0) worst = fmax(worst, md / mr);
    CHECK_MSG(md <= lim && mr > 0 && isfinite(md), "%s: %s: max diff %.3g > %.3g (max|ref| %.3g)", model, name, md, lim,
              mr);
    free(r);
}

static float *read_f32(const char *name, size_t *n) {
    const ct_st_tensor *t = ct_st_find(ref, name);
    if (!t) return NULL;
    float *x = malloc(t->numel * sizeof *x);
    ct_st_read_f32(ref, t, x);
    if (n) *n = t->numel;
    return x;
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static void run_model(const char *model) {
    char dir[512], path[600], name[256];
    snprintf(dir, sizeof dir, "%s/parity/models/%s", test_shared_dir(), model);
    snprintf(path, sizeof path, "%s/reference.safetensors", dir);
    ct_clip m;
    ct_status s = ct_clip_load(&m, dir);
    CHECK_MSG(s == CT_OK, "%s: load: %s", model, ct_error());
    if (s != CT_OK) return;
    s = ct_st_open(&ref, path);
    CHECK_MSG(s == CT_OK, "%s: %s", model, ct_error());
    if (s != CT_OK) {
        ct_clip_free(&m);
        return;
    }
    const ct_st_tensor *tp = ct_st_find(ref, "input.pixel_values"), *ti = ct_st_find(ref, "input.input_ids");
    int N = (int)tp->shape[0], T = (int)ti->shape[0];
    float *pix = read_f32("input.pixel_values", NULL);
    int64_t *ids = malloc(ti->numel * sizeof *ids);
    ct_st_read_i64(ref, ti, ids);
    float *r_image = read_f32("loss.r_image", NULL), *r_text = read_f32("loss.r_text", NULL);

    ct_clip_vision_acts va;
    ct_clip_text_acts ta;
    CHECK(ct_clip_vision_acts_new(&va, &m, N, true) == CT_OK);
    CHECK(ct_clip_text_acts_new(&ta, &m, T, true) == CT_OK);
    CHECK(ct_clip_vision_forward(&m, &va, pix, N) == CT_OK);
    CHECK(ct_clip_text_forward(&m, &ta, ids, T) == CT_OK);

    const double ft = 2e-5, gt = 1e-4;
    size_t Tv = (size_t)va.T, Dv = (size_t)va.D, Dt = (size_t)ta.D, P = (size_t)m.cfg.projection_dim;
    size_t nv = (size_t)N * Tv * Dv, nt = (size_t)T * 77 * Dt;
    compare(model, "vision.embeddings", va.embeddings, nv, ft, 0);
    compare(model, "vision.hidden_states.0", va.hidden0, nv, ft, 0);
    for (int l = 0; l < m.cfg.vision.num_layers; l++) {
        snprintf(name, sizeof name, "vision.hidden_states.%d", l + 1);
        compare(model, name, va.layers[l].out, nv, ft, 0);
    }
    snprintf(name, sizeof name, "vision.hidden_states.%d", m.cfg.vision.num_layers + 1);
    CHECK_MSG(ct_st_find(ref, name) == NULL, "%s: reference has more vision layers than the config", model);
    compare(model, "vision.last_hidden_state", va.last_hidden, nv, ft, 0);
    compare(model, "vision.pooled_output", va.pooled, (size_t)N * Dv, ft, 0);
    compare(model, "image_embeds", va.embeds, (size_t)N * P, ft, 0);
    compare(model, "text.hidden_states.0", ta.hidden0, nt, ft, 0);
    for (int l = 0; l < m.cfg.text.num_layers; l++) {
        snprintf(name, sizeof name, "text.hidden_states.%d", l + 1);
        compare(model, name, ta.layers[l].out, nt, ft, 0);
    }
    compare(model, "text.last_hidden_state", ta.last_hidden, nt, ft, 0);
    compare(model, "text.pooled_output", ta.pooled, (size_t)T * Dt, ft, 0);
    compare(model, "text_embeds", ta.embeds, (size_t)T * P, ft, 0);
    int64_t eot[64];
    ct_st_read_i64(ref, ct_st_find(ref, "text.eot_index"), eot);
    int eot_ok = 1;
    for (int t = 0; t < T; t++) eot_ok &= eot[t] == ta.eot[t];
    CHECK_MSG(eot_ok, "%s: text.eot_index exact", model);
    double loss = 0;
    for (size_t i = 0; i < (size_t)N * P; i++) loss += (double)va.embeds[i] * r_image[i];
    for (size_t i = 0; i < (size_t)T * P; i++) loss += (double)ta.embeds[i] * r_text[i];
    float lossf = (float)loss;
    compare(model, "loss.value", &lossf, 1, ft, 0);

    printf("%s: forward worst relative difference %.2e\n", model, worst);
    worst = 0;
    /* backward of loss = sum(image_embeds * r_image) + sum(text_embeds * r_text) */
    ct_params_zero_grad(m.params);
    CHECK(ct_clip_vision_backward(&m, &va, NULL, r_image, true) == CT_OK);
    CHECK(ct_clip_text_backward(&m, &ta, NULL, r_text) == CT_OK);
    int tok = m.txt.tok_emb;
    for (int i = 0; i < m.params->count; i++) {
        const ct_param_entry *e = &m.params->entries[i];
        if (i == tok || i == m.logit_scale) continue;
        snprintf(name, sizeof name, "grad.%s", e->name);
        const char *kb = strstr(e->name, "self_attn.k_proj.bias");
        if (kb) {
            /* analytically 0: absolute tolerance from the same layer's q_proj.bias gradient */
            char qn[CT_PARAM_NAME_MAX];
            snprintf(qn, sizeof qn, "%.*sself_attn.q_proj.bias", (int)(kb - e->name), e->name);
            int qi = ct_params_find(m.params, qn);
            double qmax = max_abs(ct_grad(m.params, qi), m.params->entries[qi].numel);
            compare(model, name, ct_grad(m.params, i), e->numel, 0, gt * qmax);
        } else {
            compare(model, name, ct_grad(m.params, i), e->numel, gt, 0);
        }
    }
    /* token embedding: the listed rows match, every other row is exactly 0 */
    size_t K = 0;
    float *rows = read_f32("grad_rows.text_model.embeddings.token_embedding.weight.values", &K);
    const ct_st_tensor *tr = ct_st_find(ref, "grad_rows.text_model.embeddings.token_embedding.weight.ids");
    K = tr->numel;
    int64_t *rid = malloc(K * sizeof *rid);
    ct_st_read_i64(ref, tr, rid);
    const float *gtok = ct_grad(m.params, tok);
    float *picked = malloc(K * Dt * sizeof *picked);
    for (size_t k = 0; k < K; k++) memcpy(picked + k * Dt, gtok + rid[k] * Dt, Dt * sizeof(float));
    compare(model, "grad_rows.text_model.embeddings.token_embedding.weight.values", picked, K * Dt, gt, 0);
    size_t V = (size_t)m.cfg.text.vocab_size, nonzero = 0;
    for (size_t v = 0; v < V; v++) {
        bool listed = false;
        for (size_t k = 0; k < K && !listed; k++) listed = (size_t)rid[k] == v;
        if (listed) continue;
        for (size_t d = 0; d < Dt; d++) nonzero += gtok[v * Dt + d] != 0.0f;
    }
    CHECK_MSG(nonzero == 0, "%s: %zu token-embedding gradient entries outside the used rows are non-zero", model,
              nonzero);
    compare(model, "grad.input.pixel_values", va.dpixels,
            (size_t)N * 3 * m.cfg.vision.image_size * m.cfg.vision.image_size, gt, 0);
    compare(model, "grad.input.text_inputs_embeds", ta.d_inputs_embeds, nt, gt, 0);
    CHECK_MSG(ct_grad(m.params, m.logit_scale)[0] == 0.0f, "%s: grad.logit_scale is 0", model);

    printf("%s: gradient worst relative difference %.2e\n", model, worst);
    /* frozen towers: no weight gradients, input gradients unchanged */
    ct_params_zero_grad(m.params);
    m.freeze_vision = m.freeze_text = true;
    CHECK(ct_clip_vision_backward(&m, &va, NULL, r_image, true) == CT_OK);
    CHECK(ct_clip_text_backward(&m, &ta, NULL, r_text) == CT_OK);
    CHECK_MSG(max_abs(m.params->grad, m.params->total) == 0.0, "%s: frozen towers leave grads at 0", model);
    compare(model, "grad.input.pixel_values", va.dpixels,
            (size_t)N * 3 * m.cfg.vision.image_size * m.cfg.vision.image_size, gt, 0);
    m.freeze_vision = m.freeze_text = false;

    /* inference plan (shared layer scratch) gives identical outputs; smaller batch too */
    ct_clip_vision_acts vi;
    ct_clip_text_acts ti2;
    CHECK(ct_clip_vision_acts_new(&vi, &m, N, false) == CT_OK);
    CHECK(ct_clip_text_acts_new(&ti2, &m, T, false) == CT_OK);
    CHECK(vi.bytes < va.bytes);
    CHECK(ct_clip_vision_forward(&m, &vi, pix, N) == CT_OK);
    CHECK(ct_clip_text_forward(&m, &ti2, ids, T) == CT_OK);
    CHECK(memcmp(vi.embeds, va.embeds, (size_t)N * P * sizeof(float)) == 0);
    CHECK(memcmp(ti2.embeds, ta.embeds, (size_t)T * P * sizeof(float)) == 0);
    CHECK(ct_clip_vision_forward(&m, &vi, pix, N + 1) == CT_ERR_ARG);
    CHECK(ct_clip_vision_backward(&m, &vi, NULL, r_image, false) == CT_ERR_ARG);
    int64_t bad = ids[5];
    ids[5] = m.cfg.text.vocab_size;
    CHECK(ct_clip_text_forward(&m, &ti2, ids, T) == CT_ERR_ARG);
    ids[5] = bad;
    ct_clip_vision_acts_free(&vi);
    ct_clip_text_acts_free(&ti2);

    ct_clip_vision_acts_free(&va);
    ct_clip_text_acts_free(&ta);
    free(pix);
    free(ids);
    free(r_image);
    free(r_text);
    free(rows);
    free(rid);
    free(picked);
    ct_st_close(ref);
    ref = NULL;
    ct_clip_free(&m);
}

int main(void) {
    run_model("tiny-vit-b");
    run_model("tiny-gelu");
    return test_finish();
}
