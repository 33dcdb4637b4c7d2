/* ctcir synth-shapes: writes the built-in synthetic compositional CIR benchmark. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "ctcir/synth.h"
#include "core/timer.h"

static void usage(FILE *out) {
    ct_synth_config d;
    ct_synth_config_default(&d);
    fprintf(out,
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
            "  synth.json           the settings and counts\n\n"
            "options:\n"
            "  -o, --out DIR            output folder (required; created if missing)\n"
            "      --variant V          default, or hard: 4-7 objects sharing colours, sizes and fill\n"
            "                           patterns, relations (\"the square left of the red circle\"),\n"
            "                           2-4 edits, hard negatives that differ from the target only\n"
            "                           in a binding; records add \"phrase_cells\" (reference grid\n"
            "                           cells each noun phrase names), \"phrase_types\" and \"grid\"\n"
            "                           (docs/synthetic.md)\n"
            "      --train-negatives K  hard variant: K near-miss targets per training record, in\n"
            "                           \"train_negatives\" (default 0)\n"
            "      --train N            training triplets (default %d)\n"
            "      --val N              validation queries (default %d)\n"
            "      --test N             test queries (default %d; gallery = N x (2 + negatives))\n"
            "      --negatives K        hard negatives per val/test query, 0..%d (default %d)\n"
            "  -s, --size PX            image side in pixels, 16..1024 (default %d)\n"
            "      --seed S             random seed (default %llu)\n"
            "      --jpeg-fraction F    share of images written as JPEG, 0..1 (default %.2f)\n"
            "      --jpeg-quality Q     JPEG quality 1..100 (default %d)\n"
            "  -t, --threads N          threads (default: all cores)\n"
            "  -q, --quiet              no progress on stderr\n"
            "  -h, --help               this help\n\n"
            "Prints a JSON summary (images, seconds, images per second) on stdout.\n",
            d.n_train, d.n_val, d.n_test, CT_SYNTH_MAX_NEGATIVES, d.negatives, d.size,
            (unsigned long long)d.seed, d.jpeg_fraction, d.jpeg_quality);
}

typedef struct {
    int tty;
    int last_pct;
    double t0;
} progress_state;

static void on_progress(void *ctx, const char *split, long done, long total) {
    progress_state *p = ctx;
    int pct = (int)(100 * done / (total ? total : 1));
    double el = ct_now_s() - p->t0;
    if (p->tty) {
        fprintf(stderr, "\rsynth-shapes: %-5s %ld/%ld triplets (%.1f s)%s", split, done, total, el,
                done == total ? "\n" : "");
    } else if (done == total || pct / 10 != p->last_pct / 10) {
        fprintf(stderr, "synth-shapes: %s %ld/%ld triplets (%.1f s)\n", split, done, total, el);
    }
    p->last_pct = done == total ? -10 : pct;
}

int cmd_synth_shapes(int argc, char **argv) {
    const char *cmd = "synth-shapes";
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    ct_synth_config cfg;
    ct_synth_config_default(&cfg);
    long threads = 0;
    int quiet = 0;
    enum { O_TRAIN = 256, O_VAL, O_TEST, O_NEG, O_SEED, O_JF, O_JQ, O_VARIANT, O_TRAIN_NEG };
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"train", required_argument, 0, O_TRAIN},
        {"val", required_argument, 0, O_VAL},      {"test", required_argument, 0, O_TEST},
        {"negatives", required_argument, 0, O_NEG}, {"size", required_argument, 0, 's'},
        {"seed", required_argument, 0, O_SEED},    {"jpeg-fraction", required_argument, 0, O_JF},
        {"jpeg-quality", required_argument, 0, O_JQ}, {"threads", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"variant", required_argument, 0, O_VARIANT}, {"train-negatives", required_argument, 0, O_TRAIN_NEG},
        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:s:t:qh", opts, NULL)) != -1) {
        long v = 0;
        double f = 0;
        switch (c) {
        case 'o': cfg.out_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 't':
            if (!cli_parse_int(optarg, &threads)) return cli_usage_error(cmd, "bad --threads '%s'", optarg);
            break;
        case 's':
        case O_TRAIN:
        case O_VAL:
        case O_TEST:
        case O_NEG:
        case O_JQ:
            if (!cli_parse_int(optarg, &v) || v < 0 || v > 10000000)
                return cli_usage_error(cmd, "bad value '%s' for %s", optarg, argv[optind - 1]);
            if (c == 's') cfg.size = (int)v;
            else if (c == O_TRAIN) cfg.n_train = (int)v;
            else if (c == O_VAL) cfg.n_val = (int)v;
            else if (c == O_TEST) cfg.n_test = (int)v;
            else if (c == O_NEG) cfg.negatives = (int)v;
            else cfg.jpeg_quality = (int)v;
            break;
        case O_VARIANT:
            if (!strcmp(optarg, "default")) cfg.variant = CT_SYNTH_DEFAULT;
            else if (!strcmp(optarg, "hard")) cfg.variant = CT_SYNTH_HARD;
            else return cli_usage_error(cmd, "bad --variant '%s' (default or hard)", optarg);
            break;
        case O_TRAIN_NEG:
            if (!cli_parse_int(optarg, &v) || v < 0 || v > CT_SYNTH_MAX_NEGATIVES)
                return cli_usage_error(cmd, "bad --train-negatives '%s' (0..%d)", optarg,
                                       CT_SYNTH_MAX_NEGATIVES);
            cfg.train_negatives = (int)v;
            break;
        case O_SEED:
            if (!cli_parse_int(optarg, &v) || v < 0)
                return cli_usage_error(cmd, "bad --seed '%s' (a non-negative integer)", optarg);
            cfg.seed = (uint64_t)v;
            break;
        case O_JF:
            if (!cli_parse_float(optarg, &f) || !(f >= 0 && f <= 1))
                return cli_usage_error(cmd, "bad --jpeg-fraction '%s' (0..1)", optarg);
            cfg.jpeg_fraction = f;
            break;
        case ':': return cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!cfg.out_dir) return cli_usage_error(cmd, "--out DIR is required");
    if (cfg.train_negatives && cfg.variant != CT_SYNTH_HARD)
        return cli_usage_error(cmd, "--train-negatives needs --variant hard");
    if (cfg.size < 16 || cfg.size > 1024)
        return cli_usage_error(cmd, "--size %d outside 16..1024", cfg.size);
    if (cfg.negatives > CT_SYNTH_MAX_NEGATIVES)
        return cli_usage_error(cmd, "--negatives %d outside 0..%d", cfg.negatives, CT_SYNTH_MAX_NEGATIVES);
    if (cfg.jpeg_quality < 1 || cfg.jpeg_quality > 100)
        return cli_usage_error(cmd, "--jpeg-quality %d outside 1..100", cfg.jpeg_quality);
    cli_set_threads((int)threads);
    progress_state ps = {isatty(2), -10, ct_now_s()};
    if (!quiet) {
        cfg.progress = on_progress;
        cfg.progress_ctx = &ps;
    }
    ct_synth_stats stats;
    double t0 = ct_now_s();
    ct_status st = ct_synth_write_dataset(&cfg, &stats);
    double el = ct_now_s() - t0;
    if (st != CT_OK) return cli_fail(cmd, st);
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
        fprintf(stderr, "ctcir %s: out of memory\n", cmd);
        return CLI_RUNTIME;
    }
    printf("%s\n", text);
    cJSON_free(text);
    return CLI_OK;
}
