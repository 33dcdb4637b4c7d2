/* ctcir tokenize: texts (one JSON string per line) -> CLIP token ids (one JSON array per line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/json_line.h"
#include "ctcir/tokenizer.h"

enum { BATCH = 4096 };

typedef struct {
    char *text;
    size_t len;
    int32_t *ids;
    int n;
    ct_status status;
    char err[256];
} item;

static void print_ids(const int32_t *ids, int n) {
    putchar('[');
    for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", (int)ids[i]);
    fputs("]\n", stdout);
}

/* Tokenizes a batch in parallel and prints it in order. */
static int run_batch(ct_tokenizer *t, item *items, int n_items, int context, bool raw, size_t first_line) {
#pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < n_items; i++) {
        item *it = &items[i];
        if (raw)
            it->status = ct_tokenize_raw_len(t, it->text, it->len, &it->ids, &it->n);
        else {
            it->ids = malloc((size_t)context * sizeof *it->ids);
            it->n = context;
            it->status = it->ids ? ct_tokenize_len(t, it->text, it->len, it->ids, context, NULL)
                                 : ct_fail(CT_ERR_NOMEM, "out of memory");
        }
        if (it->status) snprintf(it->err, sizeof it->err, "%s", ct_error());
    }
    int rc = CLI_OK;
    for (int i = 0; i < n_items; i++) {
        if (rc == CLI_OK && items[i].status) {
            fprintf(stderr, "ctcir tokenize: error: line %zu: %s\n", first_line + (size_t)i, items[i].err);
            rc = CLI_RUNTIME;
        }
        if (rc == CLI_OK) print_ids(items[i].ids, items[i].n);
        free(items[i].ids);
        free(items[i].text);
        items[i].ids = NULL;
        items[i].text = NULL;
    }
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *vocab = NULL, *input = NULL;
    long context = CT_CONTEXT_LENGTH, threads = 0;
    bool raw = false;
    const cli_opt opts[] = {
        {"model", 'm', CLI_STR, &model, "DIR", "folder with vocab.json + merges.txt (Hugging Face format)"},
        {"vocab", 0, CLI_STR, &vocab, "FILE", "openai's bpe_simple_vocab_16e6.txt.gz instead of --model"},
        {"context", 0, CLI_INT, &context, "N", "pad/truncate to N ids, EOT kept last", 1, 1000000},
        {"raw", 'r', CLI_FLAG, &raw, NULL, "no truncation, no padding: SOT, ids, EOT"},
        {"input", 'i', CLI_STR, &input, "FILE", "read FILE instead of stdin (- is stdin)"},
        CLI_OPT_THREADS(&threads),
        {0}};
    const cli_cmd cmd = {
        "tokenize",
        "usage: ctcir tokenize (--model DIR | --vocab FILE.gz) [--context N | --raw] [--input FILE]\n\n"
        "Reads texts, one JSON string per line (so tabs and newlines survive), from stdin or --input,\n"
        "and writes one JSON array of token ids per line to stdout, as openai's clip.tokenize does.\n",
        opts,
        "Invalid UTF-8 in a text is replaced by U+FFFD (one per maximal ill-formed sequence).\n"
        "A line that is not a JSON string is an error naming the line (exit 1).\n"};
    int prc = cli_parse(&cmd, argc, argv, NULL);
    if (prc != CLI_PARSED) return prc;
    if (!model == !vocab) return cli_usage_error("tokenize", "give exactly one of --model DIR and --vocab FILE.gz");
    if (raw && cli_given(&cmd, "context")) return cli_usage_error("tokenize", "--raw and --context exclude each other");
    if (input && !strcmp(input, "-")) input = NULL;
    cli_set_threads((int)threads);

    ct_tokenizer *t = NULL;
    ct_status s = model ? ct_tokenizer_load_dir(&t, model) : ct_tokenizer_load_gz(&t, vocab);
    if (s) return cli_fail("tokenize", s);
    FILE *in = stdin;
    if (input && !(in = fopen(input, "r"))) {
        ct_tokenizer_free(t);
        return cli_fail("tokenize", ct_fail(CT_ERR_IO, "cannot open %s", input));
    }
    item *items = calloc(BATCH, sizeof *items);
    char *line = NULL;
    size_t cap = 0, lineno = 0, first = 1;
    ssize_t len;
    int n_items = 0, rc = items ? CLI_OK : cli_fail("tokenize", ct_fail(CT_ERR_NOMEM, "out of memory"));
    while (rc == CLI_OK && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        item *it = &items[n_items];
        s = ct_json_string_line(line, (size_t)len, &it->text, &it->len);
        if (s) {
            rc = run_batch(t, items, n_items, (int)context, raw, first);
            if (rc == CLI_OK) {
                fprintf(stderr, "ctcir tokenize: error: line %zu: %s\n", lineno, ct_error());
                rc = CLI_RUNTIME;
            }
            n_items = 0;
            break;
        }
        if (++n_items == BATCH) {
            rc = run_batch(t, items, n_items, (int)context, raw, first);
            first = lineno + 1;
            n_items = 0;
        }
    }
    if (rc == CLI_OK && n_items) rc = run_batch(t, items, n_items, (int)context, raw, first);
    if (rc == CLI_OK && ferror(in))
        rc = cli_fail("tokenize", ct_fail(CT_ERR_IO, "error reading %s", input ? input : "stdin"));
    if (fflush(stdout) != 0 && rc == CLI_OK) rc = cli_fail("tokenize", ct_fail(CT_ERR_IO, "error writing stdout"));
    free(line);
    free(items);
    if (in != stdin) fclose(in);
    ct_tokenizer_free(t);
    return rc;
}
