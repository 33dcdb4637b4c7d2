/* CLIPModel parameters: registration under HF names, and loading from model.safetensors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clip/clip.h"
#include "ctcir/safetensors.h"

static ct_status add(ct_params *p, int *idx, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2,
                     int64_t d3) {
    int64_t shape[4] = {d0, d1, d2, d3};
    return ct_params_add(p, name, ndim, shape, idx);
}

static ct_status add_encoder(ct_params *p, ct_clip_layer *layers, const char *prefix, const ct_clip_tower_config *t) {
    int64_t D = t->hidden_size, F = t->intermediate_size;
    char name[CT_PARAM_NAME_MAX];
    ct_status s = CT_OK;
    for (int l = 0; l < t->num_layers && s == CT_OK; l++) {
        ct_clip_layer *L = &layers[l];
        struct {
            int *idx;
            const char *suffix;
            int ndim;
            int64_t d0, d1;
        } spec[] = {
            {&L->q_w, "self_attn.q_proj.weight", 2, D, D},   {&L->q_b, "self_attn.q_proj.bias", 1, D, 0},
            {&L->k_w, "self_attn.k_proj.weight", 2, D, D},   {&L->k_b, "self_attn.k_proj.bias", 1, D, 0},
            {&L->v_w, "self_attn.v_proj.weight", 2, D, D},   {&L->v_b, "self_attn.v_proj.bias", 1, D, 0},
            {&L->o_w, "self_attn.out_proj.weight", 2, D, D}, {&L->o_b, "self_attn.out_proj.bias", 1, D, 0},
            {&L->ln1_w, "layer_norm1.weight", 1, D, 0},      {&L->ln1_b, "layer_norm1.bias", 1, D, 0},
            {&L->fc1_w, "mlp.fc1.weight", 2, F, D},          {&L->fc1_b, "mlp.fc1.bias", 1, F, 0},
            {&L->fc2_w, "mlp.fc2.weight", 2, D, F},          {&L->fc2_b, "mlp.fc2.bias", 1, D, 0},
            {&L->ln2_w, "layer_norm2.weight", 1, D, 0},      {&L->ln2_b, "layer_norm2.bias", 1, D, 0},
        };
        for (size_t i = 0; i < sizeof spec / sizeof spec[0] && s == CT_OK; i++) {
            snprintf(name, sizeof name, "%s.encoder.layers.%d.%s", prefix, l, spec[i].suffix);
            s = add(p, spec[i].idx, name, spec[i].ndim, spec[i].d0, spec[i].d1, 0, 0);
        }
    }
    return s;
}

ct_status ct_clip_register(ct_clip *m, const ct_clip_config *cfg, ct_params *params) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->params = params;
    const ct_clip_tower_config *t = &cfg->text, *v = &cfg->vision;
    m->vis.layers = calloc((size_t)v->num_layers, sizeof *m->vis.layers);
    m->txt.layers = calloc((size_t)t->num_layers, sizeof *m->txt.layers);
    if (!m->vis.layers || !m->txt.layers) {
        ct_clip_free(m);
        return ct_fail(CT_ERR_NOMEM, "clip: out of memory for the layer table");
    }
    int64_t Dt = t->hidden_size, Dv = v->hidden_size, P = cfg->projection_dim, p = v->patch_size;
    ct_status s;
#define ADD(idx, name, nd, a, b, c, d)                                                                                 \
    if ((s = add(params, idx, name, nd, a, b, c, d)) != CT_OK) goto fail
    ADD(&m->txt.tok_emb, "text_model.embeddings.token_embedding.weight", 2, t->vocab_size, Dt, 0, 0);
    ADD(&m->txt.pos_emb, "text_model.embeddings.position_embedding.weight", 2, t->max_positions, Dt, 0, 0);
    if ((s = add_encoder(params, m->txt.layers, "text_model", t)) != CT_OK) goto fail;
    ADD(&m->txt.final_w, "text_model.final_layer_norm.weight", 1, Dt, 0, 0, 0);
    ADD(&m->txt.final_b, "text_model.final_layer_norm.bias", 1, Dt, 0, 0, 0);
    ADD(&m->vis.class_emb, "vision_model.embeddings.class_embedding", 1, Dv, 0, 0, 0);
    ADD(&m->vis.patch_w, "vision_model.embeddings.patch_embedding.weight", 4, Dv, v->num_channels, p, p);
    ADD(&m->vis.pos_emb, "vision_model.embeddings.position_embedding.weight", 2, ct_clip_vision_tokens(cfg), Dv, 0, 0);
    ADD(&m->vis.pre_w, "vision_model.pre_layrnorm.weight", 1, Dv, 0, 0, 0);
    ADD(&m->vis.pre_b, "vision_model.pre_layrnorm.bias", 1, Dv, 0, 0, 0);
    if ((s = add_encoder(params, m->vis.layers, "vision_model", v)) != CT_OK) goto fail;
    ADD(&m->vis.post_w, "vision_model.post_layernorm.weight", 1, Dv, 0, 0, 0);
    ADD(&m->vis.post_b, "vision_model.post_layernorm.bias", 1, Dv, 0, 0, 0);
    ADD(&m->vis.proj, "visual_projection.weight", 2, P, Dv, 0, 0);
    ADD(&m->txt.proj, "text_projection.weight", 2, P, Dt, 0, 0);
    ADD(&m->logit_scale, "logit_scale", 0, 0, 0, 0, 0);
#undef ADD
    /* logit_scale has no path to what the towers compute. */
    params->entries[m->logit_scale].used = false;
    return CT_OK;
fail:
    ct_clip_free(m);
    return s;
}

