/* Prediction files, CIRR / CIRCO server files, and their validators. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/namemap.h"
#include "core/str.h"
#include "ctcir/metrics.h"
#include "ctcir/version.h"

/* ---- writing ---- */

/* Every writer goes through ct_atomic_*: the file appears under its name complete or not
 * at all, and any failed write (a full disk) is reported by ct_atomic_commit. */

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

static ct_status open_out(const char *what, const char *path, ct_atomic_file *a) {
    ct_status st = ct_atomic_begin(a, path);
    return st ? ct_fail(st, "%s: %s", what, ct_error()) : CT_OK;
}

static ct_status close_out(const char *what, ct_atomic_file *a) {
    ct_status st = ct_atomic_commit(a);
    return st ? ct_fail(st, "%s: %s", what, ct_error()) : CT_OK;
}

/* Writes the names of up to n entries of row, skipping `exclude`. */
static void put_row(FILE *f, const ct_dataset *ds, const int *row, int k, int n, int exclude, bool ints) {
    fputc('[', f);
    int w = 0;
    for (int j = 0; j < k && w < n; j++) {
        if (row[j] < 0 || row[j] == exclude) continue;
        if (w++) fputs(", ", f);
        if (ints)
            fputs(ds->gallery_names[row[j]], f);
        else
            ct_json_put_string(f, ds->gallery_names[row[j]]);
    }
    fputc(']', f);
}

/* One query's line of a predictions file, kept until the file is written. */
typedef struct {
    char *id;
    int n;
    char **names;
} pred_entry;

struct ct_predictions_writer {
    ct_atomic_file out;
    pred_entry *e;
    int n, cap;
    ct_namemap *ids;
};

static void pred_writer_release(ct_predictions_writer *w) {
    for (int i = 0; i < w->n; i++) {
        free(w->e[i].id);
        ct_str_list_free(w->e[i].names, w->e[i].n);
    }
    free(w->e);
    ct_namemap_free(w->ids);
    free(w);
}

ct_status ct_predictions_writer_new(ct_predictions_writer **out, const char *path) {
    *out = NULL;
    ct_predictions_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->ids = ct_namemap_new())) {
        free(w);
        return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
    }
    /* Created now, so that an unwritable path fails before the evaluation runs. */
    ct_status st = open_out("predictions", path, &w->out);
    if (st) {
        pred_writer_release(w);
        return st;
    }
    *out = w;
    return CT_OK;
}

void ct_predictions_writer_free(ct_predictions_writer *w) {
    if (!w) return;
    ct_atomic_abort(&w->out);
    pred_writer_release(w);
}

ct_status ct_predictions_writer_add(ct_predictions_writer *w, const ct_dataset *ds, const int *topk_idx, int k, int n) {
    const ct_ds_protocol *proto = ct_dataset_protocol(ds->kind);
    for (int q = 0; q < ds->n_queries; q++) {
        const char *id = ds->queries[q].id;
        if (w->n == w->cap) {
            int nc = w->cap ? w->cap * 2 : 1024;
            pred_entry *ne = realloc(w->e, (size_t)nc * sizeof *ne);
            if (!ne) return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
            w->e = ne;
            w->cap = nc;
        }
        int r = ct_namemap_put(w->ids, id, w->n);
        if (r == -2) return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
        if (r != w->n) return ct_fail(CT_ERR_FORMAT, "predictions: %s: query id '%s' appears twice", w->out.path, id);
        pred_entry *e = &w->e[w->n];
        e->id = ct_strdup(id);
        e->names = calloc((size_t)n + 1, sizeof *e->names);
        e->n = 0;
        w->n++;
        if (!e->id || !e->names) return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
        int ex = proto->removes_reference ? ct_dataset_find(ds, ds->queries[q].ref_name) : -1;
        const int *row = topk_idx + (size_t)q * k;
        for (int j = 0; j < k && e->n < n; j++) {
            if (row[j] < 0 || row[j] == ex) continue;
            if (!(e->names[e->n++] = ct_strdup(ds->gallery_names[row[j]])))
                return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
        }
    }
    return CT_OK;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const pred_entry *)a)->id, ((const pred_entry *)b)->id);
}

