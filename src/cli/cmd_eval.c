/* ctcir eval: Recall@K, Recall_subset@K, mAP@K of a checkpoint on a CIR benchmark, prediction
 * files and test-server submissions (protocols in include/ctcir/metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/dist.h"
#include "ctcir/eval.h"
#include "ctcir/log.h"

static void print_table(const char *title, const ct_metric_set *m) {
    printf("%s (%d queries)\n", title, m->n_queries);
    for (int i = 0; i < m->n; i++) printf("  %-14s %8.2f\n", m->names[i], m->values[i]);
}

static int eval_command(int argc, char **argv, cli_list *index) {
    ct_eval_opts o;
    ct_eval_opts_default(&o);
    const char *model = NULL;
    bool json = false;
    const char *precision = NULL;
    long batch = o.batch, lt = o.loader_threads, threads = 0;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &model, "CKPT", "a ctcir checkpoint folder (or a plain CLIP folder)", .required = true},
        {"dataset", 0, CLI_STR, &o.dataset, "NAME", "cirr | circo | fashioniq | lasco | manifest", .required = true},
        {"root", 0, CLI_STR, &o.root, "DIR",
         "dataset root (manifest: the image root holding <split>.jsonl and,\n"
         "if present, <split>_gallery.txt)",
         .required = true},
        {"split", 0, CLI_STR, &o.split, "S", "the split to evaluate", .required = true},
        {"category", 0, CLI_STR, &o.category, "C", "FashionIQ: one category (default: all three and their mean)"},
        {"index", 0, CLI_LIST, index, "INDEX",
         "gallery embeddings from `ctcir index` (model identity checked);\n"
         "repeat it to use several complete shards as one gallery;\n"
         "without it the gallery is embedded on the fly"},
        {"predictions-out", 0, CLI_STR, &o.predictions_out, "F",
         "one file {\"<query id>\": [top-50 names]} (CIRR pairid, CIRCO id,\n"
         "FashionIQ <category>/<index> for every category)"},
        {"submission-out", 0, CLI_STR, &o.submission_out, "DIR",
         "CIRR: <split>_recall.json + <split>_recall_subset.json (version rc2);\n"
         "CIRCO: circo_<split>.json (ids as integers); any split"},
        {"exclude", 0, CLI_STR, &o.exclude, "FILE",
         "drop the queries and images listed by `ctcir datasets check\n"
         "--write-excluded` (gallery included; for copies missing images);\n"
         "the JSON says how many (excluded_queries, excluded_images)"},
        {"grounding", 0, CLI_FLAG, &o.grounding, NULL,
         "manifest splits with \"phrase_cells\" (synth-shapes --variant hard): also the grounding accuracy\n"
         "of each noun phrase's attention map (the `ctcir explain` map, CLS dropped): grounding/pointing =\n"
         "its peak patch lies on the named object's cells, grounding/mass = its share inside them, per\n"
         "phrase type grounding/<type>/{pointing,mass} (object, attribute+object, relation, background),\n"
         "chance levels as grounding/chance/... (docs/synthetic.md)"},
        {"grounding-queries", 0, CLI_INT, &o.grounding_queries, "N", "score the first N records only (0: all)", 0, 1e9},
        {"grounding-isolated", 0, CLI_FLAG, &o.grounding_isolated, NULL,
         "also each phrase's isolated map (the CC loss's a_iso): grounding/cc/{ctx_level,iso_level,abs,\n"
         "abs_patches}, grounding/isolated/pointing"},
        {"json", 0, CLI_FLAG, &json, NULL, "one JSON object on stdout instead of the table"},
        {"strict", 0, CLI_FLAG, &o.strict, NULL, "a malformed record is an error (default: skipped with a warning)"},
        {"batch", 0, CLI_INT, &batch, "N", "images per model call", 1, 1024},
        {"loader-threads", 0, CLI_INT, &lt, "N", "decoding threads", 1, 8},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_PRECISION_ROW(&precision),
        {0}};
    const cli_cmd cmd = {
        "eval",
        "usage: ctcir eval --model CKPT --dataset cirr|circo|fashioniq|lasco|manifest --root DIR --split S\n"
        "                  [--category C] [--index INDEX] [--predictions-out FILE] [--submission-out DIR]\n"
        "                  [--exclude FILE] [--json] [--strict] [--batch N] [--grounding [--grounding-queries N]] [-t "
        "N]\n\n"
        "Ranks the split's gallery for every query f(reference, caption) and reports:\n"
        "  cirr       recall@{1,5,10,50} (reference removed), recall_subset@{1,2,3}, avg = (R@5 + Rs@1)/2\n"
        "  circo      mAP@{5,10,25,50} (the server's formula) and recall@{5,10,25,50} of the target\n"
        "  fashioniq  <category>/recall@{10,50} per category (all three unless --category) and mean/recall@K\n"
        "  lasco, manifest  recall@{1,5,10,50} (reference removed)\n"
        "Values are percentages. The table goes to stdout; --json prints one JSON object instead,\n"
        "with a \"metrics\" object, the resolved model path, model_id and the ctcir version.\n",
        opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    if (o.grounding_isolated) o.grounding = true;
    if (index->n > 0) o.index = index->v[0], o.more_indexes = index->v + 1, o.n_more_indexes = index->n - 1;
    if (precision && (rc = cli_set_precision("eval", precision))) return rc;
    o.batch = (int)batch;
    o.loader_threads = (int)lt;
    o.quiet = cli_quiet();
    ct_dataset_kind kind;
    if (ct_dataset_kind_parse(o.dataset, &kind))
        return cli_usage_error("eval", "--dataset: unknown dataset '%s'", o.dataset);
    if (o.grounding && kind != CT_DS_MANIFEST)
        return cli_usage_error("eval", "--grounding needs --dataset manifest (a split with \"phrase_cells\")");
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
    if (ct_dist_rank() != 0) { /* under mpirun every rank has the result; rank 0 reports it */
        ct_eval_result_free(&r);
        return CLI_OK;
    }
    bool any = false;
    for (int i = 0; i < r.n_runs; i++) {
        if (!r.has[i]) continue;
        any = true;
        if (json) continue;
        char title[128];
        snprintf(title, sizeof title, "%s %s%s%s", o.dataset, o.split, *r.run_name[i] ? " " : "", r.run_name[i]);
        print_table(title, &r.per[i]);
    }
    if (r.has_mean && !json) print_table("fashioniq mean", &r.mean);
    if (r.has_grounding && !json) ct_grounding_print(stdout, &r.grounding, r.grounding_isolated);
    if (!any)
        ct_log(CT_LOG_WARN, "eval: the %s split has no ground truth: no metrics (files written as asked)\n", o.split);
    rc = CLI_OK;
    if (json) {
        char *text = ct_eval_result_json(&r, &o, model);
        if (text)
            printf("%s\n", text);
        else
            rc = cli_fail("eval", ct_fail(CT_ERR_NOMEM, "eval: out of memory printing JSON"));
        free(text);
    }
    ct_eval_result_free(&r);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    cli_list index = {0};
    int rc = eval_command(argc, argv, &index);
    cli_list_free(&index);
    return rc;
}
