/* The `ctcir index merge` CLI function (not registered as a command yet: compiled in here). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.c"
#include "cli/index_merge.c"
#include "cli/opts.c"
#include "ctcir/index.h"
#include "test_tmpdir.h"
#include "test_util.h"

int main(void) {
    if (!tmpdir_make("imerge")) return 1;
    const char *names[4] = {"a", "b", "c", "d"};
    char p[2][400], out[400];
    float e[4 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    for (int k = 0; k < 2; k++) {
        snprintf(p[k], sizeof p[k], "%s/s%d.idx", tmpdir, k);
        ct_index_writer *w = NULL;
        CHECK(ct_index_writer_new(&w, p[k], "m", 4, names, 3, CT_DT_F32, k, 2) == CT_OK);
        if (!w) return test_finish();
        CHECK(ct_index_writer_put(w, 2 * k, 2, e + 6 * k) == CT_OK);
        CHECK(ct_index_writer_finish(w) == CT_OK);
        ct_index_writer_free(w);
    }
    snprintf(out, sizeof out, "%s/all.idx", tmpdir);
    char *help[] = {"merge", "--help", NULL};
    CHECK(cli_index_merge(2, help) == 0);
    char *noout[] = {"merge", p[0], p[1], NULL};
    CHECK(cli_index_merge(3, noout) == 2);
    char *noin[] = {"merge", "--out", out, NULL};
    CHECK(cli_index_merge(3, noin) == 2);
    char *one[] = {"merge", p[0], "--out", out, NULL};
    CHECK(cli_index_merge(4, one) == 1); /* half the gallery: a runtime error */
    char *ok[] = {"merge", p[1], p[0], "-o", out, NULL};
    CHECK(cli_index_merge(5, ok) == 0);
    ct_index *ix = NULL;
    CHECK(ct_index_open(&ix, out, "m", false) == CT_OK);
    if (ix) CHECK(ct_index_rows(ix) == 4 && strcmp(ct_index_name(ix, 3), "d") == 0);
    ct_index_close(ix);
    tmpdir_remove();
    return test_finish();
}
