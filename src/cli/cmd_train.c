/* ctcir train: fine-tune a ConText-CIR model. Flags become key=value assignments, applied
 * in command-line order over the config file (and, on --resume, over the saved config). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "ctcir/train.h"

typedef struct {
    char **v;
    int n;
} assign_list;

/* One flag that becomes a config assignment: fmt is "key=%s" (or "key=value" for a flag). */
typedef struct {
    assign_list *list;
    const char *fmt;
} assign_flag;

static int push_assign(void *ctx, const char *cmd, const char *flag, const char *value) {
    const assign_flag *f = ctx;
    const char *v = value ? value : "";
    int len = snprintf(NULL, 0, f->fmt, v);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!s) return cli_usage_error(cmd, "%s: out of memory", flag);
    snprintf(s, (size_t)len + 1, f->fmt, v);
    f->list->v[f->list->n++] = s;
    return 0;
}

int cmd_train(int argc, char **argv) {
    ct_train_config cfg, d;
    ct_train_config_default(&cfg);
    ct_train_config_default(&d);
    ct_train_run run = {0};
    const char *config = NULL, *data = NULL, *root = NULL, *val = NULL, *val_root = NULL;
    long threads = 0;
    int rc = CLI_OK;
    assign_list list = {calloc((size_t)argc + 2, sizeof(char *)), 0};
    if (!list.v) return cli_fail("train", ct_fail(CT_ERR_NOMEM, "out of memory"));
    enum {
        A_INIT,
        A_BATCH,
        A_MICRO,
        A_STEPS,
        A_LR,
        A_LRMIN,
        A_WARM,
        A_NOSHUF,
        A_SEED,
        A_SET,
        A_STRICT,
        A_VALEVERY,
        A_VALMETRIC,
        A_PREC,
        A_RECOMP,
        A_N
    };
    static const char *const fmt[A_N] = {
        "init=%s",     "batch_size=%s", "micro_batch=%s", "max_steps=%s", "lr=%s",
        "lr_min=%s",   "warmup=%s",     "shuffle=false",  "seed=%s",      "%s",
        "strict=true", "val_every=%s",  "val_metric=%s",  "precision=%s", "recompute=%s"};
    assign_flag af[A_N];
    cli_call call[A_N];
    for (int i = 0; i < A_N; i++) {
        af[i] = (assign_flag){&list, fmt[i]};
        call[i] = (cli_call){push_assign, &af[i], i != A_NOSHUF && i != A_STRICT};
    }
    /* help texts with the live defaults (ct_train_config_default) */
    char h_batch[80], h_steps[80], h_lr[120], h_warm[80], h_seed[100], h_valevery[160];
    snprintf(h_batch, sizeof h_batch, "triplets per step (default %d)", d.batch_size);
    snprintf(h_steps, sizeof h_steps, "steps (default %lld)", (long long)d.max_steps);
    snprintf(h_lr, sizeof h_lr, "peak of the cosine schedule (default %g); equal to --lr-min with --warmup 0: constant",
             d.lr.lr_max);
    snprintf(h_warm, sizeof h_warm, "linear warm-up steps (default %lld)", (long long)d.lr.warmup);
    snprintf(h_seed, sizeof h_seed, "seed of the head initialisation and the data order (default %llu)",
             (unsigned long long)d.model.seed);
    snprintf(h_valevery, sizeof h_valevery,
             "validate every N steps (default %lld: only after the last step); each\n"
             "validation is logged to metrics.jsonl and saved as a checkpoint",
             (long long)d.val_every);
    char h_lrmin[80];
    snprintf(h_lrmin, sizeof h_lrmin, "floor of the cosine schedule (default %g)", d.lr.lr_min);
    const cli_opt opts[] = {
        {"config", 'c', CLI_STR, &config, "FILE", "training config (JSON); optional"},
        {"init", 'm', CLI_CALL, &call[A_INIT], "DIR",
         "a Hugging Face CLIP folder (head initialised from `seed`) or a ctcir folder"},
        {"data", 0, CLI_STR, &data, "FILE",
         "training manifest: JSON lines {reference, target, caption, noun_phrases?}"},
        {"image-root", 0, CLI_STR, &root, "DIR", "folder the manifest's image paths are relative to"},
        {"batch-size", 0, CLI_CALL, &call[A_BATCH], "N", h_batch},
        {"micro-batch", 0, CLI_CALL, &call[A_MICRO], "M",
         "GradCache micro-batch: memory of M, result of the whole batch (default: N)"},
        {"max-steps", 0, CLI_CALL, &call[A_STEPS], "K", h_steps},
        {"lr", 0, CLI_CALL, &call[A_LR], "X", h_lr},
        {"lr-min", 0, CLI_CALL, &call[A_LRMIN], "X", h_lrmin},
        {"warmup", 0, CLI_CALL, &call[A_WARM], "N", h_warm},
        {"no-shuffle", 0, CLI_CALL, &call[A_NOSHUF], NULL, "read the data in order"},
        {"seed", 's', CLI_CALL, &call[A_SEED], "S", h_seed},
        {"set", 0, CLI_CALL, &call[A_SET], "key=value",
         "any config key (training or model option), e.g. lambda_cc=0; repeatable"},
        {"out", 'o', CLI_STR, &run.out_dir, "DIR",
         "where checkpoints (checkpoint-<step>/, last ->, best ->), metrics.jsonl\n"
         "and train_config.json go; a folder holding another run is refused",
         .required = true},
        {"resume", 0, CLI_STR, &run.resume, "DIR",
         "continue from a checkpoint folder (or DIR/last, or the newest inside DIR)\n"
         "with the configuration saved there; flags that change it need --override"},
        {"override", 0, CLI_FLAG, &run.override, NULL,
         "resume although batch size, lr, data, seed, ... differ from the saved run"},
        {"force", 'f', CLI_FLAG, &run.force, NULL,
         "start a new run in an --out folder that holds another, deleting that\n"
         "run's checkpoints, links and metrics.jsonl"},
        {"val", 0, CLI_STR, &val, "SPEC",
         "validation set: KIND:ROOT:SPLIT (e.g. cirr:datasets/cirr:val) or a\n"
         "manifest file (images under --val-image-root, default --image-root)"},
        {"val-image-root", 0, CLI_STR, &val_root, "DIR", "image folder of a manifest validation set"},
        {"val-every", 0, CLI_CALL, &call[A_VALEVERY], "N", h_valevery},
        {"val-metric", 0, CLI_CALL, &call[A_VALMETRIC], "KEY",
         "eval --json key that picks OUT/best (default: the dataset's headline\n"
         "metric, e.g. cirr avg, circo mAP@10, manifest recall@1)"},
        {"dump-first-grads", 0, CLI_STR, &run.dump_first_grads, "F",
         "write loss.total, loss.cont, loss.cc and grad.<name> of step 1"},
        {"strict", 0, CLI_CALL, &call[A_STRICT], NULL,
         "a bad record (missing or unreadable image, malformed field) is an\n"
         "error instead of a skipped record with a warning"},
        {"precision", 0, CLI_CALL, &call[A_PREC], "P",
         "fp32 or bf16: matrix products in bf16, the rest fp32 (default fp32;\n"
         "the config key `precision`)"},
        {"recompute", 0, CLI_CALL, &call[A_RECOMP], "auto|on|off",
         "activation recomputation in the CLIP towers: keep only each\n"
         "layer's output, rerun the layer before its backward (auto: when the\n"
         "activations would not fit in memory; docs/memory.md; default auto)"},
        CLI_OPT_THREADS(&threads),
        {0}};
    char epilogue[400];
    snprintf(epilogue, sizeof epilogue,
             "A checkpoint is saved every %lld steps (checkpoint_every), the newest %d are kept\n"
             "(keep_checkpoints), never OUT/best. Ctrl-C saves a checkpoint after the current step and\n"
             "exits with status 130; `--resume OUT` continues.\n",
             (long long)d.checkpoint_every, d.keep_checkpoints);
    const cli_cmd cmd = {
        "train",
        "usage: ctcir train [--config FILE] [--init DIR] [--data MANIFEST.jsonl --image-root DIR]\n"
        "                   [--batch-size N] [--micro-batch M] [--max-steps K] [--lr X] [--lr-min X]\n"
        "                   [--warmup N] [--no-shuffle] [--seed S] [--set key=value]... --out DIR\n"
        "                   [--resume DIR [--override]] [--force] [--val SPEC [--val-every N] [--val-metric KEY]]\n"
        "                   [--dump-first-grads FILE.safetensors] [--strict] [-t N]\n\n"
        "Trains ConText-CIR (both CLIP towers, fusion, pooling) with the contrastive and\n"
        "concept-consistency losses. Defaults are docs/model.md section 7; a config file\n"
        "(configs/*.json) sets any training or model key, flags override it, --set overrides both.\n"
        "Model keys from the file or --set also apply over a ctcir --init folder's own options.\n",
        opts, epilogue};
    rc = cli_parse(&cmd, argc, argv, NULL);
    ct_train_config_free(&d);
    if (rc != CLI_PARSED) goto done;
    rc = CLI_OK;
    if (threads) {
        char t[40];
        snprintf(t, sizeof t, "%ld", threads);
        assign_flag tf = {&list, "threads=%s"};
        push_assign(&tf, "train", "--threads", t);
    }
    if ((data == NULL) != (root == NULL)) {
        rc = cli_usage_error("train", "--data and --image-root go together");
        goto done;
    }
    if (run.override && !run.resume) {
        rc = cli_usage_error("train", "--override goes with --resume");
        goto done;
    }
    ct_status s;
    /* on resume the saved configuration is the base that the file and flags change */
    if (run.resume && (s = ct_train_config_load_saved(&cfg, run.resume))) {
        rc = cli_fail("train", s);
        goto done;
    }
    if (config && (s = ct_train_config_load(&cfg, config))) {
        rc = cli_fail("train", s);
        goto done;
    }
    for (int i = 0; i < list.n; i++)
        if ((s = ct_train_config_set(&cfg, list.v[i]))) {
            rc = cli_usage_error("train", "%s", ct_error());
            goto done;
        }
    if (data) {
        ct_train_config_free_data(&cfg);
        cfg.data[0] = (ct_data_source){strdup("manifest"), strdup(data), strdup(root), strdup("train"), 1.0};
        cfg.n_data = 1;
    }
    if (val && (s = ct_train_config_set_val(&cfg, val, val_root ? val_root : root))) {
        rc = cli_usage_error("train", "%s", ct_error());
        goto done;
    }
    if ((s = ct_train_config_validate(&cfg))) {
        rc = cli_usage_error("train", "%s", ct_error());
        goto done;
    }
    if (!cfg.init && !run.resume) {
        rc = cli_usage_error("train", "no model to start from (give --init DIR: a CLIP or ctcir folder)");
        goto done;
    }
    ct_train_install_signal_handlers();
    s = ct_train(&cfg, &run);
    if (s == CT_ERR_INTERRUPTED) {
        fprintf(stderr, "ctcir train: %s\n", ct_error());
        rc = 130;
    } else if (s)
        rc = cli_fail("train", s);
done:
    for (int i = 0; i < list.n; i++) free(list.v[i]);
    free(list.v);
    ct_train_config_free(&cfg);
    return rc;
}
