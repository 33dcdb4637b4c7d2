/* The training sampler: per-source epoch permutations and a weighted choice of source. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/ds_internal.h"

struct ct_sampler {
    ct_sampler_state st;
    int64_t size[CT_SAMPLER_MAX_SOURCES];
    double cum[CT_SAMPLER_MAX_SOURCES]; /* cumulative normalised weights */
    int64_t *perm[CT_SAMPLER_MAX_SOURCES];
    uint64_t perm_epoch[CT_SAMPLER_MAX_SOURCES]; /* epoch perm[] holds (+1; 0 = none) */
};

/* The permutation of `source` for `epoch`: a pure function of (seed, source, epoch). */
static void make_perm(ct_sampler *s, int src, uint64_t epoch) {
    int64_t n = s->size[src];
    int64_t *p = s->perm[src];
    for (int64_t i = 0; i < n; i++) p[i] = i;
    if (s->st.shuffle) {
        ct_rng r;
        ct_rng_seed(&r,
                    s->st.seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(src + 1)) ^ (0xd1b54a32d192ed03ULL * (epoch + 1)));
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)ct_rng_below(&r, (uint64_t)i + 1);
            int64_t t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }
    s->perm_epoch[src] = epoch + 1;
}

ct_status ct_sampler_new(ct_sampler **out, int n_sources, const int64_t *sizes, const double *weights, bool shuffle,
                         uint64_t seed) {
    *out = NULL;
    if (n_sources < 1 || n_sources > CT_SAMPLER_MAX_SOURCES)
        return ct_fail(CT_ERR_ARG, "sampler: %d sources (expected 1..%d)", n_sources, CT_SAMPLER_MAX_SOURCES);
    double total = 0;
    for (int i = 0; i < n_sources; i++) {
        if (sizes[i] < 1) return ct_fail(CT_ERR_ARG, "sampler: source %d has %lld records", i, (long long)sizes[i]);
        double w = weights ? weights[i] : 1.0;
        if (!(w > 0) || w > 1e300) return ct_fail(CT_ERR_ARG, "sampler: source %d has weight %g (must be > 0)", i, w);
        total += w;
    }
    ct_sampler *s = calloc(1, sizeof *s);
    if (!s) return ct_fail(CT_ERR_NOMEM, "sampler: out of memory");
    s->st.n_sources = n_sources;
    s->st.shuffle = shuffle;
    s->st.seed = seed;
    ct_rng r;
    ct_rng_seed(&r, seed);
    memcpy(s->st.rng, r.s, sizeof r.s);
    double acc = 0;
    for (int i = 0; i < n_sources; i++) {
        s->size[i] = sizes[i];
        acc += (weights ? weights[i] : 1.0) / total;
        s->cum[i] = i == n_sources - 1 ? 1.0 : acc;
        s->perm[i] = malloc((size_t)sizes[i] * sizeof(int64_t));
        if (!s->perm[i]) {
            ct_sampler_free(s);
            return ct_fail(CT_ERR_NOMEM, "sampler: cannot allocate a permutation of %lld", (long long)sizes[i]);
        }
    }
    *out = s;
    return CT_OK;
}

void ct_sampler_free(ct_sampler *s) {
    if (!s) return;
    for (int i = 0; i < CT_SAMPLER_MAX_SOURCES; i++) free(s->perm[i]);
    free(s);
}

void ct_sampler_next(ct_sampler *s, int *source, int64_t *record) {
    int src = 0;
    if (s->st.n_sources > 1) {
        ct_rng r;
        memcpy(r.s, s->st.rng, sizeof r.s);
        double u = ct_rng_uniform(&r);
        memcpy(s->st.rng, r.s, sizeof r.s);
        while (src < s->st.n_sources - 1 && u >= s->cum[src]) src++;
    }
    if (s->st.pos[src] >= (uint64_t)s->size[src]) {
        s->st.epoch[src]++;
        s->st.pos[src] = 0;
    }
    if (s->perm_epoch[src] != s->st.epoch[src] + 1) make_perm(s, src, s->st.epoch[src]);
    *source = src;
    *record = s->perm[src][s->st.pos[src]++];
}

void ct_sampler_get_state(const ct_sampler *s, ct_sampler_state *st) { *st = s->st; }

ct_status ct_sampler_set_state(ct_sampler *s, const ct_sampler_state *st) {
    if (st->n_sources != s->st.n_sources || st->shuffle != s->st.shuffle)
        return ct_fail(CT_ERR_ARG, "sampler: saved state has %d sources (shuffle %d), this sampler %d (shuffle %d)",
                       st->n_sources, st->shuffle, s->st.n_sources, s->st.shuffle);
    for (int i = 0; i < st->n_sources; i++)
        if (st->pos[i] > (uint64_t)s->size[i])
            return ct_fail(CT_ERR_ARG, "sampler: saved position %llu of source %d exceeds its %lld records",
                           (unsigned long long)st->pos[i], i, (long long)s->size[i]);
    s->st = *st;
    for (int i = 0; i < CT_SAMPLER_MAX_SOURCES; i++) s->perm_epoch[i] = 0;
    return CT_OK;
}
