/* Prediction files, CIRR / CIRCO server files, and their validators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/metrics.h"
#include "core/json.h"
#include "core/namemap.h"
#include "core/str.h"

/* ---- writing ---- */

static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Query order with ids sorted as Python sorts str keys (code point order = strcmp). */
static const ct_dataset *sort_ds;
static int cmp_qid(const void *a, const void *b) {
    return strcmp(sort_ds->queries[*(const int *)a].id, sort_ds->queries[*(const int *)b].id);
}
static int *sorted_queries(const ct_dataset *ds) {
    int *o = malloc(((size_t)ds->n_queries + 1) * sizeof *o);
    if (!o) return NULL;
    for (int i = 0; i < ds->n_queries; i++) o[i] = i;
    sort_ds = ds; /* qsort has no context argument; writers run one at a time */
    qsort(o, (size_t)ds->n_queries, sizeof *o, cmp_qid);
    return o;
}

static bool removes_reference(ct_dataset_kind k) { return k != CT_DS_CIRCO && k != CT_DS_FASHIONIQ; }

static ct_status open_out(const char *path, FILE **f) {
    *f = fopen(path, "w");
    if (!*f) return ct_fail(CT_ERR_IO, "predictions: %s: cannot create: %s", path, strerror(errno));
    return CT_OK;
}

static ct_status close_out(const char *path, FILE *f) {
    bool bad = ferror(f);
    if (fclose(f) != 0 || bad) return ct_fail(CT_ERR_IO, "predictions: %s: write failed", path);
    return CT_OK;
}

/* Writes the names of up to n entries of row, skipping `exclude`. */
static void put_row(FILE *f, const ct_dataset *ds, const int *row, int k, int n, int exclude, bool ints) {
    fputc('[', f);
    int w = 0;
    for (int j = 0; j < k && w < n; j++) {
        if (row[j] < 0 || row[j] == exclude) continue;
        if (w++) fputs(", ", f);
        if (ints) fputs(ds->gallery_names[row[j]], f);
        else put_json_string(f, ds->gallery_names[row[j]]);
    }
    fputc(']', f);
}

ct_status ct_write_predictions(const char *path, const ct_dataset *ds, const int *topk_idx, int k, int n) {
    int *order = sorted_queries(ds);
    if (!order) return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
    FILE *f;
    ct_status st = open_out(path, &f);
    if (st) { free(order); return st; }
    fputc('{', f);
    for (int i = 0; i < ds->n_queries; i++) {
        int q = order[i];
        if (i) fputs(", ", f);
        put_json_string(f, ds->queries[q].id);
        fputs(": ", f);
        int ex = removes_reference(ds->kind) ? ct_dataset_find(ds, ds->queries[q].ref_name) : -1;
        put_row(f, ds, topk_idx + (size_t)q * k, k, n, ex, false);
    }
    fputs("}\n", f);
    free(order);
    return close_out(path, f);
}

static const ct_eval_plan *sort_plan;
static const int64_t *sort_rank;
static int cmp_rank(const void *a, const void *b) {
    int64_t x = sort_rank[*(const int *)a], y = sort_rank[*(const int *)b];
    return (x > y) - (x < y);
}

ct_status ct_write_cirr_submission(const char *path_recall, const char *path_subset,
                                   const ct_dataset *ds, const ct_eval_plan *plan,
                                   const int *topk_idx, int k) {
    if (plan->Q != ds->n_queries || (ds->kind != CT_DS_CIRR && ds->kind != CT_DS_CIRR_R))
        return ct_fail(CT_ERR_ARG, "cirr submission: the plan does not belong to a CIRR dataset");
    int *order = sorted_queries(ds);
    if (!order) return ct_fail(CT_ERR_NOMEM, "cirr submission: out of memory");
    FILE *f = NULL;
    ct_status st = CT_OK;
    /* json.dump(sort_keys=True): digits sort before "metric" and "version". */
    if (path_recall) {
        if ((st = open_out(path_recall, &f))) goto fail;
        fputc('{', f);
        for (int i = 0; i < ds->n_queries; i++) {
            int q = order[i];
            put_json_string(f, ds->queries[q].id);
            fputs(": ", f);
            put_row(f, ds, topk_idx + (size_t)q * k, k, 50, plan->exclude[q], false);
            fputs(", ", f);
        }
        fputs("\"metric\": \"recall\", \"version\": \"rc2\"}\n", f);
        st = close_out(path_recall, f);
        f = NULL;
        if (st) goto fail;
    }
    if (path_subset) {
        if ((st = open_out(path_subset, &f))) goto fail;
        fputc('{', f);
        for (int i = 0; i < ds->n_queries; i++) {
            int q = order[i];
            int64_t a = plan->off[q], b = plan->off[q + 1];
            int idx[64], m = 0;
            for (int64_t j = a; j < b && m < 64; j++) idx[m++] = (int)(j - a);
            sort_plan = plan;
            sort_rank = plan->rank + a;
            qsort(idx, (size_t)m, sizeof *idx, cmp_rank);
            put_json_string(f, ds->queries[q].id);
            fputs(": [", f);
            for (int j = 0; j < m && j < 3; j++) {
                if (j) fputs(", ", f);
                put_json_string(f, ds->gallery_names[plan->probe[a + idx[j]]]);
            }
            fputs("], ", f);
        }
        fputs("\"metric\": \"recall_subset\", \"version\": \"rc2\"}\n", f);
        st = close_out(path_subset, f);
        f = NULL;
    }
fail:
    if (f) fclose(f);
    free(order);
    return st;
}

