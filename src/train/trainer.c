/* The training loop (see trainer.h). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/trainer.h"
#include "core/blas.h"
#include "core/dirio.h"
#include "ctcir/safetensors.h"
#include "core/timer.h"
#include "ctcir/log.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

void ct_train_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The training records of every source, ready for the loader. */
typedef struct {
    ct_dataset *ds[CT_MAX_DATASETS];
    ct_record *rec[CT_MAX_DATASETS];
    int64_t count[CT_MAX_DATASETS];
    double weight[CT_MAX_DATASETS];
    int n;
} sources;

static void sources_free(sources *s) {
    for (int i = 0; i < s->n; i++) {
        ct_dataset_free(s->ds[i]);
        free(s->rec[i]);
    }
}

static ct_status sources_load(sources *out, const ct_train_config *cfg) {
    memset(out, 0, sizeof *out);
    if (cfg->n_data == 0) return ct_fail(CT_ERR_ARG, "train: no training data (give --data MANIFEST --image-root DIR or \"data\" in the config)");
    for (int i = 0; i < cfg->n_data; i++) {
        const ct_data_source *d = &cfg->data[i];
        ct_dataset_kind kind;
        ct_status s = ct_dataset_kind_parse(d->kind, &kind);
        if (s) return s;
        ct_dataset_opts o = {0};
        o.split = d->split;
        o.strict = cfg->strict;
        o.check_images = true;
        if (kind == CT_DS_MANIFEST) {
            o.file = d->path;
            o.root = d->image_root ? d->image_root : ".";
        } else {
            o.root = d->path;
        }
        if ((s = ct_dataset_load(&out->ds[i], kind, &o))) return s;
        out->n = i + 1;
        const ct_dataset *ds = out->ds[i];
        out->rec[i] = calloc((size_t)(ds->n_queries ? ds->n_queries : 1), sizeof(ct_record));
        if (!out->rec[i]) return ct_fail(CT_ERR_NOMEM, "train: out of memory");
        int64_t n = 0;
        for (int q = 0; q < ds->n_queries; q++) {
            const ct_query *qu = &ds->queries[q];
            if (qu->n_targets < 1 || !qu->target_path || !qu->ref_path) continue;
            out->rec[i][n++] = (ct_record){qu->ref_path, qu->target_path, qu->caption,
                                           qu->n_nps >= 0 ? (const char *const *)qu->nps : NULL,
                                           qu->n_nps >= 0 ? qu->n_nps : 0, ds->name, q};
        }
        if (n == 0) return ct_fail(CT_ERR_FORMAT, "train: %s has no usable training triplets", ds->name);
        out->count[i] = n;
        out->weight[i] = d->weight;
        ct_log(CT_LOG_INFO, "data: %s: %lld triplets (weight %g)\n", ds->name, (long long)n, d->weight);
    }
    return CT_OK;
}

static int first_nonfinite_param(const ct_params *p) {
    for (int i = 0; i < p->count; i++)
        for (size_t k = 0; k < p->entries[i].numel; k++)
            if (!isfinite(ct_param(p, i)[k])) return i;
    return -1;
}

/* The longest training caption in tokens (start and end included): text activations are
 * planned for it instead of 77 positions. Captions that do not tokenize count as 77. */
static int longest_caption(const ct_model *m, const sources *src) {
    int best = 2;
    for (int d = 0; d < src->n; d++) {
        const ct_record *rec = src->rec[d];
        const int64_t n = src->count[d];
#pragma omp parallel for reduction(max : best) schedule(dynamic, 256)
        for (int64_t i = 0; i < n; i++) {
            int64_t ids[CT_CONTEXT_LENGTH];
            int len = ct_model_tokenize(m, rec[i].caption, ids) == CT_OK ? ct_eot_index(ids, CT_CONTEXT_LENGTH) + 1
                                                                         : CT_CONTEXT_LENGTH;
            if (len > best) best = len;
        }
    }
    return best;
}

static ct_status dump_grads(const ct_model *m, const ct_step_losses *l, const char *path) {
    ct_st_writer *w = NULL;
    ct_status s = ct_st_writer_new(&w);
    if (s) return s;
    float vals[3] = {(float)l->total, (float)l->cont, (float)l->cc};
    const char *names[3] = {"loss.total", "loss.cont", "loss.cc"};
    for (int i = 0; i < 3 && !s; i++) s = ct_st_writer_add_copy(w, names[i], CT_DT_F32, 0, NULL, &vals[i]);
    if (!s) s = ct_params_add_block(w, &m->params, m->params.grad, "grad.");
    if (!s) s = ct_st_writer_save(w, path);
    ct_st_writer_free(w);
    return s;
}

