/* ctcir train: fine-tune a ConText-CIR model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctcir/train.h"
#include "cli/cli.h"
#include "cli/commands.h"

static void usage(FILE *out) {
    ct_train_config d;
    ct_train_config_default(&d);
    fprintf(out,
            "usage: ctcir train [--config FILE] [--init DIR] [--data MANIFEST.jsonl --image-root DIR]\n"
            "                   [--batch-size N] [--micro-batch M] [--max-steps K] [--lr X] [--lr-min X]\n"
            "                   [--warmup N] [--no-shuffle] [--seed S] [--set key=value]... --out DIR\n"
            "                   [--resume DIR [--override]] [--force] [--val SPEC [--val-every N] [--val-metric KEY]]\n"
            "                   [--dump-first-grads FILE.safetensors] [--strict] [-t N]\n\n"
            "Trains ConText-CIR (both CLIP towers, fusion, pooling) with the contrastive and\n"
            "concept-consistency losses. Defaults are docs/model.md section 7; a config file\n"
            "(configs/*.json) sets any training or model key, flags override it, --set overrides both.\n"
            "Model keys from the file or --set also apply over a ctcir --init folder's own options.\n\n"
            "  --config FILE         training config (JSON); optional\n"
            "  --init DIR            a Hugging Face CLIP folder (head initialised from `seed`) or a ctcir folder\n"
            "  --data FILE           training manifest: JSON lines {reference, target, caption, noun_phrases?}\n"
            "  --image-root DIR      folder the manifest's image paths are relative to\n"
            "  --batch-size N        triplets per step (default %d)\n"
            "  --micro-batch M       GradCache micro-batch: memory of M, result of the whole batch (default: N)\n"
            "  --max-steps K         steps (default %lld)\n"
            "  --lr X, --lr-min X    cosine schedule bounds (default %g, %g); equal with --warmup 0: constant\n"
            "  --warmup N            linear warm-up steps (default %lld)\n"
            "  --no-shuffle          read the data in order\n"
            "  --seed S              seed of the head initialisation and the data order (default %llu)\n"
            "  --set key=value       any config key (training or model option), e.g. lambda_cc=0\n"
            "  --out DIR             where checkpoints (checkpoint-<step>/, last ->, best ->), metrics.jsonl\n"
            "                        and train_config.json go; a folder holding another run is refused\n"
            "  --resume DIR          continue from a checkpoint folder (or DIR/last, or the newest inside DIR)\n"
            "                        with the configuration saved there; flags that change it need --override\n"
            "  --override            resume although batch size, lr, data, seed, ... differ from the saved run\n"
            "  --force               start a new run in an --out folder that holds another, deleting that\n"
            "                        run's checkpoints, links and metrics.jsonl\n"
            "  --val SPEC            validation set: KIND:ROOT:SPLIT (e.g. cirr:datasets/cirr:val) or a\n"
            "                        manifest file (images under --val-image-root, default --image-root)\n"
            "  --val-image-root DIR  image folder of a manifest validation set\n"
            "  --val-every N         validate every N steps (default %lld: only after the last step); each\n"
            "                        validation is logged to metrics.jsonl and saved as a checkpoint\n"
            "  --val-metric KEY      eval --json key that picks OUT/best (default: the dataset's headline metric,\n"
            "                        e.g. cirr avg, circo mAP@10, manifest recall@1)\n"
            "  --dump-first-grads F  write loss.total, loss.cont, loss.cc and grad.<name> of step 1\n"
            "  --strict              a bad record (missing or unreadable image, malformed field) is an\n"
            "                        error instead of a skipped record with a warning\n"
            "  -t, --threads N       OpenBLAS/OpenMP threads (default: all cores)\n\n"
            "A checkpoint is saved every %lld steps (checkpoint_every), the newest %d are kept\n"
            "(keep_checkpoints), never OUT/best. Ctrl-C saves a checkpoint after the current step and\n"
            "exits with status 130; `--resume OUT` continues.\n",
            d.batch_size, (long long)d.max_steps, d.lr.lr_max, d.lr.lr_min, (long long)d.lr.warmup,
            (unsigned long long)d.model.seed, (long long)d.val_every, (long long)d.checkpoint_every, d.keep_checkpoints);
    ct_train_config_free(&d);
}

int cmd_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    enum { O_INIT = 256, O_DATA, O_ROOT, O_BATCH, O_MICRO, O_STEPS, O_LR, O_LRMIN, O_WARM, O_NOSHUF, O_SEED, O_SET,
           O_OUT, O_RESUME, O_DUMP, O_CONFIG, O_STRICT, O_VAL, O_VALROOT, O_VALEVERY, O_VALMETRIC, O_FORCE, O_OVERRIDE };
    static const struct option opts[] = {
        {"config", required_argument, 0, O_CONFIG}, {"init", required_argument, 0, O_INIT},
        {"data", required_argument, 0, O_DATA}, {"image-root", required_argument, 0, O_ROOT},
        {"batch-size", required_argument, 0, O_BATCH}, {"micro-batch", required_argument, 0, O_MICRO},
        {"max-steps", required_argument, 0, O_STEPS}, {"lr", required_argument, 0, O_LR},
        {"lr-min", required_argument, 0, O_LRMIN}, {"warmup", required_argument, 0, O_WARM},
        {"no-shuffle", no_argument, 0, O_NOSHUF}, {"seed", required_argument, 0, O_SEED},
        {"set", required_argument, 0, O_SET}, {"out", required_argument, 0, O_OUT},
        {"resume", required_argument, 0, O_RESUME}, {"dump-first-grads", required_argument, 0, O_DUMP},
        {"strict", no_argument, 0, O_STRICT}, {"val", required_argument, 0, O_VAL},
        {"val-image-root", required_argument, 0, O_VALROOT}, {"val-every", required_argument, 0, O_VALEVERY},
        {"val-metric", required_argument, 0, O_VALMETRIC}, {"force", no_argument, 0, O_FORCE},
        {"override", no_argument, 0, O_OVERRIDE},
        {"threads", required_argument, 0, 't'}, {0, 0, 0, 0}};
    /* Flags are collected as key=value assignments and applied after the config file. */
    char **assign = calloc((size_t)argc * 2 + 4, sizeof *assign);
    int n_assign = 0, rc = CLI_OK;
    const char *config = NULL, *data = NULL, *root = NULL, *val = NULL, *val_root = NULL;
    ct_train_run run = {0};
    ct_train_config cfg;
    ct_train_config_default(&cfg);
    if (!assign) return cli_fail("train", ct_fail(CT_ERR_NOMEM, "out of memory"));
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
        case O_SEED: ASSIGN("seed=%s", optarg); break;
        case O_SET: ASSIGN("%s", optarg); break;
        case O_OUT: run.out_dir = optarg; break;
        case O_RESUME: run.resume = optarg; break;
        case O_DUMP: run.dump_first_grads = optarg; break;
        case O_STRICT: ASSIGN("strict=%s", "true"); break;
        case O_VAL: val = optarg; break;
        case O_VALROOT: val_root = optarg; break;
        case O_VALEVERY: ASSIGN("val_every=%s", optarg); break;
        case O_VALMETRIC: ASSIGN("val_metric=%s", optarg); break;
        case O_FORCE: run.force = true; break;
        case O_OVERRIDE: run.override = true; break;
        case 't': ASSIGN("threads=%s", optarg); break;
        default: rc = cli_usage_error("train", "unknown option"); goto done;
        }
    }
