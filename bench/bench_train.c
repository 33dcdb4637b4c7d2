/* Benchmark (not a test): full ConText-CIR training steps at real CLIP shapes with random
 * weights: both towers, 4 fusion blocks, PMA, contrastive + concept-consistency loss, AdamW.
 *
 *   bench_train [CONFIG.json] [BATCH] [PHRASES] [STEPS] [THREADS] [MICRO]
 *   defaults:    configs/clip/clip-vit-base-patch32.json 16 3 3 2 = batch
 *
 * Prints triplets/s (after one warm-up step) and the peak resident set. The vocabulary comes
 * from ../shared/parity/tokenizer (the real CLIP one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "train/optim.h"
#include "ctcir/dist.h"
#include "train/train_step.h"
#include "core/blas.h"
#include "core/dirio.h"
#include "core/fileio.h"
#include "core/rng.h"
#include "ctcir/safetensors.h"
#include "core/timer.h"

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

static int copy(const char *from, const char *to) {
    char *d;
    size_t n;
    if (ct_read_file(from, &d, &n, 1u << 30)) return 1;
    int r = ct_write_file_atomic(to, d, n) != CT_OK;
    free(d);
    return r;
}

/* A CLIP folder with random weights (std 0.02, LayerNorm weights 1) for the config. */
static int make_folder(const char *dir, const char *config) {
    char path[4200];
    const char *shared = getenv("CTCIR_SHARED") ? getenv("CTCIR_SHARED") : "../shared";
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (copy(config, path)) return 1;
    char from[4200];
    snprintf(from, sizeof from, "%s/parity/tokenizer/vocab.json", shared);
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    if (copy(from, path)) return 1;
    snprintf(from, sizeof from, "%s/parity/tokenizer/merges.txt", shared);
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    if (copy(from, path)) return 1;
    ct_clip_config cfg;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (ct_clip_config_load(&cfg, path)) return 1;
    ct_params p;
    ct_params_init(&p);
    ct_clip clip;
    if (ct_clip_register(&clip, &cfg, &p) || ct_params_alloc(&p)) return 1;
    ct_rng r;
    ct_rng_seed(&r, 1);
    for (int i = 0; i < p.count; i++) {
        float *w = ct_param(&p, i);
        int ln = strstr(p.entries[i].name, "norm") && strstr(p.entries[i].name, "weight");
        for (size_t k = 0; k < p.entries[i].numel; k++) w[k] = ln ? 1.0f : (float)(ct_rng_normal(&r) * 0.02);
    }
    ct_st_writer *wr;
    ct_st_writer_new(&wr);
    for (int i = 0; i < p.count; i++)
        ct_st_writer_add(wr, p.entries[i].name, CT_DT_F32, p.entries[i].ndim, p.entries[i].shape, ct_param(&p, i));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = ct_st_writer_save(wr, path) != CT_OK;
    ct_st_writer_free(wr);
    ct_clip_free(&clip);
    ct_params_free(&p);
    return rc;
}

