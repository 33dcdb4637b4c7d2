/* ctcir bpe-train: learn a CLIP-format byte-level BPE vocabulary from captions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/json_line.h"
#include "ctcir/log.h"
#include "ctcir/tokenizer.h"

int cmd_bpe_train(int argc, char **argv) {
    const char *input = NULL, *out = NULL;
    long size = 0;
    bool force = false;
    const cli_opt opts[] = {
        {"input", 'i', CLI_STR, &input, "FILE", "captions, one per line; - reads stdin", .required = true},
        {"vocab-size", 0, CLI_INT, &size, "N", "total vocabulary size, >= 514 (49408 is CLIP's)", 514, 1 << 24, true},
        {"out", 'o', CLI_STR, &out, "DIR", "output folder, created if missing", .required = true},
        {"force", 'f', CLI_FLAG, &force, NULL, "replace a vocabulary already in --out"},
        {0}};
    const cli_cmd cmd = {"bpe-train",
                         "usage: ctcir bpe-train --input FILE --vocab-size N --out DIR [--force]\n\n"
                         "Learns a byte-level BPE vocabulary in CLIP's format from a text file with one caption per\n"
                         "line (a line starting with '\"' is read as a JSON string), normalised and pre-tokenised\n"
                         "exactly like `ctcir tokenize`. Writes DIR/vocab.json and DIR/merges.txt: ids 0-255 are the\n"
                         "byte symbols, 256-511 the same + </w>, then one id per merge in rank order, then\n"
                         "<|startoftext|> and <|endoftext|>. Load it with `ctcir tokenize --model DIR`.\n"
                         "Ties between pairs of equal count go to the bytewise smallest (left, right) token strings.\n",
                         opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) return rc;
    /* an existing vocabulary is kept unless --force (as `ctcir init` keeps a model folder) */
    for (int i = 0; i < 2 && !force; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, i ? "merges.txt" : "vocab.json");
        if (stat(path, &st) == 0)
            return cli_fail(
                "bpe-train",
                ct_fail(CT_ERR_IO, "%s already holds a vocabulary (%s); give --force to replace it", out, path));
    }
    const bool from_stdin = strcmp(input, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(input, "r");
    if (!f) return cli_fail("bpe-train", ct_fail(CT_ERR_IO, "cannot open %s", input));
    if (from_stdin) input = "stdin";
    char **texts = NULL, *line = NULL;
    size_t *lens = NULL, n = 0, cap = 0, line_cap = 0;
    ssize_t len;
    ct_status s = CT_OK;
    while (!s && (len = getline(&line, &line_cap, f)) >= 0) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            char **nt = realloc(texts, cap * sizeof *nt);
            size_t *nl = realloc(lens, cap * sizeof *nl);
            if (nt) texts = nt;
            if (nl) lens = nl;
            if (!nt || !nl) {
                s = ct_fail(CT_ERR_NOMEM, "out of memory after %zu lines", n);
                break;
            }
        }
        if (line[0] == '"') {
            s = ct_json_string_line(line, (size_t)len, &texts[n], &lens[n]);
            if (s) {
                s = ct_fail(s, "%s: line %zu: %s", input, n + 1, ct_error());
                break;
            }
        } else {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
            texts[n] = malloc((size_t)len + 1);
            if (!texts[n]) {
                s = ct_fail(CT_ERR_NOMEM, "out of memory after %zu lines", n);
                break;
            }
            memcpy(texts[n], line, (size_t)len);
            texts[n][len] = '\0';
            lens[n] = (size_t)len;
        }
        n++;
    }
    if (!s && ferror(f)) s = ct_fail(CT_ERR_IO, "error reading %s", input);
    if (!from_stdin) fclose(f);
    free(line);
    int merges = 0;
    if (!s) {
        ct_log(CT_LOG_INFO, "bpe-train: %zu texts, learning %ld merges\n", n, size - 514);
        s = ct_bpe_train((const char *const *)texts, lens, n, (int)size, out, &merges);
    }
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    if (s) return cli_fail("bpe-train", s);
    printf("{\"texts\": %zu, \"merges\": %d, \"vocab_size\": %d, \"out\": ", n, merges, merges + 514);
    cli_json_string(stdout, out);
    printf("}\n");
    if (merges < size - 514)
        ct_log(CT_LOG_WARN, "bpe-train: only %d merges were possible: vocabulary size %d, not %ld\n", merges,
               merges + 514, size);
    return CLI_OK;
}
