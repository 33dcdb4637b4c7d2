/* The noun-phrase extractor: API contract, robustness, and agreement with hand-annotated
 * CIR captions (tests/data/nps_cases.jsonl) and with Penn Treebank gold noun phrases
 * (../shared/np-gold/wsj.jsonl, test data only).
 *
 * Agreement is phrase-level: per caption, a predicted phrase is correct when the reference
 * list holds it (exact string for our cases; for the treebank, after a comparison key that
 * ignores case, spacing and surrounding punctuation, since the gold text is space-separated
 * PTB tokens). Precision, recall and F1 are micro-averaged over all phrases. Order agreement
 * is the share of pairs of correctly found phrases that appear in the same relative order in
 * both lists. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctcir/nps.h"
#include "nps/nps_internal.h"
#include "test_util.h"

/* Floors for the treebank comparison, a little under what was measured (see report). */
#define WSJ_F1_FLOOR    0.60
#define WSJ_ORDER_FLOOR 0.80

/* ---- helpers ---- */

/* Runs the extractor and compares with an expected list (exact, in order). */
static bool expect_list(const char *caption, int max, const char *const *want, int nwant) {
    char **p = NULL;
    int n = -1;
    ct_status st = ct_noun_phrases(caption, max, &p, &n);
    bool ok = st == CT_OK && n == nwant;
    for (int i = 0; ok && i < n; i++) ok = strcmp(p[i], want[i]) == 0;
    if (!ok) {
        fprintf(stderr, "  caption: %s\n  got:", caption);
        for (int i = 0; i < n; i++) fprintf(stderr, " [%s]", p[i]);
        fprintf(stderr, "\n  want:");
        for (int i = 0; i < nwant; i++) fprintf(stderr, " [%s]", want[i]);
        fputc('\n', stderr);
    }
    ct_noun_phrases_free(p, n);
    return ok;
}

typedef struct {
    long tp, npred, ngold, exact, captions, pairs, concordant;
} agreement;

/* Adds one caption's comparison; key(a) == key(b) decides a match. */
static void agree(agreement *a, char **pred, int np, char **gold, int ng, bool (*eq)(const char *, const char *)) {
    int idx_gold[128];
    int m = 0;
    for (int i = 0; i < np && m < 128; i++)
        for (int j = 0; j < ng; j++)
            if (eq(pred[i], gold[j])) {
                idx_gold[m++] = j;
                break;
            }
    a->tp += m;
    a->npred += np;
    a->ngold += ng;
    a->captions++;
    bool exact = np == ng;
    for (int i = 0; exact && i < np; i++) exact = eq(pred[i], gold[i]);
    a->exact += exact;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) {
            a->pairs++;
            a->concordant += idx_gold[i] < idx_gold[j];
        }
}

static double prec(const agreement *a) { return a->npred ? (double)a->tp / (double)a->npred : 1.0; }
static double rec(const agreement *a) { return a->ngold ? (double)a->tp / (double)a->ngold : 1.0; }
static double f1(const agreement *a) {
    double p = prec(a), r = rec(a);
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
static double order(const agreement *a) { return a->pairs ? (double)a->concordant / (double)a->pairs : 1.0; }

static void report(const char *name, const agreement *a) {
    printf("%s: %ld captions, %ld predicted, %ld gold, %ld correct: P %.3f R %.3f F1 %.3f, "
           "exact lists %ld/%ld (%.3f), order agreement %.3f (%ld pairs)\n",
           name, a->captions, a->npred, a->ngold, a->tp, prec(a), rec(a), f1(a), a->exact, a->captions,
           a->captions ? (double)a->exact / (double)a->captions : 0.0, order(a), a->pairs);
}

static bool eq_exact(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* The treebank comparison key: lower case, no spaces, quotes unified, surrounding
 * punctuation stripped. */
static void key(const char *s, char *out, size_t size) {
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < size; p++) {
        if (isspace(*p)) continue;
        unsigned char c = *p == '`' ? '\'' : *p;
        if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99)) {
            c = '\'';
            p += 2;
        } else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0x9C || p[2] == 0x9D)) {
            c = '"';
            p += 2;
        }
        if (c == '\'' && k > 0 && out[k - 1] == '\'') {
            out[k - 1] = '"'; /* `` and '' */
            continue;
        }
        out[k++] = (char)tolower(c);
    }
    out[k] = '\0';
    size_t b = 0;
    while (b < k && ispunct((unsigned char)out[b])) b++;
    while (k > b && ispunct((unsigned char)out[k - 1])) k--;
    memmove(out, out + b, k - b);
    out[k - b] = '\0';
}

