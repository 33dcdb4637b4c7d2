/* ct_encode_run (ctcir/encode.h): CLIP image and text embeddings of a model folder,
 * optionally every intermediate the parity kit stores (--all) and the gradient of a linear
 * loss on the embeddings (--loss-weights), all written to one safetensors file.
 *
 * Structure: gather inputs (pixels [N,3,S,S], ids [T,77]) -> run each tower in chunks of
 * `batch` with one activation plan per tower -> for a ctcir folder, query and target
 * embeddings -> write. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "core/fileio.h"
#include "ctcir/encode.h"
#include "ctcir/image.h"
#include "ctcir/log.h"
#include "ctcir/safetensors.h"
#include "ctcir/tokenizer.h"
#include "model/model.h"

#define MAX_INPUTS     100000
#define MAX_TEXTS_FILE (64u << 20)

typedef ct_encode_opts encode_opts;

void ct_encode_opts_default(ct_encode_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 32;
}

typedef struct {
    ct_clip own;   /* the towers of a plain CLIP folder */
    ct_clip *clip; /* &own, or the towers of a ctcir model */
    ct_model *cir; /* a ctcir checkpoint folder: the whole model */
    float *query_embeds, *target_embeds;
    int N, T, S, P, Tv, Dv, Dt, L;
    float *pixels; /* [N,3,S,S] */
    int64_t *ids;  /* [T,L] */
    float *r_image, *r_text;
    /* outputs */
    float *image_embeds, *text_embeds, *v_last, *v_pooled, *t_last, *t_pooled, *dpixels;
    int64_t *eot;
    double loss;
    cJSON *texts_json;
} encode_job;

/* Reads tensor `name` of `path` into a new buffer, checking its shape (-1 = any). */
static ct_status read_tensor(const char *path, const char *name, int ndim, const int64_t *want, bool ints, void **out,
                             int64_t *dim0) {
    ct_st_file *f = NULL;
    ct_status s = ct_st_open(&f, path);
    if (s != CT_OK) return s;
    const ct_st_tensor *t = ct_st_find(f, name);
    if (!t) {
        s = ct_fail(CT_ERR_SHAPE, "encode: %s: no tensor '%s'", path, name);
        goto done;
    }
    bool ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = want[d] < 0 || t->shape[d] == want[d];
    if (!ok || t->numel == 0) {
        s = ct_fail(CT_ERR_SHAPE, "encode: %s: tensor '%s' has an unexpected shape (ndim %d, first dim %lld)", path,
                    name, t->ndim, t->ndim ? (long long)t->shape[0] : 0LL);
        goto done;
    }
    void *buf = malloc(t->numel * (ints ? sizeof(int64_t) : sizeof(float)));
    if (!buf) {
        s = ct_fail(CT_ERR_NOMEM, "encode: %s: out of memory for '%s'", path, name);
        goto done;
    }
    s = ints ? ct_st_read_i64(f, t, buf) : ct_st_read_f32(f, t, buf);
    if (s != CT_OK)
        free(buf);
    else {
        *out = buf;
        if (dim0) *dim0 = t->shape[0];
    }
done:
    ct_st_close(f);
    return s;
}

static ct_status gather_images(encode_job *j, const encode_opts *o) {
    size_t per = (size_t)3 * j->S * j->S;
    if (o->pixels_file) {
        int64_t want[4] = {-1, 3, j->S, j->S}, n = 0;
        ct_status s = read_tensor(o->pixels_file, "input.pixel_values", 4, want, false, (void **)&j->pixels, &n);
        j->N = (int)n;
        return s;
    }
    j->N = o->n_images;
    if (!j->N) return CT_OK;
    j->pixels = malloc((size_t)j->N * per * sizeof(float));
    if (!j->pixels) return ct_fail(CT_ERR_NOMEM, "encode: out of memory for %d images", j->N);
    for (int i = 0; i < j->N; i++) {
        ct_image img = {0};
        ct_status s = ct_image_load(&img, o->images[i]);
        if (s == CT_OK) s = ct_clip_preprocess(j->pixels + (size_t)i * per, &img, j->S, j->S, NULL);
        ct_image_free(&img);
        if (s != CT_OK) return s;
    }
    return CT_OK;
}

