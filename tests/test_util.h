/* A minimal test harness: CHECK records failures without stopping; the program prints
 * "N passed, N failed" and returns non-zero on any failure. */
#ifndef CTCIR_TEST_UTIL_H
#define CTCIR_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (cond)                                                                                                      \
            test_passed++;                                                                                             \
        else {                                                                                                         \
            test_failed++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                           \
    do {                                                                                                               \
        if (cond)                                                                                                      \
            test_passed++;                                                                                             \
        else {                                                                                                         \
            test_failed++;                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                                   \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

static inline int test_finish(void) {
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

/* The shared/ folder (parity kit, annotations): $CTCIR_SHARED or ../shared. */
static inline const char *test_shared_dir(void) {
    const char *s = getenv("CTCIR_SHARED");
    return s && *s ? s : "../shared";
}

#endif
