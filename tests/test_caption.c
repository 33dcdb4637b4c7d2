/* good4cir building blocks: base64 (RFC 4648 vectors), MIME sniffing, chat responses, stage
 * answer validation, caption post-filtering, prompt templates, Retry-After, pairs files and
 * the manifest reader on caption-pairs output. Expected values are written by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caption/caption_internal.h"
#include "ctcir/dataset.h"
#include "test_tmpdir.h"
#include "test_util.h"

static void test_base64(void) {
    /* RFC 4648 section 10 */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char buf[16];
        size_t n = ct_base64_encode(buf, (const unsigned char *)in[i], strlen(in[i]));
        CHECK_MSG(strcmp(buf, out[i]) == 0 && n == strlen(out[i]), "'%s' -> '%s'", in[i], buf);
    }
    const unsigned char bytes[] = {0xFF, 0xFE, 0x00, 0xFB, 0xEF};
    char buf[16];
    ct_base64_encode(buf, bytes, 5);
    CHECK(strcmp(buf, "//4A++8=") == 0);
}

static void test_mime(void) {
    const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0};
    const unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0};
    CHECK(strcmp(ct_image_mime(png, sizeof png), "image/png") == 0);
    CHECK(strcmp(ct_image_mime(jpg, sizeof jpg), "image/jpeg") == 0);
    CHECK(strcmp(ct_image_mime((const unsigned char *)"GIF89a....", 10), "image/gif") == 0);
    CHECK(strcmp(ct_image_mime((const unsigned char *)"RIFF\x10\0\0\0WEBPVP8 ", 16), "image/webp") == 0);
    CHECK(ct_image_mime((const unsigned char *)"hello world, no image", 21) == NULL);
    CHECK(ct_image_mime(png, 4) == NULL);
}

static void test_response(void) {
    const char *ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"a\\\":1}\"}}],"
                     "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}";
    char *content = NULL;
    ct_caption_usage u;
    CHECK(ct_chat_response_parse(ok, strlen(ok), &content, &u) == CT_OK);
    CHECK(content && strcmp(content, "{\"a\":1}") == 0);
    CHECK(u.prompt == 7 && u.completion == 3 && u.total == 10);
    free(content);
    const char *nousage = "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}";
    CHECK(ct_chat_response_parse(nousage, strlen(nousage), &content, &u) == CT_OK && u.total == -1);
    free(content);
    static const char *const bad[] = {"not json", "{\"choices\":[]}", "{\"choices\":[{\"message\":{}}]}",
                                      "{\"choices\":[{\"message\":{\"content\":null}}]}", "[1,2]"};
    for (int i = 0; i < 5; i++) {
        CHECK_MSG(ct_chat_response_parse(bad[i], strlen(bad[i]), &content, &u) == CT_ERR_FORMAT, "%s", bad[i]);
        CHECK(content == NULL);
    }
}

static void test_objects(void) {
    char *j = NULL;
    CHECK(ct_caption_objects_parse("{\"objects\":[{\"name\":\"cup\",\"descriptors\":[\"red\",\"ceramic\"],\"x\":1},"
                                   "{\"name\":\"table\",\"descriptors\":[]}],\"comment\":\"ignored\"}",
                                   10, &j) == CT_OK);
    CHECK_MSG(j && strcmp(j, "[{\"name\":\"cup\",\"descriptors\":[\"red\",\"ceramic\"]},"
                             "{\"name\":\"table\",\"descriptors\":[]}]") == 0,
              "%s", j);
    free(j);
    /* cut to max_objects, most prominent (first) kept */
    CHECK(ct_caption_objects_parse(
              "{\"objects\":[{\"name\":\"a\",\"descriptors\":[]},{\"name\":\"b\",\"descriptors\":[]}]}", 1, &j) ==
          CT_OK);
    CHECK_MSG(j && strcmp(j, "[{\"name\":\"a\",\"descriptors\":[]}]") == 0, "%s", j);
    free(j);
    /* a fence around the object is tolerated */
    CHECK(ct_caption_objects_parse("```json\n{\"objects\":[{\"name\":\"a\",\"descriptors\":[\"b\"]}]}\n```", 5, &j) ==
          CT_OK);
    free(j);
    static const char *const bad[] = {
        "Here you go: a cup.",
        "{\"objects\":[]}",
        "{\"objects\":\"cup\"}",
        "{\"items\":[{\"name\":\"a\",\"descriptors\":[]}]}",
        "{\"objects\":[{\"name\":\"\",\"descriptors\":[]}]}",
        "{\"objects\":[{\"name\":\"a\"}]}",
        "{\"objects\":[{\"name\":\"a\",\"descriptors\":[1]}]}",
        "{\"objects\":[\"a\"]}",
        "[{\"name\":\"a\",\"descriptors\":[]}]",
        "{\"objects\":[{\"name\":\"a\",\"descriptors\":[]}]} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(ct_caption_objects_parse(bad[i], 10, &j) == CT_ERR_FORMAT, "accepted: %s", bad[i]);
        CHECK(j == NULL);
    }
}