int main(int argc, char **argv) {
    const char *config = argc > 1 ? argv[1] : "configs/clip/clip-vit-base-patch32.json";
    int B = argc > 2 ? atoi(argv[2]) : 16, nph = argc > 3 ? atoi(argv[3]) : 3, steps = argc > 4 ? atoi(argv[4]) : 3;
    int threads = argc > 5 ? atoi(argv[5]) : 2, micro = argc > 6 ? atoi(argv[6]) : B;
    /* under mpirun -np N: B is the global batch, each rank builds and runs its B/N rows */
    if (ct_dist_init(&argc, &argv)) return 1;
    const int ranks = ct_dist_size(), rank = ct_dist_rank(), B_global = B;
    if (B % ranks) {
        fprintf(stderr, "bench_train: batch %d is not divisible by %d ranks\n", B, ranks);
        return 1;
    }
    B /= ranks;
    if (micro > B) micro = B;
    char dir[] = "/tmp/ctcir_bench_train_XXXXXX";
    if (!mkdtemp(dir) || make_folder(dir, config)) {
        fprintf(stderr, "bench_train: cannot make the model folder: %s\n", ct_error());
        return 1;
    }
    ct_set_threads(threads);
    ct_model *m = NULL;
    if (ct_model_load(&m, dir, NULL, NULL, 0)) {
        fprintf(stderr, "bench_train: %s\n", ct_error());
        return 1;
    }
    ct_params_alloc_moments(&m->params);
    ct_batch b;
    ct_batch_new(&b, m, B);
    ct_rng r;
    ct_rng_seed(&r, 2);
    const size_t img = (size_t)3 * m->S * m->S;
    static const char *words[] = {"red", "blue", "small", "wooden", "green", "large", "striped", "shiny"};
    static const char *nouns[] = {"lamp", "table", "dog", "pillow", "chair", "cat", "window", "bottle"};
    for (int row = 0; row < B; row++) {
        const int i = rank * B + row; /* the global row: same data whatever the rank count */
        char caption[512], ph[3][64];
        const char *phs[3];
        int n = nph > 3 ? 3 : nph;
        for (int k = 0; k < 3; k++) {
            snprintf(ph[k], sizeof ph[k], "the %s %s", words[(i + k) % 8], nouns[(i * 3 + k) % 8]);
            phs[k] = ph[k];
        }
        snprintf(caption, sizeof caption, "replace %s with %s and add %s near the window", ph[0], ph[1], ph[2]);
        ct_rng_seed(&r, 2 + (uint64_t)i);
        for (size_t k = 0; k < img; k++) {
            b.ref_pixels[row * img + k] = (float)ct_rng_normal(&r);
            b.tgt_pixels[row * img + k] = (float)ct_rng_normal(&r);
        }
        ct_batch_add_text(&b, m, caption, phs, n);
        b.n++;
    }
    ct_train_step *st;
    if (ct_train_step_new(&st, m, micro, B, ct_batch_max_text(&b))) {
        fprintf(stderr, "bench_train: %s\n", ct_error());
        return 1;
    }
    ct_adamw opt = {0.9, 0.98, 1e-8, 0.01, 1.0};
    ct_step_losses L;
    double t_first = 0, t_rest = 0;
    uint64_t sent0 = 0;
    for (int s = 0; s <= steps; s++) {
        if (s == 1) sent0 = ct_dist_bytes_sent();
        double t0 = ct_now_s();
        if (ct_train_step_run(st, &b, &L)) {
            fprintf(stderr, "bench_train: %s\n", ct_error());
            return 1;
        }
        ct_adamw_step(&opt, &m->params, 1e-5, s + 1, ct_grad_norm(&m->params));
        double dt = ct_now_s() - t0;
        if (s == 0) t_first = dt;
        else t_rest += dt;
    }
    const double sent_mb = (ct_dist_bytes_sent() - sent0) / 1e6 / steps;
    if (rank == 0)
        printf("{\"config\": \"%s\", \"batch\": %d, \"ranks\": %d, \"micro_batch\": %d, \"phrases_per_caption\": %d, "
               "\"matched_phrases\": %d, \"threads\": %d, \"params_M\": %.2f, \"first_step_s\": %.3f, \"step_s\": %.3f, "
               "\"triplets_per_s\": %.3f, \"activations_MB\": %.1f, \"peak_rss_MB\": %.0f, \"collective_MB_per_step_per_rank\": %.1f, "
               "\"loss\": %.6f}\n",
               config, B_global, ranks, micro, nph, b.n_phrases, threads, m->params.total / 1e6, t_first, t_rest / steps,
               B_global * steps / t_rest, ct_train_step_bytes(st) / 1e6, peak_rss_mb(), sent_mb, L.total);
    ct_train_step_free(st);
    ct_batch_free(&b);
    ct_model_free(m);
    ct_remove_dir(dir);
    ct_dist_finalize();
    return 0;
}
