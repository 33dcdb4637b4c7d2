/* Tokenizer edge cases (entities, final sigma, Unicode spaces, regex corner cases, invalid
 * UTF-8) with ids from Python, decode round trips, context lengths, bad vocabulary files,
 * and several threads sharing one tokenizer (its BPE cache). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctcir/tokenizer.h"
#include "test_util.h"
#include "tokenizer_edge_cases.h"

#define N_EDGE ((int)(sizeof edge_cases / sizeof edge_cases[0]))

static ct_tokenizer *tok;
static int thread_errors;

static int check_case(const edge_case *c) {
    int32_t *ids = NULL;
    int n = 0;
    if (ct_tokenize_raw_len(tok, c->text, (size_t)c->len, &ids, &n) != CT_OK) return 1;
    int bad = n != c->n;
    for (int i = 0; i < n && !bad; i++) bad = ids[i] != c->ids[i];
    free(ids);
    return bad;
}

static void *thread_main(void *arg) {
    (void)arg;
    int bad = 0;
    for (int rep = 0; rep < 200; rep++) bad += check_case(&edge_cases[rep % N_EDGE]);
    __atomic_add_fetch(&thread_errors, bad, __ATOMIC_RELAXED);
    return NULL;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/parity/tokenizer", test_shared_dir());
    ct_status s = ct_tokenizer_load_dir(&tok, dir);
    CHECK_MSG(s == CT_OK, "%s", ct_error());
    if (!tok) return test_finish();

    for (int i = 0; i < N_EDGE; i++) {
        int32_t *ids = NULL;
        int n = 0;
        CHECK(ct_tokenize_raw_len(tok, edge_cases[i].text, (size_t)edge_cases[i].len, &ids, &n) == CT_OK);
        bool ok = n == edge_cases[i].n;
        for (int k = 0; k < n && ok; k++) ok = ids[k] == edge_cases[i].ids[k];
        CHECK_MSG(ok, "edge case %d ('%s')", i, edge_cases[i].text);
        if (!ok) {
            fprintf(stderr, "  got:");
            for (int k = 0; k < n; k++) fprintf(stderr, " %d", (int)ids[k]);
            fprintf(stderr, "\n");
        }
        free(ids);
    }

    /* decode(encode(x)) gives the cleaned text with a space after each word */
    const char *text = "A photo of a CAT, on the mat! It's 3.14 caf\xc3\xa9 \xf0\x9f\x8d\x95";
    int32_t *ids = NULL;
    int n = 0;
    CHECK(ct_tokenize_raw(tok, text, &ids, &n) == CT_OK);
    char *back = NULL;
    CHECK(ct_tokenizer_decode(tok, ids + 1, n - 2, &back, NULL) == CT_OK);
    CHECK_MSG(back && strcmp(back, "a photo of a cat , on the mat ! it 's 3 . 1 4 caf\xc3\xa9 \xf0\x9f\x8d\x95 ") == 0,
              "decoded '%s'", back ? back : "(null)");
    free(back);
    int32_t bad_id = 49408;
    CHECK(ct_tokenizer_decode(tok, &bad_id, 1, &back, NULL) == CT_ERR_ARG);

    /* context lengths: truncation keeps EOT last, padding is 0 */
    int32_t c8[8], c3[3], c1[1];
    int n8 = 0;
    CHECK(ct_tokenize(tok, "one two three four five six seven eight", c8, 8, &n8) == CT_OK);
    CHECK(n8 == 8 && c8[0] == 49406 && c8[7] == 49407 && memcmp(c8 + 1, ids + 1, 6 * sizeof *ids) != 0);
    CHECK(ct_tokenize(tok, "hi", c3, 3, &n8) == CT_OK && n8 == 3 && c3[0] == 49406 && c3[2] == 49407);
    CHECK(ct_tokenize(tok, "hi there", c3, 3, &n8) == CT_OK && n8 == 3 && c3[2] == 49407);
    CHECK(ct_tokenize(tok, "", c8, 8, &n8) == CT_OK && n8 == 2 && c8[1] == 49407 && c8[2] == 0 && c8[7] == 0);
    CHECK(ct_tokenize(tok, "x", c1, 1, &n8) == CT_OK && n8 == 1 && c1[0] == 49407);
    CHECK(ct_tokenize(tok, "x", c1, 0, NULL) == CT_ERR_ARG);
    free(ids);

    /* several threads on one tokenizer */
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, thread_main, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK_MSG(thread_errors == 0, "%d wrong results from threads", thread_errors);
    ct_tokenizer_free(tok);

    /* bad vocabulary files fail with a message naming the file */
    ct_tokenizer *t = NULL;
    CHECK(ct_tokenizer_load_dir(&t, "/nonexistent") == CT_ERR_IO && t == NULL);
    char tmp[] = "/tmp/ctcir_tok_XXXXXX", vj[64], mt[64];
    if (!mkdtemp(tmp)) return test_finish();
    snprintf(vj, sizeof vj, "%s/vocab.json", tmp);
    snprintf(mt, sizeof mt, "%s/merges.txt", tmp);
    write_file(vj, "{\"a\": 0, \"b\": \"x\"}");
    write_file(mt, "#version: 0.2\na b\n");
    CHECK(ct_tokenizer_load_files(&t, vj, mt) == CT_ERR_FORMAT);
    CHECK(strstr(ct_error(), "vocab.json") != NULL);
    write_file(vj, "[1, 2]");
    CHECK(ct_tokenizer_load_files(&t, vj, mt) == CT_ERR_FORMAT);
    write_file(vj, "{\"a\": 0, \"b\": 1}");
    write_file(mt, "#version: 0.2\na c\n");
    CHECK(ct_tokenizer_load_files(&t, vj, mt) == CT_ERR_FORMAT);
    CHECK(strstr(ct_error(), "line 2") != NULL);
    write_file(mt, "#version: 0.2\n");
    CHECK(ct_tokenizer_load_files(&t, vj, mt) == CT_ERR_FORMAT);
    CHECK(ct_tokenizer_load_gz(&t, mt) == CT_ERR_FORMAT);
    remove(vj);
    remove(mt);
    rmdir(tmp);
    return test_finish();
}
