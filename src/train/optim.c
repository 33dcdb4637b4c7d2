/* AdamW, schedule and clipping. */
#include <float.h>
#include <math.h>

#include "train/optim.h"

double ct_lr_at(const ct_lr_schedule *s, int64_t t) {
    if (s->warmup > 0 && t <= s->warmup) return s->lr_max * (double)t / (double)s->warmup;
    double pos = (double)(t - s->warmup - 1); /* 0 at the first step after warm-up */
    double len = s->cycle > 0 ? (double)s->cycle : 1.0;
    double mult = s->cycle_mult >= 1.0 ? s->cycle_mult : 1.0;
    while (pos >= len) {
        pos -= len;
        len *= mult;
    }
    return s->lr_min + 0.5 * (s->lr_max - s->lr_min) * (1.0 + cos(M_PI * pos / len));
}

static int trainable(const ct_param_entry *e) { return !e->frozen && e->used; }

/* Sum of squares in double over 32 independent lanes (the compiler vectorises the lanes; one
 * accumulator would wait on the adder's latency for every element). */
static double sum_squares(const float *g, size_t n) {
    double acc[32] = {0};
    size_t k = 0;
    for (; k + 32 <= n; k += 32)
        for (int j = 0; j < 32; j++) acc[j] += (double)g[k + j] * g[k + j];
    double s = 0;
    for (; k < n; k++) s += (double)g[k] * g[k];
    for (int j = 0; j < 32; j++) s += acc[j];
    return s;
}

double ct_grad_norm(const ct_params *p) {
    enum { CHUNK = 1 << 14 };
    double total = 0;
    for (int i = 0; i < p->count; i++) {
        const ct_param_entry *e = &p->entries[i];
        if (!trainable(e)) continue;
        const float *g = p->grad + e->offset;
        const size_t chunks = (e->numel + CHUNK - 1) / CHUNK;
        double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (e->numel > 100000)
        for (size_t c = 0; c < chunks; c++) {
            size_t k0 = c * CHUNK;
            s += sum_squares(g + k0, e->numel - k0 < CHUNK ? e->numel - k0 : CHUNK);
        }
        total += s;
    }
    return sqrt(total);
}

int ct_grad_first_nonfinite(const ct_params *p) {
    for (int i = 0; i < p->count; i++) {
        const ct_param_entry *e = &p->entries[i];
        if (!trainable(e)) continue;
        const float *g = p->grad + e->offset;
        for (size_t k = 0; k < e->numel; k++)
            if (!isfinite(g[k])) return i;
    }
    return -1;
}

bool ct_adamw_step(const ct_adamw *o, ct_params *p, double lr, int64_t t, double norm) {
    const double clip = o->max_grad_norm > 0 ? fmin(1.0, o->max_grad_norm / (norm + 1e-6)) : 1.0;
    const double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    const float step = (float)(lr / bc1), sqrt_bc2 = (float)sqrt(bc2);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps, c = (float)clip;
    int bad = 0; /* 1 once an updated weight is NaN or infinite (checked as it is written) */
    for (int i = 0; i < p->count; i++) {
        const ct_param_entry *e = &p->entries[i];
        if (!trainable(e)) continue;
        float *w = p->param + e->offset, *g = p->grad + e->offset, *m = p->m + e->offset, *v = p->v + e->offset;
        const float decay = e->ndim >= 2 ? (float)(1.0 - lr * o->weight_decay) : 1.0f;
#pragma omp parallel for schedule(static) reduction(| : bad) if (e->numel > 100000)
        for (size_t k = 0; k < e->numel; k++) {
            float gk = g[k] * c;
            float wk = w[k] * decay;
            m[k] = b1 * m[k] + (1.0f - b1) * gk;
            v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
            wk -= step * m[k] / (sqrtf(v[k]) / sqrt_bc2 + eps);
            w[k] = wk;
            bad |= !(fabsf(wk) <= FLT_MAX);
        }
    }
    return !bad;
}
