/* The background batch loader (see loader.h). Two batches alternate: the trainer reads one
 * while the loader thread fills the other. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timer.h"
#include "ctcir/dist.h"
#include "ctcir/log.h"
#include "ctcir/nps.h"
#include "train/loader.h"

struct ct_loader {
    const ct_model *m;
    ct_record **sources;
    const int64_t *counts;
    ct_sampler *sampler;
    int batch_size, threads;
    bool strict;
    ct_batch batch[2];
    ct_sampler_state state[2];
    const ct_record *rows[2][4096];
    int fill; /* which batch the thread fills next */
    pthread_t thread;
    bool running;
    ct_status status;
    char error[1024];
    ct_loader_stats stats;
};

typedef struct {
    ct_loader *l;
    ct_batch *b;
    const ct_record *const *rows;
    int first, step;
    ct_status *row_status; /* per row */
} image_job;

static void *decode_rows(void *arg) {
    image_job *j = arg;
    const ct_model *m = j->l->m;
    const size_t img = (size_t)3 * m->S * m->S;
    for (int r = j->first; r < j->b->n; r += j->step) {
        const ct_record *rec = j->rows[r];
        ct_status s = ct_model_load_image(m, rec->ref_path, j->b->ref_pixels + r * img);
        if (!s) s = ct_model_load_image(m, rec->tgt_path, j->b->tgt_pixels + r * img);
        j->row_status[r] = s;
        if (s)
            ct_log(CT_LOG_WARN, "warning: %s record %lld skipped: %s\n", rec->where, (long long)rec->index, ct_error());
    }
    return NULL;
}

static const ct_record *draw(ct_loader *l) {
    int src;
    int64_t rec;
    ct_sampler_next(l->sampler, &src, &rec);
    return &l->sources[src][rec];
}

/* Tokenizes row r's caption and phrases (the extractor when the record has none). */
static ct_status add_text(ct_loader *l, ct_batch *b, const ct_record *rec) {
    if (rec->nps) return ct_batch_add_text(b, l->m, rec->caption, rec->nps, rec->n_nps);
    char **nps = NULL;
    int n = 0;
    ct_status s = ct_noun_phrases(rec->caption, l->m->opt.max_noun_phrases, &nps, &n);
    if (s) return s;
    s = ct_batch_add_text(b, l->m, rec->caption, (const char *const *)nps, n);
    ct_noun_phrases_free(nps, n);
    return s;
}

/* Draws new records for row r until its images decode (or gives up). */
static ct_status replace_unreadable(ct_loader *l, ct_batch *b, const ct_record **rows, int r, ct_status *row_status) {
    int tries = 0;
    while (row_status[r] != CT_OK) {
        if (l->strict)
            return ct_fail(row_status[r], "%s record %lld: unreadable image (--strict)", rows[r]->where,
                           (long long)rows[r]->index);
        l->stats.skipped++;
        if (++tries > 1000) return ct_fail(CT_ERR_IO, "training data: 1000 unreadable records in a row; giving up");
        rows[r] = draw(l);
        image_job one = {l, b, rows, r, b->n, row_status};
        decode_rows(&one);
    }
    return CT_OK;
}

