/* The training library seams: the 2-space JSON printer, the parameter name table, the metrics
 * log under a full disk (RLIMIT_FSIZE stands in for it) and on resume, and the public trainer
 * API (open / step / close): a stop request during the last step still ends as done (D16), one
 * before it saves and interrupts, and a failed metrics write stops with a checkpoint. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/json.h"
#include "core/params.h"
#include "ctcir/log.h"
#include "ctcir/train.h"
#include "test_tmpdir.h"
#include "test_util.h"
#include "train/metrics_log.h"

static void test_json_print(void) {
    cJSON *j = cJSON_Parse("{\"a\":1,\"b\":[true,\"x,]{\\\"\"],\"c\":{},\"d\":[],\"e\":{\"f\":null}}");
    char *text = ct_json_print_indented(j);
    const char *want = "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    \"x,]{\\\"\"\n  ],\n  \"c\": {},\n  \"d\": [],\n"
                       "  \"e\": {\n    \"f\": null\n  }\n}\n";
    CHECK_MSG(text && !strcmp(text, want), "got:\n%s", text ? text : "(null)");
    cJSON *back = text ? cJSON_Parse(text) : NULL;
    CHECK(back && cJSON_Compare(j, back, true));
    cJSON_Delete(back);
    cJSON_Delete(j);
    free(text);
}

static void test_params_names(void) {
    ct_params p;
    ct_params_init(&p);
    const int64_t shape[1] = {3};
    char name[64];
    int ok = 1;
    for (int i = 0; i < 20000 && ok; i++) {
        snprintf(name, sizeof name, "fusion.blocks.%d.weight", i);
        int idx = -1;
        ok = ct_params_add(&p, name, 1, shape, &idx) == CT_OK && idx == i;
    }
    CHECK(ok && p.count == 20000);
    for (int i = 0; i < 20000 && ok; i += 7) {
        snprintf(name, sizeof name, "fusion.blocks.%d.weight", i);
        ok = ct_params_find(&p, name) == i;
    }
    CHECK(ok);
    CHECK(ct_params_find(&p, "fusion.blocks.20000.weight") == -1);
    CHECK(ct_params_add(&p, "fusion.blocks.5.weight", 1, shape, NULL) == CT_ERR_ARG && strstr(ct_error(), "duplicate"));
    CHECK(p.count == 20000);
    ct_params_free(&p);
    ct_params_init(&p);
    CHECK(ct_params_find(&p, "x") == -1);
    ct_params_free(&p);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Every line of the file is whole and parses as a JSON object; returns the count, -1 if not. */
static int whole_lines(const char *path) {
    char *text;
    size_t n;
    if (ct_read_file(path, &text, &n, 1 << 20)) return -1;
    int lines = 0;
    for (char *line = text; line < text + n;) {
        char *nl = memchr(line, '\n', (size_t)(text + n - line));
        if (!nl) {
            lines = -1;
            break;
        }
        *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        if (!cJSON_IsObject(j)) lines = -1000;
        cJSON_Delete(j);
        lines++;
        line = nl + 1;
    }
    free(text);
    return lines;
}

static void limit_file_size(rlim_t bytes) {
    struct rlimit r;
    getrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
}

static void unlimit_file_size(void) {
    struct rlimit r;
    getrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_FSIZE, &r);
}

