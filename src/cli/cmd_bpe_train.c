/* ctcir bpe-train: learn a CLIP-format byte-level BPE vocabulary from captions. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctcir/tokenizer.h"
#include "io/json_line.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: ctcir bpe-train --input FILE --vocab-size N --out DIR\n\n"
            "Learns a byte-level BPE vocabulary in CLIP's format from a text file with one caption per\n"
            "line (a line starting with '\"' is read as a JSON string), normalised and pre-tokenised\n"
            "exactly like `ctcir tokenize`. Writes DIR/vocab.json and DIR/merges.txt: ids 0-255 are the\n"
            "byte symbols, 256-511 the same + </w>, then one id per merge in rank order, then\n"
            "<|startoftext|> and <|endoftext|>. Load it with `ctcir tokenize --model DIR`.\n"
            "Ties between pairs of equal count go to the bytewise smallest (left, right) token strings.\n\n"
            "  -i, --input FILE      captions (required)\n"
            "  -n, --vocab-size N    total vocabulary size, >= 514 (required; 49408 is CLIP's)\n"
            "  -o, --out DIR         output folder, created if missing (required)\n"
            "  -h, --help            this help\n");
}

int cmd_bpe_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    static const struct option opts[] = {{"input", required_argument, 0, 'i'},
                                         {"vocab-size", required_argument, 0, 'n'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    const char *input = NULL, *out = NULL;
    long size = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:n:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'o': out = optarg; break;
        case 'n':
            if (!cli_parse_int(optarg, &size) || size < 514 || size > (1 << 24))
                return cli_usage_error(argv[0], "--vocab-size must be an integer in [514, 16777216], got '%s'", optarg);
            break;
        default: return cli_usage_error(argv[0], "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!input || !out || !size) return cli_usage_error(argv[0], "--input, --vocab-size and --out are required");

    FILE *f = fopen(input, "r");
    if (!f) return cli_fail(argv[0], ct_fail(CT_ERR_IO, "cannot open %s", input));
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
    fclose(f);
    free(line);
    int merges = 0;
    if (!s) {
        fprintf(stderr, "ctcir bpe-train: %zu texts, learning %ld merges\n", n, size - 514);
        s = ct_bpe_train((const char *const *)texts, lens, n, (int)size, out, &merges);
    }
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    if (s) return cli_fail(argv[0], s);
    printf("{\"texts\": %zu, \"merges\": %d, \"vocab_size\": %d, \"out\": \"%s\"}\n", n, merges, merges + 514, out);
    if (merges < size - 514)
        fprintf(stderr, "ctcir bpe-train: only %d merges were possible: vocabulary size %d, not %ld\n", merges,
                merges + 514, size);
    return CLI_OK;
}
