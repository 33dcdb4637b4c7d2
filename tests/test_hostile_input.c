/* Hostile input (issue 10, docs/... reliability review D6, D13, D14, D15): FIFOs refused
 * without blocking, hostile index metadata without signed overflow, checked float -> int
 * conversions, NUL and invalid UTF-8 in JSON, atomic prediction files. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cir_fixture.h"
#include "clip/clip.h"
#include "core/fileio.h"
#include "core/json.h"
#include "ctcir/dataset.h"
#include "ctcir/embed.h"
#include "ctcir/image.h"
#include "ctcir/index.h"
#include "ctcir/log.h"
#include "ctcir/metrics.h"
#include "ctcir/safetensors.h"
#include "ctcir/tokenizer.h"
#include "ctcir/version.h"
#include "test_util.h"

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_hostile_input: blocked (a FIFO was opened without O_NONBLOCK)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

/* D14: every reader refuses a FIFO at once instead of waiting for a writer. */
static void test_fifo(void) {
    const char *p = fx_path("fifo");
    CHECK(mkfifo(p, 0600) == 0);
    signal(SIGALRM, on_alarm);
    alarm(20); /* before the fix the first open below blocked forever */
    char *data;
    size_t n;
    CHECK(ct_read_file(p, &data, &n, 1000) == CT_ERR_IO && strstr(ct_error(), "FIFO"));
    ct_st_file *st;
    CHECK(ct_st_open(&st, p) == CT_ERR_IO && strstr(ct_error(), "not a regular file"));
    ct_image img;
    CHECK(ct_image_load(&img, p) != CT_OK && strstr(ct_error(), "not a regular file"));
    ct_index *ix;
    CHECK(ct_index_open(&ix, p, NULL, false) != CT_OK && strstr(ct_error(), "not a regular file"));
    ct_gallery g;
    CHECK(ct_gallery_from_list(&g, p) == CT_ERR_IO && strstr(ct_error(), "not a regular file"));
    ct_dataset *ds;
    ct_dataset_opts o = {.root = fx_tmp, .file = p, .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) != CT_OK && strstr(ct_error(), "not a regular file"));
    ct_tokenizer *tok;
    CHECK(ct_tokenizer_load_files(&tok, p, p) != CT_OK && strstr(ct_error(), "not a regular file"));
    ct_clip_config cfg;
    CHECK(ct_clip_config_load(&cfg, p) != CT_OK && strstr(ct_error(), "not a regular file"));
    /* A folder is refused the same way, and a regular file still reads. */
    CHECK(ct_read_file(fx_tmp, &data, &n, 1000) == CT_ERR_IO && strstr(ct_error(), "folder"));
    fx_write("plain.txt", "abc");
    CHECK(ct_read_file(fx_path("plain.txt"), &data, &n, 1000) == CT_OK && n == 3 && strcmp(data, "abc") == 0);
    free(data);
    alarm(0);
}