ct_status ct_write_circo_submission(const char *path, const ct_dataset *ds, const int *topk_idx, int k) {
    FILE *f;
    ct_status st = open_out(path, &f);
    if (st) return st;
    /* CIRCO ids are the list positions 0..n-1, so file order is numeric order. */
    fputc('{', f);
    for (int q = 0; q < ds->n_queries; q++) {
        if (q) fputs(", ", f);
        put_json_string(f, ds->queries[q].id);
        fputs(": ", f);
        put_row(f, ds, topk_idx + (size_t)q * k, k, 50, -1, true);
    }
    fputs("}\n", f);
    return close_out(path, f);
}

/* ---- reading ---- */

void ct_predictions_free(ct_predictions *p) {
    for (int i = 0; i < p->n; i++) {
        free(p->ids[i]);
        ct_str_list_free(p->names[i], p->len[i]);
    }
    free(p->ids);
    free(p->len);
    free(p->names);
    free(p->version);
    free(p->metric);
    memset(p, 0, sizeof *p);
}

ct_status ct_predictions_load(ct_predictions *p, const char *path) {
    memset(p, 0, sizeof *p);
    cJSON *j = NULL;
    ct_namemap *seen = NULL, *ids = NULL;
    ct_status st = ct_json_load(path, &j);
    if (st) return st;
    if (!cJSON_IsObject(j)) {
        st = ct_fail(CT_ERR_FORMAT, "predictions: %s: expected a JSON object {query id: [names]}", path);
        goto fail;
    }
    int n = cJSON_GetArraySize(j);
    p->ids = calloc((size_t)n + 1, sizeof *p->ids);
    p->len = calloc((size_t)n + 1, sizeof *p->len);
    p->names = calloc((size_t)n + 1, sizeof *p->names);
    ids = ct_namemap_new();
    if (!p->ids || !p->len || !p->names || !ids) { st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory"); goto fail; }
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        const char *key = e->string ? e->string : "";
        if (strcmp(key, "version") == 0 || strcmp(key, "metric") == 0) {
            if (!cJSON_IsString(e)) {
                st = ct_fail(CT_ERR_FORMAT, "predictions: %s: entry '%s' is not a string", path, key);
                goto fail;
            }
            char **dst = key[0] == 'v' ? &p->version : &p->metric;
            free(*dst);
            *dst = ct_strdup(e->valuestring);
            continue;
        }
        if (ct_namemap_put(ids, key, p->n) != p->n) {
            st = ct_fail(CT_ERR_FORMAT, "predictions: %s: query '%s' appears twice", path, key);
            goto fail;
        }
        int len;
        char **names;
        if (!ct_json_str_list(j, key, false, &len, &names)) {
            st = ct_fail(CT_ERR_FORMAT, "predictions: %s: query '%s': expected a list of names or integer ids", path, key);
            goto fail;
        }
        p->ids[p->n] = ct_strdup(key);
        p->len[p->n] = len;
        p->names[p->n] = names;
        p->n++;
        seen = ct_namemap_new();
        if (!seen || !p->ids[p->n - 1]) { st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory"); goto fail; }
        for (int i = 0; i < len; i++)
            if (ct_namemap_put(seen, names[i], i) != i) {
                st = ct_fail(CT_ERR_FORMAT, "predictions: %s: query '%s': '%s' appears twice in its list "
                             "(positions %d and %d)", path, key, names[i], ct_namemap_get(seen, names[i]), i);
                goto fail;
            }
        ct_namemap_free(seen);
        seen = NULL;
    }
fail:
    ct_namemap_free(seen);
    ct_namemap_free(ids);
    cJSON_Delete(j);
    if (st) ct_predictions_free(p);
    return st;
}

static int find_pred(const ct_predictions *p, const char *id) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->ids[i], id) == 0) return i;
    return -1;
}

/* id -> prediction index for every query of ds (-1 when absent). */
static ct_status match_queries(const ct_predictions *p, const ct_dataset *ds, int **out) {
    ct_namemap *m = ct_namemap_new();
    int *w = malloc(((size_t)ds->n_queries + 1) * sizeof *w);
    if (!m || !w) { ct_namemap_free(m); free(w); return ct_fail(CT_ERR_NOMEM, "predictions: out of memory"); }
    for (int i = 0; i < p->n; i++) ct_namemap_put(m, p->ids[i], i);
    for (int q = 0; q < ds->n_queries; q++) w[q] = ct_namemap_get(m, ds->queries[q].id);
    ct_namemap_free(m);
    *out = w;
    return CT_OK;
}

