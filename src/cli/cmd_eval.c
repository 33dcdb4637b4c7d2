/* ctcir eval: Recall@K, Recall_subset@K, mAP@K of a checkpoint on a CIR benchmark, prediction
 * files and test-server submissions (protocols in include/ctcir/metrics.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "ctcir/eval.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir eval --model CKPT --dataset cirr|circo|fashioniq|lasco|manifest --root DIR --split S\n"
            "                  [--category C] [--index INDEX] [--predictions-out FILE] [--submission-out DIR]\n"
            "                  [--exclude FILE] [--json] [--strict] [--batch N] [-t N]\n\n"
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
            "  --predictions-out F   one file {\"<query id>\": [top-50 names]} (CIRR pairid, CIRCO id,\n"
            "                        FashionIQ <category>/<index> for every category)\n"
            "  --submission-out DIR  CIRR: <split>_recall.json + <split>_recall_subset.json (version rc2);\n"
            "                        CIRCO: circo_<split>.json (ids as integers); any split\n"
            "  --exclude FILE        drop the queries and images listed by `ctcir datasets check\n"
            "                        --write-excluded` (gallery included; for copies missing images);\n"
            "                        the JSON says how many (excluded_queries, excluded_images)\n"
            "  --strict              a malformed record is an error (default: skipped with a warning)\n"
            "  --batch N             images per model call (default 32)\n"
            "  --loader-threads N    decoding threads (default 1)\n"
            "  -t, --threads N       OpenBLAS/OpenMP threads (default: all cores)\n" CLI_PRECISION_HELP);
}

static void print_table(const char *title, const ct_metric_set *m) {
    fprintf(stderr, "%s (%d queries)\n", title, m->n_queries);
    for (int i = 0; i < m->n; i++) fprintf(stderr, "  %-14s %8.2f\n", m->names[i], m->values[i]);
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_MODEL = 256, O_DATASET, O_ROOT, O_SPLIT, O_CAT, O_INDEX, O_PRED, O_SUB, O_JSON, O_BATCH, O_LT, O_STRICT, O_EXCL };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"dataset", required_argument, 0, O_DATASET},
        {"root", required_argument, 0, O_ROOT}, {"split", required_argument, 0, O_SPLIT},
        {"category", required_argument, 0, O_CAT}, {"index", required_argument, 0, O_INDEX},
        {"predictions-out", required_argument, 0, O_PRED}, {"submission-out", required_argument, 0, O_SUB},
        {"json", no_argument, 0, O_JSON}, {"batch", required_argument, 0, O_BATCH}, {"strict", no_argument, 0, O_STRICT},
        {"exclude", required_argument, 0, O_EXCL},
        {"loader-threads", required_argument, 0, O_LT}, {"threads", required_argument, 0, 't'},
        {"precision", required_argument, 0, CLI_OPT_PRECISION}, {0, 0, 0, 0}};
    ct_eval_opts o;
    ct_eval_opts_default(&o);
    const char *model = NULL;
    bool json = false;
    long v, threads = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model = optarg; break;
        case O_DATASET: o.dataset = optarg; break;
        case O_ROOT: o.root = optarg; break;
        case O_SPLIT: o.split = optarg; break;
        case O_CAT: o.category = optarg; break;
        case O_INDEX: o.index = optarg; break;
        case O_PRED: o.predictions_out = optarg; break;
        case O_SUB: o.submission_out = optarg; break;
        case O_JSON: json = true; break;
        case O_STRICT: o.strict = true; break;
        case O_EXCL: o.exclude = optarg; break;
        case O_BATCH: if (!cli_parse_int(optarg, &v) || v < 1 || v > 1024) return cli_usage_error("eval", "--batch: 1..1024"); o.batch = (int)v; break;
        case O_LT: if (!cli_parse_int(optarg, &v) || v < 1 || v > 8) return cli_usage_error("eval", "--loader-threads: 1..8"); o.loader_threads = (int)v; break;
        case CLI_OPT_PRECISION: { int prc = cli_set_precision("eval", optarg); if (prc) return prc; break; }
        case 't': if (!cli_parse_int(optarg, &threads) || threads < 0) return cli_usage_error("eval", "--threads: a number >= 0"); break;
        default: return cli_usage_error("eval", "unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!model || !o.dataset || !o.root || !o.split) return cli_usage_error("eval", "--model, --dataset, --root and --split are required");
    ct_dataset_kind kind;
    if (ct_dataset_kind_parse(o.dataset, &kind)) return cli_usage_error("eval", "unknown dataset '%s'", o.dataset);
    if (ct_dataset_protocol(kind)->categories && !o.category && o.index)
        return cli_usage_error("eval", "--index needs --category with %s (one gallery per category)", o.dataset);
    cli_set_threads((int)threads);
    ct_model *m = NULL;
    ct_status s = ct_model_load(&m, model, NULL, NULL, 0);
    if (s) return cli_fail("eval", s);
    ct_eval_result r;
    s = ct_eval_run(m, &o, &r);
    ct_model_free(m);
    if (s) return cli_fail("eval", s);
    bool any = false;
    for (int i = 0; i < r.n_runs; i++) {
        if (!r.has[i]) continue;
        any = true;
        char title[128];
        snprintf(title, sizeof title, "%s %s%s%s", o.dataset, o.split, *r.run_name[i] ? " " : "", r.run_name[i]);
        print_table(title, &r.per[i]);
    }
    if (r.has_mean) print_table("fashioniq mean", &r.mean);
    if (!any) fprintf(stderr, "eval: the %s split has no ground truth: no metrics (files written as asked)\n", o.split);
    if (json) {
        char *text = ct_eval_result_json(&r, &o, model);
        if (text) printf("%s\n", text);
        free(text);
    }
    ct_eval_result_free(&r);
    return CLI_OK;
}
