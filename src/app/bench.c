/* `ctcir bench` as a library call: see app/bench.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clip/clip.h"
#include "core/blas.h"
#include "core/rng.h"
#include "core/timer.h"
#include "ctcir/bench.h"
#include "ctcir/dist.h"
#include "ctcir/index.h"
#include "model/model.h"
#include "train/optim.h"
#include "train/train_step.h"

static const char *const what_names[] = {"image", "text", "step", "index", "topk"};

void ct_bench_opts_default(ct_bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->phrases = 3;
    o->steps = 3;
}

ct_status ct_bench_what_parse(const char *s, ct_bench_what *out) {
    for (int i = 0; i < 5; i++)
        if (s && !strcmp(s, what_names[i])) {
            *out = (ct_bench_what)i;
            return CT_OK;
        }
    return ct_fail(CT_ERR_ARG, "bench: --what must be image, text, step, index or topk, got '%s'", s ? s : "");
}

const char *ct_bench_what_name(ct_bench_what w) { return (unsigned)w < 5 ? what_names[w] : "?"; }

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Token ids of one random caption of `len` tokens (start and end included) into ids[77]. */
static void random_caption(int64_t *ids, const ct_model *m, int len, int vocab, ct_rng *r) {
    memset(ids, 0, CT_CONTEXT_LENGTH * sizeof *ids);
    ids[0] = m->empty_ids[0];
    for (int t = 1; t < len - 1; t++) ids[t] = (int64_t)(ct_rng_uniform(r) * (vocab - 2));
    ids[len - 1] = m->empty_ids[1];
}

/* B random triplets: N(0,1) pixels, 20-token captions, `nph` two-token phrases taken from
 * disjoint places of the caption (so they all match). */
static ct_status synthetic_batch(ct_batch *b, const ct_model *m, int B, int row0, int nph, ct_rng *r) {
    const size_t img = (size_t)3 * m->S * m->S;
    const int len = 20, vocab = m->clip.cfg.text.vocab_size;
    if (nph > (len - 2) / 2) nph = (len - 2) / 2;
    if (nph > m->opt.max_noun_phrases) nph = m->opt.max_noun_phrases;
    for (int i = 0; i < B; i++) {
        ct_rng_seed(r, 1000 + (uint64_t)(row0 + i)); /* row data follows the global row */
        for (size_t k = 0; k < img; k++) {
            b->ref_pixels[i * img + k] = (float)ct_rng_normal(r);
            b->tgt_pixels[i * img + k] = (float)ct_rng_normal(r);
        }
        int64_t *ids = b->cap_ids + (size_t)i * CT_CONTEXT_LENGTH;
        random_caption(ids, m, len, vocab, r);
        for (int k = 0; k < nph; k++) {
            if (b->n_phrases >= b->phrase_cap) return ct_fail(CT_ERR_ARG, "bench: more phrases than the batch holds");
            ct_cc_phrase *ph = &b->phrases[b->n_phrases];
            ph->sample = i, ph->start = 1 + 2 * k, ph->end = 3 + 2 * k, ph->iso_len = 2;
            int64_t *pid = b->phrase_ids + (size_t)b->n_phrases * CT_CONTEXT_LENGTH;
            memset(pid, 0, CT_CONTEXT_LENGTH * sizeof *pid);
            pid[0] = m->empty_ids[0], pid[1] = ids[ph->start], pid[2] = ids[ph->start + 1], pid[3] = m->empty_ids[1];
            b->n_phrases++;
        }
        b->n++;
    }
    return CT_OK;
}

typedef struct {
    ct_bench_what what;
    ct_model *m;
    int B;
    float *pixels, *out;
    int64_t *ids;
    ct_clip_vision_acts va;
    ct_clip_text_acts ta;
    ct_encoder *enc;
    ct_train_step *st;
    ct_batch batch;
    int64_t t;
    float *gallery;
    int *idx;
    int G, P;
    double loss;
} bench_state;

static ct_status run_once(bench_state *b) {
    switch (b->what) {
    case CT_BENCH_IMAGE: return ct_clip_vision_forward(&b->m->clip, &b->va, b->pixels, b->B);
    case CT_BENCH_TEXT: return ct_clip_text_forward(&b->m->clip, &b->ta, b->ids, b->B);
    case CT_BENCH_INDEX: return ct_encode_target(b->enc, b->pixels, b->B, b->out);
    case CT_BENCH_STEP: {
        ct_step_losses L;
        ct_status s = ct_train_step_run(b->st, &b->batch, &L);
        if (s) return s;
        b->loss = L.total;
        ct_adamw opt = {0.9, 0.98, 1e-8, 0.01, 1.0};
        ct_adamw_step(&opt, &b->m->params, 1e-5, ++b->t, ct_grad_norm(&b->m->params));
        ct_bf16_cache_refresh(); /* bf16: the packed weights follow the update */
        return CT_OK;
    }
    case CT_BENCH_TOPK: return ct_topk(b->idx, NULL, b->out, b->B, b->gallery, CT_DT_F32, b->G, b->P, 10);
    }
    return ct_fail(CT_ERR_ARG, "bench: unknown part");
}

