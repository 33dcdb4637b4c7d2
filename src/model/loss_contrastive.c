/* Contrastive loss with the query image as an extra negative (docs/model.md section 5). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/loss.h"

/* xh [B,P] = x / max(|x|, 1e-12); norm [B] */
static void normalize_rows(double *xh, double *norm, const float *x, int B, int P) {
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int i = 0; i < P; i++) s += (double)x[(size_t)b * P + i] * x[(size_t)b * P + i];
        double n = sqrt(s);
        norm[b] = n > 1e-12 ? n : 1e-12;
        for (int i = 0; i < P; i++) xh[(size_t)b * P + i] = x[(size_t)b * P + i] / norm[b];
    }
}

/* dx += (dxh - xh (xh . dxh)) / |x| */
static void normalize_rows_backward(float *dx, const double *dxh, const double *xh, const double *norm, int B, int P) {
    for (int b = 0; b < B; b++) {
        const double *g = dxh + (size_t)b * P, *y = xh + (size_t)b * P;
        double dot = 0;
        for (int i = 0; i < P; i++) dot += g[i] * y[i];
        for (int i = 0; i < P; i++) dx[(size_t)b * P + i] += (float)((g[i] - y[i] * dot) / norm[b]);
    }
}

static double dot(const double *a, const double *b, int P) {
    double s = 0;
    for (int i = 0; i < P; i++) s += a[i] * b[i];
    return s;
}

/* Softmax cross-entropy of one row of logits against `label`; adds w * d/dlogits to g. */
static double row_ce(const double *logits, int n, int label, double *g, double w) {
    double mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double z = 0;
    for (int i = 0; i < n; i++) z += exp(logits[i] - mx);
    for (int i = 0; i < n; i++) g[i] += w * (exp(logits[i] - mx) / z - (i == label));
    return mx + log(z) - logits[label];
}

size_t ct_contrastive_work_size(int B, int P) { return 6 * (size_t)B * P + 7 * (size_t)B; }

double ct_contrastive_loss(float *dq, float *dt, float *dqn, const float *q, const float *t, const float *qn, int B,
                           int P, double tau, ct_query_negatives mode, bool symmetric) {
    double *work = malloc(ct_contrastive_work_size(B, P) * sizeof *work);
    if (!work) return NAN;
    double loss = ct_contrastive_loss_ws(dq, dt, dqn, q, t, qn, B, P, tau, mode, symmetric, work);
    free(work);
    return loss;
}

double ct_contrastive_loss_ws(float *dq, float *dt, float *dqn, const float *q, const float *t, const float *qn, int B,
                              int P, double tau, ct_query_negatives mode, bool symmetric, double *work) {
    const bool use_qn = mode != CT_QNEG_NONE && qn;
    const size_t bp = (size_t)B * P;
    memset(work, 0, ct_contrastive_work_size(B, P) * sizeof *work);
    double *qh = work, *th = qh + bp, *nh = th + bp, *dqh = nh + bp, *dth = dqh + bp, *dnh = dth + bp;
    double *norms = dnh + bp, *logits = norms + 3 * (size_t)B, *g = logits + 2 * (size_t)B;
    double loss;
    normalize_rows(qh, norms, q, B, P);
    normalize_rows(th, norms + B, t, B, P);
    if (use_qn) normalize_rows(nh, norms + 2 * B, qn, B, P);
    const double w = (symmetric ? 0.5 : 1.0) / B, inv_tau = 1.0 / tau;
    double total = 0;
    /* query -> targets (+ query negatives) */
    for (int n = 0; n < B; n++) {
        const double *qv = qh + (size_t)n * P;
        int cols = 0;
        for (int i = 0; i < B; i++) logits[cols++] = dot(qv, th + (size_t)i * P, P) * inv_tau;
        int j0 = mode == CT_QNEG_OWN ? n : 0, j1 = mode == CT_QNEG_OWN ? n + 1 : B;
        if (use_qn)
            for (int j = j0; j < j1; j++) logits[cols++] = dot(qv, nh + (size_t)j * P, P) * inv_tau;
        memset(g, 0, (size_t)cols * sizeof *g);
        total += w * row_ce(logits, cols, n, g, w);
        for (int i = 0; i < B; i++)
            for (int k = 0; k < P; k++) {
                dqh[(size_t)n * P + k] += g[i] * inv_tau * th[(size_t)i * P + k];
                dth[(size_t)i * P + k] += g[i] * inv_tau * qv[k];
            }
        if (use_qn)
            for (int j = j0; j < j1; j++) {
                double gj = g[B + j - j0] * inv_tau;
                for (int k = 0; k < P; k++) {
                    dqh[(size_t)n * P + k] += gj * nh[(size_t)j * P + k];
                    dnh[(size_t)j * P + k] += gj * qv[k];
                }
            }
    }
    /* target -> queries */
    if (symmetric)
        for (int n = 0; n < B; n++) {
            const double *tv = th + (size_t)n * P;
            for (int i = 0; i < B; i++) logits[i] = dot(tv, qh + (size_t)i * P, P) * inv_tau;
            memset(g, 0, (size_t)B * sizeof *g);
            total += w * row_ce(logits, B, n, g, w);
            for (int i = 0; i < B; i++)
                for (int k = 0; k < P; k++) {
                    dth[(size_t)n * P + k] += g[i] * inv_tau * qh[(size_t)i * P + k];
                    dqh[(size_t)i * P + k] += g[i] * inv_tau * tv[k];
                }
        }
    loss = total;
    if (dq) normalize_rows_backward(dq, dqh, qh, norms, B, P);
    if (dt) normalize_rows_backward(dt, dth, th, norms + B, B, P);
    if (dqn && use_qn) normalize_rows_backward(dqn, dnh, nh, norms + 2 * B, B, P);
    return loss;
}