ct_status ct_predictions_writer_commit(ct_predictions_writer *w) {
    FILE *f = w->out.fp;
    qsort(w->e, (size_t)w->n, sizeof *w->e, cmp_entry);
    fputc('{', f);
    for (int i = 0; i < w->n; i++) {
        ct_json_put_string(f, w->e[i].id);
        fputs(": [", f);
        for (int j = 0; j < w->e[i].n; j++) {
            if (j) fputs(", ", f);
            ct_json_put_string(f, w->e[i].names[j]);
        }
        fputs("], ", f);
    }
    /* Which ctcir wrote it: last, after the sorted query ids. */
    fprintf(f, "\"" CT_PREDICTIONS_INFO_KEY "\": {\"commit\": ");
    ct_json_put_string(f, ctcir_commit());
    fputs(", \"version\": ", f);
    ct_json_put_string(f, ctcir_version());
    fputs("}}\n", f);
    ct_status st = close_out("predictions", &w->out);
    pred_writer_release(w);
    return st;
}

ct_status ct_write_predictions(const char *path, const ct_dataset *ds, const int *topk_idx, int k, int n) {
    ct_predictions_writer *w;
    ct_status st = ct_predictions_writer_new(&w, path);
    if (st) return st;
    if ((st = ct_predictions_writer_add(w, ds, topk_idx, k, n))) {
        ct_predictions_writer_free(w);
        return st;
    }
    return ct_predictions_writer_commit(w);
}

static const ct_eval_plan *sort_plan;
static const int64_t *sort_rank;
static int cmp_rank(const void *a, const void *b) {
    int64_t x = sort_rank[*(const int *)a], y = sort_rank[*(const int *)b];
    return (x > y) - (x < y);
}

ct_status ct_write_cirr_submission(const char *path_recall, const char *path_subset, const ct_dataset *ds,
                                   const ct_eval_plan *plan, const int *topk_idx, int k) {
    if (plan->Q != ds->n_queries || ct_dataset_protocol(ds->kind)->submission != CT_SUBMISSION_CIRR)
        return ct_fail(CT_ERR_ARG, "cirr submission: the plan does not belong to a CIRR dataset");
    int *order = sorted_queries(ds);
    if (!order) return ct_fail(CT_ERR_NOMEM, "cirr submission: out of memory");
    ct_atomic_file a = {0};
    FILE *f = NULL;
    ct_status st = CT_OK;
    /* json.dump(sort_keys=True): digits sort before "metric" and "version". */
    if (path_recall) {
        if ((st = open_out("cirr submission", path_recall, &a))) goto fail;
        f = a.fp;
        fputc('{', f);
        for (int i = 0; i < ds->n_queries; i++) {
            int q = order[i];
            ct_json_put_string(f, ds->queries[q].id);
            fputs(": ", f);
            put_row(f, ds, topk_idx + (size_t)q * k, k, 50, plan->exclude[q], false);
            fputs(", ", f);
        }
        fputs("\"metric\": \"recall\", \"version\": \"rc2\"}\n", f);
        st = close_out("cirr submission", &a);
        if (st) goto fail;
    }
    if (path_subset) {
        if ((st = open_out("cirr submission", path_subset, &a))) goto fail;
        f = a.fp;
        fputc('{', f);
        for (int i = 0; i < ds->n_queries; i++) {
            int q = order[i];
            int64_t lo = plan->off[q], hi = plan->off[q + 1];
            int idx[64], m = 0;
            for (int64_t j = lo; j < hi && m < 64; j++) idx[m++] = (int)(j - lo);
            sort_plan = plan;
            sort_rank = plan->rank + lo;
            qsort(idx, (size_t)m, sizeof *idx, cmp_rank);
            ct_json_put_string(f, ds->queries[q].id);
            fputs(": [", f);
            for (int j = 0; j < m && j < 3; j++) {
                if (j) fputs(", ", f);
                ct_json_put_string(f, ds->gallery_names[plan->probe[lo + idx[j]]]);
            }
            fputs("], ", f);
        }
        fputs("\"metric\": \"recall_subset\", \"version\": \"rc2\"}\n", f);
        st = close_out("cirr submission", &a);
    }
fail:
    ct_atomic_abort(&a);
    free(order);
    return st;
}

