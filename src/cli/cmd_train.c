/* ctcir train: fine-tune a ConText-CIR model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "train/trainer.h"
#include "cli/cli.h"
#include "cli/commands.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir train [--config FILE] [--init DIR] [--data MANIFEST.jsonl --image-root DIR]\n"
            "                   [--batch-size N] [--micro-batch M] [--max-steps K] [--lr X] [--lr-min X]\n"
            "                   [--warmup N] [--no-shuffle] [--seed S] [--set key=value]... --out DIR\n"
            "                   [--resume DIR] [--dump-first-grads FILE.safetensors] [--strict] [-t N]\n\n"
            "Trains ConText-CIR (both CLIP towers, fusion, pooling) with the contrastive and\n"
            "concept-consistency losses. Defaults are docs/model.md section 7; a config file\n"
            "(configs/*.json) sets any training or model key, flags override it, --set overrides both.\n\n"
            "  --config FILE         training config (JSON); optional\n"
            "  --init DIR            a Hugging Face CLIP folder (head initialised from `seed`) or a ctcir folder\n"
            "  --data FILE           training manifest: JSON lines {reference, target, caption, noun_phrases?}\n"
            "  --image-root DIR      folder the manifest's image paths are relative to\n"
            "  --batch-size N        triplets per step (default 256)\n"
            "  --micro-batch M       GradCache micro-batch: memory of M, result of the whole batch (default: N)\n"
            "  --max-steps K         steps (default 35000)\n"
            "  --lr X, --lr-min X    cosine schedule bounds (default 2e-5, 2e-7); equal with --warmup 0: constant\n"
            "  --warmup N            linear warm-up steps (default 500)\n"
            "  --no-shuffle          read the data in order\n"
            "  --seed S              seed of the head initialisation and the data order (default 0)\n"
            "  --set key=value       any config key (training or model option), e.g. lambda_cc=0\n"
            "  --out DIR             where checkpoints (checkpoint-<step>/, last ->), metrics.jsonl and\n"
            "                        train_config.json go\n"
            "  --resume DIR          continue from a checkpoint folder (or the newest one inside DIR)\n"
            "  --dump-first-grads F  write loss.total, loss.cont, loss.cc and grad.<name> of step 1\n"
            "  --strict              a bad record (missing or unreadable image, malformed field) is an\n"
            "                        error instead of a skipped record with a warning\n"
            "  -t, --threads N       OpenBLAS/OpenMP threads (default: all cores)\n"
            "  --recompute M         auto (default), on or off: recompute the CLIP towers' activations\n"
            "                        in backward instead of keeping them (bit-identical results, about\n"
            "                        a third more tower work); auto turns it on when they would not fit\n"
            "                        in the available memory\n"
            "  --precision P         fp32 (default) or bf16: matrix products in bf16, the rest fp32\n\n"
            "Ctrl-C saves a checkpoint after the current step and exits with status 130.\n");
}

int cmd_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_INIT = 256, O_DATA, O_ROOT, O_BATCH, O_MICRO, O_STEPS, O_LR, O_LRMIN, O_WARM, O_NOSHUF, O_SEED, O_SET,
           O_OUT, O_RESUME, O_DUMP, O_CONFIG, O_STRICT, O_PREC, O_RECOMP };
    static const struct option opts[] = {
        {"config", required_argument, 0, O_CONFIG}, {"init", required_argument, 0, O_INIT},
        {"data", required_argument, 0, O_DATA}, {"image-root", required_argument, 0, O_ROOT},
        {"batch-size", required_argument, 0, O_BATCH}, {"micro-batch", required_argument, 0, O_MICRO},
        {"max-steps", required_argument, 0, O_STEPS}, {"lr", required_argument, 0, O_LR},
        {"lr-min", required_argument, 0, O_LRMIN}, {"warmup", required_argument, 0, O_WARM},
        {"no-shuffle", no_argument, 0, O_NOSHUF}, {"seed", required_argument, 0, O_SEED},
        {"set", required_argument, 0, O_SET}, {"out", required_argument, 0, O_OUT},
        {"resume", required_argument, 0, O_RESUME}, {"dump-first-grads", required_argument, 0, O_DUMP},
        {"strict", no_argument, 0, O_STRICT}, {"precision", required_argument, 0, O_PREC},
        {"recompute", required_argument, 0, O_RECOMP},
        {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    /* Flags are collected as key=value assignments and applied after the config file. */
    char **assign = calloc((size_t)argc * 2 + 4, sizeof *assign);
    char **model_sets = calloc((size_t)argc + 2, sizeof *model_sets);
    int n_assign = 0, n_model = 0, rc = CLI_OK;
    const char *config = NULL, *data = NULL, *root = NULL;
    ct_train_run run = {0};
    ct_train_config cfg;
    ct_train_config_default(&cfg);
    if (!assign || !model_sets) return cli_fail("train", ct_fail(CT_ERR_NOMEM, "out of memory"));
    optind = 1;
    int c;
    char buf[4200];