static void test_metrics_log(void) {
    char path[400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", tmpdir);
    ct_metrics_log *l = NULL;
    CHECK(ct_metrics_log_open(&l, path, -1) == CT_OK);
    for (int s = 1; s <= 3; s++) CHECK(ct_metrics_log_printf(l, "{\"step\": %d, \"loss\": %.3f}", s, 1.0 / s) == CT_OK);
    const long before = file_size(path);
    /* the disk fills up in the middle of the next line */
    limit_file_size((rlim_t)before + 10);
    char big[600];
    memset(big, 'x', sizeof big);
    snprintf(big, sizeof big, "{\"step\": 4, \"pad\": \"%0500d\"}", 0);
    ct_status s = ct_metrics_log_line(l, big);
    unlimit_file_size();
    CHECK_MSG(s == CT_ERR_IO && strstr(ct_error(), "metrics.jsonl") && strstr(ct_error(), "write failed"), "%d %s", s,
              ct_error());
    CHECK_MSG(file_size(path) == before, "size %ld, before %ld: a torn line was left", file_size(path), before);
    CHECK(ct_metrics_log_printf(l, "{\"step\": 4, \"loss\": 0.25}") == CT_OK);
    CHECK(whole_lines(path) == 4);
    ct_metrics_log_close(l);
    /* a crash left a later line and a torn one: resuming at step 3 keeps steps 1-3 only */
    FILE *f = fopen(path, "a");
    fputs("{\"step\": 5, \"loss\": 0.2}\nnot json\n{\"step\": 6, \"lo", f);
    fclose(f);
    CHECK(ct_metrics_log_open(&l, path, 3) == CT_OK);
    CHECK(whole_lines(path) == 3);
    CHECK(ct_metrics_log_printf(l, "{\"step\": 4, \"loss\": 0.3}") == CT_OK);
    CHECK(whole_lines(path) == 4);
    ct_metrics_log_close(l);
}

static bool exists(const char *dir, const char *name) {
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void test_trainer(void) {
    const char *ctcir = getenv("CTCIR");
    char cmd[800], data[400], out[400], init[400];
    snprintf(data, sizeof data, "%s/data", tmpdir);
    snprintf(out, sizeof out, "%s/run", tmpdir);
    snprintf(init, sizeof init, "%s/parity/models/tiny-vit-b", test_shared_dir());
    snprintf(cmd, sizeof cmd, "%s synth-shapes --out %s --train 24 --val 4 --test 4 --seed 2 -q >/dev/null 2>&1",
             ctcir ? ctcir : "build/ctcir", data);
    if (system(cmd) != 0) {
        CHECK_MSG(0, "synth-shapes failed: %s", cmd);
        return;
    }
    ct_train_config cfg;
    ct_train_config_default(&cfg);
    char manifest[450];
    snprintf(manifest, sizeof manifest, "%s/train.jsonl", data);
    const char *sets[] = {"batch_size=4",    "max_steps=2",    "lr=1e-3",   "lr_min=1e-4",       "warmup=1",
                          "fusion_layers=1", "fusion_heads=4", "threads=1", "checkpoint_every=0"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) CHECK(ct_train_config_set(&cfg, sets[i]) == CT_OK);
    cfg.init = strdup(init);
    CHECK(ct_train_config_add_source(&cfg, false, NULL, manifest, data, NULL) == CT_OK);
    ct_log_set_level(CT_LOG_WARN);
    ct_train_install_signal_handlers();
    ct_train_run run = {.out_dir = out};
    ct_trainer *t = NULL;
    ct_status s = ct_trainer_open(&t, &cfg, &run);
    CHECK_MSG(s == CT_OK, "open: %s", ct_error());
    if (s) goto done;
    bool done = false;
    CHECK(ct_trainer_step(t, &done) == CT_OK && !done && ct_trainer_current_step(t) == 1);
    raise(SIGTERM); /* lands during the last step: the run still completes */
    s = ct_trainer_step(t, &done);
    CHECK_MSG(s == CT_OK && !done, "last step after SIGTERM: %d %s", s, ct_error());
    CHECK(ct_trainer_step(t, &done) == CT_OK && done);
    CHECK(ct_trainer_close(t, CT_OK) == CT_OK);
    CHECK(exists(out, "checkpoint-2/trainer_state.json"));
    /* a second trainer refuses the folder without resume or force */
    CHECK(ct_trainer_open(&t, &cfg, &run) == CT_ERR_ARG && strstr(ct_error(), "--resume"));
    /* resume to 5: a stop request before the last step saves and interrupts */
    CHECK(ct_train_config_set(&cfg, "max_steps=5") == CT_OK);
    run.resume = out;
    s = ct_trainer_open(&t, &cfg, &run);
    CHECK_MSG(s == CT_OK, "resume: %s", ct_error());
    if (s) goto done;
    raise(SIGINT);
    s = ct_trainer_step(t, &done);
    CHECK_MSG(s == CT_ERR_INTERRUPTED && strstr(ct_error(), "checkpoint-3"), "%d %s", s, ct_error());
    CHECK(ct_trainer_close(t, s) == CT_ERR_INTERRUPTED);
    CHECK(exists(out, "checkpoint-3/trainer_state.json"));
    /* the disk fills up before step 4's metrics line: stop with the error; the step is saved */
    s = ct_trainer_open(&t, &cfg, &run);
    CHECK_MSG(s == CT_OK, "resume: %s", ct_error());
    if (s) goto done;
    char metrics[450];
    snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", out);
    limit_file_size((rlim_t)file_size(metrics) + 20);
    s = ct_trainer_step(t, &done);
    unlimit_file_size();
    CHECK_MSG(s == CT_ERR_IO && strstr(ct_error(), "metrics.jsonl"), "%d %s", s, ct_error());
    CHECK(ct_trainer_close(t, s) == CT_ERR_IO && strstr(ct_error(), "metrics.jsonl"));
    CHECK(exists(out, "checkpoint-4/trainer_state.json"));
    CHECK(whole_lines(metrics) == 3);
done:
    ct_log_set_level(CT_LOG_PROGRESS);
    ct_train_config_free(&cfg);
}

int main(void) {
    signal(SIGXFSZ, SIG_IGN); /* a write past RLIMIT_FSIZE fails with EFBIG instead */
    if (!tmpdir_make("train_api")) return 1;
    test_json_print();
    test_params_names();
    test_metrics_log();
    test_trainer();
    tmpdir_remove();
    return test_finish();
}