static bool eq_key(const char *a, const char *b) {
    char ka[1024], kb[1024];
    key(a, ka, sizeof ka);
    key(b, kb, sizeof kb);
    return strcmp(ka, kb) == 0;
}

/* Reads a JSONL file line by line; calls fn(obj) per object. Returns the line count or -1. */
static long each_json_line(const char *path, void (*fn)(cJSON *, void *), void *ctx) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long n = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (len <= 1) continue;
        cJSON *o = cJSON_Parse(line);
        CHECK_MSG(o != NULL, "%s: line %ld is not JSON", path, n + 1);
        if (o) fn(o, ctx);
        cJSON_Delete(o);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* Collects the strings of a JSON array (of strings, or of objects with a "text" field). */
static int strings_of(const cJSON *arr, char **out, int cap) {
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *s = cJSON_IsString(e) ? e : cJSON_GetObjectItemCaseSensitive(e, "text");
        if (cJSON_IsString(s) && n < cap) out[n++] = s->valuestring;
    }
    return n;
}

/* ---- our annotated CIR cases ---- */

typedef struct {
    agreement all, top10;
    int max;
} case_ctx;

static void one_case(cJSON *o, void *vctx) {
    case_ctx *c = vctx;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *nps = cJSON_GetObjectItemCaseSensitive(o, "nps");
    CHECK(cJSON_IsString(text) && cJSON_IsArray(nps));
    if (!cJSON_IsString(text) || !cJSON_IsArray(nps)) return;
    char *gold[128];
    int ng = strings_of(nps, gold, 128);
    char **p = NULL;
    int n = 0;
    CHECK(ct_noun_phrases(text->valuestring, 64, &p, &n) == CT_OK);
    agree(&c->all, p, n, gold, ng, eq_exact);
    agree(&c->top10, p, n < 10 ? n : 10, gold, ng < 10 ? ng : 10, eq_exact);
    if (getenv("NPS_VERBOSE")) {
        bool same = n == ng;
        for (int i = 0; same && i < n; i++) same = strcmp(p[i], gold[i]) == 0;
        if (!same) {
            fprintf(stderr, "%s\n  got :", text->valuestring);
            for (int i = 0; i < n; i++) fprintf(stderr, " [%s]", p[i]);
            fprintf(stderr, "\n  gold:");
            for (int i = 0; i < ng; i++) fprintf(stderr, " [%s]", gold[i]);
            fputc('\n', stderr);
        }
    }
    /* every phrase is a substring of the caption */
    for (int i = 0; i < n; i++) CHECK_MSG(strstr(text->valuestring, p[i]) != NULL, "[%s] not in caption", p[i]);
    ct_noun_phrases_free(p, n);
}

