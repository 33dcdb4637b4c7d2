/* ctcir nps: noun phrases of captions, as the Text Concept-Consistency loss sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "ctcir/json_line.h"
#include "ctcir/nps.h"
#include "ctcir/options.h"

#define NPS_MAX_LINE (1 << 20) /* bytes of one JSON line */

/* Prints the phrases of one caption; returns 0 or CLI_RUNTIME. */
static int emit(const char *caption, int max) {
    char **p = NULL;
    int n = 0;
    ct_status st = ct_noun_phrases(caption, max, &p, &n);
    if (st != CT_OK) return cli_fail("nps", st);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(p[i]);
        if (!s) {
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        cJSON_AddItemToArray(arr, s);
    }
    char *text = arr ? ct_json_print(arr, false) : NULL;
    ct_noun_phrases_free(p, n);
    cJSON_Delete(arr);
    if (!text) return cli_fail("nps", ct_fail(CT_ERR_NOMEM, "nps: out of memory printing JSON"));
    puts(text);
    cJSON_free(text);
    return 0;
}

/* Reads one line (without its newline) of at most NPS_MAX_LINE bytes into *buf.
 * Returns 1 on a line, 0 at end of file, -1 when the line is too long. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len) {
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) return -1;
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0) return 0;
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    *len = n;
    return 1;
}

static int run_stream(FILE *f, const char *name, int max) {
    char *buf = malloc(NPS_MAX_LINE);
    if (!buf) return cli_fail("nps", ct_fail(CT_ERR_NOMEM, "nps: out of memory"));
    long line = 0;
    int rc = 0, r;
    size_t len;
    while (rc == 0 && (r = read_line(f, buf, NPS_MAX_LINE, &len)) != 0) {
        line++;
        if (r < 0) {
            rc = cli_fail("nps",
                          ct_fail(CT_ERR_FORMAT, "nps: %s: line %ld longer than %d bytes", name, line, NPS_MAX_LINE));
            break;
        }
        if (strspn(buf, " \t") == len) continue; /* blank line */
        cJSON *v = cJSON_ParseWithLength(buf, len);
        if (!v || !cJSON_IsString(v)) {
            rc =
                cli_fail("nps", ct_fail(CT_ERR_FORMAT, "nps: %s: line %ld: expected a JSON string like \"a red car\"%s",
                                        name, line, v ? "" : " (malformed JSON)"));
            cJSON_Delete(v);
            break;
        }
        rc = emit(v->valuestring, max);
        cJSON_Delete(v);
    }
    if (rc == 0 && ferror(f)) rc = cli_fail("nps", ct_fail(CT_ERR_IO, "nps: %s: read error", name));
    free(buf);
    return rc;
}

int cmd_nps(int argc, char **argv) {
    const char *input = NULL;
    cli_list texts = {0};
    ct_cir_options mo; /* the default is the model's l (max_noun_phrases) */
    ct_cir_options_default(&mo);
    long max = mo.max_noun_phrases;
    const cli_opt opts[] = {
        {"input", 'i', CLI_STR, &input, "FILE", "read captions from FILE (one JSON string per line; - is stdin)"},
        {"text", 0, CLI_LIST, &texts, "STR", "a caption given directly (repeatable; no JSON quoting)"},
        {"max", 0, CLI_INT, &max, "N", "at most N phrases per caption (docs/model.md's l)", 0, 1000000},
        {0}};
    const cli_cmd cmd = {"nps",
                         "usage: ctcir nps [--input FILE | --text STR...] [--max N]\n\n"
                         "Prints the noun phrases of each caption as a JSON array, one line per caption,\n"
                         "in breadth-first order of the phrase tree (branch phrases before the phrases\n"
                         "inside them), de-duplicated, at most --max of them.\n\n"
                         "input: one JSON string per line, from stdin or --input; or --text (repeatable).\n",
                         opts};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_PARSED) {
        cli_list_free(&texts);
        return rc;
    }
    rc = 0;
    if (input && texts.n) {
        cli_list_free(&texts);
        return cli_usage_error("nps", "give --input or --text, not both");
    }
    if (input && !strcmp(input, "-")) input = NULL;
    const int ntexts = texts.n;
    for (int i = 0; i < ntexts && rc == 0; i++) rc = emit(texts.v[i], (int)max);
    cli_list_free(&texts);
    if (ntexts) return rc;
    if (input) {
        FILE *f = fopen(input, "rb");
        if (!f) return cli_fail("nps", ct_fail(CT_ERR_IO, "nps: cannot open '%s'", input));
        rc = run_stream(f, input, (int)max);
        fclose(f);
        return rc;
    }
    return run_stream(stdin, "stdin", (int)max);
}
