/* Shared CLI helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctcir/json_line.h"
#include "ctcir/runtime.h"

int cli_usage_verror(const char *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "ctcir %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'ctcir help %s')\n", cmd);
    return CLI_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_usage_verror(cmd, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_fail(const char *cmd, ct_status s) {
    const char *msg = ct_error();
    fprintf(stderr, "ctcir %s: error: %s\n", cmd, msg[0] ? msg : ct_status_name(s));
    return CLI_RUNTIME;
}

bool cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    }
    return false;
}

bool cli_parse_int(const char *s, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool cli_parse_float(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end) return false;
    *out = v;
    return true;
}

void cli_set_threads(int n) { ct_set_threads(n); }

int cli_set_precision(const char *cmd, const char *value) {
    ct_precision p;
    if (ct_precision_parse(value, "--precision", &p)) return cli_usage_error(cmd, "%s", ct_error());
    ct_status s = ct_set_matmul_precision(p);
    return s ? cli_fail(cmd, s) : CLI_OK;
}

void cli_json_string(FILE *out, const char *s) { ct_json_put_string(out, s); }
