/* ctcir bench: parses flags, calls ct_bench_run (app/bench.h), prints one line or one JSON object. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "ctcir/bench.h"
#include "ctcir/dist.h"
#include "ctcir/train.h"

static void usage(FILE *out) {
    fprintf(out, "usage: ctcir bench --config CLIPCONFIG.json --what image|text|step|index|topk [--batch N]\n"
                 "                   [--micro-batch M] [--phrases K] [--precision fp32|bf16] [--steps S] [-t N]\n"
                 "                   [--recompute auto|on|off] [--json]\n\n"
                 "Times a part of the model at the config's real shapes with random weights and inputs (no\n"
                 "other files): image / text = tower forward, index = target embedding (image + empty text\n"
                 "through fusion and pooling, decoding not included), step = training step with both losses\n"
                 "and AdamW, topk = exact top-10 of N queries over 100k random rows. Prints items/s (images,\n"
                 "texts, triplets or queries), peak RSS and the GFLOP/s of the matrix products.\n\n"
                 "options:\n"
                 "  --config FILE      CLIP config.json, e.g. configs/clip/clip-vit-base-patch32.json (required)\n"
                 "  --what PART        image, text, step, index or topk (required)\n"
                 "  --batch N          batch (default 32; step: 16)\n"
                 "  --micro-batch M    step: GradCache micro-batch (default: the batch)\n"
                 "  --phrases K        step: noun phrases per caption (default 3)\n"
                 "  --steps S          timed repetitions after one warm-up (default 3)\n"
                 "  -t, --threads N    OpenMP threads (default: all cores)\n"
                 "  --recompute M      step: auto (default), on or off (as train --recompute)\n"
                 "  --json             one JSON object: items_per_s, peak_rss_mb, gflops, what, precision, "
                 "batch\n" CLI_PRECISION_HELP);
}

int cmd_bench(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_CONFIG = 256, O_WHAT, O_BATCH, O_MICRO, O_PHRASES, O_STEPS, O_JSON, O_RECOMP };
    static const struct option opts[] = {{"config", required_argument, 0, O_CONFIG},
                                         {"what", required_argument, 0, O_WHAT},
                                         {"batch", required_argument, 0, O_BATCH},
                                         {"micro-batch", required_argument, 0, O_MICRO},
                                         {"phrases", required_argument, 0, O_PHRASES},
                                         {"steps", required_argument, 0, O_STEPS},
                                         {"json", no_argument, 0, O_JSON},
                                         {"threads", required_argument, 0, 't'},
                                         {"recompute", required_argument, 0, O_RECOMP},
                                         {"precision", required_argument, 0, CLI_OPT_PRECISION},
                                         {0, 0, 0, 0}};
    ct_bench_opts o;
    ct_bench_opts_default(&o);
    bool json = false, have_what = false;
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: o.config = optarg; break;
        case O_WHAT:
            if (ct_bench_what_parse(optarg, &o.what)) return cli_usage_error("bench", "%s", ct_error());
            have_what = true;
            break;
        case O_BATCH:
            if (!cli_parse_int(optarg, &v) || v < 1 || v > 100000)
                return cli_usage_error("bench", "--batch: 1..100000");
            o.batch = (int)v;
            break;
        case O_MICRO:
            if (!cli_parse_int(optarg, &v) || v < 1 || v > 100000)
                return cli_usage_error("bench", "--micro-batch: 1..100000");
            o.micro_batch = (int)v;
            break;
        case O_PHRASES:
            if (!cli_parse_int(optarg, &v) || v < 0 || v > 9) return cli_usage_error("bench", "--phrases: 0..9");
            o.phrases = (int)v;
            break;
        case O_STEPS:
            if (!cli_parse_int(optarg, &v) || v < 1 || v > 100000)
                return cli_usage_error("bench", "--steps: 1..100000");
            o.steps = (int)v;
            break;
        case O_JSON: json = true; break;
        case O_RECOMP: {
            ct_recompute r;
            if (ct_recompute_parse(optarg, "--recompute", &r)) return cli_usage_error("bench", "%s", ct_error());
            o.recompute = (int)r;
            break;
        }
        case 't':
            if (!cli_parse_int(optarg, &v) || v < 0 || v > 1024) return cli_usage_error("bench", "--threads: 0..1024");
            o.threads = (int)v;
            break;
        case CLI_OPT_PRECISION:
            if (ct_precision_parse(optarg, "--precision", &o.precision))
                return cli_usage_error("bench", "%s", ct_error());
            break;
        default: return cli_usage_error("bench", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (!o.config) return cli_usage_error("bench", "--config FILE is required");
    if (!have_what) return cli_usage_error("bench", "--what is required");
    ct_bench_result r;
    ct_status s = ct_bench_run(&o, &r);
    if (s) return cli_fail("bench", s);
    static const char *const units[] = {"images/s", "texts/s", "triplets/s", "images/s", "queries/s"};
    if (ct_dist_rank() != 0) return CLI_OK; /* under mpirun: rank 0 reports */
    if (json)
        printf("{\"what\": \"%s\", \"precision\": \"%s\", \"batch\": %d, \"items_per_s\": %.4f, \"peak_rss_mb\": %.1f, "
               "\"gflops\": %.2f, \"seconds\": %.4f, \"cpu_seconds\": %.4f, \"steps\": %d, \"ranks\": %d, "
               "\"collective_mb_per_step\": %.2f, \"loss\": %.9g}\n",
               ct_bench_what_name(o.what), ct_precision_name(o.precision), r.batch, r.items_per_s, r.peak_rss_mb,
               r.gflops, r.seconds, r.cpu_seconds, o.steps, r.ranks, r.collective_mb, r.loss);
    else
        printf("%s %s batch %d: %.3f %s, peak RSS %.0f MB, %.1f GFLOP/s (%d steps, %.3f s)\n",
               ct_bench_what_name(o.what), ct_precision_name(o.precision), r.batch, r.items_per_s, units[o.what],
               r.peak_rss_mb, r.gflops, o.steps, r.seconds);
    return CLI_OK;
}
