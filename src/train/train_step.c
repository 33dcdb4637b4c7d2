/* The training step (see train_step.h): GradCache over micro-batches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/dist.h"
#include "ctcir/log.h"
#include "model/head.h"
#include "train/train_step.h"

/* ---- batches ------------------------------------------------------------------------- */

ct_status ct_batch_new(ct_batch *b, const ct_model *m, int cap) {
    memset(b, 0, sizeof *b);
    const size_t img = (size_t)3 * m->S * m->S;
    b->cap = cap;
    b->phrase_cap = cap * (m->opt.max_noun_phrases > 0 ? m->opt.max_noun_phrases : 1);
    b->ref_pixels = malloc((size_t)cap * img * sizeof(float));
    b->tgt_pixels = malloc((size_t)cap * img * sizeof(float));
    b->cap_ids = calloc((size_t)cap * CT_CONTEXT_LENGTH, sizeof(int64_t));
    b->phrases = calloc((size_t)b->phrase_cap, sizeof *b->phrases);
    b->phrase_ids = calloc((size_t)b->phrase_cap * CT_CONTEXT_LENGTH, sizeof(int64_t));
    if (!b->ref_pixels || !b->tgt_pixels || !b->cap_ids || !b->phrases || !b->phrase_ids) {
        ct_batch_free(b);
        return ct_fail(CT_ERR_NOMEM, "batch: cannot allocate %d triplets", cap);
    }
    return CT_OK;
}

void ct_batch_free(ct_batch *b) {
    free(b->ref_pixels), free(b->tgt_pixels), free(b->cap_ids), free(b->phrases), free(b->phrase_ids);
    memset(b, 0, sizeof *b);
}

void ct_batch_clear(ct_batch *b) {
    b->n = 0;
    b->n_phrases = 0;
    b->unmatched = 0;
}

ct_status ct_batch_add_text(ct_batch *b, const ct_model *m, const char *caption, const char *const *phrases,
                            int n_phrases) {
    const int row = b->n;
    if (row >= b->cap) return ct_fail(CT_ERR_ARG, "batch: full (%d triplets)", b->cap);
    int64_t *ids = b->cap_ids + (size_t)row * CT_CONTEXT_LENGTH;
    ct_status s = ct_model_tokenize(m, caption, ids);
    if (s) return s;
    const int eot = ct_eot_index(ids, CT_CONTEXT_LENGTH);
    int32_t cap32[CT_CONTEXT_LENGTH];
    for (int t = 0; t < CT_CONTEXT_LENGTH; t++) cap32[t] = (int32_t)ids[t];
    if (n_phrases > m->opt.max_noun_phrases) n_phrases = m->opt.max_noun_phrases;
    for (int i = 0; i < n_phrases; i++) {
        int32_t *raw = NULL;
        int n = 0;
        if ((s = ct_tokenize_raw(m->tok, phrases[i], &raw, &n))) return s;
        const int core = n - 2; /* without <|startoftext|> and <|endoftext|> */
        const int start = core > 0 ? ct_cc_find_span(cap32, eot, raw + 1, core) : -1;
        if (start < 0 || b->n_phrases >= b->phrase_cap) {
            b->unmatched++;
            free(raw);
            continue;
        }
        ct_cc_phrase *ph = &b->phrases[b->n_phrases];
        ph->sample = row;
        ph->start = start;
        ph->end = start + core;
        ph->iso_len = core < CT_CONTEXT_LENGTH - 2 ? core : CT_CONTEXT_LENGTH - 2;
        int64_t *pid = b->phrase_ids + (size_t)b->n_phrases * CT_CONTEXT_LENGTH;
        memset(pid, 0, CT_CONTEXT_LENGTH * sizeof *pid);
        pid[0] = raw[0];
        for (int k = 0; k < ph->iso_len; k++) pid[1 + k] = raw[1 + k];
        pid[1 + ph->iso_len] = raw[n - 1];
        free(raw);
        b->n_phrases++;
    }
    return CT_OK;
}