/* D13: shard ranges of huge galleries, and index metadata that would overflow. */
static void test_index_overflow(void) {
    int64_t b, e;
    const int64_t G = INT64_MAX;
    ct_index_shard_range(G, 1000, 1001, &b, &e);
    __int128 wb = (__int128)G * 1000 / 1001, we = (__int128)G * 1001 / 1001;
    CHECK(b == (int64_t)wb && e == (int64_t)we);
    /* The closed form agrees with G k / n wherever that does not overflow. */
    int same = 1;
    for (int64_t g = 1; g < 300; g += 7)
        for (int nn = 1; nn <= 9; nn++)
            for (int k = 0; k < nn; k++) {
                ct_index_shard_range(g, k, nn, &b, &e);
                same &= b == g * k / nn && e == g * (k + 1) / nn;
            }
    CHECK(same);

    static const char *const lies[][2] = {
        {"9223372036854775807", "0/1"}, {"9000000000000000000", "1000/1001"}, {"99999999999999999999999", "0/1"}};
    for (int i = 0; i < 3; i++) {
        ct_st_writer *w;
        float emb[4] = {1, 0, 0, 0};
        int64_t rid = 0, off[2] = {0, 2}, s2[2] = {1, 4}, s1 = 1, sb = 2, so = 2;
        uint8_t done = 1;
        char names[2] = {'a', 0};
        CHECK(ct_st_writer_new(&w) == CT_OK);
        ct_st_writer_add(w, "embeddings", CT_DT_F32, 2, s2, emb);
        ct_st_writer_add(w, "row_ids", CT_DT_I64, 1, &s1, &rid);
        ct_st_writer_add(w, "done", CT_DT_U8, 1, &s1, &done);
        ct_st_writer_add(w, "names", CT_DT_U8, 1, &sb, names);
        ct_st_writer_add(w, "name_offsets", CT_DT_I64, 1, &so, off);
        ct_st_writer_meta(w, "format", "ctcir-index");
        ct_st_writer_meta(w, "format_version", "1");
        ct_st_writer_meta(w, "model_id", "m");
        ct_st_writer_meta(w, "gallery_size", lies[i][0]);
        ct_st_writer_meta(w, "dim", "4");
        ct_st_writer_meta(w, "shard", lies[i][1]);
        ct_st_writer_meta(w, "complete", "1");
        CHECK(ct_st_writer_save(w, fx_path("lying.index")) == CT_OK);
        ct_st_writer_free(w);
        ct_index *ix = NULL;
        /* Under UBSan (-fno-sanitize-recover) an overflow aborts the program here. */
        CHECK_MSG(ct_index_open(&ix, fx_path("lying.index"), NULL, false) == CT_ERR_FORMAT, "%s: %s", lies[i][0],
                  ct_error());
        ct_index_close(ix);
    }
}