#undef ASSIGN
    if (optind < argc) { rc = cli_usage_error("train", "unexpected argument '%s'", argv[optind]); goto done; }
    if (!run.out_dir) { rc = cli_usage_error("train", "--out DIR is required"); goto done; }
    if ((data == NULL) != (root == NULL)) { rc = cli_usage_error("train", "--data and --image-root go together"); goto done; }
    if (run.override && !run.resume) { rc = cli_usage_error("train", "--override goes with --resume"); goto done; }
    ct_status s;
    /* on resume the saved configuration is the base that the file and flags change */
    if (run.resume && (s = ct_train_config_load_saved(&cfg, run.resume))) { rc = cli_fail("train", s); goto done; }
    if (config && (s = ct_train_config_load(&cfg, config))) { rc = cli_fail("train", s); goto done; }
    for (int i = 0; i < n_assign; i++)
        if ((s = ct_train_config_set(&cfg, assign[i]))) { rc = cli_usage_error("train", "%s", ct_error()); goto done; }
    if (data) {
        ct_train_config_free_data(&cfg);
        cfg.data[0] = (ct_data_source){strdup("manifest"), strdup(data), strdup(root), strdup("train"), 1.0};
        cfg.n_data = 1;
    }
    if (val && (s = ct_train_config_set_val(&cfg, val, val_root ? val_root : root))) { rc = cli_usage_error("train", "%s", ct_error()); goto done; }
    if ((s = ct_train_config_validate(&cfg))) { rc = cli_usage_error("train", "%s", ct_error()); goto done; }
    if (!cfg.init && !run.resume) { rc = cli_usage_error("train", "no model to start from (give --init DIR: a CLIP or ctcir folder)"); goto done; }
    ct_train_install_signal_handlers();
    s = ct_train(&cfg, &run);
    if (s == CT_ERR_INTERRUPTED) {
        fprintf(stderr, "ctcir train: %s\n", ct_error());
        rc = 130;
    } else if (s) rc = cli_fail("train", s);
done:
    for (int i = 0; i < n_assign; i++) free(assign[i]);
    free(assign);
    ct_train_config_free(&cfg);
    return rc;
}