int ct_batch_max_text(const ct_batch *b) {
    int T = 2;
    for (int i = 0; i < b->n; i++) {
        int len = ct_eot_index(b->cap_ids + (size_t)i * CT_CONTEXT_LENGTH, CT_CONTEXT_LENGTH) + 1;
        if (len > T) T = len;
    }
    return T;
}

/* ---- the step -------------------------------------------------------------------------- */

struct ct_train_step {
    ct_model *m;
    int micro, max_batch, phrase_cap; /* phrase_cap: isolated passes run this many at a time */
    bool cc, detach, clip_mode, qneg;
    ct_clip_vision_acts va_ref, va_tgt;
    ct_clip_text_acts ta_cap, ta_empty, ta_ph;
    ct_head_path q, n, t;  /* query, query negative, target */
    ct_fusion_acts fa_iso; /* isolated phrase passes (fusion only: their maps) */
    ct_head_scratch hs;    /* backward scratch of every path (rows: micro = phrase_cap) */
    float *mem;
    size_t bytes;
    /* whole-batch embeddings and their gradients [max_batch,P] */
    float *Q, *N, *Tg, *dQ, *dN, *dT;
    /* per micro-batch */
    float *empty_tx, *d_empty_tx, *d_empty; /* [micro,2,dt], [micro,2,dt], [2,dt]: start + end token */
    float *dv0_ref, *dv0_tgt, *dtx_cap;     /* image token grads, text grads */
    float *map_ctx, *dmap_ctx;              /* [micro,Nv,77] */
    float *v0_iso, *dv0_iso, *dtx_iso;      /* [phrase_cap,Nv,dv], [phrase_cap,77,dt] */
    float *map_iso, *dmap_iso;              /* [phrase_cap,Nv,77] */
    float *dv0_ref_cc;                      /* [micro,Nv,dv] image-token grads from the isolated passes */
    int *key_cap, *key_empty, *key_iso;
    ct_cc_phrase *ph_local;
    int64_t *ids_cap, *ids_ph; /* packed ids of the chunk's captions / phrases */
    double *loss_work;         /* scratch of both losses */
    int Tc, Ti;                /* their lengths in this chunk */
    int T_max;                 /* planned text length (captions and phrases) */
    bool recompute;            /* the towers recompute activations in backward */
    /* data-parallel (ctcir/dist.h): this rank's rows are [rank*n, (rank+1)*n) of the global
     * batch; the contrastive loss runs over the global embeddings, gathered from all ranks */
    int rank, ranks;
    float *Qg, *Ng, *Tgg, *dQg, *dNg, *dTg; /* [ranks*max_batch,P] when ranks > 1 */
    ct_dist_request *head_sum;              /* the head's gradient sum, started early */
};

static void plan_buffers(ct_train_step *st, ct_plan *plan) {
    const ct_model *m = st->m;
    const int mb = st->micro, pc = st->phrase_cap, Nv = m->Nv, T = st->T_max;
    const size_t P = (size_t)m->P, tok_v = (size_t)Nv * m->dv, tok_t = (size_t)T * m->dt, map = (size_t)Nv * T;
    ct_head_path *paths[3] = {&st->q, &st->n, &st->t};
    /* the query path sees captions, the other two the 2-token empty text; only the CC loss
     * needs attention maps (the query path's and the isolated passes'): without it every path
     * runs fused attention */
    for (int i = 0; i < 3; i++) ct_head_path_plan(paths[i], m, plan, mb, i == 0 ? T : 2, i == 0 && st->cc);
    if (st->cc) ct_fusion_acts_plan(&st->fa_iso, &m->fusion, plan, pc, Nv, T, true);
    /* one scratch serves the paths (mb rows) and the isolated passes (pc rows): pc == mb */
    ct_head_scratch_plan(&st->hs, m, plan, mb > pc ? mb : pc, T, st->cc);
    float **whole[6] = {&st->Q, &st->N, &st->Tg, &st->dQ, &st->dN, &st->dT};
    for (int i = 0; i < 6; i++) *whole[i] = ct_plan_take(plan, (size_t)st->max_batch * P);
    const size_t tok_e = (size_t)2 * m->dt;
    st->empty_tx = ct_plan_take(plan, mb * tok_e);
    st->d_empty_tx = ct_plan_take(plan, mb * tok_e);
    st->d_empty = ct_plan_take(plan, tok_e);
    st->dv0_ref = ct_plan_take(plan, mb * tok_v);
    st->dv0_tgt = ct_plan_take(plan, mb * tok_v);
    st->dtx_cap = ct_plan_take(plan, mb * tok_t);
    if (st->cc) {
        st->map_ctx = ct_plan_take(plan, mb * map);
        st->dmap_ctx = ct_plan_take(plan, mb * map);
        st->v0_iso = ct_plan_take(plan, pc * tok_v);
        st->dv0_iso = ct_plan_take(plan, pc * tok_v);
        st->dtx_iso = ct_plan_take(plan, pc * tok_t);
        st->map_iso = ct_plan_take(plan, pc * map);
        st->dmap_iso = ct_plan_take(plan, pc * map);
        st->dv0_ref_cc = ct_plan_take(plan, mb * tok_v);
    }
}