ct_status ct_bench_run(const ct_bench_opts *o, ct_bench_result *r) {
    memset(r, 0, sizeof *r);
    bench_state b;
    memset(&b, 0, sizeof b);
    b.what = o->what;
    b.B = o->batch > 0 ? o->batch : o->what == CT_BENCH_STEP ? 16 : 32;
    const int steps = o->steps > 0 ? o->steps : 3;
    ct_status s;
    ct_set_threads(o->threads);
    if ((s = ct_set_matmul_precision(o->precision))) return s;
    if ((s = ct_model_synthetic(&b.m, o->config, NULL, 1))) return s;
    ct_rng rng;
    ct_rng_seed(&rng, 2);
    const int B = b.B, S = b.m->S, P = b.m->P;
    const size_t img = (size_t)3 * S * S;
    if (o->what == CT_BENCH_IMAGE || o->what == CT_BENCH_INDEX) {
        b.pixels = malloc((size_t)B * img * sizeof *b.pixels);
        b.out = malloc((size_t)B * P * sizeof *b.out);
        if (!b.pixels || !b.out) {
            s = ct_fail(CT_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        for (size_t i = 0; i < (size_t)B * img; i++) b.pixels[i] = (float)ct_rng_normal(&rng);
        if (o->what == CT_BENCH_IMAGE)
            s = ct_clip_vision_acts_new(&b.va, &b.m->clip, B, false);
        else
            s = ct_encoder_new(&b.enc, b.m, B);
    } else if (o->what == CT_BENCH_TEXT) {
        b.ids = malloc((size_t)B * CT_CONTEXT_LENGTH * sizeof *b.ids);
        if (!b.ids) {
            s = ct_fail(CT_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        for (int i = 0; i < B; i++) /* 8 to 27 tokens, as captions are */
            random_caption(b.ids + (size_t)i * CT_CONTEXT_LENGTH, b.m, 8 + i % 20, b.m->clip.cfg.text.vocab_size, &rng);
        s = ct_clip_text_acts_new(&b.ta, &b.m->clip, B, false);
    } else if (o->what == CT_BENCH_STEP) {
        /* data-parallel under mpirun: B is the global batch, this rank runs rows
         * [rank*B/N, (rank+1)*B/N) (ctcir/dist.h) */
        const int ranks = ct_dist_size(), Bl = B / ranks;
        if (B % ranks) {
            s = ct_fail(CT_ERR_ARG, "bench: batch %d is not divisible by %d ranks", B, ranks);
            goto done;
        }
        int micro = o->micro_batch > 0 && o->micro_batch < Bl ? o->micro_batch : Bl;
        if ((s = ct_params_alloc_moments(&b.m->params))) goto done;
        if ((s = ct_batch_new(&b.batch, b.m, Bl))) goto done;
        if ((s = synthetic_batch(&b.batch, b.m, Bl, ct_dist_rank() * Bl, o->phrases > 0 ? o->phrases : 3, &rng)))
            goto done;
        s = ct_train_step_new_opts(&b.st, b.m, micro, Bl, ct_batch_max_text(&b.batch), (ct_recompute)o->recompute);
    } else { /* top-k: P-dim queries against 100k rows */
        b.G = 100000, b.P = P;
        b.gallery = malloc((size_t)b.G * P * sizeof *b.gallery);
        b.out = malloc((size_t)B * P * sizeof *b.out);
        b.idx = malloc((size_t)B * 10 * sizeof *b.idx);
        if (!b.gallery || !b.out || !b.idx) {
            s = ct_fail(CT_ERR_NOMEM, "bench: out of memory");
            goto done;
        }
        for (size_t i = 0; i < (size_t)b.G * P; i++) b.gallery[i] = (float)ct_rng_uniform(&rng) - 0.5f;
        for (size_t i = 0; i < (size_t)B * P; i++) b.out[i] = (float)ct_rng_uniform(&rng) - 0.5f;
    }
    if (s) goto done;
    if ((s = run_once(&b))) goto done; /* warm-up: first-touch of activations, packing buffers */
    double f0 = ct_matmul_flops(), t0 = ct_now_s(), c0 = cpu_now();
    const uint64_t sent0 = ct_dist_bytes_sent();
    for (int i = 0; i < steps; i++)
        if ((s = run_once(&b))) goto done;
    r->seconds = ct_now_s() - t0;
    r->cpu_seconds = cpu_now() - c0;
    double flops = o->what == CT_BENCH_TOPK ? 2.0 * b.G * P * B * steps : ct_matmul_flops() - f0;
    r->items_per_s = (double)B * steps / r->seconds;
    r->gflops = flops / r->seconds * 1e-9;
    r->peak_rss_mb = peak_rss_mb();
    r->batch = B;
    r->ranks = ct_dist_size();
    r->collective_mb = (double)(ct_dist_bytes_sent() - sent0) / 1e6 / steps;
    r->loss = b.loss;
done:
    if (o->what == CT_BENCH_IMAGE) ct_clip_vision_acts_free(&b.va);
    if (o->what == CT_BENCH_TEXT) ct_clip_text_acts_free(&b.ta);
    if (o->what == CT_BENCH_STEP) {
        ct_train_step_free(b.st);
        ct_batch_free(&b.batch);
    }
    ct_encoder_free(b.enc);
    free(b.pixels), free(b.out), free(b.ids), free(b.gallery), free(b.idx);
    ct_model_free(b.m);
    ct_set_matmul_precision(CT_PRECISION_FP32);
    return s;
}
