/* ctcir eval: Recall@K, Recall_subset@K, mAP@K of a checkpoint on a CIR benchmark, prediction
 * files and test-server submissions (issue 5; protocols in include/ctcir/metrics.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/embed.h"
#include "app/grounding.h"
#include "model/model.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "core/dirio.h"
#include "ctcir/index.h"
#include "ctcir/metrics.h"
#include "core/timer.h"

#include <cjson/cJSON.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir eval --model CKPT --dataset cirr|circo|fashioniq|lasco|manifest --root DIR --split S\n"
            "                  [--category C] [--index INDEX] [--predictions-out FILE] [--submission-out DIR]\n"
            "                  [--json] [--strict] [--batch N] [--grounding [--grounding-queries N]] [-t N]\n\n"
            "Ranks the split's gallery for every query f(reference, caption) and reports:\n"
            "  cirr       recall@{1,5,10,50} (reference removed), recall_subset@{1,2,3}, avg = (R@5 + Rs@1)/2\n"
            "  circo      mAP@{5,10,25,50} (the server's formula) and recall@{5,10,25,50} of the target\n"
            "  fashioniq  <category>/recall@{10,50} per category (all three unless --category) and mean/recall@K\n"
            "  lasco, manifest  recall@{1,5,10,50} (reference removed)\n"
            "Values are percentages. The table goes to stderr; --json prints one JSON object on stdout\n"
            "with a \"metrics\" object.\n\n"
            "  --root DIR            dataset root (manifest: the image root holding <split>.jsonl and,\n"
            "                        if present, <split>_gallery.txt)\n"
            "  --index INDEX         gallery embeddings from `ctcir index` (model identity checked);\n"
            "                        without it the gallery is embedded on the fly\n"
            "  --predictions-out F   {\"<query id>\": [top-50 names]} (CIRR pairid, CIRCO id,\n"
            "                        FashionIQ <category>/<index>)\n"
            "  --submission-out DIR  CIRR: <split>_recall.json + <split>_recall_subset.json (version rc2);\n"
            "                        CIRCO: circo_<split>.json (ids as integers); any split\n"
            "  --grounding           manifest splits with \"phrase_cells\" (synth-shapes --variant hard):\n"
            "                        also the grounding accuracy of each noun phrase's attention map\n"
            "                        (the `ctcir explain` map, CLS dropped): grounding/pointing = its\n"
            "                        peak patch lies on the named object's cells, grounding/mass = its\n"
            "                        share inside them, per phrase type grounding/<type>/{pointing,mass}\n"
            "                        (object, attribute+object, relation, background), chance levels\n"
            "                        as grounding/chance/... (the share of patches inside the cells)\n"
            "  --grounding-queries N score the first N records only (default: all)\n"
            "  --grounding-isolated  also each phrase's isolated map (the fusion with the phrase alone,\n"
            "                        the CC loss's a_iso): grounding/cc/{ctx_level,iso_level} (mean\n"
            "                        patch value of a_ctx, a_iso), grounding/cc/abs (the CC term\n"
            "                        mean |a_ctx - a_iso|), grounding/cc/abs_patches (both maps divided\n"
            "                        by their sums first), grounding/isolated/pointing\n"
            "  --strict              a malformed record is an error (default: skipped with a warning)\n"
            "  --batch N             images per model call (default 32)\n"
            "  --loader-threads N    decoding threads (default 1)\n"
            "  -t, --threads N       OpenBLAS/OpenMP threads (default: all cores)\n");
}

typedef struct {
    const char *model, *dataset, *root, *split, *category, *index, *pred_out, *sub_out;
    bool json, strict, grounding, grounding_iso;
    int batch, loader_threads;
    long grounding_queries;
} eval_opts;

typedef struct {
    float *emb;
    int P;
} collect_ctx;

static ct_status collect(void *ctx, const int64_t *rows, int n, const float *emb) {
    collect_ctx *c = ctx;
    for (int i = 0; i < n; i++) memcpy(c->emb + rows[i] * c->P, emb + (size_t)i * c->P, (size_t)c->P * sizeof(float));
    return CT_OK;
}

/* "R@5" -> "recall@5", "Rsubset@1" -> "recall_subset@1"; "mAP@K" stays. */
static void metric_key(char *out, size_t cap, const char *prefix, const char *name) {
    if (!strncmp(name, "Rsubset@", 8)) snprintf(out, cap, "%s%srecall_subset@%s", prefix ? prefix : "", prefix ? "/" : "", name + 8);
    else if (!strncmp(name, "R@", 2)) snprintf(out, cap, "%s%srecall@%s", prefix ? prefix : "", prefix ? "/" : "", name + 2);
    else snprintf(out, cap, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", name);
}

/* One dataset (one FashionIQ category): embeddings, ranks, metrics, files. */
static ct_status eval_one(const ct_model *m, const eval_opts *o, const char *category, ct_metric_set *metrics,
                          bool *has_metrics, int *n_queries) {
    ct_dataset *ds = NULL;
    ct_index *ix = NULL;
    float *gallery_own = NULL, *queries = NULL, *scores = NULL;
    int *topk = NULL;
    ct_eval_plan plan;
    memset(&plan, 0, sizeof plan);
    ct_dataset_kind kind;
    ct_status s = ct_dataset_kind_parse(o->dataset, &kind);
    if (s) return s;
    ct_dataset_opts dopt = {.root = o->root, .split = o->split, .category = category, .strict = o->strict};
    char file[4200], gal[4200];
    if (kind == CT_DS_MANIFEST) {
        struct stat st;
        snprintf(file, sizeof file, "%s/%s.jsonl", o->root, o->split);
        snprintf(gal, sizeof gal, "%s/%s_gallery.txt", o->root, o->split);
        dopt.file = file;
        dopt.gallery_file = stat(gal, &st) == 0 ? gal : NULL;
    }
    if ((s = ct_dataset_load(&ds, kind, &dopt))) return s;
    const int P = ct_model_embed_dim(m);
    const int64_t G = ds->n_gallery;
    const int Q = ds->n_queries;
    *n_queries = Q;
    const void *gallery;
    ct_dtype gdtype = CT_DT_F32;
    double t0 = ct_now_s();
    if (o->index) {
        if ((s = ct_index_open(&ix, o->index, ct_model_identity(m), false))) goto done;
        if (ct_index_rows(ix) != G || ct_index_dim(ix) != P) {
            s = ct_fail(CT_ERR_SHAPE, "eval: %s holds %lld rows of dim %d; %s's gallery has %lld images (dim %d)", o->index,
                        (long long)ct_index_rows(ix), ct_index_dim(ix), ds->name, (long long)G, P);
            goto done;
        }
        for (int64_t i = 0; i < G; i++)
            if (strcmp(ct_index_name(ix, i), ds->gallery_names[i])) {
                s = ct_fail(CT_ERR_FORMAT, "eval: %s row %lld is '%s' but the gallery's is '%s' (index built from another gallery?)",
                            o->index, (long long)i, ct_index_name(ix, i), ds->gallery_names[i]);
                goto done;
            }
        gallery = ct_index_data(ix);
        gdtype = ct_index_dtype(ix);
    } else {
        gallery_own = malloc((size_t)G * P * sizeof(float));
        if (!gallery_own) { s = ct_fail(CT_ERR_NOMEM, "eval: out of memory for %lld gallery embeddings", (long long)G); goto done; }
        collect_ctx cc = {gallery_own, P};
        ct_embed_job job = {(const char *const *)ds->gallery_paths, NULL, NULL, G, o->batch, o->loader_threads, "gallery"};
        if ((s = ct_embed_run(m, &job, collect, &cc, NULL, NULL))) goto done;
        gallery = gallery_own;
    }
    double t_gallery = ct_now_s() - t0;
    /* queries */
    const char **refs = malloc((size_t)(Q ? Q : 1) * sizeof *refs), **caps = malloc((size_t)(Q ? Q : 1) * sizeof *caps);
    queries = malloc((size_t)(Q ? Q : 1) * P * sizeof(float));
    if (!refs || !caps || !queries) {
        free(refs), free(caps);
        s = ct_fail(CT_ERR_NOMEM, "eval: out of memory");
        goto done;
    }
    for (int q = 0; q < Q; q++) refs[q] = ds->queries[q].ref_path, caps[q] = ds->queries[q].caption;
    collect_ctx qc = {queries, P};
    ct_embed_job qjob = {refs, caps, NULL, Q, o->batch, o->loader_threads, "queries"};
    double t1 = ct_now_s();
    s = ct_embed_run(m, &qjob, collect, &qc, NULL, NULL);
    free(refs), free(caps);
    if (s) goto done;
    double t_queries = ct_now_s() - t1;
    /* ranks over the full gallery, metrics */
    double t2 = ct_now_s();
    if ((s = ct_eval_plan_build(&plan, ds))) goto done;
    if ((s = ct_topk_ranks(&plan, queries, gallery, gdtype, G, P))) goto done;
    int with_targets = 0;
    for (int q = 0; q < Q; q++) with_targets += ds->queries[q].n_targets > 0;
    *has_metrics = with_targets > 0;
    if (*has_metrics && (s = ct_eval_compute(&plan, metrics))) goto done;
    /* ranked lists for the files */
    const int k = G < 51 ? (int)G : 51;
    if (o->pred_out || o->sub_out) {
        topk = malloc((size_t)(Q ? Q : 1) * k * sizeof *topk);
        scores = malloc((size_t)(Q ? Q : 1) * k * sizeof *scores);
        if (!topk || !scores) { s = ct_fail(CT_ERR_NOMEM, "eval: out of memory"); goto done; }
        if ((s = ct_topk(topk, scores, queries, Q, gallery, gdtype, G, P, k))) goto done;
    }
    if (o->pred_out) {
        char path[4200];
        if (category) snprintf(path, sizeof path, "%s.%s.json", o->pred_out, category);
        else snprintf(path, sizeof path, "%s", o->pred_out);
        if ((s = ct_write_predictions(path, ds, topk, k, 50))) goto done;
        fprintf(stderr, "eval: predictions written to %s\n", path);
    }
    if (o->sub_out) {
        char a[4200], b[4200];
        if ((s = ct_mkdirs(o->sub_out))) goto done;
        if (kind == CT_DS_CIRR || kind == CT_DS_CIRR_R) {
            snprintf(a, sizeof a, "%s/%s_recall.json", o->sub_out, o->split);
            snprintf(b, sizeof b, "%s/%s_recall_subset.json", o->sub_out, o->split);
            if ((s = ct_write_cirr_submission(a, b, ds, &plan, topk, k))) goto done;
            fprintf(stderr, "eval: CIRR server files %s and %s\n", a, b);
        } else if (kind == CT_DS_CIRCO) {
            snprintf(a, sizeof a, "%s/circo_%s.json", o->sub_out, o->split);
            if ((s = ct_write_circo_submission(a, ds, topk, k))) goto done;
            fprintf(stderr, "eval: CIRCO server file %s\n", a);
        } else {
            s = ct_fail(CT_ERR_ARG, "eval: --submission-out is for cirr and circo (got %s)", o->dataset);
            goto done;
        }
    }
    fprintf(stderr, "eval: %s: %d queries, gallery %lld: gallery %.1f s%s, queries %.1f s, ranking %.2f s\n", ds->name, Q,
            (long long)G, t_gallery, o->index ? " (index)" : "", t_queries, ct_now_s() - t2);
done:
    ct_eval_plan_free(&plan);
    free(gallery_own), free(queries), free(topk), free(scores);
    ct_index_close(ix);
    ct_dataset_free(ds);
    return s;
}

static void print_table(const char *title, const ct_metric_set *m) {
    fprintf(stderr, "%s (%d queries)\n", title, m->n_queries);
    for (int i = 0; i < m->n; i++) fprintf(stderr, "  %-14s %8.2f\n", m->names[i], m->values[i]);
}

/* The grounding table (stderr) and its JSON keys. */
static void grounding_report(const ct_grounding_stats *g, bool isolated, cJSON *metrics) {
    fprintf(stderr, "grounding (%ld queries; %ld phrases scored, %ld naming nothing in the reference, %ld not found in the caption)\n",
            g->queries, g->phrases[CT_GROUNDING_ALL], g->no_cells, g->unmatched);
    fprintf(stderr, "  %-18s %8s %8s %8s %8s\n", "phrase type", "phrases", "pointing", "mass", "chance");
    for (int t = 0; t <= CT_GROUNDING_ALL; t++) {
        const char *name = t == CT_GROUNDING_ALL ? NULL : ct_synth_phrase_type_name((ct_synth_phrase_type)t);
        const long n = g->phrases[t];
        const double pt = n ? 100.0 * g->pointing[t] / n : 0, ms = n ? 100.0 * g->mass[t] / n : 0,
                     ch = n ? 100.0 * g->chance[t] / n : 0;
        fprintf(stderr, "  %-18s %8ld %8.2f %8.2f %8.2f\n", name ? name : "all", n, pt, ms, ch);
        if (!n) continue;
        char key[96], pre[48];
        snprintf(pre, sizeof pre, "%s%s", name ? name : "", name ? "/" : "");
        static const char *const what[2] = {"pointing", "mass"};
        for (int k = 0; k < 2; k++) {
            snprintf(key, sizeof key, "grounding/%s%s", pre, what[k]);
            cJSON_AddNumberToObject(metrics, key, k ? ms : pt);
            snprintf(key, sizeof key, "grounding/chance/%s%s", pre, what[k]);
            cJSON_AddNumberToObject(metrics, key, ch); /* the same for both: patches inside / all */
        }
        snprintf(key, sizeof key, "grounding/%sphrases", pre);
        cJSON_AddNumberToObject(metrics, key, (double)n);
    }
    const long n = g->phrases[CT_GROUNDING_ALL];
    if (isolated && n) {
        const double v[5] = {g->ctx_level / n, g->iso_level / n, g->cc_abs / n, g->cc_abs_patches / n,
                             100.0 * g->iso_pointing / n};
        fprintf(stderr, "  isolated maps: mean patch value a_ctx %.4f, a_iso %.4f; mean |a_ctx - a_iso| %.4f "
                "(normalised per map: %.4f); isolated pointing %.2f\n", v[0], v[1], v[2], v[3], v[4]);
        static const char *const keys[5] = {"grounding/cc/ctx_level", "grounding/cc/iso_level", "grounding/cc/abs",
                                            "grounding/cc/abs_patches", "grounding/isolated/pointing"};
        for (int k = 0; k < 5; k++) cJSON_AddNumberToObject(metrics, keys[k], v[k]);
    }
}

static void json_metrics(cJSON *obj, const char *prefix, const ct_metric_set *m, cJSON *root) {
    char key[64];
    for (int i = 0; i < m->n; i++) {
        if (!strcmp(m->names[i], "avg")) {
            if (!prefix) cJSON_AddNumberToObject(root, "avg", m->values[i]);
            else if (!strcmp(prefix, "mean")) cJSON_AddNumberToObject(root, "avg", m->values[i]);
            continue;
        }
        metric_key(key, sizeof key, prefix, m->names[i]);
        cJSON_AddNumberToObject(obj, key, m->values[i]);
    }
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_MODEL = 256, O_DATASET, O_ROOT, O_SPLIT, O_CAT, O_INDEX, O_PRED, O_SUB, O_JSON, O_BATCH, O_LT, O_STRICT, O_GROUND, O_GROUND_Q, O_GROUND_ISO };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"dataset", required_argument, 0, O_DATASET},
        {"root", required_argument, 0, O_ROOT}, {"split", required_argument, 0, O_SPLIT},
        {"category", required_argument, 0, O_CAT}, {"index", required_argument, 0, O_INDEX},
        {"predictions-out", required_argument, 0, O_PRED}, {"submission-out", required_argument, 0, O_SUB},
        {"json", no_argument, 0, O_JSON}, {"batch", required_argument, 0, O_BATCH}, {"strict", no_argument, 0, O_STRICT},
        {"loader-threads", required_argument, 0, O_LT}, {"grounding", no_argument, 0, O_GROUND},
        {"grounding-queries", required_argument, 0, O_GROUND_Q}, {"grounding-isolated", no_argument, 0, O_GROUND_ISO}, {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    eval_opts o = {0};
    o.batch = 32;
    o.loader_threads = 1;
    long v, threads = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o.model = optarg; break;
        case O_DATASET: o.dataset = optarg; break;
        case O_ROOT: o.root = optarg; break;
        case O_SPLIT: o.split = optarg; break;
        case O_CAT: o.category = optarg; break;
        case O_INDEX: o.index = optarg; break;
        case O_PRED: o.pred_out = optarg; break;
        case O_SUB: o.sub_out = optarg; break;
        case O_JSON: o.json = true; break;
        case O_STRICT: o.strict = true; break;
        case O_GROUND: o.grounding = true; break;
        case O_GROUND_ISO: o.grounding = o.grounding_iso = true; break;
        case O_GROUND_Q: if (!cli_parse_int(optarg, &v) || v < 1) return cli_usage_error("eval", "--grounding-queries: a number >= 1"); o.grounding_queries = v; break;
        case O_BATCH: if (!cli_parse_int(optarg, &v) || v < 1 || v > 1024) return cli_usage_error("eval", "--batch: 1..1024"); o.batch = (int)v; break;
        case O_LT: if (!cli_parse_int(optarg, &v) || v < 1 || v > 8) return cli_usage_error("eval", "--loader-threads: 1..8"); o.loader_threads = (int)v; break;
        case 't': if (!cli_parse_int(optarg, &threads) || threads < 0) return cli_usage_error("eval", "--threads: a number >= 0"); break;
        default: return cli_usage_error("eval", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!o.model || !o.dataset || !o.root || !o.split) return cli_usage_error("eval", "--model, --dataset, --root and --split are required");
    ct_dataset_kind kind;
    if (ct_dataset_kind_parse(o.dataset, &kind)) return cli_usage_error("eval", "unknown dataset '%s'", o.dataset);
    if (o.grounding && kind != CT_DS_MANIFEST)
        return cli_usage_error("eval", "--grounding needs --dataset manifest (a split with \"phrase_cells\")");
    const bool fiq_all = kind == CT_DS_FASHIONIQ && !o.category;
    if (fiq_all && o.index) return cli_usage_error("eval", "--index needs --category with fashioniq (one gallery per category)");
    cli_set_threads((int)threads);
    ct_model *m = NULL;
    ct_status s = ct_model_load(&m, o.model, NULL, NULL, 0);
    if (s) return cli_fail("eval", s);
    double t0 = ct_now_s();
    static const char *const cats[] = {"dress", "shirt", "toptee"};
    const int n_runs = fiq_all ? 3 : 1;
    ct_metric_set per[3];
    bool has[3] = {false, false, false};
    int nq[3] = {0, 0, 0};
    memset(per, 0, sizeof per);
    for (int i = 0; i < n_runs && !s; i++) s = eval_one(m, &o, fiq_all ? cats[i] : o.category, &per[i], &has[i], &nq[i]);
    ct_grounding_stats gst;
    if (!s && o.grounding) {
        char file[4200];
        snprintf(file, sizeof file, "%s/%s.jsonl", o.root, o.split);
        double tg = ct_now_s();
        s = ct_grounding_eval(m, file, o.root, o.grounding_queries, o.grounding_iso, &gst);
        if (!s) fprintf(stderr, "eval: grounding %.1f s\n", ct_now_s() - tg);
    }
    ct_model_free(m);
    if (s) return cli_fail("eval", s);
    cJSON *root = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "dataset", o.dataset);
    cJSON_AddStringToObject(root, "split", o.split);
    cJSON_AddStringToObject(root, "model", o.model);
    int total_q = 0;
    for (int i = 0; i < n_runs; i++) total_q += nq[i];
    cJSON_AddNumberToObject(root, "n_queries", total_q);
    bool any = false;
    for (int i = 0; i < n_runs; i++) {
        if (!has[i]) continue;
        any = true;
        const char *cat = kind == CT_DS_FASHIONIQ ? (fiq_all ? cats[i] : o.category) : NULL;
        char title[128];
        snprintf(title, sizeof title, "%s %s%s%s", o.dataset, o.split, cat ? " " : "", cat ? cat : "");
        print_table(title, &per[i]);
        json_metrics(metrics, cat, &per[i], root);
    }
    if (fiq_all && has[0] && has[1] && has[2]) {
        ct_metric_set mean;
        ct_metrics_fiq_mean(per, 3, &mean);
        print_table("fashioniq mean", &mean);
        json_metrics(metrics, "mean", &mean, root);
    }
    if (o.grounding) grounding_report(&gst, o.grounding_iso, metrics);
    if (!any) fprintf(stderr, "eval: the %s split has no ground truth: no metrics (files written as asked)\n", o.split);
    cJSON_AddItemToObject(root, "metrics", metrics);
    cJSON_AddNumberToObject(root, "seconds", ct_now_s() - t0);
    if (o.json) {
        char *text = cJSON_PrintUnformatted(root);
        if (text) printf("%s\n", text);
        free(text);
    }
    cJSON_Delete(root);
    return CLI_OK;
}