ct_status ct_recompute_parse(const char *s, const char *where, ct_recompute *out) {
    static const char *names[] = {"auto", "on", "off"};
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (ct_recompute)i;
            return CT_OK;
        }
    return ct_fail(CT_ERR_ARG, "%s: recompute '%s' (expected auto, on or off)", where, s ? s : "");
}

const char *ct_recompute_name(ct_recompute r) {
    return r == CT_RECOMPUTE_ON ? "on" : r == CT_RECOMPUTE_OFF ? "off" : "auto";
}

bool ct_mem_available(size_t *avail, size_t *total) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return false;
    char line[256];
    unsigned long long kb;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            *avail = (size_t)kb * 1024, found |= 1;
        else if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
            *total = (size_t)kb * 1024, found |= 2;
    }
    fclose(f);
    return found == 3;
}

/* The towers' training activations as ct_train_step_new plans them. */
static size_t tower_bytes(const ct_train_step *st, bool recompute) {
    const ct_clip *c = &st->m->clip;
    ct_clip_acts_opts o = {recompute};
    size_t b = 2 * ct_clip_vision_acts_bytes(c, st->micro, true, &o);
    b += ct_clip_text_acts_bytes(c, st->micro, true, st->T_max, &o) + ct_clip_text_acts_bytes(c, 1, true, 2, &o);
    if (st->cc) b += ct_clip_text_acts_bytes(c, st->phrase_cap, !st->detach, st->T_max, &o);
    return b;
}

static bool choose_recompute(const ct_train_step *st, ct_recompute rc) {
    if (rc != CT_RECOMPUTE_AUTO) return rc == CT_RECOMPUTE_ON;
    size_t avail = 0, total = 0;
    if (!ct_mem_available(&avail, &total)) {
        ct_log(CT_LOG_INFO, "train: /proc/meminfo unreadable; activations kept (recompute off)\n");
        return false;
    }
    size_t need = tower_bytes(st, false), headroom = total / 10 > ((size_t)1 << 30) ? total / 10 : (size_t)1 << 30;
    size_t later = st->m->params.total * 3 * sizeof(float); /* gradients and moments, maybe not resident yet */
    size_t room = avail > headroom + later ? avail - headroom - later : 0;
    bool on = need > room;
    ct_log(on ? CT_LOG_INFO : CT_LOG_DEBUG,
           "train: tower activations %.1f MB without recomputation (%.1f MB with), %.1f MB of room "
           "(MemAvailable %.1f MB less %.1f MB headroom and %.1f MB of gradients and moments): recompute %s\n",
           need / 1e6, tower_bytes(st, true) / 1e6, room / 1e6, avail / 1e6, headroom / 1e6, later / 1e6,
           on ? "on" : "off");
    return on;
}

ct_status ct_train_step_new(ct_train_step **out, ct_model *m, int micro_batch, int max_batch, int max_text) {
    return ct_train_step_new_opts(out, m, micro_batch, max_batch, max_text, CT_RECOMPUTE_AUTO);
}