static void test_cases(void) {
    case_ctx c;
    memset(&c, 0, sizeof c);
    long lines = each_json_line("tests/data/nps_cases.jsonl", one_case, &c);
    CHECK_MSG(lines >= 100, "tests/data/nps_cases.jsonl: %ld cases, expected >= 100", lines);
    report("nps_cases (all phrases)", &c.all);
    report("nps_cases (first 10)", &c.top10);

    /* Written after the rules, and never used to change them: an honest estimate. */
    case_ctx h;
    memset(&h, 0, sizeof h);
    long hl = each_json_line("tests/data/nps_cases_heldout.jsonl", one_case, &h);
    CHECK_MSG(hl >= 40, "tests/data/nps_cases_heldout.jsonl: %ld cases, expected >= 40", hl);
    report("nps_cases_heldout (all phrases)", &h.all);
    CHECK_MSG(f1(&h.all) >= 0.80, "held-out F1 %.3f < 0.80", f1(&h.all));
    CHECK_MSG(order(&h.all) >= 0.85, "held-out order agreement %.3f < 0.85", order(&h.all));
    /* Floors: see tests/data/nps_cases.md. Our cases contain attachment decisions a rule
     * chunker cannot always make (verb vs noun attachment of a PP), so perfect scores are
     * not expected; below these, a change has broken something structural. */
    CHECK_MSG(f1(&c.all) >= 0.85, "F1 %.3f < 0.85", f1(&c.all));
    CHECK_MSG(prec(&c.all) >= 0.80 && rec(&c.all) >= 0.80, "P %.3f R %.3f", prec(&c.all), rec(&c.all));
    CHECK_MSG((double)c.all.exact >= 0.60 * (double)c.all.captions, "exact lists %ld/%ld", c.all.exact, c.all.captions);
    CHECK_MSG(order(&c.all) >= 0.90, "order agreement %.3f < 0.90", order(&c.all));
}

/* ---- Penn Treebank gold (shared, test-only) ---- */

typedef struct {
    agreement all, top10, no_single;
    long leaf_gold, leaf_found, branch_gold, branch_found;
} wsj_ctx;

static bool single_word(const char *s) { return strchr(s, ' ') == NULL; }

static void one_wsj(cJSON *o, void *vctx) {
    wsj_ctx *c = vctx;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *nps = cJSON_GetObjectItemCaseSensitive(o, "nps");
    if (!cJSON_IsString(text) || !cJSON_IsArray(nps)) {
        CHECK_MSG(false, "wsj.jsonl: record without text/nps");
        return;
    }
    char *gold[128];
    int ng = strings_of(nps, gold, 128);
    char **p = NULL;
    int n = 0;
    CHECK(ct_noun_phrases(text->valuestring, 128, &p, &n) == CT_OK);
    agree(&c->all, p, n, gold, ng, eq_key);
    agree(&c->top10, p, n < 10 ? n : 10, gold, ng < 10 ? ng : 10, eq_key);
    /* the official code's convention: single-word phrases dropped */
    char *p2[128], *g2[128];
    int n2 = 0, ng2 = 0;
    for (int i = 0; i < n && n2 < 128; i++)
        if (!single_word(p[i])) p2[n2++] = p[i];
    for (int i = 0; i < ng; i++)
        if (!single_word(gold[i])) g2[ng2++] = gold[i];
    agree(&c->no_single, p2, n2, g2, ng2, eq_key);
    /* recall split by leaf / branch */
    const cJSON *e;
    cJSON_ArrayForEach(e, nps) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "text");
        bool branch = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "branch"));
        bool found = false;
        for (int i = 0; cJSON_IsString(t) && i < n && !found; i++) found = eq_key(p[i], t->valuestring);
        if (branch)
            c->branch_gold++, c->branch_found += found;
        else
            c->leaf_gold++, c->leaf_found += found;
    }
    ct_noun_phrases_free(p, n);
}

static void test_wsj(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/np-gold/wsj.jsonl", test_shared_dir());
    wsj_ctx c;
    memset(&c, 0, sizeof c);
    long lines = each_json_line(path, one_wsj, &c);
    if (lines < 0) {
        printf("wsj: %s not found, skipped\n", path);
        return;
    }
    report("wsj (all phrases)", &c.all);
    report("wsj (first 10)", &c.top10);
    report("wsj (multi-word only)", &c.no_single);
    printf("wsj recall: leaf %.3f (%ld), branch %.3f (%ld)\n",
           c.leaf_gold ? (double)c.leaf_found / (double)c.leaf_gold : 0.0, c.leaf_gold,
           c.branch_gold ? (double)c.branch_found / (double)c.branch_gold : 0.0, c.branch_gold);
    CHECK_MSG(lines == 600, "wsj.jsonl: %ld records, expected 600", lines);
    /* Modest floors below the measured values (see the report), to catch regressions. */
    CHECK_MSG(f1(&c.all) >= WSJ_F1_FLOOR, "wsj F1 %.3f < %.2f", f1(&c.all), WSJ_F1_FLOOR);
    CHECK_MSG(order(&c.all) >= WSJ_ORDER_FLOOR, "wsj order %.3f < %.2f", order(&c.all), WSJ_ORDER_FLOOR);
}

