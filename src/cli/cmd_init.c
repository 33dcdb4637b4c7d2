/* ctcir init: a randomly initialised CLIP folder to train from scratch. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "clip/clip.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir init --config FILE --out DIR [--vocab DIR] [--seed S] [--force]\n\n"
            "Writes a CLIP model with random weights in Hugging Face's layout: config.json (CLIPConfig\n"
            "with text_config / vision_config), model.safetensors (every CLIPModel tensor, logit_scale =\n"
            "ln(1/0.07)), vocab.json + merges.txt (copied from the vocabulary folder) and\n"
            "preprocessor_config.json. The folder loads with `ctcir encode`, `ctcir train --init` and\n"
            "transformers' CLIPModel. Weights follow openai CLIP's initialize_parameters (both towers).\n\n"
            "  -c, --config FILE   model config: HF CLIPConfig keys (configs/synthetic-tiny-model.json);\n"
            "                      text_config.vocab_size may be \"auto\" (= the vocabulary's size), and\n"
            "                      \"vocab\" may name the vocabulary folder (required)\n"
            "  -o, --out DIR       output folder; must be missing or empty unless --force (required)\n"
            "  -v, --vocab DIR     vocab.json + merges.txt, e.g. from `ctcir bpe-train` (default: the\n"
            "                      config's \"vocab\")\n"
            "  -s, --seed S        random seed, a non-negative integer (default 0)\n"
            "  -f, --force         replace an existing --out folder\n"
            "  -h, --help          this help\n\n"
            "Prints {\"out\", \"parameters\", \"vocab_size\", \"seed\"} as JSON on stdout.\n");
}

int cmd_init(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
                                         {"vocab", required_argument, 0, 'v'}, {"seed", required_argument, 0, 's'},
                                         {"force", no_argument, 0, 'f'},          {0, 0, 0, 0}};
    ct_clip_init_args a = {0};
    long seed = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:o:v:s:f", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.config_path = optarg; break;
        case 'o': a.out_dir = optarg; break;
        case 'v': a.vocab_dir = optarg; break;
        case 'f': a.force = true; break;
        case 's':
            if (!cli_parse_int(optarg, &seed) || seed < 0)
                return cli_usage_error(argv[0], "--seed must be a non-negative integer, got '%s'", optarg);
            break;
        default: return cli_usage_error(argv[0], "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!a.config_path || !a.out_dir) return cli_usage_error(argv[0], "--config and --out are required");
    a.seed = (uint64_t)seed;
    ct_clip_config cfg;
    ct_status s = ct_clip_init_folder(&a, &cfg);
    if (s) return cli_fail(argv[0], s);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "out", a.out_dir) &&
        cJSON_AddNumberToObject(o, "parameters", (double)ct_clip_param_count(&cfg)) &&
        cJSON_AddNumberToObject(o, "vocab_size", cfg.text.vocab_size) && cJSON_AddNumberToObject(o, "seed", (double)seed))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return cli_fail(argv[0], ct_fail(CT_ERR_NOMEM, "out of memory"));
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}