bool ct_train_step_recomputes(const ct_train_step *st) { return st->recompute; }

ct_status ct_train_step_new_opts(ct_train_step **out, ct_model *m, int micro_batch, int max_batch, int max_text,
                                 ct_recompute rc) {
    *out = NULL;
    if (micro_batch < 1 || max_batch < 1)
        return ct_fail(CT_ERR_ARG, "train: batch %d, micro-batch %d", max_batch, micro_batch);
    if (micro_batch > max_batch) micro_batch = max_batch;
    ct_train_step *st = calloc(1, sizeof *st);
    if (!st) return ct_fail(CT_ERR_NOMEM, "train: out of memory");
    st->m = m;
    st->micro = micro_batch;
    st->max_batch = max_batch;
    st->cc = m->opt.lambda_cc != 0.0 && m->opt.max_noun_phrases > 0;
    st->detach = m->opt.cc_detach_isolated;
    st->clip_mode = m->opt.target_mode == CT_TARGET_CLIP;
    st->qneg = m->opt.query_negatives != CT_QNEG_NONE;
    st->phrase_cap = micro_batch; /* isolated passes go in groups of the micro-batch size */
    st->T_max = max_text < 2 ? 2 : max_text > m->T ? m->T : max_text;
    st->recompute = choose_recompute(st, rc);
    ct_clip_acts_opts ao = {st->recompute};
    ct_status s;
    if ((s = ct_clip_vision_acts_new_opts(&st->va_ref, &m->clip, micro_batch, true, &ao))) goto fail;
    if ((s = ct_clip_vision_acts_new_opts(&st->va_tgt, &m->clip, micro_batch, true, &ao))) goto fail;
    if ((s = ct_clip_text_acts_new_opts(&st->ta_cap, &m->clip, micro_batch, true, st->T_max, &ao))) goto fail;
    if ((s = ct_clip_text_acts_new_opts(&st->ta_empty, &m->clip, 1, true, 2, &ao))) goto fail;
    if (st->cc && (s = ct_clip_text_acts_new_opts(&st->ta_ph, &m->clip, st->phrase_cap, !st->detach, st->T_max, &ao)))
        goto fail;
    ct_head_path *paths[3] = {&st->q, &st->n, &st->t};
    for (int i = 0; i < 3; i++)
        if ((s = ct_head_path_new(paths[i], m))) goto fail;
    if ((s = ct_fusion_acts_new(&st->fa_iso, &m->fusion))) goto fail;
    ct_plan plan = {0};
    plan_buffers(st, &plan);
    st->bytes = plan.used * sizeof(float);
    if (!ct_plan_alloc(&plan)) {
        s = ct_fail(CT_ERR_NOMEM, "train: cannot allocate %.1f MB of activations", st->bytes / 1e6);
        goto fail;
    }
    st->mem = plan.base;
    plan_buffers(st, &plan);
    st->bytes += st->va_ref.bytes + st->va_tgt.bytes + st->ta_cap.bytes + st->ta_empty.bytes + st->ta_ph.bytes;
    st->key_cap = calloc((size_t)micro_batch, sizeof(int));
    st->key_empty = calloc((size_t)micro_batch, sizeof(int));
    st->key_iso = calloc((size_t)st->phrase_cap, sizeof(int));
    st->ph_local = calloc((size_t)st->phrase_cap, sizeof *st->ph_local);
    st->ids_cap = calloc((size_t)micro_batch * CT_CONTEXT_LENGTH, sizeof(int64_t));
    st->ids_ph = calloc((size_t)st->phrase_cap * CT_CONTEXT_LENGTH, sizeof(int64_t));
    st->rank = ct_dist_rank(), st->ranks = ct_dist_size();
    if (st->ranks > 1) {
        const size_t g = (size_t)st->ranks * max_batch * m->P;
        float **bufs[6] = {&st->Qg, &st->Ng, &st->Tgg, &st->dQg, &st->dNg, &st->dTg};
        for (int i = 0; i < 6; i++)
            if (!(*bufs[i] = malloc(g * sizeof(float)))) {
                s = ct_fail(CT_ERR_NOMEM, "train: out of memory");
                goto fail;
            }
    }
    size_t work = ct_contrastive_work_size(max_batch * st->ranks, m->P), cc_work = 4 * (size_t)m->Nv;
    st->loss_work = malloc((work > cc_work ? work : cc_work) * sizeof(double));
    if (!st->key_cap || !st->key_empty || !st->key_iso || !st->ph_local || !st->ids_cap || !st->ids_ph ||
        !st->loss_work) {
        s = ct_fail(CT_ERR_NOMEM, "train: out of memory");
        goto fail;
    }
    for (int b = 0; b < micro_batch; b++) st->key_empty[b] = 2;
    *out = st;
    return CT_OK;
fail:
    ct_train_step_free(st);
    return s;
}

