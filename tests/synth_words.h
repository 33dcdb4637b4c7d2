/* Word lookups shared by the synth-shapes tests: which attribute values a caption text names. */
#ifndef CTCIR_TEST_SYNTH_WORDS_H
#define CTCIR_TEST_SYNTH_WORDS_H

#include <ctype.h>
#include <string.h>

#include "ctcir/synth.h"

/* Does `w` occur in `s` as whole words? */
static int has_word(const char *s, const char *w) {
    size_t n = strlen(w);
    for (const char *p = strstr(s, w); p; p = strstr(p + 1, w)) {
        int before = p == s || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[n]) && p[n] != '-';
        if (before && after) return 1;
    }
    return 0;
}

/* Which value of `attr` does text name (-1 none, -2 several)? */
static int find_attr(const char *text, ct_synth_attr attr, int n_values) {
    int found = -1;
    for (int v = 0; v < n_values; v++) {
        const char *w[8];
        int n = ct_synth_words(attr, v, w, 8);
        for (int i = 0; i < n; i++)
            if (has_word(text, w[i])) {
                if (found >= 0 && found != v) return -2;
                found = v;
            }
    }
    return found;
}

#endif