static void test_captions(void) {
    char **c = NULL;
    int n = 0;
    CHECK(ct_caption_captions_parse(
              "{\"captions\":[\"1. Add a red ball next to the dog.\",\"2) Remove the wooden chair. Make the sky "
              "darker!\","
              "\"- swap the mug for a tall glass\",\"* \\\"Replace the lamp with a candle.\\\"\",\"Fine.\",\"\","
              "\"Image 2 has a cat instead of a dog.\",\"The first image shows more trees.\","
              "\"add a red ball next to the dog.\",\"Move the 3.5 cm cube to the left\"],\"other\":1}",
              3, &c, &n) == CT_OK);
    static const char *const want[] = {
        "Add a red ball next to the dog.", "Remove the wooden chair.",        "Make the sky darker!",
        "swap the mug for a tall glass",   "Replace the lamp with a candle.", "Move the 3.5 cm cube to the left"};
    CHECK_MSG(n == 6, "n = %d", n);
    for (int i = 0; i < n && i < 6; i++) CHECK_MSG(strcmp(c[i], want[i]) == 0, "[%d] '%s'", i, c[i]);
    ct_caption_list_free(c, n);
    /* lines of one string become separate captions */
    CHECK(ct_caption_captions_parse("{\"captions\":[\"Add a hat to the man.\\n- Remove his red scarf\"]}", 3, &c, &n) ==
          CT_OK);
    CHECK(n == 2 && strcmp(c[1], "Remove his red scarf") == 0);
    ct_caption_list_free(c, n);
    /* min_words */
    CHECK(ct_caption_captions_parse("{\"captions\":[\"Add a hat.\",\"Remove the red scarf.\"]}", 4, &c, &n) == CT_OK);
    CHECK(n == 1 && strcmp(c[0], "Remove the red scarf.") == 0);
    ct_caption_list_free(c, n);
    static const char *const bad[] = {"{\"captions\":[]}",
                                      "{\"captions\":[\"ok\",\"- 1.\"]}",
                                      "{\"captions\":\"Add a hat.\"}",
                                      "{\"captions\":[\"Add a hat to him.\",3]}",
                                      "{\"text\":[\"Add a hat to him.\"]}",
                                      "Add a hat to him.",
                                      "{\"captions\":[\"Make image 1 look like image 2.\"]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_MSG(ct_caption_captions_parse(bad[i], 3, &c, &n) == CT_ERR_FORMAT, "accepted: %s", bad[i]);
        CHECK(c == NULL && n == 0);
    }
}

static void test_prompts(void) {
    char *s =
        ct_caption_prompt_fill("up to {max_objects}: {reference_objects} / {target_objects} {unknown}", 7, "[1]", NULL);
    CHECK_MSG(s && strcmp(s, "up to 7: [1] / [] {unknown}") == 0, "%s", s);
    free(s);
    ct_caption_prompts p;
    CHECK(ct_caption_prompts_load(&p, NULL) == CT_OK);
    /* the shipped defaults are the files in configs/good4cir (tests run from the source root) */
    ct_caption_prompts f;
    CHECK(ct_caption_prompts_load(&f, "configs/good4cir") == CT_OK);
    for (int i = 0; i < 3; i++) CHECK(p.stage[i] && f.stage[i] && strcmp(p.stage[i], f.stage[i]) == 0);
    CHECK(strstr(p.stage[0], "{max_objects}") && strstr(p.stage[1], "{reference_objects}") &&
          strstr(p.stage[2], "{target_objects}"));
    ct_caption_prompts_free(&p);
    ct_caption_prompts_free(&f);
    CHECK(ct_caption_prompts_load(&p, "no/such/folder") == CT_ERR_IO);
    CHECK(strstr(ct_error(), "no/such/folder/stage1.txt") != NULL);
}