void ct_train_step_free(ct_train_step *st) {
    if (!st) return;
    ct_clip_vision_acts_free(&st->va_ref);
    ct_clip_vision_acts_free(&st->va_tgt);
    ct_clip_text_acts_free(&st->ta_cap);
    ct_clip_text_acts_free(&st->ta_empty);
    ct_clip_text_acts_free(&st->ta_ph);
    ct_head_path_free(&st->q);
    ct_head_path_free(&st->n);
    ct_head_path_free(&st->t);
    ct_fusion_acts_free(&st->fa_iso);
    free(st->mem), free(st->key_cap), free(st->key_empty), free(st->key_iso), free(st->ph_local);
    free(st->ids_cap), free(st->ids_ph), free(st->loss_work);
    free(st->Qg), free(st->Ng), free(st->Tgg), free(st->dQg), free(st->dNg), free(st->dTg);
    ct_dist_wait(st->head_sum);
    free(st);
}

size_t ct_train_step_bytes(const ct_train_step *st) { return st->bytes; }

/* Phrases of samples [c0, c0+n): a contiguous run since they are sorted by sample. */
static int chunk_phrases(const ct_batch *b, int c0, int n, int *first) {
    int i = 0;
    while (i < b->n_phrases && b->phrases[i].sample < c0) i++;
    *first = i;
    int k = i;
    while (k < b->n_phrases && b->phrases[k].sample < c0 + n) k++;
    return k - i;
}

/* Forward of one micro-batch; fills the embeddings of rows [c0, c0+n) of Q, N, Tg. */
static ct_status chunk_forward(ct_train_step *st, const ct_batch *b, int c0, int n) {
    const ct_model *m = st->m;
    const size_t img = (size_t)3 * m->S * m->S, P = (size_t)m->P;
    ct_status s;
    if ((s = ct_clip_vision_forward(&m->clip, &st->va_ref, b->ref_pixels + c0 * img, n))) return s;
    st->Tc = ct_pack_ids(st->ids_cap, st->key_cap, b->cap_ids + (size_t)c0 * CT_CONTEXT_LENGTH, n);
    if (st->Tc > st->T_max)
        return ct_fail(CT_ERR_ARG, "train: a caption of %d tokens; the step was planned for %d", st->Tc, st->T_max);
    if ((s = ct_clip_text_forward_len(&m->clip, &st->ta_cap, st->ids_cap, n, st->Tc))) return s;
    const float *q = ct_head_forward(m, &st->q, st->va_ref.last_hidden, st->ta_cap.last_hidden, st->key_cap, n, st->Tc);
    memcpy(st->Q + c0 * P, q, n * P * sizeof(float));
    if (st->qneg) {
        const float *qn = st->clip_mode
                              ? st->va_ref.embeds
                              : ct_head_forward(m, &st->n, st->va_ref.last_hidden, st->empty_tx, st->key_empty, n, 2);
        memcpy(st->N + c0 * P, qn, n * P * sizeof(float));
    }
    if ((s = ct_clip_vision_forward(&m->clip, &st->va_tgt, b->tgt_pixels + c0 * img, n))) return s;
    const float *t = st->clip_mode
                         ? st->va_tgt.embeds
                         : ct_head_forward(m, &st->t, st->va_tgt.last_hidden, st->empty_tx, st->key_empty, n, 2);
    memcpy(st->Tg + c0 * P, t, n * P * sizeof(float));
    return CT_OK;
}

