/* Helpers shared by the subcommands: uniform messages and exit codes. */
#ifndef CTCIR_CLI_CLI_H
#define CTCIR_CLI_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "ctcir/status.h"

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

/* Prints "ctcir <cmd>: <message>" and a hint to use --help on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_usage_verror(const char *cmd, const char *fmt, va_list ap);

/* Prints "ctcir <cmd>: <ct_error()>" on stderr; returns CLI_RUNTIME. */
int cli_fail(const char *cmd, ct_status s);

/* True when argv holds --help or -h (commands check this first). */
bool cli_wants_help(int argc, char **argv);

/* Parses a whole decimal integer/float; false on junk or overflow. */
bool cli_parse_int(const char *s, long *out);
bool cli_parse_float(const char *s, double *out);

/* Writes s as a JSON string literal (quotes included): escapes quotes, backslashes and
 * control characters, and replaces each invalid UTF-8 sequence with U+FFFD, so the output
 * always parses. */
void cli_json_string(FILE *out, const char *s);

/* --precision fp32|bf16 for commands that run a model (a row of their option table:
 * CLI_OPT_PRECISION_ROW in cli/opts.h). cli_set_precision returns CLI_OK, a usage error for
 * another value, or a runtime error on a CPU without AVX512_BF16. */
int cli_set_precision(const char *cmd, const char *value);
/* For a command still on getopt_long (bench): the option's id and its help line. */
enum { CLI_OPT_PRECISION = 1000 };
#define CLI_PRECISION_HELP "  --precision P         fp32 (default) or bf16: matrix products in bf16, the rest fp32\n"

/* Applies -t/--threads (bounded by the option parser to 1..CLI_MAX_THREADS): sets the
 * OpenBLAS and OpenMP thread counts (<= 0: all cores). */
void cli_set_threads(int n);

#endif
