/* Text Concept-Consistency loss (docs/model.md section 6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/loss.h"

int ct_cc_find_span(const int32_t *cap, int eot, const int32_t *ph, int ph_len) {
    if (ph_len <= 0) return -1;
    for (int s = 1; s + ph_len <= eot; s++) {
        int k = 0;
        while (k < ph_len && cap[s + k] == ph[k]) k++;
        if (k == ph_len) return s;
    }
    return -1;
}

/* a [Nv-1] = mean over t in [t0, t1) of map[1 + p, t] (CLS row dropped) */
static void column_mean(double *a, const float *map, int Nv, int T, int t0, int t1) {
    for (int p = 0; p < Nv - 1; p++) {
        double s = 0;
        for (int t = t0; t < t1; t++) s += map[(size_t)(p + 1) * T + t];
        a[p] = s / (t1 - t0);
    }
}

/* Spreads da [Nv-1] back over the span's columns of dmap. */
static void column_mean_backward(float *dmap, const double *da, int Nv, int T, int t0, int t1, double scale) {
    for (int p = 0; p < Nv - 1; p++) {
        float v = (float)(da[p] * scale / (t1 - t0));
        for (int t = t0; t < t1; t++) dmap[(size_t)(p + 1) * T + t] += v;
    }
}

/* In place: a /= sum(a); keeps the sum for the backward pass. */
static double normalize_sum(double *a, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    if (s == 0) s = 1e-12;
    for (int i = 0; i < n; i++) a[i] /= s;
    return s;
}

/* da = (dan - sum(dan * an)) / s, in place on da (holding dan). */
static void normalize_sum_backward(double *da, const double *an, double s, int n) {
    double d = 0;
    for (int i = 0; i < n; i++) d += da[i] * an[i];
    for (int i = 0; i < n; i++) da[i] = (da[i] - d) / s;
}

double ct_cc_loss(float *dmap_ctx, float *dmap_iso, const float *map_ctx, const float *map_iso, const ct_cc_phrase *ph,
                  int M, int B, int Nv, int Tc, int Ti, int n_total, const ct_cir_options *o, double grad_scale) {
    double *work = malloc(4 * (size_t)(Nv > 1 ? Nv - 1 : 1) * sizeof *work);
    if (!work) return NAN;
    double r = ct_cc_loss_ws(dmap_ctx, dmap_iso, map_ctx, map_iso, ph, M, B, Nv, Tc, Ti, n_total, o, grad_scale, work);
    free(work);
    return r;
}

double ct_cc_loss_ws(float *dmap_ctx, float *dmap_iso, const float *map_ctx, const float *map_iso,
                     const ct_cc_phrase *ph, int M, int B, int Nv, int Tc, int Ti, int n_total, const ct_cir_options *o,
                     double grad_scale, double *work) {
    const size_t plane_c = (size_t)Nv * Tc, plane_i = (size_t)Nv * Ti;
    (void)B;
    if (M == 0 || n_total == 0) return 0.0;
    const int np = Nv - 1;
    double *ac = work, *ai = ac + np, *gc = ai + np, *gi = gc + np;
    double total = 0;
    const double eps = o->cc_eps;
    for (int m = 0; m < M; m++) {
        const ct_cc_phrase *f = &ph[m];
        column_mean(ac, map_ctx + (size_t)f->sample * plane_c, Nv, Tc, f->start, f->end);
        column_mean(ai, map_iso + (size_t)m * plane_i, Nv, Ti, 1, 1 + f->iso_len);
        double sc = 1, si = 1;
        if (o->cc_normalize == CT_CCNORM_PATCHES) {
            sc = normalize_sum(ac, np);
            si = normalize_sum(ai, np);
        }
        double lm = 0;
        for (int p = 0; p < np; p++) {
            double d = ac[p] - ai[p], term, g;
            if (o->cc_abs) {
                term = fabs(d) - eps;
                g = term > 0 ? (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0) : 0.0;
            } else {
                term = d - eps;
                g = term > 0 ? 1.0 : 0.0;
            }
            lm += term > 0 ? term : 0;
            gc[p] = g / np;
            gi[p] = -g / np;
        }
        total += lm / np;
        if (o->cc_normalize == CT_CCNORM_PATCHES) {
            normalize_sum_backward(gc, ac, sc, np);
            normalize_sum_backward(gi, ai, si, np);
        }
        const double scale = grad_scale / n_total;
        if (dmap_ctx) column_mean_backward(dmap_ctx + (size_t)f->sample * plane_c, gc, Nv, Tc, f->start, f->end, scale);
        if (dmap_iso) column_mean_backward(dmap_iso + (size_t)m * plane_i, gi, Nv, Ti, 1, 1 + f->iso_len, scale);
    }
    return total / n_total;
}
