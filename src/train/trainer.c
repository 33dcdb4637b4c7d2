/* The training loop (ctcir/train.h): ct_trainer_open loads everything and guards the out
 * folder, ct_trainer_step runs one optimiser step with its logging, validation and
 * checkpoint, ct_trainer_close saves what a failure would lose and frees everything. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/dirio.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timer.h"
#include "ctcir/dist.h"
#include "ctcir/eval.h"
#include "ctcir/log.h"
#include "ctcir/safetensors.h"
#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/metrics_log.h"
#include "train/trainer.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

void ct_train_request_stop(void) { stop_requested = 1; }

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
    if (cfg->n_data == 0)
        return ct_fail(CT_ERR_ARG,
                       "train: no training data (give --data MANIFEST --image-root DIR or \"data\" in the config)");
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
        out->n = i + 1; /* from here on sources_free owns slot i */
        if ((s = ct_dataset_load(&out->ds[i], kind, &o))) return s;
        const ct_dataset *ds = out->ds[i];
        out->rec[i] = calloc((size_t)(ds->n_queries ? ds->n_queries : 1), sizeof(ct_record));
        if (!out->rec[i]) return ct_fail(CT_ERR_NOMEM, "train: out of memory");
        int64_t n = 0;
        for (int q = 0; q < ds->n_queries; q++) {
            const ct_query *qu = &ds->queries[q];
            if (qu->n_targets < 1 || !qu->target_path || !qu->ref_path) continue;
            out->rec[i][n++] = (ct_record){qu->ref_path,
                                           qu->target_path,
                                           qu->caption,
                                           qu->n_nps >= 0 ? (const char *const *)qu->nps : NULL,
                                           qu->n_nps >= 0 ? qu->n_nps : 0,
                                           ds->name,
                                           q};
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
    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

struct ct_trainer {
    ct_train_config *cfg;
    char *out_dir, *dump_first_grads;
    ct_model *m;
    ct_train_step *step;
    ct_loader *loader;
    sources src;
    ct_metrics_log *log;
    char *config_json;
    ct_trainer_state state;
    int lock_fd;
    bool include_legacy; /* resumed a checkpoint without a run id: such checkpoints are ours */
    bool loader_started;
    bool weights_bad;     /* never save these */
    bool weights_scanned; /* every weight checked once after an update; later AdamW checks its own */
    bool writer;          /* rank 0 (ctcir/dist.h): the one process that writes files */
    int64_t first, total, last_saved;
    double t_start, compute_s;
    int64_t triplets;
    ct_eval_opts val; /* val.dataset NULL: no validation */
    char val_metric[64];
};

int64_t ct_trainer_current_step(const ct_trainer *t) { return t->state.step; }

static void new_run_id(char *buf, size_t cap) {
    uint64_t x = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid() << 32 ^ (uint64_t)clock();
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        uint64_t r;
        if (fread(&r, sizeof r, 1, f) == 1) x ^= r;
        fclose(f);
    }
    snprintf(buf, cap, "%016llx", (unsigned long long)x);
}

/* Keys a resumed run may change freely: how long, how often to save or validate, threads. */
static bool may_differ(const char *key) {
    static const char *const free_keys[] = {"max_steps",        "threads",    "loader_threads", "checkpoint_every",
                                            "keep_checkpoints", "strict",     "init",           "val",
                                            "val_every",        "val_metric", "micro_batch"};
    for (size_t i = 0; i < sizeof free_keys / sizeof free_keys[0]; i++)
        if (!strcmp(key, free_keys[i])) return true;
    return false;
}