/* ---- unit checks ---- */

static void test_api(void) {
    char **p = (char **)1;
    int n = 7;
    CHECK(ct_noun_phrases(NULL, 10, &p, &n) == CT_ERR_ARG && p == NULL && n == 0);
    CHECK(ct_noun_phrases("a dog", -1, &p, &n) == CT_ERR_ARG);
    CHECK(ct_noun_phrases("a dog", 10, NULL, &n) == CT_ERR_ARG);
    CHECK(ct_noun_phrases("", 10, &p, &n) == CT_OK && n == 0 && p == NULL);
    CHECK(ct_noun_phrases("a red dog", 0, &p, &n) == CT_OK && n == 0 && p == NULL);
    ct_noun_phrases_free(NULL, 0);

    const char *sorted_bad = NULL;
    CHECK_MSG(nps_lexicon_sorted(&sorted_bad), "lexicon not sorted at '%s'", sorted_bad ? sorted_bad : "");

    /* too long */
    size_t big = CT_NPS_MAX_CAPTION + 10;
    char *s = malloc(big + 1);
    memset(s, 'a', big);
    s[big] = '\0';
    CHECK(ct_noun_phrases(s, 10, &p, &n) == CT_ERR_ARG && n == 0);
    free(s);

    /* the cut at max_phrases keeps the breadth-first prefix */
    {
        const char *w[] = {"a wooden table with three drawers", "a wooden table"};
        CHECK(expect_list("a wooden table with three drawers", 2, w, 2));
    }
    /* pronouns alone are not phrases; original case is kept; duplicates go */
    {
        const char *w[] = {"The Table"};
        CHECK(expect_list("put it on The Table", 10, w, 1));
        const char *w2[] = {"the cat and the cat", "the cat"};
        CHECK(expect_list("the cat and the cat", 10, w2, 2));
        CHECK(expect_list("make them smaller", 10, NULL, 0));
        const char *w3[] = {"one of them"};
        CHECK(expect_list("keep one of them", 10, w3, 1));
    }
    /* relative clauses and participles make branch phrases */
    {
        const char *w[] = {"the dog that is sitting on the sofa", "the dog", "the sofa"};
        CHECK(expect_list("the dog that is sitting on the sofa", 10, w, 3));
        const char *w2[] = {"a woman in a yellow raincoat walking her dog", "a woman in a yellow raincoat", "a woman",
                            "her dog", "a yellow raincoat"};
        CHECK(expect_list("a woman in a yellow raincoat walking her dog", 10, w2, 5));
    }
    /* contractions, possessives with curly apostrophes, hyphens, numbers */
    {
        const char *w[] = {"the dog\u2019s collar", "the dog\u2019s"};
        CHECK(expect_list("don\u2019t change the dog\u2019s collar", 10, w, 2));
        const char *w2[] = {"a long-sleeved t-shirt with 2.5 stripes"};
        CHECK(expect_list("is a long-sleeved t-shirt with 2.5 stripes", 1, w2, 1));
        const char *w3[] = {"the dogs' toys", "the dogs'"};
        CHECK(expect_list("remove the dogs' toys", 10, w3, 2));
    }
    /* tokens are byte ranges of the caption */
    {
        const char *c = "Don't move Mr. Smith's 1,000 U.S. cars -- ok?";
        nps_token tok[64];
        int nt = nps_tokenize(c, (int)strlen(c), tok, 64);
        const char *want[] = {"Do", "n't", "move", "Mr.", "Smith", "'s", "1,000", "U.S.", "cars", "-", "-", "ok", "?"};
        CHECK(nt == 13);
        for (int i = 0; i < nt && i < 13; i++)
            CHECK_MSG((int)strlen(want[i]) == tok[i].end - tok[i].start &&
                          memcmp(c + tok[i].start, want[i], strlen(want[i])) == 0,
                      "token %d: '%.*s' vs '%s'", i, tok[i].end - tok[i].start, c + tok[i].start, want[i]);
    }
}