/* The isolated passes of the chunk's phrases, phrase_cap at a time, and the CC loss with its
 * map gradients. Each phrase's loss depends only on its own two maps, so without stop-gradient
 * the isolated pass of a group is back-propagated right away (its activations are reused by
 * the next group): image-token grads collect in dv0_ref_cc. */
static ct_status chunk_cc(ct_train_step *st, const ct_batch *b, int c0, int n, int total_phrases, double *cc) {
    ct_model *m = st->m;
    int first, M = chunk_phrases(b, c0, n, &first);
    const int Nv = m->Nv, Tc = st->Tc;
    const size_t tok_v = (size_t)Nv * m->dv;
    ct_fusion_mean_map(st->map_ctx, &m->fusion, &st->q.fa, n, Nv, Tc);
    memset(st->dmap_ctx, 0, (size_t)n * Nv * Tc * sizeof(float));
    if (!st->detach) memset(st->dv0_ref_cc, 0, n * tok_v * sizeof(float));
    ct_status s = CT_OK;
    for (int k0 = 0; k0 < M && !s; k0 += st->phrase_cap) {
        const int mk = M - k0 < st->phrase_cap ? M - k0 : st->phrase_cap;
        const int Ti = ct_pack_ids(st->ids_ph, NULL, b->phrase_ids + (size_t)(first + k0) * CT_CONTEXT_LENGTH, mk);
        if ((s = ct_clip_text_forward_len(&m->clip, &st->ta_ph, st->ids_ph, mk, Ti))) break;
        for (int k = 0; k < mk; k++) {
            st->ph_local[k] = b->phrases[first + k0 + k];
            st->ph_local[k].sample -= c0;
            st->key_iso[k] = st->ph_local[k].iso_len + 2;
            memcpy(st->v0_iso + k * tok_v, st->va_ref.last_hidden + (size_t)st->ph_local[k].sample * tok_v,
                   tok_v * sizeof(float));
        }
        ct_fusion_forward(&m->fusion, &m->params, &st->fa_iso, st->v0_iso, st->ta_ph.last_hidden, st->key_iso, mk, Nv,
                          Ti);
        ct_fusion_mean_map(st->map_iso, &m->fusion, &st->fa_iso, mk, Nv, Ti);
        if (!st->detach) memset(st->dmap_iso, 0, (size_t)mk * Nv * Ti * sizeof(float));
        *cc += ct_cc_loss_ws(st->dmap_ctx, st->detach ? NULL : st->dmap_iso, st->map_ctx, st->map_iso, st->ph_local, mk,
                             n, Nv, Tc, Ti, total_phrases, &m->opt, m->opt.lambda_cc, st->loss_work);
        if (st->detach) continue;
        memset(st->dv0_iso, 0, mk * tok_v * sizeof(float));
        memset(st->dtx_iso, 0, (size_t)mk * Ti * m->dt * sizeof(float));
        ct_fusion_backward(&m->fusion, &m->params, true, &st->fa_iso, &st->hs.fs, st->dv0_iso, st->dtx_iso, NULL,
                           st->dmap_iso, st->v0_iso, st->ta_ph.last_hidden, st->key_iso, mk, Nv, Ti);
        for (int k = 0; k < mk; k++) {
            float *dst = st->dv0_ref_cc + (size_t)st->ph_local[k].sample * tok_v;
            const float *src = st->dv0_iso + k * tok_v;
            for (size_t i = 0; i < tok_v; i++) dst[i] += src[i];
        }
        if (!m->clip.freeze_text) s = ct_clip_text_backward(&m->clip, &st->ta_ph, st->dtx_iso, NULL);
    }
    return s;
}

/* With several ranks the head's gradients are final once the last micro-batch's head backward
 * is done: their sum across ranks starts then and runs while the towers back-propagate. */