/* Compares the effective configuration with the one saved in the checkpoint. */
static ct_status compare_config(const char *now_json, const char *dir, bool override) {
    char path[4200];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    cJSON *state = NULL, *now = cJSON_Parse(now_json);
    ct_status s = ct_json_load(path, &state);
    if (s || !now) {
        cJSON_Delete(now);
        return s ? s : ct_fail(CT_ERR_NOMEM, "train: out of memory");
    }
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(state, "config");
    char diff[1024] = "";
    int n_diff = 0;
    for (const cJSON *it = now->child; it && cJSON_IsObject(saved); it = it->next) {
        if (may_differ(it->string)) continue;
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(saved, it->string);
        if (old && cJSON_Compare(old, it, true)) continue;
        char *a = old ? cJSON_PrintUnformatted(old) : NULL, *b = cJSON_PrintUnformatted(it);
        size_t len = strlen(diff);
        if (n_diff++ < 8)
            snprintf(diff + len, sizeof diff - len, "%s%s (saved %.60s, now %.60s)", len ? ", " : "", it->string,
                     a ? a : "absent", b ? b : "?");
        free(a), free(b);
    }
    cJSON_Delete(state);
    cJSON_Delete(now);
    if (!n_diff) return CT_OK;
    if (override) {
        ct_log(CT_LOG_WARN, "warning: resume: --override: continuing with a configuration that differs from %s: %s%s\n",
               path, diff, n_diff > 8 ? ", ..." : "");
        return CT_OK;
    }
    return ct_fail(CT_ERR_ARG,
                   "resume: the configuration differs from the one saved in %s: %s%s; resume without those "
                   "flags (the saved configuration is the default on resume) or give --override",
                   path, diff, n_diff > 8 ? ", ..." : "");
}

static ct_status check_weights(ct_trainer *t, const char *when) {
    int bad = first_nonfinite_param(&t->m->params);
    if (bad < 0) return CT_OK;
    t->weights_bad = true;
    return ct_fail(CT_ERR_NONFINITE,
                   "step %lld: %s weight '%s' is not finite (learning rate or AdamW settings too large?); "
                   "stopping without saving (the last good checkpoint is kept)",
                   (long long)t->state.step, when, t->m->params.entries[bad].name);
}

static ct_status save_checkpoint(ct_trainer *t) {
    char name[64], dir[4200], best[64] = "";
    ct_checkpoint_name(name, sizeof name, t->state.step);
    snprintf(dir, sizeof dir, "%s/%s", t->out_dir, name);
    ct_status s = check_weights(t, "before saving,");
    if (s) return s;
    if (t->writer) { /* other ranks hold the same weights and write nothing */
        double t0 = ct_now_s();
        if ((s = ct_metrics_log_sync(t->log)) || (s = ct_checkpoint_save(t->m, &t->state, t->config_json, dir)) ||
            (s = ct_checkpoint_link(t->out_dir, "last", name)))
            return s;
        ct_log(CT_LOG_INFO, "checkpoint: %s (%.1f s)\n", dir, ct_now_s() - t0);
        if (t->state.has_best) ct_checkpoint_name(best, sizeof best, t->state.best_step);
        s = ct_checkpoint_prune(t->out_dir, t->cfg->keep_checkpoints, t->state.run_id, t->include_legacy,
                                best[0] ? best : NULL);
    }
    t->last_saved = t->state.step;
    return s;
}

/* The validation set as evaluation options, and the metric that picks "best". */
static ct_status setup_validation(ct_trainer *t) {
    const ct_train_config *c = t->cfg;
    if (c->n_val == 0) return CT_OK;
    const ct_data_source *v = &c->val[0];
    ct_eval_opts_default(&t->val);
    t->val.dataset = v->kind;
    t->val.split = v->split;
    t->val.strict = c->strict;
    t->val.quiet = true;
    t->val.loader_threads = c->loader_threads;
    struct stat st;
    if (!strcmp(v->kind, "manifest") && stat(v->path, &st) == 0 && S_ISREG(st.st_mode)) { /* a records file */
        t->val.file = v->path;
        t->val.root = v->image_root ? v->image_root : ".";
    } else
        t->val.root = v->path; /* a dataset root (manifest: <root>/<split>.jsonl) */
    const char *metric = c->val_metric ? c->val_metric : ct_eval_headline_metric(v->kind, NULL);
    if (!metric) return ct_fail(CT_ERR_ARG, "train: validation set: unknown dataset kind '%s'", v->kind);
    snprintf(t->val_metric, sizeof t->val_metric, "%s", metric);
    if (t->state.has_best && strcmp(t->state.best_metric, t->val_metric)) {
        ct_log(CT_LOG_WARN, "warning: the best checkpoint so far was chosen by %s; from now on %s decides\n",
               t->state.best_metric, t->val_metric);
        t->state.has_best = false;
    }
    return CT_OK;
}