static ct_status gather_texts(encode_job *j, const encode_opts *o) {
    if (o->ids_file) {
        int64_t want[2] = {-1, j->L}, n = 0;
        ct_status s = read_tensor(o->ids_file, "input.input_ids", 2, want, true, (void **)&j->ids, &n);
        j->T = (int)n;
        return s;
    }
    int n_file = 0;
    if (o->texts_file) {
        char *buf = NULL;
        size_t len;
        ct_status s = ct_read_file(o->texts_file, &buf, &len, MAX_TEXTS_FILE);
        if (s != CT_OK) return s;
        j->texts_json = cJSON_Parse(buf);
        free(buf);
        if (!j->texts_json || !cJSON_IsArray(j->texts_json))
            return ct_fail(CT_ERR_FORMAT, "encode: %s: expected a JSON array of strings", o->texts_file);
        n_file = cJSON_GetArraySize(j->texts_json);
        for (int i = 0; i < n_file; i++)
            if (!cJSON_IsString(cJSON_GetArrayItem(j->texts_json, i)))
                return ct_fail(CT_ERR_FORMAT, "encode: %s: element %d is not a string", o->texts_file, i);
        if (n_file > MAX_INPUTS)
            return ct_fail(CT_ERR_FORMAT, "encode: %s: more than %d texts", o->texts_file, MAX_INPUTS);
    }
    j->T = o->n_texts + n_file;
    if (!j->T) return CT_OK;
    if (j->L != CT_CONTEXT_LENGTH)
        return ct_fail(CT_ERR_UNSUPPORTED, "encode: %s: max_position_embeddings %d (the tokenizer makes %d ids)",
                       o->model, j->L, CT_CONTEXT_LENGTH);
    j->ids = malloc((size_t)j->T * j->L * sizeof *j->ids);
    if (!j->ids) return ct_fail(CT_ERR_NOMEM, "encode: out of memory for %d texts", j->T);
    ct_tokenizer *tok = NULL;
    ct_status s = ct_tokenizer_load_dir(&tok, o->model);
    if (s != CT_OK) return s;
    int32_t ids32[CT_CONTEXT_LENGTH];
    for (int i = 0; i < j->T && s == CT_OK; i++) {
        const char *text =
            i < o->n_texts ? o->texts[i] : cJSON_GetArrayItem(j->texts_json, i - o->n_texts)->valuestring;
        s = ct_tokenize(tok, text, ids32, CT_CONTEXT_LENGTH, NULL);
        for (int k = 0; k < CT_CONTEXT_LENGTH; k++) j->ids[(size_t)i * j->L + k] = ids32[k];
    }
    ct_tokenizer_free(tok);
    return s;
}

static float *alloc_out(size_t n, ct_status *s) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p && *s == CT_OK) *s = ct_fail(CT_ERR_NOMEM, "encode: out of memory for outputs (%zu floats)", n);
    return p;
}

static ct_status run_vision(encode_job *j, int batch, bool grads) {
    if (!j->N) return CT_OK;
    ct_clip_vision_acts a;
    int B = j->N < batch ? j->N : batch;
    ct_status s = ct_clip_vision_acts_new(&a, j->clip, B, grads);
    if (s != CT_OK) return s;
    size_t per = (size_t)3 * j->S * j->S, tvd = (size_t)j->Tv * j->Dv;
    for (int i0 = 0; i0 < j->N && s == CT_OK; i0 += B) {
        int b = j->N - i0 < B ? j->N - i0 : B;
        if ((s = ct_clip_vision_forward(j->clip, &a, j->pixels + i0 * per, b)) != CT_OK) break;
        memcpy(j->image_embeds + (size_t)i0 * j->P, a.embeds, (size_t)b * j->P * sizeof(float));
        memcpy(j->v_last + i0 * tvd, a.last_hidden, b * tvd * sizeof(float));
        memcpy(j->v_pooled + (size_t)i0 * j->Dv, a.pooled, (size_t)b * j->Dv * sizeof(float));
        if (!grads) continue;
        const float *r = j->r_image + (size_t)i0 * j->P;
        for (size_t k = 0; k < (size_t)b * j->P; k++) j->loss += (double)a.embeds[k] * r[k];
        if ((s = ct_clip_vision_backward(j->clip, &a, NULL, r, true)) != CT_OK) break;
        memcpy(j->dpixels + i0 * per, a.dpixels, b * per * sizeof(float));
    }
    ct_clip_vision_acts_free(&a);
    return s;
}