static void test_retry_after(void) {
    CHECK(ct_retry_after_parse("3", 0) == 3);
    CHECK(ct_retry_after_parse(" 0 ", 0) == 0);
    CHECK(ct_retry_after_parse("1.5", 0) == 1.5);
    CHECK(ct_retry_after_parse("soon", 0) == -1);
    CHECK(ct_retry_after_parse("", 0) == -1);
    CHECK(ct_retry_after_parse(NULL, 0) == -1);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    CHECK(ct_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470) == 10);
    CHECK(ct_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490) == 0);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_pairs_and_manifest(void) {
    char path[512], out[512];
    if (!tmpdir_make("caption")) {
        CHECK(!"mkdtemp");
        return;
    }
    const char *dir = tmpdir;
    snprintf(path, sizeof path, "%s/pairs.jsonl", dir);
    write_text(path, "{\"reference\":\"a.png\",\"target\":\"b.png\",\"id\":7}\n\n"
                     "{\"reference\":\"c.png\",\"target\":\"d.png\"}\n"
                     "{\"reference\":\"a.png\",\"target\":\"b.png\",\"id\":8}\n");
    ct_caption_pairs p;
    CHECK(ct_caption_pairs_read(&p, path, "imgs") == CT_OK);
    CHECK(p.n == 2);
    if (p.n == 2) {
        CHECK(strcmp(p.items[0].reference, "a.png") == 0 && strcmp(p.items[0].ref_file, "imgs/a.png") == 0);
        CHECK(strcmp(p.items[0].id, "7") == 0 && p.items[1].id == NULL);
        CHECK(strcmp(p.items[1].tgt_file, "imgs/d.png") == 0);
    }
    ct_caption_pairs_free(&p);
    write_text(path, "{\"reference\":\"a.png\",\"target\":\"b.png\"}\n{\"reference\":\"a.png\"}\n");
    CHECK(ct_caption_pairs_read(&p, path, "imgs") == CT_ERR_FORMAT);
    CHECK_MSG(strstr(ct_error(), "line 2") && strstr(ct_error(), "'target'"), "%s", ct_error());
    write_text(path,
               "\n{\"reference\":\"a.png\",\"target\":\"b.png\"}\n{\"reference\":\"a.png\",\"target\":\"b.png\"\n");
    CHECK(ct_caption_pairs_read(&p, path, "imgs") == CT_ERR_FORMAT);
    CHECK_MSG(strstr(ct_error(), "pairs.jsonl: malformed JSON at line 3, column") != NULL, "%s", ct_error());

    /* the manifest reader takes caption-pairs lines: one query per difference caption */
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    write_text(out, "{\"reference\":\"x/a.png\",\"target\":\"x/b.png\",\"difference_captions\":[\"Add a cat.\","
                    "\"Remove the dog.\"],\"id\":\"p1\"}\n"
                    "{\"reference\":\"x/c.png\",\"target\":\"x/d.png\",\"difference_captions\":[\"Make it blue.\"]}\n");
    ct_dataset *ds = NULL;
    ct_dataset_opts o = {.root = "root", .file = out, .quiet = true};
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) == CT_OK);
    if (ds) {
        CHECK(ds->n_queries == 3 && ds->n_gallery == 4);
        if (ds->n_queries == 3) {
            CHECK(strcmp(ds->queries[0].id, "p1_0") == 0 && strcmp(ds->queries[0].caption, "Add a cat.") == 0);
            CHECK(strcmp(ds->queries[1].id, "p1_1") == 0 && strcmp(ds->queries[1].caption, "Remove the dog.") == 0);
            CHECK(strcmp(ds->queries[2].id, "2_0") == 0 && strcmp(ds->queries[2].ref_path, "root/x/c.png") == 0);
            CHECK(strcmp(ds->queries[2].target_path, "root/x/d.png") == 0);
        }
    }
    ct_dataset_free(ds);
    ds = NULL;
    write_text(out, "{\"reference\":\"a.png\",\"target\":\"b.png\",\"difference_captions\":[\"Add a cat.\",1]}\n");
    o.strict = true;
    CHECK(ct_dataset_load(&ds, CT_DS_MANIFEST, &o) != CT_OK);
    CHECK_MSG(strstr(ct_error(), "'difference_captions' holds a non-string") != NULL, "%s", ct_error());
    ct_dataset_free(ds);
    tmpdir_remove();
}

int main(void) {
    test_base64();
    test_mime();
    test_response();
    test_objects();
    test_captions();
    test_prompts();
    test_retry_after();
    test_pairs_and_manifest();
    return test_finish();
}