/* Evaluates on the validation set, logs the metrics, and updates the best so far. */
static ct_status validate(ct_trainer *t, bool *is_best) {
    *is_best = false;
    ct_eval_result r;
    double t0 = ct_now_s();
    ct_status s = ct_eval_run(t->m, &t->val, &r);
    if (s) {
        s = ct_fail(s, "validation at step %lld: %s", (long long)t->state.step, ct_error());
        ct_eval_result_free(&r);
        return s;
    }
    double value;
    char *json = ct_eval_metrics_json(&r);
    const bool has = ct_eval_result_get(&r, t->val_metric, &value);
    ct_eval_result_free(&r);
    if (!json) return ct_fail(CT_ERR_NOMEM, "train: out of memory");
    s = t->log ? ct_metrics_log_printf(t->log, "{\"step\": %lld, \"val\": %s}", (long long)t->state.step, json) : CT_OK;
    free(json);
    if (s) return s;
    if (!has)
        return ct_fail(CT_ERR_ARG, "validation: the results have no metric '%s' (see eval --json for the keys)",
                       t->val_metric);
    ct_log(CT_LOG_INFO, "validation at step %lld: %s %.4f (%.1f s)\n", (long long)t->state.step, t->val_metric, value,
           ct_now_s() - t0);
    if (isfinite(value) && (!t->state.has_best || value > t->state.best_value)) {
        t->state.has_best = true;
        t->state.best_value = value;
        t->state.best_step = t->state.step;
        snprintf(t->state.best_metric, sizeof t->state.best_metric, "%s", t->val_metric);
        *is_best = true;
    }
    return CT_OK;
}