/* D13: JSON numbers become integers only through checked conversions. */
static void test_checked_conversions(void) {
    int64_t v = 7;
    CHECK(!ct_double_to_i64(1e300, INT64_MIN, INT64_MAX, &v) && v == 7);
    CHECK(!ct_double_to_i64(-1e300, INT64_MIN, INT64_MAX, &v));
    CHECK(!ct_double_to_i64(9223372036854775808.0, INT64_MIN, INT64_MAX, &v));
    CHECK(!ct_double_to_i64(NAN, INT64_MIN, INT64_MAX, &v) && !ct_double_to_i64(INFINITY, 0, 10, &v));
    CHECK(!ct_double_to_i64(2.5, 0, 10, &v) && !ct_double_to_i64(11, 0, 10, &v) && !ct_double_to_i64(-1, 0, 10, &v));
    CHECK(ct_double_to_i64(-9223372036854775808.0, INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
    CHECK(ct_double_to_i64(10, 0, 10, &v) && v == 10);
    cJSON *j = cJSON_Parse("[1e300, 42, -3, 4.5, \"7\"]");
    CHECK(ct_json_id_string(cJSON_GetArrayItem(j, 0)) == NULL);
    char *s = ct_json_id_string(cJSON_GetArrayItem(j, 1));
    CHECK(s && strcmp(s, "42") == 0);
    free(s);
    CHECK(ct_json_int_in(cJSON_GetArrayItem(j, 2), -5, 5, &v) && v == -3);
    CHECK(!ct_json_int_in(cJSON_GetArrayItem(j, 3), -5, 5, &v) && !ct_json_int_in(cJSON_GetArrayItem(j, 4), 0, 9, &v));
    cJSON_Delete(j);
    /* vocab.json: a huge id is refused, not cast. */
    fx_write("tok/vocab.json", "{\"a\": 0, \"b\": 1e300}");
    fx_write("tok/merges.txt", "#version: 0.2\n");
    ct_tokenizer *t = NULL;
    CHECK(ct_tokenizer_load_files(&t, fx_path("tok/vocab.json"), fx_path("tok/merges.txt")) == CT_ERR_FORMAT &&
          strstr(ct_error(), "not an integer"));
    ct_tokenizer_free(t);
}

/* D15: cJSON ends strings at \u0000; the parser marks them so readers can refuse. */
static void test_json_nul(void) {
    static const char text[] = "{\"a\": \"red\\u0000 circle\", \"b\": \"x\\\\u0000\", \"c\": \"plain\", "
                               "\"d\": \"1\\u0000 2\\u0000\\\"3\", \"e\": \"q\\\"\", \"f\": \"after\\u0000\"}";
    cJSON *j = NULL;
    CHECK(ct_json_parse("t.json", text, strlen(text), 0, &j) == CT_OK);
    CHECK(ct_json_has_nul(ct_json_str(j, "a")));
    CHECK(!ct_json_has_nul(ct_json_str(j, "b")) && strcmp(ct_json_str(j, "b"), "x\\u0000") == 0);
    CHECK(!ct_json_has_nul(ct_json_str(j, "c")));
    /* Two in one string, then strings with escaped quotes: every one is found. */
    CHECK(ct_json_has_nul(ct_json_str(j, "d")) && strstr(ct_json_str(j, "d"), "\"3"));
    CHECK(strstr(strstr(ct_json_str(j, "d"), CT_JSON_NUL_MARK) + 3, CT_JSON_NUL_MARK) != NULL);
    CHECK(!ct_json_has_nul(ct_json_str(j, "e")) && ct_json_has_nul(ct_json_str(j, "f")));
    cJSON_Delete(j);
    /* Error positions are unchanged by the substitution. */
    static const char bad[] = "{\"a\": \"\\u0000\",\n \"b\": x}";
    CHECK(ct_json_parse("t.json", bad, strlen(bad), 0, &j) == CT_ERR_FORMAT && strstr(ct_error(), "line 2, column 7"));
    /* vocab.json: "a\u0000b" would silently re-bind token "a". */
    fx_write("tok/vocab.json", "{\"a\": 0, \"a\\u0000b\": 1}");
    ct_tokenizer *t = NULL;
    CHECK(ct_tokenizer_load_files(&t, fx_path("tok/vocab.json"), fx_path("tok/merges.txt")) == CT_ERR_FORMAT &&
          strstr(ct_error(), "NUL"));
    ct_tokenizer_free(t);
}

/* D15: the one JSON string writer always produces valid JSON. */
static void test_json_writer(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(ct_json_put_string(f, "a\xff\"\\\n\x01\xc3\xa9\xe2\x82"));
    fclose(f);
    CHECK_MSG(buf && strcmp(buf, "\"a\\ufffd\\\"\\\\\\n\\u0001\xc3\xa9\\ufffd\\ufffd\"") == 0, "%s", buf);
    cJSON *j = cJSON_Parse(buf);
    CHECK(cJSON_IsString(j));
    cJSON_Delete(j);
    free(buf);
    /* cJSON's printer copies invalid bytes; ct_json_print does not. */
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j,
                            "n\xff"
                            "ame",
                            "v\xc3\xa9\xfe");
    char *t = ct_json_print(j, false);
    CHECK_MSG(t && strcmp(t, "{\"n\\ufffdame\":\"v\xc3\xa9\\ufffd\"}") == 0, "%s", t);
    cJSON *back = t ? cJSON_Parse(t) : NULL;
    CHECK(back && strcmp(ct_json_str(back, "n\xef\xbf\xbd"
                                           "ame"),
                         "v\xc3\xa9\xef\xbf\xbd") == 0);
    cJSON_Delete(back);
    free(t);
    cJSON_Delete(j);
}

/* D15: a safetensors header that is not UTF-8 is refused, as Hugging Face does. */
static void test_safetensors_utf8(void) {
    ct_st_writer *w;
    float x = 1;
    int64_t one = 1;
    CHECK(ct_st_writer_new(&w) == CT_OK);
    ct_st_writer_add(w, "\xff\xfe", CT_DT_F32, 1, &one, &x);
    CHECK(ct_st_writer_save(w, fx_path("bad_name.safetensors")) == CT_OK);
    ct_st_writer_free(w);
    ct_st_file *f = NULL;
    CHECK(ct_st_open(&f, fx_path("bad_name.safetensors")) == CT_ERR_FORMAT && strstr(ct_error(), "UTF-8"));
    ct_st_close(f);
}

/* A manifest dataset of three images a, b, c (one query each way). */
static ct_dataset *small_manifest(const char *a_name) {
    char text[512];
    snprintf(text, sizeof text,
             "{\"reference\": \"%s.jpg\", \"target\": \"b.jpg\", \"caption\": \"x\", \"id\": 1}\n"
             "{\"reference\": \"c.jpg\", \"target\": \"%s.jpg\", \"caption\": \"y\", \"id\": 2}\n",
             a_name, a_name);
    fx_write("m/m.jsonl", text);
    ct_dataset_opts o = {.root = fx_path("m"), .file = fx_path("m/m.jsonl"), .quiet = true};
    ct_dataset *ds = NULL;
    CHECK_MSG(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK, "%s", ct_error());
    return ds;
}

/* D15 + D6: predictions are valid JSON whatever the names, and written atomically. */
static void test_predictions_files(void) {
    ct_dataset *ds = small_manifest("a\xff");
    if (!ds) return;
    int topk[6] = {0, 1, 2, 2, 1, 0};
    CHECK(ct_write_predictions(fx_path("p.json"), ds, topk, 3, 50) == CT_OK);
    char *txt = fx_read(fx_path("p.json"));
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    CHECK_MSG(cJSON_IsObject(j), "%s", txt);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(j, CT_PREDICTIONS_INFO_KEY);
    CHECK(info && strcmp(ct_json_str(info, "version"), ctcir_version()) == 0 &&
          strcmp(ct_json_str(info, "commit"), ctcir_commit()) == 0);
    cJSON_Delete(j);
    free(txt);
    ct_predictions pr;
    CHECK(ct_predictions_load(&pr, fx_path("p.json")) == CT_OK && pr.n == 2);
    ct_predictions_free(&pr);

    /* An unwritable path fails when the writer is created, before any work. */
    ct_predictions_writer *pw = NULL;
    CHECK(ct_predictions_writer_new(&pw, fx_path("no/such/dir/p.json")) == CT_ERR_IO && pw == NULL);
    /* Two datasets in one file (FashionIQ categories); a repeated id is refused. */
    CHECK(ct_predictions_writer_new(&pw, fx_path("two.json")) == CT_OK);
    CHECK(ct_predictions_writer_add(pw, ds, topk, 3, 50) == CT_OK);
    CHECK(ct_predictions_writer_add(pw, ds, topk, 3, 50) == CT_ERR_FORMAT && strstr(ct_error(), "twice"));
    ct_predictions_writer_free(pw);
    CHECK(access(fx_path("two.json"), F_OK) != 0);

    /* A write that fails half-way (file size limit = a full disk) leaves no file. */
    CHECK(ct_write_predictions(fx_path("full.json"), ds, topk, 3, 50) == CT_OK);
    char *before = fx_read(fx_path("full.json"));
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 16;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    ct_status s = ct_write_predictions(fx_path("full.json"), ds, topk, 3, 50);
    ct_status s2 = ct_write_predictions(fx_path("new.json"), ds, topk, 3, 50);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_MSG(s == CT_ERR_IO && s2 == CT_ERR_IO, "%d %d %s", s, s2, ct_error());
    char *after = fx_read(fx_path("full.json"));
    CHECK(before && after && strcmp(before, after) == 0); /* the old file is intact */
    CHECK(access(fx_path("new.json"), F_OK) != 0);        /* no truncated new file */
    free(before);
    free(after);
    ct_dataset_free(ds);
}

/* Captures warnings (ct_log) so tests can look for them. */
static char log_buf[8192];
static void capture(ct_log_level lv, const char *line, void *user) {
    (void)lv;
    (void)user;
    size_t n = strlen(log_buf);
    snprintf(log_buf + n, sizeof log_buf - n, "%s", line);
}

/* A CIRR root with gallery a..e; `records` is the captions file. */
static ct_dataset *cirr_with(const char *records, ct_status *st) {
    fx_write("cirr/image_splits/split.rc2.val.json",
             "{\"a\": \"./dev/a.png\", \"b\": \"./dev/b.png\", \"c\": \"./dev/c.png\", \"d\": \"./dev/d.png\", "
             "\"e\": \"./dev/e.png\"}");
    fx_write("cirr/captions/cap.rc2.val.json", records);
    ct_dataset_opts o = {.root = fx_path("cirr"), .split = "val"};
    ct_dataset *ds = NULL;
    log_buf[0] = 0;
    ct_log_set(capture, NULL);
    *st = ct_dataset_load(&ds, CT_DS_CIRR, &o);
    ct_log_set(NULL, NULL);
    return ds;
}

/* D8: hostile annotations. */
static void test_annotations(void) {
    ct_status st;
    /* A record without img_set is left out of the subset metrics (it counted as a hit). */
    ct_dataset *ds = cirr_with("[{\"pairid\": 1, \"reference\": \"a\", \"target_hard\": \"b\", \"caption\": \"x\", "
                               "\"img_set\": {\"members\": [\"a\", \"b\", \"c\"]}},"
                               " {\"pairid\": 2, \"reference\": \"c\", \"target_hard\": \"d\", \"caption\": \"y\"},"
                               " {\"pairid\": 3, \"reference\": \"e\", \"target_hard\": \"d\", \"caption\": \"z\", "
                               "\"img_set\": {\"members\": []}}]",
                               &st);
    CHECK(st == CT_OK && ds && ds->n_queries == 3);
    CHECK(strstr(log_buf, "record 1: no 'img_set.members'") && strstr(log_buf, "record 2: no 'img_set.members'"));
    if (ds) {
        ct_eval_plan p;
        CHECK(ct_eval_plan_build(&p, ds) == CT_OK);
        /* Scores: c above b for query 1 (a subset miss); d first for queries 2 and 3. */
        float s[15] = {0.1f, 0.5f, 0.9f, 0.2f, 0.0f, /* q2 */ 0, 0, 0, 1, 0, /* q3 */ 0, 0, 0, 1, 0};
        ct_eval_rank_scores(&p, s);
        ct_metric_set m;
        CHECK(ct_eval_compute(&p, &m) == CT_OK);
        CHECK_MSG(fabs(ct_metric_get(&m, "Rsubset@1")) < 1e-9 && fabs(ct_metric_get(&m, "Rsubset@2") - 100) < 1e-9,
                  "Rsubset@1 %g", ct_metric_get(&m, "Rsubset@1"));
        CHECK(fabs(ct_metric_get(&m, "R@1") - 200.0 / 3) < 1e-9 && m.n_queries == 3);
        ct_eval_plan_free(&p);
    }
    ct_dataset_free(ds);

    /* A repeated pairid is skipped with a warning; a target equal to its reference too. */
    ds = cirr_with(
        "[{\"pairid\": 1, \"reference\": \"a\", \"target_hard\": \"b\", \"caption\": \"x\"},"
        " {\"pairid\": 1, \"reference\": \"c\", \"target_hard\": \"d\", \"caption\": \"y\"},"
        " {\"pairid\": 2, \"reference\": \"e\", \"target_hard\": \"e\", \"caption\": \"z\"},"
        " {\"pairid\": 3, \"reference\": \"d\", \"target_hard\": \"a\", \"caption\": \"add a red\\u0000 circle\"}]",
        &st);
    CHECK_MSG(st == CT_OK && ds && ds->n_queries == 1 && ds->n_skipped == 3, "%s", ct_error());
    CHECK(strstr(log_buf, "record 1: query id '1' repeats") &&
          strstr(log_buf, "record 2: target 'e' is the reference"));
    CHECK(strstr(log_buf, "record 3: a string holds a NUL"));
    if (ds) {
        ct_eval_plan p;
        CHECK(ct_eval_plan_build(&p, ds) == CT_OK); /* before: an error that stopped the eval */
        ct_eval_plan_free(&p);
    }
    ct_dataset_free(ds);

    /* Manifest: a repeated id, and a caption cut by \u0000 (it trained as "add a red"). */
    fx_write("mm/m.jsonl",
             "{\"reference\": \"a.png\", \"target\": \"b.png\", \"caption\": \"x\", \"id\": 5}\n"
             "{\"reference\": \"b.png\", \"target\": \"a.png\", \"caption\": \"y\", \"id\": 5}\n"
             "{\"reference\": \"b.png\", \"target\": \"a.png\", \"caption\": \"add a red\\u0000 circle\"}\n");
    ct_dataset_opts mo = {.root = fx_path("mm"), .file = fx_path("mm/m.jsonl"), .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &mo) == CT_OK && ds->n_queries == 1 && ds->n_skipped == 2);
    ct_dataset_free(ds);

    /* FashionIQ: skipped gallery entries are not counted as records in the summary. */
    fx_write("fiq/image_splits/split.dress.val.json", "[\"a\", 1, 2, \"b\"]");
    fx_write("fiq/captions/cap.dress.val.json",
             "[{\"candidate\": \"a\", \"target\": \"b\", \"captions\": [\"x\", \"y\"]}]");
    ct_dataset_opts fo = {.root = fx_path("fiq"), .split = "val", .category = "dress"};
    log_buf[0] = 0;
    ct_log_set(capture, NULL);
    CHECK(ct_dataset_load(&ds, CT_DS_FASHIONIQ, &fo) == CT_OK && ds->n_queries == 1 && ds->n_gallery_skipped == 2);
    ct_log_set(NULL, NULL);
    CHECK_MSG(strstr(log_buf, "skipped 2 of 4 gallery entries") && !strstr(log_buf, "of 1 records"), "%s", log_buf);
    ct_dataset_free(ds);

    /* CIRCO: a reference id missing from the image list is skipped at load (before: an
     * "image: : cannot open" error after the whole gallery was embedded). */
    fx_write("circo/COCO2017_unlabeled/annotations/image_info_unlabeled2017.json",
             "{\"images\": [{\"id\": 10, \"file_name\": \"10.jpg\"}, {\"id\": 11, \"file_name\": \"11.jpg\"}]}");
    fx_write("circo/annotations/val.json",
             "[{\"id\": 0, \"reference_img_id\": 10, \"target_img_id\": 11, \"gt_img_ids\": [11], "
             "\"relative_caption\": \"r\", \"shared_concept\": \"s\"},"
             " {\"id\": 1, \"reference_img_id\": 99, \"target_img_id\": 11, \"gt_img_ids\": [11], "
             "\"relative_caption\": \"r\", \"shared_concept\": \"s\"},"
             " {\"id\": 0, \"reference_img_id\": 11, \"target_img_id\": 10, \"gt_img_ids\": [10], "
             "\"relative_caption\": \"r\", \"shared_concept\": \"s\"}]");
    ct_dataset_opts co = {.root = fx_path("circo"), .split = "val"};
    log_buf[0] = 0;
    ct_log_set(capture, NULL);
    CHECK(ct_dataset_load(&ds, CT_DS_CIRCO, &co) == CT_OK && ds->n_queries == 1 && ds->n_skipped == 2);
    ct_log_set(NULL, NULL);
    CHECK_MSG(strstr(log_buf, "record 1: reference '99' has no image") &&
                  strstr(log_buf, "record 2: query id '0' repeats"),
              "%s", log_buf);
    ct_dataset_free(ds);
}

int main(void) {
    if (!fx_init("hostile")) return 1;
    test_fifo();
    test_index_overflow();
    test_checked_conversions();
    test_json_nul();
    test_json_writer();
    test_safetensors_utf8();
    test_predictions_files();
    test_annotations();
    fx_done();
    return test_finish();
}
