/* ctcir init: a randomly initialised CLIP folder to train from scratch. */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/init.h"

int cmd_init(int argc, char **argv) {
    ct_init_args a = {0};
    long seed = 0;
    const cli_opt opts[] = {{"config", 'c', CLI_STR, &a.config_path, "FILE",
                             "model config: HF CLIPConfig keys (configs/synthetic-tiny-model.json);\n"
                             "text_config.vocab_size may be \"auto\" (= the vocabulary's size), and\n"
                             "\"vocab\" may name the vocabulary folder",
                             .required = true},
                            {"out", 'o', CLI_STR, &a.out_dir, "DIR",
                             "output folder; must be missing or empty unless --force", .required = true},
                            {"vocab", 0, CLI_STR, &a.vocab_dir, "DIR",
                             "vocab.json + merges.txt, e.g. from `ctcir bpe-train` (default: the\n"
                             "config's \"vocab\")"},
                            {"seed", 's', CLI_INT, &seed, "S", "random seed, a non-negative integer", 0, 9.0e15},
                            {"force", 'f', CLI_FLAG, &a.force, NULL, "replace an existing --out folder"},
                            {0}};
    const cli_cmd cmd = {"init",
                         "usage: ctcir init --config FILE --out DIR [--vocab DIR] [--seed S] [--force]\n\n"
                         "Writes a CLIP model with random weights in Hugging Face's layout: config.json (CLIPConfig\n"
                         "with text_config / vision_config), model.safetensors (every CLIPModel tensor, logit_scale =\n"
                         "ln(1/0.07)), vocab.json + merges.txt (copied from the vocabulary folder) and\n"
                         "preprocessor_config.json. The folder loads with `ctcir encode`, `ctcir train --init` and\n"
                         "transformers' CLIPModel. Weights follow openai CLIP's initialize_parameters (both towers).\n",
                         opts, "Prints {\"out\", \"parameters\", \"vocab_size\", \"seed\"} as JSON on stdout.\n"};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    a.seed = (uint64_t)seed;
    ct_init_info info;
    ct_status s = ct_init_folder(&a, &info);
    if (s) return cli_fail("init", s);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "out", a.out_dir) &&
        cJSON_AddNumberToObject(o, "parameters", (double)info.parameters) &&
        cJSON_AddNumberToObject(o, "vocab_size", info.vocab_size) && cJSON_AddNumberToObject(o, "seed", (double)seed))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return cli_fail("init", ct_fail(CT_ERR_NOMEM, "out of memory"));
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}
