/* Thread-local error messages: one fixed buffer per thread, overwritten by each failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctcir/status.h"

static _Thread_local char error_message[1024];

ct_status ct_fail(ct_status code, const char *fmt, ...) {
    /* Formatted aside first, so callers may pass ct_error() itself as an argument to
     * prefix the message with context. */
    char buf[sizeof error_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(error_message, buf, sizeof buf);
    return code;
}

const char *ct_error(void) { return error_message; }

void ct_error_clear(void) { error_message[0] = '\0'; }

const char *ct_status_name(ct_status s) {
    switch (s) {
    case CT_OK: return "ok";
    case CT_ERR_IO: return "io";
    case CT_ERR_FORMAT: return "format";
    case CT_ERR_NOMEM: return "nomem";
    case CT_ERR_ARG: return "arg";
    case CT_ERR_SHAPE: return "shape";
    case CT_ERR_NONFINITE: return "nonfinite";
    case CT_ERR_INTERRUPTED: return "interrupted";
    case CT_ERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}
