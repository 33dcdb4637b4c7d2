/* Metrics on hand-computed cases, prediction files, submission writers and validators
 * (including the official CIRR and CIRCO example files). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cir_fixture.h"
#include "ctcir/dataset.h"
#include "ctcir/metrics.h"
#include "ctcir/version.h"
#include "test_util.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/* A plan for one query over G items, probes given by hand. */
static void plan1(ct_eval_plan *p, ct_dataset_kind kind, int G, int exclude, int nt, const int *probe, int np) {
    memset(p, 0, sizeof *p);
    p->Q = 1;
    p->G = G;
    p->kind = kind;
    p->exclude = malloc(sizeof(int));
    p->n_target = malloc(sizeof(int));
    p->off = malloc(2 * sizeof(int64_t));
    p->probe = malloc((size_t)np * sizeof(int));
    p->rank = calloc((size_t)np, sizeof(int64_t));
    p->exclude[0] = exclude;
    p->n_target[0] = nt;
    p->off[0] = 0;
    p->off[1] = np;
    memcpy(p->probe, probe, (size_t)np * sizeof(int));
}

static void test_cirr_cases(void) {
    ct_eval_plan p;
    ct_metric_set m;
    /* G = 8, reference 0, target 3, other members 1, 5, 6 (members minus ref minus target). */
    int probe[4] = {3, 1, 5, 6};
    plan1(&p, CT_DS_CIRR, 8, 0, 1, probe, 4);
    /* Perfect: target highest (the reference, highest of all, is removed). */
    float s1[8] = {0.99f, 0.5f, 0.1f, 0.9f, 0.2f, 0.3f, 0.4f, 0.0f};
    ct_eval_rank_scores(&p, s1);
    CHECK(p.rank[0] == 0);
    CHECK(ct_eval_compute(&p, &m) == CT_OK);
    CHECK(NEAR(ct_metric_get(&m, "R@1"), 100) && NEAR(ct_metric_get(&m, "Rsubset@1"), 100) &&
          NEAR(ct_metric_get(&m, "avg"), 100));
    CHECK(m.n_queries == 1 && m.n == 8);
    /* Target at rank 3 (0-based 2): items 1 (0.95) and 4 (0.92) beat it; 4 is no member,
     * so its subset rank is 2 (0-based 1): R@1 = R@2 = 0, R@5 = 100, Rs@1 = 0, Rs@2 = 100. */
    float s2[8] = {0.99f, 0.95f, 0.1f, 0.9f, 0.92f, 0.3f, 0.4f, 0.0f};
    ct_eval_rank_scores(&p, s2);
    CHECK(p.rank[0] == 2 && p.rank[1] == 0);
    CHECK(ct_eval_compute(&p, &m) == CT_OK);
    CHECK(NEAR(ct_metric_get(&m, "R@1"), 0) && NEAR(ct_metric_get(&m, "R@5"), 100));
    CHECK(NEAR(ct_metric_get(&m, "Rsubset@1"), 0) && NEAR(ct_metric_get(&m, "Rsubset@2"), 100));
    CHECK(NEAR(ct_metric_get(&m, "avg"), 50));
    /* All scores tied: ranks follow gallery order, the reference skipped: target 3 has
     * items 1, 2 before it -> rank 2; subset: member 1 before it -> subset rank 1. */
    float s3[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    ct_eval_rank_scores(&p, s3);
    CHECK(p.rank[0] == 2 && p.rank[1] == 0 && p.rank[2] == 4 && p.rank[3] == 5);
    /* Target beyond 50 but subset rank 1: the subset metric needs full-gallery ranks. */
    ct_eval_plan_free(&p);
    int probe2[3] = {60, 61, 62};
    plan1(&p, CT_DS_CIRR, 100, 0, 1, probe2, 3);
    float s4[100];
    for (int i = 0; i < 100; i++) s4[i] = 1.0f - 0.001f * i; /* item i ranks i (ref 0 removed: i - 1) */
    ct_eval_rank_scores(&p, s4);
    CHECK(p.rank[0] == 59);
    ct_eval_compute(&p, &m);
    CHECK(NEAR(ct_metric_get(&m, "R@50"), 0) && NEAR(ct_metric_get(&m, "Rsubset@1"), 100));
    /* The same from a top-50 list: the target is absent (rank 50) -> R@50 = 0. */
    int list[50];
    for (int i = 0; i < 50; i++) list[i] = i + 1;
    const int *lists[1] = {list};
    int n[1] = {50};
    ct_eval_rank_lists(&p, lists, n);
    CHECK(p.rank[0] == 50);
    /* A list that holds the reference: it is skipped, positions shift. */
    int list2[4] = {7, 0, 60, 5};
    lists[0] = list2;
    n[0] = 4;
    ct_eval_rank_lists(&p, lists, n);
    CHECK(p.rank[0] == 1 && p.rank[1] == 3);
    ct_eval_plan_free(&p);
    /* A test split (no target): nothing to evaluate. */
    int probe3[1] = {1};
    plan1(&p, CT_DS_CIRR, 4, 0, 0, probe3, 1);
    CHECK(ct_eval_compute(&p, &m) == CT_ERR_ARG);
    ct_eval_plan_free(&p);
}

static void test_circo_cases(void) {
    ct_eval_plan p;
    ct_metric_set m;
    /* One gt at rank 2 (0-based 1): prec_2 = 1/2, normaliser min(K, 1) = 1:
     * AP@K = 0.5 for every K; R@5 of the target = 100. */
    int probe[1] = {7};
    plan1(&p, CT_DS_CIRCO, 10, -1, 1, probe, 1);
    float s[10] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.95f, 0.99f, 0.0f};
    ct_eval_rank_scores(&p, s);
    CHECK(p.rank[0] == 1);
    CHECK(ct_eval_compute(&p, &m) == CT_OK);
    CHECK(NEAR(ct_metric_get(&m, "mAP@5"), 50) && NEAR(ct_metric_get(&m, "mAP@50"), 50));
    CHECK(NEAR(ct_metric_get(&m, "R@5"), 100) && m.n == 8);
    ct_eval_plan_free(&p);
    /* 14 gts; the list (0-based ranks) holds gts at 0, 1, 3, 9, 30, the other 9 beyond 50.
     *   prec at those: 1/1, 2/2, 3/4, 4/10, 5/31
     *   AP@5  = (1 + 1 + 0.75) / min(5, 14)  = 2.75 / 5   = 0.55
     *   AP@10 = (2.75 + 0.4) / 10           = 3.15 / 10  = 0.315
     *   AP@25 = 3.15 / 14                                   = 0.225
     *   AP@50 = (3.15 + 5/31) / 14 */
    int probe14[14];
    int ranks14[14] = {9, 0, 1, 3, 30, 60, 61, 62, 63, 64, 65, 66, 67, 68}; /* target (first) at rank 9 */
    for (int i = 0; i < 14; i++) probe14[i] = 100 + i;
    plan1(&p, CT_DS_CIRCO, 200, -1, 14, probe14, 14);
    int list[70];
    for (int i = 0; i < 70; i++) list[i] = i; /* filler ids 0..69 are no gts */
    for (int i = 0; i < 14; i++) list[ranks14[i]] = probe14[i];
    const int *lists[1] = {list};
    int n[1] = {50}; /* only the top 50 are known */
    ct_eval_rank_lists(&p, lists, n);
    ct_eval_compute(&p, &m);
    CHECK_MSG(NEAR(ct_metric_get(&m, "mAP@5"), 55), "%f", ct_metric_get(&m, "mAP@5"));
    CHECK(NEAR(ct_metric_get(&m, "mAP@10"), 31.5));
    CHECK(NEAR(ct_metric_get(&m, "mAP@25"), 100 * 3.15 / 14));
    CHECK(NEAR(ct_metric_get(&m, "mAP@50"), 100 * (3.15 + 5.0 / 31) / 14));
    /* Recall counts target_img_id only: rank 9 -> R@5 = 0, R@10 = 100. */
    CHECK(NEAR(ct_metric_get(&m, "R@5"), 0) && NEAR(ct_metric_get(&m, "R@10"), 100));
    ct_eval_plan_free(&p);
    /* FashionIQ: reference not removed; R@10, R@50 only; the mean over categories. */
    int probe1[1] = {20};
    plan1(&p, CT_DS_FASHIONIQ, 60, -1, 1, probe1, 1);
    float f[60];
    for (int i = 0; i < 60; i++) f[i] = (float)(60 - i); /* item i at rank i */
    ct_eval_rank_scores(&p, f);
    ct_metric_set cats[2];
    ct_eval_compute(&p, &cats[0]);
    CHECK(cats[0].n == 2 && NEAR(ct_metric_get(&cats[0], "R@10"), 0) && NEAR(ct_metric_get(&cats[0], "R@50"), 100));
    p.probe[0] = 5;
    ct_eval_rank_scores(&p, f);
    ct_eval_compute(&p, &cats[1]);
    ct_metrics_fiq_mean(cats, 2, &m);
    CHECK(NEAR(ct_metric_get(&m, "R@10"), 50) && NEAR(ct_metric_get(&m, "R@50"), 100) &&
          NEAR(ct_metric_get(&m, "avg"), 75));
    ct_eval_plan_free(&p);
}