#define ASSIGN(fmt, ...) (snprintf(buf, sizeof buf, fmt, __VA_ARGS__), assign[n_assign++] = strdup(buf))
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: config = optarg; break;
        case O_INIT: ASSIGN("init=%s", optarg); break;
        case O_DATA: data = optarg; break;
        case O_ROOT: root = optarg; break;
        case O_BATCH: ASSIGN("batch_size=%s", optarg); break;
        case O_MICRO: ASSIGN("micro_batch=%s", optarg); break;
        case O_STEPS: ASSIGN("max_steps=%s", optarg); break;
        case O_LR: ASSIGN("lr=%s", optarg); break;
        case O_LRMIN: ASSIGN("lr_min=%s", optarg); break;
        case O_WARM: ASSIGN("warmup=%s", optarg); break;
        case O_NOSHUF: ASSIGN("shuffle=%s", "false"); break;
        case O_SEED: ASSIGN("seed=%s", optarg); model_sets[n_model++] = strdup(buf); break;
        case O_SET: {
            ASSIGN("%s", optarg);
            ct_cir_options probe;
            ct_cir_options_default(&probe);
            char key[64];
            const char *value;
            if (ct_split_kv(optarg, key, sizeof key, &value) && ct_cir_options_set(&probe, key, value) != CT_ERR_UNSUPPORTED)
                model_sets[n_model++] = strdup(optarg);
            break;
        }
        case O_OUT: run.out_dir = optarg; break;
        case O_RESUME: run.resume = optarg; break;
        case O_DUMP: run.dump_first_grads = optarg; break;
        case O_STRICT: ASSIGN("strict=%s", "true"); break;
        case 't': ASSIGN("threads=%s", optarg); break;
        case O_PREC: ASSIGN("precision=%s", optarg); break;
        case O_RECOMP: ASSIGN("recompute=%s", optarg); break;
        default: rc = cli_usage_error("train", "unknown option"); goto done;
        }
    }
#undef ASSIGN
    if (optind < argc) { rc = cli_usage_error("train", "unexpected argument '%s'", argv[optind]); goto done; }
    if (!run.out_dir) { rc = cli_usage_error("train", "--out DIR is required"); goto done; }
    if ((data == NULL) != (root == NULL)) { rc = cli_usage_error("train", "--data and --image-root go together"); goto done; }
    ct_status s;
    if (config && (s = ct_train_config_load(&cfg, config))) { rc = cli_fail("train", s); goto done; }
    for (int i = 0; i < n_assign; i++)
        if ((s = ct_train_config_set(&cfg, assign[i]))) { rc = cli_usage_error("train", "%s", ct_error()); goto done; }
    if (data) {
        ct_train_config_free_data(&cfg);
        cfg.data[0] = (ct_data_source){strdup("manifest"), strdup(data), strdup(root), strdup("train"), 1.0};
        cfg.n_data = 1;
    }
    run.model_sets = (const char *const *)model_sets;
    run.n_model_sets = n_model;
    ct_train_install_signal_handlers();
    s = ct_train(&cfg, &run);
    if (s == CT_ERR_INTERRUPTED) {
        fprintf(stderr, "ctcir train: %s\n", ct_error());
        rc = 130;
    } else if (s) rc = cli_fail("train", s);
done:
    for (int i = 0; i < n_assign; i++) free(assign[i]);
    for (int i = 0; i < n_model; i++) free(model_sets[i]);
    free(assign), free(model_sets);
    ct_train_config_free(&cfg);
    return rc;
}
