/* Shared CLI helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ctcir/runtime.h"

#include <utf8proc.h>

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

void cli_json_string(FILE *out, const char *s) {
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    fputc('"', out);
    while (*p) {
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &c);
        if (n < 1) { /* an invalid byte: U+FFFD, then resynchronise on the next byte */
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        if (c == '"' || c == '\\') fprintf(out, "\\%c", (char)c);
        else if (c < 0x20) fprintf(out, "\\u%04x", (unsigned)c);
        else fwrite(p, 1, (size_t)n, out);
        p += n;
    }
    fputc('"', out);
}
