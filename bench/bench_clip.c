/* CLIP ViT-B/32 towers at real shapes with random weights: forward images/s and texts/s at
 * batch 32, forward+backward throughput, peak RSS. Also times the batched attention kernel
 * against its plain reference. Usage: bench_clip [threads=2] [batch=32] [iters=2] [parts=all]
 * parts: all, or a comma list of vf (vision forward), tf (text forward), vt (vision fwd+bwd),
 * tt (text fwd+bwd), att (attention kernel). Times are the mean over iters and, in brackets,
 * the best single iteration (the better estimate when other processes share the cores). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "clip/clip.h"
#include "core/blas.h"
#include "nn/nn.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static unsigned long long s = 88172645463325252ULL;
static float frand(void) { /* xorshift, uniform in [-1,1) */
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (float)((s >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

static const char *parts = "all";

static bool want(const char *part) {
    if (!strcmp(parts, "all")) return true;
    size_t n = strlen(part);
    for (const char *p = parts; (p = strstr(p, part)); p += n)
        if ((p == parts || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return true;
    return false;
}

/* Runs fn iters times (after one warm-up); returns the mean, *best the fastest iteration. */
typedef void (*step_fn)(void *ctx);
static double timed(step_fn fn, void *ctx, int iters, double *best) {
    fn(ctx);
    double total = 0.0;
    *best = INFINITY;
    for (int i = 0; i < iters; i++) {
        double t0 = now();
        fn(ctx);
        double t = now() - t0;
        total += t;
        if (t < *best) *best = t;
    }
    return total / iters;
}

typedef struct {
    ct_clip *m;
    ct_clip_vision_acts *va;
    ct_clip_text_acts *ta;
    const float *pix, *d_img, *d_txt;
    const int64_t *ids;
    int B;
} bench_ctx;

static void vision_fwd(void *p) {
    bench_ctx *c = p;
    ct_clip_vision_forward(c->m, c->va, c->pix, c->B);
}
static void text_fwd(void *p) {
    bench_ctx *c = p;
    ct_clip_text_forward(c->m, c->ta, c->ids, c->B);
}
static void vision_step(void *p) {
    bench_ctx *c = p;
    ct_clip_vision_forward(c->m, c->va, c->pix, c->B);
    ct_clip_vision_backward(c->m, c->va, NULL, c->d_img, false);
}
static void text_step(void *p) {
    bench_ctx *c = p;
    ct_clip_text_forward(c->m, c->ta, c->ids, c->B);
    ct_clip_text_backward(c->m, c->ta, NULL, c->d_txt);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, B = argc > 2 ? atoi(argv[2]) : 32, iters = argc > 3 ? atoi(argv[3]) : 2;
    if (argc > 4) parts = argv[4];
    if (threads < 1 || B < 1 || iters < 1) {
        fprintf(stderr, "usage: bench_clip [threads=2] [batch=32] [iters=2] [parts=all|vf,tf,vt,tt,att]\n");
        return 2;
    }
    ct_set_threads(threads);
    ct_clip_config cfg;
    ct_clip_config_defaults(&cfg); /* transformers' defaults are exactly ViT-B/32 */
    ct_params p;
    ct_params_init(&p);
    ct_clip m;
    if (ct_clip_register(&m, &cfg, &p) != CT_OK || ct_params_alloc(&p) != CT_OK) {
        fprintf(stderr, "%s\n", ct_error());
        return 1;
    }
    for (int i = 0; i < p.count; i++) {
        float *w = ct_param(&p, i);
        bool ln = strstr(p.entries[i].name, "norm") || strstr(p.entries[i].name, "layrnorm");
        for (size_t k = 0; k < p.entries[i].numel; k++)
            w[k] = ln && strstr(p.entries[i].name, "weight") ? 1.0f : 0.02f * frand();
    }
    printf("CLIP ViT-B/32 (%.1fM parameters), batch %d, %d thread(s), %d timed iteration(s)\n", p.total / 1e6, B,
           threads, iters);
    int S = cfg.vision.image_size, T = cfg.text.max_positions;
    float *pix = malloc((size_t)B * 3 * S * S * sizeof *pix);
    for (size_t i = 0; i < (size_t)B * 3 * S * S; i++) pix[i] = frand();
    int64_t *ids = malloc((size_t)B * T * sizeof *ids);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int len = 8 + b % 20;
            ids[b * T + t] = t == 0 ? 49406 : t < len ? 1000 + (b * 31 + t * 7) % 40000 : t == len ? 49407 : 0;
        }
    float *d_img = malloc((size_t)B * cfg.projection_dim * sizeof(float)),
          *d_txt = malloc((size_t)B * cfg.projection_dim * sizeof(float));
    for (int i = 0; i < B * cfg.projection_dim; i++) d_img[i] = frand(), d_txt[i] = frand();

    /* inference */
    ct_clip_vision_acts vi;
    ct_clip_text_acts ti;
    bench_ctx c = {&m, &vi, &ti, pix, d_img, d_txt, ids, B};
    double best;
    if (want("vf")) {
        ct_clip_vision_acts_new(&vi, &m, B, false);
        double t = timed(vision_fwd, &c, iters, &best);
        printf("forward   image tower: %7.2f images/s (%.3f s per batch) [best %.2f]   [PyTorch 1.13 here: 14.2]\n",
               B / t, t, B / best);
        ct_clip_vision_acts_free(&vi);
    }
    if (want("tf")) {
        ct_clip_text_acts_new(&ti, &m, B, false);
        double t = timed(text_fwd, &c, iters, &best);
        printf("forward   text tower:  %7.2f texts/s  (%.3f s per batch) [best %.2f]   [PyTorch 1.13 here: 17.1]\n",
               B / t, t, B / best);
        ct_clip_text_acts_free(&ti);
    }
    printf("peak RSS after inference: %.0f MB\n", peak_rss_mb());

    /* training step: forward + backward of both towers, all weight gradients */
    ct_clip_vision_acts va;
    ct_clip_text_acts ta;
    ct_clip_vision_acts_new(&va, &m, B, true);
    c.va = &va;
    c.ta = &ta;
    if (want("vt")) {
        double t = timed(vision_step, &c, iters, &best);
        printf("fwd+bwd   image tower: %7.2f images/s (%.3f s per batch) [best %.2f]\n", B / t, t, B / best);
    } else {
        ct_clip_vision_forward(&m, &va, pix, B); /* the attention benchmark reads q, k, v */
    }
    if (want("tt")) {
        ct_clip_text_acts_new(&ta, &m, B, true);
        double t = timed(text_step, &c, iters, &best);
        printf("fwd+bwd   text tower:  %7.2f texts/s  (%.3f s per batch) [best %.2f]\n", B / t, t, B / best);
        printf("activations: vision %.0f MB, text %.0f MB (training plans); parameters+grads %.0f MB\n", va.bytes / 1e6,
               ta.bytes / 1e6, 2 * p.total * 4 / 1e6);
        ct_clip_text_acts_free(&ta);
    }
    printf("peak RSS: %.0f MB\n", peak_rss_mb());

    /* attention kernel at the vision tower's shape: batched vs plain reference */
    if (want("att")) {
        int Tv = va.T, D = cfg.vision.hidden_size, NH = cfg.vision.num_heads;
        float *out = malloc((size_t)B * Tv * D * sizeof(float)),
              *att = malloc((size_t)B * NH * Tv * Tv * sizeof(float));
        float *q = va.layers[0].q, *k = va.layers[0].k, *v = va.layers[0].v;
        float sc = 1.0f / sqrtf((float)(D / NH));
        double t0 = now();
        for (int i = 0; i < 5; i++) attention_forward(out, att, q, k, v, NULL, false, sc, B, Tv, Tv, D, NH);
        double ta1 = (now() - t0) / 5;
        t0 = now();
        attention_forward_ref(out, att, q, k, v, NULL, false, sc, B, Tv, Tv, D, NH);
        double ta2 = now() - t0;
        printf("attention_forward [B=%d,NH=%d,T=%d,HS=%d]: batched %.2f ms, plain reference %.2f ms\n", B, NH, Tv,
               D / NH, ta1 * 1e3, ta2 * 1e3);
        free(out);
        free(att);
    }
    free(pix);
    free(ids);
    free(d_img);
    free(d_txt);
    ct_clip_vision_acts_free(&va);
    ct_clip_free(&m);
    ct_params_free(&p);
    return 0;
}
