/* Batched embedding with background decoding (see embed.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timer.h"
#include "ctcir/embed.h"
#include "ctcir/log.h"
#include "model/model.h"

typedef struct {
    int n;
    int64_t rows[1024];
    float *pixels; /* [batch,3,S,S] */
    int64_t *ids;  /* [batch,77] */
    ct_status status;
    char error[1024];
} slot;

typedef struct {
    const ct_model *m;
    const ct_embed_job *job;
    slot *s;
    int first, step;
} decode_part;

typedef struct {
    const ct_model *m;
    const ct_embed_job *job;
    slot *s;
    int64_t start; /* position in the job's row list */
    double seconds;
} decode_task;

static int64_t row_at(const ct_embed_job *job, int64_t i) { return job->rows ? job->rows[i] : i; }

static void *decode_some(void *arg) {
    decode_part *p = arg;
    const size_t img = (size_t)3 * p->m->S * p->m->S;
    for (int i = p->first; i < p->s->n && p->s->status == CT_OK; i += p->step) {
        int64_t r = p->s->rows[i];
        ct_status st = ct_model_load_image(p->m, p->job->paths[r], p->s->pixels + i * img);
        if (!st && p->job->texts)
            st = ct_model_tokenize(p->m, p->job->texts[r], p->s->ids + (size_t)i * CT_CONTEXT_LENGTH);
        if (st && p->s->status == CT_OK) {
            snprintf(p->s->error, sizeof p->s->error, "%s", ct_error());
            p->s->status = st;
        }
    }
    return NULL;
}

static void *decode_batch(void *arg) {
    decode_task *t = arg;
    double t0 = ct_now_s();
    const ct_embed_job *job = t->job;
    slot *s = t->s;
    s->status = CT_OK;
    s->n = 0;
    for (int64_t i = t->start; i < job->n_rows && s->n < job->batch; i++) s->rows[s->n++] = row_at(job, i);
    int nt = job->threads < 1 ? 1 : job->threads > 8 ? 8 : job->threads;
    pthread_t th[8];
    decode_part parts[8];
    for (int k = 0; k < nt; k++) {
        parts[k] = (decode_part){t->m, job, s, k, nt};
        if (k > 0 && pthread_create(&th[k], NULL, decode_some, &parts[k]) != 0) nt = k;
    }
    decode_some(&parts[0]);
    for (int k = 1; k < nt; k++) pthread_join(th[k], NULL);
    t->seconds += ct_now_s() - t0;
    return NULL;
}

static void progress(const char *label, int64_t done, int64_t total, double elapsed, bool final) {
    static double last;
    static int last_pct = -1;
    const bool tty = ct_log_progress_is_tty();
    int pct = total ? (int)(100 * done / total) : 100;
    if (!final && ((tty && elapsed - last < 0.5) || (!tty && pct / 10 == last_pct / 10))) return;
    last = elapsed;
    last_pct = pct;
    double rate = elapsed > 0 ? done / elapsed : 0, eta = rate > 0 ? (total - done) / rate : 0;
    ct_log(CT_LOG_PROGRESS, "%s%s: %lld/%lld (%d%%) | %.1f images/s | ETA %.0f s%s", tty ? "\r\033[K" : "", label,
           (long long)done, (long long)total, pct, rate, eta, tty && !final ? "" : "\n");
}

ct_status ct_embed_run(const ct_model *m, const ct_embed_job *job_in, ct_embed_sink sink, void *ctx,
                       const volatile int *stop, ct_embed_stats *stats) {
    ct_embed_job job = *job_in;
    if (job.batch < 1) job.batch = 32;
    if (job.batch > 1024) job.batch = 1024;
    ct_encoder *e = NULL;
    slot slots[2];
    memset(slots, 0, sizeof slots);
    const size_t img = (size_t)3 * m->S * m->S;
    float *out = malloc((size_t)job.batch * m->P * sizeof(float));
    ct_status s = ct_encoder_new(&e, m, job.batch);
    for (int i = 0; i < 2 && !s; i++) {
        slots[i].pixels = malloc((size_t)job.batch * img * sizeof(float));
        slots[i].ids = calloc((size_t)job.batch * CT_CONTEXT_LENGTH, sizeof(int64_t));
        if (!slots[i].pixels || !slots[i].ids)
            s = ct_fail(CT_ERR_NOMEM, "embed: out of memory for batch %d", job.batch);
    }
    if (!out && !s) s = ct_fail(CT_ERR_NOMEM, "embed: out of memory");
    double t0 = ct_now_s(), wait = 0;
    decode_task task = {m, &job, &slots[0], 0, 0};
    pthread_t th;
    bool running = false;
    int64_t done = 0;
    if (!s && job.n_rows > 0) running = pthread_create(&th, NULL, decode_batch, &task) == 0;
    if (!s && job.n_rows > 0 && !running) decode_batch(&task);
    for (int64_t pos = 0, cur = 0; !s && pos < job.n_rows; pos += job.batch, cur ^= 1) {
        double w0 = ct_now_s();
        if (running) pthread_join(th, NULL);
        running = false;
        wait += ct_now_s() - w0;
        slot *sl = &slots[cur];
        if (sl->status) {
            s = ct_fail(sl->status, "%s", sl->error);
            break;
        }
        if (pos + job.batch < job.n_rows) { /* decode the next batch meanwhile */
            task.s = &slots[cur ^ 1];
            task.start = pos + job.batch;
            running = pthread_create(&th, NULL, decode_batch, &task) == 0;
            if (!running) decode_batch(&task);
        }
        s = job.texts ? ct_encode_query(e, sl->pixels, sl->ids, sl->n, out)
                      : ct_encode_target(e, sl->pixels, sl->n, out);
        if (!s) s = sink(ctx, sl->rows, sl->n, out);
        done += sl->n;
        if (job.label) progress(job.label, done, job.n_rows, ct_now_s() - t0, done == job.n_rows);
        if (stop && *stop) break;
    }
    if (running) pthread_join(th, NULL);
    if (stats) *stats = (ct_embed_stats){ct_now_s() - t0, task.seconds, wait, done};
    for (int i = 0; i < 2; i++) free(slots[i].pixels), free(slots[i].ids);
    free(out);
    ct_encoder_free(e);
    return s;
}