static ct_status run_text(encode_job *j, int batch, bool grads) {
    if (!j->T) return CT_OK;
    ct_clip_text_acts a;
    int B = j->T < batch ? j->T : batch;
    ct_status s = ct_clip_text_acts_new(&a, j->clip, B, grads);
    if (s != CT_OK) return s;
    size_t tld = (size_t)j->L * j->Dt;
    for (int i0 = 0; i0 < j->T && s == CT_OK; i0 += B) {
        int b = j->T - i0 < B ? j->T - i0 : B;
        if ((s = ct_clip_text_forward(j->clip, &a, j->ids + (size_t)i0 * j->L, b)) != CT_OK) break;
        memcpy(j->text_embeds + (size_t)i0 * j->P, a.embeds, (size_t)b * j->P * sizeof(float));
        memcpy(j->t_last + i0 * tld, a.last_hidden, b * tld * sizeof(float));
        memcpy(j->t_pooled + (size_t)i0 * j->Dt, a.pooled, (size_t)b * j->Dt * sizeof(float));
        for (int k = 0; k < b; k++) j->eot[i0 + k] = a.eot[k];
        if (!grads) continue;
        const float *r = j->r_text + (size_t)i0 * j->P;
        for (size_t k = 0; k < (size_t)b * j->P; k++) j->loss += (double)a.embeds[k] * r[k];
        s = ct_clip_text_backward(j->clip, &a, NULL, r);
    }
    ct_clip_text_acts_free(&a);
    return s;
}

static ct_status write_outputs(encode_job *j, const encode_opts *o) {
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s != CT_OK) return s;
    int64_t ie[2] = {j->N, j->P}, te[2] = {j->T, j->P};
    int64_t px[4] = {j->N, 3, j->S, j->S}, ids[2] = {j->T, j->L};
    int64_t vl[3] = {j->N, j->Tv, j->Dv}, vp[2] = {j->N, j->Dv}, tl[3] = {j->T, j->L, j->Dt}, tp[2] = {j->T, j->Dt};
    int64_t eot[1] = {j->T};
#define ADD(name, dt, nd, shape, data)                                                                                 \
    if (s == CT_OK) s = ct_st_writer_add(w, name, dt, nd, shape, data)
    ADD("image_embeds", CT_DT_F32, 2, ie, j->image_embeds);
    ADD("text_embeds", CT_DT_F32, 2, te, j->text_embeds);
    if (j->cir && j->N == j->T && j->N) {
        int64_t qe[2] = {j->N, j->P};
        ADD("query_embeds", CT_DT_F32, 2, qe, j->query_embeds);
    }
    if (j->cir && j->N) ADD("target_embeds", CT_DT_F32, 2, ie, j->target_embeds);
    if (o->all) {
        ADD("input.pixel_values", CT_DT_F32, 4, px, j->pixels);
        ADD("input.input_ids", CT_DT_I64, 2, ids, j->ids);
        ADD("vision.last_hidden_state", CT_DT_F32, 3, vl, j->v_last);
        ADD("vision.pooled_output", CT_DT_F32, 2, vp, j->v_pooled);
        ADD("text.last_hidden_state", CT_DT_F32, 3, tl, j->t_last);
        ADD("text.pooled_output", CT_DT_F32, 2, tp, j->t_pooled);
        ADD("text.eot_index", CT_DT_I64, 1, eot, j->eot);
    }
    float lossf = (float)j->loss;
    char name[CT_PARAM_NAME_MAX + 8];
    if (o->loss_file) {
        ADD("loss.value", CT_DT_F32, 0, NULL, &lossf);
        const ct_params *p = j->clip->params;
        for (int i = 0; i < p->count && s == CT_OK; i++) {
            snprintf(name, sizeof name, "grad.%s", p->entries[i].name);
            s = ct_st_writer_add_copy(w, name, CT_DT_F32, p->entries[i].ndim, p->entries[i].shape, ct_grad(p, i));
        }
        ADD("grad.input.pixel_values", CT_DT_F32, 4, px, j->dpixels);
    }
#undef ADD
    if (s == CT_OK) s = ct_st_writer_meta(w, "format", "pt");
    if (s == CT_OK) s = ct_st_writer_save(w, o->out);
    ct_st_writer_free(w);
    return s;
}

/* A ctcir folder (config.json with a "ctcir" object) loads as the whole model, anything
 * else as plain CLIP towers. */
static ct_status load_model(encode_job *j, const char *dir) {
    char path[4200], *text = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/config.json", dir);
    ct_status s = ct_read_file(path, &text, &n, 16u << 20);
    if (s) return s;
    cJSON *cfg = cJSON_Parse(text);
    free(text);
    const cJSON *c = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "ctcir") : NULL;
    const bool is_cir = c && !cJSON_IsNull(c);
    cJSON_Delete(cfg);
    if (!is_cir) {
        j->clip = &j->own;
        return ct_clip_load(&j->own, dir);
    }
    if ((s = ct_model_load(&j->cir, dir, NULL, NULL, 0))) return s;
    j->clip = &j->cir->clip;
    return CT_OK;
}