ct_status ct_trainer_open(ct_trainer **out, ct_train_config *cfg, const ct_train_run *run) {
    *out = NULL;
    ct_status s;
    if (!run->out_dir || !run->out_dir[0]) return ct_fail(CT_ERR_ARG, "train: no output folder (--out DIR)");
    if ((s = ct_train_config_validate(cfg))) return s;
    char resume_dir[4096] = "";
    const char *model_dir = cfg->init;
    if (run->resume) {
        if ((s = ct_checkpoint_find_latest(run->resume, resume_dir, sizeof resume_dir))) return s;
        model_dir = resume_dir;
    }
    if (!model_dir) return ct_fail(CT_ERR_ARG, "no model to start from (give --init DIR: a CLIP or ctcir folder)");
    if (!run->resume && !run->force && ct_checkpoint_dir_has_run(run->out_dir))
        return ct_fail(CT_ERR_ARG,
                       "%s already holds a training run; give --resume %s to continue it, or --force to start "
                       "a new run there (deleting the old one)",
                       run->out_dir, run->out_dir);
    ct_trainer *t = calloc(1, sizeof *t);
    if (!t) return ct_fail(CT_ERR_NOMEM, "train: out of memory");
    t->cfg = cfg;
    t->lock_fd = -1;
    t->out_dir = ct_strdup(run->out_dir);
    t->dump_first_grads = run->dump_first_grads ? ct_strdup(run->dump_first_grads) : NULL;
    if (!t->out_dir || (run->dump_first_grads && !t->dump_first_grads)) {
        s = ct_fail(CT_ERR_NOMEM, "train: out of memory");
        goto fail;
    }
    ct_set_threads(cfg->threads);
    if ((s = ct_set_matmul_precision(cfg->precision))) goto fail;
    t->writer = ct_dist_rank() == 0;
    if (t->writer) {
        if ((s = ct_mkdirs(run->out_dir)) || (s = ct_checkpoint_lock(run->out_dir, &t->lock_fd))) goto fail;
        ct_checkpoint_clean_stale(run->out_dir);
        if (!run->resume && run->force && (s = ct_checkpoint_remove_run(run->out_dir))) goto fail;
    }
    ct_model *m = NULL;
    if ((s = ct_model_load(&m, model_dir, &cfg->model, (const char *const *)cfg->model_keys, cfg->n_model_keys)))
        goto fail;
    t->m = m;
    cfg->model = m->opt;
    ct_model_mark_used(m, cfg->freeze_vision, cfg->freeze_text);
    m->clip.freeze_vision = cfg->freeze_vision;
    m->clip.freeze_text = cfg->freeze_text;
    if ((s = ct_params_alloc_moments(&m->params))) goto fail;
    if (run->resume) {
        if ((s = ct_checkpoint_load_state(m, &t->state, resume_dir))) goto fail;
        if (t->state.step > cfg->max_steps) {
            s = ct_fail(CT_ERR_ARG, "resume: %s is at step %lld, beyond max_steps %lld", resume_dir,
                        (long long)t->state.step, (long long)cfg->max_steps);
            goto fail;
        }
        if (!t->state.run_id[0]) {
            new_run_id(t->state.run_id, sizeof t->state.run_id);
            t->include_legacy = true;
        }
        ct_log(CT_LOG_INFO, "resume: %s at step %lld\n", resume_dir, (long long)t->state.step);
    } else {
        new_run_id(t->state.run_id, sizeof t->state.run_id);
    }
    ct_bf16_cache_refresh(); /* bf16: the packed weights follow what resume loaded */
    t->last_saved = t->state.step;
    if (!(t->config_json = ct_train_config_to_json(cfg))) {
        s = ct_fail(CT_ERR_NOMEM, "train: out of memory");
        goto fail;
    }
    if (run->resume && (s = compare_config(t->config_json, resume_dir, run->override))) goto fail;
    ct_log(CT_LOG_INFO, "effective config:\n%s", t->config_json);
    if ((s = setup_validation(t))) goto fail;
    if ((s = sources_load(&t->src, cfg))) goto fail;
    ct_sampler *sampler = NULL;
    if ((s = ct_sampler_new(&sampler, t->src.n, t->src.count, t->src.weight, cfg->shuffle, m->opt.seed))) goto fail;
    if (run->resume && (s = ct_sampler_set_state(sampler, &t->state.sampler))) {
        ct_sampler_free(sampler);
        goto fail;
    }
    /* data-parallel (docs/distributed.md): each rank runs batch/N rows; micro-batch is per rank */
    const int ranks = ct_dist_size(), local = cfg->batch_size / ranks;
    if (cfg->batch_size % ranks) {
        s = ct_fail(CT_ERR_ARG, "train: batch size %d is not divisible by the %d ranks", cfg->batch_size, ranks);
        ct_sampler_free(sampler);
        goto fail;
    }
    const int micro = cfg->micro_batch > 0 && cfg->micro_batch < local ? cfg->micro_batch : local;
    const int max_text = longest_caption(m, &t->src);
    if ((s = ct_train_step_new_opts(&t->step, m, micro, local, max_text, cfg->recompute))) {
        ct_sampler_free(sampler);
        goto fail;
    }
    ct_log(CT_LOG_INFO, "plan: activation recomputation %s (recompute=%s)\n",
           ct_train_step_recomputes(t->step) ? "on" : "off", ct_recompute_name(cfg->recompute));
    ct_log(CT_LOG_DEBUG,
           "plan: %.1f MB of parameters + gradients + moments, %.1f MB of activations (micro-batch %d of %d, "
           "captions up to %d tokens)\n",
           m->params.total * 16.0 / 1e6, ct_train_step_bytes(t->step) / 1e6, micro, cfg->batch_size, max_text);
    if ((s = ct_loader_new(&t->loader, m, t->src.rec, t->src.count, sampler, cfg->batch_size, cfg->loader_threads,
                           cfg->strict))) {
        ct_sampler_free(sampler);
        goto fail;
    }
    /* everything loaded: now the run's files */
    char path[4200];
    snprintf(path, sizeof path, "%s/train_config.json", run->out_dir);
    if (t->writer && (s = ct_write_file_atomic(path, t->config_json, strlen(t->config_json)))) goto fail;
    snprintf(path, sizeof path, "%s/metrics.jsonl", run->out_dir);
    if (t->writer && (s = ct_metrics_log_open(&t->log, path, run->resume ? t->state.step : -1))) goto fail;
    t->first = t->state.step + 1;
    t->total = cfg->max_steps;
    t->t_start = ct_now_s();
    *out = t;
    return CT_OK;
fail:
    ct_trainer_close(t, s);
    return s;
}