ct_status ct_eval_rank_predictions(ct_eval_plan *plan, const ct_dataset *ds, const ct_predictions *p) {
    int *w;
    ct_status st = match_queries(p, ds, &w);
    if (st) return st;
    int **lists = calloc((size_t)ds->n_queries + 1, sizeof *lists);
    int *n = calloc((size_t)ds->n_queries + 1, sizeof *n);
    if (!lists || !n) { st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory"); goto fail; }
    for (int q = 0; q < ds->n_queries; q++) {
        if (w[q] < 0) {
            st = ct_fail(CT_ERR_FORMAT, "predictions: query '%s' of %s is missing", ds->queries[q].id, ds->name);
            goto fail;
        }
        int len = p->len[w[q]];
        lists[q] = malloc(((size_t)len + 1) * sizeof **lists);
        if (!lists[q]) { st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory"); goto fail; }
        for (int i = 0; i < len; i++) lists[q][i] = ct_dataset_find(ds, p->names[w[q]][i]);
        n[q] = len;
    }
    st = ct_eval_rank_lists(plan, (const int *const *)lists, n);
fail:
    if (lists)
        for (int q = 0; q < ds->n_queries; q++) free(lists[q]);
    free(lists);
    free(n);
    free(w);
    return st;
}

/* ---- validation ---- */

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

ct_status ct_validate_cirr_submission(const char *path, const ct_dataset *ds) {
    ct_predictions p;
    ct_status st = ct_predictions_load(&p, path);
    if (st) return st;
    int *w = NULL;
    bool subset = p.metric && strcmp(p.metric, "recall_subset") == 0;
    int want = subset ? 3 : 50;
    if (!p.version || strcmp(p.version, "rc2") != 0) {
        st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: \"version\" must be \"rc2\" (got %s)", path, p.version ? p.version : "none");
        goto fail;
    }
    if (!p.metric || (!subset && strcmp(p.metric, "recall") != 0)) {
        st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: \"metric\" must be \"recall\" or \"recall_subset\" (got %s)",
                     path, p.metric ? p.metric : "none");
        goto fail;
    }
    for (int i = 0; i < p.n; i++) {
        if (!all_digits(p.ids[i])) {
            st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: key '%s' is not a pairid", path, p.ids[i]);
            goto fail;
        }
        if (p.len[i] != want) {
            st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: pairid %s: %d names (expected %d for %s)", path,
                         p.ids[i], p.len[i], want, p.metric);
            goto fail;
        }
    }
    if (ds) {
        if (p.n != ds->n_queries) {
            st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: %d queries (expected %d of %s)", path, p.n, ds->n_queries, ds->name);
            goto fail;
        }
        if ((st = match_queries(&p, ds, &w))) goto fail;
        for (int q = 0; q < ds->n_queries; q++) {
            const ct_query *qq = &ds->queries[q];
            if (w[q] < 0) {
                st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: pairid %s missing", path, qq->id);
                goto fail;
            }
            for (int j = 0; j < p.len[w[q]]; j++) {
                const char *nm = p.names[w[q]][j];
                bool member = false;
                for (int m = 0; m < qq->n_members; m++) member |= strcmp(qq->members[m], nm) == 0;
                const char *why = ct_dataset_find(ds, nm) < 0 ? "is not in the gallery"
                                  : strcmp(nm, qq->ref_name) == 0 ? "is the reference"
                                  : subset && !member ? "is not a subset member" : NULL;
                if (why) {
                    st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: pairid %s: '%s' %s", path, qq->id, nm, why);
                    goto fail;
                }
            }
        }
    }
fail:
    free(w);
    ct_predictions_free(&p);
    return st;
}

ct_status ct_validate_circo_submission(const char *path, const ct_dataset *ds) {
    ct_predictions p;
    ct_status st = ct_predictions_load(&p, path);
    if (st) return st;
    if (p.version || p.metric) {
        st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: unexpected \"version\"/\"metric\" entry", path);
        goto fail;
    }
    /* evaluation.py asserts the keys are exactly 0..n-1. */
    for (int i = 0; i < p.n; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d", i);
        if (find_pred(&p, want) < 0) {
            st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: keys must be 0..%d; '%s' is missing", path, p.n - 1, want);
            goto fail;
        }
        if (p.len[i] != 50) {
            st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: %d ids (expected 50)", path, p.ids[i], p.len[i]);
            goto fail;
        }
        for (int j = 0; j < p.len[i]; j++)
            if (!all_digits(p.names[i][j])) {
                st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: '%s' is not an integer image id",
                             path, p.ids[i], p.names[i][j]);
                goto fail;
            }
    }
    if (ds) {
        if (p.n != ds->n_queries) {
            st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: %d queries (expected all %d of %s)", path, p.n,
                         ds->n_queries, ds->name);
            goto fail;
        }
        for (int i = 0; i < p.n; i++)
            for (int j = 0; j < p.len[i]; j++)
                if (ct_dataset_find(ds, p.names[i][j]) < 0) {
                    st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: id %s is not in the gallery",
                                 path, p.ids[i], p.names[i][j]);
                    goto fail;
                }
    }
fail:
    ct_predictions_free(&p);
    return st;
}