static void format_eta(char *buf, size_t cap, double s) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

/* Keeps only the metrics lines of steps <= `step` (a resumed run rewrites what follows). */
static void truncate_metrics(const char *path, int64_t step) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *o = fopen(tmp, "w");
    if (!o) {
        fclose(f);
        return;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        long long s;
        if (sscanf(line, "{\"step\": %lld", &s) == 1 && s <= step) fputs(line, o);
    }
    fclose(f);
    fclose(o);
    rename(tmp, path);
}

static ct_status save_checkpoint(const ct_model *m, const ct_trainer_state *st, const char *config_json,
                                 const char *out_dir, int keep) {
    char name[64], dir[4200];
    snprintf(name, sizeof name, "checkpoint-%08lld", (long long)st->step);
    snprintf(dir, sizeof dir, "%s/%s", out_dir, name);
    double t0 = ct_now_s();
    ct_status s = ct_checkpoint_save(m, st, config_json, dir);
    if (s) return s;
    if ((s = ct_checkpoint_link_last(out_dir, name))) return s;
    ct_log(CT_LOG_INFO, "checkpoint: %s (%.1f s)\n", dir, ct_now_s() - t0);
    return ct_checkpoint_prune(out_dir, keep);
}

ct_status ct_train(ct_train_config *cfg, const ct_train_run *run) {
    ct_model *m = NULL;
    ct_train_step *step = NULL;
    ct_loader *loader = NULL;
    ct_sampler *sampler = NULL;
    sources src = {0};
    FILE *metrics = NULL;
    char *config_json = NULL;
    char resume_dir[4096] = "";
    ct_trainer_state state = {0};
    ct_status s;
    ct_set_threads(cfg->threads);
    if ((s = ct_set_matmul_precision(cfg->precision))) return s;
    if ((s = ct_mkdirs(run->out_dir))) return s;
    const char *model_dir = cfg->init;
    if (run->resume) {
        if ((s = ct_checkpoint_find_latest(run->resume, resume_dir, sizeof resume_dir))) return s;
        model_dir = resume_dir;
    }
    if (!model_dir) return ct_fail(CT_ERR_ARG, "train: no model to start from (give --init DIR: a CLIP or ctcir folder)");
    if ((s = ct_model_load(&m, model_dir, &cfg->model, run->model_sets, run->n_model_sets))) goto done;
    cfg->model = m->opt;
    ct_model_mark_used(m, cfg->freeze_vision, cfg->freeze_text);
    m->clip.freeze_vision = cfg->freeze_vision;
    m->clip.freeze_text = cfg->freeze_text;
    if ((s = ct_params_alloc_moments(&m->params))) goto done;
    if (run->resume) {
        if ((s = ct_checkpoint_load_state(m, &state, resume_dir))) goto done;
        ct_log(CT_LOG_INFO, "resume: %s at step %lld\n", resume_dir, (long long)state.step);
    }
    ct_bf16_cache_refresh(); /* bf16: the packed weights follow what resume loaded */
    config_json = ct_train_config_to_json(cfg);
    if (!config_json) { s = ct_fail(CT_ERR_NOMEM, "train: out of memory"); goto done; }
    ct_log(CT_LOG_INFO, "effective config:\n%s\n", config_json);
    char path[4200];
    snprintf(path, sizeof path, "%s/train_config.json", run->out_dir);
    FILE *cf = fopen(path, "w");
    if (!cf) { s = ct_fail(CT_ERR_IO, "train: cannot write %s", path); goto done; }
    fputs(config_json, cf);
    fputc('\n', cf);
    fclose(cf);
    if ((s = sources_load(&src, cfg))) goto done;
    if ((s = ct_sampler_new(&sampler, src.n, src.count, src.weight, cfg->shuffle, m->opt.seed))) goto done;
    if (run->resume && (s = ct_sampler_set_state(sampler, &state.sampler))) goto done;
    const int micro = cfg->micro_batch > 0 && cfg->micro_batch < cfg->batch_size ? cfg->micro_batch : cfg->batch_size;
    const int max_text = longest_caption(m, &src);
    if ((s = ct_train_step_new_opts(&step, m, micro, cfg->batch_size, max_text, cfg->recompute))) goto done;
    ct_log(CT_LOG_INFO, "plan: activation recomputation %s (recompute=%s)\n", ct_train_step_recomputes(step) ? "on" : "off",
           ct_recompute_name(cfg->recompute));
    ct_log(CT_LOG_DEBUG, "plan: %.1f MB of parameters + gradients + moments, %.1f MB of activations (micro-batch %d of %d, "
            "captions up to %d tokens)\n", m->params.total * 16.0 / 1e6, ct_train_step_bytes(step) / 1e6, micro,
            cfg->batch_size, max_text);
    if ((s = ct_loader_new(&loader, m, src.rec, src.count, sampler, cfg->batch_size, cfg->loader_threads, cfg->strict))) goto done;
    sampler = NULL; /* owned by the loader */
    snprintf(path, sizeof path, "%s/metrics.jsonl", run->out_dir);
    truncate_metrics(path, state.step);
    if (!(metrics = fopen(path, "a"))) { s = ct_fail(CT_ERR_IO, "train: cannot open %s", path); goto done; }
    const int64_t first = state.step + 1, total = cfg->max_steps;
    if (first <= total) ct_loader_start(loader);
    double t_start = ct_now_s(), compute_s = 0;
    int64_t last_saved = state.step;
    for (int64_t t = first; t <= total; t++) {
        const ct_batch *b;
        ct_sampler_state after;
        if ((s = ct_loader_wait(loader, &b, &after))) goto done;
        double t0 = ct_now_s();
        if (t < total) ct_loader_start(loader);
        const double lr = ct_lr_at(&cfg->lr, t);
        ct_step_losses L;
        if ((s = ct_train_step_run(step, b, &L))) {
            if (s == CT_ERR_NONFINITE) {
                int bad = first_nonfinite_param(&m->params);
                s = ct_fail(s, "step %lld: %s%s%s; stopping (the last good checkpoint is kept)", (long long)t, ct_error(),
                            bad >= 0 ? "; first non-finite weight: " : "", bad >= 0 ? m->params.entries[bad].name : "");
            }
            goto done;
        }
        if (t == 1 && run->dump_first_grads && (s = dump_grads(m, &L, run->dump_first_grads))) goto done;
        const double norm = ct_grad_norm(&m->params);
        if (!isfinite(norm)) {
            int bad = ct_grad_first_nonfinite(&m->params);
            s = ct_fail(CT_ERR_NONFINITE, "step %lld: gradient of tensor '%s' is not finite; stopping (the last good checkpoint is kept)",
                        (long long)t, bad >= 0 ? m->params.entries[bad].name : "?");
            goto done;
        }
        ct_adamw_step(&cfg->adamw, &m->params, lr, t, norm);
        ct_bf16_cache_refresh(); /* bf16: weights converted once per step, after the update */
        double dt = ct_now_s() - t0;
        compute_s += dt;
        state.step = t;
        state.sampler = after;
        const double rate = (t - first + 1) * (double)b->n / (ct_now_s() - t_start);
        char eta[32];
        format_eta(eta, sizeof eta, (total - t) * (double)b->n / rate);
        ct_log(CT_LOG_INFO, "step %lld/%lld | loss %.6f (cont %.6f, cc %.6f) | lr %.3e | grad norm %.4f | %.2f triplets/s | ETA %s\n",
                (long long)t, (long long)total, L.total, L.cont, L.cc, lr, norm, rate, eta);
        fprintf(metrics,
                "{\"step\": %lld, \"loss\": %.9g, \"loss_cont\": %.9g, \"loss_cc\": %.9g, \"lr\": %.9g, \"grad_norm\": %.9g, "
                "\"triplets_per_s\": %.4g, \"step_s\": %.4g, \"matched_phrases\": %d, \"unmatched_phrases\": %d}\n",
                (long long)t, L.total, L.cont, L.cc, lr, norm, rate, dt, L.matched, L.unmatched);
        fflush(metrics);
        const bool interrupted = stop_requested;
        if (t == total || interrupted || (cfg->checkpoint_every > 0 && t % cfg->checkpoint_every == 0)) {
            if ((s = save_checkpoint(m, &state, config_json, run->out_dir, cfg->keep_checkpoints))) goto done;
            last_saved = t;
        }
        if (interrupted) {
            s = ct_fail(CT_ERR_INTERRUPTED, "interrupted after step %lld; checkpoint saved in %s/checkpoint-%08lld",
                        (long long)t, run->out_dir, (long long)t);
            goto done;
        }
    }
    (void)last_saved;
    ct_loader_stats ls;
    ct_loader_get_stats(loader, &ls);
    ct_log(CT_LOG_INFO, "done: %lld steps, compute %.1f s, data loading %.1f s in the background, trainer waited %.1f s for data, %lld records skipped\n",
            (long long)(total - first + 1), compute_s, ls.load_s, ls.wait_s, (long long)ls.skipped);
done:
    if (metrics) fclose(metrics);
    ct_loader_free(loader);
    ct_sampler_free(sampler);
    ct_train_step_free(step);
    sources_free(&src);
    free(config_json);
    ct_model_free(m);
    return s;
}
