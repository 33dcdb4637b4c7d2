/* Training configuration: the shipped recipes parse and carry model.md section 7's defaults;
 * overrides, unknown keys and malformed files are handled. */
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "test_util.h"
#include "train/train_config.h"

static void check_defaults(const ct_train_config *c, const char *what) {
    CHECK_MSG(c->batch_size == 256 && c->max_steps == 35000, "%s: batch/steps", what);
    CHECK_MSG(c->lr.lr_max == 2e-5 && c->lr.lr_min == 2e-7 && c->lr.warmup == 500 && c->lr.cycle == 2500 &&
                  c->lr.cycle_mult == 2,
              "%s: schedule", what);
    CHECK_MSG(c->adamw.beta1 == 0.9 && c->adamw.beta2 == 0.98 && c->adamw.eps == 1e-8 &&
                  c->adamw.weight_decay == 1e-2 && c->adamw.max_grad_norm == 1.0,
              "%s: AdamW", what);
    CHECK_MSG(c->model.fusion_layers == 4 && c->model.fusion_heads == 8 && c->model.tau == 0.07 &&
                  c->model.lambda_cc == 0.08 && c->model.max_noun_phrases == 10 && c->model.seed == 0 &&
                  c->model.target_mode == CT_TARGET_FUSED && c->model.query_negatives == CT_QNEG_OWN &&
                  !c->model.symmetric && c->model.cc_abs && c->model.cc_detach_isolated && c->model.cc_eps == 0.0 &&
                  c->model.cc_normalize == CT_CCNORM_NONE,
              "%s: model options", what);
}

int main(void) {
    ct_train_config c;
    ct_train_config_default(&c);
    check_defaults(&c, "built-in defaults");
    ct_train_config_free(&c);
    const char *recipes[] = {"configs/train-cirr.json", "configs/train-lasco.json", "configs/train-aggregated.json"};
    int n_data[] = {1, 1, 4};
    for (int i = 0; i < 3; i++) {
        ct_train_config_default(&c);
        ct_status s = ct_train_config_load(&c, recipes[i]);
        CHECK_MSG(s == CT_OK, "%s: %s", recipes[i], ct_error());
        check_defaults(&c, recipes[i]);
        CHECK_MSG(c.n_data == n_data[i], "%s: %d data sources", recipes[i], c.n_data);
        CHECK(c.init != NULL);
        ct_train_config_free(&c);
    }
    /* overrides */
    ct_train_config_default(&c);
    CHECK(ct_train_config_set(&c, "lr=1e-4") == CT_OK && c.lr.lr_max == 1e-4);
    CHECK(ct_train_config_set(&c, "lambda_cc=0") == CT_OK && c.model.lambda_cc == 0);
    CHECK(ct_train_config_set(&c, "query_negatives=all") == CT_OK && c.model.query_negatives == CT_QNEG_ALL);
    CHECK(ct_train_config_set(&c, "freeze_text=true") == CT_OK && c.freeze_text);
    CHECK(c.recompute == CT_RECOMPUTE_AUTO);
    CHECK(ct_train_config_set(&c, "recompute=on") == CT_OK && c.recompute == CT_RECOMPUTE_ON);
    CHECK(ct_train_config_set(&c, "recompute=sometimes") == CT_ERR_ARG && strstr(ct_error(), "sometimes"));
    CHECK(ct_train_config_set(&c, "nonsense=1") == CT_ERR_ARG && strstr(ct_error(), "nonsense"));
    CHECK(ct_train_config_set(&c, "batch_size=0") == CT_ERR_ARG);
    CHECK(ct_train_config_set(&c, "tau=-1") == CT_ERR_ARG);
    CHECK(ct_train_config_set(&c, "target_mode=sideways") == CT_ERR_ARG);
    CHECK(ct_train_config_set(&c, "no_equals_sign") == CT_ERR_ARG);
    /* the effective config round-trips through JSON */
    char *json = ct_train_config_to_json(&c);
    char path[] = "/tmp/ctcir_cfg_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    ct_train_config d;
    ct_train_config_default(&d);
    CHECK_MSG(ct_train_config_load(&d, path) == CT_OK, "round trip: %s", ct_error());
    CHECK(d.lr.lr_max == 1e-4 && d.model.lambda_cc == 0 && d.model.query_negatives == CT_QNEG_ALL && d.freeze_text);
    CHECK(d.recompute == CT_RECOMPUTE_ON);
    ct_train_config_free(&d);
    free(json);
    /* malformed files name the file, line and column */
    const char *bad = "{\n  \"lr\": 1e-4,\n  \"batch_size\": ,\n}\n";
    CHECK(ct_write_file_atomic(path, bad, strlen(bad)) == CT_OK);
    ct_train_config_default(&d);
    CHECK(ct_train_config_load(&d, path) == CT_ERR_FORMAT);
    CHECK_MSG(strstr(ct_error(), path) && strstr(ct_error(), "line 3"), "message: %s", ct_error());
    const char *unknown = "{\"lr\": 1e-4, \"learning_rate\": 3}";
    CHECK(ct_write_file_atomic(path, unknown, strlen(unknown)) == CT_OK);
    CHECK(ct_train_config_load(&d, path) == CT_ERR_FORMAT && strstr(ct_error(), "learning_rate"));
    unlink(path);
    ct_train_config_free(&d);
    ct_train_config_free(&c);
    return test_finish();
}