ct_status ct_trainer_step(ct_trainer *t, bool *done) {
    ct_train_config *cfg = t->cfg;
    ct_model *m = t->m;
    ct_status s;
    *done = false;
    if (t->state.step >= t->total) {
        ct_loader_stats ls;
        ct_loader_get_stats(t->loader, &ls);
        ct_log(CT_LOG_INFO,
               "done: %lld steps, compute %.1f s, data loading %.1f s in the background, trainer waited %.1f s "
               "for data, %lld records skipped\n",
               (long long)(t->state.step - t->first + 1), t->compute_s, ls.load_s, ls.wait_s, (long long)ls.skipped);
        *done = true;
        return CT_OK;
    }
    const int64_t step = t->state.step + 1;
    if (!t->loader_started) {
        ct_loader_start(t->loader);
        t->loader_started = true;
    }
    const ct_batch *b;
    ct_sampler_state after;
    if ((s = ct_loader_wait(t->loader, &b, &after))) return s;
    double t0 = ct_now_s();
    if (step < t->total)
        ct_loader_start(t->loader);
    else
        t->loader_started = false;
    const double lr = ct_lr_at(&cfg->lr, step);
    ct_step_losses L;
    if ((s = ct_train_step_run(t->step, b, &L))) {
        if (s == CT_ERR_NONFINITE) {
            int bad = first_nonfinite_param(&m->params);
            if (bad >= 0) t->weights_bad = true;
            s = ct_fail(s, "step %lld: %s%s%s; stopping (the last good checkpoint is kept)", (long long)step,
                        ct_error(), bad >= 0 ? "; first non-finite weight: " : "",
                        bad >= 0 ? m->params.entries[bad].name : "");
        }
        return s;
    }
    if (step == 1 && t->dump_first_grads && (s = dump_grads(m, &L, t->dump_first_grads))) return s;
    const double norm = ct_grad_norm(&m->params);
    if (!isfinite(norm)) {
        int bad = ct_grad_first_nonfinite(&m->params);
        return ct_fail(CT_ERR_NONFINITE,
                       "step %lld: gradient of tensor '%s' is not finite; stopping (the last good checkpoint is kept)",
                       (long long)step, bad >= 0 ? m->params.entries[bad].name : "?");
    }
    const bool finite = ct_adamw_step(&cfg->adamw, &m->params, lr, step, norm);
    ct_bf16_cache_refresh();              /* bf16: weights converted once per step, after the update */
    t->state.step = step;                 /* the weights are now those of this step */
    if (!finite || !t->weights_scanned) { /* the full scan names the tensor (and covers frozen ones once) */
        if ((s = check_weights(t, "after the update,"))) return s;
        t->weights_scanned = true;
    }
    t->state.sampler = after;
    double dt = ct_now_s() - t0;
    t->compute_s += dt;
    t->triplets += b->n;
    const double rate = t->triplets / (ct_now_s() - t->t_start);
    char eta[32];
    format_eta(eta, sizeof eta, (t->total - step) * (double)b->n / rate);
    ct_log(CT_LOG_INFO,
           "step %lld/%lld | loss %.6f (cont %.6f, cc %.6f) | lr %.3e | grad norm %.4f | %.2f triplets/s | ETA %s\n",
           (long long)step, (long long)t->total, L.total, L.cont, L.cc, lr, norm, rate, eta);
    if (t->log && (s = ct_metrics_log_printf(
                       t->log,
                       "{\"step\": %lld, \"loss\": %.9g, \"loss_cont\": %.9g, \"loss_cc\": %.9g, \"lr\": %.9g, "
                       "\"grad_norm\": %.9g, \"triplets_per_s\": %.4g, \"step_s\": %.4g, \"matched_phrases\": %d, "
                       "\"unmatched_phrases\": %d}",
                       (long long)step, L.total, L.cont, L.cc, lr, norm, rate, dt, L.matched, L.unmatched)))
        return s;
    const bool last = step == t->total;
    /* every rank stops after the same step: a signal seen by any rank counts for all */
    int64_t stop = stop_requested;
    if (ct_dist_size() > 1 && (s = ct_dist_max_i64(&stop, 1))) return s;
    const bool interrupted = stop && !last;
    bool validated = false, is_best = false;
    if (t->val.dataset && ((cfg->val_every > 0 && step % cfg->val_every == 0) || last)) {
        if ((s = validate(t, &is_best))) return s;
        validated = true;
    }
    if (last || interrupted || validated || (cfg->checkpoint_every > 0 && step % cfg->checkpoint_every == 0)) {
        if ((s = save_checkpoint(t))) return s;
        if (is_best && t->writer) {
            char name[64];
            ct_checkpoint_name(name, sizeof name, step);
            if ((s = ct_checkpoint_link(t->out_dir, "best", name))) return s;
            ct_log(CT_LOG_INFO, "best: %s/best -> %s (%s %.4f)\n", t->out_dir, name, t->val_metric,
                   t->state.best_value);
        }
    }
    if (interrupted) {
        char name[64];
        ct_checkpoint_name(name, sizeof name, step);
        return ct_fail(CT_ERR_INTERRUPTED, "interrupted after step %lld; checkpoint saved in %s/%s", (long long)step,
                       t->out_dir, name);
    }
    return CT_OK;
}

