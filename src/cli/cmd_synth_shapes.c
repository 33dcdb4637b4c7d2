/* ctcir synth-shapes: writes the built-in synthetic compositional CIR benchmark. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/log.h"
#include "ctcir/runtime.h"
#include "ctcir/synth.h"

typedef struct {
    int tty;
    int last_pct;
    double t0;
} progress_state;

static void on_progress(void *ctx, const char *split, long done, long total) {
    progress_state *p = ctx;
    int pct = (int)(100 * done / (total ? total : 1));
    double el = ct_now_s() - p->t0;
    if (p->tty) { /* redraw in place; \033[K clears what a longer line left */
        ct_log(CT_LOG_PROGRESS, "\r\033[Ksynth-shapes: %-5s %ld/%ld triplets (%.1f s)%s", split, done, total, el,
               done == total ? "\n" : "");
    } else if (done == total || pct / 10 != p->last_pct / 10) {
        ct_log(CT_LOG_PROGRESS, "synth-shapes: %s %ld/%ld triplets (%.1f s)\n", split, done, total, el);
    }
    p->last_pct = done == total ? -10 : pct;
}

int cmd_synth_shapes(int argc, char **argv) {
    const char *cmd_name = "synth-shapes";
    ct_synth_config cfg;
    ct_synth_config_default(&cfg);
    long threads = 0, n_train = cfg.n_train, n_val = cfg.n_val, n_test = cfg.n_test, negatives = cfg.negatives,
         size = cfg.size, seed = (long)cfg.seed, quality = cfg.jpeg_quality, train_neg = 0;
    const char *variant = "default";
    const cli_opt opts[] = {
        {"out", 'o', CLI_STR, &cfg.out_dir, "DIR", "output folder (created if missing)", .required = true},
        {"variant", 0, CLI_STR, &variant, "V",
         "default, or hard: 4-7 objects sharing colours, sizes and fill patterns, relations (\"the square left of\n"
         "the red circle\"), 2-4 edits, hard negatives that differ from the target only in a binding;\n"
         "records add \"phrase_cells\", \"phrase_types\" and \"grid\" (docs/synthetic.md)"},
        {"train-negatives", 0, CLI_INT, &train_neg, "K",
         "hard variant: K near-miss targets per training record, in \"train_negatives\"", 0, CT_SYNTH_MAX_NEGATIVES},
        {"train", 0, CLI_INT, &n_train, "N", "training triplets", 0, 10000000},
        {"val", 0, CLI_INT, &n_val, "N", "validation queries", 0, 10000000},
        {"test", 0, CLI_INT, &n_test, "N", "test queries (gallery = N x (2 + negatives))", 0, 10000000},
        {"negatives", 0, CLI_INT, &negatives, "K", "hard negatives per val/test query", 0, CT_SYNTH_MAX_NEGATIVES},
        {"size", 0, CLI_INT, &size, "PX", "image side in pixels", 16, 1024},
        {"seed", 's', CLI_INT, &seed, "S", "random seed", 0, 9.0e15},
        {"jpeg-fraction", 0, CLI_FLOAT, &cfg.jpeg_fraction, "F", "share of images written as JPEG", 0, 1},
        {"jpeg-quality", 0, CLI_INT, &quality, "Q", "JPEG quality", 1, 100},
        CLI_OPT_THREADS(&threads),
        {0}};
    const cli_cmd cmd = {
        cmd_name,
        "usage: ctcir synth-shapes --out DIR [options]\n\n"
        "Generates a synthetic composed-image-retrieval benchmark: scenes of 2 to 5 shapes on a\n"
        "textured background, captions describing 1 to 3 edits (add, remove, replace, recolour,\n"
        "resize, move, background), gold noun phrases, and hard negatives in the val/test\n"
        "galleries. Same seed, same bytes. Writes under DIR:\n"
        "  images/<split>/<id>-{ref,tgt,negK}.{png,jpg}\n"
        "  <split>.jsonl        {\"reference\",\"target\",\"caption\",\"noun_phrases\",\"id\",\"edits\"\n"
        "                        [,\"hard_negatives\"]}, paths relative to DIR (the image root)\n"
        "  <split>_gallery.txt  val/test: reference + target + hard negatives of every query\n"
        "                       (rank without the query's own reference, as in CIRR);\n"
        "                       train: references + targets\n"
        "  synth.json           the settings and counts\n",
        opts, "Prints a JSON summary (images, seconds, images per second) on stdout.\n"};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    cfg.n_train = (int)n_train, cfg.n_val = (int)n_val, cfg.n_test = (int)n_test, cfg.negatives = (int)negatives;
    cfg.size = (int)size, cfg.seed = (uint64_t)seed, cfg.jpeg_quality = (int)quality;
    if (!strcmp(variant, "default"))
        cfg.variant = CT_SYNTH_DEFAULT;
    else if (!strcmp(variant, "hard"))
        cfg.variant = CT_SYNTH_HARD;
    else
        return cli_usage_error(cmd_name, "bad --variant '%s' (default or hard)", variant);
    cfg.train_negatives = (int)train_neg;
    if (cfg.train_negatives && cfg.variant != CT_SYNTH_HARD)
        return cli_usage_error(cmd_name, "--train-negatives needs --variant hard");
    const bool quiet = cli_quiet();
    cli_set_threads((int)threads);
    progress_state ps = {ct_log_progress_is_tty(), -10, ct_now_s()};
    if (!quiet) {
        cfg.progress = on_progress;
        cfg.progress_ctx = &ps;
    }
    ct_synth_stats stats;
    double t0 = ct_now_s();
    ct_status st = ct_synth_write_dataset(&cfg, &stats);
    double el = ct_now_s() - t0;
    if (st != CT_OK) return cli_fail(cmd_name, st);
    cJSON *o = cJSON_CreateObject(), *g = cJSON_AddObjectToObject(o, "gallery");
    cJSON_AddStringToObject(o, "out", cfg.out_dir);
    cJSON_AddNumberToObject(o, "triplets", (double)stats.triplets);
    cJSON_AddNumberToObject(o, "images", (double)stats.images);
    cJSON_AddNumberToObject(o, "jpeg_images", (double)stats.jpeg_images);
    cJSON_AddNumberToObject(g, "train", (double)stats.gallery[0]);
    cJSON_AddNumberToObject(g, "val", (double)stats.gallery[1]);
    cJSON_AddNumberToObject(g, "test", (double)stats.gallery[2]);
    cJSON_AddNumberToObject(o, "seconds", el);
    cJSON_AddNumberToObject(o, "images_per_s", el > 0 ? (double)stats.images / el : 0.0);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) {
        fprintf(stderr, "ctcir %s: out of memory\n", cmd_name);
        return CLI_RUNTIME;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return CLI_OK;
}