/* Fills batch `which`: draws, tokenizes, decodes; unreadable rows are redrawn in order. */
static ct_status load_batch(ct_loader *l, int which) {
    ct_batch *b = &l->batch[which];
    const ct_record **rows = l->rows[which];
    ct_status row_status[4096];
    const size_t img = (size_t)3 * l->m->S * l->m->S;
    ct_batch_clear(b);
    for (int r = 0; r < l->batch_size; r++) rows[r] = draw(l);
    b->n = l->batch_size;
    /* images in parallel */
    int nt = l->threads < 1 ? 1 : l->threads;
    pthread_t th[16];
    image_job jobs[16];
    if (nt > 16) nt = 16;
    for (int k = 0; k < nt; k++) {
        jobs[k] = (image_job){l, b, rows, k, nt, row_status};
        if (k > 0 && pthread_create(&th[k], NULL, decode_rows, &jobs[k]) != 0) nt = k;
    }
    decode_rows(&jobs[0]);
    for (int k = 1; k < nt; k++) pthread_join(th[k], NULL);
    /* replace unreadable rows (sequentially, so the order stays deterministic) */
    ct_status s;
    for (int r = 0; r < b->n; r++)
        if ((s = replace_unreadable(l, b, rows, r, row_status))) return s;
    /* texts in row order; a record whose text fails (an over-long caption for the noun-phrase
     * extractor, ...) is skipped with a warning and replaced like an unreadable one. Every rank
     * does this for the whole global batch, so the replacements agree everywhere. */
    b->n = 0;
    for (int r = 0; r < l->batch_size; r++) {
        const int n_phrases = b->n_phrases, unmatched = b->unmatched;
        int tries = 0;
        while ((s = add_text(l, b, rows[r])) != CT_OK) {
            s = ct_fail(s, "%s record %lld: %s", rows[r]->where, (long long)rows[r]->index, ct_error());
            if (l->strict || s == CT_ERR_NOMEM) return s;
            ct_log(CT_LOG_WARN, "warning: %s; record skipped\n", ct_error());
            b->n_phrases = n_phrases, b->unmatched = unmatched; /* undo what the row added */
            l->stats.skipped++;
            if (++tries > 1000)
                return ct_fail(CT_ERR_FORMAT, "training data: 1000 unusable records in a row; giving up");
            const int n = b->n;
            b->n = l->batch_size; /* decode_rows walks rows < b->n */
            rows[r] = draw(l);
            image_job one = {l, b, rows, r, l->batch_size, row_status};
            decode_rows(&one);
            s = replace_unreadable(l, b, rows, r, row_status);
            b->n = n;
            if (s) return s;
        }
        b->n++;
    }
    /* Data-parallel (ctcir/dist.h): every rank draws and decodes the same global batch (so
     * unreadable rows are replaced identically everywhere) and keeps its rows
     * [rank*B/N, (rank+1)*B/N); their texts are added again for that slice. */
    const int ranks = ct_dist_size();
    if (ranks > 1) {
        const int rank = ct_dist_rank(), share = l->batch_size / ranks, r0 = rank * share;
        memmove(b->ref_pixels, b->ref_pixels + r0 * img, (size_t)share * img * sizeof(float));
        memmove(b->tgt_pixels, b->tgt_pixels + r0 * img, (size_t)share * img * sizeof(float));
        ct_batch_clear(b);
        for (int r = r0; r < r0 + share; r++) {
            if ((s = add_text(l, b, rows[r])))
                return ct_fail(s, "%s record %lld: %s", rows[r]->where, (long long)rows[r]->index, ct_error());
            b->n++;
        }
    }
    return CT_OK;
}

static void *loader_main(void *arg) {
    ct_loader *l = arg;
    double t0 = ct_now_s();
    l->status = load_batch(l, l->fill);
    if (l->status) snprintf(l->error, sizeof l->error, "%s", ct_error());
    ct_sampler_get_state(l->sampler, &l->state[l->fill]);
    l->stats.load_s += ct_now_s() - t0;
    return NULL;
}

ct_status ct_loader_new(ct_loader **out, const ct_model *m, ct_record **sources, const int64_t *counts,
                        ct_sampler *sampler, int batch_size, int threads, bool strict) {
    *out = NULL;
    if (batch_size < 1 || batch_size > 4096)
        return ct_fail(CT_ERR_ARG, "loader: batch size %d outside 1..4096", batch_size);
    ct_loader *l = calloc(1, sizeof *l);
    if (!l) return ct_fail(CT_ERR_NOMEM, "loader: out of memory");
    l->m = m, l->sources = sources, l->counts = counts, l->sampler = sampler;
    l->batch_size = batch_size, l->threads = threads, l->strict = strict;
    ct_status s;
    if ((s = ct_batch_new(&l->batch[0], m, batch_size)) || (s = ct_batch_new(&l->batch[1], m, batch_size))) {
        ct_loader_free(l);
        return s;
    }
    *out = l;
    return CT_OK;
}

void ct_loader_free(ct_loader *l) {
    if (!l) return;
    if (l->running) pthread_join(l->thread, NULL);
    ct_batch_free(&l->batch[0]);
    ct_batch_free(&l->batch[1]);
    ct_sampler_free(l->sampler);
    free(l);
}

void ct_loader_start(ct_loader *l) {
    if (l->running) return;
    l->running = pthread_create(&l->thread, NULL, loader_main, l) == 0;
    if (!l->running) loader_main(l); /* no thread: load in the foreground */
}

ct_status ct_loader_wait(ct_loader *l, const ct_batch **batch, ct_sampler_state *state) {
    double t0 = ct_now_s();
    if (l->running) {
        pthread_join(l->thread, NULL);
        l->running = false;
    }
    l->stats.wait_s += ct_now_s() - t0;
    const int which = l->fill;
    l->fill ^= 1;
    if (l->status) return ct_fail(l->status, "%s", l->error);
    *batch = &l->batch[which];
    if (state) *state = l->state[which];
    return CT_OK;
}

void ct_loader_get_stats(const ct_loader *l, ct_loader_stats *st) { *st = l->stats; }
