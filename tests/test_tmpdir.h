/* A private temporary directory per test program: created at start, removed at the end. */
#ifndef CTCIR_TEST_TMPDIR_H
#define CTCIR_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];

/* Creates /tmp/ctcir_<tag>.XXXXXX into `tmpdir`; returns 0 on failure. */
static inline int tmpdir_make(const char *tag) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ctcir_%s.XXXXXX", tag);
    if (mkdtemp(tmpdir)) return 1;
    perror("mkdtemp");
    return 0;
}

static inline void tmpdir_remove(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

#endif
