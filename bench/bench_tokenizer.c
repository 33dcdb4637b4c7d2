/* Tokenizer throughput on synthetic CIR-style modification captions.
 * usage: bench_tokenizer [MODEL_DIR] [N_CAPTIONS]  (default ../shared/parity/tokenizer, 200000) */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctcir/tokenizer.h"

static const char *verbs[] = {"make", "change", "turn", "replace", "add", "remove", "show", "has", "is", "with"};
static const char *adjs[] = {"red", "darker", "longer", "sleeveless", "striped", "floral", "wooden", "bigger",
                             "two", "more",   "fewer",  "shiny",      "vintage", "blue",   "short",  "lighter"};
static const char *nouns[] = {"dress", "shirt",      "dog",     "cat",      "sofa",    "lamp",
                              "car",   "background", "sleeves", "people",   "pillows", "sky",
                              "table", "collar",     "shoes",   "building", "bird"};
static const char *extra[] = {"and",  "the",   "a",    "in",      "on", "instead of", "with a",
                              "it's", "&amp;", "Café", "T-shirt", "3",  "logo's",     "\xe2\x80\x9cquote\xe2\x80\x9d"};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned pick(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}
#define PICK(a) a[pick(sizeof a / sizeof a[0])]

static double run(ct_tokenizer *t, char **caps, int n, int threads, long *checksum) {
    long sum = 0;
    double t0 = now();
#pragma omp parallel for num_threads(threads) reduction(+ : sum) schedule(dynamic, 64)
    for (int i = 0; i < n; i++) {
        int32_t ids[CT_CONTEXT_LENGTH];
        int len = 0;
        if (ct_tokenize(t, caps[i], ids, CT_CONTEXT_LENGTH, &len) == CT_OK) sum += len + ids[1];
    }
    *checksum = sum;
    return now() - t0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "../shared/parity/tokenizer";
    int n = argc > 2 ? atoi(argv[2]) : 200000;
    ct_tokenizer *t = NULL;
    double t0 = now();
    if (ct_tokenizer_load_dir(&t, dir) != CT_OK) {
        fprintf(stderr, "bench_tokenizer: %s\n", ct_error());
        return 1;
    }
    printf("load vocab.json + merges.txt: %.1f ms\n", 1e3 * (now() - t0));
    char **caps = malloc((size_t)n * sizeof *caps);
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        char buf[512];
        int k = snprintf(buf, sizeof buf, "%s the %s %s", PICK(verbs), PICK(adjs), PICK(nouns));
        int words = 2 + (int)pick(10);
        for (int w = 0; w < words && k < 400; w++)
            k += snprintf(buf + k, sizeof buf - (size_t)k, " %s %s %s", PICK(extra), PICK(adjs), PICK(nouns));
        caps[i] = strdup(buf);
        bytes += (size_t)k;
    }
    printf("%d captions, %.1f bytes on average\n", n, (double)bytes / n);
    long c1, c2, c3;
    double cold = run(t, caps, n, 1, &c1);
    double warm = run(t, caps, n, 1, &c2);
    int threads = omp_get_max_threads();
    double par = run(t, caps, n, threads, &c3);
    printf("1 thread, cold cache: %.0f captions/s\n", n / cold);
    printf("1 thread, warm cache: %.0f captions/s\n", n / warm);
    printf("%d threads, warm cache: %.0f captions/s\n", threads, n / par);
    if (c1 != c2 || c1 != c3) printf("checksum mismatch %ld %ld %ld\n", c1, c2, c3);
    for (int i = 0; i < n; i++) free(caps[i]);
    free(caps);
    ct_tokenizer_free(t);
    return 0;
}
