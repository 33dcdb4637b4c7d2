/* Status codes and the thread-local error message of the ctcir library.
 *
 * Every fallible library function returns a ct_status. On failure it also leaves a
 * human-readable message, naming the file, the field and what was expected, which
 * ct_error() returns until the next failure on the same thread. */
#ifndef CTCIR_STATUS_H
#define CTCIR_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CT_OK = 0,
    CT_ERR_IO = 1,          /* a file could not be opened, read, written or renamed */
    CT_ERR_FORMAT = 2,      /* a file or record is malformed */
    CT_ERR_NOMEM = 3,       /* an allocation failed or would exceed a cap */
    CT_ERR_ARG = 4,         /* a caller passed an invalid argument */
    CT_ERR_SHAPE = 5,       /* a tensor has the wrong shape or is missing */
    CT_ERR_NONFINITE = 6,   /* a loss or gradient became NaN or infinite */
    CT_ERR_INTERRUPTED = 7, /* stopped by a signal (Ctrl-C) */
    CT_ERR_UNSUPPORTED = 8  /* a valid input that ctcir does not handle */
} ct_status;

/* Sets the thread-local message (printf format) and returns `code`, so that a failure
 * path can read `return ct_fail(CT_ERR_FORMAT, "safetensors: %s: ...", path);`. */
ct_status ct_fail(ct_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last message set on this thread ("" when none). */
const char *ct_error(void);

/* Clears the message. */
void ct_error_clear(void);

/* A short name for a status code ("io", "format", ...). */
const char *ct_status_name(ct_status s);

#ifdef __cplusplus
}
#endif
#endif