ct_status ct_trainer_close(ct_trainer *t, ct_status status) {
    if (!t) return status;
    /* a failure after some unsaved steps: keep them, unless the weights themselves went bad */
    if (status != CT_OK && status != CT_ERR_INTERRUPTED && status != CT_ERR_NONFINITE && t->m && t->log &&
        !t->weights_bad && t->state.step > t->last_saved) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", ct_error());
        ct_status cs = save_checkpoint(t);
        if (cs == CT_OK)
            ct_log(CT_LOG_WARN, "saved a checkpoint of step %lld before stopping\n", (long long)t->state.step);
        else
            ct_log(CT_LOG_WARN, "warning: could not save a checkpoint before stopping: %s\n", ct_error());
        ct_fail(status, "%s", msg); /* the original error stays the message */
    }
    ct_loader_free(t->loader);
    ct_train_step_free(t->step);
    sources_free(&t->src);
    ct_metrics_log_close(t->log);
    free(t->config_json);
    ct_model_free(t->m);
    if (t->lock_fd >= 0) close(t->lock_fd);
    free(t->out_dir), free(t->dump_first_grads);
    free(t);
    return status;
}

ct_status ct_train(ct_train_config *cfg, const ct_train_run *run) {
    ct_trainer *t;
    ct_status s = ct_trainer_open(&t, cfg, run);
    if (s) return s;
    bool done = false;
    while (!done && (s = ct_trainer_step(t, &done)) == CT_OK) {}
    return ct_trainer_close(t, s);
}