/* Random bytes and punctuation soup: no crash, phrases are substrings. */
static void test_robust(void) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    const char *alphabet = "aetoin srhdl'-.,;\"()&/0123456789THE and of the with \xE2\x80\x99\xC2\xA0\xFF\x80";
    size_t al = strlen(alphabet);
    char buf[300];
    for (int it = 0; it < 2000; it++) {
        int len = it % 299;
        for (int i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = it % 3 == 0 ? (char)(1 + x % 255) : alphabet[x % al];
        }
        buf[len] = '\0';
        char **p = NULL;
        int n = 0;
        ct_status st = ct_noun_phrases(buf, 20, &p, &n);
        CHECK_MSG(st == CT_OK && n <= 20, "iteration %d", it);
        for (int i = 0; i < n; i++)
            if (!strstr(buf, p[i]) || !p[i][0]) CHECK_MSG(false, "iteration %d: bad phrase", it);
        ct_noun_phrases_free(p, n);
    }
}

/* Long hostile captions: deep nesting, long modifier runs, long lists. Must stay fast
 * (bounded recursion and bounded work per token) and keep max_phrases. */
static void test_long(void) {
    static const char *const unit[] = {"the cat on ", "red ", "very ", "a dog that saw ", "x, ", "and "};
    size_t cap = CT_NPS_MAX_CAPTION;
    char *s = malloc(cap + 1);
    for (size_t u = 0; u < sizeof unit / sizeof unit[0]; u++) {
        size_t len = 0, k = strlen(unit[u]);
        while (len + k + 8 < cap) {
            memcpy(s + len, unit[u], k);
            len += k;
        }
        memcpy(s + len, "the mat", 8);
        char **p = NULL;
        int n = 0;
        CHECK_MSG(ct_noun_phrases(s, 10, &p, &n) == CT_OK && n <= 10, "unit '%s'", unit[u]);
        for (int i = 0; i < n; i++) CHECK(strstr(s, p[i]) != NULL);
        ct_noun_phrases_free(p, n);
    }
    free(s);
}

/* Two threads extracting the same captions agree with a single-threaded run. */
static const char *const thread_caps[] = {
    "replace the small red circle with a large blue square and make the background striped",
    "a man holding a cup of coffee next to a woman with a red umbrella", "is shiny and silver with shorter sleeves"};

static void *thread_run(void *arg) {
    long bad = 0;
    for (int r = 0; r < 200; r++)
        for (int k = 0; k < 3; k++) {
            char **p = NULL, **q = NULL;
            int n = 0, m = 0;
            ct_noun_phrases(thread_caps[k], 10, &p, &n);
            ct_noun_phrases(thread_caps[k], 10, &q, &m);
            if (n != m) bad++;
            for (int i = 0; i < n && i < m; i++) bad += strcmp(p[i], q[i]) != 0;
            ct_noun_phrases_free(p, n);
            ct_noun_phrases_free(q, m);
        }
    *(long *)arg = bad;
    return NULL;
}

static void test_threads(void) {
    pthread_t th[2];
    long bad[2] = {0, 0};
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, thread_run, &bad[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(bad[0] == 0 && bad[1] == 0);
}

int main(void) {
    test_api();
    test_robust();
    test_long();
    test_threads();
    test_cases();
    test_wsj();
    return test_finish();
}