/* ctcir folders: query_embeds f(image i, text i) and target_embeds (the target mode). */
static ct_status run_cir(encode_job *j, int batch) {
    ct_encoder *e = NULL;
    const size_t per = (size_t)3 * j->S * j->S;
    ct_status s = ct_encoder_new(&e, j->cir, batch);
    if (s) return s;
    const int nq = j->N == j->T ? j->N : 0;
    for (int i = 0; i < nq && !s; i += batch) {
        int n = nq - i < batch ? nq - i : batch;
        s = ct_encode_query(e, j->pixels + i * per, j->ids + (size_t)i * j->L, n, j->query_embeds + (size_t)i * j->P);
    }
    for (int i = 0; i < j->N && !s; i += batch) {
        int n = j->N - i < batch ? j->N - i : batch;
        s = ct_encode_target(e, j->pixels + i * per, n, j->target_embeds + (size_t)i * j->P);
    }
    ct_encoder_free(e);
    return s;
}

static ct_status run(encode_job *j, const encode_opts *o) {
    ct_status s = load_model(j, o->model);
    if (s != CT_OK) return s;
    const ct_clip_config *c = &j->clip->cfg;
    j->S = c->vision.image_size;
    j->P = c->projection_dim;
    j->Tv = ct_clip_vision_tokens(c);
    j->Dv = c->vision.hidden_size;
    j->Dt = c->text.hidden_size;
    j->L = c->text.max_positions;
    if ((s = gather_images(j, o)) != CT_OK) return s;
    if ((s = gather_texts(j, o)) != CT_OK) return s;
    bool grads = o->loss_file != NULL;
    if (grads) {
        int64_t wi[2] = {j->N, j->P}, wt[2] = {j->T, j->P};
        if (j->N && (s = read_tensor(o->loss_file, "loss.r_image", 2, wi, false, (void **)&j->r_image, NULL)) != CT_OK)
            return s;
        if (j->T && (s = read_tensor(o->loss_file, "loss.r_text", 2, wt, false, (void **)&j->r_text, NULL)) != CT_OK)
            return s;
    }
    size_t N = (size_t)j->N, T = (size_t)j->T;
    j->image_embeds = alloc_out(N * j->P, &s);
    j->text_embeds = alloc_out(T * j->P, &s);
    j->v_last = alloc_out(N * j->Tv * j->Dv, &s);
    j->v_pooled = alloc_out(N * j->Dv, &s);
    j->t_last = alloc_out(T * j->L * j->Dt, &s);
    j->t_pooled = alloc_out(T * j->Dt, &s);
    j->eot = calloc(T ? T : 1, sizeof *j->eot);
    if (grads) j->dpixels = alloc_out(N * 3 * j->S * j->S, &s);
    if (s != CT_OK || !j->eot) return s != CT_OK ? s : ct_fail(CT_ERR_NOMEM, "encode: out of memory");
    if ((s = run_vision(j, o->batch, grads)) != CT_OK) return s;
    if ((s = run_text(j, o->batch, grads)) != CT_OK) return s;
    if (j->cir) {
        if (j->N && j->T && j->N != j->T)
            ct_log(
                CT_LOG_WARN,
                "encode: %d images but %d texts: query_embeds needs one text per image; writing target_embeds only\n",
                j->N, j->T);
        j->query_embeds = alloc_out((size_t)(j->N == j->T ? j->N : 0) * j->P, &s);
        j->target_embeds = alloc_out((size_t)j->N * j->P, &s);
        if (s || (s = run_cir(j, o->batch)) != CT_OK) return s;
    }
    return write_outputs(j, o);
}

static void job_free(encode_job *j) {
    if (j->cir)
        ct_model_free(j->cir);
    else
        ct_clip_free(&j->own);
    free(j->query_embeds), free(j->target_embeds);
    free(j->pixels);
    free(j->ids);
    free(j->r_image);
    free(j->r_text);
    free(j->image_embeds);
    free(j->text_embeds);
    free(j->v_last);
    free(j->v_pooled);
    free(j->t_last);
    free(j->t_pooled);
    free(j->dpixels);
    free(j->eot);
    cJSON_Delete(j->texts_json);
}

ct_status ct_encode_run(const ct_encode_opts *o, ct_encode_summary *summary) {
    if (!o->model || !o->out) return ct_fail(CT_ERR_ARG, "encode: a model folder and an output file are needed");
    if (o->batch < 1) return ct_fail(CT_ERR_ARG, "encode: batch %d < 1", o->batch);
    encode_job j;
    memset(&j, 0, sizeof j);
    ct_status s = run(&j, o);
    if (s == CT_OK && summary) *summary = (ct_encode_summary){j.N, j.T, j.cir != NULL, o->loss_file != NULL, j.loss};
    job_free(&j);
    return s;
}
