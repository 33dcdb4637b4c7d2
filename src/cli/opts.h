/* One option parser for every command, so that every command keeps the same contract:
 *
 *   - the same short flag means the same thing everywhere: -t threads, -m model, -o out,
 *     -q quiet, -v verbose, -h help (and -i input, -k results, -s seed, -c config, -f force);
 *   - `--name value`, `--name=value`, `-x value` and `-xvalue` all work; `--` ends the options;
 *   - one error style, naming the flag, then exit 2 before anything is done:
 *       ctcir index: --out needs a value
 *       ctcir index: unknown option --hlep; did you mean --help?
 *       ctcir index: --batch: expected an integer in 1..1024, got 'x'
 *   - -h/--help prints the usage on stdout (exit 0); the option list is made from the table,
 *     with each default read from the variable the option writes to (set them from the
 *     library's defaults structs before parsing, as whisper.cpp's usage does);
 *   - -q (only warnings and errors) and -v (debug lines too) set the library's log level.
 *
 *     const char *model = NULL; long k = 10, threads = 0; bool json = false;
 *     const cli_opt opts[] = {
 *         {"model", 'm', CLI_STR, &model, "DIR", "checkpoint folder", .required = true},
 *         {"k", 'k', CLI_INT, &k, "N", "results", .min = 1, .max = 100000},
 *         {"json", 0, CLI_FLAG, &json, NULL, "print JSON"},
 *         CLI_OPT_THREADS(&threads), {0}};
 *     const cli_cmd cmd = {"query", "usage: ctcir query ...\n\n...\n", opts};
 *     int rc = cli_parse(&cmd, argc, argv, NULL);
 *     if (rc != CLI_PARSED) return rc;
 */
#ifndef CTCIR_CLI_OPTS_H
#define CTCIR_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    CLI_FLAG,  /* bool *: set to true; takes no value */
    CLI_STR,   /* const char **: the value (the last one wins) */
    CLI_INT,   /* long *: a whole decimal number in [min, max] */
    CLI_FLOAT, /* double *: a finite number in [min, max] */
    CLI_LIST,  /* cli_list *: every value, in order (repeatable) */
    CLI_CALL   /* cli_call *: calls fn for each value, in command-line order */
} cli_kind;

typedef struct {
    const char **v; /* allocated by cli_parse (argc entries), freed by cli_list_free */
    int n;
} cli_list;
void cli_list_free(cli_list *l);

/* Returns 0, or a usage error already printed (the parse stops with exit 2). */
typedef struct {
    int (*fn)(void *ctx, const char *cmd, const char *flag, const char *value);
    void *ctx;
    bool takes_value;
} cli_call;

typedef struct {
    const char *name; /* long name, without "--"; NULL ends the table */
    char short_name;  /* 0: none */
    cli_kind kind;
    void *dest;
    const char *arg;          /* what the value is, in the usage ("N", "DIR"); NULL for flags */
    const char *help;         /* the usage text; lines after a '\n' are indented under it */
    double min, max;          /* CLI_INT / CLI_FLOAT bounds (both 0: any value) */
    bool required;            /* missing: "--name is required" (exit 2) */
    const char *default_text; /* shown instead of the value of *dest ("all cores"); "" hides it */
} cli_opt;

/* The thread count every model command takes: -t N, 1..1024; 0 (not given) means all cores. */
#define CLI_MAX_THREADS 1024
#define CLI_OPT_THREADS(p)                                                                                             \
    { "threads", 't', CLI_INT, (p), "N", "OpenBLAS/OpenMP threads", 1, CLI_MAX_THREADS, false, "all cores" }

/* --precision fp32|bf16 of the commands that run a model; apply it with cli_set_precision. */
#define CLI_OPT_PRECISION_ROW(p)                                                                                       \
    { "precision", 0, CLI_STR, (p), "P", "fp32 or bf16: matrix products in bf16, the rest fp32", 0, 0, false, "fp32" }

typedef struct {
    const char *name;     /* "index merge": the command as typed, for messages */
    const char *synopsis; /* usage lines and description, printed before the options */
    const cli_opt *opts;
    const char *epilogue;        /* printed after the options; may be NULL */
    int max_positional;          /* positional arguments allowed (0: none) */
    const char *positional_name; /* shown in errors, e.g. "FILE" */
} cli_cmd;

enum { CLI_PARSED = -1 };

/* Parses argv[1..argc) (argv[0] is the command name). Positional arguments go to `pos`
 * (allocated, argc entries; may be NULL when the command takes none). Returns CLI_PARSED to
 * go on, CLI_OK after printing the help, or CLI_USAGE after printing one error line. */
int cli_parse(const cli_cmd *c, int argc, char **argv, cli_list *pos);

/* The usage: synopsis, the option table (with defaults, the common -q/-v/-h), epilogue. */
void cli_print_usage(const cli_cmd *c, FILE *out);

/* True when an option of the table was given on the command line (after cli_parse). */
bool cli_given(const cli_cmd *c, const char *name);

/* Levenshtein distance of two short strings (for "did you mean"). */
int cli_edit_distance(const char *a, const char *b);
/* The candidate nearest to `word` when it is close enough to be a likely typo, else NULL. */
const char *cli_nearest(const char *word, const char *const *candidates, int n);

/* Which log level -q / -v asked for (as set by the last cli_parse). */
bool cli_quiet(void);

#endif