/* End to end on a manifest: plan from names, the reference removed, writers. */
static void test_manifest_plan(void) {
    fx_write("m/m.jsonl",
             "{\"reference\": \"a.jpg\", \"target\": \"b.jpg\", \"caption\": \"x\"}\n"
             "{\"reference\": \"c.jpg\", \"target\": \"a.jpg\", \"caption\": \"y\", \"id\": \"q\\\"2\"}\n");
    ct_dataset_opts o = {.root = fx_path("m"), .file = fx_path("m/m.jsonl"), .quiet = true};
    ct_dataset *ds = NULL;
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK);
    if (!ds) return;
    /* gallery: a, b, c. Query 1: ref a is the top hit, removed -> b first. */
    ct_eval_plan p;
    CHECK(ct_eval_plan_build(&p, ds) == CT_OK);
    CHECK(p.exclude[0] == 0 && p.probe[0] == 1 && p.exclude[1] == 2 && p.probe[1] == 0);
    float s[6] = {0.9f, 0.8f, 0.1f, /* q2: */ 0.2f, 0.3f, 0.95f};
    ct_eval_rank_scores(&p, s);
    ct_metric_set m;
    ct_eval_compute(&p, &m);
    /* q1: b at rank 0; q2: ref c removed, b (0.3) beats a (0.2) -> rank 1. */
    CHECK(NEAR(ct_metric_get(&m, "R@1"), 50) && NEAR(ct_metric_get(&m, "R@5"), 100));
    int topk[6] = {0, 1, 2, 2, 1, 0};
    CHECK(ct_write_predictions(fx_path("m/pred.json"), ds, topk, 3, 50) == CT_OK);
    char *txt = fx_read(fx_path("m/pred.json"));
    /* The query entries, sorted, then the "__ctcir__" entry naming the writer (version.h). */
    const char *want = "{\"1\": [\"b\", \"c\"], \"q\\\"2\": [\"b\", \"a\"], \"__ctcir__\": {\"commit\": \"";
    CHECK_MSG(txt && strncmp(txt, want, strlen(want)) == 0 && strstr(txt, ctcir_commit()) &&
                  strstr(txt, ctcir_version()) && strcmp(txt + strlen(txt) - 4, "\"}}\n") == 0,
              "%s", txt);
    free(txt);
    /* Reading it back gives the same ranks. */
    ct_predictions pr;
    CHECK(ct_predictions_load(&pr, fx_path("m/pred.json")) == CT_OK);
    CHECK(ct_eval_rank_predictions(&p, ds, &pr) == CT_OK && p.rank[0] == 0 && p.rank[1] == 1);
    ct_predictions_free(&pr);
    /* Duplicates and repeated ids are rejected. */
    fx_write("m/dup.json", "{\"1\": [\"b\", \"c\", \"b\"], \"q\\\"2\": [\"a\"]}");
    CHECK(ct_predictions_load(&pr, fx_path("m/dup.json")) == CT_ERR_FORMAT && strstr(ct_error(), "twice"));
    fx_write("m/dup2.json", "{\"1\": [\"b\"], \"1\": [\"c\"]}");
    CHECK(ct_predictions_load(&pr, fx_path("m/dup2.json")) == CT_ERR_FORMAT && strstr(ct_error(), "appears twice"));
    fx_write("m/miss.json", "{\"1\": [\"b\"]}");
    CHECK(ct_predictions_load(&pr, fx_path("m/miss.json")) == CT_OK);
    CHECK(ct_eval_rank_predictions(&p, ds, &pr) == CT_ERR_FORMAT && strstr(ct_error(), "missing"));
    ct_predictions_free(&pr);
    ct_eval_plan_free(&p);
    ct_dataset_free(ds);
}