static bool is_position_ids(const ct_st_tensor *t) {
    size_t n = strlen(t->name), k = strlen(".position_ids");
    return n >= k && strcmp(t->name + n - k, ".position_ids") == 0;
}

/* Appends to a bounded report, counting what no longer fits. */
typedef struct {
    char text[700];
    size_t len;
    int count, dropped;
} report;

static void report_add(report *r, const char *fmt, const char *a, const char *b) {
    char item[300];
    snprintf(item, sizeof item, fmt, a, b);
    size_t n = strlen(item);
    r->count++;
    if (r->len + n + 3 >= sizeof r->text) {
        r->dropped++;
        return;
    }
    if (r->len) {
        memcpy(r->text + r->len, "; ", 2);
        r->len += 2;
    }
    memcpy(r->text + r->len, item, n + 1);
    r->len += n;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

ct_status ct_clip_load_weights(ct_clip *m, const char *path) {
    ct_params *p = m->params;
    if (!p->param) return ct_fail(CT_ERR_ARG, "clip: %s: parameters not allocated", path);
    ct_st_file *f = NULL;
    ct_status s = ct_st_open(&f, path);
    if (s != CT_OK) return s;
    bool *seen = calloc((size_t)p->count, sizeof *seen);
    if (!seen) {
        ct_st_close(f);
        return ct_fail(CT_ERR_NOMEM, "clip: %s: out of memory", path);
    }
    report r = {{0}, 0, 0, 0};
    for (int i = 0; i < ct_st_count(f); i++) {
        const ct_st_tensor *t = ct_st_at(f, i);
        if (is_position_ids(t)) continue;
        int idx = ct_params_find(p, t->name);
        if (idx < 0) {
            report_add(&r, "unexpected tensor '%s'%s", t->name, "");
            continue;
        }
        const ct_param_entry *e = &p->entries[idx];
        seen[idx] = true; /* present: reported below if unusable, never also as missing */
        bool same = t->ndim == e->ndim;
        for (int d = 0; same && d < e->ndim; d++) same = t->shape[d] == e->shape[d];
        if (!same) {
            char want[96], got[96], msg[256];
            shape_str(want, sizeof want, e->ndim, e->shape);
            shape_str(got, sizeof got, t->ndim, t->shape);
            snprintf(msg, sizeof msg, "expected %s, file has %s", want, got);
            report_add(&r, "tensor '%s' shape mismatch: %s", t->name, msg);
            continue;
        }
        if (t->dtype != CT_DT_F32 && t->dtype != CT_DT_F16 && t->dtype != CT_DT_BF16 && t->dtype != CT_DT_F64) {
            report_add(&r, "tensor '%s' has dtype %s (expected a float type)", t->name, ct_dtype_name(t->dtype));
            continue;
        }
        if ((s = ct_st_read_f32(f, t, ct_param(p, idx))) != CT_OK) goto done;
        const float *w = ct_param(p, idx);
        for (size_t k = 0; k < e->numel; k++)
            if (!isfinite(w[k])) {
                char msg[64];
                snprintf(msg, sizeof msg, " (%g at element %zu)", (double)w[k], k);
                report_add(&r, "tensor '%s' holds a non-finite value%s", t->name, msg);
                break;
            }
    }
    for (int i = 0; i < p->count; i++) {
        bool mine = i >= m->txt.tok_emb && i <= m->logit_scale; /* the head may share the table */
        if (mine && !seen[i]) report_add(&r, "missing tensor '%s'%s", p->entries[i].name, "");
    }
    if (r.count) {
        if (r.dropped)
            s = ct_fail(CT_ERR_SHAPE, "clip: %s: %d problem(s): %s; ... and %d more", path, r.count, r.text, r.dropped);
        else
            s = ct_fail(CT_ERR_SHAPE, "clip: %s: %d problem(s): %s", path, r.count, r.text);
    }
done:
    free(seen);
    ct_st_close(f);
    return s;
}

ct_status ct_clip_check_weights_size(const ct_clip_config *cfg, const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return CT_OK;
    const size_t count = ct_clip_param_count(cfg);
    if ((double)count * 2.0 > (double)st.st_size)
        return ct_fail(CT_ERR_SHAPE,
                       "clip: %s: %lld bytes cannot hold the %zu parameters its config.json describes (at least 2 "
                       "bytes each): wrong config.json or truncated weights",
                       path, (long long)st.st_size, count);
    return CT_OK;
}

ct_status ct_clip_load(ct_clip *m, const char *dir) {
    char path[4096];
    ct_clip_config cfg;
    snprintf(path, sizeof path, "%s/config.json", dir);
    ct_status s = ct_clip_config_load(&cfg, path);
    if (s != CT_OK) return s;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if ((s = ct_clip_check_weights_size(&cfg, path)) != CT_OK) return s;
    ct_params *own = malloc(sizeof *own);
    if (!own) return ct_fail(CT_ERR_NOMEM, "clip: out of memory");
    ct_params_init(own);
    if ((s = ct_clip_register(m, &cfg, own)) != CT_OK) {
        free(own);
        return s;
    }
    m->owns_params = true;
    if ((s = ct_params_alloc(own)) != CT_OK) goto fail;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if ((s = ct_clip_load_weights(m, path)) != CT_OK) goto fail;
    return CT_OK;
fail:
    ct_clip_free(m);
    return s;
}

void ct_clip_free(ct_clip *m) {
    if (!m) return;
    free(m->vis.layers);
    free(m->txt.layers);
    if (m->owns_params && m->params) {
        ct_params_free(m->params);
        free(m->params);
    }
    memset(m, 0, sizeof *m);
}