static ct_status start_head_sum(ct_train_step *st) {
    const ct_params *p = &st->m->params;
    const size_t off = p->entries[st->m->first_head_param].offset;
    return ct_dist_isum_f32(p->grad + off, p->total - off, &st->head_sum);
}

static ct_status chunk_backward(ct_train_step *st, int c0, int n, bool last) {
    ct_model *m = st->m;
    const size_t P = (size_t)m->P, tok_v = (size_t)m->Nv * m->dv, tok_t = (size_t)st->Tc * m->dt;
    const bool freeze_v = m->clip.freeze_vision, freeze_t = m->clip.freeze_text;
    memset(st->dv0_ref, 0, n * tok_v * sizeof(float));
    memset(st->dv0_tgt, 0, n * tok_v * sizeof(float));
    memset(st->dtx_cap, 0, n * tok_t * sizeof(float));
    ct_head_backward(m, &st->q, &st->hs, st->dQ + c0 * P, st->cc ? st->dmap_ctx : NULL, st->dv0_ref, st->dtx_cap,
                     st->va_ref.last_hidden, st->ta_cap.last_hidden, st->key_cap, n, st->Tc);
    if (st->qneg && !st->clip_mode)
        ct_head_backward(m, &st->n, &st->hs, st->dN + c0 * P, NULL, st->dv0_ref, st->d_empty_tx, st->va_ref.last_hidden,
                         st->empty_tx, st->key_empty, n, 2);
    if (!st->clip_mode)
        ct_head_backward(m, &st->t, &st->hs, st->dT + c0 * P, NULL, st->dv0_tgt, st->d_empty_tx, st->va_tgt.last_hidden,
                         st->empty_tx, st->key_empty, n, 2);
    ct_status s;
    if (last && st->ranks > 1 && (s = start_head_sum(st))) return s;
    if (st->cc && !st->detach) /* the isolated passes' share, from chunk_cc */
        for (size_t i = 0; i < n * tok_v; i++) st->dv0_ref[i] += st->dv0_ref_cc[i];
    if (!freeze_t && (s = ct_clip_text_backward(&m->clip, &st->ta_cap, st->dtx_cap, NULL))) return s;
    if (!freeze_v) {
        const float *dn = st->clip_mode && st->qneg ? st->dN + c0 * P : NULL;
        if ((s = ct_clip_vision_backward(&m->clip, &st->va_ref, st->dv0_ref, dn, false))) return s;
        if ((s = ct_clip_vision_backward(&m->clip, &st->va_tgt, st->clip_mode ? NULL : st->dv0_tgt,
                                         st->clip_mode ? st->dT + c0 * P : NULL, false)))
            return s;
    }
    return CT_OK;
}

/* The contrastive loss and its embedding gradients [n,P] of this rank's rows. One rank: over
 * the local batch. Several: the embeddings of all ranks are gathered (rank order = global
 * batch order), every rank computes the same global loss, and keeps its rows' gradients. */
static ct_status global_contrastive(ct_train_step *st, int n, double *cont) {
    const ct_model *m = st->m;
    const size_t P = (size_t)m->P, np = (size_t)n * P;
    float *Q = st->Q, *Tg = st->Tg, *N = st->N, *dQ = st->dQ, *dT = st->dT, *dN = st->dN;
    int rows = n;
    ct_status s;
    if (st->ranks > 1) {
        if ((s = ct_dist_allgather_f32(st->Q, np, st->Qg)) || (s = ct_dist_allgather_f32(st->Tg, np, st->Tgg)))
            return s;
        if (st->qneg && (s = ct_dist_allgather_f32(st->N, np, st->Ng))) return s;
        Q = st->Qg, Tg = st->Tgg, N = st->Ng, dQ = st->dQg, dT = st->dTg, dN = st->dNg;
        rows = n * st->ranks;
    }
    memset(dQ, 0, rows * P * sizeof(float));
    memset(dT, 0, rows * P * sizeof(float));
    memset(dN, 0, rows * P * sizeof(float));
    *cont = ct_contrastive_loss_ws(dQ, dT, dN, Q, Tg, st->qneg ? N : NULL, rows, (int)P, m->opt.tau,
                                   m->opt.query_negatives, m->opt.symmetric, st->loss_work);
    if (st->ranks > 1) {
        const size_t own = (size_t)st->rank * np;
        memcpy(st->dQ, dQ + own, np * sizeof(float));
        memcpy(st->dT, dT + own, np * sizeof(float));
        memcpy(st->dN, dN + own, np * sizeof(float));
    }
    return CT_OK;
}

