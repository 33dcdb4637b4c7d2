/* Where the library's messages go. The library never writes to stdout; its warnings,
 * progress and information lines go through one hook, by default to stderr:
 *
 *     static void to_my_log(ct_log_level lv, const char *line, void *user) { ... }
 *     ct_log_set(to_my_log, ctx);     // route every message
 *     ct_log_set_level(CT_LOG_WARN);  // or only drop the chattier ones (the CLI's -q)
 *
 * `line` is one complete message; it ends with '\n', except progress redraws (CT_LOG_PROGRESS),
 * which start with '\r' when the default handler writes to a terminal. */
#ifndef CTCIR_LOG_H
#define CTCIR_LOG_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CT_LOG_ERROR = 0,
    CT_LOG_WARN = 1,
    CT_LOG_INFO = 2,     /* what a run does: data, checkpoints, the step lines */
    CT_LOG_PROGRESS = 3, /* redrawn progress lines of long work */
    CT_LOG_DEBUG = 4     /* sizes of plans and buffers, timings of parts */
} ct_log_level;

typedef void (*ct_log_fn)(ct_log_level level, const char *line, void *user);

/* Routes messages to fn (NULL: back to the default, stderr). Not thread-safe against
 * concurrent logging: call it at start-up. */
void ct_log_set(ct_log_fn fn, void *user);
/* Messages above `max` are dropped before formatting (default CT_LOG_PROGRESS). */
void ct_log_set_level(ct_log_level max);
ct_log_level ct_log_get_level(void);
bool ct_log_enabled(ct_log_level level);

/* printf-style; the message is formatted, then handed to the hook. Under mpirun
 * (ctcir/dist.h) ranks other than 0 pass on only warnings and errors. */
void ct_log(ct_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when the default handler writes progress to a terminal (redraws in place); else
 * progress is best written as occasional whole lines. */
bool ct_log_progress_is_tty(void);

#ifdef __cplusplus
}
#endif
#endif
