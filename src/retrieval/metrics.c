/* Metrics from ranks (see include/ctcir/metrics.h for the protocols and the tie rule). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/metrics.h"
#include "retrieval/ret_internal.h"

double ct_metric_get(const ct_metric_set *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0) return m->values[i];
    return NAN;
}

void ct_metric_print_json(FILE *f, const ct_metric_set *m) {
    fputc('{', f);
    for (int i = 0; i < m->n; i++) fprintf(f, "%s\"%s\": %.4f", i ? ", " : "", m->names[i], m->values[i]);
    fprintf(f, "%s\"n_queries\": %d}\n", m->n ? ", " : "", m->n_queries);
}

static void metric_add(ct_metric_set *m, const char *name, double v) {
    if (m->n >= CT_METRICS_MAX) return;
    snprintf(m->names[m->n], sizeof m->names[0], "%s", name);
    m->values[m->n++] = v;
}

void ct_eval_plan_free(ct_eval_plan *p) {
    free(p->exclude);
    free(p->n_target);
    free(p->subset);
    free(p->off);
    free(p->probe);
    free(p->rank);
    memset(p, 0, sizeof *p);
}

ct_status ct_eval_plan_build(ct_eval_plan *p, const ct_dataset *ds) {
    memset(p, 0, sizeof *p);
    int Q = ds->n_queries;
    p->Q = Q;
    p->G = ds->n_gallery;
    p->kind = ds->kind;
    const ct_ds_protocol *proto = ct_dataset_protocol(ds->kind);
    bool subset = proto->has_subset;
    p->exclude = malloc(((size_t)Q + 1) * sizeof *p->exclude);
    p->n_target = malloc(((size_t)Q + 1) * sizeof *p->n_target);
    p->off = malloc(((size_t)Q + 1) * sizeof *p->off);
    p->subset = calloc((size_t)Q + 1, sizeof *p->subset);
    if (!p->exclude || !p->n_target || !p->off || !p->subset) goto nomem;
    int64_t total = 0;
    for (int q = 0; q < Q; q++) total += ds->queries[q].n_targets + (subset ? ds->queries[q].n_members : 0);
    p->probe = malloc(((size_t)total + 1) * sizeof *p->probe);
    p->rank = calloc((size_t)total + 1, sizeof *p->rank);
    if (!p->probe || !p->rank) goto nomem;
    int64_t o = 0;
    for (int q = 0; q < Q; q++) {
        const ct_query *qq = &ds->queries[q];
        p->off[q] = o;
        int ref = ct_dataset_find(ds, qq->ref_name);
        p->exclude[q] = proto->removes_reference ? ref : -1;
        if (proto->removes_reference && ref < 0)
            return ct_eval_plan_free(p),
                   ct_fail(CT_ERR_FORMAT, "eval: %s: query %s: reference '%s' is not in the gallery", ds->name, qq->id,
                           qq->ref_name);
        p->n_target[q] = qq->n_targets;
        for (int t = 0; t < qq->n_targets; t++) {
            int g = ct_dataset_find(ds, qq->targets[t]);
            if (g < 0 || g == p->exclude[q]) {
                ct_eval_plan_free(p);
                return ct_fail(CT_ERR_FORMAT, "eval: %s: query %s: target '%s' is %s", ds->name, qq->id, qq->targets[t],
                               g < 0 ? "not in the gallery" : "its own reference");
            }
            p->probe[o++] = g;
        }
        p->subset[q] = subset && qq->n_members > 0;
        if (subset)
            for (int m = 0; m < qq->n_members; m++) {
                int g = ct_dataset_find(ds, qq->members[m]);
                if (g < 0) {
                    ct_eval_plan_free(p);
                    return ct_fail(CT_ERR_FORMAT, "eval: %s: query %s: member '%s' is not in the gallery", ds->name,
                                   qq->id, qq->members[m]);
                }
                bool is_target = false;
                for (int t = 0; t < qq->n_targets; t++) is_target |= p->probe[p->off[q] + t] == g;
                if (g != ref && !is_target) p->probe[o++] = g;
            }
    }
    p->off[Q] = o;
    return CT_OK;
nomem:
    ct_eval_plan_free(p);
    return ct_fail(CT_ERR_NOMEM, "eval: out of memory for %d queries", Q);
}

void ct_eval_rank_rows(ct_eval_plan *p, int q0, int nq, const float *scores) {
    int G = p->G;
#pragma omp parallel for schedule(dynamic, 16)
    for (int qi = 0; qi < nq; qi++) {
        int q = q0 + qi;
        const float *s = scores + (size_t)qi * G;
        for (int64_t i = p->off[q]; i < p->off[q + 1]; i++) {
            int t = p->probe[i];
            float st = s[t];
            int64_t r = 0;
            for (int g = 0; g < G; g++) r += s[g] > st || (s[g] == st && g < t);
            int e = p->exclude[q];
            if (e >= 0 && e != t) r -= s[e] > st || (s[e] == st && e < t);
            p->rank[i] = r;
        }
    }
}

ct_status ct_eval_rank_scores(ct_eval_plan *p, const float *scores) {
    ct_eval_rank_rows(p, 0, p->Q, scores);
    return CT_OK;
}

ct_status ct_eval_rank_lists(ct_eval_plan *p, const int *const *lists, const int *n) {
    for (int q = 0; q < p->Q; q++) {
        int64_t L = 0;
        for (int j = 0; j < n[q]; j++) L += lists[q][j] < 0 || lists[q][j] != p->exclude[q];
        for (int64_t i = p->off[q]; i < p->off[q + 1]; i++) {
            int64_t r = L, pos = 0;
            for (int j = 0; j < n[q]; j++) {
                int g = lists[q][j];
                if (g >= 0 && g == p->exclude[q]) continue;
                if (g == p->probe[i]) {
                    r = pos;
                    break;
                }
                pos++;
            }
            p->rank[i] = r;
        }
    }
    return CT_OK;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ct_status ct_eval_compute(const ct_eval_plan *p, ct_metric_set *out) {
    memset(out, 0, sizeof *out);
    const ct_ds_protocol *proto = ct_dataset_protocol(p->kind);
    if (!proto) return ct_fail(CT_ERR_ARG, "eval: unknown dataset kind %d", (int)p->kind);
    const int *ks = proto->k;
    int nk = proto->n_k;
    bool subset = proto->has_subset;
    double hit[4] = {0}, shit[3] = {0}, ap[4] = {0};
    int n = 0, n_sub = 0;
    int64_t buf_cap = 0;
    int64_t *buf = NULL;
    for (int q = 0; q < p->Q; q++) {
        int nt = p->n_target[q];
        if (!nt) continue;
        n++;
        const int64_t *r = p->rank + p->off[q];
        for (int k = 0; k < nk; k++) hit[k] += r[0] < ks[k];
        if (subset && (!p->subset || p->subset[q])) {
            n_sub++;
            int64_t s = 0;
            for (int64_t i = p->off[q] + nt; i < p->off[q + 1]; i++) s += p->rank[i] < r[0];
            for (int k = 0; k < 3; k++) shit[k] += s < k + 1;
        }
        if (proto->has_map) {
            if (nt > buf_cap) {
                free(buf);
                buf_cap = nt;
                buf = malloc((size_t)nt * sizeof *buf);
                if (!buf) return ct_fail(CT_ERR_NOMEM, "eval: out of memory");
            }
            memcpy(buf, r, (size_t)nt * sizeof *buf);
            qsort(buf, (size_t)nt, sizeof *buf, cmp_i64);
            for (int k = 0; k < nk; k++) {
                double sum = 0;
                for (int j = 0; j < nt && buf[j] < ks[k]; j++) sum += (double)(j + 1) / (double)(buf[j] + 1);
                ap[k] += sum / (double)(ks[k] < nt ? ks[k] : nt);
            }
        }
    }
    free(buf);
    if (!n) return ct_fail(CT_ERR_ARG, "eval: no query has a ground-truth target (a test split?)");
    char name[24];
    if (proto->has_map)
        for (int k = 0; k < nk; k++) {
            snprintf(name, sizeof name, "mAP@%d", ks[k]);
            metric_add(out, name, 100.0 * ap[k] / n);
        }
    for (int k = 0; k < nk; k++) {
        snprintf(name, sizeof name, "R@%d", ks[k]);
        metric_add(out, name, 100.0 * hit[k] / n);
    }
    if (subset && n_sub) {
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "Rsubset@%d", k + 1);
            metric_add(out, name, 100.0 * shit[k] / n_sub);
        }
        metric_add(out, "avg", (ct_metric_get(out, "R@5") + ct_metric_get(out, "Rsubset@1")) / 2);
    }
    out->n_queries = n;
    return CT_OK;
}

void ct_metrics_fiq_mean(const ct_metric_set *per_cat, int n_cat, ct_metric_set *out) {
    memset(out, 0, sizeof *out);
    double r10 = 0, r50 = 0;
    for (int c = 0; c < n_cat; c++) {
        r10 += ct_metric_get(&per_cat[c], "R@10");
        r50 += ct_metric_get(&per_cat[c], "R@50");
        out->n_queries += per_cat[c].n_queries;
    }
    if (n_cat > 0) {
        r10 /= n_cat;
        r50 /= n_cat;
    }
    metric_add(out, "R@10", r10);
    metric_add(out, "R@50", r50);
    metric_add(out, "avg", (r10 + r50) / 2);
}