/* Every rank holds the gradients of its rows; the step's gradient is their sum (the head's
 * part was started in chunk_backward), and the CC loss is the sum of the ranks' shares. */
static ct_status sum_gradients(ct_train_step *st, double *cc) {
    const ct_params *p = &st->m->params;
    const size_t head = p->entries[st->m->first_head_param].offset;
    ct_status s = ct_dist_sum_f32(p->grad, head);
    ct_status w = ct_dist_wait(st->head_sum);
    st->head_sum = NULL;
    if (s || w) return s ? s : w;
    return ct_dist_sum_f64(cc, 1);
}

ct_status ct_train_step_run(ct_train_step *st, const ct_batch *b, ct_step_losses *out) {
    ct_model *m = st->m;
    const int n = b->n, mb = st->micro;
    const size_t tok_t = (size_t)2 * m->dt; /* the empty text: start and end token */
    if (n < 1 || n > st->max_batch) return ct_fail(CT_ERR_ARG, "train: batch of %d (capacity %d)", n, st->max_batch);
    ct_params_zero_grad(&m->params);
    ct_status s;
    /* the empty text, once per step (its tower pass is shared by every target and negative) */
    if ((s = ct_head_empty_text(m, &st->ta_empty, st->empty_tx, NULL, mb))) return s;
    memset(st->d_empty_tx, 0, mb * tok_t * sizeof(float));
    const bool one_pass = n <= mb;
    /* 1. embeddings of the whole batch */
    if (one_pass) {
        if ((s = chunk_forward(st, b, 0, n))) return s;
    } else {
        for (int c0 = 0; c0 < n; c0 += mb)
            if ((s = chunk_forward(st, b, c0, n - c0 < mb ? n - c0 : mb))) return s;
    }
    /* 2. contrastive loss over the whole batch */
    double cont;
    if ((s = global_contrastive(st, n, &cont))) return s;
    int64_t phrases[3] = {b->n_phrases, b->n_phrases, b->unmatched}; /* CC normaliser: the global count */
    if (st->ranks > 1 && (s = ct_dist_sum_i64(phrases, 3))) return s;
    double cc = 0;
    /* 3. per micro-batch: (re)compute, CC loss, backward */
    for (int c0 = 0; c0 < n; c0 += mb) {
        int cn = n - c0 < mb ? n - c0 : mb;
        if (!one_pass && (s = chunk_forward(st, b, c0, cn))) return s;
        if (st->cc && (s = chunk_cc(st, b, c0, cn, (int)phrases[0], &cc))) return s;
        if ((s = chunk_backward(st, c0, cn, c0 + cn >= n))) return s;
    }
    /* 4. the empty text's tower: gradients of all its copies, summed */
    if (!st->clip_mode && !m->clip.freeze_text) {
        memset(st->d_empty, 0, tok_t * sizeof(float));
        for (int i = 0; i < mb; i++)
            for (size_t k = 0; k < tok_t; k++) st->d_empty[k] += st->d_empty_tx[i * tok_t + k];
        if ((s = ct_clip_text_backward(&m->clip, &st->ta_empty, st->d_empty, NULL))) return s;
    }
    if (st->ranks > 1 && (s = sum_gradients(st, &cc))) return s;
    out->cont = cont;
    out->cc = cc;
    out->total = cont + m->opt.lambda_cc * cc;
    out->matched = st->cc ? (int)phrases[1] : 0;
    out->unmatched = (int)phrases[2];
    if (!isfinite(out->total))
        return ct_fail(CT_ERR_NONFINITE, "loss is %g (contrastive %g, cc %g)", out->total, cont, cc);
    return CT_OK;
}