ct_status ct_write_circo_submission(const char *path, const ct_dataset *ds, const int *topk_idx, int k) {
    ct_atomic_file a;
    ct_status st = open_out("circo submission", path, &a);
    if (st) return st;
    FILE *f = a.fp;
    /* CIRCO ids are the list positions 0..n-1, so file order is numeric order. */
    fputc('{', f);
    for (int q = 0; q < ds->n_queries; q++) {
        if (q) fputs(", ", f);
        ct_json_put_string(f, ds->queries[q].id);
        fputs(": ", f);
        put_row(f, ds, topk_idx + (size_t)q * k, k, 50, -1, true);
    }
    fputs("}\n", f);
    return close_out("circo submission", &a);
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
    if (!p->ids || !p->len || !p->names || !ids) {
        st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
        goto fail;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        const char *key = e->string ? e->string : "";
        if (strcmp(key, CT_PREDICTIONS_INFO_KEY) == 0 && cJSON_IsObject(e)) continue;
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
            st = ct_fail(CT_ERR_FORMAT, "predictions: %s: query '%s': expected a list of names or integer ids", path,
                         key);
            goto fail;
        }
        p->ids[p->n] = ct_strdup(key);
        p->len[p->n] = len;
        p->names[p->n] = names;
        p->n++;
        seen = ct_namemap_new();
        if (!seen || !p->ids[p->n - 1]) {
            st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
            goto fail;
        }
        for (int i = 0; i < len; i++)
            if (ct_namemap_put(seen, names[i], i) != i) {
                st = ct_fail(CT_ERR_FORMAT,
                             "predictions: %s: query '%s': '%s' appears twice in its list "
                             "(positions %d and %d)",
                             path, key, names[i], ct_namemap_get(seen, names[i]), i);
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
    if (!m || !w) {
        ct_namemap_free(m);
        free(w);
        return ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
    }
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
    if (!lists || !n) {
        st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
        goto fail;
    }
    for (int q = 0; q < ds->n_queries; q++) {
        if (w[q] < 0) {
            st = ct_fail(CT_ERR_FORMAT, "predictions: query '%s' of %s is missing", ds->queries[q].id, ds->name);
            goto fail;
        }
        int len = p->len[w[q]];
        lists[q] = malloc(((size_t)len + 1) * sizeof **lists);
        if (!lists[q]) {
            st = ct_fail(CT_ERR_NOMEM, "predictions: out of memory");
            goto fail;
        }
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
        st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: \"version\" must be \"rc2\" (got %s)", path,
                     p.version ? p.version : "none");
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
            st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: pairid %s: %d names (expected %d for %s)", path, p.ids[i],
                         p.len[i], want, p.metric);
            goto fail;
        }
    }
    if (ds) {
        if (p.n != ds->n_queries) {
            st = ct_fail(CT_ERR_FORMAT, "cirr submission: %s: %d queries (expected %d of %s)", path, p.n, ds->n_queries,
                         ds->name);
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
                const char *why = ct_dataset_find(ds, nm) < 0     ? "is not in the gallery"
                                  : strcmp(nm, qq->ref_name) == 0 ? "is the reference"
                                  : subset && !member             ? "is not a subset member"
                                                                  : NULL;
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
            st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: keys must be 0..%d; '%s' is missing", path, p.n - 1,
                         want);
            goto fail;
        }
        if (p.len[i] != 50) {
            st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: %d ids (expected 50)", path, p.ids[i],
                         p.len[i]);
            goto fail;
        }
        for (int j = 0; j < p.len[i]; j++)
            if (!all_digits(p.names[i][j])) {
                st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: '%s' is not an integer image id", path,
                             p.ids[i], p.names[i][j]);
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
                    st = ct_fail(CT_ERR_FORMAT, "circo submission: %s: query %s: id %s is not in the gallery", path,
                                 p.ids[i], p.names[i][j]);
                    goto fail;
                }
    }
fail:
    ct_predictions_free(&p);
    return st;
}
