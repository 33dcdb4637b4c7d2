/* The BPE learner: its merges equal those of an independent Python learner on a small caption
 * set; the written vocabulary loads in the tokenizer with the documented id layout; decoding
 * the ids of every caption gives back its normalised words; training is deterministic. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpe_train_cases.h"
#include "ctcir/tokenizer.h"
#include "test_util.h"

#define N_TEXTS  ((int)(sizeof train_texts / sizeof train_texts[0]))
#define N_MERGES ((int)(sizeof train_merges / sizeof train_merges[0]))

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

int main(void) {
    char dir[] = "/tmp/ctcir_bpe_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char out1[128], out2[128], path[160];
    snprintf(out1, sizeof out1, "%s/a", dir);
    snprintf(out2, sizeof out2, "%s/b", dir);

    int n_merges = 0;
    ct_status s = ct_bpe_train(train_texts, NULL, N_TEXTS, 600, out1, &n_merges);
    CHECK_MSG(s == CT_OK, "%s", ct_error());
    CHECK_MSG(n_merges == N_MERGES, "%d merges, Python made %d", n_merges, N_MERGES);

    /* merges.txt: header, then the merges in rank order */
    snprintf(path, sizeof path, "%s/merges.txt", out1);
    char *merges = slurp(path);
    CHECK(merges && strncmp(merges, "#version: 0.2\n", 14) == 0);
    if (merges) {
        char *line = strchr(merges, '\n') + 1;
        for (int k = 0; k < N_MERGES && line && *line; k++) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            CHECK_MSG(strcmp(line, train_merges[k]) == 0, "merge %d: '%s', Python: '%s'", k, line, train_merges[k]);
            line = nl ? nl + 1 : NULL;
        }
    }

    /* the tokenizer reads it: byte symbols, merges, specials last */
    ct_tokenizer *t = NULL;
    s = ct_tokenizer_load_dir(&t, out1);
    CHECK_MSG(s == CT_OK, "%s", ct_error());
    if (t) {
        int nv = ct_tokenizer_vocab_size(t);
        CHECK(nv == 514 + N_MERGES);
        CHECK(ct_tokenizer_sot(t) == nv - 2 && ct_tokenizer_eot(t) == nv - 1);
        CHECK(strcmp(ct_tokenizer_token(t, 0), "!") == 0 && strcmp(ct_tokenizer_token(t, 256), "!</w>") == 0);
        CHECK(strcmp(ct_tokenizer_token(t, 511), "\xc5\x83</w>") == 0); /* byte 0xAD = U+0143 */
        for (int i = 0; i < N_TEXTS; i++) {
            int32_t *ids = NULL;
            int n = 0;
            CHECK(ct_tokenize_raw(t, train_texts[i], &ids, &n) == CT_OK);
            CHECK(n >= 2 && ids[0] == nv - 2 && ids[n - 1] == nv - 1);
            char *back = NULL, *clean = NULL;
            CHECK(ct_tokenizer_decode(t, ids + 1, n - 2, &back, NULL) == CT_OK);
            CHECK(ct_tokenizer_clean(train_texts[i], strlen(train_texts[i]), &clean, NULL) == CT_OK);
            /* every word comes back followed by one space: for captions of plain words that is
             * the cleaned text + " "; for all, the text without spaces is the same */
            bool plain = true;
            for (const char *p = clean; *p && plain; p++) plain = (*p >= 'a' && *p <= 'z') || *p == ' ';
            char want[512], got[512];
            snprintf(want, sizeof want, "%s ", clean);
            if (plain) CHECK_MSG(back && strcmp(back, want) == 0, "caption %d: decoded '%s', want '%s'", i, back, want);
            size_t nw = 0, ng = 0;
            for (const char *p = clean; *p; p++)
                if (*p != ' ') want[nw++] = *p;
            for (const char *p = back ? back : ""; *p; p++)
                if (*p != ' ') got[ng++] = *p;
            want[nw] = got[ng] = '\0';
            CHECK_MSG(strcmp(got, want) == 0, "caption %d: decoded '%s', cleaned '%s'", i, back, clean);
            free(back);
            free(clean);
            free(ids);
        }
        int32_t ids[8];
        CHECK(ct_tokenize(t, "the dress", ids, 8, NULL) == CT_OK);
        CHECK(strcmp(ct_tokenizer_token(t, ids[1]), "the</w>") == 0 &&
              strcmp(ct_tokenizer_token(t, ids[2]), "dress</w>") == 0);
        ct_tokenizer_free(t);
    }

    /* deterministic: the same files again */
    s = ct_bpe_train(train_texts, NULL, N_TEXTS, 600, out2, NULL);
    CHECK(s == CT_OK);
    for (int f = 0; f < 2; f++) {
        const char *name = f ? "merges.txt" : "vocab.json";
        char p1[200], p2[200];
        snprintf(p1, sizeof p1, "%s/%s", out1, name);
        snprintf(p2, sizeof p2, "%s/%s", out2, name);
        char *a = slurp(p1), *b = slurp(p2);
        CHECK_MSG(a && b && strcmp(a, b) == 0, "%s differs between two runs", name);
        free(a);
        free(b);
        remove(p1);
        remove(p2);
    }
    /* 514: no merges at all; every word is its bytes */
    s = ct_bpe_train(train_texts, NULL, N_TEXTS, 514, out1, &n_merges);
    CHECK(s == CT_OK && n_merges == 0);
    t = NULL;
    CHECK(ct_tokenizer_load_dir(&t, out1) == CT_OK);
    if (t) {
        int32_t *ids = NULL;
        int n = 0;
        CHECK(ct_tokenize_raw(t, "dog", &ids, &n) == CT_OK && n == 5 && ids[3] == 256 + 'g' - '!');
        free(ids);
        ct_tokenizer_free(t);
    }
    CHECK(ct_bpe_train(train_texts, NULL, N_TEXTS, 513, out1, NULL) == CT_ERR_ARG);
    snprintf(path, sizeof path, "%s/vocab.json", out1);
    remove(path);
    snprintf(path, sizeof path, "%s/merges.txt", out1);
    remove(path);
    rmdir(out1);
    rmdir(out2);
    rmdir(dir);
    free(merges);
    return test_finish();
}