/* The server's mAP@K, written straight from evaluation.py on the parsed JSON (a second,
 * independent implementation) for comparison. */
static double server_map(cJSON *ann, cJSON *sub, int K) {
    double sum = 0;
    int nq = 0;
    cJSON *r;
    cJSON_ArrayForEach(r, ann) {
        char key[16];
        snprintf(key, sizeof key, "%d", cJSON_GetObjectItem(r, "id")->valueint);
        cJSON *pred = cJSON_GetObjectItem(sub, key), *gt = cJSON_GetObjectItem(r, "gt_img_ids");
        int ngt = cJSON_GetArraySize(gt), hits = 0;
        double ap = 0;
        for (int i = 0; i < K && i < cJSON_GetArraySize(pred); i++) {
            int id = cJSON_GetArrayItem(pred, i)->valueint, rel = 0;
            for (int g = 0; g < ngt; g++) rel |= cJSON_GetArrayItem(gt, g)->valueint == id;
            hits += rel;
            ap += rel ? (double)hits / (i + 1) : 0;
        }
        sum += ap / (K < ngt ? K : ngt);
        nq++;
    }
    return 100 * sum / nq;
}

static void test_official_files(void) {
    char p1[1200], p2[1200], root[1100];
    snprintf(root, sizeof root, "%s/cir-annotations/cirr", fx_shared);
    snprintf(p1, sizeof p1, "%s/demo_files/test1_pred_ranks_recall.json", root);
    snprintf(p2, sizeof p2, "%s/demo_files/test1_pred_ranks_recall_subset.json", root);
    ct_dataset_opts o = {.root = root, .split = "test1", .quiet = true};
    ct_dataset *ds = NULL;
    CHECK(ct_dataset_load(&ds, CT_DS_CIRR, &o) == CT_OK);
    CHECK_MSG(ct_validate_cirr_submission(p1, NULL) == CT_OK, "%s", ct_error());
    CHECK_MSG(ct_validate_cirr_submission(p1, ds) == CT_OK, "%s", ct_error());
    CHECK_MSG(ct_validate_cirr_submission(p2, ds) == CT_OK, "%s", ct_error());
    /* Our writers on test1 (random scores) pass the same validator. */
    if (ds) {
        int G = ds->n_gallery, Q = ds->n_queries, k = 51;
        ct_eval_plan plan;
        CHECK(ct_eval_plan_build(&plan, ds) == CT_OK);
        float *sc = malloc((size_t)Q * G * sizeof *sc);
        int *topk = malloc((size_t)Q * k * sizeof *topk);
        /* Row q: the list (q + 7j) % G, j < 51, scores 1 - 0.001 j; everything else below. */
        unsigned x = 12345;
        for (size_t i = 0; i < (size_t)Q * G; i++) {
            x = x * 1103515245u + 12345u;
            sc[i] = (float)(x >> 8) / 33554432.0f;
        }
        for (int q = 0; q < Q; q++)
            for (int j = 0; j < k; j++) {
                topk[(size_t)q * k + j] = (q + 7 * j) % G;
                sc[(size_t)q * G + topk[(size_t)q * k + j]] = 1.0f - 0.001f * j;
            }
        ct_eval_rank_scores(&plan, sc);
        CHECK(ct_write_cirr_submission(fx_path("r.json"), fx_path("rs.json"), ds, &plan, topk, k) == CT_OK);
        CHECK_MSG(ct_validate_cirr_submission(fx_path("r.json"), ds) == CT_OK, "%s", ct_error());
        CHECK_MSG(ct_validate_cirr_submission(fx_path("rs.json"), ds) == CT_OK, "%s", ct_error());
        char *txt = fx_read(fx_path("rs.json"));
        CHECK(txt && strncmp(txt, "{\"12063\": [\"", 12) == 0 &&
              strstr(txt, "], \"metric\": \"recall_subset\", \"version\": \"rc2\"}\n"));
        free(txt);
        free(sc);
        free(topk);
        ct_eval_plan_free(&plan);
    }
    /* A subset file with a non-member, and a recall file with the reference: rejected. */
    fx_write("bad_subset.json", "{\"version\": \"rc2\", \"metric\": \"recall_subset\", \"12063\": "
                                "[\"test1-83-1-img1\", \"test1-83-0-img1\", \"test1-38-2-img1\"]}");
    CHECK(ct_validate_cirr_submission(fx_path("bad_subset.json"), NULL) == CT_OK);
    CHECK(ct_validate_cirr_submission(fx_path("bad_subset.json"), ds) == CT_ERR_FORMAT);
    ct_dataset_free(ds);

    /* CIRCO. */
    int ng = fx_make_circo();
    CHECK(ng > 0);
    char sv[1100], st[1100], av[1100];
    snprintf(sv, sizeof sv, "%s/cir-annotations/circo/submission_examples/submission_val.json", fx_shared);
    snprintf(st, sizeof st, "%s/cir-annotations/circo/submission_examples/submission_test.json", fx_shared);
    snprintf(av, sizeof av, "%s/cir-annotations/circo/annotations/val.json", fx_shared);
    CHECK_MSG(ct_validate_circo_submission(sv, NULL) == CT_OK, "%s", ct_error());
    CHECK_MSG(ct_validate_circo_submission(st, NULL) == CT_OK, "%s", ct_error());
    ct_dataset_opts co = {.root = fx_path("circo"), .split = "val", .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_CIRCO, &co) == CT_OK);
    if (ds) {
        ct_eval_plan plan;
        ct_predictions pr;
        ct_metric_set m;
        CHECK(ct_eval_plan_build(&plan, ds) == CT_OK);
        CHECK(ct_predictions_load(&pr, sv) == CT_OK);
        CHECK(ct_eval_rank_predictions(&plan, ds, &pr) == CT_OK);
        CHECK(ct_eval_compute(&plan, &m) == CT_OK);
        ct_predictions_free(&pr);
        printf("CIRCO val mAP of submission_val.json: ");
        ct_metric_print_json(stdout, &m);
        char *a = fx_read(av), *b = fx_read(sv);
        cJSON *ann = cJSON_Parse(a), *sub = cJSON_Parse(b);
        static const int ks[4] = {5, 10, 25, 50};
        for (int i = 0; i < 4; i++) {
            char name[16];
            snprintf(name, sizeof name, "mAP@%d", ks[i]);
            double v = ct_metric_get(&m, name), w = server_map(ann, sub, ks[i]);
            CHECK_MSG(v >= 0 && v <= 100 && fabs(v - w) < 1e-9, "%s %f vs %f", name, v, w);
        }
        /* A copy with a duplicate in one list is rejected. */
        cJSON *l0 = cJSON_GetObjectItem(sub, "0");
        cJSON_ReplaceItemInArray(l0, 1, cJSON_CreateNumber(cJSON_GetArrayItem(l0, 0)->valuedouble));
        char *bad = cJSON_PrintUnformatted(sub);
        fx_write("circo_dup.json", bad);
        CHECK(ct_validate_circo_submission(fx_path("circo_dup.json"), NULL) == CT_ERR_FORMAT);
        CHECK(ct_predictions_load(&pr, fx_path("circo_dup.json")) == CT_ERR_FORMAT || (ct_predictions_free(&pr), 0));
        free(bad);
        cJSON_Delete(ann);
        cJSON_Delete(sub);
        free(a);
        free(b);
        /* Our CIRCO writer: ints, passes the validator. */
        int Q = ds->n_queries, k = 50;
        int *topk = malloc((size_t)Q * k * sizeof *topk);
        for (int q = 0; q < Q; q++)
            for (int j = 0; j < k; j++) topk[q * k + j] = (q + j * 7) % ds->n_gallery;
        CHECK(ct_write_circo_submission(fx_path("cs.json"), ds, topk, k) == CT_OK);
        CHECK_MSG(ct_validate_circo_submission(fx_path("cs.json"), ds) == CT_OK, "%s", ct_error());
        char *txt = fx_read(fx_path("cs.json"));
        char want[64];
        snprintf(want, sizeof want, "{\"0\": [%s, ", ds->gallery_names[0]);
        CHECK_MSG(txt && strncmp(txt, want, strlen(want)) == 0, "%.40s", txt);
        free(txt);
        free(topk);
        ct_eval_plan_free(&plan);
        ct_dataset_free(ds);
    }
    /* Keys must be 0..n-1; 50 ints each. */
    fx_write("circo_keys.json", "{\"1\": [1]}");
    CHECK(ct_validate_circo_submission(fx_path("circo_keys.json"), NULL) == CT_ERR_FORMAT);
}

int main(void) {
    if (!fx_init("met")) return 1;
    test_cirr_cases();
    test_circo_cases();
    test_manifest_plan();
    test_official_files();
    fx_done();
    return test_finish();
}
